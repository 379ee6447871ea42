/* report/report.h: pictures of runs, as self-contained HTML with inline SVG.
 *
 * The one renderer behind `lathe report` (a file that opens from disk, with
 * no CDN and at most a little inline script) and the run pages of `lathe ui`
 * (the same markup, embedded in the UI's page chrome, links into the UI).
 * It only reads: the run store, the registry for alias history (through
 * LatheReportOptions.registry), the pipeline JSON a run recorded. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lathe-registry.h"
#include "store/store.h"

G_BEGIN_DECLS

/**
 * LatheReportError:
 * @LATHE_REPORT_ERROR_NOT_FOUND: a run id (or prefix) that the store does not hold.
 * @LATHE_REPORT_ERROR_SCHEMA: a store whose schema is older than this binary reads.
 * @LATHE_REPORT_ERROR_FAILED: anything else (I/O, a corrupt artifact).
 *
 * Error codes of %LATHE_REPORT_ERROR; `lathe report` exits 2 on NOT_FOUND and
 * SCHEMA (the user named the wrong thing), `lathe ui` answers 404 and 409.
 *
 * Since: 1.9
 */
typedef enum {
  LATHE_REPORT_ERROR_NOT_FOUND,
  LATHE_REPORT_ERROR_SCHEMA,
  LATHE_REPORT_ERROR_FAILED,
} LatheReportError;

#define LATHE_REPORT_ERROR (lathe_report_error_quark())
GQuark lathe_report_error_quark(void);

/**
 * LatheReportOptions:
 * @fragment: %TRUE for the report's body only (no `<html>`, no `<style>`),
 *   to embed in a page that already carries lathe_report_page_begin();
 *   %FALSE for a whole self-contained document.
 * @link_prefix: (nullable): where links to other runs, models and studies
 *   point ("/" inside `lathe ui`, giving "/runs/ID"); %NULL in a file, where
 *   such names are plain text.
 * @registry: (nullable): gives the model registry (owned by the caller) or
 *   %NULL, for the alias history under an A/B decision; called at most once
 *   per section, and only when a run has an A/B to show, so a report without
 *   one never opens the registry. The report only reads it. %NULL: no history.
 * @registry_data: passed to @registry.
 *
 * Since: 1.9
 */
typedef struct {
  gboolean fragment;
  const char *link_prefix;
  LatheRegistry *(*registry)(gpointer registry_data);
  gpointer registry_data;
} LatheReportOptions;

/**
 * lathe_report_render:
 * @store: the run store, opened read-only is enough
 * @run_ids: (array length=n_runs): run ids or unique prefixes; one run gives
 *   its report, several give the comparison
 * @n_runs: how many, at least 1
 * @options: (nullable): %NULL for a whole document with no links
 * @out: the HTML is appended here
 * @error: a #LATHE_REPORT_ERROR naming the run
 *
 * Renders the report of one run, or the comparison of several. A run still
 * in progress, with no metrics or with NaN metrics renders what it has and
 * says so; it is not an error.
 *
 * Returns: %TRUE on success; on failure @out may hold a partial page.
 *
 * Since: 1.9
 */
gboolean lathe_report_render(LatheStore *store, const char *const *run_ids, guint n_runs,
                             const LatheReportOptions *options, GString *out, GError **error);

/**
 * lathe_report_page_begin:
 * @out: appended to
 * @title: the page title, escaped here
 *
 * The start of a whole HTML document with the report's inline stylesheet
 * (colour-blind safe palette, light and print friendly), up to and including
 * `<body>`: `lathe ui` wraps every page in it so all pages look alike.
 *
 * Since: 1.9
 */
void lathe_report_page_begin(GString *out, const char *title);

/**
 * lathe_report_page_end:
 * @out: appended to
 *
 * Closes what lathe_report_page_begin() opened.
 *
 * Since: 1.9
 */
void lathe_report_page_end(GString *out);

/**
 * lathe_report_escape:
 * @out: appended to
 * @text: (nullable): any text from the store (node ids, metric names, params)
 *
 * Appends @text escaped for HTML text and attribute values (&, <, >, ", ').
 * Every string that comes from the store goes through this.
 *
 * Since: 1.9
 */
void lathe_report_escape(GString *out, const char *text);

/**
 * lathe_report_number:
 * @out: appended to
 * @v: any double
 *
 * Appends @v as every page prints a number: "NaN", "inf", "-inf", or %.4g.
 *
 * Since: 1.9
 */
void lathe_report_number(GString *out, double v);

/**
 * lathe_report_alias_history:
 * @out: appended to
 * @hist: (transfer none): alias moves as lathe_registry_alias_history() or
 *   lathe_registry_model_history() list them, oldest first
 * @options: (nullable): its link_prefix makes each run a link (the UI)
 *
 * Appends the table of alias moves (when, alias, from and to version, reason,
 * user, run, figures), every string escaped: the one rendering the report's
 * A/B section and the UI's model page share.
 *
 * Since: 1.9
 */
void lathe_report_alias_history(GString *out, JsonArray *hist, const LatheReportOptions *options);

/**
 * lathe_report_class_table:
 * @store: the run store
 * @node: (transfer none): an execution as lathe_store_show_run() lists it
 *
 * The classification table of an evaluator/classification execution, read
 * from its metrics artifact: `lathe report` draws it, `lathe runs show`
 * prints it.
 *
 * Returns: (transfer full) (nullable): {classes, confusion_matrix (rows the
 * truth, columns the prediction), per_class: [{class, precision, recall, f1,
 * support}]}, or %NULL when @node has no such artifact.
 *
 * Since: 1.9
 */
JsonObject *lathe_report_class_table(LatheStore *store, JsonObject *node);

G_END_DECLS
