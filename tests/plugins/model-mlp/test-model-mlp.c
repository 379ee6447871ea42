/* model/mlp through its ABI, and with it the machinery the four neural
 * models share (nn/nn-model.c, nn-train.c, nn-data.c, nn-blob.c): learning,
 * determinism, the blob, early stopping, divergence, cancellation, reports,
 * class weights, the validation split and every input error. */
#include <math.h>
#include <string.h>

#include "model-nn-util.h"
#include "nn-data.h"
#include "nn-net.h"
#include "nn-train.h"

/* ASan's allocator aborts on absurd requests instead of failing them, so
 * the out-of-memory checks run only without it. */
#include "../../common/test-asan.h"

static const LatheModelClass *mlp(void) { return nn_model("mlp"); }

/* Small, quick settings for most tests. */
#define SMALL "\"units\": [16, 16], \"epochs\": 30, \"batch_size\": 16"

static void expect_fit_error(const char *params, const LatheDataset *train,
                             const LatheDataset *valid, gint code, const char *needle) {
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), params, train, valid, 0, &error);
  g_assert_null(m);
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  g_assert_error(error, LATHE_ERROR, code);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_nonnull(strstr(error->message, "model/mlp node 'model'"));
  if (!strstr(error->message, needle))
    g_error("'%s' does not say '%s'", error->message, needle);
}

/* ---- learning ------------------------------------------------------------ */

static void test_learns_blobs(void) {
  g_autoptr(LatheDataset) all = make_blobs(600, 8, 3, 1);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(all, 4, &train, &test);
  for (int act = 0; act < 2; act++) {
    g_autofree char *params =
        g_strdup_printf("{" SMALL ", \"activation\": \"%s\"}", act ? "tanh" : "relu");
    g_autoptr(GError) error = NULL;
    gpointer m = nn_fit(mlp(), params, train, NULL, 3, &error);
    g_assert_no_error(error);
    guint k = 0;
    g_autofree float *p = mlp()->predict(m, test, &k, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(k, ==, 3);
    assert_probabilities(p, test->n_rows, k);
    double acc = nn_accuracy(p, test, k);
    g_test_message("%s: held-out accuracy %.3f (chance 0.33)", act ? "tanh" : "relu", acc);
    g_assert_cmpfloat(acc, >, 0.85);
    mlp()->free(m);
  }
}

static void test_learns_iris(void) {
  g_autofree char *path = lathe_test_shared_path("iris/sklearn/iris.csv");
  if (!path) {
    g_test_skip("iris/sklearn/iris.csv is not in the shared data folder");
    return;
  }
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_auto(GStrv) head = g_strsplit(lines[0], ",", -1);
  const guint n = (guint)g_ascii_strtoull(head[0], NULL, 10);
  g_autoptr(LatheDataset) iris = lathe_dataset_new(n, 4);
  lathe_dataset_set_classes(iris, (const char *const *)head + 2);
  for (guint r = 0; r < n; r++) {
    g_auto(GStrv) f = g_strsplit(lines[r + 1], ",", -1);
    for (guint j = 0; j < 4; j++)
      iris->x[r * 4 + j] = (float)g_ascii_strtod(f[j], NULL);
    iris->labels[r] = (gint32)g_ascii_strtoll(f[4], NULL, 10);
  }
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(iris, 5, &train, &test);
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), "{\"units\": [32], \"epochs\": 300, \"lr\": 0.01, "
                             "\"batch_size\": 16, \"patience\": 30}",
                      train, NULL, 0, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *p = mlp()->predict(m, test, &k, &error);
  g_assert_no_error(error);
  double acc = nn_accuracy(p, test, k);
  g_test_message("iris held-out accuracy %.3f", acc);
  g_assert_cmpfloat(acc, >=, 0.9);
  mlp()->free(m);
}

/* ---- determinism and the blob --------------------------------------------- */

static GBytes *fit_and_save(const char *params, const LatheDataset *ds, guint64 seed) {
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), params, ds, NULL, seed, &error);
  g_assert_no_error(error);
  GBytes *b = mlp()->save(m, &error);
  g_assert_no_error(error);
  mlp()->free(m);
  return b;
}

static void test_determinism(void) {
  g_autoptr(LatheDataset) ds = make_blobs(200, 6, 3, 2);
  const char *params = "{" SMALL ", \"dropout\": 0.2, \"epochs\": 10}";
  g_autoptr(GBytes) a = fit_and_save(params, ds, 5);
  g_autoptr(GBytes) b = fit_and_save(params, ds, 5);
  g_autoptr(GBytes) c = fit_and_save(params, ds, 6);
  g_assert_true(g_bytes_equal(a, b)); /* byte for byte */
  g_assert_false(g_bytes_equal(a, c)); /* another seed: other init, batches, masks */
}

static void test_save_load(void) {
  g_autoptr(LatheDataset) ds = make_blobs(150, 5, 3, 3);
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), "{" SMALL ", \"epochs\": 5}", ds, NULL, 1, &error);
  g_assert_no_error(error);
  guint k1 = 0, k2 = 0;
  g_autofree float *p1 = mlp()->predict(m, ds, &k1, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) blob = mlp()->save(m, &error);
  g_assert_no_error(error);
  gpointer m2 = mlp()->load(blob, mlp()->state_version, &error);
  g_assert_no_error(error);
  g_autofree float *p2 = mlp()->predict(m2, ds, &k2, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k1, ==, k2);
  g_assert_cmpmem(p1, ds->n_rows * k1 * sizeof(float), p2, ds->n_rows * k2 * sizeof(float));
  g_autoptr(GBytes) again = mlp()->save(m2, &error);
  g_assert_true(g_bytes_equal(blob, again));

  /* The summary: 5*16+16 + 16*16+16 + 16*3+3 parameters. */
  g_autoptr(JsonObject) s1 = mlp()->summary(m);
  g_autoptr(JsonObject) s2 = mlp()->summary(m2);
  g_assert_cmpint(json_object_get_int_member(s1, "n_parameters"), ==, 96 + 272 + 51);
  g_assert_cmpint(json_object_get_int_member(s2, "n_parameters"), ==, 96 + 272 + 51);
  g_assert_cmpint(json_object_get_int_member(s2, "epochs_run"), ==, 5);
  g_assert_true(json_object_has_member(s2, "best_val_loss"));
  g_autofree char *t1 = lathe_json_canonical(json_node_init_object(json_node_alloc(), s1));
  g_autofree char *t2 = lathe_json_canonical(json_node_init_object(json_node_alloc(), s2));
  g_assert_cmpstr(t1, ==, t2);

  /* Through the host path: artifact, then lathe_context_predict. */
  g_autoptr(LatheContext) ctx = lathe_test_context(&mlp()->base, "model", "{" SMALL "}", 0);
  g_autoptr(LatheArtifact) art = lathe_test_fit(&mlp()->base, ctx, ds, NULL, &error);
  g_assert_no_error(error);
  guint k3 = 0;
  g_autofree float *p3 = lathe_context_predict(ctx, art, ds, &k3, &error);
  g_assert_no_error(error);
  assert_probabilities(p3, ds->n_rows, k3);

  /* No rows: an empty result, not an error. */
  g_autoptr(LatheDataset) none = lathe_dataset_take_rows(ds, NULL, 0);
  guint k4 = 0;
  g_autofree float *p4 = mlp()->predict(m2, none, &k4, &error);
  g_assert_no_error(error);
  g_assert_nonnull(p4);
  g_assert_cmpuint(k4, ==, 3);
  mlp()->free(m);
  mlp()->free(m2);
}

static void test_blob_refusals(void) {
  g_autoptr(LatheDataset) ds = make_blobs(60, 3, 2, 4);
  g_autoptr(GBytes) blob = fit_and_save("{\"units\": [4], \"epochs\": 2}", ds, 0);
  check_blob_refusals(mlp(), blob);
  /* A blob of another family is refused by this one. */
  g_autoptr(LatheDataset) seq = make_waves(30, 8, FALSE, 1);
  const LatheModelClass *rnn = nn_model("rnn");
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(rnn, "{\"units\": [3], \"epochs\": 1}", seq, NULL, 0, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) other = rnn->save(m, &error);
  rnn->free(m);
  g_assert_null(mlp()->load(other, mlp()->state_version, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "another model family"));
}

/* ---- training loop --------------------------------------------------------- */

static double mean_ce(const float *p, const LatheDataset *ds, guint k) {
  double sum = 0;
  for (guint r = 0; r < ds->n_rows; r++)
    sum += -log((double)p[(gsize)r * k + ds->labels[r]]);
  return sum / ds->n_rows;
}

/* Noisy labels and a big net: the validation loss turns up, patience runs
 * out, and the model returned is the one of the best epoch. */
static void test_early_stopping(void) {
  g_autoptr(LatheDataset) ds = make_blobs(200, 10, 2, 5);
  LatheRng rng;
  lathe_rng_init(&rng, 3);
  for (guint r = 0; r < ds->n_rows; r++)
    if (lathe_rng_uniform(&rng) < 0.3)
      ds->labels[r] = 1 - ds->labels[r];
  g_autoptr(LatheDataset) train = NULL, valid = NULL;
  split_rows(ds, 3, &train, &valid);
  ReportLog log;
  report_log_init(&log);
  g_autoptr(LatheContext) ctx = report_context(
      mlp(), "{\"units\": [128, 128], \"epochs\": 400, \"lr\": 0.01, \"patience\": 5}", 1, &log);
  g_autoptr(GError) error = NULL;
  gpointer m = mlp()->fit(ctx, train, valid, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) s = mlp()->summary(m);
  const gint64 run = json_object_get_int_member(s, "epochs_run");
  const gint64 best = json_object_get_int_member(s, "best_epoch");
  g_test_message("stopped after %" G_GINT64_FORMAT " epochs, best %" G_GINT64_FORMAT, run,
                 best);
  g_assert_true(json_object_get_boolean_member(s, "stopped_early"));
  g_assert_cmpint(run, <, 400);
  g_assert_cmpint(run - best, ==, 5);
  g_assert_cmpuint(log.loss->len, ==, run);
  g_assert_cmpuint(log.val_loss->len, ==, run);
  g_assert_cmpuint(log.val_accuracy->len, ==, run);
  g_assert_cmpuint(log.seconds->len, ==, run);
  /* The best epoch's val_loss is the smallest reported, the one in the
   * summary, and the loss of the returned model on the validation rows. */
  const double best_val = g_array_index(log.val_loss, double, best - 1);
  for (guint e = 0; e < log.val_loss->len; e++)
    g_assert_cmpfloat(g_array_index(log.val_loss, double, e), >=, best_val);
  g_assert_cmpfloat(json_object_get_double_member(s, "best_val_loss"), ==, best_val);
  guint k = 0;
  g_autofree float *p = mlp()->predict(m, valid, &k, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(fabs(mean_ce(p, valid, k) - best_val), <, 1e-5 * best_val);
  g_assert_cmpfloat(fabs(nn_accuracy(p, valid, k) -
                         g_array_index(log.val_accuracy, double, best - 1)),
                    <, 1e-9);
  /* The node's metrics. */
  JsonObject *metrics = lathe_context_get_metrics(ctx);
  g_assert_cmpfloat(json_object_get_double_member(metrics, "val_loss"), ==, best_val);
  g_assert_cmpfloat(json_object_get_double_member(metrics, "best_epoch"), ==, (double)best);
  mlp()->free(m);
  report_log_clear(&log);

  /* patience 0: every epoch runs, and the last weights are kept. */
  report_log_init(&log);
  g_autoptr(LatheContext) ctx2 = report_context(
      mlp(), "{\"units\": [128, 128], \"epochs\": 40, \"lr\": 0.01, \"patience\": 0}", 1, &log);
  m = mlp()->fit(ctx2, train, valid, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) s2 = mlp()->summary(m);
  g_assert_cmpint(json_object_get_int_member(s2, "epochs_run"), ==, 40);
  g_assert_false(json_object_get_boolean_member(s2, "stopped_early"));
  g_autofree float *p2 = mlp()->predict(m, valid, &k, &error);
  g_assert_cmpfloat(fabs(mean_ce(p2, valid, k) - g_array_index(log.val_loss, double, 39)), <,
                    1e-5);
  mlp()->free(m);
  report_log_clear(&log);
}

/* Without validation rows early stopping watches the training loss, and
 * only "loss" and "epoch_seconds" are reported. */
static void test_no_validation(void) {
  g_autoptr(LatheDataset) ds = make_blobs(90, 4, 3, 6);
  ReportLog log;
  report_log_init(&log);
  g_autoptr(LatheContext) ctx =
      report_context(mlp(), "{" SMALL ", \"validation_fraction\": 0}", 2, &log);
  g_autoptr(GError) error = NULL;
  gpointer m = mlp()->fit(ctx, ds, NULL, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) s = mlp()->summary(m);
  g_assert_true(json_object_has_member(s, "best_loss"));
  g_assert_false(json_object_has_member(s, "best_val_loss"));
  g_assert_cmpuint(log.loss->len, ==, 30);
  g_assert_cmpuint(log.val_loss->len, ==, 0);
  g_assert_cmpuint(log.seconds->len, ==, 30);
  /* The training loss falls. */
  g_assert_cmpfloat(g_array_index(log.loss, double, 29), <,
                    0.5 * g_array_index(log.loss, double, 0));
  mlp()->free(m);
  report_log_clear(&log);
}

/* Through the ABI: inputs so large (yet finite) that the activations
 * overflow float give a NaN loss, and the node fails naming the epoch. */
static void test_diverges(void) {
  g_autoptr(LatheDataset) ds = make_blobs(120, 6, 3, 7);
  for (gsize i = 0; i < (gsize)ds->n_rows * ds->n_cols; i++)
    ds->x[i] *= 3e37f;
  const char *params = "{\"units\": [64, 64, 64], \"epochs\": 50, \"lr\": 10}";
  expect_fit_error(params, ds, NULL, LATHE_ERROR_FAILED,
                   "training diverged at epoch 1 (loss is NaN); lower lr");
}

/* In the engine: a weight turned NaN after epoch 3's reports makes epoch 4
 * fail, and the net's weights are not returned as a model. */
typedef struct {
  LatheNnNet *net;
  guint reports;
} Poison;

static void poison_report(gpointer host_data, LatheContext *ctx, const char *name, double value,
                          gint64 step) {
  Poison *p = host_data;
  if (g_str_equal(name, "loss") && step == 3)
    lathe_nn_net_params(p->net)[0] = NAN;
  p->reports++;
}

static void test_diverges_epoch(void) {
  g_autoptr(LatheDataset) ds = make_blobs(40, 4, 2, 7);
  LatheNnNet *net = lathe_nn_net_new((LatheNnShape){1, 4}, 2);
  lathe_nn_net_add(net, lathe_nn_dense(5, LATHE_NN_ACT_RELU));
  lathe_nn_net_add(net, lathe_nn_dense(2, LATHE_NN_ACT_NONE));
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_nn_net_build(net, 8, TRUE, &error));
  LatheRng rng;
  lathe_rng_init(&rng, 1);
  lathe_nn_net_init(net, &rng);
  Poison poison = {net, 0};
  const LatheHostServices host = {.struct_size = sizeof host, .report = poison_report};
  g_autoptr(LatheContext) ctx = lathe_context_new("n", NULL, 1, &host, &poison);
  g_autofree guint32 *rows = g_new(guint32, ds->n_rows);
  for (guint r = 0; r < ds->n_rows; r++)
    rows[r] = r;
  const LatheNnSplit train = {ds, rows, ds->n_rows};
  const double cw[2] = {1, 1};
  const LatheNnTrainConfig cfg = {.epochs = 10, .batch_size = 8, .patience = 0, .lr = 0.01,
                                  .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  LatheNnTrainResult res;
  g_assert_false(lathe_nn_train(net, ctx, "who", &train, NULL, cw, &cfg, &res, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_FAILED);
  g_assert_cmpstr(error->message, ==,
                  "who: training diverged at epoch 4 (loss is NaN); lower lr or standardise "
                  "the inputs");
  g_assert_cmpuint(res.epochs_run, ==, 3);
  lathe_nn_net_free(net);
}

static void test_cancel(void) {
  g_autoptr(LatheDataset) ds = make_blobs(90, 4, 3, 8);
  /* 4 reports per epoch (loss, val_loss, val_accuracy, epoch_seconds):
   * cancelled during epoch 2's reports, so epoch 3 never starts. */
  ReportLog log;
  report_log_init(&log);
  log.cancel_at = 6;
  g_autoptr(LatheContext) ctx = report_context(mlp(), "{" SMALL "}", 3, &log);
  g_autoptr(GError) error = NULL;
  g_assert_null(mlp()->fit(ctx, ds, NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "cancelled at epoch 3"));
  g_assert_cmpuint(log.loss->len, ==, 2);
  report_log_clear(&log);

  /* Cancelled before it starts. */
  g_autoptr(LatheContext) pre = lathe_test_context(&mlp()->base, "model", "{" SMALL "}", 0);
  lathe_context_cancel(pre);
  g_clear_error(&error);
  g_assert_null(mlp()->fit(pre, ds, NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "cancelled at epoch 1"));
}

/* Imbalanced classes: "balanced" weights raise the minority's probability. */
static void test_class_weight(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 4, 2, 9);
  for (guint r = 0; r < ds->n_rows; r++)
    if (ds->labels[r] == 1 && r % 10 != 1)
      ds->labels[r] = 0; /* only 1 in 10 of the second blob keeps its class */
  double mean_p[2];
  for (int b = 0; b < 2; b++) {
    g_autofree char *params =
        g_strdup_printf("{\"units\": [8], \"epochs\": 60, \"lr\": 0.01, \"class_weight\": \"%s\"}",
                        b ? "balanced" : "none");
    g_autoptr(GError) error = NULL;
    gpointer m = nn_fit(mlp(), params, ds, NULL, 1, &error);
    g_assert_no_error(error);
    guint k = 0;
    g_autofree float *p = mlp()->predict(m, ds, &k, &error);
    mean_p[b] = 0;
    for (guint r = 0; r < ds->n_rows; r++)
      mean_p[b] += p[r * k + 1] / ds->n_rows;
    mlp()->free(m);
  }
  g_test_message("mean p(minority): none %.3f, balanced %.3f", mean_p[0], mean_p[1]);
  g_assert_cmpfloat(mean_p[1], >, mean_p[0] + 0.1);

  /* The weights themselves: n / (k * count). */
  g_autofree guint32 *rows = g_new(guint32, ds->n_rows);
  guint minority = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    rows[r] = r;
    minority += ds->labels[r] == 1;
  }
  g_autofree double *w = lathe_nn_class_weights(ds, rows, ds->n_rows, TRUE);
  g_assert_cmpfloat(fabs(w[1] - 300.0 / (2.0 * minority)), <, 1e-12);
  g_assert_cmpfloat(fabs(w[0] - 300.0 / (2.0 * (300 - minority))), <, 1e-12);
  g_autofree double *ones = lathe_nn_class_weights(ds, rows, ds->n_rows, FALSE);
  g_assert_cmpfloat(ones[0], ==, 1.0);
  g_assert_cmpfloat(ones[1], ==, 1.0);
}

/* ---- the validation split ----------------------------------------------- */

static void test_split(void) {
  /* Stratified: each class holds out round(fraction x its rows). */
  g_autoptr(LatheDataset) ds = make_blobs(200, 2, 3, 10);
  for (guint r = 0; r < 50; r++)
    ds->labels[r] = 0; /* classes of 100, 50, 50 rows (about) */
  guint count[3] = {0}, held[3] = {0};
  for (guint r = 0; r < ds->n_rows; r++)
    count[ds->labels[r]]++;
  LatheRng rng;
  lathe_rng_init(&rng, 1);
  GArray *tr, *va;
  lathe_nn_data_split(ds, 0.2, &rng, &tr, &va);
  g_assert_cmpuint(tr->len + va->len, ==, ds->n_rows);
  for (guint i = 0; i < va->len; i++)
    held[ds->labels[g_array_index(va, guint32, i)]]++;
  for (guint c = 0; c < 3; c++)
    g_assert_cmpint(abs((int)held[c] - (int)lround(0.2 * count[c])), <=, 1);
  for (guint i = 1; i < tr->len; i++)
    g_assert_cmpuint(g_array_index(tr, guint32, i - 1), <, g_array_index(tr, guint32, i));
  g_array_free(tr, TRUE);
  g_array_free(va, TRUE);

  /* Grouped: 20 groups of 10 rows (and some rows with no group); no group
   * ends up on both sides, and about 20% of the rows are held out. */
  const char *names[21] = {0};
  g_autofree char **owned = g_new0(char *, 21);
  for (guint g = 0; g < 20; g++)
    names[g] = owned[g] = g_strdup_printf("g%u", g);
  lathe_dataset_set_groups(ds, names);
  for (guint r = 0; r < ds->n_rows; r++)
    ds->groups[r] = r < 190 ? (gint32)(r / 10 % 20) : -1;
  lathe_rng_init(&rng, 2);
  lathe_nn_data_split(ds, 0.2, &rng, &tr, &va);
  gint side[20];
  for (guint g = 0; g < 20; g++)
    side[g] = -1;
  for (guint i = 0; i < tr->len + va->len; i++) {
    gboolean held_out = i >= tr->len;
    guint32 r = held_out ? g_array_index(va, guint32, i - tr->len) : g_array_index(tr, guint32, i);
    gint32 g = ds->groups[r];
    if (g < 0)
      continue;
    if (side[g] == -1)
      side[g] = held_out;
    g_assert_cmpint(side[g], ==, held_out);
  }
  g_test_message("grouped split: %u of %u rows held out", va->len, ds->n_rows);
  g_assert_cmpuint(va->len, >=, 30);
  g_assert_cmpuint(va->len, <=, 50);
  g_array_free(tr, TRUE);
  g_array_free(va, TRUE);
  for (guint g = 0; g < 20; g++)
    g_free(owned[g]);

  /* A class with one row keeps it for training. */
  g_autoptr(LatheDataset) tiny = make_blobs(21, 2, 3, 11);
  for (guint r = 0; r < tiny->n_rows; r++)
    if (tiny->labels[r] == 2)
      tiny->labels[r] = r == 2 ? 2 : 0;
  lathe_rng_init(&rng, 3);
  lathe_nn_data_split(tiny, 0.9, &rng, &tr, &va);
  gboolean trained = FALSE;
  for (guint i = 0; i < tr->len; i++)
    trained |= g_array_index(tr, guint32, i) == 2;
  g_assert_true(trained);
  g_array_free(tr, TRUE);
  g_array_free(va, TRUE);
}

/* ---- input errors ---------------------------------------------------------- */

static void test_bad_input(void) {
  g_autoptr(LatheDataset) ds = make_blobs(30, 3, 3, 12);
  const char *p = "{\"units\": [4], \"epochs\": 2}";

  g_autoptr(LatheDataset) unlabelled = lathe_dataset_new(10, 3);
  expect_fit_error(p, unlabelled, NULL, LATHE_ERROR_DATA, "has no labels");

  g_autoptr(LatheDataset) minus = lathe_dataset_take_rows(ds, (guint32[]){0, 1, 2, 3}, 4);
  minus->labels[2] = -1;
  expect_fit_error(p, minus, NULL, LATHE_ERROR_DATA, "training row 2 has no valid label");

  g_autoptr(LatheDataset) missing = lathe_dataset_take_rows(ds, (guint32[]){0, 1, 3, 4}, 4);
  expect_fit_error(p, missing, NULL, LATHE_ERROR_DATA,
                   "class 'c' has no rows in the training data");

  g_autoptr(LatheDataset) nan = lathe_dataset_take_rows(ds, (guint32[]){0, 1, 2, 3}, 4);
  lathe_dataset_set_column(nan, 1, "speed");
  nan->x[2 * 3 + 1] = NAN;
  expect_fit_error(p, nan, NULL, LATHE_ERROR_DATA, "training row 2, column 'speed' is nan");
  nan->x[2 * 3 + 1] = INFINITY;
  expect_fit_error(p, nan, NULL, LATHE_ERROR_DATA, "training row 2, column 'speed' is inf");

  g_autoptr(LatheDataset) one = make_blobs(10, 3, 1, 1);
  expect_fit_error(p, one, NULL, LATHE_ERROR_DATA, "at least 2");

  expect_fit_error("{\"units\": []}", ds, NULL, LATHE_ERROR_INVALID, "'units' is empty");
  expect_fit_error("{\"units\": [4, 0]}", ds, NULL, LATHE_ERROR_INVALID,
                   "'units' item 1 must be a positive integer");
  expect_fit_error("{\"units\": [4, -3]}", ds, NULL, LATHE_ERROR_INVALID, "'units' item 1");
  expect_fit_error("{\"units\": [\"x\"]}", ds, NULL, LATHE_ERROR_INVALID, "'units' item 0");
  expect_fit_error("{\"batch_size\": 0}", ds, NULL, LATHE_ERROR_INVALID, "'batch_size'");
  expect_fit_error("{\"lr\": 0}", ds, NULL, LATHE_ERROR_INVALID, "'lr'");
  expect_fit_error("{\"beta1\": 1.0}", ds, NULL, LATHE_ERROR_INVALID, "'beta1'");
  expect_fit_error("{\"beta2\": -0.1}", ds, NULL, LATHE_ERROR_INVALID, "'beta2'");
  expect_fit_error("{\"eps\": 0}", ds, NULL, LATHE_ERROR_INVALID, "'eps'");
  expect_fit_error("{\"dropout\": 1.0}", ds, NULL, LATHE_ERROR_INVALID, "'dropout'");
  expect_fit_error("{\"validation_fraction\": 0.95}", ds, NULL, LATHE_ERROR_INVALID,
                   "'validation_fraction'");
  expect_fit_error("{\"class_weight\": \"auto\"}", ds, NULL, LATHE_ERROR_INVALID,
                   "'class_weight'");
  expect_fit_error("{\"activation\": \"sigmoid\"}", ds, NULL, LATHE_ERROR_INVALID,
                   "'activation' must be one of: relu, tanh");
  expect_fit_error("{\"units\": [4], \"epochs\": 0}", ds, NULL, LATHE_ERROR_INVALID,
                   "'epochs'");
#ifndef UNDER_ASAN
  /* A net too big for memory fails instead of aborting (ASan's allocator
   * would abort on the request itself). */
  expect_fit_error("{\"units\": [1073741824, 1073741824]}", ds, NULL, LATHE_ERROR_INVALID,
                   "cannot be allocated");
#endif

  /* The valid input must be the same problem. */
  g_autoptr(LatheDataset) wide = make_blobs(9, 4, 3, 13);
  expect_fit_error(p, ds, wide, LATHE_ERROR_DATA, "valid input has samples of 1 step x 4");
  g_autoptr(LatheDataset) two = make_blobs(9, 3, 2, 13);
  expect_fit_error(p, ds, two, LATHE_ERROR_DATA, "classes differ");
  g_autoptr(LatheDataset) vnan = make_blobs(9, 3, 3, 13);
  vnan->x[5] = NAN;
  expect_fit_error(p, ds, vnan, LATHE_ERROR_DATA, "validation row 1, column 'c2' is nan");

  /* Predict: the shape it was trained on, and finite values. */
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), p, ds, NULL, 0, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_assert_null(mlp()->predict(m, wide, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "trained on 1 step x 3 channels"));
  g_clear_error(&error);
  g_autoptr(LatheDataset) seq = make_waves(6, 3, FALSE, 1); /* 3 steps x 2 channels */
  g_assert_null(mlp()->predict(m, seq, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);
  g_assert_null(mlp()->predict(m, vnan, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "input row 1"));
  mlp()->free(m);
}

/* A sequence dataset is flattened by the MLP: it still learns. */
static void test_sequence_input(void) {
  g_autoptr(LatheDataset) all = make_bumps(450, 12, FALSE, 14);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(all, 4, &train, &test);
  g_autoptr(GError) error = NULL;
  gpointer m = nn_fit(mlp(), "{\"units\": [32], \"epochs\": 60, \"lr\": 0.005}", train, NULL,
                      1, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *p = mlp()->predict(m, test, &k, &error);
  g_assert_no_error(error);
  double acc = nn_accuracy(p, test, k);
  g_test_message("mlp on bump sequences: held-out accuracy %.3f", acc);
  g_assert_cmpfloat(acc, >, 0.8);
  g_autoptr(JsonObject) s = mlp()->summary(m);
  JsonArray *shape = json_object_get_array_member(s, "input_shape");
  g_assert_cmpint(json_array_get_int_element(shape, 0), ==, 12);
  g_assert_cmpint(json_array_get_int_element(shape, 1), ==, 1);
  mlp()->free(m);
}

/* The float32 engine the plugins use (this test links it): its gradients
 * agree with central differences to float precision. The float64 build is
 * checked to 1e-4 in tests/nn; here the bound is 1e-2 with h = 5e-3
 * (smaller steps drown in float rounding, larger ones in curvature),
 * on a smooth (tanh) net so that no kink sits inside a step. */
static double f32_loss(LatheNnNet *net, const nn_real *x, const guint32 *len, const gint32 *y,
                       guint n, nn_real *dx) {
  LatheRng rng;
  lathe_rng_init(&rng, 5);
  const LatheNnPass p = {.n = n, .train = TRUE, .rng = &rng};
  lathe_nn_net_zero_grads(net);
  return lathe_nn_net_train_step(net, &p, x, len, y, NULL, dx);
}

static void test_float32_gradients(void) {
  g_assert_cmpuint(sizeof(nn_real), ==, sizeof(float));
  enum { n = 5, d = 4 };
  LatheNnNet *net = lathe_nn_net_new((LatheNnShape){1, d}, 3);
  lathe_nn_net_add(net, lathe_nn_dense(6, LATHE_NN_ACT_TANH));
  lathe_nn_net_add(net, lathe_nn_dropout(0.3));
  lathe_nn_net_add(net, lathe_nn_dense(3, LATHE_NN_ACT_NONE));
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_nn_net_build(net, n, TRUE, &error));
  LatheRng rng;
  lathe_rng_init(&rng, 9);
  lathe_nn_net_init(net, &rng);
  nn_real x[n * d], dx[n * d];
  for (guint i = 0; i < n * d; i++)
    x[i] = (nn_real)(2 * lathe_rng_uniform(&rng) - 1);
  const guint32 len[n] = {1, 1, 1, 1, 1};
  const gint32 y[n] = {0, 1, 2, 1, 0};
  f32_loss(net, x, len, y, n, dx);
  const gsize np = lathe_nn_net_n_params(net);
  g_autofree nn_real *g = g_memdup2(lathe_nn_net_grads(net), np * sizeof(nn_real));
  nn_real *w = lathe_nn_net_params(net);
  const double h = 5e-3;
  double worst = 0;
  for (gsize i = 0; i < np + n * d; i++) {
    nn_real *v = i < np ? &w[i] : &x[i - np];
    const double a = i < np ? g[i] : dx[i - np];
    const nn_real keep = *v;
    *v = (nn_real)(keep + h);
    const double up = f32_loss(net, x, len, y, n, NULL);
    *v = (nn_real)(keep - h);
    const double down = f32_loss(net, x, len, y, n, NULL);
    *v = keep;
    const double num = (up - down) / (2 * h);
    worst = MAX(worst, fabs(a - num) / MAX(1e-3, MAX(fabs(a), fabs(num))));
  }
  g_test_message("float32: worst gradient error %.3g", worst);
  g_assert_cmpfloat(worst, <, 1e-2);
  lathe_nn_net_free(net);
}

static void test_params_declared(void) {
  const char *want[] = {"units", "activation", "epochs", "batch_size", "lr", "beta1", "beta2",
                        "eps", "weight_decay", "patience", "min_delta", "validation_fraction",
                        "class_weight", "dropout", NULL};
  guint n = 0;
  for (const LatheParamSpec *s = mlp()->base.params; s->name; s++, n++)
    g_assert_true(g_strv_contains(want, s->name));
  g_assert_cmpuint(n, ==, g_strv_length((char **)want));
  g_assert_cmpuint(mlp()->base.kind, ==, LATHE_KIND_MODEL);
  g_assert_cmpstr(mlp()->base.name, ==, "mlp");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model-mlp/params", test_params_declared);
  g_test_add_func("/model-mlp/learns-blobs", test_learns_blobs);
  g_test_add_func("/model-mlp/learns-iris", test_learns_iris);
  g_test_add_func("/model-mlp/sequence-input", test_sequence_input);
  g_test_add_func("/model-mlp/determinism", test_determinism);
  g_test_add_func("/model-mlp/save-load", test_save_load);
  g_test_add_func("/model-mlp/blob-refusals", test_blob_refusals);
  g_test_add_func("/model-mlp/early-stopping", test_early_stopping);
  g_test_add_func("/model-mlp/no-validation", test_no_validation);
  g_test_add_func("/model-mlp/diverges", test_diverges);
  g_test_add_func("/model-mlp/diverges-epoch", test_diverges_epoch);
  g_test_add_func("/model-mlp/cancel", test_cancel);
  g_test_add_func("/model-mlp/class-weight", test_class_weight);
  g_test_add_func("/model-mlp/split", test_split);
  g_test_add_func("/model-mlp/float32-gradients", test_float32_gradients);
  g_test_add_func("/model-mlp/bad-input", test_bad_input);
  return g_test_run();
}
