/* transform/pad: one sequence per recording of a long table, padded (or cut)
 * to a common length.
 *
 * Each recording becomes one row of an ABI 1.2 sequence dataset: its rows are
 * the steps (step-major, columns "CHANNEL@t"), `lengths` says how many are
 * real, and the steps after them hold `value`. Models that honour lengths mask
 * the padding; the default value 0 is what the SDK documents for padding.
 *
 * The length it used (the longest recording when length is 0) is its fitted
 * state: the optional "state" output gives it as params, {"length": N}, so
 * that new recordings are padded to the length the model was trained on.
 */
#include <string.h>

#include <lathe/lathe-sdk.h>

static const LatheParamSpec pad_params[] = {
    LATHE_PARAM_INT_("length", "0", 0, G_MAXINT32,
                     "steps per sequence; 0 = the longest recording"),
    LATHE_PARAM_FLOAT_("value", "0.0", -G_MAXFLOAT, G_MAXFLOAT, 0,
                       "what fills the steps after a recording's end"),
    LATHE_PARAM_BOOL_("truncate", "true",
                      "cut recordings longer than length (logged); false: such a "
                      "recording is an error"),
    LATHE_PARAM_END,
};

static const LathePortSpec pad_inputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "a long table: groups = recordings (none = one recording)"},
    {.name = NULL},
};

static const LathePortSpec pad_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "one sequence per recording: length steps, lengths = its rows (at most "
            "length), label = its majority label, group = the recording"},
    {.name = "state",
     .type = LATHE_TYPE_METRICS,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "the length used, as params: {\"length\": N}"},
    {.name = NULL},
};

#define COMPONENT "transform/pad"

typedef LatheRowRun Recording;

static const char *recording_name(const LatheDataset *ds, const Recording *rec) {
  return ds->groups ? ds->group_names[ds->groups[rec->start]] : "(all rows)";
}

static gboolean pad_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "input is already a sequence dataset (seq_len %u); pad the long table",
                            ds->seq_len);
    return FALSE;
  }
  guint c = ds->n_cols;
  if (c == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            "input has no columns; nothing to pad");
    return FALSE;
  }
  /* The recordings of a long table, in row order; a group split into several
   * runs of rows is refused, since its sequence would be out of order. */
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, error);
  if (!runs) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }
  guint length = (guint)CLAMP(lathe_context_param_int(ctx, "length"), 0, G_MAXINT32);
  float value = (float)lathe_context_param_float(ctx, "value");
  gboolean truncate = lathe_context_param_bool(ctx, "truncate");

  guint longest = 0, cut = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    longest = MAX(longest, rec->end - rec->start);
  }
  if (length == 0 && longest == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT, "%s",
                            "input has no rows, so there is no longest recording; set length");
    return FALSE;
  }
  if (length == 0)
    length = longest;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    guint len = rec->end - rec->start;
    if (len <= length)
      continue;
    if (!truncate) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, COMPONENT,
          "recording '%s' has %u rows, more than length %u; raise length or set "
          "truncate=true",
          recording_name(ds, rec), len, length);
      return FALSE;
    }
    cut++;
  }
  if ((guint64)length * c > G_MAXUINT32) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "length %u x %u channels is too many columns; lower length or downsample first", length, c);
    return FALSE;
  }

  g_autoptr(LatheDataset) out = lathe_dataset_new(runs->len, length * c);
  lathe_dataset_set_sequence(out, length, TRUE);
  for (guint t = 0; t < length; t++)
    for (guint j = 0; j < c; j++) {
      g_autofree char *name = g_strdup_printf("%s@%u", ds->columns[j], t);
      lathe_dataset_set_column(out, t * c + j, name);
    }
  if (ds->labels)
    lathe_dataset_set_classes(out, (const char *const *)ds->classes);
  if (ds->groups)
    lathe_dataset_set_groups(out, (const char *const *)ds->group_names);
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    guint steps = MIN(rec->end - rec->start, length);
    float *dst = out->x + (gsize)i * out->n_cols;
    memcpy(dst, ds->x + (gsize)rec->start * c, sizeof(float) * steps * c);
    for (gsize k = (gsize)steps * c; k < out->n_cols; k++)
      dst[k] = value;
    out->lengths[i] = steps;
    if (ds->labels)
      out->labels[i] = lathe_dataset_majority_label(ds, rec->start, rec->end);
    if (ds->groups)
      out->groups[i] = ds->groups[rec->start];
  }
  if (cut)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "truncated %u of %u recordings to %u steps",
                      cut, runs->len, length);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u recordings padded to %u steps of %u channels",
                    runs->len, length, c);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  JsonObject *state = json_object_new();
  json_object_set_int_member(state, "length", length);
  lathe_context_set_output(ctx, "state", lathe_artifact_new_metrics(state));
  return TRUE;
}

static const LatheTransformClass pad_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "pad",
                         "one sequence per recording, padded or cut to a common length",
                         pad_params, pad_inputs, pad_outputs),
    .run = pad_run,
};

LATHE_PLUGIN_DEFINE("transform-pad", "0.1.0", "MIT",
                    "pad recordings into equal-length sequences",
                    LATHE_COMPONENT(pad_class))
