/* tuner/grid: every combination of the listed values, in order (the last
 * dimension varies fastest, like sklearn's ParameterGrid). */
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

static gpointer grid_create(LatheContext *ctx, const LatheSearchSpace *space, GError **error) {
  Grid *g = g_new0(Grid, 1);
  g->names = g_ptr_array_new_with_free_func(g_free);
  g->values = g_ptr_array_new_with_free_func((GDestroyNotify)json_array_unref);
  g->total = 1;
  for (guint i = 0; i < lathe_search_space_n_dims(space); i++) {
    JsonNode *spec = lathe_search_space_dim_spec(space, i);
    const char *name = lathe_search_space_dim_name(space, i);
    if (!JSON_NODE_HOLDS_ARRAY(spec) || json_array_get_length(json_node_get_array(spec)) == 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "tuner/grid needs a non-empty list of values for '%s', e.g. [0.01, 0.1, 1]", name);
      grid_free(g);
      return NULL;
    }
    JsonArray *vals = json_node_get_array(spec);
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
