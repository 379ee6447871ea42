/* The dataset and its portable encoding.
 *
 * Encoding (little-endian): "LATHEDS1", u32 n_rows, n_cols, n_classes,
 * n_groups, u32 flags (1 = labels, 2 = groups, 4 = sequence, 8 = lengths),
 * u32 seq_len only when flag 4 is set, then the strings (u32 length + bytes)
 * of columns, classes and group names, then x as f32, labels and groups as
 * i32, lengths as u32. A 1.1 dataset never sets flags 4 and 8, so its bytes
 * (and the cache keys built on them) are unchanged. Every count is checked against the remaining bytes before use, so a
 * truncated or hostile blob fails cleanly. */
#include <string.h>

#include "lathe/lathe-blob.h"
#include "lathe/lathe-dataset.h"
#include "lathe/lathe-error.h"

#define MAGIC "LATHEDS1"

static char **names_new(guint n, const char *prefix) {
  char **v = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++)
    v[i] = g_strdup_printf("%s%u", prefix, i);
  return v;
}

LatheDataset *lathe_dataset_new(guint n_rows, guint n_cols) {
  LatheDataset *ds = g_new0(LatheDataset, 1);
  ds->ref_count = 1;
  ds->n_rows = n_rows;
  ds->n_cols = n_cols;
  ds->x = g_new0(float, (gsize)n_rows * n_cols + 1);
  ds->columns = names_new(n_cols, "c");
  return ds;
}

LatheDataset *lathe_dataset_ref(LatheDataset *ds) {
  g_return_val_if_fail(ds != NULL, NULL);
  g_atomic_int_inc(&ds->ref_count);
  return ds;
}

void lathe_dataset_unref(LatheDataset *ds) {
  if (!ds || !g_atomic_int_dec_and_test(&ds->ref_count))
    return;
  g_free(ds->x);
  g_strfreev(ds->columns);
  g_free(ds->labels);
  g_strfreev(ds->classes);
  g_free(ds->groups);
  g_strfreev(ds->group_names);
  g_free(ds->lengths);
  g_free(ds);
}

void lathe_dataset_set_classes(LatheDataset *ds, const char *const *classes) {
  g_strfreev(ds->classes);
  ds->classes = g_strdupv((char **)classes);
  ds->n_classes = g_strv_length(ds->classes);
  g_free(ds->labels);
  ds->labels = g_new0(gint32, ds->n_rows + 1);
}

void lathe_dataset_set_groups(LatheDataset *ds, const char *const *names) {
  g_strfreev(ds->group_names);
  ds->group_names = g_strdupv((char **)names);
  ds->n_groups = g_strv_length(ds->group_names);
  g_free(ds->groups);
  ds->groups = g_new0(gint32, ds->n_rows + 1);
}

gboolean lathe_dataset_set_sequence(LatheDataset *ds, guint seq_len,
                                    gboolean with_lengths) {
  if (seq_len == 0 || ds->n_cols % seq_len != 0)
    return FALSE;
  ds->seq_len = seq_len;
  g_clear_pointer(&ds->lengths, g_free);
  if (with_lengths) {
    ds->lengths = g_new(guint32, (gsize)ds->n_rows + 1);
    for (guint i = 0; i < ds->n_rows; i++)
      ds->lengths[i] = seq_len;
  }
  return TRUE;
}

GArray *lathe_dataset_group_runs(const LatheDataset *ds, GError **error) {
  GArray *runs = g_array_new(FALSE, FALSE, sizeof(LatheRowRun));
  if (!ds->groups) {
    if (ds->n_rows)
      g_array_append_val(runs, ((LatheRowRun){0, ds->n_rows}));
    return runs;
  }
  guint *first = g_new(guint, (gsize)ds->n_groups + 1);
  for (guint g = 0; g < ds->n_groups; g++)
    first[g] = G_MAXUINT;
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups[r];
    if (g < 0 || (guint)g >= ds->n_groups) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "row %u has no group (index %d); every row of a grouped table must belong "
                  "to a recording",
                  r, g);
      goto fail;
    }
    if (r > 0 && g == ds->groups[r - 1]) {
      g_array_index(runs, LatheRowRun, runs->len - 1).end = r + 1;
      continue;
    }
    if (first[g] != G_MAXUINT) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "recording '%s' is not contiguous (rows from %u, then again from %u); keep "
                  "each recording's rows together",
                  ds->group_names[g], first[g], r);
      goto fail;
    }
    first[g] = r;
    g_array_append_val(runs, ((LatheRowRun){r, r + 1}));
  }
  g_free(first);
  return runs;
fail:
  g_free(first);
  g_array_unref(runs);
  return NULL;
}

gint32 lathe_dataset_majority_label(const LatheDataset *ds, guint start, guint end) {
  if (!ds->labels || ds->n_classes == 0)
    return -1;
  guint *counts = g_new0(guint, ds->n_classes);
  for (guint r = start; r < end && r < ds->n_rows; r++)
    if (ds->labels[r] >= 0 && (guint)ds->labels[r] < ds->n_classes)
      counts[ds->labels[r]]++;
  gint32 best = -1;
  for (guint c = 0; c < ds->n_classes; c++)
    if (counts[c] && (best < 0 || counts[c] > counts[best]))
      best = (gint32)c;
  g_free(counts);
  return best;
}

guint lathe_dataset_channels(const LatheDataset *ds) {
  return ds->seq_len ? ds->n_cols / ds->seq_len : ds->n_cols;
}

void lathe_dataset_set_column(LatheDataset *ds, guint col, const char *name) {
  g_return_if_fail(col < ds->n_cols);
  g_free(ds->columns[col]);
  ds->columns[col] = g_strdup(name);
}

LatheDataset *lathe_dataset_take_rows(const LatheDataset *ds, const guint32 *rows,
                                      guint n) {
  LatheDataset *out = lathe_dataset_new(n, ds->n_cols);
  for (guint c = 0; c < ds->n_cols; c++)
    lathe_dataset_set_column(out, c, ds->columns[c]);
  if (ds->labels)
    lathe_dataset_set_classes(out, (const char *const *)ds->classes);
  if (ds->groups)
    lathe_dataset_set_groups(out, (const char *const *)ds->group_names);
  if (ds->seq_len)
    lathe_dataset_set_sequence(out, ds->seq_len, ds->lengths != NULL);
  for (guint i = 0; i < n; i++) {
    guint32 r = rows[i];
    g_return_val_if_fail(r < ds->n_rows, out);
    memcpy(out->x + (gsize)i * ds->n_cols, ds->x + (gsize)r * ds->n_cols,
           sizeof(float) * ds->n_cols);
    if (ds->labels)
      out->labels[i] = ds->labels[r];
    if (ds->groups)
      out->groups[i] = ds->groups[r];
    if (ds->lengths)
      out->lengths[i] = ds->lengths[r];
  }
  return out;
}

static void put_strv(GByteArray *b, char **v, guint n) {
  for (guint i = 0; i < n; i++) {
    gsize len = strlen(v[i]);
    lathe_blob_put_u32(b, (guint32)len);
    g_byte_array_append(b, (const guint8 *)v[i], (guint)len);
  }
}

/* x86-64 and aarch64 are little-endian; the blob is too, so the bulk arrays are
 * copied as they are. A big-endian port would swap here. */
G_STATIC_ASSERT(G_BYTE_ORDER == G_LITTLE_ENDIAN);

GBytes *lathe_dataset_serialize(const LatheDataset *ds) {
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, (const guint8 *)MAGIC, 8);
  lathe_blob_put_u32(b, ds->n_rows);
  lathe_blob_put_u32(b, ds->n_cols);
  lathe_blob_put_u32(b, ds->labels ? ds->n_classes : 0);
  lathe_blob_put_u32(b, ds->groups ? ds->n_groups : 0);
  lathe_blob_put_u32(b, (ds->labels ? 1u : 0u) | (ds->groups ? 2u : 0u) | (ds->seq_len ? 4u : 0u) |
                            (ds->seq_len && ds->lengths ? 8u : 0u));
  if (ds->seq_len)
    lathe_blob_put_u32(b, ds->seq_len);
  put_strv(b, ds->columns, ds->n_cols);
  if (ds->labels)
    put_strv(b, ds->classes, ds->n_classes);
  if (ds->groups)
    put_strv(b, ds->group_names, ds->n_groups);
  g_byte_array_append(b, (const guint8 *)ds->x,
                      (guint)(sizeof(float) * (gsize)ds->n_rows * ds->n_cols));
  if (ds->labels)
    g_byte_array_append(b, (const guint8 *)ds->labels, sizeof(gint32) * ds->n_rows);
  if (ds->groups)
    g_byte_array_append(b, (const guint8 *)ds->groups, sizeof(gint32) * ds->n_rows);
  if (ds->seq_len && ds->lengths)
    g_byte_array_append(b, (const guint8 *)ds->lengths, sizeof(guint32) * ds->n_rows);
  return g_byte_array_free_to_bytes(b);
}

static gboolean get_strv(LatheBlobReader *r, guint n, char ***out) {
  /* Each string needs at least its 4-byte length: bound n before allocating. */
  if ((gsize)n > r->left / 4)
    return FALSE;
  char **v = g_new0(char *, (gsize)n + 1);
  for (guint i = 0; i < n; i++) {
    guint32 len;
    const guint8 *p;
    /* a NUL inside a name would be cut off: refuse it rather than change it */
    if (!lathe_blob_read_u32(r, &len) || !lathe_blob_read_bytes(r, len, &p) || memchr(p, 0, len)) {
      g_strfreev(v);
      return FALSE;
    }
    v[i] = g_strndup((const char *)p, len);
  }
  g_strfreev(*out);
  *out = v;
  return TRUE;
}

static gboolean get_block(LatheBlobReader *r, gpointer dst, guint64 size) {
  const guint8 *p;
  if (!lathe_blob_read_bytes(r, size, &p))
    return FALSE;
  memcpy(dst, p, (gsize)size);
  return TRUE;
}

static gboolean indices_ok(const gint32 *v, guint n, guint limit) {
  for (guint i = 0; i < n; i++)
    if (v[i] < -1 || v[i] >= (gint64)limit)
      return FALSE;
  return TRUE;
}

static gboolean lengths_ok(const guint32 *v, guint n, guint seq_len) {
  for (guint i = 0; v && i < n; i++)
    if (v[i] == 0 || v[i] > seq_len)
      return FALSE;
  return TRUE;
}

LatheDataset *lathe_dataset_deserialize(GBytes *bytes, GError **error) {
  gsize size;
  LatheBlobReader r = {g_bytes_get_data(bytes, &size), 0};
  r.left = size;
  guint32 n_rows, n_cols, n_classes, n_groups, flags, seq_len = 0;
  if (size < 8 || memcmp(r.p, MAGIC, 8) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "not a Lathe dataset (bad magic); the artifact is corrupt");
    return NULL;
  }
  r.p += 8;
  r.left -= 8;
  if (!lathe_blob_read_u32(&r, &n_rows) || !lathe_blob_read_u32(&r, &n_cols) ||
      !lathe_blob_read_u32(&r, &n_classes) || !lathe_blob_read_u32(&r, &n_groups) ||
      !lathe_blob_read_u32(&r, &flags) || ((flags & 4) && !lathe_blob_read_u32(&r, &seq_len)) ||
      /* every array is bounded by the bytes present, before anything is allocated */
      (guint64)n_rows * n_cols * sizeof(float) + (flags & 1 ? (guint64)n_rows * 4 : 0) +
              (flags & 2 ? (guint64)n_rows * 4 : 0) + (flags & 8 ? (guint64)n_rows * 4 : 0) >
          r.left) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "Lathe dataset header is truncated; the artifact is corrupt");
    return NULL;
  }

  /* One encoding per dataset: no unknown flags, no counts without their data. */
  if ((flags & ~15u) || (!(flags & 1) && n_classes) || (!(flags & 2) && n_groups) ||
      ((flags & 8) && !(flags & 4)) ||
      ((flags & 4) && (seq_len == 0 || n_cols % seq_len != 0))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "Lathe dataset header is inconsistent (flags %u); the artifact is corrupt", flags);
    return NULL;
  }
  g_autoptr(LatheDataset) ds = lathe_dataset_new(n_rows, n_cols);
  if (flags & 4)
    lathe_dataset_set_sequence(ds, seq_len, (flags & 8) != 0);
  if (!get_strv(&r, n_cols, &ds->columns))
    goto truncated;
  if (flags & 1) {
    if (!get_strv(&r, n_classes, &ds->classes))
      goto truncated;
    ds->n_classes = n_classes;
    ds->labels = g_new0(gint32, (gsize)n_rows + 1);
  }
  if (flags & 2) {
    if (!get_strv(&r, n_groups, &ds->group_names))
      goto truncated;
    ds->n_groups = n_groups;
    ds->groups = g_new0(gint32, (gsize)n_rows + 1);
  }
  if (!get_block(&r, ds->x, (guint64)n_rows * n_cols * sizeof(float)))
    goto truncated;
  if (ds->labels && !get_block(&r, ds->labels, (guint64)n_rows * sizeof(gint32)))
    goto truncated;
  if (ds->groups && !get_block(&r, ds->groups, (guint64)n_rows * sizeof(gint32)))
    goto truncated;
  if (ds->lengths && !get_block(&r, ds->lengths, (guint64)n_rows * sizeof(guint32)))
    goto truncated;
  if (r.left != 0 || (ds->labels && !indices_ok(ds->labels, n_rows, n_classes)) ||
      (ds->groups && !indices_ok(ds->groups, n_rows, n_groups)) ||
      !lengths_ok(ds->lengths, n_rows, seq_len)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "Lathe dataset is inconsistent (trailing bytes or bad indices)");
    return NULL;
  }
  return g_steal_pointer(&ds);

truncated:
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "Lathe dataset is truncated; the artifact is corrupt");
  return NULL;
}

gint lathe_dataset_column_index(const LatheDataset *ds, const char *name) {
  for (guint j = 0; j < ds->n_cols; j++)
    if (g_strcmp0(ds->columns[j], name) == 0)
      return (gint)j;
  return -1;
}

void lathe_dataset_copy_targets(LatheDataset *dst, const LatheDataset *src) {
  g_return_if_fail(dst->n_rows == src->n_rows);
  if (src->labels) {
    lathe_dataset_set_classes(dst, (const char *const *)src->classes);
    memcpy(dst->labels, src->labels, sizeof(gint32) * src->n_rows);
  }
  if (src->groups) {
    lathe_dataset_set_groups(dst, (const char *const *)src->group_names);
    memcpy(dst->groups, src->groups, sizeof(gint32) * src->n_rows);
  }
}

LatheDataset *lathe_dataset_add_columns(const LatheDataset *ds, const char *const *names, guint k) {
  guint d = ds->n_cols;
  LatheDataset *out = lathe_dataset_new(ds->n_rows, d + k);
  for (guint j = 0; j < d; j++)
    lathe_dataset_set_column(out, j, ds->columns[j]);
  for (guint i = 0; i < k; i++)
    lathe_dataset_set_column(out, d + i, names[i]);
  for (guint r = 0; r < ds->n_rows; r++)
    memcpy(out->x + (gsize)r * (d + k), ds->x + (gsize)r * d, sizeof(float) * d);
  lathe_dataset_copy_targets(out, ds);
  return out;
}

guint *lathe_dataset_series_rows(const LatheDataset *ds, guint *n_series, guint **offsets) {
  guint n = ds->groups ? ds->n_groups : 1;
  guint *off = g_new0(guint, n + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups ? ds->groups[r] : 0;
    if (g >= 0 && (guint)g < n)
      off[g + 1]++;
  }
  for (guint g = 0; g < n; g++)
    off[g + 1] += off[g];
  guint *rows = g_new(guint, MAX(off[n], 1));
  g_autofree guint *fill = g_memdup2(off, sizeof(guint) * (n + 1));
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups ? ds->groups[r] : 0;
    if (g >= 0 && (guint)g < n)
      rows[fill[g]++] = r;
  }
  *n_series = n;
  *offsets = off;
  return rows;
}
