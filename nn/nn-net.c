/* The net: layer chaining, the buffers, and the softmax + cross-entropy head.
 *
 * Every buffer is sized at build for the largest batch: the flat params, their
 * gradients and Adam moments (one array each, so the optimiser is one loop),
 * one output and one length array per layer, the layers' caches, one scratch
 * shared by all layers (it is only valid within a call), and two gradient
 * buffers that backward ping-pongs between. A replica has all of these but
 * the params, which it reads from its source net, and the Adam moments. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <lathe/lathe-error.h>

#include "nn-net.h"

struct _LatheNnNet {
  LatheNnShape in;
  guint n_classes;
  GPtrArray *layers;
  gboolean set_up, built, train;
  guint max_batch;
  gsize n_params;
  guint first_trainable; /* below it no layer has params: no input gradients */
  gsize max_width;       /* the widest per-sample input or output */
  gboolean replica; /* params belong to another net; no Adam moments */
  nn_real *params, *grads, *m, *v;
  nn_real *outs_block, **outs;
  guint32 *lens_block, **lens;
  nn_real *cache_block, *scratch;
  nn_real *dbuf[2];
  double *prob; /* one row of softmax, n_classes */
};

static gsize shape_size(LatheNnShape s) { return (gsize)s.steps * s.channels; }

LatheNnNet *lathe_nn_net_new(LatheNnShape in, guint n_classes) {
  LatheNnNet *net = g_new0(LatheNnNet, 1);
  net->in = in;
  net->n_classes = n_classes;
  net->layers = g_ptr_array_new();
  return net;
}

void lathe_nn_net_free(LatheNnNet *net) {
  if (!net)
    return;
  for (guint i = 0; i < net->layers->len; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    /* The net owns these buffers, not the layer (see nn-layer.c). */
    l->w = l->gw = l->cache = l->scratch = NULL;
    lathe_nn_layer_free(l);
  }
  g_ptr_array_free(net->layers, TRUE);
  if (!net->replica)
    g_free(net->params);
  g_free(net->grads);
  g_free(net->m);
  g_free(net->v);
  g_free(net->outs_block);
  g_free(net->outs);
  g_free(net->lens_block);
  g_free(net->lens);
  g_free(net->cache_block);
  g_free(net->scratch);
  g_free(net->dbuf[0]);
  g_free(net->dbuf[1]);
  g_free(net->prob);
  g_free(net);
}

void lathe_nn_net_add(LatheNnNet *net, LatheNnLayer *layer) {
  g_return_if_fail(!net->set_up && layer);
  g_ptr_array_add(net->layers, layer);
}

gboolean lathe_nn_net_setup(LatheNnNet *net, GError **error) {
  if (net->set_up)
    return TRUE;
  if (net->in.steps == 0 || net->in.channels == 0 || shape_size(net->in) > G_MAXINT) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "the input shape %u steps x %u channels is empty or too large", net->in.steps,
                net->in.channels);
    return FALSE;
  }
  if (net->n_classes < 2 || net->layers->len == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "a classifier net needs layers and at least 2 classes (has %u layers, %u "
                "classes)",
                net->layers->len, net->n_classes);
    return FALSE;
  }
  LatheNnShape shape = net->in;
  gsize total = 0, width = MAX(shape_size(shape), net->n_classes);
  net->first_trainable = net->layers->len;
  for (guint i = 0; i < net->layers->len; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    l->in = shape;
    g_autoptr(GError) local = NULL;
    if (!l->ops->setup(l, &local)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "layer %u (%s): %s", i + 1,
                  l->ops->kind, local->message);
      return FALSE;
    }
    if (l->out.steps == 0 || l->out.channels == 0 || shape_size(l->out) > G_MAXINT ||
        l->n_params > G_MAXSIZE / 8 - total) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "layer %u (%s): its output (%u x %u) or its %" G_GSIZE_FORMAT
                  " parameters are empty or too large",
                  i + 1, l->ops->kind, l->out.steps, l->out.channels, l->n_params);
      return FALSE;
    }
    if (l->n_params > 0 && net->first_trainable == net->layers->len)
      net->first_trainable = i;
    total += l->n_params;
    width = MAX(width, shape_size(l->out));
    shape = l->out;
  }
  if (shape.steps != 1 || shape.channels != net->n_classes) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "the last layer outputs %u x %u values, not the %u class logits", shape.steps,
                shape.channels, net->n_classes);
    return FALSE;
  }
  net->n_params = total;
  net->max_width = width;
  net->set_up = TRUE;
  return TRUE;
}

gint lathe_nn_alloc_error(double bytes) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  double ram = pages > 0 && page > 0 ? (double)pages * (double)page : INFINITY;
  return bytes <= ram ? LATHE_ERROR_RESOURCE : LATHE_ERROR_INVALID;
}

/* A zeroed array of @n values of @size bytes, or NULL when it cannot be had
 * (g_new would abort on a net too large for memory). */
static gpointer try_alloc(gsize n, gsize size, gboolean *ok) {
  if (!*ok)
    return NULL; /* one failure is enough; do not reserve the rest */
  gpointer p = g_try_malloc0_n(n + 1, size);
  if (!p)
    *ok = FALSE;
  return p;
}

gboolean lathe_nn_net_build(LatheNnNet *net, guint max_batch, gboolean train, GError **error) {
  g_return_val_if_fail(!net->built && max_batch > 0, FALSE);
  if (!lathe_nn_net_setup(net, error))
    return FALSE;
  const guint nl = net->layers->len;
  gsize outs = 0, cache = 0, scratch = 0;
  gboolean ok = TRUE;
  for (guint i = 0; i < nl; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    outs += shape_size(l->out);
    cache += l->cache_per_sample;
    scratch = MAX(scratch, l->scratch_per_sample);
    if (outs > G_MAXSIZE / 16 / max_batch || cache > G_MAXSIZE / 16 / max_batch ||
        scratch > G_MAXSIZE / 16 / max_batch)
      ok = FALSE;
  }
  if (net->max_width > G_MAXSIZE / 16 / max_batch)
    ok = FALSE;
  if (ok) {
    if (!net->replica)
      net->params = try_alloc(net->n_params, sizeof(nn_real), &ok);
    net->outs_block = try_alloc(outs * max_batch, sizeof(nn_real), &ok);
    net->lens_block = try_alloc((gsize)nl * max_batch, sizeof(guint32), &ok);
    net->scratch = try_alloc(scratch * max_batch, sizeof(nn_real), &ok);
    net->prob = try_alloc(net->n_classes, sizeof(double), &ok);
    if (train) {
      net->grads = try_alloc(net->n_params, sizeof(nn_real), &ok);
      if (!net->replica) {
        net->m = try_alloc(net->n_params, sizeof(nn_real), &ok);
        net->v = try_alloc(net->n_params, sizeof(nn_real), &ok);
      }
      net->cache_block = try_alloc(cache * max_batch, sizeof(nn_real), &ok);
      net->dbuf[0] = try_alloc(net->max_width * max_batch, sizeof(nn_real), &ok);
      net->dbuf[1] = try_alloc(net->max_width * max_batch, sizeof(nn_real), &ok);
    }
  }
  if (!ok) {
    double mib = (double)(net->n_params * (train ? 4 : 1) +
                          (outs + cache + scratch + 2 * net->max_width) * max_batch) *
                 sizeof(nn_real) / 1048576.0;
    g_set_error(error, LATHE_ERROR, lathe_nn_alloc_error(mib * 1048576.0),
                "the network needs about %.0f MiB for %" G_GSIZE_FORMAT
                " parameters and batches of %u, which cannot be allocated; use fewer or "
                "smaller layers or a smaller batch_size",
                mib, net->n_params, max_batch);
    return FALSE;
  }
  net->outs = g_new(nn_real *, nl);
  net->lens = g_new(guint32 *, nl);
  gsize w_off = 0, o_off = 0, c_off = 0;
  for (guint i = 0; i < nl; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    l->max_batch = max_batch;
    l->w = net->params + w_off;
    l->gw = train ? net->grads + w_off : NULL;
    l->cache = train ? net->cache_block + c_off : NULL;
    l->scratch = net->scratch;
    net->outs[i] = net->outs_block + o_off;
    net->lens[i] = net->lens_block + (gsize)i * max_batch;
    w_off += l->n_params;
    o_off += shape_size(l->out) * max_batch;
    c_off += l->cache_per_sample * max_batch;
  }
  net->max_batch = max_batch;
  net->train = train;
  net->built = TRUE;
  return TRUE;
}

LatheNnNet *lathe_nn_net_new_replica(LatheNnNet *net, guint max_batch, gboolean train,
                                     GError **error) {
  g_return_val_if_fail(net->built && !net->replica && max_batch > 0, NULL);
  LatheNnNet *r = lathe_nn_net_new(net->in, net->n_classes);
  for (guint i = 0; i < net->layers->len; i++)
    lathe_nn_net_add(r, lathe_nn_layer_copy(net->layers->pdata[i]));
  r->replica = TRUE;
  r->params = net->params;
  if (!lathe_nn_net_build(r, max_batch, train, error)) {
    lathe_nn_net_free(r);
    return NULL;
  }
  return r;
}

void lathe_nn_net_init(LatheNnNet *net, LatheRng *rng) {
  g_return_if_fail(net->built);
  for (guint i = 0; i < net->layers->len; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    if (l->ops->init)
      l->ops->init(l, rng);
  }
}

gsize lathe_nn_net_n_params(const LatheNnNet *net) { return net->n_params; }
nn_real *lathe_nn_net_params(LatheNnNet *net) { return net->params; }
nn_real *lathe_nn_net_grads(LatheNnNet *net) { return net->grads; }
void lathe_nn_net_moments(LatheNnNet *net, nn_real **m, nn_real **v) {
  *m = net->m;
  *v = net->v;
}
guint lathe_nn_net_max_batch(const LatheNnNet *net) { return net->max_batch; }
LatheNnShape lathe_nn_net_input_shape(const LatheNnNet *net) { return net->in; }
guint lathe_nn_net_n_classes(const LatheNnNet *net) { return net->n_classes; }
guint lathe_nn_net_n_layers(const LatheNnNet *net) { return net->layers->len; }
LatheNnLayer *lathe_nn_net_layer(LatheNnNet *net, guint i) {
  g_return_val_if_fail(i < net->layers->len, NULL);
  return net->layers->pdata[i];
}

void lathe_nn_net_zero_grads(LatheNnNet *net) {
  if (net->grads)
    memset(net->grads, 0, net->n_params * sizeof(nn_real));
}

const nn_real *lathe_nn_net_forward(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                                    const guint32 *len) {
  g_return_val_if_fail(net->built && p->n >= 1 && p->n <= net->max_batch, NULL);
  g_return_val_if_fail(!p->train || net->train, NULL);
  const nn_real *in = x;
  const guint32 *len_in = len;
  for (guint i = 0; i < net->layers->len; i++) {
    LatheNnLayer *l = net->layers->pdata[i];
    l->ops->forward(l, p, in, len_in, net->outs[i], net->lens[i]);
    in = net->outs[i];
    len_in = net->lens[i];
  }
  return in;
}

/* Cross-entropy of one row of logits @z against class @y, in double with the
 * largest logit subtracted; @prob (nullable) receives the softmax. */
static double row_softmax_ce(const nn_real *z, guint k, gint32 y, double *prob) {
  double zmax = z[0];
  for (guint j = 1; j < k; j++)
    zmax = MAX(zmax, (double)z[j]);
  double sum = 0.0;
  for (guint j = 0; j < k; j++) {
    double e = exp((double)z[j] - zmax);
    if (prob)
      prob[j] = e;
    sum += e;
  }
  if (prob)
    for (guint j = 0; j < k; j++)
      prob[j] /= sum;
  /* A NaN logit makes zmax and the loss NaN, which the trainer reports. */
  return y >= 0 ? zmax + log(sum) - (double)z[y] : 0.0;
}

double lathe_nn_net_train_step(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                               const guint32 *len, const gint32 *labels,
                               const double *class_weight, nn_real *dx) {
  return lathe_nn_net_train_part(net, p, x, len, labels, class_weight, p->n, dx);
}

double lathe_nn_net_train_part(LatheNnNet *net, const LatheNnPass *p, const nn_real *x,
                               const guint32 *len, const gint32 *labels,
                               const double *class_weight, guint batch_n, nn_real *dx) {
  g_return_val_if_fail(p->train && net->train && batch_n >= p->n, NAN);
  const nn_real *logits = lathe_nn_net_forward(net, p, x, len);
  g_return_val_if_fail(logits, NAN);
  /* Dividing by batch_n, which is p->n for a whole batch, keeps the
   * whole-batch step bit-identical to what it was before parts existed. */
  const guint k = net->n_classes, n = batch_n, nl = net->layers->len;
  double *prob = net->prob;
  double loss = 0.0;
  nn_real *dz = net->dbuf[0];
  for (guint r = 0; r < p->n; r++) {
    const gint32 y = labels[r];
    const double w = class_weight ? class_weight[y] : 1.0;
    loss += w * row_softmax_ce(logits + (gsize)r * k, k, y, prob);
    for (guint j = 0; j < k; j++)
      dz[(gsize)r * k + j] = (nn_real)((prob[j] - (j == (guint)y ? 1.0 : 0.0)) * w / n);
  }
  int which = 0;
  for (guint i = nl; i-- > 0;) {
    LatheNnLayer *l = net->layers->pdata[i];
    const nn_real *in = i == 0 ? x : net->outs[i - 1];
    const guint32 *len_in = i == 0 ? len : net->lens[i - 1];
    nn_real *din = NULL;
    if (i == 0)
      din = dx;
    else if (dx || net->first_trainable < i)
      din = net->dbuf[1 - which];
    l->ops->backward(l, p, in, len_in, net->outs[i], net->lens[i], net->dbuf[which], din);
    if (!din)
      break;
    which = 1 - which;
  }
  return loss / n;
}

double lathe_nn_net_evaluate(LatheNnNet *net, guint n, const nn_real *x, const guint32 *len,
                             const gint32 *labels, const double *class_weight, float *probs,
                             guint *n_correct) {
  const LatheNnPass p = {.n = n, .train = FALSE, .rng = NULL};
  const nn_real *logits = lathe_nn_net_forward(net, &p, x, len);
  g_return_val_if_fail(logits, NAN);
  const guint k = net->n_classes;
  double *prob = net->prob;
  double loss = 0.0;
  guint correct = 0;
  for (guint r = 0; r < n; r++) {
    const gint32 y = labels ? labels[r] : -1;
    double ce = row_softmax_ce(logits + (gsize)r * k, k, y, prob);
    if (y >= 0)
      loss += (class_weight ? class_weight[y] : 1.0) * ce;
    guint best = 0;
    for (guint j = 0; j < k; j++) {
      if (prob[j] > prob[best])
        best = j;
      if (probs)
        probs[(gsize)r * k + j] = (float)prob[j];
    }
    if (y >= 0 && best == (guint)y)
      correct++;
  }
  if (n_correct)
    *n_correct = correct;
  return loss;
}
