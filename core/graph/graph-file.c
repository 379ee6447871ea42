/* graph-file.c: the pipeline file is read here and nowhere else, so that the
 * checks on what it is and how big it is cannot be skipped. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "graph/graph-file.h"

static const char *kind(mode_t mode) {
  return S_ISDIR(mode)    ? "a folder"
         : S_ISFIFO(mode) ? "a named pipe (FIFO)"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISSOCK(mode) ? "a socket"
                          : "a special file";
}

static gboolean too_big(GError **error) {
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
              "it is larger than the %" G_GSIZE_FORMAT " MiB a pipeline file may be; a "
              "pipeline holds nodes and params, so point a source node at the data "
              "instead",
              LATHE_PIPELINE_MAX_BYTES >> 20);
  return FALSE;
}

gboolean lathe_graph_read_file(const char *path, char **text, gsize *len, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s", g_strerror(e));
    return FALSE;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "it is %s, not a regular file; give the path of a pipeline JSON file",
                kind(st.st_mode));
    return FALSE;
  }
  if ((guint64)st.st_size > LATHE_PIPELINE_MAX_BYTES) {
    close(fd);
    return too_big(error);
  }
  /* One byte more than the limit: a file that grew since fstat is caught. */
  gsize cap = (gsize)st.st_size + 1;
  GString *buf = g_string_sized_new(cap);
  for (;;) {
    if (buf->len > LATHE_PIPELINE_MAX_BYTES) {
      close(fd);
      g_string_free(buf, TRUE);
      return too_big(error);
    }
    char chunk[65536];
    gssize n = read(fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      g_string_free(buf, TRUE);
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s", g_strerror(e));
      return FALSE;
    }
    if (n == 0)
      break;
    g_string_append_len(buf, chunk, n);
  }
  close(fd);
  *len = buf->len;
  *text = g_string_free(buf, FALSE);
  return TRUE;
}
