/* transform/predict: a model and a dataset in, the dataset with the model's
 * predictions appended as columns out.
 *
 * Evaluators score predictions themselves; this node exists for what scores
 * them elsewhere (NAB's scorer reads anomaly scores over time) and for
 * keeping predictions as an artifact. Rows, labels, groups and the sequence
 * layout are kept; for a sequence dataset the predictions would not fit the
 * step-major layout, so the output is the flattened table plus the columns. */
#include <string.h>

#include <lathe/lathe-sdk.h>

#define COMPONENT "transform/predict"

static const LatheParamSpec predict_params[] = {
    LATHE_PARAM_STRING_("prefix", "\"pred_\"", 0,
                        "name prefix of the new columns: PREFIX + class name for a "
                        "classifier, PREFIX + column number otherwise"),
    LATHE_PARAM_BOOL_("keep", "true", "keep the input's columns before the predictions"),
    LATHE_PARAM_END,
};

static const LathePortSpec predict_inputs[] = {
    {.name = "model", .type = LATHE_TYPE_MODEL, .doc = "a trained model"},
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "the rows to predict"},
    {.name = NULL},
};

static const LathePortSpec predict_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "the rows with prediction columns"},
    {.name = NULL},
};

/* The model's class names when it lists exactly @k of them, else NULL. */
static JsonArray *class_names(LatheArtifact *model, guint k) {
  JsonObject *h = lathe_artifact_get_model_header(model, NULL);
  if (!h || !json_object_has_member(h, "classes"))
    return NULL;
  JsonNode *n = json_object_get_member(h, "classes");
  if (!JSON_NODE_HOLDS_ARRAY(n) || json_array_get_length(json_node_get_array(n)) != k)
    return NULL;
  JsonArray *a = json_node_get_array(n);
  for (guint i = 0; i < k; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
      return NULL;
  }
  return a;
}

static gboolean predict_run(LatheContext *ctx, GError **error) {
  LatheArtifact *model = lathe_context_get_input(ctx, "model");
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (!model || lathe_artifact_get_kind(model) != LATHE_TYPE_MODEL) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "input 'model' must be connected to a model");
    return FALSE;
  }
  guint k = 0;
  g_autofree float *pred = lathe_context_predict(ctx, model, ds, &k, error);
  if (!pred)
    return FALSE;
  const char *prefix = lathe_context_param_string(ctx, "prefix");
  gboolean keep = lathe_context_param_bool(ctx, "keep");
  guint base = keep ? ds->n_cols : 0;
  LatheDataset *out = lathe_dataset_new(ds->n_rows, base + k);
  for (guint c = 0; c < base; c++)
    lathe_dataset_set_column(out, c, ds->columns[c]);
  JsonArray *names = class_names(model, k);
  for (guint j = 0; j < k; j++) {
    g_autofree char *name =
        names ? g_strconcat(prefix, json_array_get_string_element(names, j), NULL)
              : g_strdup_printf("%s%u", prefix, j);
    for (guint c = 0; c < base; c++) {
      if (g_str_equal(out->columns[c], name)) {
        lathe_dataset_unref(out);
        lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                                "prediction column '%s' already exists in "
                                "the input; set another \"prefix\"",
                                name);
        return FALSE;
      }
    }
    lathe_dataset_set_column(out, base + j, name);
  }
  for (guint r = 0; r < ds->n_rows; r++) {
    float *row = out->x + (gsize)r * (base + k);
    if (base)
      memcpy(row, ds->x + (gsize)r * ds->n_cols, sizeof(float) * base);
    memcpy(row + base, pred + (gsize)r * k, sizeof(float) * k);
  }
  lathe_dataset_copy_targets(out, ds);
  lathe_context_set_output_dataset(ctx, "data", out);
  return TRUE;
}

static const LatheTransformClass predict_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "predict",
                         "append a model's predictions (probabilities or scores) to a dataset",
                         predict_params, predict_inputs, predict_outputs),
    .run = predict_run,
};

/* source/model: a registered model version as a node's output, so that a
 * pipeline (lathe predict's) scores with a model from the registry. The
 * registry is the run's ("registry" setting). resolve names the version's
 * content, so a moved alias is never served from the cache. */
static const LatheParamSpec model_params[] = {
    LATHE_PARAM_STRING_("name", NULL, LATHE_PARAM_REQUIRED, "registered model name"),
    LATHE_PARAM_STRING_("ref", "\"production\"", 0, "alias or version number"),
    LATHE_PARAM_END,
};

static const LathePortSpec model_outputs[] = {
    {.name = "model", .type = LATHE_TYPE_MODEL, .doc = "the registered version"},
    {.name = NULL},
};

static LatheArtifact *model_fetch(LatheContext *ctx, GError **error) {
  const char *name = lathe_context_param_string(ctx, "name");
  const char *ref = lathe_context_param_string(ctx, "ref");
  guint version = 0;
  GError *local = NULL;
  LatheArtifact *a = lathe_context_registry_fetch(ctx, name, ref, &version, &local);
  if (!a) {
    if (local)
      g_propagate_prefixed_error(error, local, "reading %s@%s: ", name, ref);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s@%s is not in the registry",
                  name, ref);
    lathe_context_prefix_error(ctx, error, "source/model");
  }
  return a;
}

static gboolean model_resolve(LatheContext *ctx, GError **error) {
  g_autoptr(LatheArtifact) a = model_fetch(ctx, error);
  if (!a)
    return FALSE;
  lathe_context_set_content_key(ctx, lathe_artifact_get_digest(a));
  return TRUE;
}

static gboolean model_run(LatheContext *ctx, GError **error) {
  LatheArtifact *a = model_fetch(ctx, error);
  if (!a)
    return FALSE;
  lathe_context_set_output(ctx, "model", a);
  return TRUE;
}

static const LatheSourceClass model_class = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "model",
                         "a registered model version, from the run's registry",
                         model_params, NULL, model_outputs),
    .run = model_run,
    .resolve = model_resolve,
};

LATHE_PLUGIN_DEFINE("transform-predict", "0.2.0", "MIT",
                    "model predictions as dataset columns, and registered models as a source",
                    LATHE_COMPONENT(predict_class), LATHE_COMPONENT(model_class))
