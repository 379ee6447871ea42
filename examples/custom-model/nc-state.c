/* The model's saved form. Layout (all little-endian):
 *
 *   0  "LATHE-NC"           magic
 *   8  u32 format version  (NC_STATE_VERSION)
 *  12  u32 n_features D
 *  16  u32 n_classes K
 *  20  u32 flags           (bit 0: standardize)
 *  24  f64 temperature
 *  32  f64 shrink
 *  40  f32 mean[D], f32 scale[D], f32 centroids[K*D], u32 counts[K]
 * end  32 bytes: SHA-256 of everything before
 *
 * Bytes come back from disk, a registry or another machine, so load trusts
 * nothing: it bounds the dimensions by the payload before multiplying, checks
 * the exact size and the checksum before reading values, then checks the
 * values themselves (a valid checksum only proves the bytes were not damaged
 * after writing, not that a correct writer made them). */
#include <math.h>
#include <string.h>

#include "nc-model.h"

#define MAGIC "LATHE-NC"
#define HEADER_SIZE 40
#define SUM_SIZE 32

static void put_u32(GByteArray *b, guint32 v) {
  guint8 le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  g_byte_array_append(b, le, 4);
}

static void put_f64(GByteArray *b, double v) {
  guint64 bits;
  memcpy(&bits, &v, 8);
  put_u32(b, (guint32)(bits & 0xffffffffu));
  put_u32(b, (guint32)(bits >> 32));
}

static void put_f32s(GByteArray *b, const float *v, gsize n) {
  for (gsize i = 0; i < n; i++) {
    guint32 bits;
    memcpy(&bits, &v[i], 4);
    put_u32(b, bits);
  }
}

static guint32 get_u32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static double get_f64(const guint8 *p) {
  guint64 bits = (guint64)get_u32(p) | (guint64)get_u32(p + 4) << 32;
  double v;
  memcpy(&v, &bits, 8);
  return v;
}

/* Reads @n floats; FALSE at the first non-finite one. */
static gboolean get_f32s(const guint8 **p, float *out, gsize n) {
  for (gsize i = 0; i < n; i++) {
    guint32 bits = get_u32(*p);
    memcpy(&out[i], &bits, 4);
    *p += 4;
    if (!isfinite(out[i]))
      return FALSE;
  }
  return TRUE;
}

static void checksum(const guint8 *data, gsize len, guint8 out[SUM_SIZE]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, data, (gssize)len);
  gsize out_len = SUM_SIZE;
  g_checksum_get_digest(sum, out, &out_len);
}

GBytes *nc_model_save(const NcModel *m) {
  const gsize d = m->n_features, k = m->n_classes;
  GByteArray *b = g_byte_array_sized_new((guint)(HEADER_SIZE + 4 * (2 * d + k * d + k) + SUM_SIZE));
  g_byte_array_append(b, (const guint8 *)MAGIC, 8);
  put_u32(b, NC_STATE_VERSION);
  put_u32(b, m->n_features);
  put_u32(b, m->n_classes);
  put_u32(b, m->standardize ? 1u : 0u);
  put_f64(b, m->temperature);
  put_f64(b, m->shrink);
  put_f32s(b, m->mean, d);
  put_f32s(b, m->scale, d);
  put_f32s(b, m->centroids, k * d);
  for (gsize c = 0; c < k; c++)
    put_u32(b, m->counts[c]);
  guint8 sum[SUM_SIZE];
  checksum(b->data, b->len, sum);
  g_byte_array_append(b, sum, SUM_SIZE);
  return g_byte_array_free_to_bytes(b);
}

static gpointer corrupt(NcModel *m, GError **error, const char *why) {
  nc_model_free(m);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "model/nearest-centroid: the saved model is corrupt or truncated (%s); retrain "
              "it or restore the artifact",
              why);
  return NULL;
}

NcModel *nc_model_load(GBytes *state, guint32 version, GError **error) {
  if (version != NC_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/nearest-centroid: state version %u is not supported (this plugin reads "
                "version %u); retrain the model with this plugin",
                version, NC_STATE_VERSION);
    return NULL;
  }
  if (!state)
    return corrupt(NULL, error, "no bytes");
  gsize size;
  const guint8 *data = g_bytes_get_data(state, &size);
  if (size < HEADER_SIZE + SUM_SIZE)
    return corrupt(NULL, error, "shorter than its header");
  if (memcmp(data, MAGIC, 8) != 0)
    return corrupt(NULL, error, "bad magic, not a model/nearest-centroid blob");
  if (get_u32(data + 8) != NC_STATE_VERSION)
    return corrupt(NULL, error, "unknown format version inside the blob");
  guint32 d = get_u32(data + 12), k = get_u32(data + 16), flags = get_u32(data + 20);

  /* Each bound holds before the next product is formed, so none can wrap. */
  guint64 words = (size - HEADER_SIZE - SUM_SIZE) / 4;
  if (d == 0 || k < 2 || d > words || k > words || (guint64)k * d > words ||
      (guint64)2 * d + (guint64)k * d + k != words ||
      HEADER_SIZE + words * 4 + SUM_SIZE != size)
    return corrupt(NULL, error, "size does not match the dimensions it records");
  if (flags > 1)
    return corrupt(NULL, error, "unknown flags");
  guint8 sum[SUM_SIZE];
  checksum(data, size - SUM_SIZE, sum);
  if (memcmp(sum, data + size - SUM_SIZE, SUM_SIZE) != 0)
    return corrupt(NULL, error, "checksum mismatch");

  NcModel *m = nc_model_new(d, k);
  m->standardize = flags & 1;
  m->temperature = get_f64(data + 24);
  m->shrink = get_f64(data + 32);
  if (!(m->temperature > 0.0) || !isfinite(m->temperature) || !(m->shrink >= 0.0) ||
      !(m->shrink <= 1.0))
    return corrupt(m, error, "temperature or shrink out of range");
  const guint8 *p = data + HEADER_SIZE;
  if (!get_f32s(&p, m->mean, d) || !get_f32s(&p, m->scale, d) ||
      !get_f32s(&p, m->centroids, (gsize)k * d))
    return corrupt(m, error, "non-finite value");
  guint present = 0;
  for (guint c = 0; c < k; c++, p += 4) {
    m->counts[c] = get_u32(p);
    present += m->counts[c] > 0;
  }
  if (present < 2)
    return corrupt(m, error, "fewer than two trained classes");
  for (guint j = 0; j < d; j++)
    if (!(m->scale[j] > 0.0f))
      return corrupt(m, error, "non-positive feature scale");
  return m;
}
