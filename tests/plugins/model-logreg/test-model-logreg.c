/* model/logreg: accuracy on iris with both solvers, the analytic gradient
 * against finite differences, determinism, the blob round trip and its
 * refusal of damaged bytes, cancellation, reports and input errors.
 *
 * The plugin is loaded as a module for everything that goes through the ABI;
 * the objective and blob code are also compiled in (logreg-internal.h) for
 * the gradient check and the optimality check. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "logreg-internal.h"
#include "test-util.h"

static const LatheModelClass *logreg(void) {
  return (const LatheModelClass *)lathe_test_component("model-logreg", "model/logreg");
}

/* ---- data ---------------------------------------------------------------- */

/* The sklearn copy of iris: a header "150,4,setosa,versicolor,virginica",
 * then rows of 4 floats and an integer label. NULL when the file is absent. */
static LatheDataset *load_iris(void) {
  g_autofree char *path = lathe_test_shared_path("iris/sklearn/iris.csv");
  if (!path)
    return NULL;
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_auto(GStrv) head = g_strsplit(lines[0], ",", -1);
  g_assert_cmpuint(g_strv_length(head), ==, 5);
  guint n = (guint)g_ascii_strtoull(head[0], NULL, 10);
  guint d = (guint)g_ascii_strtoull(head[1], NULL, 10);
  g_assert_cmpuint(d, ==, 4);
  LatheDataset *ds = lathe_dataset_new(n, d);
  lathe_dataset_set_classes(ds, (const char *const *)head + 2);
  for (guint r = 0; r < n; r++) {
    g_auto(GStrv) f = g_strsplit(lines[r + 1], ",", -1);
    g_assert_cmpuint(g_strv_length(f), ==, d + 1);
    for (guint j = 0; j < d; j++)
      ds->x[r * d + j] = (float)g_ascii_strtod(f[j], NULL);
    ds->labels[r] = (gint32)g_ascii_strtoll(f[d], NULL, 10);
  }
  return ds;
}

/* Stratified 80/20 without randomness: iris is sorted by class in blocks of
 * 50, so every fifth row of each block goes to test. */
static void split_iris(const LatheDataset *iris, LatheDataset **train, LatheDataset **test) {
  g_autofree guint32 *tr = g_new(guint32, iris->n_rows);
  g_autofree guint32 *te = g_new(guint32, iris->n_rows);
  guint ntr = 0, nte = 0;
  for (guint r = 0; r < iris->n_rows; r++) {
    if (r % 5 == 4)
      te[nte++] = r;
    else
      tr[ntr++] = r;
  }
  *train = lathe_dataset_take_rows(iris, tr, ntr);
  *test = lathe_dataset_take_rows(iris, te, nte);
}

/* Three Gaussian blobs in @d dims, well separated, labelled "a","b","c". */
static LatheDataset *make_blobs(guint n, guint d, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, d);
  const char *classes[] = {"a", "b", "c", NULL};
  lathe_dataset_set_classes(ds, classes);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++) {
    gint32 c = (gint32)(r % 3);
    ds->labels[r] = c;
    for (guint j = 0; j < d; j++)
      ds->x[r * d + j] = (float)(lathe_rng_normal(&rng) + (j % 3 == (guint)c ? 3.0 : 0.0));
  }
  return ds;
}

/* ---- helpers --------------------------------------------------------------- */

static gpointer fit(const char *params, const LatheDataset *train, guint64 seed,
                    GError **error) {
  g_autoptr(LatheContext) ctx = lathe_test_context(&logreg()->base, "model", params, seed);
  return logreg()->fit(ctx, train, NULL, error);
}

static double accuracy(const float *probs, const LatheDataset *ds, guint k) {
  guint ok = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    guint best = 0;
    for (guint c = 1; c < k; c++)
      if (probs[r * k + c] > probs[r * k + best])
        best = c;
    ok += (gint32)best == ds->labels[r];
  }
  return (double)ok / ds->n_rows;
}

static void assert_rows_sum_to_one(const float *probs, guint n, guint k) {
  for (guint r = 0; r < n; r++) {
    double s = 0.0;
    for (guint c = 0; c < k; c++) {
      g_assert_cmpfloat(probs[r * k + c], >=, 0.0f);
      s += probs[r * k + c];
    }
    g_assert_cmpfloat(fabs(s - 1.0), <, 1e-5);
  }
}

/* ---- tests ----------------------------------------------------------------- */

static void check_iris(const char *params) {
  g_autoptr(LatheDataset) iris = load_iris();
  if (!iris) {
    g_test_skip("iris/sklearn/iris.csv not found under $LATHE_SHARED_DATA");
    return;
  }
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_iris(iris, &train, &test);
  g_autoptr(LatheContext) ctx = lathe_test_context(&logreg()->base, "model", params, 0);
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time();
  gpointer m = logreg()->fit(ctx, train, NULL, &error);
  gint64 t1 = g_get_monotonic_time();
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *probs = logreg()->predict(m, test, &k, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k, ==, 3);
  assert_rows_sum_to_one(probs, test->n_rows, k);
  double acc = accuracy(probs, test, k);
  JsonObject *metrics = lathe_context_get_metrics(ctx);
  g_test_message("%s: held-out accuracy %.4f, train_loss %.5f, n_iter %.0f, fit %.2f ms",
                 params, acc, json_object_get_double_member(metrics, "train_loss"),
                 json_object_get_double_member(metrics, "n_iter"), (t1 - t0) / 1000.0);
  g_assert_cmpfloat(acc, >=, 0.93);
  g_assert_true(json_object_has_member(metrics, "train_loss"));
  g_assert_cmpfloat(json_object_get_double_member(metrics, "n_iter"), >=, 1.0);

  JsonObject *summary = logreg()->summary(m);
  g_assert_cmpint(json_object_get_int_member(summary, "n_parameters"), ==, 15);
  g_assert_cmpint(json_object_get_int_member(summary, "n_features"), ==, 4);
  g_assert_cmpint(json_object_get_int_member(summary, "n_classes"), ==, 3);
  json_object_unref(summary);
  logreg()->free(m);
}

static void test_iris_lbfgs(void) { check_iris("{\"solver\": \"lbfgs\"}"); }
static void test_iris_adam(void) { check_iris("{\"solver\": \"adam\"}"); }

/* d objective / d theta[i] by central differences, in double. */
static double central_difference(const float *x, const gint32 *y, guint n, double l2,
                                 const double *theta, gsize i, LatheLogregWork *work) {
  const double h = 1e-3;
  double probe[12];
  memcpy(probe, theta, sizeof probe);
  probe[i] = theta[i] + h;
  double fp = lathe_logreg_objective(x, y, n, l2, probe, NULL, work);
  probe[i] = theta[i] - h;
  double fm = lathe_logreg_objective(x, y, n, l2, probe, NULL, work);
  return (fp - fm) / (2.0 * h);
}

/* The analytic gradient of the objective against central differences of the
 * same function, on a tiny problem at a point far from the optimum. */
static void test_gradient(void) {
  const guint n = 7, d = 3, k = 3;
  const double l2 = 0.3;
  LatheRng rng;
  lathe_rng_init(&rng, 11);
  float x[7 * 3];
  gint32 y[7] = {0, 1, 2, 1, 0, 2, 2};
  for (guint i = 0; i < n * d; i++)
    x[i] = (float)lathe_rng_normal(&rng);
  const gsize p = lathe_logreg_n_params(d, k);
  g_assert_cmpuint(p, ==, 12);
  double theta[12], grad[12];
  for (gsize i = 0; i < p; i++)
    theta[i] = lathe_rng_normal(&rng);
  LatheLogregWork *work = lathe_logreg_work_new(n, d, k);
  double f = lathe_logreg_objective(x, y, n, l2, theta, grad, work);
  g_assert_true(isfinite(f) && f > 0.0);
  /* The value without a gradient is the same function. */
  g_assert_cmpfloat(lathe_logreg_objective(x, y, n, l2, theta, NULL, work), ==, f);

  double num2 = 0.0, den2 = 0.0;
  for (gsize i = 0; i < p; i++) {
    double fd = central_difference(x, y, n, l2, theta, i, work);
    num2 += (grad[i] - fd) * (grad[i] - fd);
    den2 += fd * fd;
    g_assert_cmpfloat(fabs(grad[i] - fd), <, 1e-4 * MAX(1.0, fabs(fd)));
  }
  double rel = sqrt(num2 / den2);
  g_test_message("gradient relative error %.3g", rel);
  g_assert_cmpfloat(rel, <, 1e-4);

  /* The check has teeth: a gradient off by 1e-3 in one entry fails it. */
  double fd5 = central_difference(x, y, n, l2, theta, 5, work);
  g_assert_cmpfloat(fabs(grad[5] + 1e-3 - fd5), >, 1e-4 * MAX(1.0, fabs(fd5)));
  lathe_logreg_work_free(work);
}

/* L-BFGS must end at a stationary point: rebuild the parameters from the
 * saved model and evaluate the full gradient on the standardised data. */
static void test_lbfgs_optimality(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 5, 3);
  g_autoptr(GError) error = NULL;
  gpointer inst = fit("{\"l2\": 0.01, \"max_iter\": 1000}", ds, 0, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) blob = logreg()->save(inst, &error);
  logreg()->free(inst);
  LatheLogreg *m = lathe_logreg_load(blob, LATHE_LOGREG_STATE_VERSION, &error);
  g_assert_no_error(error);
  const guint n = ds->n_rows, d = ds->n_cols, k = ds->n_classes;
  g_autofree float *xs = g_new(float, n * d);
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < d; j++)
      xs[r * d + j] = (ds->x[r * d + j] - m->mean[j]) / m->scale[j];
  const gsize p = lathe_logreg_n_params(d, k);
  g_autofree double *theta = g_new(double, p), *grad = g_new(double, p),
                    *zero = g_new0(double, p);
  for (gsize i = 0; i < (gsize)k * d; i++)
    theta[i] = m->coef[i];
  for (guint c = 0; c < k; c++)
    theta[k * d + c] = m->intercept[c];
  LatheLogregWork *work = lathe_logreg_work_new(n, d, k);
  double f = lathe_logreg_objective(xs, ds->labels, n, 0.01, theta, grad, work);
  double gmax = 0.0;
  for (gsize i = 0; i < p; i++)
    gmax = MAX(gmax, fabs(grad[i]));
  g_test_message("objective %.6f, gradient max-abs %.3g", f, gmax);
  g_assert_cmpfloat(gmax, <, 1e-4);
  g_assert_cmpfloat(f, <, lathe_logreg_objective(xs, ds->labels, n, 0.01, zero, NULL, work));
  lathe_logreg_work_free(work);
  lathe_logreg_free(m);
}

static GBytes *fit_and_save(const char *params, const LatheDataset *ds, guint64 seed) {
  g_autoptr(GError) error = NULL;
  gpointer m = fit(params, ds, seed, &error);
  g_assert_no_error(error);
  GBytes *b = logreg()->save(m, &error);
  g_assert_no_error(error);
  logreg()->free(m);
  return b;
}

static void test_determinism(void) {
  g_autoptr(LatheDataset) ds = make_blobs(200, 6, 5);
  const char *adam = "{\"solver\": \"adam\", \"max_iter\": 30, \"batch_size\": 16}";
  g_autoptr(GBytes) a = fit_and_save(adam, ds, 1);
  g_autoptr(GBytes) b = fit_and_save(adam, ds, 1);
  g_autoptr(GBytes) c = fit_and_save(adam, ds, 2);
  g_assert_true(g_bytes_equal(a, b));  /* bit-identical weights */
  g_assert_false(g_bytes_equal(a, c)); /* another seed, other batches */
  g_autoptr(GBytes) l1 = fit_and_save("{}", ds, 1);
  g_autoptr(GBytes) l2 = fit_and_save("{}", ds, 9);
  g_assert_true(g_bytes_equal(l1, l2)); /* L-BFGS uses no randomness */
}

static void test_save_load_predict(void) {
  g_autoptr(LatheDataset) ds = make_blobs(120, 4, 8);
  g_autoptr(GError) error = NULL;
  gpointer m = fit("{\"max_iter\": 50}", ds, 0, &error);
  g_assert_no_error(error);
  guint k1 = 0, k2 = 0;
  g_autofree float *p1 = logreg()->predict(m, ds, &k1, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) blob = logreg()->save(m, &error);
  logreg()->free(m);
  gpointer m2 = logreg()->load(blob, logreg()->state_version, &error);
  g_assert_no_error(error);
  g_autofree float *p2 = logreg()->predict(m2, ds, &k2, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k1, ==, 3);
  g_assert_cmpuint(k2, ==, 3);
  g_assert_cmpmem(p1, ds->n_rows * k1 * sizeof(float), p2, ds->n_rows * k2 * sizeof(float));
  assert_rows_sum_to_one(p2, ds->n_rows, k2);
  g_assert_cmpfloat(accuracy(p2, ds, k2), >, 0.9);
  /* Saving the loaded model gives the same bytes. */
  g_autoptr(GBytes) again = logreg()->save(m2, &error);
  g_assert_true(g_bytes_equal(blob, again));

  /* Through the host path as well: artifact -> lathe_context_predict. */
  g_autoptr(LatheContext) ctx = lathe_test_context(&logreg()->base, "model", NULL, 0);
  g_autoptr(LatheArtifact) art = lathe_test_fit(&logreg()->base, ctx, ds, NULL, &error);
  g_assert_no_error(error);
  guint k3 = 0;
  g_autofree float *p3 = lathe_context_predict(ctx, art, ds, &k3, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k3, ==, 3);
  assert_rows_sum_to_one(p3, ds->n_rows, k3);
  logreg()->free(m2);
}

static void expect_load_error(GBytes *b, guint32 version) {
  g_autoptr(GError) error = NULL;
  gpointer m = logreg()->load(b, version, &error);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "model/logreg"));
}

static void test_corrupt_blob(void) {
  g_autoptr(LatheDataset) ds = make_blobs(60, 5, 2);
  g_autoptr(GBytes) blob = fit_and_save("{\"max_iter\": 20}", ds, 0);
  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  g_assert_cmpuint(size, ==, 24 + 4 * (2 * 5 + 3 * 5 + 3) + 8);

  /* Every truncation, including the empty blob. */
  for (gsize len = 0; len < size; len++) {
    g_autoptr(GBytes) cut = g_bytes_new(data, len);
    expect_load_error(cut, 1);
  }
  /* One flipped bit at every offset (cycling the bit position). */
  g_autofree guint8 *copy = g_memdup2(data, size);
  for (gsize off = 0; off < size; off++) {
    copy[off] ^= (guint8)(1u << (off % 8));
    g_autoptr(GBytes) bad = g_bytes_new(copy, size);
    expect_load_error(bad, 1);
    copy[off] ^= (guint8)(1u << (off % 8));
  }
  /* Trailing garbage and an unknown state version. */
  g_autofree guint8 *longer = g_malloc(size + 3);
  memcpy(longer, data, size);
  memset(longer + size, 0xab, 3);
  g_autoptr(GBytes) tail = g_bytes_new(longer, size + 3);
  expect_load_error(tail, 1);
  expect_load_error(blob, 2);
  /* The intact copy still loads: the refusals above are about the damage. */
  g_autoptr(GBytes) intact = g_bytes_new(copy, size);
  g_autoptr(GError) error = NULL;
  gpointer m = logreg()->load(intact, 1, &error);
  g_assert_no_error(error);
  logreg()->free(m);
}

/* A host whose report service records steps and can cancel the node. */
typedef struct {
  guint reports;
  guint cancel_at; /* cancel on this report; 0 = never */
  double last_loss;
  gboolean increasing;
} ReportLog;

static void on_report(gpointer host_data, LatheContext *ctx, const char *name, double value,
                      gint64 step) {
  ReportLog *log = host_data;
  g_assert_cmpstr(name, ==, "loss");
  if (log->reports > 0 && value > log->last_loss + 1e-12)
    log->increasing = TRUE;
  log->last_loss = value;
  if (++log->reports == log->cancel_at)
    lathe_context_cancel(ctx);
}

static const LatheHostServices report_host = {.struct_size = sizeof(LatheHostServices),
                                              .report = on_report};

static LatheContext *report_context(const char *params, ReportLog *log) {
  /* Defaults filled by the test helper, then the same params on our host. */
  g_autoptr(LatheContext) base = lathe_test_context(&logreg()->base, "model", params, 0);
  return lathe_context_new("model", lathe_context_get_params(base), 7, &report_host, log);
}

static void test_reports(void) {
  g_autoptr(LatheDataset) ds = make_blobs(150, 4, 4);
  ReportLog log = {0};
  g_autoptr(LatheContext) ctx = report_context("{\"max_iter\": 1000, \"tol\": 0}", &log);
  g_autoptr(GError) error = NULL;
  gpointer m = logreg()->fit(ctx, ds, NULL, &error);
  g_assert_no_error(error);
  double n_iter = json_object_get_double_member(lathe_context_get_metrics(ctx), "n_iter");
  g_test_message("%u reports over %.0f iterations", log.reports, n_iter);
  g_assert_cmpuint(log.reports, >=, 1);
  g_assert_cmpuint(log.reports, <=, 101);
  g_assert_false(log.increasing); /* Armijo steps only ever decrease it */
  logreg()->free(m);

  ReportLog alog = {0};
  g_autoptr(LatheContext) actx =
      report_context("{\"solver\": \"adam\", \"max_iter\": 2000, \"tol\": 0}", &alog);
  m = logreg()->fit(actx, ds, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(alog.reports, >=, 90);
  g_assert_cmpuint(alog.reports, <=, 101);
  logreg()->free(m);
}

static void test_cancel(void) {
  g_autoptr(LatheDataset) ds = make_blobs(150, 4, 4);
  /* max_iter 100: one report per iteration or epoch. */
  const char *solvers[] = {"{\"max_iter\": 100, \"tol\": 0}",
                           "{\"solver\": \"adam\", \"max_iter\": 100, \"tol\": 0}"};
  for (guint i = 0; i < 2; i++) {
    ReportLog log = {.cancel_at = 2};
    g_autoptr(LatheContext) ctx = report_context(solvers[i], &log);
    g_autoptr(GError) error = NULL;
    gpointer m = logreg()->fit(ctx, ds, NULL, &error);
    g_assert_null(m);
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
    g_assert_cmpuint(log.reports, ==, 2); /* stopped right after the cancel */
  }
  /* Already cancelled before starting. */
  g_autoptr(LatheContext) ctx = lathe_test_context(&logreg()->base, "model", NULL, 0);
  lathe_context_cancel(ctx);
  g_autoptr(GError) error = NULL;
  g_assert_null(logreg()->fit(ctx, ds, NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
}

static void test_standardize(void) {
  /* Features on wildly different scales give the same model once
   * standardised: predictions match those on the unscaled data. */
  g_autoptr(LatheDataset) ds = make_blobs(150, 3, 6);
  g_autoptr(LatheDataset) big = lathe_dataset_new(ds->n_rows, ds->n_cols);
  lathe_dataset_set_classes(big, (const char *const *)ds->classes);
  for (guint r = 0; r < ds->n_rows; r++) {
    big->labels[r] = ds->labels[r];
    for (guint j = 0; j < 3; j++)
      big->x[r * 3 + j] = ds->x[r * 3 + j] * (j == 0 ? 1000.0f : 0.001f) + 50.0f;
  }
  g_autoptr(GError) error = NULL;
  gpointer a = fit("{\"l2\": 0.01}", ds, 0, &error);
  gpointer b = fit("{\"l2\": 0.01}", big, 0, &error);
  g_assert_no_error(error);
  guint k;
  g_autofree float *pa = logreg()->predict(a, ds, &k, &error);
  g_autofree float *pb = logreg()->predict(b, big, &k, &error);
  double worst = 0.0;
  for (guint i = 0; i < ds->n_rows * k; i++)
    worst = MAX(worst, fabs(pa[i] - pb[i]));
  g_assert_cmpfloat(worst, <, 1e-2);
  logreg()->free(a);
  logreg()->free(b);
}

static void expect_fit_error(const LatheDataset *ds, const char *needle) {
  g_autoptr(GError) error = NULL;
  g_assert_null(fit(NULL, ds, 0, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  if (!strstr(error->message, needle))
    g_error("expected '%s' in: %s", needle, error->message);
}

static void test_errors(void) {
  g_autoptr(LatheDataset) unlabelled = lathe_dataset_new(10, 2);
  expect_fit_error(unlabelled, "no labels");

  g_autoptr(LatheDataset) one = make_blobs(9, 2, 1);
  const char *single[] = {"only", NULL};
  lathe_dataset_set_classes(one, single);
  expect_fit_error(one, "at least 2");

  g_autoptr(LatheDataset) same = make_blobs(9, 2, 1);
  for (guint r = 0; r < same->n_rows; r++)
    same->labels[r] = 1;
  expect_fit_error(same, "class 'b'");

  g_autoptr(LatheDataset) nan = make_blobs(9, 2, 1);
  lathe_dataset_set_column(nan, 1, "petal");
  nan->x[4 * 2 + 1] = NAN;
  expect_fit_error(nan, "row 4, column 'petal'");
  nan->x[4 * 2 + 1] = INFINITY;
  expect_fit_error(nan, "row 4, column 'petal'");

  g_autoptr(LatheDataset) missing = make_blobs(9, 2, 1);
  missing->labels[6] = -1;
  expect_fit_error(missing, "row 6");

  /* Predict on the wrong number of features. */
  g_autoptr(LatheDataset) ds = make_blobs(30, 3, 1);
  g_autoptr(GError) error = NULL;
  gpointer m = fit(NULL, ds, 0, &error);
  g_assert_no_error(error);
  g_autoptr(LatheDataset) narrow = make_blobs(5, 2, 1);
  guint k = 0;
  g_assert_null(logreg()->predict(m, narrow, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "2 feature columns"));
  logreg()->free(m);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model-logreg/iris-lbfgs", test_iris_lbfgs);
  g_test_add_func("/model-logreg/iris-adam", test_iris_adam);
  g_test_add_func("/model-logreg/gradient", test_gradient);
  g_test_add_func("/model-logreg/lbfgs-optimality", test_lbfgs_optimality);
  g_test_add_func("/model-logreg/determinism", test_determinism);
  g_test_add_func("/model-logreg/save-load-predict", test_save_load_predict);
  g_test_add_func("/model-logreg/corrupt-blob", test_corrupt_blob);
  g_test_add_func("/model-logreg/reports", test_reports);
  g_test_add_func("/model-logreg/cancel", test_cancel);
  g_test_add_func("/model-logreg/standardize", test_standardize);
  g_test_add_func("/model-logreg/errors", test_errors);
  return g_test_run();
}
