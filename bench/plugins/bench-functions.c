/* bench-functions.c: the benchmark functions of issue 5 as a pipeline node,
 * so that bench/tune can drive the tuners end to end through `lathe run`
 * (host overhead included) on the same objectives as Optuna.
 *
 * transform/benchfn takes no input and gives no output: it reads the point
 * from its params x0..x9 and sets the metric `value` = f(x). The functions
 * are those of tests/tune/tune-functions.h, shared with the tuner tests. */
#include <lathe/lathe-sdk.h>

#include "tune-functions.h" /* tests/tune */

#define N_X 10

static const char *const fn_choices[] = {"branin", "hartmann6", "rosenbrock", "ackley", NULL};

static gboolean run(LatheContext *ctx, GError **error) {
  double x[N_X];
  for (int i = 0; i < N_X; i++) {
    char name[4] = {'x', (char)('0' + i), '\0', '\0'};
    x[i] = lathe_context_param_float(ctx, name);
  }
  const char *fn = lathe_context_param_string(ctx, "fn");
  double v;
  if (g_strcmp0(fn, "branin") == 0)
    v = lathe_fn_branin(x);
  else if (g_strcmp0(fn, "hartmann6") == 0)
    v = lathe_fn_hartmann6(x);
  else if (g_strcmp0(fn, "rosenbrock") == 0)
    v = lathe_fn_rosenbrock(x, N_X);
  else if (g_strcmp0(fn, "ackley") == 0)
    v = lathe_fn_ackley(x, N_X);
  else {
    /* the host validates enums; this guards a host that did not */
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "param 'fn' of transform/benchfn: '%s' is not one of: branin, hartmann6, "
                "rosenbrock, ackley", fn ? fn : "(null)");
    return FALSE;
  }
  lathe_context_set_metric(ctx, "value", v);
  return TRUE;
}

/* Bounds wide enough for every domain: Ackley's [-32.768, 32.768] is the
 * widest; the tuner's space narrows each dimension to its function's. The
 * dimensions a function does not use (x2..x9 of Branin) are ignored. */
#define X_PARAM(n) LATHE_PARAM_FLOAT_(n, "0", -50, 50, 0, "coordinate of the point")

static const LatheParamSpec params[] = {
    LATHE_PARAM_ENUM_("fn", "\"branin\"", fn_choices,
                      "the function: branin (x0, x1), hartmann6 (x0..x5), rosenbrock or "
                      "ackley (x0..x9)"),
    X_PARAM("x0"), X_PARAM("x1"), X_PARAM("x2"), X_PARAM("x3"), X_PARAM("x4"),
    X_PARAM("x5"), X_PARAM("x6"), X_PARAM("x7"), X_PARAM("x8"), X_PARAM("x9"),
    LATHE_PARAM_END};

/* no ports: the point comes in through params, the value goes out as a metric */
static const LathePortSpec no_ports[] = {{.name = NULL}};

static const LatheTransformClass benchfn = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "benchfn",
                         "a benchmark function of issue 5 at (x0..x9), as metric 'value'",
                         params, no_ports, no_ports),
    .run = run};

LATHE_PLUGIN_DEFINE("bench-functions", "0.1.0", "MIT",
                    "benchmark functions (Branin, Hartmann-6, Rosenbrock-10, Ackley-10) for bench/tune",
                    LATHE_COMPONENT(benchfn))
