/* `lathe report RUN [RUN...] [-o FILE] [--store DIR] [--json]`: one
 * self-contained HTML file (report/report.c draws it). The store is opened
 * read-only: a report never writes to it. */
#include <stdio.h>

#include "cli/cli.h"
#include "report/report.h"

/* The registry, opened the first time an A/B section asks for its alias
 * history (loading the plugins costs time a report without A/B does not
 * pay), and only when the store already has registry/local's index:
 * opening creates one, and a report never writes. */
typedef struct {
  const char *dir;
  gboolean tried;
  LatheCatalog *cat;
  LatheRegistry *reg;
} Registry;

static LatheRegistry *open_registry(gpointer data) {
  Registry *r = data;
  if (r->tried)
    return r->reg;
  r->tried = TRUE;
  g_autofree char *index = g_build_filename(r->dir, "registry", "registry.db", NULL);
  if (!g_file_test(index, G_FILE_TEST_IS_REGULAR))
    return NULL;
  r->cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *cwd = g_get_current_dir();
  g_autoptr(GError) error = NULL;
  r->reg = lathe_registry_open_readonly(r->cat, cwd, r->dir, &error);
  if (!r->reg) /* the report still renders, without the history */
    g_printerr("lathe report: the alias history is left out: %s\n", error->message);
  return r->reg;
}

int lathe_cmd_report(int argc, char **argv) {
  g_autofree char *store_opt = NULL, *output = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "write the report to FILE (default RUN.html)", "FILE"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "the run store (default ./.lathe)", "DIR"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print {path, bytes, runs} as JSON", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("RUN [RUN...] - an HTML report with pictures of runs");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "lathe report: name a run (`lathe runs list` shows them)");
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  g_autoptr(GError) error = NULL;
  LatheStore *store = lathe_store_open_readonly(dir, &error);
  if (!store) /* a missing store or another schema: the user named the wrong thing (2);
                 a damaged one is 1, as for every other command */
    return lathe_cli_error(g_error_matches(error, LATHE_ERROR, LATHE_ERROR_INVALID) ? LATHE_EXIT_USAGE
                                                                                   : LATHE_EXIT_FAILED,
                           "%s", error->message);
  g_autoptr(GString) html = g_string_new(NULL);
  Registry reg = {.dir = dir};
  LatheReportOptions opts = {.registry = open_registry, .registry_data = &reg};
  gboolean ok = lathe_report_render(store, (const char *const *)argv + 1, (guint)argc - 1, &opts, html, &error);
  lathe_store_close(store);
  g_clear_pointer(&reg.reg, lathe_registry_close);
  g_clear_pointer(&reg.cat, lathe_catalog_free);
  if (!ok)
    return lathe_cli_error(g_error_matches(error, LATHE_REPORT_ERROR, LATHE_REPORT_ERROR_FAILED)
                               ? LATHE_EXIT_FAILED : LATHE_EXIT_USAGE, "%s", error->message);
  g_autofree char *path = output ? g_strdup(output)
                                 : g_strdup_printf("%s%s.html", argv[1], argc > 2 ? "-compare" : "");
  if (!g_file_set_contents(path, html->str, (gssize)html->len, &error))
    return lathe_cli_error(LATHE_EXIT_FAILED, "lathe report: cannot write %s: %s", path, error->message);
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)html->len);
    json_builder_set_member_name(b, "runs");
    json_builder_begin_array(b);
    for (int i = 1; i < argc; i++)
      json_builder_add_string_value(b, argv[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    lathe_cli_print_json(root);
  } else {
    printf("wrote %s (%zu bytes)\n", lathe_cli_text(path), html->len);
  }
  return LATHE_EXIT_OK;
}
