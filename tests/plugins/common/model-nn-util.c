#include <math.h>
#include <string.h>

#include "model-nn-util.h"

const LatheModelClass *nn_model(const char *family) {
  g_autofree char *dir = g_strdup_printf("model-%s", family);
  g_autofree char *id = g_strdup_printf("model/%s", family);
  return (const LatheModelClass *)lathe_test_component(dir, id);
}

static const char *const letters[] = {"a", "b", "c", "d", "e", "f", NULL};

static void set_classes(LatheDataset *ds, guint k) {
  g_assert_cmpuint(k, <=, 6);
  char *names[7] = {0};
  for (guint i = 0; i < k; i++)
    names[i] = (char *)letters[i];
  lathe_dataset_set_classes(ds, (const char *const *)names);
}

LatheDataset *make_blobs(guint n, guint d, guint k, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, d);
  set_classes(ds, k);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++) {
    gint32 c = (gint32)(r % k);
    ds->labels[r] = c;
    for (guint j = 0; j < d; j++)
      ds->x[(gsize)r * d + j] = (float)(lathe_rng_normal(&rng) + (j % k == (guint)c ? 2.5 : 0));
  }
  return ds;
}

static guint row_length(LatheRng *rng, guint steps, gboolean var_len) {
  return var_len ? steps / 2 + (guint)lathe_rng_below(rng, steps - steps / 2 + 1) : steps;
}

LatheDataset *make_waves(guint n, guint steps, gboolean var_len, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, steps * 2);
  set_classes(ds, 3);
  g_assert_true(lathe_dataset_set_sequence(ds, steps, var_len));
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  static const double periods[3] = {12.0, 6.0, 3.0};
  for (guint r = 0; r < n; r++) {
    const gint32 c = (gint32)(r % 3);
    const guint len = row_length(&rng, steps, var_len);
    const double phase = 2 * G_PI * lathe_rng_uniform(&rng);
    const double amp = 0.7 + 0.6 * lathe_rng_uniform(&rng);
    ds->labels[r] = c;
    if (ds->lengths)
      ds->lengths[r] = len;
    for (guint t = 0; t < len; t++) {
      float *at = ds->x + ((gsize)r * steps + t) * 2;
      at[0] = (float)(amp * sin(2 * G_PI * t / periods[c] + phase) +
                      0.2 * lathe_rng_normal(&rng));
      at[1] = (float)(0.5 * lathe_rng_normal(&rng));
    }
  }
  return ds;
}

LatheDataset *make_bumps(guint n, guint steps, gboolean var_len, guint64 seed) {
  LatheDataset *ds = lathe_dataset_new(n, steps);
  set_classes(ds, 3);
  g_assert_true(lathe_dataset_set_sequence(ds, steps, var_len));
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint r = 0; r < n; r++) {
    const gint32 c = (gint32)(r % 3);
    const guint len = row_length(&rng, steps, var_len);
    ds->labels[r] = c;
    if (ds->lengths)
      ds->lengths[r] = len;
    /* The bump's 3 steps lie inside third c of the valid steps. */
    const guint third = len / 3;
    const guint start = c * third + (guint)lathe_rng_below(&rng, MAX(third, 3u) - 2);
    for (guint t = 0; t < len; t++)
      ds->x[(gsize)r * steps + t] =
          (float)(0.3 * lathe_rng_normal(&rng) + (t >= start && t < start + 3 ? 2.0 : 0.0));
  }
  return ds;
}

void split_rows(const LatheDataset *ds, guint every, LatheDataset **train,
                LatheDataset **test) {
  g_autofree guint32 *tr = g_new(guint32, ds->n_rows);
  g_autofree guint32 *te = g_new(guint32, ds->n_rows);
  guint ntr = 0, nte = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    if (r % every == every - 1)
      te[nte++] = r;
    else
      tr[ntr++] = r;
  }
  *train = lathe_dataset_take_rows(ds, tr, ntr);
  *test = lathe_dataset_take_rows(ds, te, nte);
}

gpointer nn_fit(const LatheModelClass *m, const char *params, const LatheDataset *train,
                const LatheDataset *valid, guint64 seed, GError **error) {
  g_autoptr(LatheContext) ctx = lathe_test_context(&m->base, "model", params, seed);
  return m->fit(ctx, train, valid, error);
}

double nn_accuracy(const float *probs, const LatheDataset *ds, guint k) {
  guint ok = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    guint best = 0;
    for (guint j = 1; j < k; j++)
      if (probs[(gsize)r * k + j] > probs[(gsize)r * k + best])
        best = j;
    ok += (gint32)best == ds->labels[r];
  }
  return (double)ok / ds->n_rows;
}

void assert_probabilities(const float *probs, guint n, guint k) {
  for (guint r = 0; r < n; r++) {
    double sum = 0;
    for (guint j = 0; j < k; j++) {
      float p = probs[(gsize)r * k + j];
      g_assert_true(isfinite(p) && p >= 0 && p <= 1);
      sum += p;
    }
    g_assert_cmpfloat(fabs(sum - 1), <, 1e-5);
  }
}

void report_log_init(ReportLog *log) {
  memset(log, 0, sizeof *log);
  log->loss = g_array_new(FALSE, TRUE, sizeof(double));
  log->val_loss = g_array_new(FALSE, TRUE, sizeof(double));
  log->val_accuracy = g_array_new(FALSE, TRUE, sizeof(double));
  log->seconds = g_array_new(FALSE, TRUE, sizeof(double));
}

void report_log_clear(ReportLog *log) {
  g_array_unref(log->loss);
  g_array_unref(log->val_loss);
  g_array_unref(log->val_accuracy);
  g_array_unref(log->seconds);
}

static void on_report(gpointer host_data, LatheContext *ctx, const char *name, double value,
                      gint64 step) {
  ReportLog *log = host_data;
  GArray *a = g_str_equal(name, "loss")           ? log->loss
              : g_str_equal(name, "val_loss")     ? log->val_loss
              : g_str_equal(name, "val_accuracy") ? log->val_accuracy
              : g_str_equal(name, "epoch_seconds") ? log->seconds
                                                  : NULL;
  g_assert_nonnull(a); /* no report of an unknown name */
  g_assert_cmpint(step, ==, a->len + 1); /* one per epoch, in order */
  g_array_append_val(a, value);
  if (++log->reports == log->cancel_at)
    lathe_context_cancel(ctx);
}

static const LatheHostServices report_host = {.struct_size = sizeof(LatheHostServices),
                                              .report = on_report};

LatheContext *report_context(const LatheModelClass *m, const char *params, guint64 seed,
                             ReportLog *log) {
  g_autoptr(LatheContext) base = lathe_test_context(&m->base, "model", params, seed);
  return lathe_context_new("model", lathe_context_get_params(base),
                           lathe_seed_derive(seed, "model"), &report_host, log);
}

GBytes *reseal(const guint8 *data, gsize len) {
  g_assert_cmpuint(len, >=, 32);
  guint8 *copy = g_memdup2(data, len);
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, copy, (gssize)(len - 32));
  gsize dl = 32;
  g_checksum_get_digest(sum, copy + len - 32, &dl);
  return g_bytes_new_take(copy, len);
}

static void expect_refused(const LatheModelClass *m, GBytes *b, guint32 version,
                           const char *needle) {
  g_autoptr(GError) error = NULL;
  gpointer inst = m->load(b, version, &error);
  if (inst)
    g_error("a damaged blob of %" G_GSIZE_FORMAT " bytes was loaded (%s)", g_bytes_get_size(b),
            needle ? needle : "");
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_null(strchr(error->message, '\n'));
  if (needle && !strstr(error->message, needle))
    g_error("'%s' does not say '%s'", error->message, needle);
}

/* Offsets inside a blob, from its layout (nn/nn-blob.h). */
typedef struct {
  gsize family, arch, arch_len, shape, params;
} Layout;

static guint32 le32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static Layout layout(const guint8 *d) {
  Layout l;
  l.family = 12;
  l.arch = l.family + 4 + le32(d + l.family);
  l.arch_len = le32(d + l.arch);
  l.shape = l.arch + 4 + l.arch_len;
  l.params = l.shape + 3 * 4 + 3 * 4 + 8 + 8;
  return l;
}

void check_blob_refusals(const LatheModelClass *m, GBytes *blob) {
  gsize size;
  const guint8 *data = g_bytes_get_data(blob, &size);
  g_autoptr(GError) error = NULL;
  gpointer ok = m->load(blob, m->state_version, &error);
  g_assert_no_error(error);
  m->free(ok);
  g_assert_cmpmem(data, 8, "LATHENN1", 8);

  for (gsize len = 0; len < size; len++) {
    g_autoptr(GBytes) cut = g_bytes_new(data, len);
    expect_refused(m, cut, m->state_version, NULL);
  }
  g_autoptr(GBytes) longer = NULL;
  {
    guint8 *l = g_malloc(size + 1);
    memcpy(l, data, size);
    l[size] = 0;
    longer = g_bytes_new_take(l, size + 1);
  }
  expect_refused(m, longer, m->state_version, NULL);
  guint8 *copy = g_memdup2(data, size);
  const gsize step = size <= 65536 ? 1 : size / 4096;
  for (gsize i = 0; i < size; i += step) {
    copy[i] ^= 0x10;
    g_autoptr(GBytes) flipped = g_bytes_new_static(copy, size);
    expect_refused(m, flipped, m->state_version, NULL);
    copy[i] ^= 0x10;
  }
  expect_refused(m, blob, m->state_version + 1, "state version");

  /* Re-sealed, so only the value checks can catch them. */
  const Layout l = layout(data);
  memcpy(copy, data, size);
  const guint32 nan_bits = 0x7fc00000;
  memcpy(copy + l.params, &nan_bits, 4);
  g_autoptr(GBytes) nan = reseal(copy, size);
  expect_refused(m, nan, m->state_version, "non-finite weight");

  memcpy(copy, data, size);
  copy[l.family + 4] ^= 0x20; /* the family name's first letter, upper-cased */
  g_autoptr(GBytes) family = reseal(copy, size);
  expect_refused(m, family, m->state_version, "another model family");

  memcpy(copy, data, size);
  const guint32 classes = le32(data + l.shape + 8) + 1;
  copy[l.shape + 8] = classes & 0xff; /* one more class than the weights have */
  g_autoptr(GBytes) shape = reseal(copy, size);
  expect_refused(m, shape, m->state_version, "parameter count");

  memcpy(copy, data, size);
  memset(copy + l.shape, 0, 4); /* zero steps */
  g_autoptr(GBytes) empty = reseal(copy, size);
  expect_refused(m, empty, m->state_version, "input shape");

  memcpy(copy, data, size);
  g_assert_cmpint(copy[l.arch + 4], ==, '{');
  copy[l.arch + 4] = '['; /* not an object */
  g_autoptr(GBytes) arch = reseal(copy, size);
  expect_refused(m, arch, m->state_version, "architecture");
  g_free(copy);
}
