/* transform/causal_rank: each score's rank among its series' past scores.
 *
 * A raw anomaly score has a scale of its own in every series, so a threshold
 * chosen on some series fires all the time, or never, in another. The causal
 * rank puts every series on one scale: for every chosen column s and row t of
 * a series (groups; none = one series)
 *
 *   u_t = (#{j <= t : s_j < s_t} + (#{j <= t : s_j = s_t} - 1) / 2) / t   (t >= 1)
 *
 * the mid-rank of s_t among the rows 0..t, scaled to [0, 1]: 1 when s_t is
 * the highest score so far, 0 when the lowest, 0.5 at row 0 (nothing to compare
 * with). A threshold u >= 1 - p then means "among the top fraction p of this
 * series' own history", whatever the series' scale, so the number of
 * detections a borrowed threshold makes stays bounded. With window > 0 the
 * history is only the last `window` rows (j > t - window).
 *
 * skip_leading_zeros: a detector that learns first (NAB's probation) scores
 * 0 there, and a history of hundreds of zeros puts every later positive
 * score near the top (at the 50th scored row of 800, any score above the
 * zeros ranks >= 0.94). With it, a series' rows before its first nonzero
 * score rank 0 and the history starts at that score: whether a row is
 * before it is known at the row.
 *
 * conformal: the output is 1 - p with p = #{j <= t : s_j >= s_t} / n_t, n_t
 * the rows of history (this one included): the conformal p-value (Vovk,
 * Gammerman and Shafer, Algorithmic Learning in a Random World, 2005).
 * The mid-rank gives a new maximum u = 1 however short the history, so a
 * threshold fires on the first rows of a history; here p >= 1/n_t, so a
 * threshold u >= 1 - q cannot fire before the history holds 1/q rows.
 *
 * Nothing reads a row after t. The ranks are counted in a Fenwick tree over
 * the series' sorted distinct values, so a series of n rows takes
 * O(n log n); sorting all values first only indexes them, it does not let a
 * row see later ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

static const LatheParamSpec cr_params[] = {
    LATHE_PARAM_LIST_("columns", "[\"pred_0\"]", LATHE_PARAM_STRING,
                      "the score columns to rank"),
    LATHE_PARAM_STRING_("suffix", "\"_rank\"", 0,
                        "each result is a new column named <column><suffix>"),
    LATHE_PARAM_INT_("window", "0", 0, G_MAXINT32,
                     "rows of history (the current one included); 0 = every row so far"),
    LATHE_PARAM_BOOL_("skip_leading_zeros", "false",
                      "rows of a series before its first nonzero score rank 0 and are not "
                      "history (a detector's learning period)"),
    LATHE_PARAM_BOOL_("conformal", "false",
                      "output 1 - p, p = the share of the history (this row included) scoring "
                      "at least as high: the conformal p-value, never 0"),
    LATHE_PARAM_END,
};

static const LathePortSpec cr_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "a long table with scores, rows in time order; groups = series"},
    {.name = NULL},
};

static const LathePortSpec cr_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "the same rows, columns, labels and groups, then one <column><suffix> per chosen "
            "column: the score's causal mid-rank (or conformal rank) in [0, 1]"},
    {.name = NULL},
};

#define COMPONENT "transform/causal_rank"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Fenwick tree over 1..n. */
static void fw_add(guint *tree, guint n, guint i, gint delta) {
  for (; i <= n; i += i & (~i + 1))
    tree[i] = (guint)((gint)tree[i] + delta);
}

static guint fw_sum(const guint *tree, guint i) { /* counts of positions 1..i */
  guint s = 0;
  for (; i > 0; i -= i & (~i + 1))
    s += tree[i];
  return s;
}

/* Position (1-based) of @v among the @m sorted distinct values @vals. */
static guint position(const double *vals, guint m, double v) {
  guint lo = 0, hi = m;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (vals[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo + 1;
}

/* One series: @s (n scores) to @out (n ranks). @vals, @pos and @tree are
 * scratch of n, n and n + 1. */
static void series_rank(const double *s, guint n, guint window, gboolean conformal,
                        double *vals, guint *pos, guint *tree, double *out) {
  memcpy(vals, s, sizeof(double) * n);
  qsort(vals, n, sizeof(double), cmp_double);
  guint m = 0;
  for (guint i = 0; i < n; i++)
    if (m == 0 || vals[i] != vals[m - 1])
      vals[m++] = vals[i];
  memset(tree, 0, sizeof(guint) * (m + 1));
  for (guint t = 0; t < n; t++) {
    pos[t] = position(vals, m, s[t]);
    fw_add(tree, m, pos[t], 1);
    if (window && t >= window)
      fw_add(tree, m, pos[t - window], -1);
    guint count = window && t + 1 > window ? window : t + 1;
    if (conformal) {
      out[t] = (double)fw_sum(tree, pos[t] - 1) / count;
      continue;
    }
    if (count == 1) {
      out[t] = 0.5;
      continue;
    }
    guint below = fw_sum(tree, pos[t] - 1), equal = fw_sum(tree, pos[t]) - below;
    out[t] = (below + (equal - 1) / 2.0) / (count - 1);
  }
}

static gboolean cr_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input is a sequence dataset (seq_len %u); give it the long table of scores", ds->seq_len);
    return FALSE;
  }
  const guint window = (guint)lathe_context_param_int(ctx, "window");
  const gboolean skip_zeros = lathe_context_param_bool(ctx, "skip_leading_zeros");
  const gboolean conformal = lathe_context_param_bool(ctx, "conformal");
  if (window == 1) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "window %u leaves nothing to rank against; use 0 "
                            "(every row so far) or at least 2",
                            window);
    return FALSE;
  }
  const char *suffix = lathe_context_param_string(ctx, "suffix");
  if (!suffix || !*suffix) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "suffix is empty; the new columns need names of their own");
    return FALSE;
  }
  g_autoptr(GArray) cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_NONEMPTY, error);
  if (!cols) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  const guint k = cols->len;
  const guint *src = (const guint *)(gconstpointer)cols->data;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < k; i++) {
    const char *name = ds->columns[src[i]];
    g_autofree char *out_name = g_strconcat(name, suffix, NULL);
    if (lathe_dataset_column_index(ds, out_name) >= 0) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "the input already has a column '%s'; set another suffix", out_name);
      return FALSE;
    }
    g_ptr_array_add(names, g_steal_pointer(&out_name));
  }

  const guint d = ds->n_cols, n_series = ds->groups ? ds->n_groups : 1;
  g_autofree guint *count = g_new0(guint, n_series + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups ? ds->groups[r] : 0;
    if (g < 0 || (guint)g >= n_series) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                              "row %u has no group (index %d); every row of a "
                              "grouped table must belong to a series",
                              r, g);
      return FALSE;
    }
    count[g]++;
    for (guint i = 0; i < k; i++)
      if (isnan(ds->x[(gsize)r * d + src[i]])) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                                "NaN score in row %u column '%s'; NaN has no "
                                "rank, clean the scores first",
                                r, ds->columns[src[i]]);
        return FALSE;
      }
  }

  g_autoptr(LatheDataset) out = lathe_dataset_add_columns(ds, (const char *const *)names->pdata, k);

  /* Rows of each series in order: a series may be interleaved with others. */
  guint n_listed;
  g_autofree guint *offset = NULL;
  g_autofree guint *rows = lathe_dataset_series_rows(ds, &n_listed, &offset);
  g_assert(n_listed == n_series);
  guint longest = 1;
  for (guint g = 0; g < n_series; g++)
    longest = MAX(longest, count[g]);
  g_autofree double *s = g_new(double, longest);
  g_autofree double *vals = g_new(double, longest);
  g_autofree double *rank = g_new(double, longest);
  g_autofree guint *pos = g_new(guint, longest);
  g_autofree guint *tree = g_new(guint, longest + 1);
  for (guint g = 0; g < n_series; g++) {
    const guint *sr = rows + offset[g];
    for (guint i = 0; i < k; i++) {
      for (guint t = 0; t < count[g]; t++)
        s[t] = ds->x[(gsize)sr[t] * d + src[i]];
      guint first = 0;
      while (skip_zeros && first < count[g] && s[first] == 0.0)
        rank[first++] = 0.0;
      if (first < count[g])
        series_rank(s + first, count[g] - first, window, conformal, vals, pos, tree, rank + first);
      for (guint t = 0; t < count[g]; t++)
        out->x[(gsize)sr[t] * (d + k) + d + i] = (float)rank[t];
    }
    if (lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled after %u of %u series", g + 1, n_series);
      return FALSE;
    }
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u series, %u rows, %u score columns", n_series,
                    ds->n_rows, k);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass cr_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "causal_rank",
                         "each score's mid-rank among its series' scores so far, in [0, 1] "
                         "(causal; puts every series on one scale)",
                         cr_params, cr_inputs, cr_outputs),
    .run = cr_run,
};

LATHE_PLUGIN_DEFINE("transform-causal-rank", "0.1.0", "MIT",
                    "causal per-series rank of scores", LATHE_COMPONENT(cr_class))
