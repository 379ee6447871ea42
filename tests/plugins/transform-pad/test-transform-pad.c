/* transform/pad through its ABI: pad lengths, padding values, truncation
 * and labels, one recording; through serialize/deserialize; the length it
 * used, published on "state". */
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

#define PAD(run, params, ds) run_ok(run, "transform-pad", "transform/pad", params, ds)

/* Recordings of 4, 2 and 3 rows, 2 channels. */
static void test_pad(void) {
  const guint lens[] = {4, 2, 3};
  LatheDataset *in = seq_long_table(2, lens, 3);
  in->labels[4] = 1; /* rec1: k1; rec0: 3 rows of k0, 1 of k1 -> k0 */
  in->labels[1] = 1;
  g_autoptr(LatheDataset) keep = lathe_dataset_ref(in);
  SeqRun run = {0};
  const LatheDataset *out = PAD(&run, "{\"value\": -1.5}", in);
  g_assert_cmpuint(out->n_rows, ==, 3);
  g_assert_cmpuint(out->seq_len, ==, 4); /* the longest */
  g_assert_cmpuint(out->n_cols, ==, 8);
  g_assert_cmpstr(out->columns[0], ==, "a@0");
  g_assert_cmpstr(out->columns[7], ==, "b@3");
  g_assert_nonnull(out->lengths);
  const guint32 want_len[] = {4, 2, 3};
  const guint first[] = {0, 4, 6};
  const gint32 labels[] = {0, 1, 0};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint(out->lengths[i], ==, want_len[i]);
    g_assert_cmpint(out->groups[i], ==, (gint32)i);
    g_assert_cmpint(out->labels[i], ==, labels[i]);
    for (guint t = 0; t < 4; t++)
      for (guint j = 0; j < 2; j++) {
        float want = t < want_len[i] ? (float)(first[i] + t + 100 * j) : -1.5f;
        g_assert_cmpfloat(out->x[i * 8 + t * 2 + j], ==, want);
      }
  }
  g_autoptr(LatheDataset) back = seq_roundtrip(out);
  g_assert_cmpuint(back->seq_len, ==, 4);
  g_assert_cmpuint(back->lengths[1], ==, 2);
  g_assert_cmpfloat(back->x[8 + 4], ==, -1.5f);
  g_assert_cmpstr(back->group_names[2], ==, "rec2");
  seq_run_clear(&run);

  /* length 3: rec0 is cut to its first 3 rows; default padding 0. */
  out = PAD(&run, "{\"length\": 3}", lathe_dataset_ref(keep));
  g_assert_cmpuint(out->seq_len, ==, 3);
  const guint32 cut_len[] = {3, 2, 3};
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint(out->lengths[i], ==, cut_len[i]);
  g_assert_cmpfloat(out->x[4], ==, 2.0f);   /* rec0 step 2 = row 2 */
  g_assert_cmpfloat(out->x[6 + 4], ==, 0.0f); /* rec1 step 2 is padding */
  g_assert_cmpfloat(out->x[12 + 5], ==, 108.0f); /* rec2 step 2, channel b = row 8 */
  seq_run_clear(&run);

  /* length 6 > every recording: all padded. */
  out = PAD(&run, "{\"length\": 6}", lathe_dataset_ref(keep));
  g_assert_cmpuint(out->seq_len, ==, 6);
  g_assert_cmpuint(out->lengths[0], ==, 4);
  g_assert_cmpfloat(out->x[11], ==, 0.0f);
  seq_run_clear(&run);

  g_autofree char *msg = seq_expect_error("transform-pad", "transform/pad",
                                          "{\"length\": 3, \"truncate\": false}",
                                          lathe_dataset_ref(keep));
  g_assert_cmpstr(msg, ==,
                  "transform/pad (node node): recording 'rec0' has 4 rows, more than length "
                  "3; raise length or set truncate=true");
  LatheDataset *seq = lathe_dataset_new(1, 4);
  lathe_dataset_set_sequence(seq, 4, FALSE);
  g_autofree char *m2 = seq_expect_error("transform-pad", "transform/pad", NULL, seq);
  seq_assert_contains(m2, "already a sequence dataset");
}

/* A table without groups is one recording: one row. */
static void test_pad_one_recording(void) {
  const guint lens[] = {5};
  SeqRun run = {0};
  const LatheDataset *out = PAD(&run, NULL, seq_long_table(3, lens, 0));
  g_assert_cmpuint(out->n_rows, ==, 1);
  g_assert_cmpuint(out->seq_len, ==, 5);
  g_assert_cmpuint(out->lengths[0], ==, 5);
  g_assert_null(out->groups);
  g_assert_cmpfloat(out->x[3 * 4 + 2], ==, 204.0f);
  seq_run_clear(&run);
}

/* The "state" output says the length used: the longest recording when
 * length is 0, and given as the length param it pads alike. */
static gint64 state_length(SeqRun *run) {
  LatheArtifact *a = lathe_context_get_output(run->ctx, "state");
  g_assert_nonnull(a);
  JsonObject *m = lathe_artifact_get_metrics(a, NULL);
  g_assert_nonnull(m);
  g_assert_cmpuint(json_object_get_size(m), ==, 1);
  return json_object_get_int_member(m, "length");
}

static void test_pad_state(void) {
  const guint lens[] = {4, 2, 3};
  SeqRun run = {0};
  const LatheDataset *out = PAD(&run, NULL, seq_long_table(2, lens, 3));
  g_assert_cmpint(state_length(&run), ==, 4);
  g_assert_cmpuint(out->seq_len, ==, 4);
  /* New recordings, all shorter: padded to the fitted length, not theirs. */
  const guint short_lens[] = {2, 1};
  SeqRun again = {0};
  const LatheDataset *o2 = PAD(&again, "{\"length\": 4}", seq_long_table(2, short_lens, 2));
  g_assert_cmpuint(o2->seq_len, ==, 4);
  g_assert_cmpint(state_length(&again), ==, 4);
  seq_run_clear(&again);
  seq_run_clear(&run);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pad/pad", test_pad);
  g_test_add_func("/pad/one-recording", test_pad_one_recording);
  g_test_add_func("/pad/state", test_pad_state);
  return g_test_run();
}
