/* lathe: the command line. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "config.h"
#include "engine/engine.h"
#include "tuning/tuning.h"

/* The first SIGINT/SIGTERM cancels running nodes, which stop between epochs
 * and are recorded interrupted. A node that never looks (stuck inside
 * OpenBLAS, or a plugin that ignores cancellation) would keep the process
 * alive for ever, and `timeout` sends one signal only: so a second signal,
 * or the grace period running out, ends the process at once. The store is
 * safe to leave at any instruction, and the next open records the run, and
 * its running nodes, as interrupted. Only async-signal-safe calls here. */
static volatile sig_atomic_t signals_seen, first_signal = SIGTERM;
static unsigned grace_seconds = 10;

static void exit_now(const char *why, size_t len, int code) {
  if (write(STDERR_FILENO, why, len) < 0) {
    /* nothing to do: we are leaving */
  }
  _exit(code);
}

static void on_alarm(int sig) {
  static const char msg[] = "lathe: nodes still running after the grace period; exiting now\n";
  (void)sig;
  exit_now(msg, sizeof msg - 1, 128 + first_signal);
}

static void on_signal(int sig) {
  if (signals_seen++ == 0) {
    first_signal = sig;
    lathe_engine_interrupt();
    alarm(grace_seconds);
    return;
  }
  static const char msg[] = "lathe: interrupted twice; exiting now\n";
  exit_now(msg, sizeof msg - 1, 128 + sig);
}

static int usage(FILE *out, int code) {
  fputs("usage: lathe COMMAND [ARGS] [--json]\n"
        "\n"
        "  run PIPELINE.json [--preset NAME] [--set NODE.PARAM=VALUE ...] [--jobs N] [--no-cache] [--store DIR]\n"
        "      [--tracker ID ...]       log to these trackers (also LATHE_TRACKER=ID,ID)\n"
        "  validate PIPELINE.json [--set ...]\n"
        "  plugins                      list installed plugins and components\n"
        "  plugins inspect NAME         params, inputs and outputs of a component\n"
        "  runs list                    runs in the store, newest first\n"
        "  runs show RUN_ID             nodes, timings, cache, params, metrics, artifacts\n"
        "  runs search 'FILTER' [--order-by 'KEY [DESC]'] [--max-results N]  MLflow's filter syntax\n"
        "  runs compare RUN RUN...      params, metrics and data versions side by side\n"
        "  runs export --format mlflow [--tracker ID] [RUN...]  replay stored runs into a tracker\n"
        "  report RUN [RUN...] [-o FILE]  one HTML file with pictures of runs (docs/report.md)\n"
        "  ui [--port N] [--store DIR]      a read-only web UI over the run store (docs/ui.md)\n"
        "  models list                  registered model versions and aliases\n"
        "  models alias NAME ALIAS VERSION\n"
        "  models rollback NAME [--alias ALIAS]  move ALIAS (production) back to its previous version\n"
        "  models promote NAME FROM_ALIAS TO_ALIAS  point TO_ALIAS at FROM_ALIAS's version\n"
        "  models delete-alias NAME ALIAS\n"
        "  models history NAME [--alias ALIAS]  every alias move: when, who, run, reason\n"
        "  predict NAME@ALIAS DATA [-o FILE]  score raw data through the version's input pipeline\n"
        "  serve NAME@ALIAS [...] [--port N] [--bind ADDR]  serve models over HTTP\n"
        "  models export NAME@VERSION|NAME@ALIAS -o FILE  one version as a bundle (docs/bundles.md)\n"
        "  models import FILE [--name NAME] [--alias ALIAS]  a verified bundle into this store's registry\n"
        "  lineage MODEL@ALIAS | MODEL/VERSION | RUN/NODE[.PORT]\n"
        "                               what a model or artifact was made from, down to the data\n"
        "  study list                   tuning studies: trials per state\n"
        "  study show RUN_ID/NODE       a study's trials, best trial and convergence\n"
        "  reproduce RUN_ID [--allow-plugin-change] [--keep]\n"
        "                               run a recorded run again in a scratch store; compare its outputs\n"
        "  tracker status [RUN]         tracker events pending, acked, refused, per run\n"
        "  tracker sync [RUN]           ship pending tracker events (exit 1 if any stay pending)\n"
        "  store check [--repair]       verify every artifact and the database; --repair removes damage\n"
        "  exec-task TASKFILE [--json]  run one node an executor was handed (docs/executors.md)\n"
        "  --version                    versions, plugin ABI and BLAS kernels\n"
        "\n"
        "Exit codes: 0 success, 1 a run failed, 2 usage or validation error.\n",
        out);
  return code;
}

char **lathe_original_argv;

/* The scanner: this very binary, which /proc/self/exe names even when its file
 * was replaced or deleted since it started (a rebuild); else argv[0]. */
static char *scanner_path(const char *argv0) {
  if (g_file_test("/proc/self/exe", G_FILE_TEST_EXISTS))
    return g_strdup("/proc/self/exe");
  if (strchr(argv0, '/'))
    return g_canonicalize_filename(argv0, NULL);
  return g_find_program_in_path(argv0);
}

int main(int argc, char **argv) {
  /* Hidden: the plugin scanner's child (core/catalog/plugin-scan.c), before
   * anything else, so that it only opens the files it is given. */
  if (argc >= 2 && g_str_equal(argv[1], "--scan-plugins"))
    return lathe_plugin_scanner_main(argc - 2, argv + 2);
  g_autofree char *scanner = scanner_path(argv[0]);
  lathe_catalog_set_scanner(scanner);
  lathe_original_argv = g_strdupv(argv);
  /* The node kinds, lowest layer first, before anything loads the catalog:
   * each layer that owns a kind hands its operations down (issue 10). */
  lathe_engine_init();
  lathe_tuning_init();
  const char *grace = g_getenv("LATHE_INTERRUPT_GRACE");
  if (grace && g_ascii_strtoull(grace, NULL, 10) > 0)
    grace_seconds = (unsigned)MIN(g_ascii_strtoull(grace, NULL, 10), 3600);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  struct sigaction al = {0};
  al.sa_handler = on_alarm;
  sigaction(SIGALRM, &al, NULL);
  if (argc < 2)
    return usage(stderr, LATHE_EXIT_USAGE);
  const char *cmd = argv[1];
  if (g_str_equal(cmd, "--help") || g_str_equal(cmd, "-h") || g_str_equal(cmd, "help"))
    return usage(stdout, LATHE_EXIT_OK);
  /* Only `run` and `reproduce` do BLAS work; they prepare BLAS once they
   * know their jobs and BLAS threads. */
  if (!g_str_equal(cmd, "run") && !g_str_equal(cmd, "reproduce"))
    lathe_blas_prepare(lathe_original_argv, 1);
  if (g_str_equal(cmd, "--version") || g_str_equal(cmd, "version")) {
    g_autofree char *blas = lathe_blas_describe();
    gboolean json = argc > 2 && g_str_equal(argv[2], "--json");
    if (json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "version");
      json_builder_add_string_value(b, LATHE_VERSION);
      json_builder_set_member_name(b, "abi");
      g_autofree char *abi = g_strdup_printf("%d.%d", LATHE_ABI_MAJOR, LATHE_ABI_MINOR);
      json_builder_add_string_value(b, abi);
      json_builder_set_member_name(b, "blas");
      json_builder_add_string_value(b, blas);
      json_builder_end_object(b);
      g_autoptr(JsonNode) root = json_builder_get_root(b);
      lathe_cli_print_json(root);
    } else {
      printf("lathe %s\nplugin ABI %d.%d\nBLAS: %s\n", LATHE_VERSION, LATHE_ABI_MAJOR,
             LATHE_ABI_MINOR, blas);
    }
    return LATHE_EXIT_OK;
  }
  /* Subcommands see argv without "lathe". */
  if (g_str_equal(cmd, "run"))
    return lathe_cmd_run(argc - 1, argv + 1, FALSE);
  if (g_str_equal(cmd, "validate"))
    return lathe_cmd_run(argc - 1, argv + 1, TRUE);
  if (g_str_equal(cmd, "plugins"))
    return lathe_cmd_plugins(argc - 1, argv + 1);
  if (g_str_equal(cmd, "runs"))
    return lathe_cmd_runs(argc - 1, argv + 1);
  if (g_str_equal(cmd, "models"))
    return lathe_cmd_models(argc - 1, argv + 1);
  if (g_str_equal(cmd, "predict"))
    return lathe_cmd_predict(argc - 1, argv + 1);
  if (g_str_equal(cmd, "serve"))
    return lathe_cmd_serve(argc - 1, argv + 1);
  if (g_str_equal(cmd, "lineage"))
    return lathe_cmd_lineage(argc - 1, argv + 1);
  if (g_str_equal(cmd, "study"))
    return lathe_cmd_study(argc - 1, argv + 1);
  if (g_str_equal(cmd, "store"))
    return lathe_cmd_store(argc - 1, argv + 1);
  if (g_str_equal(cmd, "reproduce"))
    return lathe_cmd_reproduce(argc - 1, argv + 1);
  if (g_str_equal(cmd, "tracker"))
    return lathe_cmd_tracker(argc - 1, argv + 1);
  if (g_str_equal(cmd, "report"))
    return lathe_cmd_report(argc - 1, argv + 1);
  if (g_str_equal(cmd, "ui"))
    return lathe_cmd_ui(argc - 1, argv + 1);
  if (g_str_equal(cmd, "exec-task"))
    return lathe_cmd_exec_task(argc - 1, argv + 1);
  lathe_cli_error(LATHE_EXIT_USAGE, "unknown command '%s'", cmd);
  return usage(stderr, LATHE_EXIT_USAGE);
}
