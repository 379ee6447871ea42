/* evaluator/classification: scores a classifier on labelled data.
 *
 * The model and the data may list classes differently (another order, or a
 * class one of them never saw), so classes are matched by name, never by
 * index. The numbers come from classification-metrics.c. */
#include <string.h>

#include "classification-metrics.h"

#define COMPONENT "evaluator/classification"

static const char *const unknown_choices[] = {"error", "count_wrong", NULL};
static const char *const aggregate_choices[] = {"none", "group", NULL};

static const LatheParamSpec eval_params[] = {
    LATHE_PARAM_ENUM_("unknown_classes", "\"error\"", unknown_choices,
                      "rows whose class the model never saw in training: fail the node "
                      "(error), or score them as wrong (count_wrong)"),
    LATHE_PARAM_ENUM_("aggregate", "\"none\"", aggregate_choices,
                      "none: score every row; group: average the probabilities of each "
                      "group's rows (the windows of a recording) and score one row per group, "
                      "whose truth is the group's majority class"),
    LATHE_PARAM_STRING_("subset", "\"\"", 0,
                        "also score the rows whose group name matches this glob (* and ?), "
                        "as \"*inter*\": metrics subset_n, subset_support_<class> and "
                        "subset_recall_<class> (0 when no row matches); with aggregate none"),
    LATHE_PARAM_END,
};

static const LathePortSpec eval_inputs[] = {
    {.name = "model", .type = LATHE_TYPE_MODEL, .doc = "a classifier (its header lists classes)"},
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "labelled rows to score"},
    {.name = NULL},
};

static const LathePortSpec eval_outputs[] = {
    {.name = "metrics", .type = LATHE_TYPE_METRICS,
     .doc = "scalars, per-class scores, classes and confusion_matrix"},
    {.name = NULL},
};

/* Recall and support per class on the rows whose group matches @glob, from
 * the same predictions: the same model scored on a subset (IDEKO's inter-k
 * recordings) inside one fold. Keys are the same whether or not a row
 * matches, so evaluator/cv can summarise them over folds. */
static gboolean subset_metrics(JsonObject *out, const LatheDataset *data, const char *glob,
                               const float *probs, const gint32 *truth, guint k,
                               GPtrArray *names, GError **error) {
  g_autoptr(GPatternSpec) spec = g_pattern_spec_new(glob);
  g_autofree gboolean *keep = g_new0(gboolean, data->n_groups + 1);
  for (guint g = 0; g < data->n_groups; g++)
    keep[g] = g_pattern_spec_match_string(spec, data->group_names[g] ? data->group_names[g] : "");
  g_autofree float *sp = g_new(float, (gsize)data->n_rows * k + 1);
  g_autofree gint32 *st = g_new(gint32, data->n_rows + 1);
  guint n = 0;
  for (guint r = 0; r < data->n_rows; r++)
    if (data->groups[r] >= 0 && keep[data->groups[r]]) {
      memcpy(sp + (gsize)n * k, probs + (gsize)r * k, k * sizeof(float));
      st[n++] = truth[r];
    }
  g_autoptr(LatheClassMetrics) m = NULL;
  if (n > 0 && !(m = lathe_class_metrics_compute(sp, n, k, st, names->len, error)))
    return FALSE;
  json_object_set_int_member(out, "subset_n", n);
  for (guint c = 0; c < names->len; c++) {
    g_autofree char *ks = g_strconcat("subset_support_", names->pdata[c], NULL);
    g_autofree char *kr = g_strconcat("subset_recall_", names->pdata[c], NULL);
    json_object_set_int_member(out, ks, m ? (gint64)m->support[c] : 0);
    json_object_set_double_member(out, kr, m ? m->recall[c] : 0.0);
  }
  return TRUE;
}

/* The model's class names, in its probability-column order. */
static GPtrArray *model_classes(LatheArtifact *model, GError **error) {
  JsonObject *h = lathe_artifact_get_model_header(model, error);
  if (!h)
    return NULL;
  JsonNode *node = json_object_get_member(h, "classes");
  if (!node || !JSON_NODE_HOLDS_ARRAY(node) ||
      json_array_get_length(json_node_get_array(node)) == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "evaluator/classification: the model lists no classes; connect a "
                "classifier trained on labelled data");
    return NULL;
  }
  JsonArray *arr = json_node_get_array(node);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonNode *e = json_array_get_element(arr, i);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
      g_ptr_array_unref(names);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "evaluator/classification: class %u in the model header is not a string; "
                  "the model artifact is corrupt",
                  i);
      return NULL;
    }
    g_ptr_array_add(names, g_strdup(json_node_get_string(e)));
  }
  return names;
}

static gboolean eval_run(LatheContext *ctx, GError **error) {
  LatheArtifact *model = lathe_context_get_input(ctx, "model");
  if (!model || lathe_artifact_get_kind(model) != LATHE_TYPE_MODEL) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "evaluator/classification: input 'model' must be connected to a model");
    return FALSE;
  }
  const LatheDataset *data = lathe_context_get_input_dataset(ctx, "data", error);
  if (!data)
    return FALSE;
  if (!data->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/classification: the data has no labels; give its source a label "
                "column");
    return FALSE;
  }
  if (data->n_rows == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/classification: the data has no rows to score");
    return FALSE;
  }
  g_autoptr(GPtrArray) names = model_classes(model, error);
  if (!names)
    return FALSE;
  const guint k = names->len;
  gboolean count_wrong = g_strcmp0(lathe_context_param_string(ctx, "unknown_classes"),
                                   "count_wrong") == 0;
  gboolean by_group = g_strcmp0(lathe_context_param_string(ctx, "aggregate"), "group") == 0;
  if (by_group && !data->groups) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_DATA, COMPONENT,
        "\"aggregate\": \"group\" needs grouped "
        "data (recordings); group the rows in the source or set \"aggregate\": \"none\"");
    return FALSE;
  }
  const char *subset = lathe_context_param_string(ctx, "subset");
  if (subset && *subset && (by_group || !data->groups)) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            by_group ? "subset needs \"aggregate\": \"none\"; score the "
                                       "subset's groups with a transform/filter instead"
                                     : "subset needs grouped data (recordings); group the "
                                       "rows in the source or set \"subset\": \"\"");
    return FALSE;
  }

  /* Data class index -> report index: the model's column, or a new slot after
   * the model's classes for a name it does not know. */
  g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint c = k; c-- > 0;)
    g_hash_table_insert(by_name, names->pdata[c], GUINT_TO_POINTER(c + 1));
  guint64 *rows_of = g_new0(guint64, data->n_classes + 1);
  for (guint r = 0; r < data->n_rows; r++) {
    gint32 l = data->labels[r];
    if (l < 0 || (guint)l >= data->n_classes) {
      g_free(rows_of);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "evaluator/classification: row %u has no valid label (%d); drop "
                  "unlabelled rows before evaluating",
                  r, l);
      return FALSE;
    }
    rows_of[l]++;
  }
  gint32 *map = g_new(gint32, data->n_classes + 1);
  for (guint c = 0; c < data->n_classes; c++) {
    gpointer hit = g_hash_table_lookup(by_name, data->classes[c]);
    g_autofree char *name = hit ? NULL : lathe_value_excerpt(data->classes[c], -1);
    if (hit) {
      map[c] = GPOINTER_TO_INT(hit) - 1;
    } else if (rows_of[c] > 0 && !count_wrong) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, COMPONENT,
          "class %s of the data (%" G_GUINT64_FORMAT
          " rows) was never seen in training; train on data that has it, or set "
          "\"unknown_classes\": \"count_wrong\"",
          name, rows_of[c]);
      g_free(rows_of);
      g_free(map);
      return FALSE;
    } else if (rows_of[c] > 0) {
      map[c] = (gint32)names->len;
      g_ptr_array_add(names, g_strdup(data->classes[c]));
      lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                        "class %s of the data is unknown to the model; its %" G_GUINT64_FORMAT
                        " rows count as wrong",
                        name, rows_of[c]);
    } else {
      map[c] = -1; /* declared by the data but absent: never looked up */
    }
  }
  g_free(rows_of);
  gint32 *truth = g_new(gint32, data->n_rows + 1);
  for (guint r = 0; r < data->n_rows; r++)
    truth[r] = map[data->labels[r]];
  g_free(map);

  guint n_cols = 0;
  float *probs = lathe_context_predict(ctx, model, data, &n_cols, error);
  if (!probs) {
    g_free(truth);
    return FALSE;
  }
  if (n_cols != k) {
    g_free(truth);
    g_free(probs);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/classification: the model returned %u columns but lists %u "
                "classes; it is not a classifier this evaluator can score",
                n_cols, k);
    return FALSE;
  }
  g_autoptr(JsonObject) sub = json_object_new();
  if (subset && *subset && !subset_metrics(sub, data, subset, probs, truth, k, names, error)) {
    g_free(truth);
    g_free(probs);
    return FALSE;
  }
  guint n_scored = data->n_rows;
  if (by_group)
    n_scored = lathe_class_vote_by_group(data->groups, data->n_groups, data->n_rows, k,
                                         names->len, probs, truth);
  g_autoptr(LatheClassMetrics) m =
      lathe_class_metrics_compute(probs, n_scored, k, truth, names->len, error);
  g_free(truth);
  g_free(probs);
  if (!m)
    return FALSE;

  g_ptr_array_add(names, NULL);
  JsonObject *out = lathe_class_metrics_to_json(m, (const char *const *)names->pdata);
  g_autoptr(GList) sub_keys = json_object_get_members(sub);
  for (GList *l = sub_keys; l; l = l->next)
    json_object_set_member(out, l->data, json_object_dup_member(sub, l->data));
  /* Every scalar of the artifact is also a node metric. */
  JsonObjectIter it;
  const char *key;
  JsonNode *val;
  json_object_iter_init(&it, out);
  while (json_object_iter_next(&it, &key, &val))
    if (JSON_NODE_HOLDS_VALUE(val))
      lathe_context_set_metric(ctx, key, json_node_get_double(val));
  if (by_group)
    json_object_set_int_member(out, "n_rows", data->n_rows);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "accuracy %.4f, macro F1 %.4f, log loss %.4f on %u %s",
                    m->accuracy, m->macro_f1, m->log_loss, m->n_rows, by_group ? "groups" : "rows");
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(out));
  return TRUE;
}

static const LatheEvaluatorClass eval_class = {
    LATHE_COMPONENT_INIT(LatheEvaluatorClass, LATHE_KIND_EVALUATOR, "classification",
                         "accuracy, precision/recall/F1, log loss and confusion matrix of a "
                         "classifier",
                         eval_params, eval_inputs, eval_outputs),
    .run = eval_run,
};

LATHE_PLUGIN_DEFINE("evaluator-classification", "0.1.0", "MIT",
                    "classification metrics (sklearn conventions)",
                    LATHE_COMPONENT(eval_class))
