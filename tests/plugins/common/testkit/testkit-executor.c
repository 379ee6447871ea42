/* executor/fake: a test executor for the host's side of issue 15. It runs
 * each task as a plain child (g_spawn), and misbehaves on request the way a
 * cluster does: poll cannot tell the state for a while (a controller down:
 * LATHE_ERROR_UNAVAILABLE), or the job is lost. The host must wait out the
 * first within LATHE_EXECUTOR_GRACE_S, and retry the second as "lost"; an
 * executor that cannot open fails the nodes it was to run, and only them. */
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

typedef struct {
  double unavailable; /* seconds after submit during which poll cannot tell */
  gboolean lose;      /* the first job of each node attempt 1 is lost */
} Fake;

typedef struct {
  GPid pid;
  gint64 submitted;
  gboolean done, lost;
  int status;
} FakeJob;

static gpointer fake_open(LatheContext *ctx, GError **error) {
  if (lathe_context_param_bool(ctx, "refuse")) {
    /* Named, as plugins name themselves: the host must not name it again. */
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "executor/fake: the fake cluster refuses this run");
    return NULL;
  }
  Fake *f = g_new0(Fake, 1);
  f->unavailable = lathe_context_param_float(ctx, "unavailable");
  f->lose = lathe_context_param_bool(ctx, "lose");
  return f;
}

static void to_log(gpointer path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
}

static gpointer fake_submit(gpointer data, const LatheTask *task, GError **error) {
  Fake *f = data;
  FakeJob *j = g_new0(FakeJob, 1);
  j->submitted = g_get_monotonic_time();
  /* A lost job never starts: the first attempt of each node ("/1" ends its id). */
  if (f->lose && g_str_has_suffix(task->task_id, "/1")) {
    j->lost = TRUE;
    return j;
  }
  if (!g_spawn_async(task->workdir, (char **)task->argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                     to_log, (gpointer)task->log_path, &j->pid, error)) {
    g_free(j);
    return NULL;
  }
  return j;
}

static LatheTaskState fake_poll(gpointer data, gpointer job, int *status, GError **error) {
  Fake *f = data;
  FakeJob *j = job;
  if (g_get_monotonic_time() - j->submitted < (gint64)(f->unavailable * G_USEC_PER_SEC)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE, "the fake controller is down");
    return LATHE_TASK_RUNNING;
  }
  if (j->lost)
    return LATHE_TASK_LOST;
  if (!j->done) {
    int ws;
    if (waitpid(j->pid, &ws, WNOHANG) != j->pid)
      return LATHE_TASK_RUNNING;
    j->done = TRUE;
    j->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  }
  *status = j->status;
  return j->status == 0 ? LATHE_TASK_SUCCEEDED : LATHE_TASK_FAILED;
}

static gboolean fake_cancel(gpointer data, gpointer job, GError **error) {
  FakeJob *j = job;
  if (j->pid && !j->done)
    kill(j->pid, SIGKILL);
  return TRUE;
}

static void fake_release(gpointer data, gpointer job) {
  FakeJob *j = job;
  if (j->pid && !j->done) {
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
  }
  g_free(j);
}

static void fake_close(gpointer data) { g_free(data); }

static const LatheParamSpec fake_params[] = {
    LATHE_PARAM_FLOAT_("unavailable", "0", 0, 3600, 0,
                       "seconds after each submit during which poll answers UNAVAILABLE"),
    LATHE_PARAM_BOOL_("lose", "false", "lose every node's first attempt"),
    LATHE_PARAM_BOOL_("refuse", "false", "fail to open (as with sbatch missing)"),
    LATHE_PARAM_END};

const LatheExecutorClass lathe_testkit_fake_executor = {
    LATHE_COMPONENT_INIT(LatheExecutorClass, LATHE_KIND_EXECUTOR, "fake",
                         "runs tasks as children, and can be unreachable or lose jobs (tests)",
                         fake_params, NULL, NULL),
    .open = fake_open,
    .submit = fake_submit,
    .poll = fake_poll,
    .cancel = fake_cancel,
    .release = fake_release,
    .close = fake_close,
};
