/* transform/rolling through its ABI: every statistic against a naive two-pass
 * computation (windows restarting per recording, partial at the start), a
 * signal with a large offset, column naming and selection, refusals. */
#include <math.h>

#include "seq-fixtures.h"

#define PLUGIN "transform-rolling"
#define ID "transform/rolling"

static const LatheDataset *run_ok(SeqRun *run, const char *params, LatheDataset *ds) {
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(run, PLUGIN, ID, "roll", params, &error, "data", ds, NULL));
  g_assert_no_error(error);
  const LatheDataset *out = seq_output(run, "data");
  g_assert_nonnull(out);
  return out;
}

/* The naive trailing window of row @r of column @c: rows of the same
 * recording in [r - w + 1, r]; stats in double, two-pass. */
static void naive(const LatheDataset *ds, guint c, guint r, guint first, guint w,
                  double out[4]) {
  guint lo = r + 1 >= first + w ? r + 1 - w : first;
  double sum = 0, mn = INFINITY, mx = -INFINITY;
  for (guint i = lo; i <= r; i++) {
    double v = ds->x[(gsize)i * ds->n_cols + c];
    sum += v;
    mn = MIN(mn, v);
    mx = MAX(mx, v);
  }
  double mean = sum / (r - lo + 1), ss = 0;
  for (guint i = lo; i <= r; i++) {
    double d = ds->x[(gsize)i * ds->n_cols + c] - mean;
    ss += d * d;
  }
  out[0] = mean;
  out[1] = sqrt(ss / (r - lo + 1));
  out[2] = mn;
  out[3] = mx;
}

/* Recordings of 9, 2 and 13 rows of noisy values in 2 columns. */
static LatheDataset *make_noisy(double offset, double noise) {
  const guint lens[] = {9, 2, 13};
  LatheDataset *ds = seq_long_table(2, lens, 3);
  GRand *rand = g_rand_new_with_seed(5);
  for (guint k = 0; k < ds->n_rows * 2; k++)
    ds->x[k] = (float)(offset + noise * g_rand_double_range(rand, -1, 1));
  g_rand_free(rand);
  return ds;
}

static void check_against_naive(const LatheDataset *in, const LatheDataset *out, guint w,
                                guint base, double tol) {
  guint first = 0;
  for (guint r = 0; r < in->n_rows; r++) {
    if (r > 0 && in->groups[r] != in->groups[r - 1])
      first = r;
    for (guint c = 0; c < in->n_cols; c++) {
      double want[4];
      naive(in, c, r, first, w, want);
      for (guint s = 0; s < 4; s++) {
        double got = out->x[(gsize)r * out->n_cols + base + c * 4 + s];
        if (fabs(got - want[s]) > tol * MAX(1.0, fabs(want[s])))
          g_error("row %u col %u stat %u: got %.9g, want %.9g", r, c, s, got, want[s]);
      }
    }
  }
}

static void test_against_naive(void) {
  g_autoptr(LatheDataset) in = make_noisy(0.0, 5.0);
  SeqRun run = {0};
  const LatheDataset *out =
      run_ok(&run, "{\"window\": 4, \"stats\": [\"mean\", \"std\", \"min\", \"max\"]}",
             lathe_dataset_ref(in));
  g_assert_cmpuint(out->n_rows, ==, in->n_rows);
  g_assert_cmpuint(out->n_cols, ==, 2 + 2 * 4);
  const char *names[] = {"a", "b", "a_mean4", "a_std4", "a_min4", "a_max4",
                         "b_mean4", "b_std4", "b_min4", "b_max4"};
  for (guint j = 0; j < 10; j++)
    g_assert_cmpstr(out->columns[j], ==, names[j]);
  for (guint r = 0; r < in->n_rows; r++) { /* kept columns, groups and labels */
    g_assert_cmpfloat(out->x[r * 10], ==, in->x[r * 2]);
    g_assert_cmpfloat(out->x[r * 10 + 1], ==, in->x[r * 2 + 1]);
    g_assert_cmpint(out->groups[r], ==, in->groups[r]);
    g_assert_cmpint(out->labels[r], ==, in->labels[r]);
  }
  check_against_naive(in, out, 4, 2, 1e-5);
  /* Partial windows restart with each recording: the first row of a
   * recording is its own mean with std 0, whatever came before. */
  const guint starts[] = {0, 9, 11};
  for (guint i = 0; i < 3; i++) {
    guint r = starts[i];
    g_assert_cmpfloat(out->x[r * 10 + 2], ==, in->x[r * 2]);
    g_assert_cmpfloat(out->x[r * 10 + 3], ==, 0.0f);
  }
  seq_run_clear(&run);

  /* Every window size, including 1 and longer than any recording. */
  const guint sizes[] = {1, 2, 3, 7, 50};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autofree char *params = g_strdup_printf(
        "{\"window\": %u, \"stats\": [\"mean\", \"std\", \"min\", \"max\"]}", sizes[i]);
    out = run_ok(&run, params, lathe_dataset_ref(in));
    check_against_naive(in, out, sizes[i], 2, 1e-5);
    seq_run_clear(&run);
  }
}

/* A position ramping from 1800 to 1900 with jitter of thousandths, over a
 * long recording: a plain sum of squares would cancel, and running sums
 * shifted once (by the first value) would drift as the signal moves away. */
static void test_large_offset(void) {
  const guint lens[] = {20000};
  g_autoptr(LatheDataset) in = seq_long_table(1, lens, 1);
  for (guint r = 0; r < in->n_rows; r++)
    in->x[r] = (float)(1800.0 + 100.0 * r / 20000.0 + 0.002 * ((r * 7919) % 13));
  SeqRun run = {0};
  const LatheDataset *out =
      run_ok(&run, "{\"window\": 25, \"keep\": false}", lathe_dataset_ref(in));
  g_assert_cmpuint(out->n_cols, ==, 2);
  g_assert_cmpstr(out->columns[0], ==, "a_mean25");
  g_assert_cmpstr(out->columns[1], ==, "a_std25");
  for (guint r = 0; r < in->n_rows; r++) {
    double want[4];
    naive(in, 0, r, 0, 25, want);
    /* the mean is a float near 1800: within one float32 step (1.2e-4) */
    g_assert_cmpfloat(fabs(out->x[r * 2] - want[0]), <=, 1.3e-4);
    /* the std is a few hundredths: to 1e-6 relative, which a plain sum of
     * squares (or running sums that are never rebuilt) does not reach */
    if (fabs(out->x[r * 2 + 1] - want[1]) > 1e-6 * want[1] + 1e-10)
      g_error("row %u: std %.9g, want %.9g", r, out->x[r * 2 + 1], want[1]);
  }
  seq_run_clear(&run);
}

static void test_selection(void) {
  const guint lens[] = {4, 3};
  SeqRun run = {0};
  const LatheDataset *out = run_ok(
      &run, "{\"window\": 2, \"columns\": [\"c\", \"a\"], \"stats\": [\"max\"], \"keep\": false}",
      seq_long_table(3, lens, 2));
  g_assert_cmpuint(out->n_cols, ==, 2);
  g_assert_cmpstr(out->columns[0], ==, "c_max2");
  g_assert_cmpstr(out->columns[1], ==, "a_max2");
  /* column c of row r is r + 200: the max of a trailing window is row r */
  for (guint r = 0; r < 7; r++) {
    g_assert_cmpfloat(out->x[r * 2], ==, (float)(r + 200));
    g_assert_cmpfloat(out->x[r * 2 + 1], ==, (float)r);
  }
  seq_run_clear(&run);
}

static void test_refusals(void) {
  const guint lens[] = {4, 3};
  LatheDataset *seq = lathe_dataset_new(2, 4);
  lathe_dataset_set_sequence(seq, 2, FALSE);
  g_autofree char *m1 = seq_expect_error(PLUGIN, ID, NULL, seq);
  seq_assert_contains(m1, "input is a sequence dataset (seq_len 2); apply "
                          "transform/rolling to the long table, before transform/window");
  g_autofree char *m2 =
      seq_expect_error(PLUGIN, ID, "{\"columns\": [\"z\"]}", seq_long_table(2, lens, 2));
  seq_assert_contains(m2, "columns: 'z' is not a column of the input; available columns: a, b");
  g_autofree char *m3 =
      seq_expect_error(PLUGIN, ID, "{\"stats\": [\"median\"]}", seq_long_table(2, lens, 2));
  seq_assert_contains(m3, "stats: 'median' is not one of");
  g_autofree char *m4 = seq_expect_error(PLUGIN, ID, "{\"stats\": []}", seq_long_table(2, lens, 2));
  seq_assert_contains(m4, "stats is empty");
  LatheDataset *nan = seq_long_table(2, lens, 2);
  nan->x[5 * 2 + 1] = NAN;
  g_autofree char *m5 = seq_expect_error(PLUGIN, ID, NULL, nan);
  seq_assert_contains(m5, "NaN in row 5 column 'b'");
  LatheDataset *split = seq_long_table(1, lens, 2);
  split->groups[6] = 0;
  g_autofree char *m6 = seq_expect_error(PLUGIN, ID, NULL, split);
  seq_assert_contains(m6, "recording 'rec0' is not contiguous");
  /* A new column may not take the name of a kept one. */
  LatheDataset *clash = seq_long_table(2, lens, 2);
  lathe_dataset_set_column(clash, 1, "a_mean10");
  g_autofree char *m7 = seq_expect_error(PLUGIN, ID, "{\"columns\": [\"a\"]}", clash);
  seq_assert_contains(m7, "'a_mean10'");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rolling/against-naive", test_against_naive);
  g_test_add_func("/rolling/large-offset", test_large_offset);
  g_test_add_func("/rolling/selection", test_selection);
  g_test_add_func("/rolling/refusals", test_refusals);
  return g_test_run();
}
