/* Unit tests of the nearest-centroid model and its saved form, with the
 * public SDK only (no host): `make check`. */
#include <math.h>
#include <string.h>

#include "nc-model.h"

static const NcParams defaults = {.shrink = 0.0, .temperature = 1.0, .standardize = TRUE};

/* Three tight clusters in 2-D around (0,0), (10,0) and (0,10); with
 * @extra_class, a fourth declared class that has no rows. */
static LatheDataset *make_blobs(gboolean extra_class) {
  static const float centers[3][2] = {{0, 0}, {10, 0}, {0, 10}};
  static const float jitter[4][2] = {{0.5f, 0.0f}, {-0.5f, 0.0f}, {0.0f, 0.5f}, {0.0f, -0.5f}};
  static const char *const three[] = {"a", "b", "c", NULL};
  static const char *const four[] = {"a", "b", "c", "unseen", NULL};
  LatheDataset *ds = lathe_dataset_new(12, 2);
  lathe_dataset_set_classes(ds, extra_class ? four : three);
  for (guint r = 0; r < 12; r++) {
    guint c = r / 4;
    ds->x[r * 2] = centers[c][0] + jitter[r % 4][0];
    ds->x[r * 2 + 1] = centers[c][1] + jitter[r % 4][1];
    ds->labels[r] = (gint32)c;
  }
  return ds;
}

static guint argmax(const float *row, guint k) {
  guint best = 0;
  for (guint c = 1; c < k; c++)
    if (row[c] > row[best])
      best = c;
  return best;
}

static void test_fit_predict(void) {
  g_autoptr(LatheDataset) ds = make_blobs(FALSE);
  g_autoptr(GError) error = NULL;
  NcModel *m = nc_model_fit(ds, &defaults, &error);
  g_assert_no_error(error);
  guint k = 0;
  g_autofree float *p = nc_model_predict(m, ds, &k, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(k, ==, 3);
  for (guint r = 0; r < ds->n_rows; r++) {
    double sum = 0.0;
    for (guint c = 0; c < k; c++) {
      g_assert_cmpfloat(p[r * k + c], >=, 0.0f);
      sum += p[r * k + c];
    }
    g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-5);
    g_assert_cmpuint(argmax(p + r * k, k), ==, (guint)ds->labels[r]);
  }
  /* The centroid of class 0 is (0,0): its jittered rows cancel out. */
  g_assert_cmpfloat_with_epsilon(m->centroids[0] * m->scale[0] + m->mean[0], 0.0, 1e-5);
  nc_model_free(m);
}

static void test_temperature_and_shrink(void) {
  g_autoptr(LatheDataset) ds = make_blobs(FALSE);
  NcParams hot = defaults, flat = defaults;
  hot.temperature = 100.0;
  flat.shrink = 1.0;
  NcModel *m1 = nc_model_fit(ds, &defaults, NULL), *m2 = nc_model_fit(ds, &hot, NULL);
  NcModel *m3 = nc_model_fit(ds, &flat, NULL);
  g_assert_true(m1 && m2 && m3);
  guint k;
  g_autofree float *p1 = nc_model_predict(m1, ds, &k, NULL);
  g_autofree float *p2 = nc_model_predict(m2, ds, &k, NULL);
  g_autofree float *p3 = nc_model_predict(m3, ds, &k, NULL);
  /* A higher temperature is less sure of the same answer. */
  g_assert_cmpfloat(p2[0], <, p1[0]);
  g_assert_cmpuint(argmax(p2, k), ==, argmax(p1, k));
  /* shrink = 1 moves every centroid onto the overall mean: all equal. */
  for (guint c = 0; c < k; c++)
    g_assert_cmpfloat_with_epsilon(p3[c], 1.0 / 3.0, 1e-5);
  nc_model_free(m1);
  nc_model_free(m2);
  nc_model_free(m3);
}

static void test_unseen_class(void) {
  g_autoptr(LatheDataset) ds = make_blobs(TRUE);
  g_autoptr(GError) error = NULL;
  NcModel *m = nc_model_fit(ds, &defaults, &error);
  g_assert_no_error(error);
  guint k;
  g_autofree float *p = nc_model_predict(m, ds, &k, &error);
  g_assert_cmpuint(k, ==, 4);
  for (guint r = 0; r < ds->n_rows; r++)
    g_assert_cmpfloat(p[r * k + 3], ==, 0.0f);
  nc_model_free(m);
}

static void test_refuses_bad_input(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheDataset) unlabelled = lathe_dataset_new(4, 2);
  g_assert_null(nc_model_fit(unlabelled, &defaults, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);

  g_autoptr(LatheDataset) nan = make_blobs(FALSE);
  nan->x[7] = NAN;
  g_assert_null(nc_model_fit(nan, &defaults, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "row 3"));
  g_clear_error(&error);

  g_autoptr(LatheDataset) one = make_blobs(FALSE);
  for (guint r = 0; r < one->n_rows; r++)
    one->labels[r] = 1;
  g_assert_null(nc_model_fit(one, &defaults, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_clear_error(&error);

  g_autoptr(LatheDataset) ds = make_blobs(FALSE);
  NcModel *m = nc_model_fit(ds, &defaults, NULL);
  g_assert_nonnull(m);
  g_autoptr(LatheDataset) wide = lathe_dataset_new(2, 3);
  guint k;
  g_assert_null(nc_model_predict(m, wide, &k, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  nc_model_free(m);
}

static GBytes *trained_blob(void) {
  g_autoptr(LatheDataset) ds = make_blobs(TRUE);
  NcParams p = {.shrink = 0.25, .temperature = 0.5, .standardize = TRUE};
  NcModel *m = nc_model_fit(ds, &p, NULL);
  g_assert_nonnull(m);
  GBytes *b = nc_model_save(m);
  nc_model_free(m);
  return b;
}

static void test_blob_roundtrip(void) {
  g_autoptr(LatheDataset) ds = make_blobs(TRUE);
  g_autoptr(GBytes) blob = trained_blob();
  g_autoptr(GError) error = NULL;
  NcModel *m = nc_model_load(blob, NC_STATE_VERSION, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(m->shrink, ==, 0.25);
  g_assert_cmpfloat(m->temperature, ==, 0.5);
  /* Saving what was loaded gives the same bytes: nothing is lost. */
  g_autoptr(GBytes) again = nc_model_save(m);
  g_assert_true(g_bytes_equal(blob, again));
  NcModel *fresh = nc_model_fit(ds, &(NcParams){.shrink = 0.25, .temperature = 0.5,
                                                .standardize = TRUE}, NULL);
  g_assert_nonnull(fresh);
  guint k1, k2;
  g_autofree float *p1 = nc_model_predict(fresh, ds, &k1, NULL);
  g_autofree float *p2 = nc_model_predict(m, ds, &k2, NULL);
  g_assert_cmpuint(k1, ==, k2);
  g_assert_cmpmem(p1, ds->n_rows * k1 * sizeof(float), p2, ds->n_rows * k2 * sizeof(float));
  nc_model_free(fresh);
  nc_model_free(m);
}

static void expect_refused(GBytes *bytes, guint32 version) {
  g_autoptr(GError) error = NULL;
  NcModel *m = nc_model_load(bytes, version, &error);
  g_assert_null(m);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

static void test_blob_refuses_damage(void) {
  g_autoptr(GBytes) blob = trained_blob();
  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  expect_refused(blob, NC_STATE_VERSION + 1);
  for (gsize len = 0; len < size; len++) {
    g_autoptr(GBytes) cut = g_bytes_new(data, len);
    expect_refused(cut, NC_STATE_VERSION);
  }
  g_autofree guint8 *copy = g_memdup2(data, size);
  for (gsize i = 0; i < size; i++) {
    for (guint bit = 0; bit < 8; bit++) {
      copy[i] ^= (guint8)(1u << bit);
      g_autoptr(GBytes) flipped = g_bytes_new_static(copy, size);
      expect_refused(flipped, NC_STATE_VERSION);
      copy[i] ^= (guint8)(1u << bit);
    }
  }
}

/* Rewrites the checksum after an edit, as a buggy or hostile writer would. */
static GBytes *resealed(const guint8 *data, gsize size) {
  g_autofree guint8 *copy = g_memdup2(data, size);
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, copy, (gssize)(size - 32));
  gsize len = 32;
  g_checksum_get_digest(sum, copy + size - 32, &len);
  return g_bytes_new(copy, size);
}

static void test_blob_refuses_bad_values(void) {
  g_autoptr(GBytes) blob = trained_blob();
  gsize size;
  const guint8 *orig = g_bytes_get_data(blob, &size);
  g_autofree guint8 *data = g_memdup2(orig, size);
  const guint32 d = 2, k = 4;
  const gsize scale_at = 40 + 4 * d, counts_at = 40 + 4 * (2 * d + k * d);

  /* Huge dimensions that would wrap a size computation. */
  memset(data + 12, 0xff, 8);
  g_autoptr(GBytes) huge = resealed(data, size);
  expect_refused(huge, NC_STATE_VERSION);
  memcpy(data, orig, size);

  memset(data + scale_at, 0, 4); /* a zero feature scale */
  g_autoptr(GBytes) zero_scale = resealed(data, size);
  expect_refused(zero_scale, NC_STATE_VERSION);
  memcpy(data, orig, size);

  memset(data + 24, 0, 8); /* temperature 0 */
  g_autoptr(GBytes) cold = resealed(data, size);
  expect_refused(cold, NC_STATE_VERSION);
  memcpy(data, orig, size);

  memset(data + counts_at, 0, 4 * k); /* no trained class */
  g_autoptr(GBytes) empty = resealed(data, size);
  expect_refused(empty, NC_STATE_VERSION);
  memcpy(data, orig, size);

  g_autoptr(GBytes) intact = resealed(data, size);
  g_autoptr(GError) error = NULL;
  NcModel *m = nc_model_load(intact, NC_STATE_VERSION, &error);
  g_assert_no_error(error); /* resealing alone changes nothing */
  nc_model_free(m);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nearest-centroid/fit-predict", test_fit_predict);
  g_test_add_func("/nearest-centroid/temperature-shrink", test_temperature_and_shrink);
  g_test_add_func("/nearest-centroid/unseen-class", test_unseen_class);
  g_test_add_func("/nearest-centroid/bad-input", test_refuses_bad_input);
  g_test_add_func("/nearest-centroid/blob-roundtrip", test_blob_roundtrip);
  g_test_add_func("/nearest-centroid/blob-damage", test_blob_refuses_damage);
  g_test_add_func("/nearest-centroid/blob-bad-values", test_blob_refuses_bad_values);
  return g_test_run();
}
