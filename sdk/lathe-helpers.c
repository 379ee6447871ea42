/* lathe-helpers.c: error prefixes, column and enum params. */
#include "lathe/lathe-helpers.h"

#include "lathe/lathe-error.h"

static char *error_prefix(LatheContext *ctx, const char *component) {
  return ctx ? g_strdup_printf("%s (node %s): ", component, lathe_context_node_id(ctx))
             : g_strdup_printf("%s: ", component);
}

void lathe_context_set_error(LatheContext *ctx, GError **error, gint code,
                             const char *component, const char *format, ...) {
  if (!error)
    return;
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  g_autofree char *prefix = error_prefix(ctx, component);
  g_set_error(error, LATHE_ERROR, code, "%s%s", prefix, msg);
}

void lathe_context_prefix_error(LatheContext *ctx, GError **error, const char *component) {
  if (!error || !*error)
    return;
  g_autofree char *prefix = error_prefix(ctx, component);
  g_prefix_error(error, "%s", prefix);
}

GArray *lathe_context_param_columns(LatheContext *ctx, const char *param,
                                    const LatheDataset *ds, LatheColumnsFlags flags,
                                    GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, param);
  guint n = list ? json_array_get_length(list) : 0;
  if (n == 0 && (flags & LATHE_COLUMNS_NONEMPTY)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s is empty; name at least one column", param);
    return NULL;
  }
  g_autoptr(GArray) cols = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint j = 0; n == 0 && j < ds->n_cols; j++)
    g_array_append_val(cols, j);
  /* One flag per column, so a repeat is found without a quadratic scan. */
  g_autofree gboolean *seen = g_new0(gboolean, ds->n_cols + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(list, i);
    const char *name = JSON_NODE_HOLDS_VALUE(node) &&
                               json_node_get_value_type(node) == G_TYPE_STRING
                           ? json_node_get_string(node)
                           : NULL;
    gint j = name ? lathe_dataset_column_index(ds, name) : -1;
    if (j < 0) {
      g_autofree char *avail = g_strjoinv(", ", ds->columns);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: '%s' is not a column of the input; available columns: %s", param,
                  name ? name : "(not a string)", avail);
      return NULL;
    }
    if (seen[j]) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: '%s' is listed twice; list it once", param, name);
      return NULL;
    }
    seen[j] = TRUE;
    guint uj = (guint)j;
    g_array_append_val(cols, uj);
  }
  return g_steal_pointer(&cols);
}

gint lathe_enum_index(const char *const *choices, const char *value) {
  for (gint i = 0; value && choices && choices[i]; i++)
    if (g_str_equal(choices[i], value))
      return i;
  return -1;
}

gint lathe_context_param_enum(LatheContext *ctx, const char *name,
                              const char *const *choices) {
  return lathe_enum_index(choices, lathe_context_param_string(ctx, name));
}

GArray *lathe_context_param_enum_list(LatheContext *ctx, const char *param,
                                      const char *const *choices, GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, param);
  guint n = list ? json_array_get_length(list) : 0;
  guint n_choices = choices ? g_strv_length((char **)choices) : 0;
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autofree gboolean *seen = g_new0(gboolean, n_choices + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(list, i);
    const char *name =
        JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
            ? json_node_get_string(node)
            : NULL;
    gint k = lathe_enum_index(choices, name);
    if (k < 0) {
      g_autofree char *all = g_strjoinv(", ", (char **)choices);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: '%s' is not one of %s", param,
                  name ? name : "(not a string)", all);
      return NULL;
    }
    if (seen[k]) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: '%s' is listed twice; list it once",
                  param, name);
      return NULL;
    }
    seen[k] = TRUE;
    guint uk = (guint)k;
    g_array_append_val(out, uk);
  }
  return g_steal_pointer(&out);
}
