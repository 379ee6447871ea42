/* registry-mlflow-private.h: what the files of the registry/mlflow plugin
 * share. Not installed, not part of the ABI. docs/mlflow-registry.md
 * describes the tags and the alias-history record this code writes. */
#pragma once

#include <mlflow.h>
#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

#define RM_COMPONENT "registry/mlflow"
/* MLflow's limit on registered-model and model-version tag values
 * (mlflow/utils/validation.py, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH). Longer
 * values are split into parts (mlflow-tags.c). */
#define RM_TAG_VALUE_MAX 5000
/* ... and on tag keys. */
#define RM_TAG_KEY_MAX 250
/* Where model blobs go under the artifact proxy, by content. */
#define RM_BLOB_ROOT "lathe/models/sha256"
#define RM_BLOB_FILE "model.lathe"
/* The registered-model tags holding alias moves:
 * lathe.alias_history.<alias>.<seq>.<nonce> (mlflow-aliases.c). */
#define RM_HISTORY_PREFIX "lathe.alias_history."

/* One open registry: the `gpointer registry` of the ABI calls. The HTTP
 * client serializes its own calls; @lock guards the rest. */
typedef struct {
  LatheContext *ctx;
  LatheMlflow *mlflow;
  const char *uri; /* MLFLOW_TRACKING_URI without credentials, for messages */
  GMutex lock;
  /* The version register_model created last and the run it came from: a
   * set_alias right after it is the registration's own move. */
  char *last_name;
  guint last_version;
  char *last_run;
} RegMlflow;

/* registry-call.c: the MLflow REST calls. */
RegMlflow *rm_connect(LatheContext *ctx, GError **error);
void rm_disconnect(RegMlflow *r);
/* One JSON call to /api/2.0/mlflow/@endpoint. GETs take
 * @query (name, value pairs, NULL-terminated); the others @body (transfer
 * none). A failure is one line in LATHE_ERROR: INVALID for what the server
 * refused as unknown or wrong (4xx but auth), UNAVAILABLE when it is out of
 * reach, FAILED otherwise; @status (nullable) gets the HTTP status or 0. */
JsonObject *rm_call(RegMlflow *r, const char *method, const char *endpoint, JsonObject *body,
                    const char *const *query, guint *status, GError **error);
/* The model blob (RM_BLOB_FILE) under @artifact_uri ("mlflow-artifacts:/..."). */
gboolean rm_put_blob(RegMlflow *r, const char *artifact_uri, GBytes *bytes, GError **error);
GBytes *rm_get_blob(RegMlflow *r, const char *artifact_uri, char **sha256, GError **error);
char *rm_iso8601(gint64 ms);
gboolean rm_all_digits(const char *text);
/* Lathe's naming rules that matter here: a model name fits a filter and a
 * URL; an alias starts with a letter so "2" always means version 2. */
gboolean rm_check_name(const char *name, GError **error);
gboolean rm_check_alias(const char *alias, GError **error);

/* mlflow-tags.c: metadata <-> model-version tags. */
JsonArray *rm_tags_from_metadata(JsonObject *metadata, const char *sha256, gsize size,
                                 const char *request_id);
GHashTable *rm_tags_table(JsonObject *holder); /* key -> value, parts joined */
JsonObject *rm_version_object(JsonObject *model_version, GError **error);

/* mlflow-aliases.c */
gboolean rm_set_alias(gpointer registry, const char *name, const char *alias, guint version,
                      GError **error);
gboolean rm_set_alias_full(gpointer registry, const char *name, const char *alias,
                           guint version, JsonObject *why, GError **error);
gboolean rm_delete_alias(gpointer registry, const char *name, const char *alias,
                         GError **error);
JsonArray *rm_alias_history(gpointer registry, const char *name, const char *alias,
                            GError **error);
/* The registered model @name, or NULL (no error) when it does not exist. */
JsonObject *rm_get_model(RegMlflow *r, const char *name, GError **error);

G_END_DECLS
