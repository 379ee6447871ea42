/* tuner/grid: every combination of the listed values, in order (the last
 * dimension varies fastest, like sklearn's ParameterGrid). */
#include <math.h>

#include <lathe/lathe-sdk.h>

typedef struct {
  GPtrArray *names;  /* char* */
  GPtrArray *values; /* JsonArray* */
  guint64 total;
} Grid;

static void grid_free(gpointer p) {
  Grid *g = p;
  g_ptr_array_unref(g->names);
  g_ptr_array_unref(g->values);
  g_free(g);
}

/* The values of one dimension: a list as written, a categorical's choices,
 * or every point of an int or stepped float range. */
static JsonArray *grid_values(const char *name, JsonNode *spec, GError **error) {
  if (JSON_NODE_HOLDS_ARRAY(spec) && json_array_get_length(json_node_get_array(spec)) > 0)
    return json_array_ref(json_node_get_array(spec));
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(spec) ? json_node_get_object(spec) : NULL;
  const char *type = o ? json_object_get_string_member_with_default(o, "type", "") : "";
  if (o && json_object_has_member(o, "when")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tuner/grid cannot enumerate the conditional dimension '%s'; use tuner/random "
                "or drop its \"when\"", name);
    return NULL;
  }
  if (g_str_equal(type, "categorical"))
    return json_array_ref(json_object_get_array_member(o, "choices"));
  double lo = o ? json_object_get_double_member_with_default(o, "low", 0) : 0;
  double hi = o ? json_object_get_double_member_with_default(o, "high", 0) : 0;
  double step = o ? json_object_get_double_member_with_default(o, "step", 0) : 0;
  gboolean is_int = g_str_equal(type, "int");
  if (is_int && step == 0)
    step = 1;
  if ((!is_int && !g_str_equal(type, "float")) || step <= 0 ||
      json_object_get_boolean_member_with_default(o, "log", FALSE)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "tuner/grid needs a list of values, a categorical, an int or a float with a "
                "\"step\" for '%s', e.g. [0.01, 0.1, 1]", name);
    return NULL;
  }
  double n = floor((hi - lo) / step + 1e-9) + 1;
  if (n > 1e6) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "'%s' has %.0f grid points; use a larger step or tuner/random", name, n);
    return NULL;
  }
  JsonArray *a = json_array_new();
  for (double k = 0; k < n; k++) {
    if (is_int)
      json_array_add_int_element(a, (gint64)llround(lo + k * step));
    else
      json_array_add_double_element(a, lo + k * step);
  }
  return a;
}

static gpointer grid_create(LatheContext *ctx, const LatheSearchSpace *space, GError **error) {
  Grid *g = g_new0(Grid, 1);
  g->names = g_ptr_array_new_with_free_func(g_free);
  g->values = g_ptr_array_new_with_free_func((GDestroyNotify)json_array_unref);
  g->total = 1;
  for (guint i = 0; i < lathe_search_space_n_dims(space); i++) {
    JsonNode *spec = lathe_search_space_dim_spec(space, i);
    const char *name = lathe_search_space_dim_name(space, i);
    g_autoptr(JsonArray) vals = grid_values(name, spec, error);
    if (!vals) {
      grid_free(g);
      return NULL;
    }
    g_ptr_array_add(g->names, g_strdup(name));
    g_ptr_array_add(g->values, json_array_ref(vals));
    if (g->total > G_MAXUINT32 / json_array_get_length(vals)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "the grid has more than %u points; use tuner/random or fewer values", G_MAXUINT32);
      grid_free(g);
      return NULL;
    }
    g->total *= json_array_get_length(vals);
  }
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "grid of %" G_GUINT64_FORMAT " points", g->total);
  return g;
}

static gboolean grid_ask(gpointer self, guint trial, JsonObject **point, GError **error) {
  Grid *g = self;
  if (trial >= g->total)
    return FALSE;
  JsonObject *p = json_object_new();
  guint64 rest = trial;
  for (guint i = g->names->len; i-- > 0;) {
    JsonArray *vals = g->values->pdata[i];
    guint n = json_array_get_length(vals);
    json_object_set_member(p, g->names->pdata[i], json_node_copy(json_array_get_element(vals, rest % n)));
    rest /= n;
  }
  *point = p;
  return TRUE;
}

static void grid_tell(gpointer self, guint trial, JsonObject *point, double value,
                      LatheTrialState state) {
  /* A grid does not adapt: results change nothing. */
}

static const LatheTunerClass grid = {
    LATHE_COMPONENT_INIT(LatheTunerClass, LATHE_KIND_TUNER, "grid",
                         "Every combination of listed values (Cartesian product)", NULL, NULL, NULL),
    .create = grid_create,
    .ask = grid_ask,
    .tell = grid_tell,
    .free = grid_free,
};

LATHE_PLUGIN_DEFINE("tuner-grid", "0.1.0", "MIT", "Grid search tuner", LATHE_COMPONENT(grid))
