/* layer-maxpool.c: max over windows of `pool` steps (window = stride), per
 * channel. Output steps = ceil(steps / pool); len_out = ceil(len_in / pool).
 *
 * A window only looks at the sample's valid steps: the last valid window may
 * be partial (it takes the max of what is valid), and windows wholly in the
 * padding output zero. Padding values therefore never reach the output.
 *
 * Training keeps, per output value, the offset in its window of the step that
 * won (-1 for none) in the cache; backward routes the gradient there.
 */
#include "layer-seq-internal.h"

static gboolean maxpool_setup(LatheNnLayer *l, GError **error) {
  if (l->pool < 1) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "maxpool layer: pool is %u; it must be at least 1", l->pool);
    return FALSE;
  }
  if (!lathe_nn_seq_check_in(l, error))
    return FALSE;
  if (l->pool > l->in.steps) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "maxpool layer: pool %u is longer than the %u steps that reach it; use a "
                "smaller pool or fewer pooling layers",
                l->pool, l->in.steps);
    return FALSE;
  }
  l->out.steps = (l->in.steps + l->pool - 1) / l->pool;
  l->out.channels = l->in.channels;
  l->n_params = 0;
  l->cache_per_sample = (gsize)l->out.steps * l->out.channels;
  l->scratch_per_sample = 0;
  return TRUE;
}

static void maxpool_init(LatheNnLayer *l, LatheRng *rng) {}

/* o = max(o, x) per channel, remembering in a the offset j of the winner.
 * Two loops of one select each: GCC vectorizes those, not one loop with two
 * selects. */
static inline void max_arg_row(gsize C, nn_real *restrict o, nn_real *restrict a,
                               const nn_real *restrict x, nn_real j) {
  for (gsize c = 0; c < C; c++)
    a[c] = x[c] > o[c] ? j : a[c];
  for (gsize c = 0; c < C; c++)
    o[c] = x[c] > o[c] ? x[c] : o[c];
}

static inline void max_row(gsize C, nn_real *restrict o, const nn_real *restrict x) {
  for (gsize c = 0; c < C; c++)
    o[c] = x[c] > o[c] ? x[c] : o[c];
}

static void maxpool_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                            const guint32 *len_in, nn_real *out, guint32 *len_out) {
  guint T = l->in.steps, C = l->in.channels, P = l->pool, To = l->out.steps;
  for (guint s = 0; s < p->n; s++) {
    guint len = lathe_nn_seq_len(len_in[s], T);
    guint len_o = (len + P - 1) / P;
    len_out[s] = len_o;
    const nn_real *x = in + (gsize)s * T * C;
    nn_real *o = out + (gsize)s * To * C;
    /* The offsets are small integers, exact in float32 too. */
    nn_real *arg = p->train ? l->cache + (gsize)s * To * C : NULL;
    for (guint w = 0; w < To; w++, o += C) {
      if (w >= len_o) {
        memset(o, 0, sizeof(nn_real) * C);
        if (arg)
          for (guint c = 0; c < C; c++)
            arg[(gsize)w * C + c] = -1;
        continue;
      }
      guint start = w * P, end = MIN(start + P, len);
      memcpy(o, x + (gsize)start * C, sizeof(nn_real) * C);
      if (arg) {
        nn_real *a = arg + (gsize)w * C;
        memset(a, 0, sizeof(nn_real) * C);
        for (guint t = start + 1; t < end; t++)
          max_arg_row(C, o, a, x + (gsize)t * C, (nn_real)(t - start));
      } else {
        for (guint t = start + 1; t < end; t++)
          max_row(C, o, x + (gsize)t * C);
      }
    }
  }
}

/* dx for step j of a window: the gradient where j won, else zero. */
static inline void scatter_row(gsize C, nn_real *restrict dx, const nn_real *restrict d,
                               const nn_real *restrict a, nn_real j) {
  for (gsize c = 0; c < C; c++) {
    nn_real dv = d[c]; /* loaded either way, so that the select vectorizes */
    dx[c] = a[c] == j ? dv : 0;
  }
}

static void maxpool_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                             const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                             nn_real *dout, nn_real *din) {
  if (!din)
    return;
  guint T = l->in.steps, C = l->in.channels, P = l->pool, To = l->out.steps;
  /* The windows tile the steps, so this writes every input gradient once. */
  for (guint s = 0; s < p->n; s++) {
    const nn_real *d = dout + (gsize)s * To * C;
    const nn_real *arg = l->cache + (gsize)s * To * C;
    nn_real *dx = din + (gsize)s * T * C;
    for (guint w = 0; w < To; w++)
      for (guint t = w * P; t < MIN(w * P + P, T); t++)
        scatter_row(C, dx + (gsize)t * C, d + (gsize)w * C, arg + (gsize)w * C,
                    (nn_real)(t - w * P));
  }
}

static const LatheNnLayerOps maxpool_ops = {
    .kind = "maxpool",
    .setup = maxpool_setup,
    .init = maxpool_init,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .finalize = NULL,
};

LatheNnLayer *lathe_nn_maxpool(guint pool) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &maxpool_ops;
  l->pool = pool;
  return l;
}
