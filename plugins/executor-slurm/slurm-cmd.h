/* slurm-cmd.h: running Slurm's client commands and reading what they say,
 * for executor/slurm. */
#pragma once

#include <lathe/lathe-sdk.h>

/* The client commands, as absolute paths. */
typedef struct {
  char *sbatch, *squeue, *sacct, *scancel, *scontrol;
} LatheSlurmBins;

/* What one command did. */
typedef struct {
  char *out;  /* stdout */
  char *err;  /* stderr */
  int status; /* exit status, -1 when it could not be started */
} LatheSlurmRun;

void lathe_slurm_run_clear(LatheSlurmRun *r);

/* Resolves the commands from @bin_dir, or from PATH when @bin_dir is NULL or
 * empty. FALSE with a one-line error naming what to fix when sbatch is not
 * there. */
gboolean lathe_slurm_bins_find(LatheSlurmBins *bins, const char *bin_dir, GError **error);
void lathe_slurm_bins_clear(LatheSlurmBins *bins);

/* Runs @argv (NULL-terminated, argv[0] absolute) and fills @r; FALSE only
 * when the command could not be started. */
gboolean lathe_slurm_exec(const char *const *argv, LatheSlurmRun *r, GError **error);

/* TRUE when a client's stderr says the controller is out of reach (down,
 * timed out): the question may be asked again later. */
gboolean lathe_slurm_unreachable(const char *err);

/* The last "error:" line of a client's stderr, without Slurm's prefixes:
 * "Invalid partition name specified". Never NULL; the caller frees it. */
char *lathe_slurm_error_line(const char *err);

/* @s quoted for sh, between single quotes. */
char *lathe_slurm_shell_quote(const char *s);

/* The last @max bytes of the file at @path, or NULL. */
char *lathe_slurm_read_tail(const char *path, gsize max);

/* "SIGSEGV" for 11; "signal 77" for what it does not know. */
char *lathe_slurm_signal_name(int sig);
