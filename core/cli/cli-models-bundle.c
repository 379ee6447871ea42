/* `lathe models export|import`: a version as a bundle file and back
 * (registry/lathe-bundle.h, docs/bundles.md). */
#include <stdio.h>

#include "cli-models.h"
#include "lathe-bundle.h"

#define T lathe_cli_text

int lathe_cli_models_bundle(LatheRegistry *reg, gboolean export, const char *arg, const char *at,
                            const char *out, const char *name, const char *alias, gboolean json) {
  g_autoptr(GError) error = NULL;
  g_autofree char *ename = export ? g_strndup(arg, (gsize)(at - arg)) : NULL;
  g_autoptr(JsonObject) o = export ? lathe_bundle_export(reg, ename, at + 1, out, &error)
                                   : lathe_bundle_import(reg, arg, name, alias, &error);
  if (!o)
    return lathe_cli_models_error(error);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), json_object_ref(o));
  if (json)
    lathe_cli_print_json(root);
  else if (export)
    printf("%s version %u -> %s\n", T(ename), (guint)json_object_get_int_member(o, "version"), T(out));
  else
    printf("%s -> %s version %u%s%s\n", T(arg), T(json_object_get_string_member(o, "name")),
           (guint)json_object_get_int_member(o, "version"), alias ? " @" : "", alias ? T(alias) : "");
  return LATHE_EXIT_OK;
}
