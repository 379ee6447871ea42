/* registry-list.c: reading the registry back as JSON: the versions of the
 * list call and the alias history for `lathe models`. */
#include "registry-private.h"

/* The aliases pointing at one version, sorted. Lock held. */
static JsonArray *version_aliases(LatheRegistryLocal *r, const char *name, gint64 version,
                                  GError **error) {
  sqlite3_stmt *st = lathe_registry_sql_query(
      r, error,
      "SELECT alias FROM aliases WHERE name = ?1 AND version = ?2 ORDER BY alias", "si",
      name, version);
  if (!st)
    return NULL;
  JsonArray *aliases = json_array_new();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    json_array_add_string_element(aliases, (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    json_array_unref(aliases);
    lathe_registry_db_error(r, error, "cannot read the aliases");
    return NULL;
  }
  return aliases;
}

static JsonObject *parse_metadata(LatheRegistryLocal *r, const char *name, gint64 version,
                                  const char *text, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) parse_error = NULL;
  if (json_parser_load_from_data(parser, text ? text : "", -1, &parse_error) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "registry-local: the metadata of model '%s' version %" G_GINT64_FORMAT
              " in %s is not a JSON object%s%s",
              name, version, r->db_path, parse_error ? ": " : "",
              parse_error ? parse_error->message : "");
  return NULL;
}

static JsonObject *version_object(LatheRegistryLocal *r, sqlite3_stmt *st, GError **error) {
  const char *name = (const char *)sqlite3_column_text(st, 0);
  gint64 version = sqlite3_column_int64(st, 1);
  g_autoptr(JsonObject) metadata =
      parse_metadata(r, name, version, (const char *)sqlite3_column_text(st, 5), error);
  if (!metadata)
    return NULL;
  JsonArray *aliases = version_aliases(r, name, version, error);
  if (!aliases)
    return NULL;
  g_autofree char *created = lathe_registry_iso8601(sqlite3_column_int64(st, 4));
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", name);
  json_object_set_int_member(o, "version", version);
  json_object_set_string_member(o, "digest", (const char *)sqlite3_column_text(st, 2));
  json_object_set_int_member(o, "size", sqlite3_column_int64(st, 3));
  json_object_set_string_member(o, "created", created);
  json_object_set_array_member(o, "aliases", aliases);
  json_object_set_object_member(o, "metadata", g_steal_pointer(&metadata));
  return o;
}

/**
 * lathe_registry_list:
 * @name: (nullable): one model, or %NULL for all.
 *
 * Returns: (transfer full) (nullable): {name, version, digest, size, created,
 * aliases, metadata} objects sorted by name then version (empty for a model
 * that does not exist), or %NULL with @error set.
 */
JsonArray *lathe_registry_list(LatheRegistryLocal *r, const char *name, GError **error) {
  g_mutex_lock(&r->lock);
  /* One read transaction, so the versions and their aliases are one snapshot
   * even while another process sets an alias. */
  g_autoptr(JsonArray) out = NULL;
  sqlite3_stmt *st = NULL;
  if (!lathe_registry_db_exec(r, "BEGIN", "cannot read the registry", error))
    goto done;
  st = lathe_registry_sql_query(r, error,
                                "SELECT name, version, digest, size, created, metadata"
                                " FROM versions WHERE ?1 IS NULL OR name = ?1"
                                " ORDER BY name, version",
                                "s", name);
  if (!st)
    goto done;
  out = json_array_new();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    JsonObject *o = version_object(r, st, error);
    if (!o) {
      g_clear_pointer(&out, json_array_unref);
      goto done;
    }
    json_array_add_object_element(out, o);
  }
  if (rc != SQLITE_DONE) {
    lathe_registry_db_error(r, error, "cannot list the versions");
    g_clear_pointer(&out, json_array_unref);
  }
done:
  sqlite3_finalize(st);
  lathe_registry_sql_rollback(r); /* read-only: nothing to keep */
  g_mutex_unlock(&r->lock);
  return g_steal_pointer(&out);
}

JsonArray *lathe_registry_alias_history(gpointer registry, const char *name, const char *alias,
                                        GError **error) {
  LatheRegistryLocal *r = registry;
  if (!r) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "registry-local: alias history asked of no registry");
    return NULL;
  }
  if ((name && !lathe_registry_check_model_name(name, error)) ||
      (alias && !lathe_registry_check_alias(alias, error)))
    return NULL;
  g_mutex_lock(&r->lock);
  sqlite3_stmt *st = lathe_registry_sql_query(
      r, error,
      "SELECT name, alias, version, previous_version, set_at, reason, user, run_id, figures"
      " FROM alias_history"
      " WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR alias = ?2) ORDER BY id",
      "ss", name, alias);
  JsonArray *out = st ? json_array_new() : NULL;
  int rc = SQLITE_DONE;
  while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    JsonObject *o = json_object_new();
    g_autofree char *set_at = lathe_registry_iso8601(sqlite3_column_int64(st, 4));
    json_object_set_string_member(o, "name", (const char *)sqlite3_column_text(st, 0));
    json_object_set_string_member(o, "alias", (const char *)sqlite3_column_text(st, 1));
    json_object_set_int_member(o, "version", sqlite3_column_int64(st, 2));
    if (sqlite3_column_type(st, 3) == SQLITE_NULL)
      json_object_set_null_member(o, "previous_version");
    else
      json_object_set_int_member(o, "previous_version", sqlite3_column_int64(st, 3));
    json_object_set_string_member(o, "set_at", set_at);
    static const char *const why[] = {"reason", "user", "run_id"};
    for (int k = 0; k < 3; k++) {
      if (sqlite3_column_type(st, 5 + k) == SQLITE_NULL)
        json_object_set_null_member(o, why[k]);
      else
        json_object_set_string_member(o, why[k], (const char *)sqlite3_column_text(st, 5 + k));
    }
    g_autoptr(JsonNode) figures = NULL;
    if (sqlite3_column_type(st, 8) != SQLITE_NULL)
      figures = json_from_string((const char *)sqlite3_column_text(st, 8), NULL);
    json_object_set_member(o, "figures", figures ? g_steal_pointer(&figures)
                                                 : json_node_new(JSON_NODE_NULL));
    json_array_add_object_element(out, o);
  }
  if (st && rc != SQLITE_DONE) {
    lathe_registry_db_error(r, error, "cannot read the alias history");
    g_clear_pointer(&out, json_array_unref);
  }
  sqlite3_finalize(st);
  g_mutex_unlock(&r->lock);
  return out;
}
