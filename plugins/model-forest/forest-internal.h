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

/**
 * LatheForestStep:
 * @feature: the feature tested; 0 on a leaf.
 * @threshold: as #LatheForestNode; +infinity on a leaf.
 * @next: the left child; on a leaf, the leaf itself.
 *
 * A node as prediction walks it, tree-local like #LatheForestNode: a leaf
 * loops to itself (no value passes x > +infinity), so a block of rows steps
 * down a tree without a branch per row, until no row moves.
 */
typedef struct {
  guint32 feature;
  float threshold;
  guint32 next;
} LatheForestStep;

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
 * @steps: @nodes as prediction walks them (leaves' value rows stay in
 *   @nodes); made by lathe_forest_prepare(), not saved.
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
  LatheForestStep *steps;
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
 * lathe_forest_prepare:
 *
 * Makes @f->steps from @f->nodes (again, if they changed). Building and
 * loading a forest do it; prediction needs it.
 */
void lathe_forest_prepare(LatheForest *f);

/**
 * lathe_forest_predict_rows:
 * @x: @n x @f->n_features, row-major.
 * @out: @n x @f->n_outputs: the mean over trees of the leaf values.
 *
 * Uses @f->threads workers when there is enough to do, and the tiling of
 * lathe_forest_tiling_default(). Every output is the trees' leaf values
 * summed in tree order from 0, times 1 / n_trees: the same bits whatever
 * the threads and tiling.
 */
void lathe_forest_predict_rows(const LatheForest *f, const float *x, guint n, float *out);

/**
 * LatheForestTiling:
 * @threads: workers; 1 predicts on the calling thread.
 * @chunk_rows: rows per work item (what a worker claims at a time).
 * @tile_rows: rows that walk a whole group of trees before the next rows.
 * @group_bytes: most node bytes in a group of consecutive trees (a larger
 *   tree is a group of its own).
 *
 * How lathe_forest_predict_tiled() splits its work; it changes the speed,
 * never the result. Zero rows are taken as 1.
 */
typedef struct {
  guint threads;
  guint chunk_rows;
  guint tile_rows;
  gsize group_bytes;
} LatheForestTiling;

/** lathe_forest_tiling_default: the tiling lathe_forest_predict_rows() uses for @n rows. */
void lathe_forest_tiling_default(const LatheForest *f, guint n, LatheForestTiling *tiling);

/** lathe_forest_predict_tiled: lathe_forest_predict_rows() with a given tiling. */
void lathe_forest_predict_tiled(const LatheForest *f, const float *x, guint n, float *out,
                                const LatheForestTiling *tiling);

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
