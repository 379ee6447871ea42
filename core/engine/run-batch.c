/* The scheduler: runs a batch of tasks in dependency order on a thread pool.
 * Workers do the node's work and write its artifacts; this thread does the
 * bookkeeping (dependents, skips, results), so the order of completion never
 * changes what is recorded. */
#include <string.h>

#include "engine/engine-private.h"

static volatile gint interrupted;

void lathe_engine_interrupt(void) { g_atomic_int_set(&interrupted, 1); }
gboolean lathe_engine_interrupted(void) { return g_atomic_int_get(&interrupted) != 0; }

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

LatheNodeRun *lathe_node_run_new(LatheBatch *batch, LatheNode *node, const char *exec_id,
                          JsonObject *params) {
  LatheNodeRun *t = g_new0(LatheNodeRun, 1);
  t->node = node;
  t->batch = batch;
  t->exec_id = g_strdup(exec_id);
  t->params = params;
  t->deps = g_ptr_array_new();
  t->dependents = g_ptr_array_new();
  t->outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)lathe_artifact_unref);
  t->metrics = json_object_new();
  t->data_versions = json_array_new();
  t->exec_row = -1;
  t->seed = lathe_seed_derive(batch->run->graph->seed, t->exec_id);
  g_mutex_init(&t->row_lock);
  g_ptr_array_add(batch->tasks, t);
  g_hash_table_insert(batch->task_of, node, t);
  g_mutex_lock(&batch->run->lock);
  g_ptr_array_add(batch->run->all_tasks, t);
  g_mutex_unlock(&batch->run->lock);
  return t;
}

static void task_free(LatheNodeRun *t) {
  g_mutex_clear(&t->row_lock);
  g_free(t->cache_key);
  g_free(t->exec_id);
  json_object_unref(t->params);
  g_ptr_array_unref(t->deps);
  g_ptr_array_unref(t->dependents);
  g_hash_table_unref(t->outputs);
  json_object_unref(t->metrics);
  json_array_unref(t->data_versions);
  g_free(t->error);
  g_free(t->progress_note);
  g_free(t);
}

void lathe_batch_free(LatheBatch *b) {
  g_mutex_lock(&b->run->lock);
  if (!b->parent) /* the run's own batch: every task goes */
    g_ptr_array_set_size(b->run->all_tasks, 0);
  for (guint i = 0; b->parent && i < b->tasks->len; i++)
    g_ptr_array_remove_fast(b->run->all_tasks, b->tasks->pdata[i]);
  g_mutex_unlock(&b->run->lock);
  g_ptr_array_set_free_func(b->tasks, (GDestroyNotify)task_free);
  g_ptr_array_unref(b->tasks);
  g_hash_table_unref(b->task_of);
  g_free(b->tracker_run);
  g_free(b);
}

LatheNodeRun *lathe_batch_find(LatheBatch *b, LatheNode *node) {
  for (; b; b = b->parent) {
    LatheNodeRun *t = g_hash_table_lookup(b->task_of, node);
    if (t)
      return t;
  }
  return NULL;
}

void lathe_batch_link(LatheBatch *b) {
  for (guint i = 0; i < b->tasks->len; i++) {
    LatheNodeRun *t = b->tasks->pdata[i];
    for (guint j = 0; j < t->node->deps->len; j++) {
      LatheNodeRun *d = g_hash_table_lookup(b->task_of, t->node->deps->pdata[j]);
      if (!d)
        continue; /* an outer task, finished before this batch started */
      g_ptr_array_add(t->deps, d);
      g_ptr_array_add(d->dependents, t);
      t->waiting++;
    }
  }
}

static const char *status_name(LatheNodeRunStatus s) {
  switch (s) {
  case TASK_SUCCEEDED: return "succeeded";
  case TASK_CACHED: return "cached";
  case TASK_FAILED: return "failed";
  case TASK_SKIPPED: return "skipped";
  case TASK_RUNNING: return "running";
  default: return "pending";
  }
}

static gboolean compare(double a, const char *op, double b) {
  if (g_str_equal(op, ">=")) return a >= b;
  if (g_str_equal(op, "<=")) return a <= b;
  if (g_str_equal(op, ">")) return a > b;
  if (g_str_equal(op, "<")) return a < b;
  if (g_str_equal(op, "==")) return a == b;
  return a != b;
}

/* NULL when every condition holds, else why not. */
static char *check_conditions(LatheNodeRun *t) {
  for (guint i = 0; i < t->node->conditions->len; i++) {
    LatheCondition *c = t->node->conditions->pdata[i];
    LatheNodeRun *src = lathe_batch_find(t->batch, c->node);
    JsonNode *v = src ? json_object_get_member(src->metrics, c->metric) : NULL;
    if (!v)
      return g_strdup_printf("condition '%s': node '%s' reported no metric '%s'", t->node->when,
                             c->node->id, c->metric);
    double x = json_node_get_double(v);
    if (!compare(x, c->op, c->value))
      return g_strdup_printf("condition not met: %s.%s = %g, not %s %g", c->node->id, c->metric,
                             x, c->op, c->value);
  }
  return NULL;
}

static void add_result(LatheBatch *exec, LatheNodeRun *t) {
  LatheRun *run = t->batch->run;
  exec->finalized++;
  JsonObject *row = json_object_new();
  json_object_set_string_member(row, "id", t->exec_id);
  json_object_set_string_member(row, "status", status_name(t->status));
  json_object_set_double_member(row, "seconds", t->ended > t->started ? t->ended - t->started : 0);
  if (t->error)
    json_object_set_string_member(row, "error", t->error);
  /* A failed trial is the study's business (max_failed_trials): the tuner
   * node itself fails when the study does. */
  gboolean benign_skip = t->skip_reason == LATHE_SKIP_CONDITION ||
                         t->skip_reason == LATHE_SKIP_UPSTREAM_CONDITION;
  gboolean fails_run = !t->batch->parent && (t->status == TASK_FAILED ||
                                             (t->status == TASK_SKIPPED && !benign_skip));
  g_mutex_lock(&run->lock);
  run->failed |= fails_run;
  json_array_add_object_element(run->nodes, row);
  g_autoptr(GList) names = json_object_get_members(t->metrics);
  for (GList *l = names; l; l = l->next) {
    g_autofree char *key = g_strdup_printf("%s.%s", t->exec_id, (char *)l->data);
    json_object_set_double_member(run->metrics, key,
                                  json_object_get_double_member(t->metrics, l->data));
  }
  for (guint i = 0; i < json_array_get_length(t->data_versions); i++)
    json_array_add_element(run->data_versions,
                           json_node_copy(json_array_get_element(t->data_versions, i)));
  g_mutex_unlock(&run->lock);
}

/* Records a task that never ran (skipped). */
static void record_skip(LatheBatch *exec, LatheNodeRun *t, LatheSkipReason reason,
                        const char *why) {
  LatheRun *run = t->batch->run;
  t->status = TASK_SKIPPED;
  t->skip_reason = reason;
  t->started = t->ended = now_s();
  t->error = g_strdup(why);
  g_autoptr(GError) error = NULL;
  LatheExecIdentity who;
  lathe_node_run_identity(t, &who);
  LatheExecRecord rec = {.status = "skipped", .error = why, .started = t->started, .ended = t->ended};
  if (!lathe_store_finish_execution(run->store, -1, &who, NULL, &rec, &error))
    g_printerr("lathe: %s\n", error->message);
  add_result(exec, t);
}

/* Does a task's work; no bookkeeping. */
static void run_task(LatheNodeRun *t) {
  g_autoptr(GError) error = NULL;
  LatheRun *run = t->batch->run;
  LatheContext *ctx = lathe_context_new(t->exec_id, t->params, t->seed, &lathe_engine_services, t);
  lathe_context_set_dirs(ctx, run->graph->base_dir, lathe_store_dir(run->store), run->scratch_root);
  lathe_context_set_threads(ctx, run->blas_threads);
  g_mutex_lock(&run->lock);
  t->ctx = ctx;
  t->started = now_s(); /* when a worker takes it, not when it was queued */
  g_mutex_unlock(&run->lock);
  if (!lathe_node_execute(t, ctx, &error)) {
    t->status = TASK_FAILED;
    t->error = g_strdup(error ? error->message : "failed without saying why (plugin bug)");
  }
  g_mutex_lock(&run->lock);
  t->ctx = NULL;
  g_mutex_unlock(&run->lock);
  lathe_context_free(ctx);
}

static void skip_dependents(LatheBatch *exec, LatheNodeRun *t) {
  for (guint i = 0; i < t->dependents->len; i++) {
    LatheNodeRun *d = t->dependents->pdata[i];
    if (d->status != TASK_PENDING)
      continue;
    /* Downstream of a false condition is still a condition: not a failure. */
    gboolean benign = t->status == TASK_SKIPPED && (t->skip_reason == LATHE_SKIP_CONDITION ||
                                                    t->skip_reason == LATHE_SKIP_UPSTREAM_CONDITION);
    g_autofree char *why = benign ? g_strdup_printf("condition not met upstream: '%s' was skipped", t->exec_id)
                                  : g_strdup_printf("skipped: '%s' %s", t->exec_id,
                                                    t->status == TASK_FAILED ? "failed" : "was skipped");
    record_skip(exec, d, benign ? LATHE_SKIP_UPSTREAM_CONDITION : LATHE_SKIP_UPSTREAM_FAILED, why);
    skip_dependents(exec, d);
  }
}

/* With the batch lock held: skips what must not run, marks the rest running,
 * queues all but the first on the pool and returns the first, for the
 * calling thread to run itself. */
static LatheNodeRun *dispatch(LatheBatch *b, GPtrArray *ready) {
  LatheNodeRun *first = NULL;
  for (guint i = 0; i < ready->len; i++) {
    LatheNodeRun *t = ready->pdata[i];
    if (t->status != TASK_PENDING)
      continue;
    gboolean interrupted_now = lathe_engine_interrupted();
    g_autofree char *why = interrupted_now ? g_strdup("skipped: the run was interrupted")
                                           : check_conditions(t);
    if (why) {
      record_skip(b, t, interrupted_now ? LATHE_SKIP_INTERRUPTED : LATHE_SKIP_CONDITION, why);
      skip_dependents(b, t);
      continue;
    }
    t->status = TASK_RUNNING;
    b->active++;
    if (!first)
      first = t;
    else
      g_thread_pool_push(b->pool, t, NULL);
  }
  return first;
}

/* With the batch lock held: records a finished task and releases its
 * dependents. Returns the task this thread should run next, if any. */
static LatheNodeRun *complete(LatheBatch *b, LatheNodeRun *t) {
  b->active--;
  add_result(b, t);
  g_autoptr(GPtrArray) ready = g_ptr_array_new();
  if (t->status == TASK_FAILED)
    skip_dependents(b, t);
  else
    for (guint i = 0; i < t->dependents->len; i++) {
      LatheNodeRun *d = t->dependents->pdata[i];
      if (--d->waiting == 0)
        g_ptr_array_add(ready, d);
    }
  LatheNodeRun *next = dispatch(b, ready);
  if (b->finalized == b->tasks->len || (!b->active && !next))
    g_cond_broadcast(&b->cond);
  return next;
}

/* A worker goes on with a dependent its task made ready: a chain of nodes
 * runs on one thread with no hand-offs, and nobody waits for a scheduler
 * thread to wake up. */
static void worker(gpointer data, gpointer user) {
  LatheBatch *b = user;
  for (LatheNodeRun *t = data; t;) {
    run_task(t);
    /* The tracker is told outside the batch lock: its writes take time and
     * other workers must not queue behind them. Skipped tasks are not told. */
    lathe_tracking_task_done(t->batch->run, t);
    g_mutex_lock(&b->lock);
    t = complete(b, t);
    g_mutex_unlock(&b->lock);
  }
}

void lathe_batch_execute(LatheBatch *b) {
  g_mutex_init(&b->lock);
  g_cond_init(&b->cond);
  b->pool = g_thread_pool_new(worker, b, (gint)MAX(b->jobs, 1), FALSE, NULL);
  g_mutex_lock(&b->lock);
  g_autoptr(GPtrArray) ready = g_ptr_array_new();
  for (guint i = 0; i < b->tasks->len; i++) {
    LatheNodeRun *t = b->tasks->pdata[i];
    if (!t->waiting)
      g_ptr_array_add(ready, t);
  }
  LatheNodeRun *first = dispatch(b, ready);
  if (first)
    g_thread_pool_push(b->pool, first, NULL);
  while (b->finalized < b->tasks->len) {
    if (!b->active) {
      g_warning("scheduler: %u tasks can never run (a dependency bug)",
                b->tasks->len - b->finalized);
      break;
    }
    g_cond_wait(&b->cond, &b->lock);
  }
  g_mutex_unlock(&b->lock);
  g_thread_pool_free(b->pool, FALSE, TRUE);
  b->pool = NULL;
  g_cond_clear(&b->cond);
  g_mutex_clear(&b->lock);
}
