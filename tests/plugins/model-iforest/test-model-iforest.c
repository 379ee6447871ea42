/* model/iforest: the path-length formula, scores on constant data and on an
 * obvious outlier, the contamination offset, identical forests for any thread
 * count, the blob round trip and its refusal of damaged bytes, param and data
 * errors, column selection, and ROC-AUC on the NAB files against scikit-learn's numbers
 * (../shared/ANCHORS.md §2). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iforest-internal.h"
#include "test-util.h"

static const LatheModelClass *iforest(void) {
  return (const LatheModelClass *)lathe_test_component("model-iforest", "model/iforest");
}

/* Fits with @params on @threads threads; NULL with @error on failure. */
static gpointer fit(const char *params, const LatheDataset *ds, guint64 seed, guint threads,
                    GError **error) {
  g_autoptr(LatheContext) ctx =
      lathe_test_context(LATHE_COMPONENT(*iforest()), "detector", params, seed);
  lathe_context_set_threads(ctx, threads);
  return iforest()->fit(ctx, ds, NULL, error);
}

static gpointer fit_ok(const char *params, const LatheDataset *ds, guint64 seed, guint threads) {
  g_autoptr(GError) error = NULL;
  gpointer m = fit(params, ds, seed, threads, &error);
  g_assert_no_error(error);
  g_assert_nonnull(m);
  return m;
}

static float *predict_ok(gconstpointer m, const LatheDataset *ds) {
  g_autoptr(GError) error = NULL;
  guint cols = 0;
  float *out = iforest()->predict(m, ds, &cols, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cols, ==, 2);
  return out;
}

/* @n standard-normal 2-D rows, then @extra rows at (10, 10). */
static LatheDataset *gaussian(guint n, guint extra, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n + extra, 2);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < 2; j++)
      ds->x[r * 2 + j] = (float)lathe_rng_normal(&rng);
  for (guint r = n; r < n + extra; r++)
    ds->x[r * 2] = ds->x[r * 2 + 1] = 10.0f;
  return ds;
}

static void test_avg_path(void) {
  g_assert_cmpfloat(lathe_iforest_avg_path(0), ==, 0.0);
  g_assert_cmpfloat(lathe_iforest_avg_path(1), ==, 0.0);
  g_assert_cmpfloat(lathe_iforest_avg_path(2), ==, 1.0);
  /* c(3) = 2 (ln 2 + 0.5772156649) - 2*2/3 = 2.5407257 - 1.3333333 = 1.2073924 */
  g_assert_cmpfloat_with_epsilon(lathe_iforest_avg_path(3), 1.2073924, 1e-6);
  /* c(256) = 2 (ln 255 + 0.5772156649) - 2*255/256 = 2 (5.5412635 + 0.5772157) - 1.9921875
   *        = 12.2369584 - 1.9921875 = 10.2447709 */
  g_assert_cmpfloat_with_epsilon(lathe_iforest_avg_path(256), 10.2447709, 1e-6);
}

/* Identical rows cannot be split: every tree is one leaf of psi rows, so
 * E[h] = 0 + c(psi) and s = 2^(-c(psi)/c(psi)) = 0.5 exactly; with the "auto"
 * offset -0.5, decision = -0.5 + 0.5 = 0, which is not an anomaly. */
static void test_constant_data(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(40, 3);
  for (guint i = 0; i < 120; i++)
    ds->x[i] = 7.0f;
  gpointer m = fit_ok("{\"n_estimators\": 5}", ds, 1, 1);
  g_autofree float *out = predict_ok(m, ds);
  for (guint r = 0; r < 40; r++) {
    g_assert_cmpfloat_with_epsilon(out[2 * r], 0.5, 1e-6);
    g_assert_cmpfloat(out[2 * r + 1], ==, 0.0f);
  }
  iforest()->free(m);
}

/* Two distinct rows, max_samples 2: the depth limit is ceil(log2 2) = 1, the
 * root splits them into two leaves of one row: h = 1 + c(1) = 1, c(2) = 1, so
 * s = 2^-1 = 0.5 for both. */
static void test_two_rows(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(2, 1);
  ds->x[0] = 0.0f;
  ds->x[1] = 1.0f;
  gpointer m = fit_ok("{\"n_estimators\": 3}", ds, 4, 1);
  g_autofree float *out = predict_ok(m, ds);
  g_assert_cmpfloat_with_epsilon(out[0], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon(out[2], 0.5, 1e-6);
  /* A query far to the right falls in the right leaf too: same path. */
  g_autoptr(LatheDataset) far = lathe_dataset_new(1, 1);
  far->x[0] = 100.0f;
  g_autofree float *o2 = predict_ok(m, far);
  g_assert_cmpfloat_with_epsilon(o2[0], 0.5, 1e-6);
  iforest()->free(m);
}

static void test_outlier(void) {
  g_autoptr(LatheDataset) ds = gaussian(500, 1, 3);
  gpointer m = fit_ok("{}", ds, 0, 2);
  g_autofree float *out = predict_ok(m, ds);
  double mean = 0, maxn = 0;
  for (guint r = 0; r < 500; r++) {
    mean += out[2 * r];
    maxn = MAX(maxn, out[2 * r]);
  }
  mean /= 500;
  /* sklearn gives ~0.43 mean on standard normal data and ~0.8 for (10,10) */
  g_assert_cmpfloat(mean, >, 0.35);
  g_assert_cmpfloat(mean, <, 0.5);
  g_assert_cmpfloat(out[2 * 500], >, 0.7);
  g_assert_cmpfloat(out[2 * 500], >, maxn);
  g_assert_cmpfloat(out[2 * 500 + 1], ==, 1.0f);
  iforest()->free(m);
}

/* The offset is the contamination-quantile of the training score_samples, so
 * about that fraction of the training rows is flagged. */
static void test_contamination(void) {
  g_autoptr(LatheDataset) ds = gaussian(1000, 0, 5);
  gpointer m = fit_ok("{\"contamination\": \"0.1\"}", ds, 2, 2);
  g_autofree float *out = predict_ok(m, ds);
  guint flagged = 0;
  for (guint r = 0; r < 1000; r++)
    flagged += out[2 * r + 1] > 0.5f;
  g_assert_cmpuint(flagged, >=, 99);
  g_assert_cmpuint(flagged, <=, 101);
  const LatheIforest *f = m;
  g_assert_cmpfloat(f->offset, <, -0.5); /* the top 10% of N(0,1) scores are > 0.5 */
  iforest()->free(m);
}

static GBytes *save(gconstpointer m) {
  g_autoptr(GError) error = NULL;
  GBytes *b = iforest()->save(m, &error);
  g_assert_no_error(error);
  return b;
}

static void test_threads(void) {
  g_autoptr(LatheDataset) ds = gaussian(3000, 5, 9);
  const char *params = "{\"n_estimators\": 37, \"max_features\": 1, \"bootstrap\": true}";
  gpointer m1 = fit_ok(params, ds, 11, 1);
  gpointer m2 = fit_ok(params, ds, 11, 2);
  gpointer m3 = fit_ok(params, ds, 11, 3);
  gpointer other = fit_ok(params, ds, 12, 2);
  g_autoptr(GBytes) b1 = save(m1), b2 = save(m2), b3 = save(m3), bo = save(other);
  g_assert_true(g_bytes_equal(b1, b2));
  g_assert_true(g_bytes_equal(b1, b3));
  g_assert_false(g_bytes_equal(b1, bo));
  /* threaded scoring gives the same doubles as one thread */
  double *s1 = g_new(double, ds->n_rows), *s2 = g_new(double, ds->n_rows);
  lathe_iforest_score(m1, ds->x, ds->n_rows, 1, s1);
  lathe_iforest_score(m1, ds->x, ds->n_rows, 2, s2);
  g_assert_cmpmem(s1, ds->n_rows * sizeof(double), s2, ds->n_rows * sizeof(double));
  g_free(s1);
  g_free(s2);
  iforest()->free(m1);
  iforest()->free(m2);
  iforest()->free(m3);
  iforest()->free(other);
}

static void expect_load_error(GBytes *b, guint32 version) {
  g_autoptr(GError) error = NULL;
  gpointer m = iforest()->load(b, version, &error);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "model/iforest"));
}

static void test_blob(void) {
  g_autoptr(LatheDataset) ds = gaussian(300, 3, 1);
  gpointer m = fit_ok("{\"n_estimators\": 10, \"contamination\": \"0.05\"}", ds, 3, 2);
  g_autofree float *before = predict_ok(m, ds);
  g_autoptr(GBytes) blob = save(m);
  g_autoptr(GError) error = NULL;
  gpointer m2 = iforest()->load(blob, iforest()->state_version, &error);
  g_assert_no_error(error);
  g_autofree float *after = predict_ok(m2, ds);
  g_assert_cmpmem(before, ds->n_rows * 2 * sizeof(float), after, ds->n_rows * 2 * sizeof(float));
  g_autoptr(GBytes) again = save(m2);
  g_assert_true(g_bytes_equal(blob, again));
  iforest()->free(m2);
  iforest()->free(m);

  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  for (gsize len = 0; len < size; len += (len < 64 ? 1 : 7)) {
    g_autoptr(GBytes) cut = g_bytes_new(data, len);
    expect_load_error(cut, LATHE_IFOREST_STATE_VERSION);
  }
  guint8 *copy = g_memdup2(data, size);
  for (gsize i = 0; i < size; i++) {
    copy[i] ^= (guint8)(1u << (i % 8));
    g_autoptr(GBytes) bad = g_bytes_new(copy, size);
    expect_load_error(bad, LATHE_IFOREST_STATE_VERSION);
    copy[i] ^= (guint8)(1u << (i % 8));
  }
  g_free(copy);
  expect_load_error(blob, LATHE_IFOREST_STATE_VERSION + 1);
}

static void expect_fit_error(const char *params, const LatheDataset *ds, const char *needle) {
  g_autoptr(GError) error = NULL;
  gpointer m = fit(params, ds, 0, 1, &error);
  g_assert_null(m);
  g_assert_nonnull(error);
  if (!strstr(error->message, needle))
    g_error("message '%s' lacks '%s'", error->message, needle);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_errors(void) {
  g_autoptr(LatheDataset) ds = gaussian(50, 0, 1);
  expect_fit_error("{\"contamination\": \"0.6\"}", ds, "node detector");
  expect_fit_error("{\"contamination\": \"0\"}", ds, "contamination");
  expect_fit_error("{\"contamination\": \"lots\"}", ds, "contamination");
  expect_fit_error("{\"max_samples\": \"0\"}", ds, "max_samples");
  expect_fit_error("{\"max_samples\": \"1.5\"}", ds, "max_samples");
  expect_fit_error("{\"max_samples\": \"0.01\"}", ds, "at least 2");
  expect_fit_error("{\"max_samples\": \"half\"}", ds, "max_samples");
  expect_fit_error("{\"max_features\": 3}", ds, "more than the 2 columns");
  expect_fit_error("{\"max_features\": 1.5}", ds, "whole");
  g_autoptr(LatheDataset) one = lathe_dataset_new(1, 2);
  expect_fit_error("{}", one, "at least 2 rows");
  ds->x[7] = NAN;
  expect_fit_error("{}", ds, "row 3, column 'c1'");
  ds->x[7] = 0.0f;

  /* predict: wrong width, NaN */
  gpointer m = fit_ok("{\"n_estimators\": 2}", ds, 0, 1);
  g_autoptr(LatheDataset) wide = lathe_dataset_new(3, 3);
  g_autoptr(GError) error = NULL;
  guint cols;
  g_assert_null(iforest()->predict(m, wide, &cols, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);
  g_autoptr(LatheDataset) bad = lathe_dataset_new(2, 2);
  bad->x[3] = INFINITY;
  g_assert_null(iforest()->predict(m, bad, &cols, &error));
  g_assert_nonnull(strstr(error->message, "row 1"));
  iforest()->free(m);
}

/* Param columns: the trees see only the named columns, so fitting a 4-column
 * table on ["b", "d"] gives the scores of fitting the 2-column table of b
 * and d (same seed, same draws), predict takes the 4-column rows, and the
 * choice survives the blob. */
static void test_columns(void) {
  g_autoptr(LatheDataset) two = gaussian(300, 2, 8);
  g_autoptr(LatheDataset) four = lathe_dataset_new(two->n_rows, 4);
  const char *names[] = {"a", "b", "c", "d"};
  for (guint j = 0; j < 4; j++)
    lathe_dataset_set_column(four, j, names[j]);
  for (guint r = 0; r < two->n_rows; r++) {
    four->x[r * 4] = 1e6f + r; /* a time-like column the model must ignore */
    four->x[r * 4 + 1] = two->x[r * 2];
    four->x[r * 4 + 2] = NAN; /* not selected: not even checked */
    four->x[r * 4 + 3] = two->x[r * 2 + 1];
  }
  gpointer m2 = fit_ok("{\"n_estimators\": 20}", two, 5, 2);
  gpointer m4 = fit_ok("{\"n_estimators\": 20, \"columns\": [\"b\", \"d\"]}", four, 5, 2);
  g_autofree float *o2 = predict_ok(m2, two);
  g_autofree float *o4 = predict_ok(m4, four);
  g_assert_cmpmem(o2, two->n_rows * 2 * sizeof(float), o4, two->n_rows * 2 * sizeof(float));
  g_autoptr(GBytes) blob = save(m4);
  g_autoptr(GError) error = NULL;
  gpointer back = iforest()->load(blob, LATHE_IFOREST_STATE_VERSION, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(((LatheIforest *)back)->n_input, ==, 4);
  g_assert_cmpuint(((LatheIforest *)back)->use[1], ==, 3);
  g_autofree float *o4b = predict_ok(back, four);
  g_assert_cmpmem(o4, two->n_rows * 2 * sizeof(float), o4b, two->n_rows * 2 * sizeof(float));
  /* a one-forest blob is what state version 1 stored: it still loads as 1 */
  gpointer v1 = iforest()->load(blob, 1, &error);
  g_assert_no_error(error);
  g_autofree float *o4c = predict_ok(v1, four);
  g_assert_cmpmem(o4, two->n_rows * 2 * sizeof(float), o4c, two->n_rows * 2 * sizeof(float));
  iforest()->free(v1);
  guint cols;
  g_assert_null(iforest()->predict(back, two, &cols, &error)); /* 2 columns, not 4 */
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  expect_fit_error("{\"columns\": [\"b\", \"value\"]}", four,
                   "columns: 'value' is not a column of the input; available columns: a, b, c, d");
  expect_fit_error("{\"columns\": [\"b\", \"d\"], \"max_features\": 3}", four,
                   "more than the 2 columns");
  iforest()->free(back);
  iforest()->free(m2);
  iforest()->free(m4);
}

/* ---- NAB: ROC-AUC of s(x) against point labels ----------------------------- */

/* value, diff (first diff 0) of a NAB csv, and the point labels: 1 inside any
 * window of the file (timestamps compare as text: same fixed format). */
static LatheDataset *load_nab(const char *rel, const char *windows_path, gint32 **labels) {
  g_autofree char *labels_dir = g_path_get_dirname(windows_path);
  g_autofree char *nab_dir = g_path_get_dirname(labels_dir);
  g_autofree char *path = g_build_filename(nab_dir, "data", rel, NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = 0;
  for (guint i = 1; lines[i]; i++)
    n += lines[i][0] != '\0';
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_file(parser, windows_path, NULL));
  JsonArray *wins = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), rel);
  LatheDataset *ds = lathe_dataset_new(n, 2);
  *labels = g_new0(gint32, n);
  float prev = 0;
  for (guint r = 0; r < n; r++) {
    const char *line = lines[r + 1];
    const char *comma = strchr(line, ',');
    g_assert_nonnull(comma);
    float v = (float)g_ascii_strtod(comma + 1, NULL);
    ds->x[r * 2] = v;
    ds->x[r * 2 + 1] = r ? v - prev : 0.0f;
    prev = v;
    for (guint w = 0; w < json_array_get_length(wins); w++) {
      JsonArray *win = json_array_get_array_element(wins, w);
      if (strncmp(line, json_array_get_string_element(win, 0), 19) >= 0 &&
          strncmp(line, json_array_get_string_element(win, 1), 19) <= 0)
        (*labels)[r] = 1;
    }
  }
  return ds;
}

static const double *auc_sort_key;
static int by_score(const void *a, const void *b) {
  double x = auc_sort_key[*(const guint *)a], y = auc_sort_key[*(const guint *)b];
  return x < y ? -1 : x > y;
}

/* Mann-Whitney ROC-AUC with average ranks for ties. */
static double roc_auc(const double *s, const gint32 *y, guint n) {
  guint *idx = g_new(guint, n);
  for (guint i = 0; i < n; i++)
    idx[i] = i;
  auc_sort_key = s;
  qsort(idx, n, sizeof *idx, by_score);
  double rank_pos = 0, npos = 0;
  for (guint i = 0; i < n;) {
    guint j = i;
    while (j < n && s[idx[j]] == s[idx[i]])
      j++;
    double avg = (i + 1 + j) / 2.0;
    for (guint k = i; k < j; k++)
      if (y[idx[k]]) {
        rank_pos += avg;
        npos++;
      }
    i = j;
  }
  g_free(idx);
  double nneg = n - npos;
  return (rank_pos - npos * (npos + 1) / 2) / (npos * nneg);
}

static void test_nab_auc(void) {
  g_autofree char *windows = lathe_test_shared_path("nab/labels/combined_windows.json");
  if (!windows) {
    g_test_skip("../shared/data/nab is absent; the NAB ROC-AUC check needs it");
    return;
  }
  /* scikit-learn 1.2.1, IsolationForest(100), median ROC-AUC of 5 seeds */
  static const struct {
    const char *file;
    double sklearn_auc;
  } files[] = {
      {"realKnownCause/ambient_temperature_system_failure.csv", 0.715},
      {"realKnownCause/cpu_utilization_asg_misconfiguration.csv", 0.796},
      {"realKnownCause/ec2_request_latency_system_failure.csv", 0.498},
      {"realKnownCause/machine_temperature_system_failure.csv", 0.799},
      {"realKnownCause/nyc_taxi.csv", 0.512},
  };
  for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
    g_autofree gint32 *labels = NULL;
    g_autoptr(LatheDataset) ds = load_nab(files[f].file, windows, &labels);
    double aucs[5];
    gint64 t0 = g_get_monotonic_time();
    for (guint seed = 0; seed < 5; seed++) {
      gpointer m = fit_ok("{}", ds, seed, 2);
      g_autofree float *out = predict_ok(m, ds);
      double *s = g_new(double, ds->n_rows);
      for (guint r = 0; r < ds->n_rows; r++)
        s[r] = out[2 * r];
      aucs[seed] = roc_auc(s, labels, ds->n_rows);
      /* for compare-sklearn.py: each seed's scores, one per line */
      const char *dump = g_getenv("LATHE_IFOREST_DUMP");
      if (dump) {
        GString *text = g_string_new(NULL);
        for (guint r = 0; r < ds->n_rows; r++)
          g_string_append_printf(text, "%.9g\n", s[r]);
        g_autofree char *base = g_path_get_basename(files[f].file);
        g_autofree char *name = g_strdup_printf("%s.%u", base, seed);
        g_autofree char *out = g_build_filename(dump, name, NULL);
        g_assert_true(g_file_set_contents(out, text->str, (gssize)text->len, NULL));
        g_string_free(text, TRUE);
      }
      g_free(s);
      iforest()->free(m);
    }
    double secs = (g_get_monotonic_time() - t0) / 5e6;
    double med = lathe_iforest_percentile(aucs, 5, 50);
    g_test_message("%s: %u rows, fit+score %.4f s, ROC-AUC median %.3f (sklearn %.3f)",
                   files[f].file, ds->n_rows, secs, med, files[f].sklearn_auc);
    g_assert_cmpfloat(fabs(med - files[f].sklearn_auc), <=, 0.02);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model-iforest/avg-path", test_avg_path);
  g_test_add_func("/model-iforest/constant-data", test_constant_data);
  g_test_add_func("/model-iforest/two-rows", test_two_rows);
  g_test_add_func("/model-iforest/outlier", test_outlier);
  g_test_add_func("/model-iforest/contamination", test_contamination);
  g_test_add_func("/model-iforest/threads", test_threads);
  g_test_add_func("/model-iforest/blob", test_blob);
  g_test_add_func("/model-iforest/errors", test_errors);
  g_test_add_func("/model-iforest/columns", test_columns);
  g_test_add_func("/model-iforest/nab-auc", test_nab_auc);
  return g_test_run();
}
