/* nn-train.h: the training loop: shuffled minibatches, Adam, validation,
 * early stopping, reports, cancellation and divergence. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "nn-net.h"

G_BEGIN_DECLS

/**
 * LatheNnTrainConfig:
 * @epochs: the most passes over the training rows.
 * @batch_size: rows per Adam step (>= 1; capped at the training rows).
 * @patience: epochs without improvement before stopping; 0 = never stop
 *   early (and keep the last weights).
 * @min_delta: how much the watched loss must fall to count as improving.
 * @lr, @beta1, @beta2, @eps, @weight_decay: Adam's (see #LatheNnAdam).
 */
typedef struct {
  guint epochs;
  guint batch_size;
  guint patience;
  double min_delta;
  double lr, beta1, beta2, eps, weight_decay;
} LatheNnTrainConfig;

/**
 * LatheNnTrainResult:
 * @epochs_run: epochs completed.
 * @best_epoch: the epoch (from 1) with the lowest watched loss.
 * @best_loss: that loss: the validation loss, or the training loss when
 *   there is no validation set (@watched_valid %FALSE).
 * @best_val_accuracy: the validation accuracy at @best_epoch, or NAN.
 * @last_loss: the training loss of the last epoch run.
 * @watched_valid: whether early stopping watched a validation set.
 * @stopped_early: whether patience ran out before @epochs.
 */
typedef struct {
  guint epochs_run;
  guint best_epoch;
  double best_loss;
  double best_val_accuracy;
  double last_loss;
  gboolean watched_valid;
  gboolean stopped_early;
} LatheNnTrainResult;

/**
 * LatheNnSplit:
 * @ds: a labelled dataset, already checked (lathe_nn_data_check()).
 * @rows: the @n rows of @ds that belong to this side.
 * @n: how many.
 */
typedef struct {
  const LatheDataset *ds;
  const guint32 *rows;
  guint n;
} LatheNnSplit;

/**
 * lathe_nn_train:
 * @net: a net built for training with a max batch of at least
 *   min(batch_size, training rows), its weights initialised.
 * @ctx: the node: its rng stream (the per-epoch shuffles), a stream derived
 *   from its seed (dropout), reports, progress and cancellation.
 * @who: the error prefix naming the component and the node.
 * @train: the training rows (n >= 1).
 * @valid: (nullable): the validation rows; %NULL or empty for none.
 * @class_weight: n_classes loss weights.
 *
 * Trains with Adam on minibatches reshuffled every epoch. After each epoch it
 * reports "loss" (the mean of the epoch's batch losses), "val_loss" (the
 * same class-weighted cross-entropy, on the validation rows) and
 * "val_accuracy" when there are validation rows, and "epoch_seconds", and
 * updates the progress. With patience > 0 it stops when
 * the watched loss has not improved by min_delta for patience epochs and
 * restores the weights of the best epoch. Fails with %LATHE_ERROR_CANCELLED
 * when the context is cancelled (checked before every batch), and with
 * %LATHE_ERROR_FAILED when a loss or a weight stops being finite.
 */
gboolean lathe_nn_train(LatheNnNet *net, LatheContext *ctx, const char *who,
                        const LatheNnSplit *train, const LatheNnSplit *valid,
                        const double *class_weight, const LatheNnTrainConfig *cfg,
                        LatheNnTrainResult *res, GError **error);

G_END_DECLS
