/* lakefs-read.h: the read side of the lakeFS API (lakefs-read.c): a ref
 * resolved to its commit, objects listed page by page, one object streamed
 * to a file with its checksum checked, and the 404s explained with a
 * did-you-mean. On lakefs.h; every request goes through http/.
 */
#pragma once

#include "lakefs.h"

G_BEGIN_DECLS

/**
 * LatheLakefsObject:
 * @path: the object's path in the repository.
 * @checksum: lakeFS's checksum (MD5 hex for single-part objects).
 * @size: its size in bytes.
 */
typedef struct {
  char *path;
  char *checksum;
  guint64 size;
} LatheLakefsObject;

void lathe_lakefs_object_free(LatheLakefsObject *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheLakefsObject, lathe_lakefs_object_free)

/**
 * lathe_lakefs_resolve_ref:
 * @repo: the repository.
 * @ref: a branch, a tag or a commit id (also ~N, ^N).
 *
 * One API call (logCommits, amount 1), whatever kind of ref it is. A 404 is
 * explained by lathe_lakefs_explain_missing() (a few more calls).
 *
 * Returns: (transfer full): the commit id, or NULL with @error set.
 */
char *lathe_lakefs_resolve_ref(LatheLakefs *lk, const char *repo, const char *ref,
                               GCancellable *cancellable, GError **error);

/**
 * lathe_lakefs_list_objects:
 * @ref: best a commit id: a listing at a commit never changes.
 * @prefix: "" or a prefix; every object below it, recursively.
 *
 * Pages through objects/ls (amount 1000, after) until has_more is false.
 *
 * Returns: (transfer full) (element-type LatheLakefsObject): the objects in
 *   path order, or NULL with @error set.
 */
GPtrArray *lathe_lakefs_list_objects(LatheLakefs *lk, const char *repo, const char *ref,
                                     const char *prefix, GCancellable *cancellable,
                                     GError **error);

/**
 * lathe_lakefs_download:
 * @o: the object, as listed: its size and checksum are checked.
 * @dest: the file to write; it exists only when the whole object arrived and
 *   matched (lathe_http_client_download() writes DEST.part first).
 *
 * Streams the object at @ref to @dest. A 32-hex checksum is an MD5 and must
 * match the bytes; another (an S3 multipart ETag) is checked by size only.
 * A mismatch is a one-line error naming the object and both checksums.
 *
 * Returns: %TRUE when @dest holds the object.
 */
gboolean lathe_lakefs_download(LatheLakefs *lk, const char *repo, const char *ref,
                               const LatheLakefsObject *o, const char *dest,
                               GCancellable *cancellable, GError **error);

/**
 * lathe_lakefs_explain_missing:
 * @ref: (nullable): the ref that was asked for.
 * @path: (nullable): the path that was asked for.
 * @commit: (nullable): where @path was looked for.
 *
 * Builds the one-line error for a 404: which of the repository, the ref or
 * the path is missing, with a did-you-mean over the repositories, the
 * branches and tags, or the paths beside @path. Its own requests' failures
 * only shorten the message.
 *
 * Returns: (transfer full): the message.
 */
char *lathe_lakefs_explain_missing(LatheLakefs *lk, const char *repo, const char *ref,
                                   const char *path, const char *commit,
                                   GCancellable *cancellable);

G_END_DECLS
