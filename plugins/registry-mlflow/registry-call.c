/* registry-call.c: the REST calls the registry makes, through lib-mlflow
 * (MLflow's own variables, the JSON call, its errors), and the checks of
 * names and aliases. */
#include <string.h>

#include "registry-mlflow-private.h"

RegMlflow *rm_connect(LatheContext *ctx, GError **error) {
  LatheMlflow *m = lathe_mlflow_open(NULL, error);
  if (!m) {
    lathe_mlflow_error_to_lathe(error, RM_COMPONENT ": ");
    return NULL;
  }
  RegMlflow *r = g_new0(RegMlflow, 1);
  r->ctx = ctx;
  r->mlflow = m;
  r->uri = lathe_mlflow_get_uri(m);
  g_mutex_init(&r->lock);
  return r;
}

void rm_disconnect(RegMlflow *r) {
  if (!r)
    return;
  lathe_mlflow_free(r->mlflow);
  g_mutex_clear(&r->lock);
  g_free(r->last_name);
  g_free(r->last_run);
  g_free(r);
}

/* lib-mlflow's line (method, URL without credentials, status, MLflow's
 * message; for a 401 the variables to fix) in LATHE_ERROR, whose code the CLI
 * maps to an exit, and for a server out of reach what to check. */
static void wrap_error(GError *e, guint *status, GError **error) {
  LatheMlflowCode what = lathe_mlflow_error_code(e);
  if (status)
    *status = e->domain == LATHE_HTTP_ERROR && e->code >= 100 ? (guint)e->code : 0;
  GError *w = g_error_copy(e);
  lathe_mlflow_error_to_lathe(&w, RM_COMPONENT ": ");
  if (what == LATHE_MLFLOW_CODE_UNAVAILABLE && (!status || *status == 0)) {
    g_set_error(error, LATHE_ERROR, w->code,
                "%s (the MLflow server " LATHE_MLFLOW_ENV_URI " names)", w->message);
    g_error_free(w);
  } else {
    g_propagate_error(error, w);
  }
}

JsonObject *rm_call(RegMlflow *r, const char *method, const char *endpoint, JsonObject *body,
                    const char *const *query, guint *status, GError **error) {
  g_autoptr(LatheHttpRequest) req = lathe_mlflow_request(method, endpoint);
  for (const char *const *q = query; q && q[0] && q[1]; q += 2)
    lathe_http_request_add_query(req, q[0], q[1]);
  if (body) {
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), body);
    lathe_http_request_set_json(req, node);
  }
  if (status)
    *status = 0;
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) root = lathe_mlflow_send(r->mlflow, req, &e);
  if (!root) {
    wrap_error(e, status, error);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}

gboolean rm_put_blob(RegMlflow *r, const char *artifact_uri, GBytes *bytes, GError **error) {
  g_autoptr(GError) e = NULL;
  if (lathe_mlflow_upload(r->mlflow, artifact_uri, RM_BLOB_FILE, NULL, bytes, &e))
    return TRUE;
  guint st = 0;
  GError *w = NULL;
  wrap_error(e, &st, &w);
  if (st == 404 || st == 405 || st == 501) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                "%s (does the MLflow server proxy artifacts? start it with --serve-artifacts)",
                w->message);
    g_error_free(w);
  } else {
    g_propagate_error(error, w);
  }
  return FALSE;
}

typedef struct {
  GByteArray *buf;
} Sink;

static gboolean sink_write(const guint8 *data, gsize len, gpointer user_data, GError **error) {
  Sink *s = user_data;
  g_byte_array_append(s->buf, data, (guint)len);
  return TRUE;
}

static gboolean sink_reset(gpointer user_data, GError **error) {
  Sink *s = user_data;
  g_byte_array_set_size(s->buf, 0);
  return TRUE;
}

GBytes *rm_get_blob(RegMlflow *r, const char *artifact_uri, char **sha256, GError **error) {
  g_autofree char *path = lathe_mlflow_artifact_endpoint(artifact_uri, RM_BLOB_FILE, error);
  if (!path) {
    lathe_mlflow_error_to_lathe(error, RM_COMPONENT ": ");
    return NULL;
  }
  g_autoptr(LatheHttpRequest) req = lathe_http_request_new("GET", path);
  Sink s = {g_byte_array_new()};
  LatheHttpSink sink = {sink_write, sink_reset, &s};
  g_autoptr(GError) e = NULL;
  g_autoptr(LatheHttpResponse) resp = lathe_http_client_stream(
      lathe_mlflow_get_http(r->mlflow), req, &sink, LATHE_HTTP_DIGEST_SHA256, NULL, &e);
  if (!resp) {
    g_byte_array_unref(s.buf);
    wrap_error(e, NULL, error);
    return NULL;
  }
  *sha256 = g_strdup(lathe_http_response_get_digest(resp, LATHE_HTTP_DIGEST_SHA256));
  return g_byte_array_free_to_bytes(s.buf);
}

char *rm_iso8601(gint64 ms) {
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(ms / 1000);
  if (!t)
    return g_strdup("");
  g_autofree char *base = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf("%s.%03dZ", base, (int)(ms % 1000));
}

gboolean rm_all_digits(const char *text) {
  if (!text || !*text)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  return TRUE;
}

gboolean rm_check_name(const char *name, GError **error) {
  gboolean ok = name && *name && strlen(name) <= 256 && !strchr(name, '\'') &&
                !strchr(name, '"') && !strchr(name, '`') && g_utf8_validate(name, -1, NULL);
  for (const char *p = name; ok && *p; p++)
    ok = (guchar)*p >= 0x20 && *p != 0x7f;
  if (!ok) {
    g_autofree char *shown = name ? g_strescape(name, NULL) : g_strdup("(null)");
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": invalid model name '%.80s': use 1 to 256 printable "
                "characters without quotes",
                shown);
  }
  return ok;
}

gboolean rm_check_alias(const char *alias, GError **error) {
  gboolean ok = alias && g_ascii_isalpha(alias[0]) && strlen(alias) <= 128;
  for (const char *p = alias; ok && *p; p++)
    ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-';
  if (!ok) {
    g_autofree char *shown = alias ? g_strescape(alias, NULL) : g_strdup("(null)");
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": invalid alias '%s': start with a letter, then use letters, "
                "digits, '_' and '-' (at most 128; a number would be read as a version)",
                shown);
  }
  return ok;
}
