/* model-predict.c: load a model artifact through the plugin that made it and
 * predict. Shared by the engine (host service predict) and `lathe serve`. */
#include <lathe/lathe-context-private.h>

#include "catalog/catalog.h"

float *lathe_catalog_predict(LatheCatalog *cat, LatheArtifact *model, const LatheDataset *data,
                             guint *n_cols, GError **error) {
  JsonObject *h = lathe_artifact_get_model_header(model, error);
  if (!h)
    return NULL;
  const char *id = json_object_get_string_member_with_default(h, "component", "");
  LatheComponentInfo *c = lathe_catalog_lookup(cat, id);
  if (!c || c->kind != LATHE_KIND_MODEL) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN,
                "the model was made by '%s', which is not installed; install that plugin", id);
    return NULL;
  }
  if (!lathe_catalog_realize(cat, c, error))
    return NULL;
  const LatheModelClass *m = c->klass;
  JsonArray *cols = json_object_get_array_member(h, "columns");
  if (cols && json_array_get_length(cols) != data->n_cols) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "the model was trained on %u columns, the data has %u; feed it the same features",
                json_array_get_length(cols), data->n_cols);
    return NULL;
  }
  /* The loaded instance is cached on the artifact: a served model loads once. */
  gpointer inst = lathe_artifact_get_cached_object(model);
  if (!inst) {
    GBytes *state = lathe_artifact_get_model_state(model, error);
    if (!state)
      return NULL;
    inst = m->load(state, (guint32)json_object_get_int_member_with_default(h, "state_version", 0), error);
    if (!inst)
      return NULL;
    inst = lathe_artifact_set_cached_object(model, inst, m->free);
  }
  return m->predict(inst, data, n_cols, error);
}
