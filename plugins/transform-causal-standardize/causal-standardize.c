/* transform/causal_standardize: z-scores of each series that use only the
 * past.
 *
 * Row t of a series (groups; none = one series) becomes
 *   (x_t - mean) / max(std, min_std)
 * where mean and std (population) are taken over the rows of the same series
 * up to t (include_current) or up to t-1, all of them (window 0, expanding)
 * or the last `window` of them. Rows with fewer than min_periods such rows
 * become 0: no statistic yet, so no evidence of anything unusual. A
 * train/test standardiser would leak the future into the past of a stream;
 * this one lets an online detector see exactly what it would have seen.
 *
 * Expanding statistics use Welford's update (stable over long series);
 * windowed ones use running sums of x - K, rebuilt from scratch every window
 * rows (as transform/rolling does).
 */
#include <math.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

static const LatheParamSpec cs_params[] = {
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the columns to standardise; [] = every column not in exclude"),
    LATHE_PARAM_LIST_("exclude", "[\"timestamp_days\",\"timestamp_sec\"]", LATHE_PARAM_STRING,
                      "columns left as they are when columns is []; names absent from the "
                      "input are ignored"),
    LATHE_PARAM_INT_("window", "0", 0, G_MAXINT32,
                     "rows of past statistics; 0 = every earlier row of the series (expanding)"),
    LATHE_PARAM_BOOL_("include_current", "true",
                      "whether row t is part of its own statistics (x_{<=t}) or not (x_{<t})"),
    LATHE_PARAM_INT_("min_periods", "2", 1, G_MAXINT32,
                     "rows of statistics needed before a z-score is given; fewer -> 0"),
    LATHE_PARAM_FLOAT_("min_std", "1e-6", 0.0, G_MAXFLOAT, 0,
                       "floor of the standard deviation, so a flat past does not divide by 0"),
    LATHE_PARAM_FLOAT_("clip", "0", 0.0, G_MAXFLOAT, 0,
                       "clip z-scores to [-clip, clip]; 0 = no clipping"),
    LATHE_PARAM_END,
};

static const LathePortSpec cs_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "a long table, rows in time order; groups = series (none = one series)"},
    {.name = NULL},
};

static const LathePortSpec cs_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "the same rows, columns, labels and groups, the chosen columns standardised in "
            "place"},
    {.name = NULL},
};

#define COMPONENT "transform/causal_standardize"

typedef struct {
  guint window, min_periods;
  gboolean include_current;
  double min_std, clip;
} Opts;

static gboolean string_list_ok(LatheContext *ctx, JsonArray *list, const char *param,
                               GError **error) {
  for (guint i = 0; list && i < json_array_get_length(list); i++)
    if (!json_array_get_string_element(list, i)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s[%u] is not a string",
                              param, i);
      return FALSE;
    }
  return TRUE;
}

/* Marks the columns to standardise in @chosen (n_cols flags). */
static gboolean choose_columns(LatheContext *ctx, const LatheDataset *ds, gboolean *chosen,
                               GError **error) {
  JsonArray *cols = lathe_context_param_list(ctx, "columns");
  JsonArray *excl = lathe_context_param_list(ctx, "exclude");
  if (!string_list_ok(ctx, cols, "columns", error) ||
      !string_list_ok(ctx, excl, "exclude", error))
    return FALSE;
  guint n = cols ? json_array_get_length(cols) : 0;
  g_autoptr(GArray) named =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_ALL_WHEN_EMPTY, error);
  if (!named) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  for (guint i = 0; n && i < named->len; i++)
    chosen[g_array_index(named, guint, i)] = TRUE;
  if (n)
    return TRUE;
  for (guint j = 0; j < ds->n_cols; j++)
    chosen[j] = TRUE;
  for (guint i = 0; excl && i < json_array_get_length(excl); i++) {
    gint j = lathe_dataset_column_index(ds, json_array_get_string_element(excl, i));
    if (j >= 0)
      chosen[j] = FALSE;
  }
  return TRUE;
}

static double zscore(const Opts *o, double x, double mean, double std) {
  double z = (x - mean) / MAX(std, o->min_std);
  if (o->clip > 0.0)
    z = CLAMP(z, -o->clip, o->clip);
  return z;
}

/* Expanding statistics (Welford). */
static void expanding(const Opts *o, const double *v, guint n, double *out) {
  double mean = 0.0, m2 = 0.0;
  guint count = 0;
  for (guint t = 0; t < n; t++) {
    if (o->include_current) {
      count++;
      double d = v[t] - mean;
      mean += d / count;
      m2 += d * (v[t] - mean);
    }
    out[t] = count >= o->min_periods ? zscore(o, v[t], mean, sqrt(MAX(m2, 0.0) / count)) : 0.0;
    if (!o->include_current) {
      count++;
      double d = v[t] - mean;
      mean += d / count;
      m2 += d * (v[t] - mean);
    }
  }
}

/* Statistics over the last o->window rows ending at t (or t-1). */
static void windowed(const Opts *o, const double *v, guint n, double *out) {
  guint w = o->window;
  double shift = 0.0, s1 = 0.0, s2 = 0.0;
  guint lo = 0, hi = 0, since = w; /* the sums cover v[lo..hi) */
  for (guint t = 0; t < n; t++) {
    guint end = o->include_current ? t + 1 : t; /* statistics over [start, end) */
    guint start = end > w ? end - w : 0;
    if (since >= w && end > start) {
      shift = v[end - 1];
      s1 = s2 = 0.0;
      for (guint j = start; j < end; j++) {
        double d = v[j] - shift;
        s1 += d;
        s2 += d * d;
      }
      since = 0;
    } else {
      for (guint j = hi; j < end; j++) {
        double d = v[j] - shift;
        s1 += d;
        s2 += d * d;
      }
      for (guint j = lo; j < start; j++) {
        double d = v[j] - shift;
        s1 -= d;
        s2 -= d * d;
      }
    }
    if (end > hi)
      since += end - hi;
    lo = start;
    hi = end;
    guint count = end - start;
    if (count < o->min_periods || count == 0) {
      out[t] = 0.0;
      continue;
    }
    double m = s1 / count, var = s2 / count - m * m;
    out[t] = zscore(o, v[t], shift + m, var > 0.0 ? sqrt(var) : 0.0);
  }
}

static gboolean cs_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input is a sequence dataset (seq_len %u); standardise the long table instead",
        ds->seq_len);
    return FALSE;
  }
  Opts o = {.window = (guint)lathe_context_param_int(ctx, "window"),
            .min_periods = (guint)lathe_context_param_int(ctx, "min_periods"),
            .include_current = lathe_context_param_bool(ctx, "include_current"),
            .min_std = lathe_context_param_float(ctx, "min_std"),
            .clip = lathe_context_param_float(ctx, "clip")};
  if (o.window && o.min_periods > o.window) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "min_periods %u is larger than window %u, so no row would get a z-score; lower it",
        o.min_periods, o.window);
    return FALSE;
  }
  g_autofree gboolean *chosen = g_new0(gboolean, ds->n_cols + 1);
  if (!choose_columns(ctx, ds, chosen, error))
    return FALSE;
  guint n_series = ds->groups ? ds->n_groups : 1;
  g_autofree guint *count = g_new0(guint, n_series + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups ? ds->groups[r] : 0;
    if (g < 0 || (guint)g >= n_series) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, COMPONENT,
          "row %u has no group (index %d); every row of a grouped table must belong to a "
          "series",
          r, g);
      return FALSE;
    }
    count[g]++;
    for (guint j = 0; j < ds->n_cols; j++)
      if (chosen[j] && !isfinite(ds->x[(gsize)r * ds->n_cols + j])) {
        lathe_context_set_error(
            ctx, error, LATHE_ERROR_DATA, COMPONENT,
            "non-finite value in row %u column '%s'; clean the data or leave the column out", r,
            ds->columns[j]);
        return FALSE;
      }
  }
  g_autoptr(LatheDataset) out = lathe_dataset_new(ds->n_rows, ds->n_cols);
  memcpy(out->x, ds->x, sizeof(float) * (gsize)ds->n_rows * ds->n_cols);
  for (guint j = 0; j < ds->n_cols; j++)
    lathe_dataset_set_column(out, j, ds->columns[j]);
  lathe_dataset_copy_targets(out, ds);
  /* Rows of each series in order: a series may be interleaved with others. */
  guint n_listed;
  g_autofree guint *offset = NULL;
  g_autofree guint *rows = lathe_dataset_series_rows(ds, &n_listed, &offset);
  g_assert(n_listed == n_series);
  guint longest = 1;
  for (guint g = 0; g < n_series; g++)
    longest = MAX(longest, count[g]);
  g_autofree double *v = g_new(double, longest);
  g_autofree double *z = g_new(double, longest);
  guint done = 0;
  for (guint g = 0; g < n_series; g++) {
    const guint *sr = rows + offset[g];
    for (guint j = 0; j < ds->n_cols; j++) {
      if (!chosen[j])
        continue;
      for (guint t = 0; t < count[g]; t++)
        v[t] = ds->x[(gsize)sr[t] * ds->n_cols + j];
      (o.window ? windowed : expanding)(&o, v, count[g], z);
      for (guint t = 0; t < count[g]; t++)
        out->x[(gsize)sr[t] * ds->n_cols + j] = (float)z[t];
      done++;
    }
    if (lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled after %u of %u series", g + 1, n_series);
      return FALSE;
    }
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u series, %u rows, %u series-columns standardised",
                    n_series, ds->n_rows, done);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass cs_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "causal_standardize",
                         "per-series z-scores from past-only (expanding or windowed) statistics",
                         cs_params, cs_inputs, cs_outputs),
    .run = cs_run,
};

LATHE_PLUGIN_DEFINE("transform-causal-standardize", "0.1.0", "MIT",
                    "causal standardisation of time series (no look-ahead)",
                    LATHE_COMPONENT(cs_class))
