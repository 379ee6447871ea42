/* model/iforest with fit_rows "probation": one forest per group, each grown
 * on its group's first min(floor(0.15 n), 750) rows only; predict routes every
 * row to its group's forest; the per-group blob round trip and its refusal of
 * damaged bytes; and the errors (no groups, an unknown group, a group too
 * short for a forest). */
#include <math.h>
#include <string.h>

#include "iforest-internal.h"
#include "test-util.h"

#define N 100 /* rows per group: probation floor(0.15 * 100) = 15 rows */

static const LatheModelClass *iforest(void) {
  return (const LatheModelClass *)lathe_test_component("model-iforest", "model/iforest");
}

static gpointer fit(const char *params, const LatheDataset *ds, GError **error) {
  g_autoptr(LatheContext) ctx =
      lathe_test_context(LATHE_COMPONENT(*iforest()), "detector", params, 3);
  return iforest()->fit(ctx, ds, NULL, error);
}

/* Groups "a" and "b" of N rows each, one column "v". a: rows 0..14 near 0,
 * the rest exactly 50 (a level shift after a's probation period); b: rows
 * 0..14 near 100, the rest exactly 100 (the middle of b's first rows). */
static LatheDataset *two_groups(const char *name_a, const char *name_b) {
  LatheDataset *ds = lathe_dataset_new(2 * N, 1);
  lathe_dataset_set_column(ds, 0, "v");
  const char *names[] = {name_a, name_b, NULL};
  lathe_dataset_set_groups(ds, names);
  LatheRng rng;
  lathe_rng_init(&rng, 11);
  for (guint r = 0; r < 2 * N; r++) {
    const gboolean b = r >= N;
    const guint i = r % N;
    ds->groups[r] = b;
    const double noise = lathe_rng_normal(&rng);
    ds->x[r] = b ? (i < 15 ? (float)(100.0 + noise) : 100.0f) : i < 15 ? (float)noise : 50.0f;
  }
  return ds;
}

static float *predict(gconstpointer m, const LatheDataset *ds, GError **error) {
  guint cols = 0;
  return iforest()->predict(m, ds, &cols, error);
}

static void test_probation_fit(void) {
  g_assert_cmpuint(lathe_iforest_probation_rows(100, 0.15), ==, 15);
  g_assert_cmpuint(lathe_iforest_probation_rows(4032, 0.15), ==, 604);
  g_assert_cmpuint(lathe_iforest_probation_rows(22695, 0.15), ==, 750);
  g_autoptr(LatheDataset) ds = two_groups("a", "b");
  g_autoptr(GError) error = NULL;
  LatheIforest *m = fit("{\"fit_rows\": \"probation\", \"n_estimators\": 50}", ds, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(m->n_groups, ==, 2);
  g_assert_cmpstr(m->group_names[0], ==, "a");
  g_assert_cmpstr(m->group_names[1], ==, "b");
  /* max_samples auto = min(256, 15): each forest saw its 15 first rows */
  g_assert_cmpuint(m->group[0]->max_samples, ==, 15);
  g_assert_cmpuint(m->group[1]->max_samples, ==, 15);
  g_autofree float *out = predict(m, ds, &error);
  g_assert_no_error(error);
  /* a's shift to 50 came after its probation period: its forest never saw
   * it, so it is an anomaly; b's rows are like b's first rows */
  g_assert_cmpfloat(out[2 * 60], >, 0.6);
  g_assert_cmpfloat(out[2 * 60 + 1], ==, 1.0f);
  g_assert_cmpfloat(out[2 * 5], <, 0.55);
  g_assert_cmpfloat(out[2 * (N + 60)], <, 0.55);
  /* one forest on every row has seen the shift: 85 rows at 50 are the
   * bulk of a's rows, not anomalies */
  LatheIforest *all = fit("{\"n_estimators\": 50}", ds, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->n_groups, ==, 0);
  g_autofree float *out_all = predict(all, ds, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(out_all[2 * 60], <, out[2 * 60] - 0.1);
  iforest()->free(all);

  /* rows go to the forest named like their group: with the names swapped,
   * b's rows (near 100) meet a's forest (fitted near 0) */
  g_autoptr(LatheDataset) swapped = two_groups("b", "a");
  g_autofree float *out_sw = predict(m, swapped, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(out_sw[2 * (N + 60)], >, 0.6);

  /* the blob round trip predicts the same */
  g_autoptr(GBytes) blob = iforest()->save(m, &error);
  g_assert_no_error(error);
  gpointer back = iforest()->load(blob, iforest()->state_version, &error);
  g_assert_no_error(error);
  g_autofree float *out_back = predict(back, ds, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(out_back, 2 * N * 2 * sizeof(float), out, 2 * N * 2 * sizeof(float));
  JsonObject *summary = iforest()->summary(back);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(summary, "groups")), ==, 2);
  json_object_unref(summary);
  iforest()->free(back);

  /* damaged bytes are refused, not read */
  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  for (gsize cut = 0; cut < size; cut += size / 7 + 1) {
    g_autoptr(GBytes) part = g_bytes_new(data, cut);
    g_autoptr(GError) e = NULL;
    g_assert_null(iforest()->load(part, iforest()->state_version, &e));
    g_assert_nonnull(e);
  }
  guint8 *flipped = g_memdup2(data, size);
  flipped[20] ^= 0x10;
  g_autoptr(GBytes) bad = g_bytes_new_take(flipped, size);
  g_autoptr(GError) e = NULL;
  g_assert_null(iforest()->load(bad, iforest()->state_version, &e));
  g_assert_nonnull(strstr(e->message, "checksum"));
  iforest()->free(m);
}

static void expect(const char *needle, const GError *error) {
  g_assert_nonnull(error);
  if (!strstr(error->message, needle))
    g_error("message '%s' lacks '%s'", error->message, needle);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_errors(void) {
  g_autoptr(LatheDataset) plain = lathe_dataset_new(N, 1);
  lathe_dataset_set_column(plain, 0, "v");
  {
    g_autoptr(GError) error = NULL;
    g_assert_null(fit("{\"fit_rows\": \"probation\"}", plain, &error));
    expect("needs groups", error);
  }
  /* 10 rows: a probation period of floor(1.5) = 1 row */
  g_autoptr(LatheDataset) tiny = lathe_dataset_new(10, 1);
  lathe_dataset_set_column(tiny, 0, "v");
  const char *one[] = {"t", NULL};
  lathe_dataset_set_groups(tiny, one);
  {
    g_autoptr(GError) error = NULL;
    g_assert_null(fit("{\"fit_rows\": \"probation\"}", tiny, &error));
    expect("group 't' has 10 rows", error);
  }
  g_autoptr(LatheDataset) ds = two_groups("a", "b");
  g_autoptr(GError) error = NULL;
  gpointer m = fit("{\"fit_rows\": \"probation\", \"n_estimators\": 10}", ds, &error);
  g_assert_no_error(error);
  {
    g_autoptr(GError) e = NULL;
    g_assert_null(predict(m, plain, &e));
    expect("has no groups", e);
  }
  {
    g_autoptr(LatheDataset) other = two_groups("a", "c");
    g_autoptr(GError) e = NULL;
    g_assert_null(predict(m, other, &e));
    expect("group 'c'", e);
  }
  iforest()->free(m);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model-iforest/groups/probation-fit", test_probation_fit);
  g_test_add_func("/model-iforest/groups/errors", test_errors);
  return g_test_run();
}
