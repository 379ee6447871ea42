/* Doing one task's work, by the kind of its component (its registered
 * operations), with the cache in front: the executor of tasks in this
 * process. Runs on a worker thread; the scheduler has the outcome recorded
 * (recorder.c). */
#include <string.h>

#include "engine/engine-private.h"

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

/* The kind's own work, from its registered operations (node-kinds.c, tuning/). */
static gboolean run_component(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  LatheComponentInfo *c = t->node->comp;
  const LatheNodeKind *k = lathe_node_kind_get(c->kind);
  if (!k || !k->execute) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s cannot run as a node", c->id);
    return FALSE;
  }
  return k->execute(t, ctx, error);
}

static void json_add_output(JsonObject *outs, const char *port, LatheArtifact *a) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "digest", lathe_artifact_get_digest(a));
  json_object_set_string_member(o, "type", lathe_artifact_type_name(lathe_artifact_get_kind(a)));
  json_object_set_int_member(o, "size", (gint64)lathe_artifact_get_size(a));
  json_object_set_object_member(outs, port, o);
}

/* A source's resolve (ABI 1.6), before the cache decision: what it would
 * read, as data versions in @ctx, and the content key for the cache key
 * (*@content). Its plugin is opened for it: the metadata said it has one. */
static gboolean resolve_source(LatheNodeRun *t, LatheContext *ctx, char **content, GError **error) {
  LatheComponentInfo *c = t->node->comp;
  if (!lathe_catalog_realize(t->batch->run->cat, c, error))
    return FALSE;
  const LatheSourceClass *k = c->klass;
  if (!k->resolve) /* the copy reads NULL beyond the plugin's struct_size */
    return TRUE;
  g_autoptr(GError) local = NULL;
  if (!k->resolve(ctx, &local)) {
    if (local)
      g_propagate_prefixed_error(error, g_steal_pointer(&local), "resolve: ");
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN,
                  "%s: resolve failed without saying why (plugin bug)", c->id);
    return FALSE;
  }
  const char *key = lathe_context_get_content_key(ctx);
  if (key) {
    *content = g_strdup(key);
    return TRUE;
  }
  /* No key: the digests of what it would read stand for the content. */
  JsonArray *dv = lathe_context_get_data_versions(ctx), *digests = json_array_new();
  for (guint i = 0; i < json_array_get_length(dv); i++)
    json_array_add_string_element(digests, json_object_get_string_member_with_default(
                                               json_array_get_object_element(dv, i), "digest", ""));
  g_autoptr(JsonNode) n = json_node_init_array(json_node_alloc(), digests);
  json_array_unref(digests);
  *content = lathe_json_canonical(n);
  return TRUE;
}

/* @may_rebuild: once, a task whose cached inputs fail verification has
 * their producers rebuilt and starts again with the new outputs.
 * @content: (nullable) set when a source's resolve ran (resolve_source()). */
static gboolean node_execute(LatheNodeRun *t, LatheContext *ctx, gboolean may_rebuild,
                             const char *content, GError **error) {
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
  const LatheNodeKind *kind = lathe_node_kind_get(c->kind);
  if (kind && kind->extra_inputs)
    kind->extra_inputs(t, inputs);
  lathe_cache_inputs_unlock();
  gboolean use_cache = !run->opts->no_cache && t->node->cache && !(kind && kind->uncached);
  const char *key = NULL;
  if (use_cache) {
    /* Computed outside the key lock: it may take the run lock (a secret's
     * key), which the ticker holds while it takes key locks. */
    char *computed = lathe_cache_key(t, inputs, content);
    g_mutex_lock(&t->key_lock);
    g_free(t->cache_key); /* set already when its inputs were rebuilt */
    key = t->cache_key = computed;
    g_mutex_unlock(&t->key_lock);
  }
  gboolean hit = key && lathe_cache_restore(t, key, content != NULL);
  if (!hit && may_rebuild && lathe_cache_reload_inputs(t))
    return node_execute(t, ctx, FALSE, content, error);
  JsonObject *outs = json_object_new();
  t->inputs = json_object_ref(inputs);
  t->outs = outs; /* the recorder writes both with the outcome */
  if (hit) {
    GHashTableIter it;
    gpointer port, art;
    g_hash_table_iter_init(&it, t->outputs);
    while (g_hash_table_iter_next(&it, &port, &art))
      json_add_output(outs, port, art);
    if (content) { /* what resolve found now: the current commit, not the entry's */
      JsonArray *dv = lathe_context_get_data_versions(ctx);
      for (guint i = 0; i < json_array_get_length(dv); i++)
        json_array_add_element(t->data_versions, json_node_copy(json_array_get_element(dv, i)));
      lathe_data_versions_stat(t->data_versions);
    }
    t->status = TASK_CACHED;
    t->ended = now_s();
    return TRUE;
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonArray) remote_dv = NULL;
  /* Only now is the plugin opened: a cached node needs none of its code.
   * A node for an executor runs in `lathe exec-task` there, and comes back
   * as outputs and metrics in @ctx, checked and recorded as below. */
  gboolean ok = t->remote ? lathe_exec_remote(t, ctx, &remote_dv, &local)
                          : lathe_catalog_realize(run->cat, c, &local) && run_component(t, ctx, &local);
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
  JsonArray *dv = remote_dv ? remote_dv : lathe_context_get_data_versions(ctx);
  for (guint i = 0; i < json_array_get_length(dv); i++)
    json_array_add_element(t->data_versions, json_node_copy(json_array_get_element(dv, i)));
  lathe_data_versions_stat(t->data_versions);
  t->ended = now_s();
  t->status = ok ? TASK_SUCCEEDED : TASK_FAILED;
  if (!ok)
    g_propagate_error(error, g_steal_pointer(&local));
  return ok;
}

static gboolean execute(gpointer data, LatheNodeRun *t, GError **error) {
  LatheRun *run = t->batch->run;
  LatheContext *ctx = lathe_context_new(t->exec_id, t->params, t->seed, &lathe_engine_services, t);
  lathe_context_set_dirs(ctx, run->graph->base_dir, lathe_store_dir(run->store), run->scratch_root);
  lathe_context_set_run(ctx, run->run_id, run->graph->path);
  lathe_context_set_threads(ctx, run->blas_threads);
  g_mutex_lock(&run->lock); /* the ticker and progress look at running contexts */
  t->ctx = ctx;
  g_mutex_unlock(&run->lock);
  /* `lathe reproduce`: each node reads what it recorded then. */
  if (run->opts->pins) {
    JsonArray *pins = g_hash_table_lookup(run->opts->pins, t->exec_id);
    lathe_context_set_pins(ctx, pins ? pins : g_hash_table_lookup(run->opts->pins, t->node->id));
  }
  g_autofree char *content = NULL;
  gboolean ok;
  if (t->node->comp->kind == LATHE_KIND_SOURCE && t->node->comp->resolves &&
      !resolve_source(t, ctx, &content, error)) {
    ok = FALSE;
    t->inputs = json_object_new(); /* the recorder writes them with the failure */
    t->outs = json_object_new();
    t->status = TASK_FAILED;
    t->ended = now_s();
  } else {
    ok = node_execute(t, ctx, TRUE, content, error);
  }
  g_mutex_lock(&run->lock);
  t->ctx = NULL;
  g_mutex_unlock(&run->lock);
  lathe_context_free(ctx);
  return ok;
}

const LatheExecutor lathe_node_executor = {.execute = execute};
