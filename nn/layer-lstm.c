/* layer-lstm.c: LSTM returning every step (out: steps x units).
 *   [i f g o] = x_t W + h_{t-1} U + b     (gate columns in that order)
 *   i, f, o = sigmoid, g = tanh
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t),  h_0 = c_0 = 0
 * Weights: W (in_channels x 4 units), U (units x 4 units), b (4 units, the
 * forget gate's initialised to 1). len_out = len_in; as in the RNN, steps past
 * a sample's length are computed and cannot change the valid ones.
 *
 * Training forward computes the input projection of every sample and step
 * into the gate cache with ONE GEMM, then per step adds h_{t-1} U for the
 * whole batch (one GEMM, all four gates) and runs the cell in place, leaving
 * the activated gates, c_t and tanh(c_t) in the cache. Backward walks the
 * steps back, one GEMM per step for dh_{t-1} = dz_t U^T, overwriting the
 * gates with their pre-activation gradients dz, then does U's, W's and the
 * input gradients with one GEMM each over all steps. An inference net has
 * no cache, so inference forward does the input projection step by step in
 * scratch (the same values, up to rounding).
 *
 * Cache (for a batch of n): gates n x steps x 4 units, then c and tanh(c),
 * n x steps x units each. Scratch: zeros for c_{-1} (units) and backward's
 * running dc_{t+1} f_{t+1} (n x units), or inference's gates, c, next c and
 * tanh(c) (n x 7 units).
 */
#include "layer-seq-internal.h"

static gboolean lstm_setup(LatheNnLayer *l, GError **error) {
  if (!lathe_nn_seq_check_in(l, error))
    return FALSE;
  if (l->units == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "lstm layer: units must be at least 1");
    return FALSE;
  }
  gsize u = l->units;
  if (4 * u * u > LATHE_NN_SEQ_MAX_SIZE || 6 * u * l->in.steps > LATHE_NN_SEQ_MAX_SIZE ||
      4 * u * l->in.channels > LATHE_NN_SEQ_MAX_SIZE) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "lstm layer: %u units on %u steps x %u channels is too large; use fewer units",
                l->units, l->in.steps, l->in.channels);
    return FALSE;
  }
  l->out.steps = l->in.steps;
  l->out.channels = l->units;
  l->n_params = 4 * u * (l->in.channels + u + 1);
  l->cache_per_sample = 6 * u * l->in.steps;
  l->scratch_per_sample = 7 * u; /* backward: 2 u; inference forward: 7 u */
  return TRUE;
}

static void lstm_init(LatheNnLayer *l, LatheRng *rng) {
  guint C = l->in.channels, U = l->units;
  gsize G = 4 * (gsize)U;
  lathe_nn_seq_glorot(l->w, C * G, C, (double)G, rng);
  lathe_nn_seq_orthogonal(l->w + C * G, U, (guint)G, rng);
  nn_real *b = l->w + C * G + U * G;
  memset(b, 0, sizeof(nn_real) * G);
  /* Remember by default: gradients then survive long sequences early on. */
  for (guint u = 0; u < U; u++)
    b[U + u] = 1;
}

/* One step of the cell for one sample, in place on the 4 x U gate
 * pre-activations (which become the activated gates). No branch and no
 * aliasing, so that the loop vectorizes. */
static inline void cell_row(gsize U, const nn_real *restrict b, nn_real *restrict g4,
                            const nn_real *restrict cp, nn_real *restrict c, nn_real *restrict tc,
                            nn_real *restrict h) {
  nn_real *gi = g4, *gf = g4 + U, *gg = g4 + 2 * U, *go = g4 + 3 * U;
  const nn_real *bi = b, *bf = b + U, *bg = b + 2 * U, *bo = b + 3 * U;
  for (gsize u = 0; u < U; u++) {
    nn_real i = lathe_nn_sigmoid(gi[u] + bi[u]);
    nn_real f = lathe_nn_sigmoid(gf[u] + bf[u]);
    nn_real g = NN_TANH(gg[u] + bg[u]);
    nn_real o = lathe_nn_sigmoid(go[u] + bo[u]);
    nn_real cv = f * cp[u] + i * g;
    nn_real tcv = NN_TANH(cv);
    gi[u] = i;
    gf[u] = f;
    gg[u] = g;
    go[u] = o;
    c[u] = cv;
    tc[u] = tcv;
    h[u] = o * tcv;
  }
}

/* The cell for n samples; row s of each array at s times its stride. */
static void cell_forward(guint n, guint U, const nn_real *b, nn_real *gates, gsize g_stride,
                         const nn_real *cprev, gsize cp_stride, nn_real *c, nn_real *tc,
                         gsize c_stride, nn_real *h, gsize h_stride) {
  for (guint s = 0; s < n; s++)
    cell_row(U, b, gates + s * g_stride, cprev + s * cp_stride, c + s * c_stride, tc + s * c_stride,
             h + s * h_stride);
}

static void lstm_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                         const guint32 *len_in, nn_real *out, guint32 *len_out) {
  guint n = p->n, T = l->in.steps, C = l->in.channels, U = l->units;
  gsize G4 = 4 * (gsize)U, rows = (gsize)n * T, TU = (gsize)T * U;
  const nn_real *W = l->w, *R = W + C * G4, *b = R + U * G4;
  if (p->train) {
    /* Everything backward needs stays in the cache; c_{-1} = 0 in scratch. */
    nn_real *gates = l->cache, *cs = gates + rows * G4, *tcs = cs + rows * U;
    nn_real *zeros = l->scratch;
    memset(zeros, 0, sizeof(nn_real) * U);
    lathe_nn_gemm(FALSE, FALSE, (int)rows, (int)G4, (int)C, 1, in, (int)C, W, (int)G4, 0, gates,
                  (int)G4);
    for (guint t = 0; t < T; t++) {
      nn_real *gt = gates + (gsize)t * G4;
      if (t > 0)
        lathe_nn_gemm(FALSE, FALSE, (int)n, (int)G4, (int)U, 1, out + (gsize)(t - 1) * U, (int)TU,
                      R, (int)G4, 1, gt, (int)(T * G4));
      nn_real *ct = cs + (gsize)t * U;
      cell_forward(n, U, b, gt, T * G4, t > 0 ? ct - U : zeros, t > 0 ? TU : 0, ct,
                   tcs + (gsize)t * U, TU, out + (gsize)t * U, TU);
    }
  } else {
    /* Inference nets have no cache: one step of gates, c (two buffers,
     * swapped each step), and tanh(c) live in scratch, and the input
     * projection goes step by step. */
    nn_real *gates = l->scratch, *c = gates + n * G4, *cn = c + n * U, *tc = cn + n * U;
    memset(c, 0, sizeof(nn_real) * n * U);
    for (guint t = 0; t < T; t++) {
      lathe_nn_gemm(FALSE, FALSE, (int)n, (int)G4, (int)C, 1, in + (gsize)t * C, (int)(T * C), W,
                    (int)G4, 0, gates, (int)G4);
      if (t > 0)
        lathe_nn_gemm(FALSE, FALSE, (int)n, (int)G4, (int)U, 1, out + (gsize)(t - 1) * U, (int)TU,
                      R, (int)G4, 1, gates, (int)G4);
      cell_forward(n, U, b, gates, G4, c, U, cn, tc, U, out + (gsize)t * U, TU);
      nn_real *swap = c;
      c = cn;
      cn = swap;
    }
  }
  memcpy(len_out, len_in, sizeof(guint32) * n);
}

/* Backward through the cell at one step for one sample: the activated gates
 * in @g4 become the pre-activation gradients; @carry holds dc_{t+1} f_{t+1}
 * on entry and dc_t f_t on return; @cp is c_{t-1} (zeros at t = 0). */
static inline void cell_row_backward(gsize U, nn_real *restrict g4, const nn_real *restrict dh,
                                     const nn_real *restrict tc, const nn_real *restrict cp,
                                     nn_real *restrict carry) {
  nn_real *gi = g4, *gf = g4 + U, *gg = g4 + 2 * U, *go = g4 + 3 * U;
  for (gsize u = 0; u < U; u++) {
    nn_real i = gi[u], f = gf[u], g = gg[u], o = go[u], tcv = tc[u];
    nn_real dc = dh[u] * o * (1 - tcv * tcv) + carry[u];
    gi[u] = dc * g * i * (1 - i);
    gf[u] = dc * cp[u] * f * (1 - f);
    gg[u] = dc * i * (1 - g * g);
    go[u] = dh[u] * tcv * o * (1 - o);
    carry[u] = dc * f;
  }
}

static void lstm_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                          const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                          nn_real *dout, nn_real *din) {
  guint n = p->n, T = l->in.steps, C = l->in.channels, U = l->units;
  gsize G4 = 4 * (gsize)U, rows = (gsize)n * T;
  const nn_real *W = l->w, *R = W + C * G4;
  nn_real *gW = l->gw, *gR = gW + C * G4, *gb = gR + U * G4;
  nn_real *gates = l->cache;
  const nn_real *cs = gates + rows * G4, *tcs = cs + rows * U;
  nn_real *zeros = l->scratch, *carry = zeros + U;
  memset(zeros, 0, sizeof(nn_real) * (n + 1) * U);
  for (guint t = T; t-- > 0;) {
    if (t + 1 < T)
      lathe_nn_gemm(FALSE, TRUE, (int)n, (int)U, (int)G4, 1, gates + (gsize)(t + 1) * G4,
                    (int)(T * G4), R, (int)G4, 1, dout + (gsize)t * U, (int)(T * U));
    for (guint s = 0; s < n; s++) {
      gsize row = (gsize)s * T + t;
      cell_row_backward(U, gates + row * G4, dout + row * U, tcs + row * U,
                        t > 0 ? cs + (row - 1) * U : zeros, carry + (gsize)s * U);
    }
  }
  lathe_nn_seq_shift_grad(n, T, U, out, (guint)G4, gates, gR);
  lathe_nn_gemm(TRUE, FALSE, (int)C, (int)G4, (int)rows, 1, in, (int)C, gates, (int)G4, 1, gW,
                (int)G4);
  lathe_nn_seq_colsum(gates, rows, (guint)G4, gb);
  if (din)
    lathe_nn_gemm(FALSE, TRUE, (int)rows, (int)C, (int)G4, 1, gates, (int)G4, W, (int)G4, 0, din,
                  (int)C);
}

static const LatheNnLayerOps lstm_ops = {
    .kind = "lstm",
    .setup = lstm_setup,
    .init = lstm_init,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .finalize = NULL,
};

LatheNnLayer *lathe_nn_lstm(guint units) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &lstm_ops;
  l->units = units;
  return l;
}
