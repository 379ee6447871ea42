/* tune-lbfgs.h: a box-constrained limited-memory BFGS minimiser, for the GP
 * hyperparameters and the acquisition function. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheTuneLbfgsFunc:
 * @x: (array): the point, n values.
 * @grad: (out caller-allocates) (array): receives the gradient at @x.
 * @user_data: the closure.
 *
 * The objective. It may return a non-finite value (with any gradient) for
 * a point it cannot evaluate; the line search then backs off.
 *
 * Returns: the value at @x.
 */
typedef double (*LatheTuneLbfgsFunc)(const double *x, double *grad, gpointer user_data);

/**
 * LatheTuneLbfgsOptions:
 * @max_iter: the maximum number of iterations (default 100).
 * @max_evals: the maximum number of function evaluations (default 400).
 * @memory: the number of correction pairs kept (default 8).
 * @pgtol: stop when the largest projected-gradient component is below
 *   this (default 1e-6).
 * @ftol: stop when an iteration decreases f by less than ftol * max(|f|, 1)
 *   (default 1e-10).
 *
 * Zero fields take their defaults.
 */
typedef struct {
  guint max_iter;
  guint max_evals;
  guint memory;
  double pgtol;
  double ftol;
} LatheTuneLbfgsOptions;

/**
 * LatheTuneLbfgsStatus:
 * @LATHE_TUNE_LBFGS_CONVERGED: the projected gradient or the decrease fell
 *   below its tolerance.
 * @LATHE_TUNE_LBFGS_MAX_ITER: the iteration or evaluation budget ran out.
 * @LATHE_TUNE_LBFGS_LINE_SEARCH: no step along the search path decreased
 *   f (usually: converged as far as rounding allows).
 * @LATHE_TUNE_LBFGS_BAD_START: f is not finite at the start point.
 */
typedef enum {
  LATHE_TUNE_LBFGS_CONVERGED = 0,
  LATHE_TUNE_LBFGS_MAX_ITER = 1,
  LATHE_TUNE_LBFGS_LINE_SEARCH = 2,
  LATHE_TUNE_LBFGS_BAD_START = 3,
} LatheTuneLbfgsStatus;

/**
 * lathe_tune_lbfgs_minimize:
 * @n: the number of variables (>= 1).
 * @x: (inout) (array): the start point on entry (projected into the box),
 *   the best point found on return.
 * @lo: (array) (nullable): lower bounds, or %NULL for none; entries may be
 *   -inf.
 * @hi: (array) (nullable): upper bounds, or %NULL for none; entries may be
 *   +inf.
 * @f: the objective.
 * @user_data: passed to @f.
 * @opts: (nullable): options, or %NULL for the defaults.
 * @f_out: (out) (optional): receives f at the returned @x.
 *
 * Minimises @f over the box by projected L-BFGS: the two-loop recursion
 * gives a quasi-Newton direction in the free variables (those at a bound
 * with the gradient pushing outwards are held fixed), and a backtracking
 * Armijo search runs along the projected path P(x + t d).
 *
 * Returns: why it stopped, a #LatheTuneLbfgsStatus.
 */
LatheTuneLbfgsStatus lathe_tune_lbfgs_minimize(guint n, double *x, const double *lo,
                                               const double *hi, LatheTuneLbfgsFunc f,
                                               gpointer user_data,
                                               const LatheTuneLbfgsOptions *opts, double *f_out);

G_END_DECLS
