/* `lathe exec-task TASKFILE [--json]`: one node an executor was handed
 * (engine/exec-task.c does the work). */
#include "cli/cli.h"
#include "engine/engine.h"

int lathe_cmd_exec_task(int argc, char **argv) {
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON on stdout", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("TASKFILE");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc != 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "exec-task takes one task file, which `lathe run` "
                           "writes for an executor; see docs/executors.md");
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  return lathe_engine_exec_task(cat, argv[1], json);
}
