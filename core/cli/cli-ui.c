/* `lathe ui [--store DIR] [--port N] [--bind ADDR] [--json]`: a read-only
 * web UI over the run store (ui/ui.c, docs/ui.md). */
#include <stdio.h>

#include "cli/cli.h"
#include "ui/ui.h"

static gboolean is_loopback(const char *bind) {
  return g_str_equal(bind, "127.0.0.1") || g_str_equal(bind, "::1") || g_str_has_prefix(bind, "127.");
}

int lathe_cmd_ui(int argc, char **argv) {
  g_autofree char *store_opt = NULL, *bind = NULL;
  gint port = 8765;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "the run store (default ./.lathe)", "DIR"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "port (default 8765; 0: a free one)", "N"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &bind, "address (default 127.0.0.1)", "ADDR"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print {url} as JSON once listening", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("- a read-only web UI over the run store");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc > 1)
    return lathe_cli_error(LATHE_EXIT_USAGE, "lathe ui: unexpected argument '%s' (see lathe ui --help)", argv[1]);
  if (port < 0 || port > 65535)
    return lathe_cli_error(LATHE_EXIT_USAGE, "lathe ui: --port %d is not a port (0..65535)", port);
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  if (bind && !is_loopback(bind))
    fprintf(stderr, "lathe: warning: lathe ui --bind %s is reachable from other machines; the UI has no login\n", bind);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  LatheUiOptions opt = {.store_dir = dir, .bind = bind, .port = (guint)port, .json = json, .catalog = cat};
  int code = lathe_ui_run(&opt, &error);
  if (code)
    return lathe_cli_error(LATHE_EXIT_FAILED, "lathe ui: %s", error ? error->message : "failed");
  return LATHE_EXIT_OK;
}
