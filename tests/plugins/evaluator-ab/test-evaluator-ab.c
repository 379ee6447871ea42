/* evaluator/ab through its ABI: the decision against no production, a worse
 * and a better production, ties, class order, the metrics list, and refusals
 * (unlabelled data, corrupt blob, unknown registry schema). The registry is a
 * real registry/local folder written by its own plugin, read through the
 * host's registry service (test-util's, on registry/local). */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "test-util.h"

/* 40 rows, one feature: class "neg" below 0, "pos" above. With @flip the
 * labels are swapped, so a model trained on it is always wrong. With
 * @reversed the class list is ["pos", "neg"] (same meaning, other order). */
static LatheDataset *line_data(gboolean flip, gboolean reversed) {
  LatheDataset *ds = lathe_dataset_new(40, 1);
  static const char *const order[] = {"neg", "pos", NULL};
  static const char *const rev[] = {"pos", "neg", NULL};
  lathe_dataset_set_classes(ds, reversed ? rev : order);
  for (guint r = 0; r < 40; r++) {
    float x = r < 20 ? -1.0f - (float)r * 0.1f : 1.0f + (float)(r - 20) * 0.1f;
    gboolean pos = (x > 0) != flip;
    ds->x[r] = x;
    ds->labels[r] = reversed ? (pos ? 0 : 1) : (pos ? 1 : 0);
  }
  return ds;
}

static LatheArtifact *fit(gboolean flip, gboolean reversed) {
  const LatheComponent *c = lathe_test_component("model-logreg", "model/logreg");
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "model", NULL, 3);
  LatheDataset *ds = line_data(flip, reversed);
  g_autoptr(GError) error = NULL;
  LatheArtifact *m = lathe_test_fit(c, ctx, ds, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(m);
  lathe_dataset_unref(ds);
  return m;
}

/* A fresh run store whose registry/local (<store>/registry, the default the
 * host's registry service reads) holds @models in order, with "production"
 * at the last one when @alias. */
static char *registry_with(LatheArtifact **models, guint n, gboolean alias) {
  char *dir = g_dir_make_tmp("lathe-ab-XXXXXX", NULL);
  g_assert_nonnull(dir);
  if (n == 0)
    return dir;
  const LatheComponent *c = lathe_test_component("registry-local", "registry/local");
  const LatheRegistryClass *k = (const LatheRegistryClass *)c;
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s/registry\"}", dir);
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "reg", params, 0);
  g_autoptr(GError) error = NULL;
  gpointer reg = k->open(ctx, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < n; i++) {
    guint v = 0;
    g_autoptr(JsonObject) meta = json_object_new();
    g_assert_true(k->register_model(reg, "iris", lathe_artifact_get_bytes(models[i]), meta, &v,
                                    &error));
    g_assert_no_error(error);
    g_assert_cmpuint(v, ==, i + 1);
    if (alias && i + 1 == n)
      g_assert_true(k->set_alias(reg, "iris", "production", v, &error));
  }
  k->close(reg);
  return dir;
}


/* Runs evaluator/ab on the unflipped data with @cand in the store @dir. */
static LatheContext *run_ab(LatheArtifact *cand, const char *dir, const char *extra,
                            gboolean *ok, GError **error) {
  const LatheComponent *c = lathe_test_component("evaluator-ab", "evaluator/ab");
  g_autofree char *params = g_strdup_printf("{%s}", extra ? extra : "");
  LatheContext *ctx = lathe_test_context(c, "ab", params, 1);
  lathe_context_set_dirs(ctx, ".", dir, dir);
  LatheDataset *ds = line_data(FALSE, FALSE);
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(ds);
  lathe_context_set_input(ctx, "candidate", cand);
  lathe_context_set_input(ctx, "data", data);
  *ok = ((const LatheEvaluatorClass *)c)->run(ctx, error);
  return ctx;
}

static double metric(LatheContext *ctx, const char *name) {
  JsonObject *m = lathe_context_get_metrics(ctx);
  g_assert_true(json_object_has_member(m, name));
  return json_object_get_double_member(m, name);
}

static JsonObject *result(LatheContext *ctx) {
  LatheArtifact *a = lathe_context_get_output(ctx, "metrics");
  g_assert_nonnull(a);
  JsonObject *o = lathe_artifact_get_metrics(a, NULL);
  g_assert_nonnull(o);
  return o;
}

static void test_no_production(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  g_autofree char *dir = registry_with(NULL, 0, FALSE);
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) ctx = run_ab(good, dir, NULL, &ok, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(ctx, "promote"), ==, 1);
  g_assert_cmpfloat(metric(ctx, "production_version"), ==, 0);
  g_assert_cmpfloat(metric(ctx, "candidate_accuracy"), ==, 1);
  g_assert_false(json_object_has_member(lathe_context_get_metrics(ctx), "production_accuracy"));
  JsonObject *o = result(ctx);
  g_assert_cmpstr(json_object_get_string_member(o, "decision"), ==, "promote");
  g_assert_true(json_object_get_null_member(o, "production"));
  /* reading an empty registry registers nothing */
  g_autoptr(GError) lerr = NULL;
  const LatheComponent *rc = lathe_test_component("registry-local", "registry/local");
  g_autofree char *rp = g_strdup_printf("{\"path\": \"%s/registry\"}", dir);
  g_autoptr(LatheContext) rctx = lathe_test_context(rc, "reg", rp, 0);
  gpointer reg = ((const LatheRegistryClass *)rc)->open(rctx, &lerr);
  g_assert_no_error(lerr);
  g_autoptr(JsonArray) versions = ((const LatheRegistryClass *)rc)->list(reg, NULL, &lerr);
  g_assert_no_error(lerr);
  g_assert_cmpuint(json_array_get_length(versions), ==, 0);
  ((const LatheRegistryClass *)rc)->close(reg);

  /* a registry with versions but no alias is the same as none */
  g_autofree char *dir2 = registry_with((LatheArtifact *[]){good}, 1, FALSE);
  g_autoptr(LatheContext) ctx2 = run_ab(good, dir2, NULL, &ok, &error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(ctx2, "promote"), ==, 1);
  g_assert_cmpfloat(metric(ctx2, "production_version"), ==, 0);
  lathe_test_remove_tree(dir);
  lathe_test_remove_tree(dir2);
}

static void test_decisions(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  g_autoptr(LatheArtifact) bad = fit(TRUE, FALSE);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* production (version 2) is the always-wrong model: the candidate wins */
  g_autofree char *dir = registry_with((LatheArtifact *[]){good, bad}, 2, TRUE);
  g_autoptr(LatheContext) win = run_ab(good, dir, NULL, &ok, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(win, "promote"), ==, 1);
  g_assert_cmpfloat(metric(win, "production_version"), ==, 2);
  g_assert_cmpfloat(metric(win, "candidate_accuracy"), ==, 1);
  g_assert_cmpfloat(metric(win, "production_accuracy"), ==, 0);
  g_assert_cmpfloat(metric(win, "candidate_macro_f1"), ==, 1);
  JsonObject *o = result(win);
  JsonObject *prod = json_object_get_object_member(o, "production");
  g_assert_cmpint(json_object_get_int_member(prod, "version"), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(prod, "model_digest"), ==,
                  lathe_artifact_get_digest(bad));
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(o, "candidate"),
                                                "model_digest"),
                  ==, lathe_artifact_get_digest(good));
  g_assert_cmpfloat(json_object_get_double_member(o, "production_accuracy"), ==, 0);

  /* the same wrong model as candidate: equal on both metrics, so promoted */
  g_autoptr(LatheContext) same = run_ab(bad, dir, NULL, &ok, &error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(same, "candidate_accuracy"), ==, 0);
  g_assert_cmpfloat(metric(same, "promote"), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(result(same), "decision"), ==, "promote");
  lathe_test_remove_tree(dir);
}

static void test_keep(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  g_autoptr(LatheArtifact) bad = fit(TRUE, FALSE);
  g_autofree char *dir = registry_with((LatheArtifact *[]){good}, 1, TRUE);
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) ctx = run_ab(bad, dir, NULL, &ok, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(ctx, "promote"), ==, 0);
  g_assert_cmpfloat(metric(ctx, "production_accuracy"), ==, 1);
  g_assert_cmpfloat(metric(ctx, "candidate_accuracy"), ==, 0);
  JsonObject *o = result(ctx);
  g_assert_cmpstr(json_object_get_string_member(o, "decision"), ==, "keep");
  g_assert_false(json_object_get_boolean_member(o, "promote"));
  JsonArray *why = json_object_get_array_member(o, "reasons");
  g_assert_cmpuint(json_array_get_length(why), ==, 2);
  g_assert_nonnull(strstr(json_array_get_string_element(why, 0), "accuracy: candidate 0 < production 1"));
  lathe_test_remove_tree(dir);
}

static void test_tie_and_class_order(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  /* same meaning, classes listed the other way round: matched by name */
  g_autoptr(LatheArtifact) rev = fit(FALSE, TRUE);
  g_assert_cmpstr(lathe_artifact_get_digest(good), !=, lathe_artifact_get_digest(rev));
  g_autofree char *dir = registry_with((LatheArtifact *[]){rev}, 1, TRUE);
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) ctx = run_ab(good, dir, NULL, &ok, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(ctx, "production_accuracy"), ==, 1);
  g_assert_cmpfloat(metric(ctx, "candidate_accuracy"), ==, 1);
  /* at least as good on every metric: a tie promotes */
  g_assert_cmpfloat(metric(ctx, "promote"), ==, 1);
  lathe_test_remove_tree(dir);
}

static void test_metrics_param(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  g_autoptr(LatheArtifact) bad = fit(TRUE, FALSE);
  g_autofree char *dir = registry_with((LatheArtifact *[]){bad}, 1, TRUE);
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autoptr(LatheContext) only = run_ab(good, dir, "\"metrics\": [\"macro_recall\"]", &ok, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpfloat(metric(only, "candidate_macro_recall"), ==, 1);
  g_assert_false(json_object_has_member(lathe_context_get_metrics(only), "candidate_accuracy"));

  g_autoptr(LatheContext) unknown = run_ab(good, dir, "\"metrics\": [\"log_loss\"]", &ok, &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "'log_loss' cannot decide a promotion"));
  g_assert_null(lathe_context_get_output(unknown, "metrics"));
  g_clear_error(&error);
  g_autoptr(LatheContext) empty = run_ab(good, dir, "\"metrics\": []", &ok, &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "'metrics' is empty"));
  g_assert_null(lathe_context_get_output(empty, "metrics"));
  lathe_test_remove_tree(dir);
}

static void test_refusals(void) {
  g_autoptr(LatheArtifact) good = fit(FALSE, FALSE);
  g_autofree char *dir = registry_with((LatheArtifact *[]){good}, 1, TRUE);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* unlabelled data */
  const LatheComponent *c = lathe_test_component("evaluator-ab", "evaluator/ab");
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "ab", NULL, 1);
  lathe_context_set_dirs(ctx, ".", dir, dir);
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(lathe_dataset_new(4, 1));
  lathe_context_set_input(ctx, "candidate", good);
  lathe_context_set_input(ctx, "data", data);
  g_assert_false(((const LatheEvaluatorClass *)c)->run(ctx, &error));
  g_assert_nonnull(strstr(error->message, "has no labels"));
  g_clear_error(&error);

  /* a damaged blob is an error, never a silently different model */
  const char *digest = lathe_artifact_get_digest(good);
  char prefix[3] = {digest[0], digest[1], 0};
  g_autofree char *blob = g_build_filename(dir, "registry", "blobs", "sha256", prefix, digest + 2, NULL);
  g_assert_true(g_file_set_contents(blob, "garbage", -1, NULL));
  g_autoptr(LatheContext) corrupt = run_ab(good, dir, NULL, &ok, &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "is corrupt"));
  g_assert_null(lathe_context_get_output(corrupt, "metrics"));
  g_clear_error(&error);

  /* a registry schema the registry plugin does not know is refused */
  g_autofree char *dbp = g_build_filename(dir, "registry", "registry.db", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_autoptr(LatheContext) newer = run_ab(good, dir, NULL, &ok, &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "has schema version 9"));
  g_assert_null(lathe_context_get_output(newer, "metrics"));
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/evaluator-ab/no-production", test_no_production);
  g_test_add_func("/evaluator-ab/decisions", test_decisions);
  g_test_add_func("/evaluator-ab/keep", test_keep);
  g_test_add_func("/evaluator-ab/tie-and-class-order", test_tie_and_class_order);
  g_test_add_func("/evaluator-ab/metrics-param", test_metrics_param);
  g_test_add_func("/evaluator-ab/refusals", test_refusals);
  return g_test_run();
}
