/* The shipper: sends the tracker journal (store-journal.h) to the trackers.
 * During a run it works from a thread of its own, the only caller of the
 * trackers (the ABI promises them one caller at a time); `lathe tracker
 * sync` runs it to the end at once. Rows are read oldest first, so a run's
 * events reach a tracker in the order they happened; acked rows are never
 * read again, and rows whose answer was lost are sent again (log_batch is
 * idempotent by contract). */
#include <math.h>
#include <string.h>

#include "engine/engine-private.h"
#include "catalog/catalog.h"

/* A round reads at most SHIP_ROWS rows and gathers at most about
 * SHIP_POINTS values (a metrics row may carry thousands): enough to fill
 * MLflow-sized batches (1000 metrics) many times over, little enough to
 * hold in memory. */
#define SHIP_ROWS 4096
#define SHIP_POINTS 20000
/* The first round's rows, before their size is known: rows of thousands of
 * points are read a few at a time, rows of one point soon 4096 at once. */
#define SHIP_FIRST_ROWS 4
/* How often the thread looks for new rows, and how long a tracker that
 * answered UNAVAILABLE rests before the next try. */
#define POLL_US (100 * G_TIME_SPAN_MILLISECOND)
#define RETRY_US (2 * G_USEC_PER_SEC)
/* How long a run's end (and its register node) may wait for the trackers,
 * unless LATHE_TRACKER_FLUSH_MS says otherwise. */
#define FLUSH_US (2 * G_USEC_PER_SEC)

typedef struct {
  char *stream;
  char *use;
  LatheComponentInfo *comp;
  const LatheTrackerClass *k;
  JsonObject *with;
  char *base_dir;
  LatheContext *ctx;
  gpointer t;
  gboolean broken;    /* could not be opened for good: its rows stay pending */
  gint64 retry_at;    /* monotonic; 0: now */
  gboolean warned_down, warned_refused;
  gboolean drained;   /* its last round found no pending row */
  gboolean stalled;   /* under the shipper's lock: broken, resting or drained at its last round */
  GHashTable *runs;   /* Lathe run id -> the tracker's run id */
  guint read_rows;    /* how many rows the next round reads (row_budget) */
  struct Ahead *ahead; /* the next round's rows, read while this one ships */
} Session;

struct _LatheShipper {
  LatheStore *store;
  GPtrArray *sessions;
  char *run_id;
  GThread *thread;
  gint64 deadline; /* monotonic: the final flush stops after it (set with stop) */
  GMutex lock;     /* stop, done, deadline and the sessions' contexts */
  GCond cond;
  gboolean stop;   /* the thread makes its final rounds, then sets done */
  gboolean done;
  gboolean hurry;  /* someone waits for a round: no pause before the next */
  guint64 rounds;  /* rounds completed by the thread */
  GCond round_done;
};

char *lathe_tracker_stream_use(const char *stream) {
  const char *hash = strchr(stream, '#');
  return hash ? g_strndup(stream, (gsize)(hash - stream)) : g_strdup(stream);
}

/* The next round's rows, read from a thread of their own while the current
 * round waits for the tracker: the journal's reading and parsing then
 * overlap the server's work instead of adding to it. Used only when the
 * round that started it shipped all its rows (ok). */
typedef struct Ahead {
  GThread *thread;
  LatheStore *store;
  char *stream;
  const char *run_id;
  gint64 after;
  guint limit;
  GPtrArray *rows;
  gboolean ok;
} Ahead;

static gpointer ahead_main(gpointer data) {
  Ahead *a = data;
  a->rows = lathe_store_journal_pending(a->store, a->stream, a->run_id, a->after, a->limit);
  return NULL;
}

static void ahead_start(LatheShipper *sh, Session *s, gint64 after) {
  Ahead *a = g_new0(Ahead, 1);
  a->store = sh->store;
  a->stream = s->stream;
  a->run_id = sh->run_id;
  a->after = after;
  a->limit = s->read_rows;
  a->thread = g_thread_try_new("lathe-tracker-read", ahead_main, a, NULL);
  if (!a->thread) {
    g_free(a);
    return; /* the next round reads for itself */
  }
  s->ahead = a;
}

/* (transfer full) (nullable): the rows read ahead, if the last round shipped all its own. */
static GPtrArray *ahead_take(Session *s) {
  Ahead *a = g_steal_pointer(&s->ahead);
  if (!a)
    return NULL;
  g_thread_join(a->thread);
  GPtrArray *rows = a->rows;
  if (!a->ok)
    g_clear_pointer(&rows, g_ptr_array_unref);
  g_free(a);
  return rows;
}

static void session_free(gpointer p) {
  Session *s = p;
  GPtrArray *unused = ahead_take(s);
  if (unused)
    g_ptr_array_unref(unused);
  if (s->t)
    s->k->close(s->t);
  g_clear_pointer(&s->ctx, lathe_context_free);
  g_clear_pointer(&s->with, json_object_unref);
  g_hash_table_unref(s->runs);
  g_free(s->stream);
  g_free(s->use);
  g_free(s->base_dir);
  g_free(s);
}

LatheShipper *lathe_shipper_new(LatheCatalog *cat, LatheStore *store, const char *const *streams,
                                JsonObject *settings, const char *base_dir, const char *run_id,
                                GStrv *missing) {
  LatheShipper *sh = g_new0(LatheShipper, 1);
  sh->store = store;
  sh->sessions = g_ptr_array_new_with_free_func(session_free);
  sh->run_id = g_strdup(run_id);
  sh->deadline = G_MAXINT64;
  g_mutex_init(&sh->lock);
  g_cond_init(&sh->cond);
  g_cond_init(&sh->round_done);
  g_autoptr(GStrvBuilder) miss = g_strv_builder_new();
  for (guint i = 0; streams && streams[i]; i++) {
    g_autofree char *use = lathe_tracker_stream_use(streams[i]);
    LatheComponentInfo *c = lathe_catalog_lookup(cat, use);
    g_autoptr(GError) e = NULL;
    /* Loading the plugin here, not in the thread: the catalog is not
     * realized from two threads at once. */
    if (!c || c->kind != LATHE_KIND_TRACKER || !lathe_catalog_realize(cat, c, &e)) {
      g_strv_builder_add(miss, streams[i]);
      continue;
    }
    Session *s = g_new0(Session, 1);
    s->stream = g_strdup(streams[i]);
    s->use = g_steal_pointer(&use);
    s->comp = c;
    s->k = c->klass;
    s->runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->read_rows = SHIP_FIRST_ROWS;
    JsonObject *set = settings && json_object_has_member(settings, streams[i])
                          ? json_object_get_object_member(settings, streams[i])
                          : NULL;
    s->base_dir = g_strdup(base_dir);
    if (set) {
      s->with = json_object_ref(json_object_get_object_member(set, "with"));
    } else {
      /* As the last run that used it: {"with", "base_dir"} (tracking.c). */
      g_autofree char *text = lathe_store_tracker_settings(store, streams[i]);
      g_autoptr(JsonNode) n = text ? json_from_string(text, NULL) : NULL;
      JsonObject *rec = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
      JsonNode *w = rec ? json_object_get_member(rec, "with") : NULL;
      if (!s->base_dir && rec && json_object_has_member(rec, "base_dir"))
        s->base_dir = g_strdup(json_object_get_string_member(rec, "base_dir"));
      JsonObject *wo = w && JSON_NODE_HOLDS_OBJECT(w) ? json_node_get_object(w) : NULL;
      g_autoptr(GList) keys = wo ? json_object_get_members(wo) : NULL;
      for (GList *l = keys; l; l = l->next) {
        JsonNode *v = json_object_get_member(wo, l->data);
        if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING &&
            g_str_equal(json_node_get_string(v), LATHE_SECRET_SHOWN))
          json_object_remove_member(wo, l->data); /* a hidden secret: the default */
      }
      g_autoptr(GPtrArray) problems = lathe_problems_new();
      s->with = lathe_params_resolve(c, wo, "/tracker/with", problems, TRUE);
    }
    g_ptr_array_add(sh->sessions, s);
  }
  if (missing)
    *missing = g_strv_builder_end(miss);
  return sh;
}

static gboolean unavailable(const GError *e) {
  return g_error_matches(e, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
}

/* A tracker out of reach: its rows stay pending; said once per shipper. */
static void went_down(Session *s, const GError *e) {
  s->retry_at = g_get_monotonic_time() + RETRY_US;
  if (!s->warned_down)
    g_printerr("warning: %s: %s; its events stay in the run store and ship later "
               "(`lathe tracker sync`)\n", s->stream, e ? e->message : "out of reach");
  s->warned_down = TRUE;
}

static void refused(Session *s, const char *what, const char *run, const GError *e) {
  if (!s->warned_refused)
    g_printerr("warning: %s refused %s of run %s: %s; the run store keeps the values\n",
               s->stream, what, run, e ? e->message : "no reason given");
  s->warned_refused = TRUE;
}

static gboolean session_open(LatheShipper *sh, Session *s) {
  if (s->t)
    return TRUE;
  if (s->broken || g_get_monotonic_time() < s->retry_at)
    return FALSE;
  g_autoptr(GError) e = NULL;
  LatheContext *ctx = lathe_context_new("tracker", s->with, 0, NULL, NULL);
  lathe_context_set_dirs(ctx, s->base_dir, lathe_store_dir(sh->store), NULL);
  g_mutex_lock(&sh->lock); /* finish() may cancel it from another thread */
  s->ctx = ctx;
  g_mutex_unlock(&sh->lock);
  s->t = s->k->open(s->ctx, &e);
  if (s->t)
    return TRUE;
  g_mutex_lock(&sh->lock);
  g_clear_pointer(&s->ctx, lathe_context_free);
  g_mutex_unlock(&sh->lock);
  if (unavailable(e)) {
    went_down(s, e);
  } else {
    s->broken = TRUE;
    g_printerr("warning: %s: %s; its events stay in the run store\n", s->stream,
               e ? e->message : "cannot open");
  }
  return FALSE;
}

/* The tracker's id for a Lathe run: its own (start_run_full) or Lathe's. */
static const char *tracker_run(LatheShipper *sh, Session *s, const char *run) {
  const char *id = g_hash_table_lookup(s->runs, run);
  if (id)
    return id;
  char *mapped = lathe_store_tracker_run(sh->store, run, s->stream);
  if (!mapped)
    return run;
  g_hash_table_insert(s->runs, g_strdup(run), mapped);
  return mapped;
}

/* What a batch of rows of one run amounts to. */
typedef struct {
  GArray *params, *metrics, *tags; /* LatheTrackerItem / LatheTrackerMetric, borrowing payloads */
  GArray *ids;
} Batch;

/* How many values a params, metrics or tags row carries. */
static guint row_values(LatheJournalRow *r) {
  if (g_str_equal(r->kind, LATHE_JOURNAL_METRICS)) {
    JsonArray *pts = json_object_get_array_member(r->payload, "points");
    return pts ? json_array_get_length(pts) : 0;
  }
  JsonObject *its = json_object_get_object_member(r->payload, "items");
  return its ? json_object_get_size(its) : 0;
}

/* The rows the next round reads: about SHIP_POINTS values' worth, by what
 * the rows of this round carried on average. */
static void row_budget(Session *s, guint rows, guint values) {
  guint per_row = rows ? MAX(values / rows, 1) : 1;
  s->read_rows = CLAMP(SHIP_POINTS / per_row, 16, SHIP_ROWS);
}

static void batch_add(Batch *b, LatheJournalRow *r) {
  g_array_append_val(b->ids, r->id);
  if (g_str_equal(r->kind, LATHE_JOURNAL_METRICS)) {
    JsonArray *pts = json_object_get_array_member(r->payload, "points");
    for (guint i = 0; pts && i < json_array_get_length(pts); i++) {
      JsonObject *p = json_array_get_object_element(pts, i);
      LatheTrackerMetric m = {json_object_get_string_member(p, "key"),
                              lathe_journal_number_get(json_object_get_member(p, "value")),
                              json_object_get_int_member(p, "step"),
                              json_object_get_int_member(p, "ts")};
      g_array_append_val(b->metrics, m);
    }
    return;
  }
  JsonObject *its = json_object_get_object_member(r->payload, "items");
  g_autoptr(GList) keys = its ? json_object_get_members(its) : NULL;
  for (GList *l = keys; l; l = l->next) {
    LatheTrackerItem it = {l->data, json_object_get_string_member(its, l->data)};
    g_array_append_val(g_str_equal(r->kind, LATHE_JOURNAL_PARAMS) ? b->params : b->tags, it);
  }
}

/* A batch through log_batch, or item by item for a tracker built before 1.7. */
static gboolean send_batch(Session *s, const char *run, Batch *b, GError **error) {
  if (s->k->log_batch) {
    LatheTrackerBatch lb = {(LatheTrackerItem *)(void *)b->params->data, b->params->len,
                            (LatheTrackerMetric *)(void *)b->metrics->data, b->metrics->len,
                            (LatheTrackerItem *)(void *)b->tags->data, b->tags->len};
    return s->k->log_batch(s->t, run, &lb, error);
  }
  for (guint i = 0; i < b->params->len; i++) {
    LatheTrackerItem *it = &g_array_index(b->params, LatheTrackerItem, i);
    if (!s->k->log_param(s->t, run, it->key, it->value, error))
      return FALSE;
  }
  for (guint i = 0; i < b->metrics->len; i++) {
    LatheTrackerMetric *m = &g_array_index(b->metrics, LatheTrackerMetric, i);
    if (!s->k->log_metric(s->t, run, m->key, m->value, m->step, m->timestamp_ms, error))
      return FALSE;
  }
  for (guint i = 0; i < b->tags->len; i++) {
    LatheTrackerItem *it = &g_array_index(b->tags, LatheTrackerItem, i);
    if (!s->k->set_tag(s->t, run, it->key, it->value, error))
      return FALSE;
  }
  return TRUE;
}

/* One row that is not params, metrics or tags. */
static gboolean send_one(LatheShipper *sh, Session *s, LatheJournalRow *r, GError **error) {
  JsonObject *p = r->payload;
  if (g_str_equal(r->kind, LATHE_JOURNAL_START)) {
    g_autofree char *known = lathe_store_tracker_run(sh->store, r->run_id, s->stream);
    if (known)
      return TRUE; /* started before the answer was recorded as acked */
    const char *name = json_object_get_string_member_with_default(p, "name", NULL);
    const char *parent = json_object_get_string_member_with_default(p, "parent", NULL);
    gint64 start = json_object_get_int_member_with_default(p, "start_ms", 0);
    g_autofree char *own = NULL;
    if (s->k->start_run_full) {
      g_autoptr(GError) e = NULL;
      own = s->k->start_run_full(s->t, r->run_id, name,
                                 parent ? tracker_run(sh, s, parent) : NULL, start, &e);
      if (e) {
        g_propagate_error(error, g_steal_pointer(&e));
        return FALSE;
      }
    } else if (!s->k->start_run(s->t, r->run_id, name, start, error)) {
      return FALSE;
    }
    /* Recorded before the row is acked: a start is never sent twice. */
    g_autoptr(GError) e = NULL;
    if (!lathe_store_set_tracker_run(sh->store, r->run_id, s->stream, own ? own : r->run_id, &e))
      g_printerr("warning: %s: %s\n", s->stream, e->message);
    g_hash_table_replace(s->runs, g_strdup(r->run_id), g_strdup(own ? own : r->run_id));
    return TRUE;
  }
  const char *run = tracker_run(sh, s, r->run_id);
  if (g_str_equal(r->kind, LATHE_JOURNAL_END))
    return s->k->end_run(s->t, run, json_object_get_string_member_with_default(p, "status", "failed"),
                         json_object_get_int_member_with_default(p, "end_ms", 0), error);
  if (g_str_equal(r->kind, LATHE_JOURNAL_INPUTS)) {
    JsonArray *a = json_object_get_array_member(p, "inputs");
    guint n = a ? json_array_get_length(a) : 0;
    g_autofree LatheTrackerInput *ins = g_new0(LatheTrackerInput, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
      JsonObject *o = json_array_get_object_element(a, i);
      ins[i] = (LatheTrackerInput){json_object_get_string_member_with_default(o, "node", ""),
                                   json_object_get_string_member_with_default(o, "uri", ""),
                                   json_object_get_string_member_with_default(o, "digest", "")};
    }
    if (s->k->log_inputs)
      return s->k->log_inputs(s->t, run, ins, n, error);
    /* Before 1.7: the data versions as tags, so people still see them. */
    for (guint i = 0; i < n; i++) {
      g_autofree char *key = g_strdup_printf("lathe.input.%s.%u", ins[i].node, i);
      g_autofree char *val = g_strdup_printf("%s@%s", ins[i].uri, ins[i].digest);
      if (!s->k->set_tag(s->t, run, key, val, error))
        return FALSE;
    }
    return TRUE;
  }
  if (g_str_equal(r->kind, LATHE_JOURNAL_ARTIFACT)) {
    if (!s->k->log_artifact)
      return TRUE; /* a tracker before 1.7 keeps no artifacts */
    const char *path = json_object_get_string_member_with_default(p, "path", "artifact");
    const char *text = json_object_get_string_member_with_default(p, "text", NULL);
    const char *digest = json_object_get_string_member_with_default(p, "digest", NULL);
    g_autofree char *file = digest ? lathe_store_artifact_file(sh->store, digest)
                                   : g_strdup(json_object_get_string_member_with_default(p, "file", NULL));
    g_autoptr(GBytes) bytes = text ? g_bytes_new(text, strlen(text)) : NULL;
    if (!bytes && (!file || !g_file_test(file, G_FILE_TEST_IS_REGULAR))) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "the file of artifact %s is gone", path);
      return FALSE;
    }
    return s->k->log_artifact(s->t, run, path, bytes ? NULL : file, bytes, error);
  }
  return TRUE; /* an unknown kind from a newer Lathe: nothing to do */
}

static gboolean batchable(const char *kind) {
  return g_str_equal(kind, LATHE_JOURNAL_PARAMS) || g_str_equal(kind, LATHE_JOURNAL_METRICS) ||
         g_str_equal(kind, LATHE_JOURNAL_TAGS);
}

/* Marks @ids by the outcome; FALSE when the tracker is out of reach. */
static gboolean settle(LatheShipper *sh, Session *s, const char *what, const char *run,
                       GArray *ids, gboolean ok, GError *e) {
  g_autoptr(GError) me = NULL;
  if (ok) {
    lathe_store_journal_mark(sh->store, (gint64 *)(void *)ids->data, ids->len, "acked", &me);
  } else if (g_error_matches(e, LATHE_ERROR, LATHE_ERROR_CANCELLED)) {
    /* Cut short by finish(): not the tracker's fault, and said by the run's note. */
    lathe_store_journal_mark(sh->store, (gint64 *)(void *)ids->data, ids->len, NULL, &me);
    return FALSE;
  } else if (unavailable(e)) {
    lathe_store_journal_mark(sh->store, (gint64 *)(void *)ids->data, ids->len, NULL, &me);
    went_down(s, e);
    return FALSE;
  } else {
    refused(s, what, run, e);
    lathe_store_journal_mark(sh->store, (gint64 *)(void *)ids->data, ids->len, "refused", &me);
  }
  if (me)
    g_printerr("warning: tracker journal: %s\n", me->message);
  return TRUE;
}

static Batch *batch_new(void) {
  Batch *b = g_new0(Batch, 1);
  b->params = g_array_new(FALSE, FALSE, sizeof(LatheTrackerItem));
  b->metrics = g_array_new(FALSE, FALSE, sizeof(LatheTrackerMetric));
  b->tags = g_array_new(FALSE, FALSE, sizeof(LatheTrackerItem));
  b->ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  return b;
}

static void batch_free(gpointer p) {
  Batch *b = p;
  g_array_unref(b->params);
  g_array_unref(b->metrics);
  g_array_unref(b->tags);
  g_array_unref(b->ids);
  g_free(b);
}

/* Sends what @run has gathered, if anything; FALSE when the tracker is out of reach. */
static gboolean flush_run(LatheShipper *sh, Session *s, GHashTable *open, const char *run) {
  Batch *b = g_hash_table_lookup(open, run);
  if (!b)
    return TRUE;
  /* The journal names a trial's parent by Lathe's id; a tracker with ids of
   * its own (MLflow) needs its own, also when the parent started in an
   * earlier process (a killed run, `lathe tracker sync`). */
  for (guint i = 0; i < b->tags->len; i++) {
    LatheTrackerItem *it = &g_array_index(b->tags, LatheTrackerItem, i);
    if (g_str_equal(it->key, "mlflow.parentRunId") && it->value)
      it->value = tracker_run(sh, s, it->value);
  }
  g_autoptr(GError) e = NULL;
  gboolean ok = send_batch(s, tracker_run(sh, s, run), b, &e);
  gboolean go = settle(sh, s, "values", run, b->ids, ok, e);
  g_hash_table_remove(open, run);
  return go;
}

/* Past @deadline; a background round also stops between calls once the run
 * ends, so that the bounded final rounds take over. */
static gboolean out_of_time(LatheShipper *sh, gint64 deadline, gboolean background) {
  return g_get_monotonic_time() >= deadline || (background && g_atomic_int_get(&sh->stop));
}

/* Ships one round of @s's rows. A run's params, metrics and tags go in one
 * batch up to its next other event (its end, an artifact), so the points of
 * trials running side by side still travel together. Returns TRUE when it
 * sent rows (more may wait). */
static gboolean ship_round(LatheShipper *sh, Session *s, gint64 deadline, gboolean background) {
  /* Resting after a failure, opened or not: each call to a server that is
   * down waits out the HTTP layer's retries. */
  if (out_of_time(sh, deadline, background) || g_get_monotonic_time() < s->retry_at ||
      !session_open(sh, s))
    return FALSE;
  g_autoptr(GPtrArray) rows = ahead_take(s);
  /* Rows read ahead may predate the last events: a short read of them says
   * nothing of what is pending now, so the next round reads afresh. */
  gboolean full = rows != NULL;
  if (rows && !rows->len)
    g_clear_pointer(&rows, g_ptr_array_unref);
  if (!rows) {
    rows = lathe_store_journal_pending(sh->store, s->stream, sh->run_id, 0, s->read_rows);
    full = rows->len == s->read_rows;
  }
  s->drained = !rows->len;
  if (!rows->len)
    return FALSE;
  /* The rows this round takes: about SHIP_POINTS values' worth. */
  guint values = 0, used = 0;
  for (; used < rows->len && values < SHIP_POINTS; used++) {
    LatheJournalRow *r = rows->pdata[used];
    if (batchable(r->kind))
      values += row_values(r);
  }
  full |= used < rows->len;
  row_budget(s, used, values);
  if (full)
    ahead_start(sh, s, ((LatheJournalRow *)rows->pdata[used - 1])->id);
  /* Batches borrow the rows' payloads: freed before the rows. */
  g_autoptr(GHashTable) open = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, batch_free);
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  for (guint i = 0; i < used; i++) {
    if (out_of_time(sh, deadline, background))
      return FALSE; /* what was gathered stays pending */
    LatheJournalRow *r = rows->pdata[i];
    if (batchable(r->kind)) {
      Batch *b = g_hash_table_lookup(open, r->run_id);
      if (!b) {
        b = batch_new();
        g_hash_table_insert(open, r->run_id, b);
        g_ptr_array_add(order, r->run_id);
      }
      batch_add(b, r);
      continue;
    }
    if (!flush_run(sh, s, open, r->run_id))
      return FALSE;
    g_autoptr(GError) e = NULL;
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_array_append_val(ids, r->id);
    gboolean ok = send_one(sh, s, r, &e);
    if (!settle(sh, s, r->kind, r->run_id, ids, ok, e))
      return FALSE;
  }
  for (guint i = 0; i < order->len; i++) {
    if (out_of_time(sh, deadline, background) || !flush_run(sh, s, open, order->pdata[i]))
      return FALSE;
  }
  if (s->ahead)
    s->ahead->ok = TRUE;
  /* More may wait even when the read was short: the store's read is
   * bounded in bytes too. The next round finds out, cheaply. */
  return TRUE;
}

/* The last rounds, one more try each (down or not), until @deadline. */
static void final_rounds(LatheShipper *sh, gint64 deadline) {
  for (guint i = 0; i < sh->sessions->len; i++) {
    Session *s = sh->sessions->pdata[i];
    /* One more try each, unless it failed just now: a server that is down
     * would cost the end of every run a full round of the HTTP layer's
     * retries. One that failed RETRY_US ago or more gets its try. */
    if (!s->warned_down || g_get_monotonic_time() >= s->retry_at)
      s->retry_at = 0;
    while (ship_round(sh, s, deadline, FALSE))
      ;
  }
}

static gpointer ship_main(gpointer data) {
  LatheShipper *sh = data;
  g_mutex_lock(&sh->lock);
  while (!sh->stop) {
    g_mutex_unlock(&sh->lock);
    gboolean more = FALSE;
    for (guint i = 0; i < sh->sessions->len; i++)
      more |= ship_round(sh, sh->sessions->pdata[i], G_MAXINT64, TRUE);
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&sh->lock);
    for (guint i = 0; i < sh->sessions->len; i++) {
      Session *s = sh->sessions->pdata[i];
      s->stalled = s->broken || now < s->retry_at || s->drained;
    }
    sh->rounds++;
    g_cond_broadcast(&sh->round_done);
    if (!more && !sh->stop && !sh->hurry)
      g_cond_wait_until(&sh->cond, &sh->lock, g_get_monotonic_time() + POLL_US);
    sh->hurry = FALSE;
  }
  gint64 deadline = sh->deadline;
  g_mutex_unlock(&sh->lock);
  final_rounds(sh, deadline);
  g_mutex_lock(&sh->lock);
  sh->done = TRUE;
  g_cond_broadcast(&sh->cond);
  g_mutex_unlock(&sh->lock);
  return NULL;
}

void lathe_shipper_start(LatheShipper *sh) {
  if (!sh->sessions->len)
    return;
  g_autoptr(GError) e = NULL;
  sh->thread = g_thread_try_new("lathe-tracker", ship_main, sh, &e);
  if (!sh->thread)
    g_printerr("warning: %s; tracker events ship at the end of the run\n", e->message);
}

void lathe_shipper_kick(LatheShipper *sh) {
  /* Called per journaled event (a task's outcome, a trial's start or end, a
   * write of reports: never per point), so that shipping overlaps the run
   * instead of waiting for its end. */
  g_mutex_lock(&sh->lock);
  sh->hurry = TRUE;
  g_cond_signal(&sh->cond);
  g_mutex_unlock(&sh->lock);
}

/* Which of @run's tracker ids are known, into @ids; TRUE when all are. */
static gboolean known_ids(LatheShipper *sh, const char *run, JsonObject *ids) {
  gboolean all = TRUE;
  for (guint i = 0; i < sh->sessions->len; i++) {
    Session *s = sh->sessions->pdata[i];
    if (json_object_has_member(ids, s->stream))
      continue;
    g_autofree char *id = lathe_store_tracker_run(sh->store, run, s->stream);
    if (id)
      json_object_set_string_member(ids, s->stream, id);
    else
      all = FALSE;
  }
  return all;
}

JsonObject *lathe_shipper_run_ids(LatheShipper *sh, const char *run_id, gint64 budget_us,
                                  GStrv *missing) {
  JsonObject *ids = json_object_new();
  gint64 deadline = g_get_monotonic_time() + MAX(budget_us, 0);
  g_mutex_lock(&sh->lock);
  while (sh->thread && !sh->stop) {
    g_mutex_unlock(&sh->lock);
    gboolean all = known_ids(sh, run_id, ids);
    g_mutex_lock(&sh->lock);
    if (all)
      break;
    /* Only trackers that may still start the run are worth the wait: not
     * one that is out of reach (resting after a failure) or broken, nor
     * one that had nothing left to send, which refused the start. Their
     * state is as of the thread's last round; the run's start was
     * journaled when the run began, before any round that counts here.
     * A tracker whose first call is still out finds out soon enough when
     * its server is down: tracker/mlflow's first contact is one attempt
     * (a refused connection fails at once; a silent server within its 2 s
     * connect bound). */
    gboolean worth = FALSE;
    for (guint i = 0; i < sh->sessions->len && !worth; i++) {
      Session *s = sh->sessions->pdata[i];
      worth = !json_object_has_member(ids, s->stream) && !s->stalled;
    }
    if (!worth || g_get_monotonic_time() >= deadline)
      break;
    guint64 seen = sh->rounds;
    sh->hurry = TRUE;
    g_cond_signal(&sh->cond);
    while (sh->rounds == seen && g_cond_wait_until(&sh->round_done, &sh->lock, deadline))
      ;
  }
  g_mutex_unlock(&sh->lock);
  known_ids(sh, run_id, ids);
  if (missing) {
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    for (guint i = 0; i < sh->sessions->len; i++) {
      Session *s = sh->sessions->pdata[i];
      if (!json_object_has_member(ids, s->stream))
        g_strv_builder_add(b, s->stream);
    }
    *missing = g_strv_builder_end(b);
  }
  return ids;
}

gint64 lathe_tracker_flush_us(void) {
  const char *ms = g_getenv("LATHE_TRACKER_FLUSH_MS");
  guint64 v = ms && *ms ? g_ascii_strtoull(ms, NULL, 10) : 0;
  return v > 0 && v <= 3600 * 1000 ? (gint64)v * 1000 : FLUSH_US;
}

/* The final flush runs in the shipping thread, so that a call still in
 * flight when the budget is spent (a server that accepts and never answers)
 * can be cut short: the trackers' contexts are cancelled, and a tracker that
 * heeds it (tracker/mlflow) stops the call, leaving its events pending. */
gint64 lathe_shipper_finish(LatheShipper *sh, gint64 budget_us) {
  gint64 deadline = budget_us < 0 ? G_MAXINT64 : g_get_monotonic_time() + budget_us;
  if (sh->thread) {
    g_mutex_lock(&sh->lock);
    sh->deadline = deadline;
    g_atomic_int_set(&sh->stop, TRUE);
    g_cond_broadcast(&sh->cond);
    while (!sh->done) {
      if (deadline == G_MAXINT64)
        g_cond_wait(&sh->cond, &sh->lock);
      else if (!g_cond_wait_until(&sh->cond, &sh->lock, deadline))
        break;
    }
    for (guint i = 0; !sh->done && i < sh->sessions->len; i++) {
      Session *s = sh->sessions->pdata[i];
      if (s->ctx)
        lathe_context_cancel(s->ctx);
    }
    g_mutex_unlock(&sh->lock);
    g_thread_join(sh->thread);
    sh->thread = NULL;
  } else {
    final_rounds(sh, deadline);
  }
  gint64 left = 0;
  for (guint i = 0; i < sh->sessions->len; i++) {
    Session *s = sh->sessions->pdata[i];
    left += lathe_store_journal_count_pending(sh->store, s->stream, sh->run_id);
  }
  return left;
}

void lathe_shipper_free(LatheShipper *sh) {
  if (!sh)
    return;
  if (sh->thread)
    lathe_shipper_finish(sh, 0);
  g_ptr_array_unref(sh->sessions);
  g_mutex_clear(&sh->lock);
  g_cond_clear(&sh->cond);
  g_cond_clear(&sh->round_done);
  g_free(sh->run_id);
  g_free(sh);
}
