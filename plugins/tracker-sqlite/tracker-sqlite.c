/* tracker-sqlite.c: the tracker/sqlite component, Lathe's embedded default
 * experiment tracker. It keeps an MLflow-like view of runs (experiments, runs,
 * params, metric history, latest metrics, tags) in one SQLite file that people
 * and tools can query while runs are going on. */
#include <math.h>
#include <string.h>

#include "tracker-sqlite.h"

static const LatheParamSpec tracker_params[] = {
    LATHE_PARAM_STRING_("path", "\"\"", 0,
                        "SQLite file of the tracker; empty means <store>/tracking.db, "
                        "a relative path is relative to the pipeline file"),
    LATHE_PARAM_STRING_("experiment", "\"Default\"", 0,
                        "experiment the runs of this session are filed under"),
    LATHE_PARAM_END,
};


static gpointer tracker_open(LatheContext *ctx, GError **error) {
  g_autofree char *path =
      lathe_context_resolve_path(ctx, lathe_context_param_string(ctx, "path"), "tracking.db", error);
  if (!path)
    return NULL;
  const char *experiment = lathe_context_param_string(ctx, "experiment");
  if (!experiment || !*experiment) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: param `experiment` is empty; name an experiment "
                "or leave it out for \"Default\" (%s)",
                path);
    return NULL;
  }
  return lathe_tracker_db_open(ctx, path, experiment, error);
}

/* Refuses a missing argument with a message naming the call, the argument
 * and the database. */
static gboolean need(LatheTrackerDb *t, const char *call, const char *what,
                     const char *value, GError **error) {
  if (value && *value)
    return TRUE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
              "tracker-sqlite: %s: the %s is %s (%s)", call, what,
              value ? "empty" : "missing", t->path);
  return FALSE;
}

/* Steps @st, which returns no rows, and resets it. */
static gboolean step_done(LatheTrackerDb *t, sqlite3_stmt *st, const char *what,
                          GError **error) {
  gboolean ok = sqlite3_step(st) == SQLITE_DONE ||
                lathe_tracker_db_sql_error(t, error, what);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return ok;
}

/* Logging to a run nobody started is a host bug; say so instead of leaving an
 * orphan row (or a bare "FOREIGN KEY constraint failed"). */
static gboolean require_run(LatheTrackerDb *t, const char *call, const char *run_id,
                            GError **error) {
  if (g_hash_table_contains(t->runs, run_id))
    return TRUE;
  sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_RUN_EXISTS);
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  gboolean ok = rc == SQLITE_ROW;
  if (rc == SQLITE_DONE)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: %s: run '%s' was never started in %s; call "
                "start_run first",
                call, run_id, t->path);
  else if (!ok)
    lathe_tracker_db_sql_error(t, error, "cannot look up the run");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (ok)
    g_hash_table_add(t->runs, g_strdup(run_id));
  return ok;
}

static gboolean tracker_start_run(gpointer tracker, const char *run_id, const char *name,
                                  gint64 start_ms, GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "start_run", "run id", run_id, error))
    return FALSE;
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error);
  if (ok) {
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_RUN_UPSERT);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t->experiment_id);
    if (name && *name)
      sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, start_ms);
    ok = step_done(t, st, "cannot start the run", error) &&
         lathe_tracker_db_write_done(t, error);
  }
  /* After write_done, so a batch lost at its commit does not leave the run
   * in the cache. */
  if (ok)
    g_hash_table_add(t->runs, g_strdup(run_id));
  g_mutex_unlock(&t->lock);
  return ok;
}

static gboolean param_conflict(LatheTrackerDb *t, const char *run_id, const char *key,
                               const char *value, GError **error) {
  sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_PARAM_GET);
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  gboolean ok = FALSE;
  if (rc == SQLITE_ROW) {
    const char *old = (const char *)sqlite3_column_text(st, 0);
    ok = g_strcmp0(old, value) == 0;
    if (!ok)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "tracker-sqlite: param '%s' of run '%s' is already '%s' in %s; "
                  "cannot change it to '%s' (params are immutable: log a metric or "
                  "set a tag for a value that changes)",
                  key, run_id, old ? old : "", t->path, value);
  } else {
    lathe_tracker_db_sql_error(t, error, "cannot read the param back");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return ok;
}

static gboolean tracker_log_param(gpointer tracker, const char *run_id, const char *key,
                                  const char *value, GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "log_param", "run id", run_id, error) ||
      !need(t, "log_param", "param name", key, error))
    return FALSE;
  if (!value) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: log_param: param '%s' of run '%s' has no value (%s)", key,
                run_id, t->path);
    return FALSE;
  }
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error) &&
                require_run(t, "log_param", run_id, error);
  if (ok) {
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_PARAM_INSERT);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    ok = step_done(t, st, "cannot log the param", error);
    /* The insert does nothing when the key exists: then the value must match. */
    if (ok && sqlite3_changes(t->db) == 0)
      ok = param_conflict(t, run_id, key, value, error);
    ok = ok && lathe_tracker_db_write_done(t, error);
  }
  g_mutex_unlock(&t->lock);
  return ok;
}

static void bind_metric(sqlite3_stmt *st, const char *run_id, const char *key, double value,
                        gint64 step, gint64 timestamp_ms) {
  gboolean nan = isnan(value);
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 3, nan ? 0.0 : value);
  sqlite3_bind_int64(st, 4, step);
  sqlite3_bind_int64(st, 5, timestamp_ms);
  sqlite3_bind_int(st, 6, nan);
}

static gboolean tracker_log_metric(gpointer tracker, const char *run_id, const char *key,
                                   double value, gint64 step, gint64 timestamp_ms,
                                   GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "log_metric", "run id", run_id, error) ||
      !need(t, "log_metric", "metric name", key, error))
    return FALSE;
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error) &&
                require_run(t, "log_metric", run_id, error);
  if (ok) {
    sqlite3_stmt *hist = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_METRIC_INSERT);
    sqlite3_stmt *latest = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_LATEST_UPSERT);
    bind_metric(hist, run_id, key, value, step, timestamp_ms);
    bind_metric(latest, run_id, key, value, step, timestamp_ms);
    /* Both rows land in the same transaction, so a reader never sees a point
     * in the history that latest_metrics does not account for. */
    ok = step_done(t, hist, "cannot log the metric", error) &&
         step_done(t, latest, "cannot update the latest metric", error) &&
         lathe_tracker_db_write_done(t, error);
  }
  g_mutex_unlock(&t->lock);
  return ok;
}

static gboolean tracker_set_tag(gpointer tracker, const char *run_id, const char *key,
                                const char *value, GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "set_tag", "run id", run_id, error) ||
      !need(t, "set_tag", "tag name", key, error))
    return FALSE;
  if (!value) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: set_tag: tag '%s' of run '%s' has no value (%s)", key,
                run_id, t->path);
    return FALSE;
  }
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error) &&
                require_run(t, "set_tag", run_id, error);
  if (ok) {
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_TAG_UPSERT);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    ok = step_done(t, st, "cannot set the tag", error) &&
         lathe_tracker_db_write_done(t, error);
  }
  g_mutex_unlock(&t->lock);
  return ok;
}

/* The host's run states in MLflow's words; anything else is kept as given. */
static const char *map_status(const char *status) {
  static const struct {
    const char *host, *mlflow;
  } map[] = {
      {"succeeded", "FINISHED"},
      {"failed", "FAILED"},
      {"interrupted", "KILLED"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(map); i++)
    if (strcmp(status, map[i].host) == 0)
      return map[i].mlflow;
  return status;
}

static gboolean tracker_end_run(gpointer tracker, const char *run_id, const char *status,
                                gint64 end_ms, GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "end_run", "run id", run_id, error) ||
      !need(t, "end_run", "status", status, error))
    return FALSE;
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error) &&
                require_run(t, "end_run", run_id, error);
  if (ok) {
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_RUN_END);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, map_status(status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, end_ms);
    /* The end of a run is when people look at it: make it durable now. */
    ok = step_done(t, st, "cannot end the run", error) &&
         lathe_tracker_db_write_done(t, error) && lathe_tracker_db_commit(t, error);
  }
  g_mutex_unlock(&t->lock);
  return ok;
}

static char *tracker_start_run_full(gpointer tracker, const char *run_id, const char *name,
                                    const char *parent_run_id, gint64 start_ms, GError **error) {
  /* Lathe's run ids are this database's: NULL without an error keeps them. */
  if (tracker_start_run(tracker, run_id, name, start_ms, error) && parent_run_id)
    tracker_set_tag(tracker, run_id, "mlflow.parentRunId", parent_run_id, error);
  return NULL;
}

static gboolean exec_sql(LatheTrackerDb *t, const char *sql, const char *what, GError **error) {
  return sqlite3_exec(t->db, sql, NULL, NULL, NULL) == SQLITE_OK ||
         lathe_tracker_db_sql_error(t, error, what);
}

/* A metric point is applied once: a batch sent again (its answer was lost)
 * finds its points already there, as MLflow's key (run, key, step,
 * timestamp, value) makes them. */
#define METRIC_ONCE_SQL                                                                      \
  "INSERT INTO metrics(run_uuid, key, value, step, timestamp, is_nan)"                       \
  " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM metrics WHERE"             \
  " run_uuid = ?1 AND key = ?2 AND step = ?4 AND timestamp = ?5 AND value = ?3 AND"         \
  " is_nan = ?6)"

static gboolean batch_locked(LatheTrackerDb *t, const char *run_id, const LatheTrackerBatch *b,
                             GError **error) {
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < b->n_params; i++) {
    const LatheTrackerItem *it = &b->params[i];
    ok = need(t, "log_batch", "param name", it->key, error);
    if (ok && !it->value) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "tracker-sqlite: log_batch: param '%s' of run '%s' has no value (%s)", it->key,
                  run_id, t->path);
      ok = FALSE;
    }
    if (!ok)
      break;
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_PARAM_INSERT);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->value, -1, SQLITE_STATIC);
    ok = step_done(t, st, "cannot log the param", error);
    if (ok && sqlite3_changes(t->db) == 0)
      ok = param_conflict(t, run_id, it->key, it->value, error);
  }
  sqlite3_stmt *once = NULL;
  if (ok && b->n_metrics &&
      sqlite3_prepare_v2(t->db, METRIC_ONCE_SQL, -1, &once, NULL) != SQLITE_OK)
    ok = lathe_tracker_db_sql_error(t, error, "cannot prepare the metric insert");
  for (guint i = 0; ok && i < b->n_metrics; i++) {
    const LatheTrackerMetric *m = &b->metrics[i];
    if (!need(t, "log_batch", "metric name", m->key, error)) {
      ok = FALSE;
      break;
    }
    sqlite3_stmt *latest = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_LATEST_UPSERT);
    bind_metric(once, run_id, m->key, m->value, m->step, m->timestamp_ms);
    bind_metric(latest, run_id, m->key, m->value, m->step, m->timestamp_ms);
    ok = step_done(t, once, "cannot log the metric", error) &&
         step_done(t, latest, "cannot update the latest metric", error);
  }
  sqlite3_finalize(once);
  for (guint i = 0; ok && i < b->n_tags; i++) {
    const LatheTrackerItem *it = &b->tags[i];
    if (!need(t, "log_batch", "tag name", it->key, error) || !it->value) {
      if (!it->value && it->key)
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                    "tracker-sqlite: log_batch: tag '%s' of run '%s' has no value (%s)", it->key,
                    run_id, t->path);
      ok = FALSE;
      break;
    }
    sqlite3_stmt *st = lathe_tracker_db_stmt(t, LATHE_TRACKER_ST_TAG_UPSERT);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->value, -1, SQLITE_STATIC);
    ok = step_done(t, st, "cannot set the tag", error);
  }
  return ok;
}

/* A batch is applied whole or not at all (a savepoint), and committed before
 * the answer: the host marks it acked on that word. */
static gboolean tracker_log_batch(gpointer tracker, const char *run_id,
                                  const LatheTrackerBatch *batch, GError **error) {
  LatheTrackerDb *t = tracker;
  if (!need(t, "log_batch", "run id", run_id, error))
    return FALSE;
  g_mutex_lock(&t->lock);
  gboolean ok = lathe_tracker_db_write_begin(t, error) &&
                require_run(t, "log_batch", run_id, error) &&
                exec_sql(t, "SAVEPOINT batch", "cannot start the batch", error);
  if (ok) {
    ok = batch_locked(t, run_id, batch, error);
    if (!ok)
      sqlite3_exec(t->db, "ROLLBACK TO batch", NULL, NULL, NULL);
    sqlite3_exec(t->db, "RELEASE batch", NULL, NULL, NULL);
    ok = ok && lathe_tracker_db_write_done(t, error) && lathe_tracker_db_commit(t, error);
  }
  g_mutex_unlock(&t->lock);
  return ok;
}

/* No table of inputs here: the data a run read, as tags people can see. */
static gboolean tracker_log_inputs(gpointer tracker, const char *run_id,
                                   const LatheTrackerInput *inputs, guint n_inputs,
                                   GError **error) {
  for (guint i = 0; i < n_inputs; i++) {
    g_autofree char *key = g_strdup_printf("lathe.input.%s.%u", inputs[i].node, i);
    g_autofree char *value = g_strdup_printf("%s@%s", inputs[i].uri, inputs[i].digest);
    if (!tracker_set_tag(tracker, run_id, key, value, error))
      return FALSE;
  }
  return TRUE;
}

/* Artifacts stay where the run store keeps them; the tag says where. */
static gboolean tracker_log_artifact(gpointer tracker, const char *run_id,
                                     const char *artifact_path, const char *local_path,
                                     GBytes *bytes, GError **error) {
  g_autofree char *key = g_strdup_printf("lathe.artifact.%s", artifact_path);
  g_autofree char *value = local_path ? g_strdup(local_path)
                                      : g_strdup_printf("(%" G_GSIZE_FORMAT " bytes)",
                                                        bytes ? g_bytes_get_size(bytes) : 0);
  return tracker_set_tag(tracker, run_id, key, value, error);
}

static void tracker_close(gpointer tracker) {
  lathe_tracker_db_close(tracker);
}

static const LatheTrackerClass tracker_sqlite = {
    LATHE_COMPONENT_INIT(LatheTrackerClass, LATHE_KIND_TRACKER, "sqlite",
                         "MLflow-like experiment tracking in a local SQLite file",
                         tracker_params, NULL, NULL),
    .open = tracker_open,
    .start_run = tracker_start_run,
    .log_param = tracker_log_param,
    .log_metric = tracker_log_metric,
    .set_tag = tracker_set_tag,
    .end_run = tracker_end_run,
    .close = tracker_close,
    .start_run_full = tracker_start_run_full,
    .log_batch = tracker_log_batch,
    .log_inputs = tracker_log_inputs,
    .log_artifact = tracker_log_artifact,
};

LATHE_PLUGIN_DEFINE("tracker-sqlite", "0.1.0", "MIT",
                    "Embedded default experiment tracker (SQLite, MLflow-like schema)",
                    LATHE_COMPONENT(tracker_sqlite))
