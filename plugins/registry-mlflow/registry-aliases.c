/* registry-aliases.c: aliases are MLflow's own (registered-models/alias);
 * MLflow keeps no record of where an alias pointed before (mlflow/mlflow
 * #2169), so each move is also written as a registered-model tag
 *   lathe.alias_history.<alias>.<seq>.<nonce> = {"version", "previous",
 *   "time", "user", "reason", "run_id", "figures"}
 * before the alias itself moves. MLflow has no compare-and-set, so two
 * processes moving one alias at once may both write sequence number N; the
 * random nonce keeps both records, and the one naming where the alias ended
 * up sorts last (docs/mlflow-registry.md, "Alias history"). */
#include <string.h>

#include "registry-mlflow-private.h"

typedef struct {
  char *alias;
  guint64 seq;
  char *nonce;
  gint64 time;
  gint64 version;
  gint64 previous; /* 0: none */
  JsonObject *record;
} Move;

static void move_free(gpointer p) {
  Move *m = p;
  g_free(m->alias);
  g_free(m->nonce);
  if (m->record)
    json_object_unref(m->record);
  g_free(m);
}

/* The moves recorded in @model's tags, of @alias or of every alias. */
static GPtrArray *moves_of(JsonObject *model, const char *alias) {
  GPtrArray *out = g_ptr_array_new_with_free_func(move_free);
  JsonArray *tags = lathe_mlflow_member_array(model, "tags");
  for (guint i = 0; tags && i < json_array_get_length(tags); i++) {
    JsonObject *t = json_array_get_object_element(tags, i);
    const char *key = json_object_get_string_member_with_default(t, "key", "");
    if (!g_str_has_prefix(key, RM_HISTORY_PREFIX))
      continue;
    /* <alias>.<seq>.<nonce>: aliases have no dots. */
    g_auto(GStrv) parts = g_strsplit(key + strlen(RM_HISTORY_PREFIX), ".", -1);
    guint64 seq = 0;
    if (g_strv_length(parts) != 3 || (alias && strcmp(parts[0], alias) != 0) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 1, G_MAXUINT64, &seq, NULL))
      continue;
    g_autoptr(JsonParser) p = json_parser_new();
    const char *value = json_object_get_string_member_with_default(t, "value", "");
    if (!json_parser_load_from_data(p, value, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
      continue; /* not ours, or damaged by hand: not a move we can replay */
    Move *m = g_new0(Move, 1);
    m->alias = g_strdup(parts[0]);
    m->seq = seq;
    m->nonce = g_strdup(parts[2]);
    m->record = json_object_ref(json_node_get_object(json_parser_get_root(p)));
    m->time = lathe_mlflow_member_int(m->record, "time");
    m->version = lathe_mlflow_member_int(m->record, "version");
    m->previous = lathe_mlflow_member_int(m->record, "previous");
    g_ptr_array_add(out, m);
  }
  return out;
}

/* Where each alias of @model points now (alias -> version). */
static GHashTable *current_aliases(JsonObject *model) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *al = lathe_mlflow_member_array(model, "aliases");
  for (guint i = 0; al && i < json_array_get_length(al); i++) {
    JsonObject *a = json_array_get_object_element(al, i);
    const char *name = json_object_get_string_member_with_default(a, "alias", NULL);
    if (name)
      g_hash_table_replace(h, g_strdup(name), GINT_TO_POINTER((gint)lathe_mlflow_member_int(a, "version")));
  }
  return h;
}

/* Oldest first: by sequence; two movers that raced to one number, with the
 * one that names where the alias points now (@current) last, then by time. */
static gint move_order(gconstpointer a, gconstpointer b, gpointer current) {
  const Move *x = *(Move *const *)a, *y = *(Move *const *)b;
  if (strcmp(x->alias, y->alias) != 0) /* several aliases: interleave by time */
    return x->time != y->time ? (x->time < y->time ? -1 : 1) : strcmp(x->alias, y->alias);
  if (x->seq != y->seq)
    return x->seq < y->seq ? -1 : 1;
  gint64 now = GPOINTER_TO_INT(g_hash_table_lookup(current, x->alias));
  gboolean xl = x->version == now, yl = y->version == now;
  if (xl != yl)
    return xl ? 1 : -1;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return strcmp(x->nonce, y->nonce);
}

static void sort_moves(GPtrArray *moves, GHashTable *current) {
  g_ptr_array_sort_with_data(moves, move_order, current);
}

static JsonObject *history_object(const char *name, Move *m) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", name);
  json_object_set_string_member(o, "alias", m->alias);
  json_object_set_int_member(o, "version", m->version);
  if (m->previous > 0)
    json_object_set_int_member(o, "previous_version", m->previous);
  else
    json_object_set_null_member(o, "previous_version");
  g_autofree char *at = rm_iso8601(m->time);
  json_object_set_string_member(o, "set_at", at);
  static const char *const extra[] = {"user", "reason", "run_id", NULL};
  for (int i = 0; extra[i]; i++) {
    const char *v = json_object_get_string_member_with_default(m->record, extra[i], NULL);
    if (v)
      json_object_set_string_member(o, extra[i], v);
  }
  /* Records written before ABI 1.8 named the run "run". */
  const char *run = json_object_get_string_member_with_default(m->record, "run", NULL);
  if (run && !json_object_has_member(o, "run_id"))
    json_object_set_string_member(o, "run_id", run);
  JsonNode *figures = json_object_get_member(m->record, "figures");
  if (figures && JSON_NODE_HOLDS_OBJECT(figures))
    json_object_set_member(o, "figures", json_node_copy(figures));
  return o;
}

static Move *outside_move(const char *alias, guint64 seq, gint64 time, gint64 version,
                          gint64 previous) {
  Move *m = g_new0(Move, 1);
  m->alias = g_strdup(alias);
  m->seq = seq;
  m->nonce = g_strdup("");
  m->time = time;
  m->version = version;
  m->previous = previous;
  m->record = json_object_new();
  json_object_set_string_member(m->record, "reason", "moved outside Lathe (no record)");
  return m;
}

/* Makes the history of @alias tell where it points now, so a rollback starts
 * from the truth:
 * - two movers that raced may have landed in the other order than their
 *   sequence numbers say (A read N, B read N+1, A's alias set came last):
 *   then A's move goes last;
 * - a move made outside Lathe (MLflow's UI or client) left no record: it is
 *   added, seen either from where the alias points now or from the
 *   "previous" of the next recorded move. Its time is unknown: the next
 *   record's, or the model's last update, stands for it. */
static void reconcile(GPtrArray *moves, const char *alias, gint64 now_at, gint64 model_time) {
  /* Gaps: a record whose previous is not where the one before it left the
   * alias. Racing movers share their previous: not a gap. */
  for (guint i = 1; i < moves->len; i++) {
    Move *a = moves->pdata[i - 1], *b = moves->pdata[i];
    if (b->previous > 0 && b->previous != a->version && b->previous != a->previous)
      g_ptr_array_insert(moves, (gint)i++,
                         outside_move(alias, b->seq, b->time, b->previous, a->version));
  }
  Move *last = moves->len ? moves->pdata[moves->len - 1] : NULL;
  if (now_at <= 0 || (last && last->version == now_at))
    return;
  for (guint i = moves->len; last && i-- > 0;) {
    Move *m = moves->pdata[i];
    if (m->seq + 1 < last->seq)
      break;
    if (m->version == now_at) {
      g_ptr_array_add(moves, g_ptr_array_steal_index(moves, i));
      return;
    }
  }
  g_ptr_array_add(moves, outside_move(alias, last ? last->seq + 1 : 1, model_time, now_at,
                                      last ? last->version : 0));
}

/* The moves of one alias, oldest first, the last one where it points now. */
static GPtrArray *alias_moves(JsonObject *model, const char *alias, GHashTable *current) {
  GPtrArray *moves = moves_of(model, alias);
  sort_moves(moves, current);
  reconcile(moves, alias, GPOINTER_TO_INT(g_hash_table_lookup(current, alias)),
            lathe_mlflow_member_int(model, "last_updated_timestamp"));
  return moves;
}

static gint by_time(gconstpointer a, gconstpointer b) {
  const Move *x = *(Move *const *)a, *y = *(Move *const *)b;
  return x->time != y->time ? (x->time < y->time ? -1 : 1) : 0;
}

static void append_history(JsonArray *out, JsonObject *model, const char *alias) {
  const char *name = json_object_get_string_member_with_default(model, "name", "");
  g_autoptr(GHashTable) current = current_aliases(model);
  /* Every alias with a record or set now, each reconciled on its own. */
  g_autoptr(GPtrArray) all = moves_of(model, alias);
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < all->len; i++)
    g_hash_table_add(names, ((Move *)all->pdata[i])->alias);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, current);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (!alias || g_str_equal(alias, key))
      g_hash_table_add(names, key);
  g_autoptr(GList) sorted = g_list_sort(g_hash_table_get_keys(names), (GCompareFunc)strcmp);
  g_autoptr(GPtrArray) moves = g_ptr_array_new_with_free_func(move_free);
  for (GList *l = sorted; l; l = l->next) {
    g_autoptr(GPtrArray) one = alias_moves(model, l->data, current);
    while (one->len)
      g_ptr_array_add(moves, g_ptr_array_steal_index(one, 0));
  }
  /* Several aliases: oldest first across them, each alias's order kept. */
  if (!alias && sorted && sorted->next)
    g_ptr_array_sort(moves, by_time); /* glib's sort is stable (merge sort) */
  for (guint i = 0; i < moves->len; i++)
    json_array_add_object_element(out, history_object(name, moves->pdata[i]));
}

JsonArray *rm_alias_history(gpointer registry, const char *name, const char *alias,
                            GError **error) {
  RegMlflow *r = registry;
  if ((name && !rm_check_name(name, error)) || (alias && !rm_check_alias(alias, error)))
    return NULL;
  g_autoptr(JsonArray) out = json_array_new();
  if (name) {
    GError *e = NULL;
    g_autoptr(JsonObject) model = rm_get_model(r, name, &e);
    if (e) {
      g_propagate_error(error, e);
      return NULL;
    }
    if (model)
      append_history(out, model, alias);
    return g_steal_pointer(&out);
  }
  g_autofree char *token = NULL;
  do {
    const char *q[5] = {"max_results", "1000", token ? "page_token" : NULL, token, NULL};
    g_autoptr(JsonObject) ans =
        rm_call(r, "GET", "registered-models/search", NULL, q, NULL, error);
    if (!ans)
      return NULL;
    JsonArray *models = lathe_mlflow_member_array(ans, "registered_models");
    for (guint i = 0; models && i < json_array_get_length(models); i++)
      append_history(out, json_array_get_object_element(models, i), alias);
    g_free(token);
    token = g_strdup(json_object_get_string_member_with_default(ans, "next_page_token", NULL));
  } while (token && *token);
  return g_steal_pointer(&out);
}

static JsonObject *require_model(RegMlflow *r, const char *name, GError **error) {
  GError *e = NULL;
  JsonObject *model = rm_get_model(r, name, &e);
  if (e)
    g_propagate_error(error, e);
  else if (!model)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": no model named '%s' at %s; `lathe models list --registry "
                "registry/mlflow` shows the models",
                name, r->uri);
  return model;
}

/* What an alias change starts with: @name and @alias checked, the model
 * (NULL with @error set when there is none) and its aliases in @current. */
static JsonObject *alias_model(RegMlflow *r, const char *name, const char *alias,
                               GHashTable **current, GError **error) {
  if (!rm_check_name(name, error) || !rm_check_alias(alias, error))
    return NULL;
  JsonObject *model = require_model(r, name, error);
  if (model)
    *current = current_aliases(model);
  return model;
}

/* Why the alias moves, as far as this process can tell. */
static char *move_reason(RegMlflow *r, const char *name, guint version, Move *last,
                         gint64 now_at, char **run) {
  g_mutex_lock(&r->lock);
  gboolean registered = r->last_name && strcmp(r->last_name, name) == 0 &&
                        r->last_version == version;
  *run = registered ? g_strdup(r->last_run) : NULL;
  if (registered) /* the registration's own move is its first one only */
    g_clear_pointer(&r->last_name, g_free);
  g_mutex_unlock(&r->lock);
  if (registered)
    return g_strdup("register");
  /* Back to where it was before its latest move: what `lathe models
   * rollback` does (or the same by hand). */
  if (last && last->version == now_at && last->previous == version)
    return g_strdup("rollback");
  return g_strdup("manual");
}

/* The record of one move: where the alias goes, from where, when, and why
 * (@why's members when the host said, otherwise this process's guess). */
static char *move_record(RegMlflow *r, const char *name, guint version, Move *last,
                         gint64 now_at, JsonObject *why) {
  g_autoptr(JsonObject) rec = json_object_new();
  json_object_set_int_member(rec, "version", version);
  if (now_at > 0)
    json_object_set_int_member(rec, "previous", now_at);
  else
    json_object_set_null_member(rec, "previous");
  json_object_set_int_member(rec, "time", g_get_real_time() / 1000);
  const char *user = why ? json_object_get_string_member_with_default(why, "user", NULL) : NULL;
  json_object_set_string_member(rec, "user", user ? user : g_get_user_name());
  g_autofree char *run = NULL;
  g_autofree char *guess = move_reason(r, name, version, last, now_at, &run);
  const char *reason = why ? json_object_get_string_member_with_default(why, "reason", NULL) : NULL;
  json_object_set_string_member(rec, "reason", reason ? reason : guess);
  const char *run_id = why ? json_object_get_string_member_with_default(why, "run_id", NULL) : NULL;
  if (run_id || run)
    json_object_set_string_member(rec, "run_id", run_id ? run_id : run);
  JsonNode *figures = why ? json_object_get_member(why, "figures") : NULL;
  if (figures && JSON_NODE_HOLDS_OBJECT(figures))
    json_object_set_member(rec, "figures", json_node_copy(figures));
  g_autoptr(JsonNode) recn = json_node_init_object(json_node_alloc(), rec);
  char *value = lathe_json_write(recn, FALSE);
  if (g_utf8_strlen(value, -1) <= RM_TAG_VALUE_MAX)
    return value;
  /* A registered-model tag holds one record whole (its value is read back
   * as one JSON object): figures too long for MLflow's limit are left out,
   * saying so, rather than splitting the record. */
  g_free(value);
  JsonObject *note = json_object_new();
  json_object_set_string_member(note, "omitted", "longer than an MLflow tag value holds");
  json_object_set_object_member(rec, "figures", note);
  return lathe_json_write(recn, FALSE);
}

gboolean rm_set_alias(gpointer registry, const char *name, const char *alias, guint version,
                      GError **error) {
  return rm_set_alias_full(registry, name, alias, version, NULL, error);
}

gboolean rm_set_alias_full(gpointer registry, const char *name, const char *alias,
                           guint version, JsonObject *why, GError **error) {
  RegMlflow *r = registry;
  g_autoptr(GHashTable) current = NULL;
  g_autoptr(JsonObject) model = alias_model(r, name, alias, &current, error);
  if (!model)
    return FALSE;
  gint64 now_at = GPOINTER_TO_INT(g_hash_table_lookup(current, alias));
  /* Pointing an alias where it already points is not a move: no history. */
  if (now_at == (gint64)version)
    return TRUE;
  g_autofree char *vtext = g_strdup_printf("%u", version);
  const char *qv[] = {"name", name, "version", vtext, NULL};
  guint status = 0;
  GError *e = NULL;
  g_autoptr(JsonObject) mv = rm_call(r, "GET", "model-versions/get", NULL, qv, &status, &e);
  if (!mv) {
    if (status == 404) {
      g_clear_error(&e);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  RM_COMPONENT ": model '%s' has no version %u at %s; `lathe models list "
                  "--registry registry/mlflow` shows its versions",
                  name, version, r->uri);
    } else {
      g_propagate_error(error, e);
    }
    return FALSE;
  }
  g_autoptr(GPtrArray) moves = alias_moves(model, alias, current);
  Move *last = moves->len ? moves->pdata[moves->len - 1] : NULL;
  guint64 seq = 0;
  for (guint i = 0; i < moves->len; i++)
    seq = MAX(seq, ((Move *)moves->pdata[i])->seq);
  g_autofree char *value = move_record(r, name, version, last, now_at, why);
  g_autofree char *nonce = g_strdup_printf("%08x", g_random_int());
  g_autofree char *key = g_strdup_printf(RM_HISTORY_PREFIX "%s.%06" G_GUINT64_FORMAT ".%s",
                                         alias, seq + 1, nonce);
  /* The record first: an alias never moves without it. If the move then
   * fails, the record is taken back. */
  g_autoptr(JsonObject) tag = json_object_new();
  json_object_set_string_member(tag, "name", name);
  json_object_set_string_member(tag, "key", key);
  json_object_set_string_member(tag, "value", value);
  g_autoptr(JsonObject) t1 = rm_call(r, "POST", "registered-models/set-tag", tag, NULL, NULL, error);
  if (!t1)
    return FALSE;
  g_autoptr(JsonObject) body = json_object_new();
  json_object_set_string_member(body, "name", name);
  json_object_set_string_member(body, "alias", alias);
  json_object_set_string_member(body, "version", vtext);
  g_autoptr(JsonObject) ok = rm_call(r, "POST", "registered-models/alias", body, NULL, NULL, error);
  if (!ok) {
    g_autoptr(JsonObject) undo = json_object_new();
    json_object_set_string_member(undo, "name", name);
    json_object_set_string_member(undo, "key", key);
    JsonObject *gone = rm_call(r, "DELETE", "registered-models/delete-tag", undo, NULL, NULL, NULL);
    if (gone)
      json_object_unref(gone);
    return FALSE;
  }
  return TRUE;
}

gboolean rm_delete_alias(gpointer registry, const char *name, const char *alias,
                         GError **error) {
  RegMlflow *r = registry;
  g_autoptr(GHashTable) current = NULL;
  g_autoptr(JsonObject) model = alias_model(r, name, alias, &current, error);
  if (!model)
    return FALSE;
  if (!g_hash_table_contains(current, alias)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": model '%s' has no alias '%s' at %s", name, alias, r->uri);
    return FALSE;
  }
  /* The history stays: a later rollback still knows where the alias was. */
  g_autoptr(JsonObject) body = json_object_new();
  json_object_set_string_member(body, "name", name);
  json_object_set_string_member(body, "alias", alias);
  g_autoptr(JsonObject) ok = rm_call(r, "DELETE", "registered-models/alias", body, NULL, NULL, error);
  return ok != NULL;
}
