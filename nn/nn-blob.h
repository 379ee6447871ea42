/* nn-blob.h: the saved form of a trained network. */
#pragma once

#include <glib.h>

#include "nn-layer.h"

G_BEGIN_DECLS

/** LATHE_NN_STATE_VERSION: the blob format version (the models' state_version). */
#define LATHE_NN_STATE_VERSION 1

/**
 * LatheNnBlob:
 * @family: "mlp", "cnn1d", "rnn" or "lstm".
 * @arch_json: the architecture params as canonical JSON (an object).
 * @in: the input shape the net was trained on.
 * @n_classes: outputs of the head.
 * @epochs_run, @best_epoch, @best_loss, @watched_valid, @stopped_early: what
 *   training did (see #LatheNnTrainResult), for the summary.
 * @n_params: the length of @params.
 * @params: the flat weights.
 *
 * What a blob holds, decoded. The blob itself (all little-endian):
 *
 *     "LATHENN1"  u32 format version
 *     u32 len, family name     u32 len, architecture JSON
 *     u32 steps  u32 channels  u32 n_classes
 *     u32 epochs_run  u32 best_epoch  u32 flags (1 stopped early, 2 watched
 *       a validation set)  f64 best_loss
 *     u64 n_params   f32 params[n_params]
 *     the 32-byte SHA-256 of everything before
 */
typedef struct {
  char *family;
  char *arch_json;
  LatheNnShape in;
  guint n_classes;
  guint epochs_run;
  guint best_epoch;
  double best_loss;
  gboolean watched_valid;
  gboolean stopped_early;
  gsize n_params;
  nn_real *params;
} LatheNnBlob;

/** lathe_nn_blob_write: (transfer full) the bytes of @blob (deterministic). */
GBytes *lathe_nn_blob_write(const LatheNnBlob *blob);

/**
 * lathe_nn_blob_read:
 * @bytes: a blob.
 * @who: the error prefix ("model/mlp").
 * @out: (out caller-allocates): filled on success; free with
 *   lathe_nn_blob_clear().
 *
 * Checks every length against the size before reading it, the exact size,
 * then the checksum before trusting anything, then the values (finite weights
 * and loss, epochs consistent, non-empty shapes). Refuses anything else with
 * %LATHE_ERROR_DATA.
 */
gboolean lathe_nn_blob_read(GBytes *bytes, const char *who, LatheNnBlob *out, GError **error);

/** lathe_nn_blob_clear: frees what @blob holds (not @blob itself). */
void lathe_nn_blob_clear(LatheNnBlob *blob);

G_END_DECLS
