/* model/cnn1d, model/rnn and model/lstm through their ABI: each learns a
 * small sequence problem well above chance on held-out rows (with ragged
 * lengths), fits deterministically, round-trips through its blob, refuses
 * damaged blobs and data of another shape, and reports its architecture. */
#include <math.h>
#include <string.h>

#include "model-nn-util.h"

typedef struct {
  const char *family;
  const char *params; /* small and quick */
  gboolean waves;     /* the frequency problem, else the bump position */
  double min_accuracy;
} Case;

static const Case cases[] = {
    {"cnn1d",
     "{\"filters\": [16, 16], \"kernel_size\": 5, \"epochs\": 40, \"lr\": 0.005, "
     "\"batch_size\": 32}",
     TRUE, 0.85},
    {"rnn", "{\"units\": [24], \"epochs\": 60, \"lr\": 0.005, \"batch_size\": 32}", FALSE,
     0.8},
    {"lstm", "{\"units\": [24], \"epochs\": 60, \"lr\": 0.01, \"batch_size\": 32}", FALSE,
     0.8},
};

static LatheDataset *make_problem(const Case *c, guint n, guint64 seed) {
  return c->waves ? make_waves(n, 24, TRUE, seed) : make_bumps(n, 24, TRUE, seed);
}

static void test_learns(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) all = make_problem(c, 600, 1);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(all, 4, &train, &test);
  g_autoptr(GError) error = NULL;
  gpointer model = nn_fit(m, c->params, train, NULL, 2, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *p = m->predict(model, test, &k, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k, ==, 3);
  assert_probabilities(p, test->n_rows, k);
  const double acc = nn_accuracy(p, test, k);
  g_autoptr(JsonObject) s = m->summary(model);
  g_test_message("%s: held-out accuracy %.3f (chance 0.33) after %" G_GINT64_FORMAT " epochs",
                 c->family, acc, json_object_get_int_member(s, "epochs_run"));
  g_assert_cmpfloat(acc, >, c->min_accuracy);
  m->free(model);
}

static void test_determinism_and_blob(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) ds = make_problem(c, 60, 3);
  g_autoptr(GError) error = NULL;
  const char *params = "{\"epochs\": 3, \"dropout\": 0.3, \"batch_size\": 16, "
                       "\"filters\": [4, 4], \"units\": [4, 3]}";
  /* Each family reads its own params; the others are not declared. */
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, params, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  if (g_str_equal(c->family, "cnn1d"))
    json_object_remove_member(o, "units");
  else
    json_object_remove_member(o, "filters");
  g_autofree char *own = lathe_json_canonical(json_parser_get_root(parser));

  GBytes *blobs[3];
  gpointer models[3];
  for (int i = 0; i < 3; i++) {
    models[i] = nn_fit(m, own, ds, NULL, i < 2 ? 5 : 6, &error);
    g_assert_no_error(error);
    blobs[i] = m->save(models[i], &error);
    g_assert_no_error(error);
  }
  g_assert_true(g_bytes_equal(blobs[0], blobs[1]));
  g_assert_false(g_bytes_equal(blobs[0], blobs[2]));

  /* Round trip: identical probabilities and identical bytes. */
  gpointer loaded = m->load(blobs[0], m->state_version, &error);
  g_assert_no_error(error);
  guint k1 = 0, k2 = 0;
  g_autofree float *p1 = m->predict(models[0], ds, &k1, &error);
  g_assert_no_error(error);
  g_autofree float *p2 = m->predict(loaded, ds, &k2, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(p1, ds->n_rows * k1 * sizeof(float), p2, ds->n_rows * k2 * sizeof(float));
  g_autoptr(GBytes) again = m->save(loaded, &error);
  g_assert_true(g_bytes_equal(blobs[0], again));

  /* The architecture travels with the blob. */
  g_autoptr(JsonObject) s = m->summary(loaded);
  JsonObject *arch = json_object_get_object_member(s, "architecture");
  g_assert_cmpfloat(json_object_get_double_member(arch, "dropout"), ==, 0.3);
  JsonArray *shape = json_object_get_array_member(s, "input_shape");
  g_assert_cmpint(json_array_get_int_element(shape, 0), ==, 24);
  g_assert_cmpint(json_array_get_int_element(shape, 1), ==, c->waves ? 2 : 1);
  g_assert_cmpstr(json_object_get_string_member(s, "family"), ==, c->family);

  check_blob_refusals(m, blobs[0]);

  /* Data of another shape is refused by predict. */
  g_autoptr(LatheDataset) other = make_problem(c, 6, 4);
  g_autoptr(LatheDataset) shorter = c->waves ? make_waves(6, 20, FALSE, 4)
                                             : make_bumps(6, 20, FALSE, 4);
  guint k = 0;
  g_assert_null(m->predict(loaded, shorter, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "trained on 24 steps"));
  g_clear_error(&error);
  g_autofree float *fine = m->predict(loaded, other, &k, &error);
  g_assert_no_error(error);
  assert_probabilities(fine, other->n_rows, k);

  m->free(loaded);
  for (int i = 0; i < 3; i++) {
    m->free(models[i]);
    g_bytes_unref(blobs[i]);
  }
}

/* Padding is ignored: changing the values past each row's length changes no
 * prediction (the recurrent layers and the pools honour the lengths; the
 * convolution sees zeros there whatever the data holds). */
static void test_padding_ignored(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) ds = make_problem(c, 60, 5);
  g_autoptr(GError) error = NULL;
  const char *params = g_str_equal(c->family, "cnn1d")
                           ? "{\"filters\": [4, 4], \"epochs\": 2}"
                           : "{\"units\": [4, 4], \"epochs\": 2, \"pooling\": \"mean\"}";
  gpointer model = nn_fit(m, params, ds, NULL, 1, &error);
  g_assert_no_error(error);
  g_autofree guint32 *rows = g_new(guint32, ds->n_rows);
  for (guint r = 0; r < ds->n_rows; r++)
    rows[r] = r;
  g_autoptr(LatheDataset) changed = lathe_dataset_take_rows(ds, rows, ds->n_rows);
  const guint ch = lathe_dataset_channels(ds);
  guint padded = 0;
  for (guint r = 0; r < ds->n_rows; r++)
    for (guint t = ds->lengths[r]; t < ds->seq_len; t++)
      for (guint j = 0; j < ch; j++, padded++)
        changed->x[((gsize)r * ds->seq_len + t) * ch + j] = 3.0f + (float)t;
  g_assert_cmpuint(padded, >, 0);
  guint k = 0;
  g_autofree float *a = m->predict(model, ds, &k, &error);
  g_autofree float *b = m->predict(model, changed, &k, &error);
  g_assert_no_error(error);
  for (gsize i = 0; i < (gsize)ds->n_rows * k; i++)
    g_assert_cmpfloat(fabs(a[i] - b[i]), <, 1e-6);
  m->free(model);
}

static void expect_fit_error(const Case *c, const char *params, const LatheDataset *ds,
                             const char *needle) {
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(GError) error = NULL;
  g_assert_null(nn_fit(m, params, ds, NULL, 0, &error));
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  g_assert_null(strchr(error->message, '\n'));
  g_autofree char *who = g_strdup_printf("model/%s node 'model'", c->family);
  g_assert_nonnull(strstr(error->message, who));
  if (!strstr(error->message, needle))
    g_error("'%s' does not say '%s'", error->message, needle);
}

static void test_bad_params(gconstpointer data) {
  const Case *c = data;
  g_autoptr(LatheDataset) ds = make_problem(c, 30, 6);
  if (g_str_equal(c->family, "cnn1d")) {
    expect_fit_error(c, "{\"filters\": []}", ds, "'filters' is empty");
    expect_fit_error(c, "{\"filters\": [0]}", ds, "'filters' item 0");
    expect_fit_error(c, "{\"kernel_size\": 0}", ds, "'kernel_size'");
    expect_fit_error(c, "{\"pool\": 0}", ds, "'pool'");
    expect_fit_error(c, "{\"global_pool\": \"last\"}", ds, "'global_pool' must be one of: mean, max");
    expect_fit_error(c, "{\"dense\": [8, 0]}", ds, "'dense' item 1");
    /* 24 steps pooled by 5 three times: 24 -> 5 -> 1, then a window of 5
     * does not fit the single step left. */
    expect_fit_error(c, "{\"filters\": [2, 2, 2], \"pool\": 5}", ds, "maxpool");
  } else {
    expect_fit_error(c, "{\"units\": []}", ds, "'units' is empty");
    expect_fit_error(c, "{\"units\": [3, 0]}", ds, "'units' item 1");
    expect_fit_error(c, "{\"pooling\": \"sum\"}", ds, "'pooling' must be one of: last, mean, max");
  }
  expect_fit_error(c, "{\"batch_size\": 0}", ds, "'batch_size'");
  ds->x[7] = NAN;
  expect_fit_error(c, "{}", ds, "is nan");
  ds->x[7] = 0;
  ds->lengths[3] = 25;
  expect_fit_error(c, "{}", ds, "training row 3 has length 25, outside 1..24");
}

/* Extra dense layers and tanh in the CNN, mean pooling in the recurrent
 * models, stacked layers: other architectures build and train. */
static void test_variants(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) ds = make_problem(c, 90, 7);
  const char *params =
      g_str_equal(c->family, "cnn1d")
          ? "{\"filters\": [6, 5], \"kernel_size\": 2, \"pool\": 1, \"activation\": "
            "\"tanh\", \"dense\": [7, 5], \"epochs\": 3}"
          : "{\"units\": [5, 4, 3], \"pooling\": \"mean\", \"epochs\": 3}";
  g_autoptr(GError) error = NULL;
  gpointer model = nn_fit(m, params, ds, NULL, 1, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) s = m->summary(model);
  gint64 n = json_object_get_int_member(s, "n_parameters");
  gint64 want;
  const gint64 in = c->waves ? 2 : 1;
  if (g_str_equal(c->family, "cnn1d"))
    want = (2 * in * 6 + 6) + (2 * 6 * 5 + 5) + (5 * 7 + 7) + (7 * 5 + 5) + (5 * 3 + 3);
  else if (g_str_equal(c->family, "rnn"))
    want = (in * 5 + 25 + 5) + (5 * 4 + 16 + 4) + (4 * 3 + 9 + 3) + (3 * 3 + 3);
  else
    want = 4 * (in * 5 + 25 + 5) + 4 * (5 * 4 + 16 + 4) + 4 * (4 * 3 + 9 + 3) + (3 * 3 + 3);
  g_assert_cmpint(n, ==, want);
  m->free(model);
}

/* Global max pooling: the class is the height of the sequence's single
 * short peak, which averaging over 24 steps dilutes; each family learns it
 * well above chance with max pooling. */
static void test_max_pooling(gconstpointer data) {
  const Case *c = data;
  const LatheModelClass *m = nn_model(c->family);
  g_autoptr(LatheDataset) all = lathe_dataset_new(600, 24);
  const char *classes[] = {"low", "mid", "high", NULL};
  lathe_dataset_set_classes(all, classes);
  lathe_dataset_set_sequence(all, 24, FALSE);
  LatheRng rng;
  lathe_rng_init(&rng, 11);
  for (guint r = 0; r < all->n_rows; r++) {
    guint k = (guint)lathe_rng_below(&rng, 3);
    all->labels[r] = (gint32)k;
    for (guint t = 0; t < 24; t++)
      all->x[r * 24 + t] = (float)(0.3 * lathe_rng_normal(&rng));
    all->x[r * 24 + lathe_rng_below(&rng, 24)] += 2.0f + 2.0f * (float)k;
  }
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_rows(all, 4, &train, &test);
  const char *params = g_str_equal(c->family, "cnn1d")
                           ? "{\"filters\": [8], \"kernel_size\": 1, \"pool\": 1, "
                             "\"global_pool\": \"max\", \"epochs\": 40, \"lr\": 0.01}"
                           : "{\"units\": [8], \"pooling\": \"max\", \"epochs\": 40, "
                             "\"lr\": 0.01}";
  g_autoptr(GError) error = NULL;
  gpointer model = nn_fit(m, params, train, NULL, 2, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *p = m->predict(model, test, &k, &error);
  g_assert_no_error(error);
  const double acc = nn_accuracy(p, test, k);
  g_test_message("%s with max pooling: held-out accuracy %.3f (chance 0.33)", c->family, acc);
  g_assert_cmpfloat(acc, >, 0.8);
  m->free(model);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const Case *c = &cases[i];
    g_autofree char *a = g_strdup_printf("/model-%s/learns", c->family);
    g_autofree char *b = g_strdup_printf("/model-%s/determinism-and-blob", c->family);
    g_autofree char *d = g_strdup_printf("/model-%s/padding-ignored", c->family);
    g_autofree char *e = g_strdup_printf("/model-%s/bad-params", c->family);
    g_autofree char *f = g_strdup_printf("/model-%s/variants", c->family);
    g_test_add_data_func(a, c, test_learns);
    g_test_add_data_func(b, c, test_determinism_and_blob);
    g_test_add_data_func(d, c, test_padding_ignored);
    g_test_add_data_func(e, c, test_bad_params);
    g_test_add_data_func(f, c, test_variants);
    g_autofree char *g = g_strdup_printf("/model-%s/max-pooling", c->family);
    g_test_add_data_func(g, c, test_max_pooling);
  }
  return g_test_run();
}
