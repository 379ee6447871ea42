/* store-check.c: `lathe store check`: every artifact against its SHA-256
 * name, SQLite's integrity check, and the rows that point to artifacts whose
 * file is gone. Repairing removes what is damaged and the cache entries that
 * would use it, so that the next run rebuilds them from their producers. */
#include <string.h>

#include <glib/gstdio.h>

#include "store/store-private.h"

/* Appends each file under artifacts/sha256 whose content does not hash to
 * its name to @damaged (as its digest); returns how many were checked. */
static guint check_files(LatheStore *s, GPtrArray *damaged) {
  guint n = 0;
  g_autoptr(GDir) top = g_dir_open(s->artifacts, 0, NULL);
  const char *sub;
  while (top && (sub = g_dir_read_name(top))) {
    g_autofree char *subdir = g_build_filename(s->artifacts, sub, NULL);
    g_autoptr(GDir) d = g_dir_open(subdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      g_autofree char *path = g_build_filename(subdir, name, NULL);
      g_autofree char *digest = g_strconcat(sub, name, NULL);
      g_autofree char *got = lathe_store_file_sha256(path, NULL);
      n++;
      if (!got || !g_str_equal(got, digest))
        g_ptr_array_add(damaged, g_steal_pointer(&digest));
    }
  }
  return n;
}

static gboolean file_present(LatheStore *s, const char *digest) {
  if (strlen(digest) != 64)
    return FALSE;
  g_autofree char *path = lathe_store_artifact_path(s, digest);
  return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

/* With the lock held: digests in the artifacts table, and in cache entries'
 * outputs, whose file is missing; the cache keys that use one, in @keys. */
static void find_missing(LatheStore *s, GHashTable *missing, GPtrArray *keys) {
  sqlite3_stmt *st = stmt(s, "SELECT digest FROM artifacts");
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const char *d = (const char *)sqlite3_column_text(st, 0);
    if (d && !file_present(s, d))
      g_hash_table_add(missing, g_strdup(d));
  }
  if (st)
    sqlite3_reset(st);
  st = stmt(s, "SELECT c.key, json_extract(j.value, '$.digest') FROM cache c, json_each(c.outputs) j");
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const char *d = (const char *)sqlite3_column_text(st, 1);
    if (!d || !file_present(s, d)) {
      if (d)
        g_hash_table_add(missing, g_strdup(d));
      g_ptr_array_add(keys, g_strdup((const char *)sqlite3_column_text(st, 0)));
    }
  }
  if (st)
    sqlite3_reset(st);
}

static gint by_text(gconstpointer a, gconstpointer b) {
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* With the lock held: "ok", or SQLite's list of problems. */
static char *integrity(LatheStore *s) {
  GString *out = g_string_new(NULL);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
    g_string_append(out, sqlite3_errmsg(s->db));
    return g_string_free(out, FALSE);
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    g_string_append_printf(out, "%s%s", out->len ? "; " : "", sqlite3_column_text(st, 0));
  if (rc != SQLITE_DONE)
    g_string_append_printf(out, "%s%s", out->len ? "; " : "", sqlite3_errmsg(s->db));
  sqlite3_finalize(st);
  return g_string_free(out, FALSE);
}

static JsonArray *strv_array(GPtrArray *a) {
  JsonArray *j = json_array_new();
  for (guint i = 0; i < a->len; i++)
    json_array_add_string_element(j, a->pdata[i]);
  return j;
}

/* With the lock held and an operation open: forgets the artifacts of
 * @digests (their rows and the cache entries in @keys). */
static gboolean forget(LatheStore *s, GPtrArray *digests, GPtrArray *keys) {
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < digests->len; i++) {
    sqlite3_stmt *st = stmt(s, "DELETE FROM artifacts WHERE digest = ?1");
    sqlite3_bind_text(st, 1, digests->pdata[i], -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  for (guint i = 0; ok && i < keys->len; i++) {
    sqlite3_stmt *st = stmt(s, "DELETE FROM cache WHERE key = ?1");
    sqlite3_bind_text(st, 1, keys->pdata[i], -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  return ok;
}

JsonObject *lathe_store_check(LatheStore *s, gboolean repair, GError **error) {
  g_autoptr(GPtrArray) damaged = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) missing_set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  guint checked = check_files(s, damaged);
  if (repair)
    for (guint i = 0; i < damaged->len; i++) {
      g_autofree char *path = lathe_store_artifact_path(s, damaged->pdata[i]);
      g_unlink(path);
    }
  g_mutex_lock(&s->lock);
  lathe_store_commit_locked(s);
  g_autofree char *ic = integrity(s);
  find_missing(s, missing_set, keys);
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free); /* damaged, removed above */
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, missing_set);
  while (g_hash_table_iter_next(&it, &k, NULL))
    if (!g_ptr_array_find_with_equal_func(damaged, k, g_str_equal, NULL))
      g_ptr_array_add(missing, g_strdup(k));
    else
      g_ptr_array_add(gone, g_strdup(k));
  g_ptr_array_sort(missing, by_text);
  /* A damaged file removed above is missing now: its rows go too (in @gone). */
  gboolean ok = TRUE;
  if (repair && (missing->len || gone->len || keys->len)) {
    ok = lathe_store_op_begin(s, error);
    ok = ok && lathe_store_op_end(s, (forget(s, missing, keys) && forget(s, gone, keys)) ||
                                         lathe_store_fail(s, error, "repairing"), error);
    lathe_store_commit_locked(s);
  }
  g_mutex_unlock(&s->lock);
  if (!ok)
    return NULL;
  gboolean intact = g_str_equal(ic, "ok");
  gboolean found = !intact || damaged->len || missing->len;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "store", s->dir);
  json_object_set_int_member(o, "artifacts_checked", checked);
  json_object_set_array_member(o, "damaged", strv_array(damaged));
  json_object_set_array_member(o, "missing", strv_array(missing));
  json_object_set_int_member(o, "cache_entries_affected", keys->len);
  json_object_set_string_member(o, "integrity", ic);
  json_object_set_boolean_member(o, "repaired", repair && found && intact);
  /* The database itself cannot be repaired here: that stays damage. */
  json_object_set_boolean_member(o, "clean", !found || (repair && intact));
  return o;
}

/* The tables of each schema version: those a store of that version must
 * have. Kept beside the schema above; store tests check every one. */
static const char *const tables_v1[] = {"runs", "executions", "artifacts", "events", "params",
                                        "metrics", "data_versions", "cache", NULL};
static const char *const tables_v2[] = {"studies", "trial_events", NULL};
static const char *const tables_v3[] = {"run_environment", "tracker_journal", "tracker_runs",
                                            "tracker_settings", NULL};

/* With the open transaction held: the tables a store with history lacks,
 * comma-separated, or NULL when none is missing. A missing table is damage
 * (a hand-edited or half-restored lathe.db), never something to recreate:
 * recreating runs or executions under a store that has history would hide
 * the loss, and readers would otherwise fail query by query. A store has
 * history once its schema version is set, or (before versions) once any of
 * its tables exists; a database with none is new and gets the schema. */
char *lathe_store_missing_tables(LatheStore *s, int version) {
  g_autoptr(GHashTable) have = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *st = lathe_store_stmt(s, "SELECT name FROM sqlite_master WHERE type = 'table'");
  while (st && sqlite3_step(st) == SQLITE_ROW)
    g_hash_table_add(have, g_strdup((const char *)sqlite3_column_text(st, 0)));
  if (st)
    sqlite3_reset(st);
  gboolean history = version > 0;
  for (guint i = 0; !history && tables_v1[i]; i++)
    history = g_hash_table_contains(have, tables_v1[i]);
  if (!history)
    return NULL;
  GString *out = g_string_new(NULL);
  for (guint i = 0; tables_v1[i]; i++)
    if (!g_hash_table_contains(have, tables_v1[i]))
      g_string_append_printf(out, "%s%s", out->len ? ", " : "", tables_v1[i]);
  for (guint i = 0; version >= 2 && tables_v2[i]; i++)
    if (!g_hash_table_contains(have, tables_v2[i]))
      g_string_append_printf(out, "%s%s", out->len ? ", " : "", tables_v2[i]);
  for (guint i = 0; version >= 3 && tables_v3[i]; i++)
    if (!g_hash_table_contains(have, tables_v3[i]))
      g_string_append_printf(out, "%s%s", out->len ? ", " : "", tables_v3[i]);
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

/* With the open transaction held, on upgrading an older store: the columns
 * later schemas added to existing tables. CREATE ... IF NOT EXISTS cannot
 * add a column, and ALTER TABLE fails on one that exists (a store set back
 * to an older version by hand or by a test has it): add what is missing. */
gboolean lathe_store_add_columns(LatheStore *s, GError **error) {
  static const struct {
    const char *table, *column, *sql;
  } added[] = {
      {"executions", "worker", "ALTER TABLE executions ADD COLUMN worker TEXT"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(added); i++) {
    sqlite3_stmt *st = lathe_store_stmt(s, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (!st)
      return lathe_store_fail(s, error, "upgrading the schema");
    sqlite3_bind_text(st, 1, added[i].table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, added[i].column, -1, SQLITE_STATIC);
    gboolean have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!have && !lathe_store_exec(s, added[i].sql, error))
      return FALSE;
  }
  return TRUE;
}
