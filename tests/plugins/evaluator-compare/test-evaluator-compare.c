/* evaluator/compare through its ABI: the winner by metric and direction, ties,
 * pass-through of the winner's artifacts, and refusals. */
#include <math.h>
#include <string.h>

#include "test-util.h"

static LatheArtifact *model(const char *component) {
  JsonObject *h = json_object_new();
  json_object_set_string_member(h, "component", component);
  g_autoptr(GBytes) state = g_bytes_new(component, strlen(component));
  return lathe_artifact_new_model(h, state);
}

static LatheArtifact *metrics(double macro_f1) {
  JsonObject *m = json_object_new();
  json_object_set_double_member(m, "macro_f1", macro_f1);
  json_object_set_double_member(m, "accuracy", macro_f1 / 2);
  return lathe_artifact_new_metrics(m);
}

/* Candidates i = 1..n with the given macro_f1 values; skip < 0 leaves a hole. */
static LatheContext *compare(const char *params, const double *values, guint n,
                             LatheArtifact **models, GError **error, gboolean *ok) {
  const LatheComponent *c = lathe_test_component("evaluator-compare", "evaluator/compare");
  LatheContext *ctx = lathe_test_context(c, "pick", params, 1);
  static const char *names[] = {"model/mlp", "model/cnn1d", "model/rnn", "model/lstm"};
  for (guint i = 0; i < n; i++) {
    g_autofree char *mp = g_strdup_printf("model_%u", i + 1);
    g_autofree char *ep = g_strdup_printf("metrics_%u", i + 1);
    models[i] = model(names[i]);
    lathe_context_set_input(ctx, mp, models[i]);
    g_autoptr(LatheArtifact) m = metrics(values[i]);
    lathe_context_set_input(ctx, ep, m);
  }
  *ok = ((const LatheEvaluatorClass *)c)->run(ctx, error);
  return ctx;
}

static void free_models(LatheArtifact **models, guint n) {
  for (guint i = 0; i < n; i++)
    lathe_artifact_unref(models[i]);
}

static void test_best(void) {
  const double v[] = {0.7, 0.9, 0.9, NAN};
  LatheArtifact *models[4];
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) ctx = compare(NULL, v, 4, models, &error, &ok);
  g_assert_no_error(error);
  g_assert_true(ok);
  /* the tie between 2 and 3 goes to 2; NaN never wins */
  g_assert_true(lathe_context_get_output(ctx, "model") == models[1]);
  JsonObject *cmp = lathe_artifact_get_metrics(lathe_context_get_output(ctx, "comparison"), NULL);
  g_assert_cmpint(json_object_get_int_member(cmp, "best"), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(cmp, "best_component"), ==, "model/cnn1d");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(cmp, "candidates")), ==, 4);
  JsonObject *won = lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"), NULL);
  g_assert_cmpfloat(json_object_get_double_member(won, "macro_f1"), ==, 0.9);
  free_models(models, 4);

  g_autoptr(LatheContext) low = compare("{\"direction\": \"minimize\", \"metric\": \"accuracy\"}",
                                        v, 3, models, &error, &ok);
  g_assert_true(ok);
  g_assert_true(lathe_context_get_output(low, "model") == models[0]);
  free_models(models, 3);
}

static void test_refusals(void) {
  const double v[] = {0.5, 0.6};
  LatheArtifact *models[2];
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) ctx = compare("{\"metric\": \"roc_auc\"}", v, 2, models, &error, &ok);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "no numeric metric 'roc_auc'"));
  g_assert_nonnull(strstr(error->message, "node pick"));
  g_assert_null(lathe_context_get_output(ctx, "model"));
  free_models(models, 2);

  const double nan1[] = {NAN};
  g_clear_error(&error);
  g_autoptr(LatheContext) c2 = compare(NULL, nan1, 1, models, &error, &ok);
  g_assert_false(ok);
  g_assert_null(lathe_context_get_output(c2, "model"));
  g_assert_nonnull(strstr(error->message, "no candidate has a finite"));
  free_models(models, 1);

  /* a model without its evaluation */
  const LatheComponent *c = lathe_test_component("evaluator-compare", "evaluator/compare");
  g_autoptr(LatheContext) c3 = lathe_test_context(c, "pick", NULL, 1);
  g_autoptr(LatheArtifact) m = model("model/mlp");
  g_autoptr(LatheArtifact) e = metrics(0.5);
  lathe_context_set_input(c3, "model_1", m);
  lathe_context_set_input(c3, "metrics_1", e);
  lathe_context_set_input(c3, "model_2", m);
  g_clear_error(&error);
  g_assert_false(((const LatheEvaluatorClass *)c)->run(c3, &error));
  g_assert_nonnull(strstr(error->message, "'model_2' is connected but 'metrics_2' is not"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/evaluator-compare/best", test_best);
  g_test_add_func("/evaluator-compare/refusals", test_refusals);
  return g_test_run();
}
