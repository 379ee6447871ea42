/* `lathe exec-task FILE`: one node, run where an executor put it (a child
 * process, a Slurm job). Its inputs come from the content-addressed store by
 * digest, its component runs with the context a thread gives it (same
 * params, seed, dirs, threads and services, through the kind's own
 * operations), and its outputs go back to the store; the result file tells
 * the host their digests, the metrics, reports and data versions, and the
 * host records them exactly as for a thread (executor.c, node-exec.c). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "engine/engine-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheStore, lathe_store_close)

/* A recorder that keeps the reports, for the result file, and streams each
 * to the host as it comes (task-reports.c), for a study's pruner. */
typedef struct {
  JsonArray *reports;
  int stream_fd;
} KeptReports;

static gboolean keep_report(gpointer data, const LatheTaskEvent *ev, GError **error) {
  if (ev->kind != LATHE_EVENT_REPORT)
    return TRUE;
  KeptReports *kept = data;
  lathe_report_stream_write(kept->stream_fd, ev->metric, ev->value, ev->step);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", ev->metric);
  json_object_set_double_member(o, "value", ev->value);
  json_object_set_int_member(o, "step", ev->step);
  json_array_add_object_element(kept->reports, o);
  return TRUE;
}
static const LatheRecorderOps keep_ops = {.task = keep_report};

static gboolean write_result(const char *path, JsonObject *r, GError **error) {
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), r);
  g_autofree char *text = lathe_json_canonical(n);
  /* No fsync nor rename: the host reads it once the task has exited. */
  return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, error);
}

static const char *str(JsonObject *o, const char *key) {
  return json_object_get_string_member_with_default(o, key, NULL);
}

/* Runs the task @o describes; fills @r. FALSE with @error when the component
 * failed (the result file says so) or the task could not run. */
static gboolean run_task_file(LatheCatalog *cat, JsonObject *o, JsonObject *r, gboolean *usable,
                              GError **error) {
  const char *store_dir = str(o, "store"), *run_id = str(o, "run_id"), *exec_id = str(o, "exec_id");
  const char *comp_id = str(o, "component"), *node_id = str(o, "node");
  JsonObject *params = json_object_has_member(o, "params") ? json_object_get_object_member(o, "params") : NULL;
  JsonObject *inputs = json_object_has_member(o, "inputs") ? json_object_get_object_member(o, "inputs") : NULL;
  if (!store_dir || !run_id || !exec_id || !comp_id || !node_id || !params || !inputs) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "the task file lacks store, run_id, "
                "exec_id, node, component, params or inputs (written by another Lathe?)");
    return FALSE;
  }
  LatheComponentInfo *c = lathe_catalog_lookup(cat, comp_id);
  if (!c) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s is not installed where the task runs; install the same plugins as the host", comp_id);
    return FALSE;
  }
  /* Another build of the plugin would break "same result whichever executor". */
  if (g_strcmp0(str(o, "plugin_version"), c->plugin->version) != 0 ||
      (str(o, "plugin_digest") && g_strcmp0(str(o, "plugin_digest"), lathe_plugin_digest(c->plugin)) != 0)) {
    if (g_strcmp0(str(o, "plugin_version"), c->plugin->version) == 0)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s here is another build of plugin %s %s than the host ran (its file %s "
                  "changed since the run started?); install the same build", comp_id,
                  c->plugin->name, c->plugin->version, c->plugin->file);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s here is plugin %s %s, not the one the host ran (%s); install the same build",
                  comp_id, c->plugin->name, c->plugin->version, str(o, "plugin_version"));
    return FALSE;
  }
  const LatheNodeKind *kind = lathe_node_kind_get(c->kind);
  if (!kind || !kind->execute) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s cannot run as a task", comp_id);
    return FALSE;
  }
  g_autoptr(LatheStore) store = lathe_store_open(store_dir, error);
  if (!store)
    return FALSE;
  *usable = TRUE;
  /* The engine's own structures, holding what a thread's would: the kinds'
   * operations and the host services read them. */
  g_autoptr(JsonArray) reports = json_array_new();
  const char *stream = str(o, "reports_stream");
  KeptReports kept = {.reports = reports,
                      .stream_fd = stream ? g_open(stream, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1};
  LatheRecorder recorder = {.ops = &keep_ops, .data = &kept};
  LatheRunOptions opts = {.jobs = 1};
  LatheGraph graph = {.path = (char *)str(o, "pipeline"), .base_dir = (char *)str(o, "base_dir"),
                      .registry = json_object_has_member(o, "registry")
                                      ? json_object_get_object_member(o, "registry") : NULL};
  LatheNode node = {.id = (char *)node_id, .comp = c, .graph = &graph, .params = params};
  LatheRun run = {.graph = &graph, .cat = cat, .store = store, .opts = &opts,
                  .run_id = (char *)run_id, .recorder = &recorder};
  run.blas_threads = (guint)MAX(1, json_object_get_int_member_with_default(o, "threads", 1));
  g_mutex_init(&run.lock);
  LatheBatch batch = {.run = &run};
  LatheNodeRun t = {.node = &node, .batch = &batch, .exec_id = (char *)exec_id, .trial = -1,
                    .params = params};
  t.public_params = lathe_params_public(c, params);
  t.seed = g_ascii_strtoull(json_object_get_string_member_with_default(o, "seed", "0"), NULL, 10);
  t.metrics = json_object_new();
  t.data_versions = json_array_new();
  g_mutex_init(&t.key_lock);
  lathe_blas_set_threads(run.blas_threads);
  g_autofree char *scratch_root = g_build_filename(store_dir, "scratch", run_id, NULL);
  LatheContext *ctx = lathe_context_new(exec_id, params, t.seed, &lathe_engine_services, &t);
  lathe_context_set_dirs(ctx, graph.base_dir, store_dir, scratch_root);
  lathe_context_set_run(ctx, run_id, graph.path);
  lathe_context_set_threads(ctx, run.blas_threads);
  if (json_object_has_member(o, "pins"))
    lathe_context_set_pins(ctx, json_object_get_array_member(o, "pins"));
  gboolean ok = TRUE;
  g_autoptr(GList) ports = json_object_get_members(inputs);
  for (GList *l = ports; ok && l; l = l->next) {
    JsonObject *in = json_object_get_object_member(inputs, l->data);
    const char *digest = str(in, "digest");
    LatheArtifact *a = digest ? lathe_store_get_artifact(store, digest, lathe_artifact_type_from_name(str(in, "type")), error) : NULL;
    if (!a) {
      ok = FALSE;
      if (error && !*error)
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "input '%s' (%s) is not in the store %s; "
                    "the store must be on a filesystem this machine sees", (char *)l->data,
                    digest ? digest : "no digest", store_dir);
      break;
    }
    lathe_context_set_input(ctx, l->data, a);
    lathe_artifact_unref(a);
  }
  ok = ok && lathe_catalog_realize(cat, c, error);
  /* A source that resolves did so in the host for the cache decision; a
   * thread runs it on the same context after its resolve, so here too. */
  if (ok && c->kind == LATHE_KIND_SOURCE && c->resolves) {
    const LatheSourceClass *k = c->klass;
    if (k->resolve && !k->resolve(ctx, error)) {
      ok = FALSE;
      if (error && !*error)
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s: resolve failed without saying why", comp_id);
    }
  }
  ok = ok && kind->execute(&t, ctx, error);
  if (ok && error && *error)
    g_clear_error(error);
  if (!ok && error && !*error)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s failed without an error (plugin bug)", comp_id);
  JsonObject *outs = json_object_new();
  for (guint i = 0; ok && i < c->n_outputs; i++) {
    LatheArtifact *a = lathe_context_get_output(ctx, c->outputs[i].name);
    if (!a)
      continue; /* the host says which were missing, as for a thread */
    ok = lathe_store_put_artifact(store, a, error);
    JsonObject *out = json_object_new();
    json_object_set_string_member(out, "digest", lathe_artifact_get_digest(a));
    json_object_set_string_member(out, "type", lathe_artifact_type_name(lathe_artifact_get_kind(a)));
    json_object_set_object_member(outs, c->outputs[i].name, out);
  }
  json_object_set_object_member(r, "outputs", outs);
  json_object_set_object_member(r, "metrics", json_object_ref(lathe_context_get_metrics(ctx)));
  json_object_set_array_member(r, "data_versions", json_array_ref(lathe_context_get_data_versions(ctx)));
  json_object_set_array_member(r, "reports", json_array_ref(reports));
  lathe_context_free(ctx);
  if (kept.stream_fd >= 0)
    close(kept.stream_fd);
  g_rmdir(scratch_root);
  json_object_unref(t.metrics);
  json_array_unref(t.data_versions);
  json_object_unref(t.public_params);
  g_free(t.progress_note); /* the last progress a plugin reported (engine.c) */
  g_mutex_clear(&t.key_lock);
  g_mutex_clear(&run.lock);
  return ok;
}

int lathe_engine_exec_task(LatheCatalog *cat, const char *file, gboolean json) {
  /* The executor stops a task with SIGTERM (then SIGKILL): the work is
   * lost either way, and dying at once is what it asks for. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_file(p, file, &error) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
    g_printerr("lathe: task file %s: %s\n", file, error ? error->message : "not a JSON object");
    return 2;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  const char *result = str(o, "result");
  if (json_object_get_int_member_with_default(o, "lathe_task", 0) != 1 || !result) {
    g_printerr("lathe: task file %s is not a Lathe task file of version 1\n", file);
    return 2;
  }
  g_autoptr(JsonObject) r = json_object_new();
  gboolean usable = FALSE;
  gboolean ok = run_task_file(cat, o, r, &usable, &error);
  json_object_set_boolean_member(r, "ok", ok);
  if (!ok) {
    LatheComponentInfo *c = str(o, "component") ? lathe_catalog_lookup(cat, str(o, "component")) : NULL;
    JsonObject *params = json_object_has_member(o, "params") ? json_object_get_object_member(o, "params") : NULL;
    const char *said = error ? error->message : "failed";
    /* A plugin's message may quote a secret it was given. */
    g_autofree char *msg = c && params ? lathe_params_redact(c, params, said) : g_strdup(said);
    json_object_set_string_member(r, "error", msg);
    json_object_set_int_member(r, "code", error && error->domain == LATHE_ERROR ? error->code : LATHE_ERROR_FAILED);
    g_printerr("lathe: [%s] %s\n", str(o, "exec_id") ? str(o, "exec_id") : "?", msg);
  }
  g_autoptr(GError) werr = NULL;
  if (!write_result(result, r, &werr)) {
    g_printerr("lathe: cannot write the result %s: %s\n", result, werr->message);
    return 2;
  }
  if (json) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), r);
    g_autofree char *text = lathe_json_canonical(n);
    printf("%s\n", text);
  }
  return ok ? 0 : usable ? 1 : 2;
}
