/* transform/recording_features through its ABI: known peaks and strokes give
 * known features, and one recording's features do not depend on the others. */
#include <math.h>
#include <string.h>

#include "seq-fixtures.h"

#define LEN 200
#define STROKE 50

/* Recording r of n: f4 a triangle wave with strokes of STROKE samples, f1 = f4
 * lagging by `lag`, f2 = f1, f3 = gain * (1 + small ramp) + offset, plus a
 * peak of height `peak` (in current units) at the start of every stroke. */
static void fill(LatheDataset *ds, guint rec, guint row0, float gain, float offset, float peak,
                 guint lag) {
  for (guint t = 0; t < LEN; t++) {
    guint r = row0 + t;
    guint s = t / STROKE, k = t % STROKE;
    float pos = s % 2 == 0 ? (float)k : (float)(STROKE - k);
    float *x = ds->x + (gsize)r * 4;
    x[3] = pos;
    x[0] = t >= lag ? pos - (float)lag * (s % 2 == 0 ? 1.0f : -1.0f) : pos;
    x[1] = x[0];
    x[2] = offset + gain * (float)(t % 4); /* quartiles 0.75..2.25 -> IQR 1.5*gain */
    if (k == 1)
      x[2] += gain * peak;
    ds->groups[r] = (gint32)rec;
    ds->labels[r] = peak > 0 ? 1 : 0;
  }
}

static LatheDataset *table(guint n, const float *gain, const float *offset, const float *peak) {
  LatheDataset *ds = lathe_dataset_new(n * LEN, 4);
  const char *cols[] = {"f1", "f2", "f3", "f4"};
  for (guint j = 0; j < 4; j++)
    lathe_dataset_set_column(ds, j, cols[j]);
  const char *classes[] = {"normal", "electrical", NULL};
  lathe_dataset_set_classes(ds, classes);
  const char *groups[] = {"rec0", "rec1", "rec2", NULL};
  lathe_dataset_set_groups(ds, groups);
  for (guint i = 0; i < n; i++)
    fill(ds, i, i * LEN, gain[i], offset[i], peak[i], 0);
  return ds;
}

static const LatheDataset *run_ok(SeqRun *run, const char *params, LatheDataset *ds) {
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(run, "transform-recording-features", "transform/recording_features",
                        "node", params, &error, "data", ds, NULL));
  g_assert_no_error(error);
  return seq_output(run, "data");
}

static guint col(const LatheDataset *ds, const char *name) {
  for (guint j = 0; j < ds->n_cols; j++)
    if (strcmp(ds->columns[j], name) == 0)
      return j;
  g_assert_not_reached();
}

static void test_known(void) {
  /* rec0 normal; rec1 the same with peaks of 20 at stroke starts; rec2 = rec1
   * with gain 10 and offset 500: its normalised features must equal rec1's. */
  const float gain[] = {1, 1, 10}, offset[] = {0, 0, 500}, peak[] = {0, 20, 20};
  SeqRun run = {0};
  const LatheDataset *out = run_ok(&run, "{\"rise\": 5}", table(3, gain, offset, peak));
  g_assert_cmpuint(out->n_rows, ==, 3);
  g_assert_cmpuint(out->n_cols, ==, 12);
  g_assert_cmpint(out->labels[0], ==, 0);
  g_assert_cmpint(out->labels[1], ==, 1);
  g_assert_cmpint(out->groups[2], ==, 2);
  float *x = out->x;
  guint c = out->n_cols;
  /* 4 strokes of 50 samples over 200: 20 per 1000 */
  g_assert_cmpfloat_with_epsilon(x[col(out, "strokes")], 20.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[c + col(out, "strokes")], 20.0f, 1e-4);
  /* rec0: max 3, median 1.5, IQR 1.5 -> 1; no peaks above 1.5 + 3*1.5 */
  g_assert_cmpfloat_with_epsilon(x[col(out, "cur_max_n")], 1.0f, 1e-4);
  g_assert_cmpfloat(x[col(out, "cur_peaks")], ==, 0.0f);
  /* rec1: peaks of 21 and 23 over a median of 2 and an IQR of 2.25 (the 4
   * peak samples shift the quartiles); all 4 peaks are above 3 IQR */
  g_assert_cmpfloat_with_epsilon(x[c + col(out, "cur_max_n")], 21.0f / 2.25f, 1e-3);
  g_assert_cmpfloat_with_epsilon(x[c + col(out, "cur_peaks")], 4.0f / 200.0f, 1e-6);
  g_assert_cmpfloat(x[c + col(out, "stroke_rise")], >, x[col(out, "stroke_rise")] + 2.0f);
  /* no lag: no tracking error */
  g_assert_cmpfloat(x[col(out, "track41_max")], ==, 0.0f);
  for (guint j = 0; j < c; j++)
    g_assert_cmpfloat_with_epsilon(x[2 * c + j], x[c + j], 1e-3 * (1 + fabsf(x[c + j])));
  seq_run_clear(&run);
}

/* rec1 alone gives the same row as rec1 among others: per-recording only. */
static void test_per_group(void) {
  const float gain[] = {1, 1, 10}, offset[] = {0, 0, 500}, peak[] = {0, 20, 20};
  SeqRun all = {0}, one = {0};
  const LatheDataset *a = run_ok(&all, NULL, table(3, gain, offset, peak));
  const float g1[] = {1}, o1[] = {0}, p1[] = {20};
  const LatheDataset *b = run_ok(&one, NULL, table(1, g1, o1, p1));
  g_assert_cmpuint(b->n_rows, ==, 1);
  for (guint j = 0; j < a->n_cols; j++)
    g_assert_cmpfloat(a->x[a->n_cols + j], ==, b->x[j]);
  seq_run_clear(&all);
  seq_run_clear(&one);
}

/* `features` picks columns by name, in its order; the absolute features are
 * in the recording's units, so they move with its gain and offset. */
static void test_absolute(void) {
  const float gain[] = {1, 1, 10}, offset[] = {0, 0, 500}, peak[] = {0, 20, 20};
  SeqRun run = {0};
  const LatheDataset *out = run_ok(
      &run,
      "{\"features\": [\"cur_iqr\", \"cur_max\", \"cur_q999\", \"stroke_peak_med\", "
      "\"cur_median\", \"strokes\"]}",
      table(3, gain, offset, peak));
  g_assert_cmpuint(out->n_cols, ==, 6);
  g_assert_cmpstr(out->columns[0], ==, "cur_iqr");
  g_assert_cmpstr(out->columns[5], ==, "strokes");
  const float *x = out->x;
  /* rec0: f3 cycles 0 1 2 3: max 3, median 1.5, IQR 1.5, every stroke peaks at 3 */
  g_assert_cmpfloat_with_epsilon(x[0], 1.5f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[1], 3.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[2], 3.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[3], 3.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[4], 1.5f, 1e-4);
  g_assert_cmpfloat_with_epsilon(x[5], 20.0f, 1e-4);
  /* rec1: peaks of 21 and 23 at the strokes' starts */
  g_assert_cmpfloat_with_epsilon(x[6 + 1], 23.0f, 1e-4);
  g_assert_cmpfloat(x[6 + 3], >=, 21.0f - 1e-4f);
  g_assert_cmpfloat(x[6 + 3], <=, 23.0f + 1e-4f);
  /* rec2 = 10 * rec1 + 500 */
  g_assert_cmpfloat_with_epsilon(x[12 + 0], 10 * x[6 + 0], 1e-2);
  for (guint j = 1; j < 5; j++)
    g_assert_cmpfloat_with_epsilon(x[12 + j], 10 * x[6 + j] + 500, 1e-2);
  g_assert_cmpfloat_with_epsilon(x[12 + 5], x[6 + 5], 1e-4);
  seq_run_clear(&run);

  const LatheDataset *norm = run_ok(&run, "{\"features\": []}", table(3, gain, offset, peak));
  g_assert_cmpuint(norm->n_cols, ==, 12);
  g_assert_cmpstr(norm->columns[0], ==, "cur_max_n");
  seq_run_clear(&run);

  g_autofree char *msg =
      seq_expect_error("transform-recording-features", "transform/recording_features",
                       "{\"features\": [\"cur_max\", \"peak\"]}", table(3, gain, offset, peak));
  seq_assert_contains(msg, "unknown feature 'peak'");
}

static void test_errors(void) {
  LatheDataset *ds = lathe_dataset_new(4, 1);
  lathe_dataset_set_column(ds, 0, "f3");
  g_autofree char *msg = seq_expect_error("transform-recording-features",
                                          "transform/recording_features", NULL, ds);
  seq_assert_contains(msg, "no column 'f1'");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-recording-features/known", test_known);
  g_test_add_func("/transform-recording-features/per-group", test_per_group);
  g_test_add_func("/transform-recording-features/absolute", test_absolute);
  g_test_add_func("/transform-recording-features/errors", test_errors);
  return g_test_run();
}
