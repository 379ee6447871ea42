/* Per-group forests (fit_rows "probation"): one forest per group of the
 * training data, each grown on the first rows of its group only, so that a
 * series' detector has seen nothing of the series after its probation period
 * (the rows NAB never scores).
 *
 * Blob layout (little-endian):
 *   0  "LATHEIFG"          magic
 *   8  u32 format version  (1)
 *  12  u32 n_groups
 *      per group: u32 name length, the name's bytes (no NUL),
 *                 u32 blob length, a single forest's blob (iforest-state.c)
 * end  8 bytes: the start of the SHA-256 of everything before
 *
 * Each inner blob carries and checks its own checksum as well. */
#include <math.h>
#include <string.h>

#include "iforest-internal.h"

#define GROUPS_MAGIC "LATHEIFG"
#define GROUPS_VERSION 1u
#define SUM_SIZE LATHE_BLOB_SUM_SIZE

LatheIforest *lathe_iforest_new_groups(guint n_groups) {
  LatheIforest *f = g_new0(LatheIforest, 1);
  f->n_groups = n_groups;
  f->group_names = g_new0(char *, (gsize)n_groups + 1);
  f->group = g_new0(LatheIforest *, (gsize)n_groups + 1);
  return f;
}

guint lathe_iforest_probation_rows(guint n, double percent) {
  double m = MIN(floor(percent * n), percent * 5000.0);
  return m <= 0.0 ? 0u : (guint)m;
}

GBytes *lathe_iforest_save_groups(const LatheIforest *f) {
  GByteArray *b = g_byte_array_new();
  lathe_blob_put_header(b, GROUPS_MAGIC, GROUPS_VERSION);
  lathe_blob_put_u32(b, f->n_groups);
  for (guint g = 0; g < f->n_groups; g++) {
    const gsize len = strlen(f->group_names[g]);
    lathe_blob_put_u32(b, (guint32)len);
    g_byte_array_append(b, (const guint8 *)f->group_names[g], (guint)len);
    g_autoptr(GBytes) inner = lathe_iforest_save(f->group[g]);
    gsize n;
    const guint8 *d = g_bytes_get_data(inner, &n);
    lathe_blob_put_u32(b, (guint32)n);
    g_byte_array_append(b, d, (guint)n);
  }
  return lathe_blob_seal(b);
}

static gpointer corrupt(GError **error, const char *why) {
  return lathe_blob_corrupt(error, "model/iforest", why);
}

LatheIforest *lathe_iforest_load_groups(GBytes *state, GError **error) {
  gsize size;
  const guint8 *data = lathe_blob_read_header(state, "model/iforest", GROUPS_MAGIC,
                                              GROUPS_VERSION, 16, &size, error);
  if (!data)
    return NULL;
  if (!lathe_blob_sealed(data, size))
    return corrupt(error, "checksum mismatch");
  const guint32 n_groups = lathe_blob_get_u32(data + 12);
  if (n_groups == 0 || n_groups > (size - SUM_SIZE) / 8)
    return corrupt(error, "impossible group count");
  LatheBlobReader r = {data + 16, size - SUM_SIZE - 16};
  LatheIforest *f = lathe_iforest_new_groups(n_groups);
  for (guint g = 0; g < n_groups; g++) {
    guint32 len, n;
    const guint8 *name, *blob;
    if (!lathe_blob_read_u32(&r, &len) || !lathe_blob_read_bytes(&r, len, &name)) {
      lathe_iforest_free(f);
      return corrupt(error, "a group name runs past the end");
    }
    f->group_names[g] = g_strndup((const char *)name, len);
    if (!lathe_blob_read_u32(&r, &n) || n < 8 || !lathe_blob_read_bytes(&r, n, &blob) ||
        memcmp(blob, "LATHEIFR", 8) != 0) {
      lathe_iforest_free(f);
      return corrupt(error, "a group's forest runs past the end or is not a forest");
    }
    g_autoptr(GBytes) inner = g_bytes_new(blob, n);
    f->group[g] = lathe_iforest_load(inner, LATHE_IFOREST_STATE_VERSION, error);
    if (!f->group[g]) {
      lathe_iforest_free(f);
      return NULL;
    }
    if (f->group[g]->n_input != f->group[0]->n_input) {
      lathe_iforest_free(f);
      return corrupt(error, "the groups' forests read different column counts");
    }
  }
  if (r.left != 0) {
    lathe_iforest_free(f);
    return corrupt(error, "bytes left after the last group");
  }
  return f;
}
