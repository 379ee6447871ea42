/* Studies in the run store (core/store/store-study.c): a store written before
 * trials could be interrupted still opens, its trial table learns the state
 * "interrupted" with its history kept, and a trial a dead run left "running"
 * becomes interrupted, not failed. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "store/store.h"
#include "test-util.h"

/* The trial table as schema 2 (Lathe before "interrupted") created it. */
static const char old_table[] =
    "DROP TABLE trial_events;"
    "CREATE TABLE trial_events(id INTEGER PRIMARY KEY, study_id TEXT NOT NULL,"
    " number INTEGER NOT NULL, run_id TEXT, state TEXT NOT NULL CHECK(state IN"
    " ('running','complete','pruned','failed')), params TEXT, vals TEXT, model TEXT, error TEXT,"
    " ts REAL);"
    "CREATE INDEX trial_events_study ON trial_events(study_id, number);"
    "INSERT INTO runs(id, status, proc) VALUES ('deadbeef', 'running', '999999999:1');"
    "INSERT INTO studies(id, key, name, node, tuner, created) VALUES ('st1', 'k1', 'p', 'tune', 'tuner/grid', 1);"
    "INSERT INTO trial_events(id, study_id, number, run_id, state, params, vals, ts) VALUES"
    " (10, 'st1', 0, 'deadbeef', 'running', '{\"x\":0}', NULL, 1),"
    " (11, 'st1', 0, 'deadbeef', 'complete', '{\"x\":0}', '{\"objective\":1}', 2),"
    " (12, 'st1', 1, 'deadbeef', 'running', '{\"x\":1}', NULL, 3),"
    " (13, 'st1', 2, 'deadbeef', 'failed', '{\"x\":2}', NULL, 4);";

static void exec_sql(const char *path, const char *sql) {
  sqlite3 *db;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    g_error("%s", msg);
  sqlite3_close(db);
}

static char *query_text(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  GString *out = g_string_new(NULL);
  while (sqlite3_step(st) == SQLITE_ROW)
    g_string_append_printf(out, "%s%s", out->len ? " " : "", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return g_string_free(out, FALSE);
}

static const char *trial_state(JsonArray *trials, guint i) {
  return json_object_get_string_member(json_array_get_object_element(trials, i), "state");
}

static void test_old_store_interrupted(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-study-XXXXXX", NULL);
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  lathe_store_close(s);
  exec_sql(dbp, old_table);

  /* The dead run is marked interrupted on open; the study, on its open. */
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  gboolean resumed = FALSE;
  g_autofree char *id = lathe_store_study_open(s, "k1", "p", "tune", "tuner/grid", NULL, &resumed, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(id, ==, "st1");
  g_assert_true(resumed);
  g_autoptr(JsonArray) trials = lathe_store_study_trials(s, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(trials), ==, 3);
  g_assert_cmpstr(trial_state(trials, 0), ==, "complete");
  g_assert_cmpstr(trial_state(trials, 1), ==, "interrupted");
  g_assert_cmpstr(trial_state(trials, 2), ==, "failed"); /* failed on its own: stays failed */
  const char *why = json_object_get_string_member(json_array_get_object_element(trials, 1), "error");
  g_assert_nonnull(strstr(why, "ended while the trial ran (interrupted)"));

  /* The table takes the new state from the run that reruns it. */
  g_autoptr(JsonObject) point = json_object_new();
  json_object_set_int_member(point, "x", 1);
  g_assert_true(lathe_store_trial_event(s, id, 1, "cafe0001", "running", point, NULL, NULL, NULL, &error));
  g_assert_true(lathe_store_trial_event(s, id, 1, "cafe0001", "interrupted", point, NULL, NULL,
                                        "interrupted: out of memory", &error));
  g_assert_no_error(error);
  /* Opening again neither rebuilds the table nor closes a trial twice. */
  g_autofree char *again = lathe_store_study_open(s, "k1", "p", "tune", "tuner/grid", NULL, &resumed, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(again, ==, "st1");
  lathe_store_close(s);

  g_autofree char *ids = query_text(dbp, "SELECT id || ':' || number || ':' || state FROM trial_events ORDER BY id");
  g_assert_cmpstr(ids, ==, "10:0:running 11:0:complete 12:1:running 13:2:failed 14:1:interrupted "
                           "15:1:running 16:1:interrupted");
  g_autofree char *check = query_text(dbp, "PRAGMA integrity_check");
  g_assert_cmpstr(check, ==, "ok");
  g_autofree char *index = query_text(dbp, "SELECT name FROM sqlite_master WHERE tbl_name = 'trial_events' AND type = 'index'");
  g_assert_cmpstr(index, ==, "trial_events_study");
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/store/study/old-store-interrupted", test_old_store_interrupted);
  return g_test_run();
}
