/* iforest-internal.h: the isolation forest shared by the plugin's files and
 * its tests (tests/plugins/model-iforest compiles the same sources). */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * LATHE_IFOREST_STATE_VERSION: the state version of saved models. 2 may hold
 * one forest per group (fit_rows: probation, "LATHEIFG"); version 1 blobs
 * (one forest) still load. A plugin that knows only 1 refuses a 2 by its
 * version instead of calling it corrupt.
 */
#define LATHE_IFOREST_STATE_VERSION 2u
/** LATHE_IFOREST_BLOB_FORMAT: the format field inside a one-forest blob. */
#define LATHE_IFOREST_BLOB_FORMAT 1u

/**
 * LatheIforest:
 * @n_features: columns the trees split on (the selected ones).
 * @n_input: columns of the training data; predict wants the same count.
 * @use: @n_features indices into the input columns, in feature order.
 * @n_trees: trees.
 * @max_samples: psi, the rows each tree was grown on (>= 2).
 * @offset: sklearn's offset_: decision_function = score_samples - offset
 *   (-0.5 for contamination "auto").
 * @contamination: the fraction used for @offset, or 0 for "auto".
 * @tree_start: @n_trees + 1 indices into the node arrays; tree t owns nodes
 *   [tree_start[t], tree_start[t+1]), its root first.
 * @feature: per node, the split column, or -1 for a leaf.
 * @threshold: per node, go left when x[feature] <= threshold; for a leaf,
 *   its path length: depth + c(leaf size).
 * @left: per node, the tree-local index of the left child; the right child
 *   is the next node (children are allocated in pairs).
 *
 * @n_groups: 0 for one forest; else this is a container of @n_groups
 *   forests (@group, one per group of the training data, named
 *   @group_names), and the fields above are unused (fit_rows "probation").
 *
 * Flat arrays rather than pointer trees: prediction is a tight loop over
 * three arrays, and the blob is these arrays verbatim.
 */
typedef struct _LatheIforest LatheIforest;
struct _LatheIforest {
  guint n_features;
  guint n_input;
  guint32 *use;
  guint n_trees;
  guint max_samples;
  double offset;
  double contamination;
  guint32 *tree_start;
  gint32 *feature;
  float *threshold;
  guint32 *left;
  guint n_groups;
  char **group_names;
  LatheIforest **group;
};

/**
 * lathe_iforest_avg_path:
 * @n: a node size.
 * Returns: c(n), the average path length of an unsuccessful search in a
 * binary search tree of @n keys: 0 for n <= 1, 1 for n = 2, else
 * 2 (ln(n-1) + Euler's gamma) - 2 (n-1)/n (as scikit-learn).
 */
double lathe_iforest_avg_path(double n);

/**
 * LatheIforestGrowParams:
 * @max_samples: psi.
 * @max_features: columns each tree sees (<= n_features).
 * @bootstrap: draw the psi rows with replacement.
 * @seed: the forest's seed; tree t uses lathe_seed_derive(seed, "tree-t").
 * @threads: worker threads (>= 1); the result does not depend on it.
 */
typedef struct {
  guint max_samples;
  guint max_features;
  gboolean bootstrap;
  guint64 seed;
  guint threads;
} LatheIforestGrowParams;

/**
 * lathe_iforest_grow:
 * @x: @n x @d row-major training data, all finite.
 * @n_trees: trees to grow.
 * Returns: (transfer full): the forest, with @offset -0.5 (auto).
 */
LatheIforest *lathe_iforest_grow(const float *x, guint n, guint d, guint n_trees,
                                 const LatheIforestGrowParams *p);

/**
 * lathe_iforest_score:
 * @f: a forest.
 * @x: @n x @f->n_features rows.
 * @threads: worker threads; the result does not depend on it.
 * @out: (out caller-allocates): @n anomaly scores s(x) = 2^(-E[h(x)] / c(psi)).
 */
void lathe_iforest_score(const LatheIforest *f, const float *x, guint n, guint threads,
                         double *out);

/**
 * lathe_iforest_percentile:
 * @v: (inout): @n values; sorted on return.
 * @q: a percentile in [0, 100].
 * Returns: numpy.percentile(v, q) with linear interpolation.
 */
double lathe_iforest_percentile(double *v, guint n, double q);

/** lathe_iforest_new: a forest using all @n_features input columns (@use = identity). */
LatheIforest *lathe_iforest_new(guint n_features, guint n_trees, guint n_nodes);
void lathe_iforest_free(LatheIforest *f);
/** lathe_iforest_n_nodes: total nodes of all trees. */
guint lathe_iforest_n_nodes(const LatheIforest *f);

GBytes *lathe_iforest_save(const LatheIforest *f);
/** lathe_iforest_load: refuses truncated, flipped or inconsistent bytes. */
LatheIforest *lathe_iforest_load(GBytes *state, guint32 version, GError **error);

/**
 * lathe_iforest_new_groups:
 * Returns: (transfer full): an empty container for @n_groups per-group forests.
 */
LatheIforest *lathe_iforest_new_groups(guint n_groups);

/**
 * lathe_iforest_probation_rows:
 * NAB's probation period of a file of @n rows: min(floor(@percent * @n),
 * @percent * 5000) rows (the rows NAB never scores).
 */
guint lathe_iforest_probation_rows(guint n, double percent);

/** lathe_iforest_save_groups: the blob of a container (format in iforest-groups.c). */
GBytes *lathe_iforest_save_groups(const LatheIforest *f);
/** lathe_iforest_load_groups: reads lathe_iforest_save_groups() bytes. */
LatheIforest *lathe_iforest_load_groups(GBytes *state, GError **error);

G_END_DECLS
