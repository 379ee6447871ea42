/* transform/recording_features: one row of physical features per recording.
 *
 * Every feature is computed from one recording alone (its own median and IQR
 * normalise it), so a recording's offset or gain cannot decide its class and
 * its features do not depend on which other recordings are in the table.
 * Columns are found by name: current (f3), commanded position (f4), measured
 * positions (f1, f2). `time` is never read.
 *
 * Features (why each should carry over to unseen recordings):
 *  cur_max_n    (max f3 - median)/IQR: an electrical peak is large relative
 *               to the recording's own spread, whatever its offset or gain.
 *  cur_q99_n    99th percentile, normalised: peaks that are more than one sample.
 *  cur_q95_n    95th percentile, normalised: the upper body of the current.
 *  cur_peaks    fraction of samples above median + k*IQR: how often it peaks.
 *  strokes      f4 direction reversals per 1000 samples: the motion phases.
 *  stroke_rise  mean over strokes of (max of the first `rise` samples of the
 *               stroke - stroke median)/IQR: electrical faults peak at a
 *               stroke's start.
 *  stroke_max   max over strokes of the stroke's normalised max.
 *  stroke_std   mean over strokes of the stroke's current std / IQR.
 *  track41_mean mean |f4 - f1| / IQR(f4): commanded vs measured, mechanical.
 *  track41_max  max |f4 - f1| / IQR(f4).
 *  track21_mean mean |f2 - f1| / IQR(f1): two encoders disagree, mechanical.
 *  track21_max  max |f2 - f1| / IQR(f1).
 *
 * Absolute features, in the recording's own units (A for the current), by
 * name in `features` only. Normalising by the recording's IQR hides what
 * separates the classes best across recordings: the motor's peak current in
 * amperes (mechanical < ~4.4 A < normal < ~5.4 A < electrical on the raw
 * recordings), since an electrical edit of f3 also widens its IQR.
 *  cur_max          peak motor current, max f3.
 *  cur_q999         99.9th percentile of f3: a peak of more than a few samples.
 *  stroke_peak_med  median over strokes of the stroke's max f3: the typical
 *                   per-stroke peak, robust to one glitch.
 *  stroke_peak_q90  90th percentile over strokes of the stroke's max f3.
 *  cur_median       median f3.
 *  cur_iqr          IQR of f3.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

static const LatheParamSpec rf_params[] = {
    LATHE_PARAM_FLOAT_("peak_k", "3.0", 0, 1000, 0,
                       "a peak is a current sample above median + peak_k * IQR"),
    LATHE_PARAM_INT_("rise", "20", 1, 100000,
                     "samples at the start of a stroke that its rise is measured over"),
    LATHE_PARAM_LIST_("features", "[]", LATHE_PARAM_STRING,
                      "the features to output, in this order, among the 12 normalised ones "
                      "and cur_max cur_q999 stroke_peak_med stroke_peak_q90 cur_median "
                      "cur_iqr; [] = the 12 normalised ones"),
    LATHE_PARAM_END,
};

static const LathePortSpec rf_inputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "a long table with columns f1 f2 f3 f4; groups = recordings"},
    {.name = NULL},
};

static const LathePortSpec rf_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "one row of features per recording; label = its majority label, group = it"},
    {.name = NULL},
};

#define COMPONENT "transform/recording_features"
#define N_NORM 12 /* the default output: the normalised features */
#define N_FEAT 18

static const char *const feat_names[N_FEAT] = {
    "cur_max_n",    "cur_q99_n",   "cur_q95_n",       "cur_peaks",       "strokes",
    "stroke_rise",  "stroke_max",  "stroke_std",      "track41_mean",    "track41_max",
    "track21_mean", "track21_max", "cur_max",         "cur_q999",        "stroke_peak_med",
    "stroke_peak_q90", "cur_median", "cur_iqr"};

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Quantile of a sorted array, linear interpolation. */
static double quantile(const float *s, guint n, double q) {
  if (n == 0)
    return 0;
  double pos = q * (n - 1);
  guint i = (guint)pos;
  if (i + 1 >= n)
    return s[n - 1];
  return s[i] + (pos - i) * (s[i + 1] - s[i]);
}

/* Median and IQR of column col over rows [a, b); IQR floored so that a flat
 * signal does not divide by zero. */
static void robust(const LatheDataset *ds, guint col, guint a, guint b, float *buf, double *med,
                   double *iqr) {
  guint n = b - a;
  for (guint i = 0; i < n; i++)
    buf[i] = ds->x[(gsize)(a + i) * ds->n_cols + col];
  qsort(buf, n, sizeof(float), cmp_float);
  *med = quantile(buf, n, 0.5);
  *iqr = MAX(quantile(buf, n, 0.75) - quantile(buf, n, 0.25), 1e-6);
}

#define X(r, c) ((double)ds->x[(gsize)(r) * ds->n_cols + (c)])

/* Features of one recording, rows [a, b). */
static void features(const LatheDataset *ds, const guint col[4], guint a, guint b, double peak_k,
                     guint rise, float *buf, float *peaks_buf, float *out) {
  guint n = b - a, f1 = col[0], f2 = col[1], f3 = col[2], f4 = col[3];
  double med, iqr, m4, iqr4, m1, iqr1;
  robust(ds, f4, a, b, buf, &m4, &iqr4);
  robust(ds, f1, a, b, buf, &m1, &iqr1);
  robust(ds, f3, a, b, buf, &med, &iqr); /* last: buf stays the sorted current */
  out[0] = (float)((buf[n - 1] - med) / iqr);
  out[12] = buf[n - 1];
  out[13] = (float)quantile(buf, n, 0.999);
  out[16] = (float)med;
  out[17] = (float)iqr;
  out[1] = (float)((quantile(buf, n, 0.99) - med) / iqr);
  out[2] = (float)((quantile(buf, n, 0.95) - med) / iqr);
  guint peaks = 0;
  double t41 = 0, t41max = 0, t21 = 0, t21max = 0;
  for (guint r = a; r < b; r++) {
    if (X(r, f3) > med + peak_k * iqr)
      peaks++;
    double e41 = fabs(X(r, f4) - X(r, f1)), e21 = fabs(X(r, f2) - X(r, f1));
    t41 += e41;
    t21 += e21;
    t41max = MAX(t41max, e41);
    t21max = MAX(t21max, e21);
  }
  out[3] = (float)peaks / (float)n;
  out[8] = (float)(t41 / n / iqr4);
  out[9] = (float)(t41max / iqr4);
  out[10] = (float)(t21 / n / iqr1);
  out[11] = (float)(t21max / iqr1);

  /* Strokes: runs of f4 moving in one direction; a reversal starts a new one.
   * Steps where f4 does not move keep the current direction. */
  guint n_strokes = 0, start = a;
  int dir = 0;
  double rise_sum = 0, smax = -G_MAXDOUBLE, std_sum = 0;
  for (guint r = a + 1; r <= b; r++) {
    int d = 0;
    if (r < b) {
      double dv = X(r, f4) - X(r - 1, f4);
      d = dv > 0 ? 1 : dv < 0 ? -1 : 0;
    }
    gboolean end = r == b || (d != 0 && dir != 0 && d != dir);
    if (d != 0 && !end)
      dir = d;
    if (!end)
      continue;
    guint len = r - start;
    double s = 0, s2 = 0, mx = -G_MAXDOUBLE, head = -G_MAXDOUBLE;
    for (guint k = start; k < r; k++) {
      double v = (X(k, f3) - med) / iqr;
      s += v;
      s2 += v * v;
      mx = MAX(mx, v);
      if (k - start < rise)
        head = MAX(head, v);
    }
    peaks_buf[n_strokes] = (float)(mx * iqr + med);
    double mean = s / len;
    /* the stroke's median is approximated by its mean: cheap and per stroke */
    rise_sum += head - mean;
    smax = MAX(smax, mx);
    std_sum += sqrt(MAX(s2 / len - mean * mean, 0));
    n_strokes++;
    start = r;
    dir = d;
  }
  out[4] = (float)(1000.0 * n_strokes / n);
  out[5] = (float)(rise_sum / n_strokes);
  out[6] = (float)smax;
  out[7] = (float)(std_sum / n_strokes);
  qsort(peaks_buf, n_strokes, sizeof(float), cmp_float);
  out[14] = (float)quantile(peaks_buf, n_strokes, 0.5);
  out[15] = (float)quantile(peaks_buf, n_strokes, 0.9);
}

/* The output columns: `features` by name, or the normalised ones. Returns
 * how many, or 0 after an error. */
static guint select_features(LatheContext *ctx, guint *pick, GError **error) {
  JsonArray *want = lathe_context_param_list(ctx, "features");
  guint n = want ? json_array_get_length(want) : 0;
  if (n == 0) {
    for (guint j = 0; j < N_NORM; j++)
      pick[j] = j;
    return N_NORM;
  }
  if (n > N_FEAT) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "features lists %u names; there are %u features", n, N_FEAT);
    return 0;
  }
  for (guint i = 0; i < n; i++) {
    const char *name = json_array_get_string_element(want, i);
    pick[i] = G_MAXUINT;
    for (guint j = 0; j < N_FEAT; j++)
      if (g_strcmp0(name, feat_names[j]) == 0)
        pick[i] = j;
    if (pick[i] == G_MAXUINT) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "features: unknown feature '%s'; see the plugin's doc "
                              "(lathe plugins inspect transform/recording_features)",
                              name ? name : "(not a string)");
      return 0;
    }
  }
  return n;
}

static gboolean rf_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            "input is a sequence dataset; give the long table of recordings");
    return FALSE;
  }
  static const char *const want[4] = {"f1", "f2", "f3", "f4"};
  guint col[4];
  for (guint w = 0; w < 4; w++) {
    col[w] = G_MAXUINT;
    for (guint j = 0; j < ds->n_cols; j++)
      if (g_strcmp0(ds->columns[j], want[w]) == 0)
        col[w] = j;
    if (col[w] == G_MAXUINT) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "input has no column '%s'; it needs f1 f2 f3 f4", want[w]);
      return FALSE;
    }
  }
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, error);
  if (!runs) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  double peak_k = lathe_context_param_float(ctx, "peak_k");
  guint rise = (guint)lathe_context_param_int(ctx, "rise");
  guint longest = 0;
  for (guint i = 0; i < runs->len; i++) {
    const LatheRowRun *rec = &g_array_index(runs, LatheRowRun, i);
    longest = MAX(longest, rec->end - rec->start);
  }
  if (longest < 2) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT, "%s",
                            "every recording needs at least 2 rows");
    return FALSE;
  }
  guint pick[N_FEAT];
  guint n_out = select_features(ctx, pick, error);
  if (n_out == 0)
    return FALSE;
  g_autofree float *buf = g_new(float, longest);
  g_autofree float *peaks_buf = g_new(float, longest);
  float all[N_FEAT];
  g_autoptr(LatheDataset) out = lathe_dataset_new(runs->len, n_out);
  for (guint j = 0; j < n_out; j++)
    lathe_dataset_set_column(out, j, feat_names[pick[j]]);
  if (ds->labels)
    lathe_dataset_set_classes(out, (const char *const *)ds->classes);
  if (ds->groups)
    lathe_dataset_set_groups(out, (const char *const *)ds->group_names);
  for (guint i = 0; i < runs->len; i++) {
    const LatheRowRun *rec = &g_array_index(runs, LatheRowRun, i);
    if (rec->end - rec->start < 2) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                              "recording '%s' has fewer than 2 rows",
                              ds->groups ? ds->group_names[ds->groups[rec->start]] : "(all)");
      return FALSE;
    }
    features(ds, col, rec->start, rec->end, peak_k, rise, buf, peaks_buf, all);
    for (guint j = 0; j < n_out; j++)
      out->x[(gsize)i * n_out + j] = all[pick[j]];
    if (ds->labels)
      out->labels[i] = lathe_dataset_majority_label(ds, rec->start, rec->end);
    if (ds->groups)
      out->groups[i] = ds->groups[rec->start];
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u recordings -> %u features each", runs->len,
                    n_out);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass rf_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "recording_features",
                         "one row of normalised current, stroke and tracking features per recording",
                         rf_params, rf_inputs, rf_outputs),
    .run = rf_run,
};

LATHE_PLUGIN_DEFINE("transform-recording-features", "0.1.0", "MIT",
                    "physical features per recording (IDEKO)",
                    LATHE_COMPONENT(rf_class))
