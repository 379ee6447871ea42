/* nn-parallel.h: a persistent pool of worker threads that runs one fixed set
 * of tasks at a time, for data-parallel training. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheNnTaskFunc:
 * @data: the pool's user data.
 * @task: which task, in [0, n_tasks).
 *
 * One task of a round. Task @task always runs on the same thread (task 0 on
 * the caller of lathe_nn_pool_run(), task i > 0 on worker i), so a task may
 * keep per-thread state in @data indexed by @task.
 */
typedef void (*LatheNnTaskFunc)(gpointer data, guint task);

/**
 * LatheNnPool:
 *
 * n_tasks - 1 threads, started once and parked on a condition variable
 * between rounds, plus the caller: a round costs two wake-ups, no allocation.
 */
typedef struct _LatheNnPool LatheNnPool;

/**
 * lathe_nn_pool_new:
 * @n_tasks: tasks per round (>= 1); starts @n_tasks - 1 threads.
 * @func: what every task runs.
 * @data: passed to @func.
 *
 * Returns: (transfer full) (nullable): the pool, or %NULL with @error set
 * when a thread cannot be started.
 */
LatheNnPool *lathe_nn_pool_new(guint n_tasks, LatheNnTaskFunc func, gpointer data,
                               GError **error);

/**
 * lathe_nn_pool_run:
 *
 * Runs @func for every task, task 0 on the calling thread, and returns when
 * all are done. Everything the caller wrote before the call is visible to the
 * tasks, and everything the tasks wrote is visible to the caller after it (the
 * hand-offs go through the pool's mutex). Not reentrant.
 */
void lathe_nn_pool_run(LatheNnPool *pool);

/** lathe_nn_pool_free: stops and joins the threads. %NULL is ignored. */
void lathe_nn_pool_free(LatheNnPool *pool);

/**
 * lathe_nn_blas_threads:
 * @n: the number of threads BLAS may use from now on (>= 1).
 *
 * Sets OpenBLAS's thread count, which is process-global (see nn-train.c for
 * why changing it during a fit is safe).
 *
 * Returns: the previous count.
 */
int lathe_nn_blas_threads(int n);

G_END_DECLS
