/* graph-file.h: reading a pipeline file safely (private to core/graph). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A pipeline holds nodes and params, never data: 16 MiB is far past any real
 * one (the largest example is a few KB) and bounds what a wrong path such as
 * /dev/zero or a data file can cost. */
#define LATHE_PIPELINE_MAX_BYTES ((gsize)16 << 20)

/**
 * lathe_graph_read_file:
 * @path: the pipeline file.
 * @text: (out): its bytes, NUL-terminated.
 * @len: (out): their length.
 * @error: return location for a #GError.
 *
 * Reads @path only when it is a regular file of at most
 * %LATHE_PIPELINE_MAX_BYTES bytes. The type and size are checked on the
 * descriptor, opened without blocking, so a FIFO or a device is refused
 * rather than waited on or read forever, and a file growing after the check
 * is still cut at the limit.
 *
 * Returns: %FALSE with @error set to one line saying what to do.
 */
gboolean lathe_graph_read_file(const char *path, char **text, gsize *len, GError **error);

G_END_DECLS
