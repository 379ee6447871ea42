/* tune-space-json.h: a tuner plugin's bridge between the host's search space
 * (names and JSON specs, normalised by core/tuning/space-check.c) and the numeric
 * #LatheTuneSpace the samplers work on. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTuneSpaceJson:
 * @space: the numeric view; @space.dims points into this struct.
 * @names: (array length=space.n_dims): dimension names ("model.l2").
 * @choices: (array length=space.n_dims): for categoricals, the JSON values
 *   of the choices (index = the value in a point); %NULL otherwise.
 */
typedef struct {
  LatheTuneSpace space;
  char **names;
  JsonArray **choices;
  /*< private >*/
  LatheTuneDim *dims;
} LatheTuneSpaceJson;

/**
 * lathe_tune_space_json_new:
 * @space: the host's search space, in the order it gives (parents first).
 * @error: return location for a #GError.
 *
 * A list spec becomes a categorical over its values; an object spec {"type",
 * "low", "high", "step", "log", "choices", "when"} maps field by field. A
 * "when" becomes the parent index and its condition: for a number, the range
 * the op allows; for a categorical, the set of choices.
 *
 * Returns: (transfer full) (nullable): the bridge, or %NULL with @error set
 * (a spec the host would not have passed, or a parent after its child).
 */
LatheTuneSpaceJson *lathe_tune_space_json_new(const LatheSearchSpace *space, GError **error);
void lathe_tune_space_json_free(LatheTuneSpaceJson *sj);

/**
 * lathe_tune_space_json_point:
 * @x: a point (native values, NAN for inactive).
 *
 * Returns: (transfer full): {name: value} for the active dimensions; ints as
 * JSON integers, categoricals as their JSON choice. Inactive dimensions are
 * left out, so the trial node keeps its own value for them.
 */
JsonObject *lathe_tune_space_json_point(const LatheTuneSpaceJson *sj, const double *x);

/**
 * lathe_tune_space_json_parse:
 * @point: a point as JSON (from lathe_tune_space_json_point(), or a study
 *   being resumed).
 * @x: (out caller-allocates): space.n_dims values.
 *
 * Returns: %FALSE when @point holds a value outside the space (a categorical
 * value that is not a choice, a number out of bounds); @x is then unusable.
 */
gboolean lathe_tune_space_json_parse(const LatheTuneSpaceJson *sj, JsonObject *point, double *x);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheTuneSpaceJson, lathe_tune_space_json_free)

G_END_DECLS
