/* A plugin stamped out in copies (-DINDEX=n), so `lathe plugins` can be timed
 * with a realistic number of installed plugins. */
#include <lathe/lathe-sdk.h>

static gboolean run(LatheContext *ctx, GError **error) {
  LatheArtifact *in = lathe_context_get_input(ctx, "data");
  lathe_context_set_output(ctx, "data", lathe_artifact_ref(in));
  return TRUE;
}

static const LatheParamSpec params[] = {
    LATHE_PARAM_FLOAT_("alpha", "1", 0, 10, 0, "unused"),
    LATHE_PARAM_BOOL_("flag", "false", "unused"),
    LATHE_PARAM_END};

static const LatheTransformClass t = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "bench" G_STRINGIFY(INDEX),
                         "benchmark filler", params, NULL, NULL),
    .run = run};

LATHE_PLUGIN_DEFINE("bench-" G_STRINGIFY(INDEX), "0.1.0", "MIT", "benchmark filler",
                    LATHE_COMPONENT(t))
