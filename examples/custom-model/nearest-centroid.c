/* model/nearest-centroid: an out-of-tree Lathe model plugin.
 *
 * This file is only the plugin side: the declared params, the ABI callbacks
 * and the descriptor. The math is in nc-model.c and the saved form in
 * nc-state.c, so both can be unit-tested without a host. Built against the
 * installed SDK alone: see the Makefile and docs/writing-plugins.md. */
#include "nc-model.h"

/* The host validates every node's `with` block against these declarations
 * (type, bounds) and fills in the defaults, so the callbacks can read the
 * params without checking them again. */
static const LatheParamSpec nc_params[] = {
    LATHE_PARAM_FLOAT_("shrink", "0.0", 0.0, 1.0, 0,
                       "share by which each class centroid moves toward the mean of all "
                       "training rows (0: plain centroids, 1: every class equal)"),
    LATHE_PARAM_FLOAT_("temperature", "1.0", 1e-3, 1e3, LATHE_PARAM_LOG,
                       "softmax temperature over negative squared distances; lower gives "
                       "more confident probabilities"),
    LATHE_PARAM_BOOL_("standardize", "true",
                      "measure distances after scaling each feature to the mean and "
                      "standard deviation of the training rows"),
    LATHE_PARAM_END,
};

static gpointer nc_fit(LatheContext *ctx, const LatheDataset *train, const LatheDataset *valid,
                       GError **error) {
  NcParams p = {
      .shrink = lathe_context_param_float(ctx, "shrink"),
      .temperature = lathe_context_param_float(ctx, "temperature"),
      .standardize = lathe_context_param_bool(ctx, "standardize"),
  };
  if (valid)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                      "the valid input is not used: a nearest-centroid model has nothing to "
                      "stop early");
  NcModel *m = nc_model_fit(train, &p, error);
  if (!m)
    return NULL;

  /* Training accuracy, as a metric of this node ("model.train_accuracy"). */
  guint k = 0;
  g_autofree float *prob = nc_model_predict(m, train, &k, error);
  if (!prob) {
    nc_model_free(m);
    return NULL;
  }
  guint correct = 0;
  for (guint r = 0; r < train->n_rows; r++) {
    guint best = 0;
    for (guint c = 1; c < k; c++)
      if (prob[(gsize)r * k + c] > prob[(gsize)r * k + best])
        best = c;
    correct += (gint32)best == train->labels[r];
  }
  lathe_context_set_metric(ctx, "train_accuracy", (double)correct / train->n_rows);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u centroids over %u features", m->n_classes,
                    m->n_features);
  return m;
}

static float *nc_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                         GError **error) {
  return nc_model_predict(model, data, n_cols, error);
}

static GBytes *nc_save(gconstpointer model, GError **error) {
  (void)error; /* writing to memory cannot fail */
  return nc_model_save(model);
}

static gpointer nc_load(GBytes *state, guint32 version, GError **error) {
  return nc_model_load(state, version, error);
}

static void nc_free(gpointer model) { nc_model_free(model); }

/* Since ABI 1.1: recorded in the model artifact's header as "summary". */
static JsonObject *nc_summary(gconstpointer model) {
  const NcModel *m = model;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "n_features", m->n_features);
  json_object_set_int_member(o, "n_classes", m->n_classes);
  json_object_set_int_member(o, "n_parameters",
                             (gint64)m->n_classes * m->n_features + 2 * (gint64)m->n_features);
  json_object_set_double_member(o, "shrink", m->shrink);
  json_object_set_double_member(o, "temperature", m->temperature);
  JsonArray *counts = json_array_new();
  for (guint c = 0; c < m->n_classes; c++)
    json_array_add_int_element(counts, m->counts[c]);
  json_object_set_array_member(o, "class_counts", counts);
  return o;
}

/* NULL ports: a model takes the kind's defaults, inputs "train" and
 * "valid" (optional), output "model". */
static const LatheModelClass nc_class = {
    LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, "nearest-centroid",
                         "nearest-centroid classifier; softmax over negative squared distances",
                         nc_params, NULL, NULL),
    .state_version = NC_STATE_VERSION,
    .fit = nc_fit,
    .predict = nc_predict,
    .save = nc_save,
    .load = nc_load,
    .free = nc_free,
    .summary = nc_summary,
};

LATHE_PLUGIN_DEFINE("nearest-centroid", "1.0.0", "MIT",
                    "nearest-centroid classifier (the out-of-tree example plugin)",
                    LATHE_COMPONENT(nc_class))
