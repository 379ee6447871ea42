/* One source, many deliberately broken plugins (chosen with -DVARIANT_x), to
 * prove each refusal of the loader; and one plugin built as for ABI 1.0 to
 * prove that an older minor keeps loading and running. */
#include <stddef.h>

#include <lathe/lathe-sdk.h>

#if !defined(VARIANT_missing_entry)
/* A working majority-class model, shared by the variants that need one. */
typedef struct {
  guint n_classes;
  guint majority;
} Majority;

static gpointer maj_fit(LatheContext *ctx, const LatheDataset *train, const LatheDataset *valid,
                        GError **error) {
  if (!train->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "needs labels");
    return NULL;
  }
  g_autofree guint *counts = g_new0(guint, train->n_classes);
  for (guint i = 0; i < train->n_rows; i++)
    counts[train->labels[i]]++;
  Majority *m = g_new0(Majority, 1);
  m->n_classes = train->n_classes;
  for (guint c = 1; c < train->n_classes; c++)
    if (counts[c] > counts[m->majority])
      m->majority = c;
  return m;
}

G_GNUC_UNUSED static float *maj_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                          GError **error) {
  const Majority *m = model;
  float *out = g_new0(float, (gsize)data->n_rows * m->n_classes + 1);
  for (guint i = 0; i < data->n_rows; i++)
    out[(gsize)i * m->n_classes + m->majority] = 1.0f;
  *n_cols = m->n_classes;
  return out;
}

static GBytes *maj_save(gconstpointer model, GError **error) {
  return g_bytes_new(model, sizeof(Majority));
}

static gpointer maj_load(GBytes *state, guint32 version, GError **error) {
  if (g_bytes_get_size(state) != sizeof(Majority)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "bad state");
    return NULL;
  }
  return g_memdup2(g_bytes_get_data(state, NULL), sizeof(Majority));
}

#endif

#if defined(VARIANT_missing_entry)
/* No LATHE_PLUGIN_DEFINE: the entry symbol is missing. */
G_MODULE_EXPORT int lathe_not_the_entry(void);
G_MODULE_EXPORT int lathe_not_the_entry(void) { return 1; }
#else

#if defined(VARIANT_too_big)
#define SIZE (sizeof(LatheModelClass) + 64)
#elif defined(VARIANT_old_minor)
/* What ABI 1.0 plugins were: LatheModelClass ended before `summary`. */
#define SIZE offsetof(LatheModelClass, summary)
#else
#define SIZE sizeof(LatheModelClass)
#endif

#if defined(VARIANT_empty_name)
#define NAME ""
#elif defined(VARIANT_old_minor)
#define NAME "oldminor"
#elif defined(VARIANT_checked)
#define NAME "checked"
#else
#define NAME "broken"
#endif

/* A rule bounds cannot say (ABI 1.3). The 1.0 build sets it too: what a
 * pre-1.3 plugin held in the then-reserved slot must be ignored. */
static gboolean odd_votes(const LatheParamSpec *spec, JsonNode *value, char **why) {
  if (json_node_get_int(value) % 2 == 1)
    return TRUE;
  *why = g_strdup_printf("%" G_GINT64_FORMAT " is even; use an odd number of votes so ties cannot happen",
                         json_node_get_int(value));
  return FALSE;
}

static const LatheParamSpec params[] = {
    {.name = "votes", .type = LATHE_PARAM_INT, .default_json = "1", .min = 1, .max = 99,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX, .doc = "an odd number (unused)",
     .check = odd_votes},
    LATHE_PARAM_END,
};

static const LatheModelClass model = {
    .base = {.struct_size = SIZE, .kind = LATHE_KIND_MODEL, .name = NAME,
             .description = "majority class (ABI test plugin)", .params = params},
    .state_version = 1,
    .fit = maj_fit,
#if !defined(VARIANT_missing_callback)
    .predict = maj_predict,
#else
    .predict = NULL, /* the refusal under test */
#endif
    .save = maj_save,
    .load = maj_load,
    .free = g_free,
};

#if defined(VARIANT_bad_major)
#define MAJOR (LATHE_ABI_MAJOR + 1)
#else
#define MAJOR LATHE_ABI_MAJOR
#endif
#if defined(VARIANT_new_minor)
#define MINOR (LATHE_ABI_MINOR + 1)
#elif defined(VARIANT_old_minor)
#define MINOR 0
#else
#define MINOR LATHE_ABI_MINOR
#endif
#if defined(VARIANT_duplicate)
#define PLUGIN_NAME "source-csv" /* claims the name of a real plugin */
#else
#define PLUGIN_NAME "abi-test-" G_STRINGIFY(VARIANT)
#endif

static const LatheComponent *const components[] = {&model.base, NULL};
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), MAJOR, MINOR, PLUGIN_NAME, "0.1.0", "MIT",
    "deliberately built for the loader tests", components};

G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) { return &descriptor; }
#endif
