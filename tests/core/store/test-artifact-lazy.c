/* Lazy artifacts: a cached node's outputs are restored by digest and their
 * bytes read from the store only when a node reads them. Each test would
 * fail against an artifact that reads (or maps) its bytes when created. */
#include <string.h>

#include <glib/gstdio.h>
#include <lathe/lathe-context-private.h>

#include "store/store.h"
#include "test-util.h"

typedef struct {
  GBytes *bytes; /* NULL: the loader fails */
  gint calls;
} Source;

static GBytes *load_counted(gpointer data, const char *digest, GError **error) {
  Source *src = data;
  (void)digest;
  g_atomic_int_inc(&src->calls);
  g_usleep(2000); /* widen the window in which parallel readers could load twice */
  if (!src->bytes) {
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No such file or directory");
    return NULL;
  }
  return g_bytes_ref(src->bytes);
}

static LatheArtifact *lazy_metrics(Source *src, const char *digest, double accuracy) {
  g_autoptr(JsonObject) m = json_object_new();
  json_object_set_double_member(m, "accuracy", accuracy);
  g_autoptr(LatheArtifact) orig = lathe_artifact_new_metrics(json_object_ref(m));
  src->bytes = g_bytes_ref(lathe_artifact_get_bytes(orig));
  return lathe_artifact_new_lazy(LATHE_TYPE_METRICS, digest ? digest : lathe_artifact_get_digest(orig),
                                 g_bytes_get_size(src->bytes), load_counted, src, NULL);
}

/* What a cached node records (digest, size, kind) reads nothing; the first
 * decode reads once, later ones not again. */
static void test_unread(void) {
  Source src = {0};
  const char *name = "1111111111111111111111111111111111111111111111111111111111111111";
  LatheArtifact *a = lazy_metrics(&src, name, 0.75);
  g_assert_cmpstr(lathe_artifact_get_digest(a), ==, name); /* the store's name, not a hash */
  g_assert_cmpuint(lathe_artifact_get_size(a), ==, g_bytes_get_size(src.bytes));
  g_assert_cmpint(lathe_artifact_get_kind(a), ==, LATHE_TYPE_METRICS);
  g_assert_cmpint(src.calls, ==, 0);
  g_autoptr(GError) error = NULL;
  JsonObject *m = lathe_artifact_get_metrics(a, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(json_object_get_double_member(m, "accuracy"), ==, 0.75);
  g_assert_true(lathe_artifact_get_bytes(a) == src.bytes);
  g_assert_nonnull(lathe_artifact_get_metrics(a, NULL));
  g_assert_cmpint(src.calls, ==, 1);
  lathe_artifact_unref(a);
  g_bytes_unref(src.bytes);
}

static gpointer read_metrics(gpointer a) {
  return lathe_artifact_get_metrics(a, NULL);
}

/* Parallel workers reading one cached output: one load, one decoded object. */
static void test_threads(void) {
  Source src = {0};
  LatheArtifact *a = lazy_metrics(&src, NULL, 0.5);
  GThread *th[8];
  for (guint i = 0; i < G_N_ELEMENTS(th); i++)
    th[i] = g_thread_new("reader", read_metrics, a);
  gpointer first = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(th); i++) {
    gpointer got = g_thread_join(th[i]);
    g_assert_nonnull(got);
    if (!first)
      first = got;
    g_assert_true(got == first);
  }
  g_assert_cmpint(src.calls, ==, 1);
  lathe_artifact_unref(a);
  g_bytes_unref(src.bytes);
}

/* A failed read fails each reader with one line that names the artifact and
 * the way out, and is not retried. */
static void test_failure(void) {
  Source src = {0};
  const char *name = "2222222222222222222222222222222222222222222222222222222222222222";
  LatheArtifact *a = lathe_artifact_new_lazy(LATHE_TYPE_DATASET, name, 10, load_counted, &src, NULL);
  for (int i = 0; i < 2; i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(lathe_artifact_get_dataset(a, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
    g_assert_nonnull(strstr(error->message, name));
    g_assert_nonnull(strstr(error->message, "--no-cache"));
    g_assert_null(strchr(error->message, '\n'));
  }
  g_assert_cmpint(src.calls, ==, 1);
  lathe_artifact_unref(a);
}

/* The store's artifacts are lazy: one fetched before its file is removed
 * fails only when read, with the digest in the message (a mapping taken at
 * fetch time would survive the removal), and a fetch after the removal is a
 * miss. The bytes read match what was stored. */
static void test_store(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-lazy-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  LatheDataset *ds = lathe_dataset_new(3, 2);
  g_autoptr(LatheArtifact) a = lathe_artifact_new_dataset(ds);
  g_assert_true(lathe_store_put_artifact(s, a, &error));
  const char *digest = lathe_artifact_get_digest(a);

  g_autoptr(LatheArtifact) good = lathe_store_get_artifact(s, digest, LATHE_TYPE_DATASET, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(lathe_artifact_get_size(good), ==, g_bytes_get_size(lathe_artifact_get_bytes(a)));
  const LatheDataset *back = lathe_artifact_get_dataset(good, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(back->n_rows, ==, 3);
  g_assert_true(g_bytes_equal(lathe_artifact_get_bytes(good), lathe_artifact_get_bytes(a)));

  g_autoptr(LatheArtifact) early = lathe_store_get_artifact(s, digest, LATHE_TYPE_DATASET, &error);
  g_assert_no_error(error);
  g_autoptr(LatheArtifact) passed = lathe_store_get_artifact(s, digest, LATHE_TYPE_DATASET, &error);
  g_assert_no_error(error);
  char sub[3] = {digest[0], digest[1], 0}; /* the store's layout: artifacts/sha256/ab/cdef... */
  g_autofree char *file = g_build_filename(dir, "artifacts", "sha256", sub, digest + 2, NULL);
  g_assert_cmpint(g_unlink(file), ==, 0);
  g_assert_null(lathe_artifact_get_dataset(early, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, digest));
  g_assert_nonnull(strstr(error->message, "--no-cache"));
  g_clear_error(&error);
  g_assert_null(lathe_store_get_artifact(s, digest, LATHE_TYPE_DATASET, NULL));
  /* A node that passes such an input through as its output: the store must
   * refuse it rather than write an empty file under the digest, whether the
   * read fails now or failed before. */
  g_assert_false(lathe_store_put_artifact(s, passed, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, digest));
  g_clear_error(&error);
  g_assert_false(lathe_store_put_artifact(s, early, &error));
  g_clear_error(&error);
  g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));

  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/artifact/lazy/unread", test_unread);
  g_test_add_func("/artifact/lazy/threads", test_threads);
  g_test_add_func("/artifact/lazy/failure", test_failure);
  g_test_add_func("/artifact/lazy/store", test_store);
  return g_test_run();
}
