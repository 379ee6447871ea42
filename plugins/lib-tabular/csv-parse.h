/* csv-parse.h: a streaming RFC-4180 tokenizer and a strict number parser.
 *
 * Internal to the source-csv plugin, but kept free of the SDK (GLib only) so
 * the fuzz harness, the unit tests and later readers (the IDEKO recordings)
 * can use it on their own. Bytes are pushed in chunks of any size, so callers
 * can stream from a file, an archive member or memory alike.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheCsvRow:
 * @n_fields: number of fields (at least 1).
 * @fields: the field values, unquoted, each NUL-terminated; a field may also
 *   hold NUL bytes of its own, so use @lengths when that matters.
 * @lengths: the byte length of each field.
 * @lines: the 1-based physical line on which each field starts.
 * @line: the 1-based physical line on which the row starts.
 * @quoted: for each field, whether it was written in quotes.
 *
 * One record, valid only during the #LatheCsvRowFunc call.
 */
typedef struct {
  guint n_fields;
  char *const *fields;
  const gsize *lengths;
  const guint64 *lines;
  guint64 line;
  const gboolean *quoted;
} LatheCsvRow;

/**
 * LatheCsvRowFunc:
 * @row: the record.
 * @user_data: what was given to lathe_csv_parser_new().
 * @error: return location for a #GError.
 *
 * Receives each non-blank record. Returning %FALSE stops the parser: the
 * error is handed back by the lathe_csv_parser_feed() or
 * lathe_csv_parser_finish() call that is running.
 *
 * Returns: %TRUE to go on.
 */
typedef gboolean (*LatheCsvRowFunc)(const LatheCsvRow *row, gpointer user_data,
                                    GError **error);

typedef struct _LatheCsvParser LatheCsvParser;

/**
 * lathe_csv_parser_new:
 * @name: the file name used as the prefix of error messages ("iris.csv").
 * @delimiter: ',', ';' or '\t', or 0 to detect it from the first line.
 * @func: called for each record.
 * @user_data: passed to @func.
 *
 * Records end at LF, CRLF or a lone CR outside quotes. Quoted fields may hold
 * delimiters, newlines and doubled quotes. A UTF-8 byte order mark at the
 * start is skipped. Blank lines (empty, or only spaces and tabs) are skipped
 * anywhere, so trailing newlines never make empty records. Text after a
 * closing quote is kept as part of the field rather than refused, like most
 * spreadsheet exports expect.
 *
 * Returns: (transfer full): a parser; free it with lathe_csv_parser_free().
 */
LatheCsvParser *lathe_csv_parser_new(const char *name, char delimiter,
                                     LatheCsvRowFunc func, gpointer user_data);

/**
 * lathe_csv_parser_feed:
 * @p: a parser.
 * @data: the next bytes of the input.
 * @len: how many.
 * @error: return location for a #GError.
 *
 * The first line is buffered until it is complete (to skip the byte order
 * mark and detect the delimiter); after that bytes are tokenized as they come.
 *
 * Returns: %FALSE with @error set when @func failed; the parser then refuses
 * further input.
 */
gboolean lathe_csv_parser_feed(LatheCsvParser *p, const void *data, gsize len,
                               GError **error);

/**
 * lathe_csv_parser_finish:
 * @p: a parser.
 * @error: return location for a #GError.
 *
 * Ends the input: flushes a last record without a trailing newline.
 *
 * Returns: %FALSE with @error set when a quoted field never closes
 * ("NAME:LINE: unterminated quoted field ...", LINE being where it opened) or
 * when @func failed.
 */
gboolean lathe_csv_parser_finish(LatheCsvParser *p, GError **error);

/**
 * LATHE_CSV_DEFAULT_MAX_RECORD:
 *
 * The longest record (bytes of one row) a parser accepts unless told
 * otherwise: 256 MiB.
 */
#define LATHE_CSV_DEFAULT_MAX_RECORD ((gsize)256 << 20)

/**
 * lathe_csv_parser_set_max_record:
 * @p: a parser, before any input.
 * @bytes: the longest record accepted.
 *
 * Longer records fail with "NAME:LINE: record is longer than N bytes; is a
 * quote opened on this line never closed?", which bounds memory and points
 * at the usual cause; so do records of more than @bytes / 32 + 64 fields.
 * Delimiter detection also looks at no more than @bytes of the first line.
 */
void lathe_csv_parser_set_max_record(LatheCsvParser *p, gsize bytes);

/**
 * lathe_csv_parser_get_delimiter:
 *
 * Returns: the delimiter in use, or 0 while it is still undetected.
 */
char lathe_csv_parser_get_delimiter(LatheCsvParser *p);

void lathe_csv_parser_free(LatheCsvParser *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheCsvParser, lathe_csv_parser_free)

/**
 * lathe_csv_detect_delimiter:
 * @line: the first line (without its line break).
 * @len: its length.
 *
 * Counts ',', ';' and tabs outside double quotes and picks the most frequent,
 * preferring ',' then ';' then tab on ties; ',' when there is none.
 *
 * Returns: the delimiter.
 */
char lathe_csv_detect_delimiter(const char *line, gsize len);

/**
 * LatheCsvNumber:
 * @LATHE_CSV_NUMBER_OK: parsed.
 * @LATHE_CSV_NUMBER_EMPTY: nothing but spaces.
 * @LATHE_CSV_NUMBER_INVALID: not a decimal number.
 * @LATHE_CSV_NUMBER_RANGE: a number too large for float32.
 */
typedef enum {
  LATHE_CSV_NUMBER_OK = 0,
  LATHE_CSV_NUMBER_EMPTY,
  LATHE_CSV_NUMBER_INVALID,
  LATHE_CSV_NUMBER_RANGE,
} LatheCsvNumber;

/**
 * lathe_csv_parse_float:
 * @s: the field.
 * @len: its length in bytes.
 * @decimal: the decimal separator, '.' or ','.
 * @out: (out): the value, set only on success.
 *
 * Parses the whole field strictly as a decimal number ("1", "-2.5e3", ".5"),
 * allowing spaces and tabs around it. Refuses "1.2.3", "abc", hex, "nan" and
 * "inf", and values that overflow float32 (underflow rounds to 0). With
 * @decimal ',' the field uses a decimal comma and '.' is refused.
 *
 * Returns: what was found.
 */
LatheCsvNumber lathe_csv_parse_float(const char *s, gsize len, char decimal,
                                     float *out);

G_END_DECLS
