/* executor/process: each task in a child process of the host (issue 15).
 *
 * The child is the task's argv (`lathe exec-task FILE`) in a process group
 * of its own, so that stopping it stops whatever it started; it dies with
 * the thread that started it (PR_SET_PDEATHSIG), so a host killed outright
 * leaves no orphan. Memory is limited by RLIMIT_AS, wall time by this
 * plugin (SIGTERM, then SIGKILL after a grace), and stdout and stderr go to
 * the task's log file, whose tail the host keeps in the store on a failure.
 *
 * By default ("spawn": "server") the children come from a fork server the
 * plugin starts once per session: for a task whose argv is the host's
 * `PROGRAM exec-task FILE`, `PROGRAM exec-task --server`, which speaks the
 * line protocol of core/engine/exec-server.c and forks a child per task
 * with the same process group, parent-death signal and limits. It saves
 * each task the program's start (dynamic linking, the plugin index). The
 * server is not a thread's child: it ends when its pipe closes, which a
 * host killed outright also does. If it cannot start, or with "spawn":
 * "exec", each task is started here (vfork and exec).
 *
 * A task that asks for N cpus is pinned to the N allowed CPUs that its
 * running siblings use least, as a scheduler would place it; one that asks
 * for GPUs sees that many through CUDA_VISIBLE_DEVICES, and is refused on a
 * machine with none. Such a task is started here, not by the server.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

/* How long a task told to stop (SIGTERM) has before SIGKILL. */
#define KILL_GRACE_US (2 * G_USEC_PER_SEC)
/* How long the fork server has to say READY (a sanitized build is slow). */
#define SERVER_START_MS 20000

static const char *const spawn_choices[] = {"server", "exec", NULL};
static const LatheParamSpec process_params[] = {
    LATHE_PARAM_ENUM_("spawn", "\"server\"", spawn_choices,
                      "server: tasks are forked by a helper process started once per run "
                      "(`lathe exec-task --server`); exec: each task is fork+exec'd"),
    LATHE_PARAM_END,
};

typedef struct {
  pid_t pid;            /* also its process group */
  gboolean ours;        /* our child (else attached: poll can only see it live or gone) */
  gboolean served;      /* the fork server's child: its end comes over the pipe */
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
  GMutex lock;      /* the server's pipe and the jobs it ends */
  gboolean use_server, server_tried;
  pid_t server;     /* 0: none */
  int sock;         /* the server's fd 0 and 1, here; -1: none */
  GString *in;      /* what the server said, not yet a whole line */
} Session;

static gpointer proc_open(LatheContext *ctx, GError **error) {
  Session *s = g_new0(Session, 1);
  s->jobs = g_hash_table_new(NULL, NULL);
  if (sched_getaffinity(0, sizeof s->allowed, &s->allowed) != 0) {
    CPU_ZERO(&s->allowed);
    for (long i = 0, n = sysconf(_SC_NPROCESSORS_ONLN); i < n && i < CPU_SETSIZE; i++)
      CPU_SET((int)i, &s->allowed);
  }
  g_mutex_init(&s->lock);
  s->use_server = g_strcmp0(lathe_context_param_string(ctx, "spawn"), "exec") != 0;
  s->sock = -1;
  s->in = g_string_new(NULL);
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

static void finish(Job *j, int wstatus);

static void server_stop(Session *s) {
  if (s->sock >= 0)
    close(s->sock); /* the server stops its children and exits */
  s->sock = -1;
  if (s->server > 0) {
    int wstatus;
    while (waitpid(s->server, &wstatus, 0) < 0 && errno == EINTR)
      ;
  }
  s->server = 0;
}

/* The server is gone: what it ran cannot be watched to its end. */
static void server_lost(Session *s) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, s->jobs);
  while (g_hash_table_iter_next(&it, &k, NULL)) {
    Job *j = k;
    if (j->served && !j->done) {
      killpg(j->pid, SIGKILL);
      j->done = TRUE;
      j->state = j->cancelled ? LATHE_TASK_CANCELLED : LATHE_TASK_LOST;
      j->status = -1;
    }
  }
  server_stop(s);
}

/* Reads what the server said, waiting up to @timeout_ms (-1: for ever) for
 * a line other than EXIT, which it returns; EXIT lines end their jobs. NULL
 * on a timeout, or when the server is gone (then s->sock is -1). */
static char *server_read(Session *s, int timeout_ms) {
  gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    char *nl;
    while ((nl = memchr(s->in->str, '\n', s->in->len))) {
      char *line = g_strndup(s->in->str, (gsize)(nl - s->in->str));
      g_string_erase(s->in, 0, nl - s->in->str + 1);
      if (!g_str_has_prefix(line, "EXIT\t"))
        return line;
      g_auto(GStrv) f = g_strsplit(line, "\t", 0);
      g_free(line);
      pid_t pid = g_strv_length(f) == 4 ? (pid_t)g_ascii_strtoll(f[1], NULL, 10) : 0;
      GHashTableIter it;
      gpointer k;
      g_hash_table_iter_init(&it, s->jobs);
      while (g_hash_table_iter_next(&it, &k, NULL)) {
        Job *j = k;
        if (j->served && !j->done && j->pid == pid) {
          j->maxrss_kb = g_ascii_strtoll(f[3], NULL, 10);
          finish(j, (int)g_ascii_strtoll(f[2], NULL, 10));
        }
      }
    }
    if (s->sock < 0)
      return NULL;
    int wait_ms = 0;
    if (deadline >= 0) {
      gint64 left = deadline - g_get_monotonic_time();
      wait_ms = left > 0 ? (int)((left + 999) / 1000) : 0;
    } else {
      wait_ms = -1;
    }
    struct pollfd p = {.fd = s->sock, .events = POLLIN};
    int r = poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      return NULL;
    char buf[4096];
    gssize n = r > 0 ? read(s->sock, buf, sizeof buf) : -1;
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      server_lost(s);
      return NULL;
    }
    g_string_append_len(s->in, buf, n);
  }
}

/* Starts the fork server: @argv without its last element (the task file),
 * plus "--server". FALSE when it does not say READY in time. */
static gboolean server_start(Session *s, const char *const *argv) {
  guint n = g_strv_length((char **)argv);
  if (n < 2)
    return FALSE;
  char **sargv = g_new0(char *, n + 1);
  for (guint i = 0; i + 1 < n; i++)
    sargv[i] = g_strdup(argv[i]);
  sargv[n - 1] = g_strdup("--server");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    g_strfreev(sargv);
    return FALSE;
  }
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(sv[1], STDIN_FILENO); /* dup2 clears close-on-exec on the copies */
    dup2(sv[1], STDOUT_FILENO);
    execv(sargv[0], sargv);
    _exit(127);
  }
  g_strfreev(sargv);
  if (null >= 0)
    close(null);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return FALSE;
  }
  s->server = pid;
  s->sock = sv[0];
  g_autofree char *ready = server_read(s, SERVER_START_MS);
  if (g_strcmp0(ready, "READY") != 0) {
    if (s->server)
      kill(s->server, SIGKILL);
    server_stop(s);
    return FALSE;
  }
  return TRUE;
}

/* The task in a child of the fork server: its pid, or 0 (then the caller
 * fork+execs it). */
static pid_t server_submit(Session *s, const LatheTask *task) {
  /* Only the host's own task command has a server form: `PROGRAM exec-task
   * FILE`; anything else is fork+exec'd as given. */
  guint n = g_strv_length((char **)task->argv);
  if (n != 3 || g_strcmp0(task->argv[1], "exec-task") != 0)
    return 0;
  if (!s->server_tried) {
    s->server_tried = TRUE;
    s->use_server = server_start(s, task->argv);
  }
  if (!s->use_server || s->sock < 0)
    return 0;
  const char *file = task->argv[n - 1];
  const char *workdir = task->workdir && *task->workdir ? task->workdir : "-";
  const char *log = task->log_path ? task->log_path : "/dev/null";
  if (strpbrk(file, "\t\n") || strpbrk(workdir, "\t\n") || strpbrk(log, "\t\n"))
    return 0; /* the protocol splits on these */
  g_autofree char *req = g_strdup_printf("RUN\t%" G_GUINT64_FORMAT "\t%s\t%s\t%s\n",
                                         task->memory_mb, workdir, log, file);
  gsize len = strlen(req), off = 0;
  while (off < len) {
    gssize w = send(s->sock, req + off, len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      server_lost(s);
      return 0;
    }
    off += (gsize)w;
  }
  g_autofree char *answer = server_read(s, -1);
  if (!answer || !g_str_has_prefix(answer, "PID\t"))
    return 0; /* ERR: the server could not fork; a fork here may */
  return (pid_t)g_ascii_strtoll(answer + 4, NULL, 10);
}

static Job *job_new(Session *s, const LatheTask *task, pid_t pid) {
  Job *j = g_new0(Job, 1);
  j->pid = pid;
  j->ours = TRUE;
  j->started = g_get_monotonic_time();
  j->time_limit_s = task->time_limit_s;
  j->memory_mb = task->memory_mb;
  j->log_path = g_strdup(task->log_path);
  g_hash_table_add(s->jobs, j);
  return j;
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
  if (s->use_server && !task->cpus && !gpus) {
    g_mutex_lock(&s->lock);
    pid_t pid = server_submit(s, task);
    Job *j = pid > 0 ? job_new(s, task, pid) : NULL;
    if (j)
      j->served = TRUE;
    g_mutex_unlock(&s->lock);
    if (j)
      return j;
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
  g_mutex_lock(&s->lock);
  Job *j = job_new(s, task, pid);
  j->pinned = task->cpus > 0;
  if (j->pinned)
    j->cpus = cpus;
  g_mutex_unlock(&s->lock);
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

/* A job of the fork server: its end comes as a line on the pipe; the wall
 * time is kept here, as for a child of ours. */
static void poll_served(Session *s, Job *j) {
  g_mutex_lock(&s->lock);
  g_free(server_read(s, 0));
  g_mutex_unlock(&s->lock);
  if (j->done)
    return;
  if (j->time_limit_s && !j->cancelled &&
      g_get_monotonic_time() - j->started > (gint64)j->time_limit_s * G_USEC_PER_SEC) {
    j->timed_out = TRUE;
    stop(j);
  } else if (j->timed_out || j->cancelled) {
    stop(j);
  }
}

static LatheTaskState proc_poll(gpointer executor, gpointer job, int *exit_status, GError **error) {
  Job *j = job;
  if (!j->done && j->served) {
    poll_served(executor, j);
    if (!j->done)
      return LATHE_TASK_RUNNING;
  }
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
  if (j->ours && !j->served) { /* the server reaps its own */
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
  g_mutex_lock(&s->lock);
  g_hash_table_remove(s->jobs, j);
  g_mutex_unlock(&s->lock);
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
  server_stop(s);
  g_hash_table_unref(s->jobs);
  g_string_free(s->in, TRUE);
  g_mutex_clear(&s->lock);
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
                         process_params, NULL, NULL),
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
