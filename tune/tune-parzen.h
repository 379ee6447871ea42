/* tune-parzen.h: the Parzen estimator of TPE, as in Optuna 3.1
 * (optuna/samplers/_tpe/parzen_estimator.py and _truncnorm.py): a weighted
 * mixture of truncated normals (numeric dimensions, discretised for integers
 * and steps) or smoothed one-hot kernels (categoricals), plus a prior
 * component. Used by tune-tpe.c; public for tests and other samplers. */
#pragma once

#include <glib.h>

#include "tune-random.h"
#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTuneParzenParams:
 * @consider_prior: add the prior component (always added with no data).
 * @prior_weight: the weight of the prior component (> 0).
 * @consider_magic_clip: floor the bandwidths at range / min(100, 1 + n).
 * @consider_endpoints: let the bounds widen the first and last bandwidths.
 * @multivariate: bandwidths by Scott's rule (0.2 n^(-1/(d+4)) of the range),
 *   shared by all dimensions of the estimator, instead of the neighbour gaps.
 * @normalized_logpdf: include the -log(sigma) term of each truncated normal's
 *   log density. Optuna 3.1 leaves it out (optuna issue #5109, fixed in 3.5);
 *   %FALSE reproduces 3.1.
 *
 * How the estimator is built; see lathe_tune_tpe_options_init() for the
 * defaults.
 */
typedef struct {
  gboolean consider_prior;
  double prior_weight;
  gboolean consider_magic_clip;
  gboolean consider_endpoints;
  gboolean multivariate;
  gboolean normalized_logpdf;
} LatheTuneParzenParams;

typedef struct _LatheTuneParzen LatheTuneParzen;

/**
 * lathe_tune_parzen_new:
 * @space: a valid space (see lathe_tune_check_space()).
 * @dims: (array length=n_dims): the dimensions modelled jointly (one for
 *   univariate TPE).
 * @n_dims: the number of @dims (>= 1).
 * @obs: (array length=n_obs): the observed points, oldest first; each has
 *   a non-NAN in-bounds value in every dimension of @dims.
 * @n_obs: the number of observations (may be 0: then only the prior).
 * @params: how to build the estimator.
 *
 * Builds l(x) or g(x). Observation weights follow Optuna's default_weights:
 * flat for the 25 newest, a ramp from 1/n up for the older ones.
 *
 * Returns: (transfer full): the estimator, to free with
 *   lathe_tune_parzen_free().
 */
LatheTuneParzen *lathe_tune_parzen_new(const LatheTuneSpace *space, const guint *dims,
                                       guint n_dims, const double *const *obs, guint n_obs,
                                       const LatheTuneParzenParams *params);

/**
 * lathe_tune_parzen_free:
 * @pe: (transfer full) (nullable): an estimator.
 */
void lathe_tune_parzen_free(LatheTuneParzen *pe);

/**
 * lathe_tune_parzen_sample:
 * @pe: an estimator.
 * @rng: the generator.
 * @n: the number of samples.
 * @out: (out caller-allocates) (array): @n rows of n_dims values in the
 *   native scale of the space (rounded to the grid, clipped to the bounds).
 *
 * Draws a component by weight, then a value from that component in every
 * dimension.
 */
void lathe_tune_parzen_sample(LatheTuneParzen *pe, LatheTuneRng *rng, guint n, double *out);

/**
 * lathe_tune_parzen_log_pdf:
 * @pe: an estimator.
 * @x: (array): @n rows of n_dims values in the native scale, in bounds.
 * @n: the number of rows.
 * @out: (out caller-allocates) (array length=n): the log densities (log
 *   probability masses for discrete dimensions).
 */
void lathe_tune_parzen_log_pdf(LatheTuneParzen *pe, const double *x, guint n, double *out);

/**
 * lathe_tune_log_ndtr:
 * @a: a real.
 *
 * Returns: log Phi(@a), the log of the standard normal CDF, accurate in the
 *   left tail (Optuna's _log_ndtr_single).
 */
double lathe_tune_log_ndtr(double a);

/**
 * lathe_tune_log_gauss_mass:
 * @a: the lower end.
 * @b: the upper end (>= @a).
 *
 * Returns: log(Phi(@b) - Phi(@a)), computed in the tail where it is exact.
 */
double lathe_tune_log_gauss_mass(double a, double b);

/**
 * lathe_tune_truncnorm_ppf:
 * @q: a probability in [0, 1].
 * @a: the standardised lower bound.
 * @b: the standardised upper bound (> @a).
 *
 * Returns: the @q quantile of the standard normal truncated to [@a, @b].
 */
double lathe_tune_truncnorm_ppf(double q, double a, double b);

G_END_DECLS
