/* core/serve/serve-drift.c: PSI against a reference the registry computed,
 * checked against Evidently's formula worked by hand. */
#include <math.h>

#include <lathe/lathe-sdk.h>

#include "lathe-registry.h"
#include "serve/serve-drift.h"

/* A one-column reference: 0..999, 100 values a bin; classes a (250), b (750). */
static JsonObject *uniform_reference(void) {
  g_autoptr(LatheDataset) d = lathe_dataset_new(1000, 1);
  const char *const classes[] = {"a", "b", NULL};
  lathe_dataset_set_classes(d, classes);
  for (guint r = 0; r < 1000; r++) {
    d->x[r] = (float)r;
    d->labels[r] = r < 250 ? 0 : 1;
  }
  return lathe_registry_reference_stats(d);
}

static void observe_range(LatheServeDrift *d, guint from, guint to, gint cls) {
  for (guint v = from; v < to; v++) {
    float x = (float)v;
    lathe_serve_drift_observe(d, &x, 1, &cls);
  }
}

/* The same distribution: every share equal, PSI 0. */
static void test_same(void) {
  g_autoptr(JsonObject) ref = uniform_reference();
  g_autoptr(LatheServeDrift) d = lathe_serve_drift_new(ref, 1, 1000, 100);
  g_assert_nonnull(d);
  g_assert_true(isnan(lathe_serve_drift_psi(d))); /* nothing seen */
  observe_range(d, 0, 99, 1);
  g_assert_true(isnan(lathe_serve_drift_psi(d))); /* 99 < min_rows */
  observe_range(d, 99, 1000, 1);
  g_assert_cmpuint(lathe_serve_drift_rows(d), ==, 1000);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi(d), 0, 1e-12);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_feature_psi(d, 0), 0, 1e-12);
}

/* Everything in the last bin (and beyond the reference's max, which the last
 * bin holds): 9 empty bins at 0.0001 against 0.1, one at 1 against 0.1. */
static void test_shifted_and_window(void) {
  g_autoptr(JsonObject) ref = uniform_reference();
  g_autoptr(LatheServeDrift) d = lathe_serve_drift_new(ref, 1, 500, 100);
  observe_range(d, 950, 1000, 1);
  observe_range(d, 5000, 5450, 1);
  double want = 9 * (0.0001 - 0.1) * log(0.0001 / 0.1) + (1 - 0.1) * log(1 / 0.1);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi(d), want, 1e-9);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi_max(d), want, 1e-9);
  g_assert_cmpfloat(want, >, 0.3);
  /* 500 rows like the reference push them all out of the window. */
  for (guint i = 0; i < 500; i++) {
    float x = (float)(i * 2);
    gint c = 1;
    lathe_serve_drift_observe(d, &x, 1, &c);
  }
  g_assert_cmpuint(lathe_serve_drift_rows(d), ==, 500);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi(d), 0, 1e-12);
}

/* Predictions: all "b" against a 25/75 training split. NaN inputs are not
 * counted for their feature. */
static void test_predictions_and_nan(void) {
  g_autoptr(JsonObject) ref = uniform_reference();
  g_autoptr(LatheServeDrift) d = lathe_serve_drift_new(ref, 1, 1000, 10);
  observe_range(d, 0, 1000, 1);
  double want = (0.0001 - 0.25) * log(0.0001 / 0.25) + (1 - 0.75) * log(1 / 0.75);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_prediction_psi(d), want, 1e-9);
  float nan = NAN;
  gint none = -1;
  for (guint i = 0; i < 1000; i++)
    lathe_serve_drift_observe(d, &nan, 1, &none);
  g_assert_true(isnan(lathe_serve_drift_psi(d)));
  g_assert_true(isnan(lathe_serve_drift_prediction_psi(d)));
  g_autoptr(JsonObject) j = lathe_serve_drift_to_json(d);
  g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(j, "psi")));
}

/* Sequences: 2 channels x 3 steps, step-major; each channel its own bins. */
static void test_sequence(void) {
  g_autoptr(LatheDataset) t = lathe_dataset_new(100, 6);
  g_assert_true(lathe_dataset_set_sequence(t, 3, FALSE));
  for (guint r = 0; r < 100; r++)
    for (guint s = 0; s < 3; s++) {
      t->x[r * 6 + s * 2] = (float)r;            /* channel a: 0..99 */
      t->x[r * 6 + s * 2 + 1] = 1000 + (float)r; /* channel b: 1000..1099 */
    }
  g_autoptr(JsonObject) ref = lathe_registry_reference_stats(t);
  g_assert_null(lathe_serve_drift_new(ref, 4, 100, 1)); /* not 3 x 2 */
  g_autoptr(LatheServeDrift) d = lathe_serve_drift_new(ref, 6, 100, 1);
  g_assert_nonnull(d);
  g_assert_cmpuint(lathe_serve_drift_n_features(d), ==, 2);
  g_assert_cmpstr(lathe_serve_drift_feature_name(d, 1), ==,
                  json_object_get_string_member(
                      json_array_get_object_element(json_object_get_array_member(ref, "features"), 1),
                      "name"));
  lathe_serve_drift_observe(d, t->x, 100, NULL);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi(d), 0, 1e-12);
  /* Channel b shifted onto a's range: its PSI grows, a's stays 0. */
  g_autoptr(LatheServeDrift) e = lathe_serve_drift_new(ref, 6, 100, 1);
  g_autofree float *x = g_memdup2(t->x, sizeof(float) * 600);
  for (guint i = 1; i < 600; i += 2)
    x[i] -= 1000;
  lathe_serve_drift_observe(e, x, 100, NULL);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_feature_psi(e, 0), 0, 1e-12);
  g_assert_cmpfloat(lathe_serve_drift_feature_psi(e, 1), >, 1);
  g_assert_cmpfloat_with_epsilon(lathe_serve_drift_psi(e), lathe_serve_drift_feature_psi(e, 1) / 2, 1e-12);
}

/* What gives no drift object: no reference, no histograms, a width mismatch. */
static void test_refused(void) {
  g_assert_null(lathe_serve_drift_new(NULL, 1, 10, 1));
  g_autoptr(JsonObject) empty = json_object_new();
  g_assert_null(lathe_serve_drift_new(empty, 1, 10, 1));
  g_autoptr(JsonObject) ref = uniform_reference();
  g_assert_null(lathe_serve_drift_new(ref, 2, 10, 1));
  g_assert_null(lathe_serve_drift_new(ref, 1, 0, 1));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/serve-drift/same", test_same);
  g_test_add_func("/serve-drift/shifted-and-window", test_shifted_and_window);
  g_test_add_func("/serve-drift/predictions-and-nan", test_predictions_and_nan);
  g_test_add_func("/serve-drift/sequence", test_sequence);
  g_test_add_func("/serve-drift/refused", test_refused);
  return g_test_run();
}
