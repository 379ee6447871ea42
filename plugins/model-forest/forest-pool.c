/* A few worker threads claiming item numbers from a counter. Which worker
 * runs an item never matters: every item writes only its own slot. */
#include "forest-pool.h"

static gpointer pool_worker(gpointer p) {
  LatheForestPool *pool = p;
  gpointer scratch = pool->scratch_new ? pool->scratch_new(pool->data) : NULL;
  gint i;
  while (!g_atomic_int_get(&pool->stop) &&
         (i = g_atomic_int_add(&pool->next, 1)) < (gint)pool->n_items) {
    pool->func(pool->data, (guint)i, scratch);
    g_mutex_lock(&pool->lock);
    pool->done++;
    g_cond_signal(&pool->cond);
    g_mutex_unlock(&pool->lock);
  }
  if (scratch && pool->scratch_free)
    pool->scratch_free(scratch);
  return NULL;
}

gboolean lathe_forest_pool_run(LatheForestPool *pool, guint threads, LatheContext *ctx,
                               const char *what) {
  if (ctx && lathe_context_is_cancelled(ctx))
    return FALSE;
  g_mutex_init(&pool->lock);
  g_cond_init(&pool->cond);
  guint nt = CLAMP(threads, 1u, MAX(pool->n_items, 1u));
  GThread **th = g_new0(GThread *, nt);
  for (guint t = 0; t < nt; t++)
    th[t] = g_thread_new("forest", pool_worker, pool);
  gboolean ok = TRUE;
  gint64 next_note = g_get_monotonic_time() + 100 * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock(&pool->lock);
  while (pool->done < pool->n_items) {
    /* Woken by every finished item, but the host hears at most 10 times a
     * second. */
    g_cond_wait_until(&pool->cond, &pool->lock, next_note);
    if (g_get_monotonic_time() < next_note)
      continue;
    next_note = g_get_monotonic_time() + 100 * G_TIME_SPAN_MILLISECOND;
    if (ctx && lathe_context_is_cancelled(ctx)) {
      g_atomic_int_set(&pool->stop, 1);
      ok = FALSE;
      break;
    }
    if (ctx && what) {
      char note[64];
      g_snprintf(note, sizeof note, "%s %u/%u", what, pool->done, pool->n_items);
      lathe_context_progress(ctx, (double)pool->done / MAX(pool->n_items, 1u), note);
    }
  }
  g_mutex_unlock(&pool->lock);
  for (guint t = 0; t < nt; t++)
    g_thread_join(th[t]);
  g_free(th);
  g_mutex_clear(&pool->lock);
  g_cond_clear(&pool->cond);
  return ok;
}
