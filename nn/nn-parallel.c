/* The worker pool. A round is a generation number: lathe_nn_pool_run()
 * bumps it under the mutex and broadcasts, each worker runs its task once per
 * generation it sees, and the last to finish signals the caller. The workers
 * are started once per pool (one per fit), so a training step only pays the
 * two wake-ups. */
#include <lathe/lathe-error.h>

#include "nn-parallel.h"

struct _LatheNnPool {
  guint n_tasks;
  LatheNnTaskFunc func;
  gpointer data;
  GThread **threads; /* n_tasks - 1 */
  GMutex lock;
  GCond start, done;
  guint64 generation; /* bumped once per round */
  guint pending;      /* worker tasks of this round not finished yet */
  gboolean quit;
};

typedef struct {
  LatheNnPool *pool;
  guint task;
} Worker;

static gpointer worker_main(gpointer arg) {
  Worker *w = arg;
  LatheNnPool *pool = w->pool;
  const guint task = w->task;
  g_free(w);
  /* 0, not the current generation: a round started before this thread first
   * took the lock must still run here. */
  guint64 seen = 0;
  g_mutex_lock(&pool->lock);
  for (;;) {
    while (pool->generation == seen && !pool->quit)
      g_cond_wait(&pool->start, &pool->lock);
    if (pool->quit)
      break;
    seen = pool->generation;
    g_mutex_unlock(&pool->lock);
    pool->func(pool->data, task);
    g_mutex_lock(&pool->lock);
    if (--pool->pending == 0)
      g_cond_signal(&pool->done);
  }
  g_mutex_unlock(&pool->lock);
  return NULL;
}

LatheNnPool *lathe_nn_pool_new(guint n_tasks, LatheNnTaskFunc func, gpointer data,
                               GError **error) {
  g_return_val_if_fail(n_tasks >= 1 && func, NULL);
  LatheNnPool *pool = g_new0(LatheNnPool, 1);
  pool->n_tasks = n_tasks;
  pool->func = func;
  pool->data = data;
  pool->threads = g_new0(GThread *, n_tasks);
  g_mutex_init(&pool->lock);
  g_cond_init(&pool->start);
  g_cond_init(&pool->done);
  for (guint t = 1; t < n_tasks; t++) {
    Worker *w = g_new(Worker, 1);
    *w = (Worker){pool, t};
    g_autoptr(GError) local = NULL;
    pool->threads[t - 1] = g_thread_try_new("lathe-nn", worker_main, w, &local);
    if (!pool->threads[t - 1]) {
      g_free(w);
      /* The machine is out of threads, not the training wrong: a resource. */
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_RESOURCE,
                  "cannot start training thread %u of %u (%s); give the node fewer threads", t,
                  n_tasks - 1, local->message);
      lathe_nn_pool_free(pool);
      return NULL;
    }
  }
  return pool;
}

void lathe_nn_pool_run(LatheNnPool *pool) {
  g_mutex_lock(&pool->lock);
  pool->pending = pool->n_tasks - 1;
  pool->generation++;
  g_cond_broadcast(&pool->start);
  g_mutex_unlock(&pool->lock);
  pool->func(pool->data, 0);
  g_mutex_lock(&pool->lock);
  while (pool->pending > 0)
    g_cond_wait(&pool->done, &pool->lock);
  g_mutex_unlock(&pool->lock);
}

void lathe_nn_pool_free(LatheNnPool *pool) {
  if (!pool)
    return;
  g_mutex_lock(&pool->lock);
  pool->quit = TRUE;
  g_cond_broadcast(&pool->start);
  g_mutex_unlock(&pool->lock);
  for (guint t = 0; t + 1 < pool->n_tasks; t++)
    if (pool->threads[t])
      g_thread_join(pool->threads[t]);
  g_free(pool->threads);
  g_mutex_clear(&pool->lock);
  g_cond_clear(&pool->start);
  g_cond_clear(&pool->done);
  g_free(pool);
}
