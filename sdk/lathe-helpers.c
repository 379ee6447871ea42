/* lathe-helpers.c: error prefixes, column and enum params, value excerpts,
 * opening data files. */
#include "lathe/lathe-helpers.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lathe/lathe-error.h"

static char *error_prefix(LatheContext *ctx, const char *component) {
  return ctx ? g_strdup_printf("%s (node %s): ", component, lathe_context_node_id(ctx))
             : g_strdup_printf("%s: ", component);
}

void lathe_context_set_error(LatheContext *ctx, GError **error, gint code,
                             const char *component, const char *format, ...) {
  if (!error)
    return;
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  g_autofree char *prefix = error_prefix(ctx, component);
  g_set_error(error, LATHE_ERROR, code, "%s%s", prefix, msg);
}

void lathe_context_prefix_error(LatheContext *ctx, GError **error, const char *component) {
  if (!error || !*error)
    return;
  g_autofree char *prefix = error_prefix(ctx, component);
  g_prefix_error(error, "%s", prefix);
}

GArray *lathe_context_param_columns(LatheContext *ctx, const char *param,
                                    const LatheDataset *ds, LatheColumnsFlags flags,
                                    GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, param);
  guint n = list ? json_array_get_length(list) : 0;
  if (n == 0 && (flags & LATHE_COLUMNS_NONEMPTY)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s is empty; name at least one column", param);
    return NULL;
  }
  g_autoptr(GArray) cols = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint j = 0; n == 0 && j < ds->n_cols; j++)
    g_array_append_val(cols, j);
  /* One flag per column, so a repeat is found without a quadratic scan. */
  g_autofree gboolean *seen = g_new0(gboolean, ds->n_cols + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(list, i);
    const char *name = JSON_NODE_HOLDS_VALUE(node) &&
                               json_node_get_value_type(node) == G_TYPE_STRING
                           ? json_node_get_string(node)
                           : NULL;
    gint j = name ? lathe_dataset_column_index(ds, name) : -1;
    if (j < 0) {
      g_autofree char *avail = g_strjoinv(", ", ds->columns);
      g_autofree char *shown = name ? lathe_value_excerpt(name, -1) : g_strdup("'(not a string)'");
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: %s is not a column of the input; available columns: %s", param, shown,
                  avail);
      return NULL;
    }
    if (seen[j]) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: '%s' is listed twice; list it once", param, name);
      return NULL;
    }
    seen[j] = TRUE;
    guint uj = (guint)j;
    g_array_append_val(cols, uj);
  }
  return g_steal_pointer(&cols);
}

gint lathe_enum_index(const char *const *choices, const char *value) {
  for (gint i = 0; value && choices && choices[i]; i++)
    if (g_str_equal(choices[i], value))
      return i;
  return -1;
}

gint lathe_context_param_enum(LatheContext *ctx, const char *name,
                              const char *const *choices) {
  return lathe_enum_index(choices, lathe_context_param_string(ctx, name));
}

GArray *lathe_context_param_enum_list(LatheContext *ctx, const char *param,
                                      const char *const *choices, GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, param);
  guint n = list ? json_array_get_length(list) : 0;
  guint n_choices = choices ? g_strv_length((char **)choices) : 0;
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autofree gboolean *seen = g_new0(gboolean, n_choices + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(list, i);
    const char *name =
        JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
            ? json_node_get_string(node)
            : NULL;
    gint k = lathe_enum_index(choices, name);
    if (k < 0) {
      g_autofree char *all = g_strjoinv(", ", (char **)choices);
      g_autofree char *shown = name ? lathe_value_excerpt(name, -1) : g_strdup("'(not a string)'");
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s is not one of %s", param,
                  shown, all);
      return NULL;
    }
    if (seen[k]) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: '%s' is listed twice; list it once",
                  param, name);
      return NULL;
    }
    seen[k] = TRUE;
    guint uk = (guint)k;
    g_array_append_val(out, uk);
  }
  return g_steal_pointer(&out);
}

/* One code point, escaped when it could break or fake a line. */
static void append_char(GString *out, const char *p, gunichar u, gsize n) {
  if (u == '\n')
    g_string_append(out, "\\n");
  else if (u == '\r')
    g_string_append(out, "\\r");
  else if (u == '\t')
    g_string_append(out, "\\t");
  else if (u < 0x20 || u == 0x7f)
    g_string_append_printf(out, "\\x%02x", u);
  else if (u >= 0x80 && (!g_unichar_isprint(u) || u == 0x2028 || u == 0x2029))
    g_string_append_printf(out, "\\u{%04x}", u);
  else
    g_string_append_len(out, p, (gssize)n);
}

char *lathe_value_excerpt(const char *value, gssize len) {
  if (!value)
    return g_strdup("(none)");
  gsize n = len < 0 ? strlen(value) : (gsize)len;
  GString *out = g_string_new("'");
  gsize i = 0;
  for (guint shown = 0; i < n && shown < LATHE_EXCERPT_CHARS; shown++) {
    gunichar u = (guchar)value[i];
    gsize step = 1;
    if (u >= 0x80) {
      u = g_utf8_get_char_validated(value + i, (gssize)(n - i));
      if (u == (gunichar)-1 || u == (gunichar)-2) {
        g_string_append_printf(out, "\\x%02x", (guchar)value[i++]);
        continue;
      }
      step = (gsize)(g_utf8_next_char(value + i) - (value + i));
    }
    append_char(out, value + i, u, step);
    i += step;
  }
  g_string_append_c(out, '\'');
  if (i < n)
    g_string_append_printf(out, "\xe2\x80\xa6 (%" G_GSIZE_FORMAT " bytes)", n);
  return g_string_free(out, FALSE);
}

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a folder";
  if (S_ISFIFO(mode))
    return "a named pipe (FIFO)";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  return "a special file";
}

int lathe_open_regular_file(const char *path, const char *display, goffset *size,
                            GError **error) {
  const char *name = display ? display : path;
  /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever,
   * before fstat could tell what it is. */
  int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot read: %s", name,
                g_strerror(e));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: is %s, not a regular file; point the path at a file (or a folder) "
                "holding the data",
                name, file_kind(st.st_mode));
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0)
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (size)
    *size = st.st_size;
  return fd;
}

/* Optimal string alignment: Levenshtein plus the swap of two neighbouring
 * letters as one edit. Three rows, since a swap looks two back. */
static guint distance(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  g_autofree guint *rows = g_new(guint, 3 * (lb + 1));
  guint *two = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
  for (gsize j = 0; j <= lb; j++)
    prev[j] = (guint)j;
  for (gsize i = 1; i <= la; i++) {
    cur[0] = (guint)i;
    for (gsize j = 1; j <= lb; j++) {
      guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
      guint d = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d = MIN(d, two[j - 2] + 1);
      cur[j] = d;
    }
    guint *t = two;
    two = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

const char *lathe_suggest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  guint best_d = G_MAXUINT;
  guint limit = MAX(1, (guint)strlen(word) / 3);
  for (guint i = 0; candidates && candidates[i]; i++) {
    guint d = distance(word, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

/* Columns are cut on x, not on the index, so uneven steps (a run that
 * reported every 10 epochs, then every one) keep their shape. */
GArray *lathe_downsample_minmax(const double *x, const double *y, guint n, guint width) {
  GArray *keep = g_array_new(FALSE, FALSE, sizeof(guint));
  double x0 = NAN, x1 = NAN;
  for (guint i = 0; i < n; i++)
    if (!isnan(y[i]) && isfinite(x[i])) {
      x0 = isnan(x0) ? x[i] : x0;
      x1 = x[i];
    }
  if (isnan(x0))
    return keep;
  if (width < 1)
    width = 1;
  if (n <= 2u * width) {
    for (guint i = 0; i < n; i++)
      if (!isnan(y[i]) && isfinite(x[i]))
        g_array_append_val(keep, i);
    return keep;
  }
  double span = x1 > x0 ? x1 - x0 : 1;
  guint i = 0;
  while (i < n) {
    if (isnan(y[i]) || !isfinite(x[i])) {
      i++;
      continue;
    }
    guint col = (guint)((x[i] - x0) / span * (width - 1));
    guint lo = i, hi = i;
    guint j = i + 1;
    for (; j < n; j++) {
      if (isnan(y[j]) || !isfinite(x[j]))
        continue;
      if ((guint)((x[j] - x0) / span * (width - 1)) != col)
        break;
      if (y[j] < y[lo])
        lo = j;
      if (y[j] > y[hi])
        hi = j;
    }
    guint a = MIN(lo, hi), b = MAX(lo, hi);
    g_array_append_val(keep, a);
    if (b != a)
      g_array_append_val(keep, b);
    i = j;
  }
  return keep;
}
