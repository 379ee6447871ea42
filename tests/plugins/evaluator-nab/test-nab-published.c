/* evaluator/nab's scorer against NAB's own numbers: a NAB detector's
 * published anomaly scores (nab-published/, see its README), scored at NAB's
 * threshold for each profile, must give the per-file score NAB published.
 * The tests elsewhere compare the scorer with our own reimplementations;
 * this one ties it to NAB. Needs ../shared/data (timestamps and windows). */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "nab-internal.h"
#include "test-util.h"

static void check_fixture(const char *fixture, JsonObject *windows) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) err = NULL;
  g_assert_true(json_parser_load_from_file(parser, fixture, &err));
  JsonObject *fx = json_node_get_object(json_parser_get_root(parser));
  const char *file = json_object_get_string_member(fx, "file");
  g_autofree char *in_nab = g_build_filename("nab", "data", file, NULL);
  g_autofree char *in_more = g_build_filename("nab-more", "data", file, NULL);
  g_autofree char *csv = lathe_test_shared_path(in_nab);
  if (!csv)
    csv = lathe_test_shared_path(in_more);
  if (!csv) {
    g_test_message("skipped %s: ../shared/data/nab-more is absent", file);
    return;
  }
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(csv, &text, NULL, &err));

  /* timestamps of the data file; scores are 0 except the fixture's rows */
  JsonObject *nonzero = json_object_get_object_member(fx, "nonzero_scores");
  GArray *time = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *score = g_array_new(FALSE, TRUE, sizeof(double));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint matched = 0;
  for (guint i = 1; lines[i]; i++) {
    if (!lines[i][0])
      continue;
    g_auto(GStrv) cells = g_strsplit(lines[i], ",", 2);
    double t;
    g_assert_true(lathe_nab_parse_time(cells[0], &t));
    g_array_append_val(time, t);
    double s = 0.0;
    if (json_object_has_member(nonzero, cells[0])) {
      s = json_object_get_double_member(nonzero, cells[0]);
      matched++;
    }
    g_array_append_val(score, s);
  }
  g_assert_cmpuint(time->len, ==, (guint)json_object_get_int_member(fx, "rows"));
  g_assert_cmpuint(matched, ==, json_object_get_size(nonzero));

  JsonArray *wins = json_object_get_array_member(windows, file);
  const guint nw = json_array_get_length(wins);
  g_autofree guint *left = g_new0(guint, nw + 1);
  g_autofree guint *right = g_new0(guint, nw + 1);
  for (guint w = 0; w < nw; w++) {
    JsonArray *pair = json_array_get_array_element(wins, w);
    double a, b;
    g_assert_true(lathe_nab_parse_time(json_array_get_string_element(pair, 0), &a));
    g_assert_true(lathe_nab_parse_time(json_array_get_string_element(pair, 1), &b));
    left[w] = lathe_nab_locate((const double *)time->data, time->len, a, TRUE);
    right[w] = lathe_nab_locate((const double *)time->data, time->len, b, FALSE);
    g_assert_cmpuint(left[w], <=, right[w]);
    g_assert_cmpuint(right[w], <, time->len);
  }
  LatheNabFile f = {.n = time->len, .score = (const double *)score->data, .n_windows = nw,
                    .win_left = left, .win_right = right, .n_labelled = nw};

  JsonObject *thresholds = json_object_get_object_member(fx, "thresholds");
  JsonObject *expected = json_object_get_object_member(fx, "expected");
  g_autoptr(GList) profiles = json_object_get_members(expected);
  g_assert_nonnull(profiles);
  for (GList *l = profiles; l; l = l->next) {
    const LatheNabProfile *p = lathe_nab_profile(l->data);
    g_assert_nonnull(p);
    LatheNabRows rows;
    lathe_nab_rows_init(&rows, &f, p, 0.15);
    LatheNabResult r = lathe_nab_score_at(&rows, p, json_object_get_double_member(thresholds, l->data));
    lathe_nab_rows_clear(&rows);
    const double want = json_object_get_double_member(expected, l->data);
    g_test_message("%s %s %s: ours %.17g, NAB %.17g (tp %u fp %u fn %u)",
                   json_object_get_string_member(fx, "detector"), file, (const char *)l->data,
                   r.score, want, r.tp, r.fp, r.fn);
    g_assert_cmpfloat(fabs(r.score - want), <=, 1e-6 * fmax(1.0, fabs(want)));
  }
  g_array_unref(time);
  g_array_unref(score);
}

static void test_published(void) {
  g_autofree char *wpath = lathe_test_shared_path("nab/labels/combined_windows.json");
  if (!wpath) {
    g_test_skip("../shared/data/nab is absent; the check against NAB's published scores needs it");
    return;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) err = NULL;
  g_assert_true(json_parser_load_from_file(parser, wpath, &err));
  JsonObject *windows = json_node_get_object(json_parser_get_root(parser));

  g_autoptr(GDir) dir = g_dir_open(NAB_PUBLISHED_DIR, 0, &err);
  g_assert_no_error(err);
  guint n = 0;
  for (const char *name; (name = g_dir_read_name(dir));) {
    if (!g_str_has_suffix(name, ".json"))
      continue;
    g_autofree char *fixture = g_build_filename(NAB_PUBLISHED_DIR, name, NULL);
    check_fixture(fixture, windows);
    n++;
  }
  g_assert_cmpuint(n, >, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nab-published/scores", test_published);
  return g_test_run();
}
