/* layer-rnn.c: Elman RNN, h_t = tanh(x_t W + h_{t-1} U + b), h_0 = 0, every
 * step returned (out: steps x units). len_out = len_in: steps past a sample's
 * length are computed too (the recurrence is causal, so they never change the
 * valid ones) and get whatever gradient comes from above, zero after pooling.
 *
 * Weights: W (in_channels x units), U (units x units), b (units).
 *
 * The output doubles as the state: forward writes the input projection of all
 * samples and steps into it with ONE GEMM, then per step adds h_{t-1} U (one
 * GEMM over the batch, rows strided by steps x units) and applies tanh in
 * place. Backward walks the steps back turning dout into dz in place (one GEMM
 * per step for the recurrent term), then gets the U, W and input gradients
 * with one GEMM each over all steps. No cache: backward needs only in and out.
 */
#include "layer-seq-internal.h"

static gboolean rnn_setup(LatheNnLayer *l, GError **error) {
  if (!lathe_nn_seq_check_in(l, error))
    return FALSE;
  if (l->units == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "rnn layer: units must be at least 1");
    return FALSE;
  }
  gsize u = l->units;
  if (u * u > LATHE_NN_SEQ_MAX_SIZE || u * l->in.steps > LATHE_NN_SEQ_MAX_SIZE ||
      u * l->in.channels > LATHE_NN_SEQ_MAX_SIZE) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "rnn layer: %u units on %u steps x %u channels is too large; use fewer units",
                l->units, l->in.steps, l->in.channels);
    return FALSE;
  }
  l->out.steps = l->in.steps;
  l->out.channels = l->units;
  l->n_params = (gsize)l->in.channels * u + u * u + u;
  l->cache_per_sample = 0;
  l->scratch_per_sample = 0;
  return TRUE;
}

static void rnn_init(LatheNnLayer *l, LatheRng *rng) {
  guint C = l->in.channels, U = l->units;
  lathe_nn_seq_glorot(l->w, (gsize)C * U, C, U, rng);
  lathe_nn_seq_orthogonal(l->w + (gsize)C * U, U, U, rng);
  memset(l->w + (gsize)C * U + (gsize)U * U, 0, sizeof(nn_real) * U);
}

static void rnn_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                        const guint32 *len_in, nn_real *out, guint32 *len_out) {
  guint n = p->n, T = l->in.steps, C = l->in.channels, U = l->units;
  const nn_real *W = l->w, *R = W + (gsize)C * U, *b = R + (gsize)U * U;
  int ld = (int)(T * U);
  lathe_nn_gemm(FALSE, FALSE, (int)(n * T), (int)U, (int)C, 1, in, (int)C, W, (int)U, 0, out,
                (int)U);
  for (guint t = 0; t < T; t++) {
    if (t > 0)
      lathe_nn_gemm(FALSE, FALSE, (int)n, (int)U, (int)U, 1, out + (gsize)(t - 1) * U, ld, R,
                    (int)U, 1, out + (gsize)t * U, ld);
    for (guint s = 0; s < n; s++) {
      nn_real *h = out + ((gsize)s * T + t) * U;
      for (guint u = 0; u < U; u++)
        h[u] = NN_TANH(h[u] + b[u]);
    }
  }
  memcpy(len_out, len_in, sizeof(guint32) * n);
}

static void rnn_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                         const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                         nn_real *dout, nn_real *din) {
  guint n = p->n, T = l->in.steps, C = l->in.channels, U = l->units;
  const nn_real *W = l->w, *R = W + (gsize)C * U;
  nn_real *gW = l->gw, *gR = gW + (gsize)C * U, *gb = gR + (gsize)U * U;
  int ld = (int)(T * U), rows = (int)(n * T);
  /* dout becomes dz = d(loss)/d(pre-activation), one step at a time from the
   * end: dh_t = dout_t + dz_{t+1} U^T, dz_t = dh_t (1 - h_t^2). */
  for (guint t = T; t-- > 0;) {
    if (t + 1 < T)
      lathe_nn_gemm(FALSE, TRUE, (int)n, (int)U, (int)U, 1, dout + (gsize)(t + 1) * U, ld, R,
                    (int)U, 1, dout + (gsize)t * U, ld);
    for (guint s = 0; s < n; s++) {
      gsize off = ((gsize)s * T + t) * U;
      nn_real *d = dout + off;
      const nn_real *h = out + off;
      for (guint u = 0; u < U; u++)
        d[u] *= 1 - h[u] * h[u];
    }
  }
  lathe_nn_seq_shift_grad(n, T, U, out, U, dout, gR);
  lathe_nn_gemm(TRUE, FALSE, (int)C, (int)U, rows, 1, in, (int)C, dout, (int)U, 1, gW, (int)U);
  lathe_nn_seq_colsum(dout, (gsize)rows, U, gb);
  if (din)
    lathe_nn_gemm(FALSE, TRUE, rows, (int)C, (int)U, 1, dout, (int)U, W, (int)U, 0, din, (int)C);
}

static const LatheNnLayerOps rnn_ops = {
    .kind = "rnn",
    .setup = rnn_setup,
    .init = rnn_init,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .finalize = NULL,
};

LatheNnLayer *lathe_nn_rnn(guint units) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &rnn_ops;
  l->units = units;
  return l;
}
