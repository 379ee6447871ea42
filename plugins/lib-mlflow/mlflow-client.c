/* Where MLflow is and who we are, by MLflow's rules; the JSON call and what
 * its errors mean; experiments; the artifact proxy. */
#include <stdarg.h>
#include <string.h>

#include <lathe/lathe-error.h>

#include "mlflow.h"

struct _LatheMlflow {
  char *uri;
  const char *auth;
  LatheHttpClient *http;
  GCancellable *cancel;
};

/* A positive integer from the environment, or @fallback. */
static guint env_uint(const char *name, guint fallback) {
  const char *v = g_getenv(name);
  if (!v || !*v)
    return fallback;
  char *end = NULL;
  guint64 n = g_ascii_strtoull(v, &end, 10);
  if (!end || *end || n == 0 || n > G_MAXUINT)
    return fallback;
  return (guint)n;
}

void lathe_mlflow_options_init(LatheHttpOptions *opt) {
  lathe_http_options_init(opt);
  opt->connect_timeout_ms = env_uint("LATHE_MLFLOW_CONNECT_TIMEOUT_MS", opt->connect_timeout_ms);
  opt->idle_timeout_ms = env_uint("LATHE_MLFLOW_IDLE_TIMEOUT_MS", opt->idle_timeout_ms);
  opt->max_attempts = env_uint("LATHE_MLFLOW_MAX_ATTEMPTS", opt->max_attempts);
  opt->total_timeout_ms = env_uint("LATHE_MLFLOW_TOTAL_TIMEOUT_MS", opt->total_timeout_ms);
  opt->backoff_initial_ms = env_uint("LATHE_MLFLOW_BACKOFF_MS", opt->backoff_initial_ms);
}

LatheMlflow *lathe_mlflow_open(const LatheHttpOptions *options, GError **error) {
  const char *uri = g_getenv(LATHE_MLFLOW_ENV_URI);
  if (!uri || !*uri) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "no MLflow server: set %s to its http(s) URL, e.g. http://localhost:5000",
                LATHE_MLFLOW_ENV_URI);
    return NULL;
  }
  g_autofree char *u = g_strstrip(g_strdup(uri));
  gsize n = strlen(u);
  while (n && u[n - 1] == '/')
    u[--n] = '\0';
  g_autoptr(GUri) parsed = g_uri_parse(u, G_URI_FLAGS_NONE, NULL);
  const char *scheme = parsed ? g_uri_get_scheme(parsed) : NULL;
  const char *host = parsed ? g_uri_get_host(parsed) : NULL;
  if (!scheme || !(g_ascii_strcasecmp(scheme, "http") == 0 ||
                   g_ascii_strcasecmp(scheme, "https") == 0) ||
      !host || !*host) {
    /* The URI is no secret, but it may carry userinfo: name only its scheme. */
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s is not an http(s) URL%s%s%s: Lathe talks to an MLflow tracking server "
                "over its REST API; set it to the server's URL, e.g. http://localhost:5000",
                LATHE_MLFLOW_ENV_URI, scheme ? " (scheme '" : "", scheme ? scheme : "",
                scheme ? "')" : "");
    return NULL;
  }
  LatheHttpOptions opt;
  if (options)
    opt = *options;
  else
    lathe_mlflow_options_init(&opt);
  g_autoptr(GError) e = NULL;
  LatheHttpClient *http = lathe_http_client_new(u, &opt, &e);
  if (!http) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s", LATHE_MLFLOW_ENV_URI,
                e->message);
    return NULL;
  }
  LatheMlflow *m = g_new0(LatheMlflow, 1);
  m->http = http;
  m->cancel = g_cancellable_new();
  m->uri = g_strdup(lathe_http_client_get_base_url(http));
  const char *user = g_getenv(LATHE_MLFLOW_ENV_USERNAME);
  const char *password = g_getenv(LATHE_MLFLOW_ENV_PASSWORD);
  const char *token = g_getenv(LATHE_MLFLOW_ENV_TOKEN);
  /* MLflow's order (mlflow/utils/rest_utils.py): basic first, then bearer. */
  if (user && *user && password && *password) {
    lathe_http_client_set_basic_auth(http, user, password);
    m->auth = "basic";
  } else if (token && *token) {
    lathe_http_client_set_bearer_token(http, token);
    m->auth = "bearer";
  } else {
    m->auth = "none";
  }
  const char *used = g_str_equal(m->auth, "basic")
                         ? "Basic from " LATHE_MLFLOW_ENV_USERNAME "/" LATHE_MLFLOW_ENV_PASSWORD
                     : g_str_equal(m->auth, "bearer") ? "a token from " LATHE_MLFLOW_ENV_TOKEN
                                                      : "none";
  g_autofree char *hint = g_strdup_printf(
      "set %s (a bearer token) or %s and %s (Basic) to credentials the server accepts; "
      "credentials used: %s",
      LATHE_MLFLOW_ENV_TOKEN, LATHE_MLFLOW_ENV_USERNAME, LATHE_MLFLOW_ENV_PASSWORD, used);
  lathe_http_client_set_auth_hint(http, hint);
  return m;
}

void lathe_mlflow_free(LatheMlflow *m) {
  if (!m)
    return;
  lathe_http_client_free(m->http);
  g_object_unref(m->cancel);
  g_free(m->uri);
  g_free(m);
}

const char *lathe_mlflow_get_uri(LatheMlflow *m) { return m->uri; }
LatheHttpClient *lathe_mlflow_get_http(LatheMlflow *m) { return m->http; }
const char *lathe_mlflow_get_auth(LatheMlflow *m) { return m->auth; }
GCancellable *lathe_mlflow_get_cancellable(LatheMlflow *m) { return m->cancel; }

LatheHttpRequest *lathe_mlflow_request(const char *method, const char *endpoint) {
  g_autofree char *path = g_strconcat("/api/2.0/mlflow/", endpoint, NULL);
  return lathe_http_request_new(method, path);
}

JsonNode *lathe_mlflow_send(LatheMlflow *m, LatheHttpRequest *req, GError **error) {
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(m->http, req, m->cancel, error);
  if (!r)
    return NULL;
  g_autoptr(GError) e = NULL;
  JsonNode *node = lathe_http_response_get_json(r, &e);
  if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
    if (node)
      json_node_unref(node);
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "%s answered %u with %s, not MLflow's JSON: check that %s points at an "
                "MLflow tracking server",
                m->uri, lathe_http_response_get_status(r),
                e ? "a body that does not parse" : "something other than an object",
                LATHE_MLFLOW_ENV_URI);
    return NULL;
  }
  return node;
}

JsonNode *lathe_mlflow_post(LatheMlflow *m, const char *endpoint, JsonNode *body,
                            gboolean idempotent, GError **error) {
  g_autoptr(LatheHttpRequest) req = lathe_mlflow_request("POST", endpoint);
  lathe_http_request_set_json(req, body);
  lathe_http_request_set_idempotent(req, idempotent);
  return lathe_mlflow_send(m, req, error);
}

JsonNode *lathe_mlflow_get(LatheMlflow *m, const char *endpoint, GError **error, ...) {
  g_autoptr(LatheHttpRequest) req = lathe_mlflow_request("GET", endpoint);
  va_list ap;
  va_start(ap, error);
  for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
    const char *v = va_arg(ap, const char *);
    lathe_http_request_add_query(req, k, v ? v : "");
  }
  va_end(ap);
  return lathe_mlflow_send(m, req, error);
}

LatheMlflowCode lathe_mlflow_error_code(const GError *error) {
  if (!error)
    return LATHE_MLFLOW_CODE_NONE;
  if (error->domain == LATHE_ERROR)
    return error->code == LATHE_ERROR_UNAVAILABLE ? LATHE_MLFLOW_CODE_UNAVAILABLE
                                                  : LATHE_MLFLOW_CODE_NONE;
  if (error->domain != LATHE_HTTP_ERROR)
    return LATHE_MLFLOW_CODE_NONE;
  int c = error->code;
  switch (c) {
  case LATHE_HTTP_ERROR_CONNECT:
  case LATHE_HTTP_ERROR_TIMEOUT:
  case LATHE_HTTP_ERROR_NETWORK:
    return LATHE_MLFLOW_CODE_UNAVAILABLE;
  case LATHE_HTTP_ERROR_BAD_RESPONSE:
  case LATHE_HTTP_ERROR_TOO_LARGE:
    return LATHE_MLFLOW_CODE_BAD_ANSWER;
  default:
    break;
  }
  if (c < 100)
    return LATHE_MLFLOW_CODE_NONE;
  if (c == 408 || c == 429 || c >= 500)
    return LATHE_MLFLOW_CODE_UNAVAILABLE;
  if (c == 401 || c == 403)
    return LATHE_MLFLOW_CODE_AUTH;
  if (c == 404)
    return LATHE_MLFLOW_CODE_NOT_FOUND;
  /* MLflow answers RESOURCE_ALREADY_EXISTS with 400, like any bad value; the
   * HTTP layer keeps only its message, which always says so. */
  if (c == 400 && strstr(error->message, "already exists"))
    return LATHE_MLFLOW_CODE_ALREADY_EXISTS;
  if (c >= 400)
    return LATHE_MLFLOW_CODE_INVALID;
  return LATHE_MLFLOW_CODE_BAD_ANSWER; /* a redirect */
}

void lathe_mlflow_error_to_lathe(GError **error, const char *prefix) {
  if (!error || !*error)
    return;
  GError *e = *error;
  if (e->domain != LATHE_ERROR) {
    int code;
    switch (lathe_mlflow_error_code(e)) {
    case LATHE_MLFLOW_CODE_UNAVAILABLE:
      code = LATHE_ERROR_UNAVAILABLE;
      break;
    case LATHE_MLFLOW_CODE_NOT_FOUND:
    case LATHE_MLFLOW_CODE_ALREADY_EXISTS:
    case LATHE_MLFLOW_CODE_INVALID:
      code = LATHE_ERROR_INVALID;
      break;
    case LATHE_MLFLOW_CODE_NONE:
      code = e->domain == LATHE_HTTP_ERROR && e->code == LATHE_HTTP_ERROR_CANCELLED
                 ? LATHE_ERROR_CANCELLED
             : e->domain == LATHE_HTTP_ERROR && e->code == LATHE_HTTP_ERROR_LOCAL
                 ? LATHE_ERROR_IO
                 : LATHE_ERROR_FAILED;
      break;
    default:
      code = LATHE_ERROR_FAILED;
      break;
    }
    e->domain = LATHE_ERROR;
    e->code = code;
  }
  if (prefix && !g_str_has_prefix(e->message, prefix)) {
    char *m = g_strconcat(prefix, e->message, NULL);
    g_free(e->message);
    e->message = m;
  }
}

const char *lathe_mlflow_member_string(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

JsonArray *lathe_mlflow_member_array(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

gint64 lathe_mlflow_member_int(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return 0;
  if (json_node_get_value_type(n) == G_TYPE_STRING)
    return g_ascii_strtoll(json_node_get_string(n), NULL, 10);
  return json_node_get_int(n);
}

/* get-by-name: the id, NULL with no error when there is none. */
static char *experiment_by_name(LatheMlflow *m, const char *name, GError **error) {
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) got =
      lathe_mlflow_get(m, "experiments/get-by-name", &e, "experiment_name", name, NULL);
  if (!got) {
    if (lathe_mlflow_error_code(e) == LATHE_MLFLOW_CODE_NOT_FOUND)
      return NULL;
    g_propagate_error(error, g_steal_pointer(&e));
    return NULL;
  }
  JsonObject *root = json_node_get_object(got);
  JsonObject *exp = json_object_has_member(root, "experiment")
                        ? json_object_get_object_member(root, "experiment")
                        : NULL;
  const char *id = lathe_mlflow_member_string(exp, "experiment_id");
  if (!id) {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "%s: experiments/get-by-name answered without an experiment id: check that %s "
                "points at an MLflow tracking server",
                m->uri, LATHE_MLFLOW_ENV_URI);
    return NULL;
  }
  if (g_strcmp0(lathe_mlflow_member_string(exp, "lifecycle_stage"), "deleted") == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "MLflow experiment '%s' (id %s) at %s is deleted, and its name stays taken: "
                "restore it (mlflow experiments restore --experiment-id %s) or set %s (or the "
                "tracker's \"experiment\" param) to another name",
                name, id, m->uri, id, LATHE_MLFLOW_ENV_EXPERIMENT);
    return NULL;
  }
  return g_strdup(id);
}

char *lathe_mlflow_experiment_ensure(LatheMlflow *m, const char *name, GError **error) {
  GError *e = NULL;
  char *id = experiment_by_name(m, name, &e);
  if (id || e) {
    if (e)
      g_propagate_error(error, e);
    return id;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  /* Not idempotent, but a resent create meets RESOURCE_ALREADY_EXISTS,
   * which is handled below like another client's race. */
  g_autoptr(JsonNode) created = lathe_mlflow_post(m, "experiments/create", body, TRUE, &e);
  if (created) {
    const char *cid = lathe_mlflow_member_string(json_node_get_object(created), "experiment_id");
    if (cid)
      return g_strdup(cid);
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "%s: experiments/create answered without an experiment id: check that %s "
                "points at an MLflow tracking server",
                m->uri, LATHE_MLFLOW_ENV_URI);
    return NULL;
  }
  if (lathe_mlflow_error_code(e) != LATHE_MLFLOW_CODE_ALREADY_EXISTS) {
    g_propagate_error(error, e);
    return NULL;
  }
  g_clear_error(&e);
  id = experiment_by_name(m, name, &e);
  if (!id && !e)
    g_set_error(&e, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE,
                "MLflow experiment '%s' at %s exists and cannot be found: try again", name,
                m->uri);
  if (e)
    g_propagate_error(error, e);
  return id;
}

char *lathe_mlflow_artifact_endpoint(const char *artifact_uri, const char *path, GError **error) {
  static const char scheme[] = "mlflow-artifacts:";
  if (!artifact_uri || !g_str_has_prefix(artifact_uri, scheme)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "the run's artifacts go to '%s', which Lathe cannot reach through the tracking "
                "server: start the MLflow server with its artifact proxy (mlflow server "
                "--serve-artifacts, the default since MLflow 2.0)",
                artifact_uri ? artifact_uri : "(none)");
    return NULL;
  }
  const char *p = artifact_uri + sizeof scheme - 1;
  if (g_str_has_prefix(p, "//")) { /* mlflow-artifacts://host:port/path */
    p = strchr(p + 2, '/');
    if (!p)
      p = "";
  }
  while (*p == '/')
    p++;
  GString *s = g_string_new("/api/2.0/mlflow-artifacts/artifacts");
  if (*p) {
    g_string_append_c(s, '/');
    g_string_append(s, p);
  }
  while (s->len && s->str[s->len - 1] == '/')
    g_string_truncate(s, s->len - 1);
  if (path && *path) {
    g_auto(GStrv) segs = g_strsplit(path, "/", -1);
    for (char **seg = segs; *seg; seg++) {
      if (!**seg || g_str_equal(*seg, ".") || g_str_equal(*seg, "..") || path[0] == '/') {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                    "artifact path '%s' is not a relative path without '.' or '..' segments",
                    path);
        g_string_free(s, TRUE);
        return NULL;
      }
      g_autofree char *e = g_uri_escape_string(*seg, NULL, FALSE);
      g_string_append_c(s, '/');
      g_string_append(s, e);
    }
  }
  return g_string_free(s, FALSE);
}

gboolean lathe_mlflow_upload(LatheMlflow *m, const char *artifact_uri, const char *path,
                             const char *local_path, GBytes *bytes, GError **error) {
  g_autofree char *endpoint = lathe_mlflow_artifact_endpoint(artifact_uri, path, error);
  if (!endpoint)
    return FALSE;
  g_autoptr(LatheHttpRequest) req = lathe_http_request_new("PUT", endpoint);
  if (local_path)
    lathe_http_request_set_file(req, local_path, NULL);
  else {
    g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
    lathe_http_request_set_bytes(req, bytes ? bytes : empty, NULL);
  }
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(m->http, req, m->cancel, error);
  return r != NULL;
}
