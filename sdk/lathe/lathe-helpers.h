#pragma once

#include "lathe-api.h"
#include "lathe-context.h"
#include "lathe-dataset.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * SECTION:lathe-helpers
 * @title: Helpers
 * @short_description: errors with their node, "columns" params, enum indices
 *
 * The small pieces every plugin would otherwise rewrite: errors prefixed
 * with the component and node, a "columns" param resolved against a
 * dataset, and an enum param's value as an index.
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

G_END_DECLS
