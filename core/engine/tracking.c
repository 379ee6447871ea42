/* Feeding the tracker: the run store is the record, the tracker is a view for
 * people. Tracker failures are warnings, never a failed run. Calls are
 * serialised by a lock of their own, as the ABI promises plugins one caller
 * at a time, so that no worker waits for a tracker write to start a node. */
#include <string.h>

#include "engine/engine-private.h"
#include "catalog/catalog.h"

static void warn(const char *what, GError *error) {
  g_printerr("warning: tracker %s: %s\n", what, error ? error->message : "failed");
}

gboolean lathe_tracking_open(LatheRun *run, GError **error) {
  const char *use = run->graph->tracker
                        ? json_object_get_string_member(run->graph->tracker, "use")
                        : "tracker/sqlite";
  LatheComponentInfo *c = lathe_catalog_lookup(run->cat, use);
  if (!c || c->kind != LATHE_KIND_TRACKER) {
    if (run->graph->tracker) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "'%s' is not installed", use);
      return FALSE;
    }
    return TRUE; /* no default tracker installed: nothing to feed */
  }
  g_autoptr(JsonObject) with = NULL;
  if (run->graph->tracker) {
    with = json_object_ref(json_object_get_object_member(run->graph->tracker, "with"));
  } else {
    g_autoptr(GPtrArray) problems = lathe_problems_new();
    with = lathe_params_resolve(c, NULL, "/tracker/with", problems, TRUE); /* the defaults */
  }
  if (!lathe_catalog_realize(run->cat, c, error))
    return FALSE;
  run->tracker_ctx = lathe_context_new("tracker", with, 0, NULL, NULL);
  lathe_context_set_dirs(run->tracker_ctx, run->graph->base_dir, lathe_store_dir(run->store), NULL);
  const LatheTrackerClass *k = c->klass;
  gpointer t = k->open(run->tracker_ctx, error);
  if (!t) {
    g_clear_pointer(&run->tracker_ctx, lathe_context_free);
    return FALSE;
  }
  gint64 now = g_get_real_time() / 1000;
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, run->graph->seed);
  if (!k->start_run(t, run->run_id, run->graph->name, now, error)) {
    k->close(t);
    g_clear_pointer(&run->tracker_ctx, lathe_context_free);
    return FALSE;
  }
  g_autoptr(GError) e = NULL;
  if (!k->set_tag(t, run->run_id, "lathe.pipeline", run->graph->path, &e) ||
      !k->set_tag(t, run->run_id, "lathe.seed", seed, &e))
    warn("tag", e);
  run->tracker = t;
  run->tracker_class = k;
  return TRUE;
}

char *lathe_tracking_trial_start(LatheRun *run, const char *tuner, guint number, JsonObject *point) {
  if (!run->tracker)
    return NULL;
  const LatheTrackerClass *k = run->tracker_class;
  g_autofree char *name = g_strdup_printf("%s/%u", tuner, number);
  char *id = g_strdup_printf("%s-%s", run->run_id, name);
  g_strdelimit(id, "/", '-');
  g_autofree char *num = g_strdup_printf("%u", number);
  g_autoptr(GError) e = NULL;
  g_mutex_lock(&run->tracker_lock);
  if (!k->start_run(run->tracker, id, name, g_get_real_time() / 1000, &e)) {
    warn("trial run", e);
    g_free(id);
    g_mutex_unlock(&run->tracker_lock);
    return NULL;
  }
  if (!k->set_tag(run->tracker, id, "mlflow.parentRunId", run->run_id, &e) ||
      !k->set_tag(run->tracker, id, "lathe.trial", num, &e) ||
      !k->set_tag(run->tracker, id, "lathe.tuner", tuner, &e))
    warn("tag", e);
  g_autoptr(GList) dims = point ? json_object_get_members(point) : NULL;
  for (GList *l = dims; l; l = l->next) {
    g_autofree char *text = lathe_json_canonical(json_object_get_member(point, l->data));
    g_clear_error(&e);
    if (!k->log_param(run->tracker, id, l->data, text, &e))
      warn("param", e);
  }
  g_mutex_unlock(&run->tracker_lock);
  return id;
}

void lathe_tracking_trial_end(LatheRun *run, const char *tracker_run, const char *state,
                              JsonObject *values) {
  if (!run->tracker || !tracker_run)
    return;
  const LatheTrackerClass *k = run->tracker_class;
  gint64 now = g_get_real_time() / 1000;
  g_autoptr(GError) e = NULL;
  g_mutex_lock(&run->tracker_lock);
  g_autoptr(GList) names = values ? json_object_get_members(values) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(values, l->data);
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) == G_TYPE_STRING)
      continue;
    g_clear_error(&e);
    if (!k->log_metric(run->tracker, tracker_run, l->data, json_node_get_double(v), 0, now, &e))
      warn("metric", e);
  }
  /* MLflow's run states: a pruned trial is KILLED there; Lathe keeps its word. */
  g_clear_error(&e);
  if (!k->end_run(run->tracker, tracker_run, g_str_equal(state, "complete") ? "succeeded" : state,
                  now, &e))
    warn("end", e);
  g_mutex_unlock(&run->tracker_lock);
}

void lathe_tracking_task_done(LatheRun *run, const char *target, const char *prefix,
                              JsonObject *params, JsonObject *metrics) {
  if (!run->tracker)
    return;
  const LatheTrackerClass *k = run->tracker_class;
  gint64 now = g_get_real_time() / 1000;
  g_mutex_lock(&run->tracker_lock);
  g_autoptr(GList) names = params ? json_object_get_members(params) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(params, l->data);
    g_autofree char *key = g_strdup_printf("%s.%s", prefix, (char *)l->data);
    g_autofree char *text = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                                ? g_strdup(json_node_get_string(v))
                                : lathe_json_canonical(v);
    g_autoptr(GError) e = NULL;
    if (!k->log_param(run->tracker, target, key, text, &e))
      warn("param", e);
  }
  g_autoptr(GList) mnames = metrics ? json_object_get_members(metrics) : NULL;
  for (GList *l = mnames; l; l = l->next) {
    g_autofree char *key = g_strdup_printf("%s.%s", prefix, (char *)l->data);
    g_autoptr(GError) e = NULL;
    if (!k->log_metric(run->tracker, target, key, json_object_get_double_member(metrics, l->data),
                       0, now, &e))
      warn("metric", e);
  }
  g_mutex_unlock(&run->tracker_lock);
}

void lathe_tracking_report(LatheRun *run, const char *target, const char *prefix, const char *name,
                           double value, gint64 step) {
  if (!run->tracker)
    return;
  g_autofree char *key = g_strdup_printf("%s.%s", prefix, name);
  g_autoptr(GError) e = NULL;
  g_mutex_lock(&run->tracker_lock);
  if (!run->tracker_class->log_metric(run->tracker, target, key, value, step,
                                      g_get_real_time() / 1000, &e))
    warn("metric", e);
  g_mutex_unlock(&run->tracker_lock);
}

void lathe_tracking_close(LatheRun *run, const char *status) {
  if (!run->tracker)
    return;
  g_autoptr(GError) e = NULL;
  if (!run->tracker_class->end_run(run->tracker, run->run_id, status, g_get_real_time() / 1000, &e))
    warn("end", e);
  run->tracker_class->close(run->tracker);
  run->tracker = NULL;
  g_clear_pointer(&run->tracker_ctx, lathe_context_free);
}
