/* transform-apply.c: run one transform component on one dataset, outside any
 * pipeline: how `lathe serve` replays a version's input pipeline (the
 * recorded transforms with their fitted state) on each request's raw rows.
 * `lathe predict` replays the same record through the engine instead.
 *
 * A step is prepared once, when a version loads (lookup, realising the
 * plugin, resolving and checking its params), so that a request only runs
 * the component: resolving params per request cost a JSON walk and a
 * problems list on every /predict. */
#include <lathe/lathe-context-private.h>

#include "catalog/catalog.h"

struct _LatheTransformStep {
  LatheComponentInfo *c; /* the catalog's; lives as long as the catalog */
  JsonObject *params;    /* resolved: defaults filled, checked */
  char *in_port, *out_port;
  /* json-glib counts references without atomics, and a context refs its
   * params: creating and freeing contexts on several request threads at
   * once would race on the shared object's count. Only that is locked; the
   * transform's run reads the params, which is safe concurrently. */
  GMutex ref_lock;
};

LatheTransformStep *lathe_catalog_transform_step_new(LatheCatalog *cat, const char *use,
                                                     JsonObject *with, const char *in_port,
                                                     const char *out_port, GError **error) {
  LatheComponentInfo *c = lathe_catalog_lookup(cat, use);
  if (!c || c->kind != LATHE_KIND_TRANSFORM) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN,
                "the input pipeline uses '%s', which is not an installed transform; install that plugin", use);
    return NULL;
  }
  if (!lathe_catalog_realize(cat, c, error))
    return NULL;
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  JsonObject *params = lathe_params_resolve(c, with, "/with", problems, TRUE);
  if (problems->len) {
    const LatheProblem *p = problems->pdata[0];
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s%s; re-register the model", use,
                p->pointer, p->message);
    if (params)
      json_object_unref(params);
    return NULL;
  }
  LatheTransformStep *step = g_new0(LatheTransformStep, 1);
  step->c = c;
  step->params = params;
  step->in_port = g_strdup(in_port);
  step->out_port = g_strdup(out_port);
  g_mutex_init(&step->ref_lock);
  return step;
}

void lathe_catalog_transform_step_free(LatheTransformStep *step) {
  if (!step)
    return;
  if (step->params)
    json_object_unref(step->params);
  g_free(step->in_port);
  g_free(step->out_port);
  g_mutex_clear(&step->ref_lock);
  g_free(step);
}

LatheDataset *lathe_catalog_transform_step_apply(LatheTransformStep *step, const LatheDataset *data,
                                                 GError **error) {
  const char *use = step->c->id;
  /* A context per call: requests run on several threads at once, and the
   * context holds this call's input and output. */
  g_mutex_lock(&step->ref_lock);
  LatheContext *ctx = lathe_context_new(use, step->params, 0, NULL, NULL);
  g_mutex_unlock(&step->ref_lock);
  LatheArtifact *in = lathe_artifact_new_dataset(lathe_dataset_ref((LatheDataset *)data));
  lathe_context_set_input(ctx, step->in_port, in);
  lathe_artifact_unref(in);
  const LatheTransformClass *k = step->c->klass;
  g_autoptr(GError) local = NULL;
  LatheDataset *result = NULL;
  if (!k->run(ctx, &local)) {
    if (local)
      g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", use);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s failed without saying why (plugin bug)", use);
  } else {
    LatheArtifact *out = lathe_context_get_output(ctx, step->out_port);
    const LatheDataset *ds = out ? lathe_artifact_get_dataset(out, error) : NULL;
    if (!out)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s gave no '%s' output", use, step->out_port);
    result = ds ? lathe_dataset_ref((LatheDataset *)ds) : NULL;
  }
  g_mutex_lock(&step->ref_lock);
  lathe_context_free(ctx);
  g_mutex_unlock(&step->ref_lock);
  return result;
}
