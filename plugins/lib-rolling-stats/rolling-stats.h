/* rolling-stats.h: trailing window statistics over one series, in O(n):
 * shared by transform/rolling and transform/lags. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_rolling_moments:
 * @v: (array length=n): the series.
 * @w: the window (values up to and including i).
 * @mean: (out caller-allocates): @n trailing means.
 * @std: (out caller-allocates): @n trailing population standard deviations.
 */
void lathe_rolling_moments(const double *v, guint n, guint w, double *mean, double *std);

/**
 * lathe_rolling_extreme:
 * @sign: 1 for the trailing minimum, -1 for the maximum.
 * @queue: scratch of @n indices.
 * @out: (out caller-allocates): @n values.
 */
void lathe_rolling_extreme(const double *v, guint n, guint w, int sign, guint *queue, double *out);

G_END_DECLS
