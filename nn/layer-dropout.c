/* dropout: inverted dropout. While training each value is kept with
 * probability 1 - rate and scaled by 1 / (1 - rate), so inference is the
 * identity and needs no rescaling. The mask (0 or the scale) is drawn from the
 * pass's rng and kept in the cache for backward. */
#include <string.h>

#include <lathe/lathe-error.h>

#include "nn-layer.h"

static gsize size_of(const LatheNnShape *s) { return (gsize)s->steps * s->channels; }

static gboolean dropout_setup(LatheNnLayer *l, GError **error) {
  if (!(l->rate >= 0.0 && l->rate < 1.0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "dropout layer: rate %g is outside [0, 1)", l->rate);
    return FALSE;
  }
  l->out = l->in;
  l->n_params = 0;
  l->cache_per_sample = size_of(&l->in);
  l->scratch_per_sample = 0;
  return TRUE;
}

static void dropout_init(LatheNnLayer *l, LatheRng *rng) {}

static gboolean active(const LatheNnLayer *l, const LatheNnPass *p) {
  return p->train && p->rng && l->rate > 0.0;
}

static void dropout_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                            const guint32 *len_in, nn_real *out, guint32 *len_out) {
  const gsize total = p->n * size_of(&l->in);
  memcpy(len_out, len_in, p->n * sizeof(guint32));
  if (!active(l, p)) {
    memcpy(out, in, total * sizeof(nn_real));
    return;
  }
  const nn_real scale = (nn_real)(1.0 / (1.0 - l->rate));
  nn_real *mask = l->cache;
  for (gsize i = 0; i < total; i++) {
    mask[i] = lathe_rng_uniform(p->rng) >= l->rate ? scale : 0;
    out[i] = in[i] * mask[i];
  }
}

static void dropout_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                             const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                             nn_real *dout, nn_real *din) {
  if (!din)
    return;
  const gsize total = p->n * size_of(&l->in);
  if (!active(l, p)) {
    memcpy(din, dout, total * sizeof(nn_real));
    return;
  }
  const nn_real *mask = l->cache;
  for (gsize i = 0; i < total; i++)
    din[i] = dout[i] * mask[i];
}

static const LatheNnLayerOps dropout_ops = {
    .kind = "dropout",
    .setup = dropout_setup,
    .init = dropout_init,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

LatheNnLayer *lathe_nn_dropout(double rate) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &dropout_ops;
  l->rate = rate;
  return l;
}
