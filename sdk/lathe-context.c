/* The context a component runs in. The SDK owns its layout so plugins only
 * ever call functions: the host can grow it without an ABI change. */
#include <glib/gstdio.h>

#include "lathe/lathe-context-private.h"
#include "lathe/lathe-error.h"

struct _LatheContext {
  char *node_id;
  JsonObject *params;
  guint64 seed;
  LatheRng rng;
  guint threads;
  const LatheHostServices *host;
  gpointer host_data;
  char *base_dir;
  char *store_dir;
  char *scratch_root;
  char *scratch_dir;
  GHashTable *inputs;  /* name -> LatheArtifact* */
  GHashTable *outputs; /* name -> LatheArtifact* */
  GMutex lock;         /* metrics and data versions may be set from helper threads */
  JsonObject *metrics;
  JsonArray *data_versions;
  char *content_key;
  JsonArray *pins;
  char *run_id;
  char *pipeline;
  gint cancelled;
};

LatheContext *lathe_context_new(const char *node_id, JsonObject *params, guint64 seed,
                                const LatheHostServices *host, gpointer host_data) {
  LatheContext *c = g_new0(LatheContext, 1);
  c->node_id = g_strdup(node_id);
  c->params = params ? json_object_ref(params) : json_object_new();
  c->seed = seed;
  lathe_rng_init(&c->rng, seed);
  c->threads = 1;
  c->host = host;
  c->host_data = host_data;
  c->inputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)lathe_artifact_unref);
  c->outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)lathe_artifact_unref);
  g_mutex_init(&c->lock);
  c->metrics = json_object_new();
  c->data_versions = json_array_new();
  return c;
}

static void remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  if (dir) {
    const char *name;
    while ((name = g_dir_read_name(dir))) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
          !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        remove_tree(child);
      else
        g_unlink(child);
    }
  }
  g_rmdir(path);
}

void lathe_context_free(LatheContext *c) {
  if (!c)
    return;
  if (c->scratch_dir)
    remove_tree(c->scratch_dir);
  g_free(c->node_id);
  json_object_unref(c->params);
  g_free(c->base_dir);
  g_free(c->store_dir);
  g_free(c->scratch_root);
  g_free(c->scratch_dir);
  g_hash_table_unref(c->inputs);
  g_hash_table_unref(c->outputs);
  g_mutex_clear(&c->lock);
  json_object_unref(c->metrics);
  json_array_unref(c->data_versions);
  g_free(c->content_key);
  g_free(c->run_id);
  g_free(c->pipeline);
  if (c->pins)
    json_array_unref(c->pins);
  g_free(c);
}

void lathe_context_set_dirs(LatheContext *c, const char *base_dir, const char *store_dir,
                            const char *scratch_root) {
  g_free(c->base_dir);
  g_free(c->store_dir);
  g_free(c->scratch_root);
  c->base_dir = g_strdup(base_dir);
  c->store_dir = g_strdup(store_dir);
  c->scratch_root = g_strdup(scratch_root);
}

void lathe_context_set_threads(LatheContext *c, guint threads) {
  c->threads = MAX(threads, 1);
}

void lathe_context_set_input(LatheContext *c, const char *name, LatheArtifact *art) {
  g_hash_table_replace(c->inputs, g_strdup(name), lathe_artifact_ref(art));
}

void lathe_context_cancel(LatheContext *c) { g_atomic_int_set(&c->cancelled, 1); }

LatheArtifact *lathe_context_get_output(LatheContext *c, const char *name) {
  return g_hash_table_lookup(c->outputs, name);
}

JsonObject *lathe_context_get_metrics(LatheContext *c) { return c->metrics; }
JsonArray *lathe_context_get_data_versions(LatheContext *c) { return c->data_versions; }

const char *lathe_context_node_id(LatheContext *c) { return c->node_id; }
const char *lathe_context_base_dir(LatheContext *c) { return c->base_dir ? c->base_dir : "."; }
const char *lathe_context_store_dir(LatheContext *c) { return c->store_dir; }

/* Made absolute first: g_canonicalize_filename() refuses a relative base. */
static char *absolute(const char *dir) {
  if (g_path_is_absolute(dir))
    return g_canonicalize_filename(dir, NULL);
  g_autofree char *cwd = g_get_current_dir();
  return g_canonicalize_filename(dir, cwd);
}

char *lathe_context_resolve_path(LatheContext *c, const char *path, const char *in_store,
                                 GError **error) {
  if (path && *path) {
    g_autofree char *base = absolute(lathe_context_base_dir(c));
    return g_canonicalize_filename(path, base);
  }
  if (!in_store || !c->store_dir || !*c->store_dir) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: no path given%s; set the \"path\" param", c->node_id,
                in_store ? " and there is no run store" : "");
    return NULL;
  }
  g_autofree char *store = absolute(c->store_dir);
  return g_build_filename(store, in_store, NULL);
}

const char *lathe_context_scratch_dir(LatheContext *c, GError **error) {
  if (c->scratch_dir)
    return c->scratch_dir;
  g_autofree char *tmpl = NULL;
  g_autofree char *safe = g_strdup(c->node_id);
  g_strdelimit(safe, "/", '_');
  if (c->scratch_root) {
    if (g_mkdir_with_parents(c->scratch_root, 0700) != 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create %s: %s", c->scratch_root,
                  g_strerror(errno));
      return NULL;
    }
    tmpl = g_strdup_printf("%s/%s-XXXXXX", c->scratch_root, safe);
  } else {
    tmpl = g_strdup_printf("%s/lathe-%s-XXXXXX", g_get_tmp_dir(), safe);
  }
  if (!g_mkdtemp(tmpl)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create scratch dir %s: %s", tmpl,
                g_strerror(errno));
    return NULL;
  }
  c->scratch_dir = g_steal_pointer(&tmpl);
  return c->scratch_dir;
}

JsonObject *lathe_context_get_params(LatheContext *c) { return c->params; }

static JsonNode *param_node(LatheContext *c, const char *name) {
  JsonNode *n = json_object_get_member(c->params, name);
  if (!n)
    g_critical("%s: param '%s' is not declared or has no value", c->node_id, name);
  return n;
}

gint64 lathe_context_param_int(LatheContext *c, const char *name) {
  JsonNode *n = param_node(c, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

double lathe_context_param_float(LatheContext *c, const char *name) {
  JsonNode *n = param_node(c, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0.0;
}

gboolean lathe_context_param_bool(LatheContext *c, const char *name) {
  JsonNode *n = param_node(c, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_boolean(n) : FALSE;
}

const char *lathe_context_param_string(LatheContext *c, const char *name) {
  JsonNode *n = json_object_get_member(c->params, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n) : NULL;
}

JsonArray *lathe_context_param_list(LatheContext *c, const char *name) {
  JsonNode *n = json_object_get_member(c->params, name);
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

gboolean lathe_context_param_is_set(LatheContext *c, const char *name) {
  JsonNode *n = json_object_get_member(c->params, name);
  return n && !JSON_NODE_HOLDS_NULL(n);
}

LatheArtifact *lathe_context_get_input(LatheContext *c, const char *name) {
  return g_hash_table_lookup(c->inputs, name);
}

const LatheDataset *lathe_context_get_input_dataset(LatheContext *c, const char *name,
                                                    GError **error) {
  LatheArtifact *a = lathe_context_get_input(c, name);
  if (!a) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "input '%s' is not connected", name);
    return NULL;
  }
  return lathe_artifact_get_dataset(a, error);
}

void lathe_context_set_output(LatheContext *c, const char *name, LatheArtifact *art) {
  g_hash_table_replace(c->outputs, g_strdup(name), art);
}

void lathe_context_set_output_dataset(LatheContext *c, const char *name, LatheDataset *ds) {
  lathe_context_set_output(c, name, lathe_artifact_new_dataset(ds));
}

guint64 lathe_context_seed(LatheContext *c) { return c->seed; }
LatheRng *lathe_context_rng(LatheContext *c) { return &c->rng; }
guint lathe_context_threads(LatheContext *c) { return c->threads; }

void lathe_context_log(LatheContext *c, GLogLevelFlags level, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  if (c->host && c->host->log)
    c->host->log(c->host_data, c, level, msg);
  else
    g_log("lathe", level, "%s: %s", c->node_id, msg);
}

void lathe_context_report(LatheContext *c, const char *name, double value, gint64 step) {
  if (c->host && c->host->report)
    c->host->report(c->host_data, c, name, value, step);
}

void lathe_context_set_metric(LatheContext *c, const char *name, double value) {
  g_mutex_lock(&c->lock);
  json_object_set_double_member(c->metrics, name, value);
  g_mutex_unlock(&c->lock);
}

void lathe_context_progress(LatheContext *c, double fraction, const char *message) {
  if (c->host && c->host->progress)
    c->host->progress(c->host_data, c, CLAMP(fraction, 0.0, 1.0), message);
}

gboolean lathe_context_is_cancelled(LatheContext *c) {
  return g_atomic_int_get(&c->cancelled) != 0;
}

void lathe_context_add_data_version(LatheContext *c, const char *uri, const char *digest) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "uri", uri);
  json_object_set_string_member(o, "digest", digest);
  g_mutex_lock(&c->lock);
  json_array_add_object_element(c->data_versions, o);
  g_mutex_unlock(&c->lock);
}

void lathe_context_set_content_key(LatheContext *c, const char *key) {
  g_mutex_lock(&c->lock);
  g_free(c->content_key);
  c->content_key = g_strdup(key);
  g_mutex_unlock(&c->lock);
}

const char *lathe_context_get_content_key(LatheContext *c) { return c->content_key; }

void lathe_context_set_pins(LatheContext *c, JsonArray *pins) {
  if (c->pins)
    json_array_unref(c->pins);
  c->pins = pins ? json_array_ref(pins) : NULL;
}

JsonArray *lathe_context_get_pins(LatheContext *c) { return c->pins; }

void lathe_context_set_run(LatheContext *c, const char *run_id, const char *pipeline) {
  g_free(c->run_id);
  g_free(c->pipeline);
  c->run_id = g_strdup(run_id);
  c->pipeline = g_strdup(pipeline);
}

const char *lathe_context_run_id(LatheContext *c) { return c->run_id; }
const char *lathe_context_pipeline(LatheContext *c) { return c->pipeline; }

float *lathe_context_predict(LatheContext *c, LatheArtifact *model, const LatheDataset *data,
                             guint *n_cols, GError **error) {
  if (!c->host || !c->host->predict) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "this host cannot run models");
    return NULL;
  }
  return c->host->predict(c->host_data, c, model, data, n_cols, error);
}

LatheArtifact *lathe_context_registry_fetch(LatheContext *c, const char *name, const char *ref,
                                            guint *version, GError **error) {
  if (version)
    *version = 0;
  if (!c->host || c->host->struct_size <= G_STRUCT_OFFSET(LatheHostServices, registry_fetch) ||
      !c->host->registry_fetch) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "this host has no model registry");
    return NULL;
  }
  guint v = 0;
  LatheArtifact *a = c->host->registry_fetch(c->host_data, c, name, ref, &v, error);
  if (version)
    *version = a ? v : 0;
  return a;
}
