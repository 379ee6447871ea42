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

/**
 * lathe_search_space_n_dims:
 * @space: a search space.
 *
 * The dimensions of the space.
 *
 * Returns: how many.
 */
LATHE_API guint lathe_search_space_n_dims(const LatheSearchSpace *space);
/**
 * lathe_search_space_dim_name:
 * @space: a search space.
 * @i: a dimension, below lathe_search_space_n_dims().
 *
 * The name of a dimension: the node id and param of the trial sub-graph ("model.l2").
 *
 * Returns: (transfer none): the name.
 */
LATHE_API const char *lathe_search_space_dim_name(const LatheSearchSpace *space, guint i);
/**
 * lathe_search_space_dim_spec:
 * @space: a search space.
 * @i: a dimension, below lathe_search_space_n_dims().
 *
 * The JSON spec of a dimension, as written.
 *
 * Returns: (transfer none): the spec.
 */
LATHE_API JsonNode *lathe_search_space_dim_spec(const LatheSearchSpace *space, guint i);
/**
 * lathe_search_space_dim_param:
 * @space: a search space.
 * @i: a dimension, below lathe_search_space_n_dims().
 *
 * The declaration of the param a dimension targets; tuners take its type and bounds as defaults.
 *
 * Returns: (transfer none): the param spec.
 */
LATHE_API const LatheParamSpec *lathe_search_space_dim_param(const LatheSearchSpace *space,
                                                             guint i);

G_END_DECLS
