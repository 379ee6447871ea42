/* registry-names.c: which model names and aliases the registry accepts. Both
 * end up in CLI arguments and URIs ("name@alias"), so they stay plain. */
#include <string.h>

#include "registry-private.h"

#define MAX_NAME 128

/* Model names: 1..128 characters of [A-Za-z0-9_.-]. */
gboolean lathe_registry_check_model_name(const char *name, GError **error) {
  gsize len = name ? strlen(name) : 0;
  gboolean ok = len >= 1 && len <= MAX_NAME;
  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_isalnum(name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-';
  if (!ok) {
    g_autofree char *shown = name ? g_strescape(name, NULL) : g_strdup("(null)");
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: invalid model name '%s': use 1 to %d characters among "
                "letters, digits, '_', '.' and '-'",
                shown, MAX_NAME);
  }
  return ok;
}

/* Aliases: a letter, then letters, digits, '_' or '-' (at most 128). Starting
 * with a letter keeps them apart from version numbers: "2" always means
 * version 2. */
gboolean lathe_registry_check_alias(const char *alias, GError **error) {
  gsize len = alias ? strlen(alias) : 0;
  gboolean ok = len >= 1 && len <= MAX_NAME && g_ascii_isalpha(alias[0]);
  for (gsize i = 1; ok && i < len; i++)
    ok = g_ascii_isalnum(alias[i]) || alias[i] == '_' || alias[i] == '-';
  if (!ok) {
    g_autofree char *shown = alias ? g_strescape(alias, NULL) : g_strdup("(null)");
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: invalid alias '%s': start with a letter, then use "
                "letters, digits, '_' and '-' (at most %d characters; a number would "
                "be read as a version)",
                shown, MAX_NAME);
  }
  return ok;
}
