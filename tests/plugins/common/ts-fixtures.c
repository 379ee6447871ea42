#include <string.h>

#include "ts-fixtures.h"

LatheDataset *ts_run(const char *plugin, const char *id, const char *params,
                     LatheDataset *input, LatheContext **ctx_out, GError **error) {
  const LatheComponent *comp = lathe_test_component(plugin, id);
  /* Source and transform classes share the layout {base, run}. */
  const LatheTransformClass *k = (const LatheTransformClass *)comp;
  LatheContext *ctx = lathe_test_context(comp, "node", params, 3);
  if (input) {
    g_autoptr(LatheArtifact) art = lathe_artifact_new_dataset(input);
    lathe_context_set_input(ctx, "data", art);
  }
  LatheDataset *out = NULL;
  if (k->run(ctx, error)) {
    LatheArtifact *art = lathe_context_get_output(ctx, "data");
    g_assert_nonnull(art);
    const LatheDataset *ds = lathe_artifact_get_dataset(art, error);
    g_assert_nonnull(ds);
    out = lathe_dataset_ref((LatheDataset *)ds);
  } else {
    g_assert_null(lathe_context_get_output(ctx, "data"));
  }
  if (ctx_out)
    *ctx_out = ctx;
  else
    lathe_context_free(ctx);
  return out;
}

char *ts_expect_error(const char *plugin, const char *id, const char *params,
                      LatheDataset *input) {
  g_autoptr(GError) error = NULL;
  LatheDataset *out = ts_run(plugin, id, params, input, NULL, &error);
  g_assert_null(out);
  g_assert_nonnull(error);
  g_assert_true(error->domain == LATHE_ERROR);
  g_assert_null(strchr(error->message, '\n'));
  return g_strdup(error->message);
}

guint ts_col(const LatheDataset *ds, const char *name) {
  for (guint j = 0; j < ds->n_cols; j++)
    if (strcmp(ds->columns[j], name) == 0)
      return j;
  g_error("no column '%s'", name);
  return 0;
}

float ts_at(const LatheDataset *ds, guint r, const char *name) {
  g_assert_cmpuint(r, <, ds->n_rows);
  return ds->x[(gsize)r * ds->n_cols + ts_col(ds, name)];
}

void ts_assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_error("expected '%s' in: %s", needle, haystack);
}

LatheDataset *ts_series(guint n, guint n_groups, gboolean interleave, guint32 seed) {
  LatheDataset *ds = lathe_dataset_new(n, 4);
  const char *cols[] = {"timestamp_days", "timestamp_sec", "value", "other"};
  for (guint j = 0; j < 4; j++)
    lathe_dataset_set_column(ds, j, cols[j]);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint g = 0; g < n_groups; g++)
    g_ptr_array_add(names, g_strdup_printf("s%u", g));
  g_ptr_array_add(names, NULL);
  lathe_dataset_set_groups(ds, (const char *const *)names->pdata);
  GRand *rand = g_rand_new_with_seed(seed);
  for (guint r = 0; r < n; r++) {
    float *row = ds->x + (gsize)r * 4;
    row[0] = 16000.0f + (float)(r / 288);
    row[1] = (float)((r % 288) * 300);
    row[2] = (float)(1000.0 + 50.0 * g_rand_double_range(rand, -1, 1));
    row[3] = (float)g_rand_double_range(rand, -3, 3);
    ds->groups[r] = (gint32)(interleave ? r % n_groups : r * n_groups / n);
  }
  g_rand_free(rand);
  return ds;
}
