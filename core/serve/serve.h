/* serve.h: `lathe serve`, registered models behind HTTP (core/serve/).
 * Above registry and engine, below cli. */
#pragma once

#include <json-glib/json-glib.h>
#include <lathe/lathe-sdk.h>

#include "catalog/catalog.h"
#include "lathe-registry.h"

G_BEGIN_DECLS

typedef struct {
  const char *bind;    /* default 127.0.0.1 */
  guint port;          /* 0: a free port */
  gsize max_body;      /* bytes; larger bodies get 413 */
  gboolean json;       /* print the startup line as JSON */
  int access_log_fd;   /* JSON lines; -1: none */
  guint timeout_ms;    /* to receive a whole request (0: none) */
} LatheServeOptions;

/**
 * lathe_serve_run:
 * @specs: NAME@ALIAS (or NAME@VERSION) strings, %NULL-terminated.
 *
 * Loads every model, listens, and serves until SIGTERM or SIGINT; the request
 * being answered when the signal comes is finished first.
 * Returns: an exit code (0, 1 when a model or the port fails, 2 for usage).
 */
int lathe_serve_run(LatheCatalog *cat, LatheRegistry *reg, char **specs,
                    const LatheServeOptions *opt, GError **error);

/* serve-input.c: a request body into rows in @cols's order (finite numbers only). */
LatheDataset *lathe_serve_parse(JsonNode *root, JsonArray *cols, GError **error);
LatheDataset *lathe_serve_parse_v2(JsonNode *root, JsonArray *cols, GError **error);

G_END_DECLS
