/* serve.c: the models `lathe serve` holds, its endpoints (users' own API,
 * KServe v2, MLflow scoring) and its Prometheus metrics. Handlers run one at a
 * time on the main loop, so the state below needs no lock. */
#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <lathe/lathe-context-private.h>

#include "lathe-http-server.h"
#include "serve/serve.h"

typedef struct {
  char *name;
  char *ref; /* the alias or version asked for */
  guint version;
  LatheArtifact *model;
  JsonArray *columns; /* the signature's input columns, in order */
  JsonArray *classes;
  double load_seconds;
} Served;

static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define N_BUCKETS G_N_ELEMENTS(BUCKETS)

typedef struct {
  LatheCatalog *cat;
  GPtrArray *models; /* Served* */
  GHashTable *requests; /* "model\tversion\tstatus" -> count (GUINT_TO_POINTER) */
  guint64 lat_counts[N_BUCKETS + 1];
  double lat_sum;
  guint64 lat_n;
  guint in_flight;
  GMainLoop *loop;
} Server;

static void served_free(gpointer p) {
  Served *s = p;
  g_free(s->name);
  g_free(s->ref);
  if (s->model)
    lathe_artifact_unref(s->model);
  if (s->columns)
    json_array_unref(s->columns);
  if (s->classes)
    json_array_unref(s->classes);
  g_free(s);
}

static Served *find_model(Server *sv, const char *name) {
  if (!name)
    return sv->models->len ? sv->models->pdata[0] : NULL;
  for (guint i = 0; i < sv->models->len; i++) {
    Served *s = sv->models->pdata[i];
    if (g_str_equal(s->name, name))
      return s;
  }
  return NULL;
}

static void count_request(Server *sv, Served *s, guint status, double seconds) {
  g_autofree char *key = g_strdup_printf("%s\t%u\t%u", s ? s->name : "", s ? s->version : 0, status);
  gpointer old = g_hash_table_lookup(sv->requests, key);
  g_hash_table_replace(sv->requests, g_steal_pointer(&key), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
  guint b = 0;
  while (b < N_BUCKETS && seconds > BUCKETS[b])
    b++;
  sv->lat_counts[b]++;
  sv->lat_sum += seconds;
  sv->lat_n++;
}

static void reply(LatheHttpExchange *ex, JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  g_string_assign(ex->out, text);
}

/* The body as JSON: 415 for another content type, 400 for an empty or malformed one. */
static JsonNode *body_json(LatheHttpExchange *ex) {
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

/* Parses, predicts and answers in @fmt; counts the request against @s. */
static void score_root(Server *sv, Served *s, LatheHttpExchange *ex, OutFormat fmt, JsonNode *root) {
  gint64 t0 = g_get_monotonic_time();
  sv->in_flight++;
  g_autoptr(GError) error = NULL;
  LatheDataset *ds = NULL;
  if (root)
    ds = fmt == OUT_V2 ? lathe_serve_parse_v2(root, s->columns, &error)
                       : lathe_serve_parse(root, s->columns, &error);
  if (root && !ds)
    lathe_http_exchange_error(ex, 400, "%s: %s", ex->path, error->message);
  guint k = 0;
  g_autofree float *y = ds ? lathe_catalog_predict(sv->cat, s->model, ds, &k, &error) : NULL;
  if (ds && !y)
    lathe_http_exchange_error(ex, 500, "%s: model %s version %u failed: %s", ex->path, s->name,
                              s->version, error->message);
  if (y) {
    guint nr = ds->n_rows, nk = json_array_get_length(s->classes);
    gboolean probs = nk > 0 && k == nk;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    JsonArray *pred = json_array_new();
    for (guint i = 0; i < nr; i++) {
      const float *r = y + (gsize)i * k;
      if (probs) {
        guint best = 0;
        for (guint j = 1; j < k; j++)
          if (r[j] > r[best])
            best = j;
        json_array_add_string_element(pred, json_array_get_string_element(s->classes, best));
      } else {
        json_array_add_double_element(pred, r[0]);
      }
    }
    if (fmt == OUT_V2) {
      json_builder_set_member_name(b, "model_name");
      json_builder_add_string_value(b, s->name);
      json_builder_set_member_name(b, "model_version");
      g_autofree char *v = g_strdup_printf("%u", s->version);
      json_builder_add_string_value(b, v);
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
    reply(ex, b);
  }
  if (ds)
    lathe_dataset_unref(ds);
  sv->in_flight--;
  count_request(sv, s, ex->status, (double)(g_get_monotonic_time() - t0) / 1e6);
}

static void score(Server *sv, Served *s, LatheHttpExchange *ex, OutFormat fmt) {
  g_autoptr(JsonNode) root = body_json(ex);
  score_root(sv, s, ex, fmt, root);
}

/* The body's "model" names one of the served models; the first by default. */
static void h_predict(LatheHttpExchange *ex, gpointer data) {
  Server *sv = data;
  g_autoptr(JsonNode) root = body_json(ex);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *name = o ? json_object_get_string_member_with_default(o, "model", NULL) : NULL;
  Served *s = find_model(sv, name);
  if (!s) {
    lathe_http_exchange_error(ex, 404, "no model '%s' is served; GET /health lists them", name);
    count_request(sv, NULL, 404, 0);
    return;
  }
  score_root(sv, s, ex, OUT_LATHE, root);
}

static void h_invocations(LatheHttpExchange *ex, gpointer data) {
  Server *sv = data;
  score(sv, find_model(sv, NULL), ex, OUT_MLFLOW);
}

static void add_models(JsonBuilder *b, Server *sv) {
  json_builder_set_member_name(b, "models");
  json_builder_begin_array(b);
  for (guint i = 0; i < sv->models->len; i++) {
    Served *s = sv->models->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, s->name);
    json_builder_set_member_name(b, "ref");
    json_builder_add_string_value(b, s->ref);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, s->version);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void h_health(LatheHttpExchange *ex, gpointer data) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "live");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "ready");
  json_builder_add_boolean_value(b, TRUE);
  add_models(b, data);
  json_builder_end_object(b);
  reply(ex, b);
}

static void h_v2_health(LatheHttpExchange *ex, gpointer data) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, g_str_has_suffix(ex->path, "/live") ? "live" : "ready");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_end_object(b);
  reply(ex, b);
}

/* /v2/models/{name}[/ready|/infer] */
static void h_v2_models(LatheHttpExchange *ex, gpointer data) {
  Server *sv = data;
  const char *rest = ex->path + strlen("/v2/models/");
  g_auto(GStrv) parts = g_strsplit(rest, "/", 3);
  const char *what = parts[0] && parts[1] ? parts[1] : "";
  Served *s = parts[0] && *parts[0] ? find_model(sv, parts[0]) : NULL;
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
      count_request(sv, NULL, 404, 0);
    return;
  }
  if (post) {
    score(sv, s, ex, OUT_V2);
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
  reply(ex, b);
}

/* Prometheus label values escape backslash, quote and newline. */
static char *label(const char *v) {
  GString *s = g_string_new(NULL);
  for (const char *p = v; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c(s, '\\');
    if (*p == '\n')
      g_string_append(s, "\\n");
    else
      g_string_append_c(s, *p);
  }
  return g_string_free(s, FALSE);
}

static void h_metrics(LatheHttpExchange *ex, gpointer data) {
  Server *sv = data;
  GString *o = ex->out;
  ex->out_type = "text/plain; version=0.0.4; charset=utf-8";
  g_string_append(o, "# HELP lathe_serve_requests_total Scoring requests by model, version and HTTP status.\n"
                     "# TYPE lathe_serve_requests_total counter\n");
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, sv->requests);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_auto(GStrv) f = g_strsplit(k, "\t", 3);
    g_autofree char *m = label(f[0]);
    g_string_append_printf(o, "lathe_serve_requests_total{model=\"%s\",version=\"%s\",status=\"%s\"} %u\n",
                           m, f[1], f[2], GPOINTER_TO_UINT(v));
  }
  g_string_append(o, "# HELP lathe_serve_request_duration_seconds Time to answer a scoring request.\n"
                     "# TYPE lathe_serve_request_duration_seconds histogram\n");
  guint64 cum = 0;
  for (guint b = 0; b <= N_BUCKETS; b++) {
    cum += sv->lat_counts[b];
    if (b < N_BUCKETS)
      g_string_append_printf(o, "lathe_serve_request_duration_seconds_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                             BUCKETS[b], cum);
    else
      g_string_append_printf(o, "lathe_serve_request_duration_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", cum);
  }
  g_string_append_printf(o, "lathe_serve_request_duration_seconds_sum %.9g\n"
                            "lathe_serve_request_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                         sv->lat_sum, sv->lat_n);
  g_string_append_printf(o, "# HELP lathe_serve_in_flight_requests Scoring requests being answered.\n"
                            "# TYPE lathe_serve_in_flight_requests gauge\n"
                            "lathe_serve_in_flight_requests %u\n", sv->in_flight);
  g_string_append(o, "# HELP lathe_serve_model_load_seconds Time to fetch and load each served model.\n"
                     "# TYPE lathe_serve_model_load_seconds gauge\n");
  for (guint i = 0; i < sv->models->len; i++) {
    Served *s = sv->models->pdata[i];
    g_autofree char *m = label(s->name);
    g_string_append_printf(o, "lathe_serve_model_load_seconds{model=\"%s\",version=\"%u\"} %.9g\n", m,
                           s->version, s->load_seconds);
  }
}

/* Fetches NAME@REF and loads it now, so the first request pays nothing. */
static Served *load_model(Server *sv, LatheRegistry *reg, const char *spec, GError **error) {
  const char *at = strrchr(spec, '@');
  if (!at || at == spec || !at[1]) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "'%s' is not NAME@ALIAS; name a registered model and an alias, e.g. iris@production", spec);
    return NULL;
  }
  gint64 t0 = g_get_monotonic_time();
  Served *s = g_new0(Served, 1);
  s->name = g_strndup(spec, (gsize)(at - spec));
  s->ref = g_strdup(at + 1);
  s->model = lathe_registry_fetch(reg, s->name, s->ref, &s->version, error);
  if (!s->model) {
    if (error && !*error)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: no such model version in the registry; see `lathe models list`", spec);
    served_free(s);
    return NULL;
  }
  JsonObject *h = lathe_artifact_get_model_header(s->model, error);
  g_autoptr(JsonObject) sig = h ? lathe_registry_signature_from_header(h) : NULL;
  JsonArray *cols = sig && json_object_has_member(sig, "columns") ? json_object_get_array_member(sig, "columns") : NULL;
  if (!cols) {
    if (h)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: a sequence model; serving takes tabular models only for now", spec);
    served_free(s);
    return NULL;
  }
  s->columns = json_array_ref(cols);
  s->classes = json_array_ref(json_object_get_array_member(sig, "classes"));
  /* Load now: a probe of one zero row realises the plugin and caches the instance. */
  g_autoptr(LatheDataset) probe = lathe_dataset_new(1, json_array_get_length(cols));
  guint k = 0;
  g_autofree float *y = lathe_catalog_predict(sv->cat, s->model, probe, &k, error);
  if (!y) {
    served_free(s);
    return NULL;
  }
  s->load_seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
  return s;
}

static gboolean on_signal(gpointer data) {
  g_main_loop_quit(((Server *)data)->loop);
  return G_SOURCE_CONTINUE;
}

int lathe_serve_run(LatheCatalog *cat, LatheRegistry *reg, char **specs, const LatheServeOptions *opt,
                    GError **error) {
  Server sv = {.cat = cat};
  sv.models = g_ptr_array_new_with_free_func(served_free);
  sv.requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  int code = 0;
  LatheHttpServer *http = NULL;
  for (char **p = specs; *p && !code; p++) {
    Served *s = load_model(&sv, reg, *p, error);
    if (!s)
      code = 1;
    else if (find_model(&sv, s->name)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: model '%s' is named twice; serve each once",
                  *p, s->name);
      served_free(s);
      code = 2;
    } else {
      g_ptr_array_add(sv.models, s);
    }
  }
  guint port = 0;
  if (!code) {
    http = lathe_http_server_new(opt->max_body);
    lathe_http_server_set_access_log(http, opt->access_log_fd);
    lathe_http_server_set_timeout(http, opt->timeout_ms);
    lathe_http_server_route(http, "POST", "/predict", FALSE, h_predict, &sv);
    lathe_http_server_route(http, "POST", "/invocations", FALSE, h_invocations, &sv);
    lathe_http_server_route(http, "GET", "/health", FALSE, h_health, &sv);
    lathe_http_server_route(http, "GET", "/metrics", FALSE, h_metrics, &sv);
    lathe_http_server_route(http, "GET", "/v2/health/live", FALSE, h_v2_health, &sv);
    lathe_http_server_route(http, "GET", "/v2/health/ready", FALSE, h_v2_health, &sv);
    lathe_http_server_route(http, "GET", "/v2/models/", TRUE, h_v2_models, &sv);
    lathe_http_server_route(http, "POST", "/v2/models/", TRUE, h_v2_models, &sv);
    if (!lathe_http_server_listen(http, opt->bind, opt->port, &port, error))
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
      printf("serving %u model(s) at %s\n", sv.models->len, url);
    }
    fflush(stdout);
    sv.loop = g_main_loop_new(NULL, FALSE);
    guint t = g_unix_signal_add(SIGTERM, on_signal, &sv);
    guint i = g_unix_signal_add(SIGINT, on_signal, &sv);
    g_main_loop_run(sv.loop);
    g_source_remove(t);
    g_source_remove(i);
    g_main_loop_unref(sv.loop);
  }
  if (http)
    lathe_http_server_free(http);
  g_hash_table_unref(sv.requests);
  g_ptr_array_unref(sv.models);
  return code;
}
