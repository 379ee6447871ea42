/* transform/standardize through its ABI: statistics from train only, applied
 * to test and valid; constant channels; sequences whose padding neither
 * counts nor moves; NaN/Inf refusals; mismatched inputs; the fitted state
 * published on "state" and applied again through the "state" param. */
#include <math.h>
#include <string.h>

#include "seq-fixtures.h"

#define PLUGIN "transform-standardize"
#define ID "transform/standardize"

/* A table of @n rows with columns f1, f2, f3 taken from @values. */
static LatheDataset *table(guint n, const float *values) {
  LatheDataset *ds = lathe_dataset_new(n, 3);
  const char *names[] = {"f1", "f2", "f3"};
  for (guint j = 0; j < 3; j++)
    lathe_dataset_set_column(ds, j, names[j]);
  memcpy(ds->x, values, sizeof(float) * n * 3);
  return ds;
}

static void assert_near(float got, double want) {
  if (fabs(got - want) > 1e-6 * MAX(1.0, fabs(want)))
    g_error("got %.9g, want %.9g", got, want);
}

static void test_table(void) {
  /* f1: mean 2.5, std sqrt(1.25); f2 constant 5; f3: mean 2, std sqrt(12) */
  const float tr[] = {1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 8};
  const float te[] = {2.5f, 6, 2, 5, 5, 14};
  const float va[] = {0, 4, -4};
  LatheDataset *train = table(4, tr);
  const char *classes[] = {"x", "y", NULL};
  lathe_dataset_set_classes(train, classes);
  train->labels[3] = 1;
  SeqRun run = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(&run, PLUGIN, ID, "std", NULL, &error, "train", train, "test",
                        table(2, te), "valid", table(1, va), NULL));
  g_assert_no_error(error);
  const LatheDataset *otr = seq_output(&run, "train"), *ote = seq_output(&run, "test"),
                     *ova = seq_output(&run, "valid");
  g_assert_nonnull(otr);
  g_assert_nonnull(ote);
  g_assert_nonnull(ova);
  double s1 = sqrt(1.25), s3 = sqrt(12.0);
  for (guint r = 0; r < 4; r++) {
    assert_near(otr->x[r * 3], (tr[r * 3] - 2.5) / s1);
    assert_near(otr->x[r * 3 + 1], 0.0); /* constant: centred, scale 1 */
    assert_near(otr->x[r * 3 + 2], (tr[r * 3 + 2] - 2.0) / s3);
  }
  /* test uses the train statistics, not its own */
  assert_near(ote->x[0], 0.0);
  assert_near(ote->x[1], 1.0);
  assert_near(ote->x[2], 0.0);
  assert_near(ote->x[3], 2.5 / s1);
  assert_near(ote->x[4], 0.0);
  assert_near(ote->x[5], 12.0 / s3);
  assert_near(ova->x[0], -2.5 / s1);
  assert_near(ova->x[1], -1.0);
  assert_near(ova->x[2], -6.0 / s3);
  /* the rest of the dataset is kept */
  g_assert_cmpstr(otr->columns[2], ==, "f3");
  g_assert_cmpint(otr->labels[3], ==, 1);
  g_assert_cmpstr(otr->classes[1], ==, "y");
  seq_run_clear(&run);

  /* Optional outputs stay unset without their inputs. */
  g_assert_true(seq_run(&run, PLUGIN, ID, "std", NULL, &error, "train", table(4, tr), NULL));
  g_assert_nonnull(seq_output(&run, "train"));
  g_assert_null(seq_output(&run, "test"));
  g_assert_null(seq_output(&run, "valid"));
  seq_run_clear(&run);
}

/* 2 channels (a, b) of 3 steps; lengths 3 and 1; padding zeros. */
static LatheDataset *sequences(const float *values, guint n, const guint32 *lengths) {
  LatheDataset *ds = lathe_dataset_new(n, 6);
  g_assert_true(lathe_dataset_set_sequence(ds, 3, TRUE));
  for (guint t = 0; t < 3; t++)
    for (guint c = 0; c < 2; c++) {
      g_autofree char *name = g_strdup_printf("%c@%u", 'a' + c, t);
      lathe_dataset_set_column(ds, t * 2 + c, name);
    }
  memcpy(ds->x, values, sizeof(float) * n * 6);
  memcpy(ds->lengths, lengths, sizeof(guint32) * n);
  return ds;
}

static void test_sequences(void) {
  /* valid a: 1, 2, 3, 6 -> mean 3, variance 3.5 (with the padding zeros it
   * would be mean 2); b is always 10. */
  const float tr[] = {1, 10, 2, 10, 3, 10, 6, 10, 0, 0, 0, 0};
  const guint32 tr_len[] = {3, 1};
  const float te[] = {3, 10, 4, 12, 0, 0};
  const guint32 te_len[] = {2};
  SeqRun run = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(&run, PLUGIN, ID, "std", NULL, &error, "train",
                        sequences(tr, 2, tr_len), "test", sequences(te, 1, te_len), NULL));
  g_assert_no_error(error);
  const LatheDataset *otr = seq_output(&run, "train"), *ote = seq_output(&run, "test");
  double s = sqrt(3.5);
  const double want_tr[] = {-2 / s, 0, -1 / s, 0, 0, 0, 3 / s, 0, 0, 0, 0, 0};
  for (guint k = 0; k < 12; k++)
    assert_near(otr->x[k], want_tr[k]);
  g_assert_cmpfloat(otr->x[8], ==, 0.0f); /* padding is exactly 0 still */
  g_assert_cmpfloat(otr->x[11], ==, 0.0f);
  g_assert_cmpuint(otr->seq_len, ==, 3);
  g_assert_cmpuint(otr->lengths[1], ==, 1);
  const double want_te[] = {0, 0, 1 / s, 2, 0, 0};
  for (guint k = 0; k < 6; k++)
    assert_near(ote->x[k], want_te[k]);
  g_autoptr(LatheDataset) back = seq_roundtrip(ote);
  g_assert_cmpuint(back->lengths[0], ==, 2);
  g_assert_cmpfloat(back->x[3], ==, ote->x[3]);
  seq_run_clear(&run);
}

static char *expect_error(LatheDataset *train, LatheDataset *test) {
  SeqRun run = {0};
  g_autoptr(GError) error = NULL;
  g_assert_false(seq_run(&run, PLUGIN, ID, "std", NULL, &error, "train", train,
                         test ? "test" : NULL, test, NULL));
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(seq_output(&run, "train"));
  seq_run_clear(&run);
  return g_strdup(error->message);
}

static void test_refusals(void) {
  const float tr[] = {1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 8};
  float bad[6] = {1, 2, 3, 4, 5, NAN};
  g_autofree char *m1 = expect_error(table(4, tr), table(2, bad));
  g_assert_cmpstr(m1, ==,
                  "transform/standardize (node std): NaN in row 1 column 'f3' of input "
                  "'test'; clean the data or drop the column");
  float inf[12];
  memcpy(inf, tr, sizeof inf);
  inf[7] = -INFINITY;
  g_autofree char *m2 = expect_error(table(4, inf), NULL);
  seq_assert_contains(m2, "-Inf in row 2 column 'f2' of input 'train'");
  LatheDataset *other = table(2, bad);
  bad[5] = 0;
  memcpy(other->x, bad, sizeof bad);
  lathe_dataset_set_column(other, 1, "g2");
  g_autofree char *m3 = expect_error(table(4, tr), other);
  seq_assert_contains(m3, "column 2 of input 'test' is 'g2' but 'f2' in 'train'");
  g_autofree char *m4 = expect_error(table(0, tr), NULL);
  seq_assert_contains(m4, "input 'train' has no rows");
}

/* The "state" output of a fit, as the params JSON it is meant to be. */
static char *state_params(SeqRun *run) {
  LatheArtifact *a = lathe_context_get_output(run->ctx, "state");
  g_assert_nonnull(a);
  JsonObject *m = lathe_artifact_get_metrics(a, NULL);
  g_assert_nonnull(m);
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), m);
  return json_to_string(n, FALSE);
}

static void test_state(void) {
  const float tr[] = {1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 8};
  const float te[] = {2.5f, 6, 2, 5, 5, 14};
  SeqRun fit = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(seq_run(&fit, PLUGIN, ID, "std", NULL, &error, "train", table(4, tr), "test",
                        table(2, te), NULL));
  g_assert_no_error(error);
  g_autofree char *params = state_params(&fit);
  JsonObject *st = json_object_get_object_member(
      lathe_artifact_get_metrics(lathe_context_get_output(fit.ctx, "state"), NULL), "state");
  JsonArray *mean = json_object_get_array_member(st, "mean");
  JsonArray *sd = json_object_get_array_member(st, "std");
  g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(st, "channels"), 2),
                  ==, "f3");
  g_assert_cmpfloat(json_array_get_double_element(mean, 0), ==, 2.5);
  g_assert_cmpfloat(json_array_get_double_element(sd, 1), ==, 1.0); /* constant: not scaled */
  g_assert_cmpfloat(fabs(json_array_get_double_element(sd, 2) - sqrt(12.0)), <, 1e-12);
  /* The state applied to the test rows alone, on "train": nothing is
   * refitted on them, and every value is the one the fit gave test. */
  SeqRun apply = {0};
  g_assert_true(seq_run(&apply, PLUGIN, ID, "std", params, &error, "train", table(2, te), NULL));
  g_assert_no_error(error);
  const LatheDataset *want = seq_output(&fit, "test"), *got = seq_output(&apply, "train");
  for (guint k = 0; k < 6; k++)
    g_assert_cmpfloat(got->x[k], ==, want->x[k]);
  g_autofree char *again = state_params(&apply);
  g_assert_cmpstr(again, ==, params); /* it publishes the state it applied */
  seq_run_clear(&apply);
  seq_run_clear(&fit);

  /* Refusals: another channel, a wrong count, a zero std. */
  static const char *const bad[][2] = {
      {"{\"state\": {\"channels\": [\"f1\", \"x\", \"f3\"], \"mean\": [0, 0, 0], "
       "\"std\": [1, 1, 1]}}",
       "channel 2 of the input is 'f2' but param 'state' was fitted on 'x'"},
      {"{\"state\": {\"channels\": [\"f1\"], \"mean\": [0], \"std\": [1]}}",
       "needs \"channels\" as a list of 3 items"},
      {"{\"state\": {\"channels\": [\"f1\", \"f2\", \"f3\"], \"mean\": [0, 0, 0], "
       "\"std\": [1, 0, 1]}}",
       "\"std\" of channel 'f2' must be a finite number above 0"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    SeqRun run = {0};
    g_autoptr(GError) e = NULL;
    g_assert_false(seq_run(&run, PLUGIN, ID, "std", bad[i][0], &e, "train", table(2, te), NULL));
    g_assert_nonnull(e);
    g_assert_null(strchr(e->message, '\n'));
    seq_assert_contains(e->message, bad[i][1]);
    g_assert_null(seq_output(&run, "train"));
    seq_run_clear(&run);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/standardize/table", test_table);
  g_test_add_func("/standardize/sequences", test_sequences);
  g_test_add_func("/standardize/refusals", test_refusals);
  g_test_add_func("/standardize/state", test_state);
  return g_test_run();
}
