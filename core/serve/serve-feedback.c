/* serve-feedback.c: POST /feedback. The answers of the last requests (a
 * bounded ring keyed by request id) meet the labels users send later; each
 * variant's online accuracy feeds the rollback policy. */
#include <string.h>

#include "serve/serve.h"

/* Requests with more rows are answered but not kept for feedback. */
#define MAX_ROWS_KEPT 64
#define UNKNOWN_IDS_SHOWN 20

/* 100,000 remembered answers are most of a busy server's memory, so an entry
 * is 64 bytes and, for the usual request (one row, a classifier, a UUID for
 * an id), allocates nothing: the id sits inline and the answer is an interned
 * class name (classes are few; they outlive any served version). */
#define ID_INLINE 37 /* a UUID and its NUL */

typedef struct {
  LatheServeVariant *v;
  char *long_id; /* an id too long for id[], else NULL */
  union {
    const char *one; /* !many: the one row's answer */
    char **rows;     /* many: NULL-terminated (interned for a classifier) */
  } answer;
  char id[ID_INLINE];
  guint8 many : 1, classifier : 1, labelled : 1;
} Entry;

G_STATIC_ASSERT(sizeof(Entry) <= 64);

static const char *entry_id(const Entry *e) { return e->long_id ? e->long_id : e->id; }

static guint entry_rows(const Entry *e) { return e->many ? g_strv_length(e->answer.rows) : 1; }

static const char *entry_answer(const Entry *e, guint r) { return e->many ? e->answer.rows[r] : e->answer.one; }

struct _LatheServeFeedback {
  Entry *ring;
  guint cap, next;
  GHashTable *index; /* a set of Entry*, by id (the newest with that id) */
};

static guint entry_hash(gconstpointer p) { return g_str_hash(entry_id(p)); }

static gboolean entry_equal(gconstpointer a, gconstpointer b) {
  return g_str_equal(entry_id(a), entry_id(b));
}

static Entry *entry_find(LatheServeFeedback *f, const char *id) {
  Entry probe = {.long_id = (char *)id};
  return g_hash_table_lookup(f->index, &probe);
}

LatheServeFeedback *lathe_serve_feedback_new(guint capacity) {
  LatheServeFeedback *f = g_new0(LatheServeFeedback, 1);
  f->cap = capacity;
  f->ring = g_new0(Entry, capacity);
  /* A set (keys are the values) keeps no second array of pointers. */
  f->index = g_hash_table_new(entry_hash, entry_equal);
  return f;
}

static void entry_clear(Entry *e) {
  g_free(e->long_id);
  if (e->many && e->classifier)
    g_free(e->answer.rows); /* the names are interned */
  else if (e->many)
    g_strfreev(e->answer.rows);
  memset(e, 0, sizeof *e);
}

void lathe_serve_feedback_free(LatheServeFeedback *f) {
  if (!f)
    return;
  for (guint i = 0; i < f->cap; i++)
    entry_clear(&f->ring[i]);
  g_free(f->ring);
  g_hash_table_unref(f->index);
  g_free(f);
}

void lathe_serve_feedback_remember(LatheServer *sv, const char *request_id, LatheServeVariant *v, char **answers) {
  LatheServeFeedback *f = sv->feedback;
  if (g_strv_length(answers) > MAX_ROWS_KEPT)
    return;
  Entry *e = &f->ring[f->next];
  if ((e->id[0] || e->long_id) && entry_find(f, entry_id(e)) == e)
    g_hash_table_remove(f->index, e);
  entry_clear(e);
  if (strlen(request_id) < ID_INLINE)
    strcpy(e->id, request_id);
  else
    e->long_id = g_strdup(request_id);
  e->v = v;
  e->classifier = v->served->classes && json_array_get_length(v->served->classes) > 0;
  guint n = g_strv_length(answers);
  e->many = n != 1 || !e->classifier;
  if (!e->many) {
    e->answer.one = g_intern_string(answers[0]);
  } else if (e->classifier) {
    e->answer.rows = g_new(char *, n + 1);
    for (guint i = 0; i < n; i++)
      e->answer.rows[i] = (char *)g_intern_string(answers[i]);
    e->answer.rows[n] = NULL;
  } else {
    e->answer.rows = g_strdupv(answers);
  }
  g_hash_table_remove(f->index, e); /* an older entry with this id is forgotten */
  g_hash_table_add(f->index, e);
  f->next = (f->next + 1) % f->cap;
}

/* A label as the answers spell classes; NULL when it is not a scalar. */
static char *label_text(JsonNode *n) {
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return NULL;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  if (t == G_TYPE_INT64)
    return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
  if (t == G_TYPE_DOUBLE)
    return g_strdup_printf("%.9g", json_node_get_double(n));
  if (t == G_TYPE_BOOLEAN)
    return g_strdup(json_node_get_boolean(n) ? "true" : "false");
  return NULL;
}

/* An item's labels, one per row of its request; NULL (with *why) when malformed. */
static char **item_labels(JsonNode *item, const char **id, const char **why) {
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(item) ? json_node_get_object(item) : NULL;
  JsonNode *idn = o ? json_object_get_member(o, "request_id") : NULL;
  JsonNode *ln = o ? json_object_get_member(o, "label") : NULL;
  if (!o || !idn || !JSON_NODE_HOLDS_VALUE(idn) || json_node_get_value_type(idn) != G_TYPE_STRING ||
      !*json_node_get_string(idn)) {
    *why = "needs a string \"request_id\" (the X-Request-Id of the answer)";
    return NULL;
  }
  *id = json_node_get_string(idn);
  GPtrArray *out = g_ptr_array_new();
  if (ln && JSON_NODE_HOLDS_ARRAY(ln)) {
    JsonArray *a = json_node_get_array(ln);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      char *t = label_text(json_array_get_element(a, i));
      if (!t)
        break;
      g_ptr_array_add(out, t);
    }
    if (out->len != json_array_get_length(a) || out->len == 0)
      g_ptr_array_set_size(out, 0);
  } else {
    char *t = label_text(ln);
    if (t)
      g_ptr_array_add(out, t);
  }
  if (out->len == 0) {
    g_ptr_array_free(out, TRUE);
    *why = "needs a \"label\": a class (string or number), or an array with one per row of the request";
    return NULL;
  }
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

void lathe_serve_h_feedback(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  g_autoptr(JsonNode) root = lathe_serve_body_json(ex);
  if (!root)
    return;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonNode *list = o ? json_object_get_member(o, "feedback") : NULL;
  g_autoptr(JsonArray) items = NULL;
  if (list && JSON_NODE_HOLDS_ARRAY(list)) {
    items = json_array_ref(json_node_get_array(list));
  } else if (o && !list) {
    items = json_array_new();
    json_array_add_element(items, json_node_copy(root));
  } else {
    lathe_http_exchange_error(ex, 400, "/feedback: send {\"request_id\": ..., \"label\": ...} or "
                                       "{\"feedback\": [{\"request_id\": ..., \"label\": ...}, ...]}");
    return;
  }
  guint n = json_array_get_length(items);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  /* All or nothing for malformed items: check every one before counting any. */
  for (guint i = 0; i < n; i++) {
    const char *id = NULL, *why = NULL;
    char **l = item_labels(json_array_get_element(items, i), &id, &why);
    if (!l) {
      lathe_http_exchange_error(ex, 400, "/feedback: item %u %s; nothing was recorded", i, why);
      return;
    }
    g_ptr_array_add(labels, l);
    g_ptr_array_add(ids, (gpointer)id);
  }
  guint accepted = 0, unknown = 0, duplicates = 0, mismatched = 0, rows = 0, unscored = 0;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "unknown_ids");
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) {
    Entry *e = entry_find(sv->feedback, ids->pdata[i]);
    char **l = labels->pdata[i];
    if (!e) {
      if (unknown++ < UNKNOWN_IDS_SHOWN)
        json_builder_add_string_value(b, ids->pdata[i]);
    } else if (e->labelled) {
      duplicates++;
    } else if (g_strv_length(l) != entry_rows(e)) {
      mismatched++;
    } else if (!e->classifier) {
      unscored++; /* accuracy needs classes; a regressor's feedback is taken and ignored */
      e->labelled = TRUE;
    } else {
      e->labelled = TRUE;
      accepted++;
      for (guint r = 0; l[r]; r++) {
        e->v->labelled++;
        rows++;
        if (g_str_equal(l[r], entry_answer(e, r)))
          e->v->correct++;
      }
    }
  }
  json_builder_end_array(b);
  struct { const char *k; guint v; } counts[] = {{"accepted", accepted}, {"rows", rows}, {"unknown", unknown},
                                                 {"duplicates", duplicates}, {"mismatched_rows", mismatched},
                                                 {"unscored", unscored}};
  for (guint i = 0; i < G_N_ELEMENTS(counts); i++) {
    json_builder_set_member_name(b, counts[i].k);
    json_builder_add_int_value(b, counts[i].v);
  }
  lathe_serve_check_rollback(sv);
  lathe_serve_add_routes(b, sv);
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}
