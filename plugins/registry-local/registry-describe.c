/* registry-describe.c: short summaries of what the registry holds, so an
 * error about an unknown model, version or alias can say what exists instead.
 * Best effort: a query that fails just leaves its part out. */
#include "registry-private.h"

#define MAX_LISTED 20

/**
 * lathe_registry_describe_models:
 *
 * Returns: (transfer full): "registered models: a, b" or "the registry has
 * no models yet". Call with the lock held.
 */
char *lathe_registry_describe_models(LatheRegistryLocal *r) {
  sqlite3_stmt *st =
      lathe_registry_sql_query(r, NULL, "SELECT name FROM models ORDER BY name", "");
  GString *s = g_string_new(NULL);
  int n = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (n < MAX_LISTED)
      g_string_append_printf(s, "%s%s", n ? ", " : "registered models: ",
                             (const char *)sqlite3_column_text(st, 0));
    n++;
  }
  sqlite3_finalize(st);
  if (n > MAX_LISTED)
    g_string_append_printf(s, " and %d more", n - MAX_LISTED);
  if (n == 0)
    g_string_append(s, "the registry has no models yet");
  return g_string_free(s, FALSE);
}

/* Appends versions as ranges: "1-3, 5". */
static void append_versions(LatheRegistryLocal *r, const char *name, GString *s) {
  sqlite3_stmt *st = lathe_registry_sql_query(
      r, NULL, "SELECT version FROM versions WHERE name = ?1 ORDER BY version", "s", name);
  gint64 first = -1, last = -1;
  int ranges = 0;
  for (;;) {
    gboolean row = st && sqlite3_step(st) == SQLITE_ROW;
    gint64 v = row ? sqlite3_column_int64(st, 0) : -1;
    if (row && first >= 0 && v == last + 1) {
      last = v;
      continue;
    }
    if (first >= 0) {
      g_string_append_printf(s, "%s%" G_GINT64_FORMAT, ranges++ ? ", " : "", first);
      if (last > first)
        g_string_append_printf(s, "-%" G_GINT64_FORMAT, last);
    }
    if (!row)
      break;
    first = last = v;
  }
  sqlite3_finalize(st);
  if (ranges == 0)
    g_string_append(s, "none");
}

/**
 * lathe_registry_describe_model:
 *
 * Returns: (transfer full): "versions 1-3; aliases: champion -> 2" (or "no
 * aliases"). Call with the lock held.
 */
char *lathe_registry_describe_model(LatheRegistryLocal *r, const char *name) {
  GString *s = g_string_new("versions ");
  append_versions(r, name, s);
  sqlite3_stmt *st = lathe_registry_sql_query(
      r, NULL, "SELECT alias, version FROM aliases WHERE name = ?1 ORDER BY alias", "s",
      name);
  int n = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    if (n < MAX_LISTED)
      g_string_append_printf(s, "%s%s -> %" G_GINT64_FORMAT, n ? ", " : "; aliases: ",
                             (const char *)sqlite3_column_text(st, 0),
                             (gint64)sqlite3_column_int64(st, 1));
    n++;
  }
  sqlite3_finalize(st);
  if (n > MAX_LISTED)
    g_string_append_printf(s, " and %d more", n - MAX_LISTED);
  if (n == 0)
    g_string_append(s, "; no aliases");
  return g_string_free(s, FALSE);
}
