/* layer-seq-internal.h: helpers shared by the sequence layers (conv1d,
 * maxpool, pool, rnn, lstm). Private to the engine; everything is static
 * inline so that each layer file stays self-contained. */
#pragma once

#include <math.h>
#include <string.h>

#include <lathe/lathe-error.h>

#include "nn-layer.h"

/* The engine is built at -O2, where GCC 12 only vectorizes loops whose trip
 * count it knows; the elementwise loops of these layers (activations, masks,
 * pooling) would stay scalar and take a quarter of a CNN training step. This
 * lets GCC weigh vectorizing them (clang does at -O2 already), and lets it
 * turn the selects of a clamp or a mask into blends: with trapping maths it
 * keeps them as branches. Neither changes any result: no reassociation, no
 * contraction, only which instructions compute the same IEEE operations. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "no-trapping-math")
#endif

/**
 * lathe_nn_tanhf:
 *
 * tanh for float32 as Eigen computes it: a rational minimax approximation on
 * [-7.9053, 7.9053] (where tanhf rounds to +-1), within 4e-7 of tanh. Plain
 * arithmetic, so loops calling it vectorize, where libm's tanhf (through
 * expm1f) was 40% of an RNN training step. Bit-reproducible like any other
 * IEEE arithmetic. NaN in, NaN out.
 */
static inline float lathe_nn_tanhf(float x) {
  const float clamp = 7.90531110763549805f;
  /* Written so that a NaN falls through both selects. */
  float v = x > clamp ? clamp : x;
  v = v < -clamp ? -clamp : v;
  float v2 = v * v;
  float p = -2.76076847742355e-16f;
  p = p * v2 + 2.00018790482477e-13f;
  p = p * v2 + -8.60467152213735e-11f;
  p = p * v2 + 5.12229709037114e-08f;
  p = p * v2 + 1.48572235717979e-05f;
  p = p * v2 + 6.37261928875436e-04f;
  p = p * v2 + 4.89352455891786e-03f;
  p = p * v;
  float q = 1.19825839466702e-06f;
  q = q * v2 + 1.18534705686654e-04f;
  q = q * v2 + 2.26843463243900e-03f;
  q = q * v2 + 4.89352518554385e-03f;
  float r = p / q;
  /* Tiny inputs: tanh(x) = x to float precision (and no denormal maths). */
  return (x < 0.0004f && x > -0.0004f) ? x : r;
}

/* The double build (gradient checks) uses libm, so the checks test the exact
 * functions; the float build uses the approximation above. */
#ifdef LATHE_NN_DOUBLE
#define NN_TANH tanh
static inline double lathe_nn_sigmoid(double x) { return 1 / (1 + exp(-x)); }
#else
#define NN_TANH lathe_nn_tanhf
static inline float lathe_nn_sigmoid(float x) { return 0.5f + 0.5f * lathe_nn_tanhf(0.5f * x); }
#endif

/* Per-sample sizes feed int GEMM dimensions and gsize buffer sizes; refusing
 * anything near G_MAXINT here keeps every later product well defined. */
#define LATHE_NN_SEQ_MAX_SIZE ((gsize)1 << 28)

/* Valid steps of a sample: a length beyond the shape (a caller bug) must not
 * make us read past the sample. */
static inline guint lathe_nn_seq_len(guint32 len, guint steps) {
  return len < steps ? (guint)len : steps;
}

/* Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). */
static inline void lathe_nn_seq_glorot(nn_real *w, gsize count, double fan_in, double fan_out,
                                       LatheRng *rng) {
  double a = sqrt(6.0 / (fan_in + fan_out));
  for (gsize i = 0; i < count; i++)
    w[i] = (nn_real)((2.0 * lathe_rng_uniform(rng) - 1.0) * a);
}

/* A rows x cols matrix (rows <= cols) with orthonormal rows, from a Gaussian
 * one by modified Gram-Schmidt, run twice so that float64 rounding does not
 * leave the rows measurably skewed. Recurrent weights start orthogonal (the
 * Keras default) so that the hidden state neither explodes nor vanishes over
 * hundreds of steps. Falls back to Glorot when rows > cols. */
static inline void lathe_nn_seq_orthogonal(nn_real *w, guint rows, guint cols, LatheRng *rng) {
  if (rows > cols) {
    lathe_nn_seq_glorot(w, (gsize)rows * cols, rows, cols, rng);
    return;
  }
  double *q = g_new(double, (gsize)rows *cols);
  for (gsize i = 0; i < (gsize)rows * cols; i++)
    q[i] = lathe_rng_normal(rng);
  for (guint i = 0; i < rows; i++) {
    double *qi = q + (gsize)i * cols;
    for (int pass = 0; pass < 2; pass++)
      for (guint j = 0; j < i; j++) {
        const double *qj = q + (gsize)j * cols;
        double dot = 0;
        for (guint k = 0; k < cols; k++)
          dot += qi[k] * qj[k];
        for (guint k = 0; k < cols; k++)
          qi[k] -= dot * qj[k];
      }
    double norm = 0;
    for (guint k = 0; k < cols; k++)
      norm += qi[k] * qi[k];
    norm = sqrt(norm);
    /* A Gaussian row in the span of the previous ones has probability zero;
     * guard anyway so that a degenerate draw cannot divide by zero. */
    if (norm < 1e-12) {
      memset(qi, 0, sizeof(double) * cols);
      qi[i] = 1.0;
      norm = 1.0;
    }
    for (guint k = 0; k < cols; k++)
      qi[k] /= norm;
  }
  for (gsize i = 0; i < (gsize)rows * cols; i++)
    w[i] = (nn_real)q[i];
  g_free(q);
}

/* db[j] += sum over the rows of m (rows x cols). */
static inline void lathe_nn_seq_colsum(const nn_real *m, gsize rows, guint cols, nn_real *db) {
  for (gsize r = 0; r < rows; r++) {
    const nn_real *row = m + r * cols;
    for (guint j = 0; j < cols; j++)
      db[j] += row[j];
  }
}

/*
 * The recurrent weight gradient of a layer whose state h (n x steps x hu)
 * multiplies U (hu x gw) to feed the pre-activations z (n x steps x gw):
 * gu += sum over samples and t >= 1 of h[s, t-1]^T z[s, t]. Done as one GEMM
 * over all n * steps - 1 consecutive row pairs (far faster than a GEMM per
 * step), then minus the n - 1 pairs that straddle two samples.
 */
static inline void lathe_nn_seq_shift_grad(guint n, guint steps, guint hu, const nn_real *h,
                                           guint gw, const nn_real *dz, nn_real *gu) {
  if (steps < 2)
    return; /* no step has a predecessor */
  int rows = (int)(n * steps) - 1;
  lathe_nn_gemm(TRUE, FALSE, (int)hu, (int)gw, rows, 1, h, (int)hu, dz + gw, (int)gw, 1, gu,
                (int)gw);
  if (n > 1)
    lathe_nn_gemm(TRUE, FALSE, (int)hu, (int)gw, (int)n - 1, -1, h + (gsize)(steps - 1) * hu,
                  (int)(steps * hu), dz + (gsize)steps * gw, (int)(steps * gw), 1, gu, (int)gw);
}

static inline gboolean lathe_nn_seq_check_in(const LatheNnLayer *l, GError **error) {
  if (l->in.steps == 0 || l->in.channels == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s layer: input shape %u steps x %u channels is empty; give it at least one "
                "step and one channel",
                l->ops->kind, l->in.steps, l->in.channels);
    return FALSE;
  }
  if ((gsize)l->in.steps * l->in.channels > LATHE_NN_SEQ_MAX_SIZE) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s layer: input of %u steps x %u channels is too large; downsample or window "
                "the sequence",
                l->ops->kind, l->in.steps, l->in.channels);
    return FALSE;
  }
  return TRUE;
}
