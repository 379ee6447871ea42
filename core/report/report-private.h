/* report/report-private.h: what the report's files share (and its unit test). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "report/report.h"

/* Okabe–Ito, colour-blind safe; series i takes lathe_report_palette[i % 8]. */
extern const char *const lathe_report_palette[8];

/* Whether an execution id is a trial's node ("tune/3/model"): the study
 * draws those; a node id may hold any other '/' (it is store text). */
gboolean lathe_report_is_trial(const char *id);

/* A line chart: @series are {name, x: [..], y: [..]} (each becomes one
 * <path class="curve">); @marks (nullable) are vertical markers {x, label}. */
void lathe_report_line_chart(GString *out, const char *title, const char *xlabel,
                             const char *ylabel, JsonArray *series, JsonArray *marks);

/* The metrics artifact a node's "metrics" output names, read from the
 * store: (transfer full), NULL when the node has none or it cannot be read. */
JsonObject *lathe_report_node_metrics(LatheStore *store, JsonObject *node);

/* What a line chart may draw besides its curves: @bands {x0, x1, class,
 * label} shaded under them; @points {x, lane, class, shape: "tri" or
 * "cross", title} as markers in lanes along the bottom, lane k named
 * @lanes[k] in the right margin; @svg_class and @curve_class (nullable,
 * trusted text) are added to the <svg>'s and each curve's class. */
typedef struct {
  JsonArray *bands;
  JsonArray *points;
  const char *const *lanes;
  guint n_lanes;
  const char *svg_class;
  const char *curve_class;
} LatheReportOverlay;

/* lathe_report_line_chart() with an overlay (nullable). */
void lathe_report_line_chart_full(GString *out, const char *title, const char *xlabel, const char *ylabel,
                                  JsonArray *series, JsonArray *marks, const LatheReportOverlay *ov);

/* One run's report (report.c), and the comparison of several
 * (report-compare.c). */
gboolean lathe_report_one_run(GString *out, LatheStore *store, const char *ref, const LatheReportOptions *o,
                              GError **error);
gboolean lathe_report_compare(GString *out, LatheStore *store, const char *const *refs, guint n,
                              const LatheReportOptions *o, GError **error);

/* The pipeline graph and the timeline of a run (report-graph.c). */
void lathe_report_graph(GString *out, JsonObject *pipeline, JsonObject *run);
void lathe_report_timeline(GString *out, JsonObject *pipeline, JsonObject *run);
/* An evaluator/nab execution's scores (report-nab.c). */
void lathe_report_nab(GString *out, LatheStore *store, JsonObject *node);
/* An evaluator/ab execution's comparison, decision and its alias's history (report-ab.c). */
void lathe_report_ab(GString *out, LatheStore *store, JsonObject *node, const LatheReportOptions *options);
/* A tuner node's study (report-study.c). */
void lathe_report_study(GString *out, LatheStore *store, JsonObject *run, JsonObject *def,
                        const LatheReportOptions *options);
/* A run, model or study name: a link "PREFIX KIND/NAME" inside the UI
 * (options->link_prefix), plain text in a file. */
void lathe_report_link(GString *out, const LatheReportOptions *options, const char *kind, const char *name);

