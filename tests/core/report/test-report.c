/* core/report: every store string is escaped; the downsampler keeps each
 * pixel column's min and max (so a spike survives), drops NaN, and leaves a
 * short series alone. */
#include <math.h>

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
  g_autoptr(GArray) k = lathe_report_downsample(x, y, n, 400);
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
  g_autoptr(GArray) s = lathe_report_downsample(sx, sy, 4, 400);
  g_assert_cmpuint(s->len, ==, 3);
  double nx[] = {0, 1}, ny[] = {NAN, NAN};
  g_autoptr(GArray) none = lathe_report_downsample(nx, ny, 2, 400);
  g_assert_cmpuint(none->len, ==, 0);
}

static void test_is_trial(void) {
  g_assert_true(lathe_report_is_trial("tune/3/model"));
  g_assert_false(lathe_report_is_trial("<script>alert(1)</script>"));
  g_assert_false(lathe_report_is_trial("tune"));
  g_assert_false(lathe_report_is_trial("a/b/c"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/report/escape", test_escape);
  g_test_add_func("/report/number", test_number);
  g_test_add_func("/report/downsample", test_downsample);
  g_test_add_func("/report/is-trial", test_is_trial);
  return g_test_run();
}
