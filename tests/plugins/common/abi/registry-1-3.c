/* A registry built against ABI 1.3: its struct ends before the 1.4
 * callbacks (alias history, delete alias, get version), as an old binary's
 * would. The host must load it and treat the missing callbacks as absent.
 * It keeps its versions in memory: enough to register and list. */
#include <stddef.h>

#include <lathe/lathe-sdk.h>

static gpointer reg_open(LatheContext *ctx, GError **error) { return json_array_new(); }

static gboolean reg_register(gpointer reg, const char *name, GBytes *model, JsonObject *meta,
                             guint *version, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "registry/old13 stores nothing");
  return FALSE;
}

static gboolean reg_set_alias(gpointer reg, const char *name, const char *alias, guint version,
                              GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "registry/old13 has no model '%s'", name);
  return FALSE;
}

static JsonArray *reg_list(gpointer reg, const char *name, GError **error) {
  return json_array_ref(reg);
}

static GBytes *reg_get(gpointer reg, const char *name, const char *ref, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "registry/old13 has no model '%s'", name);
  return NULL;
}

static void reg_close(gpointer reg) { json_array_unref(reg); }

static const LatheRegistryClass registry = {
    .base = {.struct_size = offsetof(LatheRegistryClass, alias_history),
             .kind = LATHE_KIND_REGISTRY,
             .name = "old13",
             .description = "a registry built against ABI 1.3 (ABI test plugin)"},
    .open = reg_open,
    .register_model = reg_register,
    .set_alias = reg_set_alias,
    .list = reg_list,
    .get = reg_get,
    .close = reg_close,
};

static const LatheComponent *const components[] = {&registry.base, NULL};
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), 1, 3, "abi-test-registry-1-3", "0.1.0", "MIT",
    "a registry plugin as built against ABI 1.3", components};

G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) { return &descriptor; }
