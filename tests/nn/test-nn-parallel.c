/* Data-parallel training pieces, in the float64 build of the engine: the
 * worker pool runs every task once per round on its own thread; a batch
 * split into shards over net replicas gives the full batch's loss and
 * gradient (up to rounding), for conv (whose private Winograd buffers each
 * replica must have its own of), pooling, recurrent and dense layers, with
 * variable lengths, uneven and empty shards; replicas read the live
 * parameters; a sharded step leaves everything ready for the next; and the
 * threaded Adam step is the serial one, bit for bit. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-rng.h>

#include "nn-adam.h"
#include "nn-net.h"
#include "nn-parallel.h"
#include "nn-shards.h"

/* ---- the pool ---- */

#define ROUNDS 200
#define TASKS 4

typedef struct {
  GThread *thread[TASKS];
  gint runs[TASKS]; /* this round's runs of each task */
  gint total[TASKS];
  gboolean same_thread[TASKS];
} PoolLog;

static void log_task(gpointer data, guint task) {
  PoolLog *log = data;
  g_assert_cmpuint(task, <, TASKS);
  GThread *self = g_thread_self();
  if (!log->thread[task])
    log->thread[task] = self;
  if (log->thread[task] != self)
    log->same_thread[task] = FALSE;
  log->runs[task]++;
  log->total[task]++;
}

static void test_pool(void) {
  PoolLog log = {0};
  for (guint t = 0; t < TASKS; t++)
    log.same_thread[t] = TRUE;
  g_autoptr(GError) error = NULL;
  LatheNnPool *pool = lathe_nn_pool_new(TASKS, log_task, &log, &error);
  g_assert_no_error(error);
  for (guint r = 0; r < ROUNDS; r++) {
    memset(log.runs, 0, sizeof log.runs);
    lathe_nn_pool_run(pool);
    /* Every task exactly once, all done when run returns. */
    for (guint t = 0; t < TASKS; t++)
      g_assert_cmpint(log.runs[t], ==, 1);
  }
  lathe_nn_pool_free(pool);
  g_assert_true(log.thread[0] == g_thread_self()); /* task 0 on the caller */
  for (guint t = 0; t < TASKS; t++) {
    g_assert_cmpint(log.total[t], ==, ROUNDS);
    g_assert_true(log.same_thread[t]);
    for (guint u = 0; u < t; u++)
      g_assert_true(log.thread[t] != log.thread[u]);
  }
  /* One task: no thread at all. */
  PoolLog one = {0};
  one.same_thread[0] = TRUE;
  pool = lathe_nn_pool_new(1, log_task, &one, &error);
  g_assert_no_error(error);
  lathe_nn_pool_run(pool);
  lathe_nn_pool_free(pool);
  g_assert_cmpint(one.total[0], ==, 1);
  g_assert_true(one.thread[0] == g_thread_self());
}

/* ---- shards against the full batch ---- */

#define STEPS 9
#define CH 2
#define K 3
#define MB 7

static LatheNnNet *make_net(guint kind) {
  const LatheNnShape in = {STEPS, CH};
  LatheNnNet *net = lathe_nn_net_new(in, K);
  if (kind == 0) { /* conv (Winograd and im2col), maxpool, pool, dense */
    lathe_nn_net_add(net, lathe_nn_conv1d(4, 3, LATHE_NN_ACT_RELU));
    lathe_nn_net_add(net, lathe_nn_conv1d(3, 2, LATHE_NN_ACT_TANH));
    lathe_nn_net_add(net, lathe_nn_maxpool(2));
    lathe_nn_net_add(net, lathe_nn_pool(LATHE_NN_POOL_MEAN));
  } else if (kind == 1) { /* recurrent */
    lathe_nn_net_add(net, lathe_nn_lstm(4));
    lathe_nn_net_add(net, lathe_nn_rnn(3));
    lathe_nn_net_add(net, lathe_nn_pool(LATHE_NN_POOL_LAST));
  } else { /* flat */
    lathe_nn_net_add(net, lathe_nn_dense(5, LATHE_NN_ACT_RELU));
  }
  lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_nn_net_build(net, MB, TRUE, &error));
  g_assert_no_error(error);
  LatheRng rng;
  lathe_rng_init(&rng, 11 + kind);
  lathe_nn_net_init(net, &rng);
  return net;
}

typedef struct {
  nn_real x[MB * STEPS * CH];
  guint32 len[MB];
  gint32 y[MB];
  double cw[K];
} Batch;

static void make_batch(Batch *b, guint64 seed) {
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  for (guint i = 0; i < MB * STEPS * CH; i++)
    b->x[i] = (nn_real)(2 * lathe_rng_uniform(&rng) - 1);
  for (guint r = 0; r < MB; r++) {
    b->len[r] = 1 + (guint32)lathe_rng_below(&rng, STEPS);
    b->y[r] = (gint32)lathe_rng_below(&rng, K);
  }
  b->cw[0] = 0.5;
  b->cw[1] = 1.0;
  b->cw[2] = 2.0;
}

static void assert_close(const nn_real *a, const nn_real *b, gsize n, const char *what) {
  double worst = 0, scale = 0;
  for (gsize i = 0; i < n; i++) {
    worst = MAX(worst, fabs((double)a[i] - (double)b[i]));
    scale = MAX(scale, fabs((double)a[i]));
  }
  if (worst > 1e-12 * MAX(scale, 1.0))
    g_error("%s: sharded and whole-batch values differ by %g (scale %g)", what, worst, scale);
  g_assert_cmpfloat(scale, >, 0); /* a gradient of zeros would prove nothing */
}

static void check_shards(guint kind, guint n_shards, guint n) {
  g_autofree char *what = g_strdup_printf("net %u, %u shards, %u rows", kind, n_shards, n);
  LatheNnNet *net = make_net(kind);
  const gsize np = lathe_nn_net_n_params(net);
  Batch b;
  make_batch(&b, 100 + kind);

  /* The whole batch on one net (no dropout in these nets: no rng needed). */
  const LatheNnPass p = {.n = n, .train = TRUE, .rng = NULL};
  lathe_nn_net_zero_grads(net);
  const double loss = lathe_nn_net_train_step(net, &p, b.x, b.len, b.y, b.cw, NULL);
  nn_real *want = g_memdup2(lathe_nn_net_grads(net), np * sizeof(nn_real));
  guint ok_want = 0;
  const double eval_want = lathe_nn_net_evaluate(net, n, b.x, b.len, b.y, b.cw, NULL, &ok_want);

  g_autoptr(GError) error = NULL;
  LatheNnShards *sh = lathe_nn_shards_new(net, n_shards, &error);
  g_assert_no_error(error);
  LatheRng drop;
  lathe_rng_init(&drop, 1);
  /* Twice: the second step must not see the first's gradients. */
  for (int round = 0; round < 2; round++) {
    lathe_nn_net_zero_grads(net);
    const double got = lathe_nn_shards_train_step(sh, n, b.x, b.len, b.y, b.cw, &drop);
    lathe_nn_shards_update(sh, NULL);
    g_assert_cmpfloat(fabs(got - loss), <=, 1e-12 * fabs(loss));
    assert_close(want, lathe_nn_net_grads(net), np, what);
  }
  guint ok_got = 0;
  const double eval_got = lathe_nn_shards_evaluate(sh, n, b.x, b.len, b.y, b.cw, &ok_got);
  g_assert_cmpfloat(fabs(eval_got - eval_want), <=, 1e-12 * fabs(eval_want));
  g_assert_cmpuint(ok_got, ==, ok_want);

  /* The replicas read the live weights: change them, and the sharded loss
   * follows the whole-batch one. */
  nn_real *w = lathe_nn_net_params(net);
  for (gsize i = 0; i < np; i++)
    w[i] *= (nn_real)0.9;
  lathe_nn_net_zero_grads(net);
  const double moved = lathe_nn_net_train_step(net, &p, b.x, b.len, b.y, b.cw, NULL);
  memcpy(want, lathe_nn_net_grads(net), np * sizeof(nn_real));
  g_assert_cmpfloat(moved, !=, loss);
  lathe_nn_net_zero_grads(net);
  const double got = lathe_nn_shards_train_step(sh, n, b.x, b.len, b.y, b.cw, &drop);
  lathe_nn_shards_update(sh, NULL);
  g_assert_cmpfloat(fabs(got - moved), <=, 1e-12 * fabs(moved));
  assert_close(want, lathe_nn_net_grads(net), np, what);

  /* The threaded Adam step (each thread a range of the parameters) against
   * the serial one on copies of the same summed gradients: bit for bit. */
  nn_real *m, *v;
  lathe_nn_net_moments(net, &m, &v);
  for (gsize i = 0; i < np; i++) {
    m[i] = (nn_real)(1e-3 * (double)(i % 5));
    v[i] = (nn_real)(1e-4 * (double)(i % 3));
  }
  nn_real *wc = g_memdup2(w, np * sizeof(nn_real)), *gc = g_memdup2(want, np * sizeof(nn_real));
  nn_real *mc = g_memdup2(m, np * sizeof(nn_real)), *vc = g_memdup2(v, np * sizeof(nn_real));
  memcpy(gc, lathe_nn_net_grads(net), np * sizeof(nn_real));
  LatheNnAdam serial, threaded;
  lathe_nn_adam_init(&serial, 0.01, 0.9, 0.999, 1e-8, 0.01);
  threaded = serial;
  lathe_nn_adam_step(&serial, wc, gc, mc, vc, np);
  lathe_nn_net_zero_grads(net);
  lathe_nn_shards_train_step(sh, n, b.x, b.len, b.y, b.cw, &drop);
  lathe_nn_shards_update(sh, &threaded);
  g_assert_cmpmem(w, np * sizeof(nn_real), wc, np * sizeof(nn_real));
  g_assert_cmpmem(m, np * sizeof(nn_real), mc, np * sizeof(nn_real));
  g_assert_cmpmem(v, np * sizeof(nn_real), vc, np * sizeof(nn_real));
  g_assert_cmpuint(threaded.t, ==, serial.t);
  for (gsize i = 0; i < np; i++)
    g_assert_cmpfloat(lathe_nn_net_grads(net)[i], ==, 0); /* consumed */
  g_free(wc);
  g_free(gc);
  g_free(mc);
  g_free(vc);

  lathe_nn_shards_free(sh);
  g_free(want);
  lathe_nn_net_free(net);
}

static void test_shards_match_batch(void) {
  for (guint kind = 0; kind < 3; kind++) {
    check_shards(kind, 2, MB);    /* 3 + 4 rows */
    check_shards(kind, 3, MB);    /* 2 + 2 + 3 */
    check_shards(kind, 2, MB - 2);
    check_shards(kind, 3, 2);     /* shard 0 empty */
    check_shards(kind, 4, 1);     /* three empty shards */
  }
}

/* Dropout: per-shard streams seeded in shard order from one stream, so two
 * runs agree bit for bit and the masks change from step to step. */
static void test_shards_dropout(void) {
  const LatheNnShape in = {1, 6};
  double losses[2][3];
  for (int run = 0; run < 2; run++) {
    LatheNnNet *net = lathe_nn_net_new(in, K);
    lathe_nn_net_add(net, lathe_nn_dense(8, LATHE_NN_ACT_RELU));
    lathe_nn_net_add(net, lathe_nn_dropout(0.5));
    lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
    g_autoptr(GError) error = NULL;
    g_assert_true(lathe_nn_net_build(net, 6, TRUE, &error));
    LatheRng rng;
    lathe_rng_init(&rng, 3);
    lathe_nn_net_init(net, &rng);
    LatheNnShards *sh = lathe_nn_shards_new(net, 2, &error);
    g_assert_no_error(error);
    nn_real x[36];
    guint32 len[6];
    gint32 y[6];
    for (guint i = 0; i < 36; i++)
      x[i] = (nn_real)(i % 7) - 3;
    for (guint r = 0; r < 6; r++) {
      len[r] = 1;
      y[r] = (gint32)(r % K);
    }
    LatheRng drop;
    lathe_rng_init(&drop, 9);
    for (int step = 0; step < 3; step++) {
      lathe_nn_net_zero_grads(net);
      losses[run][step] = lathe_nn_shards_train_step(sh, 6, x, len, y, NULL, &drop);
      lathe_nn_shards_update(sh, NULL);
    }
    lathe_nn_shards_free(sh);
    lathe_nn_net_free(net);
  }
  for (int step = 0; step < 3; step++)
    g_assert_cmpfloat(losses[0][step], ==, losses[1][step]);
  g_assert_true(losses[0][0] != losses[0][1] || losses[0][1] != losses[0][2]);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nn-parallel/pool", test_pool);
  g_test_add_func("/nn-parallel/shards-match-batch", test_shards_match_batch);
  g_test_add_func("/nn-parallel/shards-dropout", test_shards_dropout);
  return g_test_run();
}
