/* Doing one task's work, by the kind of its component, with the cache in
 * front and the run store behind. Runs on a worker thread. */
#include <string.h>

#include "engine/engine-private.h"
#include "lathe-registry.h"

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

static gboolean run_model(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  const LatheModelClass *m = t->node->comp->klass;
  const LatheDataset *train = lathe_context_get_input_dataset(ctx, "train", error);
  if (!train)
    return FALSE;
  LatheArtifact *va = lathe_context_get_input(ctx, "valid");
  const LatheDataset *valid = va ? lathe_artifact_get_dataset(va, error) : NULL;
  if (va && !valid)
    return FALSE;
  gpointer inst = m->fit(ctx, train, valid, error);
  if (!inst) {
    if (error && !*error)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s: fit failed without an error",
                  t->node->comp->id);
    return FALSE;
  }
  g_autoptr(GBytes) state = m->save(inst, error);
  if (!state) {
    m->free(inst);
    return FALSE;
  }
  JsonObject *h = json_object_new();
  LathePlugin *p = t->node->comp->plugin;
  json_object_set_string_member(h, "component", t->node->comp->id);
  json_object_set_string_member(h, "plugin", p->name);
  json_object_set_string_member(h, "plugin_version", p->version);
  json_object_set_int_member(h, "state_version", m->state_version);
  JsonArray *classes = json_array_new(), *columns = json_array_new();
  for (guint i = 0; train->labels && i < train->n_classes; i++)
    json_array_add_string_element(classes, train->classes[i]);
  for (guint i = 0; i < train->n_cols; i++)
    json_array_add_string_element(columns, train->columns[i]);
  json_object_set_array_member(h, "classes", classes);
  json_object_set_array_member(h, "columns", columns);
  if (m->summary) {
    JsonObject *s = m->summary(inst);
    if (s)
      json_object_set_object_member(h, "summary", s);
  }
  LatheArtifact *art = lathe_artifact_new_model(h, state);
  /* Evaluators downstream reuse the trained instance instead of loading it. */
  lathe_artifact_set_cached_object(art, inst, m->free);
  lathe_context_set_output(ctx, "model", art);
  return TRUE;
}

static gboolean run_register(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  LatheRun *run = t->batch->run;
  g_autoptr(LatheRegistry) reg = lathe_registry_open_in(t->node->comp->klass, ctx, error);
  if (!reg)
    return FALSE;
  g_autoptr(JsonObject) meta = json_object_new();
  json_object_set_string_member(meta, "run_id", run->run_id);
  json_object_set_string_member(meta, "node", t->exec_id);
  json_object_set_string_member(meta, "pipeline", run->graph->path);
  LatheArtifact *ma = lathe_context_get_input(ctx, "metrics");
  JsonObject *metrics = ma ? lathe_artifact_get_metrics(ma, error) : NULL;
  if (ma && !metrics)
    return FALSE;
  JsonObject *scalars = json_object_new();
  g_autoptr(GList) names = metrics ? json_object_get_members(metrics) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(metrics, l->data);
    if (JSON_NODE_HOLDS_VALUE(v) && (json_node_get_value_type(v) == G_TYPE_DOUBLE ||
                                     json_node_get_value_type(v) == G_TYPE_INT64))
      json_object_set_double_member(scalars, l->data, json_node_get_double(v));
  }
  json_object_set_object_member(meta, "metrics", scalars);
  JsonArray *lineage = json_array_new();
  g_mutex_lock(&run->lock);
  for (guint i = 0; i < json_array_get_length(run->data_versions); i++)
    json_array_add_element(lineage, json_node_copy(json_array_get_element(run->data_versions, i)));
  g_mutex_unlock(&run->lock);
  json_object_set_array_member(meta, "data_versions", lineage);
  const char *name = lathe_context_param_string(ctx, "name");
  const char *alias = lathe_context_param_string(ctx, "alias");
  guint version = 0;
  if (!lathe_registry_register(reg, name, lathe_context_get_input(ctx, "model"), meta, alias,
                               &version, error))
    return FALSE;
  lathe_context_set_metric(ctx, "version", version);
  lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "registered %s version %u%s%s", name, version,
                    alias ? " as " : "", alias ? alias : "");
  return TRUE;
}

static gboolean run_component(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  LatheComponentInfo *c = t->node->comp;
  switch (c->kind) {
  case LATHE_KIND_SOURCE:
  case LATHE_KIND_TRANSFORM:
  case LATHE_KIND_EVALUATOR: {
    /* The three share the layout of LatheSourceClass. */
    const LatheSourceClass *k = c->klass;
    return k->run(ctx, error);
  }
  case LATHE_KIND_MODEL: return run_model(t, ctx, error);
  case LATHE_KIND_TUNER: return lathe_tuner_execute(t, ctx, error);
  case LATHE_KIND_REGISTRY: return run_register(t, ctx, error);
  default:
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s cannot run as a node", c->id);
    return FALSE;
  }
}

static void json_add_output(JsonObject *outs, const char *port, LatheArtifact *a) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "digest", lathe_artifact_get_digest(a));
  json_object_set_string_member(o, "type", lathe_artifact_type_name(lathe_artifact_get_kind(a)));
  json_object_set_int_member(o, "size", (gint64)lathe_artifact_get_size(a));
  json_object_set_object_member(outs, port, o);
}

void lathe_node_run_identity(LatheNodeRun *t, LatheExecIdentity *who) {
  LatheComponentInfo *c = t->node->comp;
  *who = (LatheExecIdentity){.run_id = t->batch->run->run_id, .node = t->exec_id,
                             .component = c->id, .plugin = c->plugin->name,
                             .plugin_version = c->plugin->version,
                             .plugin_digest = lathe_plugin_digest(c->plugin),
                             .cache_key = t->cache_key, .params = t->params};
}

gint64 lathe_node_run_row(LatheNodeRun *t) {
  g_mutex_lock(&t->row_lock);
  if (t->exec_row < 0) {
    LatheExecIdentity who;
    lathe_node_run_identity(t, &who);
    g_autoptr(GError) error = NULL;
    t->exec_row = lathe_store_begin_execution(t->batch->run->store, &who, t->started, &error);
    if (t->exec_row < 0)
      g_printerr("lathe: %s\n", error->message);
  }
  gint64 row = t->exec_row;
  g_mutex_unlock(&t->row_lock);
  return row;
}

/* Records the outcome: on the row written while it ran, or whole. */
static gboolean record(LatheNodeRun *t, const char *cache_key, const LatheExecRecord *rec,
                       GError **error) {
  LatheExecIdentity who;
  lathe_node_run_identity(t, &who);
  g_mutex_lock(&t->row_lock);
  gboolean ok = lathe_store_finish_execution(t->batch->run->store, t->exec_row, &who, cache_key,
                                             rec, error);
  t->exec_row = G_MAXINT64; /* recorded: nobody writes a "running" row any more */
  g_mutex_unlock(&t->row_lock);
  return ok;
}

/* @may_rebuild: once, a task whose cached inputs fail verification has
 * their producers rebuilt and starts again with the new outputs. */
static gboolean execute(LatheNodeRun *t, LatheContext *ctx, gboolean may_rebuild, GError **error) {
  LatheRun *run = t->batch->run;
  LatheComponentInfo *c = t->node->comp;
  g_autoptr(JsonObject) inputs = json_object_new();
  lathe_cache_inputs_lock();
  for (guint i = 0; i < t->node->edges->len; i++) {
    LatheEdge *e = t->node->edges->pdata[i];
    LatheNodeRun *src = lathe_batch_find(t->batch, e->from);
    LatheArtifact *a = src ? g_hash_table_lookup(src->outputs, e->output) : NULL;
    if (!a) {
      lathe_cache_inputs_unlock();
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "input '%s': node '%s' produced no '%s'",
                  e->port, e->from->id, e->output);
      return FALSE;
    }
    lathe_context_set_input(ctx, e->port, a);
    json_object_set_string_member(inputs, e->port, lathe_artifact_get_digest(a));
  }
  /* A tuner has no edges: its trials read outer nodes. Those outputs decide
   * its result, so they belong in its key. */
  for (guint i = 0; c->kind == LATHE_KIND_TUNER && i < t->node->deps->len; i++) {
    LatheNode *d = t->node->deps->pdata[i];
    LatheNodeRun *src = lathe_batch_find(t->batch, d);
    GHashTableIter it;
    gpointer port, art;
    g_hash_table_iter_init(&it, src ? src->outputs : NULL);
    while (src && g_hash_table_iter_next(&it, &port, &art)) {
      g_autofree char *name = g_strdup_printf("trial:%s.%s", d->id, (char *)port);
      json_object_set_string_member(inputs, name, lathe_artifact_get_digest(art));
    }
  }
  lathe_cache_inputs_unlock();
  gboolean use_cache = !run->opts->no_cache && t->node->cache;
  const char *key = NULL;
  if (use_cache) {
    g_mutex_lock(&t->row_lock);
    key = t->cache_key = lathe_cache_key(t, inputs);
    g_mutex_unlock(&t->row_lock);
  }
  gboolean hit = key && lathe_cache_restore(t, key);
  if (!hit && may_rebuild && lathe_cache_reload_inputs(t))
    return execute(t, ctx, FALSE, error);
  g_autoptr(JsonObject) outs = json_object_new();
  LatheExecRecord rec = {.inputs = inputs, .outputs = outs, .metrics = t->metrics,
                         .data_versions = t->data_versions, .started = t->started};
  if (hit) {
    GHashTableIter it;
    gpointer port, art;
    g_hash_table_iter_init(&it, t->outputs);
    while (g_hash_table_iter_next(&it, &port, &art))
      json_add_output(outs, port, art);
    t->status = TASK_CACHED;
    t->ended = now_s();
    rec.status = "cached";
    rec.ended = t->ended;
    return record(t, NULL, &rec, error);
  }
  g_autoptr(GError) local = NULL;
  /* Only now is the plugin opened: a cached node needs none of its code. */
  gboolean ok = lathe_catalog_realize(run->cat, c, &local) && run_component(t, ctx, &local);
  if (ok && lathe_context_is_cancelled(ctx)) {
    ok = FALSE;
    g_set_error(&local, LATHE_ERROR, LATHE_ERROR_CANCELLED, "cancelled");
  }
  for (guint i = 0; ok && i < c->n_outputs; i++) {
    const LathePortSpec *ps = &c->outputs[i];
    LatheArtifact *a = lathe_context_get_output(ctx, ps->name);
    if (!a) {
      if (ps->flags & LATHE_PORT_OPTIONAL)
        continue;
      ok = FALSE;
      g_set_error(&local, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s did not set its output '%s' (plugin bug)",
                  c->id, ps->name);
      break;
    }
    if (ps->type != LATHE_TYPE_ANY && lathe_artifact_get_kind(a) != ps->type) {
      ok = FALSE;
      g_set_error(&local, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s set output '%s' to a %s, declared %s "
                  "(plugin bug)", c->id, ps->name, lathe_artifact_type_name(lathe_artifact_get_kind(a)),
                  lathe_artifact_type_name(ps->type));
      break;
    }
    ok = lathe_store_put_artifact(run->store, a, &local);
    if (ok) {
      g_hash_table_replace(t->outputs, g_strdup(ps->name), lathe_artifact_ref(a));
      json_add_output(outs, ps->name, a);
    }
  }
  JsonObject *m = lathe_context_get_metrics(ctx);
  g_autoptr(GList) names = json_object_get_members(m);
  for (GList *l = names; l; l = l->next)
    json_object_set_double_member(t->metrics, l->data, json_object_get_double_member(m, l->data));
  JsonArray *dv = lathe_context_get_data_versions(ctx);
  for (guint i = 0; i < json_array_get_length(dv); i++)
    json_array_add_element(t->data_versions, json_node_copy(json_array_get_element(dv, i)));
  lathe_data_versions_stat(t->data_versions);
  t->ended = now_s();
  t->status = ok ? TASK_SUCCEEDED : TASK_FAILED;
  rec.status = ok ? "succeeded" : "failed";
  rec.ended = t->ended;
  rec.error = ok ? NULL : local->message;
  g_autoptr(GError) store_error = NULL;
  if (!record(t, key, &rec, &store_error) && ok) {
    g_propagate_error(error, g_steal_pointer(&store_error));
    return FALSE;
  }
  if (!ok)
    g_propagate_error(error, g_steal_pointer(&local));
  return ok;
}

gboolean lathe_node_execute(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  return execute(t, ctx, TRUE, error);
}
