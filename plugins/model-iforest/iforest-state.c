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
#define SUM_SIZE LATHE_BLOB_SUM_SIZE
#define NODE_SIZE 12

GBytes *lathe_iforest_save(const LatheIforest *f) {
  if (f->n_groups > 0)
    return lathe_iforest_save_groups(f);
  const guint nodes = lathe_iforest_n_nodes(f);
  GByteArray *b = g_byte_array_sized_new(HEADER_SIZE + 4 * (f->n_features + f->n_trees + 1) +
                                         NODE_SIZE * nodes + SUM_SIZE);
  lathe_blob_put_header(b, MAGIC, LATHE_IFOREST_BLOB_FORMAT);
  lathe_blob_put_u32(b, f->n_features);
  lathe_blob_put_u32(b, f->n_trees);
  lathe_blob_put_u32(b, f->max_samples);
  lathe_blob_put_u32(b, nodes);
  lathe_blob_put_u32(b, f->n_input);
  lathe_blob_put_f64(b, f->offset);
  lathe_blob_put_f64(b, f->contamination);
  for (guint j = 0; j < f->n_features; j++)
    lathe_blob_put_u32(b, f->use[j]);
  for (guint t = 0; t <= f->n_trees; t++)
    lathe_blob_put_u32(b, f->tree_start[t]);
  for (guint k = 0; k < nodes; k++) {
    guint32 bits;
    lathe_blob_put_u32(b, (guint32)f->feature[k]);
    memcpy(&bits, &f->threshold[k], 4);
    lathe_blob_put_u32(b, bits);
    lathe_blob_put_u32(b, f->left[k]);
  }
  return lathe_blob_seal(b);
}

static gpointer corrupt(GError **error, const char *why) {
  return lathe_blob_corrupt(error, "model/iforest", why);
}

LatheIforest *lathe_iforest_load(GBytes *state, guint32 version, GError **error) {
  if (version < 1 || version > LATHE_IFOREST_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/iforest: state version %u is not supported (this plugin reads "
                "versions 1 to %u); retrain the model with this plugin",
                version, LATHE_IFOREST_STATE_VERSION);
    return NULL;
  }
  gsize size = state ? g_bytes_get_size(state) : 0;
  /* Per-group forests have a magic of their own; the size check comes first,
   * as it does for a single forest. */
  if (size >= HEADER_SIZE + SUM_SIZE && memcmp(g_bytes_get_data(state, NULL), "LATHEIFG", 8) == 0) {
    if (version < 2)
      return corrupt(error, "per-group forests in a version 1 state");
    return lathe_iforest_load_groups(state, error);
  }
  const guint8 *data = lathe_blob_read_header(state, "model/iforest", MAGIC,
                                              LATHE_IFOREST_BLOB_FORMAT, HEADER_SIZE, &size, error);
  if (!data)
    return NULL;
  guint32 d = lathe_blob_get_u32(data + 12), trees = lathe_blob_get_u32(data + 16), psi = lathe_blob_get_u32(data + 20),
          nodes = lathe_blob_get_u32(data + 24), n_input = lathe_blob_get_u32(data + 28);
  guint64 want = HEADER_SIZE + 4 * ((guint64)d + trees + 1) + (guint64)NODE_SIZE * nodes +
                 SUM_SIZE;
  if (want != size)
    return corrupt(error, "size does not match the counts it records");
  if (!lathe_blob_sealed(data, size))
    return corrupt(error, "checksum mismatch");
  double offset = lathe_blob_get_f64(data + 32), contamination = lathe_blob_get_f64(data + 40);
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
    f->use[j] = lathe_blob_get_u32(p);
  for (guint t = 0; t <= trees; t++, p += 4)
    f->tree_start[t] = lathe_blob_get_u32(p);
  for (guint k = 0; k < nodes; k++, p += NODE_SIZE) {
    guint32 bits = lathe_blob_get_u32(p + 4);
    f->feature[k] = (gint32)lathe_blob_get_u32(p);
    memcpy(&f->threshold[k], &bits, 4);
    f->left[k] = lathe_blob_get_u32(p + 8);
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
