/* A node's execution settings (issue 15): durations ("600s", "10m",
 * "0.1s"), memory sizes ("2GiB", "512MiB") and the retry policy's delays
 * (Kubeflow's exponential backoff, capped). */
#include <math.h>

#include "graph/graph.h"

static void test_duration(void) {
  static const struct {
    const char *text;
    double seconds;
  } good[] = {{"600s", 600}, {"10m", 600}, {"1.5h", 5400}, {"100ms", 0.1}, {"0.1s", 0.1},
              {"2", 2},      {"0", 0},     {"1d", 86400}};
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    double s = -1;
    g_assert_true(lathe_parse_duration(good[i].text, &s));
    g_assert_cmpfloat_with_epsilon(s, good[i].seconds, 1e-9);
  }
  static const char *const bad[] = {"", "s", "-1s", "10 m", "10x", "1e999s", "nan", "inf", "10mm", NULL};
  for (guint i = 0; bad[i]; i++) {
    double s = 0;
    g_assert_false(lathe_parse_duration(bad[i], &s));
  }
  g_assert_false(lathe_parse_duration(NULL, &(double){0}));
}

static void test_memory(void) {
  static const struct {
    const char *text;
    guint64 mib;
  } good[] = {{"2GiB", 2048}, {"512MiB", 512}, {"2G", 2048}, {"512M", 512}, {"1TiB", 1048576},
              {"4096KiB", 4}, {"1KiB", 1},     {"100", 100}, {"1.5GiB", 1536}};
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    guint64 m = 0;
    g_assert_true(lathe_parse_memory(good[i].text, &m));
    g_assert_cmpuint(m, ==, good[i].mib);
  }
  static const char *const bad[] = {"", "0", "0GiB", "-1GiB", "GiB", "2 GiB", "2gb", "1e30TiB", "lots", NULL};
  for (guint i = 0; bad[i]; i++) {
    guint64 m = 0;
    g_assert_false(lathe_parse_memory(bad[i], &m));
  }
}

static void test_retry_delay(void) {
  LatheRetryPolicy p = {.max = 5, .delay = 30, .factor = 2, .max_delay = 600, .on = LATHE_RETRY_ON_ALL};
  /* attempt 2 is the first retry */
  g_assert_cmpfloat(lathe_retry_delay(&p, 2), ==, 30);
  g_assert_cmpfloat(lathe_retry_delay(&p, 3), ==, 60);
  g_assert_cmpfloat(lathe_retry_delay(&p, 4), ==, 120);
  g_assert_cmpfloat(lathe_retry_delay(&p, 6), ==, 480);
  g_assert_cmpfloat(lathe_retry_delay(&p, 7), ==, 600); /* capped */
  g_assert_cmpfloat(lathe_retry_delay(&p, 1000), ==, 600);
  p.factor = 1;
  g_assert_cmpfloat(lathe_retry_delay(&p, 9), ==, 30);
  p = (LatheRetryPolicy){.delay = 0.1, .factor = 3, .max_delay = 100};
  g_assert_cmpfloat_with_epsilon(lathe_retry_delay(&p, 4), 0.9, 1e-12);
  p.delay = 0;
  g_assert_cmpfloat(lathe_retry_delay(&p, 5), ==, 0);
}

static void test_retry_on(void) {
  g_assert_cmpuint(lathe_retry_on_parse("crash"), ==, LATHE_RETRY_ON_CRASH);
  g_assert_cmpuint(lathe_retry_on_parse("timeout"), ==, LATHE_RETRY_ON_TIMEOUT);
  g_assert_cmpuint(lathe_retry_on_parse("error"), ==, LATHE_RETRY_ON_ERROR);
  g_assert_cmpuint(lathe_retry_on_parse("lost"), ==, LATHE_RETRY_ON_LOST);
  g_assert_cmpuint(lathe_retry_on_parse("Crash"), ==, 0);
  g_assert_cmpuint(lathe_retry_on_parse(NULL), ==, 0);
  g_assert_cmpstr(lathe_retry_on_name(LATHE_RETRY_ON_LOST), ==, "lost");
  g_assert_cmpuint(LATHE_RETRY_ON_ALL, ==, LATHE_RETRY_ON_CRASH | LATHE_RETRY_ON_TIMEOUT |
                                                LATHE_RETRY_ON_ERROR | LATHE_RETRY_ON_LOST);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/graph-exec/duration", test_duration);
  g_test_add_func("/graph-exec/memory", test_memory);
  g_test_add_func("/graph-exec/retry-delay", test_retry_delay);
  g_test_add_func("/graph-exec/retry-on", test_retry_on);
  return g_test_run();
}
