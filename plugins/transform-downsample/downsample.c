/* transform/downsample: keeps one row in k (or the mean of each block of k)
 * within each recording of a long table, or one step in k along each row of a
 * sequence dataset.
 *
 * A recording is a maximal run of consecutive rows with the same group; a
 * table without groups is one recording. Blocks restart at the first row of
 * each recording, so no block mixes two recordings, and a recording's last
 * block may be partial (its mean is over the rows it has).
 */
#include <string.h>

#include <lathe/lathe-sdk.h>

#define COMPONENT "transform/downsample"

static const char *const mode_choices[] = {"every", "mean", NULL};

static const LatheParamSpec ds_params[] = {
    LATHE_PARAM_INT_("factor", "10", 1, G_MAXINT32,
                     "keep one row (or step) in factor: 500 Hz with 10 gives 50 Hz"),
    LATHE_PARAM_ENUM_("mode", "\"every\"", mode_choices,
                      "every: rows 0, k, 2k... of each recording; mean: the mean of each "
                      "block of k (a partial last block is averaged over what it has)"),
    LATHE_PARAM_END,
};

static const LathePortSpec ds_inputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "a long table (groups = recordings; none = one recording) or a sequence "
            "dataset"},
    {.name = NULL},
};

static const LathePortSpec ds_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "ceil(n/k) rows per recording (labels of each block's first row), or "
            "sequences of ceil(seq_len/k) steps with lengths ceil(length/k)"},
    {.name = NULL},
};

typedef LatheRowRun Recording;

/* A new dataset of @n_rows x @n_cols with @ds's classes and groups. */
static LatheDataset *like(const LatheDataset *ds, guint n_rows, guint n_cols) {
  LatheDataset *out = lathe_dataset_new(n_rows, n_cols);
  if (ds->labels)
    lathe_dataset_set_classes(out, (const char *const *)ds->classes);
  if (ds->groups)
    lathe_dataset_set_groups(out, (const char *const *)ds->group_names);
  return out;
}

/* The mean of @n rows (or steps) of @c floats starting at @src, @stride floats
 * apart, into @dst; in double so long blocks lose nothing. */
static void block_mean(const float *src, guint n, gsize stride, guint c, float *dst) {
  for (guint j = 0; j < c; j++) {
    double sum = 0.0;
    for (guint i = 0; i < n; i++)
      sum += src[(gsize)i * stride + j];
    dst[j] = (float)(sum / n);
  }
}

static LatheDataset *downsample_table(LatheContext *ctx, const LatheDataset *ds, guint k,
                                      gboolean mean, GError **error) {
  /* The recordings of a long table, in row order. A group whose rows are split
   * into several runs is refused: averaging or counting across it would be
   * meaningless. */
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, error);
  if (!runs) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    return NULL;
  }
  guint n_out = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    n_out += (rec->end - rec->start - 1) / k + 1;
  }
  guint c = ds->n_cols;
  LatheDataset *out = like(ds, n_out, c);
  for (guint j = 0; j < c; j++)
    lathe_dataset_set_column(out, j, ds->columns[j]);
  guint o = 0;
  for (guint i = 0; i < runs->len; i++) {
    const Recording *rec = &g_array_index(runs, Recording, i);
    for (guint b = rec->start; b < rec->end; b += MIN(k, rec->end - b), o++) {
      guint n = MIN(k, rec->end - b);
      const float *src = ds->x + (gsize)b * c;
      float *dst = out->x + (gsize)o * c;
      if (mean)
        block_mean(src, n, c, c, dst);
      else
        memcpy(dst, src, sizeof(float) * c);
      if (ds->labels)
        out->labels[o] = ds->labels[b];
      if (ds->groups)
        out->groups[o] = ds->groups[b];
    }
  }
  g_assert(o == n_out);
  return out;
}

/* "f3@0" -> "f3": the channel part of a step-0 sequence column name. */
static char *channel_name(const char *column) {
  const char *at = strrchr(column, '@');
  return at ? g_strndup(column, (gsize)(at - column)) : g_strdup(column);
}

/* Along the steps of each row. A block past the row's valid steps is padding
 * and is averaged as it is, so padding stays padding. */
static LatheDataset *downsample_sequences(const LatheDataset *ds, guint k, gboolean mean) {
  guint s = ds->seq_len, c = lathe_dataset_channels(ds);
  guint s2 = (s - 1) / k + 1;
  LatheDataset *out = like(ds, ds->n_rows, s2 * c);
  lathe_dataset_set_sequence(out, s2, ds->lengths != NULL);
  for (guint j = 0; j < c; j++) {
    g_autofree char *channel = channel_name(ds->columns[j]);
    for (guint t = 0; t < s2; t++) {
      g_autofree char *name = g_strdup_printf("%s@%u", channel, t);
      lathe_dataset_set_column(out, t * c + j, name);
    }
  }
  for (guint r = 0; r < ds->n_rows; r++) {
    guint len = ds->lengths ? ds->lengths[r] : s;
    const float *row = ds->x + (gsize)r * ds->n_cols;
    float *dst = out->x + (gsize)r * out->n_cols;
    for (guint t = 0; t < s2; t++) {
      guint b = t * k, e = MIN(b + k, s);
      if (b < len)
        e = MIN(e, len);
      if (mean)
        block_mean(row + (gsize)b * c, e - b, c, c, dst + (gsize)t * c);
      else
        memcpy(dst + (gsize)t * c, row + (gsize)b * c, sizeof(float) * c);
    }
    if (out->lengths)
      out->lengths[r] = (len - 1) / k + 1;
    if (ds->labels)
      out->labels[r] = ds->labels[r];
    if (ds->groups)
      out->groups[r] = ds->groups[r];
  }
  return out;
}

static gboolean downsample_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  guint k = (guint)CLAMP(lathe_context_param_int(ctx, "factor"), 1, G_MAXINT32);
  const char *mode = lathe_context_param_string(ctx, "mode");
  gboolean mean = g_strcmp0(mode, "mean") == 0;
  LatheDataset *out = ds->seq_len ? downsample_sequences(ds, k, mean)
                                  : downsample_table(ctx, ds, k, mean, error);
  if (!out)
    return FALSE;
  if (ds->seq_len)
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u sequences: %u steps to %u (factor %u, %s)",
                      ds->n_rows, ds->seq_len, out->seq_len, k, mode);
  else
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%u rows to %u (factor %u, %s)", ds->n_rows,
                      out->n_rows, k, mode);
  lathe_context_set_output_dataset(ctx, "data", out);
  return TRUE;
}

static const LatheTransformClass downsample_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "downsample",
                         "keep one row in k (or block means) within each recording, or "
                         "one step in k of each sequence",
                         ds_params, ds_inputs, ds_outputs),
    .run = downsample_run,
};

LATHE_PLUGIN_DEFINE("transform-downsample", "0.1.0", "MIT",
                    "downsampling of recordings and sequences, per recording",
                    LATHE_COMPONENT(downsample_class))
