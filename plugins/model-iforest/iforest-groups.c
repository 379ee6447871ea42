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
#define SUM_SIZE 8

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

static void put_u32(GByteArray *b, guint32 v) {
  guint8 le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  g_byte_array_append(b, le, 4);
}

static guint32 get_u32(const guint8 *p) {
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static void digest_prefix(const guint8 *data, gsize len, guint8 out[SUM_SIZE]) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, data, (gssize)len);
  guint8 full[32];
  gsize full_len = sizeof full;
  g_checksum_get_digest(sum, full, &full_len);
  memcpy(out, full, SUM_SIZE);
}

GBytes *lathe_iforest_save_groups(const LatheIforest *f) {
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, (const guint8 *)GROUPS_MAGIC, 8);
  put_u32(b, GROUPS_VERSION);
  put_u32(b, f->n_groups);
  for (guint g = 0; g < f->n_groups; g++) {
    const gsize len = strlen(f->group_names[g]);
    put_u32(b, (guint32)len);
    g_byte_array_append(b, (const guint8 *)f->group_names[g], (guint)len);
    g_autoptr(GBytes) inner = lathe_iforest_save(f->group[g]);
    gsize n;
    const guint8 *d = g_bytes_get_data(inner, &n);
    put_u32(b, (guint32)n);
    g_byte_array_append(b, d, (guint)n);
  }
  guint8 sum[SUM_SIZE];
  digest_prefix(b->data, b->len, sum);
  g_byte_array_append(b, sum, SUM_SIZE);
  return g_byte_array_free_to_bytes(b);
}

static gpointer corrupt(GError **error, const char *why) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "model/iforest: saved per-group model is corrupt or truncated (%s); retrain or "
              "restore the artifact",
              why);
  return NULL;
}

LatheIforest *lathe_iforest_load_groups(GBytes *state, GError **error) {
  gsize size;
  const guint8 *data = g_bytes_get_data(state, &size);
  if (size < 16 + SUM_SIZE || memcmp(data, GROUPS_MAGIC, 8) != 0)
    return corrupt(error, "shorter than its header or bad magic");
  guint8 sum[SUM_SIZE];
  digest_prefix(data, size - SUM_SIZE, sum);
  if (memcmp(sum, data + size - SUM_SIZE, SUM_SIZE) != 0)
    return corrupt(error, "checksum mismatch");
  if (get_u32(data + 8) != GROUPS_VERSION)
    return corrupt(error, "unknown format version inside the blob");
  const guint32 n_groups = get_u32(data + 12);
  const gsize end = size - SUM_SIZE;
  if (n_groups == 0 || n_groups > end / 8)
    return corrupt(error, "impossible group count");
  LatheIforest *f = lathe_iforest_new_groups(n_groups);
  gsize at = 16;
  for (guint g = 0; g < n_groups; g++) {
    if (end - at < 4 || end - at - 4 < get_u32(data + at)) {
      lathe_iforest_free(f);
      return corrupt(error, "a group name runs past the end");
    }
    guint32 len = get_u32(data + at);
    f->group_names[g] = g_strndup((const char *)data + at + 4, len);
    at += 4 + (gsize)len;
    if (end - at < 4 || end - at - 4 < get_u32(data + at) || get_u32(data + at) < 8 ||
        memcmp(data + at + 4, "LATHEIFR", 8) != 0) {
      lathe_iforest_free(f);
      return corrupt(error, "a group's forest runs past the end or is not a forest");
    }
    guint32 n = get_u32(data + at);
    g_autoptr(GBytes) inner = g_bytes_new(data + at + 4, n);
    at += 4 + (gsize)n;
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
  if (at != end) {
    lathe_iforest_free(f);
    return corrupt(error, "bytes left after the last group");
  }
  return f;
}
