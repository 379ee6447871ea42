/* mlflow-fixture.c: the MLflow test server (tests/mlflow) for C tests. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "mlflow-fixture.h"

MlfxServer *mlfx_start(const char *auth_arg, const char *auth_value) {
  MlfxServer *s = g_new0(MlfxServer, 1);
  g_autoptr(GError) error = NULL;
  s->dir = g_dir_make_tmp("lathe-tmlf-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *ready = g_build_filename(s->dir, "server.json", NULL);
  const char *py = g_getenv("MLFLOW_SERVER_PY");
  g_assert_nonnull(py);
  const char *argv[] = {"/usr/bin/python3", py, "serve", "--port", "0", "--control-port", "0",
                        "--ready-file", ready, auth_arg, auth_value, NULL};
  g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, &s->pid, &error);
  g_assert_no_error(error);
  g_autofree char *text = NULL;
  for (int i = 0; i < 200 && !g_file_get_contents(ready, &text, NULL, NULL); i++)
    g_usleep(50 * 1000);
  g_assert_nonnull(text);
  g_autoptr(JsonNode) info = json_from_string(text, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(info);
  s->uri = g_strdup_printf("http://127.0.0.1:%" G_GINT64_FORMAT,
                           json_object_get_int_member(o, "port"));
  g_autofree char *ctl = g_strdup_printf("http://127.0.0.1:%" G_GINT64_FORMAT,
                                         json_object_get_int_member(o, "control_port"));
  s->ctl = lathe_http_client_new(ctl, NULL, &error);
  g_assert_no_error(error);
  s->api = lathe_http_client_new(s->uri, NULL, &error);
  g_assert_no_error(error);
  g_setenv("MLFLOW_TRACKING_URI", s->uri, TRUE);
  return s;
}

void mlfx_stop(MlfxServer *s) {
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
  g_spawn_close_pid(s->pid);
  lathe_http_client_free(s->ctl);
  lathe_http_client_free(s->api);
  lathe_test_remove_tree(s->dir);
  g_free(s->dir);
  g_free(s->uri);
  g_free(s);
}

JsonNode *mlfx_ctl(MlfxServer *s, const char *method, const char *path, const char *body) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) b = body ? json_from_string(body, &error) : NULL;
  g_assert_no_error(error);
  JsonNode *r = lathe_http_client_json(s->ctl, method, path, b, NULL, &error);
  g_assert_no_error(error);
  return r;
}

void mlfx_fault(MlfxServer *s, const char *json) { json_node_unref(mlfx_ctl(s, "POST", "/faults", json)); }

gint64 mlfx_count(MlfxServer *s, const char *rpc) {
  g_autoptr(JsonNode) c = mlfx_ctl(s, "GET", "/counts", NULL);
  JsonObject *o = json_node_get_object(c);
  return json_object_has_member(o, rpc) ? json_object_get_int_member(o, rpc) : 0;
}

/* The run as /state shows it (transfer full). */
JsonObject *mlfx_state_run(MlfxServer *s, const char *id) {
  g_autoptr(JsonNode) st = mlfx_ctl(s, "GET", "/state", NULL);
  JsonObject *runs =
      json_object_get_object_member(json_object_get_object_member(json_node_get_object(st), "tracking"), "runs");
  g_assert_true(json_object_has_member(runs, id));
  return json_object_ref(json_object_get_object_member(runs, id));
}

guint mlfx_state_runs(MlfxServer *s) {
  g_autoptr(JsonNode) st = mlfx_ctl(s, "GET", "/state", NULL);
  JsonObject *runs =
      json_object_get_object_member(json_object_get_object_member(json_node_get_object(st), "tracking"), "runs");
  return json_object_get_size(runs);
}

const char *mlfx_tag(JsonObject *run, const char *key) {
  JsonObject *tags = json_object_get_object_member(run, "tags");
  return json_object_has_member(tags, key) ? json_object_get_string_member(tags, key) : NULL;
}

