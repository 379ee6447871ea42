/* tune-parego.c: ParEGO weights and the augmented Chebyshev scalarisation. */
#include "tune-parego.h"

#include <math.h>

#include "tune-random.h"

/* Keeps the weight stream apart from the other draws seeded by the study
 * seed and the trial number. */
#define PAREGO_SALT G_GUINT64_CONSTANT(0x9A4E60C0FFEE1234)

void lathe_tune_parego_weights(guint64 seed, guint trial, guint k, double *lambda) {
  LatheTuneRng rng;
  lathe_tune_rng_init(&rng, seed ^ PAREGO_SALT, trial);
  double sum = 0;
  for (guint i = 0; i < k; i++) {
    /* -log(1 - u) with u in [0, 1) is finite and > 0 or 0. */
    lambda[i] = -log1p(-lathe_tune_rng_uniform(&rng));
    sum += lambda[i];
  }
  for (guint i = 0; i < k; i++)
    lambda[i] = sum > 0 ? lambda[i] / sum : 1.0 / k;
}

void lathe_tune_parego_scalarise(const double *values, const gboolean *use, guint n, guint k,
                                  const double *lambda, double *out) {
  double *lo = g_new(double, k), *hi = g_new(double, k);
  for (guint j = 0; j < k; j++) {
    lo[j] = INFINITY;
    hi[j] = -INFINITY;
  }
  for (guint i = 0; i < n; i++)
    for (guint j = 0; use[i] && j < k; j++) {
      lo[j] = fmin(lo[j], values[(gsize)i * k + j]);
      hi[j] = fmax(hi[j], values[(gsize)i * k + j]);
    }
  for (guint i = 0; i < n; i++) {
    if (!use[i]) {
      out[i] = NAN;
      continue;
    }
    double mx = -INFINITY, sum = 0;
    for (guint j = 0; j < k; j++) {
      double range = hi[j] - lo[j];
      double f = range > 0 ? (values[(gsize)i * k + j] - lo[j]) / range : 0.0;
      mx = fmax(mx, lambda[j] * f);
      sum += lambda[j] * f;
    }
    out[i] = mx + LATHE_TUNE_PAREGO_RHO * sum;
  }
  g_free(lo);
  g_free(hi);
}
