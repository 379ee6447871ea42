/* `lathe serve NAME@ALIAS [NAME@ALIAS ...]`: registered models over HTTP
 * (core/serve/); --route splits one model's traffic between aliases. */
#include <math.h>
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
  g_autofree char *route = NULL, *shadow = NULL, *sticky_header = NULL, *sticky_field = NULL;
  g_autofree char *max_drop = NULL, *max_p99 = NULL, *max_psi = NULL;
  gint min_feedback = 30, poll_s = 10, drain_s = 10, max_in_flight = 1024;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Startup line as JSON {\"url\", \"models\"}", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"registry", 0, 0, G_OPTION_ARG_STRING, &registry_id, "Registry component (default: registry/local)", "ID"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &bind, "Address to listen on (default: 127.0.0.1)", "ADDR"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "Port (default: 8080; 0: a free one)", "N"},
      {"max-body-kib", 0, 0, G_OPTION_ARG_INT, &max_body_kib, "Largest request body (default: 8192 KiB)", "KIB"},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Seconds a client has to send its request (default: 30; 0: none)", "S"},
      {"no-access-log", 0, 0, G_OPTION_ARG_NONE, &no_access_log, "No JSON-lines access log on stderr", NULL},
      {"route", 0, 0, G_OPTION_ARG_STRING, &route, "Split one model's traffic, the first the primary (e.g. iris@production:90,iris@candidate:10)", "NAME@ALIAS:W,..."},
      {"shadow", 0, 0, G_OPTION_ARG_STRING, &shadow, "Also score every request with this version, answering with the primary's", "NAME@ALIAS"},
      {"sticky-header", 0, 0, G_OPTION_ARG_STRING, &sticky_header, "Header whose value keeps a client on one variant (default: X-Request-Key)", "H"},
      {"sticky-field", 0, 0, G_OPTION_ARG_STRING, &sticky_field, "Body member whose value keeps a client on one variant", "F"},
      {"min-feedback", 0, 0, G_OPTION_ARG_INT, &min_feedback, "Labelled rows per variant before the accuracy rule (default: 30)", "N"},
      {"max-accuracy-drop", 0, 0, G_OPTION_ARG_STRING, &max_drop, "Withdraw a canary whose online accuracy is this far below the primary's (default: 0.05; off)", "X|off"},
      {"max-p99-ms", 0, 0, G_OPTION_ARG_STRING, &max_p99, "Withdraw a canary whose p99 latency passes this (default: 100; off)", "MS|off"},
      {"max-psi", 0, 0, G_OPTION_ARG_STRING, &max_psi, "Withdraw a canary whose input PSI passes this (default: 0.3; off)", "X|off"},
      {"poll-seconds", 0, 0, G_OPTION_ARG_INT, &poll_s, "Re-resolve the aliases this often (default: 10; 0: only on POST /reload)", "S"},
      {"drain-seconds", 0, 0, G_OPTION_ARG_INT, &drain_s, "On SIGTERM, time left to requests under way (default: 10)", "S"},
      {"max-in-flight", 0, 0, G_OPTION_ARG_INT, &max_in_flight, "Requests answered at once; more get 503 (default: 1024; 0: no limit)", "N"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("NAME@ALIAS [NAME@ALIAS ...]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 2 && !route)
    return lathe_cli_error(LATHE_EXIT_USAGE, "serve: name at least one model, e.g. `lathe serve iris@production`");
  struct { const char *flag, *text; double def; } limits[] = {
      {"--max-accuracy-drop", max_drop, 0.05}, {"--max-p99-ms", max_p99, 100}, {"--max-psi", max_psi, 0.3}};
  double lim[3];
  for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
    char *end = NULL;
    lim[i] = limits[i].def;
    if (!limits[i].text)
      continue;
    if (g_str_equal(limits[i].text, "off")) {
      lim[i] = NAN;
      continue;
    }
    lim[i] = g_ascii_strtod(limits[i].text, &end);
    if (!end || *end || end == limits[i].text || !isfinite(lim[i]) || lim[i] < 0)
      return lathe_cli_error(LATHE_EXIT_USAGE, "%s must be a number >= 0 or off, got '%s'", limits[i].flag,
                             limits[i].text);
  }
  if (min_feedback < 1)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--min-feedback must be at least 1, got %d", min_feedback);
  if (poll_s < 0 || poll_s > 86400)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--poll-seconds must be 0 to 86400, got %d", poll_s);
  if (drain_s < 0 || drain_s > 3600)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--drain-seconds must be 0 to 3600, got %d", drain_s);
  if (max_in_flight < 0)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--max-in-flight must be 0 or more, got %d", max_in_flight);
  if (sticky_header && sticky_field)
    return lathe_cli_error(LATHE_EXIT_USAGE, "give --sticky-header or --sticky-field, not both");
  if (port < 0 || port > 65535)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--port must be 0 to 65535, got %d", port);
  if (max_body_kib < 1)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--max-body-kib must be at least 1, got %d", max_body_kib);
  if (timeout_s < 0 || timeout_s > 3600)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--timeout must be 0 to 3600 seconds, got %d", timeout_s);
  g_autoptr(GError) error = NULL;
  /* Usage errors before the registry opens: opening creates its index. */
  if (route && !lathe_serve_route_check(route, &error))
    return lathe_cli_error(LATHE_EXIT_USAGE, "serve: %s", error->message);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return lathe_cli_error(LATHE_EXIT_USAGE, "no run store at %s; run a pipeline first or pass --store", dir);
  g_autofree char *cwd = g_get_current_dir();
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
      .registry_id = registry_id,
      .route = route,
      .shadow = shadow,
      .sticky_header = sticky_header,
      .sticky_field = sticky_field,
      .min_feedback = (guint)min_feedback,
      .max_accuracy_drop = lim[0],
      .max_p99_ms = lim[1],
      .max_psi = lim[2],
      .poll_seconds = (guint)poll_s,
      .drain_seconds = (guint)drain_s,
      .max_in_flight = (guint)max_in_flight,
  };
  int code = lathe_serve_run(cat, reg, argv + 1, &opt, &error);
  if (code && error)
    return lathe_cli_error(code, "serve: %s", error->message);
  return code;
}
