#pragma once

#include "lathe-api.h"
#include "lathe-context.h"
#include "lathe-dataset.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * SECTION:lathe-helpers
 * @title: Helpers
 * @short_description: errors with their node, "columns" params, enum indices,
 *   value excerpts, opening data files, did-you-mean
 *
 * The small pieces every plugin would otherwise rewrite: errors prefixed
 * with the component and node, a "columns" param resolved against a
 * dataset, an enum param's value as an index, a bounded and escaped excerpt
 * of a value for a message, and opening a data file without hanging on a
 * FIFO.
 */

/**
 * lathe_context_set_error:
 * @ctx: (nullable): the running node, or %NULL outside one.
 * @error: return location for a #GError, or %NULL.
 * @code: a #LatheErrorCode.
 * @component: the component's name ("transform/rolling").
 * @format: printf-style message, without a prefix.
 * @...: the message's arguments.
 *
 * Sets @error in %LATHE_ERROR to "COMPONENT (node ID): MESSAGE", the form every
 * plugin error takes so that a user sees which node failed; without @ctx the
 * prefix is "COMPONENT: ".
 *
 * Since: 1.4
 */
LATHE_API void lathe_context_set_error(LatheContext *ctx, GError **error, gint code,
                                       const char *component, const char *format, ...)
    G_GNUC_PRINTF(5, 6);

/**
 * lathe_context_prefix_error:
 * @ctx: (nullable): the running node, or %NULL outside one.
 * @error: (inout) (nullable): an error set by a helper that does not know the
 *   node (an SDK call, a shared library), or %NULL.
 * @component: the component's name.
 *
 * Prefixes an already set error the way lathe_context_set_error() would have;
 * does nothing when @error or *@error is %NULL.
 *
 * Since: 1.4
 */
LATHE_API void lathe_context_prefix_error(LatheContext *ctx, GError **error,
                                          const char *component);

/**
 * LatheColumnsFlags:
 * @LATHE_COLUMNS_ALL_WHEN_EMPTY: an empty or unset list selects every column.
 * @LATHE_COLUMNS_NONEMPTY: an empty or unset list is refused.
 *
 * What an empty column list means to lathe_context_param_columns().
 *
 * Since: 1.4
 */
typedef enum {
  LATHE_COLUMNS_ALL_WHEN_EMPTY = 0,
  LATHE_COLUMNS_NONEMPTY = 1,
} LatheColumnsFlags;

/**
 * lathe_context_param_columns:
 * @ctx: the running node.
 * @param: a list param of column names ("columns").
 * @ds: the dataset the names refer to.
 * @flags: what an empty list means.
 * @error: return location for a #GError, or %NULL.
 *
 * Resolves the column names in param @param to indices of @ds, in the list's
 * order. A name that is not a column, a repeated name, or (with
 * %LATHE_COLUMNS_NONEMPTY) an empty list is refused with a message that
 * names the param and, for an unknown name, lists the available columns. The
 * message has no component prefix: add it with lathe_context_prefix_error().
 *
 * Returns: (transfer full) (nullable): a #GArray of guint column indices
 * (g_array_unref() it), or %NULL with @error set.
 *
 * Since: 1.4
 */
LATHE_API GArray *lathe_context_param_columns(LatheContext *ctx, const char *param,
                                              const LatheDataset *ds, LatheColumnsFlags flags,
                                              GError **error);

/**
 * lathe_enum_index:
 * @choices: (array zero-terminated=1): the enum's values, as given to
 *   LATHE_PARAM_ENUM_.
 * @value: (nullable): a value.
 *
 * Finds an enum value's position in its list.
 *
 * Returns: the position of @value in @choices, or -1 when it is not there
 * (or %NULL).
 *
 * Since: 1.4
 */
LATHE_API gint lathe_enum_index(const char *const *choices, const char *value);

/**
 * lathe_context_param_enum:
 * @ctx: the running node.
 * @name: an enum param.
 * @choices: (array zero-terminated=1): the same list the param was declared
 *   with.
 *
 * The host has validated enum params, so the result is a valid index for a
 * declared param; it is -1 only for a plugin bug (a list that differs from
 * the declaration, or an undeclared param).
 *
 * Returns: the position of the param's value in @choices, or -1.
 *
 * Since: 1.4
 */
LATHE_API gint lathe_context_param_enum(LatheContext *ctx, const char *name,
                                        const char *const *choices);

/**
 * lathe_context_param_enum_list:
 * @ctx: the running node.
 * @param: a list param whose items are values of @choices ("stats").
 * @choices: (array zero-terminated=1): the values allowed.
 * @error: return location for a #GError, or %NULL.
 *
 * Looks each item of list param @param up in @choices. An item that is not
 * there, or one listed twice, is refused with "PARAM: 'X' is not one of A, B,
 * C" or "PARAM: 'X' is listed twice; list it once" (no component prefix: add
 * it with lathe_context_prefix_error()). An empty or unset list gives an
 * empty array.
 *
 * Returns: (transfer full) (nullable): a #GArray of guint positions in
 * @choices, in the list's order, or %NULL with @error set.
 *
 * Since: 1.4
 */
LATHE_API GArray *lathe_context_param_enum_list(LatheContext *ctx, const char *param,
                                                const char *const *choices, GError **error);

/**
 * LATHE_EXCERPT_CHARS:
 *
 * How many characters of a value lathe_value_excerpt() shows: 60.
 *
 * Since: 1.4
 */
#define LATHE_EXCERPT_CHARS 60

/**
 * lathe_value_excerpt:
 * @value: (nullable) (array length=len): the bytes of a value: a CSV field, a
 *   column or class name, a param.
 * @len: the length of @value in bytes, or -1 when it is NUL-terminated.
 *
 * Quotes a value for a one-line message, so that data can never make a
 * message long or forge lines: the value is put in single quotes with
 * control characters, invalid UTF-8 and line separators escaped (`\n`,
 * `\t`, `\xNN`, `\u{2028}`), and cut after %LATHE_EXCERPT_CHARS characters,
 * in which case "… (N bytes)" follows the closing quote, as in
 * `'aaaa'… (20971520 bytes)`. %NULL gives `(none)`.
 *
 * Returns: (transfer full): the excerpt; g_free() it.
 *
 * Since: 1.4
 */
LATHE_API char *lathe_value_excerpt(const char *value, gssize len);

/**
 * lathe_open_regular_file:
 * @path: the file to read.
 * @display: (nullable): how messages name it; %NULL for @path.
 * @size: (out) (optional): its size in bytes.
 * @error: return location for a #GError, or %NULL.
 *
 * Opens @path for reading, refusing anything that is not a regular file
 * (following symbolic links). The file is opened without blocking and its
 * type checked on the open descriptor, so a FIFO, a terminal or a device
 * can neither hang the open nor be swapped in after a check. Messages are
 * one line: "DISPLAY: cannot read: REASON" (%LATHE_ERROR_IO) or "DISPLAY: is
 * a named pipe (FIFO), not a regular file; ..." (%LATHE_ERROR_INVALID).
 *
 * Returns: a descriptor in blocking mode, to close(), or -1 with @error set.
 *
 * Since: 1.4
 */
LATHE_API int lathe_open_regular_file(const char *path, const char *display, goffset *size,
                                      GError **error);

/**
 * lathe_suggest:
 * @word: what the user wrote.
 * @candidates: (array zero-terminated=1) (nullable): the valid names.
 *
 * The "did you mean" of a message that names something unknown (a param, a
 * node, a lakeFS branch): the candidate nearest to @word by edit distance,
 * when it is within about a third of @word's length (at least 1). A swap of
 * two neighbouring letters ("mian") counts as one edit.
 *
 * Returns: (transfer none) (nullable): the nearest candidate, or %NULL.
 *
 * Since: 1.7
 */
LATHE_API const char *lathe_suggest(const char *word, const char *const *candidates);

/**
 * lathe_downsample_minmax:
 * @x: (array length=n): the x values, ascending.
 * @y: (array length=n): the y values.
 * @n: how many points.
 * @width: the columns to keep (pixel columns of a chart); 0 counts as 1.
 *
 * Reduces a curve to at most 2 points per column of @width (the min and the
 * max of each column, in x order), so that a curve of a million steps draws
 * like the full one and its spikes survive. Points whose y is NaN or whose x
 * is not finite are dropped (a gap, not a broken path). With at most
 * 2 x @width points, every kept point is returned. `lathe report` draws
 * every curve through it and evaluator/nab keeps its series small with it.
 *
 * Returns: (transfer full) (element-type guint): the kept indices, ascending.
 *
 * Since: 1.9
 */
LATHE_API GArray *lathe_downsample_minmax(const double *x, const double *y, guint n, guint width);

G_END_DECLS
