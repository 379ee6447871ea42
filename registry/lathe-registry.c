/* The host side of the model registry: it reaches registry plugins only
 * through LatheRegistryClass, so every backend offers what its struct has. */
#include "lathe-registry.h"
#include "catalog/catalog.h"

struct _LatheRegistry {
  const LatheRegistryClass *klass;
  gpointer instance;
  LatheContext *own_ctx; /* when opened outside a node */
  LatheComponentInfo *comp; /* when opened from the catalog: for messages */
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
  r->comp = c;
  return r;
}

LatheRegistry *lathe_registry_open_readonly(LatheCatalog *cat, const char *base_dir,
                                           const char *store_dir, GError **error) {
  g_autoptr(JsonObject) with = json_object_new();
  json_object_set_boolean_member(with, "read_only", TRUE);
  return lathe_registry_open(cat, "registry/local", with, base_dir, store_dir, error);
}

void lathe_registry_close(LatheRegistry *r) {
  if (!r)
    return;
  r->klass->close(r->instance);
  g_clear_pointer(&r->own_ctx, lathe_context_free);
  g_free(r);
}

JsonObject *lathe_registry_why_new(const char *reason, const char *run_id, JsonObject *figures) {
  JsonObject *why = json_object_new();
  json_object_set_string_member(why, "reason", reason);
  json_object_set_string_member(why, "user", g_get_user_name());
  if (run_id)
    json_object_set_string_member(why, "run_id", run_id);
  if (figures)
    json_object_set_object_member(why, "figures", json_object_ref(figures));
  return why;
}

gboolean lathe_registry_set_alias_why(LatheRegistry *r, const char *name, const char *alias,
                                      guint version, JsonObject *why, GError **error) {
  /* NULL for registries built against ABI 1.7 and older: they keep their
   * history (if any) without reasons. */
  if (!r->klass->set_alias_full)
    return r->klass->set_alias(r->instance, name, alias, version, error);
  g_autoptr(JsonObject) manual = why ? NULL : lathe_registry_why_new(LATHE_REGISTRY_REASON_MANUAL, NULL, NULL);
  return r->klass->set_alias_full(r->instance, name, alias, version, why ? why : manual, error);
}

static const char *reg_name(LatheRegistry *r) { return r->comp ? r->comp->id : "this registry"; }

static JsonObject *version_signature(JsonObject *v) {
  JsonObject *meta = v && json_object_has_member(v, "metadata") &&
                             JSON_NODE_HOLDS_OBJECT(json_object_get_member(v, "metadata"))
                         ? json_object_get_object_member(v, "metadata") : NULL;
  JsonNode *sig = meta ? json_object_get_member(meta, "signature") : NULL;
  return sig && JSON_NODE_HOLDS_OBJECT(sig) ? json_node_get_object(sig) : NULL;
}

gboolean lathe_registry_check_signature(LatheRegistry *r, const char *name, const char *alias,
                                        JsonObject *signature, gboolean allow, const char *what,
                                        GError **error) {
  if (allow || !signature)
    return TRUE;
  /* Only the alias's current version counts; an alias not set yet, or set
   * at a version registered before signatures were recorded, takes any. */
  g_autoptr(JsonArray) versions = lathe_registry_list(r, name, error);
  if (!versions)
    return FALSE;
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    JsonArray *al = json_object_has_member(v, "aliases") &&
                            JSON_NODE_HOLDS_ARRAY(json_object_get_member(v, "aliases"))
                        ? json_object_get_array_member(v, "aliases") : NULL;
    gboolean holds = FALSE;
    for (guint k = 0; al && k < json_array_get_length(al); k++)
      holds = holds || g_strcmp0(json_array_get_string_element(al, k), alias) == 0;
    JsonObject *held = holds ? version_signature(v) : NULL;
    if (!held || lathe_registry_signature_equal(held, signature))
      continue;
    g_autofree char *was = lathe_registry_signature_brief(held);
    g_autofree char *now = lathe_registry_signature_brief(signature);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s@%s points at version %" G_GINT64_FORMAT ", which takes %s; the new model "
                "takes %s; register it under another name, or allow the change with %s",
                name, alias, json_object_get_int_member_with_default(v, "version", 0), was, now,
                what);
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_registry_register_full(LatheRegistry *r, const char *name, LatheArtifact *model,
                                      JsonObject *meta, const char *alias, JsonObject *why,
                                      gboolean allow_signature_change, guint *version,
                                      GError **error) {
  JsonObject *header = lathe_artifact_get_model_header(model, error);
  if (!header)
    return FALSE;
  g_autoptr(JsonObject) sig = lathe_registry_signature_from_header(header);
  /* Before the version exists: a refused model leaves no version behind. */
  if (alias && !lathe_registry_check_signature(r, name, alias, sig, allow_signature_change,
                                               "the register node param allow_signature_change",
                                               error))
    return FALSE;
  json_object_set_string_member(meta, "model_digest", lathe_artifact_get_digest(model));
  json_object_set_object_member(meta, "model", json_object_ref(header));
  json_object_set_object_member(meta, "signature", json_object_ref(sig));
  if (!r->klass->register_model(r->instance, name, lathe_artifact_get_bytes(model), meta,
                                version, error))
    return FALSE;
  if (!alias)
    return TRUE;
  g_autoptr(JsonObject) reg_why =
      why ? NULL
          : lathe_registry_why_new(LATHE_REGISTRY_REASON_REGISTER,
                                   json_object_get_string_member_with_default(meta, "run_id", NULL),
                                   NULL);
  return lathe_registry_set_alias_why(r, name, alias, *version, why ? why : reg_why, error);
}

gboolean lathe_registry_register(LatheRegistry *r, const char *name, LatheArtifact *model,
                                 JsonObject *meta, const char *alias, guint *version,
                                 GError **error) {
  return lathe_registry_register_full(r, name, model, meta, alias, NULL, FALSE, version, error);
}

JsonArray *lathe_registry_list(LatheRegistry *r, const char *name, GError **error) {
  return r->klass->list(r->instance, name, error);
}

gboolean lathe_registry_set_alias(LatheRegistry *r, const char *name, const char *alias,
                                  guint version, GError **error) {
  return lathe_registry_set_alias_why(r, name, alias, version, NULL, error);
}

/* The version @ref names in a list() answer, or 0. */
static guint resolve_ref(JsonArray *versions, const char *ref) {
  char *end = NULL;
  guint64 number = g_ascii_strtoull(ref, &end, 10);
  gboolean numeric = *ref && end && *end == '\0';
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    gint64 ver = json_object_get_int_member_with_default(v, "version", 0);
    if (ver < 1 || ver > G_MAXUINT)
      continue;
    if (numeric && (guint64)ver == number)
      return (guint)ver;
    JsonArray *aliases = json_object_has_member(v, "aliases") && !json_object_get_null_member(v, "aliases")
                             ? json_object_get_array_member(v, "aliases") : NULL;
    for (guint k = 0; !numeric && aliases && k < json_array_get_length(aliases); k++)
      if (g_strcmp0(json_array_get_string_element(aliases, k), ref) == 0)
        return (guint)ver;
  }
  return 0;
}

LatheArtifact *lathe_registry_fetch(LatheRegistry *r, const char *name, const char *ref,
                                    guint *version, GError **error) {
  *version = 0;
  g_autoptr(JsonArray) versions = lathe_registry_list(r, name, error);
  if (!versions)
    return NULL;
  guint found = resolve_ref(versions, ref);
  if (!found)
    return NULL;
  g_autofree char *num = g_strdup_printf("%u", found);
  g_autoptr(GBytes) bytes = r->klass->get(r->instance, name, num, error);
  if (!bytes)
    return NULL;
  LatheArtifact *a = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, bytes);
  if (!lathe_artifact_get_model_header(a, NULL)) {
    lathe_artifact_unref(a);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s version %u in %s is not a model artifact; the registry is damaged", name,
                found, r->comp ? r->comp->id : "the registry");
    return NULL;
  }
  *version = found;
  return a;
}

/* Every entry carries the same members whatever the backend recorded. */
static void normalise_history(JsonArray *hist) {
  static const char *const why[] = {"reason", "user", "run_id", "figures", NULL};
  for (guint i = 0; i < json_array_get_length(hist); i++) {
    JsonObject *o = json_array_get_object_element(hist, i);
    for (int k = 0; o && why[k]; k++)
      if (!json_object_has_member(o, why[k]))
        json_object_set_null_member(o, why[k]);
  }
}

JsonArray *lathe_registry_alias_history(LatheRegistry *r, const char *name, const char *alias,
                                        GError **error) {
  /* NULL for registries built against ABI 1.3 and older: the host's copy of
   * their struct is zero beyond their size. */
  if (!r->klass->alias_history) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s keeps no alias history, so there is nothing to roll back to; set the alias "
                "with `lathe models alias NAME ALIAS VERSION`",
                reg_name(r));
    return NULL;
  }
  JsonArray *hist = r->klass->alias_history(r->instance, name, alias, error);
  if (hist)
    normalise_history(hist);
  return hist;
}

gboolean lathe_registry_delete_alias(LatheRegistry *r, const char *name, const char *alias,
                                     GError **error) {
  if (!r->klass->delete_alias) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s cannot delete aliases (built before ABI 1.4); point the alias elsewhere "
                "with `lathe models alias NAME ALIAS VERSION`",
                reg_name(r));
    return FALSE;
  }
  return r->klass->delete_alias(r->instance, name, alias, error);
}

JsonObject *lathe_registry_get_version(LatheRegistry *r, const char *name, const char *ref,
                                       GError **error) {
  if (r->klass->get_version)
    return r->klass->get_version(r->instance, name, ref, error);
  /* Older registries: the same answer from their list. */
  g_autoptr(JsonArray) versions = lathe_registry_list(r, name, error);
  if (!versions)
    return NULL;
  guint found = resolve_ref(versions, ref);
  for (guint i = 0; found && i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    if (json_object_get_int_member_with_default(v, "version", 0) == found)
      return json_object_ref(v);
  }
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
              "%s has no version or alias '%s' of '%s'; `lathe models list` shows them",
              reg_name(r), ref, name);
  return NULL;
}

gboolean lathe_registry_rollback(LatheRegistry *r, const char *name, const char *alias,
                                 guint *from, guint *to, GError **error) {
  g_autoptr(JsonArray) hist = lathe_registry_alias_history(r, name, alias, error);
  if (!hist)
    return FALSE;
  guint n = json_array_get_length(hist);
  if (n == 0) {
    g_autoptr(JsonArray) versions = lathe_registry_list(r, name, error);
    if (!versions)
      return FALSE;
    if (json_array_get_length(versions) == 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "no model named '%s' in the registry; `lathe models list` shows the models",
                  name);
      return FALSE;
    }
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s@%s was never set, so there is nothing to roll back; `lathe models list` "
                "shows the aliases",
                name, alias);
    return FALSE;
  }
  JsonObject *last = json_array_get_object_element(hist, n - 1);
  gint64 current = json_object_get_int_member(last, "version");
  JsonNode *prev = json_object_get_member(last, "previous_version");
  if (!prev || JSON_NODE_HOLDS_NULL(prev)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s@%s has no earlier version to roll back to: it was first set to version "
                "%" G_GINT64_FORMAT " and has not moved since",
                name, alias, current);
    return FALSE;
  }
  gint64 previous = json_node_get_int(prev);
  if (current < 1 || current > G_MAXUINT || previous < 1 || previous > G_MAXUINT) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "the alias history of %s@%s holds an impossible version (%" G_GINT64_FORMAT
                " after %" G_GINT64_FORMAT ")",
                name, alias, current, previous);
    return FALSE;
  }
  g_autoptr(JsonObject) why = lathe_registry_why_new(LATHE_REGISTRY_REASON_ROLLBACK, NULL, NULL);
  if (!lathe_registry_set_alias_why(r, name, alias, (guint)previous, why, error))
    return FALSE;
  *from = (guint)current;
  *to = (guint)previous;
  return TRUE;
}

gboolean lathe_registry_promote(LatheRegistry *r, const char *name, const char *from,
                                const char *to, gboolean allow_signature_change, guint *version,
                                GError **error) {
  g_autoptr(JsonObject) v = lathe_registry_get_version(r, name, from, error);
  if (!v)
    return FALSE;
  gint64 ver = json_object_get_int_member_with_default(v, "version", 0);
  if (ver < 1 || ver > G_MAXUINT) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s answered an impossible version for %s@%s", reg_name(r), name, from);
    return FALSE;
  }
  if (!lathe_registry_check_signature(r, name, to, version_signature(v), allow_signature_change,
                                      "--allow-signature-change", error))
    return FALSE;
  g_autoptr(JsonObject) figures = json_object_new();
  json_object_set_string_member(figures, "from_alias", from);
  g_autoptr(JsonObject) why = lathe_registry_why_new(LATHE_REGISTRY_REASON_PROMOTION, NULL, figures);
  if (!lathe_registry_set_alias_why(r, name, to, (guint)ver, why, error))
    return FALSE;
  *version = (guint)ver;
  return TRUE;
}

JsonObject *lathe_registry_version_signature(JsonObject *version) {
  return version_signature(version);
}

JsonArray *lathe_registry_model_history(LatheRegistry *r, const char *name, const char *alias,
                                        GError **error) {
  g_autoptr(JsonArray) hist = lathe_registry_alias_history(r, name, alias, error);
  if (!hist)
    return NULL;
  /* An empty history of a model that does not exist is a typo, not news. */
  if (json_array_get_length(hist) == 0) {
    g_autoptr(JsonObject) any = lathe_registry_get_version(r, name, "1", error);
    if (!any)
      return NULL;
  }
  return g_steal_pointer(&hist);
}

JsonArray *lathe_registry_models(LatheRegistry *r, GError **error) {
  g_autoptr(JsonArray) all = lathe_registry_list(r, NULL, error);
  if (!all)
    return NULL;
  JsonArray *out = json_array_new();
  JsonObject *cur = NULL;
  for (guint i = 0; i < json_array_get_length(all); i++) {
    JsonObject *v = json_array_get_object_element(all, i);
    const char *name = json_object_get_string_member_with_default(v, "name", "");
    if (!cur || g_strcmp0(json_object_get_string_member(cur, "name"), name) != 0) {
      cur = json_object_new();
      json_object_set_string_member(cur, "name", name);
      json_object_set_object_member(cur, "aliases", json_object_new());
      json_array_add_object_element(out, cur);
    }
    json_object_set_int_member(cur, "versions",
                               json_object_get_int_member_with_default(cur, "versions", 0) + 1);
    json_object_set_int_member(cur, "latest", json_object_get_int_member_with_default(v, "version", 0));
    json_object_set_string_member(cur, "created",
                                  json_object_get_string_member_with_default(v, "created", ""));
    JsonObject *aliases = json_object_get_object_member(cur, "aliases");
    JsonNode *al = json_object_get_member(v, "aliases");
    for (guint k = 0; al && JSON_NODE_HOLDS_ARRAY(al) && k < json_array_get_length(json_node_get_array(al)); k++)
      json_object_set_int_member(aliases, json_array_get_string_element(json_node_get_array(al), k),
                                 json_object_get_int_member_with_default(v, "version", 0));
  }
  return out;
}
