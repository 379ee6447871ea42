/* model/forest and model/forest-regressor: learning (iris, blobs, a smooth
 * function), determinism across thread counts, the blob round trip and its
 * refusal of damaged bytes, importances, the out-of-bag score, the params
 * that shape the trees, and every input error.
 *
 * The plugin is loaded as a module for everything that goes through the ABI;
 * the blob code is also compiled in (forest-internal.h) to look inside
 * loaded trees. */
#include <math.h>
#include <string.h>

#include "forest-internal.h"
#include "test-util.h"

static const LatheModelClass *clf(void) {
  return (const LatheModelClass *)lathe_test_component("model-forest", "model/forest");
}

static const LatheModelClass *reg(void) {
  return (const LatheModelClass *)lathe_test_component("model-forest",
                                                       "model/forest-regressor");
}

/* ---- data ---------------------------------------------------------------- */

/* The sklearn copy of iris (header "150,4,setosa,..."), or NULL. */
static LatheDataset *load_iris(void) {
  g_autofree char *path = lathe_test_shared_path("iris/sklearn/iris.csv");
  if (!path)
    return NULL;
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_auto(GStrv) head = g_strsplit(lines[0], ",", -1);
  guint n = (guint)g_ascii_strtoull(head[0], NULL, 10);
  guint d = (guint)g_ascii_strtoull(head[1], NULL, 10);
  LatheDataset *ds = lathe_dataset_new(n, d);
  lathe_dataset_set_classes(ds, (const char *const *)head + 2);
  for (guint r = 0; r < n; r++) {
    g_auto(GStrv) f = g_strsplit(lines[r + 1], ",", -1);
    g_assert_cmpuint(g_strv_length(f), ==, d + 1);
    for (guint j = 0; j < d; j++)
      ds->x[r * d + j] = (float)g_ascii_strtod(f[j], NULL);
    ds->labels[r] = (gint32)g_ascii_strtoll(f[d], NULL, 10);
  }
  return ds;
}

/* Three Gaussian blobs: feature j carries class j % 3 when j < 3; the rest
 * (and all columns from 3 on) are noise. */
static LatheDataset *make_blobs(guint n, guint d, double sep, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, d);
  const char *classes[] = {"a", "b", "c", NULL};
  lathe_dataset_set_classes(ds, classes);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++) {
    gint32 c = (gint32)(r % 3);
    ds->labels[r] = c;
    for (guint j = 0; j < d; j++)
      ds->x[r * d + j] = (float)(lathe_rng_normal(&rng) + (j < 3 && j == (guint)c ? sep : 0.0));
  }
  return ds;
}

/* y = 3 sin(x0) + x1^2 + small noise; x2 is noise; the target is column 1
 * of 4 so the regressor has to drop a column in the middle. */
static LatheDataset *make_function(guint n, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, 4);
  const char *names[] = {"x0", "y", "x1", "x2"};
  for (guint j = 0; j < 4; j++)
    lathe_dataset_set_column(ds, j, names[j]);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++) {
    float *row = ds->x + (gsize)r * 4;
    row[0] = (float)(lathe_rng_uniform(&rng) * 6.0 - 3.0);
    row[2] = (float)(lathe_rng_uniform(&rng) * 4.0 - 2.0);
    row[3] = (float)lathe_rng_normal(&rng);
    row[1] = (float)(3.0 * sin(row[0]) + row[2] * row[2] + 0.1 * lathe_rng_normal(&rng));
  }
  return ds;
}

static void split_every(const LatheDataset *ds, guint k, LatheDataset **train,
                        LatheDataset **test) {
  g_autofree guint32 *tr = g_new(guint32, ds->n_rows);
  g_autofree guint32 *te = g_new(guint32, ds->n_rows);
  guint ntr = 0, nte = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    if (r % k == k - 1)
      te[nte++] = r;
    else
      tr[ntr++] = r;
  }
  *train = lathe_dataset_take_rows(ds, tr, ntr);
  *test = lathe_dataset_take_rows(ds, te, nte);
}

/* ---- helpers --------------------------------------------------------------- */

static gpointer fit_with(const LatheModelClass *m, const char *params, const LatheDataset *train,
                         guint threads, guint64 seed, GError **error) {
  g_autoptr(LatheContext) ctx = lathe_test_context(&m->base, "forest", params, seed);
  lathe_context_set_threads(ctx, threads);
  return m->fit(ctx, train, NULL, error);
}

static gpointer fit_ok(const LatheModelClass *m, const char *params, const LatheDataset *train,
                       guint threads, guint64 seed) {
  g_autoptr(GError) error = NULL;
  gpointer model = fit_with(m, params, train, threads, seed, &error);
  g_assert_no_error(error);
  g_assert_nonnull(model);
  return model;
}

static float *predict_ok(const LatheModelClass *m, gconstpointer model, const LatheDataset *ds,
                         guint expect_cols) {
  g_autoptr(GError) error = NULL;
  guint k = 0;
  float *out = m->predict(model, ds, &k, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k, ==, expect_cols);
  return out;
}

static double accuracy(const float *probs, const LatheDataset *ds, guint k) {
  guint ok = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    guint best = 0;
    double s = 0.0;
    for (guint c = 0; c < k; c++) {
      g_assert_cmpfloat(probs[r * k + c], >=, 0.0f);
      s += probs[r * k + c];
      if (probs[r * k + c] > probs[r * k + best])
        best = c;
    }
    g_assert_cmpfloat(fabs(s - 1.0), <, 1e-4);
    ok += (gint32)best == ds->labels[r];
  }
  return (double)ok / ds->n_rows;
}

static double r2(const float *pred, const LatheDataset *ds, guint target) {
  double mean = 0.0, res = 0.0, tot = 0.0;
  for (guint r = 0; r < ds->n_rows; r++)
    mean += ds->x[(gsize)r * ds->n_cols + target];
  mean /= ds->n_rows;
  for (guint r = 0; r < ds->n_rows; r++) {
    double y = ds->x[(gsize)r * ds->n_cols + target];
    res += (y - pred[r]) * (y - pred[r]);
    tot += (y - mean) * (y - mean);
  }
  return 1.0 - res / tot;
}

/* ---- learning ---------------------------------------------------------------- */

static void test_iris(void) {
  g_autoptr(LatheDataset) iris = load_iris();
  if (!iris) {
    g_test_skip("iris/sklearn/iris.csv not found under $LATHE_SHARED_DATA");
    return;
  }
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_every(iris, 5, &train, &test);
  for (guint i = 0; i < 2; i++) {
    const char *params = i ? "{\"criterion\": \"entropy\"}" : NULL;
    gpointer m = fit_ok(clf(), params, train, 2, 1);
    g_autofree float *p = predict_ok(clf(), m, test, 3);
    double acc = accuracy(p, test, 3);
    g_assert_cmpfloat(acc, >=, 0.9);
    clf()->free(m);
  }
}

static void test_blobs(void) {
  g_autoptr(LatheDataset) ds = make_blobs(900, 8, 2.5, 3);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_every(ds, 4, &train, &test);
  gpointer m = fit_ok(clf(), "{\"n_estimators\": 50}", train, 2, 0);
  g_autofree float *p = predict_ok(clf(), m, test, 3);
  /* Chance is 1/3; three informative features at 2.5 sd give about 0.9. */
  g_assert_cmpfloat(accuracy(p, test, 3), >=, 0.85);
  clf()->free(m);
}

static void test_regressor(void) {
  g_autoptr(LatheDataset) ds = make_function(1500, 5);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_every(ds, 4, &train, &test);
  gpointer m = fit_ok(reg(), "{\"target\": \"y\", \"n_estimators\": 60}", train, 2, 0);
  g_autofree float *p = predict_ok(reg(), m, test, 1);
  g_assert_cmpfloat(r2(p, test, 1), >=, 0.9);

  /* The same rows without the target column give the same predictions. */
  g_autoptr(LatheDataset) feats = lathe_dataset_new(test->n_rows, 3);
  for (guint r = 0; r < test->n_rows; r++) {
    const float *src = test->x + (gsize)r * 4;
    float *dst = feats->x + (gsize)r * 3;
    dst[0] = src[0];
    dst[1] = src[2];
    dst[2] = src[3];
  }
  g_autofree float *q = predict_ok(reg(), m, feats, 1);
  g_assert_cmpmem(p, test->n_rows * sizeof(float), q, test->n_rows * sizeof(float));

  /* x0 and x1 carry the signal, x2 none. */
  g_autoptr(JsonObject) s = reg()->summary(m);
  JsonObject *imp = json_object_get_object_member(s, "feature_importances");
  g_assert_false(json_object_has_member(imp, "y"));
  g_assert_cmpfloat(json_object_get_double_member(imp, "x2"), <,
                    json_object_get_double_member(imp, "x0"));
  g_assert_cmpfloat(json_object_get_double_member(imp, "x2"), <,
                    json_object_get_double_member(imp, "x1"));
  g_assert_cmpstr(json_object_get_string_member(s, "target"), ==, "y");
  /* The OOB R^2 of a good fit is high too. */
  g_assert_cmpfloat(json_object_get_double_member(s, "oob_score"), >=, 0.85);
  reg()->free(m);
}

/* ---- determinism and the blob ----------------------------------------------- */

static GBytes *save_ok(const LatheModelClass *m, gconstpointer model) {
  g_autoptr(GError) error = NULL;
  GBytes *b = m->save(model, &error);
  g_assert_no_error(error);
  g_assert_nonnull(b);
  return b;
}

static void test_threads_identical(void) {
  g_autoptr(LatheDataset) ds = make_blobs(600, 6, 1.5, 7);
  g_autoptr(LatheDataset) fn = make_function(600, 8);
  for (guint kind = 0; kind < 2; kind++) {
    const LatheModelClass *m = kind ? reg() : clf();
    const LatheDataset *train = kind ? fn : ds;
    const char *params = kind ? "{\"target\": \"y\", \"n_estimators\": 30}"
                              : "{\"n_estimators\": 30}";
    gpointer a = fit_ok(m, params, train, 1, 11);
    gpointer b = fit_ok(m, params, train, 2, 11);
    gpointer c = fit_ok(m, params, train, 5, 11);
    gpointer other = fit_ok(m, params, train, 2, 12);
    g_autoptr(GBytes) ba = save_ok(m, a), bb = save_ok(m, b), bc = save_ok(m, c);
    g_autoptr(GBytes) bo = save_ok(m, other);
    g_assert_true(g_bytes_equal(ba, bb));
    g_assert_true(g_bytes_equal(ba, bc));
    g_assert_false(g_bytes_equal(ba, bo)); /* the seed does matter */
    m->free(a);
    m->free(b);
    m->free(c);
    m->free(other);
  }
}

/* Prediction splits rows between threads; the sums must not change. */
static void test_predict_threads(void) {
  g_autoptr(LatheDataset) ds = make_blobs(9000, 5, 1.0, 4);
  LatheForest *f = fit_ok(clf(), "{\"n_estimators\": 10, \"oob_score\": false}", ds, 2, 0);
  g_autofree float *one = NULL, *two = NULL, *three = NULL;
  f->threads = 1;
  one = predict_ok(clf(), f, ds, 3);
  f->threads = 2;
  two = predict_ok(clf(), f, ds, 3);
  f->threads = 3;
  three = predict_ok(clf(), f, ds, 3);
  g_assert_cmpmem(one, ds->n_rows * 3 * sizeof(float), two, ds->n_rows * 3 * sizeof(float));
  g_assert_cmpmem(one, ds->n_rows * 3 * sizeof(float), three, ds->n_rows * 3 * sizeof(float));
  /* And they are the mean over trees of single-row walks. */
  for (guint r = 0; r < ds->n_rows; r += 97) {
    float want[3] = {0, 0, 0};
    for (guint t = 0; t < f->n_trees; t++) {
      const LatheForestNode *tree = f->nodes + f->tree_start[t];
      guint32 i = 0;
      while (tree[i].feature >= 0)
        i = tree[i].child + (ds->x[r * 5 + tree[i].feature] > tree[i].threshold);
      for (guint c = 0; c < 3; c++)
        want[c] += f->values[tree[i].child * 3 + c];
    }
    for (guint c = 0; c < 3; c++)
      g_assert_cmpfloat(fabs(want[c] / f->n_trees - one[r * 3 + c]), <, 1e-6);
  }
  lathe_forest_free(f);
}

/* The plain walk the tiled predict must reproduce bit for bit: one row at a
 * time, trees summed in tree order from 0, then times 1 / n_trees. */
static float *predict_plain(const LatheForest *f, const float *x, guint n) {
  const guint k = f->n_outputs, d = f->n_features;
  float *out = g_new0(float, (gsize)n * k);
  for (guint r = 0; r < n; r++) {
    float *o = out + (gsize)r * k;
    for (guint t = 0; t < f->n_trees; t++) {
      const LatheForestNode *tree = f->nodes + f->tree_start[t];
      guint32 i = 0;
      while (tree[i].feature >= 0)
        i = tree[i].child + (x[(gsize)r * d + tree[i].feature] > tree[i].threshold);
      for (guint c = 0; c < k; c++)
        o[c] += f->values[(gsize)tree[i].child * k + c];
    }
    for (guint c = 0; c < k; c++)
      o[c] *= 1.0f / (float)f->n_trees;
  }
  return out;
}

/* Blocked, tiled and threaded prediction gives exactly the plain walk's
 * probabilities: 150 deep trees (several tree groups of the default
 * tiling), a row count that is no multiple of the 64-row block, through
 * the ABI with 1, 2 and 3 threads, and with odd tilings directly. */
static void test_predict_exact(void) {
  g_autoptr(LatheDataset) train = make_blobs(3000, 6, 0.7, 21);
  g_autoptr(LatheDataset) ds = make_blobs(64 * 70 + 37, 6, 0.7, 22);
  /* Leaves of at least 3 rows hold fractions, whose sum depends on the order
   * of the trees (pure leaves of 0s and 1s would add up the same anyway). */
  LatheForest *f = fit_ok(
      clf(), "{\"n_estimators\": 150, \"min_samples_leaf\": 3, \"oob_score\": false}", train,
      2, 5);
  const gsize bytes = (gsize)ds->n_rows * 3 * sizeof(float);
  /* Deep enough that the default tiling splits the trees into groups. */
  g_assert_cmpuint((gsize)f->n_nodes * sizeof(LatheForestNode), >, 1024 * 1024);
  g_autofree float *want = predict_plain(f, ds->x, ds->n_rows);
  for (guint threads = 1; threads <= 3; threads++) {
    f->threads = threads;
    LatheForestTiling t;
    lathe_forest_tiling_default(f, ds->n_rows, &t);
    g_assert_cmpuint(t.threads, ==, threads);
    g_autofree float *got = predict_ok(clf(), f, ds, 3);
    g_assert_cmpmem(want, bytes, got, bytes);
  }
  /* Tilings that cut everywhere: one-row tiles and items, a group per tree,
   * tiles and items that straddle blocks, one item for everything. */
  const LatheForestTiling odd[] = {
      {.threads = 3, .chunk_rows = 1, .tile_rows = 1, .group_bytes = 0},
      {.threads = 2, .chunk_rows = 1000, .tile_rows = 37, .group_bytes = 1},
      {.threads = 3, .chunk_rows = 129, .tile_rows = 65, .group_bytes = 20000},
      {.threads = 1, .chunk_rows = G_MAXUINT, .tile_rows = G_MAXUINT, .group_bytes = G_MAXSIZE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(odd); i++) {
    g_autofree float *got = g_new(float, (gsize)ds->n_rows * 3);
    lathe_forest_predict_tiled(f, ds->x, ds->n_rows, got, &odd[i]);
    g_assert_cmpmem(want, bytes, got, bytes);
  }
  lathe_forest_free(f);

  /* The regressor too, predicting on data that still has its target. */
  g_autoptr(LatheDataset) fn = make_function(4000, 23);
  g_autoptr(LatheDataset) more = make_function(64 * 20 + 5, 24);
  LatheForest *r = fit_ok(reg(), "{\"target\": \"y\", \"n_estimators\": 60}", fn, 2, 6);
  g_autofree float *x = g_new(float, (gsize)more->n_rows * 3);
  for (guint i = 0; i < more->n_rows; i++) {
    const float *src = more->x + (gsize)i * 4;
    float row[3] = {src[0], src[2], src[3]};
    memcpy(x + (gsize)i * 3, row, sizeof row);
  }
  g_autofree float *rwant = predict_plain(r, x, more->n_rows);
  for (guint threads = 1; threads <= 3; threads++) {
    r->threads = threads;
    g_autofree float *got = predict_ok(reg(), r, more, 1);
    g_assert_cmpmem(rwant, more->n_rows * sizeof(float), got, more->n_rows * sizeof(float));
  }
  lathe_forest_free(r);
}

static void test_round_trip(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 5, 2.0, 9);
  gpointer m = fit_ok(clf(), "{\"n_estimators\": 20}", ds, 2, 0);
  g_autoptr(GBytes) blob = save_ok(clf(), m);
  g_autoptr(GError) error = NULL;
  gpointer back = clf()->load(blob, clf()->state_version, &error);
  g_assert_no_error(error);
  g_autofree float *p = predict_ok(clf(), m, ds, 3);
  g_autofree float *q = predict_ok(clf(), back, ds, 3);
  g_assert_cmpmem(p, ds->n_rows * 3 * sizeof(float), q, ds->n_rows * 3 * sizeof(float));
  g_autoptr(GBytes) again = save_ok(clf(), back);
  g_assert_true(g_bytes_equal(blob, again));
  /* The other component refuses it by kind. */
  gpointer wrong = reg()->load(blob, reg()->state_version, &error);
  g_assert_null(wrong);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  clf()->free(back);
  clf()->free(m);
}

static void expect_load_error(GBytes *b, guint32 version) {
  g_autoptr(GError) error = NULL;
  gpointer m = clf()->load(b, version, &error);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "model/forest"));
}

static void test_corrupt_blob(void) {
  g_autoptr(LatheDataset) ds = make_blobs(60, 4, 2.0, 2);
  gpointer m = fit_ok(clf(), "{\"n_estimators\": 3, \"max_depth\": 3}", ds, 1, 0);
  g_autoptr(GBytes) blob = save_ok(clf(), m);
  clf()->free(m);
  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  for (gsize len = 0; len < size; len++) {
    g_autoptr(GBytes) cut = g_bytes_new(data, len);
    expect_load_error(cut, LATHE_FOREST_STATE_VERSION);
  }
  g_autofree guint8 *copy = g_memdup2(data, size);
  for (gsize off = 0; off < size; off++) {
    copy[off] ^= (guint8)(1u << (off % 8));
    g_autoptr(GBytes) bad = g_bytes_new(copy, size);
    expect_load_error(bad, LATHE_FOREST_STATE_VERSION);
    copy[off] ^= (guint8)(1u << (off % 8));
  }
  g_autofree guint8 *longer = g_malloc(size + 3);
  memcpy(longer, data, size);
  memset(longer + size, 0xab, 3);
  g_autoptr(GBytes) tail = g_bytes_new(longer, size + 3);
  expect_load_error(tail, LATHE_FOREST_STATE_VERSION);
  expect_load_error(blob, LATHE_FOREST_STATE_VERSION + 1);
}

/* A blob with a valid checksum but a cycle must still be refused: the
 * checks do not rely on the checksum alone. */
static void test_forged_blob(void) {
  g_autoptr(LatheDataset) ds = make_blobs(60, 4, 2.0, 2);
  LatheForest *f = fit_ok(clf(), "{\"n_estimators\": 2, \"max_depth\": 2}", ds, 1, 0);
  g_assert_cmpint(f->nodes[0].feature, >=, 0);
  f->nodes[0].child = 0; /* points at itself */
  g_autoptr(GBytes) loop = lathe_forest_save(f);
  expect_load_error(loop, LATHE_FOREST_STATE_VERSION);
  f->nodes[0].child = 1;
  f->nodes[0].feature = 4; /* a feature it does not have */
  g_autoptr(GBytes) feat = lathe_forest_save(f);
  expect_load_error(feat, LATHE_FOREST_STATE_VERSION);
  lathe_forest_free(f);
}

/* ---- what the trees look like -------------------------------------------------- */

static void test_midpoint_threshold(void) {
  /* One binary feature decides the class: the split is at its midpoint. */
  LatheDataset *ds = lathe_dataset_new(40, 2);
  const char *classes[] = {"n", "y", NULL};
  lathe_dataset_set_classes(ds, classes);
  for (guint r = 0; r < 40; r++) {
    ds->x[r * 2] = (float)(r % 2) * 3.0f;
    ds->x[r * 2 + 1] = 7.0f; /* constant: never chosen */
    ds->labels[r] = (gint32)(r % 2);
  }
  LatheForest *f = fit_ok(clf(), "{\"n_estimators\": 4, \"max_features\": \"all\"}", ds, 1, 0);
  for (guint t = 0; t < f->n_trees; t++) {
    const LatheForestNode *root = f->nodes + f->tree_start[t];
    g_assert_cmpint(root->feature, ==, 0);
    g_assert_cmpfloat(root->threshold, ==, 1.5f);
    g_assert_cmpuint(f->tree_start[t + 1] - f->tree_start[t], ==, 3);
  }
  g_assert_cmpfloat(f->importances[0], ==, 1.0f);
  g_assert_cmpfloat(f->importances[1], ==, 0.0f);
  lathe_forest_free(f);
  lathe_dataset_unref(ds);
}

static void test_shape_params(void) {
  g_autoptr(LatheDataset) ds = make_blobs(400, 6, 1.0, 4);
  LatheForest *f = fit_ok(clf(), "{\"n_estimators\": 10, \"max_depth\": 2}", ds, 2, 0);
  for (guint t = 0; t < f->n_trees; t++)
    g_assert_cmpuint(f->tree_start[t + 1] - f->tree_start[t], <=, 7);
  lathe_forest_free(f);
  /* min_samples_leaf 100 of 400 rows: at most 4 leaves per tree. */
  f = fit_ok(clf(), "{\"n_estimators\": 10, \"min_samples_leaf\": 100, \"bootstrap\": false}", ds,
             2, 0);
  g_assert_cmpuint(f->n_values, <=, 40);
  g_assert_true(isnan(f->oob_score)); /* no bootstrap, no OOB */
  lathe_forest_free(f);
  /* Unlimited depth without bootstrap fits the training data exactly. */
  f = fit_ok(clf(), "{\"n_estimators\": 5, \"bootstrap\": false}", ds, 2, 0);
  g_autofree float *p = predict_ok(clf(), f, ds, 3);
  g_assert_cmpfloat(accuracy(p, ds, 3), ==, 1.0);
  lathe_forest_free(f);
}

static void test_importances(void) {
  g_autoptr(LatheDataset) ds = make_blobs(600, 8, 2.0, 5);
  gpointer m = fit_ok(clf(), "{\"n_estimators\": 40}", ds, 2, 0);
  g_autoptr(JsonObject) s = clf()->summary(m);
  JsonObject *imp = json_object_get_object_member(s, "feature_importances");
  g_assert_cmpuint(json_object_get_size(imp), ==, 8);
  double sum = 0.0, min_informative = 1.0, max_noise = 0.0;
  for (guint j = 0; j < 8; j++) {
    g_autofree char *name = g_strdup_printf("c%u", j);
    double v = json_object_get_double_member(imp, name);
    g_assert_cmpfloat(v, >=, 0.0);
    sum += v;
    if (j < 3)
      min_informative = MIN(min_informative, v);
    else
      max_noise = MAX(max_noise, v);
  }
  g_assert_cmpfloat(fabs(sum - 1.0), <, 1e-5);
  g_assert_cmpfloat(min_informative, >, max_noise);
  g_assert_cmpint(json_object_get_int_member(s, "n_estimators"), ==, 40);
  clf()->free(m);
}

static void test_oob(void) {
  g_autoptr(LatheDataset) ds = make_blobs(1200, 6, 1.5, 6);
  g_autoptr(LatheDataset) train = NULL, test = NULL;
  split_every(ds, 2, &train, &test);
  g_autoptr(LatheContext) ctx = lathe_test_context(&clf()->base, "forest", NULL, 0);
  lathe_context_set_threads(ctx, 2);
  g_autoptr(GError) error = NULL;
  gpointer m = clf()->fit(ctx, train, NULL, &error);
  g_assert_no_error(error);
  JsonObject *metrics = lathe_context_get_metrics(ctx);
  g_assert_true(json_object_has_member(metrics, "oob_score"));
  double oob = json_object_get_double_member(metrics, "oob_score");
  g_autofree float *p = predict_ok(clf(), m, test, 3);
  double acc = accuracy(p, test, 3);
  g_assert_cmpfloat(acc, >, 0.6); /* well above chance, so the comparison means something */
  g_assert_cmpfloat(fabs(oob - acc), <, 0.05);
  clf()->free(m);
}

static void test_class_weight(void) {
  /* 10% minority class overlapping the majority: balanced weights raise its
   * predicted probability. */
  LatheDataset *ds = lathe_dataset_new(500, 2);
  const char *classes[] = {"major", "minor", NULL};
  lathe_dataset_set_classes(ds, classes);
  LatheRng rng;
  lathe_rng_init(&rng, 3);
  for (guint r = 0; r < 500; r++) {
    gint32 c = r % 10 == 0;
    ds->labels[r] = c;
    ds->x[r * 2] = (float)(lathe_rng_normal(&rng) + c);
    ds->x[r * 2 + 1] = (float)lathe_rng_normal(&rng);
  }
  const char *base = "{\"n_estimators\": 30, \"min_samples_leaf\": 20";
  g_autofree char *plain = g_strdup_printf("%s}", base);
  g_autofree char *bal = g_strdup_printf("%s, \"class_weight\": \"balanced\"}", base);
  gpointer a = fit_ok(clf(), plain, ds, 2, 0), b = fit_ok(clf(), bal, ds, 2, 0);
  g_autofree float *pa = predict_ok(clf(), a, ds, 2);
  g_autofree float *pb = predict_ok(clf(), b, ds, 2);
  double ma = 0.0, mb = 0.0;
  for (guint r = 0; r < 500; r++) {
    ma += pa[r * 2 + 1];
    mb += pb[r * 2 + 1];
  }
  g_assert_cmpfloat(mb / 500, >, 2.0 * ma / 500);
  clf()->free(a);
  clf()->free(b);
  lathe_dataset_unref(ds);
}

static void test_max_features_variants(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 9, 2.0, 1);
  const char *ok[] = {"\"sqrt\"", "\"log2\"", "\"all\"", "\"0.5\"", "\"1.0\"", "\"9\"", "\"1\""};
  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autofree char *params = g_strdup_printf("{\"n_estimators\": 5, \"max_features\": %s}", ok[i]);
    gpointer m = fit_ok(clf(), params, ds, 1, 0);
    clf()->free(m);
  }
  /* One feature per split and "all" grow different forests. */
  gpointer one = fit_ok(clf(), "{\"n_estimators\": 5, \"max_features\": \"1\"}", ds, 1, 0);
  gpointer all = fit_ok(clf(), "{\"n_estimators\": 5, \"max_features\": \"all\"}", ds, 1, 0);
  g_autoptr(GBytes) b1 = save_ok(clf(), one), b2 = save_ok(clf(), all);
  g_assert_false(g_bytes_equal(b1, b2));
  clf()->free(one);
  clf()->free(all);
}

static void test_cancel(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 4, 2.0, 1);
  g_autoptr(LatheContext) ctx = lathe_test_context(&clf()->base, "forest", NULL, 0);
  lathe_context_cancel(ctx);
  g_autoptr(GError) error = NULL;
  gpointer m = clf()->fit(ctx, ds, NULL, &error);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
}

static gpointer cancel_later(gpointer ctx) {
  g_usleep(200 * 1000);
  lathe_context_cancel(ctx);
  return NULL;
}

/* Cancelled while the trees grow: the fit stops long before 100000 trees. */
static void test_cancel_midway(void) {
  g_autoptr(LatheDataset) ds = make_blobs(300, 4, 2.0, 1);
  g_autoptr(LatheContext) ctx =
      lathe_test_context(&clf()->base, "forest", "{\"n_estimators\": 100000}", 0);
  lathe_context_set_threads(ctx, 2);
  GThread *th = g_thread_new("cancel", cancel_later, ctx);
  g_autoptr(GError) error = NULL;
  gpointer m = clf()->fit(ctx, ds, NULL, &error);
  g_thread_join(th);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "of 100000 trees"));
}

/* ---- errors ------------------------------------------------------------------- */

static void expect_fit_error(const LatheModelClass *m, const char *params,
                             const LatheDataset *ds, gint code, const char *needle) {
  g_autoptr(GError) error = NULL;
  gpointer model = fit_with(m, params, ds, 1, 0, &error);
  g_assert_null(model);
  g_assert_error(error, LATHE_ERROR, code);
  g_assert_nonnull(strstr(error->message, "(node forest)"));
  g_assert_nonnull(strstr(error->message, needle));
  g_assert_null(strchr(error->message, '\n'));
}

static void test_errors(void) {
  g_autoptr(LatheDataset) ds = make_blobs(30, 4, 2.0, 1);
  /* n_estimators 0 never reaches the plugin: the host validates the bound. */
  for (const LatheParamSpec *s = clf()->base.params; s->name; s++) {
    if (g_str_equal(s->name, "n_estimators")) {
      g_assert_true(s->flags & LATHE_PARAM_HAS_MIN);
      g_assert_cmpfloat(s->min, ==, 1.0);
    }
  }
  expect_fit_error(clf(), "{\"max_depth\": 0}", ds, LATHE_ERROR_INVALID, "max_depth 0");
  expect_fit_error(clf(), "{\"max_features\": \"5\"}", ds, LATHE_ERROR_INVALID,
                   "above the 4 feature columns");
  expect_fit_error(clf(), "{\"max_features\": \"half\"}", ds, LATHE_ERROR_INVALID, "'half'");
  expect_fit_error(clf(), "{\"max_features\": \"1.5\"}", ds, LATHE_ERROR_INVALID, "'1.5'");
  expect_fit_error(clf(), "{\"max_samples\": 2.5}", ds, LATHE_ERROR_INVALID, "max_samples");
  expect_fit_error(clf(), "{\"max_samples\": 31}", ds, LATHE_ERROR_INVALID, "max_samples");

  g_autoptr(LatheDataset) one = lathe_dataset_take_rows(ds, (const guint32[]){0, 3, 6}, 3);
  expect_fit_error(clf(), NULL, one, LATHE_ERROR_DATA, "class 'a'");

  g_autoptr(LatheDataset) nan = lathe_dataset_take_rows(ds, (const guint32[]){0, 1, 2, 3}, 4);
  nan->x[2 * 4 + 1] = NAN;
  expect_fit_error(clf(), NULL, nan, LATHE_ERROR_DATA, "row 2, column 'c1'");

  g_autoptr(LatheDataset) unlabelled = lathe_dataset_new(10, 2);
  expect_fit_error(clf(), NULL, unlabelled, LATHE_ERROR_DATA, "no labels");

  g_autoptr(LatheDataset) missing = lathe_dataset_take_rows(ds, (const guint32[]){0, 1, 2}, 3);
  missing->labels[1] = -1;
  expect_fit_error(clf(), NULL, missing, LATHE_ERROR_DATA, "row 1");

  g_autoptr(LatheDataset) fn = make_function(50, 1);
  expect_fit_error(reg(), "{\"target\": \"z\"}", fn, LATHE_ERROR_INVALID, "'z'");
  expect_fit_error(reg(), "{\"target\": \"y\", \"max_depth\": 0}", fn, LATHE_ERROR_INVALID,
                   "max_depth");
  expect_fit_error(reg(), "{\"target\": \"y\", \"max_features\": \"4\"}", fn,
                   LATHE_ERROR_INVALID, "above the 3 feature columns");

  /* Predict: wrong width and non-finite input. */
  gpointer m = fit_ok(clf(), "{\"n_estimators\": 3}", ds, 1, 0);
  g_autoptr(LatheDataset) narrow = lathe_dataset_new(2, 3);
  g_autoptr(GError) error = NULL;
  guint k = 0;
  g_assert_null(clf()->predict(m, narrow, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);
  g_assert_null(clf()->predict(m, nan, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "column 'c1'"));
  clf()->free(m);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/model-forest/iris", test_iris);
  g_test_add_func("/model-forest/blobs", test_blobs);
  g_test_add_func("/model-forest/regressor", test_regressor);
  g_test_add_func("/model-forest/threads-identical", test_threads_identical);
  g_test_add_func("/model-forest/predict-threads", test_predict_threads);
  g_test_add_func("/model-forest/predict-exact", test_predict_exact);
  g_test_add_func("/model-forest/round-trip", test_round_trip);
  g_test_add_func("/model-forest/corrupt-blob", test_corrupt_blob);
  g_test_add_func("/model-forest/forged-blob", test_forged_blob);
  g_test_add_func("/model-forest/midpoint-threshold", test_midpoint_threshold);
  g_test_add_func("/model-forest/shape-params", test_shape_params);
  g_test_add_func("/model-forest/importances", test_importances);
  g_test_add_func("/model-forest/oob", test_oob);
  g_test_add_func("/model-forest/class-weight", test_class_weight);
  g_test_add_func("/model-forest/max-features", test_max_features_variants);
  g_test_add_func("/model-forest/cancel", test_cancel);
  g_test_add_func("/model-forest/cancel-midway", test_cancel_midway);
  g_test_add_func("/model-forest/errors", test_errors);
  return g_test_run();
}
