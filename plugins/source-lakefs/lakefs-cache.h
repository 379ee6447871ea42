/* lakefs-cache.h: what source/lakefs keeps between runs, under the user's
 * cache folder ($LATHE_CACHE_DIR, else g_get_user_cache_dir()/lathe):
 *   lakefs-objects/CHECKSUM   downloaded objects, by checksum, bounded in
 *                             size (LRU by mtime; LATHE_LAKEFS_CACHE_MB,
 *                             default 2048)
 *   lakefs-listings/KEY.json  object listings at a commit, which never change
 * Every file is written under a unique temporary name and renamed, so two
 * processes sharing the folder never see half a file.
 */
#pragma once

#include "lakefs-read.h"

G_BEGIN_DECLS

#define LATHE_LAKEFS_CACHE_DEFAULT_MB 2048

/* Returns: (transfer full): the folder @sub of the cache (created). */
char *lathe_lakefs_cache_dir(const char *sub, GError **error);

/* Returns: (transfer full): where the object with @checksum is cached. */
char *lathe_lakefs_cache_object_path(const char *objects_dir, const char *checksum);

/* Returns: (transfer full): a fresh temporary name beside @final. */
char *lathe_lakefs_cache_temp_path(const char *final);

/* Whether @path is cached (a regular file); a hit is touched for the LRU. */
gboolean lathe_lakefs_cache_hit(const char *path);

/* Removes the least recently used objects until the folder holds at most
 * the bound, never one whose path is in @keep (the current run's). */
void lathe_lakefs_cache_trim(const char *objects_dir, GHashTable *keep);

/* The listing of @prefix at @commit, or NULL when not cached. */
GPtrArray *lathe_lakefs_listing_load(const char *endpoint, const char *repo,
                                     const char *commit, const char *prefix);
/* Caches a listing (best effort: a cache that cannot be written is skipped). */
void lathe_lakefs_listing_save(const char *endpoint, const char *repo, const char *commit,
                               const char *prefix, GPtrArray *objects);

G_END_DECLS
