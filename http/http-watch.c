/* http-watch.c: connect and idle timeouts, in milliseconds, as cancellation.
 *
 * libsoup's sync API has a single I/O timeout in whole seconds that covers
 * connecting and every read and write alike. One process-wide thread runs a
 * main context where each transfer in flight has a timer; the transfer moves
 * the timer forward whenever it makes progress (a libsoup signal, a chunk
 * read), and when the timer fires it cancels the transfer's cancellable and
 * records which timeout it was, so the error can say so.
 */
#include "http-private.h"

/* What the timer's callback touches: reference-counted, so a dispatch on the
 * watch thread while the transfer ends never sees freed memory. */
typedef struct {
  GCancellable *cancel;
  gint phase; /* atomic: 1 connecting, 2 transferring */
  gint fired; /* atomic: 0, or the phase the timer fired in */
} Shared;

struct Watch {
  Shared *s;
  GCancellable *user;
  gulong user_id;
  GSource *timer;
  guint idle_ms;
};

static GMainContext *watch_context;

static gpointer watch_thread(gpointer data) {
  GMainContext *ctx = data;
  g_main_context_push_thread_default(ctx);
  for (;;)
    g_main_context_iteration(ctx, TRUE);
  return NULL;
}

static GMainContext *watch_ctx(void) {
  if (g_once_init_enter(&watch_context)) {
    GMainContext *ctx = g_main_context_new();
    /* Lives as long as the process, like GLib's own helper threads. */
    g_thread_unref(g_thread_new("lathe-http-watch", watch_thread, ctx));
    g_once_init_leave(&watch_context, ctx);
  }
  return watch_context;
}

static void shared_clear(gpointer p) {
  g_object_unref(((Shared *)p)->cancel);
}

static void shared_unref(gpointer p) {
  g_atomic_rc_box_release_full(p, shared_clear);
}

static gboolean watch_dispatch(GSource *source, GSourceFunc cb, gpointer data) {
  return cb(data);
}
static GSourceFuncs watch_funcs = {NULL, NULL, watch_dispatch, NULL, NULL, NULL};

static gboolean watch_fire(gpointer data) {
  Shared *s = data;
  g_atomic_int_set(&s->fired, g_atomic_int_get(&s->phase));
  g_cancellable_cancel(s->cancel);
  return G_SOURCE_REMOVE;
}

static void user_cancelled(GCancellable *user, gpointer data) {
  g_cancellable_cancel(G_CANCELLABLE(data));
}

Watch *lathe_http_watch_new(GCancellable *user, guint connect_ms, guint idle_ms) {
  Watch *w = g_new0(Watch, 1);
  w->s = g_atomic_rc_box_new0(Shared);
  w->s->cancel = g_cancellable_new();
  w->s->phase = 1;
  w->idle_ms = idle_ms;
  if (user) {
    w->user = g_object_ref(user);
    w->user_id = g_cancellable_connect(user, G_CALLBACK(user_cancelled),
                                       g_object_ref(w->s->cancel), g_object_unref);
  }
  w->timer = g_source_new(&watch_funcs, sizeof(GSource));
  g_source_set_callback(w->timer, watch_fire, g_atomic_rc_box_acquire(w->s), shared_unref);
  g_source_set_ready_time(w->timer, g_get_monotonic_time() + (gint64)connect_ms * 1000);
  g_source_attach(w->timer, watch_ctx());
  return w;
}

GCancellable *lathe_http_watch_cancellable(Watch *w) {
  return w->s->cancel;
}

void lathe_http_watch_transfer(Watch *w) {
  g_atomic_int_set(&w->s->phase, 2);
  lathe_http_watch_kick(w);
}

void lathe_http_watch_kick(Watch *w) {
  /* Thread-safe on an attached source: it wakes the watch thread. */
  if (!g_atomic_int_get(&w->s->fired))
    g_source_set_ready_time(w->timer, g_get_monotonic_time() + (gint64)w->idle_ms * 1000);
}

int lathe_http_watch_fired(Watch *w) {
  return g_atomic_int_get(&w->s->fired);
}

void lathe_http_watch_free(Watch *w) {
  if (!w)
    return;
  g_source_destroy(w->timer);
  g_source_unref(w->timer);
  if (w->user) {
    g_cancellable_disconnect(w->user, w->user_id);
    g_object_unref(w->user);
  }
  shared_unref(w->s);
  g_free(w);
}
