/* The blob: an explicit little-endian format sealed with a SHA-256, so a
 * model saved on one machine loads on another and damage is refused, never
 * trusted. See nn-blob.h for the layout. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-blob.h>
#include <lathe/lathe-error.h>

#include "nn-blob.h"

#define MAGIC "LATHENN1"
#define SUM_SIZE 32
/* Far above any real family name or architecture; bounds what load reads. */
#define MAX_NAME 64
#define MAX_ARCH (1u << 20)

static void put_u64(GByteArray *b, guint64 v) {
  lathe_blob_put_u32(b, (guint32)(v & 0xffffffffu));
  lathe_blob_put_u32(b, (guint32)(v >> 32));
}

static void put_str(GByteArray *b, const char *s) {
  lathe_blob_put_u32(b, (guint32)strlen(s));
  g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s));
}

static void sha256(const guint8 *data, gsize len, guint8 out[SUM_SIZE]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, data, (gssize)len);
  gsize out_len = SUM_SIZE;
  g_checksum_get_digest(sum, out, &out_len);
}

GBytes *lathe_nn_blob_write(const LatheNnBlob *blob) {
  GByteArray *b = g_byte_array_sized_new((guint)MIN(blob->n_params * 4 + 256, G_MAXUINT));
  g_byte_array_append(b, (const guint8 *)MAGIC, 8);
  lathe_blob_put_u32(b, LATHE_NN_STATE_VERSION);
  put_str(b, blob->family);
  put_str(b, blob->arch_json);
  lathe_blob_put_u32(b, blob->in.steps);
  lathe_blob_put_u32(b, blob->in.channels);
  lathe_blob_put_u32(b, blob->n_classes);
  lathe_blob_put_u32(b, blob->epochs_run);
  lathe_blob_put_u32(b, blob->best_epoch);
  lathe_blob_put_u32(b, (blob->stopped_early ? 1u : 0u) | (blob->watched_valid ? 2u : 0u));
  guint64 bits;
  memcpy(&bits, &blob->best_loss, 8);
  put_u64(b, bits);
  put_u64(b, blob->n_params);
  /* In chunks: one append per weight would dominate saving a big net. */
  guint8 chunk[4096];
  gsize fill = 0;
  for (gsize i = 0; i < blob->n_params; i++) {
    float f = (float)blob->params[i];
    guint32 u;
    memcpy(&u, &f, 4);
    chunk[fill++] = u & 0xff;
    chunk[fill++] = (u >> 8) & 0xff;
    chunk[fill++] = (u >> 16) & 0xff;
    chunk[fill++] = (u >> 24) & 0xff;
    if (fill == sizeof chunk) {
      g_byte_array_append(b, chunk, (guint)fill);
      fill = 0;
    }
  }
  g_byte_array_append(b, chunk, (guint)fill);
  guint8 sum[SUM_SIZE];
  sha256(b->data, b->len, sum);
  g_byte_array_append(b, sum, SUM_SIZE);
  return g_byte_array_free_to_bytes(b);
}

static gboolean get_str(LatheBlobReader *r, guint max, char **out) {
  guint32 len;
  const guint8 *p;
  if (!lathe_blob_read_u32(r, &len) || len > max || !lathe_blob_read_bytes(r, len, &p))
    return FALSE;
  *out = g_strndup((const char *)p, len);
  /* An embedded NUL would make the string disagree with its length. */
  return strlen(*out) == len;
}

static gboolean corrupt(const char *who, const char *why, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "%s: saved model is corrupt or truncated (%s); retrain or restore the artifact",
              who, why);
  return FALSE;
}

gboolean lathe_nn_blob_read(GBytes *bytes, const char *who, LatheNnBlob *out, GError **error) {
  memset(out, 0, sizeof *out);
  if (!bytes)
    return corrupt(who, "no bytes", error);
  gsize size;
  const guint8 *data = g_bytes_get_data(bytes, &size);
  if (size < 12 + SUM_SIZE || !data)
    return corrupt(who, "shorter than its header", error);
  if (memcmp(data, MAGIC, 8) != 0)
    return corrupt(who, "bad magic, not a neural-network model blob", error);
  LatheBlobReader r = {data + 8, size - 8 - SUM_SIZE};
  guint32 fmt, steps, channels, classes, epochs, best_epoch, flags;
  guint64 loss_bits, n_params;
  if (!lathe_blob_read_u32(&r, &fmt))
    return corrupt(who, "shorter than its header", error);
  if (fmt != LATHE_NN_STATE_VERSION)
    return corrupt(who, "unknown format version inside the blob", error);
  if (!get_str(&r, MAX_NAME, &out->family) || !get_str(&r, MAX_ARCH, &out->arch_json) ||
      !lathe_blob_read_u32(&r, &steps) || !lathe_blob_read_u32(&r, &channels) ||
      !lathe_blob_read_u32(&r, &classes) || !lathe_blob_read_u32(&r, &epochs) ||
      !lathe_blob_read_u32(&r, &best_epoch) || !lathe_blob_read_u32(&r, &flags) ||
      !lathe_blob_read_u64(&r, &loss_bits) || !lathe_blob_read_u64(&r, &n_params)) {
    lathe_nn_blob_clear(out);
    return corrupt(who, "shorter than its header", error);
  }
  /* Compare by division, so a hostile count cannot overflow the product. */
  if (r.left % 4 != 0 || n_params != r.left / 4) {
    lathe_nn_blob_clear(out);
    return corrupt(who, "size does not match the parameter count it records", error);
  }
  guint8 sum[SUM_SIZE];
  sha256(data, size - SUM_SIZE, sum);
  if (memcmp(sum, data + size - SUM_SIZE, SUM_SIZE) != 0) {
    lathe_nn_blob_clear(out);
    return corrupt(who, "checksum mismatch", error);
  }
  /* Sealed, but possibly written by something else: check the values. */
  double loss;
  memcpy(&loss, &loss_bits, 8);
  const char *bad = NULL;
  if (steps == 0 || channels == 0 || (guint64)steps * channels > G_MAXINT)
    bad = "empty or oversized input shape";
  else if (classes < 2)
    bad = "fewer than 2 classes";
  else if (epochs == 0 || best_epoch == 0 || best_epoch > epochs)
    bad = "inconsistent epoch counts";
  else if (flags > 3)
    bad = "unknown flags";
  else if (!isfinite(loss))
    bad = "non-finite loss";
  if (bad) {
    lathe_nn_blob_clear(out);
    return corrupt(who, bad, error);
  }
  out->params = g_try_malloc_n(n_params + 1, sizeof(nn_real));
  if (!out->params) {
    lathe_nn_blob_clear(out);
    return corrupt(who, "too many parameters for this machine's memory", error);
  }
  for (gsize i = 0; i < n_params; i++) {
    guint32 u = 0;
    float f;
    lathe_blob_read_u32(&r, &u); /* cannot fail: the size was checked above */
    memcpy(&f, &u, 4);
    if (!isfinite(f)) {
      lathe_nn_blob_clear(out);
      return corrupt(who, "non-finite weight", error);
    }
    out->params[i] = f;
  }
  out->in = (LatheNnShape){steps, channels};
  out->n_classes = classes;
  out->epochs_run = epochs;
  out->best_epoch = best_epoch;
  out->best_loss = loss;
  out->stopped_early = (flags & 1) != 0;
  out->watched_valid = (flags & 2) != 0;
  out->n_params = n_params;
  return TRUE;
}

void lathe_nn_blob_clear(LatheNnBlob *blob) {
  g_clear_pointer(&blob->family, g_free);
  g_clear_pointer(&blob->arch_json, g_free);
  g_clear_pointer(&blob->params, g_free);
  blob->n_params = 0;
}
