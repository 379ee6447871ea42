/* test-http-client.c: the HTTP client (http/) against a loopback SoupServer.
 *
 * Every log line the process writes is captured (all levels, libsoup's too),
 * and the last test checks that no secret used anywhere reached one, nor an
 * error message. Timeouts and budgets are small, so the whole file runs in a
 * few seconds; meson bounds it anyway. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "lathe-http.h"
#include "test-server.h"

/* AddressSanitizer keeps freed blocks in a quarantine (256 MB by default),
 * so peak RSS there says nothing of streaming; the plain builds bound it. */
#include "../common/test-asan.h"

#define TOKEN "tok-3c1f9e-SECRET"
#define PASSWORD "pw-77aa-SECRET"

static TestServer *server;
static GString *captured; /* every log line and error message */
static GMutex captured_lock;

static GLogWriterOutput capture(GLogLevelFlags level, const GLogField *fields, gsize n,
                                gpointer data) {
  g_mutex_lock(&captured_lock);
  for (gsize i = 0; i < n; i++)
    if (!strcmp(fields[i].key, "MESSAGE")) {
      g_string_append_len(captured, fields[i].value, fields[i].length);
      g_string_append_c(captured, '\n');
    }
  g_mutex_unlock(&captured_lock);
  if (level & G_LOG_LEVEL_DEBUG)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default(level, fields, n, data);
}

/* Records an error message for the secret check, and checks it is one line. */
static void seen(const GError *e) {
  g_assert_nonnull(e);
  g_assert_null(strchr(e->message, '\n'));
  g_mutex_lock(&captured_lock);
  g_string_append_printf(captured, "%s\n", e->message);
  g_mutex_unlock(&captured_lock);
  g_test_message("error: %s", e->message);
}

static LatheHttpClient *client_with(guint attempts, guint connect_ms, guint idle_ms,
                                    guint total_ms) {
  LatheHttpOptions o;
  lathe_http_options_init(&o);
  o.max_attempts = attempts;
  o.connect_timeout_ms = connect_ms;
  o.idle_timeout_ms = idle_ms;
  o.total_timeout_ms = total_ms;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  g_autoptr(GError) e = NULL;
  LatheHttpClient *c = lathe_http_client_new(test_server_url(server), &o, &e);
  g_assert_no_error(e);
  return c;
}

static LatheHttpClient *client(void) {
  return client_with(4, 2000, 2000, 20000);
}

static void test_json_round_trip(void) {
  g_autoptr(LatheHttpClient) c = client();
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, "{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}", -1,
                                           NULL));
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) got = lathe_http_client_json(c, "POST", "/echo", json_parser_get_root(p),
                                                   NULL, &e);
  g_assert_no_error(e);
  JsonObject *o = json_node_get_object(got);
  g_assert_cmpstr(json_object_get_string_member(o, "method"), ==, "POST");
  g_assert_true(json_node_equal(json_object_get_member(o, "body"), json_parser_get_root(p)));
  /* Query parameters are escaped. */
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", "echo");
  lathe_http_request_add_query(r, "path", "a b/c&d");
  g_autoptr(LatheHttpResponse) resp = lathe_http_client_send(c, r, NULL, &e);
  g_assert_no_error(e);
  g_assert_cmpuint(lathe_http_response_get_status(resp), ==, 200);
  g_autoptr(JsonNode) j = lathe_http_response_get_json(resp, &e);
  g_assert_no_error(e);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(j), "query"), ==,
                  "path=a%20b%2Fc%26d");
}

static const char *echoed_auth(LatheHttpClient *c, JsonNode **keep) {
  g_autoptr(GError) e = NULL;
  *keep = lathe_http_client_json(c, "GET", "/echo", NULL, NULL, &e);
  g_assert_no_error(e);
  JsonNode *a = json_object_get_member(json_node_get_object(*keep), "auth");
  return JSON_NODE_HOLDS_NULL(a) ? NULL : json_node_get_string(a);
}

static void test_auth_headers(void) {
  g_autoptr(LatheHttpClient) c = client();
  g_autoptr(JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
  g_assert_null(echoed_auth(c, &n1));
  lathe_http_client_set_bearer_token(c, TOKEN);
  g_assert_cmpstr(echoed_auth(c, &n2), ==, "Bearer " TOKEN);
  lathe_http_client_set_basic_auth(c, "alice", PASSWORD);
  g_autofree char *b64 = g_base64_encode((const guchar *)"alice:" PASSWORD, strlen("alice:" PASSWORD));
  g_autofree char *basic = g_strconcat("Basic ", b64, NULL);
  g_assert_cmpstr(echoed_auth(c, &n3), ==, basic);
  /* Credentials in the base URL become basic auth, and leave the URL. */
  g_autofree char *url = g_strdup_printf("http://alice:%s@%s", PASSWORD,
                                         test_server_url(server) + strlen("http://"));
  g_autoptr(GError) e = NULL;
  g_autoptr(LatheHttpClient) u = lathe_http_client_new(url, NULL, &e);
  g_assert_no_error(e);
  g_assert_null(strstr(lathe_http_client_get_base_url(u), PASSWORD));
  g_assert_cmpstr(echoed_auth(u, &n4), ==, basic);
}

static void test_401(void) {
  g_autoptr(LatheHttpClient) c = client();
  lathe_http_client_set_bearer_token(c, TOKEN);
  lathe_http_client_set_auth_hint(c, "set LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY");
  g_autoptr(GError) e = NULL;
  g_autoptr(JsonNode) n =
      lathe_http_client_json(c, "GET", "/status/401?token=" TOKEN "&page=2", NULL, NULL, &e);
  g_assert_null(n);
  g_assert_error(e, LATHE_HTTP_ERROR, 401);
  seen(e);
  g_autofree char *want = g_strdup_printf(
      "GET %s/status/401?token=REDACTED&page=2: 401 Unauthorized: invalid credentials (you sent "
      "Bearer REDACTED); set LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
      test_server_url(server));
  g_assert_cmpstr(e->message, ==, want);
  g_assert_cmpuint(test_server_hits(server, "/status/401"), ==, 1); /* not retried */
}

static void test_429_retry_after(void) {
  g_autoptr(LatheHttpClient) c = client();
  const char *paths[] = {"/ratelimit", "/ratelimit-date"};
  for (int i = 0; i < 2; i++) {
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", paths[i]);
    g_autoptr(GError) e = NULL;
    g_autoptr(LatheHttpResponse) resp = lathe_http_client_send(c, r, NULL, &e);
    g_assert_no_error(e);
    gint64 took = (g_get_monotonic_time() - t0) / 1000;
    g_assert_cmpuint(lathe_http_response_get_attempts(resp), ==, 2);
    g_assert_cmpuint(test_server_hits(server, paths[i]), ==, 2);
    /* Retry-After: 1 waits about a second, not the 20 ms backoff; an HTTP
     * date has whole seconds, so anything up to two. */
    if (i == 0)
      g_assert_cmpint(took, >=, 900);
    g_assert_cmpint(took, <, 3000);
  }
}

static void test_503_budget(void) {
  g_autoptr(LatheHttpClient) c = client_with(3, 2000, 2000, 20000);
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", "/unavailable");
  g_autoptr(GError) e = NULL;
  g_assert_null(lathe_http_client_send(c, r, NULL, &e));
  g_assert_error(e, LATHE_HTTP_ERROR, 503);
  seen(e);
  g_assert_cmpuint(test_server_hits(server, "/unavailable"), ==, 3);
  g_assert_nonnull(strstr(e->message, "503 Service Unavailable: maintenance"));
  g_assert_nonnull(strstr(e->message, "gave up after 3 attempts"));
  g_assert_nonnull(strstr(e->message, "try again later"));
  /* A POST got an answer: the server saw it, so it is not sent again. */
  g_autoptr(LatheHttpRequest) post = lathe_http_request_new("POST", "/unavailable");
  g_autoptr(GError) e2 = NULL;
  g_assert_null(lathe_http_client_send(c, post, NULL, &e2));
  g_assert_error(e2, LATHE_HTTP_ERROR, 503);
  g_assert_cmpuint(test_server_hits(server, "/unavailable"), ==, 4);
  /* The total time budget ends retries before the attempts do. */
  g_autoptr(LatheHttpClient) t = client_with(100, 2000, 2000, 300);
  g_autoptr(GError) e3 = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_assert_null(lathe_http_client_send(t, r, NULL, &e3));
  seen(e3);
  g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 1500);
  g_assert_nonnull(strstr(e3->message, "time budget"));
}

static void test_connect_timeout(void) {
  /* A listener whose backlog is full and that never accepts: the kernel
   * drops further SYNs, so connecting hangs. */
  g_autoptr(GSocket) l = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(l, any, TRUE, NULL));
  g_socket_set_listen_backlog(l, 0);
  g_assert_true(g_socket_listen(l, NULL));
  g_autoptr(GSocketAddress) addr = g_socket_get_local_address(l, NULL);
  g_autoptr(GPtrArray) fill = g_ptr_array_new_with_free_func(g_object_unref);
  for (int i = 0; i < 4; i++) {
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_socket_set_blocking(s, FALSE);
    g_socket_connect(s, addr, NULL, NULL);
    g_ptr_array_add(fill, s);
  }
  g_usleep(100000);
  guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr));
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", port);
  LatheHttpOptions o;
  lathe_http_options_init(&o);
  o.max_attempts = 2;
  o.connect_timeout_ms = 300;
  o.backoff_initial_ms = 10;
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(url, &o, NULL);
  /* Not one byte left: a POST is retried too. */
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("POST", "/x");
  g_autoptr(GError) e = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_assert_null(lathe_http_client_send(c, r, NULL, &e));
  gint64 took = (g_get_monotonic_time() - t0) / 1000;
  g_assert_error(e, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_TIMEOUT);
  seen(e);
  g_assert_nonnull(strstr(e->message, "connect timeout (300 ms)"));
  g_assert_nonnull(strstr(e->message, "gave up after 2 attempts"));
  g_assert_cmpint(took, >=, 550);
  g_assert_cmpint(took, <, 2000);
}

static void test_refused_post_retried(void) {
  /* A port nobody listens on: the connection fails before the request. */
  g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(s, any, TRUE, NULL));
  g_autoptr(GSocketAddress) addr = g_socket_get_local_address(s, NULL);
  guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr));
  g_socket_close(s, NULL);
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/api", port);
  LatheHttpOptions o;
  lathe_http_options_init(&o);
  o.max_attempts = 3;
  o.backoff_initial_ms = 10;
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(url, &o, NULL);
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("POST", "/commits");
  g_autoptr(GError) e = NULL;
  g_assert_null(lathe_http_client_send(c, r, NULL, &e));
  g_assert_error(e, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_CONNECT);
  seen(e);
  g_assert_true(g_str_has_prefix(e->message, "POST http://127.0.0.1:"));
  g_assert_nonnull(strstr(e->message, "/api/commits: cannot connect"));
  g_assert_nonnull(strstr(e->message, "gave up after 3 attempts"));
}

static void test_idle_timeout(void) {
  g_autoptr(LatheHttpClient) c = client_with(1, 2000, 300, 20000);
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", "/stall");
  g_autoptr(GError) e = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_assert_null(lathe_http_client_send(c, r, NULL, &e));
  gint64 took = (g_get_monotonic_time() - t0) / 1000;
  g_assert_error(e, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_TIMEOUT);
  seen(e);
  g_assert_nonnull(strstr(e->message, "sent nothing for the idle timeout (300 ms)"));
  g_assert_cmpint(took, >=, 280);
  g_assert_cmpint(took, <, 2000);
}

static void test_drop_mid_download(void) {
  g_autoptr(LatheHttpClient) c = client();
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", "/drop-once");
  g_autoptr(GError) e = NULL;
  g_autofree char *dir = g_dir_make_tmp("lathe-http-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "obj", NULL);
  g_autoptr(LatheHttpResponse) resp =
      lathe_http_client_download(c, r, path, LATHE_HTTP_DIGEST_SHA256 | LATHE_HTTP_DIGEST_MD5, NULL, &e);
  g_assert_no_error(e);
  g_assert_cmpuint(lathe_http_response_get_attempts(resp), ==, 2);
  g_assert_cmpuint(test_server_hits(server, "/drop-once"), ==, 2);
  /* The file holds the second, whole body only: the sink was reset. */
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, ==, 100000);
  g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
  g_autofree char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, (guchar *)data, len);
  g_assert_cmpstr(lathe_http_response_get_digest(resp, LATHE_HTTP_DIGEST_SHA256), ==, sha);
  g_assert_cmpstr(lathe_http_response_get_digest(resp, LATHE_HTTP_DIGEST_MD5), ==, md5);
  g_unlink(path);
  g_rmdir(dir);
}

static void test_post_not_retried(void) {
  g_autoptr(LatheHttpClient) c = client();
  g_autoptr(JsonNode) body = json_node_new(JSON_NODE_NULL);
  g_autoptr(GError) e = NULL;
  g_assert_null(lathe_http_client_json(c, "POST", "/drop", body, NULL, &e));
  g_assert_error(e, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_NETWORK);
  seen(e);
  g_assert_cmpuint(test_server_hits(server, "/drop"), ==, 1);
  g_assert_null(strstr(e->message, "gave up"));
  /* The same call marked idempotent is retried. */
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("POST", "/drop");
  lathe_http_request_set_idempotent(r, TRUE);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(lathe_http_client_send(c, r, NULL, &e2));
  g_assert_cmpuint(test_server_hits(server, "/drop"), ==, 1 + 4);
}

static gboolean hash_sink(const guint8 *data, gsize len, gpointer user_data, GError **error) {
  g_checksum_update(user_data, data, len);
  return TRUE;
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void test_big_download(void) {
  /* In a fresh process of its own, so the peak RSS is this test's. */
  if (!g_test_subprocess()) {
    g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR | G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed();
    return;
  }
  const guint64 size = 80ull * 1024 * 1024;
  g_autoptr(GChecksum) want = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(TEST_BIG_CHUNK);
  for (guint64 i = 0; i < size / TEST_BIG_CHUNK; i++) {
    test_big_chunk(i, buf);
    g_checksum_update(want, buf, TEST_BIG_CHUNK);
  }
  TestServer *ts = test_server_start();
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(test_server_url(ts), NULL, NULL);
  long before = max_rss_kb();
  g_autoptr(LatheHttpRequest) r = lathe_http_request_new("GET", "/big");
  g_autofree char *n = g_strdup_printf("%" G_GUINT64_FORMAT, size);
  lathe_http_request_add_query(r, "size", n);
  g_autoptr(GChecksum) got = g_checksum_new(G_CHECKSUM_SHA256);
  LatheHttpSink sink = {hash_sink, NULL, got};
  g_autoptr(GError) e = NULL;
  g_autoptr(LatheHttpResponse) resp =
      lathe_http_client_stream(c, r, &sink, LATHE_HTTP_DIGEST_SHA256, NULL, &e);
  g_assert_no_error(e);
  long after = max_rss_kb();
  g_test_message("80 MiB streamed: peak RSS %ld -> %ld KiB", before, after);
  g_assert_cmpuint(lathe_http_response_get_length(resp), ==, size);
  g_assert_cmpstr(lathe_http_response_get_digest(resp, LATHE_HTTP_DIGEST_SHA256), ==,
                  g_checksum_get_string(want));
  g_assert_cmpstr(g_checksum_get_string(got), ==, g_checksum_get_string(want));
  /* Client and server together grew by far less than the body. */
#ifndef UNDER_ASAN
  g_assert_cmpint(after - before, <, 16 * 1024);
#endif
  lathe_http_client_free(g_steal_pointer(&c));
  test_server_stop(ts);
}

static void test_upload(void) {
  g_autoptr(LatheHttpClient) c = client();
  g_autofree char *dir = g_dir_make_tmp("lathe-http-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "up", NULL);
  FILE *f = fopen(path, "wb");
  g_autoptr(GChecksum) want = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(TEST_BIG_CHUNK);
  for (int i = 0; i < 128; i++) { /* 8 MiB */
    test_big_chunk((guint64)i, buf);
    fwrite(buf, 1, TEST_BIG_CHUNK, f);
    g_checksum_update(want, buf, TEST_BIG_CHUNK);
  }
  fclose(f);
  for (int mode = 0; mode < 2; mode++) {
    g_autoptr(LatheHttpRequest) r = lathe_http_request_new("PUT", "/upload");
    g_autoptr(GFile) gf = g_file_new_for_path(path);
    g_autoptr(GFileInputStream) in = mode ? g_file_read(gf, NULL, NULL) : NULL;
    if (mode)
      lathe_http_request_set_stream(r, G_INPUT_STREAM(in), -1, NULL); /* chunked */
    else
      lathe_http_request_set_file(r, path, NULL);
    g_autoptr(GError) e = NULL;
    g_autoptr(LatheHttpResponse) resp = lathe_http_client_send(c, r, NULL, &e);
    g_assert_no_error(e);
    g_autoptr(JsonNode) j = lathe_http_response_get_json(resp, &e);
    g_assert_no_error(e);
    JsonObject *o = json_node_get_object(j);
    g_assert_cmpint(json_object_get_int_member(o, "length"), ==, 128 * TEST_BIG_CHUNK);
    g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==, g_checksum_get_string(want));
  }
  g_unlink(path);
  g_rmdir(dir);
}

static void test_invalid(void) {
  g_autoptr(GError) e = NULL;
  g_assert_null(lathe_http_client_new("ftp://u:" PASSWORD "@host/", NULL, &e));
  g_assert_error(e, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_INVALID);
  seen(e);
  g_autoptr(LatheHttpClient) c = client();
  g_autoptr(GError) e2 = NULL;
  g_assert_null(lathe_http_client_json(c, "GET", "/nowhere", NULL, NULL, &e2));
  g_assert_error(e2, LATHE_HTTP_ERROR, 404);
  seen(e2);
}

static gpointer many_gets(gpointer data) {
  LatheHttpClient *shared = data;
  g_autoptr(LatheHttpClient) own = client();
  for (int i = 0; i < 20; i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(JsonNode) a = lathe_http_client_json(i % 2 ? own : shared, "GET", "/echo", NULL, NULL, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(a), "method"), ==, "GET");
  }
  return NULL;
}

/* Worker threads: one client each, and one shared (serialized). */
static void test_threads(void) {
  g_autoptr(LatheHttpClient) shared = client();
  GThread *t[4];
  for (int i = 0; i < 4; i++)
    t[i] = g_thread_new("client", many_gets, shared);
  for (int i = 0; i < 4; i++)
    g_thread_join(t[i]);
}

/* Last: nothing logged or raised so far holds a secret. */
static void test_no_secret_anywhere(void) {
  g_mutex_lock(&captured_lock);
  g_assert_cmpuint(captured->len, >, 0);
  g_assert_null(strstr(captured->str, TOKEN));
  g_assert_null(strstr(captured->str, PASSWORD));
  g_autofree char *b64 = g_base64_encode((const guchar *)"alice:" PASSWORD, strlen("alice:" PASSWORD));
  g_assert_null(strstr(captured->str, b64));
  g_mutex_unlock(&captured_lock);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  captured = g_string_new(NULL);
  g_log_set_writer_func(capture, NULL, NULL);
  g_test_add_func("/http/big-download", test_big_download);
  g_test_add_func("/http/json", test_json_round_trip);
  g_test_add_func("/http/auth", test_auth_headers);
  g_test_add_func("/http/401", test_401);
  g_test_add_func("/http/429-retry-after", test_429_retry_after);
  g_test_add_func("/http/503-budget", test_503_budget);
  g_test_add_func("/http/connect-timeout", test_connect_timeout);
  g_test_add_func("/http/refused-post-retried", test_refused_post_retried);
  g_test_add_func("/http/idle-timeout", test_idle_timeout);
  g_test_add_func("/http/drop-mid-download", test_drop_mid_download);
  g_test_add_func("/http/post-not-retried", test_post_not_retried);
  g_test_add_func("/http/upload", test_upload);
  g_test_add_func("/http/invalid", test_invalid);
  g_test_add_func("/http/threads", test_threads);
  g_test_add_func("/http/no-secret-anywhere", test_no_secret_anywhere);
  /* The subprocess of big-download starts a server of its own. */
  if (!g_test_subprocess())
    server = test_server_start();
  int rc = g_test_run();
  if (server)
    test_server_stop(server);
  return rc;
}
