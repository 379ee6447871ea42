/* lakefs-cancel.h: a node's cancellation as a GCancellable for the HTTP layer.
 *
 * The host cancels a node by a flag (lathe_context_is_cancelled()); a request
 * blocked on the network only stops for a GCancellable. A watcher thread
 * turns the one into the other, so Ctrl-C stops an upload or a download
 * within a tenth of a second instead of at its end.
 */
#pragma once

#include <gio/gio.h>
#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

typedef struct _LatheLakefsCancel LatheLakefsCancel;

/* Returns: (transfer full): the watcher; never NULL (without a thread, the
 * cancellable is only checked by lathe_lakefs_cancel_get() callers). */
LatheLakefsCancel *lathe_lakefs_cancel_watch(LatheContext *ctx);
/* Returns: (transfer none): fires once the node is cancelled. */
GCancellable *lathe_lakefs_cancel_get(LatheLakefsCancel *w);
/* Stops the thread and frees the watcher. */
void lathe_lakefs_cancel_free(LatheLakefsCancel *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheLakefsCancel, lathe_lakefs_cancel_free)

G_END_DECLS
