/* lakefs-params.h: the params source/lakefs and sink/lakefs declare alike.
 *
 * The endpoint may be a param; the credentials never are: they come the way
 * lakectl reads them (lakefs.h). A pipeline that names them anyway is
 * refused at validation (exit code 2) with where they go, and, flagged
 * LATHE_PARAM_SECRET, the value never reaches the store or a message.
 */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/* The one refusal of a credential param, for both plugins. */
#define LATHE_LAKEFS_CREDENTIALS_WHY                                                   \
  "credentials never go in a pipeline: set LAKECTL_CREDENTIALS_ACCESS_KEY_ID and "      \
  "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY or ~/.lakectl.yaml"

/* Refuses any value: a LatheParamCheckFunc for the credential params. */
gboolean lathe_lakefs_refuse_credential(const LatheParamSpec *spec, JsonNode *value, char **why);
/* lakeFS's repository id rule, ^[a-z0-9][a-z0-9-]{2,62}$. */
gboolean lathe_lakefs_check_repository(const LatheParamSpec *spec, JsonNode *value, char **why);
/* lakeFS's branch and tag id rule, ^\w[-\w]*$ (letters, digits, _ and -). */
gboolean lathe_lakefs_check_ref_name(const LatheParamSpec *spec, JsonNode *value, char **why);

/* An http(s) URL with a host and no user:password@ (which would be basic
 * auth, and credentials in the pipeline). */
gboolean lathe_lakefs_check_endpoint(const LatheParamSpec *spec, JsonNode *value, char **why);

/* "endpoint", then the two refused credential params: the end of both
 * plugins' param tables. */
#define LATHE_LAKEFS_CONNECTION_PARAMS                                                     \
  {.name = "endpoint", .type = LATHE_PARAM_STRING, .check = lathe_lakefs_check_endpoint,   \
   .doc = "lakeFS server URL (http://host:8000, with or without /api/v1); default: "      \
          "LAKECTL_SERVER_ENDPOINT_URL, then server.endpoint_url in ~/.lakectl.yaml"},     \
  {.name = "access_key_id", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_SECRET,        \
   .check = lathe_lakefs_refuse_credential,                                                \
   .doc = "refused: set LAKECTL_CREDENTIALS_ACCESS_KEY_ID or ~/.lakectl.yaml"},            \
  {.name = "secret_access_key", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_SECRET,    \
   .check = lathe_lakefs_refuse_credential,                                                \
   .doc = "refused: set LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY or ~/.lakectl.yaml"}

G_END_DECLS
