/* lakefs-write.h: the lakeFS calls that change a repository, as sink/lakefs
 * makes them: branches, uploads, commits and tags.
 *
 * Retries: the HTTP layer resends a POST only when it is marked idempotent.
 * An upload of the same bytes to the same path, the creation of a branch or
 * a tag whose 409 is then checked, are safe to repeat and marked so; a
 * commit is not (a lost answer and a resend would make two commits), so a
 * commit is never retried.
 */
#pragma once

#include "lakefs.h"

G_BEGIN_DECLS

/**
 * lathe_lakefs_branch_head:
 *
 * GET /repositories/{repo}/branches/{branch}.
 *
 * Returns: (transfer full): the commit id the branch points at, or NULL with
 *   @error (LATHE_HTTP_ERROR, 404 when the repository or branch is missing).
 */
char *lathe_lakefs_branch_head(LatheLakefs *lk, const char *repo, const char *branch,
                               GCancellable *cancellable, GError **error);

/**
 * lathe_lakefs_ensure_branch:
 * @source: the ref a missing branch is created from ("main", a tag, a commit).
 * @created: (out) (optional): TRUE when this call created the branch.
 *
 * The branch's head, creating the branch from @source when it does not
 * exist (createBranch, 201). A branch another writer created in between
 * (409) is used as it is.
 *
 * Returns: (transfer full): the head commit id, or NULL with @error.
 */
char *lathe_lakefs_ensure_branch(LatheLakefs *lk, const char *repo, const char *branch,
                                 const char *source, gboolean *created,
                                 GCancellable *cancellable, GError **error);

/**
 * lathe_lakefs_upload:
 * @body: (transfer none): a request from lathe_lakefs_upload_request() with
 *   its body set (lathe_http_request_set_file() streams a large one).
 *
 * POST /repositories/{repo}/branches/{branch}/objects?path=PATH
 * (application/octet-stream), marked idempotent: the same bytes at the same
 * path stage the same object however often they are sent.
 *
 * Returns: (transfer full): the object's stats (path, checksum,
 *   size_bytes, ...), or NULL with @error.
 */
JsonObject *lathe_lakefs_upload(LatheLakefs *lk, LatheHttpRequest *body,
                                GCancellable *cancellable, GError **error);

/* Returns: (transfer full): the upload request for @path on @branch; set its
 * body with lathe_http_request_set_file() or _set_bytes() (octet-stream). */
LatheHttpRequest *lathe_lakefs_upload_request(const char *repo, const char *branch,
                                              const char *path);

/**
 * lathe_lakefs_commit:
 * @metadata: (nullable) (transfer none): string values only (the spec's
 *   map of strings).
 * @no_changes: (out): TRUE when lakeFS refused the commit because the
 *   branch has no changes (400 "no changes"); NULL is then returned without
 *   an error.
 *
 * POST /repositories/{repo}/branches/{branch}/commits, never retried.
 *
 * Returns: (transfer full) (nullable): the commit (id, parents, metadata,
 *   ...), or NULL with @error, or NULL with *@no_changes.
 */
JsonObject *lathe_lakefs_commit(LatheLakefs *lk, const char *repo, const char *branch,
                                const char *message, JsonObject *metadata,
                                gboolean *no_changes, GCancellable *cancellable,
                                GError **error);

/**
 * lathe_lakefs_create_tag:
 *
 * POST /repositories/{repo}/tags {id, ref}. A tag that already points at
 * @commit_id is left as it is (a rerun that changed nothing tags the same
 * commit); one that points elsewhere is an error (409) that names both
 * commits: tags are meant not to move.
 *
 * Returns: TRUE when @tag points at @commit_id.
 */
gboolean lathe_lakefs_create_tag(LatheLakefs *lk, const char *repo, const char *tag,
                                 const char *commit_id, GCancellable *cancellable,
                                 GError **error);

G_END_DECLS
