/* cv-stats.h: the statistics evaluator/cv reports over folds.
 *
 * Internal to the evaluator-cv plugin; its test links cv-stats.c directly to
 * check the numbers against values computed by hand. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheCvStats:
 * @n: how many folds.
 * @mean: their mean.
 * @std: their sample standard deviation (n - 1); 0 for one fold.
 * @min: the smallest.
 * @max: the largest.
 * @ci95_low: mean - t(0.975, n - 1) * std / sqrt(n).
 * @ci95_high: mean + t(0.975, n - 1) * std / sqrt(n).
 */
typedef struct {
  guint n;
  double mean, std, min, max, ci95_low, ci95_high;
} LatheCvStats;

/**
 * lathe_cv_t975:
 * @df: degrees of freedom, at least 1.
 *
 * Returns: Student's t quantile at 0.975 (two-sided 95%), from a table for
 * df up to 30 and the normal 1.96 beyond.
 */
double lathe_cv_t975(guint df);

/**
 * lathe_cv_stats:
 * @v: the per-fold values.
 * @n: how many (at least 1).
 *
 * Returns: their summary; with one value the interval is that value.
 */
LatheCvStats lathe_cv_stats(const double *v, guint n);

G_END_DECLS
