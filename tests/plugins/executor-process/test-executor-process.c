/* executor/process through its ABI, on plain shell commands: the state and
 * the words for each way a task ends (exit, signal, abort, wall time,
 * memory), cancel, the process group, the log, and job_ref/attach (its own
 * children only). */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

static const LatheExecutorClass *klass(void) {
  return (const LatheExecutorClass *)lathe_test_component("executor-process", "executor/process");
}

typedef struct {
  char *dir;
  LatheContext *ctx;
  gpointer ex;
} Fixture;

static void setup(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  fx->dir = g_dir_make_tmp("lathe-exp-XXXXXX", &error);
  g_assert_no_error(error);
  fx->ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "executor", "{}", 1);
  fx->ex = klass()->open(fx->ctx, &error);
  g_assert_no_error(error);
}

static void teardown(Fixture *fx, gconstpointer data) {
  klass()->close(fx->ex);
  lathe_context_free(fx->ctx);
  lathe_test_remove_tree(fx->dir);
  g_free(fx->dir);
}

/* Runs `sh -c SCRIPT` with the limits; returns the job once ended, its
 * state in *@state. */
static gpointer run_sh(Fixture *fx, const char *script, guint64 memory_mb, guint time_s,
                       LatheTaskState *state, int *status, char **log) {
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  g_autofree char *log_path = g_build_filename(fx->dir, "task.log", NULL);
  g_unlink(log_path);
  LatheTask task = {.struct_size = sizeof(LatheTask), .task_id = "r/n/1", .argv = argv,
                    .workdir = fx->dir, .log_path = log_path, .cpus = 1, .memory_mb = memory_mb,
                    .time_limit_s = time_s, .job_name = "lathe-r-n"};
  g_autoptr(GError) error = NULL;
  gpointer job = klass()->submit(fx->ex, &task, &error);
  g_assert_no_error(error);
  g_assert_nonnull(job);
  gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  do {
    *state = klass()->poll(fx->ex, job, status, &error);
    g_assert_no_error(error);
    if (*state != LATHE_TASK_RUNNING && *state != LATHE_TASK_PENDING)
      break;
    g_usleep(5000);
  } while (g_get_monotonic_time() < end);
  if (log)
    g_file_get_contents(log_path, log, NULL, NULL);
  return job;
}

static void expect(Fixture *fx, const char *script, guint64 mem, guint time_s, LatheTaskState want,
                   const char *words, const char *in_log) {
  LatheTaskState st;
  int status = -1;
  g_autofree char *log = NULL;
  gpointer job = run_sh(fx, script, mem, time_s, &st, &status, &log);
  g_autofree char *said = klass()->describe(fx->ex, job);
  g_test_message("%s -> %d, '%s'", script, st, said);
  g_assert_cmpint(st, ==, want);
  g_assert_cmpstr(said, ==, words);
  if (in_log)
    g_assert_nonnull(strstr(log ? log : "", in_log));
  klass()->release(fx->ex, job);
}

static void test_outcomes(Fixture *fx, gconstpointer data) {
  expect(fx, "echo out; echo err >&2; exit 0", 0, 0, LATHE_TASK_SUCCEEDED, "succeeded", "err");
  expect(fx, "echo about to fail >&2; exit 3", 0, 0, LATHE_TASK_FAILED, "exited with status 3",
         "about to fail");
  expect(fx, "kill -SEGV $$", 0, 0, LATHE_TASK_FAILED, "killed by SIGSEGV", NULL);
  expect(fx, "kill -ABRT $$", 0, 0, LATHE_TASK_FAILED, "aborted (SIGABRT)", NULL);
  expect(fx, "kill -KILL $$", 0, 0, LATHE_TASK_FAILED, "killed by SIGKILL", NULL);
  /* The working directory is the task's. */
  g_autofree char *cd = g_strdup_printf("test \"$(pwd -P)\" = \"%s\"", fx->dir);
  expect(fx, cd, 0, 0, LATHE_TASK_SUCCEEDED, "succeeded", NULL);
}

static void test_time_limit(Fixture *fx, gconstpointer data) {
  gint64 t0 = g_get_monotonic_time();
  /* The shell ignores SIGTERM: SIGKILL follows 2 s later. */
  expect(fx, "trap '' TERM; while :; do sleep 0.05; done", 0, 1, LATHE_TASK_TIMEOUT,
         "timed out after 1 s", NULL);
  double s = (g_get_monotonic_time() - t0) / 1e6;
  g_assert_cmpfloat(s, >=, 1.0);
  g_assert_cmpfloat(s, <, 10.0);
}

static void test_memory_limit(Fixture *fx, gconstpointer data) {
  /* A shell string doubling until the address space runs out. */
  expect(fx, "x=xxxxxxxxxxxxxxxx; while :; do x=$x$x; done", 64, 0, LATHE_TASK_OUT_OF_MEMORY,
         "exceeded memory 64 MiB", NULL);
}

/* Cancel stops the whole process group, grandchildren included. */
static void test_cancel_group(Fixture *fx, gconstpointer data) {
  g_autofree char *pidfile = g_build_filename(fx->dir, "grandchild.pid", NULL);
  g_autofree char *script = g_strdup_printf("sleep 60 & echo $! > '%s'; wait", pidfile);
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  LatheTask task = {.struct_size = sizeof(LatheTask), .task_id = "r/n/1", .argv = argv,
                    .workdir = fx->dir, .log_path = "/dev/null"};
  g_autoptr(GError) error = NULL;
  gpointer job = klass()->submit(fx->ex, &task, &error);
  g_assert_no_error(error);
  g_autofree char *text = NULL;
  for (int i = 0; i < 500 && !(text && *text); i++) {
    g_usleep(10000);
    g_clear_pointer(&text, g_free);
    g_file_get_contents(pidfile, &text, NULL, NULL);
  }
  g_assert_nonnull(text);
  pid_t grandchild = (pid_t)g_ascii_strtoll(text, NULL, 10);
  g_assert_cmpint(kill(grandchild, 0), ==, 0);
  int status;
  g_assert_cmpint(klass()->poll(fx->ex, job, &status, &error), ==, LATHE_TASK_RUNNING);
  g_assert_true(klass()->cancel(fx->ex, job, &error));
  LatheTaskState st = LATHE_TASK_RUNNING;
  for (int i = 0; i < 1000 && st == LATHE_TASK_RUNNING; i++) {
    g_usleep(5000);
    st = klass()->poll(fx->ex, job, &status, &error);
  }
  g_assert_cmpint(st, ==, LATHE_TASK_CANCELLED);
  g_autofree char *said = klass()->describe(fx->ex, job);
  g_assert_cmpstr(said, ==, "cancelled");
  klass()->release(fx->ex, job);
  /* sleep is not our child: once killed it is reaped by init; wait for it. */
  gboolean gone = FALSE;
  for (int i = 0; i < 200 && !gone; i++) {
    g_autofree char *stat = g_strdup_printf("/proc/%d/stat", (int)grandchild);
    g_autofree char *st_text = NULL;
    gone = !g_file_get_contents(stat, &st_text, NULL, NULL) || strstr(st_text, ") Z ");
    if (!gone)
      g_usleep(10000);
  }
  g_assert_true(gone);
}

static void test_attach(Fixture *fx, gconstpointer data) {
  const char *argv[] = {"/bin/sh", "-c", "sleep 60", NULL};
  LatheTask task = {.struct_size = sizeof(LatheTask), .task_id = "r/n/1", .argv = argv,
                    .workdir = fx->dir, .log_path = "/dev/null"};
  g_autoptr(GError) error = NULL;
  gpointer job = klass()->submit(fx->ex, &task, &error);
  g_assert_no_error(error);
  g_autofree char *ref = klass()->job_ref(fx->ex, job);
  g_assert_nonnull(strchr(ref, ':'));
  /* Our own child: attached, and cancelled through the new handle. */
  gpointer again = klass()->attach(fx->ex, ref, &error);
  g_assert_no_error(error);
  g_assert_nonnull(again);
  g_assert_true(klass()->cancel(fx->ex, again, &error));
  int status;
  LatheTaskState st = LATHE_TASK_RUNNING;
  for (int i = 0; i < 1000 && st == LATHE_TASK_RUNNING; i++) {
    g_usleep(5000);
    st = klass()->poll(fx->ex, again, &status, &error);
  }
  g_assert_cmpint(st, ==, LATHE_TASK_CANCELLED);
  klass()->release(fx->ex, again);
  klass()->release(fx->ex, job);
  /* Gone now, and a pid that is not ours (init), are refused. */
  gpointer none = klass()->attach(fx->ex, ref, &error);
  g_assert_null(none);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_clear_error(&error);
  g_autofree char *stat = NULL;
  g_file_get_contents("/proc/1/stat", &stat, NULL, NULL);
  g_auto(GStrv) f = g_strsplit(strrchr(stat, ')') + 2, " ", 0);
  g_autofree char *init_ref = g_strdup_printf("1:%s", f[19]);
  none = klass()->attach(fx->ex, init_ref, &error);
  g_assert_null(none);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "not a child"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/executor-process/outcomes", Fixture, NULL, setup, test_outcomes, teardown);
  g_test_add("/executor-process/time-limit", Fixture, NULL, setup, test_time_limit, teardown);
  g_test_add("/executor-process/memory-limit", Fixture, NULL, setup, test_memory_limit, teardown);
  g_test_add("/executor-process/cancel-group", Fixture, NULL, setup, test_cancel_group, teardown);
  g_test_add("/executor-process/attach", Fixture, NULL, setup, test_attach, teardown);
  return g_test_run();
}
