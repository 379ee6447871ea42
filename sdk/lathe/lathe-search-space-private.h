/* lathe-search-space-private.h: how the host builds a tuner's search space.
 * Not installed: tuners only read the space (lathe-search-space.h). */
#pragma once

#include "lathe-search-space.h"

G_BEGIN_DECLS

LATHE_API LatheSearchSpace *lathe_search_space_new(void);
LATHE_API void lathe_search_space_add(LatheSearchSpace *space, const char *name,
                                      JsonNode *spec, const LatheParamSpec *param);
LATHE_API void lathe_search_space_free(LatheSearchSpace *space);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheSearchSpace, lathe_search_space_free)

G_END_DECLS
