/* tracker-sqlite.h: internals shared by the files of the tracker/sqlite
 * plugin. Not installed, not part of the ABI. */
#pragma once

#include <sqlite3.h>

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/* The schema this code writes, stored in PRAGMA user_version. A database with a
 * higher number was written by a newer plugin and is refused. */
#define LATHE_TRACKER_SCHEMA_VERSION 1

/* Batching: the host may log thousands of metric points in a burst, and one
 * transaction per point would make each one wait for its own commit. Writes
 * therefore share a transaction that is committed after this many writes... */
#define LATHE_TRACKER_BATCH_WRITES 1000
/* ...or once no write came for this long (so readers see live metrics and
 * other processes are not locked out while a model trains quietly)... */
#define LATHE_TRACKER_IDLE_COMMIT_US (200 * G_TIME_SPAN_MILLISECOND)
/* ...or once the transaction is this old, even under a steady trickle. */
#define LATHE_TRACKER_MAX_TXN_US (1000 * G_TIME_SPAN_MILLISECOND)
/* How long a write waits for another process holding the database lock. */
#define LATHE_TRACKER_BUSY_TIMEOUT_MS 10000

/* Prepared statements, kept for the life of the tracker. */
typedef enum {
  LATHE_TRACKER_ST_BEGIN,
  LATHE_TRACKER_ST_COMMIT,
  LATHE_TRACKER_ST_RUN_UPSERT,
  LATHE_TRACKER_ST_RUN_EXISTS,
  LATHE_TRACKER_ST_RUN_END,
  LATHE_TRACKER_ST_PARAM_INSERT,
  LATHE_TRACKER_ST_PARAM_GET,
  LATHE_TRACKER_ST_METRIC_INSERT,
  LATHE_TRACKER_ST_LATEST_UPSERT,
  LATHE_TRACKER_ST_TAG_UPSERT,
  LATHE_TRACKER_N_ST,
} LatheTrackerStmt;

/**
 * LatheTrackerDb:
 *
 * One open tracking database. The host calls the tracker from one thread,
 * but a flusher thread commits idle batches, so every use of @db happens with
 * @lock held.
 */
typedef struct {
  LatheContext *ctx;
  char *path;
  sqlite3 *db;
  gint64 experiment_id;
  sqlite3_stmt *st[LATHE_TRACKER_N_ST];
  GHashTable *runs; /* run ids known to exist in the database */

  GMutex lock;
  GCond cond;
  GThread *flusher;
  gboolean quit;
  gboolean in_txn;
  guint pending;          /* writes in the open transaction */
  gint64 txn_start_us;    /* monotonic */
  gint64 last_write_us;   /* monotonic */
  GError *deferred;       /* a failed background commit, for the next call */
} LatheTrackerDb;

/* Opens (creating if needed) the database at @path, with @experiment as the
 * experiment of the runs started through it, and starts the flusher. */
LatheTrackerDb *lathe_tracker_db_open(LatheContext *ctx, const char *path,
                                      const char *experiment, GError **error);
/* Stops the flusher, commits what is pending (logging a failure) and frees. */
void lathe_tracker_db_close(LatheTrackerDb *t);

/* The protocol of every write, with @lock held: write_begin() reports a
 * failed background commit (the call then fails without writing) or opens the
 * batch transaction; write_done() counts the write and commits a full batch. */
gboolean lathe_tracker_db_write_begin(LatheTrackerDb *t, GError **error);
gboolean lathe_tracker_db_write_done(LatheTrackerDb *t, GError **error);
/* Commits the open batch, if any; on failure the batch is lost and said so. */
gboolean lathe_tracker_db_commit(LatheTrackerDb *t, GError **error);
/* Sets @error from the connection's last error, naming @what and the path;
 * always returns %FALSE. */
gboolean lathe_tracker_db_sql_error(LatheTrackerDb *t, GError **error,
                                    const char *what);
/* One of the prepared statements; reset it after use. */
sqlite3_stmt *lathe_tracker_db_stmt(LatheTrackerDb *t, LatheTrackerStmt which);

G_END_DECLS
