/* transform/window: cuts each recording of a long table into windows of
 * seq_len consecutive rows, one sequence per window (ABI 1.2 sequence
 * dataset, step-major, columns "CHANNEL@t").
 *
 * Windows start at rows 0, stride, 2*stride... of each recording and never
 * cross into the next one, so a grouped split of the windows by recording
 * keeps every window of a recording on one side. Because a table is row-major,
 * a window is exactly the contiguous block of its rows: copied in one go.
 */
#include <string.h>

#include <lathe/lathe-sdk.h>

static const char *const label_choices[] = {"recording", "last", NULL};

static const LatheParamSpec window_params[] = {
    LATHE_PARAM_INT_("seq_len", "10", 1, G_MAXINT32, "rows (steps) per window"),
    LATHE_PARAM_INT_("stride", "1", 1, G_MAXINT32,
                     "rows between the starts of consecutive windows of a recording"),
    LATHE_PARAM_ENUM_("label", "\"recording\"", label_choices,
                      "recording: the recording's majority label (ties to the first "
                      "class); last: the label of the window's last row"),
    LATHE_PARAM_END,
};

static const LathePortSpec window_inputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "a long table: groups = recordings (none = one recording)"},
    {.name = NULL},
};

static const LathePortSpec window_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "one sequence per window (seq_len steps x channels), grouped by recording"},
    {.name = NULL},
};

#define COMPONENT "transform/window"

typedef LatheRowRun Recording;

/* An empty sequence dataset of @n rows whose big arrays are allocated with
 * g_try: many short windows can ask for more memory than there is, and that
 * must end in an error rather than an abort. */
static LatheDataset *new_windows(const LatheDataset *ds, guint n, guint cols) {
  LatheDataset *out = lathe_dataset_new(0, cols);
  if (ds->labels)
    lathe_dataset_set_classes(out, (const char *const *)ds->classes);
  if (ds->groups)
    lathe_dataset_set_groups(out, (const char *const *)ds->group_names);
  g_free(out->x);
  out->x = g_try_malloc_n((gsize)n * cols + 1, sizeof(float));
  g_free(out->labels);
  out->labels = ds->labels ? g_try_new(gint32, (gsize)n + 1) : NULL;
  g_free(out->groups);
  out->groups = ds->groups ? g_try_new(gint32, (gsize)n + 1) : NULL;
  out->n_rows = n;
  if (!out->x || (ds->labels && !out->labels) || (ds->groups && !out->groups)) {
    lathe_dataset_unref(out);
    return NULL;
  }
  return out;
}

static gboolean window_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  if (ds->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input is already a sequence dataset (seq_len %u); window the long table", ds->seq_len);
    return FALSE;
  }
  guint s = (guint)CLAMP(lathe_context_param_int(ctx, "seq_len"), 1, G_MAXINT32);
  guint stride = (guint)CLAMP(lathe_context_param_int(ctx, "stride"), 1, G_MAXINT32);
  gboolean by_last = g_strcmp0(lathe_context_param_string(ctx, "label"), "last") == 0;
  guint c = ds->n_cols;
  if (c == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "%s",
                            "input has no columns; nothing to window");
    return FALSE;
  }
  /* The recordings of a long table, in row order; a group split into several
   * runs of rows is refused, since a window would join unrelated rows. */
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, error);
  if (!runs) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return FALSE;
  }

  guint64 n = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    guint len = rec->end - rec->start;
    if (len < s) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_DATA, COMPONENT,
          "recording '%s' has %u rows, fewer than seq_len %u; lower seq_len or drop the "
          "recording",
          ds->groups ? ds->group_names[ds->groups[rec->start]] : "(all rows)", len, s);
      return FALSE;
    }
    n += (len - s) / stride + 1;
  }
  if ((guint64)s * c > G_MAXUINT32 || n > G_MAXINT32) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "%" G_GUINT64_FORMAT
                            " windows of %u steps x %u channels is too large; raise "
                            "stride or lower seq_len",
                            n, s, c);
    return FALSE;
  }
  g_autoptr(LatheDataset) out = new_windows(ds, (guint)n, s * c);
  if (!out) {
    /* Short of memory is the machine's state, not the data's: a study reruns it. */
    lathe_context_set_error(ctx, error, LATHE_ERROR_RESOURCE, COMPONENT,
                            "out of memory for %" G_GUINT64_FORMAT
                            " windows of %u steps x %u channels; "
                            "raise stride, lower seq_len or downsample first",
                            n, s, c);
    return FALSE;
  }
  lathe_dataset_set_sequence(out, s, FALSE);
  for (guint t = 0; t < s; t++)
    for (guint j = 0; j < c; j++) {
      g_autofree char *name = g_strdup_printf("%s@%u", ds->columns[j], t);
      lathe_dataset_set_column(out, t * c + j, name);
    }

  gsize w = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    gint32 label = ds->labels && !by_last ? lathe_dataset_majority_label(ds, rec->start, rec->end) : -1;
    for (guint64 b = rec->start; b + s <= rec->end; b += stride, w++) {
      memcpy(out->x + w * out->n_cols, ds->x + b * c, sizeof(float) * s * c);
      if (ds->labels)
        out->labels[w] = by_last ? ds->labels[b + s - 1] : label;
      if (ds->groups)
        out->groups[w] = ds->groups[b];
    }
  }
  g_assert(w == n);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%u recordings, %u rows: %u windows of %u steps (stride %u)", runs->len,
                    ds->n_rows, out->n_rows, s, stride);
  lathe_context_set_output_dataset(ctx, "data", g_steal_pointer(&out));
  return TRUE;
}

static const LatheTransformClass window_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "window",
                         "cut each recording into fixed-length windows (a sequence "
                         "dataset)",
                         window_params, window_inputs, window_outputs),
    .run = window_run,
};

LATHE_PLUGIN_DEFINE("transform-window", "0.1.0", "MIT",
                    "sliding windows within each recording",
                    LATHE_COMPONENT(window_class))
