/* test-executor-slurm.c: executor/slurm through its ABI against a real
 * one-node Slurm cluster (tests/slurm/slurm-cluster.sh, started here; the
 * test skips when it cannot start). /executor-slurm/fast/ is the plugins
 * suite; /executor-slurm/slow/ (a time limit, the controller away for 20 s)
 * the slow suite. */
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

static char *cluster_script; /* tests/slurm/slurm-cluster.sh */
static char *work;           /* a fresh folder: workdirs and logs */

static const LatheExecutorClass *klass(void) {
  return (const LatheExecutorClass *)lathe_test_component("executor-slurm", "executor/slurm");
}

typedef struct {
  LatheContext *ctx;
  gpointer ex;
} Session;

/* Opens a session with @params (probe off unless they say otherwise, so that
 * each test does not pay for a probe job). */
static gboolean session_open(Session *s, const char *params, GError **error) {
  g_autofree char *json = g_strdup_printf("{\"probe\": false%s%s}", params ? ", " : "",
                                          params ? params : "");
  s->ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "executor", json, 1);
  lathe_context_set_dirs(s->ctx, work, work, NULL);
  s->ex = klass()->open(s->ctx, error);
  return s->ex != NULL;
}

static void session_close(Session *s) {
  if (s->ex)
    klass()->close(s->ex);
  g_clear_pointer(&s->ctx, lathe_context_free);
  s->ex = NULL;
}

/* This process's jobs: "lathe-test-PID-": a queue may hold jobs of another
 * run of these tests that was killed (the cluster keeps its state). */
static const char *job_prefix(void) {
  static char prefix[64];
  if (!prefix[0])
    g_snprintf(prefix, sizeof prefix, "lathe-test-%d-", (int)getpid());
  return prefix;
}

static gpointer submit_full(Session *s, const char *name, const char *shell, guint64 mem_mb,
                            guint time_s, const char *partition, GError **error) {
  const char *argv[] = {"sh", "-c", shell, NULL};
  g_autofree char *dir = g_build_filename(work, name, NULL);
  g_mkdir_with_parents(dir, 0755);
  g_autofree char *log = g_build_filename(dir, "task.log", NULL);
  g_autofree char *id = g_strdup_printf("run1/%s/1", name);
  g_autofree char *job_name = g_strdup_printf("%s%s", job_prefix(), name);
  LatheTask task = {.struct_size = sizeof(LatheTask),
                    .task_id = id,
                    .argv = argv,
                    .workdir = dir,
                    .log_path = log,
                    .cpus = 1,
                    .memory_mb = mem_mb,
                    .time_limit_s = time_s,
                    .job_name = job_name,
                    .partition = partition};
  return klass()->submit(s->ex, &task, error);
}

static gpointer submit(Session *s, const char *name, const char *shell, guint64 mem_mb) {
  g_autoptr(GError) error = NULL;
  gpointer job = submit_full(s, name, shell, mem_mb ? mem_mb : 128, 0, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(job);
  return job;
}

static char *task_log(const char *name) {
  g_autofree char *path = g_build_filename(work, name, "task.log", NULL);
  char *text = NULL;
  g_file_get_contents(path, &text, NULL, NULL);
  return text ? text : g_strdup("");
}

/* Polls until the job leaves PENDING/RUNNING (or reaches @until when set);
 * fails the test after @timeout_s. */
static LatheTaskState wait_job(Session *s, gpointer job, LatheTaskState until, guint timeout_s,
                               int *exit_status) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
  for (;;) {
    g_autoptr(GError) error = NULL;
    int st = -1;
    LatheTaskState state = klass()->poll(s->ex, job, &st, &error);
    g_assert_no_error(error);
    if (until ? state == until : (state != LATHE_TASK_PENDING && state != LATHE_TASK_RUNNING)) {
      if (exit_status)
        *exit_status = st;
      return state;
    }
    if (g_get_monotonic_time() > end)
      g_error("job still %d after %u s", state, timeout_s);
    g_usleep(G_USEC_PER_SEC / 2);
  }
}

static char *describe(Session *s, gpointer job) {
  return klass()->describe(s->ex, job);
}

static void open_ok(Session *s, const char *params) {
  g_autoptr(GError) error = NULL;
  g_assert_true(session_open(s, params, &error));
  g_assert_no_error(error);
}

static void test_succeeds(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "ok", "echo \"hello from $SLURM_JOB_NAME\"; pwd", 0);
  int st = -1;
  g_assert_cmpint(wait_job(&s, job, 0, 60, &st), ==, LATHE_TASK_SUCCEEDED);
  g_assert_cmpint(st, ==, 0);
  g_autofree char *log = task_log("ok");
  g_autofree char *dir = g_build_filename(work, "ok", NULL);
  g_autofree char *hello = g_strdup_printf("hello from %sok", job_prefix());
  g_assert_nonnull(strstr(log, hello));
  g_assert_nonnull(strstr(log, dir)); /* --chdir: it ran in its workdir */
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "COMPLETED");
  g_autofree char *record = g_build_filename(work, "ok", "task.log.exit", NULL);
  g_autofree char *script = g_build_filename(work, "ok", "task.log.sbatch", NULL);
  g_assert_true(g_file_test(record, G_FILE_TEST_EXISTS));
  klass()->release(s.ex, job);
  /* Released once finished, its script and exit record go with it. */
  g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(script, G_FILE_TEST_EXISTS));
  session_close(&s);
}

/* argv reaches the job word for word: quotes, spaces and $ are not shell. */
static void test_quoting(void) {
  Session s = {0};
  open_ok(&s, NULL);
  const char *argv[] = {"printf", "[%s]\\n", "it's", "a b", "$HOME", "`id`", NULL};
  g_autofree char *quote_name = g_strdup_printf("%squote", job_prefix());
  g_autofree char *dir = g_build_filename(work, "quote", NULL);
  g_mkdir_with_parents(dir, 0755);
  g_autofree char *log = g_build_filename(dir, "task.log", NULL);
  LatheTask task = {.struct_size = sizeof(LatheTask), .task_id = "run1/quote/1",
                    .argv = argv, .workdir = dir, .log_path = log, .cpus = 1,
                    .memory_mb = 64, .job_name = quote_name};
  g_autoptr(GError) error = NULL;
  gpointer job = klass()->submit(s.ex, &task, &error);
  g_assert_no_error(error);
  g_assert_cmpint(wait_job(&s, job, 0, 60, NULL), ==, LATHE_TASK_SUCCEEDED);
  g_autofree char *text = task_log("quote");
  g_assert_cmpstr(text, ==, "[it's]\n[a b]\n[$HOME]\n[`id`]\n");
  klass()->release(s.ex, job);
  session_close(&s);
}

static void test_exit_3(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "exit3", "echo failing >&2; exit 3", 0);
  int st = -1;
  g_assert_cmpint(wait_job(&s, job, 0, 60, &st), ==, LATHE_TASK_FAILED);
  g_assert_cmpint(st, ==, 3);
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "FAILED: exited with status 3");
  klass()->release(s.ex, job);
  session_close(&s);
}

/* 400 MB held by tail (no newline in /dev/zero; blocked on a pipe nobody
 * reads) against --mem=64M:
 * jobacct_gather kills it, and the state says memory, not a plain failure. */
static void test_out_of_memory(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "oom", "head -c 400M /dev/zero | tail | sleep 60", 64);
  g_assert_cmpint(wait_job(&s, job, 0, 90, NULL), ==, LATHE_TASK_OUT_OF_MEMORY);
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "OUT_OF_MEMORY: exceeded memory 64 MiB");
  klass()->release(s.ex, job);
  session_close(&s);
}

static char *slurm_cmd(const char *const *argv) {
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
               &error);
  g_assert_no_error(error);
  return out;
}

static void test_outside_scancel(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "outside", "sleep 300", 0);
  wait_job(&s, job, LATHE_TASK_RUNNING, 60, NULL);
  g_autofree char *ref = klass()->job_ref(s.ex, job);
  const char *argv[] = {"scancel", ref, NULL};
  g_free(slurm_cmd(argv));
  g_assert_cmpint(wait_job(&s, job, 0, 60, NULL), ==, LATHE_TASK_CANCELLED);
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "CANCELLED by an outside scancel");
  klass()->release(s.ex, job);
  session_close(&s);
}

static void test_plugin_cancel(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "cancel", "sleep 300", 0);
  wait_job(&s, job, LATHE_TASK_RUNNING, 60, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->cancel(s.ex, job, &error));
  g_assert_no_error(error);
  g_assert_cmpint(wait_job(&s, job, 0, 60, NULL), ==, LATHE_TASK_CANCELLED);
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "CANCELLED by Lathe");
  klass()->release(s.ex, job);
  session_close(&s);
}

/* A second session (the host restarted) finds the job by its reference. */
static void test_attach(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer job = submit(&s, "attach", "sleep 3; exit 5", 0);
  g_autofree char *ref = klass()->job_ref(s.ex, job);
  g_assert_cmpuint(strspn(ref, "0123456789"), ==, strlen(ref));
  klass()->release(s.ex, job);
  session_close(&s);

  Session s2 = {0};
  open_ok(&s2, NULL);
  g_autoptr(GError) error = NULL;
  gpointer again = klass()->attach(s2.ex, ref, &error);
  g_assert_no_error(error);
  int st = -1;
  g_assert_cmpint(wait_job(&s2, again, 0, 60, &st), ==, LATHE_TASK_FAILED);
  g_assert_cmpint(st, ==, 5); /* read from the exit record, found through scontrol */
  g_autofree char *d = describe(&s2, again);
  g_assert_cmpstr(d, ==, "FAILED: exited with status 5");
  klass()->release(s2.ex, again);

  g_assert_null(klass()->attach(s2.ex, "999999", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "job 999999 is unknown to Slurm"));
  g_clear_error(&error);
  g_assert_null(klass()->attach(s2.ex, "12; rm -rf /", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  session_close(&s2);
}

static void assert_one_line(const GError *error, const char *needle) {
  g_assert_nonnull(error);
  if (!strstr(error->message, needle))
    g_error("'%s' not in: %s", needle, error->message);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_sbatch_missing(void) {
  Session s = {0};
  g_autoptr(GError) error = NULL;
  g_assert_false(session_open(&s, "\"bin_dir\": \"/nonexistent/slurm/bin\"", &error));
  assert_one_line(error, "sbatch not found in /nonexistent/slurm/bin (the bin_dir param)");
  session_close(&s);
  g_clear_error(&error);
  g_autofree char *path = g_strdup(g_getenv("PATH"));
  g_setenv("PATH", "/nonexistent", TRUE);
  gboolean opened = session_open(&s, NULL, &error);
  g_setenv("PATH", path, TRUE);
  g_assert_false(opened);
  g_assert_true(g_str_has_prefix(error->message, "executor/slurm"));
  assert_one_line(error, "sbatch not found in PATH: install slurm-client or "
                         "set the executor's bin_dir param");
  session_close(&s);
}

static void test_invalid_partition(void) {
  Session s = {0};
  open_ok(&s, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_null(submit_full(&s, "badpart", "true", 64, 0, "nosuch", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_autofree char *refused = g_strdup_printf("sbatch refused job %sbadpart: Invalid partition name "
                                             "specified (partition 'nosuch'", job_prefix());
  assert_one_line(error, refused);
  session_close(&s);
  g_clear_error(&error);
  /* The executor's own default, caught at open by the probe job. */
  g_assert_false(session_open(&s, "\"probe\": true, \"partition\": \"nosuch\"", &error));
  assert_one_line(error, "sbatch refused job lathe-probe: Invalid partition name");
  session_close(&s);
}

/* The other partition works, and a task's own partition wins over the
 * executor's default. */
static void test_other_partition(void) {
  Session s = {0};
  open_ok(&s, "\"partition\": \"nosuch\"");
  g_autoptr(GError) error = NULL;
  gpointer job = submit_full(&s, "other", "echo $SLURM_JOB_PARTITION", 64, 0, "other", &error);
  g_assert_no_error(error);
  g_assert_cmpint(wait_job(&s, job, 0, 60, NULL), ==, LATHE_TASK_SUCCEEDED);
  g_autofree char *log = task_log("other");
  g_assert_cmpstr(log, ==, "other\n");
  klass()->release(s.ex, job);
  session_close(&s);
}

static void test_probe_ok(void) {
  Session s = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(session_open(&s, "\"probe\": true", &error));
  g_assert_no_error(error);
  g_autoptr(GDir) d = g_dir_open(work, 0, NULL);
  for (const char *n; (n = g_dir_read_name(d));)
    g_assert_false(g_str_has_prefix(n, ".lathe-slurm-probe-")); /* cleaned up */
  session_close(&s);
}

/* A context holding only what the pipeline said, no defaults (as a host may
 * build it): open still works, with the spec's defaults (probe on), and
 * without a critical (G_DEBUG=fatal-criticals would abort). */
static void test_context_without_defaults(void) {
  g_autoptr(JsonObject) params = json_object_new();
  json_object_set_string_member(params, "partition", "other");
  LatheContext *ctx = lathe_context_new("executor/slurm", params, 0, NULL, NULL);
  lathe_context_set_dirs(ctx, work, work, NULL);
  g_autoptr(GError) error = NULL;
  gpointer ex = klass()->open(ctx, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ex);
  Session s = {.ctx = ctx, .ex = ex};
  gpointer job = submit_full(&s, "nodefaults", "echo $SLURM_JOB_PARTITION", 64, 0, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(wait_job(&s, job, 0, 60, NULL), ==, LATHE_TASK_SUCCEEDED);
  g_autofree char *log = task_log("nodefaults");
  g_assert_cmpstr(log, ==, "other\n");
  klass()->release(ex, job);
  session_close(&s);
}

/* A directory the compute node does not see, made real on one machine: this
 * process moves to its own mount namespace and mounts a tmpfs over the
 * folder, so the probe job (started by slurmd, outside it) writes to the
 * folder underneath, and its file never appears here. */
static void test_probe_not_shared(void) {
  g_autofree char *no_ns = g_build_filename(work, "no-mount-namespace", NULL);
  if (g_test_subprocess()) {
    g_autofree char *dir = g_build_filename(work, "private", NULL);
    g_mkdir_with_parents(dir, 0755);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, NULL) != 0) {
      g_file_set_contents(no_ns, "", 0, NULL);
      return;
    }
    Session s = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *params =
        g_strdup_printf("\"probe\": true, \"probe_dir\": \"%s\", \"probe_timeout\": 30", dir);
    g_assert_false(session_open(&s, params, &error));
    assert_one_line(error, "is not on a filesystem the compute nodes see");
    g_assert_nonnull(strstr(error->message, dir));
    g_printerr("PROBE-ERROR: %s\n", error->message);
    session_close(&s);
    return;
  }
  g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  if (g_file_test(no_ns, G_FILE_TEST_EXISTS)) {
    g_test_skip("no mount namespace here: cannot hide a folder from slurmd");
    return;
  }
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*PROBE-ERROR: executor/slurm*probe job*");
}

/* Slurm's squeue state word for a job, as text ("" when unknown). */
static char *squeue_word(const char *id) {
  const char *argv[] = {"squeue", "-h", "-j", id, "-t", "all", "-o", "%T", NULL};
  char *out = slurm_cmd(argv);
  return g_strstrip(out);
}

static void wait_slurm_done(const char *id) {
  for (int i = 0; i < 180; i++) {
    g_autofree char *w = squeue_word(id);
    if (*w && !g_str_equal(w, "PENDING") && !g_str_equal(w, "RUNNING") &&
        !g_str_equal(w, "COMPLETING") && !g_str_equal(w, "CONFIGURING"))
      return;
    g_usleep(G_USEC_PER_SEC / 2);
  }
  g_error("job %s did not finish", id);
}

/* A bin_dir whose squeue has forgotten every job and whose sacct has no
 * database, as on a cluster without accounting once MinJobAge has passed;
 * the other commands are the real ones. */
static char *forgetful_bin_dir(void) {
  char *dir = g_build_filename(work, "forgetful-bin", NULL);
  g_mkdir_with_parents(dir, 0755);
  const char *real[] = {"sbatch", "scancel", "scontrol"};
  for (guint i = 0; i < G_N_ELEMENTS(real); i++) {
    g_autofree char *target = g_find_program_in_path(real[i]);
    g_autofree char *link = g_build_filename(dir, real[i], NULL);
    g_assert_nonnull(target);
    g_unlink(link);
    g_assert_cmpint(symlink(target, link), ==, 0);
  }
  const char *stubs[][2] = {
      {"squeue", "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1"},
      {"sacct", "echo 'Slurm accounting storage is disabled' >&2; exit 1"}};
  for (guint i = 0; i < G_N_ELEMENTS(stubs); i++) {
    g_autofree char *path = g_build_filename(dir, stubs[i][0], NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", stubs[i][1]);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
  }
  return dir;
}

/* Real jobs, finished for real; then asked about through a session that
 * only has their exit records and logs: the states stay told apart. */
static void test_forgotten_jobs(void) {
  Session s = {0};
  open_ok(&s, NULL);
  gpointer oom = submit(&s, "f-oom", "head -c 400M /dev/zero | tail | sleep 60", 64);
  gpointer fail = submit(&s, "f-exit", "exit 4", 0);
  gpointer ok = submit(&s, "f-ok", "true", 0);
  gpointer outside = submit(&s, "f-outside", "sleep 300", 0);
  gpointer segv = submit(&s, "f-segv", "kill -SEGV $$", 0);
  /* The batch script itself killed: no exit record, nothing in the log. */
  gpointer gone = submit(&s, "f-gone", "kill -9 $PPID", 0);
  gpointer jobs[] = {oom, fail, ok, outside, segv, gone};
  wait_job(&s, outside, LATHE_TASK_RUNNING, 60, NULL);
  g_autofree char *oref = klass()->job_ref(s.ex, outside);
  const char *argv[] = {"scancel", oref, NULL};
  g_free(slurm_cmd(argv));
  for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
    g_autofree char *ref = klass()->job_ref(s.ex, jobs[i]);
    wait_slurm_done(ref);
  }
  g_autofree char *bin = forgetful_bin_dir();
  g_autofree char *params = g_strdup_printf("\"bin_dir\": \"%s\", \"poll_interval\": 0", bin);
  Session f = {0};
  open_ok(&f, params);
  const LatheTaskState want[] = {LATHE_TASK_OUT_OF_MEMORY, LATHE_TASK_FAILED,
                                 LATHE_TASK_SUCCEEDED, LATHE_TASK_CANCELLED, LATHE_TASK_FAILED,
                                 LATHE_TASK_LOST};
  const char *said[] = {"OUT_OF_MEMORY: exceeded memory 64 MiB", "FAILED: exited with status 4",
                        "COMPLETED", "CANCELLED by an outside scancel",
                        "FAILED: killed by SIGSEGV", NULL};
  for (guint i = 0; i < G_N_ELEMENTS(jobs); i++) {
    g_autoptr(GError) error = NULL;
    int st = -1;
    /* The handles came from the first session; the forgetful one polls them. */
    g_assert_cmpint(klass()->poll(f.ex, jobs[i], &st, &error), ==, want[i]);
    g_assert_no_error(error);
    g_autofree char *d = describe(&f, jobs[i]);
    g_autofree char *ref = klass()->job_ref(s.ex, jobs[i]);
    g_autofree char *vanished = g_strdup_printf("job %s vanished from Slurm without an exit "
                                                "record", ref);
    g_assert_cmpstr(d, ==, said[i] ? said[i] : vanished);
    if (jobs[i] == fail)
      g_assert_cmpint(st, ==, 4);
    klass()->release(s.ex, jobs[i]);
  }
  /* And attach refuses what it cannot find anywhere. */
  g_autoptr(GError) error = NULL;
  g_assert_null(klass()->attach(f.ex, oref, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  session_close(&f);
  session_close(&s);
}

/* Last: no job of these tests is left queued or running. */
static void test_queue_empty(void) {
  const char *argv[] = {"squeue", "-h", "-o", "%j %T", NULL};
  g_autofree char *out = NULL;
  for (int i = 0; i < 20; i++) {
    g_free(out);
    out = slurm_cmd(argv);
    if (!strstr(out, job_prefix()))
      break;
    g_usleep(G_USEC_PER_SEC / 2); /* a cancelled job may still be COMPLETING */
  }
  g_assert_null(strstr(out, job_prefix()));
}

/* --- slow: a time limit, and the controller away ------------------------- */

static void test_timeout(void) {
  Session s = {0};
  open_ok(&s, NULL);
  g_autoptr(GError) error = NULL;
  /* 20 s asked, so --time=1: Slurm counts whole minutes. */
  gpointer job = submit_full(&s, "timeout", "sleep 600", 64, 20, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(wait_job(&s, job, 0, 180, NULL), ==, LATHE_TASK_TIMEOUT);
  g_autofree char *d = describe(&s, job);
  g_assert_cmpstr(d, ==, "TIMEOUT: timed out after 20 s (Slurm's limit rounds up to whole "
                         "minutes)");
  klass()->release(s.ex, job);
  session_close(&s);
}

static int cluster(const char *what) {
  const char *argv[] = {cluster_script, what, NULL};
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
               &error);
  g_assert_no_error(error);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_controller_away(void) {
  Session s = {0};
  open_ok(&s, "\"poll_interval\": 0"); /* every poll asks squeue */
  gpointer job = submit(&s, "away", "sleep 35; echo survived", 0);
  wait_job(&s, job, LATHE_TASK_RUNNING, 60, NULL);
  g_assert_cmpint(cluster("stop-controller"), ==, 0);
  gint64 back = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  guint unavailable = 0;
  while (g_get_monotonic_time() < back) {
    g_autoptr(GError) error = NULL;
    klass()->poll(s.ex, job, NULL, &error);
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "the Slurm controller does not answer"));
    g_assert_null(strchr(error->message, '\n'));
    unavailable++;
    g_usleep(G_USEC_PER_SEC);
  }
  g_assert_cmpuint(unavailable, >, 0);
  g_assert_cmpint(cluster("start"), ==, 0);
  int st = -1;
  g_assert_cmpint(wait_job(&s, job, 0, 120, &st), ==, LATHE_TASK_SUCCEEDED);
  g_assert_cmpint(st, ==, 0);
  g_autofree char *log = task_log("away");
  g_assert_cmpstr(log, ==, "survived\n");
  klass()->release(s.ex, job);
  session_close(&s);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  cluster_script = g_strdup(g_getenv("LATHE_SLURM_CLUSTER"));
  if (!cluster_script) {
    g_printerr("SKIP: LATHE_SLURM_CLUSTER is not set (tests/slurm/slurm-cluster.sh)\n");
    return 77;
  }
  /* The subprocess of a trap test finds the cluster running already. */
  if (!g_test_subprocess()) {
    int rc = cluster("start");
    if (rc == 77) {
      g_printerr("SKIP: the one-node Slurm cluster cannot start here (see above)\n");
      return 77;
    }
    if (rc != 0)
      g_error("tests/slurm/slurm-cluster.sh start failed (%d): see /tmp/lathe-slurm/log", rc);
  }
  const char *root = g_getenv("LATHE_SLURM_ROOT");
  g_autofree char *conf =
      g_build_filename(root ? root : "/tmp/lathe-slurm", "etc", "slurm.conf", NULL);
  g_setenv("SLURM_CONF", conf, TRUE);
  /* The workdirs are where slurmd can reach them: this host's /tmp. A
   * subprocess reuses its parent's folder (passed through the environment). */
  const char *inherited = g_getenv("LATHE_SLURM_TEST_WORK");
  work = inherited ? g_strdup(inherited) : g_dir_make_tmp("lathe-slurm-test-XXXXXX", NULL);
  g_assert_nonnull(work);
  g_setenv("LATHE_SLURM_TEST_WORK", work, TRUE);

  g_test_add_func("/executor-slurm/fast/succeeds", test_succeeds);
  g_test_add_func("/executor-slurm/fast/quoting", test_quoting);
  g_test_add_func("/executor-slurm/fast/exit-3", test_exit_3);
  g_test_add_func("/executor-slurm/fast/out-of-memory", test_out_of_memory);
  g_test_add_func("/executor-slurm/fast/outside-scancel", test_outside_scancel);
  g_test_add_func("/executor-slurm/fast/plugin-cancel", test_plugin_cancel);
  g_test_add_func("/executor-slurm/fast/attach", test_attach);
  g_test_add_func("/executor-slurm/fast/forgotten-jobs", test_forgotten_jobs);
  g_test_add_func("/executor-slurm/fast/sbatch-missing", test_sbatch_missing);
  g_test_add_func("/executor-slurm/fast/invalid-partition", test_invalid_partition);
  g_test_add_func("/executor-slurm/fast/other-partition", test_other_partition);
  g_test_add_func("/executor-slurm/fast/probe-ok", test_probe_ok);
  g_test_add_func("/executor-slurm/fast/probe-not-shared", test_probe_not_shared);
  g_test_add_func("/executor-slurm/fast/context-without-defaults",
                  test_context_without_defaults);
  g_test_add_func("/executor-slurm/fast/zz-queue-empty", test_queue_empty);
  g_test_add_func("/executor-slurm/slow/timeout", test_timeout);
  g_test_add_func("/executor-slurm/slow/controller-away", test_controller_away);
  g_test_add_func("/executor-slurm/slow/zz-queue-empty", test_queue_empty);
  int rc = g_test_run();
  if (!inherited)
    lathe_test_remove_tree(work);
  return rc;
}
