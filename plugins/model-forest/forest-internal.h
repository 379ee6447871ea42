/* forest-internal.h: the random forest shared by the component, the builder
 * and the blob code (and compiled into tests/plugins/model-forest). */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/** LATHE_FOREST_STATE_VERSION: the blob format written by lathe_forest_save(). */
#define LATHE_FOREST_STATE_VERSION 1

/** Most histogram bins per feature; codes fit in a byte. */
#define LATHE_FOREST_MAX_BINS 256

/**
 * LatheForestNode:
 * @feature: the feature tested, or -1 for a leaf.
 * @threshold: rows with x[feature] <= threshold go left.
 * @child: for a split, the left child (the right one is @child + 1, always
 *   after the node, so every walk terminates); for a leaf, its row in the
 *   value table.
 *
 * One node of the flat tree arrays; 12 bytes so deep trees stay in cache.
 */
typedef struct {
  gint32 feature;
  float threshold;
  guint32 child;
} LatheForestNode;

/** LatheForestKind: what the leaves hold. */
typedef enum {
  LATHE_FOREST_CLASSIFY = 0, /* class frequencies, n_outputs = classes */
  LATHE_FOREST_REGRESS = 1,  /* the mean target, n_outputs = 1 */
} LatheForestKind;

/**
 * LatheForest:
 * @kind: a #LatheForestKind.
 * @n_features: the features the trees test.
 * @n_inputs: the columns of the training data (a regressor's target column
 *   included); predict accepts either width.
 * @target_col: the regressor's target among the inputs, or G_MAXUINT32.
 * @n_outputs: classes, or 1.
 * @n_trees: trees; tree t owns nodes [@tree_start[t], @tree_start[t + 1]).
 * @nodes: all trees' nodes; child indices are local to their tree.
 * @values: @n_values x @n_outputs leaf values.
 * @importances: normalised impurity decrease per feature (sums to 1 unless
 *   no tree split at all).
 * @oob_score: out-of-bag accuracy or R^2, NaN when not computed.
 * @columns: the @n_inputs training column names.
 * @threads: predict threads; not saved.
 */
typedef struct {
  guint32 kind;
  guint32 n_features;
  guint32 n_inputs;
  guint32 target_col;
  guint32 n_outputs;
  guint32 n_trees;
  guint32 *tree_start;
  LatheForestNode *nodes;
  guint32 n_nodes;
  float *values;
  guint32 n_values;
  float *importances;
  double oob_score;
  char **columns;
  guint threads;
} LatheForest;

/**
 * LatheForestParams:
 *
 * Everything the builder needs, already validated by the component.
 * @max_depth: < 0 for unlimited. @n_draws: rows drawn per tree when
 * @bootstrap is on. @class_weight: per-class sample weight (classifier), or
 * %NULL for 1.
 */
typedef struct {
  LatheForestKind kind;
  gboolean entropy;
  guint n_trees;
  gint max_depth;
  guint min_split;
  guint min_leaf;
  guint max_features;
  gboolean bootstrap;
  guint n_draws;
  gboolean oob;
  guint threads;
  guint64 seed;
  const double *class_weight;
} LatheForestParams;

/**
 * lathe_forest_build:
 * @prm: the settings.
 * @x: @n x @d features, row-major, all finite.
 * @labels: (nullable): classifier labels in [0, @k).
 * @target: (nullable): regressor targets.
 * @k: classes (classifier) or 1.
 * @ctx: (nullable): for cancellation and progress, called only from this
 *   thread.
 *
 * Builds the trees in parallel, each from the seed
 * lathe_seed_derive(@prm->seed, "tree-<i>"), so the result does not depend
 * on @prm->threads. Fills everything but @n_inputs, @target_col and @columns.
 *
 * Returns: (transfer full) (nullable): the forest, or %NULL when cancelled.
 */
LatheForest *lathe_forest_build(const LatheForestParams *prm, const float *x, guint n,
                                guint d, const gint32 *labels, const float *target, guint k,
                                LatheContext *ctx, GError **error);

LatheForest *lathe_forest_new(void);
void lathe_forest_free(LatheForest *f);

/**
 * lathe_forest_predict_rows:
 * @x: @n x @f->n_features, row-major.
 * @out: @n x @f->n_outputs: the mean over trees of the leaf values.
 */
void lathe_forest_predict_rows(const LatheForest *f, const float *x, guint n, float *out);

/** lathe_forest_save: (transfer full) the portable blob. */
GBytes *lathe_forest_save(const LatheForest *f);

/**
 * lathe_forest_load:
 *
 * Refuses a truncated, altered or inconsistent blob with %LATHE_ERROR_DATA:
 * sizes, checksum and every node's references are checked.
 *
 * Returns: (transfer full) (nullable): the forest.
 */
LatheForest *lathe_forest_load(GBytes *state, guint32 version, GError **error);

G_END_DECLS
