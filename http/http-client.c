/* http-client.c: the client, its requests and responses (lathe-http.h).
 * One attempt of a request is in http-send.c; this file holds the objects. */
#include "http-private.h"

#include <string.h>

G_DEFINE_QUARK(lathe-http-error-quark, lathe_http_error)

void lathe_http_options_init(LatheHttpOptions *o) {
  *o = (LatheHttpOptions){
      .connect_timeout_ms = 10000,
      .idle_timeout_ms = 30000,
      .max_attempts = 5,
      .total_timeout_ms = 120000,
      .backoff_initial_ms = 200,
      .backoff_max_ms = 10000,
      .max_body_bytes = 64 * 1024 * 1024,
  };
}

/* Overwrites a secret before freeing it, so it does not linger in freed
 * heap memory (core dumps, later allocations). */
static void wipe_free(char *s) {
  if (s) {
    volatile char *p = s;
    while (*p)
      *p++ = 0;
    g_free(s);
  }
}

static void clear_auth(LatheHttpClient *c) {
  wipe_free(c->auth);
  c->auth = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(c->secrets); i++) {
    wipe_free(c->secrets[i]);
    c->secrets[i] = NULL;
  }
}

static void set_basic(LatheHttpClient *c, const char *user, const char *password) {
  clear_auth(c);
  if (!user)
    return;
  g_autofree char *pair = g_strconcat(user, ":", password ? password : "", NULL);
  char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
  c->auth = g_strconcat("Basic ", b64, NULL);
  c->secrets[0] = b64;
  if (password && *password)
    c->secrets[1] = g_strdup(password);
  /* Escaped, the password might be echoed in a URL. */
  if (password && *password)
    c->secrets[2] = g_uri_escape_string(password, NULL, FALSE);
  memset(pair, 0, strlen(pair));
}

/* Proxies come from the environment, as curl, Python and lakectl (Go) take
 * them: http_proxy (lower case only, as curl: HTTP_PROXY can be set by a CGI
 * request's Proxy header), https_proxy, all_proxy, and no_proxy's hosts.
 * Without any, no proxy: GIO's default resolver would load the desktop's
 * proxy modules and dconf, some 5 ms and several threads in every process,
 * for settings a command-line tool does not read. */
static GProxyResolver *proxy_from_environment(void) {
  const char *http = g_getenv("http_proxy");
  const char *https = g_getenv("https_proxy") ? g_getenv("https_proxy") : g_getenv("HTTPS_PROXY");
  const char *all = g_getenv("all_proxy") ? g_getenv("all_proxy") : g_getenv("ALL_PROXY");
  if (!(http && *http) && !(https && *https) && !(all && *all))
    return NULL;
  const char *no = g_getenv("no_proxy") ? g_getenv("no_proxy") : g_getenv("NO_PROXY");
  g_auto(GStrv) ignore = g_strsplit(no ? no : "", ",", -1);
  for (char **h = ignore; *h; h++)
    g_strstrip(*h);
  GProxyResolver *r = g_simple_proxy_resolver_new(all && *all ? all : NULL, ignore);
  if (http && *http)
    g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "http", http);
  if (https && *https)
    g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "https", https);
  return r;
}

LatheHttpClient *lathe_http_client_new(const char *base_url, const LatheHttpOptions *options,
                                       GError **error) {
  g_autoptr(GUri) uri = base_url ? g_uri_parse(base_url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_HAS_PASSWORD, NULL) : NULL;
  const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
  if (!uri || !scheme || (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https")) ||
      !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
    g_autofree char *shown = lathe_http_redact_url(base_url);
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_INVALID,
                "'%s' is not an http:// or https:// URL: give the server's address, "
                "e.g. http://localhost:8000",
                shown);
    return NULL;
  }
  g_autofree char *base = lathe_http_redact_url(base_url);
  if (base[0] == '(') {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_INVALID,
                "the server's address is not a valid URL: give it as http://HOST:PORT/PATH");
    return NULL;
  }
  LatheHttpClient *c = g_new0(LatheHttpClient, 1);
  g_mutex_init(&c->lock);
  if (options)
    c->opt = *options;
  else
    lathe_http_options_init(&c->opt);
  c->opt.max_attempts = MAX(c->opt.max_attempts, 1);
  c->opt.connect_timeout_ms = MAX(c->opt.connect_timeout_ms, 1);
  c->opt.idle_timeout_ms = MAX(c->opt.idle_timeout_ms, 1);
  gsize n = strlen(base);
  while (n && base[n - 1] == '/')
    base[--n] = '\0';
  c->base_url = g_steal_pointer(&base);
  const char *user = g_uri_get_user(uri);
  if (user && *user) {
    g_autofree char *u = g_uri_unescape_string(user, NULL);
    g_autofree char *p =
        g_uri_get_password(uri) ? g_uri_unescape_string(g_uri_get_password(uri), NULL) : NULL;
    set_basic(c, u ? u : user, p);
    wipe_free(g_steal_pointer(&p));
  }
  /* libsoup's own timeout is only a backstop (whole seconds, both phases
   * alike): http-watch.c enforces the precise ones first. */
  guint backstop = (MAX(c->opt.connect_timeout_ms, c->opt.idle_timeout_ms) + 999) / 1000 + 2;
  g_autoptr(GProxyResolver) proxy = proxy_from_environment();
  c->session = soup_session_new_with_options("timeout", backstop, "user-agent", "lathe",
                                             "proxy-resolver", proxy, NULL);
  c->rand = g_rand_new();
  return c;
}

void lathe_http_client_free(LatheHttpClient *c) {
  if (!c)
    return;
  clear_auth(c);
  g_object_unref(c->session);
  g_free(c->base_url);
  g_free(c->auth_hint);
  g_rand_free(c->rand);
  g_mutex_clear(&c->lock);
  g_free(c);
}

void lathe_http_client_set_basic_auth(LatheHttpClient *c, const char *user,
                                      const char *password) {
  g_mutex_lock(&c->lock);
  set_basic(c, user, password);
  g_mutex_unlock(&c->lock);
}

void lathe_http_client_set_bearer_token(LatheHttpClient *c, const char *token) {
  g_mutex_lock(&c->lock);
  clear_auth(c);
  if (token) {
    c->auth = g_strconcat("Bearer ", token, NULL);
    if (*token)
      c->secrets[0] = g_strdup(token);
  }
  g_mutex_unlock(&c->lock);
}

void lathe_http_client_set_auth_hint(LatheHttpClient *c, const char *hint) {
  g_mutex_lock(&c->lock);
  g_free(c->auth_hint);
  c->auth_hint = g_strdup(hint);
  g_mutex_unlock(&c->lock);
}

const char *lathe_http_client_get_base_url(LatheHttpClient *c) {
  return c->base_url;
}

LatheHttpRequest *lathe_http_request_new(const char *method, const char *path) {
  LatheHttpRequest *r = g_new0(LatheHttpRequest, 1);
  r->method = g_ascii_strup(method, -1);
  r->path = g_strdup(path ? path : "");
  r->headers = g_ptr_array_new_with_free_func(g_free);
  static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", NULL};
  r->idempotent = g_strv_contains(idempotent, r->method);
  return r;
}

static void clear_body(LatheHttpRequest *r) {
  g_clear_pointer(&r->bytes, g_bytes_unref);
  g_clear_pointer(&r->file, g_free);
  g_clear_object(&r->stream);
  g_clear_pointer(&r->content_type, g_free);
  r->body = BODY_NONE;
}

void lathe_http_request_free(LatheHttpRequest *r) {
  if (!r)
    return;
  clear_body(r);
  g_free(r->method);
  g_free(r->path);
  if (r->query)
    g_string_free(r->query, TRUE);
  g_ptr_array_unref(r->headers);
  g_free(r);
}

void lathe_http_request_add_query(LatheHttpRequest *r, const char *name, const char *value) {
  if (!r->query)
    r->query = g_string_new(NULL);
  else
    g_string_append_c(r->query, '&');
  g_autofree char *n = g_uri_escape_string(name, NULL, FALSE);
  g_autofree char *v = g_uri_escape_string(value ? value : "", NULL, FALSE);
  g_string_append_printf(r->query, "%s=%s", n, v);
}

void lathe_http_request_set_header(LatheHttpRequest *r, const char *name, const char *value) {
  g_ptr_array_add(r->headers, g_strdup(name));
  g_ptr_array_add(r->headers, g_strdup(value));
}

void lathe_http_request_set_idempotent(LatheHttpRequest *r, gboolean idempotent) {
  r->idempotent = idempotent;
}

void lathe_http_request_set_json(LatheHttpRequest *r, JsonNode *body) {
  clear_body(r);
  gsize len = 0;
  char *text = json_to_string(body, FALSE);
  len = strlen(text);
  r->bytes = g_bytes_new_take(text, len);
  r->content_type = g_strdup("application/json");
  r->body = BODY_BYTES;
}

void lathe_http_request_set_bytes(LatheHttpRequest *r, GBytes *body, const char *content_type) {
  clear_body(r);
  r->bytes = g_bytes_ref(body);
  r->content_type = g_strdup(content_type ? content_type : "application/octet-stream");
  r->body = BODY_BYTES;
}

void lathe_http_request_set_file(LatheHttpRequest *r, const char *path,
                                 const char *content_type) {
  clear_body(r);
  r->file = g_strdup(path);
  r->content_type = g_strdup(content_type ? content_type : "application/octet-stream");
  r->body = BODY_FILE;
}

void lathe_http_request_set_stream(LatheHttpRequest *r, GInputStream *stream, gssize length,
                                   const char *content_type) {
  clear_body(r);
  r->stream = g_object_ref(stream);
  r->stream_len = length;
  r->stream_start = G_IS_SEEKABLE(stream) && g_seekable_can_seek(G_SEEKABLE(stream))
                        ? g_seekable_tell(G_SEEKABLE(stream))
                        : -1;
  r->content_type = g_strdup(content_type ? content_type : "application/octet-stream");
  r->body = BODY_STREAM;
}

void lathe_http_response_free(LatheHttpResponse *r) {
  if (!r)
    return;
  g_clear_pointer(&r->headers, soup_message_headers_unref);
  g_clear_pointer(&r->body, g_bytes_unref);
  g_free(r->sha256);
  g_free(r->md5);
  g_free(r->method);
  g_free(r->url);
  g_free(r);
}

guint lathe_http_response_get_status(LatheHttpResponse *r) {
  return r->status;
}

const char *lathe_http_response_get_header(LatheHttpResponse *r, const char *name) {
  return r->headers ? soup_message_headers_get_one(r->headers, name) : NULL;
}

GBytes *lathe_http_response_get_body(LatheHttpResponse *r) {
  return r->body;
}

JsonNode *lathe_http_response_get_json(LatheHttpResponse *r, GError **error) {
  gsize len = 0;
  const char *data = r->body ? g_bytes_get_data(r->body, &len) : NULL;
  gsize i = 0;
  while (data && i < len && g_ascii_isspace(data[i]))
    i++;
  if (!data || i == len)
    return json_node_new(JSON_NODE_NULL);
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) e = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &e)) {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "%s %s: the answer is not JSON (%s): is the URL that of the API?", r->method,
                r->url, e->message);
    return NULL;
  }
  return json_node_copy(json_parser_get_root(parser));
}

guint64 lathe_http_response_get_length(LatheHttpResponse *r) {
  return r->length;
}

const char *lathe_http_response_get_digest(LatheHttpResponse *r, LatheHttpDigests which) {
  return which == LATHE_HTTP_DIGEST_SHA256 ? r->sha256 : which == LATHE_HTTP_DIGEST_MD5 ? r->md5 : NULL;
}

guint lathe_http_response_get_attempts(LatheHttpResponse *r) {
  return r->attempts;
}

JsonNode *lathe_http_client_json(LatheHttpClient *c, const char *method, const char *path,
                                 JsonNode *body, GCancellable *cancellable, GError **error) {
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new(method, path);
  lathe_http_request_set_header(r, "Accept", "application/json");
  if (body)
    lathe_http_request_set_json(r, body);
  g_autoptr(LatheHttpResponse) resp = lathe_http_client_send(c, r, cancellable, error);
  return resp ? lathe_http_response_get_json(resp, error) : NULL;
}
