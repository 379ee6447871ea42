/* ui/ui.h: `lathe ui`, a read-only web UI over the run store (docs/ui.md). */
#pragma once

#include <glib.h>

#include "catalog/catalog.h"

G_BEGIN_DECLS

typedef struct {
  const char *store_dir;
  const char *bind; /* NULL: 127.0.0.1 */
  guint port;       /* 0: a free one */
  gboolean json;
  LatheCatalog *catalog; /* opens the registry (/models); NULL: those pages say so */
} LatheUiOptions;

/* Serves until SIGINT/SIGTERM; returns an exit code (0, 1 listen failed). */
int lathe_ui_run(const LatheUiOptions *opt, GError **error);

G_END_DECLS
