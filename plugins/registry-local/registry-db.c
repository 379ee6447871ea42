/* registry-db.c: the registry's SQLite index: opening, schema, and the small
 * helpers every query uses. The model bytes live in the blob store. */
#include "registry-private.h"

static const char schema_sql[] =
    "CREATE TABLE models("
    "  name TEXT NOT NULL PRIMARY KEY,"
    "  created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE versions("
    "  name TEXT NOT NULL REFERENCES models(name),"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  digest TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  metadata TEXT NOT NULL DEFAULT '{}',"
    "  PRIMARY KEY(name, version)) WITHOUT ROWID;"
    "CREATE TABLE aliases("
    "  name TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  PRIMARY KEY(name, alias),"
    "  FOREIGN KEY(name, version) REFERENCES versions(name, version)) WITHOUT ROWID;"
    "CREATE TABLE alias_history("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  previous_version INTEGER,"
    "  set_at INTEGER NOT NULL);"
    "CREATE INDEX alias_history_by_alias ON alias_history(name, alias, id);";

/* Schema 2 (ABI 1.8): why each alias moved. Added to a schema 1 index when
 * it is opened; its older moves keep NULL there. */
static const char why_sql[] =
    "ALTER TABLE alias_history ADD COLUMN reason TEXT;"
    "ALTER TABLE alias_history ADD COLUMN user TEXT;"
    "ALTER TABLE alias_history ADD COLUMN run_id TEXT;"
    "ALTER TABLE alias_history ADD COLUMN figures TEXT;";

/* Sets @error to "registry-local: WHAT in DB: SQLITE MESSAGE". */
gboolean lathe_registry_db_error(LatheRegistryLocal *r, GError **error, const char *what) {
  int code = r->db ? sqlite3_errcode(r->db) : SQLITE_NOMEM;
  g_set_error(error, LATHE_ERROR,
              code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? LATHE_ERROR_DATA
                                                               : LATHE_ERROR_IO,
              "registry-local: %s in %s: %s", what, r->db_path,
              r->db ? sqlite3_errmsg(r->db) : "out of memory");
  return FALSE;
}

sqlite3_stmt *lathe_registry_db_prepare(LatheRegistryLocal *r, const char *sql,
                                        GError **error) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
    lathe_registry_db_error(r, error, "cannot prepare a query");
    return NULL;
  }
  return st;
}

gboolean lathe_registry_db_exec(LatheRegistryLocal *r, const char *sql, const char *what,
                                GError **error) {
  if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return lathe_registry_db_error(r, error, what);
  return TRUE;
}

static gboolean query_int(LatheRegistryLocal *r, const char *sql, gint64 *out,
                          GError **error) {
  sqlite3_stmt *st = lathe_registry_db_prepare(r, sql, error);
  if (!st)
    return FALSE;
  gboolean ok = sqlite3_step(st) == SQLITE_ROW || lathe_registry_db_error(r, error, sql);
  if (ok)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return ok;
}

static gboolean set_pragmas(LatheRegistryLocal *r, GError **error) {
  sqlite3_busy_timeout(r->db, LATHE_REGISTRY_BUSY_TIMEOUT_MS);
  /* No checkpoint (and fsync) on every close: the WAL is checkpointed as it grows. */
  sqlite3_db_config(r->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_stmt *st = lathe_registry_db_prepare(r, "PRAGMA journal_mode = WAL", error);
  if (!st)
    return FALSE;
  if (sqlite3_step(st) != SQLITE_ROW) {
    lathe_registry_db_error(r, error, "cannot enable WAL mode");
    sqlite3_finalize(st);
    return FALSE;
  }
  g_autofree char *mode = g_strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (g_ascii_strcasecmp(mode ? mode : "", "wal") != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "registry-local: cannot enable WAL mode in %s (journal mode stays '%s'); "
                "put the registry on a local filesystem",
                r->db_path, mode ? mode : "");
    return FALSE;
  }
  /* FULL: a version number handed out must survive a power cut; registrations
   * are rare, so the extra fsync costs nothing that matters. */
  return lathe_registry_db_exec(r, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                                "cannot set pragmas", error);
}

/* Creates the schema in a new database or checks an existing one, inside an
 * IMMEDIATE transaction so two processes creating it at once do not race. */
static gboolean ensure_schema(LatheRegistryLocal *r, GError **error) {
  if (!lathe_registry_db_exec(r, "BEGIN IMMEDIATE", "cannot lock the database", error))
    return FALSE;
  gint64 version = 0, objects = 0;
  if (!query_int(r, "PRAGMA user_version", &version, error) ||
      !query_int(r, "SELECT count(*) FROM sqlite_master", &objects, error))
    goto fail;
  if (version > LATHE_REGISTRY_SCHEMA_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: %s has schema version %" G_GINT64_FORMAT
                ", newer than the %d this plugin knows; upgrade the registry-local "
                "plugin or point the `path` param at another folder",
                r->db_path, version, LATHE_REGISTRY_SCHEMA_VERSION);
    goto fail;
  }
  if (version == 0 && objects > 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: %s is an SQLite database that registry-local did not "
                "create (it has tables but no registry-local schema version); point "
                "the `path` param at another folder",
                r->db_path);
    goto fail;
  }
  if (version == 0) {
    g_autofree char *sql = g_strdup_printf("%s%s PRAGMA user_version = %d;", schema_sql,
                                           why_sql, LATHE_REGISTRY_SCHEMA_VERSION);
    if (!lathe_registry_db_exec(r, sql, "cannot create the schema", error))
      goto fail;
  } else if (version == 1) {
    g_autofree char *sql = g_strdup_printf("%s PRAGMA user_version = %d;", why_sql,
                                           LATHE_REGISTRY_SCHEMA_VERSION);
    if (!lathe_registry_db_exec(r, sql, "cannot upgrade the schema to record why aliases move",
                                error))
      goto fail;
  }
  return lathe_registry_db_exec(r, "COMMIT", "cannot commit the schema", error);
fail:
  sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* The read_only open (lathe ui): no folder made, no WAL switch, no schema
 * created or upgraded. A registry that does not exist yet is an empty one in
 * memory, so readers list nothing rather than fail; an older schema is
 * refused, since the columns the reader asks for are not there yet. */
static gboolean db_open_readonly(LatheRegistryLocal *r, GError **error) {
  gboolean exists = g_file_test(r->db_path, G_FILE_TEST_IS_REGULAR);
  int rc = sqlite3_open_v2(exists ? r->db_path : ":memory:", &r->db,
                           (exists ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY) |
                               SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "registry-local: cannot open %s: %s",
                r->db_path, r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
    return FALSE;
  }
  if (!exists)
    return ensure_schema(r, error);
  sqlite3_busy_timeout(r->db, LATHE_REGISTRY_BUSY_TIMEOUT_MS);
  gint64 version = 0;
  if (!query_int(r, "PRAGMA user_version", &version, error))
    return FALSE;
  if (version != LATHE_REGISTRY_SCHEMA_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: %s has schema version %" G_GINT64_FORMAT
                " and this plugin reads %d; %s",
                r->db_path, version, LATHE_REGISTRY_SCHEMA_VERSION,
                version > LATHE_REGISTRY_SCHEMA_VERSION
                    ? "upgrade the registry-local plugin"
                    : "a writing command (`lathe models list`) upgrades it");
    return FALSE;
  }
  return TRUE;
}

/* Opens r->db_path (whose folder exists, unless @read_only). On failure
 * r->db may be set and is closed by the caller. */
gboolean lathe_registry_db_open(LatheRegistryLocal *r, gboolean read_only, GError **error) {
  if (read_only)
    return db_open_readonly(r, error);
  /* NOMUTEX: the registry serialises all use of the connection with its lock. */
  int rc = sqlite3_open_v2(r->db_path, &r->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "registry-local: cannot open %s: %s",
                r->db_path, r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
    return FALSE;
  }
  return set_pragmas(r, error) && ensure_schema(r, error);
}

/* "2024-05-01T12:34:56.789Z" */
char *lathe_registry_iso8601(gint64 ms) {
  gint64 secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int millis = (int)(ms - secs * 1000);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(secs);
  if (!dt)
    return g_strdup_printf("%" G_GINT64_FORMAT, ms); /* beyond year 9999 */
  g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf("%s.%03dZ", base, millis);
}
