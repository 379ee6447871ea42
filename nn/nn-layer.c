/* Layer lifetime: copying, freeing, and the stand-alone buffers of the layer tests.
 *
 * Who owns @w, @gw, @cache and @scratch: a layer inside a net points into the
 * net's shared buffers, and the net clears those four pointers before it frees
 * its layers; a layer given buffers by lathe_nn_layer_alloc() owns them. So
 * lathe_nn_layer_free() frees whatever is still set, which is exactly what the
 * layer owns. Constructors must zero the struct (g_new0). */
#include <lathe/lathe-error.h>

#include "nn-layer.h"

void lathe_nn_layer_free(LatheNnLayer *l) {
  if (!l)
    return;
  if (l->ops && l->ops->finalize)
    l->ops->finalize(l);
  g_free(l->w);
  g_free(l->gw);
  g_free(l->cache);
  g_free(l->scratch);
  g_free(l);
}

LatheNnLayer *lathe_nn_layer_copy(const LatheNnLayer *l) {
  g_return_val_if_fail(l && l->ops, NULL);
  LatheNnLayer *c = g_new0(LatheNnLayer, 1);
  c->ops = l->ops;
  c->units = l->units;
  c->kernel = l->kernel;
  c->pool = l->pool;
  c->act = l->act;
  c->rate = l->rate;
  c->pooling = l->pooling;
  c->priv = l->ops->copy_priv ? l->ops->copy_priv(l) : NULL;
  return c;
}

/* n * per, or FALSE when it does not fit in memory sizes. */
static gboolean size_mul(gsize n, gsize per, gsize *out) {
  return g_size_checked_mul(out, n, per) && *out < G_MAXSIZE / (2 * sizeof(nn_real));
}

gboolean lathe_nn_layer_alloc(LatheNnLayer *l, guint max_batch, GError **error) {
  g_return_val_if_fail(l && l->ops && max_batch > 0, FALSE);
  if (!l->ops->setup(l, error))
    return FALSE;
  gsize cache, scratch;
  if (!size_mul(max_batch, l->cache_per_sample, &cache) ||
      !size_mul(max_batch, l->scratch_per_sample, &scratch) ||
      l->n_params >= G_MAXSIZE / (2 * sizeof(nn_real))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s layer: its buffers for %u samples do not fit in memory", l->ops->kind,
                max_batch);
    return FALSE;
  }
  l->max_batch = max_batch;
  /* One spare element each, so an empty buffer is still a valid pointer. */
  g_free(l->w);
  g_free(l->gw);
  g_free(l->cache);
  g_free(l->scratch);
  l->w = g_new0(nn_real, l->n_params + 1);
  l->gw = g_new0(nn_real, l->n_params + 1);
  l->cache = g_new0(nn_real, cache + 1);
  l->scratch = g_new0(nn_real, scratch + 1);
  return TRUE;
}
