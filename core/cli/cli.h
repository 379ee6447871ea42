/* cli.h: the `lathe` commands and what they share. */
#pragma once

#include <stdio.h>

#include "catalog/catalog.h"
#include "store/store.h"

G_BEGIN_DECLS

/* main()'s argv, kept whole for re-executing (BLAS set-up). */
extern char **lathe_original_argv;

/* Exit codes, the CLI's contract. */
#define LATHE_EXIT_OK 0
#define LATHE_EXIT_FAILED 1
#define LATHE_EXIT_USAGE 2

int lathe_cmd_run(int argc, char **argv, gboolean validate_only);
int lathe_cmd_plugins(int argc, char **argv);
int lathe_cmd_runs(int argc, char **argv);
/* cli-runs-search.c: `runs search` and `runs compare`; argv[0] is the verb. */
int lathe_cmd_runs_search(int argc, char **argv);
int lathe_cmd_runs_compare(int argc, char **argv);
int lathe_cmd_models(int argc, char **argv);
int lathe_cmd_serve(int argc, char **argv);
int lathe_cmd_predict(int argc, char **argv);
int lathe_cmd_study(int argc, char **argv);
int lathe_cmd_store(int argc, char **argv);
int lathe_cmd_lineage(int argc, char **argv);
int lathe_cmd_reproduce(int argc, char **argv);
int lathe_cmd_tracker(int argc, char **argv);
int lathe_cmd_runs_export(int argc, char **argv);
/* cli-exec-task.c: `lathe exec-task TASKFILE`, what an executor runs. */
int lathe_cmd_exec_task(int argc, char **argv);
int lathe_cmd_report(int argc, char **argv);
int lathe_cmd_ui(int argc, char **argv);

/**
 * lathe_cli_phase:
 * @what: the phase just finished.
 *
 * With LATHE_PROFILE set, prints the time since the previous phase on stderr.
 */
void lathe_cli_phase(const char *what);

/**
 * lathe_cli_escape:
 * @s: (nullable): text from a file, the store, a plugin or argv.
 *
 * Returns: (transfer full): @s for a terminal: control characters (C0, DEL,
 * C1), line separators and bidi overrides escaped as \n, \xNN or \uNNNN,
 * bytes that are not UTF-8 as \xNN; "-" for %NULL.
 */
char *lathe_cli_escape(const char *s);
/** lathe_cli_text: lathe_cli_escape(), owned by the CLI until exit. */
const char *lathe_cli_text(const char *s);

/** lathe_cli_error: prints "lathe: MESSAGE" on stderr, escaped; returns @code. */
int lathe_cli_error(int code, const char *format, ...) G_GNUC_PRINTF(2, 3);
/** lathe_cli_print_json: prints @node on stdout, pretty, with a newline. */
void lathe_cli_print_json(JsonNode *node);
/** lathe_cli_parse: parses options; on error prints it and returns FALSE. */
gboolean lathe_cli_parse(GOptionContext *octx, int *argc, char ***argv);
/** lathe_cli_default_store: (transfer full) --store, else DIR/.lathe. */
char *lathe_cli_default_store(const char *option, const char *dir);
/** lathe_cli_format_time: (transfer full) a UTC "YYYY-MM-DD HH:MM:SS". */
char *lathe_cli_format_time(double seconds);
/** lathe_cli_load_catalog: (transfer full) loads plugins; reports refusals
 * on stderr unless @quiet. */
LatheCatalog *lathe_cli_load_catalog(gboolean quiet);

/**
 * lathe_cli_open_list_show:
 * @cmd: "runs" or "study"; @ref: what `show` takes ("RUN_ID").
 * @json: (out): --json was given; @show: (out): the verb was show (argv[2]
 *   is then the reference).
 * @code: (out): the exit code when this returns %NULL (the error is printed).
 *
 * The shared front of the `list | show REF` commands: options --json and
 * --store, the verb, and opening the store.
 */
LatheStore *lathe_cli_open_list_show(int *argc, char ***argv, const char *cmd, const char *ref,
                                     gboolean *json, gboolean *show, int *code);

/**
 * lathe_cli_open_reader:
 * @store_opt: (nullable): --store, else ./.lathe.
 * @empty: (out): the store exists but has no database yet (no runs): %NULL
 *   is returned, nothing printed, @code is 0.
 * @code: (out): the exit code when this returns %NULL (any error printed).
 *
 * Opens the store for a command that only reads it; never creates it.
 */
LatheStore *lathe_cli_open_reader(const char *store_opt, gboolean *empty, int *code);

/**
 * lathe_cli_open_existing:
 * @dir: the store folder.
 * @hint: what the "no run store" error tells the user to do.
 * @code: (out): the exit code when this returns %NULL (the error is printed).
 *
 * Opens a store that must have a database already; never creates one.
 */
LatheStore *lathe_cli_open_existing(const char *dir, const char *hint, int *code);

G_END_DECLS
