/* The run store (core/store): artifacts, executions, cache lookups, a
 * dead process's run becoming "interrupted", run environments and study ids. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "store/store.h"
#include "store/store-private.h"
#include "test-util.h"

static void test_store(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  g_assert_nonnull(run);
  LatheDataset *ds = lathe_dataset_new(2, 2);
  g_autoptr(LatheArtifact) a = lathe_artifact_new_dataset(ds);
  g_assert_true(lathe_store_put_artifact(s, a, &error));
  g_autoptr(LatheArtifact) back = lathe_store_get_artifact(s, lathe_artifact_get_digest(a), LATHE_TYPE_DATASET, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(lathe_artifact_get_digest(back), ==, lathe_artifact_get_digest(a));
  g_assert_nonnull(lathe_artifact_get_dataset(back, &error));
  LatheExecIdentity who = {.run_id = run, .node = "node", .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "dig", .cache_key = "key1"};
  gint64 ex = lathe_store_begin_execution(s, &who, 1.0, &error);
  g_assert_cmpint(ex, >, 0);
  g_autoptr(JsonObject) outs = json_object_new();
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "digest", lathe_artifact_get_digest(a));
  json_object_set_string_member(o, "type", "dataset");
  json_object_set_object_member(outs, "data", o);
  g_autoptr(JsonObject) metrics = json_object_new();
  json_object_set_double_member(metrics, "acc", 0.5);
  LatheExecRecord rec = {.status = "succeeded", .outputs = outs, .metrics = metrics, .started = 1, .ended = 2};
  g_assert_true(lathe_store_finish_execution(s, ex, &who, "key1", &rec, &error));
  /* A short execution is recorded whole, in one operation. */
  LatheExecIdentity who2 = who;
  who2.node = "short";
  LatheExecRecord rec2 = {.status = "failed", .error = "boom", .started = 3, .ended = 4};
  g_assert_true(lathe_store_finish_execution(s, -1, &who2, NULL, &rec2, &error));
  g_autoptr(JsonObject) hit = lathe_store_cache_lookup(s, "key1");
  g_assert_nonnull(hit);
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(hit, "metrics"), "acc"), ==, 0.5);
  g_assert_null(lathe_store_cache_lookup(s, "key2"));
  /* A run left "running" by a dead process becomes "interrupted" on the next open. */
  lathe_store_close(s);
  sqlite3 *db;
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "UPDATE runs SET proc = '999999999:1'", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  s = lathe_store_open(dir, &error);
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  g_assert_cmpstr(json_object_get_string_member(shown, "status"), ==, "interrupted");
  JsonArray *nodes = json_object_get_array_member(shown, "nodes");
  g_assert_cmpuint(json_array_get_length(nodes), ==, 2);
  JsonObject *n1 = json_array_get_object_element(nodes, 1);
  g_assert_cmpstr(json_object_get_string_member(n1, "id"), ==, "short");
  g_assert_cmpstr(json_object_get_string_member(n1, "status"), ==, "failed");
  g_assert_cmpstr(json_object_get_string_member(n1, "error"), ==, "boom");
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* A run's environment (`lathe reproduce`) and pipeline text read back; a
 * run without one shows null. A schema-2 store gains the table on open,
 * its runs unchanged. A study's id is its key's prefix, longer on a clash. */
static void test_environment_and_ids(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *old = lathe_store_begin_run(s, "n", "p.json", "{\"seed\":1}", 1, &error);
  lathe_store_close(s);
  sqlite3 *db;
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "DROP TABLE run_environment; PRAGMA user_version = 2", NULL,
                               NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) shown_old = lathe_store_show_run(s, old, &error);
  g_assert_true(json_object_get_null_member(shown_old, "environment"));
  g_autofree char *text = lathe_store_run_pipeline(s, old);
  g_assert_cmpstr(text, ==, "{\"seed\":1}");
  g_assert_null(lathe_store_run_pipeline(s, "nosuchrun"));
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  g_autoptr(JsonObject) env = json_object_new();
  json_object_set_string_member(env, "cpu", "Some CPU");
  json_object_set_int_member(env, "jobs", 3);
  g_assert_true(lathe_store_set_run_environment(s, run, env, &error));
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  JsonObject *e = json_object_get_object_member(shown, "environment");
  g_assert_cmpstr(json_object_get_string_member(e, "cpu"), ==, "Some CPU");
  g_assert_cmpint(json_object_get_int_member(e, "jobs"), ==, 3);

  const char *k1 = "0123456789abcdef", *k2 = "01234567ffffffff";
  gboolean resumed;
  g_autofree char *s1 = lathe_store_study_open(s, k1, "n", "tune", "tuner/grid", NULL, &resumed, &error);
  g_autofree char *s2 = lathe_store_study_open(s, k2, "n", "tune", "tuner/grid", NULL, &resumed, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s1, ==, "01234567");
  g_assert_cmpstr(s2, ==, "01234567f");
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* Studies copied into another store as they were at a time, with the
 * models their trials name; only the tuner nodes asked for. */
static void test_copy_studies(void) {
  g_autofree char *a = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autofree char *b = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autofree char *c = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *sa = lathe_store_open(a, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) bytes = g_bytes_new_static("a model", 7);
  g_autoptr(LatheArtifact) model = lathe_artifact_new_from_bytes(LATHE_TYPE_ANY, bytes);
  g_assert_true(lathe_store_put_artifact(sa, model, &error));
  gboolean resumed;
  g_autofree char *study = lathe_store_study_open(sa, "feedfacefeedface", "p", "tune", "tuner/grid",
                                                  NULL, &resumed, &error);
  g_assert_true(lathe_store_trial_event(sa, study, 0, "run1", "complete", NULL, NULL,
                                        lathe_artifact_get_digest(model), NULL, &error));
  double cut = (double)g_get_real_time() / 1e6;
  g_usleep(2000);
  g_assert_true(lathe_store_trial_event(sa, study, 1, "run2", "complete", NULL, NULL, NULL, NULL, &error));
  lathe_store_close(sa);

  LatheStore *sb = lathe_store_open(b, &error);
  const char *const nodes[] = {"tune", NULL};
  g_assert_true(lathe_store_copy_studies(sb, a, cut, "p", nodes, &error));
  g_assert_no_error(error);
  g_autoptr(JsonArray) trials = lathe_store_study_trials(sb, study, &error);
  g_assert_cmpuint(json_array_get_length(trials), ==, 1);
  g_autoptr(LatheArtifact) back = lathe_store_get_artifact(sb, lathe_artifact_get_digest(model),
                                                           LATHE_TYPE_ANY, &error);
  g_assert_nonnull(back);
  lathe_store_close(sb);

  LatheStore *sc = lathe_store_open(c, &error);
  const char *const other[] = {"tune2", NULL};
  g_assert_true(lathe_store_copy_studies(sc, a, cut, "p", other, &error));
  g_autoptr(JsonArray) none = lathe_store_study_trials(sc, study, &error);
  g_assert_true(!none || json_array_get_length(none) == 0);
  lathe_store_close(sc);
  lathe_test_remove_tree(a);
  lathe_test_remove_tree(b);
  lathe_test_remove_tree(c);
}

/* A reader's open writes nothing: a run left "running" stays so (open would
 * mark it interrupted), the database file is byte for byte the same, reads
 * work; an older schema and a missing store are refused, naming the path. */
static void test_open_readonly(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *nostore = g_build_filename(dir, "nowhere", NULL);
  g_assert_null(lathe_store_open_readonly(nostore, &error));
  g_assert_nonnull(strstr(error->message, nostore));
  g_clear_error(&error);
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  lathe_store_close(s);
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  sqlite3 *db;
  /* A run of a process that is gone: a writing open would mark it interrupted. */
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "UPDATE runs SET proc = 'gone:1'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_autofree char *before = NULL;
  gsize nbefore = 0;
  g_assert_true(g_file_get_contents(dbp, &before, &nbefore, NULL));
  s = lathe_store_open_readonly(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(shown, "status"), ==, "running");
  lathe_store_close(s);
  g_autofree char *after = NULL;
  gsize nafter = 0;
  g_assert_true(g_file_get_contents(dbp, &after, &nafter, NULL));
  g_assert_cmpuint(nbefore, ==, nafter);
  g_assert_true(memcmp(before, after, nafter) == 0);
  /* The same store through a writing open: the run is marked, so the check above could fail. */
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) marked = lathe_store_show_run(s, run, &error);
  g_assert_cmpstr(json_object_get_string_member(marked, "status"), ==, "interrupted");
  lathe_store_close(s);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_assert_null(lathe_store_open_readonly(dir, &error));
  g_assert_nonnull(strstr(error->message, "older store schema 4"));
  g_assert_nonnull(strstr(error->message, dbp));
  lathe_test_remove_tree(dir);
}

/* lathe_store_show_run reads each list of the whole run in one query: each
 * execution still gets its own params, metrics and reports, in order;
 * the NO_NESTED_REPORTS flag empties the reports of trials ("tune/0/f")
 * only. */
static void test_show_run_batched(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *other = lathe_store_begin_run(s, "o", "p.json", "{}", 1, &error);
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  const char *nodes[] = {"tune", "tune/0/f", "tune/1/f"};
  for (guint r = 0; r < 2; r++)
    for (guint k = 0; k < 3; k++) {
      g_autoptr(JsonObject) params = json_object_new();
      json_object_set_int_member(params, "b", k);
      json_object_set_int_member(params, "a", r);
      LatheExecIdentity who = {.run_id = r ? run : other, .node = nodes[k], .component = "c/x", .plugin = "p",
                               .plugin_version = "1", .plugin_digest = "d", .params = params};
      gint64 ex = lathe_store_begin_execution(s, &who, 1.0, &error);
      g_assert_cmpint(ex, >, 0);
      for (guint i = 0; i < 3; i++)
        lathe_store_add_report(s, ex, "loss", 10.0 * k + i + 100.0 * r, i, 1.0 + i);
      LatheStoreReport chunk[] = {{ex, "acc", 0.5 + k, 7, 2.0, NULL, NULL}};
      g_assert_true(lathe_store_add_reports(s, chunk, 1, NULL, &error));
      g_autoptr(JsonObject) metrics = json_object_new();
      json_object_set_double_member(metrics, "m", k + 100.0 * r);
      LatheExecRecord rec = {.status = "succeeded", .metrics = metrics, .started = 1, .ended = 2};
      g_assert_true(lathe_store_finish_execution(s, ex, &who, NULL, &rec, &error));
      g_assert_no_error(error);
    }
  for (guint f = 0; f < 2; f++) {
    g_autoptr(JsonObject) shown = lathe_store_show_run_flags(s, run, f ? LATHE_STORE_SHOW_NO_NESTED_REPORTS : 0, &error);
    g_assert_no_error(error);
    JsonArray *ns = json_object_get_array_member(shown, "nodes");
    g_assert_cmpuint(json_array_get_length(ns), ==, 3);
    for (guint k = 0; k < 3; k++) {
      JsonObject *n = json_array_get_object_element(ns, k);
      g_assert_cmpstr(json_object_get_string_member(n, "id"), ==, nodes[k]);
      g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(n, "metrics"), "m"), ==, k + 100.0);
      JsonObject *p = json_object_get_object_member(n, "params");
      g_autoptr(GList) names = json_object_get_members(p);
      g_assert_cmpstr(names->data, ==, "a"); /* by name */
      g_assert_cmpint(json_object_get_int_member(p, "b"), ==, k);
      g_assert_cmpint(json_object_get_int_member(p, "a"), ==, 1);
      JsonArray *reps = json_object_get_array_member(n, "reports");
      if (f && k) {
        g_assert_cmpuint(json_array_get_length(reps), ==, 0);
        continue;
      }
      g_assert_cmpuint(json_array_get_length(reps), ==, 4);
      for (guint i = 0; i < 3; i++) {
        JsonObject *rp = json_array_get_object_element(reps, i);
        g_assert_cmpstr(json_object_get_string_member(rp, "name"), ==, "loss");
        g_assert_cmpint(json_object_get_int_member(rp, "step"), ==, i);
        g_assert_cmpfloat(json_object_get_double_member(rp, "value"), ==, 10.0 * k + i + 100.0);
      }
      JsonObject *last = json_array_get_object_element(reps, 3);
      g_assert_cmpstr(json_object_get_string_member(last, "name"), ==, "acc");
      g_assert_cmpfloat(json_object_get_double_member(last, "value"), ==, 0.5 + k);
    }
  }
  /* the study's reader: every trial's points, no other run's */
  g_autoptr(JsonObject) tr = lathe_store_trial_reports(s, run, "tune/");
  g_assert_true(json_object_has_member(tr, "0/f.loss"));
  g_assert_true(json_object_has_member(tr, "1/f.acc"));
  JsonArray *pts = json_object_get_array_member(tr, "1/f.loss");
  g_assert_cmpuint(json_array_get_length(pts), ==, 3);
  g_assert_cmpfloat(json_array_get_double_element(json_array_get_array_element(pts, 2), 1), ==, 122.0);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* The stored-value reader's fast path for numbers gives what json-glib's
 * parser gives (type and value), and leaves everything else to it. */
/* Schema 6 (issue 16) added executions.worker. A schema-5 store (its
 * executions table as schema 5 made it, no worker column) opened for
 * writing is upgraded: its runs are kept, their worker is null, and new
 * executions record theirs; the read-only open then accepts it. A store
 * set back to 5 by hand that has the column already opens too. */
static void test_worker_migration(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *old = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  LatheExecIdentity who = {.run_id = old, .node = "a", .component = "c/x", .plugin = "p"};
  LatheExecRecord rec = {.status = "succeeded", .started = 1, .ended = 2};
  g_assert_true(lathe_store_finish_execution(s, -1, &who, NULL, &rec, &error));
  lathe_store_close(s);
  sqlite3 *db;
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db,
      "CREATE TABLE executions5(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
      " node TEXT NOT NULL, component TEXT, plugin TEXT, plugin_version TEXT, plugin_digest TEXT,"
      " cache_key TEXT, status TEXT NOT NULL, cached INTEGER DEFAULT 0, started REAL, ended REAL,"
      " error TEXT);"
      "INSERT INTO executions5 SELECT id, run_id, node, component, plugin, plugin_version,"
      " plugin_digest, cache_key, status, cached, started, ended, error FROM executions;"
      "DROP TABLE executions; ALTER TABLE executions5 RENAME TO executions;"
      "CREATE INDEX executions_run ON executions(run_id); PRAGMA user_version = 5",
      NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  /* Not upgraded by a reader. */
  g_assert_null(lathe_store_open_readonly(dir, &error));
  g_assert_nonnull(strstr(error->message, "older store schema 5"));
  g_clear_error(&error);
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) shown_old = lathe_store_show_run(s, old, &error);
  g_assert_no_error(error);
  JsonArray *nodes = json_object_get_array_member(shown_old, "nodes");
  g_assert_cmpuint(json_array_get_length(nodes), ==, 1);
  JsonObject *n0 = json_array_get_object_element(nodes, 0);
  g_assert_cmpstr(json_object_get_string_member(n0, "id"), ==, "a");
  g_assert_cmpstr(json_object_get_string_member(n0, "status"), ==, "succeeded");
  g_assert_true(json_object_has_member(n0, "worker"));
  g_assert_true(json_object_get_null_member(n0, "worker"));
  /* New executions record their worker, whole or begun then finished. */
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  LatheExecIdentity w1 = {.run_id = run, .node = "b", .component = "c/x", .plugin = "p",
                          .worker = "thread 1"};
  g_assert_true(lathe_store_finish_execution(s, -1, &w1, NULL, &rec, &error));
  LatheExecIdentity w0 = w1;
  w0.node = "c";
  w0.worker = NULL;
  gint64 ex = lathe_store_begin_execution(s, &w0, 1.0, &error);
  g_assert_cmpint(ex, >, 0);
  w0.worker = "process 0"; /* known once its executor took it */
  g_assert_true(lathe_store_finish_execution(s, ex, &w0, NULL, &rec, &error));
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  nodes = json_object_get_array_member(shown, "nodes");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(nodes, 0), "worker"), ==,
                  "thread 1");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(nodes, 1), "worker"), ==,
                  "process 0");
  lathe_store_close(s);
  LatheStore *ro = lathe_store_open_readonly(dir, &error);
  g_assert_no_error(error);
  lathe_store_close(ro);
  /* Set back to 5 with the column there: the upgrade does not add it twice. */
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 5", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  lathe_store_close(s);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  sqlite3_stmt *v;
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(v), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(v, 0), ==, 6);
  sqlite3_finalize(v);
  sqlite3_close(db);
  lathe_test_remove_tree(dir);
}

static void test_parse_json(void) {
  const char *texts[] = {"0", "-0", "12", "-7", "1.5", "-0.25", "1e5", "2.5E-3", "123456789012345678",
                         "1234567890123456789", "0.1", "01", "1.", ".5", "-", "1e", "1x", "\"s\"", "true",
                         "null", "[1,2]", "{\"a\":1}", " 3", "3 "};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    g_autoptr(JsonNode) fast = lathe_store_parse_json(texts[i]);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *want = json_parser_load_from_data(p, texts[i], -1, NULL) ? json_parser_get_root(p) : NULL;
    if (!want) {
      g_assert_null(fast);
      continue;
    }
    g_assert_nonnull(fast);
    g_assert_cmpint(json_node_get_node_type(fast), ==, json_node_get_node_type(want));
    if (JSON_NODE_HOLDS_VALUE(want))
      g_assert_true(json_node_get_value_type(fast) == json_node_get_value_type(want));
    g_assert_true(json_node_equal(fast, want));
  }
  g_assert_null(lathe_store_parse_json(NULL));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/store", test_store);
  g_test_add_func("/core/store/open-readonly", test_open_readonly);
  g_test_add_func("/core/store/environment-and-ids", test_environment_and_ids);
  g_test_add_func("/core/store/copy-studies", test_copy_studies);
  g_test_add_func("/core/store/show-run-batched", test_show_run_batched);
  g_test_add_func("/core/store/parse-json", test_parse_json);
  g_test_add_func("/core/store/worker-migration", test_worker_migration);
  return g_test_run();
}
