/* A node's cancellation flag, watched into a GCancellable (lakefs-cancel.h). */
#include "lakefs-cancel.h"

struct _LatheLakefsCancel {
  LatheContext *ctx;
  GCancellable *cancellable;
  GMutex lock;
  GCond cond;
  gboolean stop;
  GThread *thread;
};

static gpointer watch(gpointer data) {
  LatheLakefsCancel *w = data;
  g_mutex_lock(&w->lock);
  while (!w->stop) {
    if (lathe_context_is_cancelled(w->ctx)) {
      g_cancellable_cancel(w->cancellable);
      break;
    }
    /* A wait, not a sleep: freeing the watcher wakes it at once. */
    g_cond_wait_until(&w->cond, &w->lock, g_get_monotonic_time() + 50 * G_TIME_SPAN_MILLISECOND);
  }
  g_mutex_unlock(&w->lock);
  return NULL;
}

LatheLakefsCancel *lathe_lakefs_cancel_watch(LatheContext *ctx) {
  LatheLakefsCancel *w = g_new0(LatheLakefsCancel, 1);
  w->ctx = ctx;
  w->cancellable = g_cancellable_new();
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  w->thread = g_thread_try_new("lakefs-cancel", watch, w, NULL);
  return w;
}

GCancellable *lathe_lakefs_cancel_get(LatheLakefsCancel *w) {
  if (!w->thread && lathe_context_is_cancelled(w->ctx))
    g_cancellable_cancel(w->cancellable);
  return w->cancellable;
}

void lathe_lakefs_cancel_free(LatheLakefsCancel *w) {
  if (!w)
    return;
  if (w->thread) {
    g_mutex_lock(&w->lock);
    w->stop = TRUE;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(w->thread);
  }
  g_object_unref(w->cancellable);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
  g_free(w);
}
