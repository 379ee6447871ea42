/* evaluator/compare: picks the best of several trained models by one metric
 * of their evaluations, so a pipeline can register "the best family" without
 * knowing in advance which one wins.
 *
 * Candidates are numbered ports (model_1 + metrics_1, ...), because a port's
 * name is fixed at compile time; unconnected pairs are skipped. The winner's
 * artifacts are passed through unchanged (same digest), so registering it
 * stores exactly the model that was evaluated. */
#include <math.h>

#include <lathe/lathe-sdk.h>

#define COMPONENT "evaluator/compare"

#define MAX_CANDIDATES 8

static const char *const direction_choices[] = {"maximize", "minimize", NULL};

static const LatheParamSpec compare_params[] = {
    LATHE_PARAM_STRING_("metric", "\"macro_f1\"", 0,
                        "the scalar of each metrics input to compare (accuracy, macro_f1, "
                        "log_loss...)"),
    LATHE_PARAM_ENUM_("direction", "\"maximize\"", direction_choices,
                      "whether a larger or a smaller value wins; ties go to the lower number"),
    LATHE_PARAM_END,
};

#define CANDIDATE(i)                                                                     \
  {.name = "model_" #i, .type = LATHE_TYPE_MODEL, .flags = (i) > 1 ? LATHE_PORT_OPTIONAL : 0, \
   .doc = "candidate " #i "'s model"},                                                   \
  {                                                                                      \
    .name = "metrics_" #i, .type = LATHE_TYPE_METRICS,                                   \
    .flags = (i) > 1 ? LATHE_PORT_OPTIONAL : 0, .doc = "candidate " #i "'s evaluation"   \
  }

static const LathePortSpec compare_inputs[] = {
    CANDIDATE(1), CANDIDATE(2), CANDIDATE(3), CANDIDATE(4),
    CANDIDATE(5), CANDIDATE(6), CANDIDATE(7), CANDIDATE(8),
    {.name = NULL},
};

static const LathePortSpec compare_outputs[] = {
    {.name = "model", .type = LATHE_TYPE_MODEL, .doc = "the winning model, unchanged"},
    {.name = "metrics", .type = LATHE_TYPE_METRICS, .doc = "the winner's own metrics, unchanged"},
    {.name = "comparison", .type = LATHE_TYPE_METRICS,
     .doc = "every candidate's component and metric, and which one won"},
    {.name = NULL},
};

static const char *component_of(LatheArtifact *model) {
  JsonObject *h = lathe_artifact_get_model_header(model, NULL);
  return h && json_object_has_member(h, "component")
             ? json_object_get_string_member_with_default(h, "component", "?")
             : "?";
}

static gboolean compare_run(LatheContext *ctx, GError **error) {
  const char *metric = lathe_context_param_string(ctx, "metric");
  gboolean maximize = g_strcmp0(lathe_context_param_string(ctx, "direction"), "maximize") == 0;
  JsonArray *rows = json_array_new();
  int best = -1;
  double best_value = 0;
  for (int i = 1; i <= MAX_CANDIDATES; i++) {
    g_autofree char *mname = g_strdup_printf("model_%d", i);
    g_autofree char *ename = g_strdup_printf("metrics_%d", i);
    LatheArtifact *model = lathe_context_get_input(ctx, mname);
    LatheArtifact *metrics = lathe_context_get_input(ctx, ename);
    if (!model && !metrics)
      continue;
    if (!model || !metrics) {
      json_array_unref(rows);
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "'%s' is connected but '%s' is not; connect "
                              "each model together with its evaluation",
                              model ? mname : ename, model ? ename : mname);
      return FALSE;
    }
    JsonObject *m = lathe_artifact_get_metrics(metrics, error);
    if (!m) {
      json_array_unref(rows);
      return FALSE;
    }
    JsonNode *v = json_object_get_member(m, metric);
    if (!v || !JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) == G_TYPE_STRING) {
      json_array_unref(rows);
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "input '%s' has no numeric metric '%s'; set "
                              "\"metric\" to one its evaluator reports (accuracy, macro_f1, ...)",
                              ename, metric);
      return FALSE;
    }
    double value = json_node_get_double(v);
    JsonObject *row = json_object_new();
    json_object_set_int_member(row, "candidate", i);
    json_object_set_string_member(row, "component", component_of(model));
    json_object_set_string_member(row, "model_digest", lathe_artifact_get_digest(model));
    json_object_set_double_member(row, metric, value);
    if (json_object_has_member(m, "accuracy"))
      json_object_set_double_member(row, "accuracy", json_object_get_double_member(m, "accuracy"));
    json_array_add_object_element(rows, row);
    /* NaN never wins; strict comparison keeps the lower number on ties */
    if (!isnan(value) &&
        (best < 0 || (maximize ? value > best_value : value < best_value))) {
      best = i;
      best_value = value;
    }
  }
  if (best < 0) {
    json_array_unref(rows);
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                            "no candidate has a finite '%s'", metric);
    return FALSE;
  }
  g_autofree char *mname = g_strdup_printf("model_%d", best);
  g_autofree char *ename = g_strdup_printf("metrics_%d", best);
  LatheArtifact *winner = lathe_context_get_input(ctx, mname);
  JsonObject *cmp = json_object_new();
  json_object_set_string_member(cmp, "metric", metric);
  json_object_set_string_member(cmp, "direction", maximize ? "maximize" : "minimize");
  json_object_set_int_member(cmp, "best", best);
  json_object_set_string_member(cmp, "best_component", component_of(winner));
  json_object_set_double_member(cmp, "best_value", best_value);
  json_object_set_array_member(cmp, "candidates", rows);
  lathe_context_set_metric(ctx, "best", best);
  lathe_context_set_metric(ctx, "best_value", best_value);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "best: candidate %d (%s), %s = %.4f", best,
                    component_of(winner), metric, best_value);
  lathe_context_set_output(ctx, "model", lathe_artifact_ref(winner));
  lathe_context_set_output(ctx, "metrics", lathe_artifact_ref(lathe_context_get_input(ctx, ename)));
  lathe_context_set_output(ctx, "comparison", lathe_artifact_new_metrics(cmp));
  return TRUE;
}

static const LatheEvaluatorClass compare_class = {
    LATHE_COMPONENT_INIT(LatheEvaluatorClass, LATHE_KIND_EVALUATOR, "compare",
                         "pick the best of up to 8 evaluated models by one metric",
                         compare_params, compare_inputs, compare_outputs),
    .run = compare_run,
};

LATHE_PLUGIN_DEFINE("evaluator-compare", "0.1.0", "MIT",
                    "model comparison: the best of several evaluated candidates",
                    LATHE_COMPONENT(compare_class))
