/* lathe-search-space.h: the search space a tuner explores. */
#pragma once

/**
 * SECTION:lathe-search-space
 * @title: Search spaces
 * @short_description: the search space a tuner explores
 *
 * A tuner reads the dimensions of its node's `space` param here; the host
 * builds the space.
 */

#include "lathe-api.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lathe-plugin.h"

G_BEGIN_DECLS

/**
 * LatheSearchSpace:
 *
 * The dimensions declared in a tuner node's `space` param. Each has a name
 * ("model.l2": node id and param of the trial sub-graph), its JSON spec as
 * written (a list of values for grid), and the param it targets, whose
 * declared type and bounds tuners use as defaults. Owned by the host.
 */
typedef struct _LatheSearchSpace LatheSearchSpace;

LATHE_API guint lathe_search_space_n_dims(const LatheSearchSpace *space);
/** lathe_search_space_dim_name: (transfer none). */
LATHE_API const char *lathe_search_space_dim_name(const LatheSearchSpace *space, guint i);
/** lathe_search_space_dim_spec: (transfer none) the JSON as written. */
LATHE_API JsonNode *lathe_search_space_dim_spec(const LatheSearchSpace *space, guint i);
/** lathe_search_space_dim_param: (transfer none) the target's declaration. */
LATHE_API const LatheParamSpec *lathe_search_space_dim_param(const LatheSearchSpace *space,
                                                             guint i);

G_END_DECLS
