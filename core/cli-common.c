#include <string.h>

#include "cli.h"

int lathe_cli_error(int code, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  fprintf(stderr, "lathe: %s\n", msg);
  return code;
}

void lathe_cli_print_json(JsonNode *node) {
  g_autofree char *text = lathe_json_write(node, TRUE);
  fputs(text, stdout);
  fputc('\n', stdout);
}

gboolean lathe_cli_parse(GOptionContext *octx, int *argc, char ***argv) {
  g_autoptr(GError) error = NULL;
  g_option_context_set_help_enabled(octx, TRUE);
  if (!g_option_context_parse(octx, argc, argv, &error)) {
    lathe_cli_error(LATHE_EXIT_USAGE, "%s; see --help", error->message);
    return FALSE;
  }
  return TRUE;
}

char *lathe_cli_default_store(const char *option, const char *dir) {
  if (option)
    return g_strdup(option);
  return g_build_filename(dir ? dir : ".", ".lathe", NULL);
}

char *lathe_cli_format_time(double seconds) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)seconds);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S") : g_strdup("-");
}

LatheCatalog *lathe_cli_load_catalog(gboolean quiet) {
  LatheCatalog *cat = lathe_catalog_load();
  GPtrArray *problems = lathe_catalog_problems(cat);
  for (guint i = 0; !quiet && i < problems->len; i++)
    fprintf(stderr, "warning: %s\n", (char *)problems->pdata[i]);
  return cat;
}

void lathe_cli_phase(const char *what) {
  static gint64 last;
  static int on = -1;
  if (on < 0)
    on = g_getenv("LATHE_PROFILE") != NULL;
  if (!on)
    return;
  gint64 now = g_get_monotonic_time();
  if (last)
    fprintf(stderr, "profile: %-16s %8.3f ms\n", what, (now - last) / 1e3);
  last = now;
}
