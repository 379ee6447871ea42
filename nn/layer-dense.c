/* dense: a fully connected layer with a fused activation.
 *
 * It flattens its input (steps x channels features per sample) and outputs one
 * step of @units. The weights are stored as PyTorch does, W[units][in] then
 * b[units], because the two big products then have the shapes OpenBLAS runs
 * fastest on this layer's typical use (a wide first layer): forward is
 * X . W^T with the batch as M, and the weight gradient is dZ^T . X. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-error.h>

#include "nn-layer.h"

static gsize in_size(const LatheNnLayer *l) { return (gsize)l->in.steps * l->in.channels; }

static gboolean dense_setup(LatheNnLayer *l, GError **error) {
  if (l->units == 0 || in_size(l) == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "dense layer: %s is empty; give it at least one unit and one input",
                l->units == 0 ? "the output" : "the input");
    return FALSE;
  }
  if (in_size(l) > G_MAXINT || l->units > (guint)G_MAXINT) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "dense layer: %" G_GSIZE_FORMAT " inputs x %u units is too large", in_size(l),
                l->units);
    return FALSE;
  }
  l->out = (LatheNnShape){1, l->units};
  l->n_params = in_size(l) * l->units + l->units;
  l->cache_per_sample = 0; /* backward needs only the input and the output */
  l->scratch_per_sample = 0;
  return TRUE;
}

/* He-uniform for relu (keeps the activations' variance through the layer),
 * Glorot-uniform otherwise; biases start at zero. */
static void dense_init(LatheNnLayer *l, LatheRng *rng) {
  const gsize d = in_size(l), u = l->units;
  const double bound = l->act == LATHE_NN_ACT_RELU ? sqrt(6.0 / (double)d)
                                                   : sqrt(6.0 / (double)(d + u));
  for (gsize i = 0; i < d * u; i++)
    l->w[i] = (nn_real)((2.0 * lathe_rng_uniform(rng) - 1.0) * bound);
  memset(l->w + d * u, 0, u * sizeof(nn_real));
}

static void dense_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                          const guint32 *len_in, nn_real *out, guint32 *len_out) {
  const int d = (int)in_size(l), u = (int)l->units, n = (int)p->n;
  const nn_real *w = l->w, *b = l->w + (gsize)d * u;
  lathe_nn_gemm(FALSE, TRUE, n, u, d, 1, in, d, w, d, 0, out, u);
  /* Bias and activation in one pass over the (small) output. */
  for (int r = 0; r < n; r++) {
    nn_real *o = out + (gsize)r * u;
    switch (l->act) {
    case LATHE_NN_ACT_RELU:
      for (int j = 0; j < u; j++) {
        nn_real z = o[j] + b[j];
        o[j] = z < 0 ? 0 : z; /* a NaN passes through, so divergence shows */
      }
      break;
    case LATHE_NN_ACT_TANH:
      for (int j = 0; j < u; j++)
        o[j] = (nn_real)tanh((double)(o[j] + b[j]));
      break;
    default:
      for (int j = 0; j < u; j++)
        o[j] += b[j];
      break;
    }
    len_out[r] = 1;
  }
}

static void dense_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                           const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                           nn_real *dout, nn_real *din) {
  const int d = (int)in_size(l), u = (int)l->units, n = (int)p->n;
  const gsize nu = (gsize)n * u;
  /* dZ = dOut * act'(Z), in place: the activation's derivative is a function
   * of its output for both relu and tanh. */
  if (l->act == LATHE_NN_ACT_RELU) {
    for (gsize i = 0; i < nu; i++)
      if (!(out[i] > 0))
        dout[i] = 0;
  } else if (l->act == LATHE_NN_ACT_TANH) {
    for (gsize i = 0; i < nu; i++)
      dout[i] *= 1 - out[i] * out[i];
  }
  nn_real *gw = l->gw, *gb = l->gw + (gsize)d * u;
  for (int r = 0; r < n; r++) {
    const nn_real *dz = dout + (gsize)r * u;
    for (int j = 0; j < u; j++)
      gb[j] += dz[j];
  }
  lathe_nn_gemm(TRUE, FALSE, u, d, n, 1, dout, u, in, d, 1, gw, d);
  if (din)
    lathe_nn_gemm(FALSE, FALSE, n, d, u, 1, dout, u, l->w, d, 0, din, d);
}

static const LatheNnLayerOps dense_ops = {
    .kind = "dense",
    .setup = dense_setup,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
};

LatheNnLayer *lathe_nn_dense(guint units, LatheNnActivation act) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &dense_ops;
  l->units = units;
  l->act = act;
  return l;
}
