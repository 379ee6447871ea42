/* transform/downsample through its ABI: every/mean per recording with partial
 * blocks, tables without groups, sequences with lengths, and refusals. */
#include "seq-fixtures.h"

#define PLUGIN "transform-downsample"
#define ID "transform/downsample"

static const LatheDataset *run_ok(SeqRun *run, const char *params, LatheDataset *ds) {
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(run, PLUGIN, ID, "down", params, &error, "data", ds, NULL));
  g_assert_no_error(error);
  const LatheDataset *out = seq_output(run, "data");
  g_assert_nonnull(out);
  return out;
}

/* Recordings of 7 and 5 rows, factor 3: blocks restart at row 7. */
static void test_every(void) {
  const guint lens[] = {7, 5};
  LatheDataset *in = seq_long_table(2, lens, 2);
  in->labels[3] = 1; /* a block takes the label of its first row */
  in->labels[4] = 1;
  SeqRun run = {0};
  const LatheDataset *out = run_ok(&run, "{\"factor\": 3}", in);
  const guint rows[] = {0, 3, 6, 7, 10};
  g_assert_cmpuint(out->n_rows, ==, 5);
  g_assert_cmpuint(out->n_cols, ==, 2);
  g_assert_cmpuint(out->seq_len, ==, 0);
  g_assert_cmpstr(out->columns[1], ==, "b");
  for (guint i = 0; i < 5; i++) {
    g_assert_cmpfloat(out->x[i * 2], ==, (float)rows[i]);
    g_assert_cmpfloat(out->x[i * 2 + 1], ==, (float)(rows[i] + 100));
  }
  const gint32 groups[] = {0, 0, 0, 1, 1}, labels[] = {0, 1, 0, 1, 1};
  for (guint i = 0; i < 5; i++) {
    g_assert_cmpint(out->groups[i], ==, groups[i]);
    g_assert_cmpint(out->labels[i], ==, labels[i]); /* out row 1 = row 3 */
  }
  g_assert_cmpuint(out->n_groups, ==, 2);
  g_assert_cmpstr(out->group_names[1], ==, "rec1");
  g_assert_cmpstr(out->classes[1], ==, "k1");
  seq_run_clear(&run);
}

static void test_mean(void) {
  const guint lens[] = {7, 5};
  SeqRun run = {0};
  const LatheDataset *out =
      run_ok(&run, "{\"factor\": 3, \"mode\": \"mean\"}", seq_long_table(2, lens, 2));
  /* rec0: {0,1,2} {3,4,5} {6}; rec1: {7,8,9} {10,11} (partial: over 2 rows). */
  const float want[] = {1.0f, 4.0f, 6.0f, 8.0f, 10.5f};
  g_assert_cmpuint(out->n_rows, ==, 5);
  for (guint i = 0; i < 5; i++) {
    g_assert_cmpfloat(out->x[i * 2], ==, want[i]);
    g_assert_cmpfloat(out->x[i * 2 + 1], ==, want[i] + 100.0f);
  }
  g_assert_cmpint(out->groups[2], ==, 0);
  g_assert_cmpint(out->groups[3], ==, 1);
  seq_run_clear(&run);
}

static void test_no_groups(void) {
  const guint lens[] = {5};
  SeqRun run = {0};
  const LatheDataset *out =
      run_ok(&run, "{\"factor\": 2, \"mode\": \"mean\"}", seq_long_table(1, lens, 0));
  g_assert_cmpuint(out->n_rows, ==, 3);
  g_assert_null(out->groups);
  g_assert_cmpfloat(out->x[0], ==, 0.5f);
  g_assert_cmpfloat(out->x[1], ==, 2.5f);
  g_assert_cmpfloat(out->x[2], ==, 4.0f);
  seq_run_clear(&run);

  /* factor 1 changes nothing */
  const guint lens2[] = {4, 3};
  LatheDataset *in = seq_long_table(2, lens2, 2);
  g_autoptr(GBytes) before = lathe_dataset_serialize(in);
  const LatheDataset *same = run_ok(&run, "{\"factor\": 1}", in);
  g_autoptr(GBytes) after = lathe_dataset_serialize(same);
  g_assert_true(g_bytes_equal(before, after));
  seq_run_clear(&run);
}

/* 2 rows of 5 steps x 2 channels ("a@t", "b@t"); step t of row r holds
 * 10 r + t (channel b: + 100); row 1 has 3 valid steps, then zeros. */
static LatheDataset *make_sequences(gboolean with_lengths) {
  LatheDataset *ds = lathe_dataset_new(2, 10);
  g_assert_true(lathe_dataset_set_sequence(ds, 5, with_lengths));
  for (guint t = 0; t < 5; t++)
    for (guint c = 0; c < 2; c++) {
      g_autofree char *name = g_strdup_printf("%c@%u", 'a' + c, t);
      lathe_dataset_set_column(ds, t * 2 + c, name);
    }
  for (guint r = 0; r < 2; r++)
    for (guint t = 0; t < 5; t++)
      for (guint c = 0; c < 2; c++)
        ds->x[r * 10 + t * 2 + c] =
            with_lengths && r == 1 && t >= 3 ? 0.0f : (float)(10 * r + t + 100 * c);
  if (with_lengths)
    ds->lengths[1] = 3;
  const char *classes[] = {"k0", "k1", NULL};
  lathe_dataset_set_classes(ds, classes);
  ds->labels[1] = 1;
  return ds;
}

static void test_sequences(void) {
  SeqRun run = {0};
  const LatheDataset *out = run_ok(&run, "{\"factor\": 2}", make_sequences(TRUE));
  g_assert_cmpuint(out->seq_len, ==, 3);
  g_assert_cmpuint(out->n_cols, ==, 6);
  g_assert_cmpstr(out->columns[0], ==, "a@0");
  g_assert_cmpstr(out->columns[5], ==, "b@2");
  g_assert_nonnull(out->lengths);
  g_assert_cmpuint(out->lengths[0], ==, 3);
  g_assert_cmpuint(out->lengths[1], ==, 2); /* ceil(3 / 2) */
  const float every0[] = {0, 100, 2, 102, 4, 104}, every1[] = {10, 110, 12, 112, 0, 0};
  for (guint k = 0; k < 6; k++) {
    g_assert_cmpfloat(out->x[k], ==, every0[k]);
    g_assert_cmpfloat(out->x[6 + k], ==, every1[k]);
  }
  g_assert_cmpint(out->labels[1], ==, 1);
  seq_run_clear(&run);

  out = run_ok(&run, "{\"factor\": 2, \"mode\": \"mean\"}", make_sequences(TRUE));
  /* row 1: steps {0,1} -> 10.5, {2} (step 3 is padding) -> 12, {4} padding -> 0 */
  const float mean0[] = {0.5f, 100.5f, 2.5f, 102.5f, 4, 104},
              mean1[] = {10.5f, 110.5f, 12, 112, 0, 0};
  for (guint k = 0; k < 6; k++) {
    g_assert_cmpfloat(out->x[k], ==, mean0[k]);
    g_assert_cmpfloat(out->x[6 + k], ==, mean1[k]);
  }
  g_autoptr(LatheDataset) back = seq_roundtrip(out);
  g_assert_cmpuint(back->seq_len, ==, 3);
  g_assert_cmpuint(back->lengths[1], ==, 2);
  g_assert_cmpfloat(back->x[6], ==, 10.5f);
  seq_run_clear(&run);

  /* Full sequences stay full: no lengths appear. */
  out = run_ok(&run, "{\"factor\": 3}", make_sequences(FALSE));
  g_assert_cmpuint(out->seq_len, ==, 2);
  g_assert_null(out->lengths);
  g_assert_cmpfloat(out->x[2], ==, 3.0f);
  seq_run_clear(&run);
}

static void test_refusals(void) {
  const guint lens[] = {3, 3};
  LatheDataset *split = seq_long_table(1, lens, 2);
  split->groups[1] = 1; /* rec0 = rows 0, 2 */
  g_autofree char *msg = seq_expect_error(PLUGIN, ID, NULL, split);
  seq_assert_contains(msg, "transform/downsample (node node): recording 'rec0' is not "
                           "contiguous");
  LatheDataset *orphan = seq_long_table(1, lens, 2);
  orphan->groups[4] = -1;
  g_autofree char *msg2 = seq_expect_error(PLUGIN, ID, NULL, orphan);
  seq_assert_contains(msg2, "row 4 has no group");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/downsample/every", test_every);
  g_test_add_func("/downsample/mean", test_mean);
  g_test_add_func("/downsample/no-groups", test_no_groups);
  g_test_add_func("/downsample/sequences", test_sequences);
  g_test_add_func("/downsample/refusals", test_refusals);
  return g_test_run();
}
