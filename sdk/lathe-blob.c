/* lathe-blob.c: little-endian numbers and checksums for saved model states. */
#include "lathe/lathe-blob.h"

#include <string.h>

#include "lathe/lathe-error.h"

void lathe_blob_put_u32(GByteArray *b, guint32 v) {
  guint8 le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  g_byte_array_append(b, le, 4);
}

void lathe_blob_put_f32(GByteArray *b, float v) {
  guint32 bits;
  memcpy(&bits, &v, 4);
  lathe_blob_put_u32(b, bits);
}

void lathe_blob_put_f64(GByteArray *b, double v) {
  guint64 bits;
  memcpy(&bits, &v, 8);
  lathe_blob_put_u32(b, (guint32)(bits & 0xffffffffu));
  lathe_blob_put_u32(b, (guint32)(bits >> 32));
}

guint32 lathe_blob_get_u32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

float lathe_blob_get_f32(const guint8 *p) {
  guint32 bits = lathe_blob_get_u32(p);
  float v;
  memcpy(&v, &bits, 4);
  return v;
}

double lathe_blob_get_f64(const guint8 *p) {
  guint64 bits = (guint64)lathe_blob_get_u32(p) | (guint64)lathe_blob_get_u32(p + 4) << 32;
  double v;
  memcpy(&v, &bits, 8);
  return v;
}

void lathe_blob_checksum(const guint8 *data, gsize len, guint8 out[LATHE_BLOB_SUM_SIZE]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, data, (gssize)len);
  guint8 full[32];
  gsize full_len = sizeof full;
  g_checksum_get_digest(sum, full, &full_len);
  memcpy(out, full, LATHE_BLOB_SUM_SIZE);
}

GBytes *lathe_blob_seal(GByteArray *b) {
  guint8 sum[LATHE_BLOB_SUM_SIZE];
  lathe_blob_checksum(b->data, b->len, sum);
  g_byte_array_append(b, sum, LATHE_BLOB_SUM_SIZE);
  return g_byte_array_free_to_bytes(b);
}

gboolean lathe_blob_sealed(const guint8 *data, gsize size) {
  if (size < LATHE_BLOB_SUM_SIZE)
    return FALSE;
  guint8 sum[LATHE_BLOB_SUM_SIZE];
  lathe_blob_checksum(data, size - LATHE_BLOB_SUM_SIZE, sum);
  return memcmp(sum, data + size - LATHE_BLOB_SUM_SIZE, LATHE_BLOB_SUM_SIZE) == 0;
}

void lathe_blob_put_header(GByteArray *b, const char *magic, guint32 format) {
  g_byte_array_append(b, (const guint8 *)magic, 8);
  lathe_blob_put_u32(b, format);
}

gpointer lathe_blob_corrupt(GError **error, const char *component, const char *why) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "%s: saved model is corrupt or truncated (%s); retrain or restore the artifact",
              component, why);
  return NULL;
}

const guint8 *lathe_blob_read_header(GBytes *state, const char *component, const char *magic,
                                     guint32 format, gsize header_size, gsize *size,
                                     GError **error) {
  *size = 0;
  if (!state)
    return lathe_blob_corrupt(error, component, "no bytes");
  const guint8 *data = g_bytes_get_data(state, size);
  if (*size < MAX(header_size, LATHE_BLOB_HEADER_SIZE) + LATHE_BLOB_SUM_SIZE)
    return lathe_blob_corrupt(error, component, "shorter than its header");
  if (memcmp(data, magic, 8) != 0) {
    g_autofree char *why = g_strdup_printf("bad magic, not a %s blob", component);
    return lathe_blob_corrupt(error, component, why);
  }
  if (lathe_blob_get_u32(data + 8) != format)
    return lathe_blob_corrupt(error, component, "unknown format version inside the blob");
  return data;
}

gboolean lathe_blob_read_u32(LatheBlobReader *r, guint32 *v) {
  if (r->left < 4)
    return FALSE;
  *v = lathe_blob_get_u32(r->p);
  r->p += 4;
  r->left -= 4;
  return TRUE;
}

gboolean lathe_blob_read_u64(LatheBlobReader *r, guint64 *v) {
  if (r->left < 8)
    return FALSE;
  *v = (guint64)lathe_blob_get_u32(r->p) | (guint64)lathe_blob_get_u32(r->p + 4) << 32;
  r->p += 8;
  r->left -= 8;
  return TRUE;
}

gboolean lathe_blob_read_bytes(LatheBlobReader *r, guint64 n, const guint8 **out) {
  if (n > r->left)
    return FALSE;
  if (out)
    *out = r->p;
  r->p += n;
  r->left -= (gsize)n;
  return TRUE;
}
