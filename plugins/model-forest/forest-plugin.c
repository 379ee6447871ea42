/* model/forest and model/forest-regressor: random forests as in
 * scikit-learn's RandomForestClassifier / RandomForestRegressor.
 *
 * This file is the two components: params, input checks and the ABI
 * callbacks. Binning, tree growing, the parallel build and the blob each have
 * their own file. Splits are searched on per-feature quantile bins (at most
 * 256, exact midpoints when a feature has fewer distinct values), computed
 * once per forest. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forest-internal.h"

static const char *const clf_criteria[] = {"gini", "entropy", NULL};
static const char *const reg_criteria[] = {"squared_error", NULL};
static const char *const class_weights[] = {"none", "balanced", NULL};

/* ABI 1.3 checks: values that are wrong whatever the data, refused when the
 * pipeline is validated (exit 2). read_params() keeps its own checks for
 * callers that bypass validation (tests, old hosts). */
static gboolean check_depth(const LatheParamSpec *spec, JsonNode *value, char **why) {
  if (json_node_get_int(value) != 0)
    return TRUE;
  *why = g_strdup("0 is not a depth; use -1 for unlimited or a depth of at least 1");
  return FALSE;
}

/* "sqrt", "log2", "all", a fraction in (0, 1] (with a point or exponent) or a
 * whole count >= 1; the count is checked against the columns at fit. */
static gboolean max_features_form(const char *s) {
  if (!s || !*s)
    return FALSE;
  if (g_str_equal(s, "sqrt") || g_str_equal(s, "log2") || g_str_equal(s, "all"))
    return TRUE;
  char *end = NULL;
  double x = g_ascii_strtod(s, &end);
  if (end == s || *end || !isfinite(x) || x <= 0.0)
    return FALSE;
  return strpbrk(s, ".eE") ? x <= 1.0 : TRUE;
}

static gboolean check_max_features(const LatheParamSpec *spec, JsonNode *value, char **why) {
  if (max_features_form(json_node_get_string(value)))
    return TRUE;
  *why = g_strdup_printf("'%s' is not valid; use \"sqrt\", \"log2\", \"all\", a fraction in "
                         "(0, 1] such as 0.5, or a whole count such as 7",
                         json_node_get_string(value));
  return FALSE;
}

#define COMMON_PARAMS(max_features_default)                                                  \
  LATHE_PARAM_INT_("n_estimators", "100", 1, 100000, "number of trees"),                     \
      {.name = "max_depth", .type = LATHE_PARAM_INT, .default_json = "-1", .min = -1,       \
       .max = 100000, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,                    \
       .check = check_depth,                                                                 \
       .doc = "deepest level a tree may reach (the root is level 0); -1 means unlimited, 0 " \
              "is refused"},                                                                 \
      LATHE_PARAM_INT_("min_samples_split", "2", 2, 1000000000,                              \
                       "a node with fewer distinct training rows is a leaf"),                \
      LATHE_PARAM_INT_("min_samples_leaf", "1", 1, 1000000000,                               \
                       "a split must leave at least this many distinct rows on each side"),  \
      {.name = "max_features", .type = LATHE_PARAM_STRING,                                  \
       .default_json = max_features_default, .flags = LATHE_PARAM_NUMBER_AS_STRING,          \
       .check = check_max_features,                                                          \
       .doc = "features tried per split: \"sqrt\", \"log2\", \"all\", a fraction such as 0.5, " \
              "or a count such as 7"},                                                       \
      LATHE_PARAM_BOOL_("bootstrap", "true",                                                 \
                        "draw each tree's rows with replacement (else every tree sees all "  \
                        "rows)"),                                                            \
      {.name = "max_samples",                                                                \
       .type = LATHE_PARAM_FLOAT,                                                            \
       .default_json = "0",                                                                  \
       .min = 0.0,                                                                           \
       .flags = LATHE_PARAM_HAS_MIN,                                                         \
       .doc = "rows drawn per tree with bootstrap: 0 = as many as the data has, a value in " \
              "(0, 1] = that fraction, a whole number above 1 = that count"},                \
      LATHE_PARAM_BOOL_("oob_score", "true",                                                 \
                        "with bootstrap, score every row with the trees that did not draw "  \
                        "it (metric oob_score)")

static const LatheParamSpec clf_params[] = {
    COMMON_PARAMS("\"sqrt\""),
    LATHE_PARAM_ENUM_("criterion", "\"gini\"", clf_criteria, "split quality: gini or entropy"),
    LATHE_PARAM_ENUM_("class_weight", "\"none\"", class_weights,
                      "none, or balanced: weight classes by n / (classes x class count)"),
    LATHE_PARAM_END,
};

static const LatheParamSpec reg_params[] = {
    COMMON_PARAMS("\"all\""),
    LATHE_PARAM_ENUM_("criterion", "\"squared_error\"", reg_criteria,
                      "split quality: squared_error (variance reduction)"),
    {.name = "target",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .doc = "the column to predict; every other column is a feature"},
    LATHE_PARAM_END,
};

/* ---- checks ------------------------------------------------------------------ */

static const char *comp_id(gboolean regress) {
  return regress ? "model/forest-regressor" : "model/forest";
}

/* Parses max_features against @d features; refuses with a message. */
static gboolean parse_max_features(LatheContext *ctx, gboolean regress, guint d, guint *out,
                                   GError **error) {
  const char *s = lathe_context_param_string(ctx, "max_features");
  double v = 0.0;
  if (!max_features_form(s))
    goto bad;
  if (g_str_equal(s, "sqrt")) {
    v = floor(sqrt((double)d));
  } else if (g_str_equal(s, "log2")) {
    v = floor(log2((double)d));
  } else if (g_str_equal(s, "all")) {
    v = d;
  } else {
    double x = g_ascii_strtod(s, NULL);
    if (strpbrk(s, ".eE")) {
      v = floor(x * d);
    } else {
      if (x > d) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, comp_id(regress),
                                "max_features %s is above the %u feature columns; use at "
                                "most %u or a fraction",
                                s, d, d);
        return FALSE;
      }
      v = x;
    }
  }
  *out = (guint)CLAMP(v, 1.0, (double)d);
  return TRUE;
bad:
  lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, comp_id(regress),
                          "max_features '%s' is not valid; use \"sqrt\", \"log2\", \"all\", "
                          "a fraction in (0, 1] such as \"0.5\", or a whole count such as \"7\"",
                          s ? s : "");
  return FALSE;
}

/* Fills the settings both components share; refuses what the bounds of the
 * param specs cannot express. */
static gboolean read_params(LatheContext *ctx, gboolean regress, guint n, guint d,
                            LatheForestParams *prm, GError **error) {
  gint64 depth = lathe_context_param_int(ctx, "max_depth");
  if (depth == 0 || depth < -1) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, comp_id(regress),
                            "max_depth %" G_GINT64_FORMAT " is not valid; use -1 for "
                            "unlimited or a depth of at least 1",
                            depth);
    return FALSE;
  }
  *prm = (LatheForestParams){
      .kind = regress ? LATHE_FOREST_REGRESS : LATHE_FOREST_CLASSIFY,
      .entropy = g_strcmp0(lathe_context_param_string(ctx, "criterion"), "entropy") == 0,
      .n_trees = (guint)CLAMP(lathe_context_param_int(ctx, "n_estimators"), 1, 100000),
      .max_depth = (gint)MIN(depth, 100000),
      .min_split = (guint)CLAMP(lathe_context_param_int(ctx, "min_samples_split"), 2, G_MAXINT),
      .min_leaf = (guint)CLAMP(lathe_context_param_int(ctx, "min_samples_leaf"), 1, G_MAXINT),
      .bootstrap = lathe_context_param_bool(ctx, "bootstrap"),
      .oob = lathe_context_param_bool(ctx, "oob_score"),
      .threads = MAX(lathe_context_threads(ctx), 1u),
      .seed = lathe_context_seed(ctx),
  };
  if (!parse_max_features(ctx, regress, d, &prm->max_features, error))
    return FALSE;
  double ms = lathe_context_param_float(ctx, "max_samples");
  if (ms == 0.0) {
    prm->n_draws = n;
  } else if (ms > 0.0 && ms <= 1.0) {
    prm->n_draws = (guint)MAX(1.0, round(ms * n));
  } else if (ms > 1.0 && ms == floor(ms) && ms <= n) {
    prm->n_draws = (guint)ms;
  } else {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, comp_id(regress),
                            "max_samples %g is not valid for %u training rows; use 0 (all), "
                            "a fraction in (0, 1], or a whole count up to %u",
                            ms, n, n);
    return FALSE;
  }
  if (ms != 0.0 && !prm->bootstrap)
    lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                      "max_samples is ignored without bootstrap: every tree sees all rows");
  return TRUE;
}

/* The first non-finite cell of a row-major matrix, for an error naming it. */
static gboolean find_non_finite(const float *x, guint n, guint d, guint *row, guint *col) {
  for (gsize i = 0; i < (gsize)n * d; i++) {
    if (!isfinite(x[i])) {
      *row = (guint)(i / d);
      *col = (guint)(i % d);
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean check_finite(LatheContext *ctx, const char *who, const LatheDataset *ds,
                             const char *what, GError **error) {
  guint row, col;
  if (!find_non_finite(ds->x, ds->n_rows, ds->n_cols, &row, &col))
    return TRUE;
  lathe_context_set_error(
      ctx, error, LATHE_ERROR_DATA, who,
      "%s row %u, column '%s' is %g; impute or drop non-finite values before the "
      "model",
      what, row, ds->columns[col], (double)ds->x[(gsize)row * ds->n_cols + col]);
  return FALSE;
}

static gboolean check_shape(LatheContext *ctx, const char *who, const LatheDataset *ds,
                            GError **error) {
  if (ds->n_rows < 2 || ds->n_cols == 0) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_DATA, who,
        "the training data has %u rows and %u columns; a forest needs at least 2 "
        "rows and 1 feature",
        ds->n_rows, ds->n_cols);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_labels(LatheContext *ctx, const char *who, const LatheDataset *ds,
                             GError **error) {
  if (!ds->labels) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_DATA, who,
        "the training data has no labels; give the source a label column (or use "
        "model/forest-regressor for a numeric target)");
    return FALSE;
  }
  gint32 first = -1;
  gboolean two = FALSE;
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 l = ds->labels[r];
    if (l < 0 || (guint)l >= ds->n_classes) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, who,
          "training row %u has no valid label (%d); drop unlabelled rows before "
          "the model",
          r, l);
      return FALSE;
    }
    if (first < 0)
      first = l;
    else if (l != first)
      two = TRUE;
  }
  if (ds->n_classes < 2 || !two) {
    g_autofree char *name = lathe_value_excerpt(ds->classes[first], -1);
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_DATA, who,
        "every training row has class %s; a classifier needs at least 2 classes "
        "present",
        name);
    return FALSE;
  }
  return TRUE;
}

/* Copies the training column names into the model. */
static void keep_columns(LatheForest *f, const LatheDataset *ds) {
  f->n_inputs = ds->n_cols;
  f->columns = g_new0(char *, (gsize)ds->n_cols + 1);
  for (guint j = 0; j < ds->n_cols; j++)
    f->columns[j] = g_strdup(ds->columns[j]);
}

static void report(LatheContext *ctx, const LatheForest *f) {
  if (!isnan(f->oob_score))
    lathe_context_set_metric(ctx, "oob_score", f->oob_score);
  lathe_context_set_metric(ctx, "n_nodes", f->n_nodes);
  lathe_context_progress(ctx, 1.0, "done");
}

/* ---- fit ----------------------------------------------------------------------- */

static gpointer clf_fit(LatheContext *ctx, const LatheDataset *train, const LatheDataset *valid,
                        GError **error) {
  const char *who = comp_id(FALSE);
  if (!check_shape(ctx, who, train, error) || !check_labels(ctx, who, train, error) ||
      !check_finite(ctx, who, train, "training", error))
    return NULL;
  LatheForestParams prm;
  if (!read_params(ctx, FALSE, train->n_rows, train->n_cols, &prm, error))
    return NULL;
  if (valid)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "the valid input is not used by model/forest");
  const guint n = train->n_rows, k = train->n_classes;
  g_autofree double *cw = NULL;
  if (g_strcmp0(lathe_context_param_string(ctx, "class_weight"), "balanced") == 0) {
    /* scikit-learn's "balanced": n / (classes x count), on the whole data. */
    g_autofree guint *count = g_new0(guint, k);
    guint present = 0;
    for (guint r = 0; r < n; r++)
      count[train->labels[r]]++;
    for (guint c = 0; c < k; c++)
      present += count[c] > 0;
    cw = g_new(double, k);
    for (guint c = 0; c < k; c++)
      cw[c] = count[c] ? (double)n / ((double)present * count[c]) : 0.0;
    prm.class_weight = cw;
  }
  g_autoptr(GError) local = NULL;
  LatheForest *f = lathe_forest_build(&prm, train->x, n, train->n_cols, train->labels, NULL, k,
                                      ctx, &local);
  if (!f) {
    lathe_context_set_error(ctx, error, local->code, who, "%s", local->message);
    return NULL;
  }
  keep_columns(f, train);
  report(ctx, f);
  return f;
}

/* Splits @ds into the features (every column but @t) and the target. */
static float *features_without(const LatheDataset *ds, guint t, float *target) {
  const guint d = ds->n_cols - 1;
  float *x = g_new(float, (gsize)ds->n_rows * d + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    const float *src = ds->x + (gsize)r * ds->n_cols;
    float *dst = x + (gsize)r * d;
    memcpy(dst, src, t * sizeof(float));
    memcpy(dst + t, src + t + 1, (d - t) * sizeof(float));
    if (target)
      target[r] = src[t];
  }
  return x;
}

static gpointer reg_fit(LatheContext *ctx, const LatheDataset *train, const LatheDataset *valid,
                        GError **error) {
  const char *who = comp_id(TRUE);
  const char *target_name = lathe_context_param_string(ctx, "target");
  if (!check_shape(ctx, who, train, error) || !check_finite(ctx, who, train, "training", error))
    return NULL;
  gint t = lathe_dataset_column_index(train, target_name);
  if (t < 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, who,
                            "param target names column '%s', which the training data does not have",
                            target_name ? target_name : "");
    return NULL;
  }
  if (train->n_cols < 2) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_DATA, who,
        "the training data has only the target column '%s'; add feature columns", target_name);
    return NULL;
  }
  LatheForestParams prm;
  if (!read_params(ctx, TRUE, train->n_rows, train->n_cols - 1, &prm, error))
    return NULL;
  if (valid)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                      "the valid input is not used by model/forest-regressor");
  g_autofree float *y = g_new(float, train->n_rows);
  g_autofree float *x = features_without(train, (guint)t, y);
  g_autoptr(GError) local = NULL;
  LatheForest *f = lathe_forest_build(&prm, x, train->n_rows, train->n_cols - 1, NULL, y, 1,
                                      ctx, &local);
  if (!f) {
    lathe_context_set_error(ctx, error, local->code, who, "%s", local->message);
    return NULL;
  }
  keep_columns(f, train);
  f->target_col = (guint32)t;
  report(ctx, f);
  return f;
}

/* ---- predict and the rest ----------------------------------------------------------- */

static float *forest_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                             GError **error) {
  const LatheForest *f = model;
  const char *who = comp_id(f->kind == LATHE_FOREST_REGRESS);
  /* A regressor takes the training columns with or without its target. */
  gboolean drop = f->target_col != G_MAXUINT32 && data->n_cols == f->n_inputs;
  if (data->n_cols != f->n_features && !drop) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the data has %u feature columns but the model was trained on %u; predict "
                "on data with the training columns",
                who, data->n_cols, f->n_features);
    return NULL;
  }
  g_autofree char *what = g_strdup_printf("%s input", who);
  if (!check_finite(NULL, what, data, "input", error))
    return NULL;
  g_autofree float *x = drop ? features_without(data, f->target_col, NULL) : NULL;
  float *out = g_new(float, (gsize)data->n_rows * f->n_outputs + 1);
  lathe_forest_predict_rows(f, drop ? x : data->x, data->n_rows, out);
  *n_cols = f->n_outputs;
  return out;
}

static GBytes *forest_save(gconstpointer model, GError **error) {
  (void)error;
  return lathe_forest_save(model);
}

static gpointer clf_load(GBytes *state, guint32 version, GError **error) {
  LatheForest *f = lathe_forest_load(state, version, error);
  if (f && f->kind != LATHE_FOREST_CLASSIFY) {
    lathe_forest_free(f);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/forest: the saved model is a regressor; load it with "
                "model/forest-regressor");
    return NULL;
  }
  return f;
}

static gpointer reg_load(GBytes *state, guint32 version, GError **error) {
  LatheForest *f = lathe_forest_load(state, version, error);
  if (f && f->kind != LATHE_FOREST_REGRESS) {
    lathe_forest_free(f);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/forest-regressor: the saved model is a classifier; load it with "
                "model/forest");
    return NULL;
  }
  return f;
}

static void forest_free(gpointer model) { lathe_forest_free(model); }

static JsonObject *forest_summary(gconstpointer model) {
  const LatheForest *f = model;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "n_estimators", f->n_trees);
  json_object_set_int_member(o, "n_nodes", f->n_nodes);
  json_object_set_int_member(o, "n_leaves", f->n_values);
  json_object_set_int_member(o, "n_features", f->n_features);
  if (f->target_col != G_MAXUINT32)
    json_object_set_string_member(o, "target", f->columns[f->target_col]);
  if (!isnan(f->oob_score))
    json_object_set_double_member(o, "oob_score", f->oob_score);
  JsonObject *imp = json_object_new();
  for (guint j = 0, col = 0; j < f->n_features; j++, col++) {
    if (col == f->target_col)
      col++;
    json_object_set_double_member(imp, f->columns[col], f->importances[j]);
  }
  json_object_set_object_member(o, "feature_importances", imp);
  return o;
}

static const LatheModelClass forest_class = {
    LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, "forest",
                         "random forest classifier; predicts the mean of the trees' leaf class "
                         "frequencies",
                         clf_params, NULL, NULL),
    .state_version = LATHE_FOREST_STATE_VERSION,
    .fit = clf_fit,
    .predict = forest_predict,
    .save = forest_save,
    .load = clf_load,
    .free = forest_free,
    .summary = forest_summary,
};

static const LatheModelClass forest_regressor_class = {
    LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, "forest-regressor",
                         "random forest regressor on one numeric column; predicts the mean of "
                         "the trees' leaf means",
                         reg_params, NULL, NULL),
    .state_version = LATHE_FOREST_STATE_VERSION,
    .fit = reg_fit,
    .predict = forest_predict,
    .save = forest_save,
    .load = reg_load,
    .free = forest_free,
    .summary = forest_summary,
};

LATHE_PLUGIN_DEFINE("model-forest", "0.1.0", "MIT",
                    "random forests (classifier and regressor) on quantile-binned features",
                    LATHE_COMPONENT(forest_class), LATHE_COMPONENT(forest_regressor_class))
