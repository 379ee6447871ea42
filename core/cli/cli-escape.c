/* Text for a terminal. Names, ids, errors and paths come from pipeline
 * files, the run store, registries and plugins, and a newline or an escape
 * sequence in them would forge lines or recolour the terminal (a run named
 * "x\n<a fake run>" added a row to `lathe runs list`). Everything printed for
 * people goes through lathe_cli_text(); --json output is escaped by JSON
 * itself. */
#include <string.h>

#include "cli/cli.h"

char *lathe_cli_escape(const char *s) {
  if (!s)
    return g_strdup("-");
  GString *out = g_string_sized_new(strlen(s));
  const char *end = s + strlen(s);
  for (const char *p = s; p < end;) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == (gunichar)-1 || c == (gunichar)-2) { /* not UTF-8: show the byte */
      g_string_append_printf(out, "\\x%02x", (guint8)*p);
      p++;
      continue;
    }
    const char *next = g_utf8_next_char(p);
    if (c == '\n')
      g_string_append(out, "\\n");
    else if (c == '\r')
      g_string_append(out, "\\r");
    else if (c == '\t')
      g_string_append(out, "\\t");
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf(out, "\\x%02x", c);
    else if ((c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
             (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      /* C1 controls (0x9b is a CSI on some terminals), line separators and
       * bidirectional overrides, which reorder what is shown. */
      g_string_append_printf(out, "\\u%04x", c);
    else
      g_string_append_len(out, p, next - p);
    p = next;
  }
  return g_string_free(out, FALSE);
}

/* The escaped copies live until exit: a command prints a bounded amount, and
 * this keeps each printf a one-liner. */
static GPtrArray *pool;

static void pool_free(void) { g_clear_pointer(&pool, g_ptr_array_unref); }

const char *lathe_cli_text(const char *s) {
  if (!pool) {
    pool = g_ptr_array_new_with_free_func(g_free);
    atexit(pool_free);
  }
  char *e = lathe_cli_escape(s);
  g_ptr_array_add(pool, e);
  return e;
}
