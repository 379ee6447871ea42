/* evaluator/cv: the summary of a cross-validation, from each fold's metrics.
 *
 * The folds are ordinary nodes (transform/split with folds and fold, a
 * model, an evaluator), so the engine runs them in parallel and caches each
 * one; this node only aggregates. Folds are numbered ports (fold_1, ...)
 * because a port's name is fixed at compile time, as in evaluator/compare.
 * Every numeric scalar the folds' evaluators report is summarised:
 * METRIC.mean, .std, .min, .max, .ci95_low, .ci95_high (cv-stats.c), and
 * the per-fold values under "per_fold". */
#include <math.h>

#include <lathe/lathe-sdk.h>

#include "cv-stats.h"

#define COMPONENT "evaluator/cv"
#define MAX_FOLDS 10

static const LatheParamSpec cv_params[] = {
    LATHE_PARAM_LIST_("metrics", "[]", LATHE_PARAM_STRING,
                      "the scalars to summarise; [] = every numeric scalar the first fold "
                      "reports (macro_f1, recall_<class>, ...)"),
    LATHE_PARAM_END,
};

#define FOLD(i)                                                                          \
  {                                                                                      \
    .name = "fold_" #i, .type = LATHE_TYPE_METRICS,                                      \
    .flags = (i) > 2 ? LATHE_PORT_OPTIONAL : 0, .doc = "fold " #i "'s evaluation"        \
  }

static const LathePortSpec cv_inputs[] = {
    FOLD(1), FOLD(2), FOLD(3), FOLD(4), FOLD(5), FOLD(6), FOLD(7), FOLD(8), FOLD(9), FOLD(10),
    {.name = NULL},
};

static const LathePortSpec cv_outputs[] = {
    {.name = "metrics", .type = LATHE_TYPE_METRICS,
     .doc = "METRIC.mean/.std/.min/.max/.ci95_low/.ci95_high, n_folds and per_fold"},
    {.name = NULL},
};

static gboolean is_number(JsonNode *v) {
  if (!v || !JSON_NODE_HOLDS_VALUE(v))
    return FALSE;
  GType t = json_node_get_value_type(v);
  return t == G_TYPE_DOUBLE || t == G_TYPE_INT64 || t == G_TYPE_INT || t == G_TYPE_FLOAT;
}

/* The names to summarise: the param's, or the first fold's numeric scalars. */
static GPtrArray *metric_names(LatheContext *ctx, JsonObject *first) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  JsonArray *want = lathe_context_param_list(ctx, "metrics");
  if (want && json_array_get_length(want) > 0) {
    for (guint i = 0; i < json_array_get_length(want); i++)
      g_ptr_array_add(names, g_strdup(json_array_get_string_element(want, i)));
    return names;
  }
  g_autoptr(GList) members = json_object_get_members(first);
  for (GList *l = members; l; l = l->next)
    if (is_number(json_object_get_member(first, l->data)))
      g_ptr_array_add(names, g_strdup(l->data));
  return names;
}

static gboolean cv_run(LatheContext *ctx, GError **error) {
  JsonObject *folds[MAX_FOLDS];
  const char *ports[MAX_FOLDS];
  guint n = 0;
  for (guint i = 0; i < MAX_FOLDS; i++) {
    g_autofree char *port = g_strdup_printf("fold_%u", i + 1);
    LatheArtifact *a = lathe_context_get_input(ctx, port);
    if (!a)
      continue;
    folds[n] = lathe_artifact_get_metrics(a, error);
    if (!folds[n])
      return FALSE;
    ports[n++] = cv_inputs[i].name;
  }
  if (n < 2) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "%u fold connected; connect fold_1, fold_2, ... to each fold's "
                            "evaluation",
                            n);
    return FALSE;
  }
  g_autoptr(GPtrArray) names = metric_names(ctx, folds[0]);
  JsonObject *out = json_object_new();
  JsonObject *per_fold = json_object_new();
  double v[MAX_FOLDS];
  guint n_done = 0;
  for (guint m = 0; m < names->len; m++) {
    const char *name = names->pdata[m];
    gboolean finite = TRUE;
    for (guint f = 0; f < n; f++) {
      JsonNode *node = json_object_get_member(folds[f], name);
      if (!is_number(node)) {
        json_object_unref(out);
        json_object_unref(per_fold);
        lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                                "input '%s' has no numeric metric '%s'; give every fold the "
                                "same evaluator, or list the metrics to summarise",
                                ports[f], name);
        return FALSE;
      }
      v[f] = json_node_get_double(node);
      finite = finite && isfinite(v[f]);
    }
    if (!finite) {
      /* JSON has no NaN; a metric undefined in some fold is left out, said once. */
      lathe_context_log(ctx, G_LOG_LEVEL_WARNING, "%s is not finite in every fold; left out",
                        name);
      continue;
    }
    LatheCvStats s = lathe_cv_stats(v, n);
    const struct {
      const char *suffix;
      double value;
    } parts[] = {{"mean", s.mean}, {"std", s.std}, {"min", s.min},
                 {"max", s.max},   {"ci95_low", s.ci95_low}, {"ci95_high", s.ci95_high}};
    for (guint p = 0; p < G_N_ELEMENTS(parts); p++) {
      g_autofree char *key = g_strdup_printf("%s.%s", name, parts[p].suffix);
      json_object_set_double_member(out, key, parts[p].value);
      lathe_context_set_metric(ctx, key, parts[p].value);
    }
    JsonArray *arr = json_array_new();
    for (guint f = 0; f < n; f++)
      json_array_add_double_element(arr, v[f]);
    json_object_set_array_member(per_fold, name, arr);
    n_done++;
  }
  json_object_set_int_member(out, "n_folds", n);
  json_object_set_array_member(out, "fold_ports", json_array_new());
  JsonArray *fp = json_object_get_array_member(out, "fold_ports");
  for (guint f = 0; f < n; f++)
    json_array_add_string_element(fp, ports[f]);
  json_object_set_object_member(out, "per_fold", per_fold);
  lathe_context_set_metric(ctx, "n_folds", n);
  if (json_object_has_member(out, "macro_f1.mean"))
    lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                      "%u folds: macro_f1 %.4f +- %.4f (95%% CI %.4f to %.4f)", n,
                      json_object_get_double_member(out, "macro_f1.mean"),
                      json_object_get_double_member(out, "macro_f1.std"),
                      json_object_get_double_member(out, "macro_f1.ci95_low"),
                      json_object_get_double_member(out, "macro_f1.ci95_high"));
  else
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u folds, %u metrics summarised", n, n_done);
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(out));
  return TRUE;
}

static const LatheEvaluatorClass cv_class = {
    LATHE_COMPONENT_INIT(LatheEvaluatorClass, LATHE_KIND_EVALUATOR, "cv",
                         "summarise up to 10 folds' evaluations: mean, std, min, max and "
                         "a t-based 95% interval of every metric",
                         cv_params, cv_inputs, cv_outputs),
    .run = cv_run,
};

LATHE_PLUGIN_DEFINE("evaluator-cv", "0.1.0", "MIT",
                    "cross-validation summary over folds", LATHE_COMPONENT(cv_class))
