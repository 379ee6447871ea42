/* The content-addressed cache. A key is SHA-256 over a canonical JSON of what
 * determines a node's result: component, plugin version and binary digest,
 * resolved params, seed and the digests (never the names) of its inputs. */
#include <string.h>
#include <sys/stat.h>

#include "engine/engine-private.h"

char *lathe_cache_key_compute(const char *component, const char *plugin_version,
                              const char *plugin_digest, JsonObject *params, guint64 seed,
                              JsonObject *inputs, const char *trial) {
  g_autoptr(JsonObject) o = json_object_new();
  json_object_set_string_member(o, "component", component);
  json_object_set_string_member(o, "plugin_version", plugin_version);
  json_object_set_string_member(o, "plugin_digest", plugin_digest);
  json_object_set_object_member(o, "params", json_object_ref(params));
  g_autofree char *s = g_strdup_printf("%" G_GUINT64_FORMAT, seed); /* beyond double's 53 bits */
  json_object_set_string_member(o, "seed", s);
  json_object_set_object_member(o, "inputs", json_object_ref(inputs));
  if (trial)
    json_object_set_string_member(o, "trial", trial);
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  g_autofree char *text = lathe_json_canonical(n);
  return lathe_sha256_hex(text, strlen(text));
}

char *lathe_cache_key(LatheNodeRun *t, JsonObject *input_digests, const char *content) {
  LatheComponentInfo *c = t->node->comp;
  g_autoptr(JsonObject) inputs = json_object_ref(input_digests);
  /* A kind may add what else decides its result, to the key only: a copy,
   * so the recorded inputs stay the edges' digests. So does a source's
   * resolve: the content it will read, whatever commit holds it. */
  const LatheNodeKind *kind = lathe_node_kind_get(c->kind);
  if ((kind && kind->cache_inputs) || content) {
    inputs = json_object_new();
    g_autoptr(GList) ports = json_object_get_members(input_digests);
    for (GList *l = ports; l; l = l->next)
      json_object_set_member(inputs, l->data, json_node_copy(json_object_get_member(input_digests, l->data)));
    if (kind && kind->cache_inputs)
      kind->cache_inputs(t, inputs);
    if (content)
      json_object_set_string_member(inputs, "source:content", content);
  }
  /* Secrets enter the key only as keyed fingerprints (catalog/secrets.c). */
  g_autoptr(JsonObject) params = NULL;
  if (lathe_component_has_secrets(c)) {
    LatheRun *run = t->batch->run;
    g_mutex_lock(&run->lock);
    if (!run->secret_key_state) {
      g_autoptr(GError) error = NULL;
      run->secret_key_state = lathe_store_secret_key(run->store, run->secret_key, &error) ? 1 : -1;
      if (error)
        g_printerr("warning: %s; nodes with secret params run without the cache\n", error->message);
    }
    gboolean have = run->secret_key_state > 0;
    g_mutex_unlock(&run->lock);
    if (!have)
      return NULL;
    params = lathe_params_fingerprinted(c, t->params, run->secret_key, sizeof run->secret_key);
  }
  return lathe_cache_key_compute(c->id, c->plugin->version, lathe_plugin_digest(c->plugin),
                                 params ? params : t->params, t->seed, inputs, t->node->trial_text);
}

static gboolean is_local(const char *uri) { return !strstr(uri, "://"); }

static char *file_sha256(const char *path) {
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
  if (!mf)
    return NULL;
  return lathe_sha256_hex(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf));
}

void lathe_data_versions_stat(JsonArray *versions) {
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *d = json_array_get_object_element(versions, i);
    const char *uri = json_object_get_string_member_with_default(d, "uri", "");
    struct stat st;
    if (is_local(uri) && stat(uri, &st) == 0) {
      json_object_set_int_member(d, "size", st.st_size);
      json_object_set_int_member(d, "mtime", (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
    }
  }
}

/* A recorded local file still holds what was read: same size and mtime (as
 * git and DVC assume), or else the same SHA-256. */
static gboolean version_current(JsonObject *d) {
  const char *uri = json_object_get_string_member_with_default(d, "uri", "");
  if (!is_local(uri))
    return TRUE; /* commit ids and other immutable versions */
  struct stat st;
  if (stat(uri, &st) != 0)
    return FALSE;
  if (json_object_has_member(d, "size") &&
      json_object_get_int_member(d, "size") == st.st_size &&
      json_object_get_int_member(d, "mtime") ==
          (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec)
    return TRUE;
  g_autofree char *now = file_sha256(uri);
  return now && g_str_equal(now, json_object_get_string_member_with_default(d, "digest", ""));
}

static LatheArtifactType type_from_name(const char *name) {
  if (g_str_equal(name, "dataset")) return LATHE_TYPE_DATASET;
  if (g_str_equal(name, "model")) return LATHE_TYPE_MODEL;
  if (g_str_equal(name, "metrics")) return LATHE_TYPE_METRICS;
  return LATHE_TYPE_ANY;
}

gboolean lathe_cache_restore(LatheNodeRun *t, const char *key, gboolean resolved) {
  LatheRun *run = t->batch->run;
  g_autoptr(JsonObject) entry = lathe_store_cache_lookup(run->store, key);
  if (!entry)
    return FALSE;
  /* A resolved source's key holds its content already, and what it reads
   * now is what resolve recorded, not the entry's (an older commit). */
  JsonArray *dvs = json_object_get_array_member(entry, "data_versions");
  for (guint i = 0; !resolved && i < json_array_get_length(dvs); i++)
    if (!version_current(json_array_get_object_element(dvs, i)))
      return FALSE;
  JsonObject *outs = json_object_get_object_member(entry, "outputs");
  g_autoptr(GHashTable) arts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify)lathe_artifact_unref);
  g_autoptr(GList) ports = json_object_get_members(outs);
  for (GList *l = ports; l; l = l->next) {
    JsonObject *o = json_object_get_object_member(outs, l->data);
    LatheArtifact *a = lathe_store_get_artifact(
        run->store, json_object_get_string_member_with_default(o, "digest", ""),
        type_from_name(json_object_get_string_member_with_default(o, "type", "")), NULL);
    if (!a)
      return FALSE; /* a removed artifact file is a miss, not an error */
    g_hash_table_insert(arts, g_strdup(l->data), a);
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, arts);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(t->outputs, g_strdup(k), lathe_artifact_ref(v));
  JsonObject *m = json_object_get_object_member(entry, "metrics");
  g_autoptr(GList) names = json_object_get_members(m);
  for (GList *l = names; l; l = l->next)
    json_object_set_double_member(t->metrics, l->data, json_object_get_double_member(m, l->data));
  for (guint i = 0; !resolved && i < json_array_get_length(dvs); i++)
    json_array_add_element(t->data_versions, json_node_copy(json_array_get_element(dvs, i)));
  return TRUE;
}

/* Held while a task looks up its producers' outputs, and while one is
 * rebuilt: a rebuild replaces the producer's outputs, and a producer's own
 * inputs may need rebuilding first (hence recursive). Rebuilds are rare; the
 * lookups it guards take microseconds. */
static GRecMutex inputs_lock;

void lathe_cache_inputs_lock(void) { g_rec_mutex_lock(&inputs_lock); }
void lathe_cache_inputs_unlock(void) { g_rec_mutex_unlock(&inputs_lock); }

/* Runs @src again, cache and all: the store removed its damaged output, so
 * its cache entry misses and the component makes the output anew; the
 * recorder records the new attempt as an execution of its own. */
static void rebuild(LatheNodeRun *src) {
  while (json_array_get_length(src->data_versions))
    json_array_remove_element(src->data_versions, 0);
  lathe_batch_run_again(src);
  if (src->status != TASK_SUCCEEDED)
    g_printerr("lathe: rebuilding '%s': %s\n", src->exec_id, src->error ? src->error : "failed");
}

gboolean lathe_cache_reload_inputs(LatheNodeRun *t) {
  gboolean changed = FALSE;
  lathe_cache_inputs_lock();
  for (guint i = 0; i < t->node->edges->len; i++) {
    LatheEdge *e = t->node->edges->pdata[i];
    LatheNodeRun *src = lathe_batch_find(t->batch, e->from);
    LatheArtifact *a = src ? g_hash_table_lookup(src->outputs, e->output) : NULL;
    /* Only restored outputs are read from the store (and verified): the
     * read is the one the node would do anyway, done first. */
    if (!a || src->status != TASK_CACHED || lathe_artifact_read_bytes(a, NULL))
      continue;
    rebuild(src);
    changed = TRUE;
  }
  lathe_cache_inputs_unlock();
  return changed;
}
