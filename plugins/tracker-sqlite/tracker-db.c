/* tracker-db.c: the tracking database: opening, schema, prepared statements
 * and the batching of writes into shared transactions. */
#include <errno.h>

#include <glib/gstdio.h>

#include "tracker-sqlite.h"

static const char schema_sql[] =
    "CREATE TABLE experiments("
    "  experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE runs("
    "  run_uuid TEXT NOT NULL PRIMARY KEY,"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),"
    "  name TEXT,"
    "  status TEXT NOT NULL,"
    "  start_time INTEGER,"
    "  end_time INTEGER);"
    "CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);"
    "CREATE TABLE params("
    "  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;"
    /* SQLite stores NaN as NULL, so like MLflow a NaN is value 0 + is_nan. */
    "CREATE TABLE metrics("
    "  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  timestamp INTEGER NOT NULL,"
    "  is_nan INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX metrics_by_run_key ON metrics(run_uuid, key, step);"
    "CREATE TABLE latest_metrics("
    "  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  timestamp INTEGER NOT NULL,"
    "  is_nan INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;"
    "CREATE TABLE tags("
    "  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;";

static const char *const stmt_sql[LATHE_TRACKER_N_ST] = {
    [LATHE_TRACKER_ST_BEGIN] = "BEGIN IMMEDIATE",
    [LATHE_TRACKER_ST_COMMIT] = "COMMIT",
    /* Re-opening a run (a resumed or retried run) keeps its start time and
     * experiment and only makes it RUNNING again. */
    [LATHE_TRACKER_ST_RUN_UPSERT] =
        "INSERT INTO runs(run_uuid, experiment_id, name, status, start_time, end_time)"
        " VALUES(?1, ?2, ?3, 'RUNNING', ?4, NULL)"
        " ON CONFLICT(run_uuid) DO UPDATE SET status = 'RUNNING', end_time = NULL,"
        " name = COALESCE(excluded.name, runs.name)",
    [LATHE_TRACKER_ST_RUN_EXISTS] = "SELECT 1 FROM runs WHERE run_uuid = ?1",
    [LATHE_TRACKER_ST_RUN_END] =
        "UPDATE runs SET status = ?2, end_time = ?3 WHERE run_uuid = ?1",
    [LATHE_TRACKER_ST_PARAM_INSERT] =
        "INSERT INTO params(run_uuid, key, value) VALUES(?1, ?2, ?3)"
        " ON CONFLICT(run_uuid, key) DO NOTHING",
    [LATHE_TRACKER_ST_PARAM_GET] =
        "SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2",
    [LATHE_TRACKER_ST_METRIC_INSERT] =
        "INSERT INTO metrics(run_uuid, key, value, step, timestamp, is_nan)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* MLflow's rule: the latest value is the one with the highest step, and
     * among equal steps the latest timestamp; on a full tie the point logged
     * last wins. */
    [LATHE_TRACKER_ST_LATEST_UPSERT] =
        "INSERT INTO latest_metrics(run_uuid, key, value, step, timestamp, is_nan)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value,"
        " step = excluded.step, timestamp = excluded.timestamp,"
        " is_nan = excluded.is_nan"
        " WHERE excluded.step > latest_metrics.step"
        " OR (excluded.step = latest_metrics.step"
        " AND excluded.timestamp >= latest_metrics.timestamp)",
    [LATHE_TRACKER_ST_TAG_UPSERT] =
        "INSERT INTO tags(run_uuid, key, value) VALUES(?1, ?2, ?3)"
        " ON CONFLICT(run_uuid, key) DO UPDATE SET value = excluded.value",
};

/* Sets @error to "tracker-sqlite: WHAT in PATH: SQLITE MESSAGE". When SQLite
 * rolled the whole batch back on its own (disk full, I/O error) the earlier
 * writes of the batch are gone too, and the message says so. */
gboolean lathe_tracker_db_sql_error(LatheTrackerDb *t, GError **error, const char *what) {
  const char *msg = t->db ? sqlite3_errmsg(t->db) : "out of memory";
  int code = t->db ? sqlite3_errcode(t->db) : SQLITE_NOMEM;
  g_autofree char *lost = NULL;
  if (t->in_txn && t->db && sqlite3_get_autocommit(t->db)) {
    if (t->pending > 0)
      lost = g_strdup_printf(" (the %u earlier writes of this batch were rolled back)",
                             t->pending);
    t->in_txn = FALSE;
    t->pending = 0;
    g_hash_table_remove_all(t->runs);
  }
  g_set_error(error, LATHE_ERROR,
              code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? LATHE_ERROR_DATA
                                                               : LATHE_ERROR_IO,
              "tracker-sqlite: %s in %s: %s%s", what, t->path, msg, lost ? lost : "");
  return FALSE;
}

sqlite3_stmt *lathe_tracker_db_stmt(LatheTrackerDb *t, LatheTrackerStmt which) {
  return t->st[which];
}

/* Steps a statement that returns no rows, then resets it for the next use. */
static gboolean run_stmt(LatheTrackerDb *t, LatheTrackerStmt which, const char *what,
                         GError **error) {
  sqlite3_stmt *st = t->st[which];
  int rc = sqlite3_step(st);
  gboolean ok = rc == SQLITE_DONE || lathe_tracker_db_sql_error(t, error, what);
  sqlite3_reset(st);
  return ok;
}

gboolean lathe_tracker_db_commit(LatheTrackerDb *t, GError **error) {
  if (!t->in_txn)
    return TRUE;
  sqlite3_stmt *st = t->st[LATHE_TRACKER_ST_COMMIT];
  if (sqlite3_step(st) == SQLITE_DONE) {
    sqlite3_reset(st);
    t->in_txn = FALSE;
    t->pending = 0;
    return TRUE;
  }
  g_autofree char *what =
      g_strdup_printf("cannot commit %u writes (they are lost)", t->pending);
  t->in_txn = FALSE; /* the message already says the batch is lost */
  t->pending = 0;
  lathe_tracker_db_sql_error(t, error, what);
  sqlite3_reset(st);
  /* A failed COMMIT may leave the transaction open; drop it so the next write
   * starts clean instead of failing on "cannot start a transaction". */
  if (!sqlite3_get_autocommit(t->db))
    sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
  g_hash_table_remove_all(t->runs);
  return FALSE;
}

/* Called with the lock held before each write: reports a failed background
 * commit, and opens the batch transaction if none is open. */
gboolean lathe_tracker_db_write_begin(LatheTrackerDb *t, GError **error) {
  if (t->deferred) {
    g_propagate_error(error, t->deferred);
    t->deferred = NULL;
    return FALSE;
  }
  if (t->in_txn)
    return TRUE;
  if (!run_stmt(t, LATHE_TRACKER_ST_BEGIN, "cannot start a write transaction", error))
    return FALSE;
  t->in_txn = TRUE;
  t->pending = 0;
  t->txn_start_us = t->last_write_us = g_get_monotonic_time();
  g_cond_signal(&t->cond); /* the flusher now has a deadline to watch */
  return TRUE;
}

/* Called with the lock held after each successful write. */
gboolean lathe_tracker_db_write_done(LatheTrackerDb *t, GError **error) {
  t->pending++;
  t->last_write_us = g_get_monotonic_time();
  if (t->pending >= LATHE_TRACKER_BATCH_WRITES)
    return lathe_tracker_db_commit(t, error);
  return TRUE;
}

static gpointer flusher_main(gpointer data) {
  LatheTrackerDb *t = data;
  g_mutex_lock(&t->lock);
  while (!t->quit) {
    if (!t->in_txn) {
      g_cond_wait(&t->cond, &t->lock);
      continue;
    }
    gint64 deadline = MIN(t->last_write_us + LATHE_TRACKER_IDLE_COMMIT_US,
                          t->txn_start_us + LATHE_TRACKER_MAX_TXN_US);
    if (g_get_monotonic_time() < deadline) {
      g_cond_wait_until(&t->cond, &t->lock, deadline);
      continue;
    }
    GError *err = NULL;
    if (!lathe_tracker_db_commit(t, &err)) {
      /* Nobody to tell from this thread: keep the first failure for the next
       * call of the host. */
      if (!t->deferred)
        t->deferred = err;
      else
        g_error_free(err);
    }
  }
  g_mutex_unlock(&t->lock);
  return NULL;
}

/* Runs one statement of @sql and returns its first column as an integer. */
static gboolean query_int(LatheTrackerDb *t, const char *sql, gint64 *out, GError **error) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
    return lathe_tracker_db_sql_error(t, error, sql);
  int rc = sqlite3_step(st);
  gboolean ok = rc == SQLITE_ROW || lathe_tracker_db_sql_error(t, error, sql);
  if (ok)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return ok;
}

static gboolean exec(LatheTrackerDb *t, const char *sql, const char *what, GError **error) {
  if (sqlite3_exec(t->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return lathe_tracker_db_sql_error(t, error, what);
  return TRUE;
}

static gboolean set_pragmas(LatheTrackerDb *t, GError **error) {
  sqlite3_busy_timeout(t->db, LATHE_TRACKER_BUSY_TIMEOUT_MS);
  /* No checkpoint (and fsync) on every close: the WAL is checkpointed as it grows. */
  sqlite3_db_config(t->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(t->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
    return lathe_tracker_db_sql_error(t, error, "cannot read the database");
  int rc = sqlite3_step(st);
  g_autofree char *mode =
      rc == SQLITE_ROW ? g_strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
  if (rc != SQLITE_ROW) {
    lathe_tracker_db_sql_error(t, error, "cannot enable WAL mode");
    sqlite3_finalize(st);
    return FALSE;
  }
  sqlite3_finalize(st);
  if (g_ascii_strcasecmp(mode ? mode : "", "wal") != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "tracker-sqlite: cannot enable WAL mode in %s (journal mode stays '%s'); "
                "put the database on a local filesystem",
                t->path, mode ? mode : "");
    return FALSE;
  }
  /* In WAL mode NORMAL never corrupts the database; a power cut may lose the
   * last batch, which is acceptable for a tracker and keeps commits cheap. */
  return exec(t, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
              "cannot set pragmas", error);
}

/* Creates the schema in an empty database, or checks the version of an
 * existing one. Runs in an IMMEDIATE transaction so two processes opening a new
 * file at once do not both create it. */
static gboolean ensure_schema(LatheTrackerDb *t, GError **error) {
  if (!exec(t, "BEGIN IMMEDIATE", "cannot lock the database", error))
    return FALSE;
  gint64 version = 0, objects = 0;
  if (!query_int(t, "PRAGMA user_version", &version, error) ||
      !query_int(t, "SELECT count(*) FROM sqlite_master", &objects, error))
    goto fail;
  if (version > LATHE_TRACKER_SCHEMA_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: %s has schema version %" G_GINT64_FORMAT
                ", newer than the %d this plugin knows; upgrade the tracker-sqlite "
                "plugin or point the `path` param at another file",
                t->path, version, LATHE_TRACKER_SCHEMA_VERSION);
    goto fail;
  }
  if (version == 0 && objects > 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-sqlite: %s is an SQLite database that tracker-sqlite did not "
                "create (it has tables but no tracker-sqlite schema version); point "
                "the `path` param at a new file",
                t->path);
    goto fail;
  }
  if (version == 0) {
    g_autofree char *sql = g_strdup_printf("%s PRAGMA user_version = %d;", schema_sql,
                                           LATHE_TRACKER_SCHEMA_VERSION);
    if (!exec(t, sql, "cannot create the schema", error))
      goto fail;
  }
  return exec(t, "COMMIT", "cannot commit the schema", error);
fail:
  sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static gboolean ensure_experiment(LatheTrackerDb *t, const char *name, GError **error) {
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (!exec(t, "BEGIN IMMEDIATE", "cannot lock the database", error))
    return FALSE;
  if (sqlite3_prepare_v2(t->db,
                         "INSERT INTO experiments(name, created) VALUES(?1, ?2)"
                         " ON CONFLICT(name) DO NOTHING",
                         -1, &st, NULL) != SQLITE_OK) {
    lathe_tracker_db_sql_error(t, error, "cannot create the experiment");
    goto out;
  }
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, g_get_real_time() / 1000);
  if (sqlite3_step(st) != SQLITE_DONE) {
    lathe_tracker_db_sql_error(t, error, "cannot create the experiment");
    goto out;
  }
  sqlite3_finalize(st);
  if (sqlite3_prepare_v2(t->db, "SELECT experiment_id FROM experiments WHERE name = ?1", -1,
                         &st, NULL) != SQLITE_OK) {
    st = NULL;
    lathe_tracker_db_sql_error(t, error, "cannot read the experiment");
    goto out;
  }
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) {
    lathe_tracker_db_sql_error(t, error, "cannot read the experiment");
    goto out;
  }
  t->experiment_id = sqlite3_column_int64(st, 0);
  ok = TRUE;
out:
  sqlite3_finalize(st);
  if (ok)
    return exec(t, "COMMIT", "cannot commit the experiment", error);
  sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static gboolean prepare_all(LatheTrackerDb *t, GError **error) {
  for (int i = 0; i < LATHE_TRACKER_N_ST; i++) {
    if (sqlite3_prepare_v3(t->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &t->st[i],
                           NULL) != SQLITE_OK)
      return lathe_tracker_db_sql_error(t, error, "cannot prepare a statement");
  }
  return TRUE;
}

LatheTrackerDb *lathe_tracker_db_open(LatheContext *ctx, const char *path,
                                      const char *experiment, GError **error) {
  LatheTrackerDb *t = g_new0(LatheTrackerDb, 1);
  t->ctx = ctx;
  t->path = g_strdup(path);
  t->runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init(&t->lock);
  g_cond_init(&t->cond);

  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "tracker-sqlite: cannot create the folder of %s: %s", path, g_strerror(e));
    goto fail;
  }
  /* NOMUTEX: the tracker serialises all use of the connection with its lock. */
  int rc = sqlite3_open_v2(path, &t->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "tracker-sqlite: cannot open %s: %s",
                path, t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
    goto fail;
  }
  if (!set_pragmas(t, error) || !ensure_schema(t, error) ||
      !ensure_experiment(t, experiment, error) || !prepare_all(t, error))
    goto fail;
  t->flusher = g_thread_try_new("tracker-sqlite", flusher_main, t, error);
  if (!t->flusher) {
    g_prefix_error(error, "tracker-sqlite: %s: ", path);
    goto fail;
  }
  return t;
fail:
  lathe_tracker_db_close(t);
  return NULL;
}

void lathe_tracker_db_close(LatheTrackerDb *t) {
  if (!t)
    return;
  if (t->flusher) {
    g_mutex_lock(&t->lock);
    t->quit = TRUE;
    g_cond_signal(&t->cond);
    g_mutex_unlock(&t->lock);
    g_thread_join(t->flusher);
  }
  g_autoptr(GError) err = NULL;
  if (t->db && !lathe_tracker_db_commit(t, &err))
    lathe_context_log(t->ctx, G_LOG_LEVEL_WARNING, "%s", err->message);
  if (t->deferred)
    lathe_context_log(t->ctx, G_LOG_LEVEL_WARNING, "%s", t->deferred->message);
  g_clear_error(&t->deferred);
  for (int i = 0; i < LATHE_TRACKER_N_ST; i++)
    sqlite3_finalize(t->st[i]);
  sqlite3_close(t->db);
  g_hash_table_unref(t->runs);
  g_mutex_clear(&t->lock);
  g_cond_clear(&t->cond);
  g_free(t->path);
  g_free(t);
}
