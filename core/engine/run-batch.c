/* The scheduler: runs a batch of tasks in dependency order on a thread pool.
 * It decides what runs and what is skipped; the run's executor does a task's
 * work and the run's recorder records every state change, so the scheduler
 * runs as well with fakes of both (tests/core/engine). Bookkeeping
 * (dependents, skips) is done under the batch lock, so the order of
 * completion never changes what is decided. */
#include <string.h>

#include "engine/engine-private.h"

static volatile gint interrupted;

void lathe_engine_interrupt(void) { g_atomic_int_set(&interrupted, 1); }
gboolean lathe_engine_interrupted(void) { return g_atomic_int_get(&interrupted) != 0; }

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

LatheBatch *lathe_batch_new(LatheRun *run, LatheNodeRun *tuner, guint trial_number, guint jobs) {
  LatheBatch *b = g_new0(LatheBatch, 1);
  b->run = run;
  b->parent = tuner ? tuner->batch : NULL;
  b->tuner = tuner;
  b->trial_number = trial_number;
  b->task_of = g_hash_table_new(NULL, NULL);
  b->tasks = g_ptr_array_new();
  b->jobs = jobs;
  return b;
}

LatheNodeRun *lathe_node_run_new(LatheBatch *batch, LatheNode *node, const char *exec_id,
                          JsonObject *params) {
  LatheNodeRun *t = g_new0(LatheNodeRun, 1);
  t->node = node;
  t->batch = batch;
  t->exec_id = g_strdup(exec_id);
  t->trial = batch->tuner ? (gint)batch->trial_number : -1;
  t->params = params;
  t->public_params = lathe_params_public(node->comp, params);
  t->deps = g_ptr_array_new();
  t->dependents = g_ptr_array_new();
  t->outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)lathe_artifact_unref);
  t->metrics = json_object_new();
  t->data_versions = json_array_new();
  /* The only place a task's seed is derived: the cache key and the
   * context both read it from here. */
  t->seed = lathe_seed_derive(batch->run->graph->seed, t->exec_id);
  g_mutex_init(&t->key_lock);
  g_ptr_array_add(batch->tasks, t);
  g_hash_table_insert(batch->task_of, node, t);
  g_mutex_lock(&batch->run->lock);
  g_ptr_array_add(batch->run->all_tasks, t);
  g_mutex_unlock(&batch->run->lock);
  return t;
}

static void task_free(LatheNodeRun *t) {
  g_mutex_clear(&t->key_lock);
  g_free(t->cache_key);
  g_clear_pointer(&t->inputs, json_object_unref);
  g_clear_pointer(&t->outs, json_object_unref);
  g_free(t->exec_id);
  json_object_unref(t->params);
  g_clear_pointer(&t->public_params, json_object_unref);
  g_ptr_array_unref(t->deps);
  g_ptr_array_unref(t->dependents);
  g_hash_table_unref(t->outputs);
  json_object_unref(t->metrics);
  json_array_unref(t->data_versions);
  g_free(t->error);
  g_free(t->progress_note);
  g_free(t->worker);
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
  g_free(b->slot_busy);
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

/* Why a task cannot run because of a dependency in an outer batch (one that
 * finished before this batch started: the run's late nodes read the run's
 * others), or NULL. A trial's outer dependencies always succeeded: its tuner
 * waited for them. */
static char *check_outer_deps(LatheNodeRun *t, LatheSkipReason *reason) {
  for (guint i = 0; i < t->node->deps->len; i++) {
    LatheNode *dn = t->node->deps->pdata[i];
    if (g_hash_table_contains(t->batch->task_of, dn))
      continue;
    LatheNodeRun *d = lathe_batch_find(t->batch, dn);
    if (!d || d->status == TASK_SUCCEEDED || d->status == TASK_CACHED)
      continue;
    gboolean benign = d->status == TASK_SKIPPED && (d->skip_reason == LATHE_SKIP_CONDITION ||
                                                    d->skip_reason == LATHE_SKIP_UPSTREAM_CONDITION);
    *reason = benign ? LATHE_SKIP_UPSTREAM_CONDITION : LATHE_SKIP_UPSTREAM_FAILED;
    return benign ? g_strdup_printf("condition not met upstream: '%s' was skipped", d->exec_id)
                  : g_strdup_printf("skipped: '%s' %s", d->exec_id,
                                    d->status == TASK_FAILED ? "failed" : "was skipped");
  }
  return NULL;
}

void lathe_node_run_event(LatheNodeRun *t, LatheTaskEventKind kind, LatheTaskEvent *ev) {
  LatheComponentInfo *c = t->node->comp;
  *ev = (LatheTaskEvent){
      .kind = kind,
      .who = {.run_id = t->batch->run->run_id, .node = t->exec_id, .component = c->id,
              .plugin = c->plugin->name, .plugin_version = c->plugin->version,
              .plugin_digest = lathe_plugin_digest(c->plugin), .cache_key = t->cache_key,
              .params = t->public_params, .worker = t->worker},
      .node = t->node->id,
      .trial = t->trial,
      .tuner = t->batch->tuner ? t->batch->tuner->exec_id : NULL,
      .started = t->started,
      .time = now_s(),
      .skip_reason = t->skip_reason,
  };
}

gboolean lathe_error_is_resource(const GError *error) {
  /* GLib's own thread pools and g_thread_try_new() say G_THREAD_ERROR. */
  return error && (g_error_matches(error, LATHE_ERROR, LATHE_ERROR_RESOURCE) ||
                   error->domain == G_THREAD_ERROR);
}

/* With the batch lock held: records a task that never ran. */
static void record_skip(LatheBatch *exec, LatheNodeRun *t, LatheSkipReason reason,
                        const char *why) {
  t->status = TASK_SKIPPED;
  t->skip_reason = reason;
  t->interrupted = reason == LATHE_SKIP_INTERRUPTED;
  t->started = t->ended = now_s();
  t->error = g_strdup(why);
  LatheTaskEvent ev;
  lathe_node_run_event(t, LATHE_EVENT_SKIPPED, &ev);
  ev.time = t->ended;
  ev.error = why;
  lathe_recorder_task(t->batch->run->recorder, &ev, NULL); /* a skip cannot fail to record */
  exec->finalized++;
}

/* The worker that runs @t, once its executor is chosen: the scheduler's slot
 * on this process's threads or an executor's ("process 1": executors run at
 * most jobs tasks at once, one a slot); a trial's tasks run one at a time on
 * its thread ("trial slot 0"), or through an executor from it. */
static void set_worker(LatheNodeRun *t) {
  LatheBatch *b = t->batch;
  const char *where = t->remote ? lathe_executors_short_name(t->remote) : "thread";
  char *worker = !b->tuner   ? g_strdup_printf("%s %u", where, t->slot)
                 : t->remote ? g_strdup_printf("%s, trial slot %u", where, b->trial_slot)
                             : g_strdup_printf("trial slot %u", b->trial_slot);
  g_mutex_lock(&b->run->lock);
  g_free(t->worker);
  t->worker = worker;
  g_mutex_unlock(&b->run->lock);
}

/* One attempt at a task: its work through the run's executor, then its
 * outcome recorded (outside the batch lock: store and tracker writes take
 * time, and other workers must not queue behind them). Returns whether the
 * node's retry policy gives it another attempt (retry.c). */
static gboolean run_attempt(LatheNodeRun *t) {
  g_autoptr(GError) error = NULL;
  LatheRun *run = t->batch->run;
  g_mutex_lock(&run->lock);
  t->started = now_s(); /* when a worker takes it, not when it was queued */
  t->attempt++;
  t->failure = LATHE_RETRY_ON_ERROR; /* a thread's failure is its component's error */
  g_mutex_unlock(&run->lock);
  LatheTaskEvent ev;
  lathe_node_run_event(t, LATHE_EVENT_STARTED, &ev);
  lathe_recorder_task(run->recorder, &ev, NULL);
  gboolean ok;
  if (run->executors && !lathe_executors_select(run->executors, t, &error)) {
    /* Its executor cannot start (sbatch missing, a bad setting): the node
     * fails with that, as any other, and is not retried. */
    ok = FALSE;
    t->failure = 0;
    t->inputs = json_object_new();
    t->outs = json_object_new();
  } else {
    set_worker(t);
    ok = run->executor->execute(run->executor->data, t, &error);
  }
  gboolean again = FALSE;
  if (!ok) {
    t->status = TASK_FAILED;
    /* A plugin's message may quote a secret it was given (a refused token). */
    t->error = error ? lathe_params_redact(t->node->comp, t->params, error->message)
                     : g_strdup("failed without saying why (plugin bug)");
    t->interrupted = lathe_engine_interrupted() || lathe_error_is_resource(error);
    again = !t->interrupted && lathe_retry_should(t);
    if (t->attempt > 1 || again) {
      char *said = t->error;
      t->error = g_strdup_printf("attempt %u (%s)%s: %s", t->attempt, lathe_retry_on_name(t->failure),
                                 again ? ", tried again" : "", said);
      g_free(said);
    }
  } else if (t->status != TASK_CACHED) {
    t->status = TASK_SUCCEEDED;
  }
  if (!t->ended)
    t->ended = now_s();
  LatheTaskEventKind kind = t->status == TASK_CACHED      ? LATHE_EVENT_CACHED
                            : t->status == TASK_SUCCEEDED ? LATHE_EVENT_SUCCEEDED
                            : lathe_engine_interrupted()  ? LATHE_EVENT_INTERRUPTED
                                                          : LATHE_EVENT_FAILED;
  g_mutex_lock(&t->key_lock);
  lathe_node_run_event(t, kind, &ev);
  g_mutex_unlock(&t->key_lock);
  ev.time = t->ended;
  ev.error = t->error;
  ev.inputs = t->inputs;
  ev.outputs = t->outs;
  ev.metrics = t->metrics;
  ev.data_versions = t->data_versions;
  ev.will_retry = again;
  g_autoptr(GError) rec_error = NULL;
  if (!lathe_recorder_task(run->recorder, &ev, &rec_error)) {
    /* The recorder has recorded it failed: the scheduler must agree. */
    t->status = TASK_FAILED;
    g_free(t->error);
    t->error = g_strdup(rec_error ? rec_error->message : "could not be recorded");
  }
  return again;
}

/* A task, attempted as often as its retry policy allows: each attempt is an
 * execution of its own in the store, and the last one's outcome is the
 * task's. */
static void run_task(LatheNodeRun *t) {
  while (run_attempt(t) && lathe_retry_wait(t)) {
    g_clear_pointer(&t->error, g_free);
    t->ended = 0;
    t->running_told = FALSE;
    g_clear_pointer(&t->inputs, json_object_unref);
    g_clear_pointer(&t->outs, json_object_unref);
    g_hash_table_remove_all(t->outputs);
    json_object_unref(t->metrics);
    t->metrics = json_object_new();
    json_array_unref(t->data_versions);
    t->data_versions = json_array_new();
    t->status = TASK_RUNNING;
  }
}

void lathe_batch_run_again(LatheNodeRun *t) {
  g_free(t->error);
  t->error = NULL;
  t->ended = 0;
  g_clear_pointer(&t->inputs, json_object_unref);
  g_clear_pointer(&t->outs, json_object_unref);
  g_hash_table_remove_all(t->outputs);
  t->status = TASK_RUNNING;
  run_task(t);
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

/* With the batch lock held: queues a runnable task and wakes a worker. The
 * queue is the batch's own, not the pool's: when no thread can be started
 * (a memory limit), GLib keeps the item in a queue no thread will ever read,
 * while ours is also served by the batch's calling thread, so the run goes
 * on, one node at a time. */
static void enqueue(LatheBatch *b, LatheNodeRun *t) {
  g_queue_push_tail(&b->queue, t);
  g_cond_broadcast(&b->cond);
  g_autoptr(GError) error = NULL;
  if (b->pool && !g_thread_pool_push(b->pool, b, &error) && !b->thread_failed) {
    b->thread_failed = TRUE;
    g_printerr("warning: %s; nodes wait for a running one to finish\n", error->message);
  }
}

/* With the batch lock held: skips what must not run, marks the rest running,
 * queues all but the first and returns the first, for the calling thread to
 * run itself. */
static LatheNodeRun *dispatch(LatheBatch *b, GPtrArray *ready) {
  LatheNodeRun *first = NULL;
  for (guint i = 0; i < ready->len; i++) {
    LatheNodeRun *t = ready->pdata[i];
    if (t->status != TASK_PENDING)
      continue;
    gboolean interrupted_now = lathe_engine_interrupted();
    LatheSkipReason reason = interrupted_now ? LATHE_SKIP_INTERRUPTED
                             : b->hold       ? LATHE_SKIP_UPSTREAM_FAILED
                                             : LATHE_SKIP_CONDITION;
    g_autofree char *why = interrupted_now ? g_strdup("skipped: the run was interrupted")
                           : b->hold       ? g_strdup(b->hold)
                                           : check_outer_deps(t, &reason);
    if (!why)
      why = check_conditions(t);
    if (why) {
      record_skip(b, t, reason, why);
      skip_dependents(b, t);
      continue;
    }
    t->status = TASK_RUNNING;
    b->active++;
    LatheTaskEvent ev;
    lathe_node_run_event(t, LATHE_EVENT_QUEUED, &ev);
    lathe_recorder_task(b->run->recorder, &ev, NULL);
    if (!first)
      first = t;
    else
      enqueue(b, t);
  }
  return first;
}

/* With the batch lock held: records a finished task and releases its
 * dependents. Returns the task this thread should run next, if any. */
static LatheNodeRun *complete(LatheBatch *b, LatheNodeRun *t) {
  b->active--;
  b->finalized++;
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
  (void)data; /* a wake-up: the task is the queue's head, if still there */
  g_mutex_lock(&b->lock);
  LatheNodeRun *t = g_queue_pop_head(&b->queue);
  /* Slot 0 is the calling thread's; the pool runs at most jobs - 1 of these
   * at once, so a free slot is always there. */
  guint slot = 1;
  while (t && slot + 1 < b->jobs && b->slot_busy[slot])
    slot++;
  if (t)
    b->slot_busy[slot] = TRUE;
  g_mutex_unlock(&b->lock);
  while (t) {
    t->slot = slot;
    run_task(t);
    g_mutex_lock(&b->lock);
    t = complete(b, t);
    if (!t)
      b->slot_busy[slot] = FALSE;
    g_mutex_unlock(&b->lock);
  }
}

static guint trial_slot_take(LatheRun *run) {
  g_mutex_lock(&run->lock);
  if (!run->trial_slots)
    run->trial_slots = g_array_new(FALSE, TRUE, sizeof(gboolean));
  guint k = 0;
  while (k < run->trial_slots->len && g_array_index(run->trial_slots, gboolean, k))
    k++;
  if (k == run->trial_slots->len)
    g_array_set_size(run->trial_slots, k + 1);
  g_array_index(run->trial_slots, gboolean, k) = TRUE;
  g_mutex_unlock(&run->lock);
  return k;
}

void lathe_batch_execute(LatheBatch *b) {
  g_mutex_init(&b->lock);
  g_cond_init(&b->cond);
  g_queue_init(&b->queue);
  g_free(b->slot_busy);
  b->slot_busy = g_new0(gboolean, MAX(b->jobs, 2));
  if (b->tuner)
    b->trial_slot = trial_slot_take(b->run);
  /* Non-exclusive: threads start on demand, and a failure to start one is
   * the push's error (enqueue()), not an abort. */
  b->pool = b->jobs > 1 ? g_thread_pool_new(worker, b, (gint)b->jobs - 1, FALSE, NULL) : NULL;
  g_mutex_lock(&b->lock);
  g_autoptr(GPtrArray) ready = g_ptr_array_new();
  for (guint i = 0; i < b->tasks->len; i++) {
    LatheNodeRun *t = b->tasks->pdata[i];
    if (!t->waiting)
      g_ptr_array_add(ready, t);
  }
  /* The calling thread works as one of the jobs: it runs the first task and
   * whatever the queue holds when it is free. */
  LatheNodeRun *mine = dispatch(b, ready);
  while (b->finalized < b->tasks->len) {
    if (!mine)
      mine = g_queue_pop_head(&b->queue);
    if (mine) {
      g_mutex_unlock(&b->lock);
      mine->slot = 0;
      run_task(mine);
      g_mutex_lock(&b->lock);
      mine = complete(b, mine);
      continue;
    }
    if (!b->active) {
      g_warning("scheduler: %u tasks can never run (a dependency bug)",
                b->tasks->len - b->finalized);
      break;
    }
    g_cond_wait(&b->cond, &b->lock);
  }
  g_mutex_unlock(&b->lock);
  if (b->pool)
    g_thread_pool_free(b->pool, FALSE, TRUE);
  b->pool = NULL;
  if (b->tuner) {
    g_mutex_lock(&b->run->lock);
    g_array_index(b->run->trial_slots, gboolean, b->trial_slot) = FALSE;
    g_mutex_unlock(&b->run->lock);
  }
  g_cond_clear(&b->cond);
  g_mutex_clear(&b->lock);
}
