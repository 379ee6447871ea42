/* The object and listing caches of source/lakefs (lakefs-cache.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include <lathe/lathe-sdk.h>

#include "lakefs-cache.h"

char *lathe_lakefs_cache_dir(const char *sub, GError **error) {
  const char *env = g_getenv("LATHE_CACHE_DIR");
  g_autofree char *def = g_build_filename(g_get_user_cache_dir(), "lathe", NULL);
  g_autofree char *dir = g_build_filename(env && *env ? env : def, sub, NULL);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "cannot create the lakeFS cache folder %s: %s; set LATHE_CACHE_DIR to a "
                "writable folder",
                dir, g_strerror(e));
    return NULL;
  }
  return g_steal_pointer(&dir);
}

/* A checksum is a file name when it is made of [0-9A-Za-z-]; anything
 * else (a server of another kind) is hashed into one. */
char *lathe_lakefs_cache_object_path(const char *objects_dir, const char *checksum) {
  gboolean plain = *checksum && strlen(checksum) <= 128;
  for (const char *p = checksum; plain && *p; p++)
    plain = g_ascii_isalnum(*p) || *p == '-';
  g_autofree char *name =
      plain ? g_ascii_strdown(checksum, -1)
            : g_compute_checksum_for_string(G_CHECKSUM_SHA256, checksum, -1);
  return g_build_filename(objects_dir, name, NULL);
}

char *lathe_lakefs_cache_temp_path(const char *final) {
  return g_strdup_printf("%s.tmp-%d-%08x", final, (int)getpid(), g_random_int());
}

gboolean lathe_lakefs_cache_hit(const char *path) {
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  /* mtime is the LRU clock: atime is often off (noatime, relatime). */
  g_utime(path, NULL);
  return TRUE;
}

typedef struct {
  char *path;
  gint64 mtime;
  guint64 size;
} Entry;

static void entry_free(gpointer p) {
  Entry *e = p;
  g_free(e->path);
  g_free(e);
}

static gint by_age(gconstpointer a, gconstpointer b) {
  const Entry *x = *(Entry *const *)a, *y = *(Entry *const *)b;
  return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Nanoseconds where the platform has them: objects used within one second
 * still have an order. */
static gint64 mtime_ns(const GStatBuf *st) {
#if defined(__linux__)
  return (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
#else
  return (gint64)st->st_mtime * G_GINT64_CONSTANT(1000000000);
#endif
}

static guint64 bound_bytes(void) {
  const char *v = g_getenv("LATHE_LAKEFS_CACHE_MB");
  guint64 mb;
  if (!v || !*v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT32, &mb, NULL))
    mb = LATHE_LAKEFS_CACHE_DEFAULT_MB;
  return mb << 20;
}

void lathe_lakefs_cache_trim(const char *objects_dir, GHashTable *keep) {
  g_autoptr(GDir) d = g_dir_open(objects_dir, 0, NULL);
  if (!d)
    return;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(entry_free);
  guint64 total = 0;
  const char *name;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(objects_dir, name, NULL);
    GStatBuf st;
    if (g_lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    /* Another process's download in progress: not ours to judge, unless
     * it was left behind by a crash a day ago. */
    if (strstr(name, ".tmp-") || g_str_has_suffix(name, ".part")) {
      if (now - (gint64)st.st_mtime > 86400)
        g_unlink(p);
      continue;
    }
    Entry *e = g_new0(Entry, 1);
    e->path = g_steal_pointer(&p);
    e->mtime = mtime_ns(&st);
    e->size = (guint64)st.st_size;
    total += e->size;
    g_ptr_array_add(all, e);
  }
  guint64 bound = bound_bytes();
  g_ptr_array_sort(all, by_age);
  for (guint i = 0; i < all->len && total > bound; i++) {
    Entry *e = all->pdata[i];
    if (keep && g_hash_table_contains(keep, e->path))
      continue;
    if (g_unlink(e->path) == 0)
      total -= e->size;
  }
}

static char *listing_path(const char *endpoint, const char *repo, const char *commit,
                          const char *prefix) {
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = lathe_lakefs_cache_dir("lakefs-listings", &error);
  if (!dir)
    return NULL;
  g_autofree char *key = g_strjoin("\n", endpoint, repo, commit, prefix, NULL);
  g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
  g_autofree char *file = g_strconcat(sum, ".json", NULL);
  return g_build_filename(dir, file, NULL);
}

GPtrArray *lathe_lakefs_listing_load(const char *endpoint, const char *repo,
                                     const char *commit, const char *prefix) {
  g_autofree char *path = listing_path(endpoint, repo, commit, prefix);
  g_autoptr(JsonParser) p = json_parser_new();
  if (!path || !json_parser_load_from_file(p, path, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonObject *o = json_node_get_object(root);
  /* The key is a digest: check the names too, against a collision or a
   * hand-edited file. */
  if (g_strcmp0(json_object_get_string_member_with_default(o, "commit", ""), commit) ||
      g_strcmp0(json_object_get_string_member_with_default(o, "prefix", ""), prefix) ||
      !json_object_has_member(o, "objects"))
    return NULL;
  JsonArray *a = json_object_get_array_member(o, "objects");
  if (!a)
    return NULL;
  g_autoptr(GPtrArray) out =
      g_ptr_array_new_with_free_func((GDestroyNotify)lathe_lakefs_object_free);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    JsonArray *e = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
    if (!e || json_array_get_length(e) != 3)
      return NULL;
    LatheLakefsObject *obj = g_new0(LatheLakefsObject, 1);
    obj->path = g_strdup(json_array_get_string_element(e, 0));
    obj->checksum = g_strdup(json_array_get_string_element(e, 1));
    obj->size = (guint64)json_array_get_int_element(e, 2);
    g_ptr_array_add(out, obj);
    if (!obj->path || !obj->checksum)
      return NULL;
  }
  return g_steal_pointer(&out);
}

void lathe_lakefs_listing_save(const char *endpoint, const char *repo, const char *commit,
                               const char *prefix, GPtrArray *objects) {
  g_autofree char *path = listing_path(endpoint, repo, commit, prefix);
  if (!path)
    return;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "commit");
  json_builder_add_string_value(b, commit);
  json_builder_set_member_name(b, "prefix");
  json_builder_add_string_value(b, prefix);
  json_builder_set_member_name(b, "objects");
  json_builder_begin_array(b);
  for (guint i = 0; i < objects->len; i++) {
    const LatheLakefsObject *o = objects->pdata[i];
    json_builder_begin_array(b);
    json_builder_add_string_value(b, o->path);
    json_builder_add_string_value(b, o->checksum);
    json_builder_add_int_value(b, (gint64)o->size);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) g = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(g, root);
  gsize len;
  g_autofree char *text = json_generator_to_data(g, &len);
  /* g_file_set_contents() writes a temporary file and renames it. */
  g_file_set_contents(path, text, (gssize)len, NULL);
}
