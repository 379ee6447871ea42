/* tracker-mlflow.c: the tracker/mlflow component. Runs, params, metrics,
 * tags, inputs and artifacts go to an MLflow tracking server (REST API 2.0,
 * MLflow 2.x and 3.x) configured by MLflow's own variables. The host journals
 * every event and ships it from a thread of its own (ABI 1.7): a callback
 * fails with LATHE_ERROR_UNAVAILABLE when the server is out of reach, and
 * the host sends the event again later; so every call here is safe to repeat. */
#include <string.h>

#include "tracker-mlflow.h"

/* Credentials come from the environment only, as MLflow's client reads
 * them; a pipeline that names one is refused when it is validated. */
static gboolean refuse_secret(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)value;
  const char *var = g_str_equal(spec->name, "token")      ? LATHE_MLFLOW_ENV_TOKEN
                    : g_str_equal(spec->name, "password") ? LATHE_MLFLOW_ENV_PASSWORD
                                                          : LATHE_MLFLOW_ENV_USERNAME;
  *why = g_strdup_printf("tracker/mlflow takes no credentials from the pipeline: remove "
                         "\"%s\" and set %s in the environment, as for MLflow's own client",
                         spec->name, var);
  return FALSE;
}

static const LatheParamSpec tracker_params[] = {
    LATHE_PARAM_STRING_("experiment", "\"\"", 0,
                        "MLflow experiment of the runs; empty means $MLFLOW_EXPERIMENT_NAME, "
                        "else the pipeline's name, else \"Default\""),
    {.name = "token", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_SECRET,
     .doc = "refused: set MLFLOW_TRACKING_TOKEN instead", .check = refuse_secret},
    {.name = "password", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_SECRET,
     .doc = "refused: set MLFLOW_TRACKING_PASSWORD instead", .check = refuse_secret},
    LATHE_PARAM_END,
};

typedef struct {
  char *experiment_id;
  char *artifact_uri;
} TmRunInfo;

static void info_free(gpointer p) {
  TmRunInfo *i = p;
  g_free(i->experiment_id);
  g_free(i->artifact_uri);
  g_free(i);
}

void tm_say_once(TmTracker *t, const char *what, const char *format, ...) {
  if (!g_hash_table_add(t->said, g_strdup(what)))
    return;
  va_list ap;
  va_start(ap, format);
  g_autofree char *text = g_strdup_vprintf(format, ap);
  va_end(ap);
  lathe_context_log(t->ctx, G_LOG_LEVEL_WARNING, "tracker-mlflow: %s", text);
}

void tm_error(GError **error) { lathe_mlflow_error_to_lathe(error, "tracker-mlflow: "); }

const char *tm_run(TmTracker *t, const char *run_id) {
  const char *mapped = g_hash_table_lookup(t->ids, run_id);
  return mapped ? mapped : run_id;
}

static gboolean is_mlflow_id(const char *id) {
  if (strlen(id) != 32)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isxdigit(*p))
      return FALSE;
  return TRUE;
}

/* The host cancels the tracker's context when it will wait no longer (the
 * end of a run's flush budget): the call in flight then stops at once, its
 * events stay pending, rather than holding the run up to the HTTP layer's
 * time budget against a server that does not answer. */
static gpointer watch_main(gpointer data) {
  TmTracker *t = data;
  g_mutex_lock(&t->watch_lock);
  while (!t->closing) {
    if (lathe_context_is_cancelled(t->ctx)) {
      g_cancellable_cancel(lathe_mlflow_get_cancellable(t->m));
      break;
    }
    g_cond_wait_until(&t->watch_cond, &t->watch_lock,
                      g_get_monotonic_time() + 50 * G_TIME_SPAN_MILLISECOND);
  }
  g_mutex_unlock(&t->watch_lock);
  return NULL;
}

static gpointer tracker_open(LatheContext *ctx, GError **error) {
  /* Also here, for a host that does not run the params' checks. */
  for (const LatheParamSpec *s = tracker_params; s->name; s++) {
    g_autofree char *why = NULL;
    if (s->check && lathe_context_param_is_set(ctx, s->name) && !s->check(s, NULL, &why)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "tracker-mlflow: %s", why);
      return NULL;
    }
  }
  LatheMlflow *m = lathe_mlflow_open(NULL, error);
  if (!m) {
    tm_error(error);
    return NULL;
  }
  TmTracker *t = g_new0(TmTracker, 1);
  t->ctx = ctx;
  t->m = m;
  const char *exp = lathe_context_param_string(ctx, "experiment");
  if (!exp || !*exp)
    exp = g_getenv(LATHE_MLFLOW_ENV_EXPERIMENT);
  t->experiment_name = exp && *exp ? g_strdup(exp) : NULL;
  t->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  t->infos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, info_free);
  t->said = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init(&t->watch_lock);
  g_cond_init(&t->watch_cond);
  /* Without it, a call is not cut short: the host then waits for it. */
  t->watch = g_thread_try_new("tracker-mlflow", watch_main, t, NULL);
  return t;
}

static void tracker_close(gpointer tracker) {
  TmTracker *t = tracker;
  if (t->watch) {
    g_mutex_lock(&t->watch_lock);
    t->closing = TRUE;
    g_cond_signal(&t->watch_cond);
    g_mutex_unlock(&t->watch_lock);
    g_thread_join(t->watch);
  }
  g_mutex_clear(&t->watch_lock);
  g_cond_clear(&t->watch_cond);
  lathe_mlflow_free(t->m);
  g_free(t->experiment_name);
  g_free(t->experiment_id);
  g_hash_table_unref(t->ids);
  g_hash_table_unref(t->infos);
  g_hash_table_unref(t->said);
  g_free(t);
}

static JsonObject *member_object(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Remembers @run (a Run message) and returns its id. */
static const char *remember(TmTracker *t, JsonObject *run, const char *lathe_id) {
  JsonObject *info = member_object(run, "info");
  const char *id = lathe_mlflow_member_string(info, "run_id");
  if (!id)
    return NULL;
  TmRunInfo *i = g_new0(TmRunInfo, 1);
  i->experiment_id = g_strdup(lathe_mlflow_member_string(info, "experiment_id"));
  i->artifact_uri = g_strdup(lathe_mlflow_member_string(info, "artifact_uri"));
  g_hash_table_replace(t->infos, g_strdup(id), i);
  if (lathe_id)
    g_hash_table_replace(t->ids, g_strdup(lathe_id), g_strdup(id));
  return id;
}

static gboolean bad_answer(TmTracker *t, const char *endpoint, GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
              "tracker-mlflow: %s answered %s without a run: check that %s points at an "
              "MLflow tracking server",
              lathe_mlflow_get_uri(t->m), endpoint, LATHE_MLFLOW_ENV_URI);
  return FALSE;
}

/* The experiment and artifact location of MLflow run @id. */
static TmRunInfo *run_info(TmTracker *t, const char *id, GError **error) {
  TmRunInfo *i = g_hash_table_lookup(t->infos, id);
  if (i)
    return i;
  g_autoptr(JsonNode) got = lathe_mlflow_get(t->m, "runs/get", error, "run_id", id, NULL);
  if (!got) {
    tm_error(error);
    return NULL;
  }
  if (!remember(t, member_object(json_node_get_object(got), "run"), NULL)) {
    bad_answer(t, "runs/get", error);
    return NULL;
  }
  return g_hash_table_lookup(t->infos, id);
}

/* The first contact: one request, one attempt. A server that is down
 * answers UNAVAILABLE at once instead of after the HTTP layer's retries
 * (seconds), which the host's shipper would wait out at the end of every
 * run; the shipper retries later itself, and the journal keeps the events.
 * Once the server has answered, calls get the retries again. */
static gboolean first_contact(TmTracker *t, const char *name, GError **error) {
  if (t->reached)
    return TRUE;
  LatheHttpOptions opt;
  lathe_mlflow_options_init(&opt);
  opt.max_attempts = 1;
  opt.connect_timeout_ms = MIN(opt.connect_timeout_ms, 2000);
  g_autoptr(LatheMlflow) probe = lathe_mlflow_open(&opt, error);
  if (!probe) {
    tm_error(error);
    return FALSE;
  }
  GError *e = NULL;
  JsonNode *found =
      lathe_mlflow_get(probe, "experiments/get-by-name", &e, "experiment_name", name, NULL);
  if (found)
    json_node_unref(found); /* only whether the server answers matters here */
  if (e) {
    tm_error(&e);
    if (g_error_matches(e, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE)) {
      g_propagate_error(error, e);
      return FALSE;
    }
    g_error_free(e); /* an answer all the same (not found, refused): the lookup says it */
  }
  t->reached = TRUE;
  return TRUE;
}

static const char *experiment(TmTracker *t, const char *pipeline_name, GError **error) {
  if (t->experiment_id)
    return t->experiment_id;
  const char *name = t->experiment_name ? t->experiment_name
                     : pipeline_name && *pipeline_name ? pipeline_name
                                                       : "Default";
  if (!first_contact(t, name, error))
    return NULL;
  t->experiment_id = lathe_mlflow_experiment_ensure(t->m, name, error);
  if (!t->experiment_id)
    tm_error(error);
  return t->experiment_id;
}

/* The run this Lathe run became in an earlier try whose answer was lost, or
 * in an earlier process: runs/create is not idempotent, so every run carries
 * lathe.run_id and is looked up by it before a new one is made. */
static gboolean find_run(TmTracker *t, const char *exp_id, const char *lathe_id, JsonNode **run,
                         GError **error) {
  *run = NULL;
  if (strchr(lathe_id, '\''))
    return TRUE; /* not expressible in MLflow's filter syntax; Lathe's ids never are */
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "experiment_ids");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, exp_id);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "filter");
  g_autofree char *filter = g_strdup_printf("tags.`lathe.run_id` = '%s'", lathe_id);
  json_builder_add_string_value(b, filter);
  json_builder_set_member_name(b, "max_results");
  json_builder_add_int_value(b, 1);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  g_autoptr(JsonNode) found = lathe_mlflow_post(t->m, "runs/search", body, TRUE, error);
  if (!found) {
    tm_error(error);
    return FALSE;
  }
  JsonNode *runs = json_object_get_member(json_node_get_object(found), "runs");
  if (runs && JSON_NODE_HOLDS_ARRAY(runs) && json_array_get_length(json_node_get_array(runs)))
    *run = json_node_copy(json_array_get_element(json_node_get_array(runs), 0));
  return TRUE;
}

static void add_tag(JsonBuilder *b, const char *key, const char *value) {
  if (!value || !*value)
    return;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "key");
  json_builder_add_string_value(b, key);
  json_builder_set_member_name(b, "value");
  json_builder_add_string_value(b, value);
  json_builder_end_object(b);
}

/* The parent's MLflow id: mapped, an MLflow id already, or found by its
 * lathe.run_id tag (a run started by an earlier process). */
static const char *parent_run(TmTracker *t, const char *parent, GError **error) {
  const char *mapped = g_hash_table_lookup(t->ids, parent);
  if (mapped || is_mlflow_id(parent))
    return mapped ? mapped : parent;
  const char *exp = experiment(t, NULL, error);
  if (!exp)
    return NULL;
  g_autoptr(JsonNode) run = NULL;
  if (!find_run(t, exp, parent, &run, error))
    return NULL;
  if (run && remember(t, json_node_get_object(run), parent))
    return g_hash_table_lookup(t->ids, parent);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
              "tracker-mlflow: parent run '%s' was never started in MLflow experiment %s at "
              "%s: start it first",
              parent, exp, lathe_mlflow_get_uri(t->m));
  return NULL;
}

static char *tracker_start_run_full(gpointer tracker, const char *run_id, const char *name,
                                    const char *parent_run_id, gint64 start_ms,
                                    GError **error) {
  TmTracker *t = tracker;
  if (!run_id || !*run_id) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tracker-mlflow: start_run: the run id is missing");
    return NULL;
  }
  const char *known = g_hash_table_lookup(t->ids, run_id);
  if (known)
    return g_strdup(known);
  const char *parent = NULL, *exp = NULL;
  if (parent_run_id && *parent_run_id) {
    if (!(parent = parent_run(t, parent_run_id, error)))
      return NULL;
    /* A trial goes where its study went, even when another process
     * started the study. */
    TmRunInfo *pi = run_info(t, parent, error);
    if (!pi)
      return NULL;
    exp = pi->experiment_id;
  }
  if (!exp && !(exp = experiment(t, name, error)))
    return NULL;
  g_autofree char *exp_id = g_strdup(exp);
  g_autoptr(JsonNode) found = NULL;
  if (!find_run(t, exp_id, run_id, &found, error))
    return NULL;
  if (found) {
    const char *id = remember(t, json_node_get_object(found), run_id);
    if (!id)
      bad_answer(t, "runs/search", error);
    return g_strdup(id);
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "experiment_id");
  json_builder_add_string_value(b, exp_id);
  if (name && *name) {
    json_builder_set_member_name(b, "run_name");
    json_builder_add_string_value(b, name);
  }
  json_builder_set_member_name(b, "start_time");
  json_builder_add_int_value(b, start_ms);
  json_builder_set_member_name(b, "tags");
  json_builder_begin_array(b);
  add_tag(b, "mlflow.runName", name);
  add_tag(b, "mlflow.source.name", lathe_context_pipeline(t->ctx));
  add_tag(b, "mlflow.source.type", "LOCAL"); /* SourceType LOCAL: a CLI run */
  add_tag(b, "mlflow.user", g_get_user_name());
  add_tag(b, "mlflow.parentRunId", parent);
  add_tag(b, "lathe.run_id", run_id);
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  /* runs/create is not idempotent and MLflow has no idempotency key: the
   * HTTP layer must not resend it. A failure that may have been applied (a
   * lost answer, a 5xx) is followed by a search for the run's lathe.run_id,
   * and only a run that is not there is created again. */
  g_autoptr(JsonNode) created = NULL;
  for (guint attempt = 0;; attempt++) {
    GError *e = NULL;
    created = lathe_mlflow_post(t->m, "runs/create", body, FALSE, &e);
    if (created)
      break;
    if (lathe_mlflow_error_code(e) != LATHE_MLFLOW_CODE_UNAVAILABLE || attempt >= 3) {
      g_propagate_error(error, e);
      tm_error(error);
      return NULL;
    }
    g_clear_error(&e);
    g_usleep((200 * G_TIME_SPAN_MILLISECOND) << attempt);
    if (!find_run(t, exp_id, run_id, &found, error))
      return NULL;
    if (found) {
      g_autoptr(JsonObject) o = json_object_new();
      json_object_set_object_member(o, "run", json_object_ref(json_node_get_object(found)));
      created = json_node_init_object(json_node_alloc(), o);
      break;
    }
  }
  const char *id = remember(t, member_object(json_node_get_object(created), "run"), run_id);
  if (!id) {
    bad_answer(t, "runs/create", error);
    return NULL;
  }
  return g_strdup(id);
}

static gboolean tracker_log_batch(gpointer tracker, const char *run_id,
                                  const LatheTrackerBatch *batch, GError **error) {
  TmTracker *t = tracker;
  if (!tm_log_batch(t, tm_run(t, run_id), batch, error)) {
    tm_error(error);
    return FALSE;
  }
  return TRUE;
}

static gboolean tracker_log_inputs(gpointer tracker, const char *run_id,
                                   const LatheTrackerInput *inputs, guint n_inputs,
                                   GError **error) {
  TmTracker *t = tracker;
  if (!n_inputs)
    return TRUE;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "run_id");
  json_builder_add_string_value(b, tm_run(t, run_id));
  json_builder_set_member_name(b, "datasets");
  json_builder_begin_array(b);
  for (guint i = 0; i < n_inputs; i++) {
    const LatheTrackerInput *in = &inputs[i];
    const char *uri = in->uri ? in->uri : "";
    gboolean lakefs = g_str_has_prefix(uri, "lakefs://");
    g_autofree char *base = g_path_get_basename(uri);
    const char *digest = in->digest ? in->digest : "";
    if (g_str_has_prefix(digest, "sha256:"))
      digest = digest + 7;
    /* MLflow keeps 36 characters of a digest: the full one goes in a tag. */
    g_autofree char *short_digest = g_strndup(digest, 36);
    g_autoptr(JsonObject) src = json_object_new();
    json_object_set_string_member(src, "uri", uri);
    g_autoptr(JsonNode) src_node = json_node_init_object(json_node_alloc(), src);
    g_autofree char *source = json_to_string(src_node, FALSE);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tags");
    json_builder_begin_array(b);
    add_tag(b, "lathe.node", in->node);
    add_tag(b, "lathe.digest", strlen(in->digest ? in->digest : "") <= 500 ? in->digest : NULL);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "dataset");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, in->node && *in->node ? in->node : base);
    json_builder_set_member_name(b, "digest");
    json_builder_add_string_value(b, *short_digest ? short_digest : "unknown");
    json_builder_set_member_name(b, "source_type");
    json_builder_add_string_value(b, lakefs ? "lakefs" : "local");
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, source);
    json_builder_end_object(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  /* Idempotent: MLflow keeps one input per dataset (name, digest) and run. */
  g_autoptr(JsonNode) answer = lathe_mlflow_post(t->m, "runs/log-inputs", body, TRUE, error);
  if (!answer) {
    tm_error(error);
    return FALSE;
  }
  return TRUE;
}

static gboolean tracker_log_artifact(gpointer tracker, const char *run_id,
                                     const char *artifact_path, const char *local_path,
                                     GBytes *bytes, GError **error) {
  TmTracker *t = tracker;
  TmRunInfo *i = run_info(t, tm_run(t, run_id), error);
  if (!i)
    return FALSE;
  if (!lathe_mlflow_upload(t->m, i->artifact_uri, artifact_path, local_path, bytes, error)) {
    tm_error(error);
    return FALSE;
  }
  return TRUE;
}

/* The host's run states in MLflow's words. */
static const char *map_status(const char *status) {
  if (g_strcmp0(status, "succeeded") == 0 || g_strcmp0(status, "complete") == 0)
    return "FINISHED";
  if (g_strcmp0(status, "interrupted") == 0 || g_strcmp0(status, "pruned") == 0 ||
      g_strcmp0(status, "cancelled") == 0)
    return "KILLED";
  return "FAILED";
}

static gboolean tracker_end_run(gpointer tracker, const char *run_id, const char *status,
                                gint64 end_ms, GError **error) {
  TmTracker *t = tracker;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "run_id");
  json_builder_add_string_value(b, tm_run(t, run_id));
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, map_status(status));
  json_builder_set_member_name(b, "end_time");
  json_builder_add_int_value(b, end_ms);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  g_autoptr(JsonNode) answer = lathe_mlflow_post(t->m, "runs/update", body, TRUE, error);
  if (!answer) {
    tm_error(error);
    return FALSE;
  }
  return TRUE;
}

/* The per-item callbacks, for a host before 1.7, which calls them on the
 * run's own threads: after the server was out of reach they fail at once for
 * a while (LATHE_MLFLOW_OFFLINE_MS, default 30 s) instead of waiting out the
 * retries for every point. */
static gboolean legacy_offline(TmTracker *t, GError **error) {
  if (g_get_monotonic_time() >= t->offline_until)
    return FALSE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE,
              "tracker-mlflow: %s was out of reach moments ago; not retrying yet",
              lathe_mlflow_get_uri(t->m));
  return TRUE;
}

static gboolean legacy_done(TmTracker *t, gboolean ok, GError *e, GError **error) {
  if (!ok && g_error_matches(e, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE)) {
    const char *v = g_getenv("LATHE_MLFLOW_OFFLINE_MS");
    gint64 ms = v && *v ? g_ascii_strtoll(v, NULL, 10) : 30000;
    t->offline_until = g_get_monotonic_time() + ms * 1000;
  }
  if (e)
    g_propagate_error(error, e);
  return ok;
}

static gboolean legacy_start_run(gpointer tracker, const char *run_id, const char *name,
                                 gint64 start_ms, GError **error) {
  TmTracker *t = tracker;
  if (legacy_offline(t, error))
    return FALSE;
  GError *e = NULL;
  g_autofree char *id = tracker_start_run_full(t, run_id, name, NULL, start_ms, &e);
  return legacy_done(t, id != NULL, e, error);
}

static gboolean legacy_batch(TmTracker *t, const char *run_id, const LatheTrackerBatch *batch,
                             GError **error) {
  if (legacy_offline(t, error))
    return FALSE;
  GError *e = NULL;
  gboolean ok = tracker_log_batch(t, run_id, batch, &e);
  return legacy_done(t, ok, e, error);
}

static gboolean legacy_log_param(gpointer tracker, const char *run_id, const char *key,
                                 const char *value, GError **error) {
  LatheTrackerItem item = {key, value};
  LatheTrackerBatch batch = {.params = &item, .n_params = 1};
  return legacy_batch(tracker, run_id, &batch, error);
}

static gboolean legacy_set_tag(gpointer tracker, const char *run_id, const char *key,
                               const char *value, GError **error) {
  LatheTrackerItem item = {key, value};
  LatheTrackerBatch batch = {.tags = &item, .n_tags = 1};
  return legacy_batch(tracker, run_id, &batch, error);
}

static gboolean legacy_log_metric(gpointer tracker, const char *run_id, const char *key,
                                  double value, gint64 step, gint64 timestamp_ms,
                                  GError **error) {
  LatheTrackerMetric metric = {key, value, step, timestamp_ms};
  LatheTrackerBatch batch = {.metrics = &metric, .n_metrics = 1};
  return legacy_batch(tracker, run_id, &batch, error);
}

static gboolean legacy_end_run(gpointer tracker, const char *run_id, const char *status,
                               gint64 end_ms, GError **error) {
  TmTracker *t = tracker;
  if (legacy_offline(t, error))
    return FALSE;
  GError *e = NULL;
  gboolean ok = tracker_end_run(t, run_id, status, end_ms, &e);
  return legacy_done(t, ok, e, error);
}

static const LatheTrackerClass tracker_mlflow = {
    LATHE_COMPONENT_INIT(LatheTrackerClass, LATHE_KIND_TRACKER, "mlflow",
                         "runs, params, metrics, inputs and artifacts in an MLflow tracking "
                         "server (MLFLOW_TRACKING_URI)",
                         tracker_params, NULL, NULL),
    .open = tracker_open,
    .start_run = legacy_start_run,
    .log_param = legacy_log_param,
    .log_metric = legacy_log_metric,
    .set_tag = legacy_set_tag,
    .end_run = legacy_end_run,
    .close = tracker_close,
    .start_run_full = tracker_start_run_full,
    .log_batch = tracker_log_batch,
    .log_inputs = tracker_log_inputs,
    .log_artifact = tracker_log_artifact,
};

LATHE_PLUGIN_DEFINE("tracker-mlflow", "0.1.0", "MIT",
                    "Experiment tracking in an MLflow tracking server (REST API 2.0)",
                    LATHE_COMPONENT(tracker_mlflow))
