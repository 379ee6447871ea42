/* nc-model.h: the nearest-centroid model, kept apart from the plugin ABI so
 * that its math and its saved form can be tested without a Lathe host
 * (test-nc-model.c). Not part of any ABI. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * NC_STATE_VERSION:
 *
 * The format of the blobs nc_model_save() writes. Bump it when the layout
 * changes; nc_model_load() then refuses older blobs with a clear message
 * (or learns to read them).
 */
#define NC_STATE_VERSION 1

/**
 * NcParams:
 * @shrink: share in [0, 1] by which each class centroid moves toward the
 *   mean of all training rows (0: plain centroids, 1: all classes equal).
 * @temperature: > 0; the softmax runs over -distance^2 / @temperature.
 * @standardize: measure distances after scaling each feature to zero mean
 *   and unit variance of the training rows.
 */
typedef struct {
  double shrink;
  double temperature;
  gboolean standardize;
} NcParams;

/**
 * NcModel:
 * @n_features: D, the columns seen in training.
 * @n_classes: K, every class the training dataset declares, in its order
 *   (the host lists them in the model header in that order).
 * @standardize: whether @mean and @scale came from the data (else 0 and 1).
 * @temperature: the softmax temperature.
 * @shrink: the shrink used in training; the centroids already include it.
 * @mean: D values subtracted from each feature before measuring.
 * @scale: D values each feature is divided by (1 for constant features).
 * @centroids: K x D class centroids, row-major, in scaled space.
 * @counts: K training rows per class; a class with 0 rows gets probability 0.
 *
 * Read-only once built: predict may run on one instance from several threads
 * at once, so everything it needs per call lives on its own stack or heap.
 */
typedef struct {
  guint n_features;
  guint n_classes;
  gboolean standardize;
  double temperature;
  double shrink;
  float *mean;
  float *scale;
  float *centroids;
  guint32 *counts;
} NcModel;

/** nc_model_new: (transfer full) a zeroed model with its arrays allocated. */
NcModel *nc_model_new(guint n_features, guint n_classes);
/** nc_model_free: frees @model (nullable). */
void nc_model_free(NcModel *model);

/**
 * nc_model_fit:
 * @train: labelled rows.
 * @params: the training settings.
 * @error: return location for a #GError.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with @error set
 * when @train has no labels, no rows, non-finite values or fewer than two
 * classes with rows.
 */
NcModel *nc_model_fit(const LatheDataset *train, const NcParams *params, GError **error);

/**
 * nc_model_predict:
 * @model: a model.
 * @data: rows with the training columns.
 * @n_cols: (out): set to the number of classes.
 * @error: return location for a #GError.
 *
 * Returns: (transfer full) (nullable): @data->n_rows x @n_cols class
 * probabilities (each row sums to 1), or %NULL with @error set.
 */
float *nc_model_predict(const NcModel *model, const LatheDataset *data, guint *n_cols,
                        GError **error);

/** nc_model_save: (transfer full) the portable blob of @model (nc-state.c). */
GBytes *nc_model_save(const NcModel *model);

/**
 * nc_model_load:
 * @state: bytes from nc_model_save().
 * @version: the state version the host recorded with them.
 * @error: return location for a #GError.
 *
 * Refuses, with %LATHE_ERROR_DATA, any blob it cannot read: another version,
 * truncation, a flipped bit, inconsistent sizes or values.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with @error set.
 */
NcModel *nc_model_load(GBytes *state, guint32 version, GError **error);

G_END_DECLS
