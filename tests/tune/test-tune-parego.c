/* ParEGO (tune/tune-parego.c): the weights lie on the simplex and depend only
 * on (seed, trial, k); the scalarisation is the augmented Chebyshev function
 * on objectives normalised over the used rows. */
#include <math.h>

#include "tune-parego.h"

static void test_weights(void) {
  for (guint k = 1; k <= 4; k++)
    for (guint trial = 0; trial < 50; trial++) {
      double a[4], b[4], sum = 0;
      lathe_tune_parego_weights(7, trial, k, a);
      lathe_tune_parego_weights(7, trial, k, b);
      for (guint i = 0; i < k; i++) {
        g_assert_cmpfloat(a[i], >=, 0);
        g_assert_cmpfloat(a[i], ==, b[i]); /* a function of its arguments only */
        sum += a[i];
      }
      g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-12);
    }
  double x[2], y[2];
  lathe_tune_parego_weights(7, 3, 2, x);
  lathe_tune_parego_weights(7, 4, 2, y);
  g_assert_cmpfloat(x[0], !=, y[0]); /* trials are scalarised differently */
}

static void test_scalarise(void) {
  /* Two objectives on [0, 2] and [0, 10]: normalised to [0, 1] each. */
  const double values[] = {0, 10, 2, 0, 1, 5, NAN, NAN};
  const gboolean use[] = {TRUE, TRUE, TRUE, FALSE};
  const double lambda[] = {0.5, 0.5};
  double out[4];
  lathe_tune_parego_scalarise(values, use, 4, 2, lambda, out);
  double rho = LATHE_TUNE_PAREGO_RHO;
  g_assert_cmpfloat_with_epsilon(out[0], 0.5 + rho * 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(out[1], 0.5 + rho * 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon(out[2], 0.25 + rho * 0.5, 1e-12);
  g_assert_true(isnan(out[3]));
  /* An objective whose used values are all equal contributes 0. */
  const double flat[] = {3, 1, 3, 2};
  const gboolean both[] = {TRUE, TRUE};
  const double w[] = {0.25, 0.75};
  double o[2];
  lathe_tune_parego_scalarise(flat, both, 2, 2, w, o);
  g_assert_cmpfloat_with_epsilon(o[0], 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(o[1], 0.75 + rho * 0.75, 1e-12);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/parego/weights", test_weights);
  g_test_add_func("/tune/parego/scalarise", test_scalarise);
  return g_test_run();
}
