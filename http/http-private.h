/* http-private.h: what the parts of http/ share (internal). */
#pragma once

#include <libsoup/soup.h>

#include "http-util.h"
#include "lathe-http.h"

struct _LatheHttpClient {
  GMutex lock; /* one request at a time: the session and rand are not shared */
  SoupSession *session;
  char *base_url; /* without credentials */
  char *auth;     /* the Authorization header's value, or NULL */
  char *secrets[4]; /* scrubbed from every message: password, token, auth values */
  char *auth_hint;
  LatheHttpOptions opt;
  GRand *rand;
};

typedef enum { BODY_NONE, BODY_BYTES, BODY_FILE, BODY_STREAM } BodyKind;

struct _LatheHttpRequest {
  char *method;
  char *path;
  GString *query;
  GPtrArray *headers; /* name, value, name, value... */
  gboolean idempotent;
  BodyKind body;
  GBytes *bytes;
  char *file;
  GInputStream *stream;
  gssize stream_len;
  goffset stream_start; /* where a seekable stream is rewound to */
  char *content_type;
};

struct _LatheHttpResponse {
  guint status;
  SoupMessageHeaders *headers;
  GBytes *body;
  guint64 length;
  char *sha256;
  char *md5;
  guint attempts;
  char *method;
  char *url; /* redacted */
};

/* The watchdog that turns connect and idle timeouts into cancellation
 * (http-watch.c): libsoup has one timeout for both, in whole seconds. */
typedef struct Watch Watch;
Watch *lathe_http_watch_new(GCancellable *user, guint connect_ms, guint idle_ms);
GCancellable *lathe_http_watch_cancellable(Watch *w);
/* The connection is up: from now on silence longer than idle_ms times out. */
void lathe_http_watch_transfer(Watch *w);
/* Progress: restarts the idle clock. */
void lathe_http_watch_kick(Watch *w);
/* 0: not fired; 1: the connect timeout fired; 2: the idle one. */
int lathe_http_watch_fired(Watch *w);
void lathe_http_watch_free(Watch *w);
