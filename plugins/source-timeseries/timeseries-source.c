/* source/timeseries: NAB-style CSV files (timestamp, value...) -> one long
 * table, one group per file.
 *
 * float32 cannot hold epoch seconds (about 1.4e9, a step of 128 s), so the
 * instant of each row is split in two exact columns: "timestamp_days" (whole
 * days since 1970-01-01 UTC) and "timestamp_sec" (seconds into that day).
 * A consumer recovers epoch seconds exactly, in double, as
 * days * 86400 + sec. They are the first two columns; the value columns
 * follow in file order. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

#include "ts-time.h"

static const char *const unordered_choices[] = {"error", "keep", "drop", NULL};

static const LatheParamSpec ts_params[] = {
    LATHE_PARAM_STRING_("path", NULL, LATHE_PARAM_REQUIRED,
                        "a CSV file, or a folder searched recursively for *.csv (files in "
                        "byte order of their relative paths); relative to the pipeline"),
    LATHE_PARAM_LIST_("files", "[]", LATHE_PARAM_STRING,
                      "files to read, relative to path (a folder), in this order; [] = every "
                      "CSV under path"),
    LATHE_PARAM_LIST_("more_paths", "[]", LATHE_PARAM_STRING,
                      "further folders read after path, each searched recursively for *.csv "
                      "the same way (files applies to path only); groups are paths relative "
                      "to their own folder and must be unique across folders"),
    LATHE_PARAM_STRING_("timestamp_column", "\"timestamp\"", 0, "the column holding the time"),
    LATHE_PARAM_STRING_("format", "\"%Y-%m-%d %H:%M:%S\"", 0,
                        "timestamp format: a pattern of %Y %m %d %H %M %S (with an optional "
                        "fraction) %%, or \"iso8601\", or \"epoch\"; times are UTC"),
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "value columns to keep, in this order; [] = every column but the "
                      "timestamp"),
    LATHE_PARAM_ENUM_("unordered", "\"error\"", unordered_choices,
                      "a timestamp not after the previous row's: error; keep the rows in "
                      "file order (as NAB does: two of its realKnownCause files repeat or go "
                      "back an hour); or drop every row not after the latest kept one"),
    LATHE_PARAM_END,
};

static const LathePortSpec ts_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "columns timestamp_days, timestamp_sec (epoch seconds = days * 86400 + sec), "
            "then the values; groups = file paths relative to path (the file name when "
            "path is a file)"},
    {.name = NULL},
};

#define COMPONENT "source/timeseries"

typedef struct {
  GArray *x;          /* floats, row-major, 2 + n_values per row */
  GArray *groups;     /* gint32 per row */
  GPtrArray *values;  /* value column names, fixed by the first file */
} Table;

/* A field of a CSV line, without its surrounding quotes. */
typedef struct {
  const char *p;
  gsize len;
} Field;

static guint split_fields(const char *line, gsize len, GArray *fields) {
  g_array_set_size(fields, 0);
  const char *p = line, *end = line + len;
  for (;;) {
    const char *comma = memchr(p, ',', (gsize)(end - p));
    const char *stop = comma ? comma : end;
    Field f = {p, (gsize)(stop - p)};
    while (f.len && (f.p[0] == ' ' || f.p[0] == '\t'))
      f.p++, f.len--;
    while (f.len && (f.p[f.len - 1] == ' ' || f.p[f.len - 1] == '\t'))
      f.len--;
    if (f.len >= 2 && f.p[0] == '"' && f.p[f.len - 1] == '"')
      f.p++, f.len -= 2;
    g_array_append_val(fields, f);
    if (!comma)
      break;
    p = comma + 1;
  }
  return fields->len;
}

static gboolean field_is(const Field *f, const char *name) {
  return strlen(name) == f->len && memcmp(f->p, name, f->len) == 0;
}

/* Maps the header to [timestamp index, value indices...]. */
static GArray *map_header(LatheContext *ctx, Table *t, GArray *fields, const char *display,
                          guint line_no, GError **error) {
  /* Column names reach the dataset, metric names and JSON artifacts, which
   * GLib and json-glib expect in UTF-8: refuse rather than repair a header in
   * another encoding (only the header; value cells are parsed as numbers). */
  for (guint i = 0; i < fields->len; i++) {
    const Field *f = &g_array_index(fields, Field, i);
    if (G_UNLIKELY(!g_utf8_validate_len(f->p, f->len, NULL))) {
      g_autofree char *shown = lathe_value_excerpt(f->p, (gssize)f->len);
      /* Control bytes as well mean binary data (say an archive: this source
       * reads plain files), where "save as UTF-8" would be wrong advice. */
      gboolean binary = FALSE;
      for (gsize k = 0; k < f->len && !binary; k++)
        binary = ((guchar)f->p[k] < 0x20 && f->p[k] != '\t' && f->p[k] != '\r') ||
                 f->p[k] == 0x7f;
      if (binary)
        lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                                "%s:%u:%u: the header is binary data, not text (column name "
                                "%s); point path at a CSV file",
                                display, line_no, i + 1, shown);
      else
        lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                                "%s:%u:%u: column name %s is not valid UTF-8; save the file "
                                "as UTF-8",
                                display, line_no, i + 1, shown);
      return NULL;
    }
  }
  const char *ts_name = lathe_context_param_string(ctx, "timestamp_column");
  JsonArray *want = lathe_context_param_list(ctx, "columns");
  guint n_want = want ? json_array_get_length(want) : 0;
  g_autoptr(GArray) map = g_array_new(FALSE, FALSE, sizeof(guint));
  guint ts = G_MAXUINT;
  for (guint i = 0; i < fields->len; i++)
    if (field_is(&g_array_index(fields, Field, i), ts_name))
      ts = i;
  if (ts == G_MAXUINT) {
    lathe_context_set_error(
        NULL, error, LATHE_ERROR_DATA, COMPONENT,
        "%s:1: no column '%s' in the header; set timestamp_column to the time column", display,
        ts_name);
    return NULL;
  }
  g_array_append_val(map, ts);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; n_want == 0 && i < fields->len; i++) {
    const Field *f = &g_array_index(fields, Field, i);
    if (i != ts) {
      g_array_append_val(map, i);
      g_ptr_array_add(names, g_strndup(f->p, f->len));
    }
  }
  for (guint k = 0; k < n_want; k++) {
    const char *name = json_array_get_string_element(want, k);
    guint i = 0;
    while (i < fields->len && !field_is(&g_array_index(fields, Field, i), name ? name : ""))
      i++;
    if (!name || i == fields->len || i == ts) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                              "%s:1: columns: '%s' is not a value column of the header", display,
                              name ? name : "(not a string)");
      return NULL;
    }
    g_array_append_val(map, i);
    g_ptr_array_add(names, g_strdup(name));
  }
  if (names->len == 0) {
    lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                            "%s:1: no value column besides '%s'", display, ts_name);
    return NULL;
  }
  for (guint i = 0; i < names->len; i++)
    if (g_str_has_prefix(names->pdata[i], "timestamp_")) {
      lathe_context_set_error(
          NULL, error, LATHE_ERROR_DATA, COMPONENT,
          "%s:1: value column '%s' clashes with the timestamp_days/timestamp_sec columns "
          "this source adds; leave it out with columns",
          display, (char *)names->pdata[i]);
      return NULL;
    }
  if (!t->values) {
    t->values = g_steal_pointer(&names);
    return g_steal_pointer(&map);
  }
  gboolean same = t->values->len == names->len;
  for (guint i = 0; same && i < names->len; i++)
    same = strcmp(t->values->pdata[i], names->pdata[i]) == 0;
  if (!same) {
    lathe_context_set_error(
        NULL, error, LATHE_ERROR_DATA, COMPONENT,
        "%s:1: its value columns differ from the first file's; every file must have the "
        "same columns (or select common ones with columns)",
        display);
    return NULL;
  }
  return g_steal_pointer(&map);
}

static gboolean parse_value(const Field *f, float *out) {
  char buf[128];
  if (f->len == 0 || f->len >= sizeof buf)
    return FALSE;
  memcpy(buf, f->p, f->len);
  buf[f->len] = '\0';
  char *end;
  double v = g_ascii_strtod(buf, &end);
  if (*end || !isfinite(v) || fabs(v) > FLT_MAX)
    return FALSE;
  *out = (float)v;
  return TRUE;
}

static gboolean read_lines(LatheContext *ctx, Table *t, const char *text, gsize size,
                           const char *display, gint32 group, GError **error) {
  const char *format = lathe_context_param_string(ctx, "format");
  const char *policy = lathe_context_param_string(ctx, "unordered");
  gboolean keep_unordered = g_strcmp0(policy, "keep") == 0;
  gboolean drop_unordered = g_strcmp0(policy, "drop") == 0;
  guint unordered = 0;
  g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(Field));
  g_autoptr(GArray) map = NULL;
  LatheTsTime prev = {0, 0};
  guint line_no = 0, rows = 0;
  const char *p = text, *end = text + size;
  if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  while (p < end) {
    const char *nl = memchr(p, '\n', (gsize)(end - p));
    const char *stop = nl ? nl : end;
    gsize len = (gsize)(stop - p);
    if (len && p[len - 1] == '\r')
      len--;
    const char *line = p;
    p = nl ? nl + 1 : end;
    line_no++;
    if (len == 0)
      continue;
    guint nf = split_fields(line, len, fields);
    if (!map) {
      if (!(map = map_header(ctx, t, fields, display, line_no, error)))
        return FALSE;
      continue;
    }
    guint need = 0;
    for (guint i = 0; i < map->len; i++)
      need = MAX(need, g_array_index(map, guint, i) + 1);
    if (nf < need) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                              "%s:%u: %u fields, the header needs at least %u", display, line_no,
                              nf, need);
      return FALSE;
    }
    const Field *tsf = &g_array_index(fields, Field, g_array_index(map, guint, 0));
    LatheTsTime now;
    const char *why = NULL;
    if (!lathe_ts_parse(tsf->p, tsf->len, format, &now, &why)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                              "%s:%u:%u: timestamp '%.*s' %s (format \"%s\")", display, line_no,
                              g_array_index(map, guint, 0) + 1, (int)MIN(tsf->len, 64), tsf->p, why,
                              format);
      return FALSE;
    }
    gboolean late = rows > 0 && lathe_ts_compare(&now, &prev) <= 0;
    if (late && !keep_unordered && !drop_unordered) {
      lathe_context_set_error(
          NULL, error, LATHE_ERROR_DATA, COMPONENT,
          "%s:%u: timestamp '%.*s' is not after the previous row's; sort the file by time "
          "and drop duplicate timestamps, or set unordered to \"keep\"",
          display, line_no, (int)MIN(tsf->len, 64), tsf->p);
      return FALSE;
    }
    if (late && unordered++ == 0)
      lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE,
                        "%s:%u: timestamp '%.*s' is not after the previous row's; %s",
                        display, line_no, (int)MIN(tsf->len, 64), tsf->p,
                        drop_unordered ? "dropping it" : "rows kept in file order");
    if (late && drop_unordered)
      continue;
    prev = now;
    float row[2 + 256];
    guint nv = map->len - 1;
    float *dst = nv + 2 <= G_N_ELEMENTS(row) ? row : g_new(float, nv + 2);
    dst[0] = (float)now.days;
    dst[1] = (float)now.sec;
    for (guint i = 0; i < nv; i++) {
      guint col = g_array_index(map, guint, i + 1);
      const Field *f = &g_array_index(fields, Field, col);
      if (!parse_value(f, &dst[2 + i])) {
        lathe_context_set_error(
            NULL, error, LATHE_ERROR_DATA, COMPONENT,
            "%s:%u:%u: column '%s': '%.*s' is not a finite number; fix or drop the row", display,
            line_no, col + 1, (char *)t->values->pdata[i], (int)MIN(f->len, 64), f->p);
        if (dst != row)
          g_free(dst);
        return FALSE;
      }
    }
    g_array_append_vals(t->x, dst, nv + 2);
    if (dst != row)
      g_free(dst);
    g_array_append_val(t->groups, group);
    rows++;
  }
  if (rows == 0) {
    lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT, "%s: no data rows%s", display,
                            map ? "" : " and no header");
    return FALSE;
  }
  if (unordered > 1)
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "%s: %u rows in all were not after the row "
                      "before (%s)", display, unordered, drop_unordered ? "dropped" : "kept");
  return TRUE;
}

static int cmp_str(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Relative paths of the *.csv files under @dir (hidden ones skipped). */
static gboolean walk(const char *root, const char *rel, GPtrArray *out, GError **error) {
  g_autofree char *dir_path = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, error);
  if (!dir)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name(dir))) {
    if (name[0] == '.')
      continue;
    g_autofree char *child_rel = rel ? g_strconcat(rel, "/", name, NULL) : g_strdup(name);
    g_autofree char *child = g_build_filename(root, child_rel, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR)) {
      if (!walk(root, child_rel, out, error))
        return FALSE;
    } else {
      g_autofree char *lower = g_ascii_strdown(name, -1);
      if (g_str_has_suffix(lower, ".csv"))
        g_ptr_array_add(out, g_steal_pointer(&child_rel));
    }
  }
  return TRUE;
}

/* The files to read as paths relative to @root, or the file @root itself
 * (then *single is set). */
static GPtrArray *list_files(LatheContext *ctx, const char *root, gboolean *single,
                             GError **error) {
  g_autoptr(GPtrArray) rel = g_ptr_array_new_with_free_func(g_free);
  JsonArray *files = lathe_context_param_list(ctx, "files");
  guint n = files ? json_array_get_length(files) : 0;
  *single = !g_file_test(root, G_FILE_TEST_IS_DIR);
  if (*single) {
    if (n) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_INVALID, COMPONENT,
                              "files is set but path '%s' is not a folder", root);
      return NULL;
    }
    if (!g_file_test(root, G_FILE_TEST_EXISTS)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_IO, COMPONENT,
                              "path '%s' does not exist; check path", root);
      return NULL;
    }
    g_ptr_array_add(rel, g_path_get_basename(root));
    return g_steal_pointer(&rel);
  }
  for (guint i = 0; i < n; i++) {
    const char *f = json_array_get_string_element(files, i);
    if (!f || !*f || g_path_is_absolute(f) || strstr(f, "..")) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_INVALID, COMPONENT,
                              "files[%u]: '%s' must be a path relative to path, without '..'", i,
                              f ? f : "");
      return NULL;
    }
    for (guint j = 0; j < rel->len; j++)
      if (strcmp(rel->pdata[j], f) == 0) {
        lathe_context_set_error(NULL, error, LATHE_ERROR_INVALID, COMPONENT,
                                "files[%u]: '%s' is listed twice; list it once", i, f);
        return NULL;
      }
    g_ptr_array_add(rel, g_strdup(f));
  }
  if (n == 0) {
    GError *e = NULL;
    if (!walk(root, NULL, rel, &e)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_IO, COMPONENT, "cannot list '%s': %s", root,
                              e->message);
      g_error_free(e);
      return NULL;
    }
    g_ptr_array_sort(rel, cmp_str);
    if (rel->len == 0) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                              "no *.csv file under '%s'; check path", root);
      return NULL;
    }
  }
  return g_steal_pointer(&rel);
}

/* Reads a whole file, refusing FIFOs and devices: g_file_get_contents() on
 * a FIFO blocks until a writer comes, which may be never. */
static gboolean read_file(const char *path, char **text, gsize *size, GError **error) {
  goffset st_size = 0;
  int fd = lathe_open_regular_file(path, NULL, &st_size, error);
  if (fd < 0)
    return FALSE;
  GString *buf = g_string_sized_new((gsize)st_size + 1);
  char chunk[65536];
  for (;;) {
    gssize n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: read failed: %s", path,
                  g_strerror(errno));
      close(fd);
      g_string_free(buf, TRUE);
      return FALSE;
    }
    if (n == 0)
      break;
    g_string_append_len(buf, chunk, n);
  }
  close(fd);
  *size = buf->len;
  *text = g_string_free(buf, FALSE);
  return TRUE;
}

static gboolean ts_run(LatheContext *ctx, GError **error) {
  g_autofree char *root =
      lathe_context_resolve_path(ctx, lathe_context_param_string(ctx, "path"), NULL, error);
  if (!root)
    return FALSE;
  gboolean single;
  g_autoptr(GPtrArray) rel = list_files(ctx, root, &single, error);
  if (!rel)
    return FALSE;
  /* The folder of each file: root for the first rel->len, then each of
   * more_paths in turn (NAB's development set spans two folders whose
   * relative paths are the labels' keys). */
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < rel->len; i++)
    g_ptr_array_add(roots, g_strdup(root));
  JsonArray *more = lathe_context_param_list(ctx, "more_paths");
  for (guint m = 0; more && m < json_array_get_length(more); m++) {
    const char *mp = json_array_get_string_element(more, m);
    if (!mp || !*mp) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_INVALID, COMPONENT,
                              "more_paths[%u] must be a folder path (a string)", m);
      return FALSE;
    }
    g_autofree char *mroot = lathe_context_resolve_path(ctx, mp, NULL, error);
    if (!mroot)
      return FALSE;
    if (single || !g_file_test(mroot, G_FILE_TEST_IS_DIR)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_INVALID, COMPONENT,
                              "more_paths[%u]: '%s' and path must both be folders", m, mp);
      return FALSE;
    }
    g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func(g_free);
    GError *e = NULL;
    if (!walk(mroot, NULL, extra, &e)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_IO, COMPONENT, "cannot list '%s': %s",
                              mroot, e->message);
      g_error_free(e);
      return FALSE;
    }
    g_ptr_array_sort(extra, cmp_str);
    for (guint i = 0; i < extra->len; i++) {
      for (guint j = 0; j < rel->len; j++)
        if (strcmp(rel->pdata[j], extra->pdata[i]) == 0) {
          lathe_context_set_error(NULL, error, LATHE_ERROR_DATA, COMPONENT,
                                  "more_paths[%u]: '%s' is also under '%s'; a group name must "
                                  "be unique across folders",
                                  m, (char *)extra->pdata[i], (char *)roots->pdata[j]);
          return FALSE;
        }
      g_ptr_array_add(rel, g_strdup(extra->pdata[i]));
      g_ptr_array_add(roots, g_strdup(mroot));
    }
  }
  Table t = {g_array_new(FALSE, FALSE, sizeof(float)), g_array_new(FALSE, FALSE, sizeof(gint32)),
             NULL};
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < rel->len; i++) {
    g_autofree char *file =
        single ? g_strdup(root) : g_build_filename(roots->pdata[i], rel->pdata[i], NULL);
    g_autofree char *text = NULL;
    gsize size = 0;
    GError *e = NULL;
    if (!read_file(file, &text, &size, &e)) {
      lathe_context_set_error(NULL, error, e->code, COMPONENT, "%s", e->message);
      g_error_free(e);
      ok = FALSE;
      break;
    }
    g_autofree char *digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)text, size);
    g_autofree char *canon = g_canonicalize_filename(file, NULL);
    lathe_context_add_data_version(ctx, canon, digest);
    ok = read_lines(ctx, &t, text, size, file, (gint32)i, error);
    lathe_context_progress(ctx, (i + 1.0) / rel->len, rel->pdata[i]);
    if (ok && lathe_context_is_cancelled(ctx)) {
      lathe_context_set_error(NULL, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled after %u of %u files", i + 1, rel->len);
      ok = FALSE;
    }
  }
  if (ok) {
    guint n_cols = 2 + t.values->len, n_rows = t.groups->len;
    LatheDataset *ds = lathe_dataset_new(n_rows, n_cols);
    memcpy(ds->x, t.x->data, sizeof(float) * (gsize)n_rows * n_cols);
    lathe_dataset_set_column(ds, 0, "timestamp_days");
    lathe_dataset_set_column(ds, 1, "timestamp_sec");
    for (guint j = 0; j < t.values->len; j++)
      lathe_dataset_set_column(ds, 2 + j, t.values->pdata[j]);
    g_ptr_array_add(rel, NULL);
    lathe_dataset_set_groups(ds, (const char *const *)rel->pdata);
    memcpy(ds->groups, t.groups->data, sizeof(gint32) * n_rows);
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u files, %u rows, %u value columns",
                      rel->len - 1, n_rows, t.values->len);
    lathe_context_set_output_dataset(ctx, "data", ds);
  }
  g_array_unref(t.x);
  g_array_unref(t.groups);
  if (t.values)
    g_ptr_array_unref(t.values);
  return ok;
}

static const LatheSourceClass ts_class = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "timeseries",
                         "time-series CSVs (timestamp, values) -> long table grouped by file",
                         ts_params, NULL, ts_outputs),
    .run = ts_run,
};

LATHE_PLUGIN_DEFINE("source-timeseries", "0.1.0", "MIT",
                    "NAB-style time-series CSV files with exact timestamps",
                    LATHE_COMPONENT(ts_class))
