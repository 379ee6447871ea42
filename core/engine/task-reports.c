/* task-reports.c: a task's reports while it runs, from outside the host.
 *
 * On a thread a report reaches the study's pruner at once, between epochs,
 * and the pruner may stop the trial there. A task in another process or on
 * a Slurm node reports through its recorder into the result file, read when
 * it ends: too late to prune. So the task also appends each report as one
 * JSON line to a file beside the result (the store's tasks/ folder, which
 * the executor's nodes already share), and the host reads the new whole
 * lines every time it polls the job. The result file still carries every
 * report; the host skips the ones it has already had. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "engine/engine-private.h"

void lathe_report_stream_init(LatheReportStream *rs, const char *path) {
  rs->path = g_strdup(path);
  rs->offset = 0;
  rs->n = 0;
  g_unlink(path); /* a retry's attempt starts empty */
}

void lathe_report_stream_clear(LatheReportStream *rs) {
  if (rs->path)
    g_unlink(rs->path);
  g_clear_pointer(&rs->path, g_free);
}

void lathe_report_stream_write(int fd, const char *name, double value, gint64 step) {
  if (fd < 0)
    return;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_set_member_name(b, "value");
  json_builder_add_double_value(b, value);
  json_builder_set_member_name(b, "step");
  json_builder_add_int_value(b, step);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  g_autofree char *text = lathe_json_canonical(n);
  g_autofree char *line = g_strconcat(text, "\n", NULL);
  /* One write() per line with O_APPEND: a reader sees whole lines or a
   * partial last one, which it leaves for the next poll. */
  gsize len = strlen(line), done = 0;
  while (done < len) {
    gssize w = write(fd, line + done, len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return; /* best effort: the result file still has the report */
    done += (gsize)w;
  }
}

gboolean lathe_report_stream_poll(LatheReportStream *rs, LatheNodeRun *t) {
  if (!rs->path)
    return FALSE;
  int fd = g_open(rs->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  gboolean stop = FALSE;
  if (lseek(fd, (off_t)rs->offset, SEEK_SET) == (off_t)rs->offset) {
    GString *buf = g_string_new(NULL);
    char chunk[4096];
    gssize r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
      g_string_append_len(buf, chunk, r);
    const char *p = buf->str, *nl;
    while ((nl = memchr(p, '\n', buf->str + buf->len - p))) {
      g_autofree char *line = g_strndup(p, (gsize)(nl - p));
      rs->offset += (nl - p) + 1;
      p = nl + 1;
      g_autoptr(JsonParser) jp = json_parser_new();
      if (!json_parser_load_from_data(jp, line, -1, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp)))
        continue; /* not ours to judge: the result file is the record */
      JsonObject *o = json_node_get_object(json_parser_get_root(jp));
      rs->n++;
      if (lathe_node_run_report(t, json_object_get_string_member_with_default(o, "name", "?"),
                                json_object_get_double_member_with_default(o, "value", 0),
                                json_object_get_int_member_with_default(o, "step", 0)))
        stop = TRUE;
    }
    g_string_free(buf, TRUE);
  }
  close(fd);
  return stop;
}
