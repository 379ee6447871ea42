/* test-tune-erfcx.c: erfcx and log expected improvement. */
#include "tune-erfcx.h"

#include <math.h>

static void test_erfcx_values(void) {
  /* exp(x^2) erfc(x), from mpmath at 50 digits. */
  static const double ref[][2] = {
      {-26.5, 1.92455316241856881e+305},
      {-10, 5.3762342836322709e+43},
      {-3, 16205.9888539995866},
      {-1, 5.00898008076228347},
      {-0.5, 1.95236048918255709},
      {0, 1.0},
      {1e-10, 0.999999999887162083},
      {0.3, 0.734599334567655142},
      {1, 0.427583576155807004},
      {2.5, 0.210806364061143581},
      {5, 0.110704637733068626},
      {10, 0.0561409927438225859},
      {25.9, 0.0217671811507382114},
      {26.5, 0.021275046685371106},
      {30, 0.0187958888614167515},
      {100, 0.0056416137829894329},
      {1e5, 5.64189583519546808e-6},
      {1e10, 5.64189583547756287e-11},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(ref); i++) {
    double v = lathe_tune_erfcx(ref[i][0]);
    double rel = fabs(v - ref[i][1]) / ref[i][1];
    if (rel > 1e-14)
      g_error("erfcx(%g) = %.17g, want %.17g (rel %g)", ref[i][0], v, ref[i][1], rel);
  }
  g_assert_true(isinf(lathe_tune_erfcx(-27)));
  g_assert_cmpfloat(lathe_tune_erfcx(INFINITY), ==, 0);
  g_assert_true(isnan(lathe_tune_erfcx(NAN)));
  /* erfcx is decreasing everywhere. */
  double prev = INFINITY;
  for (double x = -26; x < 60; x += 0.01) {
    double v = lathe_tune_erfcx(x);
    g_assert_cmpfloat(v, <, prev);
    prev = v;
  }
}

static void test_log_ei_reference(void) {
  /* log(phi(z) + z Phi(z)) (mu = 0, sigma = 1, best = z), mpmath. */
  static const double ref[][2] = {
      {-40, -808.29856835661996},   {-30, -457.724653760598004}, {-20.5, -217.091868370383125},
      {-10, -55.5531220361223559},  {-5, -16.7443011626609901},  {-1, -2.48512102571264134},
      {0, -0.918938533204672742},   {1, 0.08002621884930694},     {5, 1.60943792312643139},
      {40, 3.6888794541139363},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(ref); i++) {
    double v = lathe_tune_log_ei(0, 1, ref[i][0]);
    g_assert_cmpfloat(fabs(v - ref[i][1]), <, 1e-12 * fmax(1, fabs(ref[i][1])));
  }
  /* Scale: EI(mu, sigma, best) = sigma h((best - mu) / sigma). */
  double v = lathe_tune_log_ei(3, 2, 1);
  g_assert_cmpfloat(fabs(v - (log(2) + lathe_tune_log_ei(0, 1, -1))), <, 1e-13);
}

/* Against the textbook formula where it is accurate. */
static void test_log_ei_naive(void) {
  for (double z = -6; z <= 6; z += 0.25)
    for (double sigma = 0.1; sigma < 20; sigma *= 3) {
      double mu = 1.5, best = mu + z * sigma;
      double cdf = 0.5 * erfc(-z / sqrt(2)), pdf = exp(-0.5 * z * z) / sqrt(2 * G_PI);
      double naive = log(sigma * (z * cdf + pdf));
      double v = lathe_tune_log_ei(mu, sigma, best);
      g_assert_cmpfloat(fabs(v - naive), <, 1e-10 * fmax(1, fabs(naive)));
    }
  g_assert_cmpfloat(lathe_tune_log_ei(0, 0, 1), ==, 0);
  g_assert_true(isinf(lathe_tune_log_ei(1, 0, 1)));
}

static void test_log_ei_monotone(void) {
  double prev = -INFINITY;
  for (double z = -40; z <= 40; z += 1e-3) {
    double v = lathe_tune_log_ei(0, 1, z);
    g_assert_true(isfinite(v));
    g_assert_cmpfloat(v, >, prev);
    prev = v;
  }
  /* Far below, still finite and ordered. */
  g_assert_true(isfinite(lathe_tune_log_ei(0, 1, -1e6)));
  g_assert_cmpfloat(lathe_tune_log_ei(0, 1, -1e6), <, lathe_tune_log_ei(0, 1, -1e5));
}

static void test_log_ei_gradient(void) {
  for (double z = -40; z <= 40; z += 0.37) {
    double mu = 0.3, sigma = 0.7, best = mu + z * sigma, dmu, dsig;
    lathe_tune_log_ei_grad(mu, sigma, best, &dmu, &dsig);
    double h = 1e-6 * sigma;
    double fmu = (lathe_tune_log_ei(mu + h, sigma, best) - lathe_tune_log_ei(mu - h, sigma, best)) / (2 * h);
    double fsig = (lathe_tune_log_ei(mu, sigma + h, best) - lathe_tune_log_ei(mu, sigma - h, best)) / (2 * h);
    g_assert_cmpfloat(fabs(dmu - fmu), <, 1e-5 * fmax(1, fabs(fmu)));
    g_assert_cmpfloat(fabs(dsig - fsig), <, 1e-5 * fmax(1, fabs(fsig)));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/erfcx/values", test_erfcx_values);
  g_test_add_func("/tune/log-ei/reference", test_log_ei_reference);
  g_test_add_func("/tune/log-ei/naive", test_log_ei_naive);
  g_test_add_func("/tune/log-ei/monotone", test_log_ei_monotone);
  g_test_add_func("/tune/log-ei/gradient", test_log_ei_gradient);
  return g_test_run();
}
