/* transform/score_max: the row-wise maximum of several detectors' scores,
 * one new column. Meant for scores already on one scale (the causal ranks
 * of transform/causal_rank, each in [0, 1]): an alarm of either detector is
 * an alarm of the combination. Row t's output reads row t only, so it keeps
 * every input's streaming contract. */
#include <math.h>

#include "stream.h"

static const LatheParamSpec mx_params[] = {
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the score columns to combine (two or more, on one scale)"),
    LATHE_PARAM_STRING_("output", "\"score_max\"", 0, "the new column's name"),
    LATHE_PARAM_END,
};

static gboolean mx_run(LatheContext *ctx, GError **error) {
  const char *C = "transform/score_max";
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  g_autoptr(GArray) cols =
      lathe_context_param_columns(ctx, "columns", ds, LATHE_COLUMNS_NONEMPTY, error);
  if (!cols) {
    lathe_context_prefix_error(ctx, error, C);
    return FALSE;
  }
  if (cols->len < 2) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "param columns lists %u column; list two or more", cols->len);
    return FALSE;
  }
  const char *name = lathe_context_param_string(ctx, "output");
  if (!name || !*name || lathe_dataset_column_index(ds, name) >= 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, C,
                            "param output '%s' is empty or already a column; name a new one",
                            name ? name : "");
    return FALSE;
  }
  const guint d = ds->n_cols;
  const guint *src = (const guint *)(gconstpointer)cols->data;
  const char *names[] = {name};
  g_autoptr(LatheDataset) out = lathe_dataset_add_columns(ds, names, 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    float m = -INFINITY;
    for (guint i = 0; i < cols->len; i++)
      m = MAX(m, ds->x[(gsize)r * d + src[i]]);
    out->x[(gsize)r * (d + 1) + d] = m;
  }
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

const LatheTransformClass lathe_stream_score_max_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "score_max",
                         "the row-wise maximum of several score columns (a combination of "
                         "detectors' causal ranks)",
                         mx_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = mx_run,
};
