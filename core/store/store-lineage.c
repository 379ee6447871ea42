/* Lineage (`lathe lineage`): from an artifact back through the executions
 * that produced it, and theirs, down to the data versions the sources read.
 * This is MLMD's artifact/execution/event graph, walked over the events
 * table: an output event names an artifact's producer, its input events name
 * what it read.
 *
 * Artifacts are content-addressed, so one digest may have several producers:
 * the same node in every run that reran or reused it (a cached execution has
 * the same output digests as the one that first made them), a tuner and the
 * trial whose model it chose, and identity transforms that pass an input
 * through. The walk prefers the producer in the run it is following (so a
 * fully cached rerun gives its own, complete lineage), else the original
 * (non-cached) one; it follows the outermost node (the tuner, naming the
 * trial that made the bytes), and never an execution already on the path
 * (a pass-through, or a cycle a damaged store could hold). */
#include <string.h>

#include "store/store-private.h"

/* Bounds against a pathological store: a pipeline is far shallower and
 * smaller. A diamond (split.train and split.test) is walked once per path. */
#define MAX_DEPTH 64
#define MAX_NODES 20000

typedef struct {
  LatheStore *s;
  GArray *path; /* execution ids from the root down */
  guint nodes;
  gboolean truncated;
} Walk;

typedef struct {
  gint64 id;
  char *run_id, *node, *component, *plugin, *plugin_version, *plugin_digest, *status, *cache_key;
  char *port; /* the output port that made the artifact */
  gboolean cached;
} Exec;

static void exec_clear(Exec *e) {
  g_free(e->run_id);
  g_free(e->node);
  g_free(e->component);
  g_free(e->plugin);
  g_free(e->plugin_version);
  g_free(e->plugin_digest);
  g_free(e->status);
  g_free(e->cache_key);
  g_free(e->port);
}

static char *col(sqlite3_stmt *st, int c) { return g_strdup((const char *)sqlite3_column_text(st, c)); }

#define EXEC_COLUMNS                                                                            \
  "e.id, e.run_id, e.node, e.component, e.plugin, e.plugin_version, e.plugin_digest, e.status," \
  " e.cached, e.cache_key"

static void exec_read(sqlite3_stmt *st, Exec *e) {
  e->id = sqlite3_column_int64(st, 0);
  e->run_id = col(st, 1);
  e->node = col(st, 2);
  e->component = col(st, 3);
  e->plugin = col(st, 4);
  e->plugin_version = col(st, 5);
  e->plugin_digest = col(st, 6);
  e->status = col(st, 7);
  e->cached = sqlite3_column_int(st, 8) != 0;
  e->cache_key = col(st, 9);
}

static gboolean on_path(Walk *w, gint64 id) {
  for (guint i = 0; i < w->path->len; i++)
    if (g_array_index(w->path, gint64, i) == id)
      return TRUE;
  return FALSE;
}

/* The producer of @digest to follow (see the top of the file); FALSE when no
 * execution in the store made it (an input from elsewhere, or rows removed
 * by `lathe store check --repair`). */
static gboolean find_producer(Walk *w, const char *digest, const char *run_id, Exec *out) {
  sqlite3_stmt *st = stmt(w->s,
      "SELECT " EXEC_COLUMNS ", ev.port FROM events ev JOIN executions e ON e.id = ev.execution_id"
      " WHERE ev.artifact = ?1 AND ev.direction = 'output' AND e.status IN ('succeeded', 'cached')"
      " AND NOT EXISTS (SELECT 1 FROM events i WHERE i.execution_id = e.id"
      "   AND i.direction = 'input' AND i.artifact = ?1)"
      " ORDER BY (e.run_id = ?2) DESC, e.cached ASC,"
      " length(e.node) - length(replace(e.node, '/', '')) ASC, e.id ASC");
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, run_id ? run_id : "", -1, SQLITE_TRANSIENT);
  gboolean found = FALSE;
  while (!found && sqlite3_step(st) == SQLITE_ROW) {
    if (on_path(w, sqlite3_column_int64(st, 0)))
      continue;
    exec_read(st, out);
    out->port = col(st, 10);
    found = TRUE;
  }
  sqlite3_reset(st);
  return found;
}

static gboolean exec_by_id(LatheStore *s, gint64 id, Exec *out) {
  sqlite3_stmt *st = stmt(s, "SELECT " EXEC_COLUMNS " FROM executions e WHERE e.id = ?1");
  sqlite3_bind_int64(st, 1, id);
  gboolean found = sqlite3_step(st) == SQLITE_ROW;
  if (found)
    exec_read(st, out);
  sqlite3_reset(st);
  return found;
}

/* The execution that first made a cached one's outputs: its cache entry's. */
static gint64 original_of(LatheStore *s, const Exec *e) {
  if (!e->cached || !e->cache_key)
    return -1;
  sqlite3_stmt *st = stmt(s, "SELECT execution_id FROM cache WHERE key = ?1");
  sqlite3_bind_text(st, 1, e->cache_key, -1, SQLITE_TRANSIENT);
  gint64 id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_reset(st);
  return id;
}

/* The execution inside @e (a tuner: "tune/3/model" in "tune") that made
 * @digest, in @run_id: which trial a tuner's output came from. */
static JsonObject *inner_producer(LatheStore *s, const char *run_id, const char *node,
                                  const char *digest) {
  g_autofree char *prefix = g_strconcat(node, "/", NULL);
  g_autofree char *pattern = lathe_store_like_prefix(prefix);
  sqlite3_stmt *st = stmt(s,
      "SELECT e.node, e.component, e.plugin_digest, e.id FROM events ev"
      " JOIN executions e ON e.id = ev.execution_id"
      " WHERE ev.artifact = ?1 AND ev.direction = 'output' AND e.run_id = ?2"
      " AND e.node LIKE ?3 ESCAPE '\\' AND e.status = 'succeeded' ORDER BY e.id LIMIT 1");
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, run_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, pattern, -1, SQLITE_TRANSIENT);
  JsonObject *o = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    o = json_object_new();
    json_object_set_string_member(o, "run_id", run_id);
    lathe_store_set_text(o, "node", st, 0);
    lathe_store_set_text(o, "component", st, 1);
    lathe_store_set_text(o, "plugin_digest", st, 2);
    json_object_set_int_member(o, "execution", sqlite3_column_int64(st, 3));
  }
  sqlite3_reset(st);
  return o;
}

static void set_str(JsonObject *o, const char *key, const char *value) {
  if (value)
    json_object_set_string_member(o, key, value);
  else
    json_object_set_null_member(o, key);
}

static JsonObject *exec_json(LatheStore *s, const Exec *e, const char *digest) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "id", e->id);
  set_str(o, "run_id", e->run_id);
  set_str(o, "node", e->node);
  set_str(o, "component", e->component);
  set_str(o, "plugin", e->plugin);
  set_str(o, "plugin_version", e->plugin_version);
  set_str(o, "plugin_digest", e->plugin_digest);
  set_str(o, "status", e->status);
  json_object_set_boolean_member(o, "cached", e->cached);
  if (e->port)
    json_object_set_string_member(o, "output", e->port);
  Exec orig = {0};
  gint64 orig_id = original_of(s, e);
  gboolean have_orig = orig_id >= 0 && exec_by_id(s, orig_id, &orig);
  if (have_orig) {
    JsonObject *oo = json_object_new();
    json_object_set_int_member(oo, "execution", orig.id);
    set_str(oo, "run_id", orig.run_id);
    set_str(oo, "node", orig.node);
    json_object_set_object_member(o, "original", oo);
  }
  if (digest) {
    JsonObject *inner = inner_producer(s, e->run_id, e->node, digest);
    if (!inner && have_orig)
      inner = inner_producer(s, orig.run_id, orig.node, digest);
    if (inner)
      json_object_set_object_member(o, "trial", inner);
  }
  exec_clear(&orig);
  return o;
}

static JsonObject *artifact_json(LatheStore *s, const char *digest, const char *port) {
  JsonObject *a = json_object_new();
  json_object_set_string_member(a, "digest", digest);
  sqlite3_stmt *st = stmt(s, "SELECT type FROM artifacts WHERE digest = ?1");
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW)
    lathe_store_set_text(a, "type", st, 0);
  else
    json_object_set_null_member(a, "type");
  sqlite3_reset(st);
  if (port)
    json_object_set_string_member(a, "port", port);
  else
    json_object_set_null_member(a, "port");
  return a;
}

static JsonObject *walk_artifact(Walk *w, const char *digest, const char *port, const char *run_id,
                                 guint depth);

/* Fills @node with what execution @e read: its inputs, each walked, and its
 * data versions. */
static void walk_execution(Walk *w, const Exec *e, JsonObject *node, guint depth) {
  g_autoptr(GPtrArray) ports = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) digests = g_ptr_array_new_with_free_func(g_free);
  /* Read whole before walking: the statements are shared by every level. */
  sqlite3_stmt *st = stmt(w->s, "SELECT port, artifact FROM events WHERE execution_id = ?1"
                                " AND direction = 'input' ORDER BY rowid");
  sqlite3_bind_int64(st, 1, e->id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    g_ptr_array_add(ports, col(st, 0));
    g_ptr_array_add(digests, col(st, 1));
  }
  sqlite3_reset(st);
  JsonArray *dvs = json_array_new();
  st = stmt(w->s, "SELECT uri, digest FROM data_versions WHERE execution_id = ?1 ORDER BY rowid");
  sqlite3_bind_int64(st, 1, e->id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    JsonObject *d = json_object_new();
    lathe_store_set_text(d, "uri", st, 0);
    lathe_store_set_text(d, "digest", st, 1);
    json_array_add_object_element(dvs, d);
  }
  sqlite3_reset(st);

  JsonArray *inputs = json_array_new();
  g_array_append_val(w->path, e->id);
  for (guint i = 0; i < digests->len; i++) {
    if (depth + 1 >= MAX_DEPTH || w->nodes >= MAX_NODES) {
      w->truncated = TRUE;
      break;
    }
    json_array_add_object_element(inputs, walk_artifact(w, digests->pdata[i], ports->pdata[i],
                                                        e->run_id, depth + 1));
  }
  g_array_set_size(w->path, w->path->len - 1);
  json_object_set_array_member(node, "inputs", inputs);
  json_object_set_array_member(node, "data_versions", dvs);
}

static JsonObject *walk_artifact(Walk *w, const char *digest, const char *port, const char *run_id,
                                 guint depth) {
  w->nodes++;
  JsonObject *node = json_object_new();
  json_object_set_object_member(node, "artifact", artifact_json(w->s, digest, port));
  Exec e = {0};
  if (!find_producer(w, digest, run_id, &e)) {
    json_object_set_null_member(node, "execution");
    json_object_set_array_member(node, "inputs", json_array_new());
    json_object_set_array_member(node, "data_versions", json_array_new());
    return node;
  }
  json_object_set_object_member(node, "execution", exec_json(w->s, &e, digest));
  walk_execution(w, &e, node, depth);
  exec_clear(&e);
  return node;
}

static JsonObject *finish(Walk *w, JsonObject *root) {
  json_object_set_boolean_member(root, "truncated", w->truncated);
  g_array_unref(w->path);
  return root;
}

JsonObject *lathe_store_lineage(LatheStore *s, const char *digest, const char *run_id,
                                GError **error) {
  Walk w = {.s = s, .path = g_array_new(FALSE, FALSE, sizeof(gint64))};
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = stmt(s, "SELECT 1 FROM events WHERE artifact = ?1 LIMIT 1");
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
  gboolean known = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_reset(st);
  if (!known) {
    g_mutex_unlock(&s->lock);
    g_array_unref(w.path);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "no execution in %s produced or read artifact %s; is this the store it was "
                "made in (--store)?",
                s->dir, digest);
    return NULL;
  }
  JsonObject *root = walk_artifact(&w, digest, NULL, run_id, 0);
  /* The root's port is the producer's output port. */
  JsonObject *ex = json_object_get_object_member(root, "execution");
  if (ex && json_object_has_member(ex, "output"))
    json_object_set_string_member(json_object_get_object_member(root, "artifact"), "port",
                                  json_object_get_string_member(ex, "output"));
  g_mutex_unlock(&s->lock);
  return finish(&w, root);
}

JsonObject *lathe_store_execution_lineage(LatheStore *s, gint64 exec_id, const char *port,
                                          GError **error) {
  Walk w = {.s = s, .path = g_array_new(FALSE, FALSE, sizeof(gint64))};
  g_mutex_lock(&s->lock);
  Exec e = {0};
  if (!exec_by_id(s, exec_id, &e)) {
    g_mutex_unlock(&s->lock);
    g_array_unref(w.path);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "no execution %" G_GINT64_FORMAT " in %s",
                exec_id, s->dir);
    return NULL;
  }
  JsonArray *outputs = json_array_new();
  char *digest = NULL;
  sqlite3_stmt *st = stmt(s, "SELECT port, artifact FROM events WHERE execution_id = ?1"
                             " AND direction = 'output' ORDER BY rowid");
  sqlite3_bind_int64(st, 1, exec_id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *p = (const char *)sqlite3_column_text(st, 0);
    if (port && g_strcmp0(p, port) == 0 && !digest)
      digest = col(st, 1);
    JsonObject *o = json_object_new();
    lathe_store_set_text(o, "port", st, 0);
    lathe_store_set_text(o, "digest", st, 1);
    json_array_add_object_element(outputs, o);
  }
  sqlite3_reset(st);
  if (port && !digest) {
    GString *have = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(outputs); i++)
      g_string_append_printf(have, "%s%s", i ? ", " : "",
                             json_object_get_string_member(json_array_get_object_element(outputs, i),
                                                           "port"));
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "node '%s' of run %s has no output '%s' (outputs: %s)", e.node, e.run_id, port,
                have->len ? have->str : "none");
    g_string_free(have, TRUE);
    json_array_unref(outputs);
    exec_clear(&e);
    g_mutex_unlock(&s->lock);
    g_array_unref(w.path);
    return NULL;
  }
  JsonObject *root = json_object_new();
  w.nodes++;
  if (digest) {
    e.port = g_strdup(port);
    json_object_set_object_member(root, "artifact", artifact_json(s, digest, port));
  } else {
    json_object_set_null_member(root, "artifact");
  }
  for (guint i = 0; i < json_array_get_length(outputs); i++) {
    JsonObject *o = json_array_get_object_element(outputs, i);
    const char *d = json_object_get_string_member(o, "digest");
    JsonObject *a = artifact_json(s, d, NULL);
    json_object_set_member(o, "type", json_object_dup_member(a, "type"));
    json_object_unref(a);
  }
  json_object_set_array_member(root, "outputs", outputs);
  json_object_set_object_member(root, "execution", exec_json(s, &e, digest));
  walk_execution(&w, &e, root, 0);
  g_free(digest);
  exec_clear(&e);
  g_mutex_unlock(&s->lock);
  return finish(&w, root);
}
