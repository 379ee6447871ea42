/* lathe-bundle.c: export a registered model version to a tar bundle and import
 * one into any registry (docs/bundles.md). The reader trusts nothing in the
 * file: every member is checked before anything reaches the registry. */
#include "lathe-bundle.h"

#include "lathe-archive.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MANIFEST "manifest.json"
#define BLOB "model.lathe"
#define SIGNATURE "signature.json"
#define REFERENCE "reference.json"

/* Optional members and the metadata key each one copies. */
static const struct { const char *member, *key; } extras[] = {
    {SIGNATURE, "signature"}, {REFERENCE, "reference"}};

void lathe_bundle_free(LatheBundle *b) {
  if (!b)
    return;
  if (b->manifest)
    json_object_unref(b->manifest);
  g_free(b->manifest_sha256);
  if (b->blob)
    g_bytes_unref(b->blob);
  g_free(b);
}

static gboolean write_member(struct archive *a, const char *name, const void *data, gsize len,
                             const char *path, GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(NULL); /* loaded by the caller */
  struct archive_entry *e = ar->entry_new();
  ar->entry_set_pathname(e, name);
  ar->entry_set_size(e, (la_int64_t)len);
  ar->entry_set_filetype(e, AE_IFREG);
  ar->entry_set_perm(e, 0644);
  /* Fixed owner and times: the same version always gives the same bytes. */
  ar->entry_set_uid(e, 0);
  ar->entry_set_gid(e, 0);
  ar->entry_set_mtime(e, 0, 0);
  gboolean ok = ar->write_header(a, e) == ARCHIVE_OK &&
                (len == 0 || ar->write_data(a, data, len) == (la_ssize_t)len);
  ar->entry_free(e);
  if (!ok)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot write %s: %s; check the disk",
                path, name, ar->error_string(a));
  return ok;
}

static char *to_json(JsonNode *node) { return lathe_json_write(node, TRUE); }

JsonObject *lathe_bundle_export(LatheRegistry *reg, const char *name, const char *ref,
                                const char *path, GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(error);
  if (!ar)
    return NULL;
  g_autoptr(JsonObject) v = lathe_registry_get_version(reg, name, ref, error);
  if (!v)
    return NULL;
  guint version = 0;
  /* By number: the alias may move between the two calls. */
  g_autofree char *number =
      g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member_with_default(v, "version", 0));
  g_autoptr(LatheArtifact) model = lathe_registry_fetch(reg, name, number, &version, error);
  if (!model) {
    if (error && !*error)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s has no version %s", name, ref);
    return NULL;
  }
  GBytes *blob = lathe_artifact_get_bytes(model);
  JsonObject *meta = json_object_get_object_member(v, "metadata");
  g_autoptr(JsonObject) members = json_object_new();
  g_autoptr(GPtrArray) extra_text = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *blob_sha = lathe_sha256_hex(g_bytes_get_data(blob, NULL), g_bytes_get_size(blob));
  JsonObject *bm = json_object_new();
  json_object_set_string_member(bm, "sha256", blob_sha);
  json_object_set_int_member(bm, "size", (gint64)g_bytes_get_size(blob));
  json_object_set_object_member(members, BLOB, bm);
  for (guint i = 0; i < G_N_ELEMENTS(extras); i++) {
    JsonNode *n = meta ? json_object_get_member(meta, extras[i].key) : NULL;
    char *text = n && !JSON_NODE_HOLDS_NULL(n) ? to_json(n) : NULL;
    g_ptr_array_add(extra_text, text);
    if (!text)
      continue;
    JsonObject *m = json_object_new();
    g_autofree char *sha = lathe_sha256_hex(text, strlen(text));
    json_object_set_string_member(m, "sha256", sha);
    json_object_set_int_member(m, "size", (gint64)strlen(text));
    json_object_set_object_member(members, extras[i].member, m);
  }
  g_autoptr(JsonObject) man = json_object_new();
  json_object_set_int_member(man, "format", LATHE_BUNDLE_FORMAT);
  json_object_set_string_member(man, "name", name);
  json_object_set_int_member(man, "version", version);
  JsonNode *aliases = json_object_get_member(v, "aliases");
  json_object_set_member(man, "aliases", aliases && JSON_NODE_HOLDS_ARRAY(aliases)
                                             ? json_node_copy(aliases)
                                             : json_node_init_array(json_node_alloc(), json_array_new()));
  json_object_set_string_member(man, "created",
                                json_object_get_string_member_with_default(v, "created", ""));
  /* What loading needs: the component that wrote the blob, from its header. */
  JsonObject *header = lathe_artifact_get_model_header(model, NULL);
  if (header)
    json_object_set_object_member(man, "model", json_object_ref(header));
  json_object_set_member(man, "metadata", meta ? json_node_init_object(json_node_alloc(), meta)
                                               : json_node_init_object(json_node_alloc(), json_object_new()));
  json_object_set_object_member(man, "members", json_object_ref(members));
  g_autoptr(JsonNode) man_node = json_node_init_object(json_node_alloc(), man);
  g_autofree char *man_text = to_json(man_node);

  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  struct archive *a = ar->write_new();
  ar->write_set_format_pax_restricted(a);
  gboolean ok = ar->write_open_filename(a, tmp) == ARCHIVE_OK;
  if (!ok)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot create: %s; check the path",
                path, ar->error_string(a));
  ok = ok && write_member(a, MANIFEST, man_text, strlen(man_text), path, error) &&
       write_member(a, BLOB, g_bytes_get_data(blob, NULL), g_bytes_get_size(blob), path, error);
  for (guint i = 0; ok && i < G_N_ELEMENTS(extras); i++) {
    const char *t = g_ptr_array_index(extra_text, i);
    if (t)
      ok = write_member(a, extras[i].member, t, strlen(t), path, error);
  }
  if (ar->write_close(a) != ARCHIVE_OK && ok) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: %s; check the disk", path,
                ar->error_string(a));
    ok = FALSE;
  }
  ar->write_free(a);
  if (ok && g_rename(tmp, path) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot rename into place: %s", path,
                g_strerror(errno));
    ok = FALSE;
  }
  if (!ok) {
    g_unlink(tmp);
    return NULL;
  }
  JsonObject *out = json_object_new();
  json_object_set_string_member(out, "name", name);
  json_object_set_int_member(out, "version", version);
  json_object_set_string_member(out, "file", path);
  g_autofree char *man_sha = lathe_sha256_hex(man_text, strlen(man_text));
  json_object_set_string_member(out, "manifest_sha256", man_sha);
  return out;
}

static gboolean known_member(const char *name) {
  if (g_str_equal(name, MANIFEST) || g_str_equal(name, BLOB))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(extras); i++)
    if (g_str_equal(name, extras[i].member))
      return TRUE;
  return FALSE;
}

#define REFUSE(...)                                                          \
  do {                                                                       \
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, __VA_ARGS__);       \
    return FALSE;                                                            \
  } while (0)

/* Every member into @contents (name -> GBytes), refusing what a bundle never
 * holds before reading its data. */
static gboolean read_members(struct archive *a, const char *label, GHashTable *contents,
                             GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(NULL); /* loaded by the caller */
  gint64 total = 0;
  for (;;) {
    struct archive_entry *e = NULL;
    int r = ar->read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      return TRUE;
    if (r != ARCHIVE_OK)
      REFUSE("%s: not a readable bundle (%s); export it again with `lathe models export`", label,
             ar->error_string(a) ? ar->error_string(a) : "damaged tar");
    const char *name = ar->entry_pathname(e);
    if (!name || !*name)
      REFUSE("%s: a member has no name; the bundle is damaged", label);
    if (name[0] == '/')
      REFUSE("%s: member '%s' has an absolute path; refusing the bundle", label, name);
    if (strstr(name, ".."))
      REFUSE("%s: member '%s' climbs out with '..'; refusing the bundle", label, name);
    if (ar->entry_hardlink(e) || ar->entry_symlink(e) ||
        ar->entry_filetype(e) == AE_IFLNK)
      REFUSE("%s: member '%s' is a link; a bundle holds plain files only", label, name);
    if (ar->entry_filetype(e) != AE_IFREG)
      REFUSE("%s: member '%s' is not a plain file (a device, folder or fifo); refusing the bundle",
             label, name);
    if (g_hash_table_contains(contents, name))
      REFUSE("%s: member '%s' appears twice; refusing the bundle", label, name);
    if (!known_member(name))
      REFUSE("%s: unknown member '%s'; a bundle holds %s, %s, %s and %s only (docs/bundles.md)",
             label, name, MANIFEST, BLOB, SIGNATURE, REFERENCE);
    gint64 size = ar->entry_size_is_set(e) ? ar->entry_size(e) : -1;
    if (size < 0 || size > LATHE_BUNDLE_MAX_MEMBER || total + size > LATHE_BUNDLE_MAX_TOTAL)
      REFUSE("%s: member '%s' claims %" G_GINT64_FORMAT " bytes, over the bundle bound of %"
             G_GINT64_FORMAT " per member and %" G_GINT64_FORMAT " in all; refusing the bundle",
             label, name, size, LATHE_BUNDLE_MAX_MEMBER, LATHE_BUNDLE_MAX_TOTAL);
    total += size;
    GByteArray *buf = g_byte_array_sized_new((guint)MIN(size, 1 << 20));
    guint8 chunk[65536];
    la_ssize_t n;
    while ((n = ar->read_data(a, chunk, sizeof chunk)) > 0 && (gint64)buf->len + n <= size)
      g_byte_array_append(buf, chunk, (guint)n);
    if (n < 0 || (gint64)buf->len != size) {
      g_byte_array_unref(buf);
      REFUSE("%s: member '%s' is truncated or damaged; copy the bundle again", label, name);
    }
    g_hash_table_insert(contents, g_strdup(name), g_byte_array_free_to_bytes(buf));
  }
}

/* @m's entry in the manifest matches @bytes. */
static gboolean check_member(JsonObject *members, const char *member, GBytes *bytes,
                             const char *label, GError **error) {
  JsonNode *n = json_object_get_member(members, member);
  if (!n || !JSON_NODE_HOLDS_OBJECT(n))
    REFUSE("%s: member '%s' is not listed in %s; the bundle is damaged or altered", label, member,
           MANIFEST);
  JsonObject *m = json_node_get_object(n);
  const char *want = json_object_get_string_member_with_default(m, "sha256", NULL);
  gint64 size = json_object_get_int_member_with_default(m, "size", -1);
  if (!want || size < 0)
    REFUSE("%s: %s gives no sha256 and size for '%s'; export the bundle again", label, MANIFEST,
           member);
  if ((gint64)g_bytes_get_size(bytes) != size)
    REFUSE("%s: member '%s' holds %zu bytes, the manifest says %" G_GINT64_FORMAT
           "; the bundle is damaged or altered", label, member, g_bytes_get_size(bytes), size);
  g_autofree char *got = lathe_sha256_hex(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  if (g_ascii_strcasecmp(got, want) != 0)
    REFUSE("%s: member '%s' has sha256 %s, the manifest says %s; the bundle is damaged or altered",
           label, member, got, want);
  return TRUE;
}

static LatheBundle *verify(GHashTable *contents, const char *label, GError **error) {
  GBytes *man_bytes = g_hash_table_lookup(contents, MANIFEST);
  if (!man_bytes) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: no %s member; not a Lathe bundle (make one with `lathe models export`)",
                label, MANIFEST);
    return NULL;
  }
  g_autoptr(JsonParser) p = json_parser_new();
  gsize len = 0;
  const char *text = g_bytes_get_data(man_bytes, &len);
  g_autoptr(GError) perr = NULL;
  if (!json_parser_load_from_data(p, text ? text : "", (gssize)len, &perr) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: member '%s' is not a JSON object (%s); export the bundle again", label,
                MANIFEST, perr ? perr->message : "wrong type");
    return NULL;
  }
  JsonObject *man = json_node_get_object(json_parser_get_root(p));
  JsonNode *fmt = json_object_get_member(man, "format");
  JsonNode *members = json_object_get_member(man, "members");
  JsonNode *meta = json_object_get_member(man, "metadata");
  JsonNode *name = json_object_get_member(man, "name");
  if (!fmt || json_node_get_value_type(fmt) != G_TYPE_INT64 || !members ||
      !JSON_NODE_HOLDS_OBJECT(members) || !meta || !JSON_NODE_HOLDS_OBJECT(meta) || !name ||
      json_node_get_value_type(name) != G_TYPE_STRING) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: member '%s' lacks format, name, metadata or members; export the bundle again",
                label, MANIFEST);
    return NULL;
  }
  gint64 format = json_node_get_int(fmt);
  if (format > LATHE_BUNDLE_FORMAT || format < 1) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: member '%s' has bundle format %" G_GINT64_FORMAT
                ", this Lathe reads up to %d; upgrade Lathe to import it", label, MANIFEST, format,
                LATHE_BUNDLE_FORMAT);
    return NULL;
  }
  JsonObject *mo = json_node_get_object(members);
  if (!g_hash_table_contains(contents, BLOB)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: no member '%s'; the bundle is incomplete, export it again", label, BLOB);
    return NULL;
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, contents);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (!g_str_equal(k, MANIFEST) && !check_member(mo, k, v, label, error))
      return NULL;
  g_autoptr(GList) listed = json_object_get_members(mo);
  for (GList *l = listed; l; l = l->next)
    if (!g_hash_table_contains(contents, l->data)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: member '%s' is listed in %s but missing; export the bundle again", label,
                  (const char *)l->data, MANIFEST);
      return NULL;
    }
  LatheBundle *b = g_new0(LatheBundle, 1);
  b->manifest = json_object_ref(man);
  b->manifest_sha256 = lathe_sha256_hex(text, len);
  b->blob = g_bytes_ref(g_hash_table_lookup(contents, BLOB));
  return b;
}

static LatheBundle *read_archive(struct archive *a, const char *label, GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(NULL); /* loaded by the caller */
  g_autoptr(GHashTable) contents =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
  gboolean ok = read_members(a, label, contents, error);
  ar->read_free(a);
  return ok ? verify(contents, label, error) : NULL;
}

static struct archive *reader(void) {
  const LatheArchiveApi *ar = lathe_archive_api(NULL); /* loaded by the caller */
  struct archive *a = ar->read_new();
  ar->read_support_format_tar(a);
  ar->read_support_filter_gzip(a);
  return a;
}

LatheBundle *lathe_bundle_read_memory(const void *data, gsize len, const char *label,
                                      GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(error);
  if (!ar)
    return NULL;
  struct archive *a = reader();
  if (ar->read_open_memory(a, data, len) != ARCHIVE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: not a tar bundle (%s); make one with `lathe models export`", label,
                ar->error_string(a) ? ar->error_string(a) : "unreadable");
    ar->read_free(a);
    return NULL;
  }
  return read_archive(a, label, error);
}

LatheBundle *lathe_bundle_read_file(const char *path, GError **error) {
  const LatheArchiveApi *ar = lathe_archive_api(error);
  if (!ar)
    return NULL;
  struct archive *a = reader();
  if (ar->read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: not a tar bundle (%s); make one with `lathe models export`", path,
                ar->error_string(a) ? ar->error_string(a) : "unreadable");
    ar->read_free(a);
    return NULL;
  }
  return read_archive(a, path, error);
}

/* The alias rule registry/local and registry/mlflow share (a letter, then
 * letters, digits, '_' and '-', at most 128), checked before registering:
 * the registry checks it only when setting the alias, after the version
 * exists, which would leave a half-imported version behind. */
static gboolean check_alias(const char *alias, GError **error) {
  gsize len = strlen(alias);
  gboolean ok = len >= 1 && len <= 128 && g_ascii_isalpha(alias[0]);
  for (gsize i = 1; ok && i < len; i++)
    ok = g_ascii_isalnum(alias[i]) || alias[i] == '_' || alias[i] == '-';
  if (!ok) {
    g_autofree char *shown = g_strescape(alias, NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "--alias '%s': start with a letter, then use letters, digits, '_' and '-' (at "
                "most 128 characters; a number would be read as a version)",
                shown);
  }
  return ok;
}

JsonObject *lathe_bundle_import(LatheRegistry *reg, const char *path, const char *name,
                                const char *alias, GError **error) {
  if (alias && !check_alias(alias, error))
    return NULL;
  g_autoptr(LatheBundle) b = lathe_bundle_read_file(path, error);
  if (!b)
    return NULL;
  g_autoptr(LatheArtifact) model = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, b->blob);
  if (!lathe_artifact_get_model_header(model, NULL)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: member '%s' is not a Lathe model; export the bundle again", path, BLOB);
    return NULL;
  }
  const char *src_name = json_object_get_string_member(b->manifest, "name");
  g_autoptr(JsonNode) meta_node = json_node_copy(json_object_get_member(b->manifest, "metadata"));
  g_autoptr(JsonObject) meta = json_object_ref(json_node_get_object(meta_node));
  JsonObject *from = json_object_new();
  g_autofree char *base = g_path_get_basename(path);
  json_object_set_string_member(from, "bundle", base);
  json_object_set_string_member(from, "name", src_name);
  json_object_set_int_member(from, "version",
                             json_object_get_int_member_with_default(b->manifest, "version", 0));
  json_object_set_string_member(from, "manifest_sha256", b->manifest_sha256);
  json_object_set_object_member(meta, "imported_from", from);
  const char *target = name ? name : src_name;
  guint version = 0;
  if (!lathe_registry_register(reg, target, model, meta, alias, &version, error))
    return NULL;
  JsonObject *out = json_object_new();
  json_object_set_string_member(out, "name", target);
  json_object_set_int_member(out, "version", version);
  if (alias)
    json_object_set_string_member(out, "alias", alias);
  json_object_set_object_member(out, "imported_from", json_object_ref(from));
  return out;
}
