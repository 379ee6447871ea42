/* A registry built against ABI 1.7: its struct ends before set_alias_full
 * (1.8), as an old binary's would. The host must load it, move aliases
 * through set_alias, and read its history without reasons. It answers from
 * fixed data (model "iris": version 1 at production, 2 at candidate) and
 * says on stderr which call the host made, so the test sees the fallback. */
#include <stddef.h>
#include <stdio.h>

#include <lathe/lathe-sdk.h>

static gpointer reg_open(LatheContext *ctx, GError **error) { return GINT_TO_POINTER(1); }

static gboolean reg_register(gpointer reg, const char *name, GBytes *model, JsonObject *meta,
                             guint *version, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "registry/old17 stores nothing");
  return FALSE;
}

static gboolean reg_set_alias(gpointer reg, const char *name, const char *alias, guint version,
                              GError **error) {
  fprintf(stderr, "old17: set_alias %s@%s -> %u\n", name, alias, version);
  return TRUE;
}

static JsonObject *version(guint v, const char *alias) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", "iris");
  json_object_set_int_member(o, "version", v);
  JsonArray *al = json_array_new();
  json_array_add_string_element(al, alias);
  json_object_set_array_member(o, "aliases", al);
  json_object_set_object_member(o, "metadata", json_object_new());
  return o;
}

static JsonArray *reg_list(gpointer reg, const char *name, GError **error) {
  JsonArray *out = json_array_new();
  json_array_add_object_element(out, version(1, "production"));
  json_array_add_object_element(out, version(2, "candidate"));
  return out;
}

static GBytes *reg_get(gpointer reg, const char *name, const char *ref, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "registry/old17 keeps no bytes");
  return NULL;
}

static void reg_close(gpointer reg) {}

/* One move, as a 1.7 registry records it: no reason, user, run or figures. */
static JsonArray *reg_history(gpointer reg, const char *name, const char *alias,
                              GError **error) {
  JsonArray *out = json_array_new();
  JsonObject *m = json_object_new();
  json_object_set_string_member(m, "name", "iris");
  json_object_set_string_member(m, "alias", "production");
  json_object_set_int_member(m, "version", 1);
  json_object_set_null_member(m, "previous_version");
  json_object_set_string_member(m, "set_at", "2026-01-01T00:00:00.000Z");
  json_array_add_object_element(out, m);
  return out;
}

static const LatheRegistryClass registry = {
    .base = {.struct_size = offsetof(LatheRegistryClass, set_alias_full),
             .kind = LATHE_KIND_REGISTRY,
             .name = "old17",
             .description = "a registry built against ABI 1.7 (ABI test plugin)"},
    .open = reg_open,
    .register_model = reg_register,
    .set_alias = reg_set_alias,
    .list = reg_list,
    .get = reg_get,
    .close = reg_close,
    .alias_history = reg_history,
};

static const LatheComponent *const components[] = {&registry.base, NULL};
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), 1, 7, "abi-test-registry-1-7", "0.1.0", "MIT",
    "a registry plugin as built against ABI 1.7", components};

G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) { return &descriptor; }
