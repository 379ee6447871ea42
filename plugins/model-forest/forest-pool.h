/* forest-pool.h: running the items of one job on a few threads; used to
 * grow trees, score out-of-bag rows and predict. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/** LatheForestItemFunc: does item @item of the job @data with a worker's @scratch. */
typedef void (*LatheForestItemFunc)(gpointer data, guint item, gpointer scratch);

/**
 * LatheForestPool:
 * @func: called once per item, from a worker thread.
 * @data: the job, shared by every worker.
 * @n_items: items 0 .. @n_items - 1, claimed in order.
 * @scratch_new: (nullable): a worker's scratch, made once per worker.
 * @scratch_free: (nullable): frees what @scratch_new made.
 * @done: items finished (read it after lathe_forest_pool_run()).
 *
 * Set the first five fields, zero the rest.
 */
typedef struct {
  LatheForestItemFunc func;
  gpointer data;
  guint n_items;
  gpointer (*scratch_new)(gpointer data);
  GDestroyNotify scratch_free;
  /* < private > */
  gint next;
  gint stop;
  GMutex lock;
  GCond cond;
  guint done;
} LatheForestPool;

/**
 * lathe_forest_pool_run:
 * @threads: workers, at most one per item.
 * @ctx: (nullable): progress is reported and cancellation polled on it,
 *   from this thread only, as the SDK asks.
 * @what: (nullable): the progress note's noun ("tree" gives "tree 3/100").
 *
 * Runs every item and returns when all are done.
 *
 * Returns: %FALSE when @ctx was cancelled (some items were then not run).
 */
gboolean lathe_forest_pool_run(LatheForestPool *pool, guint threads, LatheContext *ctx,
                               const char *what);

G_END_DECLS
