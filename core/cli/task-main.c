/* lathe-task: `lathe exec-task` as a program of its own, for executors.
 *
 * An executor starts one process per node. `lathe` links the whole CLI and
 * `lathe serve`'s HTTP stack (libsoup, its TLS, Kerberos and compression:
 * about 30 libraries), and the dynamic linker resolving them was a fifth of
 * every task's cost. This program links the engine and nothing of the CLI
 * or HTTP. The host runs it when it sits beside the host's own binary, and
 * `lathe exec-task` otherwise (engine/executor.c): both run the same code. */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "tuning/tuning.h"

char **lathe_original_argv;

int main(int argc, char **argv) {
  /* The plugin scanner's child, as in `lathe` (core/catalog/plugin-scan.c). */
  if (argc >= 2 && g_str_equal(argv[1], "--scan-plugins"))
    return lathe_plugin_scanner_main(argc - 2, argv + 2);
  if (argc < 2 || !g_str_equal(argv[1], "exec-task")) {
    fprintf(stderr, "usage: lathe-task exec-task TASKFILE [--json] | lathe-task exec-task --server: "
                    "one node an executor was handed (`lathe run` writes the task file; see "
                    "docs/executors.md)\n");
    return 2;
  }
  lathe_original_argv = argv;
  lathe_catalog_set_scanner(g_file_test("/proc/self/exe", G_FILE_TEST_EXISTS) ? "/proc/self/exe" : argv[0]);
  lathe_engine_init();
  lathe_tuning_init();
  lathe_blas_prepare(argv, 1);
  /* The same command as `lathe exec-task` (cli-exec-task.c), fork server included. */
  return lathe_cmd_exec_task(argc - 1, argv + 1);
}
