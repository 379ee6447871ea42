/* The per-series driver of the streaming detectors (see stream.h). */
#include <math.h>
#include <string.h>

#include "stream.h"

const LathePortSpec lathe_stream_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "a long table, rows of each series in time order; groups = series"},
    {.name = NULL},
};

const LathePortSpec lathe_stream_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "the same rows, columns, labels and groups, then one <column><suffix> score per "
            "chosen column (higher = more anomalous); row t's score reads rows <= t of its "
            "series only"},
    {.name = NULL},
};

gboolean lathe_stream_range_update(gboolean running, double *lo, double *hi, double x) {
  if (!running || (x >= *lo && x <= *hi))
    return FALSE;
  *lo = MIN(*lo, x);
  *hi = MAX(*hi, x);
  return TRUE;
}

guint lathe_stream_probation(LatheContext *ctx, guint n) {
  const double p = lathe_context_param_float(ctx, "probation_percent");
  return (guint)MIN(floor(p * n), p * 5000.0);
}

/* Scores one series (rows @rows[0..n) of the input, column @c) into
 * @out[rows[t] * @stride]. */
static void score_series(LatheContext *ctx, const LatheStreamDetector *det, const float *x,
                         guint d, guint c, const guint *rows, guint n, float *out,
                         guint stride) {
  LatheStreamSeries series = {.n = n};
  guint first = 0; /* the first row scored by the detector */
  if (det->probation_range) {
    series.probation = lathe_stream_probation(ctx, n);
    series.running = g_strcmp0(lathe_context_param_string(ctx, "range"), "running") == 0;
    first = MIN(MAX(series.probation, 1u), n);
    series.lo = INFINITY;
    series.hi = -INFINITY;
    for (guint t = 0; t < first; t++) {
      if (!series.running)
        lathe_stream_range_update(TRUE, &series.lo, &series.hi, x[(gsize)rows[t] * d + c]);
      out[(gsize)rows[t] * stride] = 0.0f;
    }
  }
  gpointer st = det->state_new(ctx, &series);
  for (guint t = 0; t < first; t++) /* learned, not scored: the range came from them */
    det->step(st, x[(gsize)rows[t] * d + c]);
  for (guint t = first; t < n; t++)
    out[(gsize)rows[t] * stride] = (float)det->step(st, x[(gsize)rows[t] * d + c]);
  det->state_free(st);
}

gboolean lathe_stream_detect_run(LatheContext *ctx, const LatheStreamDetector *det,
                                 GError **error) {
  const char *C = det->component;
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "input is a sequence dataset (seq_len %u); give it the long table",
                            ds->seq_len);
    return FALSE;
  }
  if (det->probation_range) {
    const char *range = lathe_context_param_string(ctx, "range");
    if (g_strcmp0(range, "probation") && g_strcmp0(range, "running")) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                              "range '%s' is unknown; use \"probation\" or \"running\"",
                              range ? range : "");
      return FALSE;
    }
  }
  const char *suffix = lathe_context_param_string(ctx, "suffix");
  if (!suffix || !*suffix)
    suffix = det->suffix;
  g_autoptr(GArray) cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_NONEMPTY, error);
  if (!cols) {
    lathe_context_prefix_error(ctx, error, C);
    return FALSE;
  }
  const guint k = cols->len, d = ds->n_cols;
  const guint *src = (const guint *)(gconstpointer)cols->data;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < k; i++) {
    g_autofree char *out_name = g_strconcat(ds->columns[src[i]], suffix, NULL);
    if (lathe_dataset_column_index(ds, out_name) >= 0) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                              "the input already has a column '%s'; set another suffix",
                              out_name);
      return FALSE;
    }
    g_ptr_array_add(names, g_steal_pointer(&out_name));
  }
  for (guint r = 0; r < ds->n_rows; r++)
    for (guint i = 0; i < k; i++)
      if (!isfinite(ds->x[(gsize)r * d + src[i]])) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, C,
                                "row %u column '%s' is not a finite number; clean the series "
                                "first",
                                r, ds->columns[src[i]]);
        return FALSE;
      }
  g_autoptr(LatheDataset) out = lathe_dataset_add_columns(ds, (const char *const *)names->pdata, k);

  /* Rows of each series in order: series may be interleaved. */
  guint n_series;
  g_autofree guint *offset = NULL;
  g_autofree guint *rows = lathe_dataset_series_rows(ds, &n_series, &offset);
  for (guint g = 0; g < n_series; g++) {
    for (guint i = 0; i < k; i++)
      score_series(ctx, det, ds->x, d, src[i], rows + offset[g], offset[g + 1] - offset[g],
                   out->x + d + i, d + k);
    if (lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, C,
                              "cancelled after %u of %u series", g + 1, n_series);
      return FALSE;
    }
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u series, %u rows, %u columns scored", n_series,
                    ds->n_rows, k);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}
