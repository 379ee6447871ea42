/* transform/causal_rank: hand-computed mid-ranks and conformal ranks
 * (expanding and windowed, with ties), agreement with a naive count on interleaved series, the future
 * never changing the past, and refusals. */
#include <math.h>
#include <string.h>

#include "ts-fixtures.h"

#define PLUGIN "transform-causal-rank"
#define ID "transform/causal_rank"

static const float small_x[] = {3, 1, 4, 1, 5, 9, 2, 6};

static LatheDataset *cr_ok(const char *params, LatheDataset *in) {
  g_autoptr(GError) error = NULL;
  LatheDataset *out = ts_run(PLUGIN, ID, params, in, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(out);
  return out;
}

static LatheDataset *small(void) {
  LatheDataset *in = lathe_dataset_new(8, 1);
  lathe_dataset_set_column(in, 0, "pred_0");
  memcpy(in->x, small_x, sizeof small_x);
  return in;
}

/* x = 3, 1, 4, 1, 5, 9, 2, 6. u_t = (below + (equal - 1) / 2) / t over rows
 * 0..t: row 0 0.5; row 1 (1 among 3, 1) 0/1; row 2 (4 is the highest) 2/2;
 * row 3 (1 ties the other 1) 0.5/3; rows 4, 5 records: 1; row 6 (2 is above
 * the two 1s) 2/6; row 7 (6 above all but 9) 6/7.
 * window 3: row 3 sees 1, 4, 1: 0.5/2; row 6 sees 5, 9, 2: 0; row 7 sees
 * 9, 2, 6: 1/2. */
static void test_exact_small(void) {
  g_autoptr(LatheDataset) out = cr_ok(NULL, small());
  g_assert_cmpuint(out->n_cols, ==, 2);
  g_assert_cmpstr(out->columns[1], ==, "pred_0_rank");
  const double want[] = {0.5, 0.0, 1.0, 0.5 / 3, 1.0, 1.0, 2.0 / 6, 6.0 / 7};
  for (guint t = 0; t < 8; t++) {
    g_assert_cmpfloat(out->x[2 * t], ==, small_x[t]);
    g_assert_cmpfloat_with_epsilon(out->x[2 * t + 1], want[t], 1e-7);
  }
  g_autoptr(LatheDataset) win = cr_ok("{\"window\": 3, \"suffix\": \"_u\"}", small());
  g_assert_cmpstr(win->columns[1], ==, "pred_0_u");
  const double want3[] = {0.5, 0.0, 1.0, 0.25, 1.0, 1.0, 0.0, 0.5};
  for (guint t = 0; t < 8; t++)
    g_assert_cmpfloat_with_epsilon(win->x[2 * t + 1], want3[t], 1e-7);
}

/* skip_leading_zeros on 0, 0, 0, 3, 1, 4, 1, 5, 9, 2, 6 (and 0 inside the
 * ranked part, which is history like any score): the three leading zeros rank
 * 0 and the rest rank as small_x alone; without it, 3 ranks 3/3 above the
 * zeros. A series of zeros only ranks 0 throughout. */
static void test_skip_leading_zeros(void) {
  LatheDataset *in = lathe_dataset_new(12, 1);
  lathe_dataset_set_column(in, 0, "pred_0");
  memcpy(in->x + 3, small_x, sizeof small_x);
  in->x[11] = 0; /* a zero after the first nonzero score: the lowest so far */
  g_autoptr(LatheDataset) plain = cr_ok(NULL, lathe_dataset_ref(in));
  g_assert_cmpfloat_with_epsilon(plain->x[2 * 3 + 1], 1.0, 1e-7);
  g_autoptr(LatheDataset) out = cr_ok("{\"skip_leading_zeros\": true}", in);
  const double want[] = {0, 0, 0, 0.5, 0.0, 1.0, 0.5 / 3, 1.0, 1.0, 2.0 / 6, 6.0 / 7, 0.0};
  for (guint t = 0; t < 12; t++)
    g_assert_cmpfloat_with_epsilon(out->x[2 * t + 1], want[t], 1e-7);
  LatheDataset *zeros = lathe_dataset_new(5, 1);
  lathe_dataset_set_column(zeros, 0, "pred_0");
  g_autoptr(LatheDataset) z = cr_ok("{\"skip_leading_zeros\": true}", zeros);
  for (guint t = 0; t < 5; t++)
    g_assert_cmpfloat(z->x[2 * t + 1], ==, 0.0);
}

/* The rank of v[t] among v[start..t], counted naively: the mid-rank, or
 * (conformal) 1 - the share of them at least v[t]. */
static double naive(const double *v, guint t, guint window, gboolean conformal) {
  guint start = window && t + 1 > window ? t + 1 - window : 0;
  double below = 0, equal = 0;
  for (guint j = start; j <= t; j++) {
    below += v[j] < v[t];
    equal += v[j] == v[t];
  }
  if (conformal)
    return below / (t - start + 1);
  if (t == start)
    return 0.5;
  return (below + (equal - 1) / 2) / (t - start);
}

/* conformal on x = 3, 1, 4, 1, 5, 9, 2, 6: u_t = below / (t + 1), so 1 - u,
 * the share of rows 0..t scoring at least x_t, is never 0: row 0 0; row 2
 * (4 above 3, 1) 2/3; row 3 (1 ties the lowest) 0; the records 5 and 9 are
 * 4/5 and 5/6, not 1; row 6 (2 above the two 1s) 2/7; row 7 6/8. With
 * skip_leading_zeros, three leading zeros rank 0 and are not history. */
static void test_conformal(void) {
  g_autoptr(LatheDataset) out = cr_ok("{\"conformal\": true}", small());
  const double want[] = {0, 0, 2.0 / 3, 0, 4.0 / 5, 5.0 / 6, 2.0 / 7, 6.0 / 8};
  for (guint t = 0; t < 8; t++)
    g_assert_cmpfloat_with_epsilon(out->x[2 * t + 1], want[t], 1e-7);
  g_autoptr(LatheDataset) win = cr_ok("{\"conformal\": true, \"window\": 3}", small());
  const double want3[] = {0, 0, 2.0 / 3, 0, 2.0 / 3, 2.0 / 3, 0, 1.0 / 3};
  for (guint t = 0; t < 8; t++)
    g_assert_cmpfloat_with_epsilon(win->x[2 * t + 1], want3[t], 1e-7);
  LatheDataset *in = lathe_dataset_new(11, 1);
  lathe_dataset_set_column(in, 0, "pred_0");
  memcpy(in->x + 3, small_x, sizeof small_x);
  g_autoptr(LatheDataset) skip =
      cr_ok("{\"conformal\": true, \"skip_leading_zeros\": true}", in);
  for (guint t = 0; t < 11; t++)
    g_assert_cmpfloat_with_epsilon(skip->x[2 * t + 1], t < 3 ? 0.0 : want[t - 3], 1e-7);
}

/* Three interleaved (or blocked) series, two columns, one of them rounded so
 * that ties are common: every output equals the naive count on its own
 * series, and labels, groups and the input columns pass through. */
static void test_naive(void) {
  for (int conformal = 0; conformal < 2; conformal++)
  for (guint window = 0; window <= 40; window += 40)
    for (int interleave = 0; interleave < 2; interleave++) {
      LatheDataset *in = ts_series(600, 3, interleave, 5);
      for (guint r = 0; r < in->n_rows; r++) {
        float *v = in->x + (gsize)r * in->n_cols + ts_col(in, "other");
        *v = roundf(*v);
      }
      g_autofree float *copy = g_memdup2(in->x, sizeof(float) * in->n_rows * in->n_cols);
      const guint d = in->n_cols;
      g_autofree char *params = g_strdup_printf(
          "{\"columns\": [\"value\", \"other\"], \"window\": %u, \"conformal\": %s}", window,
          conformal ? "true" : "false");
      g_autoptr(LatheDataset) out = cr_ok(params, in);
      g_assert_cmpuint(out->n_cols, ==, d + 2);
      g_assert_nonnull(out->groups);
      const char *cols[] = {"value", "other"};
      for (guint c = 0; c < 2; c++) {
        guint src = ts_col(out, cols[c]);
        g_autofree char *name = g_strconcat(cols[c], "_rank", NULL);
        guint dst = ts_col(out, name);
        for (guint g = 0; g < 3; g++) {
          g_autofree double *v = g_new(double, out->n_rows);
          guint n = 0;
          for (guint r = 0; r < out->n_rows; r++) {
            if (out->groups[r] != (gint32)g)
              continue;
            g_assert_cmpfloat(out->x[(gsize)r * out->n_cols + src], ==, copy[(gsize)r * d + src]);
            v[n] = out->x[(gsize)r * out->n_cols + src];
            g_assert_cmpfloat_with_epsilon(out->x[(gsize)r * out->n_cols + dst],
                                           naive(v, n, window, conformal), 1e-6);
            n++;
          }
          g_assert_cmpuint(n, ==, 200);
        }
      }
    }
}

/* Changing rows after t leaves rows 0..t as they were. */
static void test_future_invisible(void) {
  g_autoptr(LatheDataset) base = cr_ok("{\"columns\": [\"value\"]}", ts_series(300, 1, FALSE, 9));
  LatheDataset *changed = ts_series(300, 1, FALSE, 9);
  guint v = ts_col(changed, "value");
  for (guint r = 150; r < 300; r++)
    changed->x[(gsize)r * changed->n_cols + v] = (r % 2) ? 1e6f : -1e6f;
  g_autoptr(LatheDataset) out = cr_ok("{\"columns\": [\"value\"]}", changed);
  guint k = ts_col(out, "value_rank");
  for (guint r = 0; r < 150; r++)
    g_assert_cmpfloat(out->x[(gsize)r * out->n_cols + k], ==, base->x[(gsize)r * base->n_cols + k]);
  g_assert_cmpfloat(out->x[(gsize)151 * out->n_cols + k], ==, 1.0f); /* a new record */
}

static void test_refusals(void) {
  struct {
    const char *params, *needle;
  } cases[] = {
      {"{\"columns\": [\"nope\"]}", "columns: 'nope' is not a column"},
      {"{\"columns\": []}", "columns is empty"},
      {"{\"columns\": [\"value\", \"value\"]}", "'value' is listed twice"},
      {"{\"columns\": [\"value\"], \"suffix\": \"\"}", "suffix is empty"},
      {"{\"columns\": [\"value\"], \"window\": 1}", "window 1 leaves nothing"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *msg =
        ts_expect_error(PLUGIN, ID, cases[i].params, ts_series(10, 1, FALSE, 1));
    ts_assert_contains(msg, cases[i].needle);
  }
  g_autofree char *m1 = ts_expect_error(
      PLUGIN, ID, "{\"columns\": [\"timestamp\"], \"suffix\": \"_days\"}",
      ts_series(10, 1, FALSE, 1));
  ts_assert_contains(m1, "is not a column");
  /* the output name must be new */
  LatheDataset *collide = ts_series(10, 1, FALSE, 1);
  guint other = ts_col(collide, "other");
  g_free(collide->columns[other]);
  collide->columns[other] = g_strdup("value_rank");
  g_autofree char *m2 = ts_expect_error(PLUGIN, ID, "{\"columns\": [\"value\"]}", collide);
  ts_assert_contains(m2, "already has a column 'value_rank'");
  LatheDataset *nan = ts_series(10, 1, FALSE, 1);
  nan->x[3 * nan->n_cols + ts_col(nan, "value")] = NAN;
  g_autofree char *m3 = ts_expect_error(PLUGIN, ID, "{\"columns\": [\"value\"]}", nan);
  ts_assert_contains(m3, "NaN score in row 3 column 'value'");
  LatheDataset *orphan = ts_series(10, 2, FALSE, 1);
  orphan->groups[9] = 5;
  g_autofree char *m4 = ts_expect_error(PLUGIN, ID, "{\"columns\": [\"value\"]}", orphan);
  ts_assert_contains(m4, "row 9 has no group");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/causal-rank/exact-small", test_exact_small);
  g_test_add_func("/causal-rank/naive", test_naive);
  g_test_add_func("/causal-rank/skip-leading-zeros", test_skip_leading_zeros);
  g_test_add_func("/causal-rank/conformal", test_conformal);
  g_test_add_func("/causal-rank/future-invisible", test_future_invisible);
  g_test_add_func("/causal-rank/refusals", test_refusals);
  return g_test_run();
}
