/* Prediction: for every row, the mean over the trees of its leaf's values.
 *
 * The work is tiled so that trees and rows both stay in the core's caches.
 * A work item (a range of rows, claimed by one worker) walks the trees
 * group by group, a group being consecutive trees spanning at most
 * GROUP_BYTES of nodes; every tile of the item's rows (about TILE_BYTES of
 * features) walks all the trees of a group before the next tile; inside a
 * tile, blocks of BLOCK rows walk one tree in lockstep. Walking each tree
 * over all of a thread's rows instead read the whole input from memory once
 * per tree: on digits (64 features, 100 trees, 100000 rows) that was 2.5 GB
 * of traffic and most of the time.
 *
 * Each row's sum still adds the trees in tree order starting from 0, then
 * is multiplied by 1 / n_trees, whatever the tiling and the thread count:
 * the result is bit-identical to a plain walk of one row at a time. */
#include <math.h>
#include <string.h>

#include "forest-internal.h"
#include "forest-pool.h"

/* Rows walking one tree in lockstep. */
#define BLOCK 64u
/* Node bytes per group of trees: the group stays in the core's cache while
 * every tile of an item walks it (a digits forest is ~400 KB, a deep one on
 * 160000 rows ~25 MB). */
#define GROUP_BYTES (256u * 1024u)
/* Feature bytes per tile: the rows that walk a whole group together. */
#define TILE_BYTES (64u * 1024u)
/* Items per thread, so a worker slowed by other processes does not hold up
 * the rest, and the least rows per item. */
#define ITEMS_PER_THREAD 4u
#define MIN_CHUNK 2048u

void lathe_forest_tiling_default(const LatheForest *f, guint n, LatheForestTiling *t) {
  /* Threads only pay off when there is enough walking to share. */
  guint threads = (guint64)n * f->n_trees >= 20000 ? MAX(f->threads, 1u) : 1u;
  guint tile = TILE_BYTES / (MAX(f->n_features, 1u) * (guint)sizeof(float));
  tile = MAX(tile / BLOCK, 1u) * BLOCK;
  guint chunk = MAX(n, 1u);
  if (threads > 1) {
    guint64 per = ((guint64)n + threads * ITEMS_PER_THREAD - 1) / (threads * ITEMS_PER_THREAD);
    chunk = (guint)MIN(((MAX(per, MIN_CHUNK) + tile - 1) / tile) * tile, (guint64)G_MAXUINT);
  }
  *t = (LatheForestTiling){
      .threads = threads, .chunk_rows = chunk, .tile_rows = tile, .group_bytes = GROUP_BYTES};
}

typedef struct {
  const LatheForest *f;
  const float *x;
  guint n;
  LatheForestTiling t;
  float *out;
} PredictJob;

void lathe_forest_prepare(LatheForest *f) {
  g_free(f->steps);
  f->steps = g_new(LatheForestStep, (gsize)f->n_nodes + 1);
  for (guint t = 0; t < f->n_trees; t++) {
    for (guint32 i = f->tree_start[t]; i < f->tree_start[t + 1]; i++) {
      const LatheForestNode *nd = &f->nodes[i];
      f->steps[i] = nd->feature < 0
                        ? (LatheForestStep){0, INFINITY, i - f->tree_start[t]}
                        : (LatheForestStep){(guint32)nd->feature, nd->threshold, nd->child};
    }
  }
}

/* Adds the leaf values of tree @t for rows [first, first + nb) to @out.
 * The walks are independent chains of loads, so running a block of them in
 * lockstep lets the CPU overlap them; leaves loop to themselves, so a step
 * is the same few instructions for every row, with no branch on whether a
 * row has reached its leaf (unpredictable: on rows in random order, the
 * mispredictions doubled the time of shallow trees). */
static void walk_block(const LatheForest *f, guint t, const float *x, guint first, guint nb,
                       float *out) {
  const guint width = f->n_outputs, d = f->n_features;
  const LatheForestStep *tree = f->steps + f->tree_start[t];
  guint32 at[BLOCK];
  const float *row[BLOCK];
  for (guint r = 0; r < nb; r++) {
    at[r] = 0;
    row[r] = x + (gsize)(first + r) * d;
  }
  guint32 moved;
  do {
    moved = 0;
    for (guint r = 0; r < nb; r++) {
      const LatheForestStep *s = &tree[at[r]];
      const guint32 next = s->next + (row[r][s->feature] > s->threshold);
      moved |= next ^ at[r];
      at[r] = next;
    }
  } while (moved);
  const LatheForestNode *leaves = f->nodes + f->tree_start[t];
  for (guint r = 0; r < nb; r++) {
    const float *v = f->values + (gsize)leaves[at[r]].child * width;
    float *o = out + (gsize)(first + r) * width;
    for (guint c = 0; c < width; c++)
      o[c] += v[c];
  }
}

static void predict_item(gpointer data, guint item, gpointer scratch) {
  PredictJob *job = data;
  const LatheForest *f = job->f;
  const guint width = f->n_outputs, tile = job->t.tile_rows;
  const guint first = (guint)MIN((guint64)item * job->t.chunk_rows, job->n);
  const guint last = (guint)MIN((guint64)first + job->t.chunk_rows, job->n);
  memset(job->out + (gsize)first * width, 0, (gsize)(last - first) * width * sizeof(float));
  for (guint g0 = 0, g1; g0 < f->n_trees; g0 = g1) {
    for (g1 = g0 + 1; g1 < f->n_trees; g1++)
      if ((gsize)(f->tree_start[g1 + 1] - f->tree_start[g0]) * sizeof(LatheForestNode) >
          job->t.group_bytes)
        break;
    for (guint r0 = first; r0 < last; r0 += MIN(tile, last - r0)) {
      const guint r1 = r0 + MIN(tile, last - r0);
      for (guint t = g0; t < g1; t++)
        for (guint b = r0; b < r1; b += BLOCK)
          walk_block(f, t, job->x, b, MIN(BLOCK, r1 - b), job->out);
    }
  }
  const float inv = 1.0f / (float)f->n_trees;
  for (gsize i = (gsize)first * width; i < (gsize)last * width; i++)
    job->out[i] *= inv;
}

void lathe_forest_predict_tiled(const LatheForest *f, const float *x, guint n, float *out,
                                const LatheForestTiling *tiling) {
  PredictJob job = {.f = f, .x = x, .n = n, .t = *tiling, .out = out};
  job.t.chunk_rows = MAX(job.t.chunk_rows, 1u);
  job.t.tile_rows = MAX(job.t.tile_rows, 1u);
  LatheForestPool pool = {.func = predict_item, .data = &job,
                          .n_items = (guint)(((guint64)n + job.t.chunk_rows - 1) /
                                             job.t.chunk_rows)};
  if (job.t.threads <= 1 || pool.n_items <= 1) {
    for (guint i = 0; i < pool.n_items; i++)
      predict_item(&job, i, NULL);
    return;
  }
  lathe_forest_pool_run(&pool, job.t.threads, NULL, NULL);
}

void lathe_forest_predict_rows(const LatheForest *f, const float *x, guint n, float *out) {
  LatheForestTiling t;
  lathe_forest_tiling_default(f, n, &t);
  lathe_forest_predict_tiled(f, x, n, out, &t);
}
