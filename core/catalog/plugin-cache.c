#include <string.h>

#include <glib/gstdio.h>
#include <lathe/lathe-json.h>

#include "config.h"
#include "catalog/catalog-private.h"

static char *cache_path(const char *name) {
  const char *dir = g_getenv("LATHE_CACHE_DIR");
  g_autofree char *def = g_build_filename(g_get_user_cache_dir(), "lathe", NULL);
  g_autofree char *file = g_strdup_printf("%s-%s.json", name, LATHE_VERSION);
  return g_build_filename(dir && *dir ? dir : def, file, NULL);
}

JsonObject *lathe_cache_read(const char *name) {
  g_autofree char *path = cache_path(name);
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_file(p, path, NULL) || !json_parser_get_root(p) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return json_object_new();
  return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

void lathe_cache_write(const char *name, JsonObject *obj) {
  g_autofree char *path = cache_path(name);
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return;
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), obj);
  g_autofree char *text = lathe_json_write(root, FALSE);
  gsize len = strlen(text);
  /* g_file_set_contents writes a temp file and renames it: readers see the
   * old cache or the new one, never half of one. */
  g_file_set_contents(path, text, (gssize)len, NULL);
}
