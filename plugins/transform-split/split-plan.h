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

/**
 * lathe_split_plan_compute_keyed:
 * @group_key: (nullable): with @grouped, groups whose names share this
 *   regex's first match are one item (an inter-k folder's recordings); names
 *   it does not match stay items of their own.
 *
 * lathe_split_plan_compute() with the items keyed by @group_key; the other
 * arguments are those of lathe_split_plan_compute().
 *
 * Returns: (transfer full) (nullable): the plan, or %NULL with @error set.
 */
LatheSplitPlan *lathe_split_plan_compute_keyed(const LatheDataset *ds, double test_fraction,
                                               gboolean stratify, gboolean grouped,
                                               GRegex *group_key, LatheRng *rng,
                                               GError **error);

/**
 * lathe_split_plan_kfold:
 * @ds: the dataset to split.
 * @folds: how many folds (at least 2).
 * @fold: which one is the test side, from 0.
 * @stratify: deal each class's items to the folds in turn (needs labels).
 * @grouped: the items are groups (keyed by @group_key), never rows.
 * @group_key: (nullable): as for lathe_split_plan_compute_keyed().
 * @stratify_key: with @stratify and @group_key: within each class, the items
 *   that match @group_key (IDEKO's inter-k folders) are dealt before the
 *   others, each set shuffled apart, so every fold holds its share of both.
 * @rng: the stream; every fold of one CV must get the same one.
 * @error: return location for a #GError.
 *
 * Items (rows or groups in name order, as in lathe_split_plan_compute()) are
 * shuffled class by class and dealt to the folds by one running counter:
 * fold f holds floor or ceil of n_c/k items of class c. Fold @fold is the
 * test side, the others the train side.
 *
 * Returns: (transfer full) (nullable): the plan, or %NULL with @error set.
 */
LatheSplitPlan *lathe_split_plan_kfold(const LatheDataset *ds, guint folds, guint fold,
                                       gboolean stratify, gboolean grouped, GRegex *group_key,
                                       gboolean stratify_key, LatheRng *rng, GError **error);

/** lathe_split_plan_free: frees @plan (nullable). */
void lathe_split_plan_free(LatheSplitPlan *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheSplitPlan, lathe_split_plan_free)

G_END_DECLS
