/* One status line on a terminal, redrawn while nodes run. */
#include <stdio.h>

#include "engine/engine-private.h"

void lathe_progress_draw(LatheRun *run, gboolean final) {
  GString *line = g_string_new(NULL);
  guint done = 0, total = 0;
  g_mutex_lock(&run->lock);
  for (guint i = 0; i < run->all_tasks->len; i++) {
    LatheNodeRun *t = run->all_tasks->pdata[i];
    total++;
    if (t->status != TASK_PENDING && t->status != TASK_RUNNING) {
      done++;
      continue;
    }
    if (t->status != TASK_RUNNING || !t->ctx || line->len > 60)
      continue;
    double secs = (double)g_get_real_time() / 1e6 - t->started;
    g_string_append_printf(line, "  %s %.1fs", t->exec_id, secs);
    if (t->progress > 0)
      g_string_append_printf(line, " %d%%", (int)(t->progress * 100));
    if (t->progress_note) {
      g_autofree char *note = run->opts->escape ? run->opts->escape(t->progress_note)
                                                : g_strdup(t->progress_note);
      g_string_append_printf(line, " %s", note);
    }
  }
  g_mutex_unlock(&run->lock);
  if (final)
    fprintf(stderr, "\r\033[K");
  else
    fprintf(stderr, "\r\033[K[%u/%u]%s", done, total, line->str);
  fflush(stderr);
  g_string_free(line, TRUE);
}
