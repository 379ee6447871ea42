/* ab-registry.c: see ab-registry.h. Mirrors plugins/registry-local's schema 1
 * (registry-db.c) and blob layout (registry-blob.c); a newer schema is
 * refused rather than guessed at. */
#include <string.h>

#include <sqlite3.h>

#include "ab-registry.h"

#define AB_REGISTRY_SCHEMA 1
#define AB_BUSY_TIMEOUT_MS 30000

void lathe_ab_registry_model_free(LatheAbRegistryModel *m) {
  if (!m)
    return;
  g_free(m->digest);
  g_clear_pointer(&m->bytes, g_bytes_unref);
  g_free(m);
}

static gboolean db_fail(sqlite3 *db, const char *path, const char *what, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "evaluator/ab: %s in %s: %s", what, path,
              db ? sqlite3_errmsg(db) : "out of memory");
  return FALSE;
}

static gboolean is_digest(const char *d) {
  if (!d || strlen(d) != 64)
    return FALSE;
  for (const char *p = d; *p; p++)
    if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

static GBytes *read_blob(const char *root, const char *digest, gint64 size, const char *label,
                         GError **error) {
  if (!is_digest(digest)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/ab: %s: the registry index in %s holds a malformed digest '%s'",
                label, root, digest ? digest : "");
    return NULL;
  }
  char prefix[3] = {digest[0], digest[1], 0};
  g_autofree char *path = g_build_filename(root, "blobs", "sha256", prefix, digest + 2, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) read_error = NULL;
  if (!g_file_get_contents(path, &data, &len, &read_error)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "evaluator/ab: %s: cannot read its blob: %s",
                label, read_error->message);
    return NULL;
  }
  g_autofree char *hex = lathe_sha256_hex(data, len);
  if (size < 0 || len != (gsize)size || strcmp(hex, digest) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/ab: %s: the blob %s is corrupt (%" G_GSIZE_FORMAT
                " bytes, expected %" G_GINT64_FORMAT "); restore it or register the model again",
                label, path, len, size);
    return NULL;
  }
  return g_bytes_new_take(g_steal_pointer(&data), len);
}

/* Runs a one-integer query; *found says whether it returned a row. */
static gboolean query_int(sqlite3 *db, const char *path, const char *sql, gint64 *out,
                          gboolean *found, GError **error) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, path, "cannot read the registry", error);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || db_fail(db, path, "cannot read the registry", error);
}

static gboolean fetch(sqlite3 *db, const char *root, const char *path, const char *name,
                      const char *alias, LatheAbRegistryModel **out, GError **error) {
  gint64 schema = 0, tables = 0;
  gboolean found = FALSE;
  if (!query_int(db, path, "PRAGMA user_version", &schema, &found, error) ||
      !query_int(db, path, "SELECT count(*) FROM sqlite_master WHERE name = 'aliases'", &tables,
                 &found, error))
    return FALSE;
  if (schema == 0 && tables == 0)
    return TRUE; /* created but never written: no alias yet */
  if (schema != AB_REGISTRY_SCHEMA) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "evaluator/ab: %s has registry schema %" G_GINT64_FORMAT
                ", this plugin reads schema %d; upgrade the evaluator-ab plugin or point "
                "\"registry_path\" at a registry/local folder",
                path, schema, AB_REGISTRY_SCHEMA);
    return FALSE;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT v.version, v.digest, v.size FROM aliases a"
                         " JOIN versions v USING (name, version)"
                         " WHERE a.name = ?1 AND a.alias = ?2",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, path, "cannot read the registry", error);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, alias, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || db_fail(db, path, "cannot read the alias", error);
  }
  g_autoptr(LatheAbRegistryModel) m = g_new0(LatheAbRegistryModel, 1);
  m->version = sqlite3_column_int64(st, 0);
  const unsigned char *d = sqlite3_column_text(st, 1);
  m->digest = g_strdup(d ? (const char *)d : "");
  gint64 size = sqlite3_column_int64(st, 2);
  sqlite3_finalize(st);
  g_autofree char *label =
      g_strdup_printf("model '%s' version %" G_GINT64_FORMAT " (%s)", name, m->version, alias);
  m->bytes = read_blob(root, m->digest, size, label, error);
  if (!m->bytes)
    return FALSE;
  *out = g_steal_pointer(&m);
  return TRUE;
}

gboolean lathe_ab_registry_fetch(const char *root, const char *name, const char *alias,
                                 LatheAbRegistryModel **out, GError **error) {
  *out = NULL;
  g_autofree char *path = g_build_filename(root, "registry.db", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE; /* nothing was ever registered there */
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "evaluator/ab: cannot open %s: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return FALSE;
  }
  sqlite3_busy_timeout(db, AB_BUSY_TIMEOUT_MS);
  /* One read transaction: the alias and its version are seen together even
   * while another process moves the alias. */
  gboolean ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                    ? fetch(db, root, path, name, alias, out, error)
                    : db_fail(db, path, "cannot read the registry", error);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  return ok;
}
