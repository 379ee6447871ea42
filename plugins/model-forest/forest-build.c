/* Building a forest: trees in parallel, then flattened in tree order.
 *
 * Workers claim tree numbers from a counter and write into that tree's own
 * slot; only this thread talks to the context (progress, cancellation), as
 * the SDK asks. The out-of-bag pass splits rows between threads and sums
 * trees in tree order, so no result depends on the thread count. */
#include <math.h>
#include <string.h>

#include "forest-grow.h"
#include "forest-pool.h"

LatheForest *lathe_forest_new(void) {
  LatheForest *f = g_new0(LatheForest, 1);
  f->target_col = G_MAXUINT32;
  f->oob_score = NAN;
  f->threads = 1;
  return f;
}

void lathe_forest_free(LatheForest *f) {
  if (!f)
    return;
  g_free(f->tree_start);
  g_free(f->nodes);
  g_free(f->values);
  g_free(f->importances);
  g_strfreev(f->columns);
  g_free(f->steps);
  g_free(f);
}

/* ---- growing ---------------------------------------------------------------- */

typedef struct {
  LatheForestGrow grow;
  LatheForestTree *trees;
} GrowJob;

static gpointer grow_scratch_new(gpointer data) {
  GrowJob *job = data;
  return lathe_forest_scratch_new(job->grow.bins->n, job->grow.bins->d, job->grow.k);
}

static void grow_one(gpointer data, guint tree, gpointer scratch) {
  GrowJob *job = data;
  lathe_forest_grow_tree(&job->grow, scratch, tree, &job->trees[tree]);
}

/* Concatenates the trees; leaf indices become rows of the global table. */
static void flatten(LatheForest *f, LatheForestTree *trees, guint d) {
  const guint width = f->n_outputs;
  guint64 nodes = 0, values = 0;
  for (guint t = 0; t < f->n_trees; t++) {
    nodes += trees[t].nodes->len;
    values += trees[t].values->len;
  }
  f->tree_start = g_new(guint32, f->n_trees + 1);
  f->nodes = g_new(LatheForestNode, nodes + 1);
  f->values = g_new(float, values + 1);
  f->n_nodes = (guint32)nodes;
  f->n_values = (guint32)(values / width);
  guint32 node_at = 0, row_at = 0;
  for (guint t = 0; t < f->n_trees; t++) {
    GArray *tn = trees[t].nodes, *tv = trees[t].values;
    f->tree_start[t] = node_at;
    for (guint i = 0; i < tn->len; i++) {
      LatheForestNode nd = g_array_index(tn, LatheForestNode, i);
      if (nd.feature < 0)
        nd.child += row_at;
      f->nodes[node_at + i] = nd;
    }
    memcpy(f->values + (gsize)row_at * width, tv->data, tv->len * sizeof(float));
    node_at += tn->len;
    row_at += tv->len / width;
  }
  f->tree_start[f->n_trees] = node_at;

  /* As scikit-learn: each tree's decreases normalised, averaged over the
   * trees that split at all, normalised again. */
  double *imp = g_new0(double, (gsize)d + 1);
  for (guint t = 0; t < f->n_trees; t++) {
    double s = 0.0;
    for (guint j = 0; j < d; j++)
      s += trees[t].importance[j];
    if (trees[t].nodes->len <= 1 || !(s > 0.0))
      continue;
    for (guint j = 0; j < d; j++)
      imp[j] += trees[t].importance[j] / s;
  }
  double total = 0.0;
  for (guint j = 0; j < d; j++)
    total += imp[j];
  f->importances = g_new0(float, (gsize)d + 1);
  for (guint j = 0; j < d; j++)
    f->importances[j] = total > 0.0 ? (float)(imp[j] / total) : 0.0f;
  g_free(imp);
}

/* ---- out of bag --------------------------------------------------------------- */

/* One row down one tree: its leaf's row in the value table. */
static inline guint32 walk(const LatheForestNode *t, const float *row) {
  guint32 i = 0;
  while (t[i].feature >= 0)
    i = t[i].child + (row[t[i].feature] > t[i].threshold);
  return t[i].child;
}

/* Rows per out-of-bag work item: one per thread, at least OOB_MIN_CHUNK. */
#define OOB_MIN_CHUNK 2048u

static guint oob_chunk(guint n, guint threads) {
  guint per = (guint)(((guint64)n + threads - 1) / MAX(threads, 1u));
  return MAX(per, OOB_MIN_CHUNK);
}

typedef struct {
  const LatheForest *f;
  const float *x;
  guint n;
  guint chunk;
  LatheForestTree *trees;
  double *sums; /* n x width */
  guint32 *votes;
} OobJob;

static void oob_block(gpointer data, guint block, gpointer scratch) {
  OobJob *job = data;
  const LatheForest *f = job->f;
  const guint width = f->n_outputs, d = f->n_features;
  const guint first = block * job->chunk, last = MIN(first + job->chunk, job->n);
  for (guint t = 0; t < f->n_trees; t++) {
    const LatheForestNode *tree = f->nodes + f->tree_start[t];
    const guint8 *inbag = job->trees[t].inbag;
    for (guint r = first; r < last; r++) {
      if (inbag[r >> 3] & (1u << (r & 7)))
        continue;
      const float *v = f->values + (gsize)walk(tree, job->x + (gsize)r * d) * width;
      for (guint c = 0; c < width; c++)
        job->sums[(gsize)r * width + c] += v[c];
      job->votes[r]++;
    }
  }
}

/* Accuracy (classifier) or R^2 (regressor) of the trees that did not see
 * each row, over the rows that some tree left out. */
static double oob_score(LatheForest *f, LatheForestTree *trees, const float *x, guint n,
                        const gint32 *labels, const float *target, guint threads,
                        guint *n_scored) {
  const guint width = f->n_outputs;
  OobJob job = {.f = f, .x = x, .n = n, .chunk = oob_chunk(n, threads), .trees = trees,
                .sums = g_new0(double, (gsize)n * width + 1), .votes = g_new0(guint32, n + 1)};
  LatheForestPool pool = {.func = oob_block, .data = &job,
                          .n_items = (n + job.chunk - 1) / job.chunk};
  lathe_forest_pool_run(&pool, threads, NULL, NULL);
  guint scored = 0, right = 0;
  double mean = 0.0;
  for (guint r = 0; r < n; r++) {
    if (!job.votes[r])
      continue;
    scored++;
    if (target) {
      mean += target[r];
      continue;
    }
    const double *s = job.sums + (gsize)r * width;
    guint best = 0;
    for (guint c = 1; c < width; c++)
      if (s[c] > s[best])
        best = c;
    right += (gint32)best == labels[r];
  }
  double score = NAN;
  if (scored > 0 && !target) {
    score = (double)right / scored;
  } else if (scored > 1) {
    mean /= scored;
    double ss_res = 0.0, ss_tot = 0.0;
    for (guint r = 0; r < n; r++) {
      if (!job.votes[r])
        continue;
      double pred = job.sums[r] / job.votes[r];
      ss_res += (target[r] - pred) * (target[r] - pred);
      ss_tot += (target[r] - mean) * (target[r] - mean);
    }
    score = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : NAN;
  }
  *n_scored = scored;
  g_free(job.sums);
  g_free(job.votes);
  return score;
}

/* ---- the whole build --------------------------------------------------------------- */

static void scratch_free(gpointer s) { lathe_forest_scratch_free(s); }

LatheForest *lathe_forest_build(const LatheForestParams *prm, const float *x, guint n,
                                guint d, const gint32 *labels, const float *target, guint k,
                                LatheContext *ctx, GError **error) {
  LatheForestBins *bins = lathe_forest_bins_new(x, n, d, prm->threads);
  GrowJob job = {.grow = {.prm = prm, .bins = bins, .labels = labels, .target = target, .k = k},
                 .trees = g_new0(LatheForestTree, prm->n_trees)};
  LatheForestPool pool = {.func = grow_one, .data = &job, .n_items = prm->n_trees,
                          .scratch_new = grow_scratch_new, .scratch_free = scratch_free};
  gboolean ok = lathe_forest_pool_run(&pool, prm->threads, ctx, "tree");
  lathe_forest_bins_free(bins);
  LatheForest *f = NULL;
  if (!ok) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED,
                "cancelled after %u of %u trees", pool.done, prm->n_trees);
  } else {
    f = lathe_forest_new();
    f->kind = prm->kind;
    f->n_features = d;
    f->n_outputs = k;
    f->n_trees = prm->n_trees;
    f->threads = MAX(prm->threads, 1u);
    flatten(f, job.trees, d);
    lathe_forest_prepare(f);
    if (prm->bootstrap && prm->oob) {
      guint scored = 0;
      f->oob_score = oob_score(f, job.trees, x, n, labels, target, prm->threads, &scored);
      if (ctx && scored < n)
        lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                          "%u of %u rows were drawn by every tree and have no out-of-bag "
                          "prediction; the OOB score leaves them out",
                          n - scored, n);
    }
  }
  for (guint t = 0; t < prm->n_trees; t++)
    lathe_forest_tree_clear(&job.trees[t]);
  g_free(job.trees);
  return f;
}
