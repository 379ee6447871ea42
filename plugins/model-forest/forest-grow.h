/* forest-grow.h: growing single trees; used by forest-build.c. */
#pragma once

#include "forest-bins.h"
#include "forest-internal.h"

G_BEGIN_DECLS

/** LatheForestGrow: what every tree of one forest reads (shared, read-only). */
typedef struct {
  const LatheForestParams *prm;
  const LatheForestBins *bins;
  const gint32 *labels; /* classifier */
  const float *target;  /* regressor */
  guint k;              /* classes, or 1 */
} LatheForestGrow;

/** LatheForestScratch: one worker's buffers, reused from tree to tree. */
typedef struct {
  guint32 *counts, *idx, *feat, *hc, *keys;
  double *w, *hist, *hw, *tot, *left, *right;
} LatheForestScratch;

/**
 * LatheForestTree:
 * @nodes: #LatheForestNode; leaves' @child index rows of @values local to
 *   this tree.
 * @values: leaf rows of k floats.
 * @importance: impurity decrease per feature (not normalised).
 * @inbag: bit i set when training row i was drawn for this tree.
 */
typedef struct {
  GArray *nodes;
  GArray *values;
  double *importance;
  guint8 *inbag;
} LatheForestTree;

LatheForestScratch *lathe_forest_scratch_new(guint n, guint d, guint k);
void lathe_forest_scratch_free(LatheForestScratch *s);
void lathe_forest_grow_tree(const LatheForestGrow *g, LatheForestScratch *s, guint tree,
                            LatheForestTree *out);
void lathe_forest_tree_clear(LatheForestTree *t);

G_END_DECLS
