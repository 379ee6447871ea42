/* http-send.c: sending a request, with timeouts, retries and streaming.
 *
 * A request is a loop of attempts. Each attempt builds a fresh SoupMessage,
 * sends it with soup_session_send() (sync: nodes run on worker threads) and
 * reads the body in chunks, either into memory (bounded) or into a sink. What
 * failed decides whether another attempt follows:
 *  - a connection error, or a timeout: retried if the method is idempotent,
 *    or the request never started (libsoup's "starting" signal did not fire,
 *    so not one byte of it left: a POST is safe to send again);
 *  - 429, 502, 503, 504: retried if idempotent, after Retry-After if given;
 *  - anything else is final.
 * Attempts and the total time (waits included) are both bounded.
 */
#include "http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
/* An error body is read this far for its message, never further. */
#define ERROR_BODY_MAX (64 * 1024)
#define MESSAGE_CHARS 200

typedef struct {
  LatheHttpClient *c;
  LatheHttpRequest *r;
  const LatheHttpSink *sink; /* NULL: buffer the body */
  LatheHttpDigests digests;
  char *url;   /* the real one, sent */
  char *shown; /* redacted, for messages and logs */
  /* Of the last attempt: */
  gboolean started;   /* bytes of the request may have left */
  gboolean sink_used; /* the sink received bytes */
  gboolean retryable;
  gint64 retry_after_ms;
} Send;

static char *build_url(LatheHttpClient *c, LatheHttpRequest *r) {
  const char *sep = r->query ? (strchr(r->path, '?') ? "&" : "?") : "";
  const char *q = r->query ? r->query->str : "";
  if (g_str_has_prefix(r->path, "http://") || g_str_has_prefix(r->path, "https://"))
    return g_strconcat(r->path, sep, q, NULL);
  return g_strconcat(c->base_url, r->path[0] == '/' || !r->path[0] ? "" : "/", r->path, sep, q,
                     NULL);
}

/* "METHOD URL: WHAT; HINT", one line, without secrets. */
static void fail(Send *s, GError **error, int code, const char *what, const char *hint) {
  g_autofree char *text = g_strdup_printf("%s %s: %s%s%s", s->r->method, s->shown, what,
                                          hint ? "; " : "", hint ? hint : "");
  g_strdelimit(text, "\r\n", ' ');
  text = lathe_http_scrub(text, (const char *const *)s->c->secrets);
  g_set_error_literal(error, LATHE_HTTP_ERROR, code, text);
}

static const char *status_hint(LatheHttpClient *c, guint status) {
  if (status == 401)
    return c->auth_hint ? c->auth_hint : "check the credentials";
  if (status == 403)
    return c->auth_hint ? c->auth_hint : "the credentials lack permission for this";
  if (status == 404)
    return "check the names in the URL and the server's address";
  if (status == 408 || status == 429)
    return "the server is rate-limiting: try again later, or raise the retry budget";
  if (status >= 500)
    return "the server failed or is down: try again later, or raise the retry budget";
  if (status >= 300 && status < 400)
    return "redirects are not followed: use the address it names";
  return "the server refused the request";
}

static void on_starting(SoupMessage *msg, gpointer data) {
  Send *s = g_object_get_data(G_OBJECT(msg), "lathe-send");
  Watch *w = data;
  s->started = TRUE;
  lathe_http_watch_transfer(w);
}

static void on_progress(SoupMessage *msg, gpointer data) {
  lathe_http_watch_kick(data);
}

static void on_body_data(SoupMessage *msg, guint chunk, gpointer data) {
  lathe_http_watch_kick(data);
}

static gboolean attach_body(Send *s, SoupMessage *msg, GError **error) {
  LatheHttpRequest *r = s->r;
  if (r->body == BODY_BYTES) {
    soup_message_set_request_body_from_bytes(msg, r->content_type, r->bytes);
  } else if (r->body == BODY_FILE) {
    g_autoptr(GFile) f = g_file_new_for_path(r->file);
    g_autoptr(GError) e = NULL;
    g_autoptr(GFileInputStream) in = g_file_read(f, NULL, &e);
    g_autoptr(GFileInfo) info =
        in ? g_file_input_stream_query_info(in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &e) : NULL;
    if (!info) {
      g_autofree char *what = g_strdup_printf("cannot read the body to send: %s", e->message);
      fail(s, error, LATHE_HTTP_ERROR_LOCAL, what, NULL);
      return FALSE;
    }
    soup_message_set_request_body(msg, r->content_type, G_INPUT_STREAM(in),
                                  g_file_info_get_size(info));
  } else if (r->body == BODY_STREAM) {
    if (r->stream_start >= 0 &&
        !g_seekable_seek(G_SEEKABLE(r->stream), r->stream_start, G_SEEK_SET, NULL, NULL)) {
      fail(s, error, LATHE_HTTP_ERROR_LOCAL, "cannot rewind the body to send", NULL);
      return FALSE;
    }
    soup_message_set_request_body(msg, r->content_type, r->stream, r->stream_len);
  }
  return TRUE;
}

/* A transport error of the last attempt, as our error; sets retryable. */
static void transport_error(Send *s, Watch *w, GCancellable *user, GError *e, GError **error) {
  LatheHttpOptions *o = &s->c->opt;
  int fired = lathe_http_watch_fired(w);
  /* Resending is safe when the request never started, or when it is
   * idempotent and (for a body that already reached a sink) the sink can
   * start over. */
  gboolean resend = !s->started ||
                    (s->r->idempotent && (!s->sink_used || !s->sink || s->sink->reset) &&
                     (s->r->body != BODY_STREAM || s->r->stream_start >= 0));
  if (user && g_cancellable_is_cancelled(user)) {
    fail(s, error, LATHE_HTTP_ERROR_CANCELLED, "cancelled", NULL);
    return;
  }
  s->retryable = resend;
  if (fired == 1 || (!s->started && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))) {
    g_autofree char *what =
        g_strdup_printf("no connection within the connect timeout (%u ms)", o->connect_timeout_ms);
    fail(s, error, LATHE_HTTP_ERROR_TIMEOUT, what,
         "check the address and that the server is up, or raise the connect timeout");
  } else if (fired == 2 || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_autofree char *what = g_strdup_printf(
        "the server sent nothing for the idle timeout (%u ms)", o->idle_timeout_ms);
    fail(s, error, LATHE_HTTP_ERROR_TIMEOUT, what,
         "the server is stalled or overloaded: try again later, or raise the idle timeout");
  } else if (!s->started) {
    g_autofree char *what = g_strdup_printf("cannot connect: %s", e->message);
    fail(s, error, LATHE_HTTP_ERROR_CONNECT, what,
         "check the address and that the server is up");
  } else {
    g_autofree char *what = g_strdup_printf("the connection broke: %s", e->message);
    fail(s, error, LATHE_HTTP_ERROR_NETWORK, what, "try again; if it persists, check the network");
  }
}

/* Reads up to @max bytes of an error body and makes the error. */
static void status_error(Send *s, SoupMessage *msg, GInputStream *in, Watch *w, GError **error) {
  guint status = soup_message_get_status(msg);
  SoupMessageHeaders *h = soup_message_get_response_headers(msg);
  g_autoptr(GByteArray) body = g_byte_array_new();
  guint8 buf[4096];
  while (body->len < ERROR_BODY_MAX) {
    lathe_http_watch_kick(w);
    gssize n = g_input_stream_read(in, buf, MIN(sizeof buf, ERROR_BODY_MAX - body->len),
                                   lathe_http_watch_cancellable(w), NULL);
    if (n <= 0)
      break;
    g_byte_array_append(body, buf, (guint)n);
  }
  g_autofree char *server = lathe_http_server_message(
      soup_message_headers_get_content_type(h, NULL), body->data, body->len, MESSAGE_CHARS);
  const char *reason = soup_message_get_reason_phrase(msg);
  if (!reason || !*reason)
    reason = soup_status_get_phrase(status);
  GString *what = g_string_new(NULL);
  g_string_printf(what, "%u %s", status, reason ? reason : "");
  if (server)
    g_string_append_printf(what, ": %s", server);
  if (status >= 300 && status < 400 && soup_message_headers_get_one(h, "Location")) {
    g_autofree char *loc = lathe_http_redact_url(soup_message_headers_get_one(h, "Location"));
    g_string_append_printf(what, " (to %s)", loc);
  }
  s->retryable = (status == 429 || status == 502 || status == 503 || status == 504) &&
                 s->r->idempotent && (s->r->body != BODY_STREAM || s->r->stream_start >= 0);
  s->retry_after_ms = lathe_http_retry_after_ms(soup_message_headers_get_one(h, "Retry-After"),
                                                g_get_real_time() / G_USEC_PER_SEC);
  fail(s, error, (int)status, what->str, status_hint(s->c, status));
  g_string_free(what, TRUE);
}

/* Reads a 2xx body into memory or the sink. Returns the response, or NULL
 * with @error and s->retryable. */
static LatheHttpResponse *read_body(Send *s, SoupMessage *msg, GInputStream *in, Watch *w,
                                    GCancellable *user, GError **error) {
  LatheHttpClient *c = s->c;
  GCancellable *cancel = lathe_http_watch_cancellable(w);
  guint status = soup_message_get_status(msg);
  g_autoptr(GError) e = NULL;
  LatheHttpResponse *resp = NULL;
  g_autoptr(GChecksum) sha = s->digests & LATHE_HTTP_DIGEST_SHA256 ? g_checksum_new(G_CHECKSUM_SHA256) : NULL;
  g_autoptr(GChecksum) md5 = s->digests & LATHE_HTTP_DIGEST_MD5 ? g_checksum_new(G_CHECKSUM_MD5) : NULL;
  g_autoptr(GByteArray) body = s->sink ? NULL : g_byte_array_new();
  g_autofree guint8 *buf = g_malloc(CHUNK);
  guint64 total = 0;
  for (;;) {
    lathe_http_watch_kick(w);
    gssize n = g_input_stream_read(in, buf, CHUNK, cancel, &e);
    if (n < 0) {
      transport_error(s, w, user, e, error);
      return NULL;
    }
    if (n == 0)
      break;
    total += (guint64)n;
    if (sha)
      g_checksum_update(sha, buf, n);
    if (md5)
      g_checksum_update(md5, buf, n);
    if (body) {
      if (total > c->opt.max_body_bytes) {
        g_autofree char *what = g_strdup_printf(
            "the answer is larger than %" G_GSIZE_FORMAT " bytes", c->opt.max_body_bytes);
        fail(s, error, LATHE_HTTP_ERROR_TOO_LARGE, what, "stream it to a file instead");
        return NULL;
      }
      g_byte_array_append(body, buf, (guint)n);
    } else {
      s->sink_used = TRUE;
      g_autoptr(GError) se = NULL;
      if (!s->sink->write(buf, (gsize)n, s->sink->user_data, &se)) {
        g_autofree char *what = g_strdup_printf("cannot store the answer: %s",
                                                se ? se->message : "the sink refused it");
        fail(s, error, LATHE_HTTP_ERROR_LOCAL, what, NULL);
        return NULL;
      }
    }
  }
  /* libsoup reports a short Content-Length body; this is a second guard. */
  SoupMessageHeaders *rh = soup_message_get_response_headers(msg);
  goffset expect = soup_message_headers_get_encoding(rh) == SOUP_ENCODING_CONTENT_LENGTH
                       ? soup_message_headers_get_content_length(rh)
                       : -1;
  if (expect >= 0 && (guint64)expect != total && strcmp(s->r->method, "HEAD")) {
    g_autoptr(GError) cut = g_error_new(G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                        "closed after %" G_GUINT64_FORMAT " of %" G_GOFFSET_FORMAT " bytes",
                                        total, expect);
    transport_error(s, w, user, cut, error);
    return NULL;
  }
  g_input_stream_close(in, NULL, NULL);
  resp = g_new0(LatheHttpResponse, 1);
  resp->status = status;
  resp->headers = soup_message_headers_ref(rh);
  resp->length = total;
  resp->body = body ? g_byte_array_free_to_bytes(g_steal_pointer(&body)) : NULL;
  resp->sha256 = sha ? g_strdup(g_checksum_get_string(sha)) : NULL;
  resp->md5 = md5 ? g_strdup(g_checksum_get_string(md5)) : NULL;
  resp->method = g_strdup(s->r->method);
  resp->url = g_strdup(s->shown);
  return resp;
}

/* One attempt. Returns the response, or NULL with @error and s->retryable. */
static LatheHttpResponse *attempt(Send *s, GCancellable *user, GError **error) {
  LatheHttpClient *c = s->c;
  s->started = s->retryable = FALSE;
  s->retry_after_ms = -1;
  g_autoptr(SoupMessage) msg = soup_message_new(s->r->method, s->url);
  if (!msg) {
    fail(s, error, LATHE_HTTP_ERROR_INVALID, "not a valid URL", "check the address and path");
    return NULL;
  }
  /* libsoup gives a POST a new connection each time unless told it is
   * idempotent; one marked so here may reuse the idle keep-alive one. */
  soup_message_set_flags(msg, SOUP_MESSAGE_NO_REDIRECT |
                                  (s->r->idempotent ? SOUP_MESSAGE_IDEMPOTENT : 0));
  SoupMessageHeaders *h = soup_message_get_request_headers(msg);
  if (c->auth)
    soup_message_headers_replace(h, "Authorization", c->auth);
  for (guint i = 0; i + 1 < s->r->headers->len; i += 2)
    soup_message_headers_replace(h, s->r->headers->pdata[i], s->r->headers->pdata[i + 1]);
  if (!attach_body(s, msg, error))
    return NULL;
  Watch *w = lathe_http_watch_new(user, c->opt.connect_timeout_ms, c->opt.idle_timeout_ms);
  GCancellable *cancel = lathe_http_watch_cancellable(w);
  g_object_set_data(G_OBJECT(msg), "lathe-send", s);
  g_signal_connect(msg, "starting", G_CALLBACK(on_starting), w);
  g_signal_connect(msg, "wrote-headers", G_CALLBACK(on_progress), w);
  g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_body_data), w);
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_progress), w);

  LatheHttpResponse *resp = NULL;
  g_autoptr(GError) e = NULL;
  g_autoptr(GInputStream) in = soup_session_send(c->session, msg, cancel, &e);
  if (!in) {
    transport_error(s, w, user, e, error);
    goto out;
  }
  guint status = soup_message_get_status(msg);
  g_debug("%s %s: %u", s->r->method, s->shown, status);
  if (status < 200 || status >= 300) {
    status_error(s, msg, in, w, error);
    goto out;
  }
  resp = read_body(s, msg, in, w, user, error);
out:
  g_signal_handlers_disconnect_by_data(msg, w);
  lathe_http_watch_free(w);
  return resp;
}

/* Sleeps @ms, waking early when @cancel fires. */
static void wait_ms(guint ms, GCancellable *cancel) {
  gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
  gint64 now;
  while ((now = g_get_monotonic_time()) < end && !(cancel && g_cancellable_is_cancelled(cancel)))
    g_usleep((gulong)MIN(end - now, 20000));
}

static LatheHttpResponse *run(LatheHttpClient *c, LatheHttpRequest *r, const LatheHttpSink *sink,
                              LatheHttpDigests digests, GCancellable *cancel, GError **error) {
  g_mutex_lock(&c->lock);
  Send s = {.c = c, .r = r, .sink = sink, .digests = digests};
  s.url = build_url(c, r);
  s.shown = lathe_http_redact_url(s.url);
  gint64 t0 = g_get_monotonic_time();
  gint64 deadline = t0 + (gint64)c->opt.total_timeout_ms * 1000;
  LatheHttpResponse *resp = NULL;
  for (guint n = 1;; n++) {
    g_autoptr(GError) e = NULL;
    if (n > 1 && s.sink_used) {
      g_autoptr(GError) re = NULL;
      if (!sink->reset(sink->user_data, &re)) {
        g_autofree char *what = g_strdup_printf("cannot restart the download: %s",
                                                re ? re->message : "the sink refused");
        fail(&s, error, LATHE_HTTP_ERROR_LOCAL, what, NULL);
        break;
      }
      s.sink_used = FALSE;
    }
    resp = attempt(&s, cancel, &e);
    if (resp) {
      resp->attempts = n;
      break;
    }
    gint64 now = g_get_monotonic_time();
    guint wait = lathe_http_backoff_ms(n, c->opt.backoff_initial_ms, c->opt.backoff_max_ms, c->rand);
    if (s.retry_after_ms >= 0)
      wait = (guint)MIN(s.retry_after_ms, (gint64)G_MAXUINT);
    gboolean budget = now + (gint64)wait * 1000 < deadline;
    if (!s.retryable || n >= c->opt.max_attempts || !budget ||
        (cancel && g_cancellable_is_cancelled(cancel))) {
      if (s.retryable && (n > 1 || !budget)) {
        char *msg = g_strdup_printf("%s (gave up after %u attempt%s in %.1f s%s)", e->message, n,
                                    n == 1 ? "" : "s", (double)(now - t0) / G_USEC_PER_SEC,
                                    budget ? "" : ", the next would pass the time budget");
        g_free(e->message);
        e->message = msg;
      }
      g_propagate_error(error, g_steal_pointer(&e));
      break;
    }
    g_debug("%s %s: attempt %u failed (%s); retrying in %u ms", r->method, s.shown, n,
            e->message, wait);
    wait_ms(wait, cancel);
  }
  g_free(s.url);
  g_free(s.shown);
  g_mutex_unlock(&c->lock);
  return resp;
}

LatheHttpResponse *lathe_http_client_send(LatheHttpClient *c, LatheHttpRequest *r,
                                          GCancellable *cancellable, GError **error) {
  return run(c, r, NULL, LATHE_HTTP_DIGEST_NONE, cancellable, error);
}

LatheHttpResponse *lathe_http_client_stream(LatheHttpClient *c, LatheHttpRequest *r,
                                            const LatheHttpSink *sink, LatheHttpDigests digests,
                                            GCancellable *cancellable, GError **error) {
  return run(c, r, sink, digests, cancellable, error);
}

typedef struct {
  int fd;
} FileSink;

static gboolean file_write(const guint8 *data, gsize len, gpointer user_data, GError **error) {
  FileSink *f = user_data;
  while (len) {
    ssize_t n = write(f->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s", g_strerror(errno));
      return FALSE;
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

static gboolean file_reset(gpointer user_data, GError **error) {
  FileSink *f = user_data;
  if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s", g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

LatheHttpResponse *lathe_http_client_download(LatheHttpClient *c, LatheHttpRequest *r,
                                              const char *path, LatheHttpDigests digests,
                                              GCancellable *cancellable, GError **error) {
  g_autofree char *part = g_strconcat(path, ".part", NULL);
  FileSink f = {.fd = g_open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0) {
    int err = errno;
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_LOCAL, "cannot write %s: %s", part,
                g_strerror(err));
    return NULL;
  }
  LatheHttpSink sink = {file_write, file_reset, &f};
  LatheHttpResponse *resp = run(c, r, &sink, digests, cancellable, error);
  gboolean closed = close(f.fd) == 0;
  if (resp && (!closed || g_rename(part, path) != 0)) {
    int err = errno;
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_LOCAL, "cannot write %s: %s", path,
                g_strerror(err));
    g_clear_pointer(&resp, lathe_http_response_free);
  }
  if (!resp)
    g_unlink(part);
  return resp;
}
