/* Checks of the params both lakeFS plugins declare (lakefs-params.h). */
#include <string.h>

#include "lakefs-params.h"

gboolean lathe_lakefs_refuse_credential(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)spec;
  (void)value; /* a secret: never quoted */
  *why = g_strdup(LATHE_LAKEFS_CREDENTIALS_WHY);
  return FALSE;
}

gboolean lathe_lakefs_check_repository(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)spec;
  const char *s = json_node_get_string(value);
  gsize n = strlen(s);
  gboolean ok = n >= 3 && n <= 63 && (g_ascii_islower(s[0]) || g_ascii_isdigit(s[0]));
  for (gsize i = 1; ok && i < n; i++)
    ok = g_ascii_islower(s[i]) || g_ascii_isdigit(s[i]) || s[i] == '-';
  if (!ok)
    *why = g_strdup("a lakeFS repository id is 3 to 63 lowercase letters, digits and '-', "
                    "starting with a letter or digit");
  return ok;
}

gboolean lathe_lakefs_check_ref_name(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)spec;
  const char *s = json_node_get_string(value);
  /* lakeFS's \w is ASCII: letters, digits, '_'; '-' may follow the first. */
  gboolean ok = s[0] && (g_ascii_isalnum(s[0]) || s[0] == '_');
  for (const char *p = s + 1; ok && *p; p++)
    ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-';
  if (!ok)
    *why = g_strdup_printf("a lakeFS %s is letters, digits, '_' and '-', not starting with '-'",
                           g_str_equal(spec->name, "tag") ? "tag" : "branch name");
  return ok;
}

gboolean lathe_lakefs_check_endpoint(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)spec;
  g_autoptr(GUri) uri = g_uri_parse(json_node_get_string(value), G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
  if (!scheme || (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https")) ||
      !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
    *why = g_strdup("give the lakeFS server's http(s) URL, e.g. http://localhost:8000");
    return FALSE;
  }
  /* The HTTP layer would take user:password@ as basic auth. */
  if (g_uri_get_userinfo(uri)) {
    *why = g_strdup(LATHE_LAKEFS_CREDENTIALS_WHY "; write the URL without user:password@");
    return FALSE;
  }
  return TRUE;
}
