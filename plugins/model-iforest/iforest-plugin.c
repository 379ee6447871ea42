/* model/iforest: scikit-learn's IsolationForest (Liu, Ting and Zhou 2008).
 *
 * This file is the component: params, input checks, the contamination offset
 * and the ABI callbacks. Growing and scoring are in iforest-tree.c, the blob
 * in iforest-state.c.
 *
 * predict returns two columns per row:
 *   0  the anomaly score s(x) = 2^(-E[h(x)] / c(psi)) in (0, 1]; higher is
 *      more anomalous (sklearn's score_samples is -s(x));
 *   1  1 when the row is an anomaly by the contamination offset
 *      (sklearn's predict == -1, i.e. decision_function = -s(x) - offset < 0),
 *      else 0.
 * Labels of the training data, if any, are ignored. With param columns the
 * trees see only those columns, so a dataset can carry its timestamps through
 * the model to transform/predict and evaluator/nab.
 *
 * fit_rows "probation" grows one forest per group of the training data (one
 * per series), each on the first min(floor(p n), p 5000) rows of its group
 * (p = probation_percent; NAB's probation period, whose rows NAB never
 * scores), and predict scores each row with its group's forest: the detector
 * of a series has seen nothing of that series after its probation period. */
#include <math.h>
#include <string.h>

#include "iforest-internal.h"

#define COMPONENT "model/iforest"

static gboolean parse_number(const char *s, double *out, gboolean *integral) {
  if (!s || !*s)
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod(s, &end);
  if (end == s || *end != '\0' || !isfinite(v))
    return FALSE;
  *out = v;
  *integral = strpbrk(s, ".eE") == NULL;
  return TRUE;
}

/* ABI 1.3 checks: these values are wrong whatever the data, so they are
 * refused when the pipeline is validated (exit 2), not when the node runs. */
static gboolean check_contamination(const LatheParamSpec *spec, JsonNode *value, char **why) {
  const char *s = json_node_get_string(value);
  double c;
  gboolean integral;
  if (g_strcmp0(s, "auto") == 0 || (parse_number(s, &c, &integral) && c > 0.0 && c <= 0.5))
    return TRUE;
  *why = parse_number(s, &c, &integral)
             ? g_strdup_printf("%s is outside (0, 0.5]; use \"auto\" or a fraction such as 0.05", s)
             : g_strdup_printf("'%s' is not \"auto\" or a fraction in (0, 0.5] such as 0.05", s);
  return FALSE;
}

static gboolean check_max_samples(const LatheParamSpec *spec, JsonNode *value, char **why) {
  const char *s = json_node_get_string(value);
  double v;
  gboolean integral;
  if (g_strcmp0(s, "auto") == 0 ||
      (parse_number(s, &v, &integral) && (integral ? v >= 2 : v > 0.0 && v <= 1.0)))
    return TRUE;
  *why = g_strdup_printf("'%s' is not \"auto\", a count of at least 2 rows, or a fraction in "
                         "(0, 1] such as 0.5", s);
  return FALSE;
}

static const char *const fit_rows_choices[] = {"all", "probation", NULL};

static const LatheParamSpec iforest_params[] = {
    LATHE_PARAM_INT_("n_estimators", "100", 1, 100000, "number of isolation trees"),
    {.name = "max_samples", .type = LATHE_PARAM_STRING, .default_json = "\"auto\"",
     .flags = LATHE_PARAM_NUMBER_AS_STRING, .check = check_max_samples,
     .doc = "rows per tree: \"auto\" = min(256, rows), an integer count (128), or a "
            "fraction of the rows (0.5)"},
    {.name = "contamination", .type = LATHE_PARAM_STRING, .default_json = "\"auto\"",
     .flags = LATHE_PARAM_NUMBER_AS_STRING, .check = check_contamination,
     .doc = "\"auto\" (offset -0.5, as in the paper) or the expected fraction of anomalies in "
            "(0, 0.5] (0.05), which sets the offset to that quantile of the training scores"},
    {.name = "max_features",
     .type = LATHE_PARAM_FLOAT,
     .default_json = "1.0",
     .min = 0.0,
     .max = 1e9,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "columns per tree: a fraction in (0, 1] of the columns, or a whole count > 1"},
    LATHE_PARAM_BOOL_("bootstrap", "false",
                      "draw each tree's rows with replacement instead of without"),
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the feature columns, by name; [] = every column. Predict data keeps "
                      "the training columns (times, ids) and the model picks these"),
    LATHE_PARAM_ENUM_("fit_rows", "\"all\"", fit_rows_choices,
                      "all: one forest on every training row; probation: one forest per "
                      "group (series), each on its group's first min(floor(p n), p 5000) "
                      "rows (p = probation_percent), and predict scores a row with its "
                      "group's forest"),
    LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0.0, 1.0, 0,
                       "p for fit_rows probation (NAB: 0.15)"),
    LATHE_PARAM_END,
};

static gboolean bad_param(LatheContext *ctx, GError **error, const char *param,
                          const char *value, const char *what) {
  lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                          "param %s = %s is invalid; %s", param, value, what);
  return FALSE;
}

/* A number filling the whole string, else FALSE. */
static gboolean resolve_max_samples(LatheContext *ctx, guint n, guint *psi, GError **error) {
  const char *s = lathe_context_param_string(ctx, "max_samples");
  double v;
  gboolean integral;
  if (g_strcmp0(s, "auto") == 0) {
    *psi = MIN(256u, n);
  } else if (!parse_number(s, &v, &integral)) {
    return bad_param(ctx, error, "max_samples", s,
                     "use \"auto\", a row count like \"256\" or a fraction like \"0.5\"");
  } else if (integral) {
    if (v < 1.0)
      return bad_param(ctx, error, "max_samples", s, "a row count must be >= 1");
    if (v > n) {
      lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                        "max_samples %s is more than the %u rows; using all rows", s, n);
      v = n;
    }
    *psi = (guint)v;
  } else {
    if (!(v > 0.0 && v <= 1.0))
      return bad_param(ctx, error, "max_samples", s, "a fraction must be in (0, 1]");
    *psi = (guint)(v * n);
  }
  if (*psi < 2) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "max_samples %s gives %u row per tree on %u rows; "
                            "a tree needs at least 2",
                            s, *psi, n);
    return FALSE;
  }
  return TRUE;
}

static gboolean resolve_contamination(LatheContext *ctx, double *c, GError **error) {
  const char *s = lathe_context_param_string(ctx, "contamination");
  gboolean integral;
  if (g_strcmp0(s, "auto") == 0) {
    *c = 0.0;
    return TRUE;
  }
  if (!parse_number(s, c, &integral) || !(*c > 0.0 && *c <= 0.5))
    return bad_param(ctx, error, "contamination", s,
                     "use \"auto\" or a fraction in (0, 0.5] like \"0.05\"");
  return TRUE;
}

static gboolean resolve_max_features(LatheContext *ctx, guint d, guint *mf, GError **error) {
  double v = lathe_context_param_float(ctx, "max_features");
  g_autofree char *text = g_strdup_printf("%g", v);
  if (!(v > 0.0))
    return bad_param(ctx, error, "max_features", text, "it must be > 0");
  if (v <= 1.0) {
    *mf = MAX(1u, (guint)(v * d));
  } else {
    if (v != floor(v))
      return bad_param(ctx, error, "max_features", text,
                       "above 1 it is a column count and must be whole");
    if (v > d) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "param max_features = %s is more than the %u "
                              "columns of the data; use at most %u or a fraction",
                              text, d, d);
      return FALSE;
    }
    *mf = (guint)v;
  }
  return TRUE;
}

/* Copies the @k columns @use of @ds into a new n x k matrix, refusing
 * non-finite values. */
static float *gather(const LatheDataset *ds, const guint32 *use, guint k, const char *what,
                     GError **error) {
  float *x = g_new(float, (gsize)ds->n_rows * k + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    const float *src = ds->x + (gsize)r * ds->n_cols;
    for (guint j = 0; j < k; j++) {
      float v = src[use[j]];
      if (!isfinite(v)) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                    "model/iforest: %s row %u, column '%s' is %g; impute or drop non-finite "
                    "values before the model",
                    what, r, ds->columns[use[j]], (double)v);
        g_free(x);
        return NULL;
      }
      x[(gsize)r * k + j] = v;
    }
  }
  return x;
}

/* The input columns named by param columns, or all of them. */
static guint32 *resolve_columns(LatheContext *ctx, const LatheDataset *ds, guint *k,
                                GError **error) {
  g_autoptr(GArray) cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_ALL_WHEN_EMPTY, error);
  if (!cols) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return NULL;
  }
  guint32 *use = g_new(guint32, cols->len + 1);
  for (guint i = 0; i < cols->len; i++)
    use[i] = g_array_index(cols, guint, i);
  *k = cols->len;
  return use;
}

/* One forest on the @n x @k rows @x, with sklearn's contamination offset. */
static LatheIforest *grow_one(const float *x, guint n, guint k, guint d, const guint32 *use,
                              guint n_trees, const LatheIforestGrowParams *p,
                              double contamination) {
  LatheIforest *f = lathe_iforest_grow(x, n, k, n_trees, p);
  f->contamination = contamination;
  f->n_input = d;
  memcpy(f->use, use, k * sizeof(guint32));
  if (contamination > 0.0) {
    /* sklearn: offset_ = percentile(score_samples(X), 100 * contamination),
     * with score_samples = -s. */
    double *s = g_new(double, n);
    lathe_iforest_score(f, x, n, p->threads, s);
    for (guint i = 0; i < n; i++)
      s[i] = -s[i];
    f->offset = lathe_iforest_percentile(s, n, 100.0 * contamination);
    g_free(s);
  }
  return f;
}

/* fit_rows "probation": a forest per group, on its first rows; each with its
 * own seed derived from the node's and the group's name, so a group's forest
 * does not depend on the other groups. */
static LatheIforest *fit_groups(LatheContext *ctx, const LatheDataset *train, const float *x,
                                guint k, guint n_trees, const LatheIforestGrowParams *base,
                                double contamination, const guint32 *use, GError **error) {
  const double pct = lathe_context_param_float(ctx, "probation_percent");
  if (!train->groups || train->n_groups == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "param fit_rows = probation needs groups (one per "
                            "series) in the training data; read it with source/timeseries or use "
                            "fit_rows all");
    return NULL;
  }
  guint *count = g_new0(guint, train->n_groups + 1);
  for (guint r = 0; r < train->n_rows; r++)
    if (train->groups[r] >= 0 && (guint)train->groups[r] < train->n_groups)
      count[train->groups[r]]++;
  guint used = 0;
  for (guint g = 0; g < train->n_groups; g++)
    used += count[g] > 0;
  LatheIforest *f = lathe_iforest_new_groups(used);
  float *sub = g_new(float, (gsize)train->n_rows * k + 1);
  guint slot = 0;
  for (guint g = 0; g < train->n_groups; g++) {
    if (count[g] == 0)
      continue;
    const guint m = lathe_iforest_probation_rows(count[g], pct);
    if (m < 2) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                              "group '%s' has %u rows, so its probation period "
                              "(probation_percent %g) has %u; a forest needs at least 2 rows",
                              train->group_names[g], count[g], pct, m);
      goto fail;
    }
    guint taken = 0;
    for (guint r = 0; r < train->n_rows && taken < m; r++)
      if (train->groups[r] == (gint32)g)
        memcpy(sub + (gsize)taken++ * k, x + (gsize)r * k, k * sizeof(float));
    LatheIforestGrowParams p = *base;
    p.seed = lathe_seed_derive(base->seed, train->group_names[g]);
    if (!resolve_max_samples(ctx, m, &p.max_samples, error))
      goto fail;
    f->group_names[slot] = g_strdup(train->group_names[g]);
    f->group[slot] = grow_one(sub, m, k, train->n_cols, use, n_trees, &p, contamination);
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "group '%s': forest on its first %u of %u rows",
                      train->group_names[g], m, count[g]);
    slot++;
  }
  g_free(sub);
  g_free(count);
  lathe_context_set_metric(ctx, "groups", used);
  return f;
fail:
  g_free(sub);
  g_free(count);
  lathe_iforest_free(f);
  return NULL;
}

static gpointer iforest_fit(LatheContext *ctx, const LatheDataset *train,
                            const LatheDataset *valid, GError **error) {
  const guint n = train->n_rows, d = train->n_cols;
  if (n < 2 || d == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                            "the training data has %u rows and %u columns; it "
                            "needs at least 2 rows and 1 column",
                            n, d);
    return NULL;
  }
  LatheIforestGrowParams p = {.bootstrap = lathe_context_param_bool(ctx, "bootstrap"),
                              .seed = lathe_context_seed(ctx),
                              .threads = MAX(1u, lathe_context_threads(ctx))};
  double contamination;
  guint k = 0;
  g_autofree guint32 *use = resolve_columns(ctx, train, &k, error);
  if (!use || !resolve_max_samples(ctx, n, &p.max_samples, error) ||
      !resolve_contamination(ctx, &contamination, error) ||
      !resolve_max_features(ctx, k, &p.max_features, error))
    return NULL;
  g_autofree float *x = gather(train, use, k, "training", error);
  if (!x)
    return NULL;
  if (valid)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "the valid input is not used by model/iforest");
  guint n_trees = (guint)lathe_context_param_int(ctx, "n_estimators");

  LatheIforest *f;
  if (g_strcmp0(lathe_context_param_string(ctx, "fit_rows"), "probation") == 0) {
    f = fit_groups(ctx, train, x, k, n_trees, &p, contamination, use, error);
    if (!f)
      return NULL;
  } else {
    f = grow_one(x, n, k, d, use, n_trees, &p, contamination);
    lathe_context_set_metric(ctx, "offset", f->offset);
    lathe_context_set_metric(ctx, "max_samples", f->max_samples);
  }
  if (lathe_context_is_cancelled(ctx)) {
    lathe_iforest_free(f);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "model/iforest: cancelled");
    return NULL;
  }
  lathe_context_set_metric(ctx, "n_nodes", lathe_iforest_n_nodes(f));
  lathe_context_progress(ctx, 1.0, "done");
  return f;
}

/* Scores each row of @data with the forest of its group (fit_rows
 * probation); @x holds the gathered feature columns. */
static gboolean score_groups(const LatheIforest *f, const LatheDataset *data, const float *x,
                             double *s, double *offset, GError **error) {
  const guint k = f->group[0]->n_features;
  if (!data->groups) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/iforest: the model has one forest per group (fit_rows probation) but "
                "the data has no groups; predict on data with the training groups");
    return FALSE;
  }
  gint *forest_of = g_new(gint, data->n_groups + 1);
  for (guint g = 0; g < data->n_groups; g++) {
    forest_of[g] = -1;
    for (guint j = 0; j < f->n_groups; j++)
      if (g_strcmp0(data->group_names[g], f->group_names[j]) == 0)
        forest_of[g] = (gint)j;
  }
  float *sub = g_new(float, (gsize)data->n_rows * k + 1);
  guint *idx = g_new(guint, (gsize)data->n_rows + 1);
  double *out = g_new(double, (gsize)data->n_rows + 1);
  gboolean ok = TRUE;
  for (guint r = 0; r < data->n_rows && ok; r++) {
    gint g = data->groups[r];
    if (g < 0 || (guint)g >= data->n_groups || forest_of[g] < 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "model/iforest: row %u belongs to group '%s', which the model has no forest "
                  "for; predict only the groups it was trained on",
                  r, g >= 0 && (guint)g < data->n_groups ? data->group_names[g] : "(none)");
      ok = FALSE;
    }
  }
  for (guint j = 0; j < f->n_groups && ok; j++) {
    guint m = 0;
    for (guint r = 0; r < data->n_rows; r++)
      if (forest_of[data->groups[r]] == (gint)j) {
        memcpy(sub + (gsize)m * k, x + (gsize)r * k, k * sizeof(float));
        idx[m++] = r;
      }
    lathe_iforest_score(f->group[j], sub, m, 1, out);
    for (guint i = 0; i < m; i++) {
      s[idx[i]] = out[i];
      offset[idx[i]] = f->group[j]->offset;
    }
  }
  g_free(forest_of);
  g_free(sub);
  g_free(idx);
  g_free(out);
  return ok;
}

static float *iforest_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                              GError **error) {
  const LatheIforest *top = model;
  /* the groups' forests share the input and feature columns */
  const LatheIforest *f = top->n_groups ? top->group[0] : top;
  if (data->n_cols != f->n_input) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/iforest: the data has %u columns but the model was trained on %u; "
                "predict on data with the training columns",
                data->n_cols, f->n_input);
    return NULL;
  }
  g_autofree float *x = gather(data, f->use, f->n_features, "input", error);
  if (!x)
    return NULL;
  const guint n = data->n_rows;
  double *s = g_new(double, (gsize)n + 1);
  double *offset = g_new(double, (gsize)n + 1);
  if (top->n_groups) {
    if (!score_groups(top, data, x, s, offset, error)) {
      g_free(s);
      g_free(offset);
      return NULL;
    }
  } else {
    /* One thread: predict has no context, so it cannot know its share of the
     * cores; scoring is a few tree walks per row. */
    lathe_iforest_score(f, x, n, 1, s);
    for (guint i = 0; i < n; i++)
      offset[i] = f->offset;
  }
  float *out = g_new(float, (gsize)n * 2 + 1);
  for (guint i = 0; i < n; i++) {
    out[2 * (gsize)i] = (float)s[i];
    out[2 * (gsize)i + 1] = (-s[i] - offset[i] < 0.0) ? 1.0f : 0.0f;
  }
  g_free(s);
  g_free(offset);
  *n_cols = 2;
  return out;
}

static GBytes *iforest_save(gconstpointer model, GError **error) {
  return lathe_iforest_save(model);
}

static gpointer iforest_load(GBytes *state, guint32 version, GError **error) {
  return lathe_iforest_load(state, version, error);
}

static void iforest_free(gpointer model) { lathe_iforest_free(model); }

static JsonObject *iforest_summary(gconstpointer model) {
  const LatheIforest *top = model;
  const LatheIforest *f = top->n_groups ? top->group[0] : top;
  JsonObject *o = json_object_new();
  if (top->n_groups) {
    JsonArray *names = json_array_new();
    for (guint g = 0; g < top->n_groups; g++)
      json_array_add_string_element(names, top->group_names[g]);
    json_object_set_array_member(o, "groups", names);
  }
  json_object_set_int_member(o, "n_trees", f->n_trees);
  json_object_set_int_member(o, "n_nodes", lathe_iforest_n_nodes(top));
  json_object_set_int_member(o, "n_features", f->n_features);
  json_object_set_int_member(o, "n_input", f->n_input);
  json_object_set_int_member(o, "max_samples", f->max_samples);
  json_object_set_double_member(o, "offset", f->offset);
  json_object_set_array_member(o, "outputs", json_array_new());
  JsonArray *outs = json_object_get_array_member(o, "outputs");
  json_array_add_string_element(outs, "anomaly_score");
  json_array_add_string_element(outs, "is_anomaly");
  return o;
}

static const LatheModelClass iforest_class = {
    LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, "iforest",
                         "isolation forest (sklearn's): per row the anomaly score s(x) in "
                         "(0,1] and is_anomaly 0/1 by the contamination offset",
                         iforest_params, NULL, NULL),
    .state_version = LATHE_IFOREST_STATE_VERSION,
    .fit = iforest_fit,
    .predict = iforest_predict,
    .save = iforest_save,
    .load = iforest_load,
    .free = iforest_free,
    .summary = iforest_summary,
};

LATHE_PLUGIN_DEFINE("model-iforest", "0.1.0", "MIT",
                    "isolation forest anomaly scores, as scikit-learn's IsolationForest",
                    LATHE_COMPONENT(iforest_class))
