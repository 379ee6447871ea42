/* logreg-internal.h: pieces of model/logreg shared between its files and its
 * tests (which compile the sources in directly). Not part of any ABI. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * LatheLogreg:
 * @n_features: D, the columns seen in training.
 * @n_classes: K, the classes of the training dataset, in its order.
 * @standardize: whether @mean and @scale came from the data (else 0 and 1).
 * @mean: D feature means subtracted before the linear map.
 * @scale: D feature standard deviations (1 for constant features).
 * @coef: K x D weights, row-major, in standardised feature space.
 * @intercept: K biases.
 *
 * A trained model. Read-only once built, so predict may run on it from
 * several threads at once.
 */
typedef struct {
  guint n_features;
  guint n_classes;
  gboolean standardize;
  float *mean;
  float *scale;
  float *coef;
  float *intercept;
} LatheLogreg;

/** lathe_logreg_new: (transfer full) a zeroed model with arrays allocated. */
LatheLogreg *lathe_logreg_new(guint n_features, guint n_classes);
/** lathe_logreg_free: frees @model (nullable). */
void lathe_logreg_free(LatheLogreg *model);

/**
 * LatheLogregWork:
 *
 * Scratch buffers of the objective, sized once for at most @n_max rows so
 * that the optimisers never allocate inside their loops.
 */
typedef struct {
  guint n_max;
  guint d;
  guint k;
  float *w;      /* k x d: the weights as float for sgemm */
  float *scores; /* n_max x k: logits, then the scaled residuals */
  float *gw;     /* k x d: residual^T . X */
} LatheLogregWork;

LatheLogregWork *lathe_logreg_work_new(guint n_max, guint d, guint k);
void lathe_logreg_work_free(LatheLogregWork *work);

/**
 * lathe_logreg_n_params:
 *
 * Returns: K * (D + 1), the length of a parameter vector: the K x D weights
 * row-major, then the K intercepts.
 */
gsize lathe_logreg_n_params(guint d, guint k);

/**
 * lathe_logreg_objective:
 * @x: @n x @work->d float32 rows, contiguous.
 * @y: @n class indices in [0, @work->k).
 * @n: rows; at most @work->n_max, at least 1.
 * @l2: the penalty weight.
 * @theta: the parameters (see lathe_logreg_n_params()).
 * @grad: (out) (nullable): the gradient, same layout as @theta.
 * @work: scratch buffers.
 *
 * The training objective: mean softmax cross-entropy over the rows plus
 * @l2/2 * ||W||^2 (the intercepts are not penalised). Products go through
 * cblas_sgemm; per-row sums are accumulated in double, in row order, so the
 * result does not depend on threads.
 *
 * Returns: the objective value.
 */
double lathe_logreg_objective(const float *x, const gint32 *y, guint n, double l2,
                              const double *theta, double *grad, LatheLogregWork *work);

/**
 * lathe_logreg_softmax_rows:
 * @scores: @n x @k logits, replaced by probabilities.
 *
 * Numerically stable softmax of each row (max subtracted, sum in double).
 */
void lathe_logreg_softmax_rows(float *scores, guint n, guint k);

/**
 * LatheLogregSolverParams:
 *
 * What the optimisers need from the node's params and context.
 */
typedef struct {
  double l2;
  guint max_iter;
  double tol;
  double lr;         /* Adam only */
  guint batch_size;  /* Adam only */
  LatheContext *ctx; /* reports, progress, cancellation, rng */
} LatheLogregSolverParams;

/**
 * LatheLogregSolverResult:
 * @n_iter: iterations (L-BFGS) or epochs (Adam) done.
 * @loss: the full-data objective at the returned parameters.
 * @converged: whether the gradient max-abs fell below tol.
 * @stop: why the solver stopped, for the log (static string).
 */
typedef struct {
  guint n_iter;
  double loss;
  gboolean converged;
  const char *stop;
} LatheLogregSolverResult;

/**
 * lathe_logreg_lbfgs:
 * @theta: (inout): start point, replaced by the solution.
 *
 * Minimises the objective over all @n rows with L-BFGS (history 10,
 * backtracking Armijo line search). Fails only when cancelled.
 */
gboolean lathe_logreg_lbfgs(const float *x, const gint32 *y, guint n, guint d, guint k,
                            const LatheLogregSolverParams *p, double *theta,
                            LatheLogregSolverResult *res, GError **error);

/**
 * lathe_logreg_adam:
 * @theta: (inout): start point, replaced by the solution.
 *
 * Minimises the objective with Adam on minibatches drawn from a per-epoch
 * shuffle of lathe_context_rng(). Fails only when cancelled.
 */
gboolean lathe_logreg_adam(const float *x, const gint32 *y, guint n, guint d, guint k,
                           const LatheLogregSolverParams *p, double *theta,
                           LatheLogregSolverResult *res, GError **error);

/** LATHE_LOGREG_STATE_VERSION: the blob format lathe_logreg_save() writes. */
#define LATHE_LOGREG_STATE_VERSION 1

/**
 * lathe_logreg_save:
 *
 * Returns: (transfer full): the portable little-endian blob of @model: magic,
 * format version, dims, flags, mean, scale, weights, intercepts, then the
 * first 8 bytes of the SHA-256 of everything before.
 */
GBytes *lathe_logreg_save(const LatheLogreg *model);

/**
 * lathe_logreg_load:
 * @state: bytes from lathe_logreg_save().
 * @version: the state version recorded with them.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with a
 * %LATHE_ERROR_DATA error for anything truncated, corrupt or unknown.
 */
LatheLogreg *lathe_logreg_load(GBytes *state, guint32 version, GError **error);

G_END_DECLS
