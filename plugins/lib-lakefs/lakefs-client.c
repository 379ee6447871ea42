/* Where lakeFS is and who we are, by lakectl's rules, and the API paths. */
#include <stdarg.h>
#include <string.h>

#include "lakefs.h"

struct _LatheLakefs {
  char *endpoint;
  char *cred_source;
  LatheHttpClient *http;
};

char *lathe_lakefs_endpoint_normalize(const char *url) {
  if (!url || !(g_str_has_prefix(url, "http://") || g_str_has_prefix(url, "https://")))
    return NULL;
  g_autofree char *u = g_strstrip(g_strdup(url));
  gsize n = strlen(u);
  while (n && u[n - 1] == '/')
    u[--n] = '\0';
  if (g_str_has_suffix(u, "/api/v1"))
    return g_steal_pointer(&u);
  return g_strconcat(u, "/api/v1", NULL);
}

/* lakectl's yaml is two levels of "key: value"; this reads just those, so
 * the plugins need no YAML library. Quotes around a value are dropped. */
static char *yaml_value(const char *text, const char *section, const char *key) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  gboolean in = FALSE;
  for (char **l = lines; *l; l++) {
    char *line = *l;
    g_strchomp(line);
    const char *p = line;
    while (*p == ' ')
      p++;
    if (!*p || *p == '#')
      continue;
    if (p == line) { /* a top-level key */
      in = g_str_has_prefix(line, section) && line[strlen(section)] == ':';
      continue;
    }
    if (!in || !g_str_has_prefix(p, key) || p[strlen(key)] != ':')
      continue;
    g_autofree char *v = g_strstrip(g_strdup(p + strlen(key) + 1));
    gsize n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
      v[n - 1] = '\0';
      return g_strdup(v + 1);
    }
    return g_steal_pointer(&v);
  }
  return NULL;
}

/* A test (or a user on a slow link) tunes the HTTP layer without a param:
 * LATHE_LAKEFS_IDLE_TIMEOUT_MS, _CONNECT_TIMEOUT_MS, _MAX_ATTEMPTS,
 * _TOTAL_TIMEOUT_MS and _BACKOFF_MS; an unset or unreadable one keeps the
 * default. */
static void env_uint(const char *name, guint *field) {
  const char *v = g_getenv(name);
  guint64 n;
  if (v && *v && g_ascii_string_to_unsigned(v, 10, 1, G_MAXUINT, &n, NULL))
    *field = (guint)n;
}

static void options_from_env(LatheHttpOptions *opt) {
  lathe_http_options_init(opt);
  env_uint("LATHE_LAKEFS_IDLE_TIMEOUT_MS", &opt->idle_timeout_ms);
  env_uint("LATHE_LAKEFS_CONNECT_TIMEOUT_MS", &opt->connect_timeout_ms);
  env_uint("LATHE_LAKEFS_MAX_ATTEMPTS", &opt->max_attempts);
  env_uint("LATHE_LAKEFS_TOTAL_TIMEOUT_MS", &opt->total_timeout_ms);
  env_uint("LATHE_LAKEFS_BACKOFF_MS", &opt->backoff_initial_ms);
}

LatheLakefs *lathe_lakefs_open(const char *endpoint, const LatheHttpOptions *options,
                               GError **error) {
  g_autofree char *yaml_path = g_build_filename(g_get_home_dir(), ".lakectl.yaml", NULL);
  g_autofree char *yaml = NULL;
  g_file_get_contents(yaml_path, &yaml, NULL, NULL); /* absent is fine */
  g_autofree char *url = g_strdup(endpoint && *endpoint ? endpoint : g_getenv(LATHE_LAKEFS_ENV_ENDPOINT));
  if ((!url || !*url) && yaml) {
    g_free(url);
    url = yaml_value(yaml, "server", "endpoint_url");
  }
  if (!url || !*url) {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_INVALID,
                "no lakeFS endpoint: set %s (or server.endpoint_url in %s), or the node's "
                "\"endpoint\" param",
                LATHE_LAKEFS_ENV_ENDPOINT, yaml_path);
    return NULL;
  }
  g_autofree char *base = lathe_lakefs_endpoint_normalize(url);
  if (!base) {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_INVALID,
                "lakeFS endpoint '%s' is not an http(s) URL: give e.g. http://localhost:8000",
                url);
    return NULL;
  }
  LatheHttpOptions opt;
  if (options)
    opt = *options;
  else
    options_from_env(&opt);
  LatheHttpClient *http = lathe_http_client_new(base, &opt, error);
  if (!http)
    return NULL;
  LatheLakefs *lk = g_new0(LatheLakefs, 1);
  lk->endpoint = g_steal_pointer(&base);
  lk->http = http;
  /* The credentials come as a pair from one place: mixing the environment's
   * key id with the file's secret would authenticate as nobody. */
  const char *id = g_getenv(LATHE_LAKEFS_ENV_KEY_ID);
  const char *secret = g_getenv(LATHE_LAKEFS_ENV_SECRET);
  g_autofree char *fid = NULL, *fsecret = NULL;
  if (id && *id && secret && *secret) {
    lk->cred_source = g_strdup("environment");
  } else if (yaml && (fid = yaml_value(yaml, "credentials", "access_key_id")) &&
             (fsecret = yaml_value(yaml, "credentials", "secret_access_key"))) {
    id = fid;
    secret = fsecret;
    lk->cred_source = g_strdup(yaml_path);
  } else {
    id = secret = NULL;
    lk->cred_source = g_strdup("none");
  }
  if (id)
    lathe_http_client_set_basic_auth(http, id, secret);
  g_autofree char *hint = g_strdup_printf(
      "set %s and %s (or credentials in %s); credentials used: %s", LATHE_LAKEFS_ENV_KEY_ID,
      LATHE_LAKEFS_ENV_SECRET, yaml_path, lk->cred_source);
  lathe_http_client_set_auth_hint(http, hint);
  if (fsecret)
    memset(fsecret, 0, strlen(fsecret)); /* the client keeps its own copy */
  return lk;
}

void lathe_lakefs_free(LatheLakefs *lk) {
  if (!lk)
    return;
  lathe_http_client_free(lk->http);
  g_free(lk->endpoint);
  g_free(lk->cred_source);
  g_free(lk);
}

const char *lathe_lakefs_get_endpoint(LatheLakefs *lk) { return lk->endpoint; }
LatheHttpClient *lathe_lakefs_get_http(LatheLakefs *lk) { return lk->http; }
const char *lathe_lakefs_get_credentials_source(LatheLakefs *lk) { return lk->cred_source; }

char *lathe_lakefs_path(const char *first, ...) {
  GString *s = g_string_new(NULL);
  va_list ap;
  va_start(ap, first);
  for (const char *seg = first; seg; seg = va_arg(ap, const char *)) {
    g_string_append_c(s, '/');
    g_autofree char *e = g_uri_escape_string(seg, NULL, FALSE);
    g_string_append(s, e);
  }
  va_end(ap);
  return g_string_free(s, FALSE);
}

LatheHttpRequest *lathe_lakefs_request(const char *method, const char *path) {
  return lathe_http_request_new(method, path);
}

JsonNode *lathe_lakefs_json(LatheLakefs *lk, LatheHttpRequest *req, GCancellable *cancellable,
                            GError **error) {
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(lk->http, req, cancellable, error);
  if (!r)
    return NULL;
  return lathe_http_response_get_json(r, error);
}
