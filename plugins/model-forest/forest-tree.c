/* Growing one tree on the binned data.
 *
 * Depth-first with an explicit stack; a node's rows are a range of the index
 * array, partitioned in place when it splits. Candidate splits are the
 * boundaries between the codes present in the node: large nodes gather a
 * histogram per feature (linear in the rows), small ones sort their codes
 * (cheaper than sweeping 256 bins for a handful of rows). Both find the same
 * candidates and keep the first best one, in the order features were drawn.
 *
 * Everything random comes from the tree's own stream, and the scratch is
 * reset per tree, so a tree is the same whichever worker grows it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forest-grow.h"

/* Nodes with fewer rows than this sort their codes instead of a histogram. */
#define SMALL_NODE 128u

typedef struct {
  guint start, end, depth, node;
} Pending;

LatheForestScratch *lathe_forest_scratch_new(guint n, guint d, guint k) {
  LatheForestScratch *s = g_new0(LatheForestScratch, 1);
  const guint width = k; /* classes, or 1 (sum of w*y) for regression */
  s->counts = g_new(guint32, (gsize)n + 1);
  s->w = g_new(double, (gsize)n + 1);
  s->idx = g_new(guint32, (gsize)n + 1);
  s->feat = g_new(guint32, (gsize)d + 1);
  s->hist = g_new0(double, (gsize)LATHE_FOREST_MAX_BINS * width);
  s->hw = g_new0(double, LATHE_FOREST_MAX_BINS);
  s->hc = g_new0(guint32, LATHE_FOREST_MAX_BINS);
  s->keys = g_new(guint32, SMALL_NODE);
  s->tot = g_new(double, width);
  s->left = g_new(double, width);
  s->right = g_new(double, width);
  return s;
}

void lathe_forest_scratch_free(LatheForestScratch *s) {
  if (!s)
    return;
  g_free(s->counts);
  g_free(s->w);
  g_free(s->idx);
  g_free(s->feat);
  g_free(s->hist);
  g_free(s->hw);
  g_free(s->hc);
  g_free(s->keys);
  g_free(s->tot);
  g_free(s->left);
  g_free(s->right);
  g_free(s);
}

/* The split criterion's proxy for one side: larger is purer. The impurity
 * decrease of a split is proxy(left) + proxy(right) - proxy(parent), each
 * being -(weight x impurity) up to a term that cancels. */
static double proxy(const LatheForestGrow *g, const double *stats, double w) {
  if (w <= 0.0)
    return 0.0;
  if (g->prm->kind == LATHE_FOREST_REGRESS)
    return stats[0] * stats[0] / w;
  double s = 0.0;
  if (g->prm->entropy) {
    for (guint c = 0; c < g->k; c++)
      if (stats[c] > 0.0)
        s += stats[c] * log(stats[c]);
    return s - w * log(w);
  }
  for (guint c = 0; c < g->k; c++)
    s += stats[c] * stats[c];
  return s / w;
}

typedef struct {
  gint feature;
  guint code; /* last code on the left */
  double score;
} Best;

/* Scores the boundary after the rows accumulated in s->left. */
static void consider(const LatheForestGrow *g, LatheForestScratch *s, double lw, guint f,
                     guint code, double w_tot, Best *best) {
  const guint width = g->k;
  for (guint c = 0; c < width; c++)
    s->right[c] = s->tot[c] - s->left[c];
  double score = proxy(g, s->left, lw) + proxy(g, s->right, w_tot - lw);
  if (best->feature < 0 || score > best->score)
    *best = (Best){.feature = (gint)f, .code = code, .score = score};
}

static void add_row(const LatheForestGrow *g, double *stats, guint32 row, double w) {
  if (g->prm->kind == LATHE_FOREST_REGRESS)
    stats[0] += w * g->target[row];
  else
    stats[g->labels[row]] += w;
}

static int cmp_u32(const void *a, const void *b) {
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  return (x > y) - (x < y);
}

/* Evaluates feature @f on rows [start, end). Returns FALSE when the feature
 * is constant there (it then does not count as drawn, as in scikit-learn). */
static gboolean eval_feature(const LatheForestGrow *g, LatheForestScratch *s, guint f,
                             guint start, guint end, double w_tot, Best *best) {
  const guint width = g->k, nr = end - start, min_leaf = g->prm->min_leaf;
  const guint8 *codes = g->bins->codes + (gsize)f * g->bins->n;
  memset(s->left, 0, width * sizeof(double));
  double lw = 0.0;
  guint lc = 0;

  if (nr < SMALL_NODE) {
    for (guint t = 0; t < nr; t++)
      s->keys[t] = (guint32)codes[s->idx[start + t]] << 16 | t;
    qsort(s->keys, nr, sizeof(guint32), cmp_u32);
    if ((s->keys[0] >> 16) == (s->keys[nr - 1] >> 16))
      return FALSE;
    for (guint t = 0; t + 1 < nr; t++) {
      guint32 row = s->idx[start + (s->keys[t] & 0xffff)];
      add_row(g, s->left, row, s->w[row]);
      lw += s->w[row];
      lc++;
      guint code = s->keys[t] >> 16;
      if (code == (s->keys[t + 1] >> 16) || lc < min_leaf)
        continue;
      if (nr - lc < min_leaf)
        break;
      consider(g, s, lw, f, code, w_tot, best);
    }
    return TRUE;
  }

  guint bmin = LATHE_FOREST_MAX_BINS, bmax = 0;
  for (guint t = start; t < end; t++) {
    guint32 row = s->idx[t];
    guint b = codes[row];
    s->hc[b]++;
    s->hw[b] += s->w[row];
    add_row(g, s->hist + (gsize)b * width, row, s->w[row]);
    bmin = MIN(bmin, b);
    bmax = MAX(bmax, b);
  }
  gboolean varies = bmin != bmax;
  for (guint b = bmin; varies && b < bmax; b++) {
    if (s->hc[b] == 0)
      continue;
    for (guint c = 0; c < width; c++)
      s->left[c] += s->hist[(gsize)b * width + c];
    lw += s->hw[b];
    lc += s->hc[b];
    if (lc < min_leaf)
      continue;
    if (nr - lc < min_leaf)
      break;
    consider(g, s, lw, f, b, w_tot, best);
  }
  /* Leave the histogram zeroed for the next feature. */
  memset(s->hist + (gsize)bmin * width, 0, (gsize)(bmax - bmin + 1) * width * sizeof(double));
  memset(s->hw + bmin, 0, (bmax - bmin + 1) * sizeof(double));
  memset(s->hc + bmin, 0, (bmax - bmin + 1) * sizeof(guint32));
  return varies;
}

/* Whether every row of the node has the same class or target. */
static gboolean node_is_pure(const LatheForestGrow *g, LatheForestScratch *s, guint start,
                             guint end) {
  if (g->prm->kind == LATHE_FOREST_REGRESS) {
    float first = g->target[s->idx[start]];
    for (guint t = start + 1; t < end; t++)
      if (g->target[s->idx[t]] != first)
        return FALSE;
    return TRUE;
  }
  guint nonzero = 0;
  for (guint c = 0; c < g->k; c++)
    nonzero += s->tot[c] > 0.0;
  return nonzero <= 1;
}

static void make_leaf(const LatheForestGrow *g, LatheForestScratch *s, LatheForestTree *out,
                      guint node, double w_tot) {
  const guint width = g->k;
  LatheForestNode *nd = &g_array_index(out->nodes, LatheForestNode, node);
  nd->feature = -1;
  nd->threshold = 0.0f;
  nd->child = out->values->len / width;
  for (guint c = 0; c < width; c++) {
    float v = (float)(s->tot[c] / w_tot);
    g_array_append_val(out->values, v);
  }
}

/* Draws rows for the tree and sets the in-bag mask and the sample weights. */
static void draw_rows(const LatheForestGrow *g, LatheForestScratch *s, LatheRng *rng,
                      LatheForestTree *out, guint *n_rows) {
  const guint n = g->bins->n;
  if (g->prm->bootstrap) {
    memset(s->counts, 0, (gsize)n * sizeof(guint32));
    for (guint i = 0; i < g->prm->n_draws; i++)
      s->counts[lathe_rng_below(rng, n)]++;
  } else {
    for (guint i = 0; i < n; i++)
      s->counts[i] = 1;
  }
  guint m = 0;
  for (guint i = 0; i < n; i++) {
    if (!s->counts[i])
      continue;
    out->inbag[i >> 3] |= (guint8)(1u << (i & 7));
    double cw = g->prm->class_weight && g->labels ? g->prm->class_weight[g->labels[i]] : 1.0;
    s->w[i] = s->counts[i] * cw;
    s->idx[m++] = i;
  }
  *n_rows = m;
}

void lathe_forest_grow_tree(const LatheForestGrow *g, LatheForestScratch *s, guint tree,
                            LatheForestTree *out) {
  const LatheForestParams *prm = g->prm;
  const guint n = g->bins->n, d = g->bins->d, width = g->k;
  char name[32];
  g_snprintf(name, sizeof name, "tree-%u", tree);
  LatheRng rng;
  lathe_rng_init(&rng, lathe_seed_derive(prm->seed, name));

  out->nodes = g_array_new(FALSE, TRUE, sizeof(LatheForestNode));
  out->values = g_array_new(FALSE, FALSE, sizeof(float));
  out->importance = g_new0(double, (gsize)d + 1);
  out->inbag = g_new0(guint8, (gsize)n / 8 + 1);
  guint m;
  draw_rows(g, s, &rng, out, &m);
  for (guint j = 0; j < d; j++)
    s->feat[j] = j;

  GArray *stack = g_array_new(FALSE, FALSE, sizeof(Pending));
  g_array_set_size(out->nodes, 1);
  Pending root = {0, m, 0, 0};
  g_array_append_val(stack, root);
  while (stack->len > 0) {
    Pending p = g_array_index(stack, Pending, stack->len - 1);
    g_array_set_size(stack, stack->len - 1);
    const guint nr = p.end - p.start;
    memset(s->tot, 0, width * sizeof(double));
    double w_tot = 0.0;
    for (guint t = p.start; t < p.end; t++) {
      guint32 row = s->idx[t];
      add_row(g, s->tot, row, s->w[row]);
      w_tot += s->w[row];
    }
    gboolean leaf = (prm->max_depth >= 0 && p.depth >= (guint)prm->max_depth) ||
                    nr < prm->min_split || nr < 2 * prm->min_leaf ||
                    node_is_pure(g, s, p.start, p.end);
    Best best = {.feature = -1};
    if (!leaf) {
      /* Features in a fresh random order, continuing the per-tree shuffle. */
      guint visited = 0;
      for (guint i = 0; i < d && visited < prm->max_features; i++) {
        guint j = i + (guint)lathe_rng_below(&rng, d - i);
        guint32 tmp = s->feat[i];
        s->feat[i] = s->feat[j];
        s->feat[j] = tmp;
        if (eval_feature(g, s, s->feat[i], p.start, p.end, w_tot, &best))
          visited++;
      }
    }
    if (best.feature < 0) {
      make_leaf(g, s, out, p.node, w_tot);
      continue;
    }
    out->importance[best.feature] += best.score - proxy(g, s->tot, w_tot);
    const guint8 *codes = g->bins->codes + (gsize)best.feature * n;
    guint i = p.start, j = p.end;
    while (i < j) {
      if (codes[s->idx[i]] <= best.code) {
        i++;
      } else {
        j--;
        guint32 tmp = s->idx[i];
        s->idx[i] = s->idx[j];
        s->idx[j] = tmp;
      }
    }
    guint child = out->nodes->len;
    g_array_set_size(out->nodes, child + 2);
    LatheForestNode *nd = &g_array_index(out->nodes, LatheForestNode, p.node);
    nd->feature = best.feature;
    nd->threshold = g->bins->cuts[(gsize)best.feature * (LATHE_FOREST_MAX_BINS - 1) + best.code];
    nd->child = child;
    Pending right = {i, p.end, p.depth + 1, child + 1}, left = {p.start, i, p.depth + 1, child};
    g_array_append_val(stack, right);
    g_array_append_val(stack, left);
  }
  g_array_free(stack, TRUE);
}

void lathe_forest_tree_clear(LatheForestTree *t) {
  if (t->nodes)
    g_array_free(t->nodes, TRUE);
  if (t->values)
    g_array_free(t->values, TRUE);
  g_free(t->importance);
  g_free(t->inbag);
  memset(t, 0, sizeof *t);
}
