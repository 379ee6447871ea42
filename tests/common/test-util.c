#include <string.h>

#include <glib/gstdio.h>

#include "test-util.h"

static GHashTable *components; /* id -> const LatheComponent* */

static const char *kind_name(guint32 kind) {
  static const char *kinds[] = {"", "source", "transform", "model", "evaluator", "tuner",
                                "tracker", "registry", "executor", "sink"};
  return kind < G_N_ELEMENTS(kinds) ? kinds[kind] : "";
}

const LatheComponent *lathe_test_component(const char *plugin_dir, const char *id) {
  if (!components)
    components = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const LatheComponent *c = g_hash_table_lookup(components, id);
  if (c)
    return c;
  const char *root = g_getenv("LATHE_TEST_PLUGIN_DIR");
  g_assert_nonnull(root);
  g_autofree char *file = g_strdup_printf("liblathe-%s.so", plugin_dir);
  g_autofree char *path = g_build_filename(root, plugin_dir, file, NULL);
  GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL);
  if (!mod)
    g_error("cannot open %s: %s", path, g_module_error());
  g_module_make_resident(mod);
  LathePluginQueryFunc query = NULL;
  g_assert_true(g_module_symbol(mod, LATHE_PLUGIN_ENTRY, (gpointer *)&query));
  const LathePluginDescriptor *d = query();
  for (guint i = 0; d->components[i]; i++) {
    const LatheComponent *comp = d->components[i];
    char *cid = g_strdup_printf("%s/%s", kind_name(comp->kind), comp->name);
    g_hash_table_replace(components, cid, (gpointer)comp);
  }
  c = g_hash_table_lookup(components, id);
  if (!c)
    g_error("%s does not provide %s", path, id);
  return c;
}

static float *test_predict(gpointer host_data, LatheContext *ctx, LatheArtifact *model,
                           const LatheDataset *data, guint *n_cols, GError **error) {
  JsonObject *h = lathe_artifact_get_model_header(model, error);
  if (!h)
    return NULL;
  const LatheModelClass *m = g_hash_table_lookup(
      components, json_object_get_string_member(h, "component"));
  g_assert_nonnull(m);
  gpointer inst = m->load(lathe_artifact_get_model_state(model, NULL),
                          (guint32)json_object_get_int_member(h, "state_version"), error);
  if (!inst)
    return NULL;
  float *out = m->predict(inst, data, n_cols, error);
  m->free(inst);
  return out;
}

/* The host's registry service, on registry/local at <store>/registry (its
 * default): versions resolved with list(), bytes read with get(). */
static LatheArtifact *test_registry_fetch(gpointer host_data, LatheContext *ctx, const char *name,
                                          const char *ref, guint *version, GError **error) {
  const LatheComponent *c = lathe_test_component("registry-local", "registry/local");
  const LatheRegistryClass *k = (const LatheRegistryClass *)c;
  g_autoptr(LatheContext) rc = lathe_test_context(c, "registry", NULL, 0);
  lathe_context_set_dirs(rc, lathe_context_base_dir(ctx), lathe_context_store_dir(ctx), NULL);
  gpointer reg = k->open(rc, error);
  if (!reg)
    return NULL;
  LatheArtifact *out = NULL;
  g_autoptr(JsonArray) list = k->list(reg, name, error);
  for (guint i = 0; list && !out && i < json_array_get_length(list); i++) {
    JsonObject *v = json_array_get_object_element(list, i);
    JsonArray *aliases = json_object_get_array_member(v, "aliases");
    gboolean match = FALSE;
    for (guint a = 0; aliases && a < json_array_get_length(aliases); a++)
      match |= g_str_equal(json_array_get_string_element(aliases, a), ref);
    if (!match)
      continue;
    *version = (guint)json_object_get_int_member(v, "version");
    g_autofree char *num = g_strdup_printf("%u", *version);
    g_autoptr(GBytes) bytes = k->get(reg, name, num, error);
    if (bytes)
      out = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, bytes);
  }
  k->close(reg);
  return out;
}

static const LatheHostServices test_host = {
    .struct_size = sizeof(LatheHostServices),
    .predict = test_predict,
    .registry_fetch = test_registry_fetch,
};

LatheContext *lathe_test_context(const LatheComponent *comp, const char *node_id,
                                 const char *params_json, guint64 seed) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_data(p, params_json ? params_json : "{}", -1, &error));
  JsonObject *params = json_node_get_object(json_parser_get_root(p));
  for (const LatheParamSpec *s = comp->params; s && s->name; s++) {
    if (json_object_has_member(params, s->name) || !s->default_json)
      continue;
    g_autoptr(JsonParser) dp = json_parser_new();
    g_assert_true(json_parser_load_from_data(dp, s->default_json, -1, NULL));
    json_object_set_member(params, s->name, json_node_copy(json_parser_get_root(dp)));
  }
  LatheContext *ctx = lathe_context_new(node_id, params, lathe_seed_derive(seed, node_id),
                                        &test_host, NULL);
  g_autofree char *scratch = g_build_filename(g_get_tmp_dir(), "lathe-test-scratch", NULL);
  lathe_context_set_dirs(ctx, ".", scratch, scratch);
  return ctx;
}

LatheArtifact *lathe_test_fit(const LatheComponent *comp, LatheContext *ctx,
                              const LatheDataset *train, const LatheDataset *valid,
                              GError **error) {
  const LatheModelClass *m = (const LatheModelClass *)comp;
  gpointer inst = m->fit(ctx, train, valid, error);
  if (!inst)
    return NULL;
  g_autoptr(GBytes) state = m->save(inst, error);
  m->free(inst);
  if (!state)
    return NULL;
  JsonObject *h = json_object_new();
  g_autofree char *id = g_strdup_printf("%s/%s", kind_name(comp->kind), comp->name);
  json_object_set_string_member(h, "component", id);
  json_object_set_int_member(h, "state_version", m->state_version);
  JsonArray *classes = json_array_new();
  for (guint i = 0; i < train->n_classes; i++)
    json_array_add_string_element(classes, train->classes[i]);
  json_object_set_array_member(h, "classes", classes);
  return lathe_artifact_new_model(h, state);
}

char *lathe_test_shared_path(const char *relative) {
  const char *root = g_getenv("LATHE_SHARED_DATA");
  if (!root)
    return NULL;
  char *path = g_build_filename(root, relative, NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_free(path);
    return NULL;
  }
  return path;
}

void lathe_test_remove_tree(const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      lathe_test_remove_tree(child);
    }
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

JsonObject *lathe_test_json_object(const char *json) {
  g_autoptr(JsonNode) n = json_from_string(json, NULL);
  g_assert_nonnull(n);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
  return json_object_ref(json_node_get_object(n));
}

guint lathe_test_register_model(const LatheRegistryClass *klass, gpointer reg, const char *name,
                                GBytes *bytes, const char *meta_json) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) m = meta_json ? lathe_test_json_object(meta_json) : NULL;
  guint version = 0;
  g_assert_true(klass->register_model(reg, name, bytes, m, &version, &error));
  g_assert_no_error(error);
  return version;
}

void lathe_test_set_alias(const LatheRegistryClass *klass, gpointer reg, const char *name,
                          const char *alias, guint version) {
  g_autoptr(GError) error = NULL;
  g_assert_true(klass->set_alias(reg, name, alias, version, &error));
  g_assert_no_error(error);
}
