/* Feeding the trackers: the run store is the record, trackers are views of
 * it for people. Every event becomes journal rows written with the store
 * rows they mirror (store-journal.h), one stream per selected tracker; the
 * shipper (tracker-ship.c) sends them from a thread of its own, so a slow or
 * absent tracker never slows or fails a run. */
#include <string.h>

#include "engine/engine-private.h"
#include "catalog/catalog.h"

static char *full_id(const char *id) {
  return strchr(id, '/') ? g_strdup(id) : g_strdup_printf("tracker/%s", id);
}

/* A setting {"use", "with"} of @use with its defaults. */
static JsonObject *default_setting(LatheComponentInfo *c, const char *use) {
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "use", use);
  json_object_set_object_member(o, "with", lathe_params_resolve(c, NULL, "/tracker/with",
                                                               problems, TRUE));
  return o;
}

gboolean lathe_tracking_select(LatheRun *run, GError **error) {
  g_autoptr(JsonArray) chosen = json_array_new();
  if (run->opts->trackers && run->opts->trackers[0]) {
    for (guint i = 0; run->opts->trackers[i]; i++) {
      if (g_str_equal(run->opts->trackers[i], "none"))
        continue; /* `--tracker none`: no tracker at all */
      g_autofree char *use = full_id(run->opts->trackers[i]);
      LatheComponentInfo *c = lathe_catalog_lookup(run->cat, use);
      if (!c || c->kind != LATHE_KIND_TRACKER) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN,
                    "tracker '%s' is not installed; see `lathe plugins list`", use);
        return FALSE;
      }
      json_array_add_object_element(chosen, default_setting(c, use));
    }
  } else if (run->graph->trackers) {
    for (guint i = 0; i < json_array_get_length(run->graph->trackers); i++)
      json_array_add_object_element(
          chosen, json_object_ref(json_array_get_object_element(run->graph->trackers, i)));
  } else {
    LatheComponentInfo *c = lathe_catalog_lookup(run->cat, "tracker/sqlite");
    if (c && c->kind == LATHE_KIND_TRACKER)
      json_array_add_object_element(chosen, default_setting(c, "tracker/sqlite"));
  }
  if (!json_array_get_length(chosen))
    return TRUE; /* no default tracker installed: nothing to feed */
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  run->tracker_settings = json_object_new();
  for (guint i = 0; i < json_array_get_length(chosen); i++) {
    JsonObject *o = json_array_get_object_element(chosen, i);
    const char *use = json_object_get_string_member(o, "use");
    /* A second setting of one tracker (two MLflow servers) is a stream of its own. */
    g_autofree char *stream = json_object_has_member(run->tracker_settings, use)
                                  ? g_strdup_printf("%s#%u", use, i + 1)
                                  : g_strdup(use);
    if (json_object_has_member(run->tracker_settings, stream))
      continue;
    json_object_set_object_member(run->tracker_settings, stream, json_object_ref(o));
    g_strv_builder_add(b, stream);
  }
  run->tracker_streams = g_strv_builder_end(b);
  return TRUE;
}

LatheJournal *lathe_tracking_journal_new(LatheRun *run) {
  return run->tracker_streams ? lathe_journal_new((const char *const *)run->tracker_streams) : NULL;
}

static JsonObject *items(const char *key, const char *value, ...) G_GNUC_NULL_TERMINATED;
static JsonObject *items(const char *key, const char *value, ...) {
  JsonObject *its = json_object_new();
  va_list ap;
  va_start(ap, value);
  while (key) {
    json_object_set_string_member(its, key, value);
    key = va_arg(ap, const char *);
    if (key)
      value = va_arg(ap, const char *);
  }
  va_end(ap);
  JsonObject *o = json_object_new();
  json_object_set_object_member(o, "items", its);
  return o;
}

static gint64 now_ms(void) { return g_get_real_time() / 1000; }

LatheJournal *lathe_tracking_start_journal(LatheRun *run) {
  LatheJournal *j = lathe_tracking_journal_new(run);
  if (!j)
    return NULL;
  JsonObject *start = json_object_new();
  json_object_set_string_member(start, "name", run->graph->name);
  json_object_set_int_member(start, "start_ms", now_ms());
  lathe_journal_add(j, NULL, LATHE_JOURNAL_START, start);
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, run->graph->seed);
  lathe_journal_add(j, NULL, LATHE_JOURNAL_TAGS,
                    items("lathe.pipeline", run->graph->path, "lathe.seed", seed, NULL));
  if (run->graph->path && g_file_test(run->graph->path, G_FILE_TEST_IS_REGULAR)) {
    JsonObject *art = json_object_new();
    g_autofree char *base = g_path_get_basename(run->graph->path);
    g_autofree char *path = g_strdup_printf("pipeline/%s", base);
    g_autofree char *abs = g_canonicalize_filename(run->graph->path, NULL);
    json_object_set_string_member(art, "path", path);
    json_object_set_string_member(art, "file", abs);
    lathe_journal_add(j, NULL, LATHE_JOURNAL_ARTIFACT, art);
  }
  return j;
}

void lathe_tracking_open(LatheRun *run) {
  if (!run->tracker_streams)
    return;
  /* `lathe tracker sync` opens the trackers as this run did. */
  g_autoptr(GList) streams = json_object_get_members(run->tracker_settings);
  for (GList *l = streams; l; l = l->next) {
    JsonObject *o = json_object_get_object_member(run->tracker_settings, l->data);
    /* Never a secret in the store: a literal secret is kept as "(secret)",
     * which `lathe tracker sync` leaves to the tracker's default (its
     * environment variable); an {"$env": ...} reference is kept as it is. */
    LatheComponentInfo *c = lathe_catalog_lookup(run->cat, json_object_get_string_member(o, "use"));
    JsonObject *rec = json_object_new();
    json_object_set_object_member(rec, "with",
                                  lathe_params_public(c, json_object_get_object_member(o, "with")));
    if (run->graph->base_dir)
      json_object_set_string_member(rec, "base_dir", run->graph->base_dir);
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), rec);
    json_object_unref(rec);
    g_autofree char *text = lathe_json_canonical(n);
    g_autoptr(GError) e = NULL;
    if (!lathe_store_set_tracker_settings(run->store, run->run_id, l->data, text, &e))
      g_printerr("warning: tracker %s: %s\n", (char *)l->data, e->message);
  }
  g_auto(GStrv) missing = NULL;
  run->shipper = lathe_shipper_new(run->cat, run->store, (const char *const *)run->tracker_streams,
                                   run->tracker_settings, run->graph->base_dir, NULL, &missing);
  for (guint i = 0; missing && missing[i]; i++)
    g_printerr("warning: tracker '%s' is not installed; its events stay in the run store\n",
               missing[i]);
  lathe_shipper_start(run->shipper);
}

void lathe_tracking_kick(LatheRun *run) {
  if (run->shipper)
    lathe_shipper_kick(run->shipper);
}

static void add_points(JsonArray *points, const char *key, double value, gint64 step, gint64 ts) {
  JsonObject *p = json_object_new();
  json_object_set_string_member(p, "key", key);
  json_object_set_member(p, "value", lathe_journal_number(value));
  json_object_set_int_member(p, "step", step);
  json_object_set_int_member(p, "ts", ts);
  json_array_add_object_element(points, p);
}

static JsonObject *metrics_payload(JsonArray *points) {
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "points", points);
  return o;
}

LatheJournal *lathe_tracking_task_journal(LatheRun *run, const char *target, const char *prefix,
                                          const char *component, JsonObject *params, JsonObject *metrics,
                                          JsonObject *outputs, JsonArray *data_versions) {
  LatheJournal *j = lathe_tracking_journal_new(run);
  if (!j)
    return NULL;
  gint64 now = now_ms();
  JsonObject *its = json_object_new();
  g_autoptr(GList) names = params ? json_object_get_members(params) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(params, l->data);
    g_autofree char *key = g_strdup_printf("%s.%s", prefix, (char *)l->data);
    g_autofree char *text = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                                ? g_strdup(json_node_get_string(v))
                                : lathe_json_canonical(v);
    json_object_set_string_member(its, key, text);
  }
  JsonObject *p = json_object_new();
  json_object_set_object_member(p, "items", its);
  lathe_journal_add(j, target, LATHE_JOURNAL_PARAMS, p);
  JsonArray *points = json_array_new();
  g_autoptr(GList) mnames = metrics ? json_object_get_members(metrics) : NULL;
  for (GList *l = mnames; l; l = l->next) {
    g_autofree char *key = g_strdup_printf("%s.%s", prefix, (char *)l->data);
    add_points(points, key, json_object_get_double_member(metrics, l->data), 0, now);
  }
  lathe_journal_add(j, target, LATHE_JOURNAL_METRICS, metrics_payload(points));
  if (data_versions && json_array_get_length(data_versions)) {
    JsonArray *ins = json_array_new();
    for (guint i = 0; i < json_array_get_length(data_versions); i++) {
      JsonObject *dv = json_array_get_object_element(data_versions, i);
      JsonObject *in = json_object_new();
      json_object_set_string_member(in, "node", prefix);
      json_object_set_string_member(in, "uri", json_object_get_string_member_with_default(dv, "uri", ""));
      json_object_set_string_member(in, "digest",
                                    json_object_get_string_member_with_default(dv, "digest", ""));
      json_array_add_object_element(ins, in);
    }
    JsonObject *o = json_object_new();
    json_object_set_array_member(o, "inputs", ins);
    lathe_journal_add(j, target, LATHE_JOURNAL_INPUTS, o);
  }
  /* A study's best trial, tagged on the run its trials are nested under. */
  if (component && g_str_has_prefix(component, "tuner/") && metrics &&
      json_object_has_member(metrics, "best_trial") && g_str_equal(target, run->run_id)) {
    guint best = (guint)json_object_get_double_member(metrics, "best_trial");
    g_autofree char *trial = g_strdup_printf("%s/%u", prefix, best);
    g_autofree char *child = g_strdup_printf("%s-%s-%u", run->run_id, prefix, best);
    g_strdelimit(child, "/", '-');
    lathe_journal_add(j, target, LATHE_JOURNAL_TAGS,
                      items("lathe.best_trial", trial, "lathe.best_trial_run", child, NULL));
  }
  /* Models by reference to the store's file: the journal stays small. */
  g_autoptr(GList) ports = outputs ? json_object_get_members(outputs) : NULL;
  for (GList *l = ports; l; l = l->next) {
    JsonNode *v = json_object_get_member(outputs, l->data);
    if (!JSON_NODE_HOLDS_OBJECT(v))
      continue;
    JsonObject *o = json_node_get_object(v);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "type", ""), "model") != 0)
      continue;
    JsonObject *art = json_object_new();
    g_autofree char *path = g_strdup_printf("model/%s.%s.lathe", prefix, (char *)l->data);
    json_object_set_string_member(art, "path", path);
    json_object_set_string_member(art, "digest", json_object_get_string_member(o, "digest"));
    lathe_journal_add(j, target, LATHE_JOURNAL_ARTIFACT, art);
  }
  return j;
}

LatheJournal *lathe_tracking_end_journal(LatheRun *run, const char *status) {
  LatheJournal *j = lathe_tracking_journal_new(run);
  if (!j)
    return NULL;
  g_mutex_lock(&run->lock);
  g_autoptr(JsonNode) m = json_node_init_object(json_node_alloc(), run->metrics);
  g_autofree char *text = lathe_json_canonical(m);
  g_mutex_unlock(&run->lock);
  JsonObject *art = json_object_new();
  json_object_set_string_member(art, "path", "metrics.json");
  json_object_set_string_member(art, "text", text);
  lathe_journal_add(j, run->run_id, LATHE_JOURNAL_ARTIFACT, art);
  JsonObject *end = json_object_new();
  json_object_set_string_member(end, "status", status);
  json_object_set_int_member(end, "end_ms", now_ms());
  lathe_journal_add(j, run->run_id, LATHE_JOURNAL_END, end);
  return j;
}

static void append(LatheRun *run, LatheJournal *j) {
  g_autoptr(GError) e = NULL;
  if (!lathe_store_journal_append(run->store, j, &e))
    g_printerr("warning: tracker journal: %s\n", e->message);
  lathe_tracking_kick(run);
}

char *lathe_tracking_trial_start(LatheRun *run, const char *tuner, guint number, JsonObject *point) {
  g_autoptr(LatheJournal) j = lathe_tracking_journal_new(run);
  if (!j)
    return NULL;
  g_autofree char *name = g_strdup_printf("%s/%u", tuner, number);
  char *id = g_strdup_printf("%s-%s", run->run_id, name);
  g_strdelimit(id, "/", '-');
  g_autofree char *num = g_strdup_printf("%u", number);
  JsonObject *start = json_object_new();
  json_object_set_string_member(start, "name", name);
  json_object_set_string_member(start, "parent", run->run_id);
  json_object_set_int_member(start, "start_ms", now_ms());
  lathe_journal_add(j, id, LATHE_JOURNAL_START, start);
  lathe_journal_add(j, id, LATHE_JOURNAL_TAGS,
                    items("mlflow.parentRunId", run->run_id, "lathe.trial", num, "lathe.tuner",
                          tuner, NULL));
  JsonObject *its = json_object_new();
  g_autoptr(GList) dims = point ? json_object_get_members(point) : NULL;
  for (GList *l = dims; l; l = l->next) {
    g_autofree char *text = lathe_json_canonical(json_object_get_member(point, l->data));
    json_object_set_string_member(its, l->data, text);
  }
  JsonObject *p = json_object_new();
  json_object_set_object_member(p, "items", its);
  lathe_journal_add(j, id, LATHE_JOURNAL_PARAMS, p);
  append(run, j);
  return id;
}

void lathe_tracking_trial_end(LatheRun *run, const char *tracker_run, const char *state,
                              JsonObject *values) {
  g_autoptr(LatheJournal) j = lathe_tracking_journal_new(run);
  if (!j || !tracker_run)
    return;
  gint64 now = now_ms();
  JsonArray *points = json_array_new();
  g_autoptr(GList) names = values ? json_object_get_members(values) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(values, l->data);
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) == G_TYPE_STRING)
      continue;
    add_points(points, l->data, json_node_get_double(v), 0, now);
  }
  lathe_journal_add(j, tracker_run, LATHE_JOURNAL_METRICS, metrics_payload(points));
  /* MLflow's run states: a pruned trial is KILLED there; Lathe keeps its word. */
  JsonObject *end = json_object_new();
  json_object_set_string_member(end, "status", g_str_equal(state, "complete") ? "succeeded" : state);
  json_object_set_int_member(end, "end_ms", now);
  lathe_journal_add(j, tracker_run, LATHE_JOURNAL_END, end);
  append(run, j);
}

void lathe_tracking_close(LatheRun *run) {
  if (run->shipper) {
    gint64 left = lathe_shipper_finish(run->shipper, lathe_tracker_flush_us());
    if (left > 0)
      g_printerr("note: %" G_GINT64_FORMAT " tracker event%s pending; `lathe tracker sync` "
                 "ships %s\n", left, left == 1 ? " is" : "s are", left == 1 ? "it" : "them");
    g_clear_pointer(&run->shipper, lathe_shipper_free);
  }
  g_clear_pointer(&run->tracker_streams, g_strfreev);
  g_clear_pointer(&run->tracker_settings, json_object_unref);
}
