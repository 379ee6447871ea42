/* transform/filter: keeps the rows of some groups or of a column condition, so
 * a subset (the inter-k recordings, one machine, the rows above a threshold)
 * can be evaluated inside a pipeline. Rows keep their order, and the
 * dataset's classes and group names stay as they were, so a model trained on
 * the whole still matches classes by name. */
#include <string.h>

#include <lathe/lathe-sdk.h>

#define COMPONENT "transform/filter"

static const char *const op_choices[] = {">", ">=", "<", "<=", "==", "!=", NULL};

static const LatheParamSpec filter_params[] = {
    LATHE_PARAM_STRING_("group", "\"\"", 0,
                        "keep the rows whose group name matches this glob (* and ?), as "
                        "\"*inter*\" or \"mechanical_anomalies/*\""),
    LATHE_PARAM_STRING_("file", "\"\"", 0,
                        "keep the rows whose group's file name (after the last /) matches "
                        "this glob, as \"*_inter-?.zip\""),
    LATHE_PARAM_STRING_("column", "\"\"", 0,
                        "keep the rows where this column compares to value by op"),
    LATHE_PARAM_ENUM_("op", "\">\"", op_choices, "with column: the comparison"),
    LATHE_PARAM_FLOAT_("value", "0", -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                       "with column: the value compared to"),
    LATHE_PARAM_BOOL_("invert", "false", "keep the rows that do not match instead"),
    LATHE_PARAM_END,
};

static const LathePortSpec filter_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "the rows to filter"},
    {.name = NULL},
};

static const LathePortSpec filter_outputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "the rows kept, in input order"},
    {.name = NULL},
};

static gboolean compare(float x, const char *op, double v) {
  if (op[0] == '>')
    return op[1] == '=' ? x >= v : x > v;
  if (op[0] == '<')
    return op[1] == '=' ? x <= v : x < v;
  return op[0] == '=' ? x == v : x != v;
}

/* Which groups a glob keeps, once per group rather than once per row. */
static gboolean *groups_matching(const LatheDataset *ds, const char *glob, gboolean basename) {
  g_autoptr(GPatternSpec) spec = g_pattern_spec_new(glob);
  gboolean *keep = g_new0(gboolean, ds->n_groups + 1);
  for (guint g = 0; g < ds->n_groups; g++) {
    const char *name = ds->group_names[g] ? ds->group_names[g] : "";
    const char *slash = basename ? strrchr(name, '/') : NULL;
    keep[g] = g_pattern_spec_match_string(spec, slash ? slash + 1 : name);
  }
  return keep;
}

static gboolean filter_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  const char *group = lathe_context_param_string(ctx, "group");
  const char *file = lathe_context_param_string(ctx, "file");
  const char *column = lathe_context_param_string(ctx, "column");
  const char *op = lathe_context_param_string(ctx, "op");
  double value = lathe_context_param_float(ctx, "value");
  gboolean invert = lathe_context_param_bool(ctx, "invert");
  guint modes = (group && *group) + (file && *file) + (column && *column);
  if (modes != 1) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "%s; set exactly one of group, file and column",
                            modes ? "several of group, file and column are set"
                                  : "nothing to filter by");
    return FALSE;
  }
  gint col = -1;
  g_autofree gboolean *keep_group = NULL;
  if (column && *column) {
    col = lathe_dataset_column_index(ds, column);
    if (col < 0) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "the data has no column '%s'; name one of its %u columns",
                              column, ds->n_cols);
      return FALSE;
    }
  } else {
    if (!ds->groups) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                              "the data has no groups to match %s against; give the source "
                              "a group column, or filter by column",
                              group && *group ? "group" : "file");
      return FALSE;
    }
    keep_group = group && *group ? groups_matching(ds, group, FALSE)
                                 : groups_matching(ds, file, TRUE);
  }
  g_autofree guint32 *rows = g_new(guint32, ds->n_rows + 1);
  guint n = 0;
  for (guint r = 0; r < ds->n_rows; r++) {
    gboolean match;
    if (col >= 0)
      match = compare(ds->x[(gsize)r * ds->n_cols + (guint)col], op, value);
    else
      match = ds->groups[r] >= 0 && keep_group[ds->groups[r]];
    if (match != invert)
      rows[n++] = r;
  }
  if (n == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_DATA, COMPONENT,
                            "no row of %u is kept; check the pattern or condition (and "
                            "invert)",
                            ds->n_rows);
    return FALSE;
  }
  lathe_context_set_output_dataset(ctx, "data", lathe_dataset_take_rows(ds, rows, n));
  lathe_context_set_metric(ctx, "n_rows", n);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "kept %u of %u rows", n, ds->n_rows);
  return TRUE;
}

static const LatheTransformClass filter_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "filter",
                         "keep rows by group pattern, file name or a column condition",
                         filter_params, filter_inputs, filter_outputs),
    .run = filter_run,
};

LATHE_PLUGIN_DEFINE("transform-filter", "0.1.0", "MIT",
                    "row and group filter: evaluate a subset inside a pipeline",
                    LATHE_COMPONENT(filter_class))
