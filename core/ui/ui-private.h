/* ui/ui-private.h: what the files of `lathe ui` share (ui.c the server, the
 * runs and studies pages; ui-models.c the model registry pages). */
#pragma once

#include <json-glib/json-glib.h>

#include "lathe-http-server.h"
#include "ui/ui.h"

G_BEGIN_DECLS

typedef struct {
  const LatheUiOptions *opt;
  GMainLoop *loop;
} LatheUi;

/* The page head, the shared stylesheet and the navigation bar. */
void lathe_ui_html_begin(LatheHttpExchange *ex, const char *title);
/* An error page (or JSON {error, code} when the client asks for JSON). */
void lathe_ui_fail(LatheHttpExchange *ex, guint status, const char *msg);
/* The HTTP status of a store, report or registry error. */
guint lathe_ui_status_of(const GError *e);
/* A metric's value: "%.4g", or "NaN" for what is not a finite number. */
void lathe_ui_metric_value(GString *o, JsonNode *v);
/* <a href="PREFIX/ID">ID</a>, the id URI-escaped in the link and HTML-escaped in the text. */
void lathe_ui_link(GString *o, const char *prefix, const char *id);

/* ui-models.c: /models and /models/NAME */
void lathe_ui_models_page(LatheHttpExchange *ex, gpointer data);
void lathe_ui_model_page(LatheHttpExchange *ex, gpointer data);

G_END_DECLS
