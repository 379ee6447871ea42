/* rolling-stats.c: trailing window statistics, shared by transform/rolling
 * and transform/lags (compiled into both). */
#include "rolling-stats.h"

#include <math.h>

const char *const lathe_rolling_stat_names[] = {"mean", "std", "min", "max", NULL};

/* Trailing mean and population std of @v[0..n) over @w values. */
void lathe_rolling_moments(const double *v, guint n, guint w, double *mean, double *std) {
  double shift = 0.0, s1 = 0.0, s2 = 0.0;
  guint since = w, prev_lo = 0;
  for (guint i = 0; i < n; i++) {
    guint lo = i + 1 >= w ? i + 1 - w : 0;
    if (since >= w) {
      shift = v[i];
      s1 = s2 = 0.0;
      for (guint j = lo; j <= i; j++) {
        double d = v[j] - shift;
        s1 += d;
        s2 += d * d;
      }
      since = 0;
    } else {
      double d = v[i] - shift;
      s1 += d;
      s2 += d * d;
      if (lo > prev_lo) {
        d = v[prev_lo] - shift;
        s1 -= d;
        s2 -= d * d;
      }
    }
    since++;
    prev_lo = lo;
    double count = (double)(i - lo + 1), m = s1 / count;
    double var = s2 / count - m * m;
    mean[i] = shift + m;
    std[i] = var > 0.0 ? sqrt(var) : 0.0;
  }
}

/* Trailing min (@sign 1) or max (@sign -1) of @v[0..n) over @w values, with a
 * queue of indices whose values only rise (for min); @queue holds n. */
void lathe_rolling_extreme(const double *v, guint n, guint w, int sign, guint *queue,
                            double *out) {
  guint head = 0, tail = 0;
  for (guint i = 0; i < n; i++) {
    while (tail > head && sign * v[queue[tail - 1]] >= sign * v[i])
      tail--;
    queue[tail++] = i;
    guint lo = i + 1 >= w ? i + 1 - w : 0;
    while (queue[head] < lo)
      head++;
    out[i] = v[queue[head]];
  }
}
