/* transform/lags: causal features of each series (group) of a long table.
 *
 * For every selected column x and every row t of a series (rows in table
 * order, series = groups; no groups = one series) it adds:
 *   <x>_delta     x_t - x_{t-1}, 0 at the first row of the series;
 *   <x>_lag<k>    x_{t-k}, or the series' first value while t < k;
 *   <x>_<stat><w> mean, std (population), min or max of x over the trailing
 *                 rows max(0, t-w+1)..t, partial over the first w-1 rows.
 * Nothing reads a row after t, so a row's features never change when later
 * rows do. The start-of-series conventions avoid NaN, which tree models and
 * standardisers downstream would choke on. A series may be interleaved with
 * others: each is gathered in row order and scattered back.
 *
 * Mean and std use running sums of x - K, K being a value of the window,
 * rebuilt from scratch every w rows (as transform/rolling does), so a large
 * offset does not cancel the sum of squares and rounding does not build up.
 */
#include <math.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "rolling-stats.h"

static const LatheParamSpec lags_params[] = {
    LATHE_PARAM_LIST_("columns", "[\"value\"]", LATHE_PARAM_STRING,
                      "the columns to derive features from"),
    LATHE_PARAM_BOOL_("keep", "true", "keep every input column before the new ones"),
    LATHE_PARAM_BOOL_("delta", "true", "add <col>_delta = x_t - x_{t-1} (0 at a series' start)"),
    {.name = "lags",
     .type = LATHE_PARAM_LIST,
     .default_json = "[1,2,3]",
     .item_type = LATHE_PARAM_INT,
     .min = 1,
     .max = G_MAXINT32,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "lags k: <col>_lag<k> = x_{t-k} (the series' first value while t < k)"},
    {.name = "windows",
     .type = LATHE_PARAM_LIST,
     .default_json = "[12,48]",
     .item_type = LATHE_PARAM_INT,
     .min = 1,
     .max = G_MAXINT32,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "trailing window lengths w in rows, current row included"},
    {.name = "stats",
     .type = LATHE_PARAM_LIST,
     .default_json = "[\"mean\",\"std\",\"min\",\"max\"]",
     .item_type = LATHE_PARAM_ENUM,
     .choices = lathe_rolling_stat_names,
     .doc = "statistics per window, each a column <col>_<stat><w>: mean, std (population, "
            "ddof 0), min, max"},
    LATHE_PARAM_END,
};

static const LathePortSpec lags_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "a long table, rows in time order; groups = series (none = one series)"},
    {.name = NULL},
};

static const LathePortSpec lags_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "the same rows, labels and groups; input columns (keep) then, per column: "
            "delta, lags, then per window its statistics"},
    {.name = NULL},
};

#define COMPONENT "transform/lags"

/* Reads a list param of positive ints or strings into @out (guint each). */
static gboolean int_list(LatheContext *ctx, const char *param, GArray *out, GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, param);
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    JsonNode *n = json_array_get_element(list, i);
    gint64 v = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
                   ? json_node_get_int(n)
                   : 0;
    if (v < 1 || v > G_MAXINT32) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "%s[%u] must be a whole number >= 1", param, i);
      return FALSE;
    }
    guint u = (guint)v;
    for (guint j = 0; j < out->len; j++)
      if (g_array_index(out, guint, j) == u) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                                "%s: %u is listed twice; list it once", param, u);
        return FALSE;
      }
    g_array_append_val(out, u);
  }
  return TRUE;
}

static gboolean read_columns(LatheContext *ctx, const LatheDataset *ds, GArray *cols,
                             GError **error) {
  g_autoptr(GArray) got =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_NONEMPTY, error);
  if (!got) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  g_array_append_vals(cols, got->data, got->len);
  return TRUE;
}

static gboolean read_stats(LatheContext *ctx, GArray *stats, GError **error) {
  g_autoptr(GArray) got =
      lathe_context_param_enum_list(ctx, "stats", lathe_rolling_stat_names, error);
  if (!got) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  g_array_append_vals(stats, got->data, got->len);
  return TRUE;
}

/* Row indices of each series, in row order. */
static GPtrArray *series_rows(LatheContext *ctx, const LatheDataset *ds, GError **error) {
  g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
  guint n_series = ds->groups ? ds->n_groups : 1;
  for (guint g = 0; g < n_series; g++)
    g_ptr_array_add(series, g_array_new(FALSE, FALSE, sizeof(guint)));
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups ? ds->groups[r] : 0;
    if (g < 0 || (guint)g >= n_series) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, COMPONENT,
          "row %u has no group (index %d); every row of a grouped table must belong to a "
          "series",
          r, g);
      return NULL;
    }
    g_array_append_val(series->pdata[g], r);
  }
  return g_steal_pointer(&series);
}

typedef struct {
  GArray *cols, *lags, *windows, *stats;
  gboolean keep, delta;
  guint per_col; /* new columns per selected column */
} Plan;

static gboolean name_columns(LatheContext *ctx, const LatheDataset *ds, LatheDataset *out,
                             const Plan *p, GError **error) {
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  guint j = 0;
  for (; p->keep && j < ds->n_cols; j++) {
    lathe_dataset_set_column(out, j, ds->columns[j]);
    g_hash_table_add(names, out->columns[j]);
  }
  for (guint c = 0; c < p->cols->len; c++) {
    const char *x = ds->columns[g_array_index(p->cols, guint, c)];
    g_autoptr(GPtrArray) add = g_ptr_array_new_with_free_func(g_free);
    if (p->delta)
      g_ptr_array_add(add, g_strdup_printf("%s_delta", x));
    for (guint k = 0; k < p->lags->len; k++)
      g_ptr_array_add(add, g_strdup_printf("%s_lag%u", x, g_array_index(p->lags, guint, k)));
    for (guint w = 0; w < p->windows->len; w++)
      for (guint s = 0; s < p->stats->len; s++)
        g_ptr_array_add(add,
                        g_strdup_printf("%s_%s%u", x,
                                        lathe_rolling_stat_names[g_array_index(p->stats, guint, s)],
                                        g_array_index(p->windows, guint, w)));
    for (guint i = 0; i < add->len; i++, j++) {
      lathe_dataset_set_column(out, j, add->pdata[i]);
      if (!g_hash_table_add(names, out->columns[j])) {
        lathe_context_set_error(
            ctx, error, LATHE_ERROR_INVALID, COMPONENT,
            "the new column '%s' has the name of another column; rename the input column "
            "or set keep=false",
            (char *)add->pdata[i]);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* Features of one column of one series: @v (n values) -> @res, n x per_col. */
static void series_features(const Plan *p, const double *v, guint n, double *res, double *tmp,
                            guint *queue) {
  guint f = 0;
  if (p->delta) {
    for (guint t = 0; t < n; t++)
      res[(gsize)t * p->per_col + f] = t ? v[t] - v[t - 1] : 0.0;
    f++;
  }
  for (guint k = 0; k < p->lags->len; k++, f++) {
    guint lag = g_array_index(p->lags, guint, k);
    for (guint t = 0; t < n; t++)
      res[(gsize)t * p->per_col + f] = v[t >= lag ? t - lag : 0];
  }
  double *by[LATHE_N_STATS] = {tmp, tmp + n, tmp + 2 * (gsize)n, tmp + 3 * (gsize)n};
  for (guint wi = 0; wi < p->windows->len; wi++) {
    guint w = g_array_index(p->windows, guint, wi);
    gboolean want[LATHE_N_STATS] = {FALSE};
    for (guint s = 0; s < p->stats->len; s++)
      want[g_array_index(p->stats, guint, s)] = TRUE;
    if (want[LATHE_STAT_MEAN] || want[LATHE_STAT_STD])
      lathe_rolling_moments(v, n, w, by[LATHE_STAT_MEAN], by[LATHE_STAT_STD]);
    if (want[LATHE_STAT_MIN])
      lathe_rolling_extreme(v, n, w, 1, queue, by[LATHE_STAT_MIN]);
    if (want[LATHE_STAT_MAX])
      lathe_rolling_extreme(v, n, w, -1, queue, by[LATHE_STAT_MAX]);
    for (guint s = 0; s < p->stats->len; s++, f++) {
      const double *src = by[g_array_index(p->stats, guint, s)];
      for (guint t = 0; t < n; t++)
        res[(gsize)t * p->per_col + f] = src[t];
    }
  }
}

static gboolean lags_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input is a sequence dataset (seq_len %u); apply transform/lags to the long table",
        ds->seq_len);
    return FALSE;
  }
  Plan p = {.keep = lathe_context_param_bool(ctx, "keep"),
            .delta = lathe_context_param_bool(ctx, "delta")};
  g_autoptr(GArray) cols = p.cols = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) lags = p.lags = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) windows = p.windows = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) stats = p.stats = g_array_new(FALSE, FALSE, sizeof(guint));
  if (!read_columns(ctx, ds, cols, error) || !int_list(ctx, "lags", lags, error) ||
      !int_list(ctx, "windows", windows, error) || !read_stats(ctx, stats, error))
    return FALSE;
  if (windows->len && !stats->len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
        "windows are set but stats is empty; ask for at least one of mean, std, min, max");
    return FALSE;
  }
  p.per_col = (p.delta ? 1 : 0) + lags->len + windows->len * stats->len;
  if (p.per_col == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            "nothing to compute: delta is false and lags and windows are empty");
    return FALSE;
  }
  for (guint r = 0; r < ds->n_rows; r++)
    for (guint c = 0; c < cols->len; c++) {
      float x = ds->x[(gsize)r * ds->n_cols + g_array_index(cols, guint, c)];
      if (!isfinite(x)) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                                "%s in row %u column '%s'; clean the data before transform/lags",
                                isnan(x) ? "NaN" : "an infinity", r,
                                ds->columns[g_array_index(cols, guint, c)]);
        return FALSE;
      }
    }
  g_autoptr(GPtrArray) series = series_rows(ctx, ds, error);
  if (!series)
    return FALSE;

  guint base = p.keep ? ds->n_cols : 0, n_out = base + cols->len * p.per_col;
  g_autoptr(LatheDataset) out = lathe_dataset_new(ds->n_rows, n_out);
  if (!name_columns(ctx, ds, out, &p, error))
    return FALSE;
  lathe_dataset_copy_targets(out, ds);
  for (guint r = 0; p.keep && r < ds->n_rows; r++)
    memcpy(out->x + (gsize)r * n_out, ds->x + (gsize)r * ds->n_cols, sizeof(float) * ds->n_cols);

  guint longest = 1;
  for (guint s = 0; s < series->len; s++)
    longest = MAX(longest, ((GArray *)series->pdata[s])->len);
  g_autofree double *v = g_new(double, longest);
  g_autofree double *res = g_new(double, (gsize)longest * p.per_col);
  g_autofree double *tmp = g_new(double, (gsize)longest *LATHE_N_STATS);
  g_autofree guint *queue = g_new(guint, longest);
  for (guint s = 0; s < series->len; s++) {
    GArray *rows = series->pdata[s];
    for (guint c = 0; c < cols->len; c++) {
      guint col = g_array_index(cols, guint, c);
      for (guint t = 0; t < rows->len; t++)
        v[t] = ds->x[(gsize)g_array_index(rows, guint, t) * ds->n_cols + col];
      series_features(&p, v, rows->len, res, tmp, queue);
      for (guint t = 0; t < rows->len; t++) {
        float *dst = out->x + (gsize)g_array_index(rows, guint, t) * n_out + base + c * p.per_col;
        for (guint f = 0; f < p.per_col; f++)
          dst[f] = (float)res[(gsize)t * p.per_col + f];
      }
    }
    if (lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled after %u of %u series", s + 1, series->len);
      return FALSE;
    }
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u series, %u rows: %u new columns", series->len,
                    ds->n_rows, cols->len * p.per_col);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass lags_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "lags",
                         "causal per-series features: delta, lags, trailing window statistics",
                         lags_params, lags_inputs, lags_outputs),
    .run = lags_run,
};

LATHE_PLUGIN_DEFINE("transform-lags", "0.1.0", "MIT",
                    "lag, delta and trailing-window features of time series",
                    LATHE_COMPONENT(lags_class))
