/* Reading the run store back for `lathe runs`. */
#include <math.h>
#include <string.h>

#include "store/store-private.h"

void lathe_store_set_text(JsonObject *o, const char *key, sqlite3_stmt *st, int col) {
  const char *v = (const char *)sqlite3_column_text(st, col);
  if (v)
    json_object_set_string_member(o, key, v);
  else
    json_object_set_null_member(o, key);
}

void lathe_store_set_real(JsonObject *o, const char *key, sqlite3_stmt *st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL)
    json_object_set_null_member(o, key);
  else
    json_object_set_double_member(o, key, sqlite3_column_double(st, col));
}

JsonObject *lathe_store_run_head(sqlite3_stmt *st) {
  JsonObject *r = json_object_new();
  lathe_store_set_text(r, "run_id", st, 0);
  lathe_store_set_text(r, "name", st, 1);
  lathe_store_set_text(r, "status", st, 2);
  lathe_store_set_real(r, "started", st, 3);
  lathe_store_set_real(r, "ended", st, 4);
  lathe_store_set_text(r, "pipeline", st, 5);
  return r;
}

JsonArray *lathe_store_list_runs(LatheStore *s, GError **error) {
  JsonArray *out = json_array_new();
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s,
      "SELECT r.id, r.name, r.status, r.started, r.ended, r.pipeline,"
      " (SELECT count(*) FROM executions e WHERE e.run_id = r.id),"
      " (SELECT count(*) FROM executions e WHERE e.run_id = r.id AND e.status = 'cached'),"
      " (SELECT count(*) FROM executions e WHERE e.run_id = r.id AND e.status = 'failed')"
      " FROM runs r ORDER BY r.started DESC, r.rowid DESC");
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *r = lathe_store_run_head(st);
    json_object_set_int_member(r, "executions", sqlite3_column_int64(st, 6));
    json_object_set_int_member(r, "cached", sqlite3_column_int64(st, 7));
    json_object_set_int_member(r, "failed", sqlite3_column_int64(st, 8));
    json_array_add_object_element(out, r);
  }
  g_mutex_unlock(&s->lock);
  (void)error;
  return out;
}

/* A JSON number as json-glib reads it (an int64 without fraction or
 * exponent, a double otherwise), or NULL for anything else: most stored
 * values are numbers (a 1,000-trial study's params), and a parser per
 * number was most of reading a run. */
static JsonNode *parse_number(const char *t) {
  const char *p = t + (*t == '-');
  guint digits = 0;
  gboolean real = FALSE;
  if (*p == '0')
    p++, digits++;
  else
    for (; g_ascii_isdigit(*p); p++)
      digits++;
  if (!digits)
    return NULL;
  if (*p == '.') {
    real = TRUE;
    if (!g_ascii_isdigit(*++p))
      return NULL;
    while (g_ascii_isdigit(*p))
      p++;
  }
  if (*p == 'e' || *p == 'E') {
    real = TRUE;
    p += (p[1] == '+' || p[1] == '-') ? 2 : 1;
    if (!g_ascii_isdigit(*p))
      return NULL;
    while (g_ascii_isdigit(*p))
      p++;
  }
  if (*p || (!real && digits > 18)) /* trailing text; or an integer json-glib may read otherwise */
    return NULL;
  return real ? json_node_init_double(json_node_alloc(), g_ascii_strtod(t, NULL))
              : json_node_init_int(json_node_alloc(), g_ascii_strtoll(t, NULL, 10));
}

JsonNode *lathe_store_parse_json(const char *text) {
  if (!text)
    return NULL;
  JsonNode *n = parse_number(text);
  if (n)
    return n;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, text, -1, NULL) || !json_parser_get_root(p))
    return NULL;
  return json_parser_steal_root(p);
}

static void add_history(gpointer data, gint64 exec_id, const char *name, gint64 step, double value,
                        double ts) {
  JsonObject *h = json_object_new();
  json_object_set_string_member(h, "name", name);
  if (isnan(value))
    json_object_set_null_member(h, "value"); /* JSON has no NaN */
  else
    json_object_set_double_member(h, "value", value);
  json_object_set_int_member(h, "step", step);
  json_object_set_double_member(h, "ts", ts);
  json_array_add_object_element(data, h);
}


/* The execution of @id in @by_id (id -> JsonObject), or NULL. */
static JsonObject *exec_of(GHashTable *by_id, sqlite3_stmt *st) {
  gint64 id = sqlite3_column_int64(st, 0);
  return g_hash_table_lookup(by_id, &id);
}

static void add_run_history(gpointer data, gint64 exec_id, const char *name, gint64 step, double value,
                            double ts) {
  JsonObject *e = g_hash_table_lookup(data, &exec_id);
  if (e)
    add_history(json_object_get_array_member(e, "reports"), exec_id, name, step, value, ts);
}

/* Fills the per-execution lists of run @run_id's executions (@by_id:
 * execution id -> its object): params, metrics, reports, events and data
 * versions, a query per list for the whole run (a query per execution made
 * a 1,000-trial study's run 12,000 queries). */
static void fill_executions(LatheStore *s, const char *run_id, LatheStoreShowFlags flags, GHashTable *by_id) {
  GHashTableIter it;
  gpointer e;
  g_hash_table_iter_init(&it, by_id);
  while (g_hash_table_iter_next(&it, NULL, &e)) {
    json_object_set_object_member(e, "params", json_object_new());
    json_object_set_object_member(e, "metrics", json_object_new());
    json_object_set_array_member(e, "reports", json_array_new());
    json_object_set_object_member(e, "inputs", json_object_new());
    json_object_set_object_member(e, "outputs", json_object_new());
    json_object_set_array_member(e, "data_versions", json_array_new());
  }
  sqlite3_stmt *st = stmt(s, "SELECT p.execution_id, p.name, p.value FROM params p JOIN executions x"
                             " ON x.id = p.execution_id WHERE x.run_id = ?1 ORDER BY p.execution_id, p.name");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *x = exec_of(by_id, st);
    if (!x)
      continue;
    JsonNode *v = lathe_store_parse_json((const char *)sqlite3_column_text(st, 2));
    json_object_set_member(json_object_get_object_member(x, "params"), (const char *)sqlite3_column_text(st, 1),
                           v ? v : json_node_init_null(json_node_alloc()));
  }
  if (st)
    sqlite3_reset(st);
  st = stmt(s, "SELECT m.execution_id, m.name, m.value FROM metrics m JOIN executions x ON x.id = m.execution_id"
               " WHERE x.run_id = ?1 AND m.step IS NULL ORDER BY m.execution_id, m.rowid");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *x = exec_of(by_id, st);
    if (x)
      json_object_set_double_member(json_object_get_object_member(x, "metrics"),
                                    (const char *)sqlite3_column_text(st, 1), sqlite3_column_double(st, 2));
  }
  if (st)
    sqlite3_reset(st);
  lathe_store_each_run_report_locked(s, run_id, (flags & LATHE_STORE_SHOW_NO_NESTED_REPORTS) != 0, add_run_history, by_id);
  st = stmt(s, "SELECT v.execution_id, v.direction, v.port, v.artifact FROM events v JOIN executions x"
               " ON x.id = v.execution_id WHERE x.run_id = ?1 ORDER BY v.execution_id, v.rowid");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *x = exec_of(by_id, st);
    if (!x)
      continue;
    gboolean in = g_str_equal((const char *)sqlite3_column_text(st, 1), "input");
    json_object_set_string_member(json_object_get_object_member(x, in ? "inputs" : "outputs"),
                                  (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
  }
  if (st)
    sqlite3_reset(st);
  st = stmt(s, "SELECT d.execution_id, d.uri, d.digest, d.size, d.mtime FROM data_versions d JOIN executions x"
               " ON x.id = d.execution_id WHERE x.run_id = ?1 ORDER BY d.execution_id, d.rowid");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *x = exec_of(by_id, st);
    if (!x)
      continue;
    JsonObject *d = json_object_new();
    lathe_store_set_text(d, "uri", st, 1);
    lathe_store_set_text(d, "digest", st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) { /* a local file */
      json_object_set_int_member(d, "size", sqlite3_column_int64(st, 3));
      json_object_set_int_member(d, "mtime", sqlite3_column_int64(st, 4));
    }
    json_array_add_object_element(json_object_get_array_member(x, "data_versions"), d);
  }
  if (st)
    sqlite3_reset(st);
}

char *lathe_store_like_prefix(const char *prefix) {
  if (!*prefix)
    return g_strdup(""); /* matches only an empty id, and no id is empty */
  GString *pattern = g_string_new(NULL);
  for (const char *p = prefix; *p; p++) {
    if (*p == '%' || *p == '_' || *p == '\\')
      g_string_append_c(pattern, '\\');
    g_string_append_c(pattern, *p);
  }
  g_string_append_c(pattern, '%');
  return g_string_free(pattern, FALSE);
}

char *lathe_store_resolve_run(LatheStore *s, const char *ref, GError **error) {
  g_autofree char *pattern = lathe_store_like_prefix(ref);
  sqlite3_stmt *st = stmt(s, "SELECT id FROM runs WHERE id LIKE ?1 ESCAPE '\\' LIMIT 2");
  sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
  char *id = NULL;
  int rows = 0;
  while (st && sqlite3_step(st) == SQLITE_ROW && rows++ == 0)
    id = g_strdup((const char *)sqlite3_column_text(st, 0));
  if (st)
    sqlite3_reset(st); /* it may have stopped on a row: no snapshot kept */
  if (rows != 1) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                rows ? "run id '%s' is ambiguous; give more characters"
                     : "no run '%s' in %s; `lathe runs list` shows the runs",
                ref, s->dir);
    g_clear_pointer(&id, g_free);
  }
  return id;
}

JsonObject *lathe_store_show_run(LatheStore *s, const char *run_id, GError **error) {
  return lathe_store_show_run_flags(s, run_id, LATHE_STORE_SHOW_ALL, error);
}

JsonObject *lathe_store_show_run_flags(LatheStore *s, const char *run_id, LatheStoreShowFlags flags,
                                       GError **error) {
  g_mutex_lock(&s->lock);
  JsonObject *run = NULL;
  g_autofree char *full = lathe_store_resolve_run(s, run_id, error);
  sqlite3_stmt *st = stmt(s, "SELECT id, name, status, started, ended, pipeline, seed,"
                             " lathe_version, json_extract(pipeline_json, '$.preset')"
                             " FROM runs WHERE id = ?1");
  sqlite3_bind_text(st, 1, full, -1, SQLITE_STATIC);
  if (full && sqlite3_step(st) == SQLITE_ROW) {
    run = lathe_store_run_head(st);
    json_object_set_int_member(run, "seed", sqlite3_column_int64(st, 6));
    lathe_store_set_text(run, "lathe_version", st, 7);
    lathe_store_set_text(run, "preset", st, 8);
  }
  sqlite3_reset(st);
  if (!run) {
    g_mutex_unlock(&s->lock);
    return NULL;
  }
  const char *id = json_object_get_string_member(run, "run_id");
  st = stmt(s, "SELECT environment FROM run_environment WHERE run_id = ?1");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  JsonNode *env = sqlite3_step(st) == SQLITE_ROW
                      ? lathe_store_parse_json((const char *)sqlite3_column_text(st, 0)) : NULL;
  sqlite3_reset(st);
  if (env && JSON_NODE_HOLDS_OBJECT(env))
    json_object_set_member(run, "environment", env);
  else {
    g_clear_pointer(&env, json_node_unref);
    json_object_set_null_member(run, "environment");
  }
  JsonArray *nodes = json_array_new();
  g_autoptr(GHashTable) by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  st = stmt(s, "SELECT id, node, component, plugin, plugin_version, plugin_digest, cache_key,"
               " status, started, ended, error, worker FROM executions WHERE run_id = ?1 ORDER BY id");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  while (sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *e = json_object_new();
    gint64 eid = sqlite3_column_int64(st, 0);
    g_hash_table_insert(by_id, g_memdup2(&eid, sizeof eid), e);
    json_object_set_int_member(e, "execution", eid);
    lathe_store_set_text(e, "id", st, 1);
    lathe_store_set_text(e, "component", st, 2);
    lathe_store_set_text(e, "plugin", st, 3);
    lathe_store_set_text(e, "plugin_version", st, 4);
    lathe_store_set_text(e, "plugin_digest", st, 5);
    lathe_store_set_text(e, "cache_key", st, 6);
    lathe_store_set_text(e, "status", st, 7);
    json_object_set_string_member(e, "cache",
        g_str_equal((const char *)sqlite3_column_text(st, 7), "cached") ? "hit"
        : sqlite3_column_type(st, 6) == SQLITE_NULL ? "off" : "miss");
    lathe_store_set_real(e, "started", st, 8);
    lathe_store_set_real(e, "ended", st, 9);
    if (sqlite3_column_type(st, 8) != SQLITE_NULL && sqlite3_column_type(st, 9) != SQLITE_NULL)
      json_object_set_double_member(e, "seconds",
                                    sqlite3_column_double(st, 9) - sqlite3_column_double(st, 8));
    lathe_store_set_text(e, "error", st, 10);
    lathe_store_set_text(e, "worker", st, 11);
    json_array_add_object_element(nodes, e);
  }
  sqlite3_reset(st);
  fill_executions(s, id, flags, by_id);
  json_object_set_array_member(run, "nodes", nodes);
  g_mutex_unlock(&s->lock);
  return run;
}

char *lathe_store_run_pipeline(LatheStore *s, const char *run_id) {
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT pipeline_json FROM runs WHERE id = ?1");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  char *text = st && sqlite3_step(st) == SQLITE_ROW
                   ? g_strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
  if (st)
    sqlite3_reset(st);
  g_mutex_unlock(&s->lock);
  return text;
}
