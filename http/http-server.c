/* http-server.c: a small routing server over SoupServer (lathe-http-server.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <glib-unix.h>
#include <libsoup/soup.h>

#include "lathe-http-server.h"

typedef struct {
  char *method;
  char *path;
  gboolean prefix;
  LatheHttpHandler handler;
  gpointer data;
} Route;

struct _LatheHttpServer {
  SoupServer *soup;
  GPtrArray *routes; /* Route* */
  gsize max_body;
  int log_fd;
  guint timeout_ms;
  guint max_in_flight;
  guint in_flight;
  guint test_delay_ms;
  gboolean draining;
  GArray *closed_fds; /* pipe write ends that keep stopped listeners' fds quiet */
};

/* The exchange a handler sees, with what the server needs to answer it. */
typedef struct {
  LatheHttpExchange pub;
  LatheHttpServer *srv;
  SoupServerMessage *msg;
  GBytes *bytes;
  char *request_id;
  JsonObject *log;
  gint64 t0;
  gboolean paused;   /* libsoup holds the response */
  gboolean deferred; /* the handler will finish it */
} Exchange;

static void route_free(gpointer p) {
  Route *r = p;
  g_free(r->method);
  g_free(r->path);
  g_free(r);
}

void lathe_http_exchange_error(LatheHttpExchange *ex, guint status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, msg);
  json_builder_set_member_name(b, "code");
  json_builder_add_int_value(b, status);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  ex->status = status;
  ex->out_type = "application/json";
  g_string_assign(ex->out, text);
}

static gboolean route_matches(const Route *r, const char *path) {
  return r->prefix ? g_str_has_prefix(path, r->path) : g_str_equal(path, r->path);
}

static void dispatch(LatheHttpServer *srv, LatheHttpExchange *ex) {
  gboolean other_method = FALSE;
  if (ex->body_len > srv->max_body) {
    lathe_http_exchange_error(ex, 413, "the body has %" G_GSIZE_FORMAT " bytes, more than the %"
                              G_GSIZE_FORMAT " allowed; send fewer rows per request",
                              ex->body_len, srv->max_body);
    return;
  }
  for (guint i = 0; i < srv->routes->len; i++) {
    Route *r = g_ptr_array_index(srv->routes, i);
    if (!route_matches(r, ex->path))
      continue;
    if (!g_str_equal(r->method, ex->method)) {
      other_method = TRUE;
      continue;
    }
    r->handler(ex, r->data);
    return;
  }
  if (other_method)
    lathe_http_exchange_error(ex, 405, "%s is not allowed on %s", ex->method, ex->path);
  else
    lathe_http_exchange_error(ex, 404, "no endpoint %s", ex->path);
}

static void access_log(LatheHttpServer *srv, const LatheHttpExchange *ex, JsonObject *extra, double ms) {
  if (srv->log_fd < 0)
    return;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *ts = g_date_time_format_iso8601(now);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "time");
  json_builder_add_string_value(b, ts);
  json_builder_set_member_name(b, "method");
  json_builder_add_string_value(b, ex->method);
  json_builder_set_member_name(b, "path");
  json_builder_add_string_value(b, ex->path);
  json_builder_set_member_name(b, "status");
  json_builder_add_int_value(b, ex->status);
  json_builder_set_member_name(b, "bytes_in");
  json_builder_add_int_value(b, (gint64)ex->body_len);
  json_builder_set_member_name(b, "ms");
  json_builder_add_double_value(b, ms);
  json_builder_set_member_name(b, "request_id");
  json_builder_add_string_value(b, ex->request_id);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  if (extra) {
    JsonObject *o = json_node_get_object(root);
    g_autoptr(GList) keys = json_object_get_members(extra);
    for (GList *l = keys; l; l = l->next)
      json_object_set_member(o, l->data, json_node_copy(json_object_get_member(extra, l->data)));
  }
  g_autofree char *line = json_to_string(root, FALSE);
  g_autofree char *nl = g_strconcat(line, "\n", NULL);
  /* One write per line so concurrent writers never interleave within it. */
  if (write(srv->log_fd, nl, strlen(nl)) < 0) {
  }
}

static gboolean usable_request_id(const char *id) {
  if (!id || !*id || strlen(id) > 128)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isgraph(*p))
      return FALSE;
  return TRUE;
}

static void exchange_free(Exchange *e) {
  g_string_free(e->pub.out, TRUE);
  g_bytes_unref(e->bytes);
  g_free(e->request_id);
  if (e->log)
    json_object_unref(e->log);
  g_object_unref(e->msg);
  g_free(e);
}

static void on_finished(SoupServerMessage *msg, gpointer user_data) {
  LatheHttpServer *srv = user_data;
  if (g_object_get_data(G_OBJECT(msg), "lathe-counted")) {
    g_object_set_data(G_OBJECT(msg), "lathe-counted", NULL);
    srv->in_flight--;
  }
  /* A deferred exchange whose client went away is freed when its handler finishes it. */
  g_object_set_data(G_OBJECT(msg), "lathe-gone", GINT_TO_POINTER(1));
}

static void exchange_send(Exchange *e) {
  LatheHttpServer *srv = e->srv;
  if (!g_object_get_data(G_OBJECT(e->msg), "lathe-gone")) {
    soup_server_message_set_status(e->msg, e->pub.status, NULL);
    soup_message_headers_replace(soup_server_message_get_response_headers(e->msg), "X-Request-Id", e->request_id);
    soup_server_message_set_response(e->msg, e->pub.out_type, SOUP_MEMORY_COPY, e->pub.out->str, e->pub.out->len);
    if (e->paused)
      soup_server_message_unpause(e->msg);
  }
  access_log(srv, &e->pub, e->log, (double)(g_get_monotonic_time() - e->t0) / 1000.0);
  exchange_free(e);
}

static void exchange_run(Exchange *e) {
  e->deferred = FALSE;
  dispatch(e->srv, &e->pub);
  if (!e->deferred)
    exchange_send(e);
}

static gboolean on_test_delay(gpointer data) {
  exchange_run(data);
  return G_SOURCE_REMOVE;
}

static void on_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user_data) {
  LatheHttpServer *srv = user_data;
  Exchange *e = g_new0(Exchange, 1);
  e->srv = srv;
  e->msg = g_object_ref(msg);
  e->t0 = g_get_monotonic_time();
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  e->bytes = soup_message_body_flatten(body);
  gsize len = 0;
  const char *data = g_bytes_get_data(e->bytes, &len);
  SoupMessageHeaders *rh = soup_server_message_get_request_headers(msg);
  const char *rid = soup_message_headers_get_one(rh, "X-Request-Id");
  e->request_id = usable_request_id(rid) ? g_strdup(rid) : g_uuid_string_random();
  e->pub = (LatheHttpExchange){
      .method = soup_server_message_get_method(msg),
      .path = path,
      .content_type = soup_message_headers_get_content_type(rh, NULL),
      .body = data ? data : "",
      .body_len = len,
      .request_id = e->request_id,
      .status = 200,
      .out = g_string_new(NULL),
      .out_type = "application/json",
      .query = query,
  };
  if (g_object_get_data(G_OBJECT(msg), "lathe-timed-out")) {
    lathe_http_exchange_error(&e->pub, 408, "the request did not arrive within %u ms", srv->timeout_ms);
  } else if (srv->draining) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
    lathe_http_exchange_error(&e->pub, 503, "the server is shutting down; retry on another replica");
  } else if (srv->max_in_flight && srv->in_flight >= srv->max_in_flight) {
    lathe_http_exchange_error(&e->pub, 503, "%u requests are already being answered (--max-in-flight); retry later",
                              srv->in_flight);
  } else {
    srv->in_flight++;
    g_object_set_data(G_OBJECT(msg), "lathe-counted", GINT_TO_POINTER(1));
    g_signal_connect(msg, "finished", G_CALLBACK(on_finished), srv);
    if (srv->test_delay_ms && g_str_equal(e->pub.method, "POST")) {
      e->paused = TRUE;
      soup_server_message_pause(msg);
      g_autoptr(GSource) t = g_timeout_source_new(srv->test_delay_ms);
      g_source_set_callback(t, on_test_delay, e, NULL);
      g_source_attach(t, g_main_context_get_thread_default());
      return;
    }
    exchange_run(e);
    return;
  }
  exchange_send(e);
}

void lathe_http_exchange_defer(LatheHttpExchange *ex) {
  Exchange *e = (Exchange *)ex;
  if (!e->paused)
    soup_server_message_pause(e->msg);
  e->paused = TRUE;
  e->deferred = TRUE;
}

void lathe_http_exchange_finish(LatheHttpExchange *ex) {
  exchange_send((Exchange *)ex);
}

const char *lathe_http_exchange_get_header(LatheHttpExchange *ex, const char *name) {
  Exchange *e = (Exchange *)ex;
  return soup_message_headers_get_one(soup_server_message_get_request_headers(e->msg), name);
}

void lathe_http_exchange_set_header(LatheHttpExchange *ex, const char *name, const char *value) {
  Exchange *e = (Exchange *)ex;
  soup_message_headers_replace(soup_server_message_get_response_headers(e->msg), name, value);
}

static JsonObject *exchange_log(LatheHttpExchange *ex) {
  Exchange *e = (Exchange *)ex;
  if (!e->log)
    e->log = json_object_new();
  return e->log;
}

void lathe_http_exchange_log(LatheHttpExchange *ex, const char *key, const char *value) {
  json_object_set_string_member(exchange_log(ex), key, value);
}

void lathe_http_exchange_log_int(LatheHttpExchange *ex, const char *key, gint64 value) {
  json_object_set_int_member(exchange_log(ex), key, value);
}

/* Refuses a declared body above the limit before reading it. */
static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer user_data);

static void on_got_headers(SoupServerMessage *msg, gpointer user_data) {
  LatheHttpServer *srv = user_data;
  SoupMessageHeaders *rh = soup_server_message_get_request_headers(msg);
  goffset n = soup_message_headers_get_content_length(rh);
  if (n > 0 && (gsize)n > srv->max_body) {
    g_autofree char *text = g_strdup_printf(
        "{\"error\":\"the body has %" G_GINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
        " allowed; send fewer rows per request\",\"code\":413}", (gint64)n, srv->max_body);
    soup_server_message_set_status(msg, 413, NULL);
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Connection", "close");
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
  }
}

/* A client that has not sent its whole request within the timeout loses the
 * connection: a slow or stalled client must not hold a socket forever. */
static gboolean on_timeout(gpointer data) {
  SoupServerMessage *msg = data;
  g_object_set_data(G_OBJECT(msg), "lathe-timeout", NULL);
  /* libsoup may still hand the truncated request on at EOF: refuse it then. */
  g_object_set_data(G_OBJECT(msg), "lathe-timed-out", GINT_TO_POINTER(1));
  GSocket *sock = soup_server_message_get_socket(msg);
  if (sock)
    g_socket_shutdown(sock, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void stop_timeout(SoupServerMessage *msg, gpointer user_data) {
  GSource *t = g_object_get_data(G_OBJECT(msg), "lathe-timeout");
  if (t) {
    g_source_destroy(t);
    g_object_set_data(G_OBJECT(msg), "lathe-timeout", NULL);
  }
}

static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer user_data) {
  LatheHttpServer *srv = user_data;
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), srv);
  if (!srv->timeout_ms)
    return;
  g_autoptr(GSource) t = g_timeout_source_new(srv->timeout_ms);
  g_source_set_callback(t, on_timeout, g_object_ref(msg), g_object_unref);
  g_source_attach(t, g_main_context_get_thread_default());
  g_object_set_data_full(G_OBJECT(msg), "lathe-timeout", g_source_ref(t), (GDestroyNotify)g_source_unref);
  g_signal_connect(msg, "got-body", G_CALLBACK(stop_timeout), NULL);
  g_signal_connect(msg, "finished", G_CALLBACK(stop_timeout), NULL);
}

LatheHttpServer *lathe_http_server_new(gsize max_body_bytes) {
  LatheHttpServer *srv = g_new0(LatheHttpServer, 1);
  srv->soup = soup_server_new("server-header", "lathe", NULL);
  srv->routes = g_ptr_array_new_with_free_func(route_free);
  srv->max_body = max_body_bytes;
  srv->log_fd = -1;
  srv->timeout_ms = 30000;
  srv->closed_fds = g_array_new(FALSE, FALSE, sizeof(int));
  soup_server_add_handler(srv->soup, NULL, on_request, srv, NULL);
  g_signal_connect(srv->soup, "request-started", G_CALLBACK(on_request_started), srv);
  return srv;
}

void lathe_http_server_free(LatheHttpServer *srv) {
  if (!srv)
    return;
  lathe_http_server_close(srv);
  g_clear_object(&srv->soup);
  for (guint i = 0; i < srv->closed_fds->len; i++)
    close(g_array_index(srv->closed_fds, int, i));
  g_array_unref(srv->closed_fds);
  g_ptr_array_unref(srv->routes);
  g_free(srv);
}

void lathe_http_server_route(LatheHttpServer *srv, const char *method, const char *path,
                             gboolean prefix, LatheHttpHandler handler, gpointer data) {
  Route *r = g_new0(Route, 1);
  r->method = g_strdup(method);
  r->path = g_strdup(path);
  r->prefix = prefix;
  r->handler = handler;
  r->data = data;
  g_ptr_array_add(srv->routes, r);
}

void lathe_http_server_set_timeout(LatheHttpServer *srv, guint timeout_ms) {
  srv->timeout_ms = timeout_ms;
}

void lathe_http_server_set_access_log(LatheHttpServer *srv, int fd) {
  srv->log_fd = fd;
}

gboolean lathe_http_server_listen(LatheHttpServer *srv, const char *bind, guint port,
                                  guint *bound_port, GError **error) {
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(bind ? bind : "127.0.0.1");
  if (!addr) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "--bind '%s' is not an IP address; give one such as 127.0.0.1 or ::", bind);
    return FALSE;
  }
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(addr, (guint16)port);
  /* Our own socket for a deep accept queue: soup_server_listen() keeps
   * GSocket's default of 10, and a burst of clients overflows it (the kernel
   * then drops or resets their connections). The kernel caps it at somaxconn. */
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, error);
  if (!sock)
    return FALSE;
  g_socket_set_listen_backlog(sock, 4096);
  if (!g_socket_bind(sock, sa, TRUE, error) || !g_socket_listen(sock, error) ||
      !soup_server_listen_socket(srv->soup, sock, 0, error))
    return FALSE;
  if (bound_port) {
    *bound_port = port;
    GSList *uris = soup_server_get_uris(srv->soup);
    if (uris)
      *bound_port = (guint)g_uri_get_port(uris->data);
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  }
  return TRUE;
}

void lathe_http_server_close(LatheHttpServer *srv) {
  if (srv->soup)
    soup_server_disconnect(srv->soup);
}

void lathe_http_server_set_max_in_flight(LatheHttpServer *srv, guint n) {
  srv->max_in_flight = n;
}

guint lathe_http_server_in_flight(LatheHttpServer *srv) {
  return srv->in_flight;
}

void lathe_http_server_set_test_delay(LatheHttpServer *srv, guint ms) {
  srv->test_delay_ms = ms;
}

/* soup_server_disconnect() would also cut the connections under way, and
 * libsoup has no call that closes only the listening sockets. So each
 * listening fd is replaced (dup2, atomic) by a pipe's read end that never
 * becomes readable: the socket itself closes, so connections are refused,
 * while libsoup's accept source keeps polling a quiet fd until it is freed. */
void lathe_http_server_stop_accepting(LatheHttpServer *srv) {
  if (srv->draining)
    return;
  srv->draining = TRUE;
  GSList *socks = soup_server_get_listeners(srv->soup);
  for (GSList *l = socks; l; l = l->next) {
    int fds[2];
    if (pipe(fds) != 0)
      continue;
    if (dup2(fds[0], g_socket_get_fd(l->data)) < 0) {
      close(fds[1]);
    } else {
      g_array_append_val(srv->closed_fds, fds[1]);
    }
    close(fds[0]);
  }
  g_slist_free(socks);
}

void lathe_http_loop_run(GMainLoop *loop, GSourceFunc on_signal, gpointer data) {
  static const int sigs[] = {SIGTERM, SIGINT};
  struct sigaction before[G_N_ELEMENTS(sigs)];
  guint watch[G_N_ELEMENTS(sigs)];
  for (guint k = 0; k < G_N_ELEMENTS(sigs); k++) {
    sigaction(sigs[k], NULL, &before[k]);
    watch[k] = g_unix_signal_add(sigs[k], on_signal, data);
  }
  g_main_loop_run(loop);
  for (guint k = 0; k < G_N_ELEMENTS(sigs); k++) {
    g_source_remove(watch[k]);
    sigaction(sigs[k], &before[k], NULL);
  }
}
