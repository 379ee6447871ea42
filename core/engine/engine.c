/* Starting and finishing a run, and the services the host gives plugins. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "catalog/catalog.h"
#include "engine/engine-private.h"
#include "lathe-registry.h"

static void svc_log(gpointer host_data, LatheContext *ctx, GLogLevelFlags level, const char *msg) {
  LatheNodeRun *t = host_data;
  const char *tag = (level & G_LOG_LEVEL_ERROR) || (level & G_LOG_LEVEL_CRITICAL) ? "error"
                    : (level & G_LOG_LEVEL_WARNING)                              ? "warning"
                                                                                  : NULL;
  if (!tag && !(level & G_LOG_LEVEL_MESSAGE) && !g_getenv("LATHE_VERBOSE"))
    return; /* info and debug only on request */
  g_autofree char *safe = lathe_params_redact(t->node->comp, t->params, msg);
  const LatheRunOptions *opts = t->batch->run->opts;
  g_autofree char *shown = opts && opts->escape ? opts->escape(safe) : g_strdup(safe);
  g_printerr("%s%s[%s] %s\n", tag ? tag : "", tag ? ": " : "", t->exec_id, shown);
}

gboolean lathe_node_run_report(LatheNodeRun *t, const char *name, double value, gint64 step) {
  LatheTaskEvent ev;
  g_mutex_lock(&t->key_lock);
  lathe_node_run_event(t, LATHE_EVENT_REPORT, &ev);
  g_mutex_unlock(&t->key_lock);
  ev.metric = name;
  ev.value = value;
  ev.step = step;
  lathe_recorder_task(t->batch->run->recorder, &ev, NULL);
  return t->batch->watch && t->batch->watch(t->batch->watch_data, t, name, value, step);
}

static void svc_report(gpointer host_data, LatheContext *ctx, const char *name, double value,
                       gint64 step) {
  /* A trial's curve may tell its study to stop it now (between epochs). */
  if (lathe_node_run_report(host_data, name, value, step))
    lathe_context_cancel(ctx);
}

static void svc_progress(gpointer host_data, LatheContext *ctx, double fraction, const char *msg) {
  LatheNodeRun *t = host_data;
  g_mutex_lock(&t->batch->run->lock);
  t->progress = fraction;
  g_free(t->progress_note);
  t->progress_note = lathe_params_redact(t->node->comp, t->params, msg);
  g_mutex_unlock(&t->batch->run->lock);
}

static float *svc_predict(gpointer host_data, LatheContext *ctx, LatheArtifact *model,
                          const LatheDataset *data, guint *n_cols, GError **error) {
  LatheNodeRun *t = host_data;
  return lathe_catalog_predict(t->batch->run->cat, model, data, n_cols, error);
}

/* The run's registry (the pipeline's "registry" setting, else registry/local),
 * opened per call: reading a model is rare, and a registry held open across
 * nodes would have to be shared between threads. */
static LatheArtifact *svc_registry_fetch(gpointer host_data, LatheContext *ctx, const char *name,
                                        const char *ref, guint *version, GError **error) {
  LatheNodeRun *t = host_data;
  LatheRun *run = t->batch->run;
  JsonObject *setting = run->graph->registry;
  const char *id = setting ? json_object_get_string_member_with_default(setting, "use", NULL) : NULL;
  JsonObject *with = setting && json_object_has_member(setting, "with")
                         ? json_object_get_object_member(setting, "with") : NULL;
  g_autoptr(LatheRegistry) reg = lathe_registry_open(run->cat, id, with, lathe_context_base_dir(ctx),
                                                     lathe_context_store_dir(ctx), error);
  return reg ? lathe_registry_fetch(reg, name, ref, version, error) : NULL;
}

const LatheHostServices lathe_engine_services = {
    .struct_size = sizeof(LatheHostServices),
    .log = svc_log,
    .report = svc_report,
    .progress = svc_progress,
    .predict = svc_predict,
    .registry_fetch = svc_registry_fetch,
};

/* Redraws progress and turns an interrupt into cancellation of running nodes,
 * whatever the scheduler thread is doing. */
typedef struct {
  LatheRun *run;
  GMutex lock;
  GCond cond;
  gboolean stop;
} Ticker;

static gpointer ticker_main(gpointer data) {
  Ticker *tk = data;
  g_mutex_lock(&tk->lock);
  while (!tk->stop) {
    g_cond_wait_until(&tk->cond, &tk->lock, g_get_monotonic_time() + 100000);
    if (tk->stop)
      break;
    LatheRun *run = tk->run;
    gboolean stop = lathe_engine_interrupted();
    double now = (double)g_get_real_time() / 1e6;
    /* The run lock keeps tasks alive while we look at them. A node running
     * for more than 50 ms gets its "running" row now: a crash from here on
     * leaves a trace; shorter ones are recorded whole when they finish. */
    g_mutex_lock(&run->lock);
    for (guint i = 0; i < run->all_tasks->len; i++) {
      LatheNodeRun *t = run->all_tasks->pdata[i];
      if (!t->ctx)
        continue;
      if (stop)
        lathe_context_cancel(t->ctx);
      else if (!t->running_told && now - t->started > 0.05) {
        t->running_told = TRUE;
        LatheTaskEvent ev;
        g_mutex_lock(&t->key_lock);
        lathe_node_run_event(t, LATHE_EVENT_RUNNING, &ev);
        g_mutex_unlock(&t->key_lock);
        lathe_recorder_task(run->recorder, &ev, NULL);
      }
    }
    g_mutex_unlock(&run->lock);
    /* A report held back is never more than a tick old. */
    lathe_recorder_flush(run->recorder);
    if (run->opts->progress)
      lathe_progress_draw(run, FALSE);
  }
  g_mutex_unlock(&tk->lock);
  if (tk->run->opts->progress)
    lathe_progress_draw(tk->run, TRUE);
  return NULL;
}

gboolean lathe_engine_run(LatheGraph *graph, LatheCatalog *cat, LatheStore *store,
                          const LatheRunOptions *opts, JsonObject **result, GError **error) {
  LatheRun run = {0};
  LatheRunOptions o = *opts;
  guint cores = (guint)MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
  if (!o.jobs)
    o.jobs = cores;
  run.graph = graph;
  run.cat = cat;
  run.store = store;
  run.opts = &o;
  /* Parallel nodes x BLAS threads must not exceed the cores. */
  run.blas_threads = lathe_blas_thread_cap(MAX(1, cores / o.jobs));
  lathe_blas_set_threads(run.blas_threads);
  g_mutex_init(&run.lock);
  run.nodes = json_array_new();
  run.metrics = json_object_new();
  run.data_versions = json_array_new();
  run.all_tasks = g_ptr_array_new();
  if (!lathe_tracking_select(&run, error)) {
    g_mutex_clear(&run.lock);
    return FALSE;
  }
  {
    g_autoptr(LatheJournal) start = lathe_tracking_start_journal(&run);
    run.run_id = lathe_store_begin_run_journal(store, graph->name, graph->path, graph->text,
                                               graph->seed, start, error);
  }
  if (!run.run_id) {
    lathe_tracking_close(&run);
    g_mutex_clear(&run.lock);
    return FALSE;
  }
  /* What decides floating-point results, for `lathe reproduce`: the same
   * machine and kernels give the same bits, others may not. A record that
   * fails costs the run nothing but that comparison. The BLAS threads in
   * effect are OPENBLAS_NUM_THREADS (the user's, or lathe_blas_prepare()'s)
   * if OpenBLAS loads after this, else the count set above. */
  const char *nt = lathe_blas_loaded() ? NULL : g_getenv("OPENBLAS_NUM_THREADS");
  guint64 env_threads = nt ? g_ascii_strtoull(nt, NULL, 10) : 0;
  g_autoptr(JsonObject) env = lathe_blas_environment();
  json_object_set_int_member(env, "jobs", o.jobs);
  json_object_set_int_member(env, "blas_threads",
                             env_threads > 0 && env_threads <= 1024 ? (gint64)env_threads : run.blas_threads);
  /* And the folder its relative paths resolve against: the pipeline's path
   * is recorded as it was given, relative to a working directory that
   * `lathe reproduce` may not share. */
  json_object_set_string_member(env, "pipeline_dir", graph->base_dir);
  g_autoptr(GError) env_error = NULL;
  if (!lathe_store_set_run_environment(store, run.run_id, env, &env_error))
    g_printerr("warning: %s\n", env_error->message);
  run.scratch_root = g_build_filename(lathe_store_dir(store), "scratch", run.run_id, NULL);
  gint64 t0 = g_get_monotonic_time();
  lathe_tracking_open(&run);

  LatheRecorder *recorder = lathe_run_recorder_new(&run);
  run.recorder = recorder;
  run.executor = &lathe_node_executor;
  /* Executor components (issue 15): jobs a killed run left are cancelled
   * first, so they never compete with this run's. */
  run.executors = lathe_executors_new(&run);
  lathe_executors_reap(&run);
  /* Late nodes (a kind's after_run: the register node) and what reads them
   * wait for the rest of the run, and run only if none of it failed: a run
   * that fails never registers a version nor moves an alias, even when the
   * register node's own inputs succeeded. */
  g_autoptr(GHashTable) late = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < graph->order->len; i++) {
    LatheNode *n = graph->order->pdata[i];
    const LatheNodeKind *k = lathe_node_kind_get(n->comp->kind);
    gboolean is_late = k && k->after_run;
    for (guint j = 0; j < n->deps->len && !is_late; j++)
      is_late = g_hash_table_contains(late, n->deps->pdata[j]);
    if (is_late)
      g_hash_table_add(late, n);
  }
  LatheBatch *b = lathe_batch_new(&run, NULL, 0, o.jobs);
  LatheBatch *lb = lathe_batch_new(&run, NULL, 0, o.jobs);
  lb->parent = b; /* late tasks read the others' outputs and metrics */
  for (guint i = 0; i < graph->order->len; i++) {
    LatheNode *n = graph->order->pdata[i];
    lathe_node_run_new(g_hash_table_contains(late, n) ? lb : b, n, n->id,
                       json_object_ref(n->params));
  }
  lathe_batch_link(b);
  lathe_batch_link(lb);
  Ticker tk = {.run = &run};
  g_mutex_init(&tk.lock);
  g_cond_init(&tk.cond);
  /* Without a ticker (no thread to be had under a memory limit) the run
   * goes on: no progress line, and an interrupt is seen between nodes. */
  g_autoptr(GError) thread_error = NULL;
  GThread *ticker = g_thread_try_new("lathe-ticker", ticker_main, &tk, &thread_error);
  if (!ticker)
    g_printerr("warning: %s; no progress is shown\n", thread_error->message);
  gint64 t1 = g_get_monotonic_time();
  lathe_batch_execute(b);
  if (lb->tasks->len) {
    if (run.failed)
      lb->hold = "skipped: a node of the run failed; registering waits for a run that succeeds";
    lathe_batch_execute(lb);
  }
  gint64 t2 = g_get_monotonic_time();
  if (g_getenv("LATHE_PROFILE"))
    g_printerr("profile:   tracker open %8.3f ms, nodes %8.3f ms\n", (t1 - t0) / 1e3, (t2 - t1) / 1e3);
  g_mutex_lock(&tk.lock);
  tk.stop = TRUE;
  g_cond_signal(&tk.cond);
  g_mutex_unlock(&tk.lock);
  if (ticker)
    g_thread_join(ticker);
  g_mutex_clear(&tk.lock);
  g_cond_clear(&tk.cond);

  lathe_executors_free(run.executors);
  run.executors = NULL;
  lathe_recorder_flush(recorder); /* a report of no task's row, last */
  /* run.failed was kept as tasks finished (run-batch.c). */
  const char *status = lathe_engine_interrupted() ? "interrupted" : run.failed ? "failed" : "succeeded";
  g_autoptr(GError) eerr = NULL;
  {
    g_autoptr(LatheJournal) end = lathe_tracking_end_journal(&run, status);
    if (!lathe_store_end_run_journal(store, run.run_id, status, end, &eerr))
      g_printerr("lathe: %s\n", eerr->message);
  }
  lathe_tracking_close(&run);

  JsonObject *res = json_object_new();
  json_object_set_string_member(res, "run_id", run.run_id);
  json_object_set_string_member(res, "status", g_str_equal(status, "succeeded") ? "succeeded" : "failed");
  json_object_set_array_member(res, "nodes", run.nodes);
  json_object_set_object_member(res, "metrics", run.metrics);
  *result = res;

  lathe_batch_free(lb);
  lathe_batch_free(b);
  lathe_run_recorder_free(recorder);
  /* Each node's context removed its own scratch folder; what is left is empty. */
  g_rmdir(run.scratch_root);
  g_free(run.scratch_root);
  g_ptr_array_unref(run.all_tasks);
  g_clear_pointer(&run.trial_slots, g_array_unref);
  json_array_unref(run.data_versions);
  g_free(run.run_id);
  g_mutex_clear(&run.lock);
  return TRUE;
}
