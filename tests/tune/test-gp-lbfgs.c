/* test-gp-lbfgs.c: the box-constrained L-BFGS minimiser. */
#include "tune-lbfgs.h"

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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/lbfgs/rosenbrock", test_rosenbrock);
  g_test_add_func("/tune/lbfgs/bound-active", test_bound_active);
  g_test_add_func("/tune/lbfgs/nonfinite", test_nonfinite);
  return g_test_run();
}
