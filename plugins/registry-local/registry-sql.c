/* registry-sql.c: one-shot parameterised statements, so the registry's
 * queries read as SQL plus their arguments. Registry calls are rare, so
 * preparing each statement per call costs nothing that matters. */
#include "registry-private.h"

/* @types has one letter per argument: 's' a string (NULL binds SQL NULL),
 * 'i' a gint64. */
static void bind_va(sqlite3_stmt *st, const char *types, va_list ap) {
  for (int i = 0; types[i]; i++) {
    if (types[i] == 's')
      sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64(st, i + 1, va_arg(ap, gint64));
  }
}

/**
 * lathe_registry_sql_query:
 * @sql: a statement with ?1, ?2... placeholders.
 * @types: one letter per argument ('s' string, 'i' gint64).
 *
 * Returns: (transfer full) (nullable): the bound statement, ready to step
 * (finalize it), or %NULL with @error set.
 */
sqlite3_stmt *lathe_registry_sql_query(LatheRegistryLocal *r, GError **error,
                                       const char *sql, const char *types, ...) {
  sqlite3_stmt *st = lathe_registry_db_prepare(r, sql, error);
  if (!st)
    return NULL;
  va_list ap;
  va_start(ap, types);
  bind_va(st, types, ap);
  va_end(ap);
  return st;
}

/**
 * lathe_registry_sql_exec:
 * @what: what failed, for the message ("cannot record the version").
 *
 * Runs a statement that returns no rows.
 */
gboolean lathe_registry_sql_exec(LatheRegistryLocal *r, GError **error, const char *what,
                                 const char *sql, const char *types, ...) {
  sqlite3_stmt *st = lathe_registry_db_prepare(r, sql, error);
  if (!st)
    return FALSE;
  va_list ap;
  va_start(ap, types);
  bind_va(st, types, ap);
  va_end(ap);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE || lathe_registry_db_error(r, error, what);
  sqlite3_finalize(st);
  return ok;
}

/**
 * lathe_registry_sql_int:
 * @found: (out): whether a row came back.
 * @value: (out): its first column.
 *
 * Runs a query for one integer.
 */
gboolean lathe_registry_sql_int(LatheRegistryLocal *r, GError **error, gboolean *found,
                                gint64 *value, const char *sql, const char *types, ...) {
  sqlite3_stmt *st = lathe_registry_db_prepare(r, sql, error);
  if (!st)
    return FALSE;
  va_list ap;
  va_start(ap, types);
  bind_va(st, types, ap);
  va_end(ap);
  int rc = sqlite3_step(st);
  gboolean ok = rc == SQLITE_ROW || rc == SQLITE_DONE ||
                lathe_registry_db_error(r, error, "cannot query the index");
  *found = rc == SQLITE_ROW;
  *value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return ok;
}

/* Ends a transaction that failed; the error is already set. */
void lathe_registry_sql_rollback(LatheRegistryLocal *r) {
  if (!sqlite3_get_autocommit(r->db))
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}
