/* executor/slurm: each task becomes a Slurm batch job.
 *
 * submit writes a small sh script next to the task's log that runs the argv
 * and then writes the job's own exit record (LOG.exit), and hands it to
 * `sbatch --parsable`. poll asks squeue (which keeps a finished job for
 * MinJobAge), then sacct where an accounting database exists, then the exit
 * record and the log: slurmstepd writes "DUE TO TIME LIMIT" and "Exceeded job
 * memory limit" there, which is how TIMEOUT and OUT_OF_MEMORY stay told apart
 * on a cluster without accounting. A controller that does not answer makes
 * poll fail with LATHE_ERROR_UNAVAILABLE: the host asks again later. */
#include "slurm-cmd.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#define COMPONENT "executor/slurm"

static const LatheParamSpec slurm_params[] = {
    LATHE_PARAM_STRING_("bin_dir", "\"\"", 0,
                        "directory of sbatch, squeue, sacct, scancel and scontrol; empty: PATH"),
    LATHE_PARAM_STRING_("partition", "null", 0,
                        "partition for tasks that name none; null: the cluster's default"),
    LATHE_PARAM_STRING_("account", "null", 0,
                        "account charged for tasks that name none; null: the user's default"),
    LATHE_PARAM_STRING_("qos", "null", 0,
                        "quality of service for tasks that name none; null: the default"),
    LATHE_PARAM_BOOL_("probe", "true",
                      "at open, run a tiny job that checks the compute nodes see probe_dir"),
    LATHE_PARAM_STRING_("probe_dir", "null", 0,
                        "directory the probe job writes to; null: the run store"),
    LATHE_PARAM_INT_("probe_timeout", "60", 1, 3600,
                     "seconds to wait for the probe job's file before giving up"),
    LATHE_PARAM_FLOAT_("poll_interval", "1.0", 0, 600, 0,
                       "seconds between two squeue calls about one job; a poll sooner "
                       "answers the last state seen"),
    LATHE_PARAM_END,
};

typedef struct {
  LatheContext *ctx;
  LatheSlurmBins bins;
  char *partition, *account, *qos;
  gboolean no_accounting; /* sacct said so once: not asked again */
  gint64 poll_interval_us;
} SlurmExec;

typedef struct {
  char *id;
  char *log_path; /* NULL when an attach could not learn it */
  guint time_limit_s;
  guint64 memory_mb;
  gboolean cancelled_here;
  LatheTaskState final; /* 0 while the job is not finished */
  LatheTaskState last;  /* the last active state squeue gave, and when */
  gint64 last_at;
  int exit_status;
  char *state;  /* the last Slurm state seen */
  char *reason; /* and its reason */
  char *detail; /* describe's text once finished */
} SlurmJob;

/* A LatheTask field after time_limit_s, when the host's struct has it. */
#define TASK_HAS(t, field)                                                                     \
  ((t)->struct_size >= G_STRUCT_OFFSET(LatheTask, field) + sizeof((t)->field))

/* A param's value, its spec's default when the context lacks it: a host
 * that opens executors without filling their defaults still gets them. */
static JsonNode *param_value(LatheContext *ctx, const char *name) {
  if (lathe_context_param_is_set(ctx, name))
    return json_node_copy(json_object_get_member(lathe_context_get_params(ctx), name));
  for (const LatheParamSpec *p = slurm_params; p->name; p++)
    if (g_str_equal(p->name, name))
      return json_from_string(p->default_json, NULL);
  g_return_val_if_reached(NULL);
}

/* A string param, NULL when null or empty (the caller frees it). */
static char *param_str(LatheContext *ctx, const char *name) {
  g_autoptr(JsonNode) n = param_value(ctx, name);
  const char *v = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                      ? json_node_get_string(n)
                      : NULL;
  return v && *v ? g_strdup(v) : NULL;
}

static double param_num(LatheContext *ctx, const char *name) {
  g_autoptr(JsonNode) n = param_value(ctx, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0;
}

static gboolean param_flag(LatheContext *ctx, const char *name) {
  g_autoptr(JsonNode) n = param_value(ctx, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n);
}

static void job_free(SlurmJob *j) {
  g_free(j->id);
  g_free(j->log_path);
  g_free(j->state);
  g_free(j->reason);
  g_free(j->detail);
  g_free(j);
}

static char *side_file(const SlurmJob *j, const char *ext) {
  return j->log_path ? g_strconcat(j->log_path, ext, NULL) : NULL;
}

static void set_unreachable(SlurmExec *ex, GError **error, const char *what, const char *err) {
  g_autofree char *line = lathe_slurm_error_line(err);
  const char *conf = g_getenv("SLURM_CONF");
  lathe_context_set_error(ex->ctx, error, LATHE_ERROR_UNAVAILABLE, COMPONENT,
                          "the Slurm controller does not answer (%s: %s): start slurmctld or "
                          "check SLURM_CONF (%s)",
                          what, line, conf ? conf : "unset, so /etc/slurm/slurm.conf");
}

/* Runs a client; FALSE with an error only when it could not be started. */
static gboolean exec_cmd(SlurmExec *ex, const char *const *argv, LatheSlurmRun *r,
                         GError **error) {
  if (lathe_slurm_exec(argv, r, error))
    return TRUE;
  lathe_context_prefix_error(ex->ctx, error, COMPONENT);
  return FALSE;
}

/* --- states ------------------------------------------------------------ */

/* A Slurm state word of a job not finished yet, or 0. */
static LatheTaskState active_state(const char *s) {
  static const char *const pending[] = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD",
                                        "REQUEUE_FED", "RESV_DEL_HOLD"};
  static const char *const running[] = {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED",
                                        "SIGNALING", "STAGE_OUT", "RESIZING"};
  for (guint i = 0; i < G_N_ELEMENTS(pending); i++)
    if (g_str_equal(s, pending[i]))
      return LATHE_TASK_PENDING;
  for (guint i = 0; i < G_N_ELEMENTS(running); i++)
    if (g_str_equal(s, running[i]))
      return LATHE_TASK_RUNNING;
  return 0;
}

static gboolean read_exit_record(const SlurmJob *j, int *status) {
  g_autofree char *path = side_file(j, ".exit");
  g_autofree char *text = NULL;
  if (!path || !g_file_get_contents(path, &text, NULL, NULL))
    return FALSE;
  return sscanf(text, "exit %d", status) == 1;
}

/* The finished job's state, from Slurm's word (NULL when Slurm forgot the
 * job), its exit record and the end of its log. */
static void finish(SlurmJob *j, const char *slurm_state) {
  int rec = 0;
  gboolean has_rec = read_exit_record(j, &rec);
  g_autofree char *log = lathe_slurm_read_tail(j->log_path, 64 * 1024);
  gboolean log_oom = log && (strstr(log, "xceeded job memory limit") ||
                             strstr(log, "exceeded memory limit") || strstr(log, "oom-kill"));
  gboolean log_timeout = log && strstr(log, "DUE TO TIME LIMIT");
  gboolean log_cancel = log && strstr(log, " CANCELLED AT ") && !log_timeout;
  const char *s = slurm_state;
  if (!s)
    s = log_timeout ? "TIMEOUT"
        : log_oom   ? "OUT_OF_MEMORY"
        : log_cancel ? "CANCELLED"
        : has_rec    ? (rec == 0 ? "COMPLETED" : "FAILED")
                     : NULL;
  g_free(j->state);
  j->state = g_strdup(s ? s : "VANISHED");
  j->exit_status = has_rec ? rec : 1;
  if (!s) {
    j->final = LATHE_TASK_LOST;
    j->detail = g_strdup_printf("job %s vanished from Slurm without an exit record", j->id);
  } else if (g_str_equal(s, "COMPLETED")) {
    j->final = LATHE_TASK_SUCCEEDED;
    j->exit_status = 0;
    j->detail = g_strdup("COMPLETED");
  } else if (g_str_equal(s, "OUT_OF_MEMORY") || (g_str_equal(s, "FAILED") && log_oom)) {
    j->final = LATHE_TASK_OUT_OF_MEMORY;
    j->detail = j->memory_mb
                    ? g_strdup_printf("OUT_OF_MEMORY: exceeded memory %" G_GUINT64_FORMAT " MiB",
                                      j->memory_mb)
                    : g_strdup("OUT_OF_MEMORY: exceeded its memory limit");
  } else if (g_str_equal(s, "TIMEOUT") || g_str_equal(s, "DEADLINE")) {
    j->final = LATHE_TASK_TIMEOUT;
    j->detail = j->time_limit_s ? g_strdup_printf("TIMEOUT: timed out after %u s (Slurm's limit "
                                                  "rounds up to whole minutes)",
                                                  j->time_limit_s)
                                : g_strdup("TIMEOUT: timed out at its time limit");
  } else if (g_str_equal(s, "CANCELLED")) {
    g_autofree char *marker = side_file(j, ".cancelled");
    gboolean ours = j->cancelled_here || (marker && g_file_test(marker, G_FILE_TEST_EXISTS));
    j->final = LATHE_TASK_CANCELLED;
    j->detail = g_strdup(ours ? "CANCELLED by Lathe" : "CANCELLED by an outside scancel");
  } else if (g_str_equal(s, "NODE_FAIL") || g_str_equal(s, "PREEMPTED") ||
             g_str_equal(s, "BOOT_FAIL")) {
    j->final = LATHE_TASK_LOST;
    j->detail = g_strdup_printf("%s: the job was lost with no fault of its own", s);
  } else {
    j->final = LATHE_TASK_FAILED;
    if (!has_rec)
      j->detail = g_strdup_printf("%s%s%s: killed before it wrote its exit record", s,
                                  j->reason ? ", " : "", j->reason ? j->reason : "");
    else if (rec > 128) {
      g_autofree char *sig = lathe_slurm_signal_name(rec - 128);
      j->detail = g_strdup_printf("%s: killed by %s", s, sig);
    } else
      j->detail = g_strdup_printf("%s: exited with status %d", s, rec);
  }
}

/* squeue's view of the job: TRUE with *@state set (NULL when squeue no
 * longer knows it); FALSE with an error, UNAVAILABLE when the controller
 * does not answer. */
static gboolean squeue_state(SlurmExec *ex, const char *id, char **state, char **reason,
                             GError **error) {
  const char *argv[] = {ex->bins.squeue, "-h", "-j", id, "-t", "all", "-o", "%T|%r", NULL};
  LatheSlurmRun r;
  *state = *reason = NULL;
  if (!exec_cmd(ex, argv, &r, error))
    return FALSE;
  gboolean ok = TRUE;
  g_strstrip(r.out);
  if (r.status == 0 && *r.out) {
    char *bar = strchr(r.out, '|');
    if (bar)
      *bar = '\0';
    *state = g_strdup(r.out);
    *reason = bar && bar[1] && !g_str_equal(bar + 1, "None") ? g_strdup(bar + 1) : NULL;
  } else if (lathe_slurm_unreachable(r.err)) {
    set_unreachable(ex, error, "squeue", r.err);
    ok = FALSE;
  } else if (r.status != 0 && !strstr(r.err, "Invalid job id")) {
    g_autofree char *line = lathe_slurm_error_line(r.err);
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_FAILED, COMPONENT,
                            "squeue about job %s: %s", id, line);
    ok = FALSE;
  }
  lathe_slurm_run_clear(&r);
  return ok;
}

/* sacct's state word for a job, or NULL (no accounting, or not recorded). */
static char *sacct_state(SlurmExec *ex, const char *id) {
  if (ex->no_accounting)
    return NULL;
  const char *argv[] = {ex->bins.sacct, "-n", "-X", "-j", id, "-o", "State,ExitCode", "-P",
                        NULL};
  LatheSlurmRun r;
  if (!lathe_slurm_exec(argv, &r, NULL))
    return NULL;
  char *state = NULL;
  if (r.status == 0 && *g_strstrip(r.out)) {
    /* "CANCELLED by 0|0:15": the first word is the state. */
    r.out[strcspn(r.out, " |\n")] = '\0';
    state = g_strdup(r.out);
  } else if (strstr(r.err, "accounting storage is disabled"))
    ex->no_accounting = TRUE;
  lathe_slurm_run_clear(&r);
  return state;
}

static LatheTaskState slurm_poll(gpointer executor, gpointer job, int *exit_status,
                                 GError **error) {
  SlurmExec *ex = executor;
  SlurmJob *j = job;
  /* The host polls often at first; the controller is asked at most once per
   * poll_interval about each job. */
  if (!j->final && j->last &&
      g_get_monotonic_time() - j->last_at < ex->poll_interval_us)
    return j->last;
  if (!j->final) {
    g_autofree char *state = NULL, *reason = NULL;
    if (!squeue_state(ex, j->id, &state, &reason, error))
      return 0;
    if (state) {
      g_free(j->state);
      g_free(j->reason);
      j->state = g_strdup(state);
      j->reason = g_steal_pointer(&reason);
      LatheTaskState active = active_state(state);
      if (active) {
        j->last = active;
        j->last_at = g_get_monotonic_time();
        return active;
      }
      finish(j, state);
    } else {
      g_autofree char *acct = sacct_state(ex, j->id);
      finish(j, acct);
    }
  }
  if (exit_status)
    *exit_status = j->exit_status;
  return j->final;
}

/* --- open and the probe -------------------------------------------------- */

static gboolean ping_controller(SlurmExec *ex, GError **error) {
  const char *argv[] = {ex->bins.scontrol, "ping", NULL};
  LatheSlurmRun r;
  if (!exec_cmd(ex, argv, &r, error))
    return FALSE;
  gboolean up = r.status == 0 && strstr(r.out, "is UP");
  if (!up) {
    g_autofree char *both = g_strconcat(r.out, r.err, NULL);
    set_unreachable(ex, error, "scontrol ping", both);
  }
  lathe_slurm_run_clear(&r);
  return up;
}

/* sbatch's refusal as one line naming what to fix. */
static void set_sbatch_error(SlurmExec *ex, GError **error, const char *name, const char *err,
                             const char *partition, const char *account, const char *qos) {
  if (lathe_slurm_unreachable(err)) {
    set_unreachable(ex, error, "sbatch", err);
    return;
  }
  g_autofree char *line = lathe_slurm_error_line(err);
  g_autofree char *down = g_ascii_strdown(line, -1);
  g_autofree char *what = NULL;
  if (strstr(down, "partition"))
    what = g_strdup_printf(" (partition '%s': check the node's or executor's partition)",
                           partition ? partition : "default");
  else if (strstr(down, "account"))
    what = g_strdup_printf(" (account '%s': check the node's or executor's account)",
                           account ? account : "default");
  else if (strstr(down, "qos"))
    what = g_strdup_printf(" (qos '%s': check the node's or executor's qos)",
                           qos ? qos : "default");
  lathe_context_set_error(ex->ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                          "sbatch refused job %s: %s%s", name, line, what ? what : "");
}

/* Adds -p/-A/--qos to @args. */
static void add_placement(GPtrArray *args, const char *partition, const char *account,
                          const char *qos) {
  if (partition)
    g_ptr_array_add(args, g_strdup_printf("--partition=%s", partition));
  if (account)
    g_ptr_array_add(args, g_strdup_printf("--account=%s", account));
  if (qos)
    g_ptr_array_add(args, g_strdup_printf("--qos=%s", qos));
}

/* The id sbatch --parsable printed ("42" or "42;cluster"), or NULL. */
static char *parse_job_id(const char *out) {
  gsize n = strspn(out, "0123456789");
  return n ? g_strndup(out, n) : NULL;
}

static void cancel_id(SlurmExec *ex, const char *id) {
  const char *argv[] = {ex->bins.scancel, id, NULL};
  LatheSlurmRun r;
  if (lathe_slurm_exec(argv, &r, NULL))
    lathe_slurm_run_clear(&r);
}

/* A tiny job writes a token into @dir; the file must appear here, or the
 * compute nodes do not see this filesystem and no task could read its
 * inputs. Bounded by @timeout_s. */
static gboolean probe_dir(SlurmExec *ex, const char *dir, gint64 timeout_s, GError **error) {
  g_autofree char *token = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
  g_autofree char *name = g_strdup_printf(".lathe-slurm-probe-%s", token);
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *qpath = lathe_slurm_shell_quote(path);
  g_autofree char *wrap = g_strdup_printf("printf %s > %s", token, qpath);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
  const char *fixed[] = {ex->bins.sbatch, "--parsable", "--job-name=lathe-probe",
                         "--output=/dev/null", "--error=/dev/null", "--time=1",
                         "--mem=64", "--cpus-per-task=1"};
  for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(args, g_strdup(fixed[i]));
  add_placement(args, ex->partition, ex->account, ex->qos);
  g_ptr_array_add(args, g_strdup("--wrap"));
  g_ptr_array_add(args, g_strdup(wrap));
  g_ptr_array_add(args, NULL);
  LatheSlurmRun r;
  if (!exec_cmd(ex, (const char *const *)args->pdata, &r, error))
    return FALSE;
  g_autofree char *id = r.status == 0 ? parse_job_id(r.out) : NULL;
  if (!id) {
    set_sbatch_error(ex, error, "lathe-probe", r.err, ex->partition, ex->account, ex->qos);
    lathe_slurm_run_clear(&r);
    return FALSE;
  }
  lathe_slurm_run_clear(&r);
  gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
  gint64 finished_at = 0;
  g_autofree char *last_state = NULL;
  g_autofree char *last_reason = NULL;
  for (guint round = 0;; round++) {
    g_autofree char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL) && g_str_equal(text, token)) {
      g_unlink(path);
      return TRUE;
    }
    gint64 now = g_get_monotonic_time();
    /* A finished probe gets two more seconds for a lazy shared filesystem. */
    if (now > deadline || (finished_at && now > finished_at + 2 * G_USEC_PER_SEC))
      break;
    if (round % 4 == 0 && !finished_at) {
      char *state = NULL, *reason = NULL;
      if (squeue_state(ex, id, &state, &reason, NULL)) {
        if (state) {
          g_free(last_state);
          g_free(last_reason);
          last_state = state;
          last_reason = reason;
        }
        if (!state || !active_state(state))
          finished_at = now;
      }
    }
    g_usleep(G_USEC_PER_SEC / 4);
  }
  cancel_id(ex, id);
  if (!finished_at && last_state && active_state(last_state) == LATHE_TASK_PENDING)
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_UNAVAILABLE, COMPONENT,
                            "probe job %s still PENDING after %" G_GINT64_FORMAT
                            " s (%s): the cluster is busy; raise probe_timeout, or set probe "
                            "to false",
                            id, timeout_s, last_reason ? last_reason : "no reason given");
  else
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "%s is not on a filesystem the compute nodes see: probe job %s "
                            "wrote %s there (%s) and it never appeared here: put the store on "
                            "a shared filesystem, or set probe_dir to one",
                            dir, id, name,
                            last_state ? last_state : "state unknown");
  return FALSE;
}

static void slurm_close(gpointer executor) {
  SlurmExec *ex = executor;
  lathe_slurm_bins_clear(&ex->bins);
  g_free(ex->partition);
  g_free(ex->account);
  g_free(ex->qos);
  g_free(ex);
}

static gpointer slurm_open(LatheContext *ctx, GError **error) {
  SlurmExec *ex = g_new0(SlurmExec, 1);
  ex->ctx = ctx;
  ex->partition = param_str(ctx, "partition");
  ex->account = param_str(ctx, "account");
  ex->qos = param_str(ctx, "qos");
  ex->poll_interval_us = (gint64)(param_num(ctx, "poll_interval") * G_USEC_PER_SEC);
  g_autofree char *bin_dir = param_str(ctx, "bin_dir");
  if (!lathe_slurm_bins_find(&ex->bins, bin_dir, error)) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    slurm_close(ex);
    return NULL;
  }
  if (!ping_controller(ex, error)) {
    slurm_close(ex);
    return NULL;
  }
  g_autofree char *dir = param_str(ctx, "probe_dir");
  if (!dir && lathe_context_store_dir(ctx))
    dir = g_strdup(lathe_context_store_dir(ctx));
  if (param_flag(ctx, "probe") && dir &&
      !probe_dir(ex, dir, (gint64)param_num(ctx, "probe_timeout"), error)) {
    slurm_close(ex);
    return NULL;
  }
  return ex;
}

/* --- submit, cancel, attach ---------------------------------------------- */

static char *batch_script(const LatheTask *task, const char *record) {
  GString *s = g_string_new("#!/bin/sh\n# Written by Lathe's executor/slurm: runs the task, "
                            "then writes the job's exit record.\n");
  g_autofree char *qrec = lathe_slurm_shell_quote(record);
  g_string_append_printf(s, "rec=%s\nrm -f \"$rec\"\n", qrec);
  for (guint i = 0; task->argv[i]; i++) {
    g_autofree char *q = lathe_slurm_shell_quote(task->argv[i]);
    g_string_append_printf(s, "%s%s", i ? " " : "", q);
  }
  g_string_append(s, " </dev/null\nst=$?\n"
                     "printf 'exit %d\\n' \"$st\" > \"$rec.tmp\" && mv -f \"$rec.tmp\" \"$rec\"\n"
                     "exit \"$st\"\n");
  return g_string_free(s, FALSE);
}

static gpointer slurm_submit(gpointer executor, const LatheTask *task, GError **error) {
  SlurmExec *ex = executor;
  if (!task->argv || !task->argv[0] || !task->log_path) {
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "task %s has no command or no log path", task->task_id);
    return NULL;
  }
  g_autofree char *cwd = g_get_current_dir();
  const char *workdir = task->workdir ? task->workdir : cwd;
  g_autofree char *log = g_path_is_absolute(task->log_path)
                             ? g_strdup(task->log_path)
                             : g_build_filename(workdir, task->log_path, NULL);
  g_autofree char *record = g_strconcat(log, ".exit", NULL);
  g_autofree char *script_path = g_strconcat(log, ".sbatch", NULL);
  g_autofree char *script = batch_script(task, record);
  g_autofree char *log_dir = g_path_get_dirname(log);
  g_autoptr(GError) e = NULL;
  if (g_mkdir_with_parents(log_dir, 0755) != 0 ||
      !g_file_set_contents(script_path, script, -1, &e)) {
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_IO, COMPONENT,
                            "cannot write the batch script %s: %s", script_path,
                            e ? e->message : g_strerror(errno));
    return NULL;
  }
  g_autofree char *fallback_name = g_strdup_printf("lathe-%s", task->task_id);
  const char *name = TASK_HAS(task, job_name) && task->job_name ? task->job_name : fallback_name;
  const char *partition = TASK_HAS(task, partition) && task->partition ? task->partition
                                                                         : ex->partition;
  const char *account = TASK_HAS(task, account) && task->account ? task->account : ex->account;
  const char *qos = TASK_HAS(task, qos) && task->qos ? task->qos : ex->qos;
  guint gpus = TASK_HAS(task, gpus) ? task->gpus : 0;

  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(args, g_strdup(ex->bins.sbatch));
  g_ptr_array_add(args, g_strdup("--parsable"));
  g_ptr_array_add(args, g_strdup_printf("--job-name=%s", name));
  g_ptr_array_add(args, g_strdup_printf("--output=%s", log));
  g_ptr_array_add(args, g_strdup_printf("--error=%s", log));
  g_ptr_array_add(args, g_strdup_printf("--chdir=%s", workdir));
  g_ptr_array_add(args, g_strdup_printf("--cpus-per-task=%u", MAX(task->cpus, 1u)));
  if (task->memory_mb)
    g_ptr_array_add(args, g_strdup_printf("--mem=%" G_GUINT64_FORMAT "M", task->memory_mb));
  /* Slurm counts whole minutes. */
  if (task->time_limit_s)
    g_ptr_array_add(args, g_strdup_printf("--time=%u", (task->time_limit_s + 59) / 60));
  if (gpus)
    g_ptr_array_add(args, g_strdup_printf("--gres=gpu:%u", gpus));
  add_placement(args, partition, account, qos);
  g_ptr_array_add(args, g_strdup(script_path));
  g_ptr_array_add(args, NULL);

  LatheSlurmRun r;
  if (!exec_cmd(ex, (const char *const *)args->pdata, &r, error))
    return NULL;
  g_autofree char *id = r.status == 0 ? parse_job_id(r.out) : NULL;
  if (!id) {
    set_sbatch_error(ex, error, name, r.err, partition, account, qos);
    lathe_slurm_run_clear(&r);
    return NULL;
  }
  lathe_slurm_run_clear(&r);
  SlurmJob *j = g_new0(SlurmJob, 1);
  j->id = g_steal_pointer(&id);
  j->log_path = g_steal_pointer(&log);
  j->time_limit_s = task->time_limit_s;
  j->memory_mb = task->memory_mb;
  return j;
}

static gboolean slurm_cancel(gpointer executor, gpointer job, GError **error) {
  SlurmExec *ex = executor;
  SlurmJob *j = job;
  if (j->final)
    return TRUE;
  /* Marked first, so that a later session still knows whose cancel it was. */
  g_autofree char *marker = side_file(j, ".cancelled");
  if (marker)
    g_file_set_contents(marker, "", 0, NULL);
  j->cancelled_here = TRUE;
  const char *argv[] = {ex->bins.scancel, j->id, NULL};
  LatheSlurmRun r;
  if (!exec_cmd(ex, argv, &r, error))
    return FALSE;
  gboolean ok = TRUE;
  if (r.status != 0 && lathe_slurm_unreachable(r.err)) {
    set_unreachable(ex, error, "scancel", r.err);
    ok = FALSE;
  } else if (r.status != 0 && !strstr(r.err, "completed") && !strstr(r.err, "Invalid job id")) {
    g_autofree char *line = lathe_slurm_error_line(r.err);
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_FAILED, COMPONENT,
                            "scancel of job %s: %s", j->id, line);
    ok = FALSE;
  }
  lathe_slurm_run_clear(&r);
  return ok;
}

/* A finished job's side files go with it; an unfinished one's stay, for a
 * later session that attaches to it. */
static void slurm_release(gpointer executor, gpointer job) {
  (void)executor;
  SlurmJob *j = job;
  if (!j)
    return;
  static const char *const exts[] = {".sbatch", ".exit", ".cancelled"};
  for (guint i = 0; j->final && i < G_N_ELEMENTS(exts); i++) {
    g_autofree char *path = side_file(j, exts[i]);
    if (path)
      g_unlink(path);
  }
  job_free(j);
}

static char *slurm_describe(gpointer executor, gpointer job) {
  (void)executor;
  SlurmJob *j = job;
  if (j->final)
    return g_strdup(j->detail);
  if (!j->state)
    return g_strdup("SUBMITTED");
  return j->reason ? g_strdup_printf("%s (%s)", j->state, j->reason) : g_strdup(j->state);
}

static char *slurm_job_ref(gpointer executor, gpointer job) {
  (void)executor;
  return g_strdup(((SlurmJob *)job)->id);
}

/* StdErr=, TimeLimit= and the memory of `scontrol show job -o ID`. */
static void learn_from_scontrol(SlurmExec *ex, SlurmJob *j) {
  const char *argv[] = {ex->bins.scontrol, "show", "job", "-o", j->id, NULL};
  LatheSlurmRun r;
  if (!lathe_slurm_exec(argv, &r, NULL))
    return;
  g_auto(GStrv) words = g_strsplit(r.status == 0 ? r.out : "", " ", -1);
  for (guint i = 0; words[i]; i++) {
    const char *w = g_strstrip(words[i]);
    if (g_str_has_prefix(w, "StdErr="))
      j->log_path = g_strdup(w + strlen("StdErr="));
    else if (g_str_has_prefix(w, "MinMemoryNode="))
      j->memory_mb = g_ascii_strtoull(w + strlen("MinMemoryNode="), NULL, 10);
  }
  lathe_slurm_run_clear(&r);
}

static gpointer slurm_attach(gpointer executor, const char *job_ref, GError **error) {
  SlurmExec *ex = executor;
  if (!job_ref || !*job_ref || strspn(job_ref, "0123456789") != strlen(job_ref)) {
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "'%s' is not a Slurm job id", job_ref ? job_ref : "");
    return NULL;
  }
  g_autofree char *state = NULL, *reason = NULL;
  if (!squeue_state(ex, job_ref, &state, &reason, error))
    return NULL;
  g_autofree char *acct = state ? NULL : sacct_state(ex, job_ref);
  if (!state && !acct) {
    lathe_context_set_error(ex->ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "job %s is unknown to Slurm (squeue no longer lists it and there is "
                            "no accounting): it cannot be re-attached",
                            job_ref);
    return NULL;
  }
  SlurmJob *j = g_new0(SlurmJob, 1);
  j->id = g_strdup(job_ref);
  j->state = g_strdup(state ? state : acct);
  j->reason = g_steal_pointer(&reason);
  if (state)
    learn_from_scontrol(ex, j);
  return j;
}

static const LatheExecutorClass slurm_class = {
    LATHE_COMPONENT_INIT(LatheExecutorClass, LATHE_KIND_EXECUTOR, "slurm",
                         "runs each task as a Slurm batch job (sbatch, squeue, sacct, scancel)",
                         slurm_params, NULL, NULL),
    .open = slurm_open,
    .submit = slurm_submit,
    .poll = slurm_poll,
    .cancel = slurm_cancel,
    .release = slurm_release,
    .close = slurm_close,
    .describe = slurm_describe,
    .job_ref = slurm_job_ref,
    .attach = slurm_attach,
};

LATHE_PLUGIN_DEFINE("executor-slurm", "0.1.0", "MIT", "Slurm executor: tasks as batch jobs",
                    LATHE_COMPONENT(slurm_class))
