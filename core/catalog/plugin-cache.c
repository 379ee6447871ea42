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

/* The plugin cache is read by every command, and parsing all plugins'
 * metadata (about 55 kB of JSON with 43 components) cost more than the rest
 * of a cached run. So it is split: one line of JSON, the index, with what
 * the scan needs (each file's size, mtime, inode and its plugin's head),
 * then each plugin's metadata as JSON text at the offset the index gives,
 * parsed only when one of its components is looked up. The file is JSON
 * lines, named apart from the old one-object cache ("plugins-index"). */
JsonObject *lathe_cache_read_split(const char *name, GBytes **texts) {
  *texts = NULL;
  g_autofree char *path = cache_path(name);
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
  if (!mf)
    return json_object_new();
  const char *data = g_mapped_file_get_contents(mf);
  gsize len = g_mapped_file_get_length(mf);
  const char *nl = data ? memchr(data, '\n', len) : NULL;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!nl || !json_parser_load_from_data(p, data, nl - data, NULL) || !json_parser_get_root(p) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return json_object_new();
  g_autoptr(GBytes) all = g_mapped_file_get_bytes(mf);
  gsize start = (gsize)(nl + 1 - data);
  *texts = g_bytes_new_from_bytes(all, start, len - start);
  return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

const char *lathe_cache_text(GBytes *texts, JsonObject *entry, gsize *len) {
  gint64 off = json_object_get_int_member_with_default(entry, "off", -1);
  gint64 n = json_object_get_int_member_with_default(entry, "len", -1);
  gsize size = 0;
  const char *data = texts ? g_bytes_get_data(texts, &size) : NULL;
  if (!data || off < 0 || n <= 0 || (guint64)off > size || (guint64)n > size - (guint64)off)
    return NULL;
  *len = (gsize)n;
  return data + off;
}

void lathe_cache_write_split(const char *name, JsonObject *index, GBytes *texts) {
  g_autofree char *path = cache_path(name);
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return;
  g_autoptr(JsonObject) out = json_object_new();
  g_autoptr(GString) body = g_string_new(NULL);
  JsonObjectIter it;
  const char *key;
  JsonNode *node;
  json_object_iter_init(&it, index);
  while (json_object_iter_next(&it, &key, &node)) {
    JsonObject *entry = json_node_get_object(node);
    JsonObject *copy = json_object_new();
    g_autoptr(GList) members = json_object_get_members(entry);
    for (GList *m = members; m; m = m->next)
      if (!g_str_equal(m->data, "meta") && !g_str_equal(m->data, "off") &&
          !g_str_equal(m->data, "len"))
        json_object_set_member(copy, m->data, json_object_dup_member(entry, m->data));
    g_autofree char *fresh = NULL;
    const char *text = NULL;
    gsize len = 0;
    if (json_object_has_member(entry, "meta")) {
      g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(),
                                                    json_object_get_object_member(entry, "meta"));
      fresh = lathe_json_write(n, FALSE);
      text = fresh;
      len = strlen(fresh);
    } else {
      text = lathe_cache_text(texts, entry, &len);
    }
    if (text) {
      json_object_set_int_member(copy, "off", (gint64)body->len);
      json_object_set_int_member(copy, "len", (gint64)len);
      g_string_append_len(body, text, (gssize)len);
      g_string_append_c(body, '\n'); /* for a reader's eyes only */
    }
    json_object_set_object_member(out, key, copy);
  }
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), out);
  g_autofree char *head = lathe_json_write(root, FALSE); /* one line: strings escape newlines */
  g_string_prepend_c(body, '\n');
  g_string_prepend(body, head);
  g_file_set_contents(path, body->str, (gssize)body->len, NULL);
}
