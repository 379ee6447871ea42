/* lathe-json.h: canonical JSON, for digests and cache keys. */
#pragma once

/**
 * SECTION:lathe-json
 * @title: JSON
 * @short_description: canonical JSON, for digests and cache keys
 *
 * Canonical JSON gives equal values equal text, so their digests agree.
 */

#include "lathe-api.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * lathe_json_canonical:
 * @node: any JSON value.
 *
 * Writes @node with object keys sorted by byte order, no whitespace, integers
 * as integers and doubles with 17 significant digits, so equal values always
 * give equal text (the same rule for every cache key and metrics digest).
 *
 * Returns: (transfer full): the text.
 */
LATHE_API char *lathe_json_canonical(JsonNode *node);

/**
 * lathe_json_write:
 * @node: any JSON value.
 * @pretty: indent by two spaces, one member per line.
 *
 * Writes valid JSON in insertion order, doubles in the shortest form that
 * reads back exactly, non-finite numbers as null. Use it instead of
 * JsonGenerator, which in json-glib 1.6 writes 1e-08 as "1e-08.0".
 *
 * Returns: (transfer full): the text.
 */
LATHE_API char *lathe_json_write(JsonNode *node, gboolean pretty);

G_END_DECLS
