/* Test-only components: a no-op, a sleeper and a failer. They let the
 * scheduler, cache and store be tested, and benchmarked, without real work. */
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

static gboolean noop_run(LatheContext *ctx, GError **error) {
  LatheArtifact *in = lathe_context_get_input(ctx, "data");
  if (in) {
    lathe_context_set_output(ctx, "data", lathe_artifact_ref(in));
    return TRUE;
  }
  /* A source of its own: a one-row dataset whose value is the "value" param. */
  LatheDataset *ds = lathe_dataset_new(1, 1);
  ds->x[0] = (float)lathe_context_param_float(ctx, "value");
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}

static gboolean sleep_run(LatheContext *ctx, GError **error) {
  double seconds = lathe_context_param_float(ctx, "seconds");
  gint64 end = g_get_monotonic_time() + (gint64)(seconds * 1e6);
  gboolean stuck = lathe_context_param_bool(ctx, "stuck");
  while (g_get_monotonic_time() < end) {
    if (stuck) { /* like a node inside OpenBLAS: never looks at cancellation */
      g_usleep(10000);
      continue;
    }
    if (lathe_context_is_cancelled(ctx)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "cancelled");
      return FALSE;
    }
    g_usleep(10000);
  }
  return noop_run(ctx, error);
}

static gboolean fail_run(LatheContext *ctx, GError **error) {
  if (lathe_context_param_bool(ctx, "log"))
    lathe_context_log(ctx, G_LOG_LEVEL_WARNING, "%s", lathe_context_param_string(ctx, "message"));
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "%s", lathe_context_param_string(ctx, "message"));
  return FALSE;
}

/* What the task may use, as its executor set it up: metrics "cpus" (the
 * CPUs it is pinned to) and "gpus" (entries of CUDA_VISIBLE_DEVICES). */
static gboolean placement_run(LatheContext *ctx, GError **error) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "sched_getaffinity failed");
    return FALSE;
  }
  lathe_context_set_metric(ctx, "cpus", CPU_COUNT(&set));
  const char *v = g_getenv("CUDA_VISIBLE_DEVICES");
  g_auto(GStrv) gpus = v && *v ? g_strsplit(v, ",", 0) : NULL;
  lathe_context_set_metric(ctx, "gpus", gpus ? g_strv_length(gpus) : 0);
  return noop_run(ctx, error);
}

static gboolean metric_run(LatheContext *ctx, GError **error) {
  lathe_context_set_metric(ctx, "value", lathe_context_param_float(ctx, "value"));
  return noop_run(ctx, error);
}

/* Takes a secret "token" (ABI 1.5): reports its length, so a test sees the
 * plugin got the value, and can log it and fail quoting it, so a test sees
 * that the host hides it everywhere. */
static gboolean secret_run(LatheContext *ctx, GError **error) {
  const char *token = lathe_context_param_string(ctx, "token");
  lathe_context_set_metric(ctx, "token_length", (double)strlen(token));
  if (lathe_context_param_bool(ctx, "log"))
    lathe_context_log(ctx, G_LOG_LEVEL_WARNING, "connecting with token %s", token);
  if (lathe_context_param_bool(ctx, "fail")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "token '%s' was refused", token);
    return FALSE;
  }
  return noop_run(ctx, error);
}

/* A cheap objective for tuner tests: value = (x - 0.3)^2 + (y + 0.2)^2.
 * It can fail (x above fail_above), return NaN (x above nan_above), run out
 * of memory (x above oom_above), and
 * report "loss" per step like a training loop (value * (1 + (steps-1-s)/steps)),
 * sleeping `step_seconds` between steps and stopping when cancelled. */
static gboolean objective_run(LatheContext *ctx, GError **error) {
  double x = lathe_context_param_float(ctx, "x"), y = lathe_context_param_float(ctx, "y");
  if (x > lathe_context_param_float(ctx, "fail_above")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "x = %g is above fail_above", x);
    return FALSE;
  }
  /* A memory cap, simulated: a resource error while the file oom_while names
   * exists (or always, when it is empty), for x above oom_above. */
  const char *oom_while = lathe_context_param_string(ctx, "oom_while");
  if (x > lathe_context_param_float(ctx, "oom_above") &&
      (!*oom_while || g_file_test(oom_while, G_FILE_TEST_EXISTS))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_RESOURCE, "out of memory for x = %g (simulated)", x);
    return FALSE;
  }
  double v = (x - 0.3) * (x - 0.3) + (y + 0.2) * (y + 0.2);
  if (x > lathe_context_param_float(ctx, "nan_above"))
    v = NAN;
  gint64 steps = lathe_context_param_int(ctx, "steps");
  double step_seconds = lathe_context_param_float(ctx, "step_seconds");
  for (gint64 st = 0; st < steps; st++) {
    if (lathe_context_is_cancelled(ctx)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "cancelled at step %" G_GINT64_FORMAT, st);
      return FALSE;
    }
    lathe_context_report(ctx, "loss", v * (1.0 + (double)(steps - 1 - st) / (double)steps), st);
    /* g_usleep(0) still sleeps (a timer slack's worth): no sleep at all unless asked. */
    if (step_seconds > 0)
      g_usleep((gulong)(step_seconds * 1e6));
  }
  lathe_context_set_metric(ctx, "value", v);
  lathe_context_set_metric(ctx, "x", x);
  return noop_run(ctx, error);
}

/* Fails the way a broken plugin does, for the executors' tests: the host
 * must outlive each. "flaky" fails (how_first) until the file "marker"
 * has been touched "times" times, then succeeds: a retry's test. */
static gboolean crash_run(LatheContext *ctx, GError **error) {
  const char *how = lathe_context_param_string(ctx, "how");
  const char *marker = lathe_context_param_string(ctx, "marker");
  if (marker && *marker) {
    g_autofree char *text = NULL;
    g_file_get_contents(marker, &text, NULL, NULL);
    gint64 seen = text ? g_ascii_strtoll(text, NULL, 10) : 0;
    g_autofree char *next = g_strdup_printf("%" G_GINT64_FORMAT, seen + 1);
    g_file_set_contents(marker, next, -1, NULL);
    if (seen >= lathe_context_param_int(ctx, "times"))
      return noop_run(ctx, error);
  }
  fprintf(stderr, "testkit crash: about to %s\n", how);
  fflush(stderr);
  if (g_str_equal(how, "segv"))
    raise(SIGSEGV);
  else if (g_str_equal(how, "abort"))
    abort();
  else if (g_str_equal(how, "exit"))
    exit(3);
  else if (g_str_equal(how, "oom")) {
    /* Allocates and touches memory until the allocator says no, then
     * fails as most programs do then. */
    for (;;) {
      char *p = malloc(16 << 20);
      if (!p) {
        fprintf(stderr, "testkit crash: out of memory\n");
        abort();
      }
      memset(p, 1, 16 << 20);
    }
  } else if (g_str_equal(how, "hang")) {
    for (;;)
      pause();
  } else if (g_str_equal(how, "error")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "deliberate error");
    return FALSE;
  }
  return noop_run(ctx, error);
}

static const LatheParamSpec crash_params[] = {
    LATHE_PARAM_STRING_("how", "\"segv\"", 0, "segv, abort, exit (status 3), oom, hang, error, or none"),
    LATHE_PARAM_STRING_("marker", "\"\"", 0, "a file counting attempts: crash only for the first \"times\""),
    LATHE_PARAM_INT_("times", "1", 0, 1000, "attempts that crash when \"marker\" is set"),
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "value of the row made when nothing is connected"),
    LATHE_PARAM_END};

static const LatheParamSpec objective_params[] = {
    LATHE_PARAM_FLOAT_("x", "0", -10, 10, 0, "first coordinate"),
    LATHE_PARAM_FLOAT_("y", "0", -10, 10, 0, "second coordinate"),
    LATHE_PARAM_FLOAT_("fail_above", "100", -100, 100, 0, "fail when x is above this"),
    LATHE_PARAM_FLOAT_("nan_above", "100", -100, 100, 0, "report NaN when x is above this"),
    LATHE_PARAM_FLOAT_("oom_above", "100", -100, 100, 0, "run out of memory when x is above this"),
    LATHE_PARAM_STRING_("oom_while", "\"\"", 0, "run out of memory only while this file exists"),
    LATHE_PARAM_INT_("steps", "0", 0, 10000000, "intermediate \"loss\" reports"),
    LATHE_PARAM_FLOAT_("step_seconds", "0", 0, 60, 0, "sleep between reports"),
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "unused"),
    LATHE_PARAM_END};

static const LathePortSpec opt_in[] = {
    {"data", LATHE_TYPE_DATASET, LATHE_PORT_OPTIONAL, "passed through when connected"}, {.name = NULL}};
static const LatheParamSpec noop_params[] = {
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "value of the row made when nothing is connected"),
    LATHE_PARAM_END};
static const LatheParamSpec sleep_params[] = {
    LATHE_PARAM_FLOAT_("seconds", "0.1", 0, 3600, 0, "how long to sleep"),
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "value of the row made when nothing is connected"),
    LATHE_PARAM_BOOL_("stuck", "false", "spin, ignoring cancellation"),
    LATHE_PARAM_END};
static const LatheParamSpec fail_params[] = {
    LATHE_PARAM_STRING_("message", "\"deliberate failure\"", 0, "the error to fail with"),
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "unused"),
    LATHE_PARAM_BOOL_("log", "false", "log the message as a warning before failing"),
    LATHE_PARAM_END};

static const LatheParamSpec secret_params[] = {
    LATHE_PARAM_STRING_("token", NULL, LATHE_PARAM_REQUIRED | LATHE_PARAM_SECRET, "a credential"),
    LATHE_PARAM_BOOL_("log", "false", "log the token (the host must hide it)"),
    LATHE_PARAM_BOOL_("fail", "false", "fail quoting the token (the host must hide it)"),
    LATHE_PARAM_FLOAT_("value", "0", -1e9, 1e9, 0, "value of the row made when nothing is connected"),
    LATHE_PARAM_END};

static const LatheTransformClass noop = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "noop",
                         "Passes its input through (or makes one row)", noop_params, opt_in, NULL),
    .run = noop_run};
static const LatheTransformClass sleeper = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "sleep",
                         "Sleeps, then passes its input through", sleep_params, opt_in, NULL),
    .run = sleep_run};
static const LatheTransformClass failer = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "fail", "Always fails",
                         fail_params, opt_in, NULL),
    .run = fail_run};
static const LatheTransformClass metric = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "metric",
                         "Reports its \"value\" param as metric \"value\"", noop_params, opt_in, NULL),
    .run = metric_run};
static const LatheTransformClass placement = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "placement",
                         "Reports the CPUs and GPUs it may use (executor tests)", noop_params, opt_in, NULL),
    .run = placement_run};

static const LatheTransformClass objective = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "objective",
                         "A test objective of params x and y, with failures and steps",
                         objective_params, opt_in, NULL),
    .run = objective_run};
static const LatheTransformClass secret = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "secret",
                         "Takes a secret token, and may log it or fail quoting it", secret_params,
                         opt_in, NULL),
    .run = secret_run};

/* testkit-executor.c */
extern const LatheExecutorClass lathe_testkit_fake_executor;

static const LatheTransformClass crash = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "crash",
                         "Crashes: segfault, abort, exit, out of memory or hang (executor tests)",
                         crash_params, opt_in, NULL),
    .run = crash_run};

LATHE_PLUGIN_DEFINE("testkit", "0.1.0", "MIT", "Components for Lathe's own tests",
                    LATHE_COMPONENT(noop), LATHE_COMPONENT(sleeper), LATHE_COMPONENT(failer),
                    LATHE_COMPONENT(metric), LATHE_COMPONENT(objective), LATHE_COMPONENT(secret),
                    LATHE_COMPONENT(crash), LATHE_COMPONENT(placement),
                    LATHE_COMPONENT(lathe_testkit_fake_executor))
