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
#else
#define NAME "broken"
#endif

static const LatheModelClass model = {
    .base = {.struct_size = SIZE, .kind = LATHE_KIND_MODEL, .name = NAME,
             .description = "majority class (ABI test plugin)"},
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
