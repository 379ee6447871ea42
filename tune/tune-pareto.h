/* tune-pareto.h: Pareto fronts of multi-objective studies (all objectives
 * minimised): non-dominated sorting, NSGA-II crowding distance, and the
 * 2-objective hypervolume for reports. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_tune_pareto_dominates:
 * @a: (array): @k objective values.
 * @b: (array): @k objective values.
 * @k: the number of objectives.
 *
 * Returns: whether @a is no worse than @b in every objective and better in
 *   at least one.
 */
gboolean lathe_tune_pareto_dominates(const double *a, const double *b, guint k);

/**
 * lathe_tune_pareto_ranks:
 * @y: (array): @n rows of @k objective values, row-major.
 * @n: the number of points.
 * @k: the number of objectives (>= 1).
 * @rank_out: (out caller-allocates) (array length=n): the front of each
 *   point, 0 for the non-dominated ones; G_MAXUINT for rows with a NAN or
 *   infinite value, which take no part.
 *
 * Non-dominated sorting (Deb et al.'s fast version, O(k n^2)). Equal points
 * share a front.
 *
 * Returns: the number of fronts.
 */
guint lathe_tune_pareto_ranks(const double *y, guint n, guint k, guint *rank_out);

/**
 * lathe_tune_pareto_front:
 * @y: (array): @n rows of @k objective values.
 * @n: the number of points.
 * @k: the number of objectives.
 * @idx_out: (out caller-allocates) (array): receives up to @n indices, in
 *   increasing order.
 *
 * The first front: the indices of the points no other point dominates
 * (rows with a NAN or infinite value excluded).
 *
 * Returns: the number of indices written.
 */
guint lathe_tune_pareto_front(const double *y, guint n, guint k, guint *idx_out);

/**
 * lathe_tune_pareto_crowding:
 * @y: (array): rows of @k objective values.
 * @k: the number of objectives.
 * @idx: (array length=m): the rows of one front.
 * @m: the number of rows in the front.
 * @dist_out: (out caller-allocates) (array length=m): the crowding
 *   distance of each, in the order of @idx.
 *
 * NSGA-II's crowding distance: for each objective, the extreme points get
 * infinity and the others the gap between their neighbours divided by the
 * objective's range (objectives with zero range add nothing).
 */
void lathe_tune_pareto_crowding(const double *y, guint k, const guint *idx, guint m,
                                double *dist_out);

/**
 * lathe_tune_pareto_hypervolume2:
 * @y: (array): @n rows of 2 objective values.
 * @n: the number of points.
 * @ref: (array fixed-size=2): the reference point.
 *
 * The area dominated by the points and bounded by @ref; points that do not
 * strictly dominate @ref (or hold NAN) add nothing.
 *
 * Returns: the hypervolume, >= 0.
 */
double lathe_tune_pareto_hypervolume2(const double *y, guint n, const double *ref);

G_END_DECLS
