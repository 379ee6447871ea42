/* lathe-http-server.h: the server side of the HTTP layer (libsoup-3.0), for
 * `lathe serve`. Handlers run on the thread that runs the main context the
 * server was made in, one exchange at a time: the body is read whole (at most
 * max_body_bytes, else 413) before the handler sees it. A handler that cannot
 * answer at once defers the exchange and finishes it later on that thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LatheHttpServer LatheHttpServer;

/**
 * LatheHttpExchange:
 * @method, @path, @content_type (nullable), @body, @body_len: the request.
 * @request_id: the client's X-Request-Id when it sent a usable one (at most
 *   128 printable characters), else a fresh UUID; echoed as X-Request-Id.
 * @status, @out, @out_type: the response the handler fills; @out starts
 *   empty, @status at 200 and @out_type at "application/json".
 * @query: (nullable): the URL's decoded query parameters (name → value), or %NULL.
 */
typedef struct {
  const char *method;
  const char *path;
  const char *content_type;
  const char *body;
  gsize body_len;
  const char *request_id;
  guint status;
  GString *out;
  const char *out_type;
  GHashTable *query;
} LatheHttpExchange;

typedef void (*LatheHttpHandler)(LatheHttpExchange *ex, gpointer data);

/** lathe_http_server_new: a server that refuses bodies above @max_body_bytes with 413. */
LatheHttpServer *lathe_http_server_new(gsize max_body_bytes);
void lathe_http_server_free(LatheHttpServer *srv);
/**
 * lathe_http_server_route:
 * @method: "GET", "POST"...
 * @path: the exact path, or a prefix when it ends in '/' and @prefix is set.
 *
 * The first matching route wins; a path with no route answers 404, a path
 * routed for another method 405, both with a JSON error body.
 */
void lathe_http_server_route(LatheHttpServer *srv, const char *method, const char *path,
                             gboolean prefix, LatheHttpHandler handler, gpointer data);
/** lathe_http_server_set_timeout: time a client has to send its whole request (default 30 s; 0: none). */
void lathe_http_server_set_timeout(LatheHttpServer *srv, guint timeout_ms);
/** lathe_http_server_set_access_log: JSON lines, one per request, to @fd (-1: none). */
void lathe_http_server_set_access_log(LatheHttpServer *srv, int fd);
/** lathe_http_server_listen: on @bind (an IPv4/IPv6 literal) and @port (0: a free one). */
gboolean lathe_http_server_listen(LatheHttpServer *srv, const char *bind, guint port,
                                  guint *bound_port, GError **error);
/** lathe_http_server_close: stop accepting; exchanges under way have already finished. */
void lathe_http_server_close(LatheHttpServer *srv);
/** lathe_http_server_set_max_in_flight: more exchanges under way than @n get 503 (0: no limit). */
void lathe_http_server_set_max_in_flight(LatheHttpServer *srv, guint n);
/** lathe_http_server_in_flight: exchanges handed to a handler and not yet sent. */
guint lathe_http_server_in_flight(LatheHttpServer *srv);
/**
 * lathe_http_server_stop_accepting: new connections are refused and new
 * requests on open connections get 503; exchanges under way go on.
 */
void lathe_http_server_stop_accepting(LatheHttpServer *srv);
/**
 * lathe_http_loop_run: runs @loop until it quits, calling @on_signal(@data)
 * on each SIGTERM and SIGINT; then the two signals are handled as before the
 * call. GLib alone would leave them at SIG_DFL, so a repeated SIGTERM during
 * the shutdown that follows would kill a server that is exiting cleanly.
 */
void lathe_http_loop_run(GMainLoop *loop, GSourceFunc on_signal, gpointer data);
/** lathe_http_server_set_test_delay: TESTS ONLY: hold every POST @ms before its handler. */
void lathe_http_server_set_test_delay(LatheHttpServer *srv, guint ms);

/** lathe_http_exchange_defer: the handler answers later with lathe_http_exchange_finish(). */
void lathe_http_exchange_defer(LatheHttpExchange *ex);
/** lathe_http_exchange_finish: sends a deferred exchange's response and frees @ex. */
void lathe_http_exchange_finish(LatheHttpExchange *ex);
/** lathe_http_exchange_get_header: a request header, or %NULL. */
const char *lathe_http_exchange_get_header(LatheHttpExchange *ex, const char *name);
/** lathe_http_exchange_set_header: a response header. */
void lathe_http_exchange_set_header(LatheHttpExchange *ex, const char *name, const char *value);
/** lathe_http_exchange_log: a member added to the exchange's access-log line. */
void lathe_http_exchange_log(LatheHttpExchange *ex, const char *key, const char *value);
void lathe_http_exchange_log_int(LatheHttpExchange *ex, const char *key, gint64 value);
/** lathe_http_exchange_error: a JSON error body {"error": msg, "code": status}. */
void lathe_http_exchange_error(LatheHttpExchange *ex, guint status, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

G_END_DECLS
