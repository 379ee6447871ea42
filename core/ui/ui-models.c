/* `lathe ui` model registry pages: the models of the store's registry, and
 * per model its versions (each linking the run that registered it), its
 * aliases, and who moved which alias when and why. The registry is opened
 * read-only (lathe_registry_open_readonly) per request and closed again, as
 * the store is: the UI never creates, upgrades or writes it. */
#include <string.h>

#include "lathe-registry.h"
#include "report/report.h"
#include "ui/ui-private.h"

static LatheRegistry *open_registry(LatheUi *ui, LatheHttpExchange *ex) {
  g_autoptr(GError) error = NULL;
  LatheRegistry *reg = NULL;
  if (!ui->opt->catalog)
    g_set_error(&error, LATHE_ERROR, LATHE_ERROR_INVALID, "no plugin catalog: the registry cannot be read");
  else
    reg = lathe_registry_open_readonly(ui->opt->catalog, ui->opt->store_dir, ui->opt->store_dir, &error);
  if (!reg)
    lathe_ui_fail(ex, lathe_ui_status_of(error), error->message);
  return reg;
}

static const char *str_member(JsonObject *o, const char *m) {
  JsonNode *n = o ? json_object_get_member(o, m) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n) : NULL;
}

static JsonObject *obj_member(JsonObject *o, const char *m) {
  JsonNode *n = o ? json_object_get_member(o, m) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void text(GString *o, const char *s) { lathe_report_escape(o, s ? s : "-"); }

static void cell_run(GString *o, const char *run_id) {
  if (run_id)
    lathe_ui_link(o, "/runs/", run_id);
  else
    g_string_append(o, "-");
}

void lathe_ui_models_page(LatheHttpExchange *ex, gpointer data) {
  LatheRegistry *reg = open_registry(data, ex);
  if (!reg)
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) models = lathe_registry_models(reg, &error);
  lathe_registry_close(reg);
  if (!models) {
    lathe_ui_fail(ex, lathe_ui_status_of(error), error->message);
    return;
  }
  lathe_ui_html_begin(ex, "Models");
  g_string_append(ex->out, "<h1>Models</h1>\n");
  if (json_array_get_length(models) == 0) {
    g_string_append(ex->out, "<p>No model is registered in this store's registry (a pipeline's "
                             "register node adds one).</p>\n");
    lathe_report_page_end(ex->out);
    return;
  }
  g_string_append(ex->out, "<table><tr><th>Model</th><th>Versions</th><th>Latest</th>"
                           "<th>Aliases</th><th>Latest registered</th></tr>\n");
  for (guint i = 0; i < json_array_get_length(models); i++) {
    JsonObject *m = json_array_get_object_element(models, i);
    g_string_append(ex->out, "<tr><td>");
    lathe_ui_link(ex->out, "/models/", str_member(m, "name"));
    g_string_append_printf(ex->out, "</td><td>%" G_GINT64_FORMAT "</td><td>%" G_GINT64_FORMAT "</td><td>",
                           json_object_get_int_member_with_default(m, "versions", 0),
                           json_object_get_int_member_with_default(m, "latest", 0));
    JsonObject *al = obj_member(m, "aliases");
    g_autoptr(GList) names = al ? json_object_get_members(al) : NULL;
    for (GList *k = names; k; k = k->next) {
      text(ex->out, k->data);
      g_string_append_printf(ex->out, "&nbsp;→&nbsp;v%" G_GINT64_FORMAT "%s",
                             json_object_get_int_member(al, k->data), k->next ? ", " : "");
    }
    g_string_append(ex->out, "</td><td>");
    text(ex->out, str_member(m, "created"));
    g_string_append(ex->out, "</td></tr>\n");
  }
  g_string_append(ex->out, "</table>\n");
  lathe_report_page_end(ex->out);
}

static void versions_table(GString *o, JsonArray *versions) {
  g_string_append(o, "<h2>Versions</h2><table><tr><th>Version</th><th>Registered</th><th>Aliases</th>"
                     "<th>Run</th><th>Metrics</th><th>Digest</th></tr>\n");
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    JsonObject *meta = obj_member(v, "metadata");
    g_string_append_printf(o, "<tr><td>%" G_GINT64_FORMAT "</td><td>",
                           json_object_get_int_member_with_default(v, "version", 0));
    text(o, str_member(v, "created"));
    g_string_append(o, "</td><td>");
    JsonNode *al = json_object_get_member(v, "aliases");
    for (guint k = 0; al && JSON_NODE_HOLDS_ARRAY(al) && k < json_array_get_length(json_node_get_array(al)); k++) {
      g_string_append(o, k ? ", " : "");
      text(o, json_array_get_string_element(json_node_get_array(al), k));
    }
    g_string_append(o, "</td><td>");
    cell_run(o, str_member(meta, "run_id"));
    g_string_append(o, "</td><td>");
    JsonObject *metrics = obj_member(meta, "metrics");
    g_autoptr(GList) keys = metrics ? json_object_get_members(metrics) : NULL;
    for (GList *k = keys; k; k = k->next) {
      text(o, k->data);
      g_string_append_c(o, '=');
      lathe_ui_metric_value(o, json_object_get_member(metrics, k->data));
      g_string_append_c(o, ' ');
    }
    if (!keys)
      g_string_append(o, "none recorded");
    g_string_append(o, "</td><td><code>");
    const char *digest = str_member(v, "digest");
    g_autofree char *shortd = digest ? g_strndup(digest, 19) : NULL;
    text(o, shortd);
    g_string_append(o, "</code></td></tr>\n");
  }
  g_string_append(o, "</table>\n");
}

static void history_table(GString *o, JsonArray *hist) {
  g_string_append(o, "<h2>Alias history</h2>\n");
  if (json_array_get_length(hist) == 0)
    g_string_append(o, "<p>No alias has been set on this model.</p>\n");
  else
    lathe_report_alias_history(o, hist, &(LatheReportOptions){.link_prefix = "/"});
}

void lathe_ui_model_page(LatheHttpExchange *ex, gpointer data) {
  const char *name = ex->path + strlen("/models/");
  if (!*name || strchr(name, '/')) {
    lathe_ui_fail(ex, 404, "no such page; the models are listed at /models");
    return;
  }
  LatheRegistry *reg = open_registry(data, ex);
  if (!reg)
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) versions = lathe_registry_list(reg, name, &error);
  g_autoptr(JsonArray) hist = versions && json_array_get_length(versions)
                                  ? lathe_registry_model_history(reg, name, NULL, &error) : NULL;
  lathe_registry_close(reg);
  /* A name the registry refuses (not a valid model name) names no model either. */
  if ((versions && json_array_get_length(versions) == 0) ||
      (!versions && g_error_matches(error, LATHE_ERROR, LATHE_ERROR_INVALID))) {
    g_autofree char *m = g_strdup_printf("no model '%s' in this store's registry; /models lists them", name);
    lathe_ui_fail(ex, 404, m);
    return;
  }
  if (!hist) {
    lathe_ui_fail(ex, lathe_ui_status_of(error), error->message);
    return;
  }
  g_autofree char *title = g_strdup_printf("Model %s", name);
  lathe_ui_html_begin(ex, title);
  g_string_append(ex->out, "<h1>Model ");
  text(ex->out, name);
  g_string_append(ex->out, "</h1>\n");
  versions_table(ex->out, versions);
  history_table(ex->out, hist);
  lathe_report_page_end(ex->out);
}
