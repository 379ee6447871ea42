/* split-plan.h: deciding which rows go to train and which to test.
 *
 * Internal to the transform-split plugin; the tests link split-plan.c directly
 * to check the allocation rules without going through a context. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * LatheSplitPlan:
 * @train: row indices of the train side, ascending.
 * @n_train: how many.
 * @test: row indices of the test side, ascending.
 * @n_test: how many.
 *
 * The outcome of lathe_split_plan_compute(); free with lathe_split_plan_free().
 */
typedef struct {
  guint32 *train;
  guint n_train;
  guint32 *test;
  guint n_test;
} LatheSplitPlan;

/**
 * lathe_split_plan_compute:
 * @ds: the dataset to split.
 * @test_fraction: the share of rows (or of groups, when @grouped) for test.
 * @stratify: keep the class proportions on both sides (needs labels).
 * @grouped: never put one group on both sides (needs groups).
 * @rng: the only source of randomness, so one seed gives one split.
 * @error: return location for a #GError.
 *
 * Follows scikit-learn: ShuffleSplit and GroupShuffleSplit take ceil(fraction
 * x count) items for test; StratifiedShuffleSplit's "approximate mode"
 * rounding decides how many of each class go to each side. With @grouped, the
 * items are the groups that occur, taken in byte order of their names (not
 * their indices or row counts), and with @stratify each is labelled by its
 * majority class (ties to the lowest index): two datasets with the same group
 * names and labels are split alike by the same stream.
 *
 * Returns: (transfer full) (nullable): the plan, or %NULL with @error set
 * (%LATHE_ERROR_INVALID for a fraction or data that cannot be split).
 */
LatheSplitPlan *lathe_split_plan_compute(const LatheDataset *ds, double test_fraction,
                                         gboolean stratify, gboolean grouped,
                                         LatheRng *rng, GError **error);

/** lathe_split_plan_free: frees @plan (nullable). */
void lathe_split_plan_free(LatheSplitPlan *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheSplitPlan, lathe_split_plan_free)

G_END_DECLS
