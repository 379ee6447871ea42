/* transform-apply.c: run one transform component on one dataset, outside any
 * pipeline: how `lathe serve` replays a version's input pipeline (the
 * recorded transforms with their fitted state) on each request's raw rows.
 * `lathe predict` replays the same record through the engine instead. */
#include <lathe/lathe-context-private.h>

#include "catalog/catalog.h"

LatheDataset *lathe_catalog_transform(LatheCatalog *cat, const char *use, JsonObject *with,
                                      const char *in_port, const LatheDataset *data,
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
  g_autoptr(JsonObject) params = lathe_params_resolve(c, with, "/with", problems, TRUE);
  if (problems->len) {
    const LatheProblem *p = problems->pdata[0];
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s%s; re-register the model", use,
                p->pointer, p->message);
    return NULL;
  }
  g_autoptr(LatheContext) ctx = lathe_context_new(use, params, 0, NULL, NULL);
  LatheArtifact *in = lathe_artifact_new_dataset(lathe_dataset_ref((LatheDataset *)data));
  lathe_context_set_input(ctx, in_port, in);
  lathe_artifact_unref(in);
  const LatheTransformClass *k = c->klass;
  g_autoptr(GError) local = NULL;
  if (!k->run(ctx, &local)) {
    if (local)
      g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", use);
    else
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s failed without saying why (plugin bug)", use);
    return NULL;
  }
  LatheArtifact *out = lathe_context_get_output(ctx, out_port);
  const LatheDataset *ds = out ? lathe_artifact_get_dataset(out, error) : NULL;
  if (!out)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s gave no '%s' output", use, out_port);
  return ds ? lathe_dataset_ref((LatheDataset *)ds) : NULL;
}
