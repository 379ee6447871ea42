/* store-private.h: shared by the store's files only. */
#pragma once

#include <sqlite3.h>

#include "store/store.h"

struct _LatheStore {
  char *dir;
  char *artifacts;
  sqlite3 *db;
  GMutex lock; /* held around every statement sequence */
  GHashTable *stmts; /* SQL text pointer -> sqlite3_stmt*, prepared once */
  char *proc_token;
  gboolean check_rewrites; /* lathe_store_set_check_rewrites() */
  /* Group commit: writes go into one open transaction that a flusher thread
   * commits GROUP_COMMIT_MS after it began, so a node costs a few statements
   * rather than a commit each. A crash loses at most that window, whole. */
  gboolean in_txn;
  gint64 txn_started;
  GCond flush_cond;
  GThread *flusher;
  gboolean stopping;
  gboolean read_only; /* lathe_store_open_readonly(): never written */
};

/* A reset, persistent statement for @sql (a string literal); call with the lock held. */
sqlite3_stmt *lathe_store_stmt(LatheStore *s, const char *sql);
#define stmt lathe_store_stmt
/* With the lock held: one operation inside the group transaction (a
 * savepoint), and committing that transaction now. */
gboolean lathe_store_op_begin(LatheStore *s, GError **error);
gboolean lathe_store_op_end(LatheStore *s, gboolean ok, GError **error);
void lathe_store_commit_locked(LatheStore *s);
gboolean lathe_store_exec(LatheStore *s, const char *sql, GError **error);
/* Sets @error from the database's message; returns FALSE. */
gboolean lathe_store_fail(LatheStore *s, GError **error, const char *what);
/* Column @col of @st into @o[@key], NULL as JSON null. */
void lathe_store_set_text(JsonObject *o, const char *key, sqlite3_stmt *st, int col);
/* A LIKE pattern (with ESCAPE '\\') matching ids that start with @prefix
 * taken literally: '%' and '_' in it are no wildcards. An empty prefix
 * matches nothing, not every id. */
char *lathe_store_like_prefix(const char *prefix);
/* With the lock held: (transfer full) (nullable) the full id of the run
 * @ref names (an id or a unique prefix), or NULL with @error set
 * (LATHE_ERROR_INVALID). */
char *lathe_store_resolve_run(LatheStore *s, const char *ref, GError **error);
void lathe_store_set_real(JsonObject *o, const char *key, sqlite3_stmt *st, int col);
/* A new object of a runs row whose columns 0 to 5 are id, name, status,
 * started, ended, pipeline (what every listing of a run shows first). */
JsonObject *lathe_store_run_head(sqlite3_stmt *st);
/* (transfer full) (nullable) */
JsonNode *lathe_store_parse_json(const char *text);

/* store-files.c */
/* Creates @dir (0700) and, if missing, its database, whole (0600); refuses
 * an empty lathe.db. */
gboolean lathe_store_files_prepare(const char *dir, const char *schema, int schema_version,
                                   GError **error);
/* (transfer full) (nullable) "PID:STARTTIME" of a live process. */
char *lathe_store_proc_token_for(int pid);
/* With the lock held: the tables a store with history lacks, comma-separated, or NULL (store-check.c). */
char *lathe_store_missing_tables(LatheStore *s, int version);
/* With the open transaction held, upgrading an older store: adds the
 * columns later schemas added to existing tables, where missing. */
gboolean lathe_store_add_columns(LatheStore *s, GError **error);
gboolean lathe_store_proc_alive(const char *token);
/* (transfer full) */
char *lathe_store_artifact_path(LatheStore *s, const char *digest);
/* Removes the temp files and scratch folders of processes that died. */
void lathe_store_clean_leftovers(LatheStore *s);
/* store-journal.c: with the lock held and an operation open, writes
 * @journal's rows; events without a run get @run_id. */
gboolean lathe_store_journal_write_locked(LatheStore *s, const LatheJournal *journal,
                                          const char *run_id);

/* store-reports.c */
/* One point of a report, as the readers below give them. */
typedef void (*LatheReportVisit)(gpointer data, gint64 exec_id, const char *name, gint64 step,
                                 double value, double ts);
/* With the lock held: every report of execution @exec_id, in the order
 * they were made (an older store's rows, then the chunks). */
void lathe_store_each_report_locked(LatheStore *s, gint64 exec_id, LatheReportVisit visit,
                                    gpointer data);
/* The same for every execution of run @run_id in two queries (not two per
 * execution): each execution's reports in their order, executions by id;
 * @top_only: only executions of top-level nodes (no '/' in the id). */
void lathe_store_each_run_report_locked(LatheStore *s, const char *run_id, gboolean top_only,
                                        LatheReportVisit visit, gpointer data);
/* A metrics journal event naming report chunks ({report_chunks: [{chunk,
 * key}]}) gets their points instead ({points: [{key, value, step, ts}]}). */
void lathe_store_expand_chunks(LatheStore *s, JsonObject *payload);
