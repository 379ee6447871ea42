/* `lathe serve NAME@ALIAS [NAME@ALIAS ...]`: registered models over HTTP
 * (core/serve/). */
#include <unistd.h>

#include "cli.h"
#include "serve/serve.h"

int lathe_cmd_serve(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL;
  g_autofree char *registry_id = NULL;
  g_autofree char *bind = NULL;
  gint port = 8080;
  gint max_body_kib = 8192;
  gboolean no_access_log = FALSE;
  gint timeout_s = 30;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Startup line as JSON {\"url\", \"models\"}", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"registry", 0, 0, G_OPTION_ARG_STRING, &registry_id, "Registry component (default: registry/local)", "ID"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &bind, "Address to listen on (default: 127.0.0.1)", "ADDR"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "Port (default: 8080; 0: a free one)", "N"},
      {"max-body-kib", 0, 0, G_OPTION_ARG_INT, &max_body_kib, "Largest request body (default: 8192 KiB)", "KIB"},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Seconds a client has to send its request (default: 30; 0: none)", "S"},
      {"no-access-log", 0, 0, G_OPTION_ARG_NONE, &no_access_log, "No JSON-lines access log on stderr", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("NAME@ALIAS [NAME@ALIAS ...]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "serve: name at least one model, e.g. `lathe serve iris@production`");
  if (port < 0 || port > 65535)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--port must be 0 to 65535, got %d", port);
  if (max_body_kib < 1)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--max-body-kib must be at least 1, got %d", max_body_kib);
  if (timeout_s < 0 || timeout_s > 3600)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--timeout must be 0 to 3600 seconds, got %d", timeout_s);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return lathe_cli_error(LATHE_EXIT_USAGE, "no run store at %s; run a pipeline first or pass --store", dir);
  g_autofree char *cwd = g_get_current_dir();
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheRegistry) reg = lathe_registry_open(cat, registry_id, NULL, cwd, dir, &error);
  if (!reg)
    return lathe_cli_error(LATHE_EXIT_FAILED, "serve: %s", error->message);
  LatheServeOptions opt = {
      .bind = bind,
      .port = (guint)port,
      .max_body = (gsize)max_body_kib * 1024,
      .json = json,
      .access_log_fd = no_access_log ? -1 : STDERR_FILENO,
      .timeout_ms = (guint)timeout_s * 1000,
  };
  int code = lathe_serve_run(cat, reg, argv + 1, &opt, &error);
  if (code && error)
    return lathe_cli_error(code, "serve: %s", error->message);
  return code;
}
