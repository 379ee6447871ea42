/* transform/standardize: per-channel z-scores, fitted on the training set
 * only and applied to train, test and valid alike, so nothing about the
 * held-out data leaks into the scaling.
 *
 * A channel is a column of a table, or one channel across all the steps of a
 * sequence dataset (only the valid steps of each row count, so padding does
 * not pull the mean towards 0). Statistics are two-pass in double: the mean,
 * then the mean squared deviation (population variance, ddof 0). A channel
 * with zero variance is centred but not scaled. Padding steps are copied
 * unchanged: 0 after transform/pad with its default value.
 *
 * The fitted statistics are the node's state: published on the optional
 * "state" output as {"state": {...}}, the params that make another node apply
 * them. Given a "state" param, the node fits nothing and applies it to every
 * input: that is how a registered model's input pipeline (lathe predict)
 * scales new data exactly as the training split was scaled.
 */
#include <math.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

static const LathePortSpec std_inputs[] = {
    {.name = "train",
     .type = LATHE_TYPE_DATASET,
     .doc = "table or sequences: the statistics are fitted on these rows only"},
    {.name = "test",
     .type = LATHE_TYPE_DATASET,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "scaled with the statistics of train"},
    {.name = "valid",
     .type = LATHE_TYPE_DATASET,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "scaled with the statistics of train"},
    {.name = NULL},
};

static const LatheParamSpec std_params[] = {
    {.name = "state", .type = LATHE_PARAM_OBJECT,
     .doc = "fitted statistics to apply instead of fitting on train: {\"channels\": [names], "
            "\"mean\": [numbers], \"std\": [numbers]}, as the \"state\" output gives them"},
    LATHE_PARAM_END,
};

static const LathePortSpec std_outputs[] = {
    {.name = "train", .type = LATHE_TYPE_DATASET, .doc = "train, standardised"},
    {.name = "test",
     .type = LATHE_TYPE_DATASET,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "test, standardised (set when the test input is connected)"},
    {.name = "valid",
     .type = LATHE_TYPE_DATASET,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "valid, standardised (set when the valid input is connected)"},
    {.name = "state",
     .type = LATHE_TYPE_METRICS,
     .flags = LATHE_PORT_OPTIONAL,
     .doc = "the statistics applied, as params: {\"state\": {\"channels\", \"mean\", \"std\"}}"},
    {.name = NULL},
};

#define COMPONENT "transform/standardize"

typedef struct {
  guint channels;
  double *mean;
  double *scale;
} Stats;

/* Valid steps of row @r: all of a table row (one step of n_cols channels). */
static guint valid_steps(const LatheDataset *ds, guint r) {
  if (!ds->seq_len)
    return 1;
  return ds->lengths ? MIN(ds->lengths[r], ds->seq_len) : ds->seq_len;
}

static gboolean check_finite(LatheContext *ctx, const LatheDataset *ds, const char *port,
                             GError **error) {
  gsize n = (gsize)ds->n_rows * ds->n_cols;
  for (gsize i = 0; i < n; i++) {
    float v = ds->x[i];
    if (G_UNLIKELY(!isfinite(v))) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                              "%s in row %" G_GSIZE_FORMAT
                              " column '%s' of input '%s'; clean the data or "
                              "drop the column",
                              isnan(v) ? "NaN"
                              : v > 0  ? "Inf"
                                       : "-Inf",
                              i / ds->n_cols, ds->columns[i % ds->n_cols], port);
      return FALSE;
    }
  }
  return TRUE;
}

/* "f3@0" -> "f3"; table columns are their own channel names. */
static char *channel_name(const LatheDataset *ds, guint j) {
  const char *col = ds->columns[j];
  const char *at = ds->seq_len ? strrchr(col, '@') : NULL;
  return at ? g_strndup(col, (gsize)(at - col)) : g_strdup(col);
}

static gboolean fit(LatheContext *ctx, const LatheDataset *ds, Stats *st, GError **error) {
  guint c = lathe_dataset_channels(ds);
  st->channels = c;
  st->mean = g_new0(double, c + 1);
  st->scale = g_new0(double, c + 1);
  g_autofree double *var = g_new0(double, c + 1);
  guint64 count = 0;
  for (guint r = 0; r < ds->n_rows; r++)
    count += valid_steps(ds, r);
  if (count == 0 || c == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT, "%s",
                            "input 'train' has no rows (or no columns); there is nothing to fit");
    return FALSE;
  }
  for (guint r = 0; r < ds->n_rows; r++) {
    const float *row = ds->x + (gsize)r * ds->n_cols;
    guint steps = valid_steps(ds, r);
    for (gsize k = 0; k < (gsize)steps * c; k++)
      st->mean[k % c] += row[k];
  }
  for (guint j = 0; j < c; j++)
    st->mean[j] /= (double)count;
  for (guint r = 0; r < ds->n_rows; r++) {
    const float *row = ds->x + (gsize)r * ds->n_cols;
    guint steps = valid_steps(ds, r);
    for (gsize k = 0; k < (gsize)steps * c; k++) {
      double d = row[k] - st->mean[k % c];
      var[k % c] += d * d;
    }
  }
  for (guint j = 0; j < c; j++) {
    double sd = sqrt(var[j] / (double)count);
    st->scale[j] = sd > 0.0 && isfinite(sd) ? sd : 1.0;
    g_autofree char *name = channel_name(ds, j);
    lathe_context_log(ctx, G_LOG_LEVEL_DEBUG, "channel '%s': mean %.9g, std %.9g%s", name,
                      st->mean[j], sd, sd > 0.0 ? "" : " (constant: not scaled)");
  }
  return TRUE;
}

/* The "state" param, checked against the channels of @ds. */
static gboolean state_from_param(LatheContext *ctx, JsonObject *o, const LatheDataset *ds,
                                 Stats *st, GError **error) {
  static const char *const keys[] = {"channels", "mean", "std"};
  JsonArray *a[3];
  guint c = lathe_dataset_channels(ds);
  for (guint i = 0; i < 3; i++) {
    JsonNode *n = json_object_get_member(o, keys[i]);
    a[i] = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
    if (!a[i] || json_array_get_length(a[i]) != c) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "param 'state' needs \"%s\" as a list of %u items (the input's "
                              "channels); give the \"state\" output of a fitted node",
                              keys[i], c);
      return FALSE;
    }
  }
  st->channels = c;
  st->mean = g_new0(double, c + 1);
  st->scale = g_new0(double, c + 1);
  for (guint j = 0; j < c; j++) {
    g_autofree char *name = channel_name(ds, j);
    JsonNode *cn = json_array_get_element(a[0], j);
    const char *want = JSON_NODE_HOLDS_VALUE(cn) && json_node_get_value_type(cn) == G_TYPE_STRING
                           ? json_node_get_string(cn) : NULL;
    if (g_strcmp0(want, name) != 0) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "channel %u of the input is '%s' but param 'state' was fitted on "
                              "'%s'; give the columns the state was fitted on, in its order",
                              j + 1, name, want ? want : "(not a name)");
      return FALSE;
    }
    for (guint i = 1; i < 3; i++) {
      JsonNode *v = json_array_get_element(a[i], j);
      GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
      double d = t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double(v) : NAN;
      if (!isfinite(d) || (i == 2 && d <= 0.0)) {
        lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                                "param 'state': \"%s\" of channel '%s' must be a finite number%s",
                                keys[i], name, i == 2 ? " above 0" : "");
        return FALSE;
      }
      (i == 1 ? st->mean : st->scale)[j] = d;
    }
  }
  return TRUE;
}

static LatheArtifact *state_artifact(const LatheDataset *ds, const Stats *st) {
  JsonObject *state = json_object_new();
  JsonArray *names = json_array_new(), *mean = json_array_new(), *sd = json_array_new();
  for (guint j = 0; j < st->channels; j++) {
    g_autofree char *name = channel_name(ds, j);
    json_array_add_string_element(names, name);
    json_array_add_double_element(mean, st->mean[j]);
    json_array_add_double_element(sd, st->scale[j]);
  }
  json_object_set_array_member(state, "channels", names);
  json_object_set_array_member(state, "mean", mean);
  json_object_set_array_member(state, "std", sd);
  JsonObject *params = json_object_new();
  json_object_set_object_member(params, "state", state);
  return lathe_artifact_new_metrics(params);
}

/* @ds must have the same channels and layout as the train set. */
static gboolean check_like(LatheContext *ctx, const LatheDataset *train, const LatheDataset *ds,
                           const char *port, GError **error) {
  if (ds->n_cols != train->n_cols || ds->seq_len != train->seq_len) {
    lathe_context_set_error(
        ctx, error, LATHE_ERROR_INVALID, COMPONENT,
        "input '%s' has %u columns (seq_len %u) but 'train' has %u (seq_len %u); give "
        "both the same features",
        port, ds->n_cols, ds->seq_len, train->n_cols, train->seq_len);
    return FALSE;
  }
  for (guint j = 0; j < ds->n_cols; j++)
    if (strcmp(ds->columns[j], train->columns[j]) != 0) {
      lathe_context_set_error(
          ctx, error, LATHE_ERROR_INVALID, COMPONENT,
          "column %u of input '%s' is '%s' but '%s' in 'train'; give both the same "
          "features in the same order",
          j + 1, port, ds->columns[j], train->columns[j]);
      return FALSE;
    }
  return TRUE;
}

static LatheDataset *apply(const LatheDataset *ds, const Stats *st) {
  g_autofree guint32 *all = g_new(guint32, ds->n_rows + 1);
  for (guint r = 0; r < ds->n_rows; r++)
    all[r] = r;
  LatheDataset *out = lathe_dataset_take_rows(ds, all, ds->n_rows);
  guint c = st->channels;
  for (guint r = 0; r < out->n_rows; r++) {
    float *row = out->x + (gsize)r * out->n_cols;
    guint steps = valid_steps(ds, r);
    for (gsize k = 0; k < (gsize)steps * c; k++)
      row[k] = (float)((row[k] - st->mean[k % c]) / st->scale[k % c]);
  }
  return out;
}

static gboolean std_run(LatheContext *ctx, GError **error) {
  const LatheDataset *train = lathe_context_get_input_dataset(ctx, "train", error);
  if (!train || !check_finite(ctx, train, "train", error))
    return FALSE;
  static const char *const others[] = {"test", "valid"};
  const LatheDataset *other[2] = {NULL, NULL};
  for (guint i = 0; i < 2; i++) {
    if (!lathe_context_get_input(ctx, others[i]))
      continue;
    other[i] = lathe_context_get_input_dataset(ctx, others[i], error);
    if (!other[i] || !check_like(ctx, train, other[i], others[i], error) ||
        !check_finite(ctx, other[i], others[i], error))
      return FALSE;
  }
  Stats st = {0};
  JsonObject *given = lathe_context_param_is_set(ctx, "state")
                          ? json_object_get_object_member(lathe_context_get_params(ctx), "state")
                          : NULL;
  gboolean ok = given ? state_from_param(ctx, given, train, &st, error)
                      : fit(ctx, train, &st, error);
  if (ok) {
    lathe_context_set_output(ctx, "state", state_artifact(train, &st));
    lathe_context_set_output_dataset(ctx, "train", apply(train, &st));
    for (guint i = 0; i < 2; i++)
      if (other[i])
        lathe_context_set_output_dataset(ctx, others[i], apply(other[i], &st));
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "standardised %u channels %s %u train rows",
                      st.channels, given ? "with the given state on" : "fitted on",
                      train->n_rows);
  }
  g_free(st.mean);
  g_free(st.scale);
  return ok;
}

static const LatheTransformClass std_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "standardize",
                         "per-channel z-score fitted on train, applied to train, test and "
                         "valid",
                         std_params, std_inputs, std_outputs),
    .run = std_run,
};

LATHE_PLUGIN_DEFINE("transform-standardize", "0.1.0", "MIT",
                    "standardisation fitted on the training set only",
                    LATHE_COMPONENT(std_class))
