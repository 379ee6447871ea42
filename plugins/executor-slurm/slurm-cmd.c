/* slurm-cmd.c: Slurm's client commands for executor/slurm. The clients are
 * run as they are installed (sbatch, squeue...), never through a shell, so a
 * job name or a path cannot be read as shell syntax. */
#include "slurm-cmd.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <string.h>

void lathe_slurm_run_clear(LatheSlurmRun *r) {
  g_clear_pointer(&r->out, g_free);
  g_clear_pointer(&r->err, g_free);
  r->status = -1;
}

static char *find_one(const char *bin_dir, const char *name) {
  if (bin_dir && *bin_dir) {
    char *p = g_build_filename(bin_dir, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(p, G_FILE_TEST_IS_DIR))
      return p;
    g_free(p);
    return NULL;
  }
  return g_find_program_in_path(name);
}

gboolean lathe_slurm_bins_find(LatheSlurmBins *bins, const char *bin_dir, GError **error) {
  const char *names[] = {"sbatch", "squeue", "sacct", "scancel", "scontrol"};
  char **slots[] = {&bins->sbatch, &bins->squeue, &bins->sacct, &bins->scancel,
                    &bins->scontrol};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    *slots[i] = find_one(bin_dir, names[i]);
    if (*slots[i])
      continue;
    if (bin_dir && *bin_dir)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s not found in %s (the bin_dir param): install slurm-client there or "
                  "point bin_dir at Slurm's bin directory",
                  names[i], bin_dir);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s not found in PATH: install slurm-client or set the executor's bin_dir "
                  "param to Slurm's bin directory",
                  names[i]);
    lathe_slurm_bins_clear(bins);
    return FALSE;
  }
  return TRUE;
}

void lathe_slurm_bins_clear(LatheSlurmBins *bins) {
  g_clear_pointer(&bins->sbatch, g_free);
  g_clear_pointer(&bins->squeue, g_free);
  g_clear_pointer(&bins->sacct, g_free);
  g_clear_pointer(&bins->scancel, g_free);
  g_clear_pointer(&bins->scontrol, g_free);
}

gboolean lathe_slurm_exec(const char *const *argv, LatheSlurmRun *r, GError **error) {
  int wait_status = 0;
  GError *e = NULL;
  r->out = r->err = NULL;
  r->status = -1;
  /* Slurm's clients bound their own waits on the controller (MessageTimeout),
   * so a synchronous call cannot hang for long. */
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err,
                    &wait_status, &e)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot run %s: %s", argv[0], e->message);
    g_error_free(e);
    return FALSE;
  }
  if (WIFEXITED(wait_status))
    r->status = WEXITSTATUS(wait_status);
  else
    r->status = 128 + (WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
  return TRUE;
}

gboolean lathe_slurm_unreachable(const char *err) {
  static const char *const marks[] = {
      "Unable to contact slurm controller", "Socket timed out", "Connection refused",
      "Zero Bytes were transmitted",       "Communication connection failure",
      "Connection timed out",              "slurm_load_jobs error: Unable to contact",
  };
  if (!err)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(marks); i++)
    if (strstr(err, marks[i]))
      return TRUE;
  return FALSE;
}

char *lathe_slurm_error_line(const char *err) {
  g_auto(GStrv) lines = g_strsplit(err ? err : "", "\n", -1);
  const char *best = NULL;
  for (guint i = 0; lines[i]; i++) {
    const char *l = g_strstrip(lines[i]);
    if (!*l)
      continue;
    /* Slurm's last line is the verdict ("Batch job submission failed: ..."). */
    best = l;
  }
  if (!best)
    return g_strdup("(no message)");
  const char *p = best;
  const char *cut;
  while ((cut = strstr(p, "error: ")))
    p = cut + strlen("error: ");
  if ((cut = strstr(p, "Batch job submission failed: ")))
    p = cut + strlen("Batch job submission failed: ");
  return g_strdup(p);
}

char *lathe_slurm_shell_quote(const char *s) {
  GString *q = g_string_new("'");
  for (const char *c = s; *c; c++) {
    if (*c == '\'')
      g_string_append(q, "'\\''");
    else
      g_string_append_c(q, *c);
  }
  g_string_append_c(q, '\'');
  return g_string_free(q, FALSE);
}

char *lathe_slurm_read_tail(const char *path, gsize max) {
  if (!path)
    return NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long size = ftell(f);
  long from = size > (long)max ? size - (long)max : 0;
  if (size < 0 || fseek(f, from, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  char *buf = g_malloc((gsize)(size - from) + 1);
  gsize n = fread(buf, 1, (gsize)(size - from), f);
  buf[n] = '\0';
  fclose(f);
  /* A log may hold NUL bytes; what follows them still counts. */
  for (gsize i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  return buf;
}

char *lathe_slurm_signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
               {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
               {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
               {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
               {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGXCPU, "SIGXCPU"}};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (names[i].sig == sig)
      return g_strdup(names[i].name);
  return g_strdup_printf("signal %d", sig);
}
