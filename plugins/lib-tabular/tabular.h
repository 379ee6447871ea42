/* tabular.h: the two file formats of source/csv and source/recordings, as
 * readers that any source can call on files it has on disk.
 *
 * source/csv and source/recordings find their files in a local folder;
 * source/lakefs downloads objects into its object cache and hands the cached
 * files here. Both then read with the same params, the same order, the same
 * groups and classes, so a lakeFS prefix gives the dataset its local copy
 * would. A static library, compiled into each plugin with hidden visibility.
 */
#pragma once

#include <lathe/lathe-sdk.h>

#include "csv-input.h"
#include "csv-table.h"

G_BEGIN_DECLS

extern const char *const lathe_tabular_delimiter_choices[];
extern const char *const lathe_tabular_group_choices[];
extern const char *const lathe_tabular_decimal_choices[];
extern const char *const lathe_tabular_label_from_choices[];

/* The params both formats take. */
#define LATHE_TABULAR_DELIMITER_PARAM                                                   \
  LATHE_PARAM_ENUM_("delimiter", "\"auto\"", lathe_tabular_delimiter_choices,           \
                    "field separator; auto picks the most frequent of , ; and tab in "  \
                    "the first line of each file")

/* The params of the csv format: header before delimiter, the rest after. */
#define LATHE_TABULAR_HEADER_PARAM                                                      \
  LATHE_PARAM_BOOL_("header", "true",                                                   \
                    "the first row names the columns; otherwise they are c0..cN")
#define LATHE_TABULAR_CSV_PARAMS                                                        \
  LATHE_PARAM_STRING_("label", NULL, 0,                                                 \
                      "column of class names (text or numbers); classes are sorted"),   \
      LATHE_PARAM_LIST_("drop", "[]", LATHE_PARAM_STRING,                               \
                        "columns to leave out; every other column must be numeric"),    \
      LATHE_PARAM_ENUM_("group", "\"auto\"", lathe_tabular_group_choices,               \
                        "row groups: auto = column if group_column is set, else file "  \
                        "when several files are read; none; file; column"),             \
      LATHE_PARAM_STRING_("group_column", NULL, 0,                                      \
                          "column whose text is each row's group (with group auto or "  \
                          "column)")

/* The params of the recordings format: these before delimiter, ... */
#define LATHE_TABULAR_RECORDINGS_PARAMS                                                 \
  LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,                                \
                    "the channels to read, in this order; [] = every column except "    \
                    "time_column"),                                                     \
      LATHE_PARAM_STRING_("time_column", "\"time\"", 0,                                 \
                          "the timestamp column, left out unless listed in columns; "   \
                          "\"\" when the files have none"),                             \
      LATHE_PARAM_ENUM_("label_from", "\"folder\"", lathe_tabular_label_from_choices,   \
                        "folder: a file's class is the first folder of its path under " \
                        "path (classes sorted); none: no labels")
/* ... and these after it. */
#define LATHE_TABULAR_RECORDINGS_MORE_PARAMS                                            \
  LATHE_PARAM_ENUM_("decimal", "\"point\"", lathe_tabular_decimal_choices,              \
                    "decimal separator of the numbers: point (1.5) or comma (1,5)"),    \
      LATHE_PARAM_INT_("max_per_class", "0", 0, G_MAXINT32,                             \
                       "read only the first N files (byte order of their paths) of "    \
                       "each top-level folder; 0 reads all")

/**
 * LatheTabularFile:
 * @path: the file on disk.
 * @name: its path below the folder (or prefix) that was read, '/'-separated:
 *   its group, its class folder and, by its ending, its type (archive,
 *   compressed or CSV).
 */
typedef struct {
  const char *path;
  const char *name;
} LatheTabularFile;

/**
 * lathe_tabular_recordings_choose:
 * @ctx: a node declaring %LATHE_TABULAR_RECORDINGS_PARAMS (both parts).
 * @display: how errors name the folder.
 * @names: the listed names, sorted by byte order.
 * @error: return location for a #GError.
 *
 * The recordings to read: every name, or the first max_per_class of each
 * class folder; with label_from "folder" a file outside any folder is an
 * error.
 *
 * Returns: (transfer full) (nullable): the chosen names (copies).
 */
GPtrArray *lathe_tabular_recordings_choose(LatheContext *ctx, const char *display,
                                           GPtrArray *names, GError **error);

/**
 * lathe_tabular_read_csv:
 * @ctx: a node declaring %LATHE_TABULAR_CSV_PARAMS and the limits.
 * @display: how errors and logs name what was read ("data", "lakefs://...").
 * @files: the files, in reading order.
 * @n: how many.
 * @folder: they came from a folder (each shown as @display/name); else @n is
 *   1 and @display names the file itself.
 * @versions: record each file's SHA-256 with its local path; %FALSE when the
 *   caller records versions of its own (lakeFS objects).
 * @error: return location for a #GError.
 *
 * Reads the files as source/csv does and sets the "data" output.
 *
 * Returns: %FALSE with @error set on a param, read, parse or data error.
 */
gboolean lathe_tabular_read_csv(LatheContext *ctx, const char *display,
                                const LatheTabularFile *files, guint n, gboolean folder,
                                gboolean versions, GError **error);

/**
 * lathe_tabular_read_recordings:
 * @ctx: a node declaring %LATHE_TABULAR_RECORDINGS_PARAMS (both parts) and the limits.
 * @display: how errors and logs name the folder.
 * @files: the recordings from lathe_tabular_recordings_choose(), in order.
 * @n: how many.
 * @versions: as for lathe_tabular_read_csv().
 * @error: return location for a #GError.
 *
 * Reads the files as source/recordings does and sets the "data" output.
 *
 * Returns: %FALSE with @error set on a param, read, parse or data error.
 */
gboolean lathe_tabular_read_recordings(LatheContext *ctx, const char *display,
                                       const LatheTabularFile *files, guint n,
                                       gboolean versions, GError **error);

/**
 * lathe_tabular_check_recordings_params:
 * @ctx: a node declaring %LATHE_TABULAR_RECORDINGS_PARAMS (both parts).
 * @error: return location for a #GError.
 *
 * The checks of the recordings params that need no file, so a source can
 * refuse them before it fetches anything.
 *
 * Returns: %FALSE with @error set on a bad combination.
 */
gboolean lathe_tabular_check_recordings_params(LatheContext *ctx, GError **error);

/**
 * lathe_tabular_check_csv_params:
 * @ctx: a node declaring %LATHE_TABULAR_CSV_PARAMS.
 * @error: return location for a #GError.
 *
 * As lathe_tabular_check_recordings_params(), for the csv format.
 *
 * Returns: %FALSE with @error set on a bad combination.
 */
gboolean lathe_tabular_check_csv_params(LatheContext *ctx, GError **error);

G_END_DECLS
