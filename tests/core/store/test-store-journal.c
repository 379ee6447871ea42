/* The tracker journal (store-journal.h): rows written inside the store's own
 * operations, read oldest first, marked once, counted per run; the tracker's
 * run ids; replay of a stored run; NaN and infinities through JSON. */
#include <math.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "test-util.h"

static const char *const streams[] = {"tracker/a", "tracker/b", NULL};

static JsonObject *obj(const char *json) {
  g_autoptr(JsonNode) n = json_from_string(json, NULL);
  g_assert_nonnull(n);
  return json_object_ref(json_node_get_object(n));
}

static gint64 count(GPtrArray *rows, const char *kind) {
  gint64 n = 0;
  for (guint i = 0; i < rows->len; i++)
    n += g_str_equal(((LatheJournalRow *)rows->pdata[i])->kind, kind);
  return n;
}

static void test_journal(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("lathe-journal-XXXXXX", NULL);
  g_autofree char *sdir = g_build_filename(dir, "store", NULL);
  LatheStore *s = lathe_store_open(sdir, &error);
  g_assert_no_error(error);

  /* The run's start: its rows get the new run's id. */
  g_autoptr(LatheJournal) start = lathe_journal_new(streams);
  lathe_journal_add(start, NULL, LATHE_JOURNAL_START, obj("{\"name\": \"p\", \"start_ms\": 5}"));
  g_autofree char *run = lathe_store_begin_run_journal(s, "p", "/p.json", "{}", 1, start, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) a = lathe_store_journal_pending(s, "tracker/a", NULL, 0, 100);
  g_assert_cmpuint(a->len, ==, 1);
  g_assert_cmpstr(((LatheJournalRow *)a->pdata[0])->run_id, ==, run);

  /* A node's values, with its execution row. */
  g_autoptr(LatheJournal) node = lathe_journal_new(streams);
  JsonObject *pts = json_object_new();
  JsonArray *arr = json_array_new();
  JsonObject *pt = json_object_new();
  json_object_set_string_member(pt, "key", "m.loss");
  json_object_set_member(pt, "value", lathe_journal_number(NAN));
  json_array_add_object_element(arr, pt);
  JsonObject *pt2 = json_object_new();
  json_object_set_string_member(pt2, "key", "m.big");
  json_object_set_member(pt2, "value", lathe_journal_number(-INFINITY));
  json_array_add_object_element(arr, pt2);
  json_object_set_array_member(pts, "points", arr);
  lathe_journal_add(node, run, LATHE_JOURNAL_METRICS, pts);
  g_autofree char *trial = g_strdup_printf("%s-tune-0", run);
  lathe_journal_add(node, trial, LATHE_JOURNAL_PARAMS, obj("{\"items\": {\"f.x\": \"1\"}}"));
  LatheExecIdentity who = {.run_id = run, .node = "m", .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "d"};
  LatheExecRecord rec = {.status = "succeeded", .started = 1, .ended = 2, .journal = node};
  g_assert_true(lathe_store_finish_execution(s, -1, &who, NULL, &rec, &error));
  g_assert_no_error(error);

  g_autoptr(GPtrArray) b = lathe_store_journal_pending(s, "tracker/b", NULL, 0, 100);
  g_assert_cmpuint(b->len, ==, 3);
  g_assert_cmpint(count(b, "metrics"), ==, 1);
  LatheJournalRow *m = b->pdata[1];
  g_assert_true(((LatheJournalRow *)b->pdata[0])->id < m->id); /* oldest first */
  JsonArray *got = json_object_get_array_member(m->payload, "points");
  g_assert_true(isnan(lathe_journal_number_get(
      json_object_get_member(json_array_get_object_element(got, 0), "value"))));
  g_assert_true(isinf(lathe_journal_number_get(
      json_object_get_member(json_array_get_object_element(got, 1), "value"))));
  /* A run's rows include its trials'; the limit holds. */
  g_autoptr(GPtrArray) mine = lathe_store_journal_pending(s, "tracker/b", run, 0, 100);
  g_assert_cmpuint(mine->len, ==, 3);
  g_autoptr(GPtrArray) one = lathe_store_journal_pending(s, "tracker/b", NULL, 0, 1);
  g_assert_cmpuint(one->len, ==, 1);

  /* Marks: acked once and for good; a try counts without a state. */
  gint64 ids[] = {((LatheJournalRow *)b->pdata[0])->id, m->id};
  g_assert_true(lathe_store_journal_mark(s, ids, 1, NULL, &error));
  g_assert_true(lathe_store_journal_mark(s, ids, 1, "acked", &error));
  g_assert_true(lathe_store_journal_mark(s, ids + 1, 1, "refused", &error));
  g_assert_true(lathe_store_journal_mark(s, ids, 1, "refused", &error)); /* stays acked */
  g_assert_no_error(error);
  g_assert_cmpint(lathe_store_journal_count_pending(s, "tracker/b", NULL), ==, 1);
  g_assert_cmpint(lathe_store_journal_count_pending(s, "tracker/a", run), ==, 3);
  g_autoptr(JsonArray) st = lathe_store_journal_status(s, run, &error);
  g_assert_no_error(error);
  gint64 acked = 0, refused = 0, pending = 0;
  for (guint i = 0; i < json_array_get_length(st); i++) {
    JsonObject *o = json_array_get_object_element(st, i);
    acked += json_object_get_int_member(o, "acked");
    refused += json_object_get_int_member(o, "refused");
    pending += json_object_get_int_member(o, "pending");
  }
  g_assert_cmpint(acked, ==, 1);
  g_assert_cmpint(refused, ==, 1);
  g_assert_cmpint(pending, ==, 4);
  g_assert_null(lathe_store_journal_status(s, "zzzz", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_auto(GStrv) trackers = lathe_store_journal_trackers(s);
  g_assert_cmpuint(g_strv_length(trackers), ==, 2);

  /* The tracker's own run ids, and its settings. */
  g_assert_null(lathe_store_tracker_run(s, run, "tracker/a"));
  g_assert_true(lathe_store_set_tracker_run(s, run, "tracker/a", "abc123", &error));
  g_autofree char *own = lathe_store_tracker_run(s, run, "tracker/a");
  g_assert_cmpstr(own, ==, "abc123");
  g_assert_true(lathe_store_set_tracker_settings(s, run, "tracker/a", "{\"with\": {}}", &error));
  g_assert_true(lathe_store_set_tracker_settings(s, run, "tracker/a", "{\"with\": 1}", &error));
  g_autofree char *set = lathe_store_tracker_settings(s, "tracker/a");
  g_assert_cmpstr(set, ==, "{\"with\": 1}"); /* the latest */

  /* Replay: a run the tracker never got is journaled whole, once. */
  g_assert_true(lathe_store_end_run(s, run, "succeeded", &error));
  gboolean already = TRUE;
  g_assert_true(lathe_store_journal_replay(s, run, "tracker/c", &already, &error));
  g_assert_no_error(error);
  g_assert_false(already);
  g_autoptr(GPtrArray) c = lathe_store_journal_pending(s, "tracker/c", NULL, 0, 100);
  g_assert_cmpint(count(c, "start"), ==, 1);
  g_assert_cmpint(count(c, "end"), ==, 1);
  g_assert_cmpint(count(c, "metrics"), ==, 1);
  g_assert_true(lathe_store_journal_replay(s, run, "tracker/c", &already, &error));
  g_assert_true(already);
  g_assert_false(lathe_store_journal_replay(s, "nosuch", "tracker/c", &already, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* Reports go many to an operation, a chunk per series, in order, with a
 * journal event naming the chunks that the shipper reads back as points
 * (NaN and infinities included); a report of no execution row still reaches
 * the journal. A big journal is read in bounded rounds, never less than one
 * row. */
static void test_reports(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("lathe-reports-XXXXXX", NULL);
  g_autofree char *sdir = g_build_filename(dir, "store", NULL);
  LatheStore *s = lathe_store_open(sdir, &error);
  g_assert_no_error(error);
  g_autofree char *run = lathe_store_begin_run_journal(s, "p", "/p.json", "{}", 1, NULL, &error);
  g_assert_no_error(error);
  LatheExecIdentity who = {.run_id = run, .node = "f", .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "d"};
  gint64 ex = lathe_store_begin_execution(s, &who, 1, &error);
  g_assert_no_error(error);
  static const guint sizes[] = {0, 1, 63, 130};
  const char *loss = "loss", *acc = "acc", *kl = "f.loss", *ka = "f.acc";
  guint total = 0;
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    g_autofree LatheStoreReport *r = g_new0(LatheStoreReport, 2 * sizes[k] + 1);
    for (guint i = 0; i < sizes[k]; i++) {
      r[2 * i] = (LatheStoreReport){ex, loss, (double)(total + i) / 7.0, total + i, 2.5, run, kl};
      r[2 * i + 1] = (LatheStoreReport){ex, acc, -(double)i, i, 2.5, run, ka};
    }
    g_autoptr(LatheJournal) j = lathe_journal_new(streams);
    g_assert_true(lathe_store_add_reports(s, r, 2 * sizes[k], j, &error));
    g_assert_no_error(error);
    total += sizes[k];
  }
  /* Non-finite values, and a report of no execution row. */
  const char *odd = "odd", *ko = "f.odd", *kn = "x.orphan";
  LatheStoreReport nf[] = {{ex, odd, NAN, 0, 3.0, run, ko}, {ex, odd, INFINITY, 1, 3.0, run, ko},
                           {ex, odd, -INFINITY, 2, 3.0, run, ko}, {-1, odd, 1.5, 0, 3.0, run, kn}};
  g_autoptr(LatheJournal) jn = lathe_journal_new(streams);
  g_assert_true(lathe_store_add_reports(s, nf, G_N_ELEMENTS(nf), jn, &error));

  g_autoptr(GArray) steps = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) vals = lathe_store_reports(s, run, "f", "loss", steps);
  g_assert_cmpuint(vals->len, ==, total);
  for (guint i = 0; i < total; i++) {
    g_assert_cmpuint(g_array_index(steps, guint, i), ==, i);
    g_assert_cmpfloat(g_array_index(vals, double, i), ==, (double)i / 7.0);
  }
  g_autoptr(GArray) osteps = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) ovals = lathe_store_reports(s, run, "f", "odd", osteps);
  g_assert_cmpuint(ovals->len, ==, 3);
  g_assert_true(isnan(g_array_index(ovals, double, 0)));
  g_assert_cmpfloat(g_array_index(ovals, double, 1), ==, INFINITY);
  g_assert_cmpfloat(g_array_index(ovals, double, 2), ==, -INFINITY);

  /* The journal: one event per write, read back as points, in order. */
  g_autoptr(GPtrArray) rows = lathe_store_journal_pending(s, "tracker/a", NULL, 0, 100);
  g_assert_cmpuint(rows->len, ==, G_N_ELEMENTS(sizes) - 1 + 1);
  guint seen_loss = 0, seen_acc = 0;
  for (guint r = 0; r + 1 < rows->len; r++) {
    JsonArray *pts = json_object_get_array_member(((LatheJournalRow *)rows->pdata[r])->payload, "points");
    g_assert_nonnull(pts);
    for (guint i = 0; i < json_array_get_length(pts); i++) {
      JsonObject *p = json_array_get_object_element(pts, i);
      double v = lathe_journal_number_get(json_object_get_member(p, "value"));
      if (g_str_equal(json_object_get_string_member(p, "key"), "f.loss")) {
        g_assert_cmpint(json_object_get_int_member(p, "step"), ==, seen_loss);
        g_assert_cmpfloat(v, ==, (double)seen_loss / 7.0);
        g_assert_cmpint(json_object_get_int_member(p, "ts"), ==, 2500);
        seen_loss++;
      } else {
        g_assert_cmpstr(json_object_get_string_member(p, "key"), ==, "f.acc");
        seen_acc++;
      }
    }
  }
  g_assert_cmpuint(seen_loss, ==, total);
  g_assert_cmpuint(seen_acc, ==, total);
  JsonArray *last = json_object_get_array_member(((LatheJournalRow *)rows->pdata[rows->len - 1])->payload, "points");
  g_assert_cmpuint(json_array_get_length(last), ==, 4);
  g_assert_true(isnan(lathe_journal_number_get(json_object_get_member(json_array_get_object_element(last, 0), "value"))));
  g_assert_cmpfloat(lathe_journal_number_get(json_object_get_member(json_array_get_object_element(last, 1), "value")), ==, INFINITY);
  g_assert_cmpfloat(lathe_journal_number_get(json_object_get_member(json_array_get_object_element(last, 2), "value")), ==, -INFINITY);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(last, 3), "key"), ==, "x.orphan");

  /* Rows of a megabyte each: two to a round, then the rest. */
  g_autofree char *pad = g_strnfill(1024 * 1024, 'x');
  g_autoptr(LatheJournal) bj = lathe_journal_new((const char *const[]){"tracker/big", NULL});
  for (guint i = 0; i < 3; i++) {
    JsonObject *o = json_object_new();
    json_object_set_array_member(o, "points", json_array_new());
    json_object_set_string_member(o, "pad", pad);
    lathe_journal_add(bj, run, LATHE_JOURNAL_METRICS, o);
  }
  g_assert_true(lathe_store_journal_append(s, bj, &error));
  g_autoptr(GPtrArray) b1 = lathe_store_journal_pending(s, "tracker/big", NULL, 0, 100);
  g_assert_cmpuint(b1->len, ==, 2);
  g_autoptr(GPtrArray) b2 = lathe_store_journal_pending(s, "tracker/big", NULL,
                                                        ((LatheJournalRow *)b1->pdata[1])->id, 100);
  g_assert_cmpuint(b2->len, ==, 1);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* A schema-3 store kept its reports as rows of metrics (with a step): on
 * open it gains report_chunks, and every reader gives the old rows first,
 * then the new chunks: study curves, `lathe runs show`, and a replay. */
static void test_reports_schema3(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("lathe-reports3-XXXXXX", NULL);
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  LatheExecIdentity who = {.run_id = run, .node = "tune/0/f", .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "d"};
  gint64 ex = lathe_store_begin_execution(s, &who, 1, &error);
  g_assert_no_error(error);
  lathe_store_close(s);
  sqlite3 *db;
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_autofree char *sql = g_strdup_printf(
      "DROP TABLE report_chunks; PRAGMA user_version = 3;"
      " INSERT INTO metrics(execution_id, name, value, step, ts) VALUES"
      " (%" G_GINT64_FORMAT ", 'loss', 0.5, 0, 10.0), (%" G_GINT64_FORMAT ", 'loss', NULL, 1, 11.0)",
      ex, ex);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  LatheStoreReport r[] = {{ex, "loss", 0.25, 2, 12.0, NULL, NULL}};
  g_assert_true(lathe_store_add_reports(s, r, 1, NULL, &error));
  g_autoptr(GArray) steps = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) vals = lathe_store_reports(s, run, "tune/0/f", "loss", steps);
  g_assert_cmpuint(vals->len, ==, 3);
  g_assert_cmpfloat(g_array_index(vals, double, 0), ==, 0.5);
  g_assert_true(isnan(g_array_index(vals, double, 1)));
  g_assert_cmpfloat(g_array_index(vals, double, 2), ==, 0.25);
  g_autoptr(JsonObject) tr = lathe_store_trial_reports(s, run, "tune/0/");
  JsonArray *curve = json_object_get_array_member(tr, "f.loss");
  g_assert_nonnull(curve);
  g_assert_cmpuint(json_array_get_length(curve), ==, 3);
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  g_assert_no_error(error);
  JsonObject *exec = json_array_get_object_element(json_object_get_array_member(shown, "nodes"), 0);
  JsonArray *hist = json_object_get_array_member(exec, "reports");
  g_assert_cmpuint(json_array_get_length(hist), ==, 3);
  g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(hist, 2), "step"), ==, 2);
  g_assert_true(json_object_get_null_member(json_array_get_object_element(hist, 1), "value"));
  /* Replayed for a tracker: the three points under the trial's key. */
  g_assert_true(lathe_store_end_run(s, run, "succeeded", &error));
  gboolean already = TRUE;
  g_assert_true(lathe_store_journal_replay(s, run, "tracker/r", &already, &error));
  g_autoptr(GPtrArray) rows = lathe_store_journal_pending(s, "tracker/r", NULL, 0, 100);
  guint points = 0;
  for (guint i = 0; i < rows->len; i++) {
    LatheJournalRow *row = rows->pdata[i];
    JsonArray *pts = g_str_equal(row->kind, "metrics")
                         ? json_object_get_array_member(row->payload, "points") : NULL;
    for (guint k = 0; pts && k < json_array_get_length(pts); k++)
      points += g_str_equal(json_object_get_string_member(json_array_get_object_element(pts, k), "key"),
                            "f.loss");
  }
  g_assert_cmpuint(points, ==, 3);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store-journal/journal", test_journal);
  g_test_add_func("/store-journal/reports", test_reports);
  g_test_add_func("/store-journal/reports-schema3", test_reports_schema3);
  return g_test_run();
}
