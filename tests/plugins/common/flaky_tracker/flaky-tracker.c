/* tracker/flaky: a tracker "server" in an SQLite file ($LATHE_FLAKY_DB) that
 * fails on purpose, for the host's journal and shipper tests.
 *
 *   LATHE_FLAKY_DOWN=1          open() fails with LATHE_ERROR_UNAVAILABLE
 *   LATHE_FLAKY_FAIL=N          the first N log_batch calls fail UNAVAILABLE,
 *                               applying nothing (a server that is down)
 *   LATHE_FLAKY_LOST=M          the next M apply, then fail UNAVAILABLE (the
 *                               answer was lost)
 *   LATHE_FLAKY_REFUSE=KEY      a batch with that param, metric or tag key is
 *                               refused (LATHE_ERROR_INVALID)
 *   LATHE_FLAKY_SLEEP_MS=T      every call takes T ms (a slow server)
 *
 * Every item is kept once by its natural key, with the number of times it
 * was applied (n), so a test sees both what was lost (missing rows) and what
 * the host sent again (n > 1). Built twice: as ABI 1.7 (tracker/flaky) and,
 * with FLAKY_1_6, as a tracker built against 1.6 (tracker/flaky16), which
 * only has the per-item callbacks. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <lathe/lathe-sdk.h>

typedef struct {
  sqlite3 *db;
  int fail, lost, sleep_ms;
  const char *refuse;
} Flaky;

static int env_int(const char *name) {
  const char *v = g_getenv(name);
  return v ? atoi(v) : 0;
}

static void nap(Flaky *f) {
  if (f->sleep_ms > 0)
    g_usleep((gulong)f->sleep_ms * 1000);
}

static gpointer flaky_open(LatheContext *ctx, GError **error) {
  (void)ctx;
  if (env_int("LATHE_FLAKY_DOWN")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE, "tracker/flaky: the server is down");
    return NULL;
  }
  const char *path = g_getenv("LATHE_FLAKY_DB");
  Flaky *f = g_new0(Flaky, 1);
  if (!path || sqlite3_open(path, &f->db) != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "tracker/flaky: set LATHE_FLAKY_DB");
    sqlite3_close(f->db);
    g_free(f);
    return NULL;
  }
  sqlite3_busy_timeout(f->db, 10000);
  sqlite3_exec(f->db,
               "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, lathe_id TEXT, name TEXT,"
               " parent TEXT, status TEXT, starts INTEGER DEFAULT 1);"
               "CREATE TABLE IF NOT EXISTS items(run TEXT, kind TEXT, key TEXT, value TEXT,"
               " step INTEGER, ts INTEGER, n INTEGER DEFAULT 1,"
               " UNIQUE(run, kind, key, value, step, ts));",
               NULL, NULL, NULL);
  f->fail = env_int("LATHE_FLAKY_FAIL");
  f->lost = env_int("LATHE_FLAKY_LOST");
  f->sleep_ms = env_int("LATHE_FLAKY_SLEEP_MS");
  f->refuse = g_getenv("LATHE_FLAKY_REFUSE");
  return f;
}

static gboolean item(Flaky *f, const char *run, const char *kind, const char *key,
                     const char *value, gint64 step, gint64 ts) {
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(f->db,
                     "INSERT INTO items(run, kind, key, value, step, ts) VALUES (?1,?2,?3,?4,?5,?6)"
                     " ON CONFLICT DO UPDATE SET n = n + 1",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, step);
  sqlite3_bind_int64(st, 6, ts);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok;
}

static gboolean start(Flaky *f, const char *id, const char *lathe_id, const char *name,
                      const char *parent) {
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(f->db,
                     "INSERT INTO runs(id, lathe_id, name, parent, status) VALUES (?1,?2,?3,?4,"
                     "'RUNNING') ON CONFLICT DO UPDATE SET starts = starts + 1",
                     -1, &st, NULL);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, lathe_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok;
}

static gboolean flaky_start_run(gpointer t, const char *run_id, const char *name, gint64 start_ms,
                                GError **error) {
  (void)start_ms;
  (void)error;
  nap(t);
  return start(t, run_id, run_id, name, NULL);
}

static gboolean flaky_log_param(gpointer t, const char *run_id, const char *key, const char *value,
                                GError **error) {
  (void)error;
  nap(t);
  return item(t, run_id, "param", key, value, 0, 0);
}

static gboolean flaky_log_metric(gpointer t, const char *run_id, const char *key, double value,
                                 gint64 step, gint64 ts, GError **error) {
  (void)error;
  nap(t);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return item(t, run_id, "metric", key, g_ascii_dtostr(buf, sizeof buf, value), step, ts);
}

static gboolean flaky_set_tag(gpointer t, const char *run_id, const char *key, const char *value,
                              GError **error) {
  (void)error;
  nap(t);
  return item(t, run_id, "tag", key, value, 0, 0);
}

static gboolean flaky_end_run(gpointer t, const char *run_id, const char *status, gint64 end_ms,
                              GError **error) {
  (void)end_ms;
  (void)error;
  Flaky *f = t;
  nap(f);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(f->db, "UPDATE runs SET status = ?2 WHERE id = ?1", -1, &st, NULL);
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok;
}

static void flaky_close(gpointer t) {
  Flaky *f = t;
  sqlite3_close(f->db);
  g_free(f);
}

#ifndef FLAKY_1_6
static char *flaky_start_run_full(gpointer t, const char *run_id, const char *name,
                                  const char *parent, gint64 start_ms, GError **error) {
  (void)start_ms;
  nap(t);
  /* Its own ids, as MLflow's: the host must map Lathe's to them. */
  char *id = g_strdup_printf("flaky-%s", run_id);
  if (!start(t, id, run_id, name, parent)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "tracker/flaky: cannot start %s", run_id);
    g_clear_pointer(&id, g_free);
  }
  return id;
}

static gboolean refused(Flaky *f, const LatheTrackerBatch *b) {
  if (!f->refuse)
    return FALSE;
  for (guint i = 0; i < b->n_params; i++)
    if (g_str_equal(b->params[i].key, f->refuse))
      return TRUE;
  for (guint i = 0; i < b->n_metrics; i++)
    if (g_str_equal(b->metrics[i].key, f->refuse))
      return TRUE;
  for (guint i = 0; i < b->n_tags; i++)
    if (g_str_equal(b->tags[i].key, f->refuse))
      return TRUE;
  return FALSE;
}

static gboolean flaky_log_batch(gpointer t, const char *run_id, const LatheTrackerBatch *b,
                                GError **error) {
  Flaky *f = t;
  nap(f);
  if (f->fail > 0) {
    f->fail--;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE, "tracker/flaky: 503 (down)");
    return FALSE;
  }
  if (refused(f, b)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "tracker/flaky: key '%s' is refused",
                f->refuse);
    return FALSE;
  }
  sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL);
  for (guint i = 0; i < b->n_params; i++)
    item(f, run_id, "param", b->params[i].key, b->params[i].value, 0, 0);
  for (guint i = 0; i < b->n_metrics; i++) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    item(f, run_id, "metric", b->metrics[i].key,
         g_ascii_dtostr(buf, sizeof buf, b->metrics[i].value), b->metrics[i].step,
         b->metrics[i].timestamp_ms);
  }
  for (guint i = 0; i < b->n_tags; i++)
    item(f, run_id, "tag", b->tags[i].key, b->tags[i].value, 0, 0);
  sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
  if (f->lost > 0) {
    f->lost--;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE,
                "tracker/flaky: connection dropped after applying");
    return FALSE;
  }
  return TRUE;
}

static gboolean flaky_log_inputs(gpointer t, const char *run_id, const LatheTrackerInput *in,
                                 guint n, GError **error) {
  (void)error;
  for (guint i = 0; i < n; i++)
    item(t, run_id, "input", in[i].uri, in[i].digest, 0, 0);
  return TRUE;
}

static gboolean flaky_log_artifact(gpointer t, const char *run_id, const char *path,
                                   const char *local_path, GBytes *bytes, GError **error) {
  (void)error;
  g_autofree char *what = local_path ? g_strdup(local_path)
                                     : g_strdup_printf("%" G_GSIZE_FORMAT " bytes",
                                                       g_bytes_get_size(bytes));
  return item(t, run_id, "artifact", path, what, 0, 0);
}
#endif

static const LatheTrackerClass tracker = {
#ifdef FLAKY_1_6
    .base = {.struct_size = offsetof(LatheTrackerClass, start_run_full),
             .kind = LATHE_KIND_TRACKER,
             .name = "flaky16",
             .description = "a tracker built against ABI 1.6 (test plugin)"},
#else
    .base = {.struct_size = sizeof(LatheTrackerClass),
             .kind = LATHE_KIND_TRACKER,
             .name = "flaky",
             .description = "a tracker that fails on purpose (test plugin)"},
    .start_run_full = flaky_start_run_full,
    .log_batch = flaky_log_batch,
    .log_inputs = flaky_log_inputs,
    .log_artifact = flaky_log_artifact,
#endif
    .open = flaky_open,
    .start_run = flaky_start_run,
    .log_param = flaky_log_param,
    .log_metric = flaky_log_metric,
    .set_tag = flaky_set_tag,
    .end_run = flaky_end_run,
    .close = flaky_close,
};

static const LatheComponent *const components[] = {&tracker.base, NULL};
#ifdef FLAKY_1_6
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), 1, 6, "test-tracker-flaky16", "0.1.0", "MIT",
    "a tracker plugin as built against ABI 1.6", components};
#else
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), LATHE_ABI_MAJOR, LATHE_ABI_MINOR, "test-tracker-flaky", "0.1.0",
    "MIT", "a tracker that fails on purpose", components};
#endif

G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) { return &descriptor; }
