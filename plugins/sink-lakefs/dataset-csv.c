/* A dataset as CSV: the format source/csv reads, so a written dataset can be
 * a later pipeline's input. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "dataset-csv.h"

char *lathe_dataset_csv_extra_column(const LatheDataset *ds, const char *base) {
  char *name = g_strdup(base);
  for (guint k = 2; lathe_dataset_column_index(ds, name) >= 0; k++) {
    g_free(name);
    name = g_strdup_printf("%s_%u", base, k);
  }
  return name;
}

/* RFC 4180: a field with the delimiter, a quote, a line break or edge
 * spaces (which source/csv trims) is quoted, its quotes doubled. */
static void put_text(GString *row, const char *s) {
  gsize n = strlen(s);
  gboolean quote = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
  for (const char *p = s; !quote && *p; p++)
    quote = *p == ',' || *p == '"' || *p == '\n' || *p == '\r';
  if (!quote) {
    g_string_append(row, s);
    return;
  }
  g_string_append_c(row, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"')
      g_string_append_c(row, '"');
    g_string_append_c(row, *p);
  }
  g_string_append_c(row, '"');
}

/* The shortest of %.6g .. %.9g that reads back as @v: 5.1f is "5.1", not
 * the "5.0999999" that %.9g alone would give; 9 digits always round-trip. */
static void put_float(GString *row, float v) {
  if (isnan(v))
    return;
  if (isinf(v)) {
    g_string_append(row, v > 0 ? "inf" : "-inf");
    return;
  }
  static const char *const formats[] = {"%.6g", "%.7g", "%.8g", "%.9g"};
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
    g_ascii_formatd(buf, sizeof buf, formats[i], v);
    if ((float)g_ascii_strtod(buf, NULL) == v)
      break;
  }
  g_string_append(row, buf);
}

static gboolean flush_row(FILE *f, GString *row, const char *path, GError **error) {
  g_string_append_c(row, '\n');
  if (fwrite(row->str, 1, row->len, f) != row->len) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
    return FALSE;
  }
  g_string_truncate(row, 0);
  return TRUE;
}

gboolean lathe_dataset_write_csv(const LatheDataset *ds, const char *path, GError **error) {
  FILE *f = g_fopen(path, "wb");
  if (!f) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create %s: %s", path, g_strerror(e));
    return FALSE;
  }
  g_autoptr(GString) row = g_string_new(NULL);
  for (guint c = 0; c < ds->n_cols; c++) {
    if (c)
      g_string_append_c(row, ',');
    put_text(row, ds->columns[c]);
  }
  if (ds->labels) {
    g_autofree char *name = lathe_dataset_csv_extra_column(ds, "label");
    if (row->len)
      g_string_append_c(row, ',');
    put_text(row, name);
  }
  if (ds->groups) {
    g_autofree char *name = lathe_dataset_csv_extra_column(ds, "group");
    if (row->len)
      g_string_append_c(row, ',');
    put_text(row, name);
  }
  gboolean ok = flush_row(f, row, path, error);
  for (guint r = 0; ok && r < ds->n_rows; r++) {
    const float *x = ds->x + (gsize)r * ds->n_cols;
    for (guint c = 0; c < ds->n_cols; c++) {
      if (c)
        g_string_append_c(row, ',');
      put_float(row, x[c]);
    }
    if (ds->labels) {
      if (ds->n_cols)
        g_string_append_c(row, ',');
      gint32 l = ds->labels[r];
      if (l >= 0 && (guint)l < ds->n_classes)
        put_text(row, ds->classes[l]);
    }
    if (ds->groups) {
      if (ds->n_cols || ds->labels)
        g_string_append_c(row, ',');
      gint32 g = ds->groups[r];
      if (g >= 0 && (guint)g < ds->n_groups)
        put_text(row, ds->group_names[g]);
    }
    ok = flush_row(f, row, path, error);
  }
  if (fclose(f) != 0 && ok) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
    ok = FALSE;
  }
  return ok;
}
