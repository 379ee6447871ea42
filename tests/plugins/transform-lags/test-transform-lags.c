/* transform/lags: every feature against naive loops over each series (series
 * interleaved and in blocks), start-of-series conventions on a tiny series,
 * causality (changing a later row never changes an earlier output), naming
 * and refusals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts-fixtures.h"

#define PLUGIN "transform-lags"
#define ID "transform/lags"

static LatheDataset *lags_ok(const char *params, LatheDataset *in) {
  g_autoptr(GError) error = NULL;
  LatheDataset *out = ts_run(PLUGIN, ID, params, in, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(out);
  return out;
}

/* Hand-computed: x = 3, 1, 4, 1, 5 (one series, no groups). */
static void test_exact_small(void) {
  LatheDataset *in = lathe_dataset_new(5, 1);
  lathe_dataset_set_column(in, 0, "value");
  const float x[] = {3, 1, 4, 1, 5};
  memcpy(in->x, x, sizeof x);
  g_autoptr(LatheDataset) out =
      lags_ok("{\"lags\": [1, 2], \"windows\": [2], \"stats\": [\"mean\", \"std\", \"min\", "
              "\"max\"]}",
              in);
  const char *names[] = {"value",      "value_delta", "value_lag1", "value_lag2",
                         "value_mean2", "value_std2", "value_min2", "value_max2"};
  g_assert_cmpuint(out->n_cols, ==, G_N_ELEMENTS(names));
  for (guint j = 0; j < out->n_cols; j++)
    g_assert_cmpstr(out->columns[j], ==, names[j]);
  const float want[5][8] = {
      {3, 0, 3, 3, 3, 0, 3, 3},
      {1, -2, 3, 3, 2, 1, 1, 3},
      {4, 3, 1, 3, 2.5f, 1.5f, 1, 4},
      {1, -3, 4, 1, 2.5f, 1.5f, 1, 4},
      {5, 4, 1, 4, 3, 2, 1, 5},
  };
  for (guint r = 0; r < 5; r++)
    for (guint j = 0; j < 8; j++)
      if (fabsf(out->x[r * 8 + j] - want[r][j]) > 1e-6f)
        g_error("row %u %s: got %g want %g", r, names[j], out->x[r * 8 + j], want[r][j]);
  g_assert_null(out->groups);
}

/* The naive value of feature @f ("delta", "lagK", "<stat>W") at position t
 * of series @v. */
static double naive(const double *v, guint t, const char *f) {
  if (strcmp(f, "delta") == 0)
    return t ? v[t] - v[t - 1] : 0.0;
  const char *digits = f;
  while (*digits && !g_ascii_isdigit(*digits))
    digits++;
  guint k = (guint)atoi(digits);
  if (g_str_has_prefix(f, "lag"))
    return v[t >= k ? t - k : 0];
  guint w = k;
  guint lo = t + 1 >= w ? t + 1 - w : 0;
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  for (guint i = lo; i <= t; i++) {
    sum += v[i];
    mn = MIN(mn, v[i]);
    mx = MAX(mx, v[i]);
  }
  double mean = sum / (t - lo + 1), ss = 0;
  for (guint i = lo; i <= t; i++)
    ss += (v[i] - mean) * (v[i] - mean);
  if (g_str_has_prefix(f, "mean"))
    return mean;
  if (g_str_has_prefix(f, "std"))
    return sqrt(ss / (t - lo + 1));
  return g_str_has_prefix(f, "min") ? mn : mx;
}

static void check_naive(gboolean interleave) {
  g_autoptr(LatheDataset) in = ts_series(700, 3, interleave, 7);
  g_autoptr(LatheDataset) out = lags_ok(
      "{\"columns\": [\"value\", \"other\"], \"lags\": [1, 3, 250], \"windows\": [1, 5, 48], "
      "\"stats\": [\"max\", \"mean\", \"min\", \"std\"]}",
      lathe_dataset_ref(in));
  g_assert_cmpuint(out->n_rows, ==, in->n_rows);
  g_assert_cmpuint(out->n_cols, ==, 4 + 2 * (1 + 3 + 3 * 4));
  g_assert_cmpstr(out->columns[4], ==, "value_delta");
  g_assert_cmpstr(out->columns[8], ==, "value_max1");
  g_assert_cmpstr(out->columns[4 + 16], ==, "other_delta");
  g_assert_cmpuint(out->n_groups, ==, 3);
  for (guint r = 0; r < in->n_rows; r++) {
    g_assert_cmpint(out->groups[r], ==, in->groups[r]);
    for (guint j = 0; j < 4; j++)
      g_assert_cmpfloat(out->x[(gsize)r * out->n_cols + j], ==, in->x[(gsize)r * 4 + j]);
  }
  for (guint g = 0; g < 3; g++)
    for (guint c = 0; c < 2; c++) {
      g_autofree double *v = g_new(double, in->n_rows);
      g_autofree guint *rows = g_new(guint, in->n_rows);
      guint n = 0;
      for (guint r = 0; r < in->n_rows; r++)
        if (in->groups[r] == (gint32)g) {
          rows[n] = r;
          v[n++] = in->x[(gsize)r * 4 + 2 + c];
        }
      g_assert_cmpuint(n, >, 200);
      for (guint j = 4 + c * 16; j < 4 + (c + 1) * 16; j++) {
        const char *f = strchr(out->columns[j], '_') + 1;
        for (guint t = 0; t < n; t++) {
          double want = naive(v, t, f), got = out->x[(gsize)rows[t] * out->n_cols + j];
          if (fabs(got - want) > 2e-6 * MAX(1.0, fabs(want)))
            g_error("series %u t %u %s: got %.9g want %.9g", g, t, out->columns[j], got, want);
        }
      }
    }
}

static void test_naive_blocks(void) {
  check_naive(FALSE);
}

static void test_naive_interleaved(void) {
  check_naive(TRUE);
}

/* Changing row k of a series changes nothing before k, in any series, and
 * nothing at all in the other series. */
static void test_causal(void) {
  g_autoptr(LatheDataset) a = ts_series(300, 2, TRUE, 9);
  const char *params = "{\"lags\": [1, 2, 7], \"windows\": [3, 20]}";
  g_autoptr(LatheDataset) out_a = lags_ok(params, lathe_dataset_ref(a));
  for (guint k = 100; k < 300; k += 37) {
    g_autoptr(LatheDataset) b = ts_series(300, 2, TRUE, 9);
    b->x[(gsize)k * 4 + 2] += 500.0f;
    g_autoptr(LatheDataset) out_b = lags_ok(params, lathe_dataset_ref(b));
    gboolean changed = FALSE;
    for (guint r = 0; r < 300; r++) {
      gboolean same = memcmp(out_a->x + (gsize)r * out_a->n_cols,
                             out_b->x + (gsize)r * out_b->n_cols,
                             sizeof(float) * out_a->n_cols) == 0;
      if (r < k || b->groups[r] != b->groups[k])
        g_assert_true(same);
      else if (r == k)
        changed = !same;
    }
    g_assert_true(changed);
  }
}

static void test_refusals(void) {
  struct {
    const char *params, *needle;
  } cases[] = {
      {"{\"columns\": [\"nope\"]}", "'nope' is not a column of the input; available columns: "
                                    "timestamp_days"},
      {"{\"columns\": []}", "columns is empty"},
      {"{\"columns\": [\"value\", \"value\"]}", "listed twice"},
      {"{\"lags\": [2, 2]}", "lags: 2 is listed twice"},
      {"{\"stats\": [\"median\"]}", "not one of mean, std, min, max"},
      {"{\"stats\": []}", "stats is empty"},
      {"{\"delta\": false, \"lags\": [], \"windows\": []}", "nothing to compute"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *msg =
        ts_expect_error(PLUGIN, ID, cases[i].params, ts_series(10, 1, FALSE, 1));
    ts_assert_contains(msg, cases[i].needle);
    ts_assert_contains(msg, "transform/lags (node node)");
  }
  LatheDataset *nan = ts_series(10, 1, FALSE, 1);
  nan->x[5 * 4 + 2] = NAN;
  g_autofree char *m1 = ts_expect_error(PLUGIN, ID, NULL, nan);
  ts_assert_contains(m1, "NaN in row 5 column 'value'");
  LatheDataset *orphan = ts_series(10, 2, FALSE, 1);
  orphan->groups[3] = -1;
  g_autofree char *m2 = ts_expect_error(PLUGIN, ID, NULL, orphan);
  ts_assert_contains(m2, "row 3 has no group");
  /* value_delta exists already and keep=true: the new column would clash. */
  LatheDataset *clash = ts_series(10, 1, FALSE, 1);
  lathe_dataset_set_column(clash, 3, "value_delta");
  g_autofree char *m3 = ts_expect_error(PLUGIN, ID, NULL, clash);
  ts_assert_contains(m3, "'value_delta' has the name of another column");
}

static void test_keep_false(void) {
  g_autoptr(LatheDataset) out = lags_ok(
      "{\"keep\": false, \"lags\": [], \"windows\": [2], \"stats\": [\"mean\"]}",
      ts_series(4, 1, FALSE, 2));
  g_assert_cmpuint(out->n_cols, ==, 2);
  g_assert_cmpstr(out->columns[0], ==, "value_delta");
  g_assert_cmpstr(out->columns[1], ==, "value_mean2");
  g_assert_nonnull(out->groups);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-lags/exact-small", test_exact_small);
  g_test_add_func("/transform-lags/naive-blocks", test_naive_blocks);
  g_test_add_func("/transform-lags/naive-interleaved", test_naive_interleaved);
  g_test_add_func("/transform-lags/causal", test_causal);
  g_test_add_func("/transform-lags/refusals", test_refusals);
  g_test_add_func("/transform-lags/keep-false", test_keep_false);
  return g_test_run();
}
