/* The run recorder: the one place a task's state changes are written. For
 * each event it writes, together, the run store's execution row and the
 * trackers' journal rows (in one store operation), and the row of the run's
 * result; the rest of the engine only emits events (recorder.h). */
#include <string.h>

#include "engine/engine-private.h"

gboolean lathe_recorder_task(const LatheRecorder *r, const LatheTaskEvent *ev, GError **error) {
  return r->ops->task(r->data, ev, error);
}

void lathe_recorder_trial(const LatheRecorder *r, const LatheTrialEvent *ev) {
  if (r->ops->trial)
    r->ops->trial(r->data, ev);
}

void lathe_recorder_flush(const LatheRecorder *r) {
  if (r->ops->flush)
    r->ops->flush(r->data);
}

const char *lathe_task_event_kind_name(LatheTaskEventKind kind) {
  static const char *const names[] = {"queued", "started", "running", "report", "cached",
                                      "succeeded", "failed", "skipped", "interrupted"};
  return (guint)kind < G_N_ELEMENTS(names) ? names[kind] : "unknown";
}

const char *lathe_skip_reason_name(LatheSkipReason reason) {
  static const char *const names[] = {"none", "condition", "upstream-condition",
                                      "upstream-failed", "interrupted"};
  return (guint)reason < G_N_ELEMENTS(names) ? names[reason] : "unknown";
}

/* A row id that means "recorded": no "running" row may be written after it. */
#define ROW_DONE G_MAXINT64

typedef struct {
  LatheRecorder base;
  LatheRun *run;
  /* Held across a task's row writes: the worker, the ticker and reports race
   * to write the row of a task, and exactly one of them may. Never held
   * while taking the run lock. */
  GMutex lock;
  GHashTable *rows;       /* exec id -> gint64* store row (ROW_DONE once recorded) */
  GHashTable *trial_runs; /* "TUNER\x1fNUMBER" -> the trial's tracker run id */
  /* Reports wait here, a few milliseconds, to be written many to an
   * operation: one operation per point would cap a training loop at tens
   * of thousands of points a second. Written before their task's outcome,
   * on every tick of the ticker, and when the run ends. */
  GArray *pending;       /* PendingReport */
  double pending_since;  /* when the oldest pending report was made */
  GHashTable *series;    /* "EXEC\x1fMETRIC" -> Series*: what reports of it share */
  GStringChunk *strings; /* the series' strings */
  gboolean flush_failed; /* said once */
  const void *recent[4]; /* Series* last used: a loop reports a few series, often */
  guint recent_next;
} RunRecorder;

/* What every report of one metric of one task shares. */
typedef struct {
  const char *exec;     /* the task's exec id */
  const char *name;     /* the metric */
  const char *target;   /* the tracker run it logs to */
  const char *key;      /* its tracker key */
} Series;

typedef struct {
  const Series *series;
  gint64 row; /* the store row, or -1: none, the tracker alone gets it */
  double value;
  gint64 step;
  double ts;
} PendingReport;

#define FLUSH_POINTS 8192
#define FLUSH_SECONDS 0.05

static gint64 *row_new(gint64 id) {
  gint64 *row = g_new(gint64, 1);
  *row = id;
  return row;
}

static char *trial_key(const char *tuner, guint number) {
  return g_strdup_printf("%s\x1f%u", tuner, number);
}

/* With the lock held: the task's row, written now as "running" if it has none. */
static gint64 row_locked(RunRecorder *rr, const LatheTaskEvent *ev) {
  gint64 *row = g_hash_table_lookup(rr->rows, ev->who.node);
  if (row)
    return *row;
  g_autoptr(GError) error = NULL;
  gint64 id = lathe_store_begin_execution(rr->run->store, &ev->who, ev->started, &error);
  if (id < 0) {
    g_printerr("lathe: %s\n", error->message);
    return -1; /* not remembered: the next event tries again */
  }
  g_hash_table_insert(rr->rows, g_strdup(ev->who.node), row_new(id));
  return id;
}

/* Where a task logs in the tracker: its trial's child run, with keys without
 * the trial prefix, or the run itself, with keys by exec id. */
static const char *target_locked(RunRecorder *rr, const LatheTaskEvent *ev, const char **prefix) {
  const char *target = NULL;
  if (ev->trial >= 0 && ev->tuner) {
    g_autofree char *key = trial_key(ev->tuner, (guint)ev->trial);
    target = g_hash_table_lookup(rr->trial_runs, key);
  }
  *prefix = target ? ev->node : ev->who.node;
  return target ? target : rr->run->run_id;
}

static char *tracker_target(RunRecorder *rr, const LatheTaskEvent *ev, const char **prefix) {
  g_mutex_lock(&rr->lock);
  char *target = g_strdup(target_locked(rr, ev, prefix));
  g_mutex_unlock(&rr->lock);
  return target;
}

/* With the lock held: writes the pending reports, with their tracker points,
 * in one operation. */
static void flush_locked(RunRecorder *rr) {
  guint n = rr->pending->len;
  if (!n)
    return;
  g_autofree LatheStoreReport *rows = g_new(LatheStoreReport, n);
  for (guint i = 0; i < n; i++) {
    const PendingReport *p = &g_array_index(rr->pending, PendingReport, i);
    rows[i] = (LatheStoreReport){p->row, p->series->name, p->value, p->step, p->ts,
                                 p->series->target, p->series->key};
  }
  g_array_set_size(rr->pending, 0);
  g_autoptr(LatheJournal) journal = lathe_tracking_journal_new(rr->run);
  g_autoptr(GError) error = NULL;
  if (!lathe_store_add_reports(rr->run->store, rows, n, journal, &error)) {
    if (!rr->flush_failed)
      g_printerr("warning: %s; intermediate metrics are missing from the run\n", error->message);
    rr->flush_failed = TRUE;
  } else if (journal)
    lathe_tracking_kick(rr->run);
}

/* With the lock held: the series of @ev's metric, made on first use. */
static Series *series_lookup_locked(RunRecorder *rr, const LatheTaskEvent *ev) {
  char buf[256];
  int len = g_snprintf(buf, sizeof buf, "%s\x1f%s", ev->who.node, ev->metric);
  g_autofree char *longer = (gsize)len < sizeof buf ? NULL
                                                   : g_strdup_printf("%s\x1f%s", ev->who.node, ev->metric);
  const char *id = longer ? longer : buf;
  Series *se = g_hash_table_lookup(rr->series, id);
  if (se)
    return se;
  const char *prefix;
  const char *target = target_locked(rr, ev, &prefix);
  g_autofree char *key = g_strdup_printf("%s.%s", prefix, ev->metric);
  se = g_new(Series, 1);
  se->exec = g_string_chunk_insert_const(rr->strings, ev->who.node);
  se->name = g_string_chunk_insert_const(rr->strings, ev->metric);
  se->target = g_string_chunk_insert_const(rr->strings, target);
  se->key = g_string_chunk_insert_const(rr->strings, key);
  g_hash_table_insert(rr->series, g_strdup(id), se);
  return se;
}

/* With the lock held: the series of @ev's metric; the last few used are
 * found without building their id. */
static const Series *series_locked(RunRecorder *rr, const LatheTaskEvent *ev) {
  for (guint i = 0; i < G_N_ELEMENTS(rr->recent); i++) {
    const Series *r = rr->recent[i];
    if (r && strcmp(r->name, ev->metric) == 0 && strcmp(r->exec, ev->who.node) == 0)
      return r;
  }
  Series *se = series_lookup_locked(rr, ev);
  rr->recent[rr->recent_next++ % G_N_ELEMENTS(rr->recent)] = se;
  return se;
}

static void run_recorder_flush(gpointer data) {
  RunRecorder *rr = data;
  g_mutex_lock(&rr->lock);
  flush_locked(rr);
  g_mutex_unlock(&rr->lock);
}

static const char *status_name(LatheTaskEventKind kind) {
  switch (kind) {
  case LATHE_EVENT_CACHED: return "cached";
  case LATHE_EVENT_SUCCEEDED: return "succeeded";
  case LATHE_EVENT_SKIPPED: return "skipped";
  default: return "failed"; /* an interrupted task failed, as the store and `lathe runs` say */
  }
}

/* The task's row in the run's result, its metrics and the data it read. */
static void add_result(LatheRun *run, const LatheTaskEvent *ev, const char *status,
                       const char *error) {
  JsonObject *row = json_object_new();
  json_object_set_string_member(row, "id", ev->who.node);
  json_object_set_string_member(row, "status", status);
  json_object_set_double_member(row, "seconds", ev->time > ev->started ? ev->time - ev->started : 0);
  if (error)
    json_object_set_string_member(row, "error", error);
  /* A failed trial is the study's business (max_failed_trials): the tuner
   * node itself fails when the study does. */
  gboolean benign_skip = ev->skip_reason == LATHE_SKIP_CONDITION ||
                         ev->skip_reason == LATHE_SKIP_UPSTREAM_CONDITION;
  gboolean fails_run = ev->trial < 0 && !ev->will_retry && (g_str_equal(status, "failed") ||
                                         (g_str_equal(status, "skipped") && !benign_skip));
  g_mutex_lock(&run->lock);
  run->failed |= fails_run;
  /* A task run again replaces its earlier result. */
  for (guint i = 0; i < json_array_get_length(run->nodes); i++)
    if (g_str_equal(json_object_get_string_member(json_array_get_object_element(run->nodes, i), "id"),
                    ev->who.node)) {
      json_array_remove_element(run->nodes, i);
      break;
    }
  json_array_add_object_element(run->nodes, row);
  g_autoptr(GList) names = ev->metrics ? json_object_get_members(ev->metrics) : NULL;
  for (GList *l = names; l; l = l->next) {
    g_autofree char *key = g_strdup_printf("%s.%s", ev->who.node, (char *)l->data);
    json_object_set_double_member(run->metrics, key,
                                  json_object_get_double_member(ev->metrics, l->data));
  }
  for (guint i = 0; ev->data_versions && i < json_array_get_length(ev->data_versions); i++)
    json_array_add_element(run->data_versions,
                           json_node_copy(json_array_get_element(ev->data_versions, i)));
  g_mutex_unlock(&run->lock);
}

/* An outcome: the store row (on the "running" row if there is one) with, for
 * a success, the trackers' journal rows, then the result row. */
static gboolean record_outcome(RunRecorder *rr, const LatheTaskEvent *ev, GError **error) {
  LatheRun *run = rr->run;
  const char *status = status_name(ev->kind);
  gboolean success = ev->kind == LATHE_EVENT_SUCCEEDED || ev->kind == LATHE_EVENT_CACHED;
  LatheExecRecord rec = {.status = status, .inputs = ev->inputs, .outputs = ev->outputs,
                         .metrics = ev->metrics, .data_versions = ev->data_versions,
                         .error = ev->error, .started = ev->started, .ended = ev->time};
  /* Only a run writes a cache entry; a hit already has one. */
  const char *cache_key = ev->kind == LATHE_EVENT_CACHED ? NULL : ev->who.cache_key;
  /* The tracker's events are journaled in the same transaction as the row. */
  g_autoptr(LatheJournal) journal = NULL;
  if (success) {
    const char *prefix;
    g_autofree char *target = tracker_target(rr, ev, &prefix);
    journal = lathe_tracking_task_journal(run, target, prefix, ev->who.component, ev->who.params, ev->metrics,
                                          ev->outputs, ev->data_versions);
  }
  rec.journal = journal;
  g_autoptr(GError) store_error = NULL;
  g_mutex_lock(&rr->lock);
  flush_locked(rr); /* its reports before its outcome */
  gint64 *row = g_hash_table_lookup(rr->rows, ev->who.node);
  /* A second outcome is a task run again (lathe_batch_run_again): a new
   * execution row, not an overwrite of the first. */
  gint64 at = row && *row != ROW_DONE ? *row : -1;
  gboolean ok = lathe_store_finish_execution(run->store, at, &ev->who, cache_key, &rec,
                                             &store_error);
  g_hash_table_replace(rr->rows, g_strdup(ev->who.node), row_new(ROW_DONE));
  g_mutex_unlock(&rr->lock);
  if (!ok && !success)
    g_printerr("lathe: %s\n", store_error->message);
  if (!ok && success) {
    /* A success the store does not hold would be a lie in `lathe runs`. */
    add_result(run, ev, "failed", store_error->message);
    g_propagate_error(error, g_steal_pointer(&store_error));
    return FALSE;
  }
  if (journal)
    lathe_tracking_kick(run);
  add_result(run, ev, status, ev->error);
  return TRUE;
}

static gboolean run_recorder_task(gpointer data, const LatheTaskEvent *ev, GError **error) {
  RunRecorder *rr = data;
  switch (ev->kind) {
  case LATHE_EVENT_QUEUED:
  case LATHE_EVENT_STARTED:
    /* A short task is recorded whole when it ends: one write, not two. */
    return TRUE;
  case LATHE_EVENT_RUNNING: {
    g_mutex_lock(&rr->lock);
    row_locked(rr, ev);
    g_mutex_unlock(&rr->lock);
    return TRUE;
  }
  case LATHE_EVENT_REPORT: {
    g_mutex_lock(&rr->lock);
    gint64 row = row_locked(rr, ev);
    /* A report the store has no row for still reaches the tracker. */
    PendingReport p = {series_locked(rr, ev), row >= 0 && row != ROW_DONE ? row : -1, ev->value,
                       ev->step, ev->time};
    if (!rr->pending->len)
      rr->pending_since = ev->time;
    g_array_append_val(rr->pending, p);
    if (rr->pending->len >= FLUSH_POINTS || ev->time - rr->pending_since >= FLUSH_SECONDS)
      flush_locked(rr);
    g_mutex_unlock(&rr->lock);
    return TRUE;
  }
  default:
    return record_outcome(rr, ev, error);
  }
}

static void run_recorder_trial(gpointer data, const LatheTrialEvent *ev) {
  RunRecorder *rr = data;
  char *key = trial_key(ev->tuner, ev->number);
  if (!ev->ended) {
    char *id = lathe_tracking_trial_start(rr->run, ev->tuner, ev->number, ev->point);
    g_mutex_lock(&rr->lock);
    if (id)
      g_hash_table_replace(rr->trial_runs, key, id);
    else
      g_free(key);
    g_mutex_unlock(&rr->lock);
    return;
  }
  g_mutex_lock(&rr->lock);
  g_autofree char *id = g_strdup(g_hash_table_lookup(rr->trial_runs, key));
  g_mutex_unlock(&rr->lock);
  g_free(key);
  lathe_tracking_trial_end(rr->run, id, ev->state, ev->values);
}

static const LatheRecorderOps run_recorder_ops = {
    .task = run_recorder_task,
    .trial = run_recorder_trial,
    .flush = run_recorder_flush,
};

LatheRecorder *lathe_run_recorder_new(LatheRun *run) {
  RunRecorder *rr = g_new0(RunRecorder, 1);
  rr->base.ops = &run_recorder_ops;
  rr->base.data = rr;
  rr->run = run;
  g_mutex_init(&rr->lock);
  rr->rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  rr->trial_runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  rr->pending = g_array_new(FALSE, FALSE, sizeof(PendingReport));
  rr->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  rr->strings = g_string_chunk_new(4096);
  return &rr->base;
}

void lathe_run_recorder_free(LatheRecorder *r) {
  if (!r)
    return;
  RunRecorder *rr = r->data;
  flush_locked(rr);
  g_array_unref(rr->pending);
  g_hash_table_unref(rr->series);
  g_string_chunk_free(rr->strings);
  g_hash_table_unref(rr->rows);
  g_hash_table_unref(rr->trial_runs);
  g_mutex_clear(&rr->lock);
  g_free(rr);
}
