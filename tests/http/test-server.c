/* test-server.c: the HTTP tests' server (test-server.h).
 *
 * Endpoints (hits are counted per path):
 *   /echo            JSON: method, Authorization, query, JSON body
 *   /status/NNN      status NNN, JSON {"message": ...} echoing Authorization,
 *                    so a test sees that a server echoing a secret is scrubbed
 *   /ratelimit       429 with Retry-After: 1 on the first hit, then 200
 *   /ratelimit-date  the same with an HTTP date
 *   /unavailable     always 503 {"error": "maintenance"}
 *   /drop            closes the connection without answering
 *   /drop-once       first hit: half of a 100000-byte body, then closes
 *   /stall           headers and 10 of 1000 bytes, then silence
 *   /big?size=N      N bytes, streamed in 64 KiB chunks (nothing accumulates)
 *   /upload          JSON {"length", "sha256"} of the request body
 */
#include "test-server.h"

#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

struct TestServer {
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  SoupServer *server;
  char *url;
  GMutex lock;
  GCond cond;
  gboolean ready;
  GHashTable *hits; /* path -> count */
  GPtrArray *held;  /* stolen connections left open (stalls) */
};

void test_big_chunk(guint64 index, guint8 *buf) {
  guint64 x = index * 0x9E3779B97F4A7C15ull + 1;
  for (gsize i = 0; i < TEST_BIG_CHUNK; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(buf + i, &x, 8);
  }
}

static void json_reply(SoupServerMessage *msg, guint status, JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  char *text = json_to_string(root, FALSE);
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text,
                                   strlen(text));
}

/* Writes @raw on the connection, then closes it or (keep) holds it open. */
static void raw_reply(TestServer *ts, SoupServerMessage *msg, const char *head, gsize body_len,
                      gboolean keep) {
  GIOStream *io = soup_server_message_steal_connection(msg);
  GOutputStream *out = g_io_stream_get_output_stream(io);
  if (head)
    g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
  g_autofree char *body = g_malloc0(body_len ? body_len : 1);
  memset(body, 'x', body_len);
  if (body_len)
    g_output_stream_write_all(out, body, body_len, NULL, NULL, NULL);
  g_output_stream_flush(out, NULL, NULL);
  if (keep) {
    g_ptr_array_add(ts->held, io);
  } else {
    g_io_stream_close(io, NULL, NULL);
    g_object_unref(io);
  }
}

typedef struct {
  guint64 next, count;
} Big;

static void big_append(SoupServerMessage *msg, Big *b) {
  SoupMessageBody *body = soup_server_message_get_response_body(msg);
  if (b->next == b->count) {
    soup_message_body_complete(body);
  } else {
    guint8 *buf = g_malloc(TEST_BIG_CHUNK);
    test_big_chunk(b->next++, buf);
    soup_message_body_append_take(body, buf, TEST_BIG_CHUNK);
  }
}

/* The I/O paused when it ran out of chunks: give it the next one. */
static void big_next(SoupServerMessage *msg, gpointer data) {
  big_append(msg, data);
  soup_server_message_unpause(msg);
}

static void big_free(gpointer data, GClosure *closure) {
  g_free(data);
}

static void serve_big(SoupServerMessage *msg, GHashTable *query) {
  const char *size = query ? g_hash_table_lookup(query, "size") : NULL;
  guint64 count = (size ? g_ascii_strtoull(size, NULL, 10) : 0) / TEST_BIG_CHUNK;
  Big *b = g_new0(Big, 1);
  b->count = count;
  soup_server_message_set_status(msg, 200, NULL);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_set_content_length(h, (goffset)(count * TEST_BIG_CHUNK));
  SoupMessageBody *body = soup_server_message_get_response_body(msg);
  /* Written chunks are dropped: the server holds one chunk at a time. */
  soup_message_body_set_accumulate(body, FALSE);
  g_signal_connect_data(msg, "wrote-chunk", G_CALLBACK(big_next), b, big_free, 0);
  big_append(msg, b);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                    GHashTable *query, gpointer data) {
  TestServer *ts = data;
  g_mutex_lock(&ts->lock);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ts->hits, path)) + 1;
  g_hash_table_replace(ts->hits, g_strdup(path), GUINT_TO_POINTER(n));
  g_mutex_unlock(&ts->lock);
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers(msg);
  const char *auth = soup_message_headers_get_one(req, "Authorization");
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);

  if (!strcmp(path, "/echo")) {
    json_builder_set_member_name(b, "method");
    json_builder_add_string_value(b, soup_server_message_get_method(msg));
    json_builder_set_member_name(b, "auth");
    auth ? json_builder_add_string_value(b, auth) : json_builder_add_null_value(b);
    json_builder_set_member_name(b, "query");
    const char *q = g_uri_get_query(soup_server_message_get_uri(msg));
    q ? json_builder_add_string_value(b, q) : json_builder_add_null_value(b);
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
    g_autoptr(JsonParser) p = json_parser_new();
    json_builder_set_member_name(b, "body");
    if (g_bytes_get_size(bytes) &&
        json_parser_load_from_data(p, g_bytes_get_data(bytes, NULL),
                                   (gssize)g_bytes_get_size(bytes), NULL))
      json_builder_add_value(b, json_node_copy(json_parser_get_root(p)));
    else
      json_builder_add_null_value(b);
  } else if (g_str_has_prefix(path, "/status/")) {
    guint status = (guint)atoi(path + 8);
    g_autofree char *m = g_strdup_printf("invalid credentials\n(you sent %s)", auth ? auth : "none");
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, m);
    json_builder_end_object(b);
    json_reply(msg, status, b);
    return;
  } else if (!strcmp(path, "/ratelimit") || !strcmp(path, "/ratelimit-date")) {
    if (n == 1) {
      if (!strcmp(path, "/ratelimit")) {
        soup_message_headers_replace(resp, "Retry-After", "1");
      } else {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autoptr(GDateTime) then = g_date_time_add_seconds(now, 1);
        g_autofree char *date = soup_date_time_to_string(then, SOUP_DATE_HTTP);
        soup_message_headers_replace(resp, "Retry-After", date);
      }
      json_builder_set_member_name(b, "message");
      json_builder_add_string_value(b, "slow down");
      json_builder_end_object(b);
      json_reply(msg, 429, b);
      return;
    }
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, TRUE);
  } else if (!strcmp(path, "/unavailable")) {
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, "maintenance");
    json_builder_end_object(b);
    json_reply(msg, 503, b);
    return;
  } else if (!strcmp(path, "/drop")) {
    raw_reply(ts, msg, NULL, 0, FALSE);
    return;
  } else if (!strcmp(path, "/drop-once")) {
    if (n == 1) {
      raw_reply(ts, msg, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 50000, FALSE);
      return;
    }
    g_autofree char *body = g_malloc(100000);
    memset(body, 'x', 100000);
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "application/octet-stream", SOUP_MEMORY_TAKE,
                                     g_steal_pointer(&body), 100000);
    return;
  } else if (!strcmp(path, "/stall")) {
    raw_reply(ts, msg, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 10, TRUE);
    return;
  } else if (!strcmp(path, "/big")) {
    serve_big(msg, query);
    return;
  } else if (!strcmp(path, "/upload")) {
    g_autoptr(GBytes) bytes = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
    json_builder_set_member_name(b, "length");
    json_builder_add_int_value(b, (gint64)g_bytes_get_size(bytes));
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, sha);
  } else {
    json_builder_end_object(b);
    json_reply(msg, 404, b);
    return;
  }
  json_builder_end_object(b);
  json_reply(msg, 200, b);
}

static gpointer server_thread(gpointer data) {
  TestServer *ts = data;
  g_main_context_push_thread_default(ts->ctx);
  ts->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(ts->server, NULL, handler, ts, NULL);
  g_autoptr(GError) e = NULL;
  if (!soup_server_listen_local(ts->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &e))
    g_error("test server: %s", e->message);
  GSList *uris = soup_server_get_uris(ts->server);
  GUri *uri = uris->data;
  g_mutex_lock(&ts->lock);
  ts->url = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(uri));
  ts->ready = TRUE;
  g_cond_signal(&ts->cond);
  g_mutex_unlock(&ts->lock);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  g_main_loop_run(ts->loop);
  g_ptr_array_set_size(ts->held, 0);
  soup_server_disconnect(ts->server);
  g_clear_object(&ts->server);
  g_main_context_pop_thread_default(ts->ctx);
  return NULL;
}

static void held_free(gpointer p) {
  g_io_stream_close(p, NULL, NULL);
  g_object_unref(p);
}

TestServer *test_server_start(void) {
  TestServer *ts = g_new0(TestServer, 1);
  g_mutex_init(&ts->lock);
  g_cond_init(&ts->cond);
  ts->hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ts->held = g_ptr_array_new_with_free_func(held_free);
  ts->ctx = g_main_context_new();
  ts->loop = g_main_loop_new(ts->ctx, FALSE);
  ts->thread = g_thread_new("test-server", server_thread, ts);
  g_mutex_lock(&ts->lock);
  while (!ts->ready)
    g_cond_wait(&ts->cond, &ts->lock);
  g_mutex_unlock(&ts->lock);
  return ts;
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

void test_server_stop(TestServer *ts) {
  g_main_context_invoke(ts->ctx, quit, ts->loop);
  g_thread_join(ts->thread);
  g_main_loop_unref(ts->loop);
  g_main_context_unref(ts->ctx);
  g_hash_table_unref(ts->hits);
  g_ptr_array_unref(ts->held);
  g_free(ts->url);
  g_mutex_clear(&ts->lock);
  g_cond_clear(&ts->cond);
  g_free(ts);
}

const char *test_server_url(TestServer *ts) {
  return ts->url;
}

guint test_server_hits(TestServer *ts, const char *path) {
  g_mutex_lock(&ts->lock);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ts->hits, path));
  g_mutex_unlock(&ts->lock);
  return n;
}
