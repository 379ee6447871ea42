/* report/report.c: the page, the escaper, the downsampler, line charts, and
 * the order of a report's sections. Each section draws only when the store
 * has what it needs, so a run in progress or without metrics still renders. */
#include <math.h>
#include <string.h>

#include "report/report-private.h"

G_DEFINE_QUARK(lathe-report-error-quark, lathe_report_error)

const char *const lathe_report_palette[8] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                             "#56B4E9", "#D55E00", "#F0E442", "#000000"};

void lathe_report_escape(GString *out, const char *text) {
  for (const char *p = text ? text : ""; *p; p++) {
    switch (*p) {
    case '&': g_string_append(out, "&amp;"); break;
    case '<': g_string_append(out, "&lt;"); break;
    case '>': g_string_append(out, "&gt;"); break;
    case '"': g_string_append(out, "&quot;"); break;
    case '\'': g_string_append(out, "&#39;"); break;
    default: g_string_append_c(out, *p);
    }
  }
}

gboolean lathe_report_is_trial(const char *id) {
  const char *p = strchr(id ? id : "", '/');
  if (!p || p == id || !g_ascii_isdigit(p[1]))
    return FALSE;
  for (p++; g_ascii_isdigit(*p); p++)
    ;
  return *p == '/';
}

void lathe_report_number(GString *out, double v) {
  if (isnan(v))
    g_string_append(out, "NaN");
  else if (isinf(v))
    g_string_append(out, v > 0 ? "inf" : "-inf");
  else
    g_string_append_printf(out, "%.4g", v);
}

/* The stylesheet: status colours are Okabe–Ito too, and each status also has
 * a dash or fill pattern so that colour is never the only signal. */
static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;color:#222;background:#fff;margin:1.5em;max-width:1100px}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "th{background:#f3f3f3}td.l,th.l{text-align:left}td.diff{background:#fde8c8;font-weight:bold}"
    "svg{display:block;margin:.5em 0;overflow:visible}svg text{font-size:11px;fill:#222}"
    ".axis{stroke:#444;stroke-width:1}.grid{stroke:#e4e4e4}.curve{fill:none;stroke-width:1.6}"
    ".node rect{stroke:#333;stroke-width:1}.st-succeeded rect{fill:#009E73}.st-cached rect{fill:#56B4E9}"
    ".st-failed rect{fill:#D55E00}.st-skipped rect{fill:#ddd;stroke-dasharray:4 2}"
    ".st-running rect{fill:#E69F00}.st-none rect{fill:#fff;stroke-dasharray:2 2}"
    ".edge{stroke:#777;fill:none;marker-end:url(#arrow)}.bar{stroke:#333}.crit{stroke:#000;stroke-width:2.5}"
    ".trial{fill:#0072B2}.trial.pruned{fill:#aaa}.trial.failed{fill:#D55E00}.best{stroke:#E69F00;fill:none;stroke-width:2}"
    ".pc{fill:none;stroke:#0072B2;stroke-opacity:.35}.pc.pruned{stroke:#aaa}.pc.top{stroke:#D55E00;stroke-opacity:.9}"
    ".pruned-curve{stroke:#bbb !important}.pareto{fill:#D55E00}.note{color:#555}.status{font-weight:bold}"
    "details{margin:.3em 0 1em}summary{cursor:pointer;color:#555}"
    "@media print{details{display:none}body{margin:0}}";

void lathe_report_page_begin(GString *out, const char *title) {
  g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width\"><title>");
  lathe_report_escape(out, title);
  g_string_append_printf(out, "</title><style>%s</style></head><body>\n", style);
}

void lathe_report_page_end(GString *out) {
  /* The time the page took to first render, for bench_report.py. */
  g_string_append(out, "<script>addEventListener('load',function(){document.body.setAttribute("
                       "'data-rendered',String(performance.now()))})</script>\n</body></html>\n");
}

static double jd(JsonArray *a, guint i) {
  JsonNode *n = json_array_get_element(a, i);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

void lathe_report_line_chart(GString *out, const char *title, const char *xlabel,
                             const char *ylabel, JsonArray *series, JsonArray *marks) {
  lathe_report_line_chart_full(out, title, xlabel, ylabel, series, marks, NULL);
}

/* Shaded x ranges, under the curves. */
static void bands_svg(GString *out, JsonArray *bands, double L, double T, double W, double H, double xmin,
                      double xmax) {
  for (guint b = 0; bands && b < json_array_get_length(bands); b++) {
    JsonObject *o = json_array_get_object_element(bands, b);
    double x0 = json_object_get_double_member_with_default(o, "x0", NAN);
    double x1 = json_object_get_double_member_with_default(o, "x1", NAN);
    if (!isfinite(x0) || !isfinite(x1))
      continue;
    double p0 = L + (W - L) * (CLAMP(x0, xmin, xmax) - xmin) / (xmax - xmin);
    double p1 = L + (W - L) * (CLAMP(x1, xmin, xmax) - xmin) / (xmax - xmin);
    g_string_append(out, "<rect class=\"");
    lathe_report_escape(out, json_object_get_string_member_with_default(o, "class", "band"));
    g_string_append_printf(out, "\" x=\"%.1f\" y=\"%g\" width=\"%.1f\" height=\"%g\" fill=\"#CC79A7\" "
                                "fill-opacity=\"0.25\"><title>", p0, T, MAX(p1 - p0, 1.5), H);
    lathe_report_escape(out, json_object_get_string_member_with_default(o, "label", ""));
    g_string_append(out, "</title></rect>");
  }
}

/* Markers in lanes along the bottom of the plot, a lane's name in the right
 * margin: a triangle or a cross, so that shape tells them apart, not colour. */
static void points_svg(GString *out, const LatheReportOverlay *ov, double L, double T, double W, double H,
                       double xmin, double xmax) {
  for (guint k = 0; k < ov->n_lanes; k++) {
    g_string_append_printf(out, "<text x=\"%g\" y=\"%g\">", W + 14, T + H - 8 - 12.0 * k + 4);
    lathe_report_escape(out, ov->lanes[k]);
    g_string_append(out, "</text>");
  }
  for (guint i = 0; ov->points && i < json_array_get_length(ov->points); i++) {
    JsonObject *o = json_array_get_object_element(ov->points, i);
    double x = json_object_get_double_member_with_default(o, "x", NAN);
    if (!isfinite(x))
      continue;
    double px = L + (W - L) * (CLAMP(x, xmin, xmax) - xmin) / (xmax - xmin);
    double py = T + H - 8 - 12.0 * (double)json_object_get_int_member_with_default(o, "lane", 0);
    gboolean cross = !g_strcmp0(json_object_get_string_member_with_default(o, "shape", ""), "cross");
    g_string_append(out, "<path class=\"");
    lathe_report_escape(out, json_object_get_string_member_with_default(o, "class", "point"));
    if (cross)
      g_string_append_printf(out, "\" stroke=\"#D55E00\" stroke-width=\"1.5\" fill=\"none\" d=\"M%.1f %.1fL%.1f %.1fM%.1f "
                                  "%.1fL%.1f %.1f\"><title>", px - 3, py - 3, px + 3, py + 3, px - 3, py + 3, px + 3, py - 3);
    else
      g_string_append_printf(out, "\" fill=\"#009E73\" stroke=\"#000\" stroke-width=\"0.5\" d=\"M%.1f %.1fL%.1f %.1fL%.1f "
                                  "%.1fZ\"><title>", px - 4, py + 4, px + 4, py + 4, px, py - 4);
    lathe_report_escape(out, json_object_get_string_member_with_default(o, "title", ""));
    g_string_append(out, "</title></path>");
  }
}

void lathe_report_line_chart_full(GString *out, const char *title, const char *xlabel, const char *ylabel,
                                  JsonArray *series, JsonArray *marks, const LatheReportOverlay *ov) {
  const double W = 520, H = 220, L = 60, T = 20, R = 140, B = 40;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (guint s = 0; s < json_array_get_length(series); s++) {
    JsonObject *o = json_array_get_object_element(series, s);
    JsonArray *xs = json_object_get_array_member(o, "x"), *ys = json_object_get_array_member(o, "y");
    for (guint i = 0; i < json_array_get_length(ys); i++) {
      double x = jd(xs, i), y = jd(ys, i);
      if (isfinite(x) && isfinite(y)) {
        xmin = MIN(xmin, x), xmax = MAX(xmax, x), ymin = MIN(ymin, y), ymax = MAX(ymax, y);
      }
    }
  }
  if (!isfinite(xmin)) {
    xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  }
  if (xmax <= xmin)
    xmax = xmin + 1;
  if (ymax <= ymin)
    ymax = ymin + 1, ymin -= 0 ;
  g_string_append(out, "<svg class=\"chart");
  if (ov && ov->svg_class)
    g_string_append_printf(out, " %s", ov->svg_class);
  g_string_append_printf(out, "\" role=\"img\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\"><title>",
                         W + R, H + B + T, W + R, H + B + T);
  lathe_report_escape(out, title);
  g_string_append(out, "</title><desc>");
  lathe_report_escape(out, ylabel);
  g_string_append(out, " against ");
  lathe_report_escape(out, xlabel);
  g_string_append(out, "; the values are in the table below</desc>");
  g_string_append_printf(out, "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>"
                              "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>",
                         L, T + H, W, T + H, L, T, L, T + H);
  for (int k = 0; k <= 4; k++) {
    double yv = ymin + (ymax - ymin) * k / 4, yp = T + H - H * k / 4;
    double xv = xmin + (xmax - xmin) * k / 4, xp = L + (W - L) * k / 4;
    g_string_append_printf(out, "<line class=\"grid\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>"
                                "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">", L, yp, W, yp, L - 4, yp + 4);
    lathe_report_number(out, yv);
    g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", xp, T + H + 14);
    lathe_report_number(out, xv);
    g_string_append(out, "</text>");
  }
  g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", (L + W) / 2, T + H + 32);
  lathe_report_escape(out, xlabel);
  g_string_append_printf(out, "</text><text transform=\"translate(12,%g) rotate(-90)\" text-anchor=\"middle\">",
                         T + H / 2);
  lathe_report_escape(out, ylabel);
  g_string_append(out, "</text>");
  for (guint m = 0; marks && m < json_array_get_length(marks); m++) {
    JsonObject *o = json_array_get_object_element(marks, m);
    double x = json_object_get_double_member_with_default(o, "x", NAN);
    if (!isfinite(x))
      continue;
    double xp = L + (W - L) * (x - xmin) / (xmax - xmin);
    g_string_append_printf(out, "<line class=\"mark\" stroke=\"#D55E00\" stroke-dasharray=\"4 3\" x1=\"%g\" y1=\"%g\" "
                                "x2=\"%g\" y2=\"%g\"/><text x=\"%g\" y=\"%g\">", xp, T, xp, T + H, xp + 3, T + 10 + 12 * m);
    lathe_report_escape(out, json_object_get_string_member_with_default(o, "label", ""));
    g_string_append(out, "</text>");
  }
  if (ov)
    bands_svg(out, ov->bands, L, T, W, H, xmin, xmax);
  guint nseries = json_array_get_length(series);
  for (guint s = 0; s < nseries; s++) {
    JsonObject *o = json_array_get_object_element(series, s);
    JsonArray *xs = json_object_get_array_member(o, "x"), *ys = json_object_get_array_member(o, "y");
    guint n = json_array_get_length(ys);
    g_autofree double *x = g_new(double, n + 1), *y = g_new(double, n + 1);
    for (guint i = 0; i < n; i++)
      x[i] = jd(xs, i), y[i] = jd(ys, i);
    g_autoptr(GArray) keep = lathe_downsample_minmax(x, y, n, (guint)(W - L));
    const char *colour = lathe_report_palette[s % 8];
    gboolean pruned = json_object_get_boolean_member_with_default(o, "pruned", FALSE);
    g_string_append_printf(out, "<path class=\"curve%s%s%s\" stroke=\"%s\"%s d=\"", pruned ? " pruned-curve" : "",
                           ov && ov->curve_class ? " " : "", ov && ov->curve_class ? ov->curve_class : "",
                           colour, s % 2 ? " stroke-dasharray=\"5 2\"" : "");
    for (guint k = 0; k < keep->len; k++) {
      guint i = g_array_index(keep, guint, k);
      g_string_append_printf(out, "%c%.1f %.1f", k ? 'L' : 'M', L + (W - L) * (x[i] - xmin) / (xmax - xmin),
                             T + H - H * (y[i] - ymin) / (ymax - ymin));
    }
    if (!keep->len)
      g_string_append_printf(out, "M%g %g", L, T + H); /* every value NaN: an empty, valid path */
    g_string_append(out, "\"><title>");
    lathe_report_escape(out, json_object_get_string_member(o, "name"));
    g_string_append(out, "</title></path>");
    /* A legend line per series while it is readable; many series (a
     * study's trials) are named by their <title> and the table. */
    if (nseries <= 12) {
      g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" fill=\"%s\">", W + 6, T + 12 + 14.0 * s, colour);
      lathe_report_escape(out, json_object_get_string_member(o, "name"));
      g_string_append(out, "</text>");
    }
  }
  if (nseries > 12)
    g_string_append_printf(out, "<text x=\"%g\" y=\"%g\">%u series</text>", W + 6, T + 12, nseries);
  if (ov)
    points_svg(out, ov, L, T, W, H, xmin, xmax);
  g_string_append(out, "</svg><details><summary>data table</summary><table><tr><th class=\"l\">series</th>"
                       "<th>");
  lathe_report_escape(out, xlabel);
  g_string_append(out, "</th><th>");
  lathe_report_escape(out, ylabel);
  g_string_append(out, "</th></tr>");
  for (guint s = 0; s < json_array_get_length(series); s++) {
    JsonObject *o = json_array_get_object_element(series, s);
    JsonArray *xs = json_object_get_array_member(o, "x"), *ys = json_object_get_array_member(o, "y");
    /* about 2,000 rows in all are enough to read, and keep the page light */
    guint n = json_array_get_length(ys), per = MAX(2000 / MAX(nseries, 1), 5), step = n > per ? (n + per - 1) / per : 1;
    for (guint i = 0; i < n; i += step) {
      g_string_append(out, "<tr><td class=\"l\">");
      lathe_report_escape(out, json_object_get_string_member(o, "name"));
      g_string_append(out, "</td><td>");
      lathe_report_number(out, jd(xs, i));
      g_string_append(out, "</td><td>");
      lathe_report_number(out, jd(ys, i));
      g_string_append(out, "</td></tr>");
    }
  }
  g_string_append(out, "</table></details>\n");
}

/* A run, a model or a study: a link inside the UI, plain text in a file. */
void lathe_report_link(GString *out, const LatheReportOptions *o, const char *kind, const char *name) {
  if (o && o->link_prefix) {
    g_string_append(out, "<a href=\"");
    lathe_report_escape(out, o->link_prefix);
    g_string_append_printf(out, "%s/", kind);
    g_autofree char *esc = g_uri_escape_string(name, NULL, TRUE);
    lathe_report_escape(out, esc);
    g_string_append(out, "\">");
    lathe_report_escape(out, name);
    g_string_append(out, "</a>");
  } else {
    lathe_report_escape(out, name);
  }
}

JsonObject *lathe_report_node_metrics(LatheStore *store, JsonObject *node) {
  JsonObject *outs = json_object_has_member(node, "outputs") ? json_object_get_object_member(node, "outputs") : NULL;
  const char *digest = outs ? json_object_get_string_member_with_default(outs, "metrics", NULL) : NULL;
  if (!digest)
    return NULL;
  g_autoptr(LatheArtifact) art = lathe_store_get_artifact(store, digest, LATHE_TYPE_METRICS, NULL);
  JsonObject *m = art ? lathe_artifact_get_metrics(art, NULL) : NULL;
  return m ? json_object_ref(m) : NULL; /* outlives the artifact */
}

JsonObject *lathe_report_class_table(LatheStore *store, JsonObject *node) {
  if (!g_str_has_prefix(json_object_get_string_member_with_default(node, "component", ""),
                        "evaluator/classification"))
    return NULL;
  g_autoptr(JsonObject) m = lathe_report_node_metrics(store, node);
  JsonArray *classes = m && json_object_has_member(m, "classes") ? json_object_get_array_member(m, "classes") : NULL;
  JsonArray *cm = m && json_object_has_member(m, "confusion_matrix") ? json_object_get_array_member(m, "confusion_matrix") : NULL;
  if (!classes || !cm || json_array_get_length(cm) != json_array_get_length(classes))
    return NULL;
  JsonObject *t = json_object_new();
  json_object_set_array_member(t, "classes", json_array_ref(classes));
  json_object_set_array_member(t, "confusion_matrix", json_array_ref(cm));
  JsonArray *per = json_array_new();
  for (guint c = 0; c < json_array_get_length(classes); c++) {
    const char *name = json_array_get_string_element(classes, c);
    JsonObject *row = json_object_new();
    json_object_set_string_member(row, "class", name);
    const char *keys[] = {"precision", "recall", "f1", "support"};
    for (guint k = 0; k < 4; k++) {
      g_autofree char *key = g_strconcat(keys[k], "_", name, NULL);
      JsonNode *v = json_object_get_member(m, key);
      json_object_set_member(row, keys[k], v ? json_node_copy(v) : json_node_init_null(json_node_alloc()));
    }
    json_array_add_object_element(per, row);
  }
  json_object_set_array_member(t, "per_class", per);
  return t;
}

static void confusion_svg(GString *out, const char *node, JsonArray *classes, JsonArray *cm, gboolean norm) {
  guint n = json_array_get_length(classes);
  double cell = n > 12 ? 24 : 44, L = 110, T = 60, size = cell * n;
  g_string_append_printf(out, "<svg class=\"cm\" role=\"img\" width=\"%g\" height=\"%g\"><title>", L + size + 10, T + size + 50);
  g_string_append(out, norm ? "normalised confusion matrix of " : "confusion matrix of ");
  lathe_report_escape(out, node);
  g_string_append(out, "</title><desc>rows: true class, columns: predicted class; the table below has the numbers</desc>");
  for (guint r = 0; r < n; r++) {
    JsonArray *row = json_array_get_array_element(cm, r);
    double total = 0;
    for (guint c = 0; c < n; c++)
      total += jd(row, c);
    g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">", L - 4, T + cell * r + cell / 2 + 4);
    lathe_report_escape(out, json_array_get_string_element(classes, r));
    g_string_append(out, "</text>");
    for (guint c = 0; c < n; c++) {
      double v = jd(row, c), f = total > 0 ? v / total : 0;
      /* one hue, light to dark blue; the number is written on the cell */
      g_string_append_printf(out, "<rect class=\"cm-cell\" x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" "
                                  "fill=\"rgb(%d,%d,%d)\" stroke=\"#fff\"/><text x=\"%g\" y=\"%g\" text-anchor=\"middle\" "
                                  "style=\"fill:%s\">",
                             L + cell * c, T + cell * r, cell, cell, (int)(255 - 255 * f), (int)(255 - 141 * f),
                             (int)(255 - 77 * f), L + cell * c + cell / 2, T + cell * r + cell / 2 + 4,
                             f > .5 ? "#fff" : "#222");
      if (norm)
        g_string_append_printf(out, "%.2f", f);
      else
        lathe_report_number(out, v);
      g_string_append(out, "</text>");
    }
  }
  for (guint c = 0; c < n; c++) {
    g_string_append_printf(out, "<text transform=\"translate(%g,%g) rotate(-30)\">", L + cell * c + cell / 2 - 4, T - 4);
    lathe_report_escape(out, json_array_get_string_element(classes, c));
    g_string_append(out, "</text>");
  }
  g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">predicted class</text>"
                              "<text x=\"4\" y=\"14\">true class (rows)</text></svg>", L + size / 2, T + size + 20);
}

static void classification_section(GString *out, LatheStore *store, JsonArray *nodes) {
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member_with_default(n, "id", "");
    if (lathe_report_is_trial(id)) /* a trial's evaluator: the study section covers trials */
      continue;
    g_autoptr(JsonObject) t = lathe_report_class_table(store, n);
    if (!t)
      continue;
    JsonArray *classes = json_object_get_array_member(t, "classes");
    JsonArray *cm = json_object_get_array_member(t, "confusion_matrix");
    g_string_append(out, "<h3>Classification: ");
    lathe_report_escape(out, id);
    g_string_append(out, "</h3><div style=\"display:flex;gap:2em;flex-wrap:wrap\">");
    confusion_svg(out, id, classes, cm, FALSE);
    confusion_svg(out, id, classes, cm, TRUE);
    g_string_append(out, "</div><table class=\"per-class\"><tr><th class=\"l\">class</th><th>precision</th>"
                         "<th>recall</th><th>F1</th><th>support</th></tr>");
    JsonArray *per = json_object_get_array_member(t, "per_class");
    for (guint c = 0; c < json_array_get_length(per); c++) {
      JsonObject *r = json_array_get_object_element(per, c);
      g_string_append(out, "<tr><td class=\"l\">");
      lathe_report_escape(out, json_object_get_string_member(r, "class"));
      g_string_append(out, "</td>");
      const char *keys[] = {"precision", "recall", "f1", "support"};
      for (guint k = 0; k < 4; k++) {
        JsonNode *v = json_object_get_member(r, keys[k]);
        g_string_append(out, "<td>");
        lathe_report_number(out, v && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_double(v) : NAN);
        g_string_append(out, "</td>");
      }
      g_string_append(out, "</tr>");
    }
    g_string_append(out, "</table>\n");
  }
}

/* Per-epoch curves: one chart per model execution, a curve per reported
 * metric; "stopped_epoch"/"best_epoch" metrics (early stopping) are marked. */
static void curves_section(GString *out, JsonArray *nodes) {
  gboolean any = FALSE;
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    JsonArray *reps = json_object_get_array_member(n, "reports");
    const char *id = json_object_get_string_member_with_default(n, "id", "");
    if (!reps || !json_array_get_length(reps) || lathe_report_is_trial(id))
      continue;
    if (!any)
      g_string_append(out, "<h2>Training curves</h2>\n");
    any = TRUE;
    g_autoptr(JsonArray) series = json_array_new();
    g_autoptr(GHashTable) by = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint k = 0; k < json_array_get_length(reps); k++) {
      JsonObject *r = json_array_get_object_element(reps, k);
      const char *name = json_object_get_string_member(r, "name");
      JsonObject *s = g_hash_table_lookup(by, name);
      if (!s) {
        s = json_object_new();
        json_object_set_string_member(s, "name", name);
        json_object_set_array_member(s, "x", json_array_new());
        json_object_set_array_member(s, "y", json_array_new());
        json_array_add_object_element(series, s);
        g_hash_table_insert(by, (gpointer)name, s);
      }
      json_array_add_int_element(json_object_get_array_member(s, "x"), json_object_get_int_member(r, "step"));
      JsonNode *v = json_object_get_member(r, "value");
      json_array_add_double_element(json_object_get_array_member(s, "y"),
                                    v && !JSON_NODE_HOLDS_NULL(v) ? json_node_get_double(v) : NAN);
    }
    g_autoptr(JsonArray) marks = json_array_new();
    JsonObject *metrics = json_object_get_object_member(n, "metrics");
    const char *mk[][2] = {{"stopped_epoch", "early stop"}, {"best_epoch", "restored epoch"},
                           {"restored_epoch", "restored epoch"}};
    for (guint k = 0; metrics && k < G_N_ELEMENTS(mk); k++)
      if (json_object_has_member(metrics, mk[k][0])) {
        JsonObject *o = json_object_new();
        json_object_set_double_member(o, "x", json_object_get_double_member(metrics, mk[k][0]));
        json_object_set_string_member(o, "label", mk[k][1]);
        json_array_add_object_element(marks, o);
      }
    g_autofree char *title = g_strdup_printf("training curves of %s", id);
    lathe_report_line_chart(out, title, "epoch (step)", "value", series, marks);
  }
}

static void metrics_section(GString *out, JsonArray *nodes) {
  g_string_append(out, "<h2>Metrics</h2>\n<table class=\"metrics\"><tr><th class=\"l\">node</th>"
                       "<th class=\"l\">metric</th><th>value</th></tr>");
  guint rows = 0;
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member_with_default(n, "id", "");
    JsonObject *m = json_object_get_object_member(n, "metrics");
    if (lathe_report_is_trial(id) || !m)
      continue;
    g_autoptr(GList) names = json_object_get_members(m);
    for (GList *l = names; l; l = l->next, rows++) {
      JsonNode *v = json_object_get_member(m, l->data);
      g_string_append(out, "<tr><td class=\"l\">");
      lathe_report_escape(out, id);
      g_string_append(out, "</td><td class=\"l\">");
      lathe_report_escape(out, l->data);
      g_string_append(out, "</td><td>");
      lathe_report_number(out, v && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_double(v) : NAN);
      g_string_append(out, "</td></tr>");
    }
  }
  g_string_append(out, "</table>\n");
  if (!rows)
    g_string_append(out, "<p class=\"note\">This run recorded no metrics.</p>\n");
}

static void versions_section(GString *out, JsonArray *nodes) {
  g_string_append(out, "<h2>Data versions and plugins</h2>\n<table class=\"versions\"><tr><th class=\"l\">node</th>"
                       "<th class=\"l\">plugin</th><th class=\"l\">version</th><th class=\"l\">plugin digest</th>"
                       "<th class=\"l\">data</th><th class=\"l\">digest</th></tr>");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member_with_default(n, "id", "");
    if (lathe_report_is_trial(id))
      continue;
    JsonArray *dvs = json_object_get_array_member(n, "data_versions");
    guint k = 0, nd = dvs ? json_array_get_length(dvs) : 0;
    do {
      JsonObject *d = k < nd ? json_array_get_object_element(dvs, k) : NULL;
      g_string_append(out, "<tr><td class=\"l\">");
      lathe_report_escape(out, id);
      g_string_append(out, "</td><td class=\"l\">");
      lathe_report_escape(out, json_object_get_string_member_with_default(n, "plugin", ""));
      g_string_append(out, "</td><td class=\"l\">");
      lathe_report_escape(out, json_object_get_string_member_with_default(n, "plugin_version", ""));
      g_string_append(out, "</td><td class=\"l\"><code>");
      g_autofree char *pd = g_strndup(json_object_get_string_member_with_default(n, "plugin_digest", ""), 16);
      lathe_report_escape(out, pd);
      g_string_append(out, "</code></td><td class=\"l\">");
      lathe_report_escape(out, d ? json_object_get_string_member_with_default(d, "uri", "") : "");
      g_string_append(out, "</td><td class=\"l\"><code>");
      lathe_report_escape(out, d ? json_object_get_string_member_with_default(d, "digest", "") : "");
      g_string_append(out, "</code></td></tr>");
    } while (++k < nd);
  }
  g_string_append(out, "</table>\n");
}

gboolean lathe_report_one_run(GString *out, LatheStore *store, const char *ref, const LatheReportOptions *o,
                              GError **error) {
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonObject) run = lathe_store_show_run_flags(store, ref, LATHE_STORE_SHOW_NO_NESTED_REPORTS, &local);
  if (!run) {
    g_set_error(error, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_NOT_FOUND, "%s",
                local ? local->message : "no such run");
    return FALSE;
  }
  const char *id = json_object_get_string_member(run, "run_id");
  const char *status = json_object_get_string_member_with_default(run, "status", "");
  g_string_append(out, "<section class=\"run\"><h1>Run ");
  lathe_report_link(out, o, "runs", id);
  g_string_append(out, " — ");
  lathe_report_escape(out, json_object_get_string_member_with_default(run, "name", ""));
  g_string_append(out, "</h1>\n<p>status <span class=\"status\">");
  lathe_report_escape(out, status);
  g_string_append(out, "</span>");
  if (g_str_equal(status, "running"))
    g_string_append(out, " — the run is still running; this report shows what it has recorded so far");
  g_string_append(out, ", pipeline ");
  lathe_report_escape(out, json_object_get_string_member_with_default(run, "pipeline", ""));
  g_string_append_printf(out, ", seed %" G_GINT64_FORMAT "</p>\n", json_object_get_int_member_with_default(run, "seed", 0));
  JsonArray *all = json_object_get_array_member(run, "nodes");
  for (guint i = 0; all && i < json_array_get_length(all); i++) { /* the models it registered */
    JsonObject *n = json_array_get_object_element(all, i);
    JsonObject *params = json_object_has_member(n, "params") ? json_object_get_object_member(n, "params") : NULL;
    JsonNode *name = params ? json_object_get_member(params, "name") : NULL;
    if (!g_str_has_prefix(json_object_get_string_member_with_default(n, "component", ""), "registry/") ||
        !name || !JSON_NODE_HOLDS_VALUE(name) || json_node_get_value_type(name) != G_TYPE_STRING ||
        g_strcmp0(json_object_get_string_member_with_default(n, "status", ""), "succeeded"))
      continue;
    g_string_append(out, "<p>registered model ");
    lathe_report_link(out, o, "models", json_node_get_string(name));
    g_string_append(out, "</p>\n");
  }
  g_autofree char *ptext = lathe_store_run_pipeline(store, id);
  g_autoptr(JsonNode) pnode = ptext ? json_from_string(ptext, NULL) : NULL;
  JsonObject *pipeline = pnode && JSON_NODE_HOLDS_OBJECT(pnode) ? json_node_get_object(pnode) : NULL;
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  if (pipeline) {
    g_string_append(out, "<h2>Pipeline</h2>\n");
    lathe_report_graph(out, pipeline, run);
    g_string_append(out, "<h2>Timeline</h2>\n");
    lathe_report_timeline(out, pipeline, run);
  }
  metrics_section(out, nodes);
  curves_section(out, nodes);
  classification_section(out, store, nodes);
  for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    if (!lathe_report_is_trial(json_object_get_string_member_with_default(n, "id", "")) &&
        g_str_has_prefix(json_object_get_string_member_with_default(n, "component", ""), "evaluator/nab"))
      lathe_report_nab(out, store, n);
    else if (!lathe_report_is_trial(json_object_get_string_member_with_default(n, "id", "")) &&
             g_str_has_prefix(json_object_get_string_member_with_default(n, "component", ""), "evaluator/ab"))
      lathe_report_ab(out, store, n, o);
  }
  JsonArray *pn = pipeline && json_object_has_member(pipeline, "nodes") ? json_object_get_array_member(pipeline, "nodes") : NULL;
  for (guint i = 0; pn && i < json_array_get_length(pn); i++) {
    JsonObject *n = json_array_get_object_element(pn, i);
    if (json_object_has_member(n, "trial"))
      lathe_report_study(out, store, run, n, o);
  }
  versions_section(out, nodes);
  g_string_append(out, "</section>\n");
  return TRUE;
}

gboolean lathe_report_render(LatheStore *store, const char *const *run_ids, guint n_runs,
                             const LatheReportOptions *options, GString *out, GError **error) {
  g_return_val_if_fail(n_runs >= 1, FALSE);
  gboolean whole = !options || !options->fragment;
  if (whole) {
    g_autofree char *title = n_runs > 1 ? g_strdup_printf("Lathe: %u runs compared", n_runs)
                                        : g_strdup_printf("Lathe run %s", run_ids[0]);
    lathe_report_page_begin(out, title);
  }
  gboolean ok = n_runs > 1 ? lathe_report_compare(out, store, run_ids, n_runs, options, error)
                           : lathe_report_one_run(out, store, run_ids[0], options, error);
  if (ok && whole)
    lathe_report_page_end(out);
  return ok;
}
