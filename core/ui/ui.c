/* `lathe ui`: server-rendered pages over the run store. Every request opens
 * the store read-only and closes it again, so the UI never writes, never holds
 * a lock across requests, and sees a `lathe run` writing in WAL mode as it goes.
 * The model registry pages are in ui-models.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "store/store.h"
#include "ui/ui-private.h"

#define UI_PAGE_SIZE 50
/* Deeper than any store holds; keeps page * UI_PAGE_SIZE far from overflow. */
#define UI_MAX_PAGE 10000000

static gboolean wants_json(LatheHttpExchange *ex) {
  const char *a = lathe_http_exchange_get_header(ex, "Accept");
  return a && strstr(a, "application/json");
}

void lathe_ui_html_begin(LatheHttpExchange *ex, const char *title) {
  ex->out_type = "text/html; charset=utf-8";
  lathe_http_exchange_set_header(ex, "Cache-Control", "no-store");
  lathe_report_page_begin(ex->out, title);
  g_string_append(ex->out, "<nav><a href=\"/\">Runs</a> · <a href=\"/studies\">Studies</a> · "
                           "<a href=\"/models\">Models</a></nav>\n");
}

void lathe_ui_fail(LatheHttpExchange *ex, guint status, const char *msg) {
  lathe_http_exchange_set_header(ex, "Cache-Control", "no-store");
  if (wants_json(ex)) {
    lathe_http_exchange_error(ex, status, "%s", msg);
    return;
  }
  g_string_truncate(ex->out, 0);
  lathe_ui_html_begin(ex, "Error");
  ex->status = status;
  g_string_append(ex->out, "<h1>Error</h1><p class=\"error\">");
  lathe_report_escape(ex->out, msg);
  g_string_append(ex->out, "</p>\n");
  lathe_report_page_end(ex->out);
}

guint lathe_ui_status_of(const GError *e) {
  if (g_error_matches(e, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_NOT_FOUND))
    return 404;
  if (g_error_matches(e, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_SCHEMA))
    return 409;
  if (g_error_matches(e, LATHE_ERROR, LATHE_ERROR_INVALID))
    return 409;
  return 500;
}

static LatheStore *open_store(LatheUi *ui, LatheHttpExchange *ex) {
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open_readonly(ui->opt->store_dir, &error);
  if (!s) {
    g_autofree char *m = g_strdup_printf("%s (start `lathe ui --store DIR` on a store of this version)",
                                         error->message);
    lathe_ui_fail(ex, lathe_ui_status_of(error), m);
  }
  return s;
}

void lathe_ui_metric_value(GString *o, JsonNode *v) {
  /* the store gives a NaN metric as null */
  lathe_report_number(o, v && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) != G_TYPE_STRING
                             ? json_node_get_double(v) : NAN);
}

void lathe_ui_link(GString *o, const char *prefix, const char *id) {
  g_autofree char *e = g_uri_escape_string(id, NULL, FALSE);
  g_string_append_printf(o, "<a href=\"%s%s\">", prefix, e);
  lathe_report_escape(o, id);
  g_string_append(o, "</a>");
}

static const char *q(LatheHttpExchange *ex, const char *k) {
  return ex->query ? g_hash_table_lookup(ex->query, k) : NULL;
}

static void link_q(GString *o, const char *filter, const char *sort, guint page) {
  g_autofree char *f = g_uri_escape_string(filter ? filter : "", NULL, FALSE);
  g_autofree char *s = g_uri_escape_string(sort ? sort : "", NULL, FALSE);
  g_autofree char *href = g_strdup_printf("/?q=%s&amp;sort=%s&amp;page=%u", f, s, page);
  g_string_append(o, href);
}

static void h_runs(LatheHttpExchange *ex, gpointer data) {
  LatheUi *ui = data;
  const char *filter = q(ex, "q"), *sort = q(ex, "sort"), *ps = q(ex, "page");
  guint page = ps ? (guint)MIN(g_ascii_strtoull(ps, NULL, 10), UI_MAX_PAGE) : 0;
  LatheStore *st = open_store(ui, ex);
  if (!st)
    return;
  const char *order[] = {sort && *sort ? sort : NULL, NULL};
  g_autoptr(GError) error = NULL;
  /* One run past the page tells whether there is a next page. */
  JsonArray *runs = lathe_store_search_runs_page(st, filter, order[0] ? order : NULL,
                                                 page * UI_PAGE_SIZE, UI_PAGE_SIZE + 1, NULL, &error);
  lathe_store_close(st);
  if (!runs) {
    lathe_ui_fail(ex, g_error_matches(error, LATHE_ERROR, LATHE_ERROR_INVALID) ? 400 : 500, error->message);
    return;
  }
  lathe_ui_html_begin(ex, "Runs");
  g_string_append(ex->out, "<h1>Runs</h1><form method=\"get\" action=\"/\"><input name=\"q\" size=\"60\" value=\"");
  lathe_report_escape(ex->out, filter ? filter : "");
  g_string_append(ex->out, "\" placeholder=\"metrics.eval.accuracy &gt; 0.9\"> <button>Search</button></form>\n"
                           "<table><tr>");
  static const char *cols[][2] = {{"Run", "attributes.run_id"}, {"Name", "attributes.run_name"},
                                  {"Status", "attributes.status"}, {"Started", "attributes.start_time"}};
  for (guint i = 0; i < G_N_ELEMENTS(cols); i++) {
    g_autofree char *s = g_strdup_printf("%s DESC", cols[i][1]);
    g_string_append(ex->out, "<th><a href=\"");
    link_q(ex->out, filter, s, 0);
    g_string_append_printf(ex->out, "\">%s</a></th>", cols[i][0]);
  }
  g_string_append(ex->out, "<th>Metrics</th></tr>\n");
  guint n = json_array_get_length(runs);
  for (guint i = 0; i < n && i < UI_PAGE_SIZE; i++) {
    JsonObject *r = json_array_get_object_element(runs, i);
    g_string_append(ex->out, "<tr><td>");
    lathe_ui_link(ex->out, "/runs/", json_object_get_string_member_with_default(r, "run_id", ""));
    g_string_append(ex->out, "</td><td>");
    lathe_report_escape(ex->out, json_object_get_string_member_with_default(r, "name", ""));
    g_string_append(ex->out, "</td><td>");
    lathe_report_escape(ex->out, json_object_get_string_member_with_default(r, "status", ""));
    g_string_append(ex->out, "</td><td>");
    JsonNode *sn = json_object_get_member(r, "started");
    if (sn && JSON_NODE_HOLDS_VALUE(sn))
      g_string_append_printf(ex->out, "%.0f", json_node_get_double(sn));
    g_string_append(ex->out, "</td><td>");
    JsonObject *m = json_object_has_member(r, "metrics") ? json_object_get_object_member(r, "metrics") : NULL;
    if (m) {
      g_autoptr(GList) keys = json_object_get_members(m);
      for (GList *k = keys; k; k = k->next) {
        lathe_report_escape(ex->out, k->data);
        g_string_append_c(ex->out, '=');
        lathe_ui_metric_value(ex->out, json_object_get_member(m, k->data));
        g_string_append_c(ex->out, ' ');
      }
    }
    g_string_append(ex->out, "</td></tr>\n");
  }
  g_string_append(ex->out, "</table>\n<p>");
  if (page > 0) {
    g_string_append(ex->out, "<a href=\"");
    link_q(ex->out, filter, sort, page - 1);
    g_string_append(ex->out, "\">previous</a> ");
  }
  if (n > UI_PAGE_SIZE) {
    g_string_append(ex->out, "<a href=\"");
    link_q(ex->out, filter, sort, page + 1);
    g_string_append(ex->out, "\">next</a>");
  }
  g_string_append(ex->out, "</p>\n");
  json_array_unref(runs);
  lathe_report_page_end(ex->out);
}

/* The report asks for the registry only when a run has an A/B section: open
 * it read-only then, once per page, and leave the history out if it cannot
 * be read (the page is still the run's). */
typedef struct {
  LatheUi *ui;
  LatheRegistry *reg;
  gboolean tried;
} PageRegistry;

static LatheRegistry *page_registry(gpointer data) {
  PageRegistry *r = data;
  if (!r->tried && r->ui->opt->catalog) {
    r->tried = TRUE;
    r->reg = lathe_registry_open_readonly(r->ui->opt->catalog, r->ui->opt->store_dir,
                                          r->ui->opt->store_dir, NULL);
  }
  return r->reg;
}

static void render_report(LatheUi *ui, LatheHttpExchange *ex, const char *const *ids, guint n, const char *title) {
  LatheStore *st = open_store(ui, ex);
  if (!st)
    return;
  g_autoptr(GString) body = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  PageRegistry reg = {.ui = ui};
  gboolean ok = lathe_report_render(st, ids, n,
                                    &(LatheReportOptions){.fragment = TRUE, .link_prefix = "/",
                                                          .registry = page_registry, .registry_data = &reg},
                                    body, &error);
  lathe_store_close(st);
  g_clear_pointer(&reg.reg, lathe_registry_close);
  if (!ok) {
    lathe_ui_fail(ex, lathe_ui_status_of(error), error->message);
    return;
  }
  lathe_ui_html_begin(ex, title);
  g_string_append_len(ex->out, body->str, (gssize)body->len);
  lathe_report_page_end(ex->out);
}

static void h_run(LatheHttpExchange *ex, gpointer data) {
  const char *id = ex->path + strlen("/runs/");
  if (!*id || strchr(id, '/')) {
    lathe_ui_fail(ex, 404, "no such page; the runs list is at /");
    return;
  }
  const char *ids[] = {id};
  render_report(data, ex, ids, 1, id);
}

static void h_compare(LatheHttpExchange *ex, gpointer data) {
  const char *runs = q(ex, "runs");
  g_auto(GStrv) ids = g_strsplit(runs ? runs : "", ",", 0);
  if (g_strv_length(ids) < 2 || g_strv_length(ids) > 16) {
    lathe_ui_fail(ex, 400, "name 2 to 16 runs: /compare?runs=A,B");
    return;
  }
  render_report(data, ex, (const char *const *)ids, g_strv_length(ids), "Compare");
}

/* One table row per object of @items: its @key (a link to @prefix/KEY), then
 * the whole object as JSON text. */
static void json_rows(GString *o, JsonArray *items, const char *key, const char *prefix) {
  for (guint i = 0; i < json_array_get_length(items); i++) {
    JsonObject *it = json_array_get_object_element(items, i);
    const char *id = json_object_get_string_member_with_default(it, key, NULL);
    g_string_append(o, "<tr><td>");
    if (id)
      lathe_ui_link(o, prefix, id);
    g_string_append(o, "</td><td>");
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), it);
    g_autofree char *txt = lathe_json_write(node, FALSE);
    lathe_report_escape(o, txt);
    g_string_append(o, "</td></tr>\n");
  }
}

static void h_studies(LatheHttpExchange *ex, gpointer data) {
  LatheStore *st = open_store(data, ex);
  if (!st)
    return;
  g_autoptr(GError) error = NULL;
  JsonArray *studies = lathe_store_list_studies(st, &error);
  lathe_store_close(st);
  if (!studies) {
    lathe_ui_fail(ex, 500, error->message);
    return;
  }
  lathe_ui_html_begin(ex, "Studies");
  g_string_append(ex->out, "<h1>Studies</h1><table><tr><th>Study</th><th>Details</th></tr>\n");
  json_rows(ex->out, studies, "study_id", "/studies/");
  g_string_append(ex->out, "</table>\n");
  json_array_unref(studies);
  lathe_report_page_end(ex->out);
}

static void h_study(LatheHttpExchange *ex, gpointer data) {
  const char *id = ex->path + strlen("/studies/");
  LatheStore *st = open_store(data, ex);
  if (!st)
    return;
  g_autoptr(GError) error = NULL;
  JsonArray *trials = lathe_store_study_trials(st, id, &error);
  lathe_store_close(st);
  if (!trials) {
    lathe_ui_fail(ex, error ? 500 : 404,
         error ? error->message : "no such study; /studies lists them");
    return;
  }
  lathe_ui_html_begin(ex, id);
  g_string_append(ex->out, "<h1>Study ");
  lathe_report_escape(ex->out, id);
  g_string_append(ex->out, "</h1><table><tr><th>Run</th><th>Trial</th></tr>\n");
  json_rows(ex->out, trials, "run_id", "/runs/");
  g_string_append(ex->out, "</table>\n");
  json_array_unref(trials);
  lathe_report_page_end(ex->out);
}

static void h_health(LatheHttpExchange *ex, gpointer data) {
  LatheUi *ui = data;
  lathe_http_exchange_set_header(ex, "Cache-Control", "no-store");
  g_autoptr(GError) error = NULL;
  LatheStore *st = lathe_store_open_readonly(ui->opt->store_dir, &error);
  if (st)
    lathe_store_close(st);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, st ? "ok" : "store-unusable");
  json_builder_set_member_name(b, "store");
  json_builder_add_string_value(b, ui->opt->store_dir);
  if (!st) {
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, error->message);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *txt = json_to_string(root, FALSE);
  g_string_append(ex->out, txt);
}

static void h_root(LatheHttpExchange *ex, gpointer data) {
  if (g_str_equal(ex->path, "/")) {
    h_runs(ex, data);
    return;
  }
  g_autofree char *m = g_strdup_printf("no page %s; the runs list is at /", ex->path);
  lathe_ui_fail(ex, 404, m);
}

static gboolean on_signal(gpointer data) {
  g_main_loop_quit(((LatheUi *)data)->loop);
  return G_SOURCE_CONTINUE;
}

int lathe_ui_run(const LatheUiOptions *opt, GError **error) {
  LatheUi ui = {.opt = opt};
  LatheHttpServer *http = lathe_http_server_new(64 * 1024);
  lathe_http_server_route(http, "GET", "/health", FALSE, h_health, &ui);
  lathe_http_server_route(http, "GET", "/runs/", TRUE, h_run, &ui);
  lathe_http_server_route(http, "GET", "/compare", FALSE, h_compare, &ui);
  lathe_http_server_route(http, "GET", "/studies", FALSE, h_studies, &ui);
  lathe_http_server_route(http, "GET", "/studies/", TRUE, h_study, &ui);
  lathe_http_server_route(http, "GET", "/models", FALSE, lathe_ui_models_page, &ui);
  lathe_http_server_route(http, "GET", "/models/", TRUE, lathe_ui_model_page, &ui);
  lathe_http_server_route(http, "GET", "/", TRUE, h_root, &ui);
  const char *bind = opt->bind ? opt->bind : "127.0.0.1";
  guint port = 0;
  if (!lathe_http_server_listen(http, bind, opt->port, &port, error)) {
    lathe_http_server_free(http);
    return 1;
  }
  g_autofree char *url = strchr(bind, ':') ? g_strdup_printf("http://[%s]:%u", bind, port)
                                           : g_strdup_printf("http://%s:%u", bind, port);
  if (opt->json)
    printf("{\"url\": \"%s\"}\n", url);
  else
    printf("lathe ui: %s (Ctrl-C stops)\n", url);
  fflush(stdout);
  ui.loop = g_main_loop_new(NULL, FALSE);
  lathe_http_loop_run(ui.loop, on_signal, &ui);
  g_main_loop_unref(ui.loop);
  lathe_http_server_free(http);
  return 0;
}
