#include <stdarg.h>
#include <string.h>

#include "seq-fixtures.h"

LatheDataset *seq_long_table(guint n_cols, const guint *lens, guint n_rec) {
  guint n = 0;
  for (guint i = 0; i < MAX(n_rec, 1u); i++)
    n += lens[i];
  LatheDataset *ds = lathe_dataset_new(n, n_cols);
  for (guint j = 0; j < n_cols; j++) {
    char name[2] = {(char)('a' + j), '\0'};
    lathe_dataset_set_column(ds, j, name);
  }
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < n_cols; j++)
      ds->x[(gsize)r * n_cols + j] = (float)(r + 100 * j);
  const char *classes[] = {"k0", "k1", NULL};
  lathe_dataset_set_classes(ds, classes);
  if (n_rec == 0)
    return ds;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n_rec; i++)
    g_ptr_array_add(names, g_strdup_printf("rec%u", i));
  g_ptr_array_add(names, NULL);
  lathe_dataset_set_groups(ds, (const char *const *)names->pdata);
  guint r = 0;
  for (guint i = 0; i < n_rec; i++)
    for (guint k = 0; k < lens[i]; k++, r++) {
      ds->groups[r] = (gint32)i;
      ds->labels[r] = (gint32)(i % 2);
    }
  return ds;
}

gboolean seq_run(SeqRun *run, const char *plugin, const char *id, const char *node,
                 const char *params, GError **error, ...) {
  const LatheTransformClass *k = (const LatheTransformClass *)lathe_test_component(plugin, id);
  run->ctx = lathe_test_context(&k->base, node, params, 11);
  va_list ap;
  va_start(ap, error);
  const char *name;
  while ((name = va_arg(ap, const char *))) {
    LatheDataset *ds = va_arg(ap, LatheDataset *);
    g_autoptr(LatheArtifact) art = lathe_artifact_new_dataset(ds);
    lathe_context_set_input(run->ctx, name, art);
  }
  va_end(ap);
  return k->run(run->ctx, error);
}

const LatheDataset *seq_output(SeqRun *run, const char *name) {
  LatheArtifact *art = lathe_context_get_output(run->ctx, name);
  if (!art)
    return NULL;
  g_autoptr(GError) error = NULL;
  const LatheDataset *ds = lathe_artifact_get_dataset(art, &error);
  g_assert_no_error(error);
  return ds;
}

void seq_run_clear(SeqRun *run) {
  g_clear_pointer(&run->ctx, lathe_context_free);
}

char *seq_expect_error(const char *plugin, const char *id, const char *params,
                       LatheDataset *ds) {
  SeqRun run = {0};
  g_autoptr(GError) error = NULL;
  g_assert_false(seq_run(&run, plugin, id, "node", params, &error, "data", ds, NULL));
  g_assert_nonnull(error);
  g_assert_true(error->domain == LATHE_ERROR);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(lathe_context_get_output(run.ctx, "data"));
  seq_run_clear(&run);
  return g_strdup(error->message);
}

LatheDataset *seq_roundtrip(const LatheDataset *ds) {
  g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
  g_autoptr(GError) error = NULL;
  LatheDataset *back = lathe_dataset_deserialize(bytes, &error);
  g_assert_no_error(error);
  g_assert_nonnull(back);
  return back;
}

void seq_assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_error("expected '%s' in: %s", needle, haystack);
}
