/* A training loop's reports: written a chunk of points per metric of an
 * execution per write (schema 4), read back point by point.
 *
 * A chunk's points are @n records of three little-endian doubles: step,
 * value, time (seconds since the epoch). Binary, not text: printing a
 * double to 17 digits costs more than everything else a report does, and
 * NaN and infinities need no spelling. Steps are exact up to 2^53. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-blob.h>
#include "store/store-private.h"

#define POINT_BYTES 24

void lathe_store_add_report(LatheStore *s, gint64 id, const char *name, double value, gint64 step,
                            double ts) {
  LatheStoreReport r = {id, name, value, step, ts, NULL, NULL};
  g_autoptr(GError) error = NULL;
  if (!lathe_store_add_reports(s, &r, 1, NULL, &error))
    g_printerr("lathe: %s\n", error->message);
}

typedef struct {
  const LatheStoreReport *first;
  GByteArray *points;
  gint64 chunk;
} Chunk;

static void chunk_clear(gpointer p) {
  g_byte_array_unref(((Chunk *)p)->points);
}

/* The chunk of @r's series (names, targets and keys are one pointer per
 * series, so pointers compare); chunks keep the order of their first point. */
static Chunk *chunk_of(GArray *chunks, const LatheStoreReport *r) {
  for (guint i = chunks->len; i-- > 0;) {
    Chunk *c = &g_array_index(chunks, Chunk, i);
    if (c->first->exec_id == r->exec_id && c->first->name == r->name && c->first->key == r->key &&
        c->first->target == r->target)
      return c;
  }
  Chunk c = {r, g_byte_array_sized_new(POINT_BYTES * 1024), 0};
  g_array_append_val(chunks, c);
  return &g_array_index(chunks, Chunk, chunks->len - 1);
}

/* With the lock held: the chunks' rows, then (with @journal) one metrics
 * event per tracker run naming its chunks. */
static gboolean write_chunks(LatheStore *s, GArray *chunks, LatheJournal *journal) {
  for (guint i = 0; i < chunks->len; i++) {
    Chunk *c = &g_array_index(chunks, Chunk, i);
    sqlite3_stmt *st = stmt(s, "INSERT INTO report_chunks(execution_id, name, n, points)"
                               " VALUES (?1,?2,?3,?4)");
    if (!st)
      return FALSE;
    if (c->first->exec_id >= 0)
      sqlite3_bind_int64(st, 1, c->first->exec_id);
    sqlite3_bind_text(st, 2, c->first->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->points->len / POINT_BYTES);
    sqlite3_bind_blob(st, 4, c->points->data, (int)c->points->len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
      return FALSE;
    c->chunk = sqlite3_last_insert_rowid(s->db);
  }
  if (!journal)
    return TRUE;
  g_autoptr(GHashTable) refs = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) targets = g_ptr_array_new();
  for (guint i = 0; i < chunks->len; i++) {
    Chunk *c = &g_array_index(chunks, Chunk, i);
    if (!c->first->target || !c->first->key)
      continue;
    JsonArray *list = g_hash_table_lookup(refs, c->first->target);
    if (!list) {
      list = json_array_new();
      g_hash_table_insert(refs, (gpointer)c->first->target, list);
      g_ptr_array_add(targets, (gpointer)c->first->target);
    }
    JsonObject *ref = json_object_new();
    json_object_set_int_member(ref, "chunk", c->chunk);
    json_object_set_string_member(ref, "key", c->first->key);
    json_array_add_object_element(list, ref);
  }
  for (guint i = 0; i < targets->len; i++) {
    JsonObject *o = json_object_new();
    json_object_set_array_member(o, "report_chunks", g_hash_table_lookup(refs, targets->pdata[i]));
    lathe_journal_add(journal, targets->pdata[i], LATHE_JOURNAL_METRICS, o);
  }
  return lathe_store_journal_write_locked(s, journal, NULL);
}

gboolean lathe_store_add_reports(LatheStore *s, const LatheStoreReport *r, guint n,
                                 LatheJournal *journal, GError **error) {
  if (!n)
    return TRUE;
  g_autoptr(GArray) chunks = g_array_new(FALSE, FALSE, sizeof(Chunk));
  g_array_set_clear_func(chunks, chunk_clear);
  for (guint i = 0; i < n; i++) {
    Chunk *c = chunk_of(chunks, &r[i]);
    lathe_blob_put_f64(c->points, (double)r[i].step);
    lathe_blob_put_f64(c->points, r[i].value);
    lathe_blob_put_f64(c->points, r[i].ts);
  }
  g_mutex_lock(&s->lock);
  gboolean ok = lathe_store_op_begin(s, error);
  if (ok) {
    ok = write_chunks(s, chunks, journal) || lathe_store_fail(s, error, "recording reports");
    ok = lathe_store_op_end(s, ok, ok ? error : NULL);
  }
  g_mutex_unlock(&s->lock);
  return ok;
}

/* Column @col of @st, a chunk's points, to @visit. */
static void visit_chunk(sqlite3_stmt *st, int col, gint64 exec_id, const char *name,
                        LatheReportVisit visit, gpointer data) {
  const guint8 *p = sqlite3_column_blob(st, col);
  gsize len = (gsize)sqlite3_column_bytes(st, col);
  for (gsize at = 0; p && at + POINT_BYTES <= len; at += POINT_BYTES)
    visit(data, exec_id, name, (gint64)lathe_blob_get_f64(p + at), lathe_blob_get_f64(p + at + 8),
          lathe_blob_get_f64(p + at + 16));
}

void lathe_store_each_run_report_locked(LatheStore *s, const char *run_id, gboolean top_only,
                                        LatheReportVisit visit, gpointer data) {
  sqlite3_stmt *st = stmt(s, "SELECT m.execution_id, m.name, m.step, m.value, m.ts FROM metrics m"
                             " JOIN executions e ON e.id = m.execution_id WHERE e.run_id = ?1"
                             " AND (?2 = 0 OR instr(e.node, '/') = 0)"
                             " AND m.step IS NOT NULL ORDER BY m.execution_id, m.rowid");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, top_only);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    visit(data, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
          sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3),
          sqlite3_column_double(st, 4));
  if (st)
    sqlite3_reset(st);
  st = stmt(s, "SELECT c.execution_id, c.name, c.points FROM report_chunks c JOIN executions e"
               " ON e.id = c.execution_id WHERE e.run_id = ?1 AND (?2 = 0 OR instr(e.node, '/') = 0)"
               " ORDER BY c.execution_id, c.id");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, top_only);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    visit_chunk(st, 2, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), visit, data);
  if (st)
    sqlite3_reset(st);
}

void lathe_store_each_report_locked(LatheStore *s, gint64 exec_id, LatheReportVisit visit,
                                    gpointer data) {
  sqlite3_stmt *st = stmt(s, "SELECT name, step, value, ts FROM metrics WHERE execution_id = ?1"
                             " AND step IS NOT NULL ORDER BY rowid");
  sqlite3_bind_int64(st, 1, exec_id);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    /* NaN was kept as NULL there (SQLite's REAL has none). */
    visit(data, exec_id, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
          sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2),
          sqlite3_column_double(st, 3));
  if (st)
    sqlite3_reset(st);
  st = stmt(s, "SELECT name, points FROM report_chunks WHERE execution_id = ?1 ORDER BY id");
  sqlite3_bind_int64(st, 1, exec_id);
  while (st && sqlite3_step(st) == SQLITE_ROW)
    visit_chunk(st, 1, exec_id, (const char *)sqlite3_column_text(st, 0), visit, data);
  if (st)
    sqlite3_reset(st);
}

typedef struct {
  const char *key;
  JsonArray *points;
} Expand;

static void expand_point(gpointer data, gint64 exec_id, const char *name, gint64 step,
                         double value, double ts) {
  Expand *x = data;
  JsonObject *p = json_object_new();
  json_object_set_string_member(p, "key", x->key);
  json_object_set_member(p, "value", lathe_journal_number(value));
  json_object_set_int_member(p, "step", step);
  json_object_set_int_member(p, "ts", (gint64)(ts * 1000));
  json_array_add_object_element(x->points, p);
}

void lathe_store_expand_chunks(LatheStore *s, JsonObject *payload) {
  JsonArray *refs = json_object_get_array_member(payload, "report_chunks");
  Expand x = {NULL, json_array_new()};
  g_mutex_lock(&s->lock);
  for (guint i = 0; refs && i < json_array_get_length(refs); i++) {
    JsonObject *ref = json_array_get_object_element(refs, i);
    x.key = json_object_get_string_member_with_default(ref, "key", "");
    sqlite3_stmt *st = stmt(s, "SELECT points FROM report_chunks WHERE id = ?1");
    sqlite3_bind_int64(st, 1, json_object_get_int_member_with_default(ref, "chunk", -1));
    if (st && sqlite3_step(st) == SQLITE_ROW)
      visit_chunk(st, 0, -1, NULL, expand_point, &x);
    if (st)
      sqlite3_reset(st);
  }
  g_mutex_unlock(&s->lock);
  json_object_remove_member(payload, "report_chunks");
  json_object_set_array_member(payload, "points", x.points);
}

/* Reports gathered for a sort by step that keeps their order otherwise. */
typedef struct {
  gint64 step;
  double value;
  guint seq;
  guint key; /* index of its key, for lathe_store_trial_reports() */
} Point;

static gint cmp_point(gconstpointer a, gconstpointer b) {
  const Point *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  if (x->step != y->step)
    return x->step < y->step ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

typedef struct {
  GArray *points;
  const char *only;      /* one metric, or NULL for all */
  const char *node;      /* for keys: the execution's node less its prefix */
  GPtrArray *keys;       /* "NODE.NAME", sorted afterwards */
  GHashTable *key_index; /* key -> index + 1 */
} Gather;

static void gather_point(gpointer data, gint64 exec_id, const char *name, gint64 step,
                         double value, double ts) {
  Gather *g = data;
  if (g->only && g_strcmp0(name, g->only) != 0)
    return;
  Point p = {step, value, g->points->len, 0};
  if (g->keys) {
    g_autofree char *key = g_strdup_printf("%s.%s", g->node, name);
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(g->key_index, key));
    if (!at) {
      g_ptr_array_add(g->keys, g_strdup(key));
      at = g->keys->len;
      g_hash_table_insert(g->key_index, g_steal_pointer(&key), GUINT_TO_POINTER(at));
    }
    p.key = at - 1;
  }
  g_array_append_val(g->points, p);
}

GArray *lathe_store_reports(LatheStore *s, const char *run_id, const char *node, const char *name,
                            GArray *steps) {
  GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) points = g_array_new(FALSE, FALSE, sizeof(Point));
  Gather g = {points, name, NULL, NULL, NULL};
  g_mutex_lock(&s->lock);
  g_autoptr(GArray) execs = g_array_new(FALSE, FALSE, sizeof(gint64));
  sqlite3_stmt *st = stmt(s, "SELECT id FROM executions WHERE run_id = ?1 AND node = ?2 ORDER BY id");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, node, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(st, 0);
    g_array_append_val(execs, id);
  }
  if (st)
    sqlite3_reset(st);
  for (guint i = 0; i < execs->len; i++)
    lathe_store_each_report_locked(s, g_array_index(execs, gint64, i), gather_point, &g);
  g_mutex_unlock(&s->lock);
  g_array_sort(points, cmp_point);
  for (guint i = 0; i < points->len; i++) {
    Point *p = &g_array_index(points, Point, i);
    if (p->step < 0 || p->step > G_MAXUINT)
      continue;
    guint u = (guint)p->step;
    g_array_append_val(steps, u);
    g_array_append_val(values, p->value);
  }
  return values;
}

static gint cmp_key(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct {
  Gather *g;
  GHashTable *nodes;
} TrialGather;

static void gather_trial_point(gpointer data, gint64 exec_id, const char *name, gint64 step,
                               double value, double ts) {
  TrialGather *tg = data;
  const char *node = g_hash_table_lookup(tg->nodes, &exec_id);
  if (!node)
    return;
  tg->g->node = node;
  gather_point(tg->g, exec_id, name, step, value, ts);
}

JsonObject *lathe_store_trial_reports(LatheStore *s, const char *run_id, const char *prefix) {
  g_autofree char *like = lathe_store_like_prefix(prefix);
  g_autoptr(GArray) points = g_array_new(FALSE, FALSE, sizeof(Point));
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  Gather g = {points, NULL, NULL, keys, index};
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT id, substr(node, ?3) FROM executions WHERE run_id = ?1"
                             " AND node LIKE ?2 ESCAPE '\\' ORDER BY id");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, like, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, (int)strlen(prefix) + 1);
  /* execution id -> its node less the prefix; the run's reports are read in
   * two queries and those of other executions skipped (a study's 1,000
   * trials were 4,000 queries) */
  g_autoptr(GHashTable) nodes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    gint64 *id = g_new(gint64, 1);
    *id = sqlite3_column_int64(st, 0);
    g_hash_table_insert(nodes, id, g_strdup((const char *)sqlite3_column_text(st, 1)));
  }
  if (st)
    sqlite3_reset(st);
  TrialGather tg = {&g, nodes};
  if (g_hash_table_size(nodes))
    lathe_store_each_run_report_locked(s, run_id, FALSE, gather_trial_point, &tg);
  g_mutex_unlock(&s->lock);
  /* Keys in order (by node, then metric), each key's points by step. */
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(keys->len); /* borrows keys' strings */
  for (guint i = 0; i < keys->len; i++)
    g_ptr_array_add(sorted, keys->pdata[i]);
  g_ptr_array_sort(sorted, cmp_key);
  g_autofree guint *rank = g_new0(guint, MAX(keys->len, 1));
  for (guint i = 0; i < sorted->len; i++)
    rank[GPOINTER_TO_UINT(g_hash_table_lookup(index, sorted->pdata[i])) - 1] = i;
  for (guint i = 0; i < points->len; i++)
    g_array_index(points, Point, i).key = rank[g_array_index(points, Point, i).key];
  g_array_sort(points, cmp_point);
  JsonObject *out = json_object_new();
  for (guint i = 0; i < sorted->len; i++)
    json_object_set_array_member(out, sorted->pdata[i], json_array_new());
  for (guint i = 0; i < points->len; i++) {
    Point *p = &g_array_index(points, Point, i);
    JsonArray *pair = json_array_new();
    json_array_add_int_element(pair, p->step);
    json_array_add_double_element(pair, p->value);
    json_array_add_array_element(json_object_get_array_member(out, sorted->pdata[p->key]), pair);
  }
  return out;
}
