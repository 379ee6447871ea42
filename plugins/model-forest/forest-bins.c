/* Quantile binning, computed once per forest.
 *
 * Each feature gets at most 255 cut points; a value's code is the first cut
 * it does not exceed, so "code <= b" is exactly "x <= cut[b]" in float and the
 * trees can store cut[b] as their threshold. With few distinct values the
 * cuts are the midpoints between neighbours, as scikit-learn's exact
 * splitter would choose; beyond that they sit at quantiles of the training
 * data, which is how histogram forests make split finding linear in the node
 * size instead of n log n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forest-bins.h"

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* A cut strictly between @lo and @hi (lo < hi) that floats keep ordered:
 * lo <= cut < hi, so lo goes left and hi right. */
static float midpoint(float lo, float hi) {
  float m = (float)(((double)lo + (double)hi) * 0.5);
  return m < hi ? m : lo;
}

/* Cuts of one sorted column: midpoints between distinct values when there
 * are few, else between the values at quantile positions and their next
 * distinct neighbour. */
static guint column_cuts(const float *sorted, guint n, float *cuts) {
  guint distinct = n > 0 ? 1 : 0;
  for (guint i = 1; i < n && distinct <= LATHE_FOREST_MAX_BINS; i++)
    distinct += sorted[i] != sorted[i - 1];
  guint nc = 0;
  if (distinct <= LATHE_FOREST_MAX_BINS) {
    for (guint i = 1; i < n; i++)
      if (sorted[i] != sorted[i - 1])
        cuts[nc++] = midpoint(sorted[i - 1], sorted[i]);
    return nc;
  }
  for (guint q = 1; q < LATHE_FOREST_MAX_BINS; q++) {
    guint pos = (guint)((guint64)q * n / LATHE_FOREST_MAX_BINS);
    if (pos == 0 || pos >= n)
      continue;
    float lo = sorted[pos - 1];
    /* The next distinct value; the quantile may fall inside a run. */
    guint j = pos;
    while (j < n && sorted[j] == lo)
      j++;
    if (j >= n)
      break;
    float cut = midpoint(lo, sorted[j]);
    if (nc == 0 || cut > cuts[nc - 1])
      cuts[nc++] = cut;
  }
  return nc;
}

/* First cut >= v (binary search), i.e. the code of v. */
static guint8 code_of(const float *cuts, guint nc, float v) {
  guint lo = 0, hi = nc;
  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    if (v <= cuts[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  return (guint8)lo;
}

typedef struct {
  LatheForestBins *bins;
  const float *x;
  guint n, d;
  gint next; /* next feature to bin, atomically claimed */
} BinJob;

static void bin_feature(BinJob *job, guint j) {
  LatheForestBins *b = job->bins;
  const guint n = job->n, d = job->d;
  float *col = g_new(float, (gsize)n + 1);
  for (guint i = 0; i < n; i++)
    col[i] = job->x[(gsize)i * d + j];
  qsort(col, n, sizeof(float), cmp_float);
  float *cuts = b->cuts + (gsize)j * (LATHE_FOREST_MAX_BINS - 1);
  b->n_cuts[j] = column_cuts(col, n, cuts);
  guint8 *codes = b->codes + (gsize)j * n;
  for (guint i = 0; i < n; i++)
    codes[i] = code_of(cuts, b->n_cuts[j], job->x[(gsize)i * d + j]);
  g_free(col);
}

static gpointer bin_worker(gpointer data) {
  BinJob *job = data;
  gint j;
  while ((j = g_atomic_int_add(&job->next, 1)) < (gint)job->d)
    bin_feature(job, (guint)j);
  return NULL;
}

LatheForestBins *lathe_forest_bins_new(const float *x, guint n, guint d, guint threads) {
  LatheForestBins *b = g_new0(LatheForestBins, 1);
  b->n = n;
  b->d = d;
  b->codes = g_new(guint8, (gsize)n * d + 1);
  b->cuts = g_new0(float, (gsize)d * (LATHE_FOREST_MAX_BINS - 1) + 1);
  b->n_cuts = g_new0(guint, (gsize)d + 1);
  BinJob job = {.bins = b, .x = x, .n = n, .d = d, .next = 0};
  /* Every feature is binned independently, so the codes do not depend on
   * how the features are shared out. */
  guint nt = CLAMP(threads, 1u, MAX(d, 1u));
  GThread **th = g_new0(GThread *, nt);
  for (guint t = 1; t < nt; t++)
    th[t] = g_thread_new("forest-bins", bin_worker, &job);
  bin_worker(&job);
  for (guint t = 1; t < nt; t++)
    g_thread_join(th[t]);
  g_free(th);
  return b;
}

void lathe_forest_bins_free(LatheForestBins *b) {
  if (!b)
    return;
  g_free(b->codes);
  g_free(b->cuts);
  g_free(b->n_cuts);
  g_free(b);
}
