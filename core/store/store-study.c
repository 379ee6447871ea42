/* store-study.c: studies (the trials of one tuner node, across runs) in the
 * run store. Trials are an append-only event log: a trial's state is its
 * latest event, so a crash between two writes never leaves a half-updated
 * trial, and the whole history stays readable. */
#include <string.h>
#include <unistd.h>

#include "store/store-private.h"

static double now_s(void) { return (double)g_get_real_time() / 1e6; }

static char *json_text(JsonObject *o) {
  if (!o)
    return NULL;
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  return json_to_string(n, FALSE);
}

/* Schema 2 stores (Lathe before trials could be interrupted) check the state
 * against four names. SQLite cannot alter a CHECK, so the table is rebuilt
 * once, ids kept, in the caller's operation; a store that has it already
 * costs one lookup. Older Lathe still reads and writes the rebuilt table (it
 * reads "interrupted" as failed, which is what it recorded itself). */
static gboolean allow_interrupted(LatheStore *s, GError **error) {
  sqlite3_stmt *q = stmt(s, "SELECT instr(sql, '''interrupted''') FROM sqlite_master"
                            " WHERE type = 'table' AND name = 'trial_events'");
  gboolean has = q && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
  if (q)
    sqlite3_reset(q);
  if (has)
    return TRUE;
  /* DROP TABLE refuses to run while any statement of the connection is
   * active, and kept statements may be left after their last row; with the
   * lock held none is in use, so resetting them all loses nothing. */
  for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
    if (sqlite3_stmt_busy(p))
      sqlite3_reset(p);
  return lathe_store_exec(s,
      "CREATE TABLE trial_events_new(id INTEGER PRIMARY KEY, study_id TEXT NOT NULL,"
      " number INTEGER NOT NULL, run_id TEXT, state TEXT NOT NULL CHECK(state IN"
      " ('running','complete','pruned','failed','interrupted')), params TEXT, vals TEXT, model TEXT,"
      " error TEXT, ts REAL);"
      "INSERT INTO trial_events_new(id, study_id, number, run_id, state, params, vals, model, error, ts)"
      " SELECT id, study_id, number, run_id, state, params, vals, model, error, ts FROM trial_events;"
      "DROP TABLE trial_events;"
      "ALTER TABLE trial_events_new RENAME TO trial_events;"
      "CREATE INDEX IF NOT EXISTS trial_events_study ON trial_events(study_id, number);",
      error);
}

/* Trials whose latest event is "running" but whose run is not running any
 * more (lathe_store_open() marked it interrupted: its process died, or it
 * ended) were interrupted, not failed: the study runs them again. */
static gboolean close_orphans(LatheStore *s, const char *study_id, GError **error) {
  sqlite3_stmt *st = stmt(s,
      "INSERT INTO trial_events(study_id, number, run_id, state, params, error, ts)"
      " SELECT e.study_id, e.number, e.run_id, 'interrupted', e.params,"
      "  'the run ' || e.run_id || ' ended while the trial ran (' || coalesce(r.status, 'gone') || ')', ?2"
      " FROM trial_events e LEFT JOIN runs r ON r.id = e.run_id"
      " WHERE e.study_id = ?1 AND e.state = 'running' AND coalesce(r.status, '') != 'running'"
      "  AND e.id = (SELECT max(id) FROM trial_events x WHERE x.study_id = e.study_id"
      "              AND x.number = e.number)");
  sqlite3_bind_text(st, 1, study_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 2, now_s());
  return sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, error, "closing orphan trials");
}

char *lathe_store_study_open(LatheStore *s, const char *key, const char *name, const char *node,
                             const char *tuner, JsonObject *config, gboolean *resumed,
                             GError **error) {
  g_autofree char *cfg = json_text(config);
  g_mutex_lock(&s->lock);
  char *id = NULL;
  if (!lathe_store_op_begin(s, error)) {
    g_mutex_unlock(&s->lock);
    return NULL;
  }
  sqlite3_stmt *q = stmt(s, "SELECT id FROM studies WHERE key = ?1");
  sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
  if (q && sqlite3_step(q) == SQLITE_ROW)
    id = g_strdup((const char *)sqlite3_column_text(q, 0));
  if (q)
    sqlite3_reset(q);
  *resumed = id != NULL;
  gboolean ok = allow_interrupted(s, error);
  if (ok && !id) {
    /* The id is the key's shortest free prefix (8 characters but for a
     * clash): a study made again from the same pipeline in another store
     * (`lathe reproduce`) has the same id, so its tuner's output, which
     * names the study, has the same bytes. */
    for (guint len = 8; !id && len <= strlen(key); len++) {
      g_autofree char *want = g_strndup(key, len);
      sqlite3_stmt *taken = stmt(s, "SELECT 1 FROM studies WHERE id = ?1");
      sqlite3_bind_text(taken, 1, want, -1, SQLITE_TRANSIENT);
      if (sqlite3_step(taken) != SQLITE_ROW)
        id = g_steal_pointer(&want);
      sqlite3_reset(taken);
    }
    if (!id) { /* a key that is not a digest, every prefix taken */
      g_autofree char *uuid = g_uuid_string_random();
      id = g_strndup(uuid, 8);
    }
    sqlite3_stmt *ins = stmt(s, "INSERT INTO studies(id, key, name, node, tuner, config, created)"
                                " VALUES (?1,?2,?3,?4,?5,?6,?7)");
    sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 4, node, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 5, tuner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 6, cfg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(ins, 7, now_s());
    ok = sqlite3_step(ins) == SQLITE_DONE || lathe_store_fail(s, error, "creating a study");
  } else if (ok) {
    ok = close_orphans(s, id, error);
  }
  ok = lathe_store_op_end(s, ok, error);
  lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
  if (!ok)
    g_clear_pointer(&id, g_free);
  return id;
}

gboolean lathe_store_trial_event(LatheStore *s, const char *study_id, guint number,
                                 const char *run_id, const char *state, JsonObject *params,
                                 JsonObject *values, const char *model, const char *error_text,
                                 GError **error) {
  g_autofree char *p = json_text(params), *v = json_text(values);
  g_mutex_lock(&s->lock);
  if (!lathe_store_op_begin(s, error)) {
    g_mutex_unlock(&s->lock);
    return FALSE;
  }
  sqlite3_stmt *st = stmt(s, "INSERT INTO trial_events(study_id, number, run_id, state, params,"
                             " vals, model, error, ts) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  sqlite3_bind_text(st, 1, study_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, number);
  sqlite3_bind_text(st, 3, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, state, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, p, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, v, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 7, model, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 8, error_text, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 9, now_s());
  gboolean ok = sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, error, "recording a trial");
  ok = lathe_store_op_end(s, ok, error);
  /* A trial's start and end are the study's resume points: commit now. */
  lathe_store_commit_locked(s);
  g_mutex_unlock(&s->lock);
  return ok;
}

static void set_json(JsonObject *o, const char *key, sqlite3_stmt *st, int col) {
  JsonNode *n = lathe_store_parse_json((const char *)sqlite3_column_text(st, col));
  if (n)
    json_object_set_member(o, key, n);
  else
    json_object_set_null_member(o, key);
}

JsonArray *lathe_store_study_trials(LatheStore *s, const char *study_id, GError **error) {
  JsonArray *out = json_array_new();
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s,
      "SELECT e.number, e.state, e.run_id, e.params, e.vals, e.model, e.error,"
      " (SELECT min(ts) FROM trial_events x WHERE x.study_id = e.study_id AND x.number = e.number),"
      " e.ts FROM trial_events e WHERE e.study_id = ?1 AND e.id = (SELECT max(id) FROM trial_events"
      " y WHERE y.study_id = e.study_id AND y.number = e.number) ORDER BY e.number");
  sqlite3_bind_text(st, 1, study_id, -1, SQLITE_TRANSIENT);
  int rc;
  while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    JsonObject *t = json_object_new();
    json_object_set_int_member(t, "number", sqlite3_column_int64(st, 0));
    lathe_store_set_text(t, "state", st, 1);
    lathe_store_set_text(t, "run_id", st, 2);
    set_json(t, "params", st, 3);
    set_json(t, "values", st, 4);
    lathe_store_set_text(t, "model", st, 5);
    lathe_store_set_text(t, "error", st, 6);
    lathe_store_set_real(t, "started", st, 7);
    if (g_str_equal(json_object_get_string_member(t, "state"), "running"))
      json_object_set_null_member(t, "ended");
    else
      lathe_store_set_real(t, "ended", st, 8);
    json_array_add_object_element(out, t);
  }
  gboolean ok = st && rc == SQLITE_DONE;
  if (!ok)
    lathe_store_fail(s, error, "reading trials");
  g_mutex_unlock(&s->lock);
  if (!ok)
    g_clear_pointer(&out, json_array_unref);
  return out;
}

static JsonObject *study_row(sqlite3_stmt *st) {
  JsonObject *o = json_object_new();
  lathe_store_set_text(o, "id", st, 0);
  lathe_store_set_text(o, "name", st, 1);
  lathe_store_set_text(o, "node", st, 2);
  lathe_store_set_text(o, "tuner", st, 3);
  set_json(o, "config", st, 4);
  lathe_store_set_real(o, "created", st, 5);
  return o;
}

JsonObject *lathe_store_find_study(LatheStore *s, const char *ref, GError **error) {
  const char *slash = strchr(ref, '/');
  g_autofree char *run = slash ? g_strndup(ref, slash - ref) : NULL;
  g_autofree char *pattern = lathe_store_like_prefix(run ? run : ref);
  JsonObject *found = NULL;
  int rows = 0;
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st =
      run ? stmt(s, "SELECT DISTINCT s.id, s.name, s.node, s.tuner, s.config, s.created FROM studies s"
                    " JOIN trial_events e ON e.study_id = s.id WHERE e.run_id LIKE ?1 ESCAPE '\\' AND s.node = ?2"
                    " LIMIT 2")
          : stmt(s, "SELECT id, name, node, tuner, config, created FROM studies WHERE id LIKE ?1 ESCAPE '\\' LIMIT 2");
  sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
  if (run)
    sqlite3_bind_text(st, 2, slash + 1, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    if (rows++ == 0)
      found = study_row(st);
  g_mutex_unlock(&s->lock);
  if (rows != 1) {
    g_clear_pointer(&found, json_object_unref);
    if (rows)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "'%s' matches more than one study; give more characters of the id", ref);
    else if (run)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "no study of a tuner node '%s' in a run matching '%s'; `lathe study list` shows "
                  "the studies", slash + 1, run);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "no study '%s'; `lathe study list` shows the studies (or give RUN_ID/NODE)", ref);
  }
  return found;
}

JsonArray *lathe_store_list_studies(LatheStore *s, GError **error) {
  JsonArray *out = json_array_new();
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT id, name, node, tuner, config, created FROM studies"
                             " ORDER BY created DESC, rowid DESC");
  while (st && sqlite3_step(st) == SQLITE_ROW)
    json_array_add_object_element(out, study_row(st));
  g_mutex_unlock(&s->lock);
  for (guint i = 0; i < json_array_get_length(out); i++) {
    JsonObject *o = json_array_get_object_element(out, i);
    g_autoptr(JsonArray) trials = lathe_store_study_trials(s, json_object_get_string_member(o, "id"), error);
    if (!trials) {
      json_array_unref(out);
      return NULL;
    }
    JsonObject *counts = json_object_new();
    for (guint k = 0; k < json_array_get_length(trials); k++) {
      const char *state = json_object_get_string_member(json_array_get_object_element(trials, k), "state");
      json_object_set_int_member(counts, state,
                                 json_object_get_int_member_with_default(counts, state, 0) + 1);
    }
    json_object_set_int_member(o, "trials", json_array_get_length(trials));
    json_object_set_object_member(o, "states", counts);
  }
  return out;
}

/* Links (or, across file systems, copies) one artifact file of @from_dir
 * into @s, unless it is there. */
static void copy_artifact(LatheStore *s, const char *from_dir, const char *digest) {
  if (!digest || strlen(digest) != 64 || strchr(digest, '/'))
    return;
  char sub[3] = {digest[0], digest[1], 0};
  g_autofree char *src = g_build_filename(from_dir, "artifacts", "sha256", sub, digest + 2, NULL);
  g_autofree char *dst = lathe_store_artifact_path(s, digest);
  g_autofree char *dir = g_path_get_dirname(dst);
  g_mkdir_with_parents(dir, 0700);
  if (g_file_test(dst, G_FILE_TEST_EXISTS) || link(src, dst) == 0)
    return;
  g_autoptr(GFile) a = g_file_new_for_path(src);
  g_autoptr(GFile) b = g_file_new_for_path(dst);
  g_file_copy(a, b, G_FILE_COPY_NONE, NULL, NULL, NULL, NULL);
}

gboolean lathe_store_copy_studies(LatheStore *s, const char *from_dir, double before,
                                  const char *name, const char *const *nodes, GError **error) {
  if (!nodes || !*nodes)
    return TRUE;
  GString *in = g_string_new(NULL);
  for (guint i = 0; nodes[i]; i++) {
    char *q = sqlite3_mprintf("%s%Q", i ? "," : "", nodes[i]);
    g_string_append(in, q);
    sqlite3_free(q);
  }
  g_autofree char *node_list = g_string_free(in, FALSE);
  g_autofree char *db = g_build_filename(from_dir, "lathe.db", NULL);
  g_autoptr(GPtrArray) models = g_ptr_array_new_with_free_func(g_free);
  g_mutex_lock(&s->lock);
  lathe_store_commit_locked(s); /* ATTACH cannot run inside a transaction */
  char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS src", db);
  gboolean ok = lathe_store_exec(s, attach, error);
  sqlite3_free(attach);
  if (!ok) {
    g_mutex_unlock(&s->lock);
    return FALSE;
  }
  ok = lathe_store_exec(s, "BEGIN IMMEDIATE", error) && allow_interrupted(s, error);
  /* Not kept statements: they name the attached database, which goes. */
  char *copy = sqlite3_mprintf(
      "INSERT OR IGNORE INTO studies(id, key, name, node, tuner, config, created)"
      " SELECT id, key, name, node, tuner, config, created FROM src.studies WHERE created < %.17g"
      "  AND name = %Q AND node IN (%s);"
      "INSERT INTO trial_events(study_id, number, run_id, state, params, vals, model, error, ts)"
      " SELECT study_id, number, run_id, state, params, vals, model, error, ts FROM src.trial_events"
      " WHERE ts < %.17g AND study_id IN (SELECT id FROM studies) ORDER BY id;",
      before, name, node_list, before);
  ok = ok && lathe_store_exec(s, copy, error);
  sqlite3_free(copy);
  sqlite3_stmt *st = NULL;
  if (ok && sqlite3_prepare_v2(s->db, "SELECT DISTINCT model FROM trial_events WHERE model IS NOT NULL",
                               -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW)
      g_ptr_array_add(models, g_strdup((const char *)sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  ok = ok ? lathe_store_exec(s, "COMMIT", error) : (lathe_store_exec(s, "ROLLBACK", NULL), FALSE);
  lathe_store_exec(s, "DETACH DATABASE src", NULL);
  g_mutex_unlock(&s->lock);
  for (guint i = 0; ok && i < models->len; i++)
    copy_artifact(s, from_dir, models->pdata[i]);
  return ok;
}
