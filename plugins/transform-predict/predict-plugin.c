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

LATHE_PLUGIN_DEFINE("transform-predict", "0.1.0", "MIT",
                    "model predictions as dataset columns", LATHE_COMPONENT(predict_class))
