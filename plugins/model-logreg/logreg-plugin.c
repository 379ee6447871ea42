/* model/logreg: multinomial logistic regression with an L2 penalty.
 *
 * This file is the component: params, input checks, standardisation and the
 * ABI callbacks. The objective, the two solvers and the blob format each have
 * their own file. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "logreg-internal.h"

static const char *const solver_choices[] = {"lbfgs", "adam", NULL};

static const LatheParamSpec logreg_params[] = {
    LATHE_PARAM_FLOAT_("l2", "1e-4", 0.0, 1e3, LATHE_PARAM_LOG,
                       "penalty l2/2*||W||^2 added to the mean cross-entropy; the "
                       "intercept is not penalised"),
    LATHE_PARAM_ENUM_("solver", "\"lbfgs\"", solver_choices,
                      "lbfgs (full batch, deterministic) or adam (minibatches)"),
    LATHE_PARAM_INT_("max_iter", "500", 1, 100000, "L-BFGS iterations or Adam epochs"),
    {.name = "tol",
     .type = LATHE_PARAM_FLOAT,
     .default_json = "1e-6",
     .min = 0.0,
     .flags = LATHE_PARAM_HAS_MIN,
     .doc = "stop when the max-abs of the full-data gradient falls below this"},
    LATHE_PARAM_FLOAT_("lr", "0.01", 1e-8, 10.0, LATHE_PARAM_LOG,
                       "Adam learning rate (Adam only)"),
    LATHE_PARAM_INT_("batch_size", "32", 1, 1 << 24, "Adam minibatch rows (Adam only)"),
    LATHE_PARAM_BOOL_("standardize", "true",
                      "scale features with the mean/std of the training data; the model "
                      "keeps them and applies them in predict"),
    LATHE_PARAM_END,
};

/* First non-finite cell of @ds, for an error naming row and column. */
static gboolean find_non_finite(const LatheDataset *ds, guint *row, guint *col) {
  const gsize total = (gsize)ds->n_rows * ds->n_cols;
  for (gsize i = 0; i < total; i++) {
    if (!isfinite(ds->x[i])) {
      *row = (guint)(i / ds->n_cols);
      *col = (guint)(i % ds->n_cols);
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean check_finite(const LatheDataset *ds, const char *what, GError **error) {
  guint row, col;
  if (!find_non_finite(ds, &row, &col))
    return TRUE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "model/logreg: %s row %u, column '%s' is %g; impute or drop non-finite values "
              "before the model",
              what, row, ds->columns[col], (double)ds->x[(gsize)row * ds->n_cols + col]);
  return FALSE;
}

static gboolean check_train(const LatheDataset *ds, GError **error) {
  if (!ds->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: the training data has no labels; give the source a label "
                "column");
    return FALSE;
  }
  if (ds->n_rows == 0 || ds->n_cols == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: the training data is empty (%u rows, %u columns)", ds->n_rows,
                ds->n_cols);
    return FALSE;
  }
  if (ds->n_classes < 2) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: the training data has %u class; a classifier needs at least 2",
                ds->n_classes);
    return FALSE;
  }
  gint32 first = -1;
  gboolean two = FALSE;
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 l = ds->labels[r];
    if (l < 0 || (guint)l >= ds->n_classes) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "model/logreg: training row %u has no valid label (%d); drop unlabelled "
                  "rows before the model",
                  r, l);
      return FALSE;
    }
    if (first < 0)
      first = l;
    else if (l != first)
      two = TRUE;
  }
  if (!two) {
    g_autofree char *name = lathe_value_excerpt(ds->classes[first], -1);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: every training row has class %s; a classifier needs at "
                "least 2 classes present",
                name);
    return FALSE;
  }
  return check_finite(ds, "training", error);
}

/* Mean and population std per feature (as StandardScaler), in double. A
 * constant feature keeps scale 1 so it maps to 0 instead of dividing by 0. */
static void fit_scaling(const LatheDataset *ds, LatheLogreg *m) {
  const guint n = ds->n_rows, d = ds->n_cols;
  double *mean = g_new0(double, d), *var = g_new0(double, d);
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < d; j++)
      mean[j] += ds->x[(gsize)r * d + j];
  for (guint j = 0; j < d; j++)
    mean[j] /= n;
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < d; j++) {
      double dev = ds->x[(gsize)r * d + j] - mean[j];
      var[j] += dev * dev;
    }
  for (guint j = 0; j < d; j++) {
    double sd = sqrt(var[j] / n);
    m->mean[j] = (float)mean[j];
    m->scale[j] = sd > 1e-12 * MAX(1.0, fabs(mean[j])) && isfinite((float)sd) ? (float)sd : 1.0f;
  }
  g_free(mean);
  g_free(var);
}

/* Standardised copy of rows [first, first+n) of @ds into @out (n x d). */
static void scale_rows(const LatheLogreg *m, const LatheDataset *ds, guint first, guint n,
                       float *out) {
  const guint d = m->n_features;
  for (guint r = 0; r < n; r++) {
    const float *src = ds->x + (gsize)(first + r) * d;
    float *dst = out + (gsize)r * d;
    for (guint j = 0; j < d; j++)
      dst[j] = (src[j] - m->mean[j]) / m->scale[j];
  }
}

static gpointer logreg_fit(LatheContext *ctx, const LatheDataset *train,
                           const LatheDataset *valid, GError **error) {
  if (!check_train(train, error))
    return NULL;
  const guint n = train->n_rows, d = train->n_cols, k = train->n_classes;
  LatheLogregSolverParams prm = {
      .l2 = lathe_context_param_float(ctx, "l2"),
      .max_iter = (guint)CLAMP(lathe_context_param_int(ctx, "max_iter"), 1, 100000),
      .tol = lathe_context_param_float(ctx, "tol"),
      .lr = lathe_context_param_float(ctx, "lr"),
      .batch_size = (guint)CLAMP(lathe_context_param_int(ctx, "batch_size"), 1, G_MAXINT),
      .ctx = ctx,
  };
  const char *solver = lathe_context_param_string(ctx, "solver");
  gboolean adam = g_strcmp0(solver, "adam") == 0;
  if (!adam && g_strcmp0(solver, "lbfgs") != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "model/logreg: solver '%s' is unknown; use \"lbfgs\" or \"adam\"",
                solver ? solver : "(null)");
    return NULL;
  }
  if (!(prm.l2 >= 0.0) || !isfinite(prm.l2) || !(prm.lr > 0.0) || !(prm.tol >= 0.0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "model/logreg: l2 must be >= 0, lr > 0 and tol >= 0 (got l2=%g lr=%g tol=%g)",
                prm.l2, prm.lr, prm.tol);
    return NULL;
  }
  if (valid)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                      "the valid input is not used: model/logreg has no early stopping");

  /* Classes declared by the dataset but absent from it still get a column
   * (the host's header lists them); their intercept only drifts downwards. */
  guint *count = g_new0(guint, k);
  for (guint r = 0; r < n; r++)
    count[train->labels[r]]++;
  for (guint c = 0; c < k; c++)
    if (count[c] == 0) {
      g_autofree char *name = lathe_value_excerpt(train->classes[c], -1);
      lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                        "class %s has no training rows; it will get probabilities near 0", name);
    }
  g_free(count);

  LatheLogreg *m = lathe_logreg_new(d, k);
  m->standardize = lathe_context_param_bool(ctx, "standardize");
  if (m->standardize) {
    fit_scaling(train, m);
  } else {
    for (guint j = 0; j < d; j++)
      m->scale[j] = 1.0f;
  }
  float *xs = g_new(float, (gsize)n * d);
  scale_rows(m, train, 0, n, xs);

  const gsize p = lathe_logreg_n_params(d, k);
  double *theta = g_new0(double, p);
  LatheLogregSolverResult res = {0};
  gboolean ok = adam ? lathe_logreg_adam(xs, train->labels, n, d, k, &prm, theta, &res, error)
                     : lathe_logreg_lbfgs(xs, train->labels, n, d, k, &prm, theta, &res, error);
  g_free(xs);
  if (ok && !isfinite(res.loss)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                "model/logreg: training diverged (the loss is not finite); lower lr");
    ok = FALSE;
  }
  if (!ok) {
    g_free(theta);
    lathe_logreg_free(m);
    return NULL;
  }
  for (gsize i = 0; i < (gsize)k * d; i++)
    m->coef[i] = (float)theta[i];
  for (guint c = 0; c < k; c++)
    m->intercept[c] = (float)theta[(gsize)k * d + c];
  g_free(theta);

  lathe_context_set_metric(ctx, "train_loss", res.loss);
  lathe_context_set_metric(ctx, "n_iter", res.n_iter);
  lathe_context_progress(ctx, 1.0, "done");
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%s stopped after %u %s: %s (loss %.6g)",
                    adam ? "Adam" : "L-BFGS", res.n_iter, adam ? "epochs" : "iterations",
                    res.stop, res.loss);
  return m;
}

/* Rows per predict block: bounds the scratch memory for large inputs. */
#define PREDICT_BLOCK 4096u

static float *logreg_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                             GError **error) {
  const LatheLogreg *m = model;
  if (data->n_cols != m->n_features) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: the data has %u feature columns but the model was trained on "
                "%u; predict on data with the training columns",
                data->n_cols, m->n_features);
    return NULL;
  }
  if (!check_finite(data, "input", error))
    return NULL;
  const guint d = m->n_features, k = m->n_classes;
  float *out = g_new(float, (gsize)data->n_rows * k + 1);
  float *block = g_new(float, (gsize)MIN(PREDICT_BLOCK, MAX(data->n_rows, 1u)) * d + 1);
  for (guint first = 0; first < data->n_rows; first += PREDICT_BLOCK) {
    guint nb = MIN(PREDICT_BLOCK, data->n_rows - first);
    float *scores = out + (gsize)first * k;
    scale_rows(m, data, first, nb, block);
    for (guint r = 0; r < nb; r++)
      memcpy(scores + (gsize)r * k, m->intercept, k * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)k, (int)d, 1.0f,
                block, (int)d, m->coef, (int)d, 1.0f, scores, (int)k);
    lathe_logreg_softmax_rows(scores, nb, k);
  }
  g_free(block);
  *n_cols = k;
  return out;
}

static GBytes *logreg_save(gconstpointer model, GError **error) {
  return lathe_logreg_save(model);
}

static gpointer logreg_load(GBytes *state, guint32 version, GError **error) {
  return lathe_logreg_load(state, version, error);
}

static void logreg_free(gpointer model) { lathe_logreg_free(model); }

static JsonObject *logreg_summary(gconstpointer model) {
  const LatheLogreg *m = model;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "n_parameters",
                             (gint64)lathe_logreg_n_params(m->n_features, m->n_classes));
  json_object_set_int_member(o, "n_features", m->n_features);
  json_object_set_int_member(o, "n_classes", m->n_classes);
  return o;
}

static const LatheModelClass logreg_class = {
    LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, "logreg",
                         "multinomial logistic regression with L2 (L-BFGS or Adam)",
                         logreg_params, NULL, NULL),
    .state_version = LATHE_LOGREG_STATE_VERSION,
    .fit = logreg_fit,
    .predict = logreg_predict,
    .save = logreg_save,
    .load = logreg_load,
    .free = logreg_free,
    .summary = logreg_summary,
};

LATHE_PLUGIN_DEFINE("model-logreg", "0.1.0", "MIT",
                    "multinomial logistic regression (softmax) with L2",
                    LATHE_COMPONENT(logreg_class))
