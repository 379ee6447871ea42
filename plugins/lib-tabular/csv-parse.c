/* A push tokenizer for RFC-4180 CSV: a byte-at-a-time state machine, so chunk
 * boundaries can fall anywhere (inside a quote, between CR and LF, inside the
 * byte order mark) and the result is the same as for one big chunk. */
#include <math.h>
#include <string.h>

#include "csv-parse.h"

/* The tokenizer has no SDK dependency, so it carries its own error domain;
 * the table layer moves its errors to LATHE_ERROR_DATA. */
G_DEFINE_QUARK(lathe-csv-error-quark, lathe_csv_error)
#define CSV_ERROR (lathe_csv_error_quark())

enum {
  S_FIELD_START, /* before the first byte of a field */
  S_UNQUOTED,    /* inside a field that did not start with a quote */
  S_QUOTED,      /* inside quotes */
  S_QUOTE_END,   /* just after a quote inside quotes: closing or doubled */
};

struct _LatheCsvParser {
  char *name;
  char delim;
  LatheCsvRowFunc func;
  gpointer user_data;
  gboolean failed;
  gsize max_record;

  /* Until the first line is complete the input is kept here, so the byte
   * order mark and the delimiter can be decided before tokenizing. */
  gboolean started;
  GByteArray *pending;
  gsize scan_pos;
  gboolean scan_in_quotes;

  int state;
  guint64 line;     /* physical line of the next byte, 1-based */
  gboolean prev_cr; /* so the LF of a CRLF does not count a second line */

  /* The row being built: field bytes back to back, each NUL-terminated. */
  guint8 *buf;
  gsize len, cap;
  gboolean in_row, field_open;
  guint64 row_line;
  GArray *starts;  /* gsize */
  GArray *lengths; /* gsize */
  GArray *lines;   /* guint64 */
  GArray *quoted;  /* gboolean */
  GPtrArray *fields;
};

LatheCsvParser *lathe_csv_parser_new(const char *name, char delimiter,
                                     LatheCsvRowFunc func, gpointer user_data) {
  LatheCsvParser *p = g_new0(LatheCsvParser, 1);
  p->name = g_strdup(name ? name : "<input>");
  p->delim = delimiter;
  p->func = func;
  p->user_data = user_data;
  p->max_record = LATHE_CSV_DEFAULT_MAX_RECORD;
  p->pending = g_byte_array_new();
  p->state = S_FIELD_START;
  p->line = 1;
  p->cap = 256;
  p->buf = g_malloc(p->cap);
  p->starts = g_array_new(FALSE, FALSE, sizeof(gsize));
  p->lengths = g_array_new(FALSE, FALSE, sizeof(gsize));
  p->lines = g_array_new(FALSE, FALSE, sizeof(guint64));
  p->quoted = g_array_new(FALSE, FALSE, sizeof(gboolean));
  p->fields = g_ptr_array_new();
  return p;
}

void lathe_csv_parser_free(LatheCsvParser *p) {
  if (!p)
    return;
  g_free(p->name);
  if (p->pending)
    g_byte_array_unref(p->pending);
  g_free(p->buf);
  g_array_unref(p->starts);
  g_array_unref(p->lengths);
  g_array_unref(p->lines);
  g_array_unref(p->quoted);
  g_ptr_array_unref(p->fields);
  g_free(p);
}

void lathe_csv_parser_set_max_record(LatheCsvParser *p, gsize bytes) {
  p->max_record = MAX(bytes, 1);
  /* cap is what BUF_RESERVE compares with: keeping it at or under the limit
   * makes the hot path check both with one comparison. */
  p->cap = MIN(p->cap, p->max_record);
}

char lathe_csv_parser_get_delimiter(LatheCsvParser *p) {
  return p->delim;
}

char lathe_csv_detect_delimiter(const char *line, gsize len) {
  gsize comma = 0, semi = 0, tab = 0;
  gboolean in_quotes = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = line[i];
    if (c == '"')
      in_quotes = !in_quotes;
    else if (in_quotes)
      continue;
    else if (c == ',')
      comma++;
    else if (c == ';')
      semi++;
    else if (c == '\t')
      tab++;
  }
  if (semi > comma && semi >= tab)
    return ';';
  if (tab > comma && tab > semi)
    return '\t';
  return ',';
}

/* Grows the record buffer, refusing records beyond max_record: memory stays
 * bounded, and the usual cause (an unclosed quote swallowing the rest of the
 * file) is reported at the line where the record began. */
static gboolean buf_grow(LatheCsvParser *p, gsize extra, GError **error) {
  gsize need = p->len + extra;
  if (need > p->max_record || need < p->len) {
    p->failed = TRUE;
    g_set_error(error, CSV_ERROR, 3,
                "%s:%" G_GUINT64_FORMAT ": record is longer than %" G_GSIZE_FORMAT
                " bytes; is a quote opened on this line never closed?",
                p->name, p->row_line, p->max_record);
    return FALSE;
  }
  gsize cap = p->cap;
  while (cap < need)
    cap = cap > G_MAXSIZE / 2 ? need : cap * 2;
  cap = MIN(cap, p->max_record);
  guint8 *buf = g_try_realloc(p->buf, cap);
  if (!buf) {
    p->failed = TRUE;
    g_set_error(error, CSV_ERROR, 3,
                "%s:%" G_GUINT64_FORMAT ": out of memory for a record of %" G_GSIZE_FORMAT
                " bytes",
                p->name, p->row_line, need);
    return FALSE;
  }
  p->buf = buf;
  p->cap = cap;
  return TRUE;
}

#define BUF_RESERVE(p, extra, error)                                           \
  do {                                                                         \
    if (G_UNLIKELY((p)->len + (extra) > (p)->cap) && !buf_grow(p, extra, error)) \
      return FALSE;                                                            \
  } while (0)

#define BUF_PUT(p, c, error)                                                   \
  do {                                                                         \
    BUF_RESERVE(p, 1, error);                                                  \
    (p)->buf[(p)->len++] = (c);                                                \
  } while (0)

/* Each field also costs about 36 bytes of bookkeeping (offset, length, line,
 * flag, pointer), so a line of nothing but delimiters is bounded too. */
#define FIELD_COST 32

static gboolean begin_field(LatheCsvParser *p, guint64 line, GError **error) {
  if (!p->in_row) {
    p->in_row = TRUE;
    p->row_line = line;
  }
  gsize max_fields = p->max_record / FIELD_COST + 64;
  if (G_UNLIKELY(p->starts->len >= max_fields)) {
    p->failed = TRUE;
    g_set_error(error, CSV_ERROR, 3,
                "%s:%" G_GUINT64_FORMAT ": record has more than %" G_GSIZE_FORMAT
                " fields; is the delimiter right?",
                p->name, p->row_line, max_fields);
    return FALSE;
  }
  gboolean no = FALSE;
  g_array_append_val(p->starts, p->len);
  g_array_append_val(p->lines, line);
  g_array_append_val(p->quoted, no);
  p->field_open = TRUE;
  return TRUE;
}

static gboolean end_field(LatheCsvParser *p, guint64 line, GError **error) {
  if (!p->field_open && !begin_field(p, line, error))
    return FALSE;
  gsize start = g_array_index(p->starts, gsize, p->starts->len - 1);
  gsize flen = p->len - start;
  g_array_append_val(p->lengths, flen);
  BUF_PUT(p, '\0', error);
  p->field_open = FALSE;
  return TRUE;
}

static gboolean row_is_blank(LatheCsvParser *p) {
  if (p->starts->len != 1 || g_array_index(p->quoted, gboolean, 0))
    return FALSE;
  for (gsize i = 0; i + 1 < p->len; i++)
    if (p->buf[i] != ' ' && p->buf[i] != '\t')
      return FALSE;
  return TRUE;
}

static gboolean end_row(LatheCsvParser *p, GError **error) {
  gboolean ok = TRUE;
  if (!row_is_blank(p)) {
    guint n = p->starts->len;
    g_ptr_array_set_size(p->fields, n);
    for (guint i = 0; i < n; i++)
      p->fields->pdata[i] = p->buf + g_array_index(p->starts, gsize, i);
    LatheCsvRow row = {
        .n_fields = n,
        .fields = (char *const *)p->fields->pdata,
        .lengths = (const gsize *)(gconstpointer)p->lengths->data,
        .lines = (const guint64 *)(gconstpointer)p->lines->data,
        .line = p->row_line,
        .quoted = (const gboolean *)(gconstpointer)p->quoted->data,
    };
    ok = p->func(&row, p->user_data, error);
    if (!ok)
      p->failed = TRUE;
  }
  p->len = 0;
  p->in_row = FALSE;
  p->field_open = FALSE;
  g_array_set_size(p->starts, 0);
  g_array_set_size(p->lengths, 0);
  g_array_set_size(p->lines, 0);
  g_array_set_size(p->quoted, 0);
  return ok;
}

static gboolean process(LatheCsvParser *p, const guint8 *d, gsize n, GError **error) {
  const guint8 delim = (guint8)p->delim;
  for (gsize i = 0; i < n; i++) {
    guint8 c = d[i];

    /* Fast path: copy a run of plain bytes inside a field in one go. */
    if ((p->state == S_UNQUOTED && c != delim && c != '\r' && c != '\n') ||
        (p->state == S_QUOTED && c != '"' && c != '\r' && c != '\n')) {
      gsize j = i + 1;
      if (p->state == S_UNQUOTED)
        while (j < n && d[j] != delim && d[j] != '\r' && d[j] != '\n')
          j++;
      else
        while (j < n && d[j] != '"' && d[j] != '\r' && d[j] != '\n')
          j++;
      BUF_RESERVE(p, j - i, error);
      memcpy(p->buf + p->len, d + i, j - i);
      p->len += j - i;
      p->prev_cr = FALSE;
      i = j - 1;
      continue;
    }

    guint64 here = p->line;
    gboolean newline = c == '\r' || c == '\n';
    if (c == '\r' || (c == '\n' && !p->prev_cr))
      p->line++;
    p->prev_cr = c == '\r';

    switch (p->state) {
    case S_FIELD_START:
      if (newline) {
        /* Outside a row this is a blank line or the LF of a CRLF. */
        if (p->in_row && (!end_field(p, here, error) || !end_row(p, error)))
          return FALSE;
      } else if (c == delim) {
        if (!end_field(p, here, error))
          return FALSE;
      } else if (c == '"') {
        if (!begin_field(p, here, error))
          return FALSE;
        g_array_index(p->quoted, gboolean, p->quoted->len - 1) = TRUE;
        p->state = S_QUOTED;
      } else {
        if (!begin_field(p, here, error))
          return FALSE;
        BUF_PUT(p, c, error);
        p->state = S_UNQUOTED;
      }
      break;
    case S_UNQUOTED:
    case S_QUOTE_END:
      if (c == delim) {
        if (!end_field(p, here, error))
          return FALSE;
        p->state = S_FIELD_START;
      } else if (newline) {
        p->state = S_FIELD_START;
        if (!end_field(p, here, error) || !end_row(p, error))
          return FALSE;
      } else if (p->state == S_QUOTE_END && c == '"') {
        BUF_PUT(p, '"', error); /* a doubled quote */
        p->state = S_QUOTED;
      } else {
        BUF_PUT(p, c, error); /* lenient: text after a closing quote stays */
        p->state = S_UNQUOTED;
      }
      break;
    case S_QUOTED:
      if (c == '"')
        p->state = S_QUOTE_END;
      else
        BUF_PUT(p, c, error); /* a newline inside quotes */
      break;
    default:
      g_assert_not_reached();
    }
  }
  return TRUE;
}

/* Called once the first line is complete (or at the end of the input). */
static gboolean start(LatheCsvParser *p, gsize first_line_end, GError **error) {
  GByteArray *pending = p->pending;
  p->pending = NULL;
  p->started = TRUE;
  gsize skip = 0;
  if (pending->len >= 3 && memcmp(pending->data, "\xEF\xBB\xBF", 3) == 0)
    skip = 3;
  if (!p->delim)
    p->delim = lathe_csv_detect_delimiter((const char *)pending->data + skip,
                                          first_line_end > skip ? first_line_end - skip : 0);
  gboolean ok = process(p, pending->data + skip, pending->len - skip, error);
  g_byte_array_unref(pending);
  return ok;
}

static gboolean already_failed(LatheCsvParser *p, GError **error) {
  g_set_error(error, CSV_ERROR, 1, "%s: the CSV parser was used after an error",
              p->name);
  return FALSE;
}

gboolean lathe_csv_parser_feed(LatheCsvParser *p, const void *data, gsize len,
                               GError **error) {
  if (p->failed)
    return already_failed(p, error);
  if (p->started)
    return process(p, data, len, error);

  /* Pieces keep the pending buffer bounded (and within GByteArray's guint). A
   * first line that never ends is judged on its first max_record bytes, so
   * the decision does not depend on how the input was chunked. */
  const guint8 *d = data;
  while (len > 0) {
    guint piece = (guint)MIN(len, (gsize)(1u << 24));
    g_byte_array_append(p->pending, d, piece);
    d += piece;
    len -= piece;
    gboolean found = FALSE;
    gsize limit = MIN((gsize)p->pending->len, p->max_record);
    for (; p->scan_pos < limit && !found; p->scan_pos++) {
      guint8 c = p->pending->data[p->scan_pos];
      if (c == '"')
        p->scan_in_quotes = !p->scan_in_quotes;
      else if (!p->scan_in_quotes && (c == '\n' || c == '\r'))
        found = TRUE;
    }
    if (found || p->scan_pos >= p->max_record) {
      if (!start(p, found ? p->scan_pos - 1 : p->scan_pos, error))
        return FALSE;
      return len == 0 || process(p, d, len, error);
    }
  }
  return TRUE;
}

gboolean lathe_csv_parser_finish(LatheCsvParser *p, GError **error) {
  if (p->failed)
    return already_failed(p, error);
  if (!p->started && !start(p, p->pending->len, error))
    return FALSE;
  if (p->state == S_QUOTED) {
    guint64 line = g_array_index(p->lines, guint64, p->lines->len - 1);
    p->failed = TRUE;
    g_set_error(error, CSV_ERROR, 2,
                "%s:%" G_GUINT64_FORMAT ": unterminated quoted field (the quote opened "
                "on this line never closes); close it, and double any quote inside it (\"\")",
                p->name, line);
    return FALSE;
  }
  if (p->in_row) {
    /* A last record without a line break; in S_FIELD_START it ends with a
     * delimiter, so its last field is empty. */
    p->state = S_FIELD_START;
    if (!end_field(p, p->line, error) || !end_row(p, error))
      return FALSE;
  }
  return TRUE;
}

LatheCsvNumber lathe_csv_parse_float(const char *s, gsize len, char decimal, float *out) {
  while (len > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    len--;
  }
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  if (len == 0)
    return LATHE_CSV_NUMBER_EMPTY;

  char stack[128];
  char *copy = len < sizeof stack ? stack : g_malloc(len + 1);
  LatheCsvNumber result = LATHE_CSV_NUMBER_OK;
  gboolean digit = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9')
      digit = TRUE;
    else if (c == decimal)
      c = '.';
    else if (c != '+' && c != '-' && c != 'e' && c != 'E')
      result = LATHE_CSV_NUMBER_INVALID; /* hex, inf, nan, '.' with ',' ... */
    copy[i] = c;
  }
  copy[len] = '\0';
  if (result == LATHE_CSV_NUMBER_OK && digit) {
    char *end = NULL;
    double v = g_ascii_strtod(copy, &end);
    if (end != copy + len)
      result = LATHE_CSV_NUMBER_INVALID;
    else if (isinf(v) || isinf((float)v))
      result = LATHE_CSV_NUMBER_RANGE;
    else
      *out = (float)v;
  } else {
    result = LATHE_CSV_NUMBER_INVALID;
  }
  if (copy != stack)
    g_free(copy);
  return result;
}
