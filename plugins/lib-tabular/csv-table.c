/* Records -> dataset. Rows are converted as they arrive and the text is
 * dropped at once, so only the float32 matrix (plus 4-byte label and group
 * indices) grows with the input; finish() hands that buffer to the dataset
 * instead of copying it. */
#include <stdlib.h>
#include <string.h>

#include <lathe/lathe-error.h>
#include <lathe/lathe-helpers.h>

#include "csv-parse.h"
#include "csv-table.h"

/* Row indices are gint32 in the dataset. */
#define MAX_ROWS ((guint)G_MAXINT32)
/* How many names an "available columns" list shows before cutting. */
#define MAX_LISTED 40

/* Interns texts (class or group names) in first-seen order. */
typedef struct {
  GHashTable *ids; /* name -> index + 1 */
  GPtrArray *names;
} Dict;

struct _LatheCsvTable {
  gboolean header;
  char delimiter;
  char decimal;
  char *label;
  char **drop;
  char **keep;
  char *drop_param;
  char *fix_hint;
  gboolean file_labels;
  gint32 file_label; /* index in classes, for file_labels */
  LatheCsvGroupMode group;
  char *group_column;
  LatheCsvGroupMode storing; /* what the per-row group index means */

  /* The schema, fixed by the first file. */
  gboolean have_schema;
  char *schema_file;
  char **names;
  guint n_fields;
  gint *feat; /* per field: its feature index, or -1 */
  guint n_feat;
  gint label_field, group_field;

  /* The file being read. */
  LatheCsvParser *parser;
  char *display;
  gboolean header_seen;
  guint64 file_rows;
  gint32 file_group;
  guint n_files;

  float *x;
  gint32 *labels, *groups;
  gsize cap_rows;
  guint n_rows;
  Dict classes, group_names;
  GString *key;
};

static void dict_init(Dict *d) {
  d->ids = g_hash_table_new(g_str_hash, g_str_equal);
  d->names = g_ptr_array_new_with_free_func(g_free);
}

static void dict_clear(Dict *d) {
  g_clear_pointer(&d->ids, g_hash_table_unref);
  g_clear_pointer(&d->names, g_ptr_array_unref);
}

static gint32 dict_intern(Dict *d, const char *name) {
  gpointer v = g_hash_table_lookup(d->ids, name);
  if (v)
    return GPOINTER_TO_INT(v) - 1;
  char *copy = g_strdup(name);
  g_ptr_array_add(d->names, copy);
  g_hash_table_insert(d->ids, copy, GINT_TO_POINTER(d->names->len));
  return (gint32)d->names->len - 1;
}

LatheCsvTable *lathe_csv_table_new(const LatheCsvTableOptions *o) {
  LatheCsvTable *t = g_new0(LatheCsvTable, 1);
  t->header = o->header;
  t->delimiter = o->delimiter;
  t->decimal = o->decimal ? o->decimal : '.';
  t->label = g_strdup(o->label);
  t->drop = g_strdupv((char **)o->drop);
  t->keep = g_strdupv((char **)o->keep);
  t->drop_param = g_strdup(o->drop_param ? o->drop_param : "drop");
  t->fix_hint = g_strdup(o->fix_hint ? o->fix_hint : "list the column in \"drop\"");
  t->file_labels = o->file_labels;
  t->file_label = -1;
  g_warn_if_fail(!(o->keep && o->drop && o->drop[0]));
  g_warn_if_fail(!(o->file_labels && o->label));
  t->group = o->group;
  t->group_column = g_strdup(o->group_column);
  if (o->group == LATHE_CSV_GROUP_COLUMN ||
      (o->group == LATHE_CSV_GROUP_AUTO && o->group_column))
    t->storing = LATHE_CSV_GROUP_COLUMN;
  else if (o->group == LATHE_CSV_GROUP_NONE)
    t->storing = LATHE_CSV_GROUP_NONE;
  else
    t->storing = LATHE_CSV_GROUP_FILE;
  t->label_field = t->group_field = -1;
  dict_init(&t->classes);
  dict_init(&t->group_names);
  t->key = g_string_new(NULL);
  return t;
}

void lathe_csv_table_free(LatheCsvTable *t) {
  if (!t)
    return;
  g_free(t->label);
  g_strfreev(t->drop);
  g_strfreev(t->keep);
  g_free(t->drop_param);
  g_free(t->fix_hint);
  g_free(t->group_column);
  g_free(t->schema_file);
  g_strfreev(t->names);
  g_free(t->feat);
  lathe_csv_parser_free(t->parser);
  g_free(t->display);
  g_free(t->x);
  g_free(t->labels);
  g_free(t->groups);
  dict_clear(&t->classes);
  dict_clear(&t->group_names);
  g_string_free(t->key, TRUE);
  g_free(t);
}

guint lathe_csv_table_n_files(LatheCsvTable *t) {
  return t->n_files;
}

guint lathe_csv_table_n_rows(LatheCsvTable *t) {
  return t->n_rows;
}

static char *available_columns(LatheCsvTable *t) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < t->n_fields && i < MAX_LISTED; i++) {
    /* Names are data (cleaned of control characters by clean_name): only a
     * long one is cut, so a hostile header cannot make the message huge. */
    const char *n = t->names[i];
    g_autofree char *cut =
        strlen(n) > LATHE_EXCERPT_CHARS ? lathe_value_excerpt(n, -1) : NULL;
    g_string_append_printf(s, "%s%s", i ? ", " : "", cut ? cut : n);
  }
  if (t->n_fields > MAX_LISTED)
    g_string_append_printf(s, ", ... (%u more)", t->n_fields - MAX_LISTED);
  return g_string_free(s, FALSE);
}

static gint find_column(LatheCsvTable *t, const char *what, const char *name,
                        GError **error) {
  for (guint i = 0; i < t->n_fields; i++)
    if (strcmp(t->names[i], name) == 0)
      return (gint)i;
  g_autofree char *avail = available_columns(t);
  g_autofree char *shown = lathe_value_excerpt(name, -1);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
              "%s %s is not a column of %s; available columns: %s", what, shown,
              t->schema_file, avail);
  return -1;
}

/* With @keep the features are exactly those columns, in the order listed, so
 * a pipeline can choose the channel order of the sequences built later. */
static gboolean keep_columns(LatheCsvTable *t, const gboolean *taken, GError **error) {
  for (guint i = 0; i < t->n_fields; i++)
    t->feat[i] = -1;
  for (guint k = 0; t->keep[k]; k++) {
    gint f = find_column(t, "columns: column", t->keep[k], error);
    if (f < 0)
      return FALSE;
    if (t->feat[f] >= 0 || taken[f]) {
      g_autofree char *shown = lathe_value_excerpt(t->keep[k], -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  t->feat[f] >= 0
                      ? "columns: %s is listed twice; list each column once"
                      : "columns: %s is the label or group column and cannot be a "
                        "feature; leave it out of \"columns\"",
                  shown);
      return FALSE;
    }
    t->feat[f] = (gint)t->n_feat++;
  }
  if (t->n_feat == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "columns is an empty list; name at least one column");
    return FALSE;
  }
  return TRUE;
}

/* Fixes the columns and their roles from the first file's header (or, without
 * a header, from its first row's width). */
static gboolean set_schema(LatheCsvTable *t, char **names, guint n, guint64 line,
                           GError **error) {
  t->have_schema = TRUE;
  t->schema_file = g_strdup(t->display);
  t->names = names;
  t->n_fields = n;

  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    gpointer prev;
    if (g_hash_table_lookup_extended(seen, names[i], NULL, &prev)) {
      g_autofree char *shown = lathe_value_excerpt(names[i], -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s:%" G_GUINT64_FORMAT ": column %s appears twice in the header "
                  "(fields %d and %u); rename one of them",
                  t->display, line, shown, GPOINTER_TO_INT(prev), i + 1);
      return FALSE;
    }
    g_hash_table_insert(seen, names[i], GINT_TO_POINTER(i + 1));
  }

  /* Heap, not stack: a hostile first line can have millions of fields. */
  g_autofree gboolean *skip = g_new0(gboolean, n + 1);
  if (t->label) {
    if ((t->label_field = find_column(t, "label column", t->label, error)) < 0)
      return FALSE;
    skip[t->label_field] = TRUE;
  }
  if (t->storing == LATHE_CSV_GROUP_COLUMN) {
    if (!t->group_column) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "group is 'column' but group_column is not set; name the column");
      return FALSE;
    }
    if ((t->group_field = find_column(t, "group_column", t->group_column, error)) < 0)
      return FALSE;
    skip[t->group_field] = TRUE;
  }
  g_autofree char *drop_what = g_strdup_printf("%s: column", t->drop_param);
  for (guint d = 0; t->drop && t->drop[d]; d++) {
    gint f = find_column(t, drop_what, t->drop[d], error);
    if (f < 0)
      return FALSE;
    skip[f] = TRUE;
  }
  t->feat = g_new(gint, n);
  if (t->keep)
    return keep_columns(t, skip, error);
  for (guint i = 0; i < n; i++)
    t->feat[i] = skip[i] ? -1 : (gint)t->n_feat++;
  if (t->n_feat == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: no feature columns are left once the label, group and dropped "
                "columns are taken out; keep at least one numeric column",
                t->display);
    return FALSE;
  }
  return TRUE;
}

/* Names travel into error messages, JSON and trackers: make them valid UTF-8
 * on one line. Line breaks inside a quoted header cell ("Temp\n(C)") become
 * spaces; spaces around names (after delimiters) are dropped. Names stop at
 * an embedded NUL, which only garbage input has. */
static char *clean_name(const char *s) {
  char *name = g_utf8_make_valid(s, -1);
  for (char *c = name; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      *c = ' ';
  return g_strstrip(name);
}

static char **header_names(const LatheCsvRow *row) {
  char **names = g_new0(char *, row->n_fields + 1);
  for (guint i = 0; i < row->n_fields; i++) {
    names[i] = clean_name(row->fields[i]);
    if (!*names[i]) {
      g_free(names[i]);
      names[i] = g_strdup_printf("c%u", i);
    }
  }
  return names;
}

static gboolean check_same_header(LatheCsvTable *t, const LatheCsvRow *row, char **names,
                                  GError **error) {
  if (row->n_fields != t->n_fields) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ": header has %u columns but %s has %u; all "
                "files must have the same columns",
                t->display, row->line, row->n_fields, t->schema_file, t->n_fields);
    return FALSE;
  }
  for (guint i = 0; i < t->n_fields; i++)
    if (strcmp(names[i], t->names[i]) != 0) {
      g_autofree char *here = lathe_value_excerpt(names[i], -1);
      g_autofree char *there = lathe_value_excerpt(t->names[i], -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s:%" G_GUINT64_FORMAT ": header differs from %s: column %u is %s "
                  "here but %s there; all files must have the same columns",
                  t->display, row->line, t->schema_file, i + 1, here, there);
      return FALSE;
    }
  return TRUE;
}

/* Column names reach metric names, JSON artifacts and trackers, and GLib and
 * json-glib assume UTF-8, so a header that is not UTF-8 is refused rather
 * than repaired: a repaired name would quietly differ from the file's, and
 * the cause (a file saved in a legacy encoding) is the user's to fix. Only
 * the header is checked here, so rows pay nothing for it. */
static gboolean check_header_utf8(LatheCsvTable *t, const LatheCsvRow *row,
                                  GError **error) {
  for (guint i = 0; i < row->n_fields; i++) {
    const char *s = row->fields[i];
    /* Names stop at an embedded NUL, as in clean_name. */
    if (G_LIKELY(g_utf8_validate(s, -1, NULL)))
      continue;
    if (i == 0 && (g_str_has_prefix(s, "\xff\xfe") || g_str_has_prefix(s, "\xfe\xff"))) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s:%" G_GUINT64_FORMAT ": the file is UTF-16 text (it starts with a "
                  "UTF-16 byte order mark); save it as UTF-8",
                  t->display, row->line);
      return FALSE;
    }
    g_autofree char *shown = lathe_value_excerpt(s, -1);
    /* Control bytes as well mean binary data (an image, an archive named
     * .csv), where "save as UTF-8" would be the wrong advice. */
    gboolean binary = FALSE;
    for (const char *c = s; *c && !binary; c++)
      binary = ((guchar)*c < 0x20 && !strchr("\t\r\n", *c)) || *c == 0x7f;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                binary ? "%s:%" G_GUINT64_FORMAT ":%u: the header is binary data, not text "
                         "(column name %s); point the path at a CSV file"
                       : "%s:%" G_GUINT64_FORMAT ":%u: column name %s is not valid UTF-8; "
                         "save the file as UTF-8",
                t->display, row->lines[i], i + 1, shown);
    return FALSE;
  }
  return TRUE;
}

static gboolean on_header(LatheCsvTable *t, const LatheCsvRow *row, GError **error) {
  if (!check_header_utf8(t, row, error))
    return FALSE;
  char **names = header_names(row);
  if (!t->have_schema)
    return set_schema(t, names, row->n_fields, row->line, error);
  gboolean same = check_same_header(t, row, names, error);
  g_strfreev(names);
  return same;
}

static gboolean reserve_row(LatheCsvTable *t, GError **error) {
  if (t->n_rows < t->cap_rows)
    return TRUE;
  if (t->n_rows >= MAX_ROWS) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: more than %u rows in total; split the data", t->display, MAX_ROWS);
    return FALSE;
  }
  gsize cap = MAX(t->cap_rows * 2, 1024);
  cap = MIN(cap, (gsize)MAX_ROWS);
  /* try_realloc: a huge input must end in an error, never an abort. */
  float *x = g_try_realloc_n(t->x, cap, sizeof(float) * t->n_feat);
  if (x)
    t->x = x;
  gboolean labelled = t->label_field >= 0 || t->file_labels;
  gint32 *labels = labelled ? g_try_realloc_n(t->labels, cap, sizeof(gint32)) : NULL;
  if (labels)
    t->labels = labels;
  gint32 *groups = t->storing != LATHE_CSV_GROUP_NONE
                       ? g_try_realloc_n(t->groups, cap, sizeof(gint32))
                       : NULL;
  if (groups)
    t->groups = groups;
  if (!x || (labelled && !labels) ||
      (t->storing != LATHE_CSV_GROUP_NONE && !groups)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "%s: out of memory after %u rows of %u features; drop columns or "
                "read less data",
                t->display, t->n_rows, t->n_feat);
    return FALSE;
  }
  t->cap_rows = cap;
  return TRUE;
}

/* Class and group names: surrounding spaces are not part of the name. Names
 * that are not UTF-8 are refused (NULL, @error set), for the reason given at
 * check_header_utf8; only this column's cells are validated, never the
 * numeric ones, so the fast path stays fast. */
static const char *text_key(LatheCsvTable *t, const LatheCsvRow *row, guint f,
                            const char *what, GError **error) {
  const char *s = row->fields[f];
  gsize len = strlen(s); /* names stop at an embedded NUL */
  while (len && (*s == ' ' || *s == '\t')) {
    s++;
    len--;
  }
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  if (G_UNLIKELY(!g_utf8_validate_len(s, len, NULL))) {
    g_autofree char *value = lathe_value_excerpt(s, (gssize)len);
    g_autofree char *col = lathe_value_excerpt(t->names[f], -1);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ":%u: %s %s is not valid UTF-8 (column %s); "
                "save the file as UTF-8",
                t->display, row->lines[f], f + 1, what, value, col);
    return NULL;
  }
  g_string_truncate(t->key, 0);
  g_string_append_len(t->key, s, (gssize)len);
  return t->key->str;
}

static gboolean number_error(LatheCsvTable *t, const LatheCsvRow *row, guint f,
                             LatheCsvNumber what, GError **error) {
  g_autofree char *value = lathe_value_excerpt(row->fields[f], (gssize)row->lengths[f]);
  g_autofree char *col = lathe_value_excerpt(t->names[f], -1);
  if (what == LATHE_CSV_NUMBER_EMPTY)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ":%u: empty value (column %s); fill it in or "
                "%s",
                t->display, row->lines[f], f + 1, col, t->fix_hint);
  else if (what == LATHE_CSV_NUMBER_RANGE)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ":%u: %s is too large for float32 (column %s); "
                "fix the value or %s",
                t->display, row->lines[f], f + 1, value, col, t->fix_hint);
  else
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ":%u: %s is not a number (column %s); fix the "
                "value or %s",
                t->display, row->lines[f], f + 1, value, col, t->fix_hint);
  return FALSE;
}

static gboolean empty_text_error(LatheCsvTable *t, const LatheCsvRow *row, guint f,
                                 const char *what, GError **error) {
  g_autofree char *col = lathe_value_excerpt(t->names[f], -1);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "%s:%" G_GUINT64_FORMAT ":%u: empty %s (column %s); every row needs one",
              t->display, row->lines[f], f + 1, what, col);
  return FALSE;
}

static gboolean on_row(const LatheCsvRow *row, gpointer data, GError **error) {
  LatheCsvTable *t = data;
  /* Detected per file, so a clash can only be seen once the first line is in. */
  if (G_UNLIKELY(t->decimal == lathe_csv_parser_get_delimiter(t->parser))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: the delimiter and the decimal separator are both '%c'; set the "
                "delimiter (semicolon or tab) or the decimal separator",
                t->display, t->decimal);
    return FALSE;
  }
  if (t->header && !t->header_seen) {
    t->header_seen = TRUE;
    return on_header(t, row, error);
  }
  if (!t->have_schema) {
    char **names = g_new0(char *, row->n_fields + 1);
    for (guint i = 0; i < row->n_fields; i++)
      names[i] = g_strdup_printf("c%u", i);
    if (!set_schema(t, names, row->n_fields, row->line, error))
      return FALSE;
  }
  if (row->n_fields != t->n_fields) {
    g_autofree char *from =
        t->header ? g_strdup("the header")
        : t->n_files == 1 ? g_strdup("the first row")
            : g_strdup_printf("the first row of %s", t->schema_file);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s:%" G_GUINT64_FORMAT ": row has %u fields, expected %u (from %s)",
                t->display, row->line, row->n_fields, t->n_fields, from);
    return FALSE;
  }
  if (!reserve_row(t, error))
    return FALSE;

  float *dst = t->x + (gsize)t->n_rows * t->n_feat;
  for (guint f = 0; f < row->n_fields; f++) {
    gint k = t->feat[f];
    if (k < 0)
      continue;
    LatheCsvNumber r =
        lathe_csv_parse_float(row->fields[f], row->lengths[f], t->decimal, &dst[k]);
    if (r != LATHE_CSV_NUMBER_OK)
      return number_error(t, row, (guint)f, r, error);
  }
  if (t->label_field >= 0) {
    const char *name = text_key(t, row, (guint)t->label_field, "label", error);
    if (!name)
      return FALSE;
    if (!*name)
      return empty_text_error(t, row, (guint)t->label_field, "label", error);
    t->labels[t->n_rows] = dict_intern(&t->classes, name);
  } else if (t->file_labels) {
    t->labels[t->n_rows] = t->file_label;
  }
  if (t->storing == LATHE_CSV_GROUP_COLUMN) {
    const char *name = text_key(t, row, (guint)t->group_field, "group", error);
    if (!name)
      return FALSE;
    if (!*name)
      return empty_text_error(t, row, (guint)t->group_field, "group", error);
    t->groups[t->n_rows] = dict_intern(&t->group_names, name);
  } else if (t->storing == LATHE_CSV_GROUP_FILE) {
    t->groups[t->n_rows] = t->file_group;
  }
  t->n_rows++;
  t->file_rows++;
  return TRUE;
}

/* The tokenizer has its own error domain; the host and users only need to
 * know the data is bad. */
static gboolean as_data_error(GError **error) {
  if (error && *error && (*error)->domain != LATHE_ERROR) {
    (*error)->domain = LATHE_ERROR;
    (*error)->code = LATHE_ERROR_DATA;
  }
  return FALSE;
}

void lathe_csv_table_set_file_label(LatheCsvTable *t, const char *label) {
  g_return_if_fail(t->file_labels && label != NULL);
  g_autofree char *name = g_utf8_make_valid(label, -1);
  t->file_label = dict_intern(&t->classes, name);
}

void lathe_csv_table_begin_file(LatheCsvTable *t, const char *display, const char *group) {
  g_return_if_fail(t->parser == NULL);
  g_free(t->display);
  /* File names may be any bytes, and errors must stay one valid line. */
  t->display = g_utf8_make_valid(display, -1);
  for (char *c = t->display; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      *c = '?';
  t->header_seen = FALSE;
  t->file_rows = 0;
  t->n_files++;
  if (t->storing == LATHE_CSV_GROUP_FILE) {
    g_autofree char *name = g_utf8_make_valid(group ? group : display, -1);
    t->file_group = dict_intern(&t->group_names, name);
  }
  t->parser = lathe_csv_parser_new(t->display, t->delimiter, on_row, t);
}

gboolean lathe_csv_table_feed(LatheCsvTable *t, const void *data, gsize len,
                              GError **error) {
  g_return_val_if_fail(t->parser != NULL, FALSE);
  return lathe_csv_parser_feed(t->parser, data, len, error) || as_data_error(error);
}

gboolean lathe_csv_table_end_file(LatheCsvTable *t, GError **error) {
  g_return_val_if_fail(t->parser != NULL, FALSE);
  gboolean ok = lathe_csv_parser_finish(t->parser, error);
  g_clear_pointer(&t->parser, lathe_csv_parser_free);
  if (!ok)
    return as_data_error(error);
  if (t->header && !t->header_seen) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: empty file, expected a header and rows", t->display);
    return FALSE;
  }
  if (t->file_rows == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                t->header ? "%s: only a header, no data rows; add rows or remove the file"
                          : "%s: empty file, expected rows",
                t->display);
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  const char *name;
  gint32 old;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  return strcmp(((const Ranked *)a)->name, ((const Ranked *)b)->name);
}

/* Sorts @d's names by byte order and renumbers @idx (n entries) to match;
 * returns the sorted names as a NULL-terminated vector (names not copied). */
static const char **sort_dict(Dict *d, gint32 *idx, guint n) {
  guint k = d->names->len;
  Ranked *order = g_new(Ranked, k + 1);
  for (guint i = 0; i < k; i++)
    order[i] = (Ranked){d->names->pdata[i], (gint32)i};
  qsort(order, k, sizeof(Ranked), cmp_ranked);
  gint32 *remap = g_new(gint32, k + 1);
  const char **sorted = g_new0(const char *, k + 1);
  for (guint i = 0; i < k; i++) {
    remap[order[i].old] = (gint32)i;
    sorted[i] = order[i].name;
  }
  for (guint r = 0; r < n; r++)
    if (idx[r] >= 0) /* -1: a file label that was never set */
      idx[r] = remap[idx[r]];
  g_free(order);
  g_free(remap);
  return sorted;
}

LatheDataset *lathe_csv_table_finish(LatheCsvTable *t, GError **error) {
  g_return_val_if_fail(t->parser == NULL, NULL);
  if (t->n_rows == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "no CSV file was read");
    return NULL;
  }
  /* Built with 0 rows so set_classes/set_groups allocate nothing big: the
   * index arrays and the matrix are then handed over, not copied. */
  LatheDataset *ds = lathe_dataset_new(0, t->n_feat);
  for (guint f = 0; f < t->n_fields; f++)
    if (t->feat[f] >= 0)
      lathe_dataset_set_column(ds, (guint)t->feat[f], t->names[f]);

  if (t->label_field >= 0 || t->file_labels) {
    g_autofree const char **classes = sort_dict(&t->classes, t->labels, t->n_rows);
    lathe_dataset_set_classes(ds, classes);
    g_free(ds->labels);
    ds->labels = g_steal_pointer(&t->labels);
  }
  gboolean by_file = t->storing == LATHE_CSV_GROUP_FILE &&
                     (t->group == LATHE_CSV_GROUP_FILE || t->group_names.names->len > 1);
  if (t->storing == LATHE_CSV_GROUP_COLUMN) {
    g_autofree const char **names = sort_dict(&t->group_names, t->groups, t->n_rows);
    lathe_dataset_set_groups(ds, names);
    g_free(ds->groups);
    ds->groups = g_steal_pointer(&t->groups);
  } else if (by_file) {
    g_ptr_array_add(t->group_names.names, NULL);
    lathe_dataset_set_groups(ds, (const char *const *)t->group_names.names->pdata);
    g_ptr_array_set_size(t->group_names.names, t->group_names.names->len - 1);
    g_free(ds->groups);
    ds->groups = g_steal_pointer(&t->groups);
  }

  g_free(ds->x);
  ds->x = g_realloc_n(g_steal_pointer(&t->x), (gsize)t->n_rows * t->n_feat + 1,
                      sizeof(float));
  ds->n_rows = t->n_rows;
  t->n_rows = 0;
  t->cap_rows = 0;
  return ds;
}
