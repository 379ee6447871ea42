/* lathe-http.h: Lathe's one HTTP client, on libsoup-3.0.
 *
 * Every networked plugin (source/lakefs, the MLflow tracker, registry
 * backends) and, later, `lathe serve` go through this layer; none talks to
 * libsoup itself. It is a static library (hidden visibility), so a plugin
 * that links it still exports only its entry point.
 *
 * What it does for every request: auth headers (basic or bearer), a connect
 * timeout and an idle timeout during the transfer, retries with exponential
 * backoff and jitter on connection errors and on 429/502/503/504 (honouring
 * Retry-After), bounded in attempts and total time; bodies as JSON, bytes or
 * streams, never held whole in memory when streamed; errors as one line that
 * names the method, the URL without credentials, the status, the server's
 * message and what to do. Credentials never reach a log line or an error.
 *
 * Threads: a client owns one SoupSession. Calls on one client are serialized
 * by its lock, so a client may be shared between threads, but requests on it
 * then run one at a time; for parallel transfers use one client per thread.
 * Requests and responses belong to one thread at a time.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * LATHE_HTTP_ERROR:
 *
 * The error domain of this layer. A response with an error status (400 and
 * above, or a 3xx: redirects are not followed) gives that status as the code,
 * so `g_error_matches (e, LATHE_HTTP_ERROR, 404)` works; failures without a
 * status use #LatheHttpErrorCode, whose values are all below 100.
 */
#define LATHE_HTTP_ERROR (lathe_http_error_quark())
GQuark lathe_http_error_quark(void);

typedef enum {
  LATHE_HTTP_ERROR_CONNECT = 1,  /* could not connect (refused, unreachable, DNS) */
  LATHE_HTTP_ERROR_TIMEOUT,      /* connect or idle timeout */
  LATHE_HTTP_ERROR_NETWORK,      /* the connection broke during the exchange */
  LATHE_HTTP_ERROR_BAD_RESPONSE, /* a body that is not what was asked for (JSON) */
  LATHE_HTTP_ERROR_TOO_LARGE,    /* a buffered body above max_body_bytes */
  LATHE_HTTP_ERROR_LOCAL,        /* a local file or sink failed */
  LATHE_HTTP_ERROR_CANCELLED,    /* the caller's cancellable fired */
  LATHE_HTTP_ERROR_INVALID,      /* a bad URL or request */
} LatheHttpErrorCode;

/**
 * LatheHttpOptions:
 * @connect_timeout_ms: time to establish a connection (default 10 s)
 * @idle_timeout_ms: longest silence while sending or receiving (default 30 s)
 * @max_attempts: attempts per request, the first included (default 5)
 * @total_timeout_ms: budget for retrying (default 120 s): no wait or new
 *   attempt starts that would end past it, counted from the first attempt; a
 *   transfer that keeps making progress is never cut by it (large downloads)
 * @backoff_initial_ms: wait before the first retry (default 200 ms)
 * @backoff_max_ms: longest wait between attempts (default 10 s); a longer
 *   Retry-After is honoured if the total budget allows it
 * @max_body_bytes: largest body lathe_http_client_send() buffers (default
 *   64 MiB); stream larger ones with lathe_http_client_stream()
 *
 * Fill with lathe_http_options_init() first, then change what you need.
 */
typedef struct {
  guint connect_timeout_ms;
  guint idle_timeout_ms;
  guint max_attempts;
  guint total_timeout_ms;
  guint backoff_initial_ms;
  guint backoff_max_ms;
  gsize max_body_bytes;
} LatheHttpOptions;

void lathe_http_options_init(LatheHttpOptions *options);

typedef struct _LatheHttpClient LatheHttpClient;
typedef struct _LatheHttpRequest LatheHttpRequest;
typedef struct _LatheHttpResponse LatheHttpResponse;

/**
 * lathe_http_client_new:
 * @base_url: (transfer none): http(s) URL that relative request paths are
 *   appended to; userinfo in it (`http://user:pass@host`) becomes basic auth
 *   and is removed from the URL
 * @options: (transfer none) (nullable): NULL for the defaults
 * @error: a #LATHE_HTTP_ERROR_INVALID for a URL that is not http(s)
 *
 * Returns: (transfer full): a client; free with lathe_http_client_free()
 */
LatheHttpClient *lathe_http_client_new(const char *base_url, const LatheHttpOptions *options,
                                       GError **error);
void lathe_http_client_free(LatheHttpClient *client);

/**
 * lathe_http_client_set_basic_auth:
 * @user: (transfer none) (nullable): NULL removes any auth
 * @password: (transfer none): copied; wiped from memory when replaced or freed
 *
 * Sends `Authorization: Basic ...` with every request (preemptively).
 */
void lathe_http_client_set_basic_auth(LatheHttpClient *client, const char *user,
                                      const char *password);
/**
 * lathe_http_client_set_bearer_token:
 * @token: (transfer none) (nullable): copied; NULL removes any auth
 *
 * Sends `Authorization: Bearer TOKEN` with every request.
 */
void lathe_http_client_set_bearer_token(LatheHttpClient *client, const char *token);
/**
 * lathe_http_client_set_auth_hint:
 * @hint: (transfer none) (nullable): what to do on a 401 or 403, e.g. "set
 *   LAKECTL_CREDENTIALS_ACCESS_KEY_ID and ..._SECRET_ACCESS_KEY"; copied
 */
void lathe_http_client_set_auth_hint(LatheHttpClient *client, const char *hint);
/**
 * lathe_http_client_get_base_url:
 *
 * Returns: (transfer none): the base URL without credentials
 */
const char *lathe_http_client_get_base_url(LatheHttpClient *client);

/**
 * lathe_http_request_new:
 * @method: (transfer none): "GET", "POST", ...; GET, HEAD, PUT, DELETE and
 *   OPTIONS are idempotent, the others only when marked so
 * @path: (transfer none): appended to the client's base URL, or an absolute
 *   http(s) URL
 *
 * Returns: (transfer full): free with lathe_http_request_free()
 */
LatheHttpRequest *lathe_http_request_new(const char *method, const char *path);
void lathe_http_request_free(LatheHttpRequest *request);
/* Appends `name=value` to the query, both escaped. */
void lathe_http_request_add_query(LatheHttpRequest *request, const char *name, const char *value);
void lathe_http_request_set_header(LatheHttpRequest *request, const char *name,
                                   const char *value);
/* Marks a POST or PATCH safe to resend (the server deduplicates it). */
void lathe_http_request_set_idempotent(LatheHttpRequest *request, gboolean idempotent);
/**
 * lathe_http_request_set_json:
 * @body: (transfer none): serialized now; sent as application/json
 */
void lathe_http_request_set_json(LatheHttpRequest *request, JsonNode *body);
/**
 * lathe_http_request_set_bytes:
 * @body: (transfer none): referenced
 * @content_type: (nullable): default application/octet-stream
 */
void lathe_http_request_set_bytes(LatheHttpRequest *request, GBytes *body,
                                  const char *content_type);
/**
 * lathe_http_request_set_file:
 * @path: (transfer none): streamed from disk, reopened for each attempt
 * @content_type: (nullable): default application/octet-stream
 */
void lathe_http_request_set_file(LatheHttpRequest *request, const char *path,
                                 const char *content_type);
/**
 * lathe_http_request_set_stream:
 * @stream: (transfer none): referenced; read from its current position. A
 *   seekable stream is rewound for a retry; any other is sent once
 * @length: bytes to send, or -1 for chunked encoding
 * @content_type: (nullable): default application/octet-stream
 */
void lathe_http_request_set_stream(LatheHttpRequest *request, GInputStream *stream,
                                   gssize length, const char *content_type);

/**
 * LatheHttpSinkWrite:
 * Receives the next @len bytes of a streamed body. Return FALSE with @error
 * set to stop the transfer (no retry).
 */
typedef gboolean (*LatheHttpSinkWrite)(const guint8 *data, gsize len, gpointer user_data,
                                       GError **error);
/**
 * LatheHttpSinkReset:
 * Forgets everything written so far, before a retry resends the body from its
 * start. A sink without one is not retried once bytes reached it.
 */
typedef gboolean (*LatheHttpSinkReset)(gpointer user_data, GError **error);

typedef struct {
  LatheHttpSinkWrite write;
  LatheHttpSinkReset reset;
  gpointer user_data;
} LatheHttpSink;

typedef enum {
  LATHE_HTTP_DIGEST_NONE = 0,
  LATHE_HTTP_DIGEST_SHA256 = 1 << 0,
  LATHE_HTTP_DIGEST_MD5 = 1 << 1,
} LatheHttpDigests;

/**
 * lathe_http_client_send:
 * @request: (transfer none): reusable after the call
 * @cancellable: (nullable)
 *
 * Sends @request (retrying as the options say) and buffers the response body
 * (at most max_body_bytes). A status of 300 or above is an error.
 *
 * Returns: (transfer full): the response, or NULL with @error set
 */
LatheHttpResponse *lathe_http_client_send(LatheHttpClient *client, LatheHttpRequest *request,
                                          GCancellable *cancellable, GError **error);
/**
 * lathe_http_client_stream:
 * @sink: (transfer none): receives the body in chunks of at most 64 KiB
 * @digests: which running digests of the body to compute
 *
 * As lathe_http_client_send(), but the body goes to @sink as it arrives, so
 * memory stays bounded whatever its size. The response has no body, but its
 * length and digests (lathe_http_response_get_digest()).
 *
 * Returns: (transfer full): the response, or NULL with @error set
 */
LatheHttpResponse *lathe_http_client_stream(LatheHttpClient *client, LatheHttpRequest *request,
                                            const LatheHttpSink *sink, LatheHttpDigests digests,
                                            GCancellable *cancellable, GError **error);
/**
 * lathe_http_client_download:
 * @path: (transfer none): written to PATH.part, renamed to @path when whole
 *
 * lathe_http_client_stream() into a file; the partial file is removed on error.
 *
 * Returns: (transfer full): the response (length, digests), or NULL
 */
LatheHttpResponse *lathe_http_client_download(LatheHttpClient *client,
                                              LatheHttpRequest *request, const char *path,
                                              LatheHttpDigests digests,
                                              GCancellable *cancellable, GError **error);
/**
 * lathe_http_client_json:
 * @method: (transfer none)
 * @path: (transfer none)
 * @body: (transfer none) (nullable): sent as JSON when given
 *
 * One JSON call: sends @body, parses the answer.
 *
 * Returns: (transfer full) (nullable): the parsed body (a JSON null node for
 *   an empty one), or NULL with @error set
 */
JsonNode *lathe_http_client_json(LatheHttpClient *client, const char *method, const char *path,
                                 JsonNode *body, GCancellable *cancellable, GError **error);

void lathe_http_response_free(LatheHttpResponse *response);
guint lathe_http_response_get_status(LatheHttpResponse *response);
/* Returns: (transfer none) (nullable): a response header, by name */
const char *lathe_http_response_get_header(LatheHttpResponse *response, const char *name);
/* Returns: (transfer none) (nullable): the buffered body (send only) */
GBytes *lathe_http_response_get_body(LatheHttpResponse *response);
/* Returns: (transfer full) (nullable): the buffered body parsed as JSON */
JsonNode *lathe_http_response_get_json(LatheHttpResponse *response, GError **error);
/* Bytes of body received (streamed or buffered). */
guint64 lathe_http_response_get_length(LatheHttpResponse *response);
/* Returns: (transfer none) (nullable): lowercase hex, if it was asked for */
const char *lathe_http_response_get_digest(LatheHttpResponse *response, LatheHttpDigests which);
/* How many attempts the request took. */
guint lathe_http_response_get_attempts(LatheHttpResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheHttpClient, lathe_http_client_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheHttpRequest, lathe_http_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheHttpResponse, lathe_http_response_free)

G_END_DECLS
