/* tune-pareto.c: non-dominated sorting, crowding distance, 2-D hypervolume. */
#include "tune-pareto.h"

#include <math.h>

gboolean lathe_tune_pareto_dominates(const double *a, const double *b, guint k) {
  gboolean better = FALSE;
  for (guint j = 0; j < k; j++) {
    if (a[j] > b[j])
      return FALSE;
    if (a[j] < b[j])
      better = TRUE;
  }
  return better;
}

static gboolean row_finite(const double *r, guint k) {
  for (guint j = 0; j < k; j++)
    if (!isfinite(r[j]))
      return FALSE;
  return TRUE;
}

guint lathe_tune_pareto_ranks(const double *y, guint n, guint k, guint *rank_out) {
  if (n == 0)
    return 0;
  /* count[i]: how many points dominate i; dominated[i]: whom i dominates,
   * as a flat list with offsets (n^2 worst case, fine for studies). */
  guint *count = g_new0(guint, n);
  guint *start = g_new0(guint, n + 1);
  GArray *list = g_array_new(FALSE, FALSE, sizeof(guint));
  gboolean *ok = g_new(gboolean, n);
  for (guint i = 0; i < n; i++)
    ok[i] = row_finite(y + (gsize)i * k, k);
  for (guint i = 0; i < n; i++) {
    start[i] = list->len;
    if (!ok[i])
      continue;
    for (guint j = 0; j < n; j++) {
      if (j == i || !ok[j])
        continue;
      if (lathe_tune_pareto_dominates(y + (gsize)i * k, y + (gsize)j * k, k))
        g_array_append_val(list, j);
      else if (lathe_tune_pareto_dominates(y + (gsize)j * k, y + (gsize)i * k, k))
        count[i]++;
    }
  }
  start[n] = list->len;
  guint *cur = g_new(guint, n), *next = g_new(guint, n);
  guint nc = 0;
  for (guint i = 0; i < n; i++) {
    rank_out[i] = G_MAXUINT;
    if (ok[i] && count[i] == 0)
      cur[nc++] = i;
  }
  guint front = 0;
  const guint *dom = (const guint *)list->data;
  while (nc > 0) {
    guint nn = 0;
    for (guint a = 0; a < nc; a++) {
      guint i = cur[a];
      rank_out[i] = front;
      for (guint b = start[i]; b < start[i + 1]; b++)
        if (--count[dom[b]] == 0)
          next[nn++] = dom[b];
    }
    guint *t = cur;
    cur = next;
    next = t;
    nc = nn;
    front++;
  }
  g_free(count);
  g_free(start);
  g_array_unref(list);
  g_free(ok);
  g_free(cur);
  g_free(next);
  return front;
}

guint lathe_tune_pareto_front(const double *y, guint n, guint k, guint *idx_out) {
  guint m = 0;
  for (guint i = 0; i < n; i++) {
    if (!row_finite(y + (gsize)i * k, k))
      continue;
    gboolean dominated = FALSE;
    for (guint j = 0; j < n && !dominated; j++)
      dominated = j != i && row_finite(y + (gsize)j * k, k) &&
                  lathe_tune_pareto_dominates(y + (gsize)j * k, y + (gsize)i * k, k);
    if (!dominated)
      idx_out[m++] = i;
  }
  return m;
}

typedef struct {
  const double *y;
  const guint *idx;
  guint k, obj;
} SortCtx;

/* Orders positions in idx by one objective, ties by position. */
static gint cmp_obj(gconstpointer a, gconstpointer b, gpointer data) {
  const SortCtx *c = data;
  guint i = *(const guint *)a, j = *(const guint *)b;
  double u = c->y[(gsize)c->idx[i] * c->k + c->obj], v = c->y[(gsize)c->idx[j] * c->k + c->obj];
  if (u != v)
    return u < v ? -1 : 1;
  return i < j ? -1 : i > j;
}

void lathe_tune_pareto_crowding(const double *y, guint k, const guint *idx, guint m,
                                double *dist_out) {
  if (m == 0)
    return;
  guint *order = g_new(guint, m);
  for (guint a = 0; a < m; a++)
    dist_out[a] = 0;
  for (guint obj = 0; obj < k; obj++) {
    SortCtx c = {y, idx, k, obj};
    for (guint a = 0; a < m; a++)
      order[a] = a;
    g_qsort_with_data(order, (gint)m, sizeof(guint), cmp_obj, &c);
    double lo = y[(gsize)idx[order[0]] * k + obj], hi = y[(gsize)idx[order[m - 1]] * k + obj];
    dist_out[order[0]] = INFINITY;
    dist_out[order[m - 1]] = INFINITY;
    if (!(hi > lo))
      continue;
    for (guint a = 1; a + 1 < m; a++)
      dist_out[order[a]] += (y[(gsize)idx[order[a + 1]] * k + obj] -
                             y[(gsize)idx[order[a - 1]] * k + obj]) /
                            (hi - lo);
  }
  g_free(order);
}

static gint cmp_x(gconstpointer a, gconstpointer b, gpointer data) {
  (void)data;
  const double *u = a, *v = b;
  if (u[0] != v[0])
    return u[0] < v[0] ? -1 : 1;
  return u[1] < v[1] ? -1 : u[1] > v[1];
}

double lathe_tune_pareto_hypervolume2(const double *y, guint n, const double *ref) {
  double *pts = g_new(double, 2 * (gsize)(n ? n : 1));
  guint m = 0;
  for (guint i = 0; i < n; i++) {
    double a = y[2 * (gsize)i], b = y[2 * (gsize)i + 1];
    if (a < ref[0] && b < ref[1]) {
      pts[2 * m] = a;
      pts[2 * m + 1] = b;
      m++;
    }
  }
  g_qsort_with_data(pts, (gint)m, 2 * sizeof(double), cmp_x, NULL);
  /* Sweep by the first objective; each point adds the slab between it and
   * the best second objective seen so far. */
  double hv = 0, best = ref[1];
  for (guint i = 0; i < m; i++) {
    double a = pts[2 * i], b = pts[2 * i + 1];
    if (b < best) {
      hv += (ref[0] - a) * (best - b);
      best = b;
    }
  }
  g_free(pts);
  return hv;
}
