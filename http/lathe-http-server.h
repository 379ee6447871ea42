/* lathe-http-server.h: the server side of the HTTP layer (libsoup-3.0), for
 * `lathe serve`. Handlers run on the thread that runs the main context the
 * server was made in, one exchange at a time: the body is read whole (at most
 * max_body_bytes, else 413) before the handler sees it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LatheHttpServer LatheHttpServer;

/**
 * LatheHttpExchange:
 * @method, @path, @content_type (nullable), @body, @body_len: the request.
 * @status, @out, @out_type: the response the handler fills; @out starts
 *   empty, @status at 200 and @out_type at "application/json".
 */
typedef struct {
  const char *method;
  const char *path;
  const char *content_type;
  const char *body;
  gsize body_len;
  guint status;
  GString *out;
  const char *out_type;
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
/** lathe_http_exchange_error: a JSON error body {"error": msg, "code": status}. */
void lathe_http_exchange_error(LatheHttpExchange *ex, guint status, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

G_END_DECLS
