/* executor/process: each task in a child process of the host (issue 15).
 *
 * The child is the task's argv (`lathe exec-task FILE`) in a process group
 * of its own, so that stopping it stops whatever it started; it dies with
 * the thread that started it (PR_SET_PDEATHSIG), so a host killed outright
 * leaves no orphan. Memory is limited by RLIMIT_AS, wall time by this
 * plugin (SIGTERM, then SIGKILL after a grace), and stdout and stderr go to
 * the task's log file, whose tail the host keeps in the store on a failure.
 * A task that asks for N cpus is pinned to the N allowed CPUs that its
 * running siblings use least, as a scheduler would place it; one that asks
 * for GPUs sees that many through CUDA_VISIBLE_DEVICES, and is refused on a
 * machine with none. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

/* How long a task told to stop (SIGTERM) has before SIGKILL. */
#define KILL_GRACE_US (2 * G_USEC_PER_SEC)

typedef struct {
  pid_t pid;            /* also its process group */
  gboolean ours;        /* our child (else attached: poll can only see it live or gone) */
  gint64 started;       /* monotonic */
  guint time_limit_s;
  guint64 memory_mb;
  char *log_path;
  gint64 term_at;       /* when SIGTERM went, 0: not yet */
  gboolean timed_out, cancelled, killed;
  gboolean done;
  LatheTaskState state;
  int status;           /* exit status, or 128 + signal */
  int wstatus;
  long maxrss_kb;
  cpu_set_t cpus;       /* where it is pinned */
  gboolean pinned;
} Job;

typedef struct {
  GHashTable *jobs; /* Job* set: what close() must stop */
  cpu_set_t allowed; /* the host's CPUs when the session opened */
} Session;

static gpointer proc_open(LatheContext *ctx, GError **error) {
  Session *s = g_new0(Session, 1);
  s->jobs = g_hash_table_new(NULL, NULL);
  if (sched_getaffinity(0, sizeof s->allowed, &s->allowed) != 0) {
    CPU_ZERO(&s->allowed);
    for (long i = 0, n = sysconf(_SC_NPROCESSORS_ONLN); i < n && i < CPU_SETSIZE; i++)
      CPU_SET((int)i, &s->allowed);
  }
  return s;
}

/* The @n allowed CPUs the running jobs use least (lowest first on a tie). */
static gboolean place_cpus(Session *s, guint n, cpu_set_t *out, const char *task_id, GError **error) {
  guint have = (guint)CPU_COUNT(&s->allowed);
  if (n > have) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "task %s asks for resources.cpus = %u, and this machine lets it use %u; lower "
                "it, or run the node under executor/slurm", task_id, n, have);
    return FALSE;
  }
  guint users[CPU_SETSIZE] = {0};
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, s->jobs);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Job *j = key;
    for (int c = 0; j->pinned && !j->done && c < CPU_SETSIZE; c++)
      users[c] += CPU_ISSET(c, &j->cpus) ? 1 : 0;
  }
  CPU_ZERO(out);
  for (guint k = 0; k < n; k++) {
    int best = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &s->allowed) && !CPU_ISSET(c, out) && (best < 0 || users[c] < users[best]))
        best = c;
    CPU_SET(best, out);
  }
  return TRUE;
}

static gboolean have_gpu(void) {
  return g_file_test("/dev/nvidia0", G_FILE_TEST_EXISTS);
}

static void job_free(Job *j) {
  g_free(j->log_path);
  g_free(j);
}

/* The process's start time in clock ticks (field 22 of /proc/PID/stat):
 * with the pid, it names the process even after the pid is reused. */
static guint64 proc_start(pid_t pid, pid_t *ppid) {
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0;
  const char *p = strrchr(text, ')'); /* the command name may hold spaces */
  if (!p)
    return 0;
  g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
  if (g_strv_length(f) < 20)
    return 0;
  if (ppid)
    *ppid = (pid_t)g_ascii_strtoll(f[1], NULL, 10);
  return g_ascii_strtoull(f[19], NULL, 10);
}

static gpointer proc_submit(gpointer executor, const LatheTask *task, GError **error) {
  Session *s = executor;
  if (!task->argv || !task->argv[0]) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "task %s has no command", task->task_id);
    return NULL;
  }
  guint gpus = task->struct_size >= G_STRUCT_OFFSET(LatheTask, gpus) + sizeof task->gpus ? task->gpus : 0;
  if (gpus && !have_gpu()) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "task %s asks for resources.gpus = %u, and this machine has no GPU (no "
                "/dev/nvidia0); remove gpus, or run the node under executor/slurm", task->task_id, gpus);
    return NULL;
  }
  cpu_set_t cpus;
  if (task->cpus && !place_cpus(s, task->cpus, &cpus, task->task_id, error))
    return NULL;
  g_autofree char *visible = NULL;
  if (gpus) {
    GString *v = g_string_new("0");
    for (guint i = 1; i < gpus; i++)
      g_string_append_printf(v, ",%u", i);
    visible = g_string_free(v, FALSE);
  }
  int log = open(task->log_path ? task->log_path : "/dev/null",
                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot open the log %s: %s", task->log_path,
                g_strerror(errno));
    return NULL;
  }
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  /* Everything the child needs is made before vfork(): after it, only
   * system calls until exec or _exit (the host has threads, and the child
   * borrows this thread's memory). vfork, not fork: copying the host's page
   * tables for a process that execs at once was a tenth of a task's cost. */
  char **argv = g_strdupv((char **)task->argv);
  char **envp = g_get_environ();
  if (visible)
    envp = g_environ_setenv(envp, "CUDA_VISIBLE_DEVICES", visible, TRUE);
  struct rlimit as = {.rlim_cur = (rlim_t)task->memory_mb << 20, .rlim_max = (rlim_t)task->memory_mb << 20};
  pid_t parent = getpid();
  pid_t pid = vfork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before the line above */
      _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (task->memory_mb)
      setrlimit(RLIMIT_AS, &as);
    if (task->cpus)
      sched_setaffinity(0, sizeof cpus, &cpus);

    dup2(null, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    if (task->workdir && chdir(task->workdir) != 0) {
      static const char msg[] = "executor/process: cannot enter the working directory\n";
      if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(127);
      _exit(127);
    }
    execve(argv[0], argv, envp);
    static const char msg[] = "executor/process: cannot execute the task's command\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
      _exit(127);
    _exit(127);
  }
  int fork_errno = errno;
  g_strfreev(argv);
  g_strfreev(envp);
  close(log);
  if (null >= 0)
    close(null);
  if (pid < 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_RESOURCE, "cannot start a process for %s: %s",
                task->task_id, g_strerror(fork_errno));
    return NULL;
  }
  setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
  Job *j = g_new0(Job, 1);
  j->pid = pid;
  j->ours = TRUE;
  j->started = g_get_monotonic_time();
  j->time_limit_s = task->time_limit_s;
  j->memory_mb = task->memory_mb;
  j->log_path = g_strdup(task->log_path);
  j->pinned = task->cpus > 0;
  if (j->pinned)
    j->cpus = cpus;
  g_hash_table_add(s->jobs, j);
  return j;
}

/* Whether a failed task ran out of its memory: RLIMIT_AS makes allocation
 * fail, which a program reports in many ways (an abort, a segfault, an
 * error): its peak resident size near the limit, or its last words. */
static gboolean out_of_memory(Job *j) {
  if (!j->memory_mb)
    return FALSE;
  if (j->maxrss_kb > 0 && (guint64)j->maxrss_kb >= j->memory_mb * 1024 * 6 / 10)
    return TRUE;
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!j->log_path || !g_file_get_contents(j->log_path, &text, &len, NULL))
    return FALSE;
  const char *tail = len > 2048 ? text + len - 2048 : text;
  return strstr(tail, "failed to allocate") || strstr(tail, "out of memory") ||
         strstr(tail, "Cannot allocate memory") || strstr(tail, "bad_alloc") ||
         strstr(tail, "Out of memory");
}

static void finish(Job *j, int wstatus) {
  j->done = TRUE;
  j->wstatus = wstatus;
  gboolean exited = WIFEXITED(wstatus);
  j->status = exited ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  if (exited && j->status == 0)
    j->state = LATHE_TASK_SUCCEEDED;
  else if (j->timed_out)
    j->state = LATHE_TASK_TIMEOUT;
  else if (j->cancelled)
    j->state = LATHE_TASK_CANCELLED;
  else if (out_of_memory(j))
    j->state = LATHE_TASK_OUT_OF_MEMORY;
  else
    j->state = LATHE_TASK_FAILED;
}

static void stop(Job *j) {
  if (!j->term_at) {
    j->term_at = g_get_monotonic_time();
    killpg(j->pid, SIGTERM);
  } else if (!j->killed && g_get_monotonic_time() - j->term_at > KILL_GRACE_US) {
    j->killed = TRUE;
    killpg(j->pid, SIGKILL);
  }
}

static LatheTaskState proc_poll(gpointer executor, gpointer job, int *exit_status, GError **error) {
  Job *j = job;
  if (!j->done && !j->ours) {
    /* Attached: not our child, so no exit status; it lives or it is gone. */
    if (kill(j->pid, 0) == 0 || errno == EPERM) {
      if (j->cancelled)
        stop(j);
      return LATHE_TASK_RUNNING;
    }
    j->done = TRUE;
    j->state = j->cancelled ? LATHE_TASK_CANCELLED : LATHE_TASK_LOST;
  }
  if (!j->done) {
    int wstatus = 0;
    struct rusage ru = {0};
    /* Whatever the task started dies with it: the group is killed while
     * its leader is still an unreaped zombie, so that its id cannot have
     * gone to another process group (after the reap it could). */
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == j->pid)
      killpg(j->pid, SIGKILL);
    pid_t r = wait4(j->pid, &wstatus, WNOHANG, &ru);
    if (r == j->pid) {
      j->maxrss_kb = ru.ru_maxrss;
      finish(j, wstatus);
    } else if (r < 0 && errno != EINTR) {
      /* Reaped by someone else (a SIGCHLD handler of the host's): gone, and
       * its exit status with it. */
      j->done = TRUE;
      j->state = LATHE_TASK_LOST;
      j->status = -1;
    } else {
      if (j->time_limit_s && !j->cancelled &&
          g_get_monotonic_time() - j->started > (gint64)j->time_limit_s * G_USEC_PER_SEC) {
        j->timed_out = TRUE;
        stop(j);
      } else if (j->timed_out || j->cancelled) {
        stop(j);
      }
      return LATHE_TASK_RUNNING;
    }
  }
  if (exit_status)
    *exit_status = j->status;
  return j->state;
}

static gboolean proc_cancel(gpointer executor, gpointer job, GError **error) {
  Job *j = job;
  if (j->done)
    return TRUE;
  j->cancelled = TRUE;
  stop(j);
  return TRUE;
}

/* Stops and reaps a job that is still running. */
static void kill_now(Job *j) {
  if (j->done)
    return;
  killpg(j->pid, SIGKILL);
  if (j->ours) {
    int wstatus;
    while (waitpid(j->pid, &wstatus, 0) < 0 && errno == EINTR)
      ;
  }
  j->done = TRUE;
}

static void proc_release(gpointer executor, gpointer job) {
  Session *s = executor;
  Job *j = job;
  kill_now(j);
  g_hash_table_remove(s->jobs, j);
  job_free(j);
}

static void proc_close(gpointer executor) {
  Session *s = executor;
  GHashTableIter it;
  gpointer j;
  g_hash_table_iter_init(&it, s->jobs);
  while (g_hash_table_iter_next(&it, &j, NULL)) {
    kill_now(j);
    job_free(j);
  }
  g_hash_table_unref(s->jobs);
  g_free(s);
}

static char *proc_describe(gpointer executor, gpointer job) {
  Job *j = job;
  if (!j->done)
    return g_strdup("running");
  switch (j->state) {
  case LATHE_TASK_SUCCEEDED:
    return g_strdup("succeeded");
  case LATHE_TASK_TIMEOUT:
    return g_strdup_printf("timed out after %u s", j->time_limit_s);
  case LATHE_TASK_OUT_OF_MEMORY:
    return g_strdup_printf("exceeded memory %" G_GUINT64_FORMAT " MiB", j->memory_mb);
  case LATHE_TASK_CANCELLED:
    return g_strdup("cancelled");
  case LATHE_TASK_LOST:
    return g_strdup_printf("process %d vanished", (int)j->pid);
  default:
    break;
  }
  if (WIFSIGNALED(j->wstatus)) {
    int sig = WTERMSIG(j->wstatus);
    const char *abbrev = sigabbrev_np(sig);
    if (sig == SIGABRT)
      return g_strdup("aborted (SIGABRT)");
    return abbrev ? g_strdup_printf("killed by SIG%s", abbrev) : g_strdup_printf("killed by signal %d", sig);
  }
  return g_strdup_printf("exited with status %d", j->status);
}

static char *proc_job_ref(gpointer executor, gpointer job) {
  Job *j = job;
  return g_strdup_printf("%d:%" G_GUINT64_FORMAT, (int)j->pid, proc_start(j->pid, NULL));
}

/* Only a child of this very process can be watched to its end (its exit
 * status is its parent's alone): a job of a host that died is refused, and
 * was killed with it anyway (PR_SET_PDEATHSIG). */
static gpointer proc_attach(gpointer executor, const char *ref, GError **error) {
  Session *s = executor;
  char *end = NULL;
  gint64 pid = g_ascii_strtoll(ref, &end, 10);
  guint64 start = end && *end == ':' ? g_ascii_strtoull(end + 1, NULL, 10) : 0;
  pid_t ppid = 0;
  if (pid <= 0 || proc_start((pid_t)pid, &ppid) != start || !start) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "process %s is gone", ref);
    return NULL;
  }
  if (ppid != getpid()) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "process %s is not a child of this process; it cannot be watched", ref);
    return NULL;
  }
  Job *j = g_new0(Job, 1);
  j->pid = (pid_t)pid;
  j->ours = TRUE;
  j->started = g_get_monotonic_time();
  g_hash_table_add(s->jobs, j);
  return j;
}

static const LatheExecutorClass process_executor = {
    LATHE_COMPONENT_INIT(LatheExecutorClass, LATHE_KIND_EXECUTOR, "process",
                         "each node in a child process: crashes, memory and time limits stay its own",
                         NULL, NULL, NULL),
    .open = proc_open,
    .submit = proc_submit,
    .poll = proc_poll,
    .cancel = proc_cancel,
    .release = proc_release,
    .close = proc_close,
    .describe = proc_describe,
    .job_ref = proc_job_ref,
    .attach = proc_attach,
};

LATHE_PLUGIN_DEFINE("executor-process", "0.1.0", "MIT",
                    "runs nodes in child processes, with memory and time limits",
                    LATHE_COMPONENT(process_executor))
