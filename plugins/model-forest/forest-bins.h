/* forest-bins.h: per-feature quantile codes used while growing trees. */
#pragma once

#include "forest-internal.h"

G_BEGIN_DECLS

/**
 * LatheForestBins:
 * @codes: @d x @n codes, column-major (one feature's codes are contiguous).
 * @cuts: @d x (LATHE_FOREST_MAX_BINS - 1) cut values; feature j uses the
 *   first @n_cuts[j]. Code c means cut[c-1] < x <= cut[c].
 */
typedef struct {
  guint n, d;
  guint8 *codes;
  float *cuts;
  guint *n_cuts;
} LatheForestBins;

LatheForestBins *lathe_forest_bins_new(const float *x, guint n, guint d, guint threads);
void lathe_forest_bins_free(LatheForestBins *b);

G_END_DECLS
