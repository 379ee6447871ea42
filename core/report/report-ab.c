/* report/report-ab.c: an evaluator/ab execution: the candidate and the
 * production model side by side on the metrics that decide, the decision
 * and its reasons, from its metrics artifact, and the history of the alias
 * it decides on, from the registry (read only). */
#include <math.h>

#include "report/report-private.h"

/* NAME@ALIAS's moves, oldest first (`lathe models history NAME --alias
 * ALIAS` as a table). */
void lathe_report_alias_history(GString *out, JsonArray *hist, const LatheReportOptions *o) {
  g_string_append(out, "<table class=\"alias-history\"><tr><th class=\"l\">when</th><th class=\"l\">alias</th>"
                       "<th>from version</th><th>to version</th><th class=\"l\">reason</th>"
                       "<th class=\"l\">user</th><th class=\"l\">run</th><th class=\"l\">figures</th></tr>\n");
  for (guint i = 0; i < json_array_get_length(hist); i++) {
    JsonObject *m = json_array_get_object_element(hist, i);
    g_string_append(out, "<tr class=\"alias-move\">");
    const char *cols[] = {"set_at", "alias", "previous_version", "version", "reason", "user", "run_id", "figures"};
    for (guint c = 0; c < G_N_ELEMENTS(cols); c++) {
      JsonNode *n = json_object_get_member(m, cols[c]);
      g_string_append(out, c == 2 || c == 3 ? "<td>" : "<td class=\"l\">");
      if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING && c == 6)
        lathe_report_link(out, o, "runs", json_node_get_string(n));
      else if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
        lathe_report_escape(out, json_node_get_string(n));
      else if (n && JSON_NODE_HOLDS_VALUE(n))
        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(n));
      else if (n && JSON_NODE_HOLDS_OBJECT(n)) {
        g_autofree char *txt = json_to_string(n, FALSE);
        lathe_report_escape(out, txt);
      } else
        g_string_append(out, "—");
      g_string_append(out, "</td>");
    }
    g_string_append(out, "</tr>\n");
  }
  g_string_append(out, "</table>\n");
}

static void alias_history(GString *out, const LatheReportOptions *o, const char *name, const char *alias) {
  LatheRegistry *reg = o && o->registry && name && alias ? o->registry(o->registry_data) : NULL;
  if (!reg)
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) hist = lathe_registry_alias_history(reg, name, alias, &error);
  g_string_append(out, "<h4>Alias history of ");
  lathe_report_escape(out, name);
  g_string_append(out, "@");
  lathe_report_escape(out, alias);
  g_string_append(out, "</h4>\n");
  if (!hist) {
    g_string_append(out, "<p class=\"note\">The registry could not give it: ");
    lathe_report_escape(out, error ? error->message : "");
    g_string_append(out, "</p>\n");
    return;
  }
  lathe_report_alias_history(out, hist, o);
}

void lathe_report_ab(GString *out, LatheStore *store, JsonObject *node, const LatheReportOptions *options) {
  g_autoptr(JsonObject) m = lathe_report_node_metrics(store, node);
  if (!m || !json_object_has_member(m, "decision"))
    return;
  JsonNode *cn = json_object_get_member(m, "candidate"), *pn = json_object_get_member(m, "production");
  JsonObject *cand = cn && JSON_NODE_HOLDS_OBJECT(cn) ? json_node_get_object(cn) : NULL;
  JsonObject *prod = pn && JSON_NODE_HOLDS_OBJECT(pn) ? json_node_get_object(pn) : NULL;
  g_string_append(out, "<h3>A/B: ");
  lathe_report_escape(out, json_object_get_string_member_with_default(node, "id", ""));
  g_string_append(out, "</h3>\n<p>decision <span class=\"status ab-decision\">");
  lathe_report_escape(out, json_object_get_string_member_with_default(m, "decision", ""));
  g_string_append(out, "</span> for ");
  lathe_report_escape(out, json_object_get_string_member_with_default(m, "name", ""));
  g_string_append(out, "@");
  lathe_report_escape(out, json_object_get_string_member_with_default(m, "alias", ""));
  g_string_append(out, "</p>\n<ul>");
  JsonNode *rn = json_object_get_member(m, "reasons");
  JsonArray *reasons = rn && JSON_NODE_HOLDS_ARRAY(rn) ? json_node_get_array(rn) : NULL;
  for (guint i = 0; reasons && i < json_array_get_length(reasons); i++) {
    g_string_append(out, "<li>");
    lathe_report_escape(out, json_array_get_string_element(reasons, i));
    g_string_append(out, "</li>");
  }
  g_string_append(out, "</ul>\n");
  const char *keys[] = {"accuracy", "macro_f1", "macro_precision", "macro_recall", "log_loss"};
  const double L = 130, BW = 300, BH = 12, T = 10;
  guint nk = G_N_ELEMENTS(keys);
  g_string_append_printf(out, "<svg class=\"ab\" role=\"img\" width=\"%g\" height=\"%g\"><title>candidate and production "
                              "side by side</title><desc>blue the candidate, orange the production model, per metric; "
                              "the table below has the numbers</desc>", L + BW + 80, T + nk * (2 * BH + 10) + 30);
  for (guint k = 0; k < nk; k++) {
    double y = T + k * (2 * BH + 10);
    g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%s</text>", L - 6, y + BH + 4, keys[k]);
    JsonObject *sides[] = {cand, prod};
    for (guint s = 0; s < 2; s++) {
      double v = sides[s] ? json_object_get_double_member_with_default(sides[s], keys[k], NAN) : NAN;
      /* accuracy and the macro scores are in [0, 1]; log loss is scaled to 2 */
      double w = isfinite(v) ? BW * CLAMP(v / (k == nk - 1 ? 2.0 : 1.0), 0, 1) : 0;
      g_string_append_printf(out, "<rect class=\"ab-bar\" x=\"%g\" y=\"%g\" width=\"%.1f\" height=\"%g\" fill=\"%s\"/>"
                                  "<text x=\"%.1f\" y=\"%g\">", L, y + s * BH, w, BH - 1, s ? "#E69F00" : "#0072B2",
                             L + w + 4, y + s * BH + 10);
      lathe_report_number(out, v);
      g_string_append(out, "</text>");
    }
  }
  g_string_append_printf(out, "<text x=\"%g\" y=\"%g\">blue: candidate, orange: production (log loss: axis to 2)</text>"
                              "</svg>\n<table class=\"ab\"><tr><th class=\"l\">metric</th><th>candidate</th>"
                              "<th>production%s</th></tr>", L, T + nk * (2 * BH + 10) + 16, prod ? "" : " (none)");
  for (guint k = 0; k < nk; k++) {
    g_string_append_printf(out, "<tr><td class=\"l\">%s</td><td>", keys[k]);
    lathe_report_number(out, cand ? json_object_get_double_member_with_default(cand, keys[k], NAN) : NAN);
    g_string_append(out, "</td><td>");
    lathe_report_number(out, prod ? json_object_get_double_member_with_default(prod, keys[k], NAN) : NAN);
    g_string_append(out, "</td></tr>");
  }
  g_string_append(out, "</table>\n");
  alias_history(out, options, json_object_get_string_member_with_default(m, "name", NULL),
                json_object_get_string_member_with_default(m, "alias", NULL));
}
