/* Growing isolation trees and scoring rows with them, as scikit-learn's
 * IsolationForest: each tree is an ExtraTreeRegressor(max_features=1) grown on
 * psi sampled rows to depth ceil(log2(psi)), splitting on a random
 * non-constant feature at a threshold uniform between its node min and max.
 *
 * Trees are grown in parallel, but tree t draws only from its own stream,
 * seeded with lathe_seed_derive(seed, "tree-t"), and the trees are stored in
 * index order, so the forest is the same for any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iforest-internal.h"

#define EULER_GAMMA 0.5772156649015329

double lathe_iforest_avg_path(double n) {
  if (n <= 1.0)
    return 0.0;
  if (n <= 2.0)
    return 1.0;
  return 2.0 * (log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n;
}

LatheIforest *lathe_iforest_new(guint n_features, guint n_trees, guint n_nodes) {
  LatheIforest *f = g_new0(LatheIforest, 1);
  f->n_features = n_features;
  f->n_input = n_features;
  f->use = g_new(guint32, (gsize)n_features + 1);
  for (guint j = 0; j < n_features; j++)
    f->use[j] = j;
  f->n_trees = n_trees;
  f->offset = -0.5;
  f->tree_start = g_new0(guint32, (gsize)n_trees + 1);
  f->feature = g_new0(gint32, (gsize)n_nodes + 1);
  f->threshold = g_new0(float, (gsize)n_nodes + 1);
  f->left = g_new0(guint32, (gsize)n_nodes + 1);
  return f;
}

void lathe_iforest_free(LatheIforest *f) {
  if (!f)
    return;
  for (guint g = 0; g < f->n_groups; g++)
    lathe_iforest_free(f->group[g]);
  g_free(f->group);
  g_strfreev(f->group_names);
  g_free(f->use);
  g_free(f->tree_start);
  g_free(f->feature);
  g_free(f->threshold);
  g_free(f->left);
  g_free(f);
}

guint lathe_iforest_n_nodes(const LatheIforest *f) {
  if (f->n_groups == 0)
    return f->tree_start[f->n_trees];
  guint n = 0;
  for (guint g = 0; g < f->n_groups; g++)
    n += lathe_iforest_n_nodes(f->group[g]);
  return n;
}

/* One tree while it grows: its nodes, and the rows it isolates (copied, only
 * the tree's own columns, so the splits read a small contiguous block). */
typedef struct {
  gint32 *feature;
  float *threshold;
  guint32 *left;
  guint n_nodes;
  const float *xs; /* n x mf */
  guint mf;
  guint32 *idx;
  guint32 *feats; /* scratch: candidate features of the current node */
  guint max_depth;
  LatheRng rng;
} Grower;

static void grow_node(Grower *g, guint node, guint32 *idx, guint n, guint depth) {
  if (depth < g->max_depth && n >= 2) {
    for (guint j = 0; j < g->mf; j++)
      g->feats[j] = j;
    /* Draw features without replacement until one is not constant here
     * (sklearn's random splitter does the same). */
    for (guint left_feats = g->mf; left_feats > 0; left_feats--) {
      guint pick = (guint)lathe_rng_below(&g->rng, left_feats);
      guint j = g->feats[pick];
      g->feats[pick] = g->feats[left_feats - 1];
      float lo = g->xs[(gsize)idx[0] * g->mf + j], hi = lo;
      for (guint i = 1; i < n; i++) {
        float v = g->xs[(gsize)idx[i] * g->mf + j];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      /* sklearn calls a feature constant within 1e-7 (FEATURE_THRESHOLD) */
      if (!((double)hi > (double)lo + 1e-7))
        continue;
      float thr = (float)(lo + (hi - lo) * lathe_rng_uniform(&g->rng));
      /* rounding may land on hi, which would leave the right side empty */
      if (!(thr < hi))
        thr = lo;
      guint a = 0, b = n;
      while (a < b) {
        if (g->xs[(gsize)idx[a] * g->mf + j] <= thr) {
          a++;
        } else {
          b--;
          guint32 t = idx[a];
          idx[a] = idx[b];
          idx[b] = t;
        }
      }
      guint child = g->n_nodes;
      g->n_nodes += 2;
      g->feature[node] = (gint32)j;
      g->threshold[node] = thr;
      g->left[node] = child;
      grow_node(g, child, idx, a, depth + 1);
      grow_node(g, child + 1, idx + a, n - a, depth + 1);
      return;
    }
  }
  g->feature[node] = -1;
  g->threshold[node] = (float)(depth + lathe_iforest_avg_path(n));
  g->left[node] = 0;
}

/* A grown tree, its features mapped back to the data's columns. */
typedef struct {
  gint32 *feature;
  float *threshold;
  guint32 *left;
  guint n_nodes;
} Tree;

static int cmp_u32(const void *a, const void *b) {
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  return x < y ? -1 : x > y;
}

static void grow_tree(const float *x, guint n, guint d, guint t,
                      const LatheIforestGrowParams *p, Tree *out) {
  g_autofree char *name = g_strdup_printf("tree-%u", t);
  Grower g = {0};
  lathe_rng_init(&g.rng, lathe_seed_derive(p->seed, name));

  /* The tree's columns: all of them, or a random subset (sklearn bags
   * features per tree when max_features < n_features). */
  g_autofree guint32 *cols = g_new(guint32, d);
  for (guint j = 0; j < d; j++)
    cols[j] = j;
  if (p->max_features < d) {
    lathe_rng_shuffle(&g.rng, cols, d);
    qsort(cols, p->max_features, sizeof *cols, cmp_u32);
  }
  const guint mf = p->max_features;

  /* The rows: psi without replacement, or psi draws with replacement of
   * which sklearn keeps each drawn row once (it weights by counts, and a
   * tree's node sizes count rows of nonzero weight). */
  guint psi = p->max_samples;
  g_autofree guint32 *rows = g_new(guint32, MAX(n, psi));
  if (p->bootstrap) {
    for (guint i = 0; i < psi; i++)
      rows[i] = (guint32)lathe_rng_below(&g.rng, n);
    qsort(rows, psi, sizeof *rows, cmp_u32);
    guint u = 0;
    for (guint i = 0; i < psi; i++)
      if (u == 0 || rows[i] != rows[u - 1])
        rows[u++] = rows[i];
    psi = u;
  } else if (psi < n) {
    /* partial Fisher-Yates: the first psi of a random permutation */
    for (guint i = 0; i < n; i++)
      rows[i] = i;
    for (guint i = 0; i < psi; i++) {
      guint k = i + (guint)lathe_rng_below(&g.rng, n - i);
      guint32 tmp = rows[i];
      rows[i] = rows[k];
      rows[k] = tmp;
    }
  } else {
    for (guint i = 0; i < n; i++)
      rows[i] = i;
    psi = n;
  }

  float *xs = g_new(float, (gsize)psi * mf + 1);
  for (guint i = 0; i < psi; i++)
    for (guint j = 0; j < mf; j++)
      xs[(gsize)i * mf + j] = x[(gsize)rows[i] * d + cols[j]];
  g.xs = xs;
  g.mf = mf;
  g.idx = g_new(guint32, psi);
  for (guint i = 0; i < psi; i++)
    g.idx[i] = i;
  g.feats = g_new(guint32, mf);
  g.max_depth = (guint)ceil(log2((double)MAX(p->max_samples, 2u)));
  const guint cap = 2 * psi + 1;
  g.feature = g_new(gint32, cap);
  g.threshold = g_new(float, cap);
  g.left = g_new(guint32, cap);
  g.n_nodes = 1;
  grow_node(&g, 0, g.idx, psi, 0);
  for (guint k = 0; k < g.n_nodes; k++)
    if (g.feature[k] >= 0)
      g.feature[k] = (gint32)cols[g.feature[k]];
  out->feature = g.feature;
  out->threshold = g.threshold;
  out->left = g.left;
  out->n_nodes = g.n_nodes;
  g_free(xs);
  g_free(g.idx);
  g_free(g.feats);
}

typedef struct {
  const float *x;
  guint n, d, n_trees;
  const LatheIforestGrowParams *p;
  Tree *trees;
  gint next;
} GrowJob;

static gpointer grow_worker(gpointer data) {
  GrowJob *job = data;
  for (;;) {
    guint t = (guint)g_atomic_int_add(&job->next, 1);
    if (t >= job->n_trees)
      break;
    grow_tree(job->x, job->n, job->d, t, job->p, &job->trees[t]);
  }
  return NULL;
}

/* Runs @fn on @threads threads (the caller's being one of them). */
static void run_parallel(GThreadFunc fn, gpointer job, guint threads) {
  GThread **pool = g_new0(GThread *, threads);
  for (guint i = 1; i < threads; i++)
    pool[i] = g_thread_new("iforest", fn, job);
  fn(job);
  for (guint i = 1; i < threads; i++)
    g_thread_join(pool[i]);
  g_free(pool);
}

LatheIforest *lathe_iforest_grow(const float *x, guint n, guint d, guint n_trees,
                                 const LatheIforestGrowParams *p) {
  GrowJob job = {.x = x, .n = n, .d = d, .n_trees = n_trees, .p = p,
                 .trees = g_new0(Tree, n_trees)};
  run_parallel(grow_worker, &job, CLAMP(p->threads, 1u, MAX(n_trees, 1u)));
  guint total = 0;
  for (guint t = 0; t < n_trees; t++)
    total += job.trees[t].n_nodes;
  LatheIforest *f = lathe_iforest_new(d, n_trees, total);
  f->max_samples = p->max_samples;
  guint at = 0;
  for (guint t = 0; t < n_trees; t++) {
    Tree *tr = &job.trees[t];
    f->tree_start[t] = at;
    memcpy(f->feature + at, tr->feature, tr->n_nodes * sizeof(gint32));
    memcpy(f->threshold + at, tr->threshold, tr->n_nodes * sizeof(float));
    memcpy(f->left + at, tr->left, tr->n_nodes * sizeof(guint32));
    at += tr->n_nodes;
    g_free(tr->feature);
    g_free(tr->threshold);
    g_free(tr->left);
  }
  f->tree_start[n_trees] = at;
  g_free(job.trees);
  return f;
}

/* Rows per scoring task. */
#define SCORE_BLOCK 1024

typedef struct {
  const LatheIforest *f;
  const float *x;
  guint n;
  double *out;
  gint next;
} ScoreJob;

static double score_row(const LatheIforest *f, const float *row, double norm) {
  double sum = 0.0;
  for (guint t = 0; t < f->n_trees; t++) {
    const guint32 base = f->tree_start[t];
    const gint32 *feat = f->feature + base;
    const float *thr = f->threshold + base;
    const guint32 *left = f->left + base;
    guint k = 0;
    while (feat[k] >= 0)
      k = left[k] + (row[feat[k]] <= thr[k] ? 0u : 1u);
    sum += thr[k];
  }
  return exp2(-sum * norm);
}

static gpointer score_worker(gpointer data) {
  ScoreJob *job = data;
  const LatheIforest *f = job->f;
  const double norm = 1.0 / ((double)f->n_trees * lathe_iforest_avg_path(f->max_samples));
  for (;;) {
    guint b = (guint)g_atomic_int_add(&job->next, 1);
    if ((guint64)b * SCORE_BLOCK >= job->n)
      break;
    guint first = b * SCORE_BLOCK, last = MIN(job->n, first + SCORE_BLOCK);
    for (guint r = first; r < last; r++)
      job->out[r] = score_row(f, job->x + (gsize)r * f->n_features, norm);
  }
  return NULL;
}

void lathe_iforest_score(const LatheIforest *f, const float *x, guint n, guint threads,
                         double *out) {
  ScoreJob job = {.f = f, .x = x, .n = n, .out = out};
  guint blocks = (n + SCORE_BLOCK - 1) / SCORE_BLOCK;
  run_parallel(score_worker, &job, CLAMP(threads, 1u, MAX(blocks, 1u)));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double lathe_iforest_percentile(double *v, guint n, double q) {
  qsort(v, n, sizeof *v, cmp_double);
  if (n == 1)
    return v[0];
  double pos = q / 100.0 * (n - 1);
  guint lo = (guint)floor(pos);
  if (lo >= n - 1)
    return v[n - 1];
  double frac = pos - lo;
  return v[lo] + (v[lo + 1] - v[lo]) * frac;
}
