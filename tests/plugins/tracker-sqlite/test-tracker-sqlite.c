/* test-tracker-sqlite.c: tracker/sqlite through its ABI, checked against the
 * database with a separate SQLite connection, the way a viewer would read it. */
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test-util.h"

typedef struct {
  char *dir;  /* fresh temporary folder */
  char *path; /* dir/tracking.db */
  LatheContext *ctx;
  gpointer tracker;
} Fixture;

static const LatheTrackerClass *klass(void) {
  return (const LatheTrackerClass *)lathe_test_component("tracker-sqlite", "tracker/sqlite");
}


/* Opens a tracker with @params_json; returns NULL with @error set on failure.
 * The context is kept in @fx (it must outlive the tracker). */
static gpointer open_with(Fixture *fx, const char *params_json, GError **error) {
  g_clear_pointer(&fx->ctx, lathe_context_free);
  fx->ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "tracker", params_json, 1);
  return klass()->open(fx->ctx, error);
}

static gpointer open_path(Fixture *fx, const char *path, const char *experiment) {
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\", \"experiment\": \"%s\"}",
                                            path, experiment ? experiment : "Default");
  g_autoptr(GError) error = NULL;
  gpointer t = open_with(fx, params, &error);
  g_assert_no_error(error);
  g_assert_nonnull(t);
  return t;
}

static void setup(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  fx->dir = g_dir_make_tmp("lathe-trk-XXXXXX", &error);
  g_assert_no_error(error);
  fx->path = g_build_filename(fx->dir, "tracking.db", NULL);
  fx->tracker = open_path(fx, fx->path, NULL);
}

static void close_tracker(Fixture *fx) {
  if (fx->tracker)
    klass()->close(fx->tracker);
  fx->tracker = NULL;
}

static void teardown(Fixture *fx, gconstpointer data) {
  close_tracker(fx);
  g_clear_pointer(&fx->ctx, lathe_context_free);
  lathe_test_remove_tree(fx->dir);
  g_free(fx->dir);
  g_free(fx->path);
}

/* A second connection, read-only, like a person's viewer. */
static sqlite3 *reader(const char *path) {
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static sqlite3_stmt *query(sqlite3 *db, const char *fmt, va_list ap) {
  char *sql = sqlite3_vmprintf(fmt, ap);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    g_error("%s: %s", sql, sqlite3_errmsg(db));
  sqlite3_free(sql);
  return st;
}

/* First column of the first row as an integer; -1 when there is no row. */
static gint64 qint(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = query(db, fmt, ap);
  va_end(ap);
  int rc = sqlite3_step(st);
  g_assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
  gint64 v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

static double qdouble(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = query(db, fmt, ap);
  va_end(ap);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  double v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* First column of the first row as text (NULL for SQL NULL or no row). */
static char *qtext(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *st = query(db, fmt, ap);
  va_end(ap);
  char *v = NULL;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    v = g_strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

static void start(Fixture *fx, const char *run_id) {
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->start_run(fx->tracker, run_id, "a run", 1000, &error));
  g_assert_no_error(error);
}

static void metric(Fixture *fx, const char *run_id, const char *key, double value,
                   gint64 step, gint64 ts) {
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->log_metric(fx->tracker, run_id, key, value, step, ts, &error));
  g_assert_no_error(error);
}

static void test_schema(Fixture *fx, gconstpointer data) {
  g_assert_true(g_file_test(fx->path, G_FILE_TEST_IS_REGULAR));
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "PRAGMA user_version"), ==, 1);
  g_autofree char *mode = qtext(db, "PRAGMA journal_mode");
  g_assert_cmpstr(mode, ==, "wal");
  const char *tables[] = {"experiments", "runs",   "params",
                          "metrics",     "latest_metrics", "tags"};
  for (guint i = 0; i < G_N_ELEMENTS(tables); i++)
    g_assert_cmpint(qint(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                             "AND name = %Q", tables[i]), ==, 1);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM experiments WHERE name = 'Default'"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM runs"), ==, 0);
  sqlite3_close(db);
}

static void test_default_and_relative_path(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *store = g_build_filename(fx->dir, "store", NULL);
  g_autofree char *base = g_build_filename(fx->dir, "pipeline", NULL);
  LatheContext *ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "tracker", NULL, 1);
  lathe_context_set_dirs(ctx, base, store, store);
  gpointer t = klass()->open(ctx, &error);
  g_assert_no_error(error);
  g_assert_true(klass()->start_run(t, "r", NULL, 1, &error));
  klass()->close(t);
  lathe_context_free(ctx);
  g_autofree char *def = g_build_filename(store, "tracking.db", NULL);
  g_assert_true(g_file_test(def, G_FILE_TEST_IS_REGULAR));
  sqlite3 *db = reader(def);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM runs WHERE run_uuid = 'r'"), ==, 1);
  sqlite3_close(db);

  ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "tracker",
                           "{\"path\": \"sub/my.db\"}", 1);
  lathe_context_set_dirs(ctx, base, store, store);
  t = klass()->open(ctx, &error);
  g_assert_no_error(error);
  klass()->close(t);
  lathe_context_free(ctx);
  g_autofree char *rel = g_build_filename(base, "sub", "my.db", NULL);
  g_assert_true(g_file_test(rel, G_FILE_TEST_IS_REGULAR));
}

static void test_reopen(Fixture *fx, gconstpointer data) {
  start(fx, "r1");
  metric(fx, "r1", "loss", 0.5, 0, 10);
  close_tracker(fx);
  fx->tracker = open_path(fx, fx->path, "Other");
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM experiments"), ==, 2);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE run_uuid = 'r1'"), ==, 1);
  /* A run started in the old session is known to the new one. */
  metric(fx, "r1", "loss", 0.4, 1, 20);
  start(fx, "r2");
  close_tracker(fx);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE run_uuid = 'r1'"), ==, 2);
  g_assert_cmpint(qint(db, "SELECT e.name = 'Other' FROM runs r JOIN experiments e "
                           "USING (experiment_id) WHERE run_uuid = 'r2'"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT e.name = 'Default' FROM runs r JOIN experiments e "
                           "USING (experiment_id) WHERE run_uuid = 'r1'"), ==, 1);
  sqlite3_close(db);
}

static void test_every_call(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  const LatheTrackerClass *k = klass();
  g_assert_true(k->start_run(fx->tracker, "run-1", "baseline", 1700000000000, &error));
  g_assert_true(k->log_param(fx->tracker, "run-1", "lr", "0.01", &error));
  g_assert_true(k->log_param(fx->tracker, "run-1", "epochs", "10", &error));
  g_assert_true(k->log_metric(fx->tracker, "run-1", "acc", 0.9, 3, 1700000000500, &error));
  g_assert_true(k->log_metric(fx->tracker, "run-1", "nan", NAN, 0, 1700000000600, &error));
  g_assert_true(k->set_tag(fx->tracker, "run-1", "lathe.node", "model", &error));
  g_assert_true(k->set_tag(fx->tracker, "run-1", "note", "first", &error));
  g_assert_true(k->set_tag(fx->tracker, "run-1", "note", "second", &error));
  g_assert_true(k->end_run(fx->tracker, "run-1", "succeeded", 1700000009000, &error));
  g_assert_no_error(error);

  /* end_run commits: a reader sees it all without closing the tracker. */
  sqlite3 *db = reader(fx->path);
  g_autofree char *name = qtext(db, "SELECT name FROM runs WHERE run_uuid = 'run-1'");
  g_autofree char *status = qtext(db, "SELECT status FROM runs WHERE run_uuid = 'run-1'");
  g_assert_cmpstr(name, ==, "baseline");
  g_assert_cmpstr(status, ==, "FINISHED");
  g_assert_cmpint(qint(db, "SELECT start_time FROM runs"), ==, 1700000000000);
  g_assert_cmpint(qint(db, "SELECT end_time FROM runs"), ==, 1700000009000);
  g_autofree char *lr = qtext(db, "SELECT value FROM params WHERE key = 'lr'");
  g_assert_cmpstr(lr, ==, "0.01");
  g_assert_cmpint(qint(db, "SELECT count(*) FROM params"), ==, 2);
  g_assert_cmpfloat(qdouble(db, "SELECT value FROM metrics WHERE key = 'acc'"), ==, 0.9);
  g_assert_cmpint(qint(db, "SELECT step FROM metrics WHERE key = 'acc'"), ==, 3);
  g_assert_cmpint(qint(db, "SELECT timestamp FROM metrics WHERE key = 'acc'"), ==,
                  1700000000500);
  g_assert_cmpint(qint(db, "SELECT is_nan FROM metrics WHERE key = 'nan'"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT is_nan FROM latest_metrics WHERE key = 'nan'"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT is_nan FROM metrics WHERE key = 'acc'"), ==, 0);
  g_autofree char *note = qtext(db, "SELECT value FROM tags WHERE key = 'note'");
  g_assert_cmpstr(note, ==, "second");
  g_assert_cmpint(qint(db, "SELECT count(*) FROM tags"), ==, 2);
  sqlite3_close(db);
}

static void test_restart_run(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->start_run(fx->tracker, "r", "first", 100, &error));
  g_assert_true(klass()->end_run(fx->tracker, "r", "failed", 200, &error));
  sqlite3 *db = reader(fx->path);
  g_autofree char *s1 = qtext(db, "SELECT status FROM runs");
  g_assert_cmpstr(s1, ==, "FAILED");
  /* A retry re-opens the same run: RUNNING again, no second row. */
  g_assert_true(klass()->start_run(fx->tracker, "r", NULL, 300, &error));
  g_assert_true(klass()->end_run(fx->tracker, "r", "FINISHED", 400, &error));
  g_assert_true(klass()->start_run(fx->tracker, "r", NULL, 500, &error));
  g_assert_no_error(error);
  close_tracker(fx);
  g_autofree char *s2 = qtext(db, "SELECT status FROM runs");
  g_autofree char *name = qtext(db, "SELECT name FROM runs");
  g_assert_cmpstr(s2, ==, "RUNNING");
  g_assert_cmpstr(name, ==, "first");
  g_assert_cmpint(qint(db, "SELECT count(*) FROM runs"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT start_time FROM runs"), ==, 100);
  g_assert_cmpint(qint(db, "SELECT end_time IS NULL FROM runs"), ==, 1);
  sqlite3_close(db);
}

static void test_status_mapping(Fixture *fx, gconstpointer data) {
  static const char *cases[][2] = {{"succeeded", "FINISHED"}, {"failed", "FAILED"},
                                   {"interrupted", "KILLED"},  {"KILLED", "KILLED"},
                                   {"skipped", "skipped"}};
  g_autoptr(GError) error = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *id = g_strdup_printf("run-%u", i);
    start(fx, id);
    g_assert_true(klass()->end_run(fx->tracker, id, cases[i][0], 5, &error));
    g_assert_no_error(error);
  }
  sqlite3 *db = reader(fx->path);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *s = qtext(db, "SELECT status FROM runs WHERE run_uuid = 'run-%u'", i);
    g_assert_cmpstr(s, ==, cases[i][1]);
  }
  sqlite3_close(db);
  g_assert_false(klass()->end_run(fx->tracker, "run-0", "", 5, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "status"));
}

static void test_param_immutable(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  start(fx, "r");
  g_assert_true(klass()->log_param(fx->tracker, "r", "lr", "0.1", &error));
  g_assert_true(klass()->log_param(fx->tracker, "r", "lr", "0.1", &error));
  g_assert_no_error(error);
  g_assert_false(klass()->log_param(fx->tracker, "r", "lr", "0.2", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "'lr'"));
  g_assert_nonnull(strstr(error->message, "'0.1'"));
  g_assert_nonnull(strstr(error->message, "'0.2'"));
  g_assert_nonnull(strstr(error->message, fx->path));
  g_clear_error(&error);
  /* The refused call broke nothing: the batch goes on and the old value stays. */
  g_assert_true(klass()->log_param(fx->tracker, "r", "other", "x", &error));
  g_assert_no_error(error);
  close_tracker(fx);
  sqlite3 *db = reader(fx->path);
  g_autofree char *v = qtext(db, "SELECT value FROM params WHERE key = 'lr'");
  g_assert_cmpstr(v, ==, "0.1");
  g_assert_cmpint(qint(db, "SELECT count(*) FROM params"), ==, 2);
  sqlite3_close(db);
}

static void test_latest_metrics(Fixture *fx, gconstpointer data) {
  start(fx, "r");
  /* Out of order steps and timestamps: the highest step wins, then the
   * latest timestamp among equal steps. */
  metric(fx, "r", "loss", 5.0, 5, 100);
  metric(fx, "r", "loss", 2.0, 2, 200);
  metric(fx, "r", "loss", 7.0, 7, 150);
  metric(fx, "r", "loss", 7.5, 7, 300);
  metric(fx, "r", "loss", 9.0, 7, 250);
  metric(fx, "r", "loss", 3.0, 3, 400);
  /* A full tie on step and timestamp: the point logged last wins. */
  metric(fx, "r", "acc", 0.1, 1, 10);
  metric(fx, "r", "acc", 0.2, 1, 10);
  /* A lower step never replaces a higher one, however recent. */
  metric(fx, "r", "acc", 0.9, 0, 99999);
  close_tracker(fx);
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE key = 'loss'"), ==, 6);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM latest_metrics"), ==, 2);
  g_assert_cmpfloat(qdouble(db, "SELECT value FROM latest_metrics WHERE key = 'loss'"), ==,
                    7.5);
  g_assert_cmpint(qint(db, "SELECT step FROM latest_metrics WHERE key = 'loss'"), ==, 7);
  g_assert_cmpint(qint(db, "SELECT timestamp FROM latest_metrics WHERE key = 'loss'"), ==,
                  300);
  g_assert_cmpfloat(qdouble(db, "SELECT value FROM latest_metrics WHERE key = 'acc'"), ==,
                    0.2);
  sqlite3_close(db);
}

static void test_bad_calls(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  const LatheTrackerClass *k = klass();
  g_assert_false(k->log_metric(fx->tracker, "ghost", "loss", 1.0, 0, 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "'ghost'"));
  g_assert_nonnull(strstr(error->message, "start_run"));
  g_assert_nonnull(strstr(error->message, fx->path));
  g_clear_error(&error);
  g_assert_false(k->log_param(fx->tracker, "ghost", "a", "b", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(k->set_tag(fx->tracker, "ghost", "a", "b", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(k->end_run(fx->tracker, "ghost", "failed", 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(k->start_run(fx->tracker, "", NULL, 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "run id"));
  g_clear_error(&error);
  g_assert_false(k->start_run(fx->tracker, NULL, NULL, 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  start(fx, "r");
  g_assert_false(k->log_metric(fx->tracker, "r", NULL, 1.0, 0, 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(k->log_param(fx->tracker, "r", "k", NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(k->set_tag(fx->tracker, "r", "k", NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  /* None of that left a row behind. */
  close_tracker(fx);
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM runs"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM "
                           "params) + (SELECT count(*) FROM tags)"), ==, 0);
  sqlite3_close(db);
}

static void test_many_metrics(Fixture *fx, gconstpointer data) {
  const int n = 10000;
  start(fx, "r");
  g_autoptr(GTimer) timer = g_timer_new();
  for (int i = 0; i < n; i++)
    metric(fx, "r", "loss", 1.0 / (i + 1), i, 1000 + i);
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->end_run(fx->tracker, "r", "succeeded", 99, &error));
  g_assert_no_error(error);
  double secs = g_timer_elapsed(timer, NULL);
  g_test_message("logged %d metric points and ended the run in %.3f s (%.1f us/point)", n,
                 secs, secs * 1e6 / n);
  g_printerr("tracker-sqlite: %d metric points in %.3f s\n", n, secs);
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics"), ==, n);
  g_assert_cmpint(qint(db, "SELECT count(DISTINCT step) FROM metrics"), ==, n);
  g_assert_cmpint(qint(db, "SELECT step FROM latest_metrics WHERE key = 'loss'"), ==, n - 1);
  sqlite3_close(db);
}

typedef struct {
  const char *path;
  gint stop;
  guint snapshots;
  guint violations;
  gint64 max_seen;
} Reader;

/* Reads in snapshots while the writer logs: within one read transaction the
 * history and latest_metrics must agree, and nothing may go backwards. */
static gpointer reader_main(gpointer data) {
  Reader *r = data;
  sqlite3 *db = reader(r->path);
  gint64 last = 0;
  while (!g_atomic_int_get(&r->stop)) {
    g_assert_cmpint(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
    gint64 count = qint(db, "SELECT count(*) FROM metrics WHERE key = 'a'");
    gint64 count_b = qint(db, "SELECT count(*) FROM metrics WHERE key = 'b'");
    gint64 latest = qint(db, "SELECT step FROM latest_metrics WHERE key = 'a'");
    gint64 max_step = qint(db, "SELECT max(step) FROM metrics WHERE key = 'a'");
    g_assert_cmpint(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
    /* Steps are logged in order, a then b; a commit may split a pair. */
    if ((count > 0 && (latest != count - 1 || max_step != count - 1)) ||
        (count == 0 && latest != -1) || count < last || count_b > count ||
        count_b < count - 1)
      r->violations++;
    last = count;
    r->snapshots++;
    r->max_seen = MAX(r->max_seen, count);
  }
  sqlite3_close(db);
  return NULL;
}

static void test_concurrent_reader(Fixture *fx, gconstpointer data) {
  const int n = 20000;
  start(fx, "r");
  Reader r = {.path = fx->path};
  GThread *th = g_thread_new("reader", reader_main, &r);
  for (int i = 0; i < n; i++) {
    metric(fx, "r", "a", i, i, i);
    metric(fx, "r", "b", i, i, i);
  }
  /* Without end_run or close, an idle batch still becomes visible. */
  sqlite3 *db = reader(fx->path);
  gint64 seen = 0;
  for (int i = 0; i < 100 && seen != n; i++) {
    g_usleep(50 * 1000);
    seen = qint(db, "SELECT count(*) FROM metrics WHERE key = 'b'");
  }
  g_assert_cmpint(seen, ==, n);
  g_atomic_int_set(&r.stop, 1);
  g_thread_join(th);
  g_test_message("reader took %u snapshots, saw up to %" G_GINT64_FORMAT " points",
                 r.snapshots, r.max_seen);
  g_assert_cmpuint(r.snapshots, >, 0);
  g_assert_cmpuint(r.violations, ==, 0);
  sqlite3_close(db);
}

/* A writer in another connection is not locked out for the life of a run:
 * the tracker's open batch is committed once it goes idle. */
static void test_other_writer(Fixture *fx, gconstpointer data) {
  start(fx, "r");
  metric(fx, "r", "loss", 1, 0, 0);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(fx->path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char *err = NULL;
  int rc = sqlite3_exec(db, "INSERT INTO tags VALUES('r', 'from', 'elsewhere')", NULL, NULL,
                        &err);
  g_assert_cmpstr(err, ==, NULL);
  g_assert_cmpint(rc, ==, SQLITE_OK);
  sqlite3_close(db);
  metric(fx, "r", "loss", 0.5, 1, 1);
  close_tracker(fx);
  db = reader(fx->path);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics"), ==, 2);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM tags"), ==, 1);
  sqlite3_close(db);
}

static void expect_open_error(Fixture *fx, const char *params, const char *needle1,
                              const char *needle2) {
  g_autoptr(GError) error = NULL;
  gpointer t = open_with(fx, params, &error);
  g_assert_null(t);
  g_assert_nonnull(error);
  g_test_message("refused as expected: %s", error->message);
  if (!strstr(error->message, needle1) || (needle2 && !strstr(error->message, needle2)))
    g_error("unexpected message: %s", error->message);
}

static void test_refused_files(Fixture *fx, gconstpointer data) {
  close_tracker(fx);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(fx->path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==,
                  SQLITE_OK);
  sqlite3_close(db);
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", fx->path);
  expect_open_error(fx, params, "newer", fx->path);

  g_autofree char *foreign = g_build_filename(fx->dir, "other.db", NULL);
  g_assert_cmpint(sqlite3_open(foreign, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE x(y)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_autofree char *p2 = g_strdup_printf("{\"path\": \"%s\"}", foreign);
  expect_open_error(fx, p2, "did not create", foreign);

  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  g_assert_true(g_file_set_contents(junk, "this is not a database, not at all. padding "
                                          "padding padding padding padding padding",
                                    -1, NULL));
  g_autofree char *p3 = g_strdup_printf("{\"path\": \"%s\"}", junk);
  expect_open_error(fx, p3, junk, NULL);

  /* A folder cannot be created under a regular file. */
  g_autofree char *under = g_build_filename(junk, "x", "t.db", NULL);
  g_autofree char *p4 = g_strdup_printf("{\"path\": \"%s\"}", under);
  expect_open_error(fx, p4, under, NULL);

  g_autofree char *p5 = g_strdup_printf("{\"path\": \"%s\", \"experiment\": \"\"}", fx->path);
  expect_open_error(fx, p5, "experiment", NULL);
}

/* ABI 1.7: a batch applies whole, is durable when log_batch returns, and
 * applying it again (its answer was lost) leaves what once does. */
static void test_batch(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_autofree char *own = klass()->start_run_full(fx->tracker, "r", "a run", NULL, 1000, &error);
  g_assert_no_error(error);
  g_assert_null(own); /* Lathe's run ids are tracker/sqlite's */
  char *child = klass()->start_run_full(fx->tracker, "r-t-0", "t/0", "r", 1001, &error);
  g_assert_no_error(error);
  g_assert_null(child);
  LatheTrackerItem params[] = {{"model.l2", "0.1"}, {"model.path", ""}};
  LatheTrackerMetric metrics[] = {{"model.loss", 0.5, 1, 2000},
                                  {"model.loss", 0.25, 2, 2001},
                                  {"model.loss", NAN, 3, 2002},
                                  {"eval.acc", 0.9, 0, 2003}};
  LatheTrackerItem tags[] = {{"lathe.seed", "7"}};
  LatheTrackerBatch b = {params, 2, metrics, 4, tags, 1};
  g_assert_true(klass()->log_batch(fx->tracker, "r", &b, &error));
  g_assert_no_error(error);
  /* Durable at once: another connection sees it while the tracker is open. */
  sqlite3 *db = reader(fx->path);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE run_uuid = 'r'"), ==, 4);
  g_assert_true(klass()->log_batch(fx->tracker, "r", &b, &error));
  g_assert_no_error(error);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE run_uuid = 'r'"), ==, 4);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM params WHERE run_uuid = 'r'"), ==, 2);
  g_assert_cmpint(qint(db, "SELECT is_nan FROM metrics WHERE step = 3"), ==, 1);
  g_assert_cmpint(qint(db, "SELECT step FROM latest_metrics WHERE key = 'model.loss'"), ==, 3);
  g_autofree char *parent = qtext(db, "SELECT value FROM tags WHERE run_uuid = 'r-t-0' AND"
                                      " key = 'mlflow.parentRunId'");
  g_assert_cmpstr(parent, ==, "r");
  /* A batch with a refused item applies nothing of it. */
  LatheTrackerItem clash[] = {{"model.l2", "0.2"}};
  LatheTrackerMetric more[] = {{"model.loss", 0.1, 4, 2004}};
  LatheTrackerBatch bad = {clash, 1, more, 1, NULL, 0};
  g_assert_false(klass()->log_batch(fx->tracker, "r", &bad, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_cmpint(qint(db, "SELECT count(*) FROM metrics WHERE step = 4"), ==, 0);
  /* Inputs and artifacts: as tags. */
  LatheTrackerInput in[] = {{"data", "/d/iris.csv", "abc"}};
  g_assert_true(klass()->log_inputs(fx->tracker, "r", in, 1, &error));
  g_autoptr(GBytes) bytes = g_bytes_new_static("{}", 2);
  g_assert_true(klass()->log_artifact(fx->tracker, "r", "metrics.json", NULL, bytes, &error));
  g_assert_no_error(error);
  close_tracker(fx);
  g_autofree char *input = qtext(db, "SELECT value FROM tags WHERE key = 'lathe.input.data.0'");
  g_assert_cmpstr(input, ==, "/d/iris.csv@abc");
  g_assert_cmpint(qint(db, "SELECT count(*) FROM tags WHERE key = 'lathe.artifact.metrics.json'"),
                  ==, 1);
  sqlite3_close(db);
  g_free(child);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/tracker-sqlite/" name, Fixture, NULL, setup, fn, teardown)
  ADD("schema", test_schema);
  ADD("default-and-relative-path", test_default_and_relative_path);
  ADD("reopen", test_reopen);
  ADD("every-call", test_every_call);
  ADD("restart-run", test_restart_run);
  ADD("status-mapping", test_status_mapping);
  ADD("param-immutable", test_param_immutable);
  ADD("latest-metrics", test_latest_metrics);
  ADD("bad-calls", test_bad_calls);
  ADD("many-metrics", test_many_metrics);
  ADD("concurrent-reader", test_concurrent_reader);
  ADD("other-writer", test_other_writer);
  ADD("refused-files", test_refused_files);
  ADD("batch", test_batch);
  return g_test_run();
}
