/* evaluator/nab: the Numenta Anomaly Benchmark score of anomaly scores.
 *
 * Input "scores": one row per time step, in time order within each file; the
 * groups name the files as NAB's keys ("realKnownCause/nyc_taxi.csv", the
 * paths relative to NAB's data/ folder, as source/timeseries writes them), so
 * one node scores several files. The time of a row is
 * days_column * 86400 + seconds_column (source/timeseries's exact split of
 * epoch seconds, since float32 cannot hold them), or seconds_column alone when
 * days_column is "". Rows are scored in their order, as NAB does; a time
 * only locates the window edges: as in NAB, a window starts at the first row
 * whose time equals its start and ends at the first row whose time equals its
 * end (NAB's files repeat times around clock changes). An edge that is no row's
 * time falls back to the first row at or after the start, or the last row at
 * or before the end. Files whose times go back at more than 1% of the steps
 * are refused as shuffled.
 *
 * Thresholds: "global" is NAB's optimiser (one threshold maximising the
 * summed score of all the files); "leave_one_out" scores each file with the
 * threshold that maximises the summed score of the other files, so no file is
 * scored with a threshold fitted on its own labels.
 *
 * Candidates: with score_columns (several detectors' scores side by side)
 * the column is chosen together with the threshold and the same way: the
 * (column, threshold) pair with the best summed score over all files
 * (global), or for each file over the other files (leave_one_out, i.e.
 * nested leave-one-file-out selection: no file's own labels pick its column
 * or its threshold). What each column scores alone is reported too.
 *
 * Alarm suppression: with refractory_fractions the detector, after firing,
 * stays silent for floor(fraction x the file's rows) rows (nab-refractory.c).
 * Several fractions are candidates chosen with the column and threshold, the
 * same way; [0] is NAB's plain thresholding and uses NAB's sweep unchanged.
 *
 * Normalisation is NAB's: 100 (S - S_null) / (S_perfect - S_null), S_perfect
 * = A_TP x the windows the labels list, S_null the null detector's score (a
 * constant score with its threshold optimised: the better of detecting
 * nothing and everything). The same formula per file gives the per-file
 * normalised scores; the summed score is normalised with summed null and
 * perfect scores. The scoring itself is in nab-score.c. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "nab-internal.h"

static const char *const mode_choices[] = {"global", "leave_one_out", NULL};

static const LatheParamSpec nab_params[] = {
    LATHE_PARAM_STRING_("windows", NULL, LATHE_PARAM_REQUIRED,
                        "NAB's combined_windows.json, relative to the pipeline's folder"),
    LATHE_PARAM_STRING_("score_column", "\"pred_0\"", 0,
                        "the anomaly score column (higher = more anomalous)"),
    LATHE_PARAM_LIST_("score_columns", "[]", LATHE_PARAM_STRING,
                      "candidate score columns (several detectors); [] = score_column alone. "
                      "The column is chosen with the threshold, the same way: on all files "
                      "(global) or, for each file, on the other files (leave_one_out), the "
                      "first listed winning ties"),
    LATHE_PARAM_STRING_("days_column", "\"timestamp_days\"", 0,
                        "whole days since 1970-01-01 UTC; \"\" when seconds_column holds "
                        "epoch seconds"),
    LATHE_PARAM_STRING_("seconds_column", "\"timestamp_sec\"", 0,
                        "seconds into the day (or epoch seconds when days_column is \"\")"),
    LATHE_PARAM_STRING_("value_column", "\"value\"", 0,
                        "the series the metrics artifact keeps for pictures (min/max "
                        "downsampled to at most 600 points per file, member \"series\"); "
                        "the first score column when the input has no such column"),
    LATHE_PARAM_STRING_("file", "\"\"", 0,
                        "the NAB key of the file when the scores have no groups"),
    LATHE_PARAM_LIST_("profiles", "[\"standard\", \"reward_low_FP\", \"reward_low_FN\"]",
                      LATHE_PARAM_STRING,
                      "NAB profiles to score: standard (A_TP 1, A_FP 0.11, A_FN 1), "
                      "reward_low_FP (1, 0.22, 1), reward_low_FN (1, 0.11, 2)"),
    LATHE_PARAM_ENUM_("threshold_mode", "\"global\"", mode_choices,
                      "global: one threshold maximising the summed score (NAB); "
                      "leave_one_out: each file's threshold chosen on the other files"),
    LATHE_PARAM_LIST_("refractory_fractions", "[0.0]", LATHE_PARAM_FLOAT,
                      "alarm suppression: after firing, the detector stays silent for "
                      "floor(fraction x the file's rows) rows. Several values are candidates, "
                      "chosen with the column and threshold the same way (the first listed "
                      "winning ties); [0.0] = NAB's detector"),
    LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0.0, 1.0, 0,
                       "leading fraction of each file never scored (NAB: 0.15, at most "
                       "0.15 * 5000 rows)"),
    LATHE_PARAM_END,
};

static const LathePortSpec nab_inputs[] = {
    {.name = "scores",
     .type = LATHE_TYPE_DATASET,
     .doc = "time steps with time columns and an anomaly score; groups = NAB file keys"},
    {.name = NULL},
};

static const LathePortSpec nab_outputs[] = {
    {.name = "metrics",
     .type = LATHE_TYPE_METRICS,
     .doc = "per profile: raw and normalised scores summed and per file, thresholds, "
            "TP/FP/FN windows and detections, and per file the detection rows counted "
            "(detections: {tp, fp, truncated}); series: per file the value_column "
            "downsampled ({column, rows, row, y, time, windows: [{rows, time}]})"},
    {.name = NULL},
};

#define COMPONENT "evaluator/nab"
/* Every refusal in nab_run leaves through its cleanup at `out`. */
#define FAIL(code, ...)                                                                            \
  do {                                                                                             \
    lathe_context_set_error(ctx, error, (code), COMPONENT, __VA_ARGS__);                           \
    goto out;                                                                                      \
  } while (0)

/* One file's rows, times and windows. */
typedef struct {
  char *name;
  GArray *rows; /* guint row indices into the dataset, in order */
  double *time;
  double **score; /* per candidate column */
  guint n_scores;
  GArray *left, *right;
  guint n_labelled;
  LatheNabFile *file; /* per candidate column */
} File;

static void file_free(gpointer p) {
  File *f = p;
  g_free(f->name);
  g_array_unref(f->rows);
  g_free(f->time);
  for (guint c = 0; c < f->n_scores; c++)
    g_free(f->score[c]);
  g_free(f->score);
  g_free(f->file);
  if (f->left)
    g_array_unref(f->left);
  if (f->right)
    g_array_unref(f->right);
  g_free(f);
}

static double normalized(double s, double null, double perfect) {
  return perfect > null ? 100.0 * (s - null) / (perfect - null) : NAN;
}

static void set_result(JsonObject *o, LatheNabResult r, double threshold, double null,
                       double perfect) {
  json_object_set_double_member(o, "score", r.score);
  double norm = normalized(r.score, null, perfect);
  if (isfinite(norm))
    json_object_set_double_member(o, "normalized", norm);
  else
    json_object_set_null_member(o, "normalized");
  if (isfinite(threshold))
    json_object_set_double_member(o, "threshold", threshold);
  json_object_set_double_member(o, "null", null);
  json_object_set_double_member(o, "perfect", perfect);
  json_object_set_int_member(o, "tp", r.tp);
  json_object_set_int_member(o, "fp", r.fp);
  json_object_set_int_member(o, "fn", r.fn);
}

/* A candidate column (index into score_columns), refractory fraction
 * (index into refractory_fractions), a threshold, and the summed score they
 * reach on the files they were chosen on. */
typedef struct {
  guint column, fraction;
  double threshold, score;
} Choice;

/* Everything one profile's choices read: rows[c][k] are file k's rows with
 * candidate column c's scores; steps[r][c] the merged traced scores of
 * column c with refractory fraction r (NULL for a fraction of 0, which uses
 * NAB's sweep, sweeps[c]). Each (fraction, column, file left out) is swept
 * once and remembered in best_th and best_s (index memo_index()): the
 * choice over all columns and each column's own choice ask for the same
 * ones. */
typedef struct {
  guint nf, n_cols, n_fracs;
  const double *fracs;
  LatheNabRows **rows;
  LatheNabSweep *sweeps;
  LatheNabSteps **steps;
  double *best_th, *best_s;
  gboolean *known;
} Candidates;

static guint silent_rows(const Candidates *cd, guint r, guint k) {
  return lathe_nab_refractory_rows(cd->rows[0][k].n, cd->fracs[r]);
}

static gsize memo_index(const Candidates *cd, guint r, guint c, gint skip) {
  return ((gsize)r * cd->n_cols + c) * (cd->nf + 1) + (gsize)(skip + 1);
}

/* The best threshold and its summed score for fraction @r and column @c over
 * every file but @skip (-1: all files). */
static double best_for(const Candidates *cd, guint r, guint c, gint skip,
                       const LatheNabProfile *p, double *s) {
  const gsize i = memo_index(cd, r, c, skip);
  if (!cd->known[i]) {
    if (cd->steps[r])
      cd->best_th[i] = lathe_nab_steps_best(&cd->steps[r][c], skip,
                                            cd->sweeps[c].no_detection, &cd->best_s[i]);
    else
      cd->best_th[i] = lathe_nab_sweep_best(&cd->sweeps[c], skip, p, &cd->best_s[i]);
    cd->known[i] = TRUE;
  }
  *s = cd->best_s[i];
  return cd->best_th[i];
}

/* The candidate column, refractory fraction and threshold that maximise the
 * summed score of every file but @skip (-1: of all files), over columns
 * [c0, c1). The first fraction, then the first column, wins ties, so the
 * list order is a stated preference, not an accident of the sweep. */
static Choice choose(const Candidates *cd, guint c0, guint c1, gint skip,
                     const LatheNabProfile *p) {
  Choice best = {c0, 0, 0.0, -INFINITY};
  for (guint r = 0; r < cd->n_fracs; r++) {
    for (guint c = c0; c < c1; c++) {
      double s, th = best_for(cd, r, c, skip, p, &s);
      if (s > best.score)
        best = (Choice){c, r, th, s};
    }
  }
  return best;
}

/* The choice for file @k: chosen on the other files (loo) or @global. */
static Choice choice_for(const Candidates *cd, guint c0, guint c1, guint k, gboolean loo,
                         Choice global, const LatheNabProfile *p) {
  if (!loo)
    return global;
  if (cd->nf > 1)
    return choose(cd, c0, c1, (gint)k, p);
  /* no other file to learn from: detect nothing */
  return (Choice){c0, 0, lathe_nab_no_detection(cd->rows[c0], cd->nf), NAN};
}

static LatheNabResult score_file(const Candidates *cd, Choice ch, guint k,
                                 const LatheNabProfile *p) {
  return lathe_nab_score_refractory(&cd->rows[ch.column][k], p, ch.threshold,
                                    silent_rows(cd, ch.fraction, k));
}

/* The most false-positive rows a file lists: a detector that fires on most
 * rows would otherwise put the whole file in the artifact. */
#define MAX_FP_ROWS 500

/* The rows file @k's choice counted: {tp: [the scoring row of each detected
 * window], fp: [detections outside windows, at most MAX_FP_ROWS], truncated}. */
static JsonObject *detections(const Candidates *cd, Choice ch, guint k, const LatheNabProfile *p) {
  g_autoptr(GArray) tp = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) fp = g_array_new(FALSE, FALSE, sizeof(guint));
  lathe_nab_score_detections(&cd->rows[ch.column][k], p, ch.threshold,
                             silent_rows(cd, ch.fraction, k), tp, fp);
  JsonObject *o = json_object_new();
  GArray *lists[] = {tp, fp};
  const char *names[] = {"tp", "fp"};
  for (guint l = 0; l < 2; l++) {
    JsonArray *a = json_array_new();
    for (guint i = 0; i < MIN(lists[l]->len, MAX_FP_ROWS); i++)
      json_array_add_int_element(a, g_array_index(lists[l], guint, i));
    json_object_set_array_member(o, names[l], a);
  }
  json_object_set_boolean_member(o, "truncated", fp->len > MAX_FP_ROWS);
  return o;
}

/* Scores every file for one profile; fills @po. rows[c][k] are file k's rows
 * with candidate column c's scores. */
static void score_profile(LatheContext *ctx, GPtrArray *files, const LatheNabProfile *p,
                          double probation, gboolean loo, char **columns, guint n_cols,
                          const double *fracs, guint n_fracs, JsonObject *po) {
  const guint nf = files->len;
  LatheNabRows **rows = g_new0(LatheNabRows *, n_cols);
  for (guint c = 0; c < n_cols; c++) {
    rows[c] = g_new0(LatheNabRows, nf);
    for (guint k = 0; k < nf; k++)
      lathe_nab_rows_init(&rows[c][k], &((File *)files->pdata[k])->file[c], p, probation);
  }
  const gsize n_memo = (gsize)n_fracs * n_cols * (nf + 1);
  Candidates cd = {nf, n_cols, n_fracs, fracs, rows, g_new0(LatheNabSweep, n_cols),
                   g_new0(LatheNabSteps *, n_fracs), g_new(double, n_memo),
                   g_new(double, n_memo), g_new0(gboolean, n_memo)};
  for (guint c = 0; c < n_cols; c++)
    lathe_nab_sweep_init(&cd.sweeps[c], rows[c], nf);
  g_autofree LatheNabCurve *curves = g_new0(LatheNabCurve, nf);
  for (guint r = 0; r < n_fracs; r++) {
    if (fracs[r] <= 0.0)
      continue;
    cd.steps[r] = g_new0(LatheNabSteps, n_cols);
    for (guint c = 0; c < n_cols; c++) {
      for (guint k = 0; k < nf; k++)
        lathe_nab_curve_init(&curves[k], &rows[c][k], p, silent_rows(&cd, r, k));
      lathe_nab_steps_init(&cd.steps[r][c], curves, nf);
      for (guint k = 0; k < nf; k++)
        lathe_nab_curve_clear(&curves[k]);
    }
  }
  Choice global = choose(&cd, 0, n_cols, -1, p);
  LatheNabResult total = {0};
  double perfect_total = 0;
  JsonObject *per_file = json_object_new();
  for (guint k = 0; k < nf; k++) {
    File *f = files->pdata[k];
    Choice ch = choice_for(&cd, 0, n_cols, k, loo, global, p);
    LatheNabResult r = score_file(&cd, ch, k, p);
    double perfect = p->tp * f->n_labelled;
    JsonObject *fo = json_object_new();
    set_result(fo, r, ch.threshold, lathe_nab_null_score(&rows[0][k], 1, -1, p), perfect);
    if (n_cols > 1)
      json_object_set_string_member(fo, "column", columns[ch.column]);
    json_object_set_double_member(fo, "refractory_fraction", fracs[ch.fraction]);
    json_object_set_int_member(fo, "refractory_rows", silent_rows(&cd, ch.fraction, k));
    json_object_set_object_member(fo, "detections", detections(&cd, ch, k, p));
    json_object_set_object_member(per_file, f->name, fo);
    total.score += r.score;
    total.tp += r.tp;
    total.fp += r.fp;
    total.fn += r.fn;
    perfect_total += perfect;
  }
  double null_total = lathe_nab_null_score(rows[0], nf, -1, p);
  set_result(po, total, loo ? NAN : global.threshold, null_total, perfect_total);
  if (!loo) {
    json_object_set_double_member(po, "best_score", global.score);
    if (n_cols > 1)
      json_object_set_string_member(po, "column", columns[global.column]);
    json_object_set_double_member(po, "refractory_fraction", fracs[global.fraction]);
  }
  json_object_set_object_member(po, "files", per_file);
  g_autofree char *raw = g_strdup_printf("%s_raw", p->name);
  double norm_total = normalized(total.score, null_total, perfect_total);
  if (isfinite(norm_total)) /* no windows at all: nothing to normalise against */
    lathe_context_set_metric(ctx, p->name, norm_total);
  lathe_context_set_metric(ctx, raw, total.score);
  if (!loo) {
    g_autofree char *thn = g_strdup_printf("%s_threshold", p->name);
    lathe_context_set_metric(ctx, thn, global.threshold);
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%s: raw %.3f, normalised %.2f (null %.2f, perfect %.2f)",
                    p->name, total.score, norm_total,
                    null_total, perfect_total);

  /* With several candidates, what each would have scored alone (its
   * threshold chosen the same way), so the cost or gain of choosing the
   * column on the other files is visible. */
  if (n_cols > 1) {
    JsonObject *co = json_object_new();
    for (guint c = 0; c < n_cols; c++) {
      double s = 0.0;
      Choice all = choose(&cd, c, c + 1, -1, p);
      for (guint k = 0; k < nf; k++)
        s += score_file(&cd, choice_for(&cd, c, c + 1, k, loo, all, p), k, p).score;
      double norm = normalized(s, null_total, perfect_total);
      JsonObject *one = json_object_new();
      json_object_set_double_member(one, "score", s);
      if (isfinite(norm)) {
        json_object_set_double_member(one, "normalized", norm);
        g_autofree char *mn = g_strdup_printf("%s_%s", p->name, columns[c]);
        lathe_context_set_metric(ctx, mn, norm);
      }
      json_object_set_object_member(co, columns[c], one);
    }
    json_object_set_object_member(po, "candidates", co);
  }
  for (guint r = 0; r < n_fracs; r++) {
    for (guint c = 0; cd.steps[r] && c < n_cols; c++)
      lathe_nab_steps_clear(&cd.steps[r][c]);
    g_free(cd.steps[r]);
  }
  g_free(cd.steps);
  for (guint c = 0; c < n_cols; c++)
    lathe_nab_sweep_clear(&cd.sweeps[c]);
  g_free(cd.sweeps);
  g_free(cd.best_th);
  g_free(cd.best_s);
  g_free(cd.known);
  for (guint c = 0; c < n_cols; c++) {
    for (guint k = 0; k < nf; k++)
      lathe_nab_rows_clear(&rows[c][k]);
    g_free(rows[c]);
  }
  g_free(rows);
}

/* Reads the windows of every file from @root (the parsed JSON). */
static gboolean load_windows(LatheContext *ctx, JsonObject *root, GPtrArray *files,
                             const char *path, GError **error) {
  gboolean ok = FALSE;
  for (guint k = 0; k < files->len; k++) {
    File *f = files->pdata[k];
    JsonNode *node = json_object_get_member(root, f->name);
    if (!node)
      FAIL(LATHE_ERROR_DATA, "%s has no windows for file '%s'; the groups must be NAB keys "
           "like \"realKnownCause/nyc_taxi.csv\"", path, f->name);
    if (!JSON_NODE_HOLDS_ARRAY(node))
      FAIL(LATHE_ERROR_DATA, "%s: the windows of '%s' are not a list", path, f->name);
    JsonArray *wins = json_node_get_array(node);
    f->left = g_array_new(FALSE, FALSE, sizeof(guint));
    f->right = g_array_new(FALSE, FALSE, sizeof(guint));
    f->n_labelled = json_array_get_length(wins);
    double prev_end = -INFINITY;
    for (guint w = 0; w < f->n_labelled; w++) {
      JsonNode *wn = json_array_get_element(wins, w);
      JsonArray *pair = JSON_NODE_HOLDS_ARRAY(wn) ? json_node_get_array(wn) : NULL;
      double t0, t1;
      const char *s0 = NULL, *s1 = NULL;
      if (pair && json_array_get_length(pair) == 2 &&
          JSON_NODE_TYPE(json_array_get_element(pair, 0)) == JSON_NODE_VALUE &&
          JSON_NODE_TYPE(json_array_get_element(pair, 1)) == JSON_NODE_VALUE) {
        s0 = json_array_get_string_element(pair, 0);
        s1 = json_array_get_string_element(pair, 1);
      }
      if (!s0 || !s1 || !lathe_nab_parse_time(s0, &t0) || !lathe_nab_parse_time(s1, &t1) ||
          t1 < t0)
        FAIL(LATHE_ERROR_DATA, "%s: window %u of '%s' is not [\"YYYY-MM-DD HH:MM:SS.ffffff\", "
             "later time]", path, w + 1, f->name);
      if (t0 <= prev_end)
        FAIL(LATHE_ERROR_DATA, "%s: window %u of '%s' overlaps or precedes the one before; "
             "list windows in time order", path, w + 1, f->name);
      prev_end = t1;
      guint a = lathe_nab_locate(f->time, f->rows->len, t0, TRUE),
            b = lathe_nab_locate(f->time, f->rows->len, t1, FALSE);
      if (a == G_MAXUINT || b == G_MAXUINT || b < a) {
        lathe_context_log(ctx, G_LOG_LEVEL_WARNING, "window %u of '%s' [%s, %s] has no rows",
                          w + 1, f->name, s0, s1);
        continue;
      }
      if (f->right->len > 0 && a <= g_array_index(f->right, guint, f->right->len - 1))
        FAIL(LATHE_ERROR_DATA, "%s: window %u of '%s' starts at row %u, inside the window "
             "before it; windows must not overlap", path, w + 1, f->name, a);
      g_array_append_val(f->left, a);
      g_array_append_val(f->right, b);
    }
    f->file = g_new(LatheNabFile, f->n_scores);
    for (guint c = 0; c < f->n_scores; c++)
      f->file[c] = (LatheNabFile){.n = f->rows->len, .score = f->score[c],
                                  .n_windows = f->left->len,
                                  .win_left = (guint *)f->left->data,
                                  .win_right = (guint *)f->right->data,
                                  .n_labelled = f->n_labelled};
  }
  ok = TRUE;
out:
  return ok;
}

/* Points per file in the artifact's series: 2 per column (min and max). */
#define SERIES_COLUMNS 300

/* Per file: @col's values min/max-downsampled against the row (the x axis
 * of the picture: rows are what windows and detections count in), the first
 * and last time, and the windows as row and time ranges. */
static JsonObject *series(const LatheDataset *ds, gint col, const char *col_name, GPtrArray *files) {
  JsonObject *all = json_object_new();
  for (guint k = 0; k < files->len; k++) {
    File *f = files->pdata[k];
    const guint n = f->rows->len;
    g_autofree double *x = g_new(double, n + 1), *y = g_new(double, n + 1);
    for (guint i = 0; i < n; i++) {
      x[i] = i;
      y[i] = ds->x[(gsize)g_array_index(f->rows, guint, i) * ds->n_cols + col];
    }
    g_autoptr(GArray) keep = lathe_downsample_minmax(x, y, n, SERIES_COLUMNS);
    JsonArray *ra = json_array_new(), *ya = json_array_new();
    for (guint j = 0; j < keep->len; j++) {
      guint i = g_array_index(keep, guint, j);
      json_array_add_int_element(ra, i);
      json_array_add_double_element(ya, y[i]);
    }
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "column", col_name);
    json_object_set_int_member(o, "rows", n);
    json_object_set_array_member(o, "row", ra);
    json_object_set_array_member(o, "y", ya);
    JsonArray *ta = json_array_new();
    json_array_add_double_element(ta, n ? f->time[0] : NAN);
    json_array_add_double_element(ta, n ? f->time[n - 1] : NAN);
    json_object_set_array_member(o, "time", ta);
    JsonArray *wa = json_array_new();
    for (guint w = 0; w < f->left->len; w++) {
      guint a = g_array_index(f->left, guint, w), b = g_array_index(f->right, guint, w);
      JsonObject *wo = json_object_new();
      JsonArray *wr = json_array_new(), *wt = json_array_new();
      json_array_add_int_element(wr, a);
      json_array_add_int_element(wr, b);
      json_array_add_double_element(wt, f->time[a]);
      json_array_add_double_element(wt, f->time[b]);
      json_object_set_array_member(wo, "rows", wr);
      json_object_set_array_member(wo, "time", wt);
      json_array_add_object_element(wa, wo);
    }
    json_object_set_array_member(o, "windows", wa);
    json_object_set_object_member(all, f->name, o);
  }
  return all;
}

static gboolean nab_run(LatheContext *ctx, GError **error) {
  gboolean ok = FALSE;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(file_free);
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *wpath = NULL;
  g_autoptr(GPtrArray) profiles = g_ptr_array_new();
  g_autofree gint *slot = NULL;
  g_autofree char *text = NULL, *digest = NULL;
  g_auto(GStrv) columns = NULL;
  g_autofree gint *sc = NULL;
  g_autofree double *fracs = NULL;
  g_autoptr(GError) e = NULL;
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "scores", error);
  if (!ds)
    return FALSE;

  JsonArray *pl = lathe_context_param_list(ctx, "profiles");
  for (guint i = 0; pl && i < json_array_get_length(pl); i++) {
    const char *name = json_array_get_string_element(pl, i);
    const LatheNabProfile *p = lathe_nab_profile(name);
    if (!p)
      FAIL(LATHE_ERROR_INVALID, "param profiles: unknown profile '%s'; use standard, "
           "reward_low_FP or reward_low_FN", name ? name : "(not a string)");
    g_ptr_array_add(profiles, (gpointer)p);
  }
  if (profiles->len == 0)
    FAIL(LATHE_ERROR_INVALID, "param profiles is empty; list at least one profile");

  /* Candidate score columns: score_columns, or score_column alone. */
  JsonArray *cl = lathe_context_param_list(ctx, "score_columns");
  const guint n_cand = cl && json_array_get_length(cl) > 0 ? json_array_get_length(cl) : 1;
  columns = g_new0(char *, n_cand + 1);
  sc = g_new(gint, n_cand);
  for (guint c = 0; c < n_cand; c++) {
    const char *name = cl && json_array_get_length(cl) > 0
                           ? json_array_get_string_element(cl, c)
                           : lathe_context_param_string(ctx, "score_column");
    if (!name || !*name)
      FAIL(LATHE_ERROR_INVALID, "param score_columns: item %u is not a column name", c + 1);
    for (guint d = 0; d < c; d++)
      if (g_str_equal(columns[d], name))
        FAIL(LATHE_ERROR_INVALID, "param score_columns lists '%s' twice; list each candidate "
             "once", name);
    columns[c] = g_strdup(name);
    sc[c] = lathe_dataset_column_index(ds, name);
    if (sc[c] < 0)
      FAIL(LATHE_ERROR_INVALID, "the scores have no column '%s'; set score_column (or "
           "score_columns) to columns of the input", name);
  }
  const char *days_name = lathe_context_param_string(ctx, "days_column");
  const char *sec_name = lathe_context_param_string(ctx, "seconds_column");
  gint sec = lathe_dataset_column_index(ds, sec_name);
  gint dc = days_name && *days_name ? lathe_dataset_column_index(ds, days_name) : -2;
  if (sec < 0 || dc == -1)
    FAIL(LATHE_ERROR_INVALID, "the scores have no column '%s'; set days_column and "
         "seconds_column to columns of the input", sec < 0 ? sec_name : days_name);

  /* Files: the groups, in order of first appearance. */
  const char *single = lathe_context_param_string(ctx, "file");
  if (!ds->groups && !(single && *single))
    FAIL(LATHE_ERROR_INVALID, "the scores have no groups; read them with source/timeseries "
         "(one group per file) or set param file to the NAB key of the one file");
  slot = g_new(gint, ds->groups ? ds->n_groups + 1 : 1);
  for (guint g = 0; g < (ds->groups ? ds->n_groups : 1); g++)
    slot[g] = -1;
  for (guint r = 0; r < ds->n_rows; r++) {
    gint g = ds->groups ? ds->groups[r] : 0;
    if (g < 0 || (ds->groups && (guint)g >= ds->n_groups))
      FAIL(LATHE_ERROR_DATA, "row %u has no file (group); every row must belong to one", r);
    if (slot[g] < 0) {
      File *f = g_new0(File, 1);
      f->name = g_strdup(ds->groups ? ds->group_names[g] : single);
      f->rows = g_array_new(FALSE, FALSE, sizeof(guint));
      slot[g] = (gint)files->len;
      g_ptr_array_add(files, f);
    }
    g_array_append_val(((File *)files->pdata[slot[g]])->rows, r);
  }
  if (files->len == 0)
    FAIL(LATHE_ERROR_DATA, "the scores have no rows");
  for (guint k = 0; k < files->len; k++) {
    File *f = files->pdata[k];
    const guint n = f->rows->len;
    guint back = 0, first_back = 0;
    f->time = g_new(double, n);
    f->n_scores = n_cand;
    f->score = g_new(double *, n_cand);
    for (guint c = 0; c < n_cand; c++)
      f->score[c] = g_new(double, n);
    for (guint i = 0; i < n; i++) {
      const float *row = ds->x + (gsize)g_array_index(f->rows, guint, i) * ds->n_cols;
      f->time[i] = (dc >= 0 ? (double)row[dc] * 86400.0 : 0.0) + (double)row[sec];
      if (!isfinite(f->time[i]))
        FAIL(LATHE_ERROR_DATA, "file '%s', step %u: the time is not finite; drop or "
             "impute such rows before scoring", f->name, i);
      for (guint c = 0; c < n_cand; c++) {
        f->score[c][i] = row[sc[c]];
        if (!isfinite(f->score[c][i]))
          FAIL(LATHE_ERROR_DATA, "file '%s', step %u: the score '%s' is not finite; drop or "
               "impute such rows before scoring", f->name, i, columns[c]);
      }
      if (i > 0 && f->time[i] < f->time[i - 1] && back++ == 0)
        first_back = i;
    }
    /* NAB scores rows in file order and its own files go back in time now
     * and then (machine_temperature_system_failure.csv, once); rows out of
     * order by more than that mean shuffled or split data. */
    if (back > 0 && back * 100 > n)
      FAIL(LATHE_ERROR_DATA, "file '%s', step %u: the timestamps are not increasing (%u of "
           "%u steps go back in time); score rows in time order, unshuffled", f->name,
           first_back, back, n);
  }

  wpath = lathe_context_resolve_path(ctx, lathe_context_param_string(ctx, "windows"), NULL,
                                     error);
  if (!wpath)
    goto out;
  gsize size = 0;
  if (!g_file_get_contents(wpath, &text, &size, &e))
    FAIL(LATHE_ERROR_IO, "cannot read windows %s: %s", wpath, e->message);
  digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)text, size);
  lathe_context_add_data_version(ctx, wpath, digest);
  parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize)size, &e))
    FAIL(LATHE_ERROR_DATA, "%s: %s", wpath, e->message);
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    FAIL(LATHE_ERROR_DATA, "%s: expected an object mapping file keys to windows", wpath);
  if (!load_windows(ctx, json_node_get_object(root), files, wpath, error))
    goto out;

  const gboolean loo =
      g_strcmp0(lathe_context_param_string(ctx, "threshold_mode"), "leave_one_out") == 0;
  const double probation = lathe_context_param_float(ctx, "probation_percent");
  JsonArray *fl = lathe_context_param_list(ctx, "refractory_fractions");
  const guint n_fracs = fl && json_array_get_length(fl) > 0 ? json_array_get_length(fl) : 1;
  fracs = g_new0(double, n_fracs);
  for (guint r = 0; fl && r < json_array_get_length(fl); r++) {
    fracs[r] = json_array_get_double_element(fl, r);
    if (!(fracs[r] >= 0.0 && fracs[r] < 1.0))
      FAIL(LATHE_ERROR_INVALID, "param refractory_fractions: item %u is %g; use fractions of "
           "the file's rows in [0, 1)", r + 1, fracs[r]);
    for (guint d = 0; d < r; d++)
      if (fracs[d] == fracs[r])
        FAIL(LATHE_ERROR_INVALID, "param refractory_fractions lists %g twice; list each "
             "candidate once", fracs[r]);
  }
  JsonObject *metrics = json_object_new();
  json_object_set_string_member(metrics, "threshold_mode", loo ? "leave_one_out" : "global");
  json_object_set_double_member(metrics, "probation_percent", probation);
  json_object_set_int_member(metrics, "files", files->len);
  JsonArray *ca = json_array_new();
  for (guint c = 0; c < n_cand; c++)
    json_array_add_string_element(ca, columns[c]);
  json_object_set_array_member(metrics, "score_columns", ca);
  JsonArray *fa = json_array_new();
  for (guint r = 0; r < n_fracs; r++)
    json_array_add_double_element(fa, fracs[r]);
  json_object_set_array_member(metrics, "refractory_fractions", fa);
  JsonObject *po = json_object_new();
  for (guint i = 0; i < profiles->len; i++) {
    const LatheNabProfile *p = profiles->pdata[i];
    JsonObject *one = json_object_new();
    score_profile(ctx, files, p, probation, loo, columns, n_cand, fracs, n_fracs, one);
    json_object_set_object_member(po, p->name, one);
  }
  json_object_set_object_member(metrics, "profiles", po);
  const char *vname = lathe_context_param_string(ctx, "value_column");
  gint vc = vname && *vname ? lathe_dataset_column_index(ds, vname) : -1;
  json_object_set_object_member(metrics, "series", series(ds, vc >= 0 ? vc : sc[0],
                                                          vc >= 0 ? vname : columns[0], files));
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(metrics));
  ok = TRUE;
out:
  return ok;
}

static const LatheEvaluatorClass nab_class = {
    LATHE_COMPONENT_INIT(LatheEvaluatorClass, LATHE_KIND_EVALUATOR, "nab",
                         "Numenta Anomaly Benchmark scores (three profiles, NAB's threshold "
                         "sweep or leave-one-file-out, normalised 0..100)",
                         nab_params, nab_inputs, nab_outputs),
    .run = nab_run,
};

LATHE_PLUGIN_DEFINE("evaluator-nab", "0.1.0", "MIT",
                    "Numenta Anomaly Benchmark scoring of anomaly scores",
                    LATHE_COMPONENT(nab_class))
