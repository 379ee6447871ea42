/* transform/window through its ABI: window counts, contents and labels,
 * short recordings, ties and refusals; through serialize/deserialize. */
#include <string.h>

#include "seq-fixtures.h"

static const LatheDataset *run_ok(SeqRun *run, const char *plugin, const char *id,
                                  const char *params, LatheDataset *ds) {
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(run, plugin, id, "node", params, &error, "data", ds, NULL));
  g_assert_no_error(error);
  const LatheDataset *out = seq_output(run, "data");
  g_assert_nonnull(out);
  return out;
}

#define WINDOW(run, params, ds) run_ok(run, "transform-window", "transform/window", params, ds)

/* Window w, step t, channel c must be row starts[w] + t of the input. */
static void assert_windows(const LatheDataset *out, const guint *starts, guint n, guint s,
                           guint c) {
  g_assert_cmpuint(out->n_rows, ==, n);
  g_assert_cmpuint(out->seq_len, ==, s);
  g_assert_cmpuint(out->n_cols, ==, s * c);
  g_assert_cmpuint(lathe_dataset_channels(out), ==, c);
  for (guint w = 0; w < n; w++)
    for (guint t = 0; t < s; t++)
      for (guint j = 0; j < c; j++)
        g_assert_cmpfloat(out->x[(gsize)w * s * c + t * c + j], ==,
                          (float)(starts[w] + t + 100 * j));
}

/* Recordings of 7 and 5 rows, seq_len 3, stride 2: starts 0, 2, 4 in the
 * first and 0, 2 in the second (rows 7 and 9), never across the boundary. */
static void test_window(void) {
  const guint lens[] = {7, 5};
  LatheDataset *in = seq_long_table(2, lens, 2);
  in->labels[0] = 1; /* rec0: 5 rows of k0, 2 of k1: majority k0 */
  in->labels[6] = 1;
  g_autoptr(LatheDataset) keep = lathe_dataset_ref(in);
  SeqRun run = {0};
  const LatheDataset *out = WINDOW(&run, "{\"seq_len\": 3, \"stride\": 2}", in);
  const guint starts[] = {0, 2, 4, 7, 9};
  assert_windows(out, starts, 5, 3, 2);
  const char *names[] = {"a@0", "b@0", "a@1", "b@1", "a@2", "b@2"};
  for (guint j = 0; j < 6; j++)
    g_assert_cmpstr(out->columns[j], ==, names[j]);
  g_assert_null(out->lengths);
  const gint32 groups[] = {0, 0, 0, 1, 1}, majority[] = {0, 0, 0, 1, 1};
  for (guint w = 0; w < 5; w++) {
    g_assert_cmpint(out->groups[w], ==, groups[w]);
    g_assert_cmpint(out->labels[w], ==, majority[w]);
  }
  g_assert_cmpstr(out->group_names[1], ==, "rec1");

  /* Through the portable encoding, the sequence layout survives. */
  g_autoptr(LatheDataset) back = seq_roundtrip(out);
  g_assert_cmpuint(back->seq_len, ==, 3);
  g_assert_null(back->lengths);
  g_assert_cmpstr(back->columns[5], ==, "b@2");
  assert_windows(back, starts, 5, 3, 2);
  seq_run_clear(&run);

  /* label "last": the window's last row; rec0 window at 4 ends on row 6. */
  out = WINDOW(&run, "{\"seq_len\": 3, \"stride\": 2, \"label\": \"last\"}",
               lathe_dataset_ref(keep));
  const gint32 last[] = {0, 0, 1, 1, 1};
  for (guint w = 0; w < 5; w++)
    g_assert_cmpint(out->labels[w], ==, last[w]);
  seq_run_clear(&run);

  /* Defaults (seq_len 10, stride 1) on 12 + 10 rows: 3 + 1 windows. */
  const guint lens2[] = {12, 10};
  out = WINDOW(&run, NULL, seq_long_table(1, lens2, 2));
  const guint starts2[] = {0, 1, 2, 12};
  assert_windows(out, starts2, 4, 10, 1);
  seq_run_clear(&run);

  /* seq_len equal to the recording: one window; no groups: one recording. */
  const guint lens3[] = {6};
  out = WINDOW(&run, "{\"seq_len\": 6, \"stride\": 4}", seq_long_table(1, lens3, 0));
  const guint starts3[] = {0};
  assert_windows(out, starts3, 1, 6, 1);
  g_assert_null(out->groups);
  seq_run_clear(&run);
}

static void test_window_ties_and_errors(void) {
  const guint lens[] = {4, 7};
  LatheDataset *tie = seq_long_table(1, lens, 2);
  tie->labels[0] = tie->labels[1] = 1; /* rec0: 2 x k1, 2 x k0: tie to k0 */
  SeqRun run = {0};
  const LatheDataset *out = WINDOW(&run, "{\"seq_len\": 4}", tie);
  g_assert_cmpint(out->labels[0], ==, 0);
  seq_run_clear(&run);

  g_autofree char *msg = seq_expect_error("transform-window", "transform/window",
                                          "{\"seq_len\": 5}", seq_long_table(1, lens, 2));
  g_assert_cmpstr(msg, ==,
                  "transform/window (node node): recording 'rec0' has 4 rows, fewer than "
                  "seq_len 5; lower seq_len or drop the recording");
  LatheDataset *seq = lathe_dataset_new(1, 4);
  lathe_dataset_set_sequence(seq, 4, FALSE);
  g_autofree char *m2 = seq_expect_error("transform-window", "transform/window", NULL, seq);
  seq_assert_contains(m2, "already a sequence dataset");
  LatheDataset *split = seq_long_table(1, lens, 2);
  split->groups[10] = 0;
  g_autofree char *m3 =
      seq_expect_error("transform-window", "transform/window", "{\"seq_len\": 2}", split);
  seq_assert_contains(m3, "recording 'rec0' is not contiguous (rows from 0, then again from 10)");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/window/windows", test_window);
  g_test_add_func("/window/ties-and-errors", test_window_ties_and_errors);
  return g_test_run();
}
