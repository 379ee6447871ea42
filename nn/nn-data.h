/* nn-data.h: from datasets to batches: input checks, the input shape, the
 * held-out validation split, class weights and row gathering. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "nn-layer.h"

G_BEGIN_DECLS

/**
 * lathe_nn_data_shape:
 * @who: the error prefix ("model/mlp node 'm'").
 *
 * The shape of one sample of @ds: {1, n_cols} for a table, {seq_len,
 * channels} for a sequence dataset.
 */
gboolean lathe_nn_data_shape(const LatheDataset *ds, const char *who, LatheNnShape *shape,
                             GError **error);

/**
 * lathe_nn_data_check:
 * @what: how the error names the data ("training", "validation", "input").
 * @labelled: also require a valid label on every row.
 *
 * Refuses, with one line naming the row (and column), a missing label
 * column, a row without a label, a non-finite value, or a sequence length
 * outside 1..seq_len.
 */
gboolean lathe_nn_data_check(const LatheDataset *ds, const char *who, const char *what,
                             gboolean labelled, GError **error);

/**
 * lathe_nn_data_split:
 * @fraction: the share of rows to hold out, in [0, 1).
 * @rng: the stream the split draws from.
 * @train: (out) (transfer full): the training row indices, ascending.
 * @valid: (out) (transfer full): the held-out rows, ascending; empty when
 *   @fraction leaves none.
 *
 * A stratified hold-out of a labelled dataset. When it has groups, whole
 * groups go to one side (rows with group -1 are their own group), so no group
 * is on both sides. Units (groups or rows) are visited in a random order and
 * each is held out when that brings every class's held-out count closer to
 * @fraction of its rows, and never when it would leave a class without
 * training rows.
 */
void lathe_nn_data_split(const LatheDataset *ds, double fraction, LatheRng *rng,
                         GArray **train, GArray **valid);

/**
 * lathe_nn_class_weights:
 * @balanced: %FALSE for all 1; %TRUE for n / (n_classes x count_c) over
 *   @rows (as scikit-learn's "balanced"), 0 for a class without rows.
 *
 * Returns: (transfer full): n_classes weights.
 */
double *lathe_nn_class_weights(const LatheDataset *ds, const guint32 *rows, guint n,
                               gboolean balanced);

/**
 * lathe_nn_gather:
 * @rows: @n row indices of @ds.
 * @x: (out): @n samples, converted to nn_real.
 * @len: (out): their valid steps (1 for a table, seq_len without lengths).
 * @labels: (out) (nullable): their labels.
 *
 * Copies rows into a contiguous batch.
 */
void lathe_nn_gather(const LatheDataset *ds, const guint32 *rows, guint n, nn_real *x,
                     guint32 *len, gint32 *labels);

G_END_DECLS
