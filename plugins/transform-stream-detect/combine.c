/* transform/score_max: the row-wise maximum of several detectors' scores,
 * one new column. Meant for scores already on one scale (the causal ranks
 * of transform/causal_rank, each in [0, 1]): an alarm of either detector is
 * an alarm of the combination. Row t's output reads row t only, so it keeps
 * every input's streaming contract.
 *
 * method "fisher": a maximum adds every detector's false alarms at the one
 * threshold; Fisher's combination of p-values (R. A. Fisher, Statistical
 * Methods for Research Workers, 1925, section 21.1) rewards agreement
 * instead. A causal rank u is the share of the series' earlier scores below
 * this one, so 1 - u is its empirical p-value (0 for a new maximum, hence
 * the floor); the output is -sum log10(max(1 - u_i, floor)), on no fixed
 * scale: rank it again (transform/causal_rank) before a threshold. floor 0
 * is the rank's own resolution, 1/(t + 1) at the t-th row of a series
 * (counted from 0): a new maximum among 800 rows is a 1-in-800 event, not a
 * 1-in-10,000 one, so the rows just after a short history do not all look
 * like agreements (a causal count: rows of the series up to t).
 *
 * wait_all: detectors start at different rows (a seasonal one only once it
 * has its period), and a combination whose terms switch on one by one
 * shifts up when the last one starts, so its own rank fires there (NAB: in
 * 35 of 53 files at the first scored row). With it the output is 0 until
 * every column has been nonzero once in the series, so that a causal_rank
 * with skip_leading_zeros ranks only rows where all of them score. Whether
 * a column has started is known at the row.
 *
 * pvalue: Fisher's own test rather than its statistic. Under independence
 * -2 ln prod p_i is chi-square with 2k degrees of freedom, k the terms, so
 * the output is -log10 of that tail, 10^-F sum_{i<k} (F ln 10)^i / i! at
 * F = -sum log10 p_i, and k counts only the terms started in the series.
 * That puts rows with three terms and rows with six on one scale, so the
 * combination need not wait for its last detector. probation_percent > 0:
 * a column also counts as started after the series' NAB probationary rows
 * (a detector still at 0 then finds nothing unusual: a seasonal one on a
 * perfectly periodic series), not only once nonzero. */
#include <math.h>

#include "stream.h"

static const LatheParamSpec mx_params[] = {
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the score columns to combine (two or more, on one scale)"),
    LATHE_PARAM_STRING_("output", "\"score_max\"", 0, "the new column's name"),
    LATHE_PARAM_STRING_("method", "\"max\"", 0,
                        "\"max\" = the largest score; \"fisher\" = -sum log10(max(1 - u, "
                        "floor)) of causal ranks u (agreement counts)"),
    LATHE_PARAM_FLOAT_("floor", "0.0001", 0, 1, 0,
                       "method fisher: the smallest p-value 1 - u (a new maximum has 0); 0 = "
                       "1/(t + 1) at the t-th row of its series (the rank's resolution)"),
    LATHE_PARAM_BOOL_("wait_all", "false",
                      "output 0 at a series' rows until every column has been nonzero once "
                      "in it (every detector has started)"),
    LATHE_PARAM_BOOL_("pvalue", "false",
                      "method fisher: output -log10 of Fisher's combined p-value (the "
                      "chi-square tail, 2k degrees of freedom over the k columns started)"),
    LATHE_PARAM_FLOAT_("probation_percent", "0", 0, 1, 0,
                       "> 0: a column counts as started (wait_all, pvalue) after NAB's "
                       "probationary rows, min(floor(p n), p 5000), as well as once nonzero"),
    LATHE_PARAM_END,
};

/* -log10 of the chi-square tail with 2k degrees of freedom at 2 ln(10) f. */
static double fisher_pvalue(double f, guint k) {
  if (k == 0)
    return 0.0;
  const double x = f * G_LN10;
  double term = 1, sum = 0;
  for (guint i = 0; i < k; i++) {
    sum += term;
    term *= x / (i + 1);
  }
  return MAX(0.0, f - log10(sum));
}

static gboolean mx_run(LatheContext *ctx, GError **error) {
  const char *C = "transform/score_max";
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  g_autoptr(GArray) cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_NONEMPTY, error);
  if (!cols) {
    lathe_context_prefix_error(ctx, error, C);
    return FALSE;
  }
  if (cols->len < 2) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "param columns lists %u column; list two or more", cols->len);
    return FALSE;
  }
  const char *name = lathe_context_param_string(ctx, "output");
  if (!name || !*name || lathe_dataset_column_index(ds, name) >= 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "param output '%s' is empty or already a column; name a new one",
                            name ? name : "");
    return FALSE;
  }
  const char *method = lathe_context_param_string(ctx, "method");
  const gboolean fisher = g_strcmp0(method, "fisher") == 0;
  if (!fisher && g_strcmp0(method, "max")) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "method '%s' is unknown; use \"max\" or \"fisher\"",
                            method ? method : "");
    return FALSE;
  }
  const double floor_p = lathe_context_param_float(ctx, "floor");
  const gboolean wait_all = lathe_context_param_bool(ctx, "wait_all");
  const gboolean pvalue = lathe_context_param_bool(ctx, "pvalue");
  if (pvalue && !fisher) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "pvalue is for method \"fisher\"; set method or drop pvalue");
    return FALSE;
  }
  /* per series, the columns not yet started, and its probationary rows */
  g_autofree guint *waiting = g_new(guint, ds->n_groups + 1);
  g_autofree guint *probation = g_new0(guint, ds->n_groups + 1);
  for (guint g = 0; g <= ds->n_groups; g++)
    waiting[g] = wait_all || pvalue ? cols->len : 0;
  if (lathe_context_param_float(ctx, "probation_percent") > 0) {
    for (guint r = 0; r < ds->n_rows; r++) /* the series' lengths first */
      probation[ds->groups && ds->groups[r] >= 0 ? ds->groups[r] : (gint32)ds->n_groups]++;
    for (guint g = 0; g <= ds->n_groups; g++)
      probation[g] = probation[g] ? lathe_stream_probation(ctx, probation[g]) : 0;
  }
  g_autofree guint8 *started = g_new0(guint8, (gsize)(ds->n_groups + 1) * cols->len);
  /* rows seen per series (floor 0, probation); row r's group -1 or none = one series */
  g_autofree guint64 *seen = g_new0(guint64, ds->n_groups + 1);
  const guint d = ds->n_cols;
  const guint *src = (const guint *)(gconstpointer)cols->data;
  const char *names[] = {name};
  g_autoptr(LatheDataset) out = lathe_dataset_add_columns(ds, names, 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    float m = -INFINITY;
    double f = 0;
    const gint32 g = ds->groups && ds->groups[r] >= 0 ? ds->groups[r] : (gint32)ds->n_groups;
    const double fl = floor_p > 0 ? floor_p : 1.0 / (double)(seen[g] + 1);
    seen[g]++;
    for (guint i = 0; i < cols->len; i++) {
      m = MAX(m, ds->x[(gsize)r * d + src[i]]);
      f -= log10(MAX(1.0 - ds->x[(gsize)r * d + src[i]], fl));
    }
    /* seen[g] counts the rows up to this one: past the probation from index probation */
    const gboolean past = probation[g] && seen[g] > probation[g];
    for (guint i = 0; waiting[g] && i < cols->len; i++)
      if (!started[(gsize)g * cols->len + i] && (past || ds->x[(gsize)r * d + src[i]] != 0.0f)) {
        started[(gsize)g * cols->len + i] = 1;
        waiting[g]--;
      }
    if (wait_all && waiting[g])
      f = m = 0;
    else if (pvalue)
      f = fisher_pvalue(f, cols->len - waiting[g]);
    out->x[(gsize)r * (d + 1) + d] = fisher ? (float)f : m;
  }
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

const LatheTransformClass lathe_stream_score_max_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "score_max",
                         "the row-wise maximum (or Fisher's combination) of several score "
                         "columns (a combination of detectors' causal ranks)",
                         mx_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = mx_run,
};
