/* The tracker journal (store-journal.h): rows written inside the store's own
 * operations, read oldest first, marked once, counted per run; the tracker's
 * run ids; replay of a stored run; NaN and infinities through JSON. */
#include <math.h>
#include <string.h>

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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store-journal/journal", test_journal);
  return g_test_run();
}
