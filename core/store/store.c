/* The run store. Every state change is one transaction, and artifact files
 * are renamed into place only once complete, so a process killed at any
 * instruction leaves a database that passes integrity_check and a cache that
 * only points at whole files. One connection, serialised by a mutex: node
 * threads record through it, and SQLite serialises writers anyway. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <lathe/lathe-context-private.h>

#include "config.h"
#include "store/store-private.h"


static const char schema[] =
    "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, name TEXT, pipeline TEXT,"
    " pipeline_json TEXT, seed INTEGER, status TEXT, proc TEXT, started REAL, ended REAL,"
    " lathe_version TEXT);"
    "CREATE TABLE IF NOT EXISTS executions(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
    " node TEXT NOT NULL, component TEXT, plugin TEXT, plugin_version TEXT, plugin_digest TEXT,"
    " cache_key TEXT, status TEXT NOT NULL, cached INTEGER DEFAULT 0, started REAL, ended REAL,"
    " error TEXT, worker TEXT);"
    "CREATE INDEX IF NOT EXISTS executions_run ON executions(run_id);"
    "CREATE TABLE IF NOT EXISTS artifacts(digest TEXT PRIMARY KEY, type TEXT, size INTEGER,"
    " created REAL);"
    "CREATE TABLE IF NOT EXISTS events(execution_id INTEGER NOT NULL, artifact TEXT NOT NULL,"
    " direction TEXT NOT NULL CHECK(direction IN ('input','output')), port TEXT);"
    "CREATE INDEX IF NOT EXISTS events_exec ON events(execution_id);"
    "CREATE TABLE IF NOT EXISTS params(execution_id INTEGER NOT NULL, name TEXT, value TEXT);"
    "CREATE INDEX IF NOT EXISTS params_exec ON params(execution_id);"
    "CREATE TABLE IF NOT EXISTS metrics(execution_id INTEGER NOT NULL, name TEXT, value REAL,"
    " step INTEGER, ts REAL);"
    "CREATE INDEX IF NOT EXISTS metrics_exec ON metrics(execution_id);"
    "CREATE TABLE IF NOT EXISTS data_versions(execution_id INTEGER NOT NULL, uri TEXT,"
    " digest TEXT, size INTEGER, mtime INTEGER);"
    "CREATE TABLE IF NOT EXISTS cache(key TEXT PRIMARY KEY, execution_id INTEGER, outputs TEXT,"
    " metrics TEXT, data_versions TEXT, created REAL);"
    /* Schema 2: studies. A trial's history is appended, never rewritten; its
     * state is its latest event (store-study.c). */
    "CREATE TABLE IF NOT EXISTS studies(id TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, name TEXT,"
    " node TEXT, tuner TEXT, config TEXT, created REAL);"
    "CREATE TABLE IF NOT EXISTS trial_events(id INTEGER PRIMARY KEY, study_id TEXT NOT NULL,"
    " number INTEGER NOT NULL, run_id TEXT, state TEXT NOT NULL CHECK(state IN"
    " ('running','complete','pruned','failed')), params TEXT, vals TEXT, model TEXT, error TEXT,"
    " ts REAL);"
    "CREATE INDEX IF NOT EXISTS trial_events_study ON trial_events(study_id, number);"
    /* Schema 3: what decides a run's floating-point results (CPU, BLAS
     * library and kernels, jobs, BLAS threads), one JSON object a run, for
     * `lathe reproduce`. A table, not columns of runs: opening an older
     * store adds it with the rest of this schema (CREATE ... IF NOT EXISTS);
     * its runs simply have no row. */
    "CREATE TABLE IF NOT EXISTS run_environment(run_id TEXT PRIMARY KEY, environment TEXT NOT NULL);"

    /* Also schema 3: the tracker journal (store-journal.h). */
    "CREATE TABLE IF NOT EXISTS tracker_journal(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
    " tracker TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending', tries INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS tracker_journal_pending ON tracker_journal(tracker, state, id);"
    "CREATE INDEX IF NOT EXISTS tracker_journal_run ON tracker_journal(run_id);"
    "CREATE TABLE IF NOT EXISTS tracker_runs(run_id TEXT NOT NULL, tracker TEXT NOT NULL,"
    " tracker_run_id TEXT NOT NULL, PRIMARY KEY(run_id, tracker));"
    "CREATE TABLE IF NOT EXISTS tracker_settings(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
    " tracker TEXT NOT NULL, settings TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tracker_settings_tracker ON tracker_settings(tracker, id);"

    /* Schema 4: a training loop's reports, a chunk of @n points a row (see
     * store-reports.c), one row per metric of an execution per write: a row,
     * an index entry and a decimal text per point capped a loop at a few
     * hundred thousand points a second. Reports of older stores stay rows
     * of metrics (with a step). execution_id is NULL for a report the store
     * has no execution row for (it still reaches the trackers). */
    "CREATE TABLE IF NOT EXISTS report_chunks(id INTEGER PRIMARY KEY, execution_id INTEGER,"
    " name TEXT NOT NULL, n INTEGER NOT NULL, points BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS report_chunks_exec ON report_chunks(execution_id);"
    /* Schema 5 (issue 15): each job an executor runs, by the reference it
     * gave (a pid, a Slurm job id), so that a later process can re-attach
     * to it or cancel it after the host died; ended is NULL while live. */
    "CREATE TABLE IF NOT EXISTS executor_jobs(run_id TEXT NOT NULL, node TEXT NOT NULL,"
    " attempt INTEGER NOT NULL, executor TEXT NOT NULL, job_ref TEXT NOT NULL, started REAL,"
    " ended REAL, PRIMARY KEY(run_id, node, attempt));";

/* Schema 6 (issue 16): executions.worker ("thread 1"), in the CREATE above;
 * older stores gain it in lathe_store_add_columns(), NULL for their rows. */
#define SCHEMA_VERSION 6

static char *object_text(JsonObject *o);

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

#define GROUP_COMMIT_MS 20

gboolean lathe_store_fail(LatheStore *s, GError **error, const char *what) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s/lathe.db: %s: %s", s->dir, what,
              sqlite3_errmsg(s->db));
  return FALSE;
}

sqlite3_stmt *lathe_store_stmt(LatheStore *s, const char *sql) {
  sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
  }
  if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
    g_warning("lathe.db: cannot prepare: %s", sqlite3_errmsg(s->db));
    return NULL;
  }
  g_hash_table_insert(s->stmts, (gpointer)sql, st);
  return st;
}

gboolean lathe_store_exec(LatheStore *s, const char *sql, GError **error) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s/lathe.db: %s", s->dir, msg);
    sqlite3_free(msg);
    return FALSE;
  }
  return TRUE;
}

/* One statement, prepared once: sqlite3_exec would parse it every time. */
static gboolean step_sql(LatheStore *s, const char *sql, GError **error) {
  sqlite3_stmt *st = stmt(s, sql);
  if (st && sqlite3_step(st) == SQLITE_DONE)
    return TRUE;
  return lathe_store_fail(s, error, sql);
}

/* With the lock held: opens the group transaction if needed and a savepoint
 * for one operation, so a failed operation rolls back alone. */
gboolean lathe_store_op_begin(LatheStore *s, GError **error) {
  if (!s->in_txn) {
    /* No statement may hold a read snapshot into a write transaction (see
     * lathe_store_open()); one left stepping is reset here, whoever left it. */
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
      if (sqlite3_stmt_busy(p))
        sqlite3_reset(p);
    if (!lathe_store_exec(s, "BEGIN IMMEDIATE", error))
      return FALSE;
    s->in_txn = TRUE;
    s->txn_started = g_get_monotonic_time();
    g_cond_signal(&s->flush_cond);
  }
  return step_sql(s, "SAVEPOINT op", error);
}

gboolean lathe_store_op_end(LatheStore *s, gboolean ok, GError **error) {
  if (!ok) {
    step_sql(s, "ROLLBACK TO op", NULL);
    step_sql(s, "RELEASE op", NULL);
    return FALSE;
  }
  return step_sql(s, "RELEASE op", error);
}

void lathe_store_commit_locked(LatheStore *s) {
  if (s->in_txn) {
    g_autoptr(GError) error = NULL;
    if (!lathe_store_exec(s, "COMMIT", &error)) {
      g_printerr("lathe: %s\n", error->message);
      lathe_store_exec(s, "ROLLBACK", NULL); /* never leave the write lock held */
    }
    s->in_txn = FALSE;
  }
}

static gpointer flusher(gpointer data) {
  LatheStore *s = data;
  g_mutex_lock(&s->lock);
  while (!s->stopping) {
    if (!s->in_txn) {
      g_cond_wait(&s->flush_cond, &s->lock);
      continue;
    }
    gint64 due = s->txn_started + GROUP_COMMIT_MS * 1000;
    if (g_get_monotonic_time() >= due)
      lathe_store_commit_locked(s);
    else
      g_cond_wait_until(&s->flush_cond, &s->lock, due);
  }
  lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
  return NULL;
}

/* Only runs whose process is gone: another live process's running rows are
 * its own (pid and start time tell it from a recycled pid). The scan is a
 * plain read; each update re-checks 'running' in its write transaction, so
 * a run that ended meanwhile keeps its status. */
static void mark_interrupted(LatheStore *s) {
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func(g_free);
  sqlite3_stmt *st = stmt(s, "SELECT id, proc FROM runs WHERE status = 'running'");
  while (st && sqlite3_step(st) == SQLITE_ROW)
    if (!lathe_store_proc_alive((const char *)sqlite3_column_text(st, 1)))
      g_ptr_array_add(dead, g_strdup((const char *)sqlite3_column_text(st, 0)));
  if (st)
    sqlite3_reset(st);
  for (guint i = 0; i < dead->len; i++) {
    if (!lathe_store_exec(s, "BEGIN IMMEDIATE", NULL))
      continue;
    sqlite3_stmt *u = stmt(s, "UPDATE runs SET status = 'interrupted', ended = ?2"
                              " WHERE id = ?1 AND status = 'running'");
    sqlite3_bind_text(u, 1, dead->pdata[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(u, 2, now_s());
    gboolean marked = sqlite3_step(u) == SQLITE_DONE && sqlite3_changes(s->db) > 0;
    u = stmt(s, "UPDATE executions SET status = 'interrupted', ended = ?2,"
                " error = 'the process running it ended' WHERE run_id = ?1 AND status = 'running'");
    sqlite3_bind_text(u, 1, dead->pdata[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(u, 2, now_s());
    if (marked)
      sqlite3_step(u);
    /* Its trackers hear the end too (a run left "running" there forever
     * otherwise): the run and each trial the journal started and never
     * ended, for each stream that started it. */
    u = stmt(s, "INSERT INTO tracker_journal(run_id, tracker, kind, payload, created)"
                " SELECT b.run_id, b.tracker, 'end', json_object('end_ms', CAST(?2 * 1000 AS INTEGER),"
                " 'status', 'interrupted'), ?2 FROM tracker_journal b WHERE b.kind = 'start'"
                " AND (b.run_id = ?1 OR b.run_id LIKE ?1 || '-%') AND NOT EXISTS (SELECT 1 FROM"
                " tracker_journal e WHERE e.kind = 'end' AND e.run_id = b.run_id AND"
                " e.tracker = b.tracker) ORDER BY b.id");
    sqlite3_bind_text(u, 1, dead->pdata[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(u, 2, now_s());
    if (marked)
      sqlite3_step(u);
    lathe_store_exec(s, "COMMIT", NULL);
  }
}

/* SQLite's own busy timeout gives up after a fixed time, and a writer that
 * gives up fails its run. Writers here hold the lock for one group commit
 * (GROUP_COMMIT_MS) at a time, so waiting is always worth it: poll often,
 * with jitter so that waiting writers do not wake in step, for up to
 * LATHE_STORE_BUSY_S (a store held longer is stuck, not busy). */
#define LATHE_STORE_BUSY_S 600
static int busy_wait(void *data, int count) {
  (void)data;
  if (count == 0)
    return 1;
  if (count > LATHE_STORE_BUSY_S * 1000 / 16) /* 16 ms a wait, on average, at most */
    return 0;
  gint32 step_us = MIN(1000 << MIN(count, 4), 16000);
  g_usleep((gulong)(step_us / 2 + g_random_int_range(0, step_us)));
  return 1;
}

static void finalize_stmt(gpointer st) { sqlite3_finalize(st); }

static LatheStore *store_new(const char *dir) {
  LatheStore *s = g_new0(LatheStore, 1);
  g_mutex_init(&s->lock);
  s->dir = g_strdup(dir);
  s->artifacts = g_build_filename(dir, "artifacts", "sha256", NULL);
  s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  s->proc_token = lathe_store_proc_token_for(getpid());
  return s;
}

/* For readers that must never write (lathe report, lathe ui): no schema
 * created or upgraded, no interrupted run marked, no leftovers cleaned, no
 * flusher. WAL lets it read while a `lathe run` writes. An older schema is
 * refused rather than upgraded: upgrading is a write the reader has no
 * business doing, and the tables it would read may not exist yet. */
LatheStore *lathe_store_open_readonly(const char *dir, GError **error) {
  g_autofree char *dbpath = g_build_filename(dir, "lathe.db", NULL);
  if (!g_file_test(dbpath, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: no run store here (run a pipeline first, or choose one with --store)", dir);
    return NULL;
  }
  LatheStore *s = store_new(dir);
  s->read_only = TRUE;
  if (sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
    lathe_store_fail(s, error, "cannot open");
    lathe_store_close(s);
    return NULL;
  }
  sqlite3_busy_handler(s->db, busy_wait, NULL);
  sqlite3_stmt *v = lathe_store_stmt(s, "PRAGMA user_version");
  int version = v && sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : -1;
  if (v)
    sqlite3_reset(v);
  if (version < 0) {
    int code = sqlite3_errcode(s->db);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "%s is not a usable Lathe run store (%s): move it away, or choose another place with --store",
                dbpath, code ? sqlite3_errstr(code) : "unreadable");
    lathe_store_close(s);
    return NULL;
  }
  if (version != SCHEMA_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                version > SCHEMA_VERSION
                    ? "%s was written by a newer Lathe (store schema %d, this one reads %d); upgrade Lathe"
                    : "%s has the older store schema %d (this Lathe reads %d); any writing command "
                      "upgrades it, e.g. `lathe store check`",
                dbpath, version, SCHEMA_VERSION);
    lathe_store_close(s);
    return NULL;
  }
  g_autofree char *missing = lathe_store_missing_tables(s, version);
  if (missing) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s is damaged: missing %s; move %s away",
                dbpath, missing, dir);
    lathe_store_close(s);
    return NULL;
  }
  return s;
}

LatheStore *lathe_store_open(const char *dir, GError **error) {
  if (!lathe_store_files_prepare(dir, schema, SCHEMA_VERSION, error))
    return NULL;
  LatheStore *s = store_new(dir);
  g_autofree char *dbpath = g_build_filename(dir, "lathe.db", NULL);
  /* No SQLITE_OPEN_CREATE: lathe_store_files_prepare() made it, whole. */
  if (sqlite3_open_v2(dbpath, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                      NULL) != SQLITE_OK) {
    lathe_store_fail(s, error, "cannot open");
    lathe_store_close(s);
    return NULL;
  }
  sqlite3_busy_handler(s->db, busy_wait, NULL);
  /* The WAL is checkpointed as it grows; doing it again on every close costs
   * an fsync per command for nothing. */
  sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  /* WAL + NORMAL: a killed process loses at most uncommitted work, and
   * commits do not wait for fsync (a power cut may lose the last ones). */
  if (!lathe_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", error) ||
      !lathe_store_exec(s, "BEGIN IMMEDIATE", error)) {
    int code = sqlite3_errcode(s->db);
    if (error && *error && (code == SQLITE_NOTADB || code == SQLITE_CORRUPT))
      g_prefix_error(error, "%s is not a usable Lathe run store (move it away, or choose another "
                     "place with --store): ", dbpath);
    lathe_store_close(s);
    return NULL;
  }
  sqlite3_stmt *v = stmt(s, "PRAGMA user_version");
  int version = v && sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : 0;
  /* A statement left stepping keeps its read snapshot open after COMMIT:
   * every later BEGIN IMMEDIATE then upgrades a stale read to a write, which
   * fails at once with SQLITE_BUSY (the busy handler is never called for an
   * upgrade) as soon as another process has written. That was "database is
   * locked" with two runs on one store. */
  if (v)
    sqlite3_reset(v);
  if (version > SCHEMA_VERSION) {
    lathe_store_exec(s, "ROLLBACK", NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s was written by a newer Lathe (store schema %d, this one reads %d); upgrade Lathe",
                dbpath, version, SCHEMA_VERSION);
    lathe_store_close(s);
    return NULL;
  }
  g_autofree char *missing = lathe_store_missing_tables(s, version);
  if (missing) {
    lathe_store_exec(s, "ROLLBACK", NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "%s is damaged: its %s %s %s missing; move %s away to start a new store, "
                "or choose another place with --store",
                dbpath, strchr(missing, ',') ? "tables" : "table", missing,
                strchr(missing, ',') ? "are" : "is", dir);
    lathe_store_close(s);
    return NULL;
  }
  g_autofree char *setv = g_strdup_printf("PRAGMA user_version = %d", SCHEMA_VERSION);
  /* The schema is created once; later opens only check its version. */
  if ((version < SCHEMA_VERSION && (!lathe_store_exec(s, schema, error) || !lathe_store_add_columns(s, error) ||
                                    !lathe_store_exec(s, setv, error))) ||
      !lathe_store_exec(s, "COMMIT", error)) {
    lathe_store_close(s);
    return NULL;
  }
  mark_interrupted(s);
  lathe_store_clean_leftovers(s);
  g_cond_init(&s->flush_cond);
  s->flusher = g_thread_new("lathe-store-flush", flusher, s);
  return s;
}

void lathe_store_close(LatheStore *s) {
  if (!s)
    return;
  if (s->flusher) {
    g_mutex_lock(&s->lock);
    s->stopping = TRUE;
    g_cond_signal(&s->flush_cond);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->flusher);
    g_cond_clear(&s->flush_cond);
  }
  g_hash_table_unref(s->stmts);
  if (s->db)
    sqlite3_close(s->db);
  g_mutex_clear(&s->lock);
  g_free(s->dir);
  g_free(s->artifacts);
  g_free(s->proc_token);
  g_free(s);
}

const char *lathe_store_dir(LatheStore *s) { return s->dir; }

void lathe_store_set_check_rewrites(LatheStore *s, gboolean check) { s->check_rewrites = check; }

/* Temp files are named after their process (PID:START), so that the next
 * open removes those of processes that died (lathe_store_clean_leftovers()). */
static gboolean write_file(LatheStore *s, const char *final, GBytes *bytes, GError **error) {
  g_autofree char *tmpl = g_strdup_printf("%s/artifacts/tmp/%s.XXXXXX", s->dir,
                                          s->proc_token ? s->proc_token : "0:0");
  int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot write %s: %s", tmpl, g_strerror(errno));
    return FALSE;
  }
  gsize len;
  const guint8 *p = g_bytes_get_data(bytes, &len);
  while (len > 0) {
    gssize w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot write %s: %s", tmpl, g_strerror(errno));
      close(fd);
      g_unlink(tmpl);
      return FALSE;
    }
    p += w;
    len -= (gsize)w;
  }
  close(fd);
  g_autofree char *dir = g_path_get_dirname(final);
  if (g_mkdir(dir, 0700) == 0)
    chmod(dir, 0700);
  if (g_rename(tmpl, final) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot rename into %s: %s", final,
                g_strerror(errno));
    g_unlink(tmpl);
    return FALSE;
  }
  return TRUE;
}

/* Whether @path holds exactly @bytes. */
static gboolean same_bytes(const char *path, GBytes *bytes) {
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
  gsize len;
  const void *p = g_bytes_get_data(bytes, &len);
  return mf && g_mapped_file_get_length(mf) == len &&
         (len == 0 || memcmp(g_mapped_file_get_contents(mf), p, len) == 0);
}

gboolean lathe_store_put_artifact(LatheStore *s, LatheArtifact *art, GError **error) {
  const char *digest = lathe_artifact_get_digest(art);
  g_autofree char *path = lathe_store_artifact_path(s, digest);
  gboolean exists = g_file_test(path, G_FILE_TEST_EXISTS);
  if (exists && !s->check_rewrites)
    return TRUE;
  GBytes *bytes = lathe_artifact_read_bytes(art, error); /* a lazy one's file may be gone */
  if (!bytes)
    return FALSE;
  /* Under --no-cache, a file that exists is compared with the bytes made
   * again, so that a damaged one is repaired, not kept. Otherwise it is
   * left unread: it is verified whenever it is read. */
  if (exists && same_bytes(path, bytes))
    return TRUE;
  if (exists)
    g_printerr("warning: %s was damaged (its content is not its SHA-256 name); rewritten with "
               "the bytes its producer made again\n", path);
  return write_file(s, path, bytes, error);
}

/* The lazy loader: the bytes are hashed as they are mapped, and must hash to
 * their name. Damaged bytes are never handed to a node: the file is removed
 * (so the cache misses from now on) and the load fails, which makes the
 * engine rebuild the artifact from its producer (lathe_cache_reload_inputs()). */
static GBytes *map_artifact(gpointer path, const char *digest, GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat mapped, now;
  if (fd < 0 || fstat(fd, &mapped) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot read %s: %s", (char *)path,
                g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  g_autoptr(GMappedFile) mf = g_mapped_file_new_from_fd(fd, FALSE, error);
  close(fd);
  if (!mf)
    return NULL;
  g_autofree char *got = lathe_sha256_hex(g_mapped_file_get_contents(mf),
                                          g_mapped_file_get_length(mf));
  if (!g_str_equal(got, digest)) {
    g_printerr("warning: %s is damaged (its content is not its SHA-256 name); removed, and "
               "rebuilt from its producer\n", (char *)path);
    /* Only the file that was read: another process may have put the good
     * bytes in its place meanwhile. */
    if (stat(path, &now) == 0 && now.st_ino == mapped.st_ino && now.st_dev == mapped.st_dev)
      g_unlink(path);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s is damaged (SHA-256 %.12s..., not "
                "its name); it was removed, rerun to rebuild it", (char *)path, got);
    return NULL;
  }
  return g_mapped_file_get_bytes(mf);
}

LatheArtifact *lathe_store_get_artifact(LatheStore *s, const char *digest, LatheArtifactType type,
                                        GError **error) {
  if (strlen(digest) != 64) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "bad artifact digest '%s'", digest);
    return NULL;
  }
  char *path = lathe_store_artifact_path(s, digest);
  struct stat st;
  if (stat(path, &st) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "artifact %s: %s", digest, g_strerror(errno));
    g_free(path);
    return NULL;
  }
  /* The file's name is its digest: neither hashing nor mapping it is needed
   * until a running node reads it, and most cached outputs are never read.
   * The loader verifies it then. */
  return lathe_artifact_new_lazy(type, digest, (gsize)st.st_size, map_artifact, path,
                                 g_free);
}

char *lathe_store_begin_run(LatheStore *s, const char *name, const char *pipeline_path,
                            const char *pipeline_text, guint64 seed, GError **error) {
  return lathe_store_begin_run_journal(s, name, pipeline_path, pipeline_text, seed, NULL, error);
}

char *lathe_store_begin_run_journal(LatheStore *s, const char *name, const char *pipeline_path,
                                    const char *pipeline_text, guint64 seed,
                                    const LatheJournal *journal, GError **error) {
  g_autofree char *uuid = g_uuid_string_random();
  char *id = g_strndup(uuid, 8);
  g_mutex_lock(&s->lock);
  if (!lathe_store_op_begin(s, error)) {
    g_mutex_unlock(&s->lock);
    g_free(id);
    return NULL;
  }
  sqlite3_stmt *st = stmt(s, "INSERT INTO runs(id, name, pipeline, pipeline_json, seed, status,"
                             " proc, started, lathe_version) VALUES (?1,?2,?3,?4,?5,'running',?6,?7,?8)");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, pipeline_path, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, pipeline_text, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)seed);
  sqlite3_bind_text(st, 6, s->proc_token, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 7, now_s());
  sqlite3_bind_text(st, 8, LATHE_VERSION, -1, SQLITE_STATIC);
  gboolean ok = (sqlite3_step(st) == SQLITE_DONE && lathe_store_journal_write_locked(s, journal, id)) ||
                lathe_store_fail(s, error, "starting a run");
  ok = lathe_store_op_end(s, ok, error);
  lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
  if (!ok)
    g_clear_pointer(&id, g_free);
  return id;
}

gboolean lathe_store_set_run_environment(LatheStore *s, const char *run_id, JsonObject *env,
                                         GError **error) {
  g_autofree char *text = object_text(env);
  g_mutex_lock(&s->lock);
  if (!lathe_store_op_begin(s, error)) {
    g_mutex_unlock(&s->lock);
    return FALSE;
  }
  sqlite3_stmt *st = stmt(s, "INSERT OR REPLACE INTO run_environment(run_id, environment)"
                             " VALUES (?1, ?2)");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, error, "recording a run's environment");
  ok = lathe_store_op_end(s, ok, error);
  g_mutex_unlock(&s->lock);
  return ok;
}

gboolean lathe_store_end_run(LatheStore *s, const char *run_id, const char *status, GError **error) {
  return lathe_store_end_run_journal(s, run_id, status, NULL, error);
}

gboolean lathe_store_end_run_journal(LatheStore *s, const char *run_id, const char *status,
                                     const LatheJournal *journal, GError **error) {
  g_mutex_lock(&s->lock);
  if (!lathe_store_op_begin(s, error)) {
    g_mutex_unlock(&s->lock);
    return FALSE;
  }
  sqlite3_stmt *st = stmt(s, "UPDATE runs SET status = ?2, ended = ?3 WHERE id = ?1");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 3, now_s());
  gboolean ok = (sqlite3_step(st) == SQLITE_DONE &&
                 lathe_store_journal_write_locked(s, journal, run_id)) ||
                lathe_store_fail(s, error, "ending a run");
  ok = lathe_store_op_end(s, ok, error);
  lathe_store_commit_locked(s); /* the end of a run is durable at once */
  g_mutex_unlock(&s->lock);
  return ok;
}

/* With the lock held and an operation open: the execution's row and params. */
static gint64 insert_execution(LatheStore *s, const LatheExecIdentity *who, double started,
                               GError **error) {
  sqlite3_stmt *st = stmt(s, "INSERT INTO executions(run_id, node, component, plugin,"
                             " plugin_version, plugin_digest, cache_key, status, started, worker)"
                             " VALUES (?1,?2,?3,?4,?5,?6,?7,'running',?8,?9)");
  sqlite3_bind_text(st, 1, who->run_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, who->node, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, who->component, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, who->plugin, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, who->plugin_version, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, who->plugin_digest, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, who->cache_key, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 8, started);
  sqlite3_bind_text(st, 9, who->worker, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) {
    lathe_store_fail(s, error, "recording an execution");
    return -1;
  }
  gint64 id = sqlite3_last_insert_rowid(s->db);
  g_autoptr(GList) names = who->params ? json_object_get_members(who->params) : NULL;
  for (GList *l = names; l; l = l->next) {
    sqlite3_stmt *p = stmt(s, "INSERT INTO params(execution_id, name, value) VALUES (?1,?2,?3)");
    g_autofree char *value = lathe_json_canonical(json_object_get_member(who->params, l->data));
    sqlite3_bind_int64(p, 1, id);
    sqlite3_bind_text(p, 2, l->data, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, value, -1, SQLITE_STATIC);
    sqlite3_step(p);
  }
  return id;
}

gint64 lathe_store_begin_execution(LatheStore *s, const LatheExecIdentity *who, double started,
                                   GError **error) {
  g_mutex_lock(&s->lock);
  gint64 id = -1;
  if (lathe_store_op_begin(s, error)) {
    id = insert_execution(s, who, started, error);
    if (!lathe_store_op_end(s, id >= 0, id >= 0 ? error : NULL))
      id = -1;
  }
  g_mutex_unlock(&s->lock);
  return id;
}

static char *object_text(JsonObject *o) {
  if (!o)
    return g_strdup("{}");
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  return lathe_json_canonical(n);
}

static char *array_text(JsonArray *a) {
  if (!a)
    return g_strdup("[]");
  g_autoptr(JsonNode) n = json_node_init_array(json_node_alloc(), a);
  return lathe_json_canonical(n);
}

static void add_events(LatheStore *s, gint64 id, JsonObject *ports, const char *direction,
                       double now) {
  g_autoptr(GList) names = ports ? json_object_get_members(ports) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(ports, l->data);
    const char *digest = JSON_NODE_HOLDS_OBJECT(v)
                             ? json_object_get_string_member(json_node_get_object(v), "digest")
                             : json_node_get_string(v);
    if (JSON_NODE_HOLDS_OBJECT(v)) { /* an output: its artifact row */
      JsonObject *o = json_node_get_object(v);
      sqlite3_stmt *a = stmt(s, "INSERT OR IGNORE INTO artifacts(digest, type, size, created)"
                                " VALUES (?1, ?2, ?3, ?4)");
      sqlite3_bind_text(a, 1, digest, -1, SQLITE_STATIC);
      sqlite3_bind_text(a, 2, json_object_get_string_member_with_default(o, "type", "any"), -1,
                        SQLITE_STATIC);
      sqlite3_bind_int64(a, 3, json_object_get_int_member_with_default(o, "size", 0));
      sqlite3_bind_double(a, 4, now);
      sqlite3_step(a);
    }
    sqlite3_stmt *st = stmt(s, "INSERT INTO events(execution_id, artifact, direction, port)"
                               " VALUES (?1,?2,?3,?4)");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, direction, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->data, -1, SQLITE_STATIC);
    sqlite3_step(st);
  }
}

/* With the lock held and an operation open: the outcome of execution @id. */
static gboolean update_execution(LatheStore *s, gint64 id, const char *cache_key,
                                 const char *worker, const LatheExecRecord *rec) {
  gboolean ok;
  g_autoptr(GList) names = rec->metrics ? json_object_get_members(rec->metrics) : NULL;
  sqlite3_stmt *st = stmt(s, "UPDATE executions SET status = ?2, cached = ?3, started = ?4,"
                             " ended = ?5, error = ?6, worker = coalesce(?7, worker) WHERE id = ?1");
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_text(st, 2, rec->status, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, g_str_equal(rec->status, "cached"));
  sqlite3_bind_double(st, 4, rec->started);
  sqlite3_bind_double(st, 5, rec->ended);
  sqlite3_bind_text(st, 6, rec->error, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, worker, -1, SQLITE_STATIC);
  ok = sqlite3_step(st) == SQLITE_DONE;
  add_events(s, id, rec->inputs, "input", rec->ended);
  add_events(s, id, rec->outputs, "output", rec->ended);
  for (GList *l = names; l; l = l->next) {
    sqlite3_stmt *m = stmt(s, "INSERT INTO metrics(execution_id, name, value, step, ts)"
                              " VALUES (?1,?2,?3,NULL,?4)");
    sqlite3_bind_int64(m, 1, id);
    sqlite3_bind_text(m, 2, l->data, -1, SQLITE_STATIC);
    sqlite3_bind_double(m, 3, json_object_get_double_member(rec->metrics, l->data));
    sqlite3_bind_double(m, 4, rec->ended);
    sqlite3_step(m);
  }
  for (guint i = 0; rec->data_versions && i < json_array_get_length(rec->data_versions); i++) {
    JsonObject *dv = json_array_get_object_element(rec->data_versions, i);
    sqlite3_stmt *d = stmt(s, "INSERT INTO data_versions(execution_id, uri, digest, size, mtime)"
                              " VALUES (?1,?2,?3,?4,?5)");
    sqlite3_bind_int64(d, 1, id);
    sqlite3_bind_text(d, 2, json_object_get_string_member_with_default(dv, "uri", ""), -1, SQLITE_STATIC);
    sqlite3_bind_text(d, 3, json_object_get_string_member_with_default(dv, "digest", ""), -1, SQLITE_STATIC);
    if (json_object_has_member(dv, "size")) {
      sqlite3_bind_int64(d, 4, json_object_get_int_member(dv, "size"));
      sqlite3_bind_int64(d, 5, json_object_get_int_member(dv, "mtime"));
    }
    sqlite3_step(d);
  }
  if (ok && cache_key && g_str_equal(rec->status, "succeeded")) {
    g_autofree char *outs = object_text(rec->outputs);
    g_autofree char *mets = object_text(rec->metrics);
    g_autofree char *dvs = array_text(rec->data_versions);
    sqlite3_stmt *c = stmt(s, "INSERT OR REPLACE INTO cache(key, execution_id, outputs, metrics,"
                              " data_versions, created) VALUES (?1,?2,?3,?4,?5,?6)");
    sqlite3_bind_text(c, 1, cache_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c, 2, id);
    sqlite3_bind_text(c, 3, outs, -1, SQLITE_STATIC);
    sqlite3_bind_text(c, 4, mets, -1, SQLITE_STATIC);
    sqlite3_bind_text(c, 5, dvs, -1, SQLITE_STATIC);
    sqlite3_bind_double(c, 6, rec->ended);
    ok = sqlite3_step(c) == SQLITE_DONE;
  }
  return ok;
}

gboolean lathe_store_finish_execution(LatheStore *s, gint64 id, const LatheExecIdentity *who,
                                      const char *cache_key, const LatheExecRecord *rec,
                                      GError **error) {
  g_mutex_lock(&s->lock);
  gboolean ok = lathe_store_op_begin(s, error);
  if (ok) {
    /* A node that ran briefly has no row yet: one operation records it whole. */
    if (id < 0)
      id = insert_execution(s, who, rec->started, error);
    ok = id >= 0 && update_execution(s, id, cache_key, who ? who->worker : NULL, rec) &&
         lathe_store_journal_write_locked(s, rec->journal, who ? who->run_id : NULL);
    if (!ok && id >= 0)
      lathe_store_fail(s, error, "recording an execution");
    ok = lathe_store_op_end(s, ok, ok ? error : NULL);
  }
  g_mutex_unlock(&s->lock);
  return ok;
}

JsonObject *lathe_store_cache_lookup(LatheStore *s, const char *key) {
  g_mutex_lock(&s->lock);
  JsonObject *out = NULL;
  sqlite3_stmt *st = stmt(s, "SELECT outputs, metrics, data_versions, execution_id FROM cache"
                             " WHERE key = ?1");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) {
    JsonNode *o = lathe_store_parse_json((const char *)sqlite3_column_text(st, 0));
    JsonNode *m = lathe_store_parse_json((const char *)sqlite3_column_text(st, 1));
    JsonNode *d = lathe_store_parse_json((const char *)sqlite3_column_text(st, 2));
    if (o && m && d && JSON_NODE_HOLDS_OBJECT(o) && JSON_NODE_HOLDS_OBJECT(m) && JSON_NODE_HOLDS_ARRAY(d)) {
      out = json_object_new();
      json_object_set_member(out, "outputs", o);
      json_object_set_member(out, "metrics", m);
      json_object_set_member(out, "data_versions", d);
      json_object_set_int_member(out, "execution", sqlite3_column_int64(st, 3));
    } else {
      g_clear_pointer(&o, json_node_unref);
      g_clear_pointer(&m, json_node_unref);
      g_clear_pointer(&d, json_node_unref);
    }
  }
  sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return out;
}

