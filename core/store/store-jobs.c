/* The jobs executors run (schema 5), by the reference each gave: a run
 * killed while its jobs are queued or running leaves them here live, and
 * the next run re-attaches to them to cancel them (engine/executor.c). */
#include "store/store-private.h"

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

/* Committed at once: the row must outlive a host killed the next moment. */
static void job_write(LatheStore *s, const char *sql, const char *run_id, const char *node,
                      guint attempt, const char *executor, const char *job_ref) {
  g_autoptr(GError) error = NULL;
  g_mutex_lock(&s->lock);
  if (!lathe_store_op_begin(s, &error)) {
    g_mutex_unlock(&s->lock);
    g_printerr("warning: %s\n", error->message);
    return;
  }
  sqlite3_stmt *st = stmt(s, sql);
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, attempt);
  sqlite3_bind_double(st, 4, now_s());
  if (executor)
    sqlite3_bind_text(st, 5, executor, -1, SQLITE_STATIC);
  if (job_ref)
    sqlite3_bind_text(st, 6, job_ref, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, &error, "recording a job");
  ok = lathe_store_op_end(s, ok, &error);
  if (ok)
    lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
  if (!ok)
    g_printerr("warning: %s\n", error ? error->message : "cannot record a job");
}

void lathe_store_job_begin(LatheStore *s, const char *run_id, const char *node, guint attempt,
                           const char *executor, const char *job_ref) {
  job_write(s, "INSERT OR REPLACE INTO executor_jobs(run_id, node, attempt, started, executor,"
               " job_ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            run_id, node, attempt, executor, job_ref);
}

void lathe_store_job_end(LatheStore *s, const char *run_id, const char *node, guint attempt) {
  job_write(s, "UPDATE executor_jobs SET ended = ?4 WHERE run_id = ?1 AND node = ?2 AND attempt = ?3",
            run_id, node, attempt, NULL, NULL);
}

JsonArray *lathe_store_jobs_orphaned(LatheStore *s) {
  JsonArray *a = json_array_new();
  g_mutex_lock(&s->lock);
  /* Opening the store turned the runs of dead processes "interrupted". */
  sqlite3_stmt *st = stmt(s, "SELECT j.run_id, j.node, j.attempt, j.executor, j.job_ref FROM"
                             " executor_jobs j JOIN runs r ON r.id = j.run_id WHERE j.ended IS NULL"
                             " AND r.status != 'running' ORDER BY j.started");
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *o = json_object_new();
    lathe_store_set_text(o, "run_id", st, 0);
    lathe_store_set_text(o, "node", st, 1);
    json_object_set_int_member(o, "attempt", sqlite3_column_int64(st, 2));
    lathe_store_set_text(o, "executor", st, 3);
    lathe_store_set_text(o, "job_ref", st, 4);
    json_array_add_object_element(a, o);
  }
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return a;
}

void lathe_store_commit(LatheStore *s) {
  g_mutex_lock(&s->lock);
  lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
}
