/* The server side of the HTTP layer (lathe-http-server.h) on loopback: routes
 * by method and path, 404/405/413 with JSON error bodies, a JSON-lines access
 * log; deferred answers, request ids, the in-flight limit and stop-accepting;
 * the signal handling of lathe_http_loop_run().
 * The server runs on its own thread and main context; the test is the client. */
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <unistd.h>

#include "lathe-http-server.h"

typedef struct {
  GMainContext *ctx;
  GMainLoop *loop;
  LatheHttpServer *srv;
  guint port;
  int log_fd[2];
  GMutex lock;
  GCond cond;
  gboolean ready;
  GPtrArray *held; /* exchanges deferred by /later, touched on the server thread only */
  guint n_held;    /* under lock */
} Fixture;

static void echo(LatheHttpExchange *ex, gpointer data) {
  g_string_printf(ex->out, "{\"path\":\"%s\",\"n\":%" G_GSIZE_FORMAT "}", ex->path, ex->body_len);
}

static void teapot(LatheHttpExchange *ex, gpointer data) {
  lathe_http_exchange_error(ex, 418, "short and \"stout\"");
}

static gpointer server_main(gpointer data) {
  Fixture *f = data;
  g_main_context_push_thread_default(f->ctx);
  f->srv = lathe_http_server_new(100);
  lathe_http_server_set_access_log(f->srv, f->log_fd[1]);
  lathe_http_server_set_timeout(f->srv, 300);
  lathe_http_server_route(f->srv, "POST", "/echo", FALSE, echo, NULL);
  lathe_http_server_route(f->srv, "GET", "/tree/", TRUE, echo, NULL);
  lathe_http_server_route(f->srv, "GET", "/teapot", FALSE, teapot, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_http_server_listen(f->srv, "127.0.0.1", 0, &f->port, &error));
  g_assert_no_error(error);
  g_mutex_lock(&f->lock);
  f->ready = TRUE;
  g_cond_signal(&f->cond);
  g_mutex_unlock(&f->lock);
  g_main_loop_run(f->loop);
  lathe_http_server_free(f->srv);
  g_main_context_pop_thread_default(f->ctx);
  return NULL;
}

static guint request(Fixture *f, const char *method, const char *path, const char *body, char **out) {
  g_autoptr(SoupSession) s = soup_session_new();
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u%s", f->port, path);
  g_autoptr(SoupMessage) msg = soup_message_new(method, url);
  if (body) {
    g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
    soup_message_set_request_body_from_bytes(msg, "application/json", b);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) resp = soup_session_send_and_read(s, msg, NULL, &error);
  g_assert_no_error(error);
  *out = g_strndup(g_bytes_get_data(resp, NULL), g_bytes_get_size(resp));
  return soup_message_get_status(msg);
}

static void expect_error(const char *text, guint code) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  g_assert_cmpint(json_object_get_int_member(o, "code"), ==, code);
  g_assert_true(strlen(json_object_get_string_member(o, "error")) > 0);
}

static void test_routes(void) {
  Fixture f = {0};
  g_assert_cmpint(pipe(f.log_fd), ==, 0);
  f.ctx = g_main_context_new();
  f.loop = g_main_loop_new(f.ctx, FALSE);
  g_mutex_init(&f.lock);
  g_cond_init(&f.cond);
  GThread *t = g_thread_new("server", server_main, &f);
  g_mutex_lock(&f.lock);
  while (!f.ready)
    g_cond_wait(&f.cond, &f.lock);
  g_mutex_unlock(&f.lock);
  g_assert_cmpuint(f.port, >, 0);

  char *out = NULL;
  g_assert_cmpuint(request(&f, "POST", "/echo", "{\"a\": 1}", &out), ==, 200);
  g_assert_cmpstr(out, ==, "{\"path\":\"/echo\",\"n\":8}");
  g_free(out);
  g_assert_cmpuint(request(&f, "GET", "/tree/a/b", NULL, &out), ==, 200);
  g_assert_cmpstr(out, ==, "{\"path\":\"/tree/a/b\",\"n\":0}");
  g_free(out);
  g_assert_cmpuint(request(&f, "GET", "/teapot", NULL, &out), ==, 418);
  expect_error(out, 418);
  g_assert_nonnull(strstr(out, "\\\"stout\\\""));
  g_free(out);
  g_assert_cmpuint(request(&f, "GET", "/nowhere", NULL, &out), ==, 404);
  expect_error(out, 404);
  g_free(out);
  g_assert_cmpuint(request(&f, "GET", "/echo", NULL, &out), ==, 405);
  expect_error(out, 405);
  g_free(out);
  g_autofree char *big = g_strnfill(101, 'x');
  g_assert_cmpuint(request(&f, "POST", "/echo", big, &out), ==, 413);
  expect_error(out, 413);
  g_free(out);

  /* A client that stalls in its headers loses the connection after the timeout. */
  g_autoptr(GSocketClient) sc = g_socket_client_new();
  g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host(sc, "127.0.0.1", (guint16)f.port, NULL, NULL);
  g_assert_nonnull(conn);
  GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  const char *partial = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  g_assert_true(g_output_stream_write_all(os, partial, strlen(partial), NULL, NULL, NULL));
  GInputStream *is = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  gint64 t0 = g_get_monotonic_time();
  char one[64];
  gssize got = g_input_stream_read(is, one, sizeof one, NULL, NULL);
  g_assert_cmpint(got, <=, 0);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);

  /* The cut connection's 408 line is written by the server's loop, maybe
   * after the client saw the close: read the log until it is there (5 s at
   * most) before stopping the loop. */
  g_assert_true(g_unix_set_fd_nonblocking(f.log_fd[0], TRUE, NULL));
  g_autoptr(GString) log = g_string_new(NULL);
  char buf[4096];
  for (gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
       !strstr(log->str, "\"status\":408") && g_get_monotonic_time() < end;) {
    ssize_t n = read(f.log_fd[0], buf, sizeof buf);
    if (n > 0)
      g_string_append_len(log, buf, n);
    else
      g_usleep(10000);
  }
  g_main_loop_quit(f.loop);
  g_main_context_wakeup(f.ctx);
  g_thread_join(t);
  close(f.log_fd[1]);
  for (ssize_t n; (n = read(f.log_fd[0], buf, sizeof buf)) > 0;)
    g_string_append_len(log, buf, n);
  g_assert_cmpuint(log->len, >, 0);
  g_assert_true(g_str_has_suffix(log->str, "\n"));
  g_auto(GStrv) lines = g_strsplit(log->str, "\n", -1);
  /* One JSON line for each request that reached on_request (the 413
   * answered from the headers does not). */
  if (g_strv_length(lines) != 7)
    g_printerr("%s\n", log->str);
  g_assert_cmpuint(g_strv_length(lines), ==, 7);
  /* The stalled request is logged as 408, never handled. */
  g_assert_nonnull(strstr(lines[5], "\"status\":408"));
  for (guint i = 0; i < 6; i++) {
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, lines[i], -1, NULL));
    g_assert_true(json_object_has_member(json_node_get_object(json_parser_get_root(p)), "status"));
  }
  close(f.log_fd[0]);
  g_main_loop_unref(f.loop);
  g_main_context_unref(f.ctx);
}

/* Holds the exchange until release() answers it from the server's loop. */
static void later(LatheHttpExchange *ex, gpointer data) {
  Fixture *f = data;
  lathe_http_exchange_defer(ex);
  lathe_http_exchange_set_header(ex, "X-Test", "held");
  lathe_http_exchange_log(ex, "held", "yes");
  g_ptr_array_add(f->held, ex);
  g_mutex_lock(&f->lock);
  f->n_held++;
  g_mutex_unlock(&f->lock);
}

static gboolean release(gpointer data) {
  Fixture *f = data;
  for (guint i = 0; i < f->held->len; i++) {
    LatheHttpExchange *ex = f->held->pdata[i];
    g_string_printf(ex->out, "{\"released\":\"%s\"}", ex->request_id);
    lathe_http_exchange_finish(ex);
  }
  g_ptr_array_set_size(f->held, 0);
  return G_SOURCE_REMOVE;
}

static gboolean stop(gpointer data) {
  lathe_http_server_stop_accepting(((Fixture *)data)->srv);
  return G_SOURCE_REMOVE;
}

static gpointer deferred_server_main(gpointer data) {
  Fixture *f = data;
  g_main_context_push_thread_default(f->ctx);
  f->srv = lathe_http_server_new(1000);
  lathe_http_server_set_max_in_flight(f->srv, 2);
  lathe_http_server_route(f->srv, "GET", "/later", FALSE, later, f);
  lathe_http_server_route(f->srv, "GET", "/now", FALSE, echo, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_http_server_listen(f->srv, "127.0.0.1", 0, &f->port, &error));
  g_mutex_lock(&f->lock);
  f->ready = TRUE;
  g_cond_signal(&f->cond);
  g_mutex_unlock(&f->lock);
  g_main_loop_run(f->loop);
  lathe_http_server_free(f->srv);
  g_main_context_pop_thread_default(f->ctx);
  return NULL;
}

typedef struct {
  Fixture *f;
  const char *path;
  const char *request_id;
  guint status;
  char *body, *got_id, *got_test;
} Call;

static gpointer call_thread(gpointer data) {
  Call *c = data;
  g_autoptr(SoupSession) s = soup_session_new();
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u%s", c->f->port, c->path);
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
  if (c->request_id)
    soup_message_headers_replace(soup_message_get_request_headers(msg), "X-Request-Id", c->request_id);
  g_autoptr(GBytes) resp = soup_session_send_and_read(s, msg, NULL, NULL);
  c->status = soup_message_get_status(msg);
  c->body = resp ? g_strndup(g_bytes_get_data(resp, NULL), g_bytes_get_size(resp)) : NULL;
  SoupMessageHeaders *h = soup_message_get_response_headers(msg);
  c->got_id = g_strdup(soup_message_headers_get_one(h, "X-Request-Id"));
  c->got_test = g_strdup(soup_message_headers_get_one(h, "X-Test"));
  return NULL;
}

static void call_clear(Call *c) {
  g_free(c->body);
  g_free(c->got_id);
  g_free(c->got_test);
}

static void test_deferred(void) {
  Fixture f = {0};
  f.ctx = g_main_context_new();
  f.loop = g_main_loop_new(f.ctx, FALSE);
  f.held = g_ptr_array_new();
  g_mutex_init(&f.lock);
  g_cond_init(&f.cond);
  GThread *t = g_thread_new("server", deferred_server_main, &f);
  g_mutex_lock(&f.lock);
  while (!f.ready)
    g_cond_wait(&f.cond, &f.lock);
  g_mutex_unlock(&f.lock);

  /* Two held requests fill --max-in-flight 2. */
  Call a = {.f = &f, .path = "/later", .request_id = "client-id-1"}, b = {.f = &f, .path = "/later"};
  GThread *ta = g_thread_new("a", call_thread, &a), *tb = g_thread_new("b", call_thread, &b);
  for (gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC; g_get_monotonic_time() < end;) {
    g_mutex_lock(&f.lock);
    guint n = f.n_held;
    g_mutex_unlock(&f.lock);
    if (n == 2)
      break;
    g_usleep(5000);
  }
  g_assert_cmpuint(f.n_held, ==, 2);
  Call c = {.f = &f, .path = "/now", .request_id = "bad id"};
  call_thread(&c);
  g_assert_cmpuint(c.status, ==, 503);
  expect_error(c.body, 503);
  g_assert_nonnull(strstr(c.body, "max-in-flight"));
  /* An unusable client id is replaced by a UUID. */
  g_assert_cmpuint(strlen(c.got_id), ==, 36);

  g_main_context_invoke(f.ctx, release, &f);
  g_thread_join(ta);
  g_thread_join(tb);
  g_assert_cmpuint(a.status, ==, 200);
  g_assert_cmpstr(a.got_id, ==, "client-id-1");
  g_assert_cmpstr(a.body, ==, "{\"released\":\"client-id-1\"}");
  g_assert_cmpstr(a.got_test, ==, "held");
  g_assert_cmpuint(b.status, ==, 200);
  g_assert_cmpuint(strlen(b.got_id), ==, 36);
  g_assert_nonnull(strstr(b.body, b.got_id));

  /* Below the limit again; then stop accepting: new connections are refused. */
  Call d = {.f = &f, .path = "/now"};
  call_thread(&d);
  g_assert_cmpuint(d.status, ==, 200);
  g_main_context_invoke(f.ctx, stop, &f);
  g_autoptr(GSocketClient) sc = g_socket_client_new();
  g_autoptr(GError) error = NULL;
  GSocketConnection *conn = NULL;
  for (gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC; g_get_monotonic_time() < end;) {
    g_clear_error(&error);
    conn = g_socket_client_connect_to_host(sc, "127.0.0.1", (guint16)f.port, NULL, &error);
    if (!conn)
      break;
    g_object_unref(conn);
    g_usleep(10000);
  }
  g_assert_null(conn);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);

  g_main_loop_quit(f.loop);
  g_main_context_wakeup(f.ctx);
  g_thread_join(t);
  call_clear(&a);
  call_clear(&b);
  call_clear(&c);
  call_clear(&d);
  g_ptr_array_unref(f.held);
  g_main_loop_unref(f.loop);
  g_main_context_unref(f.ctx);
}

static volatile sig_atomic_t after_loop;

static void count_after_loop(int sig) {
  (void)sig;
  after_loop++;
}

static gboolean raise_term(gpointer data) {
  (void)data;
  kill(getpid(), SIGTERM);
  return G_SOURCE_REMOVE;
}

static gboolean on_loop_signal(gpointer data) {
  g_main_loop_quit(data);
  return G_SOURCE_CONTINUE;
}

/* A server's shutdown runs after its loop: a SIGTERM then (a supervisor or
 * a test repeating it) reached SIG_DFL, GLib's default after its watch goes,
 * and killed a server that was exiting cleanly (exit 143). The handler in
 * place before the loop must get it. */
static void test_loop_signals(void) {
  struct sigaction sa = {0}, old_term, old_int;
  sa.sa_handler = count_after_loop;
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGINT, &sa, &old_int);
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add(10, raise_term, NULL);
  lathe_http_loop_run(loop, on_loop_signal, loop);
  g_assert_cmpint(after_loop, ==, 0);
  kill(getpid(), SIGTERM);
  kill(getpid(), SIGINT);
  for (int i = 0; i < 100 && after_loop < 2; i++)
    g_usleep(10000);
  g_assert_cmpint(after_loop, ==, 2);
  g_main_loop_unref(loop);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGINT, &old_int, NULL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-server/routes", test_routes);
  g_test_add_func("/http-server/deferred", test_deferred);
  g_test_add_func("/http-server/loop-signals", test_loop_signals);
  return g_test_run();
}
