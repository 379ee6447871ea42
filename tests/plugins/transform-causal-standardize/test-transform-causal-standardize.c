/* transform/causal_standardize: z-scores against naive past-only statistics
 * (expanding and windowed, with and without the current row), hand-computed
 * values, the future never changing the past, column choice and refusals. */
#include <math.h>
#include <string.h>

#include "ts-fixtures.h"

#define PLUGIN "transform-causal-standardize"
#define ID "transform/causal_standardize"

static LatheDataset *cs_ok(const char *params, LatheDataset *in) {
  g_autoptr(GError) error = NULL;
  LatheDataset *out = ts_run(PLUGIN, ID, params, in, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(out);
  return out;
}

/* x = 2, 4, 4, 4, 5, 5, 7, 9 (one series): with the current row, row 1 has
 * mean 3, std 1 -> 1; row 7 has the whole series, mean 5, std 2 -> 2. */
static void test_exact_small(void) {
  LatheDataset *in = lathe_dataset_new(8, 1);
  lathe_dataset_set_column(in, 0, "value");
  const float x[] = {2, 4, 4, 4, 5, 5, 7, 9};
  memcpy(in->x, x, sizeof x);
  g_autoptr(LatheDataset) out = cs_ok(NULL, in);
  g_assert_cmpfloat(out->x[0], ==, 0); /* one row < min_periods 2 */
  g_assert_cmpfloat_with_epsilon(out->x[1], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon(out->x[7], 2.0, 1e-6);
  /* Without the current row, row 2 sees {2, 4}: (4 - 3) / 1. */
  LatheDataset *in2 = lathe_dataset_new(8, 1);
  lathe_dataset_set_column(in2, 0, "value");
  memcpy(in2->x, x, sizeof x);
  g_autoptr(LatheDataset) past = cs_ok("{\"include_current\": false}", in2);
  g_assert_cmpfloat(past->x[0], ==, 0);
  g_assert_cmpfloat(past->x[1], ==, 0);
  g_assert_cmpfloat_with_epsilon(past->x[2], 1.0, 1e-6);
  /* Row 7 sees 2,4,4,4,5,5,7: mean 31/7. */
  double m = 31.0 / 7, ss = 0;
  for (guint i = 0; i < 7; i++)
    ss += (x[i] - m) * (x[i] - m);
  g_assert_cmpfloat_with_epsilon(past->x[7], (9 - m) / sqrt(ss / 7), 1e-5);
}

/* Naive z-score of position t of @v with the given options. */
static double naive(const double *v, guint t, guint window, gboolean current, guint min_periods,
                    double min_std) {
  guint end = current ? t + 1 : t;
  guint start = window && end > window ? end - window : 0;
  guint count = end - start;
  if (count < min_periods || count == 0)
    return 0.0;
  double sum = 0, ss = 0;
  for (guint i = start; i < end; i++)
    sum += v[i];
  double mean = sum / count;
  for (guint i = start; i < end; i++)
    ss += (v[i] - mean) * (v[i] - mean);
  return (v[t] - mean) / MAX(sqrt(ss / count), min_std);
}

static void check_naive(guint window, gboolean current, guint min_periods, gboolean interleave) {
  g_autoptr(LatheDataset) in = ts_series(900, 3, interleave, 21);
  g_autofree char *params = g_strdup_printf(
      "{\"window\": %u, \"include_current\": %s, \"min_periods\": %u}", window,
      current ? "true" : "false", min_periods);
  g_autoptr(LatheDataset) out = cs_ok(params, lathe_dataset_ref(in));
  g_assert_cmpuint(out->n_cols, ==, 4);
  for (guint j = 0; j < 4; j++)
    g_assert_cmpstr(out->columns[j], ==, in->columns[j]);
  for (guint g = 0; g < 3; g++)
    for (guint c = 0; c < 4; c++) {
      g_autofree double *v = g_new(double, in->n_rows);
      g_autofree guint *rows = g_new(guint, in->n_rows);
      guint n = 0;
      for (guint r = 0; r < in->n_rows; r++)
        if (in->groups[r] == (gint32)g) {
          rows[n] = r;
          v[n++] = in->x[(gsize)r * 4 + c];
        }
      for (guint t = 0; t < n; t++) {
        double got = out->x[(gsize)rows[t] * 4 + c];
        /* The timestamp columns are excluded by default and stay as they are. */
        double want = c < 2 ? v[t] : naive(v, t, window, current, min_periods, 1e-6);
        if (fabs(got - want) > 1e-4 * MAX(1.0, fabs(want)))
          g_error("window %u current %d: series %u t %u col %u: got %.9g want %.9g", window,
                  current, g, t, c, got, want);
      }
    }
}

static void test_naive(void) {
  check_naive(0, TRUE, 2, FALSE);
  check_naive(0, FALSE, 5, TRUE);
  check_naive(7, TRUE, 2, TRUE);
  check_naive(7, FALSE, 3, FALSE);
  check_naive(1, FALSE, 1, TRUE);
  check_naive(100, TRUE, 50, FALSE);
}

/* A later value never changes an earlier output, expanding or windowed. */
static void test_future_invisible(void) {
  const char *variants[] = {"{}", "{\"window\": 10}", "{\"include_current\": false}",
                            "{\"window\": 4, \"include_current\": false, \"clip\": 3}"};
  for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
    g_autoptr(LatheDataset) base = cs_ok(variants[v], ts_series(200, 2, TRUE, 4));
    for (guint k = 20; k < 200; k += 31) {
      LatheDataset *b = ts_series(200, 2, TRUE, 4);
      b->x[(gsize)k * 4 + 2] *= 3.0f;
      b->x[(gsize)k * 4 + 3] -= 100.0f;
      g_autoptr(LatheDataset) out = cs_ok(variants[v], b);
      for (guint r = 0; r < k; r++)
        g_assert_cmpint(memcmp(base->x + (gsize)r * 4, out->x + (gsize)r * 4, 4 * sizeof(float)),
                        ==, 0);
      /* ... and a change shows where it happens (with the current row in
       * its own statistics, or when it is the row scored). */
      g_assert_cmpint(memcmp(base->x + (gsize)k * 4, out->x + (gsize)k * 4, 4 * sizeof(float)),
                      !=, 0);
    }
  }
}

static void test_columns_and_clip(void) {
  g_autoptr(LatheDataset) in = ts_series(50, 1, FALSE, 8);
  g_autoptr(LatheDataset) out =
      cs_ok("{\"columns\": [\"other\"], \"clip\": 0.5}", lathe_dataset_ref(in));
  for (guint r = 0; r < 50; r++) {
    g_assert_cmpfloat(ts_at(out, r, "value"), ==, ts_at(in, r, "value"));
    g_assert_cmpfloat(fabs(ts_at(out, r, "other")), <=, 0.5);
  }
  /* A flat series: every z-score is 0, not a division by zero. */
  LatheDataset *flat = ts_series(20, 1, FALSE, 8);
  for (guint r = 0; r < 20; r++)
    flat->x[r * 4 + 2] = 7.0f;
  g_autoptr(LatheDataset) z = cs_ok("{\"columns\": [\"value\"]}", flat);
  for (guint r = 0; r < 20; r++)
    g_assert_cmpfloat(ts_at(z, r, "value"), ==, 0.0);
}

static void test_refusals(void) {
  struct {
    const char *params, *needle;
  } cases[] = {
      {"{\"columns\": [\"nope\"]}", "'nope' is not a column of the input; available"},
      {"{\"columns\": [\"value\", \"value\"]}", "listed twice"},
      {"{\"window\": 3, \"min_periods\": 4}", "min_periods 4 is larger than window 3"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *msg = ts_expect_error(PLUGIN, ID, cases[i].params, ts_series(10, 1, FALSE, 1));
    ts_assert_contains(msg, cases[i].needle);
    ts_assert_contains(msg, "transform/causal_standardize (node node)");
  }
  LatheDataset *inf = ts_series(10, 1, FALSE, 1);
  inf->x[4 * 4 + 3] = INFINITY;
  g_autofree char *m1 = ts_expect_error(PLUGIN, ID, NULL, inf);
  ts_assert_contains(m1, "row 4 column 'other'");
  LatheDataset *orphan = ts_series(10, 2, FALSE, 1);
  orphan->groups[9] = 5;
  g_autofree char *m2 = ts_expect_error(PLUGIN, ID, NULL, orphan);
  ts_assert_contains(m2, "row 9 has no group");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/causal-standardize/exact-small", test_exact_small);
  g_test_add_func("/causal-standardize/naive", test_naive);
  g_test_add_func("/causal-standardize/future-invisible", test_future_invisible);
  g_test_add_func("/causal-standardize/columns-clip", test_columns_and_clip);
  g_test_add_func("/causal-standardize/refusals", test_refusals);
  return g_test_run();
}
