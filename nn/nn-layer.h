/* nn-layer.h: the layer contract of Lathe's neural-network engine.
 *
 * The engine (nn/) is a static library compiled into the model plugins
 * (model-mlp, model-cnn1d, model-rnn, model-lstm); it is not part of the
 * plugin ABI. It is built twice: in float32 for the plugins, and in float64
 * (LATHE_NN_DOUBLE) for the gradient-check tests.
 *
 * Data layout: a batch is n samples, each a contiguous block of
 * steps x channels values, step-major (step t, channel c at t * channels + c).
 * A flat vector is one step. Every sample also carries its valid length (steps
 * after it are padding); layers that reduce over time honour it.
 */
#pragma once

#include <glib.h>
#include <lathe/lathe-rng.h>

G_BEGIN_DECLS

#ifdef LATHE_NN_DOUBLE
typedef double nn_real;
#else
typedef float nn_real;
#endif

/**
 * lathe_nn_gemm:
 *
 * Row-major C = alpha * op(A) * op(B) + beta * C, through cblas_sgemm (or
 * cblas_dgemm in the double build). op(A) is m x k, op(B) is k x n.
 */
void lathe_nn_gemm(gboolean trans_a, gboolean trans_b, int m, int n, int k, nn_real alpha,
                   const nn_real *a, int lda, const nn_real *b, int ldb, nn_real beta,
                   nn_real *c, int ldc);

typedef enum {
  LATHE_NN_ACT_NONE = 0,
  LATHE_NN_ACT_RELU = 1,
  LATHE_NN_ACT_TANH = 2,
} LatheNnActivation;

/* How a sequence becomes a vector. */
typedef enum {
  LATHE_NN_POOL_LAST = 0, /* the last valid step */
  LATHE_NN_POOL_MEAN = 1, /* the mean over the valid steps */
  LATHE_NN_POOL_MAX = 2,  /* the per-channel maximum over the valid steps */
} LatheNnPooling;

/** LatheNnShape: one sample: @steps (1 for a vector) x @channels. */
typedef struct {
  guint steps;
  guint channels;
} LatheNnShape;

/**
 * LatheNnPass:
 * @n: samples in this batch (<= the net's max batch).
 * @train: %TRUE while training (dropout active, caches filled for backward).
 * @rng: (nullable): the stream dropout draws from; %NULL at inference.
 */
typedef struct {
  guint n;
  gboolean train;
  LatheRng *rng;
} LatheNnPass;

typedef struct _LatheNnLayer LatheNnLayer;

/**
 * LatheNnLayerOps:
 * @kind: "dense", "dropout", "conv1d", "maxpool", "pool", "rnn", "lstm".
 * @setup: from @l->in and the config, sets @l->out, @l->n_params,
 *   @l->cache_per_sample and @l->scratch_per_sample. Fails with a one-line
 *   error when the input does not fit (a pool larger than the sequence).
 * @init: initialises the @l->n_params weights at @l->w (Glorot/He uniform,
 *   biases zero; LSTM forget-gate bias 1).
 * @forward: @in is n x in-size, @out is n x out-size; @len_in holds each
 *   sample's valid steps (never %NULL), @len_out receives the output's. Fills
 *   @l->cache when @p->train. No allocation: use @l->cache and @l->scratch.
 * @backward: given @dout (n x out-size), ADDS the weight gradients to @l->gw
 *   (the net zeroes them once per batch) and, when @din is not %NULL, writes
 *   (overwrites) the input gradient. May use what forward left in @l->cache
 *   and may overwrite @dout.
 * @finalize: (nullable): frees config the layer allocated.
 * @copy_priv: (nullable): a fresh @priv for a copy of @l (its config only,
 *   not what @setup sized); needed by any layer with a @priv.
 */
typedef struct {
  const char *kind;
  gboolean (*setup)(LatheNnLayer *l, GError **error);
  void (*init)(LatheNnLayer *l, LatheRng *rng);
  void (*forward)(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                  const guint32 *len_in, nn_real *out, guint32 *len_out);
  void (*backward)(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                   const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                   nn_real *dout, nn_real *din);
  void (*finalize)(LatheNnLayer *l);
  gpointer (*copy_priv)(const LatheNnLayer *l);
} LatheNnLayerOps;

/**
 * LatheNnLayer:
 *
 * Config fields are set by the constructor; @in is set by the net before
 * @setup; @w, @gw, @cache and @scratch point into buffers the net owns,
 * sized from what @setup declared for the net's max batch.
 */
struct _LatheNnLayer {
  const LatheNnLayerOps *ops;
  /* config */
  guint units;  /* dense, rnn, lstm: outputs per step; conv1d: filters */
  guint kernel; /* conv1d: kernel size ("same" zero padding, stride 1) */
  guint pool;   /* maxpool: window = stride */
  LatheNnActivation act;
  double rate; /* dropout: probability of dropping */
  LatheNnPooling pooling;
  gpointer priv; /* layer-private config, freed by finalize */
  /* set by setup */
  LatheNnShape in, out;
  gsize n_params;
  gsize cache_per_sample;   /* values forward keeps for backward */
  gsize scratch_per_sample; /* temporaries, valid only within one call */
  /* set by the net */
  guint max_batch;
  nn_real *w, *gw;
  nn_real *cache;   /* max_batch * cache_per_sample */
  nn_real *scratch; /* max_batch * scratch_per_sample, shared between layers */
};

/* Constructors: (transfer full) free with lathe_nn_layer_free(). */
LatheNnLayer *lathe_nn_dense(guint units, LatheNnActivation act); /* flattens its input */
LatheNnLayer *lathe_nn_dropout(double rate);                      /* inverted dropout */
LatheNnLayer *lathe_nn_conv1d(guint filters, guint kernel, LatheNnActivation act);
LatheNnLayer *lathe_nn_maxpool(guint pool); /* steps -> ceil(steps / pool) */
LatheNnLayer *lathe_nn_pool(LatheNnPooling pooling); /* sequence -> vector */
LatheNnLayer *lathe_nn_rnn(guint units);  /* tanh, returns every step */
LatheNnLayer *lathe_nn_lstm(guint units); /* returns every step */
void lathe_nn_layer_free(LatheNnLayer *l);

/**
 * lathe_nn_layer_copy:
 * @l: a layer.
 *
 * Returns: (transfer full): a new layer with @l's config (kind, sizes,
 * activation, rate, pooling, private config), not set up, without buffers:
 * what a net replica is built from.
 */
LatheNnLayer *lathe_nn_layer_copy(const LatheNnLayer *l);

/**
 * lathe_nn_layer_alloc:
 * @l: a configured layer whose @in is set.
 * @max_batch: largest batch.
 *
 * Test helper: runs @setup and gives the layer its own zeroed buffers (the net
 * normally does this with shared ones). Free with lathe_nn_layer_free().
 */
gboolean lathe_nn_layer_alloc(LatheNnLayer *l, guint max_batch, GError **error);

G_END_DECLS
