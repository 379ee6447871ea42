/* serve.c: the models `lathe serve` holds, its endpoints (users' own API,
 * KServe v2, MLflow scoring) and its life (load, listen, drain). Handlers run
 * one at a time on the main loop, so the server state needs no lock; only the
 * reload thread (serve-reload.c) works beside it, on its own copies. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lathe/lathe-context-private.h>

#include "lathe-http-server.h"
#include "serve/serve.h"

const double LATHE_SERVE_BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
G_STATIC_ASSERT(G_N_ELEMENTS(LATHE_SERVE_BUCKETS) == LATHE_SERVE_N_BUCKETS);

LatheServed *lathe_served_ref(LatheServed *s) {
  g_atomic_int_inc(&s->refs);
  return s;
}

void lathe_served_unref(LatheServed *s) {
  if (!s || !g_atomic_int_dec_and_test(&s->refs))
    return;
  g_free(s->name);
  g_free(s->ref);
  if (s->model)
    lathe_artifact_unref(s->model);
  if (s->columns)
    json_array_unref(s->columns);
  if (s->model_columns)
    json_array_unref(s->model_columns);
  if (s->steps)
    g_ptr_array_unref(s->steps);
  if (s->classes)
    json_array_unref(s->classes);
  lathe_serve_drift_free(s->drift);
  g_free(s->class_map);
  g_free(s);
}

static void count_request(LatheServer *sv, const char *model, LatheServeVariant *v, guint status,
                          double seconds) {
  g_autofree char *key = g_strdup_printf("%s\t%s\t%u\t%u", model ? model : "", v ? v->alias : "",
                                         v ? v->served->version : 0, status);
  gpointer old = g_hash_table_lookup(sv->requests, key);
  g_hash_table_replace(sv->requests, g_steal_pointer(&key), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
  if (!v)
    return;
  guint b = 0;
  while (b < LATHE_SERVE_N_BUCKETS && seconds > LATHE_SERVE_BUCKETS[b])
    b++;
  v->lat_counts[b]++;
  v->lat_sum += seconds;
  v->lat_n++;
}

void lathe_serve_reply(LatheHttpExchange *ex, JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  g_string_assign(ex->out, text);
}

/* The body as JSON: 415 for another content type, 400 for an empty or malformed one. */
JsonNode *lathe_serve_body_json(LatheHttpExchange *ex) {
  if (!ex->content_type || g_ascii_strcasecmp(ex->content_type, "application/json") != 0) {
    lathe_http_exchange_error(ex, 415, "%s %s takes Content-Type application/json, got %s",
                              ex->method, ex->path, ex->content_type ? ex->content_type : "none");
    return NULL;
  }
  if (ex->body_len == 0) {
    lathe_http_exchange_error(ex, 400, "%s %s: the body is empty; send a JSON object", ex->method, ex->path);
    return NULL;
  }
  g_autoptr(JsonParser) p = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(p, ex->body, (gssize)ex->body_len, &error)) {
    lathe_http_exchange_error(ex, 400, "%s %s: malformed JSON: %s", ex->method, ex->path, error->message);
    return NULL;
  }
  return json_node_copy(json_parser_get_root(p));
}

typedef enum { OUT_LATHE, OUT_MLFLOW, OUT_V2 } OutFormat;

static void add_answer_ids(JsonBuilder *b, LatheHttpExchange *ex, LatheServeVariant *v) {
  json_builder_set_member_name(b, "variant");
  json_builder_add_string_value(b, v->alias);
  json_builder_set_member_name(b, "request_id");
  json_builder_add_string_value(b, ex->request_id);
}

/* Picks the variant, parses, predicts and answers in @fmt; counts the request
 * against the variant, remembers the answer for /feedback and hands the rows
 * to a shadow. */
static void score_root(LatheServer *sv, LatheServeGroup *g, LatheHttpExchange *ex, OutFormat fmt, JsonNode *root) {
  gint64 t0 = g_get_monotonic_time();
  LatheServeVariant *v = lathe_serve_pick(sv, g, ex, root);
  /* A reload may swap v->served before a shadow job ends: hold this one. */
  LatheServed *s = lathe_served_ref(v->served);
  sv->in_flight++;
  g_autofree char *ver = g_strdup_printf("%u", s->version);
  lathe_http_exchange_set_header(ex, "X-Lathe-Model", s->name);
  lathe_http_exchange_set_header(ex, "X-Lathe-Model-Version", ver);
  lathe_http_exchange_set_header(ex, "X-Lathe-Variant", v->alias);
  lathe_http_exchange_log(ex, "model", s->name);
  lathe_http_exchange_log(ex, "variant", v->alias);
  lathe_http_exchange_log_int(ex, "version", s->version);
  g_autoptr(GError) error = NULL;
  LatheDataset *ds = NULL;
  if (root)
    ds = fmt == OUT_V2 ? lathe_serve_parse_v2(root, s->columns, &error)
                       : lathe_serve_parse(root, s->columns, &error);
  if (root && !ds)
    lathe_http_exchange_error(ex, 400, "%s: %s", ex->path, error->message);
  LatheDataset *raw = ds ? lathe_dataset_ref(ds) : NULL; /* what the shadow replays */
  if (ds && s->steps) {
    LatheDataset *in = lathe_serve_apply_pipeline(s, ds, &error);
    lathe_dataset_unref(ds);
    ds = in;
    if (!ds)
      lathe_http_exchange_error(ex, 400, "%s: the input pipeline of %s version %u refused the rows: %s",
                                ex->path, s->name, s->version, error->message);
  }
  guint k = 0;
  g_autofree float *y = ds ? lathe_catalog_predict(sv->cat, s->model, ds, &k, &error) : NULL;
  if (ds && !y)
    lathe_http_exchange_error(ex, 500, "%s: model %s version %u failed: %s", ex->path, s->name,
                              s->version, error->message);
  g_auto(GStrv) answers = NULL;
  if (y) {
    guint nr = ds->n_rows, nk = s->classes ? json_array_get_length(s->classes) : 0;
    gboolean probs = nk > 0 && k == nk;
    answers = lathe_serve_answers(s, y, nr, k);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    JsonArray *pred = json_array_new();
    for (guint i = 0; i < nr; i++) {
      if (probs)
        json_array_add_string_element(pred, answers[i]);
      else
        json_array_add_double_element(pred, y[(gsize)i * k]);
    }
    if (fmt == OUT_V2) {
      json_builder_set_member_name(b, "model_name");
      json_builder_add_string_value(b, s->name);
      json_builder_set_member_name(b, "model_version");
      json_builder_add_string_value(b, ver);
      json_builder_set_member_name(b, "id");
      json_builder_add_string_value(b, ex->request_id);
      json_builder_set_member_name(b, "parameters");
      json_builder_begin_object(b);
      add_answer_ids(b, ex, v);
      json_builder_end_object(b);
      json_builder_set_member_name(b, "outputs");
      json_builder_begin_array(b);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, "predictions");
      json_builder_set_member_name(b, "datatype");
      json_builder_add_string_value(b, probs ? "BYTES" : "FP32");
      json_builder_set_member_name(b, "shape");
      json_builder_begin_array(b);
      json_builder_add_int_value(b, nr);
      json_builder_end_array(b);
      json_builder_set_member_name(b, "data");
      json_builder_add_value(b, json_node_init_array(json_node_alloc(), pred));
      json_builder_end_object(b);
      if (probs) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, "probabilities");
        json_builder_set_member_name(b, "datatype");
        json_builder_add_string_value(b, "FP32");
        json_builder_set_member_name(b, "shape");
        json_builder_begin_array(b);
        json_builder_add_int_value(b, nr);
        json_builder_add_int_value(b, k);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "data");
        json_builder_begin_array(b);
        for (gsize i = 0; i < (gsize)nr * k; i++)
          json_builder_add_double_value(b, y[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
    } else {
      json_builder_set_member_name(b, "predictions");
      json_builder_add_value(b, json_node_init_array(json_node_alloc(), pred));
      if (fmt == OUT_LATHE) {
        json_builder_set_member_name(b, "model");
        json_builder_add_string_value(b, s->name);
        json_builder_set_member_name(b, "version");
        json_builder_add_int_value(b, s->version);
      }
      add_answer_ids(b, ex, v);
      if (probs) {
        json_builder_set_member_name(b, "classes");
        json_builder_add_value(b, json_node_init_array(json_node_alloc(), json_array_ref(s->classes)));
        json_builder_set_member_name(b, "probabilities");
        json_builder_begin_array(b);
        for (guint i = 0; i < nr; i++) {
          json_builder_begin_array(b);
          for (guint j = 0; j < k; j++)
            json_builder_add_double_value(b, y[(gsize)i * k + j]);
          json_builder_end_array(b);
        }
        json_builder_end_array(b);
      }
    }
    json_builder_end_object(b);
    json_array_unref(pred);
    lathe_serve_reply(ex, b);
  }
  if (answers) {
    lathe_serve_monitor_observe(v, s, ds, y, k);
    lathe_serve_feedback_remember(sv, ex->request_id, v, answers);
    lathe_serve_shadow(sv, g, raw, answers);
  }
  if (ds)
    lathe_dataset_unref(ds);
  if (raw)
    lathe_dataset_unref(raw);
  sv->in_flight--;
  count_request(sv, g->name, v, ex->status, (double)(g_get_monotonic_time() - t0) / 1e6);
  lathe_served_unref(s);
}

static void score(LatheServer *sv, LatheServeGroup *g, LatheHttpExchange *ex, OutFormat fmt) {
  g_autoptr(JsonNode) root = lathe_serve_body_json(ex);
  score_root(sv, g, ex, fmt, root);
}

/* The body's "model" names one of the served models; the first by default. */
static void h_predict(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  g_autoptr(JsonNode) root = lathe_serve_body_json(ex);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *name = o ? json_object_get_string_member_with_default(o, "model", NULL) : NULL;
  LatheServeGroup *g = lathe_serve_find_group(sv, name);
  if (!g) {
    lathe_http_exchange_error(ex, 404, "no model '%s' is served; GET /health lists them", name);
    count_request(sv, NULL, NULL, 404, 0);
    return;
  }
  score_root(sv, g, ex, OUT_LATHE, root);
}

static void h_invocations(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  score(sv, lathe_serve_find_group(sv, NULL), ex, OUT_MLFLOW);
}

/* Every loaded version, one per variant: what the startup line and /health list. */
static void add_models(JsonBuilder *b, LatheServer *sv) {
  json_builder_set_member_name(b, "models");
  json_builder_begin_array(b);
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServed *s = ((LatheServeVariant *)g->variants->pdata[j])->served;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, s->name);
      json_builder_set_member_name(b, "ref");
      json_builder_add_string_value(b, s->ref);
      json_builder_set_member_name(b, "version");
      json_builder_add_int_value(b, s->version);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
}

static void h_health(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "live");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "ready");
  json_builder_add_boolean_value(b, !sv->draining);
  add_models(b, sv);
  lathe_serve_add_routes(b, sv);
  lathe_serve_add_registry(b, sv);
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}

static void h_routes(LatheHttpExchange *ex, gpointer data) {
  lathe_serve_monitor_update(data);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  lathe_serve_add_routes(b, data);
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}

/* Draining, the server is live but not ready: a balancer stops sending. */
static void h_v2_health(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  gboolean live = g_str_has_suffix(ex->path, "/live");
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, live ? "live" : "ready");
  json_builder_add_boolean_value(b, live || !sv->draining);
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}

/* /v2/models/{name}[/ready|/infer] */
static void h_v2_models(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  const char *rest = ex->path + strlen("/v2/models/");
  g_auto(GStrv) parts = g_strsplit(rest, "/", 3);
  const char *what = parts[0] && parts[1] ? parts[1] : "";
  LatheServeGroup *g = parts[0] && *parts[0] ? lathe_serve_find_group(sv, parts[0]) : NULL;
  LatheServed *s = g ? ((LatheServeVariant *)g->variants->pdata[0])->served : NULL;
  gboolean post = g_str_equal(ex->method, "POST");
  if ((parts[0] && parts[1] && parts[2]) || (*what && !g_str_equal(what, "ready") && !g_str_equal(what, "infer"))) {
    lathe_http_exchange_error(ex, 404, "no endpoint %s", ex->path);
    return;
  }
  if (g_str_equal(what, "infer") != post) {
    lathe_http_exchange_error(ex, 405, "%s is not allowed on %s", ex->method, ex->path);
    return;
  }
  if (!s) {
    lathe_http_exchange_error(ex, 404, "no model '%s' is served; GET /health lists them", parts[0] ? parts[0] : "");
    if (post)
      count_request(sv, NULL, NULL, 404, 0);
    return;
  }
  if (post) {
    score(sv, g, ex, OUT_V2);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, s->name);
  if (g_str_equal(what, "ready")) {
    json_builder_set_member_name(b, "ready");
    json_builder_add_boolean_value(b, TRUE);
  } else {
    json_builder_set_member_name(b, "versions");
    json_builder_begin_array(b);
    g_autofree char *v = g_strdup_printf("%u", s->version);
    json_builder_add_string_value(b, v);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "platform");
    json_builder_add_string_value(b, "lathe");
    json_builder_set_member_name(b, "inputs");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, "input");
    json_builder_set_member_name(b, "datatype");
    json_builder_add_string_value(b, "FP32");
    json_builder_set_member_name(b, "shape");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, -1);
    json_builder_add_int_value(b, json_array_get_length(s->columns));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "columns");
    json_builder_add_value(b, json_node_init_array(json_node_alloc(), json_array_ref(s->columns)));
    json_builder_end_object(b);
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}

void lathe_serve_add_variants(JsonBuilder *b, LatheServer *sv, const char *name_key,
                              void (*more)(JsonBuilder *b, LatheServeVariant *v)) {
  json_builder_begin_array(b);
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServeVariant *v = g->variants->pdata[j];
      json_builder_begin_object(b);
      json_builder_set_member_name(b, name_key);
      json_builder_add_string_value(b, g->name);
      json_builder_set_member_name(b, "variant");
      json_builder_add_string_value(b, v->alias);
      json_builder_set_member_name(b, "version");
      json_builder_add_int_value(b, v->served->version);
      if (more)
        more(b, v);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
}

static JsonObject *object_member(JsonObject *o, const char *key) {
  JsonNode *n = o && json_object_has_member(o, key) ? json_object_get_member(o, key) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Fetches NAME@REF and loads it now, so the first request pays nothing.
 * Runs on the main thread at startup and on the reload thread later. */
LatheServed *lathe_served_load(LatheCatalog *cat, LatheRegistry *reg, const char *name, const char *ref,
                               GError **error) {
  gint64 t0 = g_get_monotonic_time();
  LatheServed *s = g_new0(LatheServed, 1);
  s->refs = 1;
  s->name = g_strdup(name);
  s->ref = g_strdup(ref);
  s->model = lathe_registry_fetch(reg, s->name, s->ref, &s->version, error);
  if (!s->model) {
    if (error && !*error)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s@%s: no such model version in the registry; see `lathe models list`", name, ref);
    lathe_served_unref(s);
    return NULL;
  }
  JsonObject *h = lathe_artifact_get_model_header(s->model, error);
  g_autoptr(JsonObject) sig = h ? lathe_registry_signature_from_header(h) : NULL;
  JsonArray *cols = sig && json_object_has_member(sig, "columns") ? json_object_get_array_member(sig, "columns") : NULL;
  if (!cols) {
    if (h)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s@%s: a sequence model; serving takes tabular models only for now", name, ref);
    lathe_served_unref(s);
    return NULL;
  }
  s->model_columns = json_array_ref(cols);
  JsonArray *classes = json_object_has_member(sig, "classes") ? json_object_get_array_member(sig, "classes") : NULL;
  s->classes = classes ? json_array_ref(classes) : NULL; /* a regressor has none */
  /* Load now: a probe of one zero row realises the plugin and caches the instance. */
  g_autoptr(LatheDataset) probe = lathe_dataset_new(1, json_array_get_length(cols));
  guint k = 0;
  g_autofree float *y = lathe_catalog_predict(cat, s->model, probe, &k, error);
  if (!y) {
    lathe_served_unref(s);
    return NULL;
  }
  /* By number: the alias may have moved since the fetch. */
  g_autofree char *number = g_strdup_printf("%u", s->version);
  g_autoptr(JsonObject) ver = lathe_registry_get_version(reg, s->name, number, NULL);
  JsonObject *meta = object_member(ver, "metadata");
  if (!lathe_serve_input_pipeline(s, cat, object_member(meta, "input_pipeline"), error)) {
    g_prefix_error(error, "%s@%s (version %u): ", name, ref, s->version);
    lathe_served_unref(s);
    return NULL;
  }
  lathe_serve_monitor_attach(s, object_member(meta, "reference"));
  s->load_seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
  return s;
}

static gboolean drain_check(gpointer data) {
  LatheServer *sv = data;
  if (lathe_http_server_in_flight(sv->http) == 0 && !sv->reload_waiting)
    g_main_loop_quit(sv->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean drain_over(gpointer data) {
  LatheServer *sv = data;
  sv->drain_sources[1] = 0;
  g_main_loop_quit(sv->loop);
  return G_SOURCE_REMOVE;
}

static gboolean rules_tick(gpointer data) {
  lathe_serve_check_rollback(data);
  return G_SOURCE_CONTINUE;
}

/* SIGTERM: stop accepting, let the exchanges under way finish (bounded), quit. */
static gboolean on_signal(gpointer data) {
  LatheServer *sv = data;
  if (sv->draining)
    return G_SOURCE_CONTINUE;
  sv->draining = TRUE;
  lathe_http_server_stop_accepting(sv->http);
  sv->drain_sources[0] = g_timeout_add(20, drain_check, sv);
  sv->drain_sources[1] = g_timeout_add_seconds(sv->opt->drain_seconds, drain_over, sv);
  return G_SOURCE_CONTINUE;
}

int lathe_serve_run(LatheCatalog *cat, LatheRegistry *reg, char **specs, const LatheServeOptions *opt,
                    GError **error) {
  LatheServer sv = {.cat = cat, .reg = reg, .opt = opt, .registry_ok = TRUE};
  g_mutex_init(&sv.reg_lock);
  sv.groups = g_ptr_array_new_with_free_func(lathe_serve_group_free);
  sv.requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  sv.feedback = lathe_serve_feedback_new(100000);
  int code = 0;
  guint port = 0;
  code = lathe_serve_setup_routes(&sv, specs, error);
  if (!code) {
    sv.http = lathe_http_server_new(opt->max_body);
    lathe_http_server_set_access_log(sv.http, opt->access_log_fd);
    lathe_http_server_set_timeout(sv.http, opt->timeout_ms);
    lathe_http_server_set_max_in_flight(sv.http, opt->max_in_flight);
    /* Tests only: holds each POST so it is still in flight at a signal or reload. */
    const char *delay = g_getenv("LATHE_SERVE_TEST_DELAY_MS");
    if (delay && *delay)
      lathe_http_server_set_test_delay(sv.http, (guint)g_ascii_strtoull(delay, NULL, 10));
    lathe_http_server_route(sv.http, "POST", "/predict", FALSE, h_predict, &sv);
    lathe_http_server_route(sv.http, "POST", "/invocations", FALSE, h_invocations, &sv);
    lathe_http_server_route(sv.http, "POST", "/feedback", FALSE, lathe_serve_h_feedback, &sv);
    lathe_http_server_route(sv.http, "POST", "/reload", FALSE, lathe_serve_h_reload, &sv);
    lathe_http_server_route(sv.http, "GET", "/health", FALSE, h_health, &sv);
    lathe_http_server_route(sv.http, "GET", "/routes", FALSE, h_routes, &sv);
    lathe_http_server_route(sv.http, "GET", "/drift", FALSE, lathe_serve_h_drift, &sv);
    lathe_http_server_route(sv.http, "GET", "/metrics", FALSE, lathe_serve_h_metrics, &sv);
    lathe_http_server_route(sv.http, "GET", "/v2/health/live", FALSE, h_v2_health, &sv);
    lathe_http_server_route(sv.http, "GET", "/v2/health/ready", FALSE, h_v2_health, &sv);
    lathe_http_server_route(sv.http, "GET", "/v2/models/", TRUE, h_v2_models, &sv);
    lathe_http_server_route(sv.http, "POST", "/v2/models/", TRUE, h_v2_models, &sv);
    if (!lathe_http_server_listen(sv.http, opt->bind, opt->port, &port, error))
      code = 1;
  }
  if (!code) {
    const char *host = opt->bind ? opt->bind : "127.0.0.1";
    g_autofree char *url = strchr(host, ':') ? g_strdup_printf("http://[%s]:%u", host, port)
                                             : g_strdup_printf("http://%s:%u", host, port);
    if (opt->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "url");
      json_builder_add_string_value(b, url);
      add_models(b, &sv);
      json_builder_end_object(b);
      g_autoptr(JsonNode) root = json_builder_get_root(b);
      g_autofree char *text = json_to_string(root, FALSE);
      printf("%s\n", text);
    } else {
      printf("serving %u model(s) at %s\n", sv.groups->len, url);
    }
    fflush(stdout);
    sv.loop = g_main_loop_new(NULL, FALSE);
    guint poll = opt->poll_seconds ? g_timeout_add_seconds(opt->poll_seconds, lathe_serve_poll, &sv) : 0;
    /* The rollback rules also run on a timer: latency alone can withdraw a canary. */
    guint rules = g_timeout_add_seconds(1, rules_tick, &sv);
    lathe_http_loop_run(sv.loop, on_signal, &sv);
    g_source_remove(rules);
    if (poll)
      g_source_remove(poll);
    /* A reload or a withdrawal record still running keeps its thread: wait
     * for it so nothing outlives sv. */
    while (sv.reload_waiting || sv.registry_jobs)
      g_main_context_iteration(NULL, TRUE);
    for (guint d = 0; d < G_N_ELEMENTS(sv.drain_sources); d++)
      if (sv.drain_sources[d])
        g_source_remove(sv.drain_sources[d]);
    g_main_loop_unref(sv.loop);
  }
  if (sv.http)
    lathe_http_server_free(sv.http);
  lathe_serve_shadow_clear(&sv);
  g_hash_table_unref(sv.requests);
  g_ptr_array_unref(sv.groups);
  lathe_serve_feedback_free(sv.feedback);
  g_free(sv.registry_error);
  g_mutex_clear(&sv.reg_lock);
  return code;
}
