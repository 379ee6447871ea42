/* `lathe store check [--repair]`: verifies the whole run store. */
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static void print_digests(JsonObject *report, const char *member, const char *what,
                          const char *dir) {
  JsonArray *a = json_object_get_array_member(report, member);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    const char *d = json_array_get_string_element(a, i);
    printf("%s: %s/artifacts/sha256/%.2s/%s\n", what, dir, d, d + 2);
  }
}

static void print_report(JsonObject *r, gboolean repair) {
  const char *dir = json_object_get_string_member(r, "store");
  guint damaged = json_array_get_length(json_object_get_array_member(r, "damaged"));
  guint missing = json_array_get_length(json_object_get_array_member(r, "missing"));
  const char *ic = json_object_get_string_member(r, "integrity");
  print_digests(r, "damaged", repair ? "damaged, removed" : "damaged", dir);
  print_digests(r, "missing", repair ? "missing, forgotten" : "missing", dir);
  if (!g_str_equal(ic, "ok"))
    printf("database: %s/lathe.db fails SQLite's integrity check: %s\n", dir, ic);
  printf("%s: %" G_GINT64_FORMAT " artifacts checked, %u damaged, %u missing, database %s\n", dir,
         json_object_get_int_member(r, "artifacts_checked"), damaged, missing,
         g_str_equal(ic, "ok") ? "intact" : "damaged");
  if (json_object_get_boolean_member(r, "repaired"))
    printf("repaired: the next run rebuilds what was removed from its producers\n");
  else if (!json_object_get_boolean_member(r, "clean") && g_str_equal(ic, "ok"))
    printf("run `lathe store check --repair` to remove the damage; the next run then rebuilds it\n");
}

int lathe_cmd_store(int argc, char **argv) {
  gboolean json = FALSE, repair = FALSE;
  g_autofree char *store_opt = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      {"repair", 0, 0, G_OPTION_ARG_NONE, &repair,
       "Remove damaged artifacts (and forget missing ones) so that the next run rebuilds them", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("check [--repair]");
  g_option_context_set_summary(octx, "Exit codes: 0 clean (or repaired), 1 damage found, 2 usage.");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc != 2 || !g_str_equal(argv[1], "check"))
    return lathe_cli_error(LATHE_EXIT_USAGE, "usage: lathe store check [--repair] [--json] [--store DIR]");
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  int code;
  LatheStore *store = lathe_cli_open_existing(dir, "pass --store DIR", &code);
  if (!store)
    return code;
  g_autoptr(GError) error = NULL;
  JsonObject *report = lathe_store_check(store, repair, &error);
  lathe_store_close(store);
  if (!report)
    return lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), report);
  json_object_unref(report);
  if (json)
    lathe_cli_print_json(root);
  else
    print_report(report, repair);
  return json_object_get_boolean_member(report, "clean") ? LATHE_EXIT_OK : LATHE_EXIT_FAILED;
}
