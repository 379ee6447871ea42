#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

int lathe_cli_error(int code, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  fprintf(stderr, "lathe: %s\n", lathe_cli_text(msg));
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

LatheStore *lathe_cli_open_list_show(int *argc, char ***argv, const char *cmd, const char *ref,
                                     gboolean *json, gboolean *show, int *code) {
  g_autofree char *store_opt = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, json, "JSON on stdout", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      G_OPTION_ENTRY_NULL};
  g_autofree char *usage = g_strdup_printf("list | show %s", ref);
  g_autoptr(GOptionContext) octx = g_option_context_new(usage);
  g_option_context_add_main_entries(octx, entries, NULL);
  *code = LATHE_EXIT_USAGE;
  if (!lathe_cli_parse(octx, argc, argv))
    return NULL;
  gboolean list = *argc == 2 && g_str_equal((*argv)[1], "list");
  *show = *argc == 3 && g_str_equal((*argv)[1], "show");
  if (!list && !*show) {
    lathe_cli_error(LATHE_EXIT_USAGE, "usage: lathe %s list | lathe %s show %s", cmd, cmd, ref);
    return NULL;
  }
  gboolean empty;
  LatheStore *store = lathe_cli_open_reader(store_opt, &empty, code);
  if (!store && empty) {
    if (*show) {
      *code = lathe_cli_error(LATHE_EXIT_USAGE, "no '%s' in %s: the store has no runs yet",
                              (*argv)[2], store_opt ? store_opt : "./.lathe");
    } else if (*json) {
      puts("[]");
    } else {
      printf("no runs yet in %s\n", store_opt ? store_opt : "./.lathe");
    }
  }
  return store;
}

LatheStore *lathe_cli_open_reader(const char *store_opt, gboolean *empty, int *code) {
  *empty = FALSE;
  *code = LATHE_EXIT_USAGE;
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    lathe_cli_error(LATHE_EXIT_USAGE, "no run store at %s; run a pipeline first or pass --store", dir);
    return NULL;
  }
  /* A reader never creates the store. The first run creates its database
   * whole (store-files.c): until then the store is empty, not half made. */
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  if (!g_file_test(db, G_FILE_TEST_EXISTS)) {
    *empty = TRUE;
    *code = LATHE_EXIT_OK;
    return NULL;
  }
  return lathe_cli_open_existing(dir, "run a pipeline first or pass --store", code);
}

LatheStore *lathe_cli_open_existing(const char *dir, const char *hint, int *code) {
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  if (!g_file_test(db, G_FILE_TEST_EXISTS)) {
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "no run store at %s; %s", dir, hint);
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  LatheStore *store = lathe_store_open(dir, &error);
  if (!store)
    *code = lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
  return store;
}

char *lathe_cli_format_time(double seconds) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)seconds);
  return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S") : g_strdup("-");
}

LatheCatalog *lathe_cli_load_catalog(gboolean quiet) {
  LatheCatalog *cat = lathe_catalog_load();
  GPtrArray *problems = lathe_catalog_problems(cat);
  for (guint i = 0; !quiet && i < problems->len; i++)
    fprintf(stderr, "warning: %s\n", lathe_cli_text(problems->pdata[i]));
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
