/* lathe-search-space.h: the search space a tuner explores. */
#pragma once

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

guint lathe_search_space_n_dims(const LatheSearchSpace *space);
/** lathe_search_space_dim_name: (transfer none). */
const char *lathe_search_space_dim_name(const LatheSearchSpace *space, guint i);
/** lathe_search_space_dim_spec: (transfer none) the JSON as written. */
JsonNode *lathe_search_space_dim_spec(const LatheSearchSpace *space, guint i);
/** lathe_search_space_dim_param: (transfer none) the target's declaration. */
const LatheParamSpec *lathe_search_space_dim_param(const LatheSearchSpace *space,
                                                   guint i);

/* Host side. */
LatheSearchSpace *lathe_search_space_new(void);
void lathe_search_space_add(LatheSearchSpace *space, const char *name,
                            JsonNode *spec, const LatheParamSpec *param);
void lathe_search_space_free(LatheSearchSpace *space);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheSearchSpace, lathe_search_space_free)

G_END_DECLS
