/* report/report-nab.c: an evaluator/nab execution's score per profile (a
 * bar each, normalised: 100 perfect, 0 the null detector) and per file,
 * from its metrics artifact. The series with label windows and detections
 * is not drawn: the artifact does not hold them (docs/report.md). */
#include <math.h>

#include "report/report-private.h"

static double num(JsonObject *o, const char *k) {
  JsonNode *n = o ? json_object_get_member(o, k) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

void lathe_report_nab(GString *out, LatheStore *store, JsonObject *node) {
  g_autoptr(JsonObject) m = lathe_report_node_metrics(store, node);
  JsonNode *pn = m ? json_object_get_member(m, "profiles") : NULL;
  if (!pn || !JSON_NODE_HOLDS_OBJECT(pn))
    return;
  JsonObject *profiles = json_node_get_object(pn);
  g_autoptr(GList) names = json_object_get_members(profiles);
  guint np = g_list_length(names);
  const double L = 170, W = 420, BH = 22, T = 10;
  g_string_append(out, "<h3>NAB scores: ");
  lathe_report_escape(out, json_object_get_string_member_with_default(node, "id", ""));
  g_string_append_printf(out, "</h3><svg class=\"nab\" role=\"img\" width=\"%g\" height=\"%g\"><title>NAB score per "
                              "profile</title><desc>normalised score: 0 is the null detector, 100 a perfect one; the "
                              "table below has the numbers</desc>", L + W + 60, T + np * BH + 30);
  guint i = 0;
  for (GList *l = names; l; l = l->next, i++) {
    JsonObject *p = json_object_get_object_member(profiles, l->data);
    double v = num(p, "normalized");
    double w = isfinite(v) ? W * CLAMP(v, 0, 100) / 100 : 0;
    g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">", L - 6, T + i * BH + 15);
    lathe_report_escape(out, l->data);
    g_string_append_printf(out, "</text><rect class=\"nab-bar\" x=\"%g\" y=\"%g\" width=\"%.1f\" height=\"%g\" fill=\"%s\"/>"
                                "<text x=\"%.1f\" y=\"%g\">", L, T + i * BH + 3, w, BH - 6,
                           lathe_report_palette[i % 8], L + w + 4, T + i * BH + 15);
    lathe_report_number(out, v);
    g_string_append(out, "</text>");
  }
  g_string_append_printf(out, "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/><text x=\"%g\" y=\"%g\" "
                              "text-anchor=\"middle\">normalised NAB score (0 null detector, 100 perfect)</text></svg>\n",
                         L, T + np * BH, L + W, T + np * BH, L + W / 2, T + np * BH + 20);
  g_string_append(out, "<table class=\"nab\"><tr><th class=\"l\">profile</th><th class=\"l\">file</th><th>normalised</th>"
                       "<th>raw</th><th>TP</th><th>FP</th><th>FN</th></tr>");
  for (GList *l = names; l; l = l->next) {
    JsonObject *p = json_object_get_object_member(profiles, l->data);
    JsonNode *fn = json_object_get_member(p, "files");
    JsonObject *files = fn && JSON_NODE_HOLDS_OBJECT(fn) ? json_node_get_object(fn) : NULL;
    g_autoptr(GList) fnames = files ? json_object_get_members(files) : NULL;
    fnames = g_list_prepend(fnames, NULL); /* the profile's total first */
    for (GList *f = fnames; f; f = f->next) {
      JsonObject *r = f->data ? json_object_get_object_member(files, f->data) : p;
      g_string_append(out, "<tr><td class=\"l\">");
      lathe_report_escape(out, l->data);
      g_string_append(out, "</td><td class=\"l\">");
      lathe_report_escape(out, f->data ? f->data : "all files");
      g_string_append(out, "</td>");
      const char *keys[] = {"normalized", "score", "tp", "fp", "fn"};
      for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
        g_string_append(out, "<td>");
        lathe_report_number(out, num(r, keys[k]));
        g_string_append(out, "</td>");
      }
      g_string_append(out, "</tr>");
    }
  }
  g_string_append(out, "</table>\n");
}
