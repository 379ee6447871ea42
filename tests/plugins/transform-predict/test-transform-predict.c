/* transform/predict through its ABI, with a real model (model/logreg): the
 * output keeps the rows, columns, labels and groups and appends one column
 * per class with the model's probabilities. source/model (same plugin): a
 * version registered in a real registry/local, read through the host's
 * registry service (test-util's), its content key the version's digest. */
#include <math.h>
#include <string.h>

#include "test-util.h"

static LatheDataset *two_blobs(void) {
  LatheDataset *ds = lathe_dataset_new(40, 2);
  const char *classes[] = {"left", "right", NULL};
  const char *groups[] = {"g0", "g1", NULL};
  lathe_dataset_set_classes(ds, classes);
  lathe_dataset_set_groups(ds, groups);
  lathe_dataset_set_column(ds, 0, "x");
  lathe_dataset_set_column(ds, 1, "y");
  for (guint r = 0; r < 40; r++) {
    ds->labels[r] = (gint32)(r % 2);
    ds->groups[r] = (gint32)(r / 20);
    ds->x[r * 2] = (r % 2 ? 3.0f : -3.0f) + 0.1f * (float)(r % 7);
    ds->x[r * 2 + 1] = 0.05f * (float)r;
  }
  return ds;
}

static void test_predict(void) {
  const LatheComponent *lr = lathe_test_component("model-logreg", "model/logreg");
  const LatheComponent *tp = lathe_test_component("transform-predict", "transform/predict");
  g_autoptr(LatheDataset) ds = two_blobs();
  g_autoptr(LatheContext) fctx = lathe_test_context(lr, "model", NULL, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheArtifact) model = lathe_test_fit(lr, fctx, ds, NULL, &error);
  g_assert_no_error(error);

  g_autoptr(LatheContext) ctx = lathe_test_context(tp, "pred", NULL, 1);
  lathe_context_set_input(ctx, "model", model);
  g_autoptr(LatheArtifact) d = lathe_artifact_new_dataset(lathe_dataset_ref(ds));
  lathe_context_set_input(ctx, "data", d);
  g_assert_true(((const LatheTransformClass *)tp)->run(ctx, &error));
  g_assert_no_error(error);
  const LatheDataset *out =
      lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"), &error);
  g_assert_nonnull(out);
  g_assert_cmpuint(out->n_rows, ==, 40);
  g_assert_cmpuint(out->n_cols, ==, 4);
  g_assert_cmpstr(out->columns[0], ==, "x");
  g_assert_cmpstr(out->columns[2], ==, "pred_left");
  g_assert_cmpstr(out->columns[3], ==, "pred_right");
  g_assert_cmpint(out->groups[25], ==, 1);
  for (guint r = 0; r < 40; r++) {
    const float *row = out->x + r * 4;
    g_assert_cmpfloat(row[0], ==, ds->x[r * 2]);
    g_assert_cmpfloat(fabs(row[2] + row[3] - 1.0), <, 1e-5);
    /* separable blobs: the probability of the true class dominates */
    g_assert_cmpfloat(row[2 + out->labels[r]], >, 0.9);
  }

  /* keep=false and a clashing prefix */
  g_autoptr(LatheContext) c2 = lathe_test_context(tp, "pred", "{\"keep\": false}", 1);
  lathe_context_set_input(c2, "model", model);
  lathe_context_set_input(c2, "data", d);
  g_assert_true(((const LatheTransformClass *)tp)->run(c2, &error));
  g_assert_cmpuint(lathe_artifact_get_dataset(lathe_context_get_output(c2, "data"), NULL)->n_cols,
                   ==, 2);
  /* a copy: a dataset inside an artifact is never modified */
  guint32 rows[40];
  for (guint r = 0; r < 40; r++)
    rows[r] = r;
  LatheDataset *renamed = lathe_dataset_take_rows(ds, rows, 40);
  lathe_dataset_set_column(renamed, 1, "pred_left");
  g_autoptr(LatheArtifact) clash = lathe_artifact_new_dataset(renamed);
  g_autoptr(LatheContext) c3 = lathe_test_context(tp, "pred", NULL, 1);
  lathe_context_set_input(c3, "model", model);
  lathe_context_set_input(c3, "data", clash);
  g_assert_false(((const LatheTransformClass *)tp)->run(c3, &error));
  g_assert_nonnull(strstr(error->message, "'pred_left' already exists"));
}

static void test_source_model(void) {
  const LatheComponent *lr = lathe_test_component("model-logreg", "model/logreg");
  const LatheComponent *sm = lathe_test_component("transform-predict", "source/model");
  g_autoptr(LatheDataset) ds = two_blobs();
  g_autoptr(LatheContext) fctx = lathe_test_context(lr, "model", NULL, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheArtifact) model = lathe_test_fit(lr, fctx, ds, NULL, &error);
  g_assert_no_error(error);
  /* A run store whose registry/local holds it as blobs@candidate. */
  g_autofree char *dir = g_dir_make_tmp("lathe-srcmodel-XXXXXX", NULL);
  const LatheComponent *rc = lathe_test_component("registry-local", "registry/local");
  const LatheRegistryClass *k = (const LatheRegistryClass *)rc;
  g_autofree char *rp = g_strdup_printf("{\"path\": \"%s/registry\"}", dir);
  g_autoptr(LatheContext) rctx = lathe_test_context(rc, "reg", rp, 0);
  gpointer reg = k->open(rctx, &error);
  g_assert_no_error(error);
  guint v = 0;
  g_autoptr(JsonObject) meta = json_object_new();
  g_assert_true(k->register_model(reg, "blobs", lathe_artifact_get_bytes(model), meta, &v, &error));
  g_assert_true(k->set_alias(reg, "blobs", "candidate", v, &error));
  g_assert_no_error(error);
  k->close(reg);

  const LatheSourceClass *src = (const LatheSourceClass *)sm;
  g_autoptr(LatheContext) ctx =
      lathe_test_context(sm, "m", "{\"name\": \"blobs\", \"ref\": \"candidate\"}", 0);
  lathe_context_set_dirs(ctx, ".", dir, dir);
  g_assert_true(src->resolve(ctx, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(lathe_context_get_content_key(ctx), ==, lathe_artifact_get_digest(model));
  g_assert_true(src->run(ctx, &error));
  g_assert_no_error(error);
  LatheArtifact *got = lathe_context_get_output(ctx, "model");
  g_assert_nonnull(got);
  g_assert_cmpstr(lathe_artifact_get_digest(got), ==, lathe_artifact_get_digest(model));

  /* An alias the registry lacks: one line naming what was asked for. */
  g_autoptr(LatheContext) bad =
      lathe_test_context(sm, "m", "{\"name\": \"blobs\", \"ref\": \"production\"}", 0);
  lathe_context_set_dirs(bad, ".", dir, dir);
  g_autoptr(GError) e2 = NULL;
  g_assert_false(src->run(bad, &e2));
  g_assert_nonnull(e2);
  g_assert_null(strchr(e2->message, '\n'));
  g_assert_nonnull(strstr(e2->message, "blobs@production"));
  g_assert_null(lathe_context_get_output(bad, "model"));
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-predict/predict", test_predict);
  g_test_add_func("/transform-predict/source-model", test_source_model);
  return g_test_run();
}
