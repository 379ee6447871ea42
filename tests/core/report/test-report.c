/* core/report: every store string is escaped; the downsampler keeps each
 * pixel column's min and max (so a spike survives), drops NaN, and leaves a
 * short series alone; the timeline has a lane per worker. */
#include <math.h>
#include <string.h>

#include "report/report-private.h"

static void test_escape(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  lathe_report_escape(s, "<script>alert('x') & \"y\"</script>");
  g_assert_cmpstr(s->str, ==, "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  g_string_truncate(s, 0);
  lathe_report_escape(s, NULL);
  lathe_report_escape(s, "naïve ü");
  g_assert_cmpstr(s->str, ==, "naïve ü");
}

static void test_number(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  lathe_report_number(s, NAN);
  g_string_append_c(s, ' ');
  lathe_report_number(s, INFINITY);
  g_string_append_c(s, ' ');
  lathe_report_number(s, 0.123456);
  g_assert_cmpstr(s->str, ==, "NaN inf 0.1235");
}

static void test_downsample(void) {
  guint n = 100000;
  g_autofree double *x = g_new(double, n), *y = g_new(double, n);
  for (guint i = 0; i < n; i++)
    x[i] = i, y[i] = sin(i / 1000.0);
  y[54321] = 50;  /* a spike */
  y[60000] = NAN; /* a gap */
  g_autoptr(GArray) k = lathe_downsample_minmax(x, y, n, 400);
  g_assert_cmpuint(k->len, <=, 800);
  g_assert_cmpuint(k->len, >=, 400);
  gboolean spike = FALSE;
  for (guint i = 0; i < k->len; i++) {
    guint j = g_array_index(k, guint, i);
    g_assert_false(isnan(y[j]));
    if (i)
      g_assert_cmpuint(j, >, g_array_index(k, guint, i - 1));
    spike |= j == 54321;
  }
  g_assert_true(spike);
  double sx[] = {0, 1, 2, 3}, sy[] = {1, NAN, 3, 4};
  g_autoptr(GArray) s = lathe_downsample_minmax(sx, sy, 4, 400);
  g_assert_cmpuint(s->len, ==, 3);
  double nx[] = {0, 1}, ny[] = {NAN, NAN};
  g_autoptr(GArray) none = lathe_downsample_minmax(nx, ny, 2, 400);
  g_assert_cmpuint(none->len, ==, 0);
}

static void test_is_trial(void) {
  g_assert_true(lathe_report_is_trial("tune/3/model"));
  g_assert_false(lathe_report_is_trial("<script>alert(1)</script>"));
  g_assert_false(lathe_report_is_trial("tune"));
  g_assert_false(lathe_report_is_trial("a/b/c"));
}

/* The timeline's lanes (issue 16): a lane per worker, in natural order
 * ("thread 2" before "thread 10"), a worker's name escaped, a last "none"
 * lane for an execution no worker ran; without any worker, lanes packed
 * by start time, unlabelled. */
static guint count_of(const char *hay, const char *needle) {
  guint n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void test_timeline_lanes(void) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p,
      "{\"nodes\": ["
      "{\"id\": \"a\", \"status\": \"succeeded\", \"started\": 0, \"ended\": 2, \"worker\": \"thread 10\"},"
      "{\"id\": \"b\", \"status\": \"succeeded\", \"started\": 0, \"ended\": 1, \"worker\": \"thread 2\"},"
      "{\"id\": \"c\", \"status\": \"succeeded\", \"started\": 1, \"ended\": 2, \"worker\": \"thread 2\"},"
      "{\"id\": \"d\", \"status\": \"skipped\", \"started\": 2, \"ended\": 2, \"worker\": null},"
      "{\"id\": \"e\", \"status\": \"succeeded\", \"started\": 0, \"ended\": 1, \"worker\": \"<w>\"}]}",
      -1, NULL));
  JsonObject *run = json_node_get_object(json_parser_get_root(p));
  g_autoptr(JsonObject) pipeline = json_object_new();
  g_autoptr(GString) out = g_string_new(NULL);
  lathe_report_timeline(out, pipeline, run);
  const char *two = strstr(out->str, ">thread 2</text>"), *ten = strstr(out->str, ">thread 10</text>");
  const char *w = strstr(out->str, ">&lt;w&gt;</text>"), *none = strstr(out->str, ">none</text>");
  g_assert_true(two && ten && w && none);
  g_assert_true(w < two && two < ten && ten < none);
  g_assert_cmpuint(count_of(out->str, "<text class=\"lane\""), ==, 4);
  g_assert_nonnull(strstr(out->str, "a lane per worker"));
  g_assert_null(strstr(out->str, "<w>"));
  /* b and c share thread 2's lane (the 2nd, y = 10 + 16), a alone on the 3rd */
  g_assert_cmpuint(count_of(out->str, "y=\"26\" width"), ==, 2);
  g_assert_cmpuint(count_of(out->str, "y=\"42\" width"), ==, 1);

  g_autoptr(JsonParser) q = json_parser_new();
  g_assert_true(json_parser_load_from_data(q,
      "{\"nodes\": [{\"id\": \"a\", \"status\": \"succeeded\", \"started\": 0, \"ended\": 2},"
      "{\"id\": \"b\", \"status\": \"succeeded\", \"started\": 0, \"ended\": 1},"
      "{\"id\": \"c\", \"status\": \"succeeded\", \"started\": 1, \"ended\": 2}]}", -1, NULL));
  g_autoptr(GString) packed = g_string_new(NULL);
  lathe_report_timeline(packed, pipeline, json_node_get_object(json_parser_get_root(q)));
  g_assert_cmpuint(count_of(packed->str, "<text class=\"lane\""), ==, 0);
  g_assert_nonnull(strstr(packed->str, "lanes by greedy packing"));
  g_assert_cmpuint(count_of(packed->str, "y=\"26\" width"), ==, 2); /* b, then c, in lane 2 */
}

/* A run in a scratch store: a whole document in a file, a fragment with
 * links in the UI, NOT_FOUND for an unknown run. */
static void test_render(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-report-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *rw = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  const char *pipe = "{\"name\": \"t<b>\", \"nodes\": [{\"id\": \"a\", \"use\": \"transform/noop\"}]}";
  g_autofree char *id = lathe_store_begin_run(rw, "t<b>", "p.json", pipe, 1, &error);
  g_assert_no_error(error);
  g_assert_true(lathe_store_end_run(rw, id, "succeeded", &error));
  lathe_store_close(rw);
  LatheStore *ro = lathe_store_open_readonly(dir, &error);
  g_assert_no_error(error);
  const char *ids[] = {id, NULL};
  g_autoptr(GString) doc = g_string_new(NULL);
  g_assert_true(lathe_report_render(ro, ids, 1, NULL, doc, &error));
  g_assert_true(g_str_has_prefix(doc->str, "<!DOCTYPE html>"));
  g_assert_nonnull(strstr(doc->str, "t&lt;b&gt;"));
  g_assert_null(strstr(doc->str, "href="));
  g_assert_nonnull(strstr(doc->str, "no metrics"));
  LatheReportOptions o = {.fragment = TRUE, .link_prefix = "/"};
  g_autoptr(GString) frag = g_string_new(NULL);
  g_assert_true(lathe_report_render(ro, ids, 1, &o, frag, &error));
  g_assert_null(strstr(frag->str, "<html"));
  g_assert_null(strstr(frag->str, "<style"));
  g_autofree char *href = g_strdup_printf("href=\"/runs/%s\"", id);
  g_assert_nonnull(strstr(frag->str, href));
  const char *two[] = {id, id};
  g_autoptr(GString) cmp = g_string_new(NULL);
  g_assert_true(lathe_report_render(ro, two, 2, &o, cmp, &error));
  g_autofree char *chref = g_strdup_printf("href=\"/compare?runs=%s,%s\"", id, id);
  g_assert_nonnull(strstr(cmp->str, chref));
  const char *bad[] = {"nosuchrun"};
  g_autoptr(GString) none = g_string_new(NULL);
  g_assert_false(lathe_report_render(ro, bad, 1, NULL, none, &error));
  g_assert_error(error, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "nosuchrun"));
  lathe_store_close(ro);
  lathe_store_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/report/escape", test_escape);
  g_test_add_func("/report/number", test_number);
  g_test_add_func("/report/downsample", test_downsample);
  g_test_add_func("/report/is-trial", test_is_trial);
  g_test_add_func("/report/render", test_render);
  g_test_add_func("/report/timeline-lanes", test_timeline_lanes);
  return g_test_run();
}
