/* evaluator/ab: scores a candidate model against the model that currently
 * holds an alias ("production") in the registry, on the same held-out data,
 * and decides whether the candidate should take the alias.
 *
 * The node only decides; a registry node downstream with
 * "when": "NODE.promote == 1" moves the alias. Both sides are scored here,
 * with evaluator/classification's own metric code, so the comparison never
 * mixes numbers computed on different rows or by different definitions. */
#include <math.h>
#include <string.h>

#include "classification-metrics.h"

#define COMPONENT "evaluator/ab"

/* Metrics the decision can use: all are "higher is better". */
static const char *const decidable[] = {"accuracy", "macro_f1", "macro_precision",
                                        "macro_recall", NULL};

/* Two scores of the same rows closer than this are a tie: the candidate
 * then counts as "at least as good". */
#define AB_TIE 1e-12

static const LatheParamSpec ab_params[] = {
    LATHE_PARAM_STRING_("name", "\"iris\"", 0, "the registered model name to compare against"),
    LATHE_PARAM_STRING_("alias", "\"production\"", 0,
                        "the alias whose model the candidate must match or beat"),
    LATHE_PARAM_LIST_("metrics", "[\"accuracy\", \"macro_f1\"]", LATHE_PARAM_STRING,
                      "the candidate is promoted when it is at least as good on every one "
                      "(accuracy, macro_f1, macro_precision, macro_recall)"),
    LATHE_PARAM_END,
};

static const LathePortSpec ab_inputs[] = {
    {.name = "candidate", .type = LATHE_TYPE_MODEL, .doc = "the newly trained classifier"},
    {.name = "data", .type = LATHE_TYPE_DATASET,
     .doc = "labelled held-out rows both models are scored on"},
    {.name = NULL},
};

static const LathePortSpec ab_outputs[] = {
    {.name = "metrics", .type = LATHE_TYPE_METRICS,
     .doc = "{decision, promote, name, alias, metrics, candidate: {...}, production: "
            "{version, ...} or null, reasons, alias_move: {reason, figures}}"},
    {.name = NULL},
};

/* The model's class names, in its probability-column order. */
static GPtrArray *model_classes(LatheArtifact *model, const char *side, GError **error) {
  JsonObject *h = lathe_artifact_get_model_header(model, error);
  if (!h)
    return NULL;
  JsonNode *node = json_object_get_member(h, "classes");
  if (!node || !JSON_NODE_HOLDS_ARRAY(node) ||
      json_array_get_length(json_node_get_array(node)) == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "evaluator/ab: the %s model lists no classes; A/B comparison needs "
                "classifiers trained on labelled data",
                side);
    return NULL;
  }
  JsonArray *arr = json_node_get_array(node);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonNode *e = json_array_get_element(arr, i);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
      g_ptr_array_unref(names);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "evaluator/ab: class %u in the %s model's header is not a string; the "
                  "model artifact is corrupt",
                  i, side);
      return NULL;
    }
    g_ptr_array_add(names, g_strdup(json_node_get_string(e)));
  }
  return names;
}

/* Scores @model on @data. Classes are matched by name; a data class the
 * model never saw counts as wrong (it cannot predict it), so a model trained
 * on fewer classes loses instead of failing the comparison. */
static LatheClassMetrics *score(LatheContext *ctx, LatheArtifact *model, const char *side,
                                const LatheDataset *data, GError **error) {
  g_autoptr(GPtrArray) names = model_classes(model, side, error);
  if (!names)
    return NULL;
  const guint k = names->len;
  g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint c = k; c-- > 0;)
    g_hash_table_insert(by_name, names->pdata[c], GUINT_TO_POINTER(c + 1));
  g_autofree gint32 *map = g_new(gint32, data->n_classes + 1);
  for (guint c = 0; c < data->n_classes; c++) {
    gpointer hit = g_hash_table_lookup(by_name, data->classes[c]);
    if (hit) {
      map[c] = GPOINTER_TO_INT(hit) - 1;
    } else {
      map[c] = (gint32)names->len;
      g_ptr_array_add(names, g_strdup(data->classes[c]));
    }
  }
  g_autofree gint32 *truth = g_new(gint32, data->n_rows + 1);
  for (guint r = 0; r < data->n_rows; r++)
    truth[r] = map[data->labels[r]];
  guint n_cols = 0;
  g_autofree float *probs = lathe_context_predict(ctx, model, data, &n_cols, error);
  if (!probs) {
    g_prefix_error(error, "evaluator/ab: the %s model: ", side);
    return NULL;
  }
  if (n_cols != k) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/ab: the %s model returned %u columns but lists %u classes; it is "
                "not a classifier this evaluator can score",
                side, n_cols, k);
    return NULL;
  }
  return lathe_class_metrics_compute(probs, data->n_rows, k, truth, names->len, error);
}

static double metric_value(const LatheClassMetrics *m, const char *name) {
  if (g_str_equal(name, "accuracy"))
    return m->accuracy;
  if (g_str_equal(name, "macro_f1"))
    return m->macro_f1;
  if (g_str_equal(name, "macro_precision"))
    return m->macro_precision;
  return m->macro_recall;
}

/* The listed metric names, checked; %NULL with @error when one is unknown. */
static GPtrArray *decision_metrics(LatheContext *ctx, GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, "metrics");
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    const char *name = json_array_get_string_element(list, i);
    if (!name || !g_strv_contains(decidable, name)) {
      g_ptr_array_unref(out);
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "param 'metrics': '%s' cannot decide a promotion; "
                              "use accuracy, macro_f1, macro_precision or macro_recall",
                              name ? name : "(not a string)");
      return NULL;
    }
    g_ptr_array_add(out, (gpointer)name);
  }
  if (out->len == 0) {
    g_ptr_array_unref(out);
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "param 'metrics' is empty; list at least one, e.g. "
                            "[\"accuracy\", \"macro_f1\"]");
    return NULL;
  }
  return out;
}

static JsonObject *side_json(const LatheClassMetrics *m, LatheArtifact *model) {
  JsonObject *o = json_object_new();
  JsonObject *h = lathe_artifact_get_model_header(model, NULL);
  if (h && json_object_has_member(h, "component"))
    json_object_set_string_member(o, "component",
                                  json_object_get_string_member_with_default(h, "component", "?"));
  json_object_set_string_member(o, "model_digest", lathe_artifact_get_digest(model));
  for (guint i = 0; decidable[i]; i++)
    json_object_set_double_member(o, decidable[i], metric_value(m, decidable[i]));
  json_object_set_double_member(o, "log_loss", m->log_loss);
  return o;
}

static gboolean check_data(LatheContext *ctx, const LatheDataset *data, GError **error) {
  if (!data->labels || data->n_rows == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                            "input 'data' has %s; connect labelled held-out rows "
                            "(e.g. split.test)",
                            data->labels ? "no rows" : "no labels");
    return FALSE;
  }
  for (guint r = 0; r < data->n_rows; r++)
    if (data->labels[r] < 0 || (guint)data->labels[r] >= data->n_classes) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                              "row %u of 'data' has no valid label (%d); drop "
                              "unlabelled rows first",
                              r, data->labels[r]);
      return FALSE;
    }
  return TRUE;
}

static gboolean ab_run(LatheContext *ctx, GError **error) {
  LatheArtifact *cand = lathe_context_get_input(ctx, "candidate");
  const LatheDataset *data = lathe_context_get_input_dataset(ctx, "data", error);
  if (!data || !check_data(ctx, data, error))
    return FALSE;
  if (!cand || lathe_artifact_get_kind(cand) != LATHE_TYPE_MODEL) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "evaluator/ab: input 'candidate' must be connected to a model");
    return FALSE;
  }
  g_autoptr(GPtrArray) which = decision_metrics(ctx, error);
  if (!which)
    return FALSE;
  const char *name = lathe_context_param_string(ctx, "name");
  const char *alias = lathe_context_param_string(ctx, "alias");
  if (!name || !*name || !alias || !*alias) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "params 'name' and 'alias' must not be empty");
    return FALSE;
  }
  /* The run's registry, through its plugin: whichever backend the pipeline
   * configures ("registry" setting; registry/local by default). */
  guint held_version = 0;
  GError *fetch_error = NULL;
  g_autoptr(LatheArtifact) prod =
      lathe_context_registry_fetch(ctx, name, alias, &held_version, &fetch_error);
  if (fetch_error) {
    g_propagate_prefixed_error(error, fetch_error, "reading %s@%s: ", name, alias);
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }

  g_autoptr(LatheClassMetrics) cm = score(ctx, cand, "candidate", data, error);
  if (!cm)
    return FALSE;
  g_autoptr(LatheClassMetrics) pm = prod ? score(ctx, prod, "production", data, error) : NULL;
  if (prod && !pm)
    return FALSE;

  gboolean promote = TRUE;
  JsonObject *out = json_object_new();
  JsonArray *reasons = json_array_new();
  JsonArray *listed = json_array_new();
  for (guint i = 0; i < which->len; i++) {
    const char *mname = which->pdata[i];
    double c = metric_value(cm, mname);
    json_array_add_string_element(listed, mname);
    g_autofree char *cn = g_strconcat("candidate_", mname, NULL);
    lathe_context_set_metric(ctx, cn, c);
    /* Top-level scalars too: a registry node reading this artifact records
     * only scalars with the version. */
    json_object_set_double_member(out, cn, c);
    if (!pm)
      continue;
    double p = metric_value(pm, mname);
    g_autofree char *pn = g_strconcat("production_", mname, NULL);
    lathe_context_set_metric(ctx, pn, p);
    json_object_set_double_member(out, pn, p);
    gboolean ok = isfinite(c) && (c >= p || fabs(c - p) <= AB_TIE);
    g_autofree char *why = g_strdup_printf("%s: candidate %.6g %s production %.6g", mname, c,
                                           ok ? ">=" : "<", p);
    json_array_add_string_element(reasons, why);
    promote = promote && ok;
  }
  if (!pm)
    json_array_add_string_element(reasons, "no model holds the alias yet: the candidate wins");

  json_object_set_string_member(out, "decision", promote ? "promote" : "keep");
  json_object_set_boolean_member(out, "promote", promote);
  json_object_set_string_member(out, "name", name);
  json_object_set_string_member(out, "alias", alias);
  json_object_set_array_member(out, "metrics", listed);
  json_object_set_int_member(out, "n_rows", data->n_rows);
  json_object_set_object_member(out, "candidate", side_json(cm, cand));
  if (pm) {
    JsonObject *po = side_json(pm, prod);
    json_object_set_int_member(po, "version", held_version);
    json_object_set_object_member(out, "production", po);
  } else {
    json_object_set_null_member(out, "production");
  }
  json_object_set_array_member(out, "reasons", reasons);
  lathe_context_set_metric(ctx, "promote", promote ? 1 : 0);
  lathe_context_set_metric(ctx, "production_version", prod ? (double)held_version : 0);
  json_object_set_int_member(out, "production_version", prod ? held_version : 0);
  /* Why the alias moves, for the registry node that promotes on this
   * decision: it records the reason and these figures in the alias history. */
  JsonObject *figures = json_object_new();
  g_autoptr(GList) members = json_object_get_members(out);
  for (GList *l = members; l; l = l->next)
    if (g_str_has_prefix(l->data, "candidate_") || g_str_has_prefix(l->data, "production_"))
      json_object_set_member(figures, l->data, json_node_copy(json_object_get_member(out, l->data)));
  json_object_set_int_member(figures, "n_rows", data->n_rows);
  JsonObject *move = json_object_new();
  json_object_set_string_member(move, "reason", "promotion by evaluator/ab");
  json_object_set_object_member(move, "figures", figures);
  json_object_set_object_member(out, "alias_move", move);
  if (prod)
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE,
                      "%s: candidate vs %s@%s (version %u"
                      "): accuracy %.4f vs %.4f, macro F1 %.4f vs %.4f",
                      promote ? "promote" : "keep", name, alias, held_version, cm->accuracy,
                      pm->accuracy, cm->macro_f1, pm->macro_f1);
  else
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "promote: no %s@%s yet", name, alias);
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(out));
  return TRUE;
}

static const LatheEvaluatorClass ab_class = {
    LATHE_COMPONENT_INIT(LatheEvaluatorClass, LATHE_KIND_EVALUATOR, "ab",
                         "A/B: score a candidate classifier against the model holding a "
                         "registry alias on the same data, and decide whether to promote it",
                         ab_params, ab_inputs, ab_outputs),
    .run = ab_run,
};

LATHE_PLUGIN_DEFINE("evaluator-ab", "0.1.0", "MIT",
                    "A/B comparison of a candidate against the production model",
                    LATHE_COMPONENT(ab_class))
