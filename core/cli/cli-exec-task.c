/* `lathe exec-task TASKFILE [--json]`: one node an executor was handed
 * (engine/exec-task.c does the work). `lathe exec-task --server`:
 * executor/process's fork server (engine/exec-server.c). */
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/engine.h"

/* Room in the server's command line for a child's task file. */
#define TITLE_ROOM 4096

/* The server's children show their task file in place of the last argument
 * of the server's command line: started without that room, the server
 * executes itself again with it (once per run). */
static int serve(int argc, char **argv) {
  char *room = argv[argc - 1];
  if (!g_str_equal(room, "--server") && strlen(room) + 1 >= TITLE_ROOM && strspn(room, " ") == strlen(room)) {
    g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
    return lathe_engine_exec_server(cat, room, strlen(room) + 1);
  }
  g_autofree char *pad = g_strnfill(TITLE_ROOM, ' ');
  g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
  char *again[] = {self, "exec-task", "--server", pad, NULL};
  if (self)
    execv(self, again);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  return lathe_engine_exec_server(cat, NULL, 0);
}

int lathe_cmd_exec_task(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (g_str_equal(argv[i], "--server"))
      return serve(argc, argv);
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
