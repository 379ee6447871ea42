/* test-tune-parzen.c: the Parzen estimator and truncated-normal helpers
 * against Optuna 3.1 (reference values computed with
 * optuna.samplers._tpe.parzen_estimator._ParzenEstimator, Debian's
 * python3-optuna 3.1.0, default parameters). */
#include <math.h>

#include "tune-parzen.h"

#define DIM_F(lo, hi) {LATHE_TUNE_FLOAT, lo, hi, 0, FALSE, 0, -1, 0, 0, 0}

static LatheTuneParzenParams optuna_params(gboolean multivariate) {
  LatheTuneParzenParams p = {TRUE, 1.0, TRUE, FALSE, multivariate, FALSE};
  return p;
}

/* Builds a 1-D estimator over obs and compares log_pdf at xs with want. */
static void check_1d(const LatheTuneDim *dim, const double *obs, guint n_obs, const double *xs,
                     const double *want, guint n) {
  LatheTuneSpace sp = {1, dim};
  const double **rows = g_new(const double *, n_obs ? n_obs : 1);
  for (guint j = 0; j < n_obs; j++)
    rows[j] = &obs[j];
  guint d0 = 0;
  LatheTuneParzenParams p = optuna_params(FALSE);
  LatheTuneParzen *pe = lathe_tune_parzen_new(&sp, &d0, 1, rows, n_obs, &p);
  double got[8];
  lathe_tune_parzen_log_pdf(pe, xs, n, got);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon(got[i], want[i], 1e-9);
  lathe_tune_parzen_free(pe);
  g_free(rows);
}

static void test_float(void) {
  LatheTuneDim d = DIM_F(-5, 10);
  double obs[] = {1.0, 2.5, -3.0, 7.2};
  double xs[] = {-5.0, 0.0, 2.0, 9.9};
  double want[] = {-1.1437198972427614, -0.7777081077747297, -0.7264211385952616,
                   -1.2467714387788096};
  check_1d(&d, obs, 4, xs, want, 4);
}

/* 30 observations: the ramp of default_weights applies to the 5 oldest. */
static void test_float_ramp(void) {
  LatheTuneDim d = DIM_F(-5, 10);
  double obs[] = {3.262,  5.622, -0.636, 2.662, 8.394,  8.444, -3.116, -1.891, -4.228, 1.612,
                  -4.552, 1.852, 4.737,  -0.823, 5.144, 3.863, -4.64,  3.383,  -1.111, 1.227,
                  -0.747, 5.397, 1.607,  -2.647, 3.17,  6.705, -0.405, -1.671, 0.82,   9.046};
  double xs[] = {-5.0, 0.0, 1.234, 9.9};
  double want[] = {-2.6001124991644033, -2.604670630434372, -2.3153067089402315,
                   -2.9538200283879608};
  check_1d(&d, obs, 30, xs, want, 4);
}

static void test_int(void) {
  LatheTuneDim d = {LATHE_TUNE_INT, 0, 10, 0, FALSE, 0, -1, 0, 0, 0};
  double obs[] = {1, 3, 3, 8}, xs[] = {0, 3, 10};
  double want[] = {-2.4016928678471667, -1.961938469441612, -3.1237579510227795};
  check_1d(&d, obs, 4, xs, want, 3);
}

static void test_log(void) {
  LatheTuneDim d = {LATHE_TUNE_FLOAT, 1e-3, 1, 0, TRUE, 0, -1, 0, 0, 0};
  double obs[] = {0.002, 0.05, 0.3}, xs[] = {0.001, 0.01, 0.5};
  double want[] = {-0.9034944966020533, -0.7067604507814091, -0.8256272832206106};
  check_1d(&d, obs, 3, xs, want, 3);

  LatheTuneDim di = {LATHE_TUNE_INT, 1, 100, 0, TRUE, 0, -1, 0, 0, 0};
  double obsi[] = {2, 20, 64}, xsi[] = {1, 10, 100};
  double wanti[] = {-1.0583450821100997, -0.8087988634866323, -0.8793717820427919};
  check_1d(&di, obsi, 3, xsi, wanti, 3);
}

static void test_step(void) {
  LatheTuneDim d = {LATHE_TUNE_FLOAT, 0, 3, 0.5, FALSE, 0, -1, 0, 0, 0};
  double obs[] = {0.5, 1.0, 2.5}, xs[] = {0.0, 1.0, 3.0};
  double want[] = {-2.0569290292767453, -1.6386500061148705, -2.383554725594291};
  check_1d(&d, obs, 3, xs, want, 3);
}

static void test_categorical(void) {
  LatheTuneDim d = {LATHE_TUNE_CATEGORICAL, 0, 0, 0, FALSE, 3, -1, 0, 0, 0};
  double obs[] = {0, 2, 2}, xs[] = {0, 1, 2};
  double want[] = {-1.0986122886681096, -1.6582280766035324, -0.7419373447293772};
  check_1d(&d, obs, 3, xs, want, 3);
}

static void test_multivariate(void) {
  LatheTuneDim dims[3] = {DIM_F(-5, 10),
                          {LATHE_TUNE_INT, 0, 15, 0, FALSE, 0, -1, 0, 0, 0},
                          {LATHE_TUNE_CATEGORICAL, 0, 0, 0, FALSE, 2, -1, 0, 0, 0}};
  LatheTuneSpace sp = {3, dims};
  double obs[4][3] = {{1.0, 0, 0}, {2.5, 5, 1}, {-3.0, 9, 1}, {7.2, 14, 0}};
  const double *rows[4] = {obs[0], obs[1], obs[2], obs[3]};
  guint ds[3] = {0, 1, 2};
  LatheTuneParzenParams p = optuna_params(TRUE);
  LatheTuneParzen *pe = lathe_tune_parzen_new(&sp, ds, 3, rows, 4, &p);
  double xs[6] = {0.0, 3, 1, 2.0, 14, 0}, got[2];
  lathe_tune_parzen_log_pdf(pe, xs, 2, got);
  g_assert_cmpfloat_with_epsilon(got[0], -4.3277532316684315, 1e-9);
  g_assert_cmpfloat_with_epsilon(got[1], -4.805135646410209, 1e-9);
  lathe_tune_parzen_free(pe);
}

/* The truncated normal quantile inverts the CDF, deep in the tails too. */
static void test_truncnorm(void) {
  double cases[][2] = {{-1, 1}, {-3, 0.5}, {0.2, 4}, {-40, -30}, {30, 45}, {-0.1, 100}};
  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    double a = cases[c][0], b = cases[c][1];
    double lm = lathe_tune_log_gauss_mass(a, b);
    for (double q = 0.05; q < 1; q += 0.15) {
      double x = lathe_tune_truncnorm_ppf(q, a, b);
      g_assert_cmpfloat(x, >=, a);
      g_assert_cmpfloat(x, <=, b);
      double got = exp(lathe_tune_log_gauss_mass(a, x) - lm);
      g_assert_cmpfloat_with_epsilon(got, q, 1e-7);
    }
  }
  /* The tail series against the closed form where erfc still works. */
  g_assert_cmpfloat_with_epsilon(lathe_tune_log_ndtr(-25), log(0.5 * erfc(25 / G_SQRT2)), 1e-9);
  g_assert_cmpfloat_with_epsilon(lathe_tune_log_ndtr(0), log(0.5), 1e-15);
  g_assert_true(isfinite(lathe_tune_log_ndtr(-200)));
}

/* With the 3.5 normalisation the density integrates to 1; the discrete
 * masses always sum to 1. */
static void test_normalised(void) {
  LatheTuneDim d = DIM_F(0, 1);
  LatheTuneSpace sp = {1, &d};
  double obs[] = {0.1, 0.15, 0.8};
  const double *rows[3] = {&obs[0], &obs[1], &obs[2]};
  guint d0 = 0;
  LatheTuneParzenParams p = optuna_params(FALSE);
  p.normalized_logpdf = TRUE;
  LatheTuneParzen *pe = lathe_tune_parzen_new(&sp, &d0, 1, rows, 3, &p);
  double sum = 0;
  for (int i = 0; i < 20000; i++) {
    double x = (i + 0.5) / 20000, l;
    lathe_tune_parzen_log_pdf(pe, &x, 1, &l);
    sum += exp(l) / 20000;
  }
  g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-6);
  lathe_tune_parzen_free(pe);

  LatheTuneDim di = {LATHE_TUNE_INT, -3, 12, 0, FALSE, 0, -1, 0, 0, 0};
  LatheTuneSpace spi = {1, &di};
  double obsi[] = {-3, 0, 11};
  const double *rowsi[3] = {&obsi[0], &obsi[1], &obsi[2]};
  pe = lathe_tune_parzen_new(&spi, &d0, 1, rowsi, 3, &p);
  sum = 0;
  for (int v = -3; v <= 12; v++) {
    double x = v, l;
    lathe_tune_parzen_log_pdf(pe, &x, 1, &l);
    sum += exp(l);
  }
  g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-9);
  lathe_tune_parzen_free(pe);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/parzen/float", test_float);
  g_test_add_func("/tune/parzen/float-ramp-weights", test_float_ramp);
  g_test_add_func("/tune/parzen/int", test_int);
  g_test_add_func("/tune/parzen/log", test_log);
  g_test_add_func("/tune/parzen/step", test_step);
  g_test_add_func("/tune/parzen/categorical", test_categorical);
  g_test_add_func("/tune/parzen/multivariate", test_multivariate);
  g_test_add_func("/tune/parzen/truncnorm", test_truncnorm);
  g_test_add_func("/tune/parzen/normalised", test_normalised);
  return g_test_run();
}
