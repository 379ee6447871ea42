/* test-tracker-mlflow.c: tracker/mlflow through its ABI against the strict
 * MLflow test server (tests/mlflow), one fresh server per case, checked
 * through the server's control port (/state, /counts) and its own API. */
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "mlflow-fixture.h"

/* ------------------------------------------------------------ the tracker */

static const LatheTrackerClass *klass(const char *dir, const char *id) {
  return (const LatheTrackerClass *)lathe_test_component(dir, id);
}
#define MLF() klass("tracker-mlflow", "tracker/mlflow")

typedef struct {
  LatheContext *ctx;
  gpointer t;
} Session;

static gboolean session_open(Session *se, const char *params, GError **error) {
  se->ctx = lathe_test_context(LATHE_COMPONENT(*MLF()), "tracker", params, 1);
  se->t = MLF()->open(se->ctx, error);
  return se->t != NULL;
}

static void session_close(Session *se) {
  if (se->t)
    MLF()->close(se->t);
  g_clear_pointer(&se->ctx, lathe_context_free);
}

/* Warnings of the plugins ("lathe" domain), kept instead of aborting. */
static GPtrArray *warnings;
static GLogWriterOutput on_log(GLogLevelFlags level, const GLogField *fields, gsize n,
                               gpointer data) {
  const char *domain = NULL, *message = NULL;
  for (gsize i = 0; i < n; i++) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal(fields[i].key, "MESSAGE"))
      message = fields[i].value;
  }
  if (g_strcmp0(domain, "lathe") != 0 || !message || !(level & G_LOG_LEVEL_WARNING))
    return g_log_writer_default(level, fields, n, data);
  g_ptr_array_add(warnings, g_strdup(message));
  return G_LOG_WRITER_HANDLED;
}
static guint warned(const char *needle) {
  guint n = 0;
  for (guint i = 0; i < warnings->len; i++)
    n += strstr(warnings->pdata[i], needle) != NULL;
  return n;
}

static char *start(Session *se, const char *lathe_id, const char *name, const char *parent) {
  g_autoptr(GError) error = NULL;
  char *id = MLF()->start_run_full(se->t, lathe_id, name, parent, 1700000000000, &error);
  g_assert_no_error(error);
  g_assert_nonnull(id);
  g_assert_cmpuint(strlen(id), ==, 32);
  return id;
}

/* A small run as the host records it: the pipeline's tags, two nodes'
 * params, a model's per-epoch loss and final metrics. */
static const LatheTrackerItem run_params[] = {
    {"model.lr", "0.01"}, {"model.layers", "[16,8]"}, {"split.ratio", "0.8"},
    {"model.activation", "relu"}};
static const LatheTrackerItem run_tags[] = {{"lathe.pipeline", "/p/iris.json"},
                                            {"lathe.seed", "42"}};
static const LatheTrackerMetric run_metrics[] = {
    {"model.loss", 0.9, 1, 1700000000100}, {"model.loss", 0.5, 2, 1700000000200},
    {"model.loss", 0.25, 3, 1700000000300}, {"eval.accuracy", 0.9666666666666667, 0, 1700000000400},
    {"eval.f1", 0.95, 0, 1700000000400}};
static const LatheTrackerBatch run_batch = {run_params, G_N_ELEMENTS(run_params), run_metrics,
                                            G_N_ELEMENTS(run_metrics), run_tags,
                                            G_N_ELEMENTS(run_tags)};

/* "params|tags|metrics" of a run, sorted lines, the tracker's system tags
 * left out. */
static int by_text(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *canon_lines(GPtrArray *lines) {
  g_ptr_array_sort(lines, by_text);
  g_ptr_array_add(lines, NULL);
  return g_strjoinv("\n", (char **)lines->pdata);
}

static gboolean system_tag(const char *key) {
  return g_str_has_prefix(key, "mlflow.") || g_str_equal(key, "lathe.run_id");
}

static char *canon_state(JsonObject *run) {
  g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func(g_free);
  JsonObject *p = json_object_get_object_member(run, "params");
  g_autoptr(GList) pk = json_object_get_members(p);
  for (GList *i = pk; i; i = i->next)
    g_ptr_array_add(l, g_strdup_printf("param %s=%s", (char *)i->data,
                                       json_object_get_string_member(p, i->data)));
  JsonObject *t = json_object_get_object_member(run, "tags");
  g_autoptr(GList) tk = json_object_get_members(t);
  for (GList *i = tk; i; i = i->next)
    if (!system_tag(i->data))
      g_ptr_array_add(l, g_strdup_printf("tag %s=%s", (char *)i->data,
                                         json_object_get_string_member(t, i->data)));
  JsonArray *m = json_object_get_array_member(run, "metrics");
  for (guint i = 0; i < json_array_get_length(m); i++) {
    JsonObject *x = json_array_get_object_element(m, i);
    g_ptr_array_add(l, g_strdup_printf("metric %s step %" G_GINT64_FORMAT " at %" G_GINT64_FORMAT
                                       " = %.17g",
                                       json_object_get_string_member(x, "key"),
                                       json_object_get_int_member(x, "step"),
                                       json_object_get_int_member(x, "timestamp"),
                                       json_object_get_double_member(x, "value")));
  }
  return canon_lines(l);
}

static char *canon_sqlite(const char *path, const char *run) {
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func(g_free);
  const char *sql[] = {"SELECT 'param', key, value, 0, 0 FROM params WHERE run_uuid = ?1",
                       "SELECT 'tag', key, value, 0, 0 FROM tags WHERE run_uuid = ?1",
                       "SELECT 'metric', key, value, step, timestamp FROM metrics WHERE run_uuid = ?1"};
  for (guint q = 0; q < G_N_ELEMENTS(sql); q++) {
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), ==, SQLITE_OK);
    sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *key = (const char *)sqlite3_column_text(st, 1);
      if (q == 2)
        g_ptr_array_add(l, g_strdup_printf("metric %s step %lld at %lld = %.17g", key,
                                           sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
                                           sqlite3_column_double(st, 2)));
      else
        g_ptr_array_add(l, g_strdup_printf("%s %s=%s", q ? "tag" : "param", key,
                                           (const char *)sqlite3_column_text(st, 2)));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return canon_lines(l);
}

/* ------------------------------------------------------------ the cases */

/* The same run through tracker/sqlite's per-item callbacks, and through
 * tracker/mlflow's batch and (a 1.6 host) per-item ones: the same params,
 * metrics and tags; MLflow adds only its system tags. */
static void test_same_as_sqlite(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  /* tracker/sqlite */
  g_autofree char *dir = g_dir_make_tmp("lathe-tmlf-sq-XXXXXX", &error);
  g_autofree char *db = g_build_filename(dir, "tracking.db", NULL);
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", db);
  const LatheTrackerClass *sq = klass("tracker-sqlite", "tracker/sqlite");
  LatheContext *sctx = lathe_test_context(LATHE_COMPONENT(*sq), "tracker", params, 1);
  gpointer st = sq->open(sctx, &error);
  g_assert_no_error(error);
  g_assert_true(sq->start_run(st, "r1", "iris", 1700000000000, &error));
  for (guint i = 0; i < run_batch.n_tags; i++)
    g_assert_true(sq->set_tag(st, "r1", run_tags[i].key, run_tags[i].value, &error));
  for (guint i = 0; i < run_batch.n_params; i++)
    g_assert_true(sq->log_param(st, "r1", run_params[i].key, run_params[i].value, &error));
  for (guint i = 0; i < run_batch.n_metrics; i++)
    g_assert_true(sq->log_metric(st, "r1", run_metrics[i].key, run_metrics[i].value,
                                 run_metrics[i].step, run_metrics[i].timestamp_ms, &error));
  g_assert_true(sq->end_run(st, "r1", "succeeded", 1700000001000, &error));
  g_assert_no_error(error);
  sq->close(st);
  lathe_context_free(sctx);
  g_autofree char *want = canon_sqlite(db, "r1");
  lathe_test_remove_tree(dir);

  /* tracker/mlflow, ABI 1.7 */
  Session se = {0};
  g_assert_true(session_open(&se, NULL, &error));
  g_autofree char *id = start(&se, "r1", "iris", NULL);
  g_assert_true(MLF()->log_batch(se.t, id, &run_batch, &error));
  g_assert_true(MLF()->end_run(se.t, id, "succeeded", 1700000001000, &error));
  g_assert_no_error(error);
  /* tracker/mlflow, per item, as a 1.6 host calls it with Lathe's id */
  g_assert_true(MLF()->start_run(se.t, "r2", "iris", 1700000000000, &error));
  for (guint i = 0; i < run_batch.n_tags; i++)
    g_assert_true(MLF()->set_tag(se.t, "r2", run_tags[i].key, run_tags[i].value, &error));
  for (guint i = 0; i < run_batch.n_params; i++)
    g_assert_true(MLF()->log_param(se.t, "r2", run_params[i].key, run_params[i].value, &error));
  for (guint i = 0; i < run_batch.n_metrics; i++)
    g_assert_true(MLF()->log_metric(se.t, "r2", run_metrics[i].key, run_metrics[i].value,
                                    run_metrics[i].step, run_metrics[i].timestamp_ms, &error));
  g_assert_true(MLF()->end_run(se.t, "r2", "failed", 1700000001000, &error));
  g_assert_no_error(error);
  g_autofree char *id2 = MLF()->start_run_full(se.t, "r2", "iris", NULL, 0, &error);
  g_assert_no_error(error);
  session_close(&se);

  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  g_autofree char *got = canon_state(run);
  g_assert_cmpstr(got, ==, want);
  g_assert_cmpstr(json_object_get_string_member(run, "status"), ==, "FINISHED");
  g_assert_cmpint(json_object_get_int_member(run, "end_time"), ==, 1700000001000);
  g_assert_cmpstr(mlfx_tag(run, "mlflow.runName"), ==, "iris");
  g_assert_cmpstr(mlfx_tag(run, "mlflow.source.type"), ==, "LOCAL");
  g_assert_cmpstr(mlfx_tag(run, "mlflow.source.name"), ==, "/p/iris.json");
  g_assert_cmpstr(mlfx_tag(run, "mlflow.user"), ==, g_get_user_name());
  g_assert_cmpstr(mlfx_tag(run, "lathe.run_id"), ==, "r1");
  g_autoptr(JsonObject) run2 = mlfx_state_run(srv, id2);
  g_autofree char *got2 = canon_state(run2);
  g_assert_cmpstr(got2, ==, want);
  g_assert_cmpstr(json_object_get_string_member(run2, "status"), ==, "FAILED");
  /* The experiment is the pipeline's name when nothing else is set. */
  g_autoptr(JsonNode) st2 = mlfx_ctl(srv, "GET", "/state", NULL);
  JsonObject *exps = json_object_get_object_member(
      json_object_get_object_member(json_node_get_object(st2), "tracking"), "experiments");
  JsonObject *exp = json_object_get_object_member(
      exps, json_object_get_string_member(run, "experiment_id"));
  g_assert_cmpstr(json_object_get_string_member(exp, "name"), ==, "iris");
  mlfx_stop(srv);
}

/* MLflow's limits: 1000 metrics a request, 100 params, 1 MB. */
static void test_split(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"split\"}", &error));
  g_autofree char *id = start(&se, "r1", "split", NULL);
  g_autofree LatheTrackerMetric *m = g_new0(LatheTrackerMetric, 1001);
  for (guint i = 0; i < 1001; i++)
    m[i] = (LatheTrackerMetric){"loss", 1.0 / (i + 1), i, 1700000000000 + i};
  LatheTrackerBatch b = {.metrics = m, .n_metrics = 1001};
  g_assert_true(MLF()->log_batch(se.t, id, &b, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "logBatch"), ==, 2);
  /* 101 params: 2 requests. */
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
  LatheTrackerItem p[101];
  for (guint i = 0; i < 101; i++) {
    char *k = g_strdup_printf("p%03u", i);
    g_ptr_array_add(keep, k);
    p[i] = (LatheTrackerItem){k, "v"};
  }
  LatheTrackerBatch pb = {.params = p, .n_params = 101};
  g_assert_true(MLF()->log_batch(se.t, id, &pb, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "logBatch"), ==, 4);
  /* 100 params of 6000 '"' (12000 bytes of JSON each): over 1 MB, 2 requests
   * that the server, which refuses a body over 1,000,000 bytes, accepts. */
  g_autofree char *quotes = g_strnfill(6000, '"');
  LatheTrackerItem q[100];
  for (guint i = 0; i < 100; i++) {
    char *k = g_strdup_printf("q%03u", i);
    g_ptr_array_add(keep, k);
    q[i] = (LatheTrackerItem){k, quotes};
  }
  LatheTrackerBatch qb = {.params = q, .n_params = 100};
  g_assert_true(MLF()->log_batch(se.t, id, &qb, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "logBatch"), ==, 6);
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(run, "metrics")), ==, 1001);
  g_assert_cmpuint(json_object_get_size(json_object_get_object_member(run, "params")), ==, 201);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(run, "params"), "q099"),
                  ==, quotes);
  session_close(&se);
  mlfx_stop(srv);
}

/* Applied, then the answer lost: the HTTP layer resends log-batch, and the
 * host may send the whole batch again; nothing is doubled. A lost answer to
 * runs/create is never blindly resent: the run is found by lathe.run_id. */
static void test_drop_after(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"drop\"}", &error));
  /* experiments/create applied, its answer lost: the resend meets
   * RESOURCE_ALREADY_EXISTS, as another client's race would, and the
   * experiment is looked up again. */
  mlfx_fault(srv, "{\"kind\": \"drop_after\", \"match\": \"createExperiment\"}");
  mlfx_fault(srv, "{\"kind\": \"drop_after\", \"match\": \"createRun\"}");
  g_autofree char *id = start(&se, "r1", "drop", NULL);
  g_assert_cmpint(mlfx_count(srv, "createRun"), ==, 1);
  g_assert_cmpuint(mlfx_state_runs(srv), ==, 1);
  g_assert_cmpint(mlfx_count(srv, "createExperiment"), ==, 2);
  /* The first contact's lookup (one attempt), the lookup, then again. */
  g_assert_cmpint(mlfx_count(srv, "getExperimentByName"), ==, 3);
  mlfx_fault(srv, "{\"kind\": \"drop_after\", \"match\": \"logBatch\"}");
  g_assert_true(MLF()->log_batch(se.t, id, &run_batch, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "logBatch"), ==, 2);
  g_assert_true(MLF()->log_batch(se.t, id, &run_batch, &error)); /* the host's resend */
  g_assert_no_error(error);
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(run, "metrics")), ==,
                   G_N_ELEMENTS(run_metrics));
  g_assert_cmpuint(json_object_get_size(json_object_get_object_member(run, "params")), ==,
                   G_N_ELEMENTS(run_params));
  session_close(&se);
  /* A later process (lathe tracker sync) resends the start: the same run. */
  Session se2 = {0};
  g_assert_true(session_open(&se2, "{\"experiment\": \"drop\"}", &error));
  g_autofree char *again = start(&se2, "r1", "drop", NULL);
  g_assert_cmpstr(again, ==, id);
  g_assert_cmpuint(mlfx_state_runs(srv), ==, 1);
  session_close(&se2);
  mlfx_stop(srv);
}

static void test_retry_503(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"retry\"}", &error));
  g_autofree char *id = start(&se, "r1", "retry", NULL);
  mlfx_fault(srv, "{\"kind\": \"fail\", \"status\": 503, \"count\": 3, \"match\": \"logBatch\"}");
  g_assert_true(MLF()->log_batch(se.t, id, &run_batch, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "logBatch"), ==, 4);
  mlfx_fault(srv, "{\"kind\": \"fail\", \"status\": 429, \"retry_after\": 1, \"match\": \"updateRun\"}");
  g_assert_true(MLF()->end_run(se.t, id, "succeeded", 1700000001000, &error));
  g_assert_no_error(error);
  g_assert_cmpint(mlfx_count(srv, "updateRun"), ==, 2);
  /* 503 on runs/create: looked up, then created once. */
  mlfx_fault(srv, "{\"kind\": \"fail\", \"status\": 503, \"count\": 2, \"match\": \"createRun\"}");
  g_autofree char *id2 = start(&se, "r2", "retry", NULL);
  g_assert_cmpuint(mlfx_state_runs(srv), ==, 2);
  g_assert_cmpint(mlfx_count(srv, "createRun"), ==, 4);
  g_autoptr(JsonObject) run2 = mlfx_state_run(srv, id2);
  g_assert_cmpstr(mlfx_tag(run2, "lathe.run_id"), ==, "r2");
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(run, "metrics")), ==,
                   G_N_ELEMENTS(run_metrics));
  session_close(&se);
  mlfx_stop(srv);
}

/* A server down: UNAVAILABLE (stays pending) within the short budget, in
 * both outage modes; then it comes back and the same batch lands. */
static void test_outage(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"outage\"}", &error));
  g_autofree char *id = start(&se, "r1", "outage", NULL);
  const char *modes[] = {"{\"seconds\": 30, \"mode\": \"refuse\"}",
                         "{\"seconds\": 30, \"mode\": \"close\"}"};
  for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
    json_node_unref(mlfx_ctl(srv, "POST", "/down", modes[i]));
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(MLF()->log_batch(se.t, id, &run_batch, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 6 * G_USEC_PER_SEC);
    g_clear_error(&error);
    /* A 1.6 host's per-item calls: one slow failure, then fast ones. */
    g_assert_false(MLF()->log_param(se.t, id, "a", "1", &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
    g_clear_error(&error);
    t0 = g_get_monotonic_time();
    g_assert_false(MLF()->log_param(se.t, id, "a", "1", &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC / 10);
    g_clear_error(&error);
    json_node_unref(mlfx_ctl(srv, "POST", "/up", NULL));
  }
  g_assert_true(MLF()->log_batch(se.t, id, &run_batch, &error));
  g_assert_no_error(error);
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(run, "metrics")), ==,
                   G_N_ELEMENTS(run_metrics));
  session_close(&se);
  mlfx_stop(srv);
  /* Nobody listening at all. */
  Session se2 = {0};
  g_assert_true(session_open(&se2, NULL, &error));
  gint64 t0 = g_get_monotonic_time();
  g_autofree char *none = MLF()->start_run_full(se2.t, "r1", "x", NULL, 0, &error);
  g_assert_null(none);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 6 * G_USEC_PER_SEC);
  session_close(&se2);
}

/* What MLflow refuses or changes: said once, the rest lands. */
static void test_refused_values(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"values\"}", &error));
  g_autofree char *id = start(&se, "r1", "values", NULL);
  g_autofree char *long_value = g_strnfill(7000, 'x');
  g_autofree char *long_key = g_strnfill(251, 'k');
  LatheTrackerItem p[] = {{"ok", "1"}, {"long", long_value}, {"bad:key", "2"}, {long_key, "3"},
                          {"a/../b", "4"}, {"ok", "1"}};
  LatheTrackerMetric m[] = {{"nan", NAN, 0, 1}, {"inf", INFINITY, 0, 1}, {"fine", 1.5, 0, 1},
                            {"nan", NAN, 1, 2}};
  LatheTrackerItem tg[] = {{"t", "1"}, {"t", "2"}};
  LatheTrackerBatch b = {p, G_N_ELEMENTS(p), m, G_N_ELEMENTS(m), tg, G_N_ELEMENTS(tg)};
  g_ptr_array_set_size(warnings, 0);
  for (int twice = 0; twice < 2; twice++) {
    g_assert_true(MLF()->log_batch(se.t, id, &b, &error));
    g_assert_no_error(error);
  }
  g_assert_cmpuint(warned("param 'long' is 7000 characters long"), ==, 1);
  g_assert_cmpuint(warned("'bad:key'"), ==, 1);
  g_assert_cmpuint(warned("250 characters"), ==, 1);
  g_assert_cmpuint(warned("'a/../b'"), ==, 1);
  g_assert_cmpuint(warned("metric 'nan' is NaN"), ==, 1);
  g_assert_cmpuint(warned("metric 'inf' is infinite"), ==, 1);
  g_assert_cmpuint(warnings->len, ==, 6);
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  JsonObject *params = json_object_get_object_member(run, "params");
  g_assert_cmpuint(json_object_get_size(params), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(params, "ok"), ==, "1");
  g_assert_cmpuint(strlen(json_object_get_string_member(params, "long")), ==, 6000);
  g_assert_cmpstr(mlfx_tag(run, "t"), ==, "2");
  JsonArray *ms = json_object_get_array_member(run, "metrics");
  g_assert_cmpuint(json_array_get_length(ms), ==, 4);
  for (guint i = 0; i < 4; i++) {
    JsonObject *x = json_array_get_object_element(ms, i);
    if (g_str_equal(json_object_get_string_member(x, "key"), "nan"))
      g_assert_cmpstr(json_object_get_string_member(x, "value"), ==, "NaN");
  }
  /* A param MLflow already has with another value: that one is refused and
   * said, the rest of its batch lands. */
  LatheTrackerItem p2[] = {{"ok", "changed"}, {"new", "5"}};
  LatheTrackerMetric m2[] = {{"fine", 2.5, 1, 3}};
  LatheTrackerBatch b2 = {p2, 2, m2, 1, NULL, 0};
  g_assert_true(MLF()->log_batch(se.t, id, &b2, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(warned("refused param 'ok'"), ==, 1);
  g_autoptr(JsonObject) run2 = mlfx_state_run(srv, id);
  params = json_object_get_object_member(run2, "params");
  g_assert_cmpstr(json_object_get_string_member(params, "ok"), ==, "1");
  g_assert_cmpstr(json_object_get_string_member(params, "new"), ==, "5");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(run2, "metrics")), ==, 5);
  session_close(&se);
  mlfx_stop(srv);
}

/* A wrong token: one line naming the variable, not the token; refused for
 * good (it will not fix itself), not UNAVAILABLE. */
static void test_auth(void) {
  MlfxServer *srv = mlfx_start("--token", "right-token-1234");
  g_autoptr(GError) error = NULL;
  g_setenv("MLFLOW_TRACKING_TOKEN", "wrong-token-5678", TRUE);
  Session se = {0};
  g_assert_true(session_open(&se, NULL, &error));
  g_autofree char *id = MLF()->start_run_full(se.t, "r1", "auth", NULL, 0, &error);
  g_assert_null(id);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_TOKEN"));
  g_assert_nonnull(strstr(error->message, "401"));
  g_assert_null(strstr(error->message, "wrong-token-5678"));
  g_assert_null(strstr(error->message, "right-token-1234"));
  g_assert_null(strchr(error->message, '\n'));
  g_clear_error(&error);
  session_close(&se);
  g_setenv("MLFLOW_TRACKING_TOKEN", "right-token-1234", TRUE);
  Session ok = {0};
  g_assert_true(session_open(&ok, NULL, &error));
  g_autofree char *id2 = start(&ok, "r1", "auth", NULL);
  g_assert_cmpuint(mlfx_state_runs(srv), ==, 1);
  g_assert_nonnull(id2);
  session_close(&ok);
  g_unsetenv("MLFLOW_TRACKING_TOKEN");
  mlfx_stop(srv);
  /* Basic wins over a token when both are set, as in MLflow. */
  srv = mlfx_start("--basic", "alice:pw-secret-99");
  g_setenv("MLFLOW_TRACKING_TOKEN", "some-token", TRUE);
  g_setenv("MLFLOW_TRACKING_USERNAME", "alice", TRUE);
  g_setenv("MLFLOW_TRACKING_PASSWORD", "pw-secret-99", TRUE);
  Session basic = {0};
  g_assert_true(session_open(&basic, NULL, &error));
  g_autofree char *id3 = start(&basic, "r1", "auth", NULL);
  g_assert_cmpuint(mlfx_state_runs(srv), ==, 1);
  g_assert_nonnull(id3);
  session_close(&basic);
  g_setenv("MLFLOW_TRACKING_PASSWORD", "pw-wrong-77", TRUE);
  Session bad = {0};
  g_assert_true(session_open(&bad, NULL, &error));
  g_autofree char *id4 = MLF()->start_run_full(bad.t, "r2", "auth", NULL, 0, &error);
  g_assert_null(id4);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_PASSWORD"));
  g_assert_null(strstr(error->message, "pw-wrong-77"));
  session_close(&bad);
  g_unsetenv("MLFLOW_TRACKING_TOKEN");
  g_unsetenv("MLFLOW_TRACKING_USERNAME");
  g_unsetenv("MLFLOW_TRACKING_PASSWORD");
  mlfx_stop(srv);
}

/* A tuner trial under its study: mlflow.parentRunId is the study's MLflow id,
 * whether the host passes Lathe's id or MLflow's, or (a 1.6 host) sets the
 * tag itself with Lathe's id. */
static void test_nested(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, NULL, &error));
  g_autofree char *study = start(&se, "s1", "study", NULL);
  g_autofree char *t1 = start(&se, "s1-tpe-1", "tpe/1", "s1");
  g_autofree char *t2 = start(&se, "s1-tpe-2", "tpe/2", study);
  g_assert_true(MLF()->start_run(se.t, "s1-tpe-3", "tpe/3", 0, &error));
  g_assert_true(MLF()->set_tag(se.t, "s1-tpe-3", "mlflow.parentRunId", "s1", &error));
  g_assert_no_error(error);
  g_autofree char *t3 = MLF()->start_run_full(se.t, "s1-tpe-3", "tpe/3", NULL, 0, &error);
  session_close(&se);
  /* Another process: the parent is found by its lathe.run_id. */
  Session se2 = {0};
  g_setenv("MLFLOW_EXPERIMENT_NAME", "study", TRUE);
  g_assert_true(session_open(&se2, NULL, &error));
  g_autofree char *t4 = start(&se2, "s1-tpe-4", "tpe/4", "s1");
  session_close(&se2);
  g_unsetenv("MLFLOW_EXPERIMENT_NAME");
  const char *trials[] = {t1, t2, t3, t4};
  g_autoptr(JsonObject) parent = mlfx_state_run(srv, study);
  for (guint i = 0; i < G_N_ELEMENTS(trials); i++) {
    g_autoptr(JsonObject) run = mlfx_state_run(srv, trials[i]);
    g_assert_cmpstr(mlfx_tag(run, "mlflow.parentRunId"), ==, study);
    g_assert_cmpstr(json_object_get_string_member(run, "experiment_id"), ==,
                    json_object_get_string_member(parent, "experiment_id"));
  }
  g_assert_null(mlfx_tag(parent, "mlflow.parentRunId"));
  mlfx_stop(srv);
}

static GBytes *get_artifact(MlfxServer *srv, const char *exp, const char *run, const char *path) {
  g_autofree char *url =
      g_strdup_printf("/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/%s", exp, run, path);
  g_autoptr(LatheHttpRequest) req = lathe_http_request_new("GET", url);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(srv->api, req, NULL, &error);
  g_assert_no_error(error);
  return g_bytes_ref(lathe_http_response_get_body(r));
}

static void test_artifacts(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"arts\"}", &error));
  g_autofree char *id = start(&se, "r1", "arts", NULL);
  /* 3 MiB from a file, streamed; then bytes; both twice (idempotent). */
  g_autofree char *file = g_build_filename(srv->dir, "model.lathe", NULL);
  gsize n = 3 * 1024 * 1024;
  g_autofree guint8 *data = g_malloc(n);
  for (gsize i = 0; i < n; i++)
    data[i] = (guint8)(i * 7919 + (i >> 11));
  g_assert_true(g_file_set_contents(file, (const char *)data, (gssize)n, &error));
  g_autoptr(GBytes) json = g_bytes_new_static("{\"accuracy\": 0.9}", 17);
  for (int twice = 0; twice < 2; twice++) {
    g_assert_true(MLF()->log_artifact(se.t, id, "model/model.lathe", file, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(MLF()->log_artifact(se.t, id, "metrics.json", NULL, json, &error));
    g_assert_no_error(error);
  }
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  const char *exp = json_object_get_string_member(run, "experiment_id");
  g_autoptr(GBytes) back = get_artifact(srv, exp, id, "model/model.lathe");
  g_assert_cmpmem(g_bytes_get_data(back, NULL), g_bytes_get_size(back), data, n);
  g_autoptr(GBytes) back2 = get_artifact(srv, exp, id, "metrics.json");
  g_assert_true(g_bytes_equal(back2, json));
  /* A path that would leave the run's folder. */
  g_assert_false(MLF()->log_artifact(se.t, id, "../x", NULL, json, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  session_close(&se);
  /* Another process knows the run only by its MLflow id. */
  Session se2 = {0};
  g_assert_true(session_open(&se2, NULL, &error));
  g_assert_true(MLF()->log_artifact(se2.t, id, "pipeline.json", NULL, json, &error));
  g_assert_no_error(error);
  session_close(&se2);
  g_autoptr(GBytes) back3 = get_artifact(srv, exp, id, "pipeline.json");
  g_assert_true(g_bytes_equal(back3, json));
  mlfx_stop(srv);
}

static void test_inputs(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, NULL, &error));
  g_autofree char *id = start(&se, "r1", "inputs", NULL);
  LatheTrackerInput in[] = {
      {"data", "/data/iris.csv", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
      {"lake", "lakefs://repo/c0ffee/train.csv", "c0ffee00"}};
  for (int twice = 0; twice < 2; twice++) {
    g_assert_true(MLF()->log_inputs(se.t, id, in, 2, &error));
    g_assert_no_error(error);
  }
  g_autoptr(JsonObject) run = mlfx_state_run(srv, id);
  JsonArray *inputs = json_object_get_array_member(run, "inputs");
  g_assert_cmpuint(json_array_get_length(inputs), ==, 2);
  JsonObject *d0 = json_object_get_object_member(json_array_get_object_element(inputs, 0), "dataset");
  g_assert_cmpstr(json_object_get_string_member(d0, "name"), ==, "data");
  g_assert_cmpstr(json_object_get_string_member(d0, "source_type"), ==, "local");
  g_assert_cmpstr(json_object_get_string_member(d0, "source"), ==, "{\"uri\":\"/data/iris.csv\"}");
  g_assert_cmpstr(json_object_get_string_member(d0, "digest"), ==, "0123456789abcdef0123456789abcdef0123");
  JsonObject *tags0 = json_object_get_object_member(json_array_get_object_element(inputs, 0), "tags");
  g_assert_cmpstr(json_object_get_string_member(tags0, "lathe.digest"), ==, in[0].digest);
  JsonObject *d1 = json_object_get_object_member(json_array_get_object_element(inputs, 1), "dataset");
  g_assert_cmpstr(json_object_get_string_member(d1, "source_type"), ==, "lakefs");
  session_close(&se);
  mlfx_stop(srv);
}

/* Configuration errors: one line naming what to set. */
static void test_config(void) {
  const char *bad[] = {NULL, "", "file:///tmp/mlruns", "localhost:5000", "ftp://h/x"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    if (bad[i])
      g_setenv("MLFLOW_TRACKING_URI", bad[i], TRUE);
    else
      g_unsetenv("MLFLOW_TRACKING_URI");
    g_autoptr(GError) error = NULL;
    Session se = {0};
    g_assert_false(session_open(&se, NULL, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "MLFLOW_TRACKING_URI"));
    g_assert_null(strchr(error->message, '\n'));
    session_close(&se);
  }
  /* Credentials in the pipeline are refused, naming the variable. */
  const LatheTrackerClass *k = MLF();
  for (const LatheParamSpec *s = k->base.params; s->name; s++) {
    if (!(s->flags & LATHE_PARAM_SECRET))
      continue;
    g_assert_nonnull(s->check);
    g_autoptr(JsonNode) v = json_from_string("\"abc\"", NULL);
    g_autofree char *why = NULL;
    g_assert_false(s->check(s, v, &why));
    g_assert_nonnull(strstr(why, "MLFLOW_TRACKING_"));
  }
}

/* A deleted experiment: one line saying so and what to do; not pending. */
static void test_deleted_experiment(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = json_from_string("{\"name\": \"gone\"}", NULL);
  g_autoptr(JsonNode) made =
      lathe_http_client_json(srv->api, "POST", "/api/2.0/mlflow/experiments/create", body, NULL, &error);
  g_assert_no_error(error);
  g_autofree char *del = g_strdup_printf(
      "{\"experiment_id\": \"%s\"}",
      json_object_get_string_member(json_node_get_object(made), "experiment_id"));
  g_autoptr(JsonNode) del_body = json_from_string(del, NULL);
  g_autoptr(JsonNode) deleted =
      lathe_http_client_json(srv->api, "POST", "/api/2.0/mlflow/experiments/delete", del_body, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(deleted);
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"gone\"}", &error));
  g_autofree char *id = MLF()->start_run_full(se.t, "r1", "x", NULL, 0, &error);
  g_assert_null(id);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "'gone'"));
  g_assert_nonnull(strstr(error->message, "deleted"));
  g_assert_nonnull(strstr(error->message, "MLFLOW_EXPERIMENT_NAME"));
  session_close(&se);
  mlfx_stop(srv);
}

/* -m perf: metric points shipped per second in batches (issue 13's goal:
 * 50k/s to the test server), printed. */
static void test_perf(void) {
  MlfxServer *srv = mlfx_start(NULL, NULL);
  g_autoptr(GError) error = NULL;
  Session se = {0};
  g_assert_true(session_open(&se, "{\"experiment\": \"perf\"}", &error));
  g_autofree char *id = start(&se, "r1", "perf", NULL);
  const guint n = 1000, rounds = 50;
  g_autofree LatheTrackerMetric *m = g_new0(LatheTrackerMetric, n);
  gint64 t0 = g_get_monotonic_time();
  for (guint r = 0; r < rounds; r++) {
    for (guint i = 0; i < n; i++)
      m[i] = (LatheTrackerMetric){i % 2 ? "train.loss" : "valid.loss", 1.0 / (i + 1), r * n + i,
                                  1700000000000 + r * n + i};
    LatheTrackerBatch b = {.metrics = m, .n_metrics = n};
    g_assert_true(MLF()->log_batch(se.t, id, &b, &error));
  }
  double s = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  g_test_minimized_result(s, "%u metric points in %.3f s: %.0f points/s", n * rounds, s,
                          n * rounds / s);
  session_close(&se);
  mlfx_stop(srv);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  for (const char *const *v = (const char *const[]){"MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
                                                  "MLFLOW_TRACKING_PASSWORD", "MLFLOW_EXPERIMENT_NAME",
                                                  NULL};
       *v; v++)
    g_unsetenv(*v);
  g_setenv("LATHE_MLFLOW_CONNECT_TIMEOUT_MS", "1000", TRUE);
  g_setenv("LATHE_MLFLOW_IDLE_TIMEOUT_MS", "3000", TRUE);
  g_setenv("LATHE_MLFLOW_BACKOFF_MS", "50", TRUE);
  g_setenv("LATHE_MLFLOW_TOTAL_TIMEOUT_MS", "4000", TRUE);
  warnings = g_ptr_array_new_with_free_func(g_free);
  /* The tracker's warnings are what some cases check: kept, not fatal. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func(on_log, NULL, NULL);
  g_test_add_func("/tracker-mlflow/config", test_config);
  g_test_add_func("/tracker-mlflow/same-as-sqlite", test_same_as_sqlite);
  g_test_add_func("/tracker-mlflow/split", test_split);
  g_test_add_func("/tracker-mlflow/drop-after", test_drop_after);
  g_test_add_func("/tracker-mlflow/retry-503", test_retry_503);
  g_test_add_func("/tracker-mlflow/outage", test_outage);
  g_test_add_func("/tracker-mlflow/refused-values", test_refused_values);
  g_test_add_func("/tracker-mlflow/auth", test_auth);
  g_test_add_func("/tracker-mlflow/nested", test_nested);
  g_test_add_func("/tracker-mlflow/artifacts", test_artifacts);
  g_test_add_func("/tracker-mlflow/inputs", test_inputs);
  g_test_add_func("/tracker-mlflow/deleted-experiment", test_deleted_experiment);
  if (g_test_perf())
    g_test_add_func("/tracker-mlflow/perf", test_perf);
  int rc = g_test_run();
  g_ptr_array_unref(warnings);
  return rc;
}
