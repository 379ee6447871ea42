/* evaluator/classification: exact metric values on hand-made predictions,
 * class matching by name, the confusion matrix and refusals.
 *
 * The expected numbers were worked out by hand and agree with scikit-learn
 * 1.2.1 (accuracy_score, precision_recall_fscore_support with
 * zero_division=0, log_loss with eps=1e-15, confusion_matrix) on the same
 * inputs. The metric code is compiled in (classification-metrics.h); the
 * plugin is driven through its ABI with a fake host whose predict service
 * returns canned probabilities. */
#include <math.h>
#include <string.h>

#include "classification-metrics.h"
#include "test-util.h"

#define TOL 1e-12

/* 8 rows, 3 classes; truth 0,0,0,1,1,1,2,2; argmax 0,0,1,1,1,1,2,0. The last
 * row gives the true class probability 0, so log_loss depends on clipping. */
static const float probs8[8 * 3] = {
    0.7f, 0.2f, 0.1f,  0.5f, 0.3f, 0.2f,   0.3f, 0.6f, 0.1f,  0.1f, 0.8f, 0.1f,
    0.2f, 0.5f, 0.3f,  0.25f, 0.5f, 0.25f, 0.1f, 0.1f, 0.8f,  1.0f, 0.0f, 0.0f,
};
static const gint32 truth8[8] = {0, 0, 0, 1, 1, 1, 2, 2};

static void test_exact_values(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheClassMetrics) m = lathe_class_metrics_compute(probs8, 8, 3, truth8, 3, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(m->accuracy, 0.75, TOL);
  /* precision: 2/3, 3/4, 1/1; recall: 2/3, 3/3, 1/2 */
  const double p[3] = {2.0 / 3, 0.75, 1.0}, r[3] = {2.0 / 3, 1.0, 0.5};
  const double f[3] = {2.0 / 3, 6.0 / 7, 2.0 / 3};
  const guint64 support[3] = {3, 3, 2};
  for (guint c = 0; c < 3; c++) {
    g_assert_cmpfloat_with_epsilon(m->precision[c], p[c], TOL);
    g_assert_cmpfloat_with_epsilon(m->recall[c], r[c], TOL);
    g_assert_cmpfloat_with_epsilon(m->f1[c], f[c], TOL);
    g_assert_cmpuint(m->support[c], ==, support[c]);
  }
  g_assert_cmpfloat_with_epsilon(m->macro_precision, 29.0 / 36, TOL); /* 0.80556 */
  g_assert_cmpfloat_with_epsilon(m->macro_recall, 13.0 / 18, TOL);    /* 0.72222 */
  g_assert_cmpfloat_with_epsilon(m->macro_f1, 46.0 / 63, TOL);        /* 0.73016 */
  /* sklearn.metrics.log_loss(y, P, eps=1e-15) on the float32 values. */
  g_assert_cmpfloat_with_epsilon(m->log_loss, 4.828144103047714, 1e-9);
  const guint64 cm[9] = {2, 1, 0, 0, 3, 0, 1, 0, 1};
  g_assert_cmpmem(m->confusion, sizeof cm, cm, sizeof cm);
}

static void test_log_loss_clipping(void) {
  /* A certain and right prediction costs -log(1 - 1e-15), not 0; a certain
   * and wrong one costs -log(1e-15) after renormalising, not infinity. */
  const float probs[4] = {0.0f, 1.0f, 1.0f, 0.0f};
  const gint32 right[2] = {1, 0}, wrong[2] = {0, 1};
  g_autoptr(LatheClassMetrics) a = lathe_class_metrics_compute(probs, 2, 2, right, 2, NULL);
  g_autoptr(LatheClassMetrics) b = lathe_class_metrics_compute(probs, 2, 2, wrong, 2, NULL);
  double one = 1.0 - 1e-15, eps = 1e-15;
  g_assert_cmpfloat_with_epsilon(a->log_loss, -log(one / (one + eps)), 1e-15);
  g_assert_cmpfloat_with_epsilon(b->log_loss, -log(eps / (one + eps)), 1e-9);
  g_assert_cmpfloat(b->log_loss, >, 34.0);
  g_assert_cmpfloat(a->accuracy, ==, 1.0);
  g_assert_cmpfloat(b->accuracy, ==, 0.0);
}

static void test_macro_labels(void) {
  /* Class 2 is neither true nor predicted: like sklearn's default labels it
   * is left out of the macro means (else they would be 2/3 of these). Class 1
   * is predicted but never true: it is in, with recall 0 (zero_division). */
  const float probs[4 * 3] = {0.9f, 0.1f, 0.0f, 0.8f, 0.2f, 0.0f,
                              0.3f, 0.7f, 0.0f, 0.6f, 0.4f, 0.0f};
  const gint32 truth[4] = {0, 0, 0, 0};
  g_autoptr(LatheClassMetrics) m = lathe_class_metrics_compute(probs, 4, 3, truth, 3, NULL);
  g_assert_true(m->in_macro[0]);
  g_assert_true(m->in_macro[1]);
  g_assert_false(m->in_macro[2]);
  g_assert_cmpfloat_with_epsilon(m->precision[0], 1.0, TOL);
  g_assert_cmpfloat_with_epsilon(m->recall[0], 0.75, TOL);
  g_assert_cmpfloat_with_epsilon(m->precision[1], 0.0, TOL);
  g_assert_cmpfloat_with_epsilon(m->recall[1], 0.0, TOL);
  g_assert_cmpfloat_with_epsilon(m->f1[1], 0.0, TOL);
  g_assert_cmpfloat_with_epsilon(m->macro_precision, 0.5, TOL);
  g_assert_cmpfloat_with_epsilon(m->macro_recall, 0.375, TOL);
  g_assert_cmpfloat_with_epsilon(m->macro_f1, (2 * 0.75 / 1.75) / 2, TOL);
}

static void test_ties_and_bad_input(void) {
  /* Ties go to the first column, as numpy's argmax. */
  const float tie[3] = {0.4f, 0.4f, 0.2f};
  const gint32 t1[1] = {1};
  g_autoptr(LatheClassMetrics) m = lathe_class_metrics_compute(tie, 1, 3, t1, 3, NULL);
  g_assert_cmpuint(m->confusion[1 * 3 + 0], ==, 1);
  g_assert_cmpfloat(m->accuracy, ==, 0.0);

  g_autoptr(GError) error = NULL;
  const float nan_row[3] = {0.5f, NAN, 0.5f};
  g_assert_null(lathe_class_metrics_compute(nan_row, 1, 3, t1, 3, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);
  const gint32 out_of_range[1] = {3};
  g_assert_null(lathe_class_metrics_compute(tie, 1, 3, out_of_range, 3, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

/* ---- through the plugin ------------------------------------------------------ */

typedef struct {
  const float *probs; /* returned (copied) by predict */
  guint n_cols;
  gboolean fail;
  GPtrArray *logs;
} FakeHost;

static float *fake_predict(gpointer host_data, LatheContext *ctx, LatheArtifact *model,
                           const LatheDataset *data, guint *n_cols, GError **error) {
  FakeHost *h = host_data;
  if (h->fail) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "fake model refuses");
    return NULL;
  }
  *n_cols = h->n_cols;
  return g_memdup2(h->probs, sizeof(float) * data->n_rows * h->n_cols);
}

static void fake_log(gpointer host_data, LatheContext *ctx, GLogLevelFlags level,
                     const char *message) {
  FakeHost *h = host_data;
  g_ptr_array_add(h->logs, g_strdup(message));
}

static const LatheHostServices fake_services = {
    .struct_size = sizeof(LatheHostServices), .log = fake_log, .predict = fake_predict};

static const LatheEvaluatorClass *evaluator(void) {
  return (const LatheEvaluatorClass *)lathe_test_component("evaluator-classification",
                                                           "evaluator/classification");
}

/* A model artifact that only carries a header listing @classes. */
static LatheArtifact *fake_model(const char *const *classes) {
  JsonObject *h = json_object_new();
  json_object_set_string_member(h, "component", "model/fake");
  json_object_set_int_member(h, "state_version", 1);
  if (classes) {
    JsonArray *a = json_array_new();
    for (guint i = 0; classes[i]; i++)
      json_array_add_string_element(a, classes[i]);
    json_object_set_array_member(h, "classes", a);
  }
  g_autoptr(GBytes) state = g_bytes_new_static("x", 1);
  return lathe_artifact_new_model(h, state);
}

static LatheDataset *labelled(guint n, const char *const *classes, const gint32 *labels) {
  LatheDataset *ds = lathe_dataset_new(n, 2);
  lathe_dataset_set_classes(ds, classes);
  memcpy(ds->labels, labels, n * sizeof(gint32));
  return ds;
}

static gboolean run_eval_subset(FakeHost *host, LatheArtifact *model, LatheDataset *data,
                                const char *unknown, const char *aggregate, const char *subset,
                                LatheContext **ctx_out, GError **error) {
  g_autoptr(JsonObject) params = json_object_new();
  json_object_set_string_member(params, "unknown_classes", unknown);
  json_object_set_string_member(params, "aggregate", aggregate);
  if (subset)
    json_object_set_string_member(params, "subset", subset);
  LatheContext *ctx = lathe_context_new("eval", params, 1, &fake_services, host);
  lathe_context_set_input(ctx, "model", model);
  g_autoptr(LatheArtifact) d = lathe_artifact_new_dataset(data);
  lathe_context_set_input(ctx, "data", d);
  gboolean ok = evaluator()->run(ctx, error);
  *ctx_out = ctx;
  return ok;
}

static gboolean run_eval_with(FakeHost *host, LatheArtifact *model, LatheDataset *data,
                              const char *unknown, const char *aggregate,
                              LatheContext **ctx_out, GError **error) {
  return run_eval_subset(host, model, data, unknown, aggregate, NULL, ctx_out, error);
}

static gboolean run_eval(FakeHost *host, LatheArtifact *model, LatheDataset *data,
                         LatheContext **ctx_out, GError **error) {
  return run_eval_with(host, model, data, "error", "none", ctx_out, error);
}

static double metric(LatheContext *ctx, const char *name) {
  JsonObject *m = lathe_context_get_metrics(ctx);
  if (!json_object_has_member(m, name))
    g_error("metric %s was not set", name);
  return json_object_get_double_member(m, name);
}

static void test_plugin_exact(void) {
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
  FakeHost host = {.probs = probs8, .n_cols = 3, .logs = logs};
  const char *classes[] = {"cat", "dog", "emu", NULL};
  g_autoptr(LatheArtifact) model = fake_model(classes);
  g_autoptr(LatheContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(run_eval(&host, model, labelled(8, classes, truth8), &ctx, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "accuracy"), 0.75, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_precision"), 29.0 / 36, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_recall"), 13.0 / 18, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_f1"), 46.0 / 63, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "log_loss"), 4.828144103047714, 1e-9);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "precision_dog"), 0.75, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "recall_emu"), 0.5, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "f1_dog"), 6.0 / 7, TOL);
  g_assert_cmpfloat(metric(ctx, "support_cat"), ==, 3);
  g_assert_cmpfloat(metric(ctx, "n"), ==, 8);

  LatheArtifact *out = lathe_context_get_output(ctx, "metrics");
  g_assert_nonnull(out);
  g_assert_cmpint(lathe_artifact_get_kind(out), ==, LATHE_TYPE_METRICS);
  JsonObject *obj = lathe_artifact_get_metrics(out, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(obj, "accuracy"), 0.75, TOL);
  JsonArray *cls = json_object_get_array_member(obj, "classes");
  g_assert_cmpuint(json_array_get_length(cls), ==, 3);
  g_assert_cmpstr(json_array_get_string_element(cls, 2), ==, "emu");
  JsonArray *cm = json_object_get_array_member(obj, "confusion_matrix");
  const gint64 want[3][3] = {{2, 1, 0}, {0, 3, 0}, {1, 0, 1}};
  for (guint t = 0; t < 3; t++) {
    JsonArray *row = json_array_get_array_element(cm, t);
    for (guint p = 0; p < 3; p++)
      g_assert_cmpint(json_array_get_int_element(row, p), ==, want[t][p]);
  }
}

static void test_plugin_class_mapping(void) {
  /* The model's columns are (b, a); the data lists (a, b, zz, never) and has
   * rows a, b, zz, a. Matching is by name; zz is unknown to the model and
   * counts as wrong; "never" has no rows and stays out of the report. */
  const float probs[4 * 2] = {0.2f, 0.8f, 0.9f, 0.1f, 0.5f, 0.5f, 0.6f, 0.4f};
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
  FakeHost host = {.probs = probs, .n_cols = 2, .logs = logs};
  const char *model_classes[] = {"b", "a", NULL};
  const char *data_classes[] = {"a", "b", "zz", "never", NULL};
  const gint32 labels[4] = {0, 1, 2, 0};
  g_autoptr(LatheArtifact) model = fake_model(model_classes);
  g_autoptr(LatheContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  /* By default a class the model never saw fails the node, naming it. */
  g_autoptr(LatheContext) strict = NULL;
  g_assert_false(run_eval(&host, model, labelled(4, data_classes, labels), &strict, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "class 'zz'"));
  g_assert_nonnull(strstr(error->message, "never seen in training"));
  g_assert_nonnull(strstr(error->message, "node eval"));
  g_clear_error(&error);
  g_assert_true(run_eval_with(&host, model, labelled(4, data_classes, labels), "count_wrong",
                              "none", &ctx, &error));
  g_assert_no_error(error);

  g_assert_cmpfloat_with_epsilon(metric(ctx, "accuracy"), 0.5, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "precision_b"), 1.0 / 3, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "precision_a"), 1.0, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "recall_a"), 0.5, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "precision_zz"), 0.0, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "recall_zz"), 0.0, TOL);
  g_assert_cmpfloat(metric(ctx, "support_zz"), ==, 1);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_precision"), 4.0 / 9, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_recall"), 0.5, TOL);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "macro_f1"), 7.0 / 18, TOL);
  /* sklearn log_loss(labels=[a,b,zz]) with a zero column for zz. */
  g_assert_cmpfloat_with_epsilon(metric(ctx, "log_loss"), 8.945892803199312, 1e-9);
  g_assert_false(json_object_has_member(lathe_context_get_metrics(ctx), "support_never"));

  JsonObject *obj = lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"), NULL);
  JsonArray *cls = json_object_get_array_member(obj, "classes");
  g_assert_cmpuint(json_array_get_length(cls), ==, 3);
  g_assert_cmpstr(json_array_get_string_element(cls, 0), ==, "b");
  g_assert_cmpstr(json_array_get_string_element(cls, 1), ==, "a");
  g_assert_cmpstr(json_array_get_string_element(cls, 2), ==, "zz");
  JsonArray *cm = json_object_get_array_member(obj, "confusion_matrix");
  const gint64 want[3][3] = {{1, 0, 0}, {1, 1, 0}, {1, 0, 0}};
  for (guint t = 0; t < 3; t++)
    for (guint p = 0; p < 3; p++)
      g_assert_cmpint(json_array_get_int_element(json_array_get_array_element(cm, t), p), ==,
                      want[t][p]);

  gboolean said = FALSE;
  for (guint i = 0; i < logs->len; i++)
    said |= strstr(logs->pdata[i], "'zz'") && strstr(logs->pdata[i], "unknown to the model");
  g_assert_true(said);
}

/* aggregate=group: the windows of a recording vote with their mean
 * probability, and one row per recording is scored against its majority
 * truth. */
static void test_plugin_group_vote(void) {
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
  /* Columns (cat, dog). Group a: mean leans cat, truth cat. Group b: one
   * confident dog row outweighs a weak cat row, truth dog. Group c: dog, but
   * its truth is cat. */
  const float probs[6 * 2] = {0.9f, 0.1f, 0.6f, 0.4f, 0.45f, 0.55f, 0.05f, 0.95f, 0.55f, 0.45f,
                              0.2f, 0.8f};
  FakeHost host = {.probs = probs, .n_cols = 2, .logs = logs};
  const char *classes[] = {"cat", "dog", NULL};
  const gint32 labels[6] = {0, 0, 0, 1, 1, 0};
  g_autoptr(LatheArtifact) model = fake_model(classes);
  LatheDataset *ds = labelled(6, classes, labels);
  const char *groups[] = {"a", "b", "c", NULL};
  lathe_dataset_set_groups(ds, groups);
  const gint32 g[6] = {0, 0, 0, 1, 1, 2};
  memcpy(ds->groups, g, sizeof g);
  g_autoptr(LatheContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(run_eval_with(&host, model, ds, "error", "group", &ctx, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(metric(ctx, "n"), ==, 3);
  g_assert_cmpfloat_with_epsilon(metric(ctx, "accuracy"), 2.0 / 3, TOL);
  g_assert_cmpfloat(metric(ctx, "support_cat"), ==, 2);
  /* Without groups, aggregation is refused. */
  g_autoptr(LatheContext) c2 = NULL;
  g_clear_error(&error);
  g_assert_false(run_eval_with(&host, model, labelled(6, classes, labels), "error", "group", &c2,
                               &error));
  g_assert_nonnull(strstr(error->message, "needs grouped data"));
}

/* subset: the same predictions scored again on the rows whose group matches
 * a glob (IDEKO's inter-k recordings), with the same keys when none does. */
static void test_plugin_subset(void) {
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
  /* rows: raw cat right, inter cat wrong, inter dog right, inter dog right, raw dog wrong */
  const float probs[5 * 2] = {0.9f, 0.1f, 0.3f, 0.7f, 0.2f, 0.8f, 0.1f, 0.9f, 0.6f, 0.4f};
  FakeHost host = {.probs = probs, .n_cols = 2, .logs = logs};
  const char *classes[] = {"cat", "dog", NULL};
  const gint32 labels[5] = {0, 0, 1, 1, 1};
  g_autoptr(LatheArtifact) model = fake_model(classes);
  const char *groups[] = {"cat/1/raw.zip", "cat/7-8/f_inter-2.zip", "dog/7-8/f_inter-5.zip",
                          "dog/7-9/f_inter-6.zip", "dog/2/raw.zip", NULL};
  const gint32 g[5] = {0, 1, 2, 3, 4};
  for (guint pass = 0; pass < 2; pass++) {
    LatheDataset *ds = labelled(5, classes, labels);
    lathe_dataset_set_groups(ds, groups);
    memcpy(ds->groups, g, sizeof g);
    g_autoptr(LatheContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(run_eval_subset(&host, model, ds, "error", "none",
                                  pass == 0 ? "*inter*" : "*nothing*", &ctx, &error));
    g_assert_no_error(error);
    /* the whole data is scored as without subset */
    g_assert_cmpfloat_with_epsilon(metric(ctx, "accuracy"), 3.0 / 5, TOL);
    g_assert_cmpfloat(metric(ctx, "subset_n"), ==, pass == 0 ? 3 : 0);
    g_assert_cmpfloat(metric(ctx, "subset_support_cat"), ==, pass == 0 ? 1 : 0);
    g_assert_cmpfloat(metric(ctx, "subset_support_dog"), ==, pass == 0 ? 2 : 0);
    g_assert_cmpfloat_with_epsilon(metric(ctx, "subset_recall_cat"), 0.0, TOL);
    g_assert_cmpfloat_with_epsilon(metric(ctx, "subset_recall_dog"), pass == 0 ? 1.0 : 0.0,
                                   TOL);
    JsonObject *obj =
        lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"), NULL);
    g_assert_true(json_object_has_member(obj, "subset_recall_dog"));
  }
  /* refused with aggregate group, and without groups */
  g_autoptr(LatheContext) c1 = NULL, c2 = NULL;
  g_autoptr(GError) error = NULL;
  LatheDataset *ds = labelled(5, classes, labels);
  lathe_dataset_set_groups(ds, groups);
  memcpy(ds->groups, g, sizeof g);
  g_assert_false(run_eval_subset(&host, model, ds, "error", "group", "*inter*", &c1, &error));
  g_assert_nonnull(strstr(error->message, "subset needs \"aggregate\": \"none\""));
  g_clear_error(&error);
  g_assert_false(run_eval_subset(&host, model, labelled(5, classes, labels), "error", "none",
                                 "*inter*", &c2, &error));
  g_assert_nonnull(strstr(error->message, "subset needs grouped data"));
}

static void expect_eval_error(FakeHost *host, LatheArtifact *model, LatheDataset *data,
                              const char *needle) {
  g_autoptr(LatheContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_false(run_eval(host, model, data, &ctx, &error));
  g_assert_nonnull(error);
  if (!strstr(error->message, needle))
    g_error("expected '%s' in: %s", needle, error->message);
  g_assert_null(lathe_context_get_output(ctx, "metrics"));
}

static void test_plugin_errors(void) {
  g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
  FakeHost host = {.probs = probs8, .n_cols = 3, .logs = logs};
  const char *classes[] = {"cat", "dog", "emu", NULL};
  g_autoptr(LatheArtifact) model = fake_model(classes);

  expect_eval_error(&host, model, lathe_dataset_new(8, 2), "no labels");
  g_autoptr(LatheArtifact) bare = fake_model(NULL);
  expect_eval_error(&host, bare, labelled(8, classes, truth8), "no classes");
  FakeHost narrow = {.probs = probs8, .n_cols = 2, .logs = logs};
  expect_eval_error(&narrow, model, labelled(8, classes, truth8), "returned 2 columns");
  FakeHost failing = {.fail = TRUE, .logs = logs};
  expect_eval_error(&failing, model, labelled(8, classes, truth8), "fake model refuses");
  LatheDataset *missing = labelled(8, classes, truth8);
  missing->labels[5] = -1;
  expect_eval_error(&host, model, missing, "row 5");
  const float nan_probs[8 * 3] = {NAN};
  FakeHost bad = {.probs = nan_probs, .n_cols = 3, .logs = logs};
  expect_eval_error(&bad, model, labelled(8, classes, truth8), "non-finite");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/evaluator-classification/exact-values", test_exact_values);
  g_test_add_func("/evaluator-classification/log-loss-clipping", test_log_loss_clipping);
  g_test_add_func("/evaluator-classification/macro-labels", test_macro_labels);
  g_test_add_func("/evaluator-classification/ties-and-bad-input", test_ties_and_bad_input);
  g_test_add_func("/evaluator-classification/plugin-exact", test_plugin_exact);
  g_test_add_func("/evaluator-classification/plugin-class-mapping", test_plugin_class_mapping);
  g_test_add_func("/evaluator-classification/plugin-errors", test_plugin_errors);
  g_test_add_func("/evaluator-classification/plugin-group-vote", test_plugin_group_vote);
  g_test_add_func("/evaluator-classification/plugin-subset", test_plugin_subset);
  return g_test_run();
}
