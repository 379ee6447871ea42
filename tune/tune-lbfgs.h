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
 * LatheTuneLbfgsIterFunc:
 * @iter: the number of accepted steps so far (from 1).
 * @f: the value at the new point.
 * @grad: (array): the gradient at the new point.
 * @user_data: the closure.
 *
 * Called after every accepted step, for progress reports and
 * cancellation.
 *
 * Returns: %FALSE to stop (the minimiser then returns
 *   %LATHE_TUNE_LBFGS_STOPPED with the new point).
 */
typedef gboolean (*LatheTuneLbfgsIterFunc)(guint iter, double f, const double *grad,
                                           gpointer user_data);

/**
 * LatheTuneLbfgsBacktrack:
 * @LATHE_TUNE_LBFGS_HALVE: halve the step (a tenth after a non-finite
 *   value).
 * @LATHE_TUNE_LBFGS_INTERPOLATE: the minimiser of the quadratic through
 *   f(0), f'(0) and f(t), kept within [t/10, t/2] (a tenth after a
 *   non-finite value).
 *
 * How the line search shortens a step that fails the Armijo test.
 */
typedef enum {
  LATHE_TUNE_LBFGS_HALVE = 0,
  LATHE_TUNE_LBFGS_INTERPOLATE = 1,
} LatheTuneLbfgsBacktrack;

/**
 * LatheTuneLbfgsOptions:
 * @max_iter: the maximum number of iterations (default 100).
 * @max_evals: the maximum number of function evaluations (default 400).
 * @memory: the number of correction pairs kept (default 8).
 * @pgtol: stop when the largest projected-gradient component is below
 *   this (default 1e-6).
 * @ftol: stop when an iteration decreases f by less than ftol * max(|f|, 1)
 *   (default 1e-10), |f| at the new point.
 * @ftol_both: measure the decrease against the larger of |f| before and
 *   after the step instead (scipy's rule: max(|f_old|, |f_new|, 1)).
 * @curvature_eps: keep a correction pair only when s'y > curvature_eps *
 *   y'y (default 1e-10).
 * @backtrack: how the line search shortens a step (default halving).
 * @restart: when the line search fails with curvature pairs in memory,
 *   forget them and retry along steepest descent (the retry is not counted
 *   as an iteration) before giving up.
 * @on_iter: (nullable): called after every accepted step.
 * @on_iter_data: passed to @on_iter.
 *
 * Zero fields take their defaults. Without bounds (@lo and @hi both
 * %NULL) the projected gradient is the gradient and the Armijo test
 * compares with f + 1e-4 t g'd.
 */
typedef struct {
  guint max_iter;
  guint max_evals;
  guint memory;
  double pgtol;
  double ftol;
  /* appended for model/logreg; zero keeps the GP tuner's behaviour */
  gboolean ftol_both;
  double curvature_eps;
  LatheTuneLbfgsBacktrack backtrack;
  gboolean restart;
  LatheTuneLbfgsIterFunc on_iter;
  gpointer on_iter_data;
} LatheTuneLbfgsOptions;

/**
 * LatheTuneLbfgsStatus:
 * @LATHE_TUNE_LBFGS_CONVERGED: the projected gradient or the decrease fell
 *   below its tolerance.
 * @LATHE_TUNE_LBFGS_MAX_ITER: the iteration or evaluation budget ran out.
 * @LATHE_TUNE_LBFGS_LINE_SEARCH: no step along the search path decreased
 *   f (usually: converged as far as rounding allows).
 * @LATHE_TUNE_LBFGS_BAD_START: f is not finite at the start point.
 * @LATHE_TUNE_LBFGS_STOPPED: the iteration callback asked to stop.
 */
typedef enum {
  LATHE_TUNE_LBFGS_CONVERGED = 0,
  LATHE_TUNE_LBFGS_MAX_ITER = 1,
  LATHE_TUNE_LBFGS_LINE_SEARCH = 2,
  LATHE_TUNE_LBFGS_BAD_START = 3,
  LATHE_TUNE_LBFGS_STOPPED = 4,
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
