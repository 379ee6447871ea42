/* The t-based interval over folds. Folds share most of their training data,
 * so their scores are not independent and this interval is narrower than the
 * truth (Nadeau and Bengio, 2003); docs/cv.md says so. It is still the
 * honest minimum beside a single split's one number. */
#include <math.h>

#include "cv-stats.h"

/* Student's t, 0.975 quantile, df = 1..30 (any statistics table). */
static const double t975[] = {12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646,
                              2.3060,  2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448,
                              2.1314,  2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796,
                              2.0739,  2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484,
                              2.0452,  2.0423};

double lathe_cv_t975(guint df) {
  if (df == 0)
    return NAN;
  return df <= G_N_ELEMENTS(t975) ? t975[df - 1] : 1.96;
}

LatheCvStats lathe_cv_stats(const double *v, guint n) {
  LatheCvStats s = {.n = n, .min = INFINITY, .max = -INFINITY};
  double sum = 0;
  for (guint i = 0; i < n; i++) {
    sum += v[i];
    s.min = MIN(s.min, v[i]);
    s.max = MAX(s.max, v[i]);
  }
  s.mean = n ? sum / n : NAN;
  double ss = 0;
  for (guint i = 0; i < n; i++)
    ss += (v[i] - s.mean) * (v[i] - s.mean);
  s.std = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
  double half = n > 1 ? lathe_cv_t975(n - 1) * s.std / sqrt((double)n) : 0.0;
  s.ci95_low = s.mean - half;
  s.ci95_high = s.mean + half;
  return s;
}
