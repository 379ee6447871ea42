/* registry-local.c: the registry/local component, Lathe's embedded default
 * model registry: MLflow-like model versions and aliases in a folder, an
 * SQLite index next to content-addressed blobs. */
#include <errno.h>
#include <string.h>

#include "registry-private.h"

static const LatheParamSpec registry_params[] = {
    LATHE_PARAM_STRING_("path", "\"\"", 0,
                        "registry folder; empty means <store>/registry, a relative "
                        "path is relative to the pipeline file"),
    LATHE_PARAM_BOOL_("read_only", "false",
                      "open for reading only (lathe ui): nothing is created, upgraded or "
                      "written; a registry not made yet lists nothing"),
    LATHE_PARAM_END,
};


static void registry_close(gpointer registry) {
  LatheRegistryLocal *r = registry;
  if (!r)
    return;
  sqlite3_close(r->db);
  g_mutex_clear(&r->lock);
  g_free(r->root);
  g_free(r->db_path);
  g_free(r);
}

static gpointer registry_open(LatheContext *ctx, GError **error) {
  g_autofree char *root =
      lathe_context_resolve_path(ctx, lathe_context_param_string(ctx, "path"), "registry", error);
  if (!root)
    return NULL;
  gboolean read_only = lathe_context_param_bool(ctx, "read_only");
  g_autofree char *blobs = g_build_filename(root, "blobs", "sha256", NULL);
  if (!read_only && g_mkdir_with_parents(blobs, 0755) != 0) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "registry-local: cannot create the registry folder %s: %s", blobs,
                g_strerror(e));
    return NULL;
  }
  LatheRegistryLocal *r = g_new0(LatheRegistryLocal, 1);
  r->ctx = ctx;
  r->root = g_steal_pointer(&root);
  r->db_path = g_build_filename(r->root, "registry.db", NULL);
  g_mutex_init(&r->lock);
  if (!lathe_registry_db_open(r, read_only, error)) {
    registry_close(r);
    return NULL;
  }
  return r;
}

static char *metadata_text(JsonObject *metadata) {
  if (!metadata)
    return g_strdup("{}");
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, metadata);
  return lathe_json_write(node, FALSE); /* json_to_string writes 1e-08 as 1e-08.0 */
}

/* Called with the lock held, inside the transaction. */
static gboolean next_version(LatheRegistryLocal *r, const char *name, gint64 *version,
                             GError **error) {
  gboolean found = FALSE;
  return lathe_registry_sql_int(
      r, error, &found, version,
      "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE name = ?1", "s", name);
}

static gboolean registry_register(gpointer registry, const char *name, GBytes *model,
                                  JsonObject *metadata, guint *version, GError **error) {
  LatheRegistryLocal *r = registry;
  if (!lathe_registry_check_model_name(name, error))
    return FALSE;
  if (!model) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: register_model: no model bytes given for '%s' (%s)", name,
                r->root);
    return FALSE;
  }
  g_autofree char *meta = metadata_text(metadata);
  /* The blob goes first, outside the lock: a crash in between leaves an
   * unreferenced blob, never a version whose bytes are missing. */
  gboolean healed = FALSE;
  g_autofree char *digest = lathe_registry_blob_put(r->root, model, &healed, error);
  if (!digest)
    return FALSE;
  if (healed)
    lathe_context_log(r->ctx, G_LOG_LEVEL_WARNING,
                      "registry-local: replaced a corrupt copy of blob %s in %s", digest,
                      r->root);
  gint64 now = g_get_real_time() / 1000, v = 0;
  g_mutex_lock(&r->lock);
  /* IMMEDIATE takes the write lock before reading MAX(version), so two
   * processes registering the same name cannot both pick the same number. */
  gboolean ok =
      lathe_registry_db_exec(r, "BEGIN IMMEDIATE", "cannot lock the registry", error) &&
      lathe_registry_sql_exec(r, error, "cannot record the model",
                              "INSERT INTO models(name, created) VALUES(?1, ?2)"
                              " ON CONFLICT(name) DO NOTHING",
                              "si", name, now) &&
      next_version(r, name, &v, error) &&
      lathe_registry_sql_exec(r, error, "cannot record the version",
                              "INSERT INTO versions(name, version, digest, size, created,"
                              " metadata) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                              "sisiis", name, v, digest, (gint64)g_bytes_get_size(model),
                              now, meta) &&
      lathe_registry_db_exec(r, "COMMIT", "cannot commit the version", error);
  if (!ok)
    lathe_registry_sql_rollback(r);
  g_mutex_unlock(&r->lock);
  if (ok && version)
    *version = (guint)v;
  return ok;
}

/* Checks that @name exists; otherwise says which models do. Lock held. */
static gboolean require_model(LatheRegistryLocal *r, const char *name, GError **error) {
  gboolean found = FALSE;
  gint64 one = 0;
  if (!lathe_registry_sql_int(r, error, &found, &one,
                              "SELECT 1 FROM models WHERE name = ?1", "s", name))
    return FALSE;
  if (!found) {
    g_autofree char *models = lathe_registry_describe_models(r);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: no model named '%s' in %s (%s)", name, r->root, models);
  }
  return found;
}

static gboolean unknown_version(LatheRegistryLocal *r, const char *name, const char *which,
                                GError **error) {
  g_autofree char *known = lathe_registry_describe_model(r, name);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
              "registry-local: model '%s' has no %s in %s (it has %s)", name, which, r->root,
              known);
  return FALSE;
}

/* @why's member @m as text (JSON for an object), or NULL. */
static char *why_text(JsonObject *why, const char *m) {
  JsonNode *n = why ? json_object_get_member(why, m) : NULL;
  if (!n || JSON_NODE_HOLDS_NULL(n))
    return NULL;
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  return lathe_json_write(n, FALSE);
}

static gboolean registry_set_alias_full(gpointer registry, const char *name, const char *alias,
                                        guint version, JsonObject *why, GError **error) {
  LatheRegistryLocal *r = registry;
  g_autofree char *reason = why_text(why, "reason");
  g_autofree char *user = why_text(why, "user");
  g_autofree char *run_id = why_text(why, "run_id");
  g_autofree char *figures = why_text(why, "figures");
  if (!lathe_registry_check_model_name(name, error) ||
      !lathe_registry_check_alias(alias, error))
    return FALSE;
  g_mutex_lock(&r->lock);
  gboolean ok =
      lathe_registry_db_exec(r, "BEGIN IMMEDIATE", "cannot lock the registry", error) &&
      require_model(r, name, error);
  gboolean found = FALSE, had = FALSE;
  gint64 one = 0, previous = 0;
  if (ok)
    ok = lathe_registry_sql_int(r, error, &found, &one,
                                "SELECT 1 FROM versions WHERE name = ?1 AND version = ?2",
                                "si", name, (gint64)version);
  if (ok && !found) {
    g_autofree char *which = g_strdup_printf("version %u", version);
    ok = unknown_version(r, name, which, error);
  }
  if (ok)
    ok = lathe_registry_sql_int(r, error, &had, &previous,
                                "SELECT version FROM aliases WHERE name = ?1 AND alias = ?2",
                                "ss", name, alias);
  /* Pointing an alias where it already points is not a move: no history. */
  if (ok && !(had && previous == version)) {
    ok = lathe_registry_sql_exec(r, error, "cannot set the alias",
                                 "INSERT INTO aliases(name, alias, version) VALUES(?1, ?2, ?3)"
                                 " ON CONFLICT(name, alias) DO UPDATE"
                                 " SET version = excluded.version",
                                 "ssi", name, alias, (gint64)version);
    /* Versions start at 1, so 0 stands for "no previous version". */
    ok = ok && lathe_registry_sql_exec(r, error, "cannot record the alias history",
                                       "INSERT INTO alias_history(name, alias, version,"
                                       " previous_version, set_at, reason, user, run_id,"
                                       " figures)"
                                       " VALUES(?1, ?2, ?3, NULLIF(?4, 0), ?5, ?6, ?7, ?8, ?9)",
                                       "ssiiissss", name, alias, (gint64)version,
                                       had ? previous : (gint64)0,
                                       g_get_real_time() / 1000, reason,
                                       user ? user : g_get_user_name(), run_id, figures);
  }
  ok = ok && lathe_registry_db_exec(r, "COMMIT", "cannot commit the alias", error);
  if (!ok)
    lathe_registry_sql_rollback(r);
  g_mutex_unlock(&r->lock);
  return ok;
}

static gboolean registry_set_alias(gpointer registry, const char *name, const char *alias,
                                   guint version, GError **error) {
  return registry_set_alias_full(registry, name, alias, version, NULL, error);
}

/* "12" is a version; anything else must be an alias. */
static gboolean all_digits(const char *text) {
  for (const char *p = text; *p; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  return TRUE;
}

/* Finds the digest, size and version @ref of @name points at. Lock held. */
static gboolean resolve_ref(LatheRegistryLocal *r, const char *name, const char *ref,
                            char **digest, gint64 *size, gint64 *version,
                            GError **error) {
  guint64 number = 0;
  sqlite3_stmt *st;
  gboolean is_number = all_digits(ref);
  /* A number too large for any version simply matches none. */
  if (is_number && !g_ascii_string_to_unsigned(ref, 10, 0, G_MAXINT64, &number, NULL))
    number = G_MAXINT64;
  if (is_number && number == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: model '%s' has no version 0 in %s: versions count from 1",
                name, r->root);
    return FALSE;
  }
  if (!is_number && !lathe_registry_check_alias(ref, error))
    return FALSE;
  if (is_number)
    st = lathe_registry_sql_query(r, error,
                                  "SELECT digest, size, version FROM versions"
                                  " WHERE name = ?1 AND version = ?2",
                                  "si", name, (gint64)number);
  else
    st = lathe_registry_sql_query(r, error,
                                  "SELECT v.digest, v.size, v.version FROM aliases a"
                                  " JOIN versions v USING (name, version)"
                                  " WHERE a.name = ?1 AND a.alias = ?2",
                                  "ss", name, ref);
  if (!st)
    return FALSE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *digest = g_strdup((const char *)sqlite3_column_text(st, 0));
    *size = sqlite3_column_int64(st, 1);
    *version = sqlite3_column_int64(st, 2);
  } else if (rc != SQLITE_DONE) {
    lathe_registry_db_error(r, error, "cannot look up the version");
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_DONE) {
    g_autofree char *which = is_number ? g_strdup_printf("version %s", ref)
                                       : g_strdup_printf("alias '%s'", ref);
    unknown_version(r, name, which, error);
  }
  return rc == SQLITE_ROW;
}

/* Checks @name and @ref and finds what @ref points at; what `get` and
 * `get_version` share. @what names the call in the error. */
static gboolean lookup_ref(LatheRegistryLocal *r, const char *what, const char *name,
                           const char *ref, char **digest, gint64 *size, gint64 *version,
                           GError **error) {
  if (!lathe_registry_check_model_name(name, error))
    return FALSE;
  if (!ref || !*ref) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: %s '%s': give a version number or an alias (%s)", what, name,
                r->root);
    return FALSE;
  }
  g_mutex_lock(&r->lock);
  gboolean ok = require_model(r, name, error) &&
                resolve_ref(r, name, ref, digest, size, version, error);
  g_mutex_unlock(&r->lock);
  return ok;
}

static GBytes *registry_get(gpointer registry, const char *name,
                            const char *version_or_alias, GError **error) {
  LatheRegistryLocal *r = registry;
  g_autofree char *digest = NULL;
  gint64 size = 0, version = 0;
  if (!lookup_ref(r, "get", name, version_or_alias, &digest, &size, &version, error))
    return NULL;
  /* Blobs are immutable once named, so reading outside the lock is safe. */
  g_autofree char *label =
      g_strdup_printf("model '%s' version %" G_GINT64_FORMAT, name, version);
  return lathe_registry_blob_get(r->root, digest, size, label, error);
}

static JsonArray *registry_list(gpointer registry, const char *name, GError **error) {
  LatheRegistryLocal *r = registry;
  if (name && !lathe_registry_check_model_name(name, error))
    return NULL;
  return lathe_registry_list(r, name, error);
}

static gboolean registry_delete_alias(gpointer registry, const char *name, const char *alias,
                                      GError **error) {
  LatheRegistryLocal *r = registry;
  if (!lathe_registry_check_model_name(name, error) ||
      !lathe_registry_check_alias(alias, error))
    return FALSE;
  g_mutex_lock(&r->lock);
  gboolean had = FALSE;
  gint64 version = 0;
  gboolean ok =
      lathe_registry_db_exec(r, "BEGIN IMMEDIATE", "cannot lock the registry", error) &&
      require_model(r, name, error) &&
      lathe_registry_sql_int(r, error, &had, &version,
                             "SELECT version FROM aliases WHERE name = ?1 AND alias = ?2",
                             "ss", name, alias);
  if (ok && !had) {
    g_autofree char *known = lathe_registry_describe_model(r, name);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: model '%s' has no alias '%s' in %s (it has %s)", name, alias,
                r->root, known);
    ok = FALSE;
  }
  /* The history keeps its moves: a later rollback still knows where the
   * alias pointed before its last move. */
  ok = ok && lathe_registry_sql_exec(r, error, "cannot delete the alias",
                                     "DELETE FROM aliases WHERE name = ?1 AND alias = ?2", "ss",
                                     name, alias);
  ok = ok && lathe_registry_db_exec(r, "COMMIT", "cannot commit the alias", error);
  if (!ok)
    lathe_registry_sql_rollback(r);
  g_mutex_unlock(&r->lock);
  return ok;
}

static JsonObject *registry_get_version(gpointer registry, const char *name,
                                        const char *version_or_alias, GError **error) {
  LatheRegistryLocal *r = registry;
  g_autofree char *digest = NULL;
  gint64 size = 0, version = 0;
  if (!lookup_ref(r, "version", name, version_or_alias, &digest, &size, &version, error))
    return NULL;
  g_autoptr(JsonArray) versions = lathe_registry_list(r, name, error);
  for (guint i = 0; versions && i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    if (json_object_get_int_member_with_default(v, "version", 0) == version)
      return json_object_ref(v);
  }
  if (versions)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "registry-local: model '%s' version %" G_GINT64_FORMAT
                " vanished while it was read (%s)", name, version, r->root);
  return NULL;
}

static const LatheRegistryClass registry_local = {
    LATHE_COMPONENT_INIT(LatheRegistryClass, LATHE_KIND_REGISTRY, "local",
                         "Model versions and aliases in a local folder (SQLite index, "
                         "content-addressed blobs)",
                         registry_params, NULL, NULL),
    .open = registry_open,
    .register_model = registry_register,
    .set_alias = registry_set_alias,
    .list = registry_list,
    .get = registry_get,
    .close = registry_close,
    .alias_history = lathe_registry_alias_history,
    .delete_alias = registry_delete_alias,
    .get_version = registry_get_version,
    .set_alias_full = registry_set_alias_full,
};

LATHE_PLUGIN_DEFINE("registry-local", "0.1.0", "MIT",
                    "Embedded default model registry (local folder, MLflow-like aliases)",
                    LATHE_COMPONENT(registry_local))
