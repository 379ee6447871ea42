/* test-tune-gp.c: the Matern 5/2 GP: gradients and interpolation. */
#include "tune-random.h"
#include "tune-gp.h"

#include <math.h>
#include <string.h>

static LatheTuneGp *random_gp(guint d, guint n, guint64 seed) {
  LatheRng r;
  lathe_rng_init(&r, seed);
  double *x = g_new(double, n * d), *y = g_new(double, n);
  for (guint i = 0; i < n; i++) {
    double s = 0;
    for (guint j = 0; j < d; j++) {
      x[i * d + j] = lathe_rng_uniform(&r);
      s += sin(3 * x[i * d + j] * (j + 1));
    }
    y[i] = s + 0.1 * lathe_tune_rng_normal(&r);
  }
  LatheTuneGp *gp = lathe_tune_gp_new(d);
  GError *err = NULL;
  g_assert_true(lathe_tune_gp_set_data(gp, x, y, n, &err));
  g_assert_no_error(err);
  g_free(x);
  g_free(y);
  return gp;
}

static void test_mll_gradient(void) {
  guint d = 3;
  LatheTuneGp *gp = random_gp(d, 25, 1);
  double theta[5] = {log(0.3), log(0.7), log(1.5), log(1.3), log(0.02)}, g[5], tp[5];
  double f = lathe_tune_gp_log_posterior(gp, theta, g);
  g_assert_true(isfinite(f));
  for (guint k = 0; k < d + 2; k++) {
    double h = 1e-5;
    memcpy(tp, theta, sizeof tp);
    tp[k] += h;
    double fp = lathe_tune_gp_log_posterior(gp, tp, NULL);
    tp[k] -= 2 * h;
    double fm = lathe_tune_gp_log_posterior(gp, tp, NULL);
    double fd = (fp - fm) / (2 * h);
    g_test_message("theta[%u]: analytic %.8f, finite difference %.8f", k, g[k], fd);
    g_assert_cmpfloat(fabs(g[k] - fd), <, 1e-5 * fmax(1, fabs(fd)));
  }
  lathe_tune_gp_free(gp);
}

static void test_predict_gradient(void) {
  guint d = 3;
  LatheTuneGp *gp = random_gp(d, 30, 2);
  GError *err = NULL;
  g_assert_true(lathe_tune_gp_fit(gp, 2, 5, &err));
  g_assert_no_error(err);
  double x[3] = {0.31, 0.62, 0.17}, xp[3], mu, var, dmu[3], dvar[3];
  lathe_tune_gp_predict(gp, x, &mu, &var, dmu, dvar);
  for (guint j = 0; j < d; j++) {
    double h = 1e-6, mp, vp, mm, vm;
    memcpy(xp, x, sizeof xp);
    xp[j] += h;
    lathe_tune_gp_predict(gp, xp, &mp, &vp, NULL, NULL);
    xp[j] -= 2 * h;
    lathe_tune_gp_predict(gp, xp, &mm, &vm, NULL, NULL);
    double fdm = (mp - mm) / (2 * h), fdv = (vp - vm) / (2 * h);
    g_assert_cmpfloat(fabs(dmu[j] - fdm), <, 1e-5 * fmax(1, fabs(fdm)));
    g_assert_cmpfloat(fabs(dvar[j] - fdv), <, 1e-5 * fmax(1e-3, fabs(fdv)));
  }
  /* The batched prediction agrees with the single one. */
  double bm, bv;
  lathe_tune_gp_predict_batch(gp, x, 1, &bm, &bv);
  g_assert_cmpfloat(fabs(bm - mu), <, 1e-10 * fmax(1, fabs(mu)));
  g_assert_cmpfloat(fabs(bv - var), <, 1e-10 * fmax(1, var));
  lathe_tune_gp_free(gp);
}

/* A smooth 1-D function from 12 points: the fit interpolates it between
 * the points, and is most uncertain away from them. */
static void test_interpolation(void) {
  enum { N = 12 };
  double x[N], y[N];
  for (int i = 0; i < N; i++) {
    x[i] = (i + 0.5) / N;
    y[i] = 10 + 5 * sin(6 * x[i]) + x[i] * x[i];
  }
  LatheTuneGp *gp = lathe_tune_gp_new(1);
  GError *err = NULL;
  g_assert_true(lathe_tune_gp_set_data(gp, x, y, N, &err));
  g_assert_true(lathe_tune_gp_fit(gp, 3, 1, &err));
  g_assert_no_error(err);
  double worst = 0;
  for (double t = 0.05; t <= 0.95; t += 0.01) {
    double mu, var;
    lathe_tune_gp_predict(gp, &t, &mu, &var, NULL, NULL);
    worst = fmax(worst, fabs(mu - (10 + 5 * sin(6 * t) + t * t)));
  }
  g_test_message("interpolation: worst error %.2e", worst);
  /* The function spans [5, 15]: well under 1% of that. */
  g_assert_cmpfloat(worst, <, 0.03);
  double at, between, v_at, v_between;
  at = x[3];
  between = 0.5 * (x[3] + x[4]);
  lathe_tune_gp_predict(gp, &at, NULL, &v_at, NULL, NULL);
  lathe_tune_gp_predict(gp, &between, NULL, &v_between, NULL, NULL);
  g_assert_cmpfloat(v_at, <, v_between);
  /* A fantasy at a new point collapses the variance there. */
  double far = 0.999, v0, v1, m0, m1;
  lathe_tune_gp_predict(gp, &far, &m0, &v0, NULL, NULL);
  g_assert_true(lathe_tune_gp_add_fantasies(gp, &far, 1, &err));
  lathe_tune_gp_predict(gp, &far, &m1, &v1, NULL, NULL);
  g_assert_cmpfloat(v1, <, 0.01 * v0);
  g_assert_cmpfloat(fabs(m1 - m0), <, 1e-3 * fmax(1, fabs(m0)));
  lathe_tune_gp_free(gp);
}

/* Duplicate inputs with zero noise need the jitter; bad data is an error. */
static void test_jitter_and_errors(void) {
  double x[4] = {0.2, 0.2, 0.2, 0.7}, y[4] = {1, 1, 1, 2};
  LatheTuneGp *gp = lathe_tune_gp_new(1);
  GError *err = NULL;
  g_assert_true(lathe_tune_gp_set_data(gp, x, y, 4, &err));
  double theta[3] = {log(0.5), 0, log(1e-6)};
  lathe_tune_gp_set_params(gp, theta);
  g_assert_true(lathe_tune_gp_condition(gp, &err));
  g_assert_no_error(err);
  double mu;
  lathe_tune_gp_predict(gp, &x[0], &mu, NULL, NULL, NULL);
  g_assert_cmpfloat(fabs(mu - 1), <, 1e-3);
  y[1] = NAN;
  g_assert_false(lathe_tune_gp_set_data(gp, x, y, 4, &err));
  g_assert_error(err, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID);
  g_clear_error(&err);
  g_assert_false(lathe_tune_gp_set_data(gp, x, y, 0, &err));
  g_assert_error(err, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID);
  g_clear_error(&err);
  lathe_tune_gp_free(gp);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/gp/mll-gradient", test_mll_gradient);
  g_test_add_func("/tune/gp/predict-gradient", test_predict_gradient);
  g_test_add_func("/tune/gp/interpolation", test_interpolation);
  g_test_add_func("/tune/gp/jitter-and-errors", test_jitter_and_errors);
  return g_test_run();
}
