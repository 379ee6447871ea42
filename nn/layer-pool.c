/* layer-pool.c: a sequence becomes one step of its channels, by taking the
 * last valid step (LAST), averaging the valid steps (MEAN) or taking each
 * channel's maximum over them (MAX; a short fault peak survives it, where the
 * mean dilutes it). Padding steps never contribute and get a zero gradient. A
 * sample with no valid step gives zeros. len_out is 1 for every sample.
 */
#include "layer-seq-internal.h"

static gboolean pool_setup(LatheNnLayer *l, GError **error) {
  if (!lathe_nn_seq_check_in(l, error))
    return FALSE;
  if (l->pooling != LATHE_NN_POOL_LAST && l->pooling != LATHE_NN_POOL_MEAN &&
      l->pooling != LATHE_NN_POOL_MAX) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "pool layer: unknown pooling %d; use last, mean or max", (int)l->pooling);
    return FALSE;
  }
  l->out.steps = 1;
  l->out.channels = l->in.channels;
  l->n_params = 0;
  l->cache_per_sample = 0;
  l->scratch_per_sample = 0;
  return TRUE;
}

static void pool_init(LatheNnLayer *l, LatheRng *rng) {}

static void pool_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                         const guint32 *len_in, nn_real *out, guint32 *len_out) {
  guint T = l->in.steps, C = l->in.channels;
  for (guint s = 0; s < p->n; s++) {
    guint len = lathe_nn_seq_len(len_in[s], T);
    const nn_real *x = in + (gsize)s * T * C;
    nn_real *o = out + (gsize)s * C;
    len_out[s] = 1;
    if (len == 0) {
      memset(o, 0, sizeof(nn_real) * C);
    } else if (l->pooling == LATHE_NN_POOL_LAST) {
      memcpy(o, x + (gsize)(len - 1) * C, sizeof(nn_real) * C);
    } else if (l->pooling == LATHE_NN_POOL_MAX) {
      memcpy(o, x, sizeof(nn_real) * C);
      for (guint t = 1; t < len; t++) {
        const nn_real *xt = x + (gsize)t * C;
        for (guint c = 0; c < C; c++)
          o[c] = xt[c] > o[c] ? xt[c] : o[c];
      }
    } else {
      memcpy(o, x, sizeof(nn_real) * C);
      for (guint t = 1; t < len; t++) {
        const nn_real *xt = x + (gsize)t * C;
        for (guint c = 0; c < C; c++)
          o[c] += xt[c];
      }
      nn_real scale = (nn_real)1 / (nn_real)len;
      for (guint c = 0; c < C; c++)
        o[c] *= scale;
    }
  }
}

static void pool_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                          const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                          nn_real *dout, nn_real *din) {
  if (!din)
    return;
  guint T = l->in.steps, C = l->in.channels;
  memset(din, 0, sizeof(nn_real) * p->n * (gsize)T * C);
  for (guint s = 0; s < p->n; s++) {
    guint len = lathe_nn_seq_len(len_in[s], T);
    const nn_real *d = dout + (gsize)s * C;
    nn_real *dx = din + (gsize)s * T * C;
    if (len == 0)
      continue;
    if (l->pooling == LATHE_NN_POOL_LAST) {
      memcpy(dx + (gsize)(len - 1) * C, d, sizeof(nn_real) * C);
    } else if (l->pooling == LATHE_NN_POOL_MAX) {
      /* The argmax is found again from the input (first step on ties, as in
       * forward), so forward keeps no cache. */
      const nn_real *x = in + (gsize)s * T * C;
      for (guint c = 0; c < C; c++) {
        guint best = 0;
        for (guint t = 1; t < len; t++)
          if (x[(gsize)t * C + c] > x[(gsize)best * C + c])
            best = t;
        dx[(gsize)best * C + c] = d[c];
      }
    } else {
      nn_real scale = (nn_real)1 / (nn_real)len;
      for (guint c = 0; c < C; c++)
        dx[c] = d[c] * scale;
      for (guint t = 1; t < len; t++)
        memcpy(dx + (gsize)t * C, dx, sizeof(nn_real) * C);
    }
  }
}

static const LatheNnLayerOps pool_ops = {
    .kind = "pool",
    .setup = pool_setup,
    .init = pool_init,
    .forward = pool_forward,
    .backward = pool_backward,
    .finalize = NULL,
};

LatheNnLayer *lathe_nn_pool(LatheNnPooling pooling) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &pool_ops;
  l->pooling = pooling;
  return l;
}
