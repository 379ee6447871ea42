/* test-registry-mlflow.c: registry/mlflow through its ABI against the strict
 * MLflow test server (tests/mlflow), started here on free loopback ports;
 * what the plugin wrote is checked from outside through the server's
 * control port (/state). */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <lathe-http.h>

#include "test-util.h"

typedef struct {
  GPid pid;
  char *dir;
  char *uri;     /* MLFLOW_TRACKING_URI */
  char *control; /* the fault/state port */
} Server;

static Server *server; /* the open one, shared by the tests */

/* A failed assertion aborts the test: the server must not outlive it. */
static void die_with_parent(gpointer data) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static Server *server_start(const char *arg1, const char *arg2) {
  Server *s = g_new0(Server, 1);
  g_autoptr(GError) error = NULL;
  s->dir = g_dir_make_tmp("lathe-mlf-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *data = g_build_filename(s->dir, "data", NULL);
  g_autofree char *ready = g_build_filename(s->dir, "server.json", NULL);
  const char *script = g_getenv("LATHE_MLFLOW_SERVER");
  g_assert_nonnull(script);
  const char *argv[] = {"/usr/bin/python3", script, "serve", "--port", "0", "--control-port", "0",
                        "--data", data, "--ready-file", ready, arg1, arg2, NULL};
  g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                  G_SPAWN_STDERR_TO_DEV_NULL,
                              die_with_parent, NULL,
                              &s->pid, &error));
  g_assert_no_error(error);
  g_autofree char *text = NULL;
  for (int i = 0; i < 200 && !g_file_get_contents(ready, &text, NULL, NULL); i++)
    g_usleep(50000);
  g_assert_nonnull(text);
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  s->uri = g_strdup_printf("http://127.0.0.1:%" G_GINT64_FORMAT,
                           json_object_get_int_member(o, "port"));
  s->control = g_strdup_printf("http://127.0.0.1:%" G_GINT64_FORMAT,
                               json_object_get_int_member(o, "control_port"));
  return s;
}

static void server_stop(Server *s) {
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
  g_spawn_close_pid(s->pid);
  lathe_test_remove_tree(s->dir);
  g_free(s->dir);
  g_free(s->uri);
  g_free(s->control);
  g_free(s);
}

/* A call to the control port (not the API): faults, state. */
static JsonNode *control(const char *method, const char *path, const char *body) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(server->control, NULL, &error);
  g_assert_no_error(error);
  g_autoptr(LatheHttpRequest) req = lathe_http_request_new(method, path);
  g_autoptr(JsonNode) b = body ? json_from_string(body, &error) : NULL;
  if (b)
    lathe_http_request_set_json(req, b);
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(c, req, NULL, &error);
  g_assert_no_error(error);
  JsonNode *out = lathe_http_response_get_json(r, &error);
  g_assert_no_error(error);
  return out;
}

/* A call to the MLflow API itself, as another MLflow client would make. */
static void api(const char *method, const char *endpoint, const char *body) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(server->uri, NULL, &error);
  g_assert_no_error(error);
  g_autofree char *path = g_strconcat("/api/2.0/mlflow/", endpoint, NULL);
  g_autoptr(LatheHttpRequest) req = lathe_http_request_new(method, path);
  g_autoptr(JsonNode) b = json_from_string(body, &error);
  g_assert_no_error(error);
  lathe_http_request_set_json(req, b);
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(c, req, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
}

static void control_do(const char *method, const char *path, const char *body) {
  json_node_unref(control(method, path, body));
}

/* The server's own record of registered model @name. */
static JsonObject *state_model(const char *name) {
  g_autoptr(JsonNode) st = control("GET", "/state", NULL);
  JsonObject *models = json_object_get_object_member(json_node_get_object(st), "registered_models");
  g_assert_true(json_object_has_member(models, name));
  return json_object_ref(json_object_get_object_member(models, name));
}

static const LatheRegistryClass *klass(void) {
  return (const LatheRegistryClass *)lathe_test_component("registry-mlflow", "registry/mlflow");
}

typedef struct {
  LatheContext *ctx;
  gpointer reg;
} Open;

static gpointer open_reg(LatheContext **ctx, GError **error) {
  *ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "registry", NULL, 1);
  return klass()->open(*ctx, error);
}

static void setup(Open *o, gconstpointer data) {
  g_setenv("MLFLOW_TRACKING_URI", server->uri, TRUE);
  g_unsetenv("MLFLOW_TRACKING_TOKEN");
  g_autoptr(GError) error = NULL;
  o->reg = open_reg(&o->ctx, &error);
  g_assert_no_error(error);
}

static void teardown(Open *o, gconstpointer data) {
  if (o->reg)
    klass()->close(o->reg);
  lathe_context_free(o->ctx);
  control_do("DELETE", "/faults", NULL);
}

static GBytes *random_bytes(gsize n, guint32 seed) {
  g_autoptr(GRand) r = g_rand_new_with_seed(seed);
  guint8 *b = g_malloc(n);
  for (gsize i = 0; i < n; i++)
    b[i] = (guint8)g_rand_int(r);
  return g_bytes_new_take(b, n);
}

static guint reg_model(gpointer reg, const char *name, GBytes *bytes, const char *meta) {
  return lathe_test_register_model(klass(), reg, name, bytes, meta);
}

static void set_alias(gpointer reg, const char *name, const char *alias, guint version) {
  lathe_test_set_alias(klass(), reg, name, alias, version);
}

static char *digest(GBytes *b) {
  return g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, b);
}

/* Two versions through the artifact proxy: the same bytes come back, the
 * metadata round-trips through the tags, list and get_version agree. */
static void test_register_get(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b1 = random_bytes(300000, 1), b2 = random_bytes(1000, 2);
  const char *meta = "{\"run_id\": \"r1\", \"node\": \"reg\", \"pipeline\": \"p.json\","
                     " \"tracker_runs\": {\"tracker/sqlite\": \"r1\","
                     " \"tracker/mlflow#2\": \"fedcba9876543210fedcba9876543210\","
                     " \"tracker/mlflow\": \"0123456789abcdef0123456789abcdef\"},"
                     " \"metrics\": {\"accuracy\": 0.9375, \"loss\": 1e-08},"
                     " \"data_versions\": [{\"uri\": \"a.csv\", \"digest\": \"abc\"}],"
                     " \"model\": {\"component\": \"model/logreg\", \"plugin\": \"model-logreg\","
                     " \"plugin_version\": \"0.1.0\", \"state_version\": 1}}";
  g_assert_cmpuint(reg_model(o->reg, "rg", b1, meta), ==, 1);
  g_assert_cmpuint(reg_model(o->reg, "rg", b2, NULL), ==, 2);
  g_autoptr(GError) error = NULL;
  for (int v = 1; v <= 2; v++) {
    g_autofree char *ref = g_strdup_printf("%d", v);
    g_autoptr(GBytes) got = klass()->get(o->reg, "rg", ref, &error);
    g_assert_no_error(error);
    g_autofree char *want = digest(v == 1 ? b1 : b2), *have = digest(got);
    g_assert_cmpstr(have, ==, want);
  }
  g_autoptr(JsonArray) list = klass()->list(o->reg, "rg", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(list), ==, 2);
  JsonObject *v1 = json_array_get_object_element(list, 0);
  g_assert_cmpint(json_object_get_int_member(v1, "version"), ==, 1);
  g_autofree char *d1 = digest(b1);
  g_assert_cmpstr(json_object_get_string_member(v1, "digest"), ==, d1);
  JsonObject *m1 = json_object_get_object_member(v1, "metadata");
  g_assert_cmpstr(json_object_get_string_member(m1, "run_id"), ==, "r1");
  g_assert_cmpstr(json_object_get_string_member(m1, "pipeline"), ==, "p.json");
  JsonObject *tr = json_object_get_object_member(m1, "tracker_runs");
  g_assert_cmpstr(json_object_get_string_member(tr, "tracker/sqlite"), ==, "r1");
  g_assert_cmpuint(json_object_get_size(tr), ==, 3);
  JsonObject *metrics = json_object_get_object_member(m1, "metrics");
  g_assert_cmpfloat(json_object_get_double_member(metrics, "accuracy"), ==, 0.9375);
  g_assert_cmpfloat(json_object_get_double_member(metrics, "loss"), ==, 1e-08);
  JsonArray *dv = json_object_get_array_member(m1, "data_versions");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(dv, 0), "digest"),
                  ==, "abc");
  g_assert_cmpstr(
      json_object_get_string_member(json_object_get_object_member(m1, "model"), "component"), ==,
      "model/logreg");
  g_autoptr(JsonObject) shown = klass()->get_version(o->reg, "rg", "2", &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(shown, "version"), ==, 2);
  /* MLflow sees the metric and the lineage as version tags of their own. */
  g_autoptr(JsonObject) st = state_model("rg");
  JsonObject *sv1 = json_object_get_object_member(json_object_get_object_member(st, "versions"), "1");
  g_assert_true(g_str_has_prefix(json_object_get_string_member(sv1, "source"),
                                 "mlflow-artifacts:/lathe/models/sha256/"));
  /* The lathe run's MLflow run, when tracker/mlflow started it, is linked:
   * the default setting's before a second one's. */
  g_assert_cmpstr(json_object_get_string_member(sv1, "run_id"), ==,
                  "0123456789abcdef0123456789abcdef");
  g_assert_cmpstr(json_object_get_string_member(v1, "mlflow_run_id"), ==,
                  "0123456789abcdef0123456789abcdef");
  JsonObject *sv2 = json_object_get_object_member(json_object_get_object_member(st, "versions"), "2");
  g_assert_false(json_object_has_member(sv2, "run_id"));
  g_assert_cmpuint(reg_model(o->reg, "rg3", b2,
                             "{\"tracker_runs\": {\"tracker/sqlite\": \"r3\","
                             " \"tracker/mlflow#2\": \"fedcba9876543210fedcba9876543210\"}}"),
                   ==, 1);
  g_assert_cmpuint(reg_model(o->reg, "rg3", b2, "{\"tracker_runs\": {\"tracker/sqlite\": \"r4\"}}"),
                   ==, 2);
  g_autoptr(JsonObject) st3 = state_model("rg3");
  JsonObject *vs3 = json_object_get_object_member(st3, "versions");
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(vs3, "1"), "run_id"),
                  ==, "fedcba9876543210fedcba9876543210");
  g_assert_false(json_object_has_member(json_object_get_object_member(vs3, "2"), "run_id"));
  g_autoptr(GString) keys = g_string_new(NULL);
  JsonArray *tags = json_object_get_array_member(sv1, "tags");
  for (guint i = 0; i < json_array_get_length(tags); i++)
    g_string_append_printf(keys, "%s=%s;",
                           json_object_get_string_member(json_array_get_object_element(tags, i), "key"),
                           json_object_get_string_member(json_array_get_object_element(tags, i), "value"));
  g_assert_nonnull(strstr(keys->str, "lathe.metric.accuracy=0.9375;"));
  g_assert_nonnull(strstr(keys->str, "lathe.run_id=r1;"));
  g_assert_nonnull(strstr(keys->str, "lathe.load.component=model/logreg;"));
  g_assert_nonnull(strstr(keys->str, "lathe.data_versions=[{"));
  /* Unknown names and versions: empty list, one-line refusals. */
  g_autoptr(JsonArray) none = klass()->list(o->reg, "nosuch", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(none), ==, 0);
  g_autoptr(GBytes) missing = klass()->get(o->reg, "rg", "7", &error);
  g_assert_null(missing);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "has no version 7"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  g_autoptr(GBytes) nomodel = klass()->get(o->reg, "nosuch", "1", &error);
  g_assert_null(nomodel);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "no model named 'nosuch'"));
}

static JsonArray *history(gpointer reg, const char *name, const char *alias) {
  g_autoptr(GError) error = NULL;
  JsonArray *h = klass()->alias_history(reg, name, alias, &error);
  g_assert_no_error(error);
  return h;
}

static void assert_move(JsonArray *h, guint i, gint64 version, gint64 previous,
                        const char *reason) {
  JsonObject *m = json_array_get_object_element(h, i);
  g_assert_cmpint(json_object_get_int_member(m, "version"), ==, version);
  if (previous)
    g_assert_cmpint(json_object_get_int_member(m, "previous_version"), ==, previous);
  else
    g_assert_true(json_object_get_null_member(m, "previous_version"));
  g_assert_cmpstr(json_object_get_string_member(m, "reason"), ==, reason);
  g_assert_true(strlen(json_object_get_string_member(m, "set_at")) > 10);
}

/* Every move is in the history with its reason; a rollback (the host's:
 * back to previous_version) is a move too; unalias keeps the history. */
static void test_alias_history(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b1 = random_bytes(500, 11), b2 = random_bytes(600, 12);
  guint v1 = reg_model(o->reg, "al", b1, "{\"run_id\": \"run-a\"}");
  set_alias(o->reg, "al", "production", v1); /* right after its registration */
  guint v2 = reg_model(o->reg, "al", b2, "{\"run_id\": \"run-b\"}");
  set_alias(o->reg, "al", "staging", v2);
  set_alias(o->reg, "al", "production", v2);
  set_alias(o->reg, "al", "production", v2); /* where it points: not a move */
  set_alias(o->reg, "al", "production", v1); /* back: a rollback */
  g_autoptr(JsonArray) h = history(o->reg, "al", "production");
  g_assert_cmpuint(json_array_get_length(h), ==, 3);
  assert_move(h, 0, 1, 0, "register");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(h, 0), "run_id"), ==,
                  "run-a");
  assert_move(h, 1, 2, 1, "manual");
  assert_move(h, 2, 1, 2, "rollback");
  g_autoptr(JsonArray) all = history(o->reg, "al", NULL);
  g_assert_cmpuint(json_array_get_length(all), ==, 4);
  g_autoptr(JsonArray) everything = history(o->reg, NULL, NULL);
  g_assert_cmpuint(json_array_get_length(everything), >=, 4);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = klass()->get(o->reg, "al", "production", &error);
  g_assert_no_error(error);
  g_autofree char *want = digest(b1), *have = digest(got);
  g_assert_cmpstr(have, ==, want);
  /* unalias: gone from MLflow, still in the history. */
  g_assert_true(klass()->delete_alias(o->reg, "al", "production", &error));
  g_assert_no_error(error);
  g_autoptr(JsonObject) gone = klass()->get_version(o->reg, "al", "production", &error);
  g_assert_null(gone);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "has no alias production"));
  g_clear_error(&error);
  g_assert_false(klass()->delete_alias(o->reg, "al", "production", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_autoptr(JsonArray) kept = history(o->reg, "al", "production");
  g_assert_cmpuint(json_array_get_length(kept), ==, 3);
  /* Refusals: a version that does not exist, an alias read as a number. */
  g_assert_false(klass()->set_alias(o->reg, "al", "production", 9, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "has no version 9"));
  g_clear_error(&error);
  g_assert_false(klass()->set_alias(o->reg, "al", "2x", 1, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_autoptr(JsonArray) after = history(o->reg, "al", "production");
  g_assert_cmpuint(json_array_get_length(after), ==, 3);
}

/* set_alias_full (ABI 1.8): the host's reason, user, run and figures are
 * what the history gives back; figures too long for a tag are left out,
 * saying so, and the move still happens. */
static void test_alias_why(Open *o, gconstpointer data) {
  g_assert_nonnull(klass()->set_alias_full);
  g_autoptr(GBytes) b1 = random_bytes(300, 31), b2 = random_bytes(300, 32);
  guint v1 = reg_model(o->reg, "why", b1, NULL);
  guint v2 = reg_model(o->reg, "why", b2, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) whyn = json_from_string(
      "{\"reason\": \"promotion by evaluator/ab\", \"user\": \"ana\", \"run_id\": \"run-7\","
      " \"figures\": {\"candidate_accuracy\": 0.97, \"production_accuracy\": 0.9}}", NULL);
  JsonObject *why = json_node_get_object(whyn);
  g_assert_true(klass()->set_alias_full(o->reg, "why", "production", v1, why, &error));
  g_assert_no_error(error);
  GString *big = g_string_new("{\"reason\": \"canary withdrawn\", \"figures\": {\"psi\": [");
  for (int i = 0; i < 2000; i++)
    g_string_append_printf(big, "%s0.123456", i ? "," : "");
  g_string_append(big, "]}}");
  g_autoptr(JsonNode) bign = json_from_string(big->str, NULL);
  g_string_free(big, TRUE);
  g_assert_true(klass()->set_alias_full(o->reg, "why", "production", v2,
                                        json_node_get_object(bign), &error));
  g_assert_no_error(error);
  g_autoptr(JsonArray) h = history(o->reg, "why", "production");
  g_assert_cmpuint(json_array_get_length(h), ==, 2);
  JsonObject *m0 = json_array_get_object_element(h, 0), *m1 = json_array_get_object_element(h, 1);
  g_assert_cmpstr(json_object_get_string_member(m0, "reason"), ==, "promotion by evaluator/ab");
  g_assert_cmpstr(json_object_get_string_member(m0, "user"), ==, "ana");
  g_assert_cmpstr(json_object_get_string_member(m0, "run_id"), ==, "run-7");
  JsonObject *f = json_object_get_object_member(m0, "figures");
  g_assert_cmpfloat(json_object_get_double_member(f, "candidate_accuracy"), ==, 0.97);
  g_assert_cmpstr(json_object_get_string_member(m1, "reason"), ==, "canary withdrawn");
  g_assert_cmpint(json_object_get_int_member(m1, "previous_version"), ==, v1);
  g_assert_true(json_object_has_member(json_object_get_object_member(m1, "figures"), "omitted"));
  g_assert_cmpstr(json_object_get_string_member(m1, "user"), ==, g_get_user_name());
}

typedef struct {
  gpointer reg;
  guint version;
  gboolean ok;
} Mover;

static gpointer mover_main(gpointer data) {
  Mover *m = data;
  m->ok = klass()->set_alias(m->reg, "race", "production", m->version, NULL);
  return NULL;
}

/* Two processes move one alias at once. The server delays the first
 * history write, so both read the same sequence number: both records
 * survive (no overwrite), and the one that moved the alias last is last. */
static void test_concurrent_movers(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b1 = random_bytes(100, 21), b2 = random_bytes(100, 22),
                    b3 = random_bytes(100, 23);
  reg_model(o->reg, "race", b1, NULL);
  reg_model(o->reg, "race", b2, NULL);
  reg_model(o->reg, "race", b3, NULL);
  set_alias(o->reg, "race", "production", 1);
  control_do("POST", "/faults",
             "{\"kind\": \"delay\", \"ms\": 800, \"match\": \"setRegisteredModelTag\", "
             "\"count\": 1}");
  LatheContext *ctx2 = NULL;
  g_autoptr(GError) error = NULL;
  gpointer other = open_reg(&ctx2, &error);
  g_assert_no_error(error);
  Mover slow = {o->reg, 2, FALSE};
  GThread *t = g_thread_new("mover", mover_main, &slow);
  g_usleep(300000); /* the slow mover has read the history and waits */
  set_alias(other, "race", "production", 3);
  g_thread_join(t);
  g_assert_true(slow.ok);
  klass()->close(other);
  lathe_context_free(ctx2);
  g_autoptr(JsonArray) h = history(o->reg, "race", "production");
  g_assert_cmpuint(json_array_get_length(h), ==, 3);
  g_autoptr(JsonObject) now = klass()->get_version(o->reg, "race", "production", &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(now, "version"), ==, 2); /* the slow one landed last */
  JsonObject *last = json_array_get_object_element(h, 2);
  g_assert_cmpint(json_object_get_int_member(last, "version"), ==, 2);
  g_assert_cmpint(json_object_get_int_member(last, "previous_version"), ==, 1);
  /* Both records are there under distinct keys with the same sequence. */
  g_autoptr(JsonObject) st = state_model("race");
  JsonArray *tags = json_object_get_array_member(st, "tags");
  guint seq2 = 0;
  for (guint i = 0; i < json_array_get_length(tags); i++)
    if (g_str_has_prefix(json_object_get_string_member(json_array_get_object_element(tags, i), "key"),
                         "lathe.alias_history.production.000002."))
      seq2++;
  g_assert_cmpuint(seq2, ==, 2);
}

/* A value longer than MLflow's 5000-character tag limit is split into parts
 * that each fit, and read back whole. */
static void test_long_tag(Open *o, gconstpointer data) {
  GString *meta = g_string_new("{\"run_id\": \"r\", \"data_versions\": [");
  for (int i = 0; i < 300; i++)
    g_string_append_printf(meta, "%s{\"uri\": \"s3://bucket/some/long/prefix/file-%04d.csv\","
                                 " \"digest\": \"%064d\"}", i ? "," : "", i, i);
  g_string_append(meta, "]}");
  g_assert_cmpuint(meta->len, >, 3 * 5000);
  g_autoptr(GBytes) b = random_bytes(100, 31);
  reg_model(o->reg, "long", b, meta->str);
  g_autoptr(JsonObject) want = lathe_test_json_object(meta->str);
  g_string_free(meta, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) v = klass()->get_version(o->reg, "long", "1", &error);
  g_assert_no_error(error);
  JsonArray *dv = json_object_get_array_member(json_object_get_object_member(v, "metadata"),
                                               "data_versions");
  g_autoptr(JsonNode) a = json_node_init_array(json_node_alloc(), dv);
  g_autoptr(JsonNode) w = json_node_init_array(json_node_alloc(),
                                               json_object_get_array_member(want, "data_versions"));
  g_assert_true(json_node_equal(a, w));
  g_autoptr(JsonObject) st = state_model("long");
  JsonArray *tags = json_object_get_array_member(
      json_object_get_object_member(json_object_get_object_member(st, "versions"), "1"), "tags");
  guint parts = 0;
  for (guint i = 0; i < json_array_get_length(tags); i++) {
    JsonObject *t = json_array_get_object_element(tags, i);
    g_assert_cmpint(g_utf8_strlen(json_object_get_string_member(t, "value"), -1), <=, 5000);
    parts += g_str_has_prefix(json_object_get_string_member(t, "key"), "lathe.data_versions.part.");
  }
  g_assert_cmpuint(parts, >=, 4);
}

/* The answer to model-versions/create is lost after the server applied it:
 * the plugin finds the version by its request id, and creates no second. */
static void test_lost_answer(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b = random_bytes(100, 41);
  reg_model(o->reg, "lost", b, NULL);
  control_do("POST", "/faults",
             "{\"kind\": \"drop_after\", \"match\": \"createModelVersion\"}");
  g_assert_cmpuint(reg_model(o->reg, "lost", b, NULL), ==, 2);
  g_autoptr(JsonObject) st = state_model("lost");
  g_assert_cmpuint(json_object_get_size(json_object_get_object_member(st, "versions")), ==, 2);
}

/* Another MLflow client (the UI) made a version and moved the alias: list
 * shows the version, get refuses its bytes in one line, and the history
 * gains the unrecorded move, so a rollback returns to Lathe's last. */
static void test_outside(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b = random_bytes(100, 71);
  reg_model(o->reg, "out", b, NULL);
  reg_model(o->reg, "out", b, NULL);
  set_alias(o->reg, "out", "production", 1);
  set_alias(o->reg, "out", "production", 2);
  api("POST", "model-versions/create", "{\"name\": \"out\", \"source\": \"s3://bucket/m\"}");
  api("POST", "registered-models/alias",
      "{\"name\": \"out\", \"alias\": \"production\", \"version\": \"3\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) list = klass()->list(o->reg, "out", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(list), ==, 3);
  JsonObject *v3 = json_array_get_object_element(list, 2);
  g_assert_cmpstr(json_object_get_string_member(v3, "source"), ==, "s3://bucket/m");
  g_autoptr(GBytes) none = klass()->get(o->reg, "out", "production", &error);
  g_assert_null(none);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "was not registered by Lathe"));
  g_clear_error(&error);
  g_autoptr(JsonArray) h = history(o->reg, "out", "production");
  g_assert_cmpuint(json_array_get_length(h), ==, 3);
  assert_move(h, 2, 3, 2, "moved outside Lathe (no record)");
  /* The next move records where the alias really was. */
  set_alias(o->reg, "out", "production", 1);
  g_autoptr(JsonArray) h2 = history(o->reg, "out", "production");
  g_assert_cmpuint(json_array_get_length(h2), ==, 4);
  assert_move(h2, 2, 3, 2, "moved outside Lathe (no record)");
  assert_move(h2, 3, 1, 3, "manual");
}

/* The server refuses the artifact upload (no --serve-artifacts), or answers
 * a create with 503 once. */
static void test_server_refusals(Open *o, gconstpointer data) {
  g_autoptr(GBytes) b = random_bytes(100, 81);
  control_do("POST", "/faults",
             "{\"kind\": \"fail\", \"status\": 404, \"match\": \"artifacts.uploadArtifact\"}");
  g_autoptr(GError) error = NULL;
  guint v = 0;
  g_assert_false(klass()->register_model(o->reg, "refused", b, NULL, &v, &error));
  g_assert_nonnull(strstr(error->message, "--serve-artifacts"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  g_autoptr(JsonArray) none = klass()->list(o->reg, "refused", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(none), ==, 0);
  control_do("POST", "/faults",
             "{\"kind\": \"fail\", \"status\": 503, \"match\": \"createModelVersion\"}");
  g_assert_cmpuint(reg_model(o->reg, "refused", b, NULL), ==, 1);
  g_autoptr(JsonObject) st = state_model("refused");
  g_assert_cmpuint(json_object_get_size(json_object_get_object_member(st, "versions")), ==, 1);
}

/* Wrong credentials: one line naming the variable, never the secret. */
static void test_auth(void) {
  Server *guarded = server_start("--token", "right-token-4711");
  g_setenv("MLFLOW_TRACKING_URI", guarded->uri, TRUE);
  g_setenv("MLFLOW_TRACKING_TOKEN", "wrong-token-0815", TRUE);
  LatheContext *ctx = NULL;
  g_autoptr(GError) error = NULL;
  gpointer reg = open_reg(&ctx, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) b = random_bytes(100, 51);
  guint v = 0;
  g_assert_false(klass()->register_model(reg, "m", b, NULL, &v, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "401"));
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_TOKEN"));
  g_assert_null(strstr(error->message, "wrong-token-0815"));
  g_assert_null(strstr(error->message, "right-token-4711"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  g_setenv("MLFLOW_TRACKING_TOKEN", "right-token-4711", TRUE);
  klass()->close(reg);
  lathe_context_free(ctx);
  reg = open_reg(&ctx, &error);
  g_assert_no_error(error);
  g_assert_true(klass()->register_model(reg, "m", b, NULL, &v, &error));
  g_assert_no_error(error);
  klass()->close(reg);
  lathe_context_free(ctx);
  g_unsetenv("MLFLOW_TRACKING_TOKEN");
  server_stop(guarded);
  /* HTTP Basic, which MLflow prefers when both are set. */
  Server *basic = server_start("--basic", "alice:right-pass-2718");
  g_setenv("MLFLOW_TRACKING_URI", basic->uri, TRUE);
  g_setenv("MLFLOW_TRACKING_USERNAME", "alice", TRUE);
  g_setenv("MLFLOW_TRACKING_PASSWORD", "wrong-pass-3141", TRUE);
  g_setenv("MLFLOW_TRACKING_TOKEN", "some-token-1234", TRUE);
  reg = open_reg(&ctx, &error);
  g_assert_no_error(error);
  g_autoptr(JsonArray) refused = klass()->list(reg, NULL, &error);
  g_assert_null(refused);
  g_assert_nonnull(strstr(error->message, "401"));
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_PASSWORD"));
  g_assert_null(strstr(error->message, "wrong-pass-3141"));
  g_assert_null(strstr(error->message, "right-pass-2718"));
  g_assert_null(strstr(error->message, "some-token-1234"));
  g_clear_error(&error);
  klass()->close(reg);
  lathe_context_free(ctx);
  g_setenv("MLFLOW_TRACKING_PASSWORD", "right-pass-2718", TRUE);
  reg = open_reg(&ctx, &error);
  g_assert_no_error(error);
  g_autoptr(JsonArray) listed = klass()->list(reg, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(listed);
  klass()->close(reg);
  lathe_context_free(ctx);
  g_unsetenv("MLFLOW_TRACKING_USERNAME");
  g_unsetenv("MLFLOW_TRACKING_PASSWORD");
  g_unsetenv("MLFLOW_TRACKING_TOKEN");
  server_stop(basic);
}

/* Nothing listens: registration fails (it must not vanish), in one line,
 * as UNAVAILABLE, quickly; and without MLFLOW_TRACKING_URI open says what
 * to set. */
static void test_down(void) {
  Server *gone = server_start(NULL, NULL);
  g_autofree char *uri = g_strdup(gone->uri);
  server_stop(gone);
  g_setenv("MLFLOW_TRACKING_URI", uri, TRUE);
  g_setenv("LATHE_MLFLOW_TOTAL_TIMEOUT_MS", "2000", TRUE);
  g_setenv("LATHE_MLFLOW_BACKOFF_MS", "50", TRUE);
  LatheContext *ctx = NULL;
  g_autoptr(GError) error = NULL;
  gpointer reg = open_reg(&ctx, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) b = random_bytes(100, 61);
  guint v = 0;
  gint64 t0 = g_get_monotonic_time();
  g_assert_false(klass()->register_model(reg, "m", b, NULL, &v, &error));
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
  g_assert_true(g_str_has_prefix(error->message, "registry/mlflow: "));
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_URI"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  g_autoptr(JsonArray) list = klass()->list(reg, NULL, &error);
  g_assert_null(list);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
  g_clear_error(&error);
  klass()->close(reg);
  lathe_context_free(ctx);
  g_unsetenv("LATHE_MLFLOW_TOTAL_TIMEOUT_MS");
  g_unsetenv("LATHE_MLFLOW_BACKOFF_MS");
  g_unsetenv("MLFLOW_TRACKING_URI");
  g_assert_null(open_reg(&ctx, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_URI"));
  lathe_context_free(ctx);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  server = server_start(NULL, NULL);
  g_test_add("/registry-mlflow/register-get", Open, NULL, setup, test_register_get, teardown);
  g_test_add("/registry-mlflow/alias-history", Open, NULL, setup, test_alias_history, teardown);
  g_test_add("/registry-mlflow/alias-why", Open, NULL, setup, test_alias_why, teardown);
  g_test_add("/registry-mlflow/concurrent-movers", Open, NULL, setup, test_concurrent_movers,
             teardown);
  g_test_add("/registry-mlflow/long-tag", Open, NULL, setup, test_long_tag, teardown);
  g_test_add("/registry-mlflow/lost-answer", Open, NULL, setup, test_lost_answer, teardown);
  g_test_add("/registry-mlflow/outside", Open, NULL, setup, test_outside, teardown);
  g_test_add("/registry-mlflow/server-refusals", Open, NULL, setup, test_server_refusals,
             teardown);
  g_test_add_func("/registry-mlflow/auth", test_auth);
  g_test_add_func("/registry-mlflow/down", test_down);
  int rc = g_test_run();
  server_stop(server);
  return rc;
}
