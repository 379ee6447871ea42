/* The tracker journal (store-journal.h): rows written inside the store's own
 * operations, read and marked by the shipper. */
#include <math.h>
#include <string.h>

#include "store/store-private.h"

typedef struct {
  char *run_id;
  char *kind;
  char *payload; /* canonical JSON */
} JournalEvent;

struct _LatheJournal {
  GStrv trackers;
  GArray *events; /* JournalEvent */
  double created;
};

static void event_clear(gpointer p) {
  JournalEvent *e = p;
  g_free(e->run_id);
  g_free(e->kind);
  g_free(e->payload);
}

LatheJournal *lathe_journal_new(const char *const *trackers) {
  LatheJournal *j = g_new0(LatheJournal, 1);
  j->trackers = g_strdupv((char **)trackers);
  j->events = g_array_new(FALSE, TRUE, sizeof(JournalEvent));
  g_array_set_clear_func(j->events, event_clear);
  return j;
}

void lathe_journal_free(LatheJournal *j) {
  if (!j)
    return;
  g_strfreev(j->trackers);
  g_array_unref(j->events);
  g_free(j);
}

void lathe_journal_add(LatheJournal *j, const char *run_id, const char *kind, JsonObject *payload) {
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), payload);
  json_object_unref(payload);
  JournalEvent e = {g_strdup(run_id), g_strdup(kind), lathe_json_canonical(n)};
  g_array_append_val(j->events, e);
}

gboolean lathe_journal_is_empty(const LatheJournal *j) {
  return !j || !j->events->len || !j->trackers || !j->trackers[0];
}

JsonNode *lathe_journal_number(double v) {
  JsonNode *n = json_node_alloc();
  if (isnan(v))
    return json_node_init_string(n, "NaN");
  if (isinf(v))
    return json_node_init_string(n, v > 0 ? "Infinity" : "-Infinity");
  return json_node_init_double(n, v);
}

double lathe_journal_number_get(JsonNode *n) {
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return NAN;
  if (json_node_get_value_type(n) == G_TYPE_STRING) {
    const char *s = json_node_get_string(n);
    return g_str_equal(s, "Infinity") ? INFINITY : g_str_equal(s, "-Infinity") ? -INFINITY : NAN;
  }
  return json_node_get_double(n);
}

/* With the lock held and an operation open; @run_id stands for events of no run. */
gboolean lathe_store_journal_write_locked(LatheStore *s, const LatheJournal *j,
                                          const char *run_id) {
  if (lathe_journal_is_empty(j))
    return TRUE;
  double now = (double)g_get_real_time() / 1e6;
  for (guint i = 0; i < j->events->len; i++) {
    JournalEvent *e = &g_array_index(j->events, JournalEvent, i);
    for (guint t = 0; j->trackers[t]; t++) {
      sqlite3_stmt *st = stmt(s, "INSERT INTO tracker_journal(run_id, tracker, kind, payload,"
                                 " created) VALUES (?1,?2,?3,?4,?5)");
      sqlite3_bind_text(st, 1, e->run_id ? e->run_id : run_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, j->trackers[t], -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, e->payload, -1, SQLITE_STATIC);
      sqlite3_bind_double(st, 5, now);
      if (sqlite3_step(st) != SQLITE_DONE)
        return FALSE;
    }
  }
  return TRUE;
}

gboolean lathe_store_journal_append(LatheStore *s, const LatheJournal *j, GError **error) {
  if (lathe_journal_is_empty(j))
    return TRUE;
  g_mutex_lock(&s->lock);
  gboolean ok = lathe_store_op_begin(s, error);
  if (ok) {
    ok = lathe_store_journal_write_locked(s, j, NULL) ||
         lathe_store_fail(s, error, "journaling a tracker event");
    ok = lathe_store_op_end(s, ok, ok ? error : NULL);
  }
  g_mutex_unlock(&s->lock);
  return ok;
}

static void row_free(gpointer p) {
  LatheJournalRow *r = p;
  g_free(r->run_id);
  g_free(r->kind);
  if (r->payload)
    json_object_unref(r->payload);
  g_free(r);
}

GPtrArray *lathe_store_journal_pending(LatheStore *s, const char *tracker, const char *run_id,
                                       gint64 after, guint limit) {
  GPtrArray *out = g_ptr_array_new_with_free_func(row_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
  gsize bytes = 0;
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT id, run_id, kind, payload, tries FROM tracker_journal"
                             " WHERE tracker = ?1 AND state = 'pending' AND id > ?2"
                             " AND (?3 IS NULL OR run_id = ?3 OR run_id LIKE ?3 || '-%') ORDER BY id LIMIT ?4");
  sqlite3_bind_text(st, 1, tracker, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, after);
  sqlite3_bind_text(st, 3, run_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, limit);
  while (st && bytes < LATHE_JOURNAL_PENDING_BYTES && sqlite3_step(st) == SQLITE_ROW) {
    LatheJournalRow *r = g_new0(LatheJournalRow, 1);
    r->id = sqlite3_column_int64(st, 0);
    r->run_id = g_strdup((const char *)sqlite3_column_text(st, 1));
    r->kind = g_strdup((const char *)sqlite3_column_text(st, 2));
    const char *text = (const char *)sqlite3_column_text(st, 3);
    bytes += text ? strlen(text) : 0;
    g_ptr_array_add(texts, g_strdup(text));
    r->tries = sqlite3_column_int(st, 4);
    g_ptr_array_add(out, r);
  }
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  /* Parsed outside the lock: the run's own writes do not wait for it. */
  for (guint i = 0; i < out->len; i++) {
    LatheJournalRow *r = out->pdata[i];
    JsonNode *n = lathe_store_parse_json(texts->pdata[i]);
    r->payload = n && JSON_NODE_HOLDS_OBJECT(n) ? json_object_ref(json_node_get_object(n))
                                                 : json_object_new();
    if (n)
      json_node_unref(n);
    if (json_object_has_member(r->payload, "report_chunks"))
      lathe_store_expand_chunks(s, r->payload);
  }
  return out;
}

gint64 lathe_store_journal_count_pending(LatheStore *s, const char *tracker, const char *run_id) {
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT count(*) FROM tracker_journal WHERE tracker = ?1 AND"
                             " state = 'pending' AND (?2 IS NULL OR run_id = ?2 OR"
                             " run_id LIKE ?2 || '-%')");
  sqlite3_bind_text(st, 1, tracker, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
  gint64 n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return n;
}

gboolean lathe_store_journal_mark(LatheStore *s, const gint64 *ids, guint n, const char *state,
                                  GError **error) {
  if (!n)
    return TRUE;
  g_mutex_lock(&s->lock);
  gboolean ok = lathe_store_op_begin(s, error);
  for (guint i = 0; ok && i < n; i++) {
    /* An acked row stays acked: a late answer never makes it pending again. */
    sqlite3_stmt *st = state ? stmt(s, "UPDATE tracker_journal SET state = ?2, tries = tries + 1"
                                       " WHERE id = ?1 AND state = 'pending'")
                             : stmt(s, "UPDATE tracker_journal SET tries = tries + 1 WHERE id = ?1");
    sqlite3_bind_int64(st, 1, ids[i]);
    if (state)
      sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, error, "marking tracker events");
  }
  if (ok || n)
    ok = lathe_store_op_end(s, ok, ok ? error : NULL);
  g_mutex_unlock(&s->lock);
  return ok;
}

/* The first column of the first row of @sql over up to two text arguments. */
static char *query_text(LatheStore *s, const char *sql, const char *a, const char *b) {
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, sql);
  if (st) {
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
      sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
  }
  char *out = st && sqlite3_step(st) == SQLITE_ROW
                  ? g_strdup((const char *)sqlite3_column_text(st, 0))
                  : NULL;
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return out;
}

char *lathe_store_tracker_run(LatheStore *s, const char *run_id, const char *tracker) {
  return query_text(s, "SELECT tracker_run_id FROM tracker_runs WHERE run_id = ?1 AND"
                       " tracker = ?2", run_id, tracker);
}

/* One statement with up to three text arguments, as its own operation. */
static gboolean exec3(LatheStore *s, const char *sql, const char *a, const char *b, const char *c,
                      const char *what, GError **error) {
  g_mutex_lock(&s->lock);
  gboolean ok = lathe_store_op_begin(s, error);
  if (ok) {
    sqlite3_stmt *st = stmt(s, sql);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (c)
      sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE || lathe_store_fail(s, error, what);
    ok = lathe_store_op_end(s, ok, ok ? error : NULL);
  }
  g_mutex_unlock(&s->lock);
  return ok;
}

gboolean lathe_store_set_tracker_run(LatheStore *s, const char *run_id, const char *tracker,
                                     const char *tracker_run_id, GError **error) {
  return exec3(s, "INSERT OR REPLACE INTO tracker_runs(run_id, tracker, tracker_run_id)"
                  " VALUES (?1,?2,?3)", run_id, tracker, tracker_run_id,
               "recording a tracker's run id", error);
}

gboolean lathe_store_set_tracker_settings(LatheStore *s, const char *run_id, const char *tracker,
                                          const char *with, GError **error) {
  /* Appended, never replaced: the store only grows under a run. */
  return exec3(s, "INSERT INTO tracker_settings(tracker, settings, run_id) VALUES (?1,?2,?3)",
               tracker, with, run_id, "recording a tracker's settings", error);
}

char *lathe_store_tracker_settings(LatheStore *s, const char *tracker) {
  return query_text(s, "SELECT settings FROM tracker_settings WHERE tracker = ?1"
                       " ORDER BY id DESC LIMIT 1", tracker, NULL);
}

GStrv lathe_store_journal_trackers(LatheStore *s) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT DISTINCT tracker FROM tracker_journal WHERE state = 'pending'"
                             " ORDER BY tracker");
  while (st && sqlite3_step(st) == SQLITE_ROW)
    g_strv_builder_add(b, (const char *)sqlite3_column_text(st, 0));
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return g_strv_builder_end(b);
}

JsonArray *lathe_store_journal_status(LatheStore *s, const char *ref, GError **error) {
  g_mutex_lock(&s->lock);
  g_autofree char *run = NULL;
  if (ref && !(run = lathe_store_resolve_run(s, ref, error))) {
    g_mutex_unlock(&s->lock);
    return NULL;
  }
  /* Trial child runs ("RUN-TUNER-N") count with their run. */
  sqlite3_stmt *st = stmt(s, "SELECT j.run_id, j.tracker, sum(j.state = 'pending'),"
                             " sum(j.state = 'acked'), sum(j.state = 'refused'),"
                             " (SELECT tracker_run_id FROM tracker_runs r WHERE r.run_id = j.run_id"
                             "  AND r.tracker = j.tracker)"
                             " FROM tracker_journal j WHERE ?1 IS NULL OR j.run_id = ?1"
                             " OR j.run_id LIKE ?1 || '-%' GROUP BY j.run_id, j.tracker"
                             " ORDER BY min(j.id)");
  sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
  JsonArray *out = json_array_new();
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *o = json_object_new();
    lathe_store_set_text(o, "run_id", st, 0);
    lathe_store_set_text(o, "tracker", st, 1);
    json_object_set_int_member(o, "pending", sqlite3_column_int64(st, 2));
    json_object_set_int_member(o, "acked", sqlite3_column_int64(st, 3));
    json_object_set_int_member(o, "refused", sqlite3_column_int64(st, 4));
    lathe_store_set_text(o, "tracker_run_id", st, 5);
    json_array_add_object_element(out, o);
  }
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return out;
}

char *lathe_store_run_full_id(LatheStore *s, const char *ref, GError **error) {
  g_mutex_lock(&s->lock);
  char *id = lathe_store_resolve_run(s, ref, error);
  g_mutex_unlock(&s->lock);
  return id;
}

char *lathe_store_artifact_file(LatheStore *s, const char *digest) {
  char *path = lathe_store_artifact_path(s, digest);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    g_clear_pointer(&path, g_free);
  return path;
}

/* Where a stored execution's values go when a run is replayed: the run
 * itself, or the child run of the trial its exec id ("tune/3/model") is in. */
typedef struct {
  char *id, *name, *leaf, *status;
  JsonObject *params;
  JsonArray *points;
} Target;

static void target_free(gpointer p) {
  Target *t = p;
  g_free(t->id);
  g_free(t->name);
  g_free(t->leaf);
  g_free(t->status);
  json_object_unref(t->params);
  json_array_unref(t->points);
  g_free(t);
}

static Target *target_get(GHashTable *targets, GPtrArray *order, const char *run,
                          const char *node) {
  const char *slash = node ? strrchr(node, '/') : NULL;
  g_autofree char *prefix = slash ? g_strndup(node, (gsize)(slash - node)) : NULL;
  g_autofree char *id = prefix ? g_strdup_printf("%s-%s", run, prefix) : g_strdup(run);
  g_strdelimit(id, "/", '-');
  Target *t = g_hash_table_lookup(targets, id);
  if (!t) {
    t = g_new0(Target, 1);
    t->id = g_steal_pointer(&id);
    t->name = prefix ? g_strdup(prefix) : NULL;
    t->params = json_object_new();
    t->points = json_array_new();
    g_hash_table_insert(targets, t->id, t);
    g_ptr_array_add(order, t);
  }
  /* Keys as logged live: a trial's without its prefix, the run's by exec id. */
  g_free(t->leaf);
  t->leaf = g_strdup(slash ? slash + 1 : node);
  return t;
}

static void replay_point(Target *t, const char *name, double value, gint64 step, double ts) {
  g_autofree char *key = g_strdup_printf("%s.%s", t->leaf, name);
  JsonObject *pt = json_object_new();
  json_object_set_string_member(pt, "key", key);
  json_object_set_member(pt, "value", lathe_journal_number(value));
  json_object_set_int_member(pt, "step", step);
  json_object_set_int_member(pt, "ts", (gint64)(ts * 1000));
  json_array_add_object_element(t->points, pt);
}

static void replay_report(gpointer data, gint64 exec_id, const char *name, gint64 step,
                          double value, double ts) {
  replay_point(data, name, value, step, ts);
}

/* With the lock held: the events of stored run @run, as the engine journals them. */
static void replay_events(LatheStore *s, const char *run, LatheJournal *j) {
  sqlite3_stmt *st = stmt(s, "SELECT name, pipeline, seed, started, ended, status FROM runs"
                             " WHERE id = ?1");
  sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_reset(st);
    return;
  }
  JsonObject *start = json_object_new();
  lathe_store_set_text(start, "name", st, 0);
  json_object_set_int_member(start, "start_ms", (gint64)(sqlite3_column_double(st, 3) * 1000));
  JsonObject *tags = json_object_new();
  lathe_store_set_text(tags, "lathe.pipeline", st, 1);
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)sqlite3_column_int64(st, 2));
  json_object_set_string_member(tags, "lathe.seed", seed);
  JsonObject *end = json_object_new();
  json_object_set_int_member(end, "end_ms", (gint64)(sqlite3_column_double(st, 4) * 1000));
  lathe_store_set_text(end, "status", st, 5);
  sqlite3_reset(st);
  g_autoptr(JsonObject) start_copy = json_object_ref(start);
  lathe_journal_add(j, run, LATHE_JOURNAL_START, start);
  JsonObject *ti = json_object_new();
  json_object_set_object_member(ti, "items", tags);
  lathe_journal_add(j, run, LATHE_JOURNAL_TAGS, ti);

  g_autoptr(GHashTable) targets = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, target_free);
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  Target *own = target_get(targets, order, run, run);
  JsonArray *inputs = json_array_new();
  sqlite3_stmt *p = stmt(s, "SELECT e.node, p.name, p.value FROM params p JOIN executions e"
                            " ON e.id = p.execution_id WHERE e.run_id = ?1 AND e.status IN"
                            " ('succeeded', 'cached') ORDER BY p.rowid");
  sqlite3_bind_text(p, 1, run, -1, SQLITE_STATIC);
  while (sqlite3_step(p) == SQLITE_ROW) {
    const char *leaf;
    Target *t = target_get(targets, order, run, (const char *)sqlite3_column_text(p, 0));
    leaf = t->leaf;
    g_autofree char *key = g_strdup_printf("%s.%s", leaf, sqlite3_column_text(p, 1));
    const char *v = (const char *)sqlite3_column_text(p, 2);
    /* The store keeps canonical JSON; the tracker gets strings bare, as the engine sends them. */
    JsonNode *n = lathe_store_parse_json(v);
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
      json_object_set_string_member(t->params, key, json_node_get_string(n));
    else
      json_object_set_string_member(t->params, key, v ? v : "");
    if (n)
      json_node_unref(n);
  }
  sqlite3_reset(p);
  JsonObject *best = json_object_new();
  /* Final metrics, then each execution's reports. */
  sqlite3_stmt *m = stmt(s, "SELECT e.node, m.name, m.value, e.component, m.ts FROM metrics m JOIN"
                            " executions e ON e.id = m.execution_id WHERE e.run_id = ?1"
                            " AND m.step IS NULL ORDER BY m.rowid");
  sqlite3_bind_text(m, 1, run, -1, SQLITE_STATIC);
  while (sqlite3_step(m) == SQLITE_ROW) {
    Target *t = target_get(targets, order, run, (const char *)sqlite3_column_text(m, 0));
    double v = sqlite3_column_type(m, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(m, 2);
    replay_point(t, (const char *)sqlite3_column_text(m, 1), v, 0, sqlite3_column_double(m, 4));
    /* A study's best trial, tagged on the run as tracking.c does live. */
    const char *comp = (const char *)sqlite3_column_text(m, 3);
    if (t == own && comp && g_str_has_prefix(comp, "tuner/") &&
        g_str_equal((const char *)sqlite3_column_text(m, 1), "best_trial") && !isnan(v)) {
      const char *node = (const char *)sqlite3_column_text(m, 0);
      guint n = (guint)v;
      g_autofree char *trial = g_strdup_printf("%s/%u", node, n);
      g_autofree char *child = g_strdup_printf("%s-%s-%u", run, node, n);
      g_strdelimit(child, "/", '-');
      json_object_set_string_member(best, "lathe.best_trial", trial);
      json_object_set_string_member(best, "lathe.best_trial_run", child);
    }
  }
  sqlite3_reset(m);
  m = stmt(s, "SELECT id, node FROM executions WHERE run_id = ?1 ORDER BY id");
  sqlite3_bind_text(m, 1, run, -1, SQLITE_STATIC);
  g_autoptr(GArray) execs = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
  while (sqlite3_step(m) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(m, 0);
    g_array_append_val(execs, id);
    g_ptr_array_add(nodes, g_strdup((const char *)sqlite3_column_text(m, 1)));
  }
  sqlite3_reset(m);
  for (guint i = 0; i < execs->len; i++) {
    Target *t = target_get(targets, order, run, nodes->pdata[i]);
    lathe_store_each_report_locked(s, g_array_index(execs, gint64, i), replay_report, t);
  }
  /* A trial's values (objective, feasible) and state, as trial_end logs them
   * live: from its latest study event, when this run ended it. */
  sqlite3_stmt *tv = stmt(s, "SELECT s.node, t.number, t.state, t.vals, t.ts FROM trial_events t"
                             " JOIN studies s ON s.id = t.study_id WHERE t.run_id = ?1 AND"
                             " t.state != 'running' AND t.id = (SELECT max(id) FROM trial_events"
                             " WHERE study_id = t.study_id AND number = t.number) ORDER BY t.id");
  sqlite3_bind_text(tv, 1, run, -1, SQLITE_STATIC);
  while (sqlite3_step(tv) == SQLITE_ROW) {
    g_autofree char *exec = g_strdup_printf("%s/%d/-", sqlite3_column_text(tv, 0),
                                            sqlite3_column_int(tv, 1));
    Target *t = target_get(targets, order, run, exec);
    const char *state = (const char *)sqlite3_column_text(tv, 2);
    g_free(t->status);
    t->status = g_strdup(g_str_equal(state, "complete") ? "succeeded" : state);
    JsonNode *vals = lathe_store_parse_json((const char *)sqlite3_column_text(tv, 3));
    JsonObject *vo = vals && JSON_NODE_HOLDS_OBJECT(vals) ? json_node_get_object(vals) : NULL;
    g_autoptr(GList) names = vo ? json_object_get_members(vo) : NULL;
    for (GList *l = names; l; l = l->next) {
      JsonNode *v = json_object_get_member(vo, l->data);
      if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) == G_TYPE_STRING)
        continue;
      JsonObject *pt = json_object_new();
      json_object_set_string_member(pt, "key", l->data);
      json_object_set_member(pt, "value", lathe_journal_number(json_node_get_double(v)));
      json_object_set_int_member(pt, "step", 0);
      json_object_set_int_member(pt, "ts", (gint64)(sqlite3_column_double(tv, 4) * 1000));
      json_array_add_object_element(t->points, pt);
    }
    if (vals)
      json_node_unref(vals);
  }
  sqlite3_reset(tv);
  sqlite3_stmt *d = stmt(s, "SELECT e.node, d.uri, d.digest FROM data_versions d JOIN executions e"
                            " ON e.id = d.execution_id WHERE e.run_id = ?1 ORDER BY d.rowid");
  sqlite3_bind_text(d, 1, run, -1, SQLITE_STATIC);
  while (sqlite3_step(d) == SQLITE_ROW) {
    JsonObject *in = json_object_new();
    lathe_store_set_text(in, "node", d, 0);
    lathe_store_set_text(in, "uri", d, 1);
    lathe_store_set_text(in, "digest", d, 2);
    json_array_add_object_element(inputs, in);
  }
  sqlite3_reset(d);
  /* Trials as runs nested under the run, as they were logged live. */
  for (guint i = 0; i < order->len; i++) {
    Target *t = order->pdata[i];
    if (t != own) {
      JsonObject *st = json_object_new();
      json_object_set_string_member(st, "name", t->name);
      json_object_set_string_member(st, "parent", run);
      json_object_set_int_member(st, "start_ms", json_object_get_int_member(start_copy, "start_ms"));
      lathe_journal_add(j, t->id, LATHE_JOURNAL_START, st);
      JsonObject *tt = json_object_new();
      JsonObject *its = json_object_new();
      json_object_set_string_member(its, "mlflow.parentRunId", run);
      const char *slash = strrchr(t->name, '/');
      json_object_set_string_member(its, "lathe.trial", slash ? slash + 1 : t->name);
      g_autofree char *tuner = slash ? g_strndup(t->name, (gsize)(slash - t->name)) : g_strdup("");
      json_object_set_string_member(its, "lathe.tuner", tuner);
      json_object_set_object_member(tt, "items", its);
      lathe_journal_add(j, t->id, LATHE_JOURNAL_TAGS, tt);
    }
    JsonObject *pp = json_object_new();
    json_object_set_object_member(pp, "items", json_object_ref(t->params));
    lathe_journal_add(j, t->id, LATHE_JOURNAL_PARAMS, pp);
    JsonObject *mm = json_object_new();
    json_object_set_array_member(mm, "points", json_array_ref(t->points));
    lathe_journal_add(j, t->id, LATHE_JOURNAL_METRICS, mm);
    if (t != own) {
      JsonObject *e = json_object_new();
      json_object_set_string_member(e, "status", t->status ? t->status : "succeeded");
      json_object_set_int_member(e, "end_ms", json_object_get_int_member(end, "end_ms"));
      lathe_journal_add(j, t->id, LATHE_JOURNAL_END, e);
    }
  }
  if (json_object_get_size(best)) {
    JsonObject *bt = json_object_new();
    json_object_set_object_member(bt, "items", best);
    lathe_journal_add(j, run, LATHE_JOURNAL_TAGS, bt);
  } else {
    json_object_unref(best);
  }
  JsonObject *ii = json_object_new();
  json_object_set_array_member(ii, "inputs", inputs);
  lathe_journal_add(j, run, LATHE_JOURNAL_INPUTS, ii);
  lathe_journal_add(j, run, LATHE_JOURNAL_END, end);
}

gboolean lathe_store_journal_replay(LatheStore *s, const char *ref, const char *tracker,
                                    gboolean *already, GError **error) {
  *already = FALSE;
  g_mutex_lock(&s->lock);
  g_autofree char *run = lathe_store_resolve_run(s, ref, error);
  if (!run) {
    g_mutex_unlock(&s->lock);
    return FALSE;
  }
  sqlite3_stmt *st = stmt(s, "SELECT 1 FROM tracker_journal WHERE run_id = ?1 AND tracker = ?2"
                             " LIMIT 1");
  sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, tracker, -1, SQLITE_STATIC);
  *already = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_reset(st);
  gboolean ok = TRUE;
  if (!*already) {
    const char *streams[] = {tracker, NULL};
    g_autoptr(LatheJournal) j = lathe_journal_new(streams);
    replay_events(s, run, j);
    ok = lathe_store_op_begin(s, error);
    if (ok) {
      ok = lathe_store_journal_write_locked(s, j, run) ||
           lathe_store_fail(s, error, "journaling a stored run");
      ok = lathe_store_op_end(s, ok, ok ? error : NULL);
    }
    lathe_store_commit_locked(s);
  }
  g_mutex_unlock(&s->lock);
  return ok;
}
