/* nn-net.h: a network: an input shape, a stack of layers and a softmax +
 * cross-entropy head, with every buffer allocated once at build. */
#pragma once

#include "nn-layer.h"

G_BEGIN_DECLS

/**
 * LatheNnNet:
 *
 * A classifier network. The last layer must output one step of n_classes
 * values (the logits); the net computes the softmax and the loss itself.
 * Usage: lathe_nn_net_new(), lathe_nn_net_add() each layer,
 * lathe_nn_net_build(), lathe_nn_net_init() (or fill the params), then any
 * number of passes. No pass allocates. Not thread-safe: one net per thread
 * (replicas, below, give each thread its own).
 */
typedef struct _LatheNnNet LatheNnNet;

/** lathe_nn_net_new: (transfer full) an empty net for samples of shape @in. */
LatheNnNet *lathe_nn_net_new(LatheNnShape in, guint n_classes);
void lathe_nn_net_free(LatheNnNet *net);

/** lathe_nn_net_add: appends @layer (transfer full); only before setup. */
void lathe_nn_net_add(LatheNnNet *net, LatheNnLayer *layer);

/**
 * lathe_nn_alloc_error:
 * @bytes: the size of an allocation that failed.
 *
 * The %LATHE_ERROR code for it: %LATHE_ERROR_RESOURCE when the machine's
 * memory could hold it (a limit or other processes took the memory: a rerun
 * may succeed, and a study reruns the trial), %LATHE_ERROR_INVALID when it
 * is more than the machine has (the params ask too much: no rerun helps).
 */
gint lathe_nn_alloc_error(double bytes);

/**
 * lathe_nn_net_setup:
 *
 * Chains the layers' shapes and counts the parameters, without allocating
 * any buffer (so a saved model's parameter count can be checked before
 * anything is sized from it). Idempotent. Fails with a one-line error naming
 * the layer when a layer does not fit its input, or when the last layer does
 * not output the logits.
 */
gboolean lathe_nn_net_setup(LatheNnNet *net, GError **error);

/**
 * lathe_nn_net_build:
 * @max_batch: the largest batch any pass will use (>= 1).
 * @train: also allocate the gradients, the Adam moments and the layer caches.
 *
 * Sets up the layers if needed and allocates every buffer. Fails, instead of
 * aborting, when the buffers do not fit in memory.
 */
gboolean lathe_nn_net_build(LatheNnNet *net, guint max_batch, gboolean train, GError **error);

/**
 * lathe_nn_net_new_replica:
 * @net: a built net (not itself a replica).
 * @max_batch: the largest batch the replica will run.
 * @train: whether it trains (its own gradients and caches; no Adam moments).
 *
 * A net of the same layers that reads @net's parameters in place (so it sees
 * every update to them) but has its own activations, lengths, caches,
 * scratch and gradients: passes on @net and on its replicas may run at the
 * same time on different threads as long as nothing writes the parameters.
 * Free it before @net.
 *
 * Returns: (transfer full) (nullable): the replica, or %NULL with @error set
 * when its buffers cannot be allocated.
 */
LatheNnNet *lathe_nn_net_new_replica(LatheNnNet *net, guint max_batch, gboolean train,
                                     GError **error);

/** lathe_nn_net_init: initialises all weights from @rng, layer by layer. */
void lathe_nn_net_init(LatheNnNet *net, LatheRng *rng);

gsize lathe_nn_net_n_params(const LatheNnNet *net);
/** lathe_nn_net_params: (transfer none) the flat weights of every layer. */
nn_real *lathe_nn_net_params(LatheNnNet *net);
/** lathe_nn_net_grads: (transfer none) (nullable) the flat gradients. */
nn_real *lathe_nn_net_grads(LatheNnNet *net);
/** lathe_nn_net_moments: the Adam first and second moments (train nets). */
void lathe_nn_net_moments(LatheNnNet *net, nn_real **m, nn_real **v);
guint lathe_nn_net_max_batch(const LatheNnNet *net);
LatheNnShape lathe_nn_net_input_shape(const LatheNnNet *net);
guint lathe_nn_net_n_classes(const LatheNnNet *net);
guint lathe_nn_net_n_layers(const LatheNnNet *net);
/** lathe_nn_net_layer: (transfer none) layer @i. */
LatheNnLayer *lathe_nn_net_layer(LatheNnNet *net, guint i);

/** lathe_nn_net_zero_grads: sets the gradients to zero. */
void lathe_nn_net_zero_grads(LatheNnNet *net);

/**
 * lathe_nn_net_forward:
 * @p: the pass (@p->n <= max batch).
 * @x: @p->n samples, each steps x channels, step-major.
 * @len: each sample's valid steps.
 *
 * Returns: (transfer none): the @p->n x n_classes logits, valid until the
 * next pass.
 */
const nn_real *lathe_nn_net_forward(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                                    const guint32 *len);

/**
 * lathe_nn_net_train_step:
 * @labels: @p->n class indices in [0, n_classes).
 * @class_weight: (nullable): n_classes weights, %NULL for all 1.
 * @dx: (nullable): receives the gradient of the loss w.r.t. @x.
 *
 * Forward with @p, the loss, and backward: ADDS the loss gradient to the
 * gradients (zero them first). The loss is the mean over the batch of
 * class_weight[y] x cross-entropy (divided by the batch size, not by the sum
 * of the weights as PyTorch's weighted CrossEntropyLoss does).
 *
 * Returns: the batch loss.
 */
double lathe_nn_net_train_step(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                               const guint32 *len, const gint32 *labels,
                               const double *class_weight, nn_real *dx);

/**
 * lathe_nn_net_train_part:
 * @p: the pass over this part's @p->n rows.
 * @batch_n: the rows of the whole batch the part belongs to (>= @p->n).
 *
 * As lathe_nn_net_train_step() on one part of a batch: the loss and its
 * gradient are divided by @batch_n rather than by @p->n, so the parts'
 * gradients and returned losses add up to the batch's (with @batch_n =
 * @p->n it is lathe_nn_net_train_step(), bit for bit).
 *
 * Returns: this part's share of the batch loss.
 */
double lathe_nn_net_train_part(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                               const guint32 *len, const gint32 *labels,
                               const double *class_weight, guint batch_n, nn_real *dx);

/**
 * lathe_nn_net_evaluate:
 * @labels: (nullable): class indices, for the loss and @n_correct.
 * @class_weight: (nullable): as in lathe_nn_net_train_step().
 * @probs: (nullable): receives @p->n x n_classes probabilities.
 * @n_correct: (out) (optional): rows whose most probable class is the label.
 *
 * An inference pass (dropout off).
 *
 * Returns: the summed (not averaged) weighted cross-entropy over the rows,
 * or 0 without @labels.
 */
double lathe_nn_net_evaluate(LatheNnNet *net, guint n, const nn_real *x, const guint32 *len,
                             const gint32 *labels, const double *class_weight, float *probs,
                             guint *n_correct);

G_END_DECLS
