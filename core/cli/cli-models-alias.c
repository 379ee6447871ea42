/* `lathe models history|promote|alias`: where aliases point, who moved
 * them and why, through the registry's alias history (ABI 1.4, with reasons
 * since 1.8). */
#include "cli-models.h"

#define T lathe_cli_text

int lathe_cli_models_error(const GError *error) {
  return lathe_cli_error(error->code == LATHE_ERROR_INVALID ? LATHE_EXIT_USAGE : LATHE_EXIT_FAILED,
                         "%s", error->message);
}

static const char *str_or(JsonObject *o, const char *m, const char *dflt) {
  JsonNode *n = json_object_get_member(o, m);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n) : dflt;
}

int lathe_cli_models_history(LatheRegistry *reg, const char *name, const char *alias,
                             gboolean json) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) hist = lathe_registry_model_history(reg, name, alias, &error);
  if (!hist)
    return lathe_cli_models_error(error);
  if (json) {
    g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), hist);
    lathe_cli_print_json(root);
    return LATHE_EXIT_OK;
  }
  printf("%-24s %-12s %-9s %-26s %-12s %-24s %s\n", "SET_AT", "ALIAS", "VERSION", "REASON", "USER",
         "RUN", "FIGURES");
  for (guint i = 0; i < json_array_get_length(hist); i++) {
    JsonObject *m = json_array_get_object_element(hist, i);
    JsonNode *prev = json_object_get_member(m, "previous_version");
    g_autofree char *move =
        prev && !JSON_NODE_HOLDS_NULL(prev)
            ? g_strdup_printf("%" G_GINT64_FORMAT "->%" G_GINT64_FORMAT, json_node_get_int(prev),
                              json_object_get_int_member(m, "version"))
            : g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member(m, "version"));
    JsonNode *fig = json_object_get_member(m, "figures");
    g_autofree char *figures =
        fig && JSON_NODE_HOLDS_OBJECT(fig) ? lathe_json_write(fig, FALSE) : g_strdup("-");
    printf("%-24s %-12s %-9s %-26s %-12s %-24s %s\n", T(str_or(m, "set_at", "")),
           T(str_or(m, "alias", "")), move, T(str_or(m, "reason", "-")), T(str_or(m, "user", "-")),
           T(str_or(m, "run_id", "-")), T(figures));
  }
  return LATHE_EXIT_OK;
}

int lathe_cli_models_promote(LatheRegistry *reg, const char *name, const char *from,
                             const char *to, gboolean allow_signature_change, gboolean json) {
  g_autoptr(GError) error = NULL;
  guint version = 0;
  if (!lathe_registry_promote(reg, name, from, to, allow_signature_change, &version, &error))
    return lathe_cli_models_error(error);
  if (json) {
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "from", from);
    json_object_set_string_member(o, "alias", to);
    json_object_set_int_member(o, "version", version);
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
    lathe_cli_print_json(root);
  } else {
    printf("%s@%s -> version %u (promoted from %s)\n", T(name), T(to), version, T(from));
  }
  return LATHE_EXIT_OK;
}

gboolean lathe_cli_models_check_alias(LatheRegistry *reg, const char *name, const char *alias,
                                      guint version, gboolean allow, GError **error) {
  g_autofree char *ref = g_strdup_printf("%u", version);
  g_autoptr(JsonObject) v = lathe_registry_get_version(reg, name, ref, error);
  return v && lathe_registry_check_signature(reg, name, alias,
                                             lathe_registry_version_signature(v), allow,
                                             "--allow-signature-change", error);
}
