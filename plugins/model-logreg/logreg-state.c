/* The model and its portable blob.
 *
 * Layout (all little-endian):
 *   0  "LATHELGR"          magic
 *   8  u32 format version  (LATHE_LOGREG_STATE_VERSION)
 *  12  u32 n_features D
 *  16  u32 n_classes K
 *  20  u32 flags          (bit 0: standardize)
 *  24  f32 mean[D], f32 scale[D], f32 coef[K*D], f32 intercept[K]
 * end  8 bytes: the start of the SHA-256 of everything before
 *
 * Load checks the size against the dims before touching the payload and the
 * checksum before trusting it, so truncation and bit flips give an error. */
#include <math.h>
#include <string.h>

#include "logreg-internal.h"

#define MAGIC "LATHELGR"
#define HEADER_SIZE 24
#define SUM_SIZE LATHE_BLOB_SUM_SIZE

LatheLogreg *lathe_logreg_new(guint n_features, guint n_classes) {
  LatheLogreg *m = g_new0(LatheLogreg, 1);
  m->n_features = n_features;
  m->n_classes = n_classes;
  m->mean = g_new0(float, (gsize)n_features + 1);
  m->scale = g_new0(float, (gsize)n_features + 1);
  m->coef = g_new0(float, (gsize)n_features * n_classes + 1);
  m->intercept = g_new0(float, (gsize)n_classes + 1);
  return m;
}

void lathe_logreg_free(LatheLogreg *m) {
  if (!m)
    return;
  g_free(m->mean);
  g_free(m->scale);
  g_free(m->coef);
  g_free(m->intercept);
  g_free(m);
}

static void put_f32s(GByteArray *b, const float *v, gsize n) {
  for (gsize i = 0; i < n; i++) {
    guint32 bits;
    memcpy(&bits, &v[i], 4);
    lathe_blob_put_u32(b, bits);
  }
}

/* Reads @n floats and refuses non-finite ones: a blob with a valid checksum
 * can still have been written by something else. */
static gboolean get_f32s(const guint8 **p, float *out, gsize n) {
  for (gsize i = 0; i < n; i++) {
    guint32 bits = lathe_blob_get_u32(*p);
    memcpy(&out[i], &bits, 4);
    *p += 4;
    if (!isfinite(out[i]))
      return FALSE;
  }
  return TRUE;
}

GBytes *lathe_logreg_save(const LatheLogreg *m) {
  const gsize d = m->n_features, k = m->n_classes;
  GByteArray *b = g_byte_array_sized_new((guint)(HEADER_SIZE + 4 * (2 * d + k * d + k) +
                                                 SUM_SIZE));
  lathe_blob_put_header(b, MAGIC, LATHE_LOGREG_STATE_VERSION);
  lathe_blob_put_u32(b, m->n_features);
  lathe_blob_put_u32(b, m->n_classes);
  lathe_blob_put_u32(b, m->standardize ? 1u : 0u);
  put_f32s(b, m->mean, d);
  put_f32s(b, m->scale, d);
  put_f32s(b, m->coef, k * d);
  put_f32s(b, m->intercept, k);
  return lathe_blob_seal(b);
}

static gpointer corrupt(GError **error, const char *why) {
  return lathe_blob_corrupt(error, "model/logreg", why);
}

LatheLogreg *lathe_logreg_load(GBytes *state, guint32 version, GError **error) {
  if (version != LATHE_LOGREG_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/logreg: state version %u is not supported (this plugin reads "
                "version %u); retrain the model with this plugin",
                version, LATHE_LOGREG_STATE_VERSION);
    return NULL;
  }
  gsize size;
  const guint8 *data = lathe_blob_read_header(state, "model/logreg", MAGIC,
                                              LATHE_LOGREG_STATE_VERSION, HEADER_SIZE, &size, error);
  if (!data)
    return NULL;
  guint32 d = lathe_blob_get_u32(data + 12), k = lathe_blob_get_u32(data + 16), flags = lathe_blob_get_u32(data + 20);

  /* Bound the dims by the payload before multiplying, so no product can wrap. */
  guint64 floats = (size - HEADER_SIZE - SUM_SIZE) / 4;
  if (d == 0 || k < 2 || d > floats || k > floats || (guint64)k * d > floats ||
      (guint64)2 * d + (guint64)k * d + k != floats ||
      HEADER_SIZE + floats * 4 + SUM_SIZE != size)
    return corrupt(error, "size does not match the dimensions it records");
  if (flags > 1)
    return corrupt(error, "unknown flags");

  if (!lathe_blob_sealed(data, size))
    return corrupt(error, "checksum mismatch");

  LatheLogreg *m = lathe_logreg_new(d, k);
  m->standardize = flags & 1;
  const guint8 *p = data + HEADER_SIZE;
  if (!get_f32s(&p, m->mean, d) || !get_f32s(&p, m->scale, d) ||
      !get_f32s(&p, m->coef, (gsize)k * d) || !get_f32s(&p, m->intercept, k)) {
    lathe_logreg_free(m);
    return corrupt(error, "non-finite value");
  }
  for (guint j = 0; j < d; j++) {
    if (!(m->scale[j] > 0.0f)) {
      lathe_logreg_free(m);
      return corrupt(error, "non-positive feature scale");
    }
  }
  return m;
}
