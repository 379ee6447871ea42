/* evaluator/cv: the summary over folds against numbers worked out by hand,
 * and its refusals. */
#include <math.h>
#include <string.h>

#include "cv-stats.h"
#include "test-util.h"

static LatheArtifact *metrics(double f1, double recall_a, double n) {
  JsonObject *m = json_object_new();
  json_object_set_double_member(m, "macro_f1", f1);
  json_object_set_double_member(m, "recall_a", recall_a);
  json_object_set_int_member(m, "n", (gint64)n);
  json_object_set_string_member(m, "note", "not a number");
  json_object_set_array_member(m, "classes", json_array_new());
  return lathe_artifact_new_metrics(m);
}

/* Values 0.8, 0.9, 1.0, 0.7: mean 0.85, sum of squares 0.05, sample
 * variance 0.05/3, std 0.1290994; t(0.975, 3) = 3.1824, half-width
 * 3.1824 * 0.1290994 / 2 = 0.2054230. */
static void test_stats_by_hand(void) {
  double v[] = {0.8, 0.9, 1.0, 0.7};
  LatheCvStats s = lathe_cv_stats(v, 4);
  g_assert_cmpfloat_with_epsilon(s.mean, 0.85, 1e-12);
  g_assert_cmpfloat_with_epsilon(s.std, sqrt(0.05 / 3), 1e-12);
  g_assert_cmpfloat_with_epsilon(s.std, 0.1290994, 1e-7);
  g_assert_cmpfloat(s.min, ==, 0.7);
  g_assert_cmpfloat(s.max, ==, 1.0);
  g_assert_cmpfloat_with_epsilon(s.ci95_low, 0.85 - 0.2054230, 1e-6);
  g_assert_cmpfloat_with_epsilon(s.ci95_high, 0.85 + 0.2054230, 1e-6);
  g_assert_cmpfloat(lathe_cv_t975(1), ==, 12.7062);
  g_assert_cmpfloat(lathe_cv_t975(4), ==, 2.7764);
  g_assert_cmpfloat(lathe_cv_t975(100), ==, 1.96);
  double one[] = {0.5};
  LatheCvStats o = lathe_cv_stats(one, 1);
  g_assert_cmpfloat(o.std, ==, 0.0);
  g_assert_cmpfloat(o.ci95_low, ==, 0.5);
}

static void test_component(void) {
  const LatheComponent *c = lathe_test_component("evaluator-cv", "evaluator/cv");
  const LatheEvaluatorClass *k = (const LatheEvaluatorClass *)c;
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "cv", NULL, 1);
  double f1[] = {0.8, 0.9, 1.0, 0.7};
  /* ports 1, 2, 4 and 7: unconnected ports in between are skipped */
  const char *ports[] = {"fold_1", "fold_2", "fold_4", "fold_7"};
  for (guint i = 0; i < 4; i++) {
    g_autoptr(LatheArtifact) a = metrics(f1[i], 1.0 - f1[i], 10 + i);
    lathe_context_set_input(ctx, ports[i], a);
  }
  g_autoptr(GError) error = NULL;
  g_assert_true(k->run(ctx, &error));
  g_assert_no_error(error);
  JsonObject *m = lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"), NULL);
  g_assert_cmpint(json_object_get_int_member(m, "n_folds"), ==, 4);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(m, "macro_f1.mean"), 0.85, 1e-12);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(m, "macro_f1.std"), 0.1290994,
                                 1e-7);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(m, "macro_f1.ci95_high"),
                                 1.0554230, 1e-6);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(m, "recall_a.mean"), 0.15, 1e-12);
  g_assert_cmpfloat(json_object_get_double_member(m, "recall_a.min"), ==, 1.0 - 1.0);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(m, "n.mean"), 11.5, 1e-12);
  g_assert_false(json_object_has_member(m, "note.mean"));
  g_assert_false(json_object_has_member(m, "classes.mean"));
  JsonArray *per = json_object_get_array_member(json_object_get_object_member(m, "per_fold"),
                                                "macro_f1");
  g_assert_cmpuint(json_array_get_length(per), ==, 4);
  g_assert_cmpfloat(json_array_get_double_element(per, 3), ==, 0.7);
}

static void test_refusals(void) {
  const LatheComponent *c = lathe_test_component("evaluator-cv", "evaluator/cv");
  const LatheEvaluatorClass *k = (const LatheEvaluatorClass *)c;
  {
    g_autoptr(LatheContext) ctx = lathe_test_context(c, "cv", NULL, 1);
    g_autoptr(LatheArtifact) a = metrics(0.5, 0.5, 1);
    lathe_context_set_input(ctx, "fold_1", a);
    g_autoptr(GError) error = NULL;
    g_assert_false(k->run(ctx, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "(node cv)"));
  }
  {
    g_autoptr(LatheContext) ctx = lathe_test_context(c, "cv", "{\"metrics\": [\"accuracy\"]}", 1);
    g_autoptr(LatheArtifact) a = metrics(0.5, 0.5, 1);
    lathe_context_set_input(ctx, "fold_1", a);
    lathe_context_set_input(ctx, "fold_2", a);
    g_autoptr(GError) error = NULL;
    g_assert_false(k->run(ctx, &error));
    g_assert_nonnull(strstr(error->message, "no numeric metric 'accuracy'"));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/evaluator-cv/stats-by-hand", test_stats_by_hand);
  g_test_add_func("/evaluator-cv/component", test_component);
  g_test_add_func("/evaluator-cv/refusals", test_refusals);
  return g_test_run();
}
