/* The training loop. Everything it needs is allocated before the first epoch:
 * the batch buffers, the shuffled row order, with early stopping one copy of
 * the weights for the best epoch, and with T > 1 threads the replicas and
 * workers of data-parallel training (nn-shards.h). Randomness comes only from
 * the node's stream (shuffles) and a stream derived from the node's seed
 * (dropout; with T > 1 it seeds one stream per shard per batch), so one seed
 * and one thread count give bit-identical weights. With one thread the loop
 * is exactly the serial one.
 *
 * Why data parallelism rather than BLAS threads: the GEMMs of a batch are
 * small (a conv chunk, a recurrent step), and OpenBLAS splitting each of them
 * over 2 threads made the CNN epoch twice as slow as 1 thread; whole shards
 * of the batch per thread keep every core busy with no synchronisation inside
 * a pass. BLAS runs single-threaded inside the shards: its thread count is
 * process-global, and it is safe to set it for the length of the fit because
 * the host gives a node T threads only when no other node runs on those
 * cores (parallel nodes x threads never exceed them), so nothing else is
 * using BLAS's threads meanwhile; the previous count is restored after. */
#include <math.h>
#include <string.h>

#include "nn-adam.h"
#include "nn-data.h"
#include "nn-parallel.h"
#include "nn-shards.h"
#include "nn-train.h"

static gboolean cancelled(LatheContext *ctx, const char *who, guint epoch, GError **error) {
  if (!lathe_context_is_cancelled(ctx))
    return FALSE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "%s: cancelled at epoch %u", who,
              epoch);
  return TRUE;
}

static void diverged(const char *who, guint epoch, const char *what, double value,
                     GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
              "%s: training diverged at epoch %u (%s is %s); lower lr or standardise the inputs",
              who, epoch, what,
              isnan(value) ? "NaN" : "infinite");
}

/* The validation loss (weighted mean cross-entropy) and accuracy, in batches
 * (sharded when @sh is not %NULL). */
static void validate(LatheNnNet *net, LatheNnShards *sh, const LatheNnSplit *valid,
                     const double *cw, nn_real *bx, guint32 *blen, gint32 *by, double *loss,
                     double *accuracy) {
  const guint mb = lathe_nn_net_max_batch(net);
  double sum = 0.0;
  guint correct = 0;
  for (guint start = 0; start < valid->n; start += mb) {
    guint nb = MIN(mb, valid->n - start), ok = 0;
    lathe_nn_gather(valid->ds, valid->rows + start, nb, bx, blen, by);
    sum += sh ? lathe_nn_shards_evaluate(sh, nb, bx, blen, by, cw, &ok)
              : lathe_nn_net_evaluate(net, nb, bx, blen, by, cw, NULL, &ok);
    correct += ok;
  }
  *loss = sum / valid->n;
  *accuracy = (double)correct / valid->n;
}

static gboolean all_finite(const nn_real *w, gsize n) {
  for (gsize i = 0; i < n; i++)
    if (!isfinite(w[i]))
      return FALSE;
  return TRUE;
}

gboolean lathe_nn_train(LatheNnNet *net, LatheContext *ctx, const char *who,
                        const LatheNnSplit *train, const LatheNnSplit *valid,
                        const double *class_weight, const LatheNnTrainConfig *cfg,
                        LatheNnTrainResult *res, GError **error) {
  const guint n = train->n;
  const guint bs = MIN(MAX(cfg->batch_size, 1u), n);
  g_return_val_if_fail(n > 0 && cfg->epochs > 0 && bs <= lathe_nn_net_max_batch(net), FALSE);
  const gboolean has_valid = valid && valid->n > 0;
  const LatheNnShape shape = lathe_nn_net_input_shape(net);
  const gsize sample = (gsize)shape.steps * shape.channels;
  const guint mb = lathe_nn_net_max_batch(net);
  const gsize np = lathe_nn_net_n_params(net);
  nn_real *w = lathe_nn_net_params(net), *g = lathe_nn_net_grads(net), *m, *v;
  lathe_nn_net_moments(net, &m, &v);

  nn_real *bx = g_try_malloc_n((gsize)mb * sample + 1, sizeof(nn_real));
  nn_real *best = cfg->patience > 0 ? g_try_malloc_n(np + 1, sizeof(nn_real)) : NULL;
  if (!bx || (cfg->patience > 0 && !best)) {
    g_free(bx);
    g_free(best);
    g_set_error(error, LATHE_ERROR,
                lathe_nn_alloc_error(((double)mb * sample + (double)np) * sizeof(nn_real)),
                "%s: not enough memory for the batch and the best weights; lower batch_size",
                who);
    return FALSE;
  }
  /* One shard per thread, and no more threads than rows in a batch. */
  const guint threads = MIN(lathe_context_threads(ctx), bs);
  LatheNnShards *sh = NULL;
  int blas_before = 0;
  if (threads > 1) {
    blas_before = lathe_nn_blas_threads(1);
    GError *local = NULL;
    sh = lathe_nn_shards_new(net, threads, &local);
    if (!sh) {
      lathe_nn_blas_threads(blas_before);
      g_free(bx);
      g_free(best);
      g_propagate_prefixed_error(error, local, "%s: ", who);
      return FALSE;
    }
  }
  guint32 *blen = g_new(guint32, mb + 1);
  gint32 *by = g_new(gint32, mb + 1);
  guint32 *order = g_memdup2(train->rows, (gsize)n * sizeof(guint32));
  LatheRng *shuffle = lathe_context_rng(ctx);
  LatheRng drop;
  lathe_rng_init(&drop, lathe_seed_derive(lathe_context_seed(ctx), "nn-dropout"));
  LatheNnAdam adam;
  lathe_nn_adam_init(&adam, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps, cfg->weight_decay);
  lathe_nn_net_zero_grads(net);

  *res = (LatheNnTrainResult){.best_loss = INFINITY,
                              .best_val_accuracy = NAN,
                              .last_loss = NAN,
                              .watched_valid = has_valid};
  gboolean ok = TRUE;
  guint wait = 0;
  char note[64];
  for (guint epoch = 1; epoch <= cfg->epochs && ok; epoch++) {
    const gint64 t0 = g_get_monotonic_time();
    lathe_rng_shuffle(shuffle, order, n);
    double sum = 0.0;
    for (guint start = 0; start < n; start += bs) {
      if (cancelled(ctx, who, epoch, error)) {
        ok = FALSE;
        break;
      }
      const guint nb = MIN(bs, n - start);
      lathe_nn_gather(train->ds, order + start, nb, bx, blen, by);
      const LatheNnPass pass = {.n = nb, .train = TRUE, .rng = &drop};
      double loss = sh ? lathe_nn_shards_train_step(sh, nb, bx, blen, by, class_weight, &drop)
                       : lathe_nn_net_train_step(net, &pass, bx, blen, by, class_weight, NULL);
      if (!isfinite(loss)) {
        diverged(who, epoch, "loss", loss, error);
        ok = FALSE;
        break;
      }
      if (sh)
        lathe_nn_shards_update(sh, &adam);
      else
        lathe_nn_adam_step(&adam, w, g, m, v, np);
      sum += loss * nb;
    }
    if (!ok)
      break;
    const double loss = sum / n;
    double val_loss = NAN, val_acc = NAN;
    if (has_valid) {
      validate(net, sh, valid, class_weight, bx, blen, by, &val_loss, &val_acc);
      if (!isfinite(val_loss)) {
        diverged(who, epoch, "val_loss", val_loss, error);
        ok = FALSE;
        break;
      }
    }
    const double seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    res->epochs_run = epoch;
    res->last_loss = loss;
    lathe_context_report(ctx, "loss", loss, epoch);
    if (has_valid) {
      lathe_context_report(ctx, "val_loss", val_loss, epoch);
      lathe_context_report(ctx, "val_accuracy", val_acc, epoch);
    }
    lathe_context_report(ctx, "epoch_seconds", seconds, epoch);
    g_snprintf(note, sizeof note, "epoch %u/%u", epoch, cfg->epochs);
    lathe_context_progress(ctx, (double)epoch / cfg->epochs, note);

    const double watched = has_valid ? val_loss : loss;
    if (watched < res->best_loss - cfg->min_delta) {
      res->best_loss = watched;
      res->best_epoch = epoch;
      res->best_val_accuracy = val_acc;
      wait = 0;
      if (best)
        memcpy(best, w, np * sizeof(nn_real));
    } else if (cfg->patience > 0 && ++wait >= cfg->patience) {
      res->stopped_early = epoch < cfg->epochs;
      break;
    }
  }
  /* A cancel that came during the last epoch's reports still stops the node. */
  if (ok && cancelled(ctx, who, res->epochs_run, error))
    ok = FALSE;
  if (ok && best && res->best_epoch != res->epochs_run)
    memcpy(w, best, np * sizeof(nn_real));
  if (ok && !all_finite(w, np)) {
    diverged(who, res->epochs_run, "a weight", NAN, error);
    ok = FALSE;
  }
  if (sh) {
    lathe_nn_shards_free(sh);
    lathe_nn_blas_threads(blas_before);
  }
  g_free(bx);
  g_free(best);
  g_free(blen);
  g_free(by);
  g_free(order);
  return ok;
}
