/* rolling-stats.h: trailing window statistics over one series, in O(n):
 * shared by transform/rolling and transform/lags. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The statistics both transforms offer, in the order of their names. */
enum { LATHE_STAT_MEAN, LATHE_STAT_STD, LATHE_STAT_MIN, LATHE_STAT_MAX, LATHE_N_STATS };

/* Their names, as the "stats" param lists them (NULL-terminated). */
extern const char *const lathe_rolling_stat_names[];

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
