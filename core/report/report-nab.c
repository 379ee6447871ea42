/* report/report-nab.c: an evaluator/nab execution's score per profile (a
 * bar each, normalised: 100 perfect, 0 the null detector) and per file,
 * and each file's series with its label windows shaded and each profile's
 * detections marked, from its metrics artifact (an artifact from before
 * evaluator/nab kept the series draws the scores only). */
#include <math.h>

#include "report/report-private.h"

static double num(JsonObject *o, const char *k) {
  JsonNode *n = o ? json_object_get_member(o, k) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

static JsonArray *member_array(JsonObject *o, const char *k) {
  JsonNode *n = o ? json_object_get_member(o, k) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *member_object(JsonObject *o, const char *k) {
  JsonNode *n = o ? json_object_get_member(o, k) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* A chart per file: the series against the row, windows shaded (rect
 * nab-window), and per profile a lane of its detections: the scoring row of
 * each detected window a triangle (path nab-tp), a detection outside
 * windows a cross (path nab-fp). */
static void series_charts(GString *out, JsonObject *all, JsonObject *profiles, GList *pnames) {
  g_autoptr(GList) files = json_object_get_members(all);
  g_autoptr(GPtrArray) lanes = g_ptr_array_new();
  for (GList *l = pnames; l; l = l->next)
    g_ptr_array_add(lanes, l->data);
  for (GList *f = files; f; f = f->next) {
    JsonObject *se = member_object(all, f->data);
    JsonArray *rows = member_array(se, "row"), *ys = member_array(se, "y");
    if (!rows || !ys)
      continue;
    g_autoptr(JsonArray) series = json_array_new();
    JsonObject *one = json_object_new();
    json_object_set_string_member(one, "name", json_object_get_string_member_with_default(se, "column", "value"));
    json_object_set_array_member(one, "x", json_array_ref(rows));
    json_object_set_array_member(one, "y", json_array_ref(ys));
    json_array_add_object_element(series, one);
    g_autoptr(JsonArray) bands = json_array_new();
    JsonArray *wins = member_array(se, "windows");
    for (guint w = 0; wins && w < json_array_get_length(wins); w++) {
      JsonArray *wr = member_array(json_array_get_object_element(wins, w), "rows");
      if (!wr || json_array_get_length(wr) != 2)
        continue;
      JsonObject *b = json_object_new();
      json_object_set_double_member(b, "x0", json_array_get_double_element(wr, 0));
      json_object_set_double_member(b, "x1", json_array_get_double_element(wr, 1));
      json_object_set_string_member(b, "class", "nab-window");
      g_autofree char *label = g_strdup_printf("label window %u: rows %" G_GINT64_FORMAT "–%" G_GINT64_FORMAT, w + 1,
                                               json_array_get_int_element(wr, 0), json_array_get_int_element(wr, 1));
      json_object_set_string_member(b, "label", label);
      json_array_add_object_element(bands, b);
    }
    g_autoptr(JsonArray) points = json_array_new();
    guint lane = 0;
    gboolean truncated = FALSE;
    for (GList *l = pnames; l; l = l->next, lane++) {
      JsonObject *det = member_object(member_object(member_object(json_object_get_object_member(profiles, l->data),
                                                                  "files"), f->data), "detections");
      truncated |= det && json_object_get_boolean_member_with_default(det, "truncated", FALSE);
      const char *kinds[][3] = {{"tp", "nab-tp", "tri"}, {"fp", "nab-fp", "cross"}};
      for (guint k = 0; k < 2; k++) {
        JsonArray *a = member_array(det, kinds[k][0]);
        for (guint i = 0; a && i < json_array_get_length(a); i++) {
          JsonObject *pt = json_object_new();
          gint64 row = json_array_get_int_element(a, i);
          json_object_set_double_member(pt, "x", (double)row);
          json_object_set_int_member(pt, "lane", lane);
          json_object_set_string_member(pt, "class", kinds[k][1]);
          json_object_set_string_member(pt, "shape", kinds[k][2]);
          g_autofree char *t = g_strdup_printf("%s: %s at row %" G_GINT64_FORMAT, (char *)l->data,
                                               k ? "false positive" : "window detected", row);
          json_object_set_string_member(pt, "title", t);
          json_array_add_object_element(points, pt);
        }
      }
    }
    LatheReportOverlay ov = {.bands = bands, .points = points, .lanes = (const char *const *)lanes->pdata,
                             .n_lanes = lanes->len};
    g_autofree char *title = g_strdup_printf("%s: series, label windows and detections", (char *)f->data);
    g_string_append(out, "<p class=\"note\">");
    lathe_report_escape(out, f->data);
    g_string_append(out, ": label windows shaded; per profile (lanes at the bottom), a triangle marks the "
                         "detection that scored each found window, a cross each false positive");
    if (truncated)
      g_string_append(out, " (the artifact lists the first 500 false positives only)");
    g_string_append(out, "</p>\n");
    lathe_report_line_chart_full(out, title, "row (time step)", json_object_get_string_member_with_default(se, "column", "value"),
                                 series, NULL, &ov);
  }
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
  JsonNode *sn = json_object_get_member(m, "series");
  if (sn && JSON_NODE_HOLDS_OBJECT(sn))
    series_charts(out, json_node_get_object(sn), profiles, names);
}
