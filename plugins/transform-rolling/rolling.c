/* transform/rolling: trailing-window statistics per recording of a long table.
 *
 * Row i of a recording gets the statistics of rows max(first, i-w+1)..i of
 * that recording: the window is causal (never looks ahead), restarts with
 * each recording, and is partial over its first w-1 rows. std is the
 * population standard deviation (ddof 0), as pandas' rolling(...).std(ddof=0).
 *
 * Mean and std come from running sums in double of x - K, where the shift K
 * is the current value and the sums are rebuilt from scratch every w rows.
 * The shift keeps the sum of squares from cancelling on signals with a large
 * offset (positions around 1800 mm that move by microns); rebuilding keeps K
 * close to the window as the signal travels (1800 to 1900 mm and back) and
 * bounds whatever rounding the running sums carry, at an amortised cost of
 * one extra pass. min and max use monotonic queues.
 */
#include <math.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "rolling-stats.h"

static const LatheParamSpec rolling_params[] = {
    LATHE_PARAM_INT_("window", "10", 1, G_MAXINT32,
                     "rows in the trailing window, current row included; partial over a "
                     "recording's first window-1 rows"),
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the columns to summarise; [] = every column"),
    {.name = "stats",
     .type = LATHE_PARAM_LIST,
     .default_json = "[\"mean\",\"std\"]",
     .item_type = LATHE_PARAM_ENUM,
     .choices = lathe_rolling_stat_names,
     .doc = "statistics, each a new column <col>_<stat><window>: mean, std (population, "
            "ddof 0), min, max"},
    LATHE_PARAM_BOOL_("keep", "true", "keep the original columns before the new ones"),
    LATHE_PARAM_END,
};

static const LathePortSpec rolling_inputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "a long table: groups = recordings (none = one recording)"},
    {.name = NULL},
};

static const LathePortSpec rolling_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "the same rows, with the original columns (when keep) then, per column, one "
            "column per statistic"},
    {.name = NULL},
};

#define COMPONENT "transform/rolling"

typedef LatheRowRun Recording;

/* The selected columns (all when the list is empty), each once. */
static GArray *selected_columns(LatheContext *ctx, const LatheDataset *ds, GError **error) {
  GArray *cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_ALL_WHEN_EMPTY, error);
  if (!cols)
    lathe_context_prefix_error(ctx, error, COMPONENT);
  return cols;
}

static GArray *selected_stats(LatheContext *ctx, GError **error) {
  g_autoptr(GArray) stats =
      lathe_context_param_enum_list(ctx, "stats", lathe_rolling_stat_names, error);
  if (!stats) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return NULL;
  }
  if (stats->len == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            "stats is empty; ask for at least one of mean, std, min, max");
    return NULL;
  }
  return g_steal_pointer(&stats);
}

/* Reads column @col of rows [start, end) of @ds into @v (doubles). */
static void gather(const LatheDataset *ds, guint col, guint start, guint end, double *v) {
  for (guint r = start; r < end; r++)
    v[r - start] = ds->x[(gsize)r * ds->n_cols + col];
}

/* Rejects NaN and Inf in the summarised columns: one would poison every
 * window it falls in and, through the running sums, the rows after it. */
static gboolean check_finite(LatheContext *ctx, const LatheDataset *ds, GArray *cols,
                             GError **error) {
  for (guint r = 0; r < ds->n_rows; r++)
    for (guint i = 0; i < cols->len; i++) {
      guint c = g_array_index(cols, guint, i);
      float v = ds->x[(gsize)r * ds->n_cols + c];
      if (!isfinite(v)) {
        lathe_context_set_error(
            ctx, error, LATHE_ERROR_DATA, COMPONENT,
            "%s in row %u column '%s' of input 'data'; clean the data or leave the "
            "column out of columns",
            isnan(v) ? "NaN"
            : v > 0  ? "Inf"
                     : "-Inf",
            r, ds->columns[c]);
        return FALSE;
      }
    }
  return TRUE;
}

/* Output column names; refuses a clash with a kept input column. */
static gboolean name_columns(LatheContext *ctx, const LatheDataset *ds, LatheDataset *out,
                             GArray *cols, GArray *stats, guint w, gboolean keep,
                             GError **error) {
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  guint base = keep ? ds->n_cols : 0;
  for (guint j = 0; j < base; j++) {
    lathe_dataset_set_column(out, j, ds->columns[j]);
    g_hash_table_add(names, ds->columns[j]);
  }
  for (guint i = 0; i < cols->len; i++)
    for (guint s = 0; s < stats->len; s++) {
      guint j = base + i * stats->len + s;
      g_autofree char *name =
          g_strdup_printf("%s_%s%u", ds->columns[g_array_index(cols, guint, i)],
                          lathe_rolling_stat_names[g_array_index(stats, guint, s)], w);
      lathe_dataset_set_column(out, j, name);
      if (!g_hash_table_add(names, out->columns[j])) {
        lathe_context_set_error(
            ctx, error, LATHE_ERROR_INVALID, COMPONENT,
            "the new column '%s' has the name of another column; rename the input "
            "column or set keep=false",
            name);
        return FALSE;
      }
    }
  return TRUE;
}

static gboolean rolling_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input is a sequence dataset (seq_len %u); apply transform/rolling to the long "
        "table, before transform/window or transform/pad",
        ds->seq_len);
    return FALSE;
  }
  guint w = (guint)CLAMP(lathe_context_param_int(ctx, "window"), 1, G_MAXINT32);
  gboolean keep = lathe_context_param_bool(ctx, "keep");
  g_autoptr(GArray) cols = selected_columns(ctx, ds, error);
  g_autoptr(GArray) stats = cols ? selected_stats(ctx, error) : NULL;
  if (!stats || !check_finite(ctx, ds, cols, error))
    return FALSE;
  /* The recordings of a long table, in row order; a group split into several
   * runs of rows is refused, since its windows would straddle other data. */
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, error);
  if (!runs) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }

  guint base = keep ? ds->n_cols : 0;
  guint n_out = base + cols->len * stats->len;
  g_autoptr(LatheDataset) out = lathe_dataset_new(ds->n_rows, n_out);
  if (!name_columns(ctx, ds, out, cols, stats, w, keep, error))
    return FALSE;
  lathe_dataset_copy_targets(out, ds);
  for (guint r = 0; keep && r < ds->n_rows; r++)
    memcpy(out->x + (gsize)r * n_out, ds->x + (gsize)r * ds->n_cols,
           sizeof(float) * ds->n_cols);

  guint longest = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    longest = MAX(longest, rec->end - rec->start);
  }
  g_autofree double *v = g_new(double, longest + 1);
  g_autofree double *res = g_new(double, (gsize)LATHE_N_STATS *(longest + 1));
  g_autofree guint *queue = g_new(guint, longest + 1);
  double *by_stat[LATHE_N_STATS];
  for (guint s = 0; s < LATHE_N_STATS; s++)
    by_stat[s] = res + (gsize)s * (longest + 1);
  gboolean want[LATHE_N_STATS] = {FALSE};
  for (guint s = 0; s < stats->len; s++)
    want[g_array_index(stats, guint, s)] = TRUE;

  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    guint n = rec->end - rec->start;
    for (guint k = 0; k < cols->len; k++) {
      gather(ds, g_array_index(cols, guint, k), rec->start, rec->end, v);
      if (want[LATHE_STAT_MEAN] || want[LATHE_STAT_STD])
        lathe_rolling_moments(v, n, w, by_stat[LATHE_STAT_MEAN], by_stat[LATHE_STAT_STD]);
      if (want[LATHE_STAT_MIN])
        lathe_rolling_extreme(v, n, w, 1, queue, by_stat[LATHE_STAT_MIN]);
      if (want[LATHE_STAT_MAX])
        lathe_rolling_extreme(v, n, w, -1, queue, by_stat[LATHE_STAT_MAX]);
      for (guint s = 0; s < stats->len; s++) {
        const double *src = by_stat[g_array_index(stats, guint, s)];
        guint col = base + k * stats->len + s;
        for (guint r = 0; r < n; r++)
          out->x[(gsize)(rec->start + r) * n_out + col] = (float)src[r];
      }
    }
    if (lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled after %u of %u recordings", i + 1, runs->len);
      return FALSE;
    }
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%u recordings, %u rows: %u columns x %u statistics over %u rows", runs->len,
                    ds->n_rows, cols->len, stats->len, w);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass rolling_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "rolling",
                         "trailing-window mean/std/min/max per recording, as new columns",
                         rolling_params, rolling_inputs, rolling_outputs),
    .run = rolling_run,
};

LATHE_PLUGIN_DEFINE("transform-rolling", "0.1.0", "MIT",
                    "rolling (trailing window) statistics within each recording",
                    LATHE_COMPONENT(rolling_class))
