/* test-saved-states.c: old model states load, and save back byte for byte.
 *
 * The .state files are the model states (the bytes after an artifact's
 * header) that Lathe 991ceab, the version before the SDK's blob header,
 * wrote for make-states.json: `lathe run --no-cache make-states.json`, then
 * each model artifact in the store without its "LATHEMD1" header. A format
 * change in a plugin or in lathe-blob.c shows here as a refused load or as
 * different bytes. */
#include <lathe/lathe-sdk.h>

#include "test-util.h"

typedef struct {
  const char *file;
  const char *plugin_dir;
  const char *id;
  guint32 version;
} SavedState;

static void test_saved_state(gconstpointer data) {
  const SavedState *s = data;
  const LatheModelClass *m = (const LatheModelClass *)lathe_test_component(s->plugin_dir, s->id);
  g_autofree char *path = g_build_filename(SAVED_STATES_DIR, s->file, NULL);
  g_autoptr(GMappedFile) file = g_mapped_file_new(path, FALSE, NULL);
  g_assert_nonnull(file);
  g_autoptr(GBytes) old = g_mapped_file_get_bytes(file);
  g_autoptr(GError) error = NULL;
  gpointer model = m->load(old, s->version, &error);
  g_assert_no_error(error);
  g_assert_nonnull(model);
  g_autoptr(GBytes) again = m->save(model, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(g_bytes_get_data(again, NULL), g_bytes_get_size(again),
                  g_bytes_get_data(old, NULL), g_bytes_get_size(old));
  m->free(model);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  static const SavedState states[] = {
      {"logreg-v1.state", "model-logreg", "model/logreg", 1},
      {"forest-v1.state", "model-forest", "model/forest", 1},
      {"iforest-v2.state", "model-iforest", "model/iforest", 2},
      {"iforest-groups-v2.state", "model-iforest", "model/iforest", 2},
  };
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    g_autofree char *name = g_strdup_printf("/saved-states/%s", states[i].file);
    g_test_add_data_func(name, &states[i], test_saved_state);
  }
  return g_test_run();
}
