/* Data-parallel passes. Every shard has its own net (the main net for shard
 * 0, a replica otherwise) sharing the parameters, which nothing writes during
 * a pass round, so the threads write disjoint memory. The gradient sum and
 * the Adam step come in a second round in which each thread owns a range of
 * the parameters and sums each one over the shards in shard order. That
 * order, the fixed split and the per-shard dropout seeds drawn before the
 * round make the result independent of scheduling. */
#include <math.h>

#include "nn-adam.h"
#include "nn-parallel.h"
#include "nn-shards.h"

typedef enum { JOB_TRAIN, JOB_EVAL, JOB_UPDATE } JobKind;

typedef struct {
  LatheNnNet *net; /* not owned for shard 0 */
  LatheRng drop;
  double loss; /* this shard's result of the round */
  guint correct;
} Shard;

struct _LatheNnShards {
  guint n_shards;
  Shard *shard;
  LatheNnPool *pool;
  gsize n_params;
  gsize sample; /* values per row */
  /* the round's job, written by the caller before lathe_nn_pool_run() */
  JobKind kind;
  guint n;
  const nn_real *x;
  const guint32 *len;
  const gint32 *labels;
  const double *class_weight;
  gboolean with_adam; /* JOB_UPDATE: also step, with these constants */
  LatheNnAdamStep adam;
  nn_real *m, *v;
};

/* The first row of shard @s of @n rows. */
static guint shard_start(const LatheNnShards *sh, guint s) {
  return (guint)((guint64)s * sh->n / sh->n_shards);
}

/* Task @t of an update: for the parameters [t np / T, (t + 1) np / T), the
 * shards' gradients summed in shard order into shard 0's, the others zeroed
 * for the next batch (backward adds to them), then the Adam step. Each
 * parameter is summed and stepped exactly as a serial loop would. */
static void update_range(LatheNnShards *sh, guint t) {
  const gsize a = (gsize)((guint64)t * sh->n_params / sh->n_shards);
  const gsize b = (gsize)((guint64)(t + 1) * sh->n_params / sh->n_shards);
  LatheNnNet *net = sh->shard[0].net;
  nn_real *restrict g = lathe_nn_net_grads(net) + a;
  for (guint s = 1; s < sh->n_shards; s++) {
    if (shard_start(sh, s + 1) == shard_start(sh, s))
      continue; /* an empty shard added nothing */
    nn_real *restrict gs = lathe_nn_net_grads(sh->shard[s].net) + a;
    for (gsize i = 0; i < b - a; i++) {
      g[i] += gs[i];
      gs[i] = 0;
    }
  }
  if (sh->with_adam)
    lathe_nn_adam_apply(&sh->adam, lathe_nn_net_params(net) + a, g, sh->m + a, sh->v + a,
                        b - a);
}

static void run_shard(gpointer data, guint s) {
  LatheNnShards *sh = data;
  if (sh->kind == JOB_UPDATE) {
    update_range(sh, s);
    return;
  }
  Shard *me = &sh->shard[s];
  const guint a = shard_start(sh, s), b = shard_start(sh, s + 1);
  me->loss = 0.0;
  me->correct = 0;
  if (b == a)
    return; /* a batch smaller than the thread count leaves shards empty */
  const nn_real *x = sh->x + (gsize)a * sh->sample;
  if (sh->kind == JOB_TRAIN) {
    const LatheNnPass p = {.n = b - a, .train = TRUE, .rng = &me->drop};
    me->loss = lathe_nn_net_train_part(me->net, &p, x, sh->len + a, sh->labels + a,
                                       sh->class_weight, sh->n, NULL);
  } else {
    me->loss = lathe_nn_net_evaluate(me->net, b - a, x, sh->len + a, sh->labels + a,
                                     sh->class_weight, NULL, &me->correct);
  }
}

LatheNnShards *lathe_nn_shards_new(LatheNnNet *net, guint n_shards, GError **error) {
  g_return_val_if_fail(n_shards >= 2 && lathe_nn_net_grads(net), NULL);
  const guint mb = lathe_nn_net_max_batch(net);
  const LatheNnShape in = lathe_nn_net_input_shape(net);
  LatheNnShards *sh = g_new0(LatheNnShards, 1);
  sh->n_shards = n_shards;
  sh->shard = g_new0(Shard, n_shards);
  sh->n_params = lathe_nn_net_n_params(net);
  sh->sample = (gsize)in.steps * in.channels;
  sh->shard[0].net = net;
  /* The largest shard of the largest batch. */
  const guint per = (mb + n_shards - 1) / n_shards;
  for (guint s = 1; s < n_shards; s++) {
    sh->shard[s].net = lathe_nn_net_new_replica(net, MAX(per, 1u), TRUE, error);
    if (!sh->shard[s].net) {
      g_prefix_error(error, "data-parallel training on %u threads: ", n_shards);
      lathe_nn_shards_free(sh);
      return NULL;
    }
    lathe_nn_net_zero_grads(sh->shard[s].net);
  }
  sh->pool = lathe_nn_pool_new(n_shards, run_shard, sh, error);
  if (!sh->pool) {
    lathe_nn_shards_free(sh);
    return NULL;
  }
  return sh;
}

void lathe_nn_shards_free(LatheNnShards *sh) {
  if (!sh)
    return;
  lathe_nn_pool_free(sh->pool); /* first: no thread may still use a replica */
  for (guint s = 1; s < sh->n_shards; s++)
    lathe_nn_net_free(sh->shard[s].net);
  g_free(sh->shard);
  g_free(sh);
}

static gboolean set_job(LatheNnShards *sh, JobKind kind, guint n, const nn_real *x,
                        const guint32 *len, const gint32 *labels, const double *class_weight) {
  g_return_val_if_fail(n >= 1 && n <= lathe_nn_net_max_batch(sh->shard[0].net), FALSE);
  sh->kind = kind;
  sh->n = n;
  sh->x = x;
  sh->len = len;
  sh->labels = labels;
  sh->class_weight = class_weight;
  return TRUE;
}

double lathe_nn_shards_train_step(LatheNnShards *sh, guint n, const nn_real *x,
                                  const guint32 *len, const gint32 *labels,
                                  const double *class_weight, LatheRng *drop) {
  if (!set_job(sh, JOB_TRAIN, n, x, len, labels, class_weight))
    return NAN;
  for (guint s = 0; s < sh->n_shards; s++)
    lathe_rng_init(&sh->shard[s].drop, lathe_rng_next(drop));
  lathe_nn_pool_run(sh->pool);
  double loss = 0.0;
  for (guint s = 0; s < sh->n_shards; s++)
    loss += sh->shard[s].loss;
  return loss;
}

void lathe_nn_shards_update(LatheNnShards *sh, LatheNnAdam *adam) {
  /* sh->n and the shard bounds are still those of the last train step. */
  g_return_if_fail(sh->kind == JOB_TRAIN);
  sh->kind = JOB_UPDATE;
  sh->with_adam = adam != NULL;
  if (adam) {
    lathe_nn_adam_begin(adam, &sh->adam);
    lathe_nn_net_moments(sh->shard[0].net, &sh->m, &sh->v);
  }
  lathe_nn_pool_run(sh->pool);
}

double lathe_nn_shards_evaluate(LatheNnShards *sh, guint n, const nn_real *x,
                                const guint32 *len, const gint32 *labels,
                                const double *class_weight, guint *n_correct) {
  *n_correct = 0;
  if (!set_job(sh, JOB_EVAL, n, x, len, labels, class_weight))
    return NAN;
  lathe_nn_pool_run(sh->pool);
  double loss = 0.0;
  guint correct = 0;
  for (guint s = 0; s < sh->n_shards; s++) {
    loss += sh->shard[s].loss;
    correct += sh->shard[s].correct;
  }
  *n_correct = correct;
  return loss;
}
