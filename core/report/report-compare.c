/* report/report-compare.c: several runs side by side: every param and
 * metric in a table, the rows that differ marked, the training curves of a
 * node that several runs share overlaid (a line per run), then each run's
 * report. */
#include <math.h>
#include <string.h>

#include "report/report-private.h"

/* Several runs: their params and metrics side by side, a differing row
 * marked (class "diff"), and each run's report below. */
/* The reports of the first top-level execution of @id that has any. */
static JsonArray *node_reports(JsonObject *run, const char *id) {
  JsonArray *nodes = json_object_has_member(run, "nodes") ? json_object_get_array_member(run, "nodes") : NULL;
  for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    JsonNode *rn = json_object_get_member(n, "reports");
    if (g_strcmp0(json_object_get_string_member_with_default(n, "id", ""), id) == 0 && rn &&
        JSON_NODE_HOLDS_ARRAY(rn) && json_array_get_length(json_node_get_array(rn)))
      return json_node_get_array(rn);
  }
  return NULL;
}

/* For each node id whose training curves several runs recorded, a chart per
 * metric (loss, val_loss, ...) with a line per run, named by its run id. */
static void overlaid_curves(GString *out, GPtrArray *shown) {
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint r = 0; r < shown->len; r++) {
    JsonObject *run = g_ptr_array_index(shown, r);
    JsonArray *nodes = json_object_has_member(run, "nodes") ? json_object_get_array_member(run, "nodes") : NULL;
    for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
      const char *id = json_object_get_string_member_with_default(json_array_get_object_element(nodes, i), "id", "");
      if (!lathe_report_is_trial(id) && !g_hash_table_contains(seen, id) && node_reports(run, id)) {
        g_hash_table_add(seen, (gpointer)id);
        g_ptr_array_add(ids, (gpointer)id);
      }
    }
  }
  gboolean any = FALSE;
  for (guint k = 0; k < ids->len; k++) {
    const char *id = g_ptr_array_index(ids, k);
    g_autoptr(GPtrArray) metrics = g_ptr_array_new();
    g_autoptr(GHashTable) mseen = g_hash_table_new(g_str_hash, g_str_equal);
    guint with = 0;
    for (guint r = 0; r < shown->len; r++) {
      JsonArray *reps = node_reports(g_ptr_array_index(shown, r), id);
      with += reps != NULL;
      for (guint i = 0; reps && i < json_array_get_length(reps); i++) {
        const char *name = json_object_get_string_member_with_default(json_array_get_object_element(reps, i), "name", "");
        if (!g_hash_table_contains(mseen, name)) {
          g_hash_table_add(mseen, (gpointer)name);
          g_ptr_array_add(metrics, (gpointer)name);
        }
      }
    }
    if (with < 2)
      continue;
    for (guint m = 0; m < metrics->len; m++) {
      const char *metric = g_ptr_array_index(metrics, m);
      g_autoptr(JsonArray) series = json_array_new();
      for (guint r = 0; r < shown->len; r++) {
        JsonObject *run = g_ptr_array_index(shown, r);
        JsonArray *reps = node_reports(run, id);
        JsonArray *xs = json_array_new(), *ys = json_array_new();
        for (guint i = 0; reps && i < json_array_get_length(reps); i++) {
          JsonObject *rep = json_array_get_object_element(reps, i);
          if (g_strcmp0(json_object_get_string_member_with_default(rep, "name", ""), metric))
            continue;
          JsonNode *v = json_object_get_member(rep, "value");
          json_array_add_int_element(xs, json_object_get_int_member_with_default(rep, "step", 0));
          json_array_add_double_element(ys, v && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_double(v) : NAN);
        }
        if (!json_array_get_length(ys)) {
          json_array_unref(xs);
          json_array_unref(ys);
          continue;
        }
        JsonObject *s = json_object_new();
        json_object_set_string_member(s, "name", json_object_get_string_member_with_default(run, "run_id", ""));
        json_object_set_array_member(s, "x", xs);
        json_object_set_array_member(s, "y", ys);
        json_array_add_object_element(series, s);
      }
      if (json_array_get_length(series) < 2)
        continue;
      if (!any)
        g_string_append(out, "<h2>Training curves across runs</h2>\n");
      any = TRUE;
      g_autofree char *title = g_strdup_printf("%s of %s, a line per run", metric, id);
      LatheReportOverlay ov = {.svg_class = "overlay", .curve_class = "overlay-curve"};
      lathe_report_line_chart_full(out, title, "epoch (step)", metric, series, NULL, &ov);
    }
  }
}

gboolean lathe_report_compare(GString *out, LatheStore *store, const char *const *refs, guint n,
                              const LatheReportOptions *o, GError **error) {
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) local = NULL;
    JsonObject *v = lathe_store_run_values(store, refs[i], &local);
    if (!v) {
      g_set_error(error, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_NOT_FOUND, "%s", local ? local->message : refs[i]);
      return FALSE;
    }
    g_ptr_array_add(runs, v);
    const char *groups[] = {"params", "metrics"};
    for (guint g = 0; g < 2; g++) {
      JsonObject *m = json_object_get_object_member(v, groups[g]);
      g_autoptr(GList) names = m ? json_object_get_members(m) : NULL;
      for (GList *l = names; l; l = l->next) {
        char *k = g_strconcat(groups[g], ".", l->data, NULL);
        if (g_hash_table_contains(seen, k)) {
          g_free(k);
          continue;
        }
        g_hash_table_add(seen, k);
        g_ptr_array_add(keys, k);
      }
    }
  }
  g_string_append(out, "<h1>Comparison</h1>\n");
  if (o && o->link_prefix) { /* the UI's own comparison page */
    g_string_append(out, "<p><a href=\"");
    lathe_report_escape(out, o->link_prefix);
    g_string_append(out, "compare?runs=");
    for (guint i = 0; i < n; i++) {
      g_autofree char *esc = g_uri_escape_string(json_object_get_string_member(g_ptr_array_index(runs, i), "run_id"), NULL, TRUE);
      g_string_append(out, i ? "," : "");
      lathe_report_escape(out, esc);
    }
    g_string_append(out, "\">this comparison</a></p>\n");
  }
  g_string_append(out, "<table class=\"compare\"><tr><th class=\"l\">value</th>");
  for (guint i = 0; i < n; i++) {
    g_string_append(out, "<th>");
    lathe_report_link(out, o, "runs", json_object_get_string_member(g_ptr_array_index(runs, i), "run_id"));
    g_string_append(out, "</th>");
  }
  g_string_append(out, "</tr>");
  for (guint k = 0; k < keys->len; k++) {
    const char *key = g_ptr_array_index(keys, k);
    const char *dot = strchr(key, '.');
    g_autofree char *group = g_strndup(key, dot - key);
    g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
    gboolean differ = FALSE;
    for (guint i = 0; i < n; i++) {
      JsonObject *m = json_object_get_object_member(g_ptr_array_index(runs, i), group);
      JsonNode *v = m ? json_object_get_member(m, dot + 1) : NULL;
      char *c = v ? lathe_json_canonical(v) : g_strdup("—");
      if (i && g_strcmp0(c, g_ptr_array_index(cells, 0)))
        differ = TRUE;
      g_ptr_array_add(cells, c);
    }
    g_string_append(out, "<tr><td class=\"l\">");
    lathe_report_escape(out, key);
    g_string_append(out, "</td>");
    for (guint i = 0; i < n; i++) {
      g_string_append_printf(out, "<td%s>", differ ? " class=\"diff\"" : "");
      lathe_report_escape(out, g_ptr_array_index(cells, i));
      g_string_append(out, "</td>");
    }
    g_string_append(out, "</tr>");
  }
  g_string_append(out, "</table><p class=\"note\">Highlighted rows differ between the runs.</p>\n");
  g_autoptr(GPtrArray) shown = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  for (guint i = 0; i < n; i++) {
    JsonObject *run = lathe_store_show_run_flags(store, json_object_get_string_member(g_ptr_array_index(runs, i), "run_id"),
                                                 LATHE_STORE_SHOW_NO_NESTED_REPORTS, NULL);
    if (run)
      g_ptr_array_add(shown, run);
  }
  overlaid_curves(out, shown);
  for (guint i = 0; i < n; i++)
    if (!lathe_report_one_run(out, store, json_object_get_string_member(g_ptr_array_index(runs, i), "run_id"), o, error))
      return FALSE;
  return TRUE;
}

