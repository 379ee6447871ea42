/* tune-gp.h: Gaussian-process regression with a Matern 5/2 ARD kernel, for
 * the Bayesian-optimisation tuner. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LATHE_TUNE_GP_ERROR:
 *
 * The error domain of the GP and Bayesian-optimisation code.
 */
#define LATHE_TUNE_GP_ERROR (lathe_tune_gp_error_quark())
GQuark lathe_tune_gp_error_quark(void);

/**
 * LatheTuneGpError:
 * @LATHE_TUNE_GP_ERROR_INVALID: bad input (sizes, non-finite values, a
 *   malformed space).
 * @LATHE_TUNE_GP_ERROR_NUMERIC: a numerical failure (a kernel matrix that
 *   stays singular with the largest jitter).
 */
typedef enum {
  LATHE_TUNE_GP_ERROR_INVALID,
  LATHE_TUNE_GP_ERROR_NUMERIC,
} LatheTuneGpError;

/**
 * LatheTuneGp:
 *
 * An opaque GP model: data, hyperparameters and their factorisation. Not
 * thread-safe; distinct models may be used from distinct threads.
 */
typedef struct _LatheTuneGp LatheTuneGp;

/**
 * LATHE_TUNE_GP_MAX_POINTS:
 *
 * The most observations (real plus fantasised) a #LatheTuneGp takes; the
 * cost grows as n^3.
 */
#define LATHE_TUNE_GP_MAX_POINTS 2000

/**
 * lathe_tune_gp_new:
 * @dims: the input dimension (>= 1); inputs live in [0, 1]^@dims.
 *
 * Creates a GP with the kernel
 * k(x, x') = s2 (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r), r^2 = sum_d ((x_d -
 * x'_d) / l_d)^2, plus noise variance n2 on the diagonal. Its
 * hyperparameters theta = (log l_1 .. log l_D, log s2, log n2) start at
 * l = 0.5, s2 = 1, n2 = 1e-4; the outputs are standardised to zero mean and
 * unit variance before fitting.
 *
 * Returns: (transfer full): a new GP; free with lathe_tune_gp_free().
 */
LatheTuneGp *lathe_tune_gp_new(guint dims);

/**
 * lathe_tune_gp_free:
 * @gp: (transfer full) (nullable): a GP.
 */
void lathe_tune_gp_free(LatheTuneGp *gp);

/**
 * lathe_tune_gp_dims:
 * @gp: a GP.
 *
 * Returns: the input dimension.
 */
guint lathe_tune_gp_dims(const LatheTuneGp *gp);

/**
 * lathe_tune_gp_n_params:
 * @gp: a GP.
 *
 * Returns: the number of hyperparameters, dims + 2.
 */
guint lathe_tune_gp_n_params(const LatheTuneGp *gp);

/**
 * lathe_tune_gp_get_params:
 * @gp: a GP.
 * @theta: (out caller-allocates) (array): receives the hyperparameters
 *   (see lathe_tune_gp_new()).
 */
void lathe_tune_gp_get_params(const LatheTuneGp *gp, double *theta);

/**
 * lathe_tune_gp_set_params:
 * @gp: a GP.
 * @theta: (array): hyperparameters; clamped to the fitting box.
 *
 * Sets the hyperparameters; the GP must be conditioned again
 * (lathe_tune_gp_condition()) before predicting.
 */
void lathe_tune_gp_set_params(LatheTuneGp *gp, const double *theta);

/**
 * lathe_tune_gp_param_bounds:
 * @gp: a GP.
 * @lo: (out caller-allocates) (array): receives the lower bounds of theta.
 * @hi: (out caller-allocates) (array): receives the upper bounds of theta.
 *
 * The box the fit searches: lengthscales in [0.005, 20], signal variance
 * in [0.01, 100], noise variance in [1e-6, 10] (standardised units).
 */
void lathe_tune_gp_param_bounds(const LatheTuneGp *gp, double *lo, double *hi);

/**
 * lathe_tune_gp_set_data:
 * @gp: a GP.
 * @x: (array): @n rows of dims inputs, row-major, each in [0, 1].
 * @y: (array): @n outputs.
 * @n: the number of observations, 1..%LATHE_TUNE_GP_MAX_POINTS.
 * @error: return location for a #GError.
 *
 * Replaces the data (copied) and drops any fantasies. The outputs are
 * standardised here.
 *
 * Returns: %FALSE with @error set when @n is out of range or a value is
 *   not finite.
 */
gboolean lathe_tune_gp_set_data(LatheTuneGp *gp, const double *x, const double *y, guint n,
                                GError **error);

/**
 * lathe_tune_gp_log_posterior:
 * @gp: a GP with data.
 * @theta: (array): hyperparameters.
 * @grad: (out caller-allocates) (array) (optional): receives the gradient
 *   with respect to @theta.
 *
 * The objective the fit maximises: the log marginal likelihood of the
 * standardised data plus the log priors (BoTorch's classic SingleTaskGP
 * priors: Gamma(3, 6) on each lengthscale, Gamma(2, 0.15) on the signal
 * variance, Gamma(1.1, 0.05) on the noise variance, as densities of the
 * raw values, without Jacobian).
 *
 * Drops any fantasies (lathe_tune_gp_add_fantasies()) and leaves the GP
 * unconditioned.
 *
 * Returns: the log posterior up to a constant, or -inf when the kernel
 *   matrix cannot be factorised even with jitter.
 */
double lathe_tune_gp_log_posterior(LatheTuneGp *gp, const double *theta, double *grad);

/**
 * lathe_tune_gp_fit:
 * @gp: a GP with data.
 * @n_restarts: random restarts besides the current hyperparameters (the
 *   warm start).
 * @seed: the seed of the restarts.
 * @error: return location for a #GError.
 *
 * Fits the hyperparameters by maximising lathe_tune_gp_log_posterior()
 * with L-BFGS in the box of lathe_tune_gp_param_bounds(), from the current
 * hyperparameters and from @n_restarts random points, keeps the best and
 * conditions the GP on it.
 *
 * Returns: %FALSE with @error set when no start could be evaluated.
 */
gboolean lathe_tune_gp_fit(LatheTuneGp *gp, guint n_restarts, guint64 seed, GError **error);

/**
 * lathe_tune_gp_condition:
 * @gp: a GP with data.
 * @error: return location for a #GError.
 *
 * Factorises the kernel matrix at the current hyperparameters (Cholesky,
 * retried with jitter 1e-9, 1e-8, ..., 1e-3 times the mean diagonal), so
 * that the GP can predict.
 *
 * Returns: %FALSE with @error set when even the largest jitter fails.
 */
gboolean lathe_tune_gp_condition(LatheTuneGp *gp, GError **error);

/**
 * lathe_tune_gp_add_fantasies:
 * @gp: a conditioned GP.
 * @x: (array): @n rows of inputs.
 * @n: the number of points.
 * @error: return location for a #GError.
 *
 * Kriging believer: appends each point with the GP's current mean there
 * as its observation, noise-free (noise variance at most 1e-6 in
 * standardised units), keeping the hyperparameters and the output
 * scaling, and conditions again, so that the predictive variance
 * collapses at those points. lathe_tune_gp_set_data() drops them.
 *
 * Returns: %FALSE with @error set on too many points or a failed
 *   factorisation.
 */
gboolean lathe_tune_gp_add_fantasies(LatheTuneGp *gp, const double *x, guint n, GError **error);

/**
 * lathe_tune_gp_predict:
 * @gp: a conditioned GP.
 * @x: (array): an input.
 * @mean: (out) (optional): the predictive mean, in the units of y.
 * @var: (out) (optional): the predictive variance of the latent function
 *   (without the noise), in the units of y squared.
 * @d_mean: (out caller-allocates) (array) (optional): d mean / dx.
 * @d_var: (out caller-allocates) (array) (optional): d var / dx.
 */
void lathe_tune_gp_predict(const LatheTuneGp *gp, const double *x, double *mean, double *var,
                           double *d_mean, double *d_var);

/**
 * lathe_tune_gp_predict_batch:
 * @gp: a conditioned GP.
 * @x: (array): @m rows of inputs.
 * @m: the number of inputs.
 * @mean: (out caller-allocates) (array): the @m means.
 * @var: (out caller-allocates) (array): the @m latent variances.
 *
 * lathe_tune_gp_predict() for many points at once, through BLAS.
 */
void lathe_tune_gp_predict_batch(const LatheTuneGp *gp, const double *x, guint m, double *mean,
                                 double *var);

G_END_DECLS
