#include "lathe-registry.h"
#include "params.h"

struct _LatheRegistry {
  const LatheRegistryClass *klass;
  gpointer instance;
  LatheContext *own_ctx; /* when opened outside a node */
};

LatheRegistry *lathe_registry_open_in(const LatheRegistryClass *klass, LatheContext *ctx,
                                      GError **error) {
  gpointer inst = klass->open(ctx, error);
  if (!inst)
    return NULL;
  LatheRegistry *r = g_new0(LatheRegistry, 1);
  r->klass = klass;
  r->instance = inst;
  return r;
}

LatheRegistry *lathe_registry_open(LatheCatalog *cat, const char *id, JsonObject *params,
                                   const char *base_dir, const char *store_dir, GError **error) {
  id = id ? id : "registry/local";
  LatheComponentInfo *c = lathe_catalog_lookup(cat, id);
  if (!c || c->kind != LATHE_KIND_REGISTRY) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "no registry component '%s' is installed; `lathe plugins` lists them", id);
    return NULL;
  }
  if (!lathe_catalog_realize(cat, c, error))
    return NULL;
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  g_autoptr(JsonObject) resolved = lathe_params_resolve(c, params, "/registry/with", problems, TRUE);
  if (problems->len) {
    LatheProblem *p = problems->pdata[0];
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s", p->pointer, p->message);
    return NULL;
  }
  LatheContext *ctx = lathe_context_new("registry", resolved, 0, NULL, NULL);
  lathe_context_set_dirs(ctx, base_dir, store_dir, NULL);
  LatheRegistry *r = lathe_registry_open_in(c->klass, ctx, error);
  if (!r) {
    lathe_context_free(ctx);
    return NULL;
  }
  r->own_ctx = ctx;
  return r;
}

void lathe_registry_close(LatheRegistry *r) {
  if (!r)
    return;
  r->klass->close(r->instance);
  g_clear_pointer(&r->own_ctx, lathe_context_free);
  g_free(r);
}

gboolean lathe_registry_register(LatheRegistry *r, const char *name, LatheArtifact *model,
                                 JsonObject *meta, const char *alias, guint *version,
                                 GError **error) {
  JsonObject *header = lathe_artifact_get_model_header(model, error);
  if (!header)
    return FALSE;
  json_object_set_string_member(meta, "model_digest", lathe_artifact_get_digest(model));
  json_object_set_object_member(meta, "model", json_object_ref(header));
  return r->klass->register_model(r->instance, name, lathe_artifact_get_bytes(model), meta,
                                  version, error) &&
         (!alias || r->klass->set_alias(r->instance, name, alias, *version, error));
}

JsonArray *lathe_registry_list(LatheRegistry *r, const char *name, GError **error) {
  return r->klass->list(r->instance, name, error);
}

gboolean lathe_registry_set_alias(LatheRegistry *r, const char *name, const char *alias,
                                  guint version, GError **error) {
  return r->klass->set_alias(r->instance, name, alias, version, error);
}
