/* test-util.h: load a built plugin and drive its components without the core,
 * the way a plugin author would test one. */
#pragma once

#include <lathe/lathe-context-private.h>
#include <lathe/lathe-sdk.h>

/**
 * lathe_test_component:
 * @plugin_dir: the plugin folder name ("model-logreg").
 * @id: the component id ("model/logreg").
 *
 * Loads build/plugins/@plugin_dir/liblathe-@plugin_dir.so (found through
 * $LATHE_TEST_PLUGIN_DIR) once and returns the component; aborts the test when
 * it is missing. Resident for the whole test.
 */
const LatheComponent *lathe_test_component(const char *plugin_dir, const char *id);

/**
 * lathe_test_context:
 * @comp: the component whose params to default.
 * @node_id: the node id (drives the seed the way the host does).
 * @params_json: (nullable): a JSON object of params; defaults fill the rest.
 * @seed: the run seed.
 *
 * Returns: (transfer full): a context wired to a test host whose predict
 * service runs any model component loaded with lathe_test_component(), and
 * whose scratch root is a temporary directory.
 */
LatheContext *lathe_test_context(const LatheComponent *comp, const char *node_id,
                                 const char *params_json, guint64 seed);

/**
 * lathe_test_fit:
 * @comp: a model component.
 * @ctx: its context.
 * @train: training data.
 * @valid: (nullable): validation data.
 *
 * Fits, saves and wraps the model the way the host's model node does.
 *
 * Returns: (transfer full) (nullable): the model artifact, or %NULL with
 * @error set.
 */
LatheArtifact *lathe_test_fit(const LatheComponent *comp, LatheContext *ctx,
                              const LatheDataset *train, const LatheDataset *valid,
                              GError **error);

/** lathe_test_iris_path: (transfer full) ../shared/data/iris/iris.csv, or
 * %NULL when absent (the test should then g_test_skip). */
char *lathe_test_shared_path(const char *relative);

/** lathe_test_remove_tree: removes @path and everything below it; links are
 * removed, never followed. The tests' one copy. */
void lathe_test_remove_tree(const char *path);

/** lathe_test_json_object: (transfer full) the object @json holds; aborts
 * the test when it is not one. */
JsonObject *lathe_test_json_object(const char *json);

/** lathe_test_register_model: registers @bytes as a new version of @name
 * through the registry ABI of @klass, metadata @meta_json (nullable);
 * aborts the test on failure. Returns: the version. */
guint lathe_test_register_model(const LatheRegistryClass *klass, gpointer reg, const char *name,
                                GBytes *bytes, const char *meta_json);

/** lathe_test_set_alias: points @alias of @name at @version through the
 * registry ABI of @klass; aborts the test on failure. */
void lathe_test_set_alias(const LatheRegistryClass *klass, gpointer reg, const char *name,
                          const char *alias, guint version);
