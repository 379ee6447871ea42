/* nn-shards.h: one training or validation batch split over threads
 * (data parallelism), deterministic for a given thread count. */
#pragma once

#include "nn-adam.h"
#include "nn-net.h"

G_BEGIN_DECLS

/**
 * LatheNnShards:
 *
 * A net, T - 1 replicas of it (lathe_nn_net_new_replica()) and a pool of T
 * tasks (nn-parallel.h). A batch of n rows is cut into T contiguous shards,
 * shard s being rows [s n / T, (s + 1) n / T): a fixed split, so the same
 * batch always gives the same shards. Shard 0 runs on the net itself, on the
 * calling thread; shard s > 0 on replica s, on worker s.
 */
typedef struct _LatheNnShards LatheNnShards;

/**
 * lathe_nn_shards_new:
 * @net: a net built for training; its max batch bounds the batches.
 * @n_shards: T >= 2.
 *
 * Returns: (transfer full) (nullable): the shards, or %NULL with @error set
 * when the replicas do not fit in memory or a thread cannot start.
 */
LatheNnShards *lathe_nn_shards_new(LatheNnNet *net, guint n_shards, GError **error);
void lathe_nn_shards_free(LatheNnShards *sh);

/**
 * lathe_nn_shards_train_step:
 * @n: the batch's rows (<= the net's max batch).
 * @x, @len, @labels: the batch, as for lathe_nn_net_train_step().
 * @class_weight: (nullable): as for lathe_nn_net_train_step().
 * @drop: the dropout stream: one seed per shard is drawn from it, in shard
 *   order, before the shards run, so the masks depend only on the stream and
 *   the thread count, never on timing.
 *
 * Forward and backward of every shard at once, each into its own net's
 * gradients, which must be zero (as lathe_nn_adam_step() and
 * lathe_nn_shards_update() leave them). Each shard divides its loss by @n,
 * so the shards' gradients sum to the gradient of the batch's mean loss:
 * call lathe_nn_shards_update() next.
 *
 * Returns: the batch loss (the shards' shares added in shard order).
 */
double lathe_nn_shards_train_step(LatheNnShards *sh, guint n, const nn_real *x,
                                  const guint32 *len, const gint32 *labels,
                                  const double *class_weight, LatheRng *drop);

/**
 * lathe_nn_shards_update:
 * @adam: (nullable): the optimiser; %NULL only sums the gradients.
 *
 * After lathe_nn_shards_train_step(): sums the shards' gradients in shard
 * order into the net's (lathe_nn_net_grads()), zeroes the replicas', and
 * takes one Adam step on the net's parameters, which zeroes the net's
 * gradients. The threads each do a range of the parameters; every
 * parameter gets exactly the serial sum and step, so the result does not
 * depend on how the ranges fall.
 */
void lathe_nn_shards_update(LatheNnShards *sh, LatheNnAdam *adam);

/**
 * lathe_nn_shards_evaluate:
 * @n_correct: (out): rows whose most probable class is the label.
 *
 * lathe_nn_net_evaluate() with labels and no probabilities, sharded.
 *
 * Returns: the summed weighted cross-entropy, added in shard order.
 */
double lathe_nn_shards_evaluate(LatheNnShards *sh, guint n, const nn_real *x,
                                const guint32 *len, const gint32 *labels,
                                const double *class_weight, guint *n_correct);

G_END_DECLS
