/* plugin-cache.h: small JSON caches in the user's cache directory, so that
 * commands need not open every plugin (and OpenBLAS) to learn what is there.
 * A cache is an optimisation only: unreadable or stale, it is rebuilt. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * lathe_cache_read:
 * @name: the cache ("plugins", "blas").
 *
 * Reads $LATHE_CACHE_DIR (default: the user cache dir + "/lathe") /
 * NAME-VERSION.json, written by this Lathe version only.
 *
 * Returns: (transfer full): its object, or an empty one.
 */
JsonObject *lathe_cache_read(const char *name);

/** lathe_cache_write: replaces the cache @name (temp file, then rename);
 * failures are ignored. */
void lathe_cache_write(const char *name, JsonObject *obj);

G_END_DECLS
