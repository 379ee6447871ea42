/* test-tune-sobol.c: Sobol and Halton sequences. */
#include "tune-random.h"
#include "tune-sobol.h"

#include <math.h>

/* The first unscrambled Sobol points in 5 dimensions (Joe & Kuo
 * new-joe-kuo-6.21201; the same as scipy.stats.qmc.Sobol(scramble=False)). */
static void test_sobol_published(void) {
  static const double want[8][5] = {
      {0, 0, 0, 0, 0},
      {0.5, 0.5, 0.5, 0.5, 0.5},
      {0.75, 0.25, 0.25, 0.25, 0.75},
      {0.25, 0.75, 0.75, 0.75, 0.25},
      {0.375, 0.375, 0.625, 0.875, 0.375},
      {0.875, 0.875, 0.125, 0.375, 0.875},
      {0.625, 0.125, 0.875, 0.625, 0.625},
      {0.125, 0.625, 0.375, 0.125, 0.125},
  };
  LatheTuneSobol *s = lathe_tune_sobol_new(5, FALSE, 0);
  double u[5];
  for (int i = 0; i < 8; i++) {
    lathe_tune_sobol_next(s, u);
    for (int j = 0; j < 5; j++)
      g_assert_cmpfloat(u[j], ==, want[i][j]);
  }
  lathe_tune_sobol_free(s);
}

/* Point 13 and 15 of the 64-dimensional sequence in the last dimensions,
 * which exercise the highest-degree polynomials of the table. */
static void test_sobol_high_dims(void) {
  static const double want13[6] = {0.4375, 0.1875, 0.1875, 0.9375, 0.0625, 0.0625};
  static const double want15[4] = {0.4375, 0.1875, 0.8125, 0.8125};
  LatheTuneSobol *s = lathe_tune_sobol_new(64, FALSE, 0);
  double u[64];
  lathe_tune_sobol_skip(s, 13);
  g_assert_cmpuint(lathe_tune_sobol_index(s), ==, 13);
  lathe_tune_sobol_next(s, u);
  for (int j = 0; j < 6; j++)
    g_assert_cmpfloat(u[58 + j], ==, want13[j]);
  lathe_tune_sobol_next(s, u);
  lathe_tune_sobol_next(s, u);
  for (int j = 0; j < 4; j++)
    g_assert_cmpfloat(u[60 + j], ==, want15[j]);
  lathe_tune_sobol_free(s);
  g_assert_null(lathe_tune_sobol_new(65, FALSE, 0));
  g_assert_null(lathe_tune_sobol_new(0, FALSE, 0));
}

/* skip() lands where next() would have. */
static void test_sobol_skip(void) {
  LatheTuneSobol *a = lathe_tune_sobol_new(7, TRUE, 42), *b = lathe_tune_sobol_new(7, TRUE, 42);
  double ua[7], ub[7];
  for (int i = 0; i < 1000; i++)
    lathe_tune_sobol_next(a, ua);
  lathe_tune_sobol_skip(b, 999);
  lathe_tune_sobol_next(b, ub);
  for (int j = 0; j < 7; j++)
    g_assert_cmpfloat(ua[j], ==, ub[j]);
  lathe_tune_sobol_free(a);
  lathe_tune_sobol_free(b);
}

/* The star discrepancy of n 2-D points, exactly, over boxes anchored at
 * the origin whose corners are point coordinates (O(n^3), fine for 256). */
static double star_discrepancy(const double *p, int n) {
  double worst = 0;
  for (int a = 0; a <= n; a++)
    for (int b = 0; b <= n; b++) {
      double x = a == n ? 1.0 : p[2 * a], y = b == n ? 1.0 : p[2 * b + 1];
      int open = 0, closed = 0;
      for (int i = 0; i < n; i++) {
        open += p[2 * i] < x && p[2 * i + 1] < y;
        closed += p[2 * i] <= x && p[2 * i + 1] <= y;
      }
      worst = fmax(worst, fmax(x * y - (double)open / n, (double)closed / n - x * y));
    }
  return worst;
}

static void test_discrepancy(void) {
  enum { N = 256 };
  double sob[2 * N], hal[2 * N], rnd[2 * N];
  LatheTuneSobol *s = lathe_tune_sobol_new(2, TRUE, 7);
  LatheRng r;
  lathe_rng_init(&r, 7);
  for (int i = 0; i < N; i++) {
    lathe_tune_sobol_next(s, sob + 2 * i);
    g_assert_true(lathe_tune_halton_point(2, (guint64)i + 1, TRUE, 7, hal + 2 * i));
    rnd[2 * i] = lathe_rng_uniform(&r);
    rnd[2 * i + 1] = lathe_rng_uniform(&r);
  }
  lathe_tune_sobol_free(s);
  double ds = star_discrepancy(sob, N), dh = star_discrepancy(hal, N), dr = star_discrepancy(rnd, N);
  g_test_message("star discrepancy of %d points: sobol %.4f halton %.4f random %.4f", N, ds, dh, dr);
  /* Random points sit near 1/sqrt(N) ~ 0.06; low-discrepancy ones near
   * log(N)^2 / N, well under half of that. */
  g_assert_cmpfloat(ds, <, 0.5 * dr);
  g_assert_cmpfloat(dh, <, 0.5 * dr);
}

static void test_halton(void) {
  double u[3];
  /* Radical inverses of 5 = 101b = 12t = 10q: 0.101b, 0.21t, 0.01q. */
  g_assert_true(lathe_tune_halton_point(3, 5, FALSE, 0, u));
  g_assert_cmpfloat(fabs(u[0] - 0.625), <, 1e-15);
  g_assert_cmpfloat(fabs(u[1] - (2.0 / 3 + 1.0 / 9)), <, 1e-15);
  g_assert_cmpfloat(fabs(u[2] - 0.04), <, 1e-15);
  g_assert_false(lathe_tune_halton_point(65, 5, FALSE, 0, u));
  /* A shift keeps the points in [0, 1) and depends on the seed. */
  double a[3], b[3];
  lathe_tune_halton_point(3, 5, TRUE, 1, a);
  lathe_tune_halton_point(3, 5, TRUE, 2, b);
  for (int j = 0; j < 3; j++)
    g_assert_true(a[j] >= 0 && a[j] < 1);
  g_assert_true(a[0] != b[0] || a[1] != b[1]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/sobol/published", test_sobol_published);
  g_test_add_func("/tune/sobol/high-dims", test_sobol_high_dims);
  g_test_add_func("/tune/sobol/skip", test_sobol_skip);
  g_test_add_func("/tune/sobol/discrepancy", test_discrepancy);
  g_test_add_func("/tune/halton/values", test_halton);
  return g_test_run();
}
