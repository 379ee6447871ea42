/* test-tune-lbfgs.c: the box-constrained L-BFGS minimiser. */
#include "tune-lbfgs.h"

#include <float.h>
#include <math.h>

static double rosenbrock(const double *x, double *g, gpointer user_data) {
  int *evals = user_data;
  (*evals)++;
  double a = x[1] - x[0] * x[0], b = 1 - x[0];
  g[0] = -400 * a * x[0] - 2 * b;
  g[1] = 200 * a;
  return 100 * a * a + b * b;
}

static void test_rosenbrock(void) {
  double x[2] = {-1.2, 1.0}, lo[2] = {-5, -5}, hi[2] = {10, 10}, f;
  int evals = 0;
  LatheTuneLbfgsOptions o = {.max_iter = 500, .max_evals = 2000, .pgtol = 1e-9};
  LatheTuneLbfgsStatus st = lathe_tune_lbfgs_minimize(2, x, lo, hi, rosenbrock, &evals, &o, &f);
  g_test_message("rosenbrock: status %d, %d evaluations, f %.3g at (%.8f, %.8f)", st, evals, f,
                 x[0], x[1]);
  g_assert_cmpint(st, !=, LATHE_TUNE_LBFGS_BAD_START);
  g_assert_cmpfloat(fabs(x[0] - 1), <, 1e-5);
  g_assert_cmpfloat(fabs(x[1] - 1), <, 1e-5);
  g_assert_cmpfloat(f, <, 1e-10);
  /* Unbounded works the same. */
  double y[2] = {-1.2, 1.0};
  lathe_tune_lbfgs_minimize(2, y, NULL, NULL, rosenbrock, &evals, &o, &f);
  g_assert_cmpfloat(fabs(y[0] - 1), <, 1e-5);
}

/* sum_i c_i (x_i - t_i)^2 with targets outside the box in some
 * coordinates: the minimiser sits on the bound there. */
static double quad(const double *x, double *g, gpointer user_data) {
  static const double c[4] = {1, 10, 100, 0.5}, t[4] = {2, -3, 0.25, 0.5};
  double f = 0;
  for (int i = 0; i < 4; i++) {
    f += c[i] * (x[i] - t[i]) * (x[i] - t[i]);
    g[i] = 2 * c[i] * (x[i] - t[i]);
  }
  /* A coupling term so that it is not separable. */
  f += (x[0] - x[3]) * (x[0] - x[3]);
  g[0] += 2 * (x[0] - x[3]);
  g[3] -= 2 * (x[0] - x[3]);
  return f;
}

static void test_bound_active(void) {
  double x[4] = {0.5, 0.5, 0.5, 0.9}, lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 1, 1}, f;
  LatheTuneLbfgsOptions o = {.pgtol = 1e-9, .ftol = 1e-15};
  LatheTuneLbfgsStatus st = lathe_tune_lbfgs_minimize(4, x, lo, hi, quad, NULL, &o, &f);
  g_assert_cmpint(st, ==, LATHE_TUNE_LBFGS_CONVERGED);
  /* x0 is pushed to its upper bound 1, x1 to its lower bound 0, x2 free
   * at 0.25; x3 then minimises 0.5 (x3 - 0.5)^2 + (1 - x3)^2: x3 = 5/6. */
  g_assert_cmpfloat(x[0], ==, 1.0);
  g_assert_cmpfloat(x[1], ==, 0.0);
  g_assert_cmpfloat(fabs(x[2] - 0.25), <, 1e-6);
  g_assert_cmpfloat(fabs(x[3] - 5.0 / 6.0), <, 1e-6);
}

static double nan_outside(const double *x, double *g, gpointer user_data) {
  g[0] = 2 * (x[0] - 3);
  return x[0] > 3.5 ? NAN : (x[0] - 3) * (x[0] - 3);
}

static void test_nonfinite(void) {
  double x[1] = {0}, f;
  lathe_tune_lbfgs_minimize(1, x, NULL, NULL, nan_outside, NULL, NULL, &f);
  g_assert_cmpfloat(fabs(x[0] - 3), <, 1e-5);
  x[0] = 4;
  g_assert_cmpint(lathe_tune_lbfgs_minimize(1, x, NULL, NULL, nan_outside, NULL, NULL, &f), ==,
                  LATHE_TUNE_LBFGS_BAD_START);
}

typedef struct {
  guint calls, last_iter, stop_at;
  double last_f;
} Steps;

static gboolean count_steps(guint iter, double f, const double *grad, gpointer user_data) {
  Steps *st = user_data;
  (void)grad;
  st->calls++;
  g_assert_cmpuint(iter, ==, st->last_iter + 1); /* once per accepted step */
  st->last_iter = iter;
  st->last_f = f;
  return iter != st->stop_at;
}

/* model/logreg's options: interpolating backtrack, restart, scipy's ftol,
 * a per-step callback. */
static void test_logreg_options(void) {
  Steps st = {0};
  int evals = 0;
  double x[2] = {-1.2, 1.0}, f;
  LatheTuneLbfgsOptions o = {.max_iter = 500, .max_evals = G_MAXUINT, .memory = 10,
                             .pgtol = 1e-9, .ftol_both = TRUE, .curvature_eps = DBL_EPSILON,
                             .backtrack = LATHE_TUNE_LBFGS_INTERPOLATE, .restart = TRUE,
                             .on_iter = count_steps, .on_iter_data = &st};
  LatheTuneLbfgsStatus s = lathe_tune_lbfgs_minimize(2, x, NULL, NULL, rosenbrock, &evals, &o, &f);
  g_assert_cmpint(s, ==, LATHE_TUNE_LBFGS_CONVERGED);
  g_assert_cmpfloat(fabs(x[0] - 1), <, 1e-5);
  g_assert_cmpfloat(fabs(x[1] - 1), <, 1e-5);
  g_assert_cmpuint(st.calls, >, 10);
  g_assert_cmpfloat(st.last_f, ==, f);

  /* Stopping after 3 steps leaves the point a 3-step budget reaches. */
  double a[2] = {-1.2, 1.0}, b[2] = {-1.2, 1.0}, fa, fb;
  Steps stop = {.stop_at = 3};
  o.on_iter_data = &stop;
  g_assert_cmpint(lathe_tune_lbfgs_minimize(2, a, NULL, NULL, rosenbrock, &evals, &o, &fa), ==,
                  LATHE_TUNE_LBFGS_STOPPED);
  g_assert_cmpuint(stop.calls, ==, 3);
  Steps budget = {0};
  o.on_iter_data = &budget;
  o.max_iter = 3;
  g_assert_cmpint(lathe_tune_lbfgs_minimize(2, b, NULL, NULL, rosenbrock, &evals, &o, &fb), ==,
                  LATHE_TUNE_LBFGS_MAX_ITER);
  g_assert_cmpuint(budget.calls, ==, 3);
  g_assert_cmpfloat(a[0], ==, b[0]);
  g_assert_cmpfloat(a[1], ==, b[1]);
  g_assert_cmpfloat(fa, ==, fb);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/lbfgs/rosenbrock", test_rosenbrock);
  g_test_add_func("/tune/lbfgs/bound-active", test_bound_active);
  g_test_add_func("/tune/lbfgs/nonfinite", test_nonfinite);
  g_test_add_func("/tune/lbfgs/logreg-options", test_logreg_options);
  return g_test_run();
}
