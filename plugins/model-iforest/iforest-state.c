/* The forest's portable blob: the flat node arrays verbatim.
 *
 * Layout (all little-endian):
 *   0  "LATHEIFR"          magic
 *   8  u32 format version  (LATHE_IFOREST_BLOB_FORMAT)
 *  12  u32 n_features, u32 n_trees, u32 max_samples, u32 n_nodes, u32 n_input
 *  32  f64 offset, f64 contamination (0 = auto)
 *  48  u32 use[n_features] (input column of each feature)
 *      u32 tree_start[n_trees + 1]
 *      per node: i32 feature, f32 threshold, u32 left
 * end  8 bytes: the start of the SHA-256 of everything before
 *
 * Load checks the size against the counts before reading, the checksum before
 * trusting anything, then every node: a child must come after its parent and
 * inside its tree, so a forged blob can neither read out of bounds nor loop. */
#include <math.h>
#include <string.h>

#include "iforest-internal.h"

#define MAGIC "LATHEIFR"
#define HEADER_SIZE 48
#define SUM_SIZE 8
#define NODE_SIZE 12

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

static guint32 get_u32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static double get_f64(const guint8 *p) {
  guint64 bits = (guint64)get_u32(p) | (guint64)get_u32(p + 4) << 32;
  double v;
  memcpy(&v, &bits, 8);
  return v;
}

static void digest_prefix(const guint8 *data, gsize len, guint8 out[SUM_SIZE]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, data, (gssize)len);
  guint8 full[32];
  gsize full_len = sizeof full;
  g_checksum_get_digest(sum, full, &full_len);
  memcpy(out, full, SUM_SIZE);
}

GBytes *lathe_iforest_save(const LatheIforest *f) {
  if (f->n_groups > 0)
    return lathe_iforest_save_groups(f);
  const guint nodes = lathe_iforest_n_nodes(f);
  GByteArray *b = g_byte_array_sized_new(HEADER_SIZE + 4 * (f->n_features + f->n_trees + 1) +
                                         NODE_SIZE * nodes + SUM_SIZE);
  g_byte_array_append(b, (const guint8 *)MAGIC, 8);
  put_u32(b, LATHE_IFOREST_BLOB_FORMAT);
  put_u32(b, f->n_features);
  put_u32(b, f->n_trees);
  put_u32(b, f->max_samples);
  put_u32(b, nodes);
  put_u32(b, f->n_input);
  put_f64(b, f->offset);
  put_f64(b, f->contamination);
  for (guint j = 0; j < f->n_features; j++)
    put_u32(b, f->use[j]);
  for (guint t = 0; t <= f->n_trees; t++)
    put_u32(b, f->tree_start[t]);
  for (guint k = 0; k < nodes; k++) {
    guint32 bits;
    put_u32(b, (guint32)f->feature[k]);
    memcpy(&bits, &f->threshold[k], 4);
    put_u32(b, bits);
    put_u32(b, f->left[k]);
  }
  guint8 sum[SUM_SIZE];
  digest_prefix(b->data, b->len, sum);
  g_byte_array_append(b, sum, SUM_SIZE);
  return g_byte_array_free_to_bytes(b);
}

static gpointer corrupt(GError **error, const char *why) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "model/iforest: saved model is corrupt or truncated (%s); retrain or restore "
              "the artifact",
              why);
  return NULL;
}

LatheIforest *lathe_iforest_load(GBytes *state, guint32 version, GError **error) {
  if (version < 1 || version > LATHE_IFOREST_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/iforest: state version %u is not supported (this plugin reads "
                "versions 1 to %u); retrain the model with this plugin",
                version, LATHE_IFOREST_STATE_VERSION);
    return NULL;
  }
  if (!state)
    return corrupt(error, "no bytes");
  gsize size;
  const guint8 *data = g_bytes_get_data(state, &size);
  if (size < HEADER_SIZE + SUM_SIZE)
    return corrupt(error, "shorter than its header");
  if (memcmp(data, "LATHEIFG", 8) == 0) {
    if (version < 2)
      return corrupt(error, "per-group forests in a version 1 state");
    return lathe_iforest_load_groups(state, error);
  }
  if (memcmp(data, MAGIC, 8) != 0)
    return corrupt(error, "bad magic, not a model/iforest blob");
  if (get_u32(data + 8) != LATHE_IFOREST_BLOB_FORMAT)
    return corrupt(error, "unknown format version inside the blob");
  guint32 d = get_u32(data + 12), trees = get_u32(data + 16), psi = get_u32(data + 20),
          nodes = get_u32(data + 24), n_input = get_u32(data + 28);
  guint64 want = HEADER_SIZE + 4 * ((guint64)d + trees + 1) + (guint64)NODE_SIZE * nodes +
                 SUM_SIZE;
  if (want != size)
    return corrupt(error, "size does not match the counts it records");
  guint8 sum[SUM_SIZE];
  digest_prefix(data, size - SUM_SIZE, sum);
  if (memcmp(sum, data + size - SUM_SIZE, SUM_SIZE) != 0)
    return corrupt(error, "checksum mismatch");
  double offset = get_f64(data + 32), contamination = get_f64(data + 40);
  if (d == 0 || trees == 0 || psi < 2 || nodes < trees || n_input < d)
    return corrupt(error, "impossible dimensions");
  if (!isfinite(offset) || !(contamination >= 0.0 && contamination <= 0.5))
    return corrupt(error, "bad offset or contamination");

  LatheIforest *f = lathe_iforest_new(d, trees, nodes);
  f->max_samples = psi;
  f->offset = offset;
  f->contamination = contamination;
  f->n_input = n_input;
  const guint8 *p = data + HEADER_SIZE;
  for (guint j = 0; j < d; j++, p += 4)
    f->use[j] = get_u32(p);
  for (guint t = 0; t <= trees; t++, p += 4)
    f->tree_start[t] = get_u32(p);
  for (guint k = 0; k < nodes; k++, p += NODE_SIZE) {
    guint32 bits = get_u32(p + 4);
    f->feature[k] = (gint32)get_u32(p);
    memcpy(&f->threshold[k], &bits, 4);
    f->left[k] = get_u32(p + 8);
  }
  const char *why = NULL;
  for (guint j = 0; j < d && !why; j++)
    if (f->use[j] >= n_input)
      why = "feature column out of range";
  if (!why && (f->tree_start[0] != 0 || f->tree_start[trees] != nodes))
    why = "tree offsets do not cover the nodes";
  for (guint t = 0; t < trees && !why; t++) {
    guint32 a = f->tree_start[t], b = f->tree_start[t + 1];
    if (b <= a || b > nodes) {
      why = "tree offsets are not increasing";
      break;
    }
    for (guint32 k = 0; k < b - a && !why; k++) {
      gint32 feat = f->feature[a + k];
      float v = f->threshold[a + k];
      if (!isfinite(v))
        why = "non-finite threshold";
      else if (feat < -1 || feat >= (gint32)d)
        why = "split column out of range";
      else if (feat >= 0 && (f->left[a + k] <= k || (guint64)f->left[a + k] + 1 >= b - a))
        why = "child index out of its tree";
      else if (feat < 0 && !(v >= 0.0f))
        why = "negative leaf path length";
    }
  }
  if (why) {
    lathe_iforest_free(f);
    return corrupt(error, why);
  }
  return f;
}
