/* The neural models trained on 2 and 3 threads (data parallelism) through
 * their ABI: one seed and one thread count give identical bytes, with
 * dropout and a validation split; without dropout the threaded fit follows
 * the serial one up to rounding; it still learns; and the process's BLAS
 * thread count is restored after the fit. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include <lathe/lathe-context-private.h>

#include "model-nn-util.h"

typedef struct {
  const char *family;
  const char *params; /* dropout and a validation split: every sharded path */
  gboolean seq;
} Case;

static const Case cases[] = {
    {"mlp",
     "{\"units\": [16, 16], \"epochs\": 6, \"batch_size\": 16, \"dropout\": 0.2, "
     "\"validation_fraction\": 0.2}",
     FALSE},
    {"cnn1d",
     "{\"filters\": [6, 6], \"kernel_size\": 3, \"epochs\": 4, \"batch_size\": 16, "
     "\"dropout\": 0.2, \"validation_fraction\": 0.2}",
     TRUE},
    {"lstm",
     "{\"units\": [6], \"epochs\": 3, \"batch_size\": 16, \"dropout\": 0.2, "
     "\"validation_fraction\": 0.2}",
     TRUE},
};

static LatheDataset *problem(const Case *c, guint n, guint64 seed) {
  return c->seq ? make_waves(n, 24, TRUE, seed) : make_blobs(n, 6, 3, seed);
}

static gpointer fit_threads(const LatheModelClass *m, const char *params,
                            const LatheDataset *ds, guint64 seed, guint threads) {
  g_autoptr(LatheContext) ctx = lathe_test_context(&m->base, "model", params, seed);
  lathe_context_set_threads(ctx, threads);
  g_autoptr(GError) error = NULL;
  gpointer model = m->fit(ctx, ds, NULL, &error);
  g_assert_no_error(error);
  return model;
}

static GBytes *fit_bytes(const LatheModelClass *m, const char *params, const LatheDataset *ds,
                         guint64 seed, guint threads) {
  gpointer model = fit_threads(m, params, ds, seed, threads);
  g_autoptr(GError) error = NULL;
  GBytes *b = m->save(model, &error);
  g_assert_no_error(error);
  m->free(model);
  return b;
}

static void test_deterministic(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  /* 83 rows: batches of 16 and a last one of 2 or 3 split unevenly. */
  g_autoptr(LatheDataset) ds = problem(c, 83, 4);
  g_autoptr(GBytes) a = fit_bytes(m, c->params, ds, 5, 2);
  g_autoptr(GBytes) b = fit_bytes(m, c->params, ds, 5, 2);
  g_autoptr(GBytes) other = fit_bytes(m, c->params, ds, 6, 2);
  g_assert_true(g_bytes_equal(a, b));
  g_assert_false(g_bytes_equal(a, other));
  g_autoptr(GBytes) t3a = fit_bytes(m, c->params, ds, 5, 3);
  g_autoptr(GBytes) t3b = fit_bytes(m, c->params, ds, 5, 3);
  g_assert_true(g_bytes_equal(t3a, t3b));
}

/* Without dropout the threads change only the order of the gradient sums:
 * after a few epochs the probabilities agree to float rounding (the training
 * is not chaotic on this scale), where dropping or mixing up a shard's
 * gradient would not. (Adam hides a uniform scale error: test-nn-parallel
 * checks the weighting exactly.) */
static void test_follows_serial(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) ds = problem(c, 83, 7);
  g_autofree char *params = g_strdup_printf(
      "%s", c->seq ? "{\"filters\": [6, 6], \"units\": [6], \"epochs\": 3, \"batch_size\": 16}"
                   : "{\"units\": [16, 16], \"epochs\": 5, \"batch_size\": 16}");
  /* Each family reads its own params; drop the one it does not declare. */
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, params, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  if (g_str_equal(c->family, "cnn1d"))
    json_object_remove_member(o, "units");
  else if (c->seq)
    json_object_remove_member(o, "filters");
  g_autofree char *own = lathe_json_canonical(json_parser_get_root(parser));

  gpointer serial = fit_threads(m, own, ds, 3, 1);
  gpointer threaded = fit_threads(m, own, ds, 3, 2);
  g_autoptr(GError) error = NULL;
  guint k1 = 0, k2 = 0;
  g_autofree float *p1 = m->predict(serial, ds, &k1, &error);
  g_assert_no_error(error);
  g_autofree float *p2 = m->predict(threaded, ds, &k2, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k1, ==, k2);
  double worst = 0;
  for (gsize i = 0; i < (gsize)ds->n_rows * k1; i++)
    worst = MAX(worst, fabs((double)p1[i] - p2[i]));
  g_test_message("%s: largest probability difference, 1 vs 2 threads: %g", c->family, worst);
  g_assert_cmpfloat(worst, <, 1e-3);
  m->free(serial);
  m->free(threaded);
}

static void test_learns_and_restores_blas(void) {
  const LatheModelClass *m = nn_model("mlp");
  g_autoptr(LatheDataset) all = make_blobs(400, 6, 3, 2);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(all, 4, &train, &test);
  openblas_set_num_threads(2);
  gpointer model = fit_threads(m, "{\"units\": [16], \"epochs\": 30, \"batch_size\": 16}",
                               train, 1, 2);
  g_assert_cmpint(openblas_get_num_threads(), ==, 2);
  g_autoptr(GError) error = NULL;
  guint k = 0;
  g_autofree float *p = m->predict(model, test, &k, &error);
  g_assert_no_error(error);
  assert_probabilities(p, test->n_rows, k);
  g_assert_cmpfloat(nn_accuracy(p, test, k), >, 0.9);
  m->free(model);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *a = g_strdup_printf("/model-parallel/%s/deterministic", cases[i].family);
    g_autofree char *b = g_strdup_printf("/model-parallel/%s/follows-serial", cases[i].family);
    g_test_add_data_func(a, &cases[i], test_deterministic);
    g_test_add_data_func(b, &cases[i], test_follows_serial);
  }
  g_test_add_func("/model-parallel/learns-and-restores-blas", test_learns_and_restores_blas);
  return g_test_run();
}
