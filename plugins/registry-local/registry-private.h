/* registry-private.h: what the files of the registry/local plugin share.
 * Not installed, not part of the ABI. */
#pragma once

#include <sqlite3.h>

#include <lathe/lathe-sdk.h>


G_BEGIN_DECLS

/* What LatheRegistryClass.open returns (the `gpointer registry` of the
 * other calls). */
typedef struct _LatheRegistryLocal LatheRegistryLocal;

/* The schema this code writes, stored in PRAGMA user_version. */
#define LATHE_REGISTRY_SCHEMA_VERSION 2
/* How long a write waits for another process registering at the same time. */
#define LATHE_REGISTRY_BUSY_TIMEOUT_MS 30000

/* One open registry. Calls may come from any thread, so every use of @db
 * happens with @lock held. */
struct _LatheRegistryLocal {
  LatheContext *ctx;
  char *root;    /* the registry folder */
  char *db_path; /* root/registry.db */
  sqlite3 *db;
  GMutex lock;
};

/* registry-db.c */
gboolean lathe_registry_db_open(LatheRegistryLocal *r, gboolean read_only, GError **error);
gboolean lathe_registry_db_error(LatheRegistryLocal *r, GError **error, const char *what);
sqlite3_stmt *lathe_registry_db_prepare(LatheRegistryLocal *r, const char *sql,
                                        GError **error);
gboolean lathe_registry_db_exec(LatheRegistryLocal *r, const char *sql, const char *what,
                                GError **error);
char *lathe_registry_iso8601(gint64 ms);

/* registry-sql.c */
sqlite3_stmt *lathe_registry_sql_query(LatheRegistryLocal *r, GError **error,
                                       const char *sql, const char *types, ...);
gboolean lathe_registry_sql_exec(LatheRegistryLocal *r, GError **error, const char *what,
                                 const char *sql, const char *types, ...);
gboolean lathe_registry_sql_int(LatheRegistryLocal *r, GError **error, gboolean *found,
                                gint64 *value, const char *sql, const char *types, ...);
void lathe_registry_sql_rollback(LatheRegistryLocal *r);

/* registry-blob.c */
char *lathe_registry_blob_path(const char *root, const char *digest);
char *lathe_registry_blob_put(const char *root, GBytes *bytes, gboolean *healed,
                              GError **error);
GBytes *lathe_registry_blob_get(const char *root, const char *digest, gint64 size,
                                const char *label, GError **error);

/* registry-describe.c */
char *lathe_registry_describe_models(LatheRegistryLocal *r);
char *lathe_registry_describe_model(LatheRegistryLocal *r, const char *name);

/* registry-list.c */
JsonArray *lathe_registry_list(LatheRegistryLocal *r, const char *name, GError **error);
JsonArray *lathe_registry_alias_history(gpointer registry, const char *name, const char *alias,
                                        GError **error);

/* registry-names.c */
gboolean lathe_registry_check_model_name(const char *name, GError **error);
gboolean lathe_registry_check_alias(const char *alias, GError **error);

G_END_DECLS
