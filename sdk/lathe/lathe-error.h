/* lathe-error.h: the error domain shared by the host and plugins. */
#pragma once

/**
 * SECTION:lathe-error
 * @title: Errors
 * @short_description: the error domain shared by the host and plugins
 *
 * Components report failures as a #GError, in %LATHE_ERROR or a domain of
 * their own; the host records the message.
 */

#include "lathe-api.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * LATHE_ERROR:
 *
 * The #GError domain of Lathe. Plugins may use it or their own domain; the
 * host only reads the message.
 */
#define LATHE_ERROR (lathe_error_quark())

/**
 * LatheErrorCode:
 * @LATHE_ERROR_INVALID: bad configuration or params (exit code 2).
 * @LATHE_ERROR_IO: a file or network operation failed.
 * @LATHE_ERROR_DATA: the input data is malformed (bad CSV row, corrupt blob).
 * @LATHE_ERROR_PLUGIN: a plugin was refused or misbehaved.
 * @LATHE_ERROR_CANCELLED: the work was cancelled.
 * @LATHE_ERROR_FAILED: anything else.
 * @LATHE_ERROR_RESOURCE: the machine ran out of something, not the work:
 *   memory (an allocation failed), threads (one could not be created), a
 *   resource limit. The host treats it as an interruption: a study reruns
 *   the trial, and the result is never cached. Older hosts read it as any
 *   other failure.
 * @LATHE_ERROR_UNAVAILABLE: a service is out of reach for now (down, timed
 *   out, answering 5xx after the retries): what failed may succeed later
 *   unchanged. A tracker callback that fails so leaves its event pending in
 *   the journal. Since: 1.7.
 *
 * The codes of %LATHE_ERROR.
 */
typedef enum {
  LATHE_ERROR_INVALID = 1,
  LATHE_ERROR_IO,
  LATHE_ERROR_DATA,
  LATHE_ERROR_PLUGIN,
  LATHE_ERROR_CANCELLED,
  LATHE_ERROR_FAILED,
  LATHE_ERROR_RESOURCE,
  LATHE_ERROR_UNAVAILABLE,
} LatheErrorCode;

/**
 * lathe_error_quark:
 *
 * The quark behind %LATHE_ERROR.
 *
 * Returns: the #GQuark of the Lathe error domain.
 */
LATHE_API GQuark lathe_error_quark(void);

G_END_DECLS
