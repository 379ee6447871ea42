/* Retries (issue 15): a node's policy, as Kubeflow users write it, decides
 * whether a failed attempt is made again and after how long. Each attempt
 * is its own execution row (run-batch.c). */
#include "engine/engine-private.h"

gboolean lathe_retry_should(LatheNodeRun *t) {
  const LatheRetryPolicy *p = &t->node->retry;
  return t->attempt <= p->max && (t->failure & p->on) && !lathe_engine_interrupted();
}

gboolean lathe_retry_wait(LatheNodeRun *t) {
  double delay = lathe_retry_delay(&t->node->retry, t->attempt + 1);
  if (delay > 0)
    g_printerr("[%s] attempt %u failed; attempt %u in %g s\n", t->exec_id, t->attempt,
               t->attempt + 1, delay);
  /* In slices, so an interrupt ends the wait at once. */
  gint64 end = g_get_monotonic_time() + (gint64)(delay * G_USEC_PER_SEC);
  while (!lathe_engine_interrupted()) {
    gint64 left = end - g_get_monotonic_time();
    if (left <= 0)
      return TRUE;
    g_usleep((gulong)MIN(left, 50000));
  }
  return FALSE;
}
