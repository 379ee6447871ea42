/* lathe-json.h: canonical JSON, for digests and cache keys. */
#pragma once

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
char *lathe_json_canonical(JsonNode *node);

G_END_DECLS
