/* lakefs.h: the lakeFS API as source/lakefs and sink/lakefs call it.
 *
 * One copy of what both plugins need: where the server is and who we are
 * (lakectl's conventions, never the pipeline), the API paths with their
 * segments escaped, and errors that name the endpoint and what to do. Every
 * request goes through the project's HTTP layer (http/lathe-http.h): retries,
 * timeouts, streaming and credential-free messages come from there.
 *
 * A static library, compiled into each plugin with hidden visibility.
 */
#pragma once

#include <lathe-http.h>

G_BEGIN_DECLS

/* The environment variables lakectl reads, in its own names. */
#define LATHE_LAKEFS_ENV_ENDPOINT "LAKECTL_SERVER_ENDPOINT_URL"
#define LATHE_LAKEFS_ENV_KEY_ID "LAKECTL_CREDENTIALS_ACCESS_KEY_ID"
#define LATHE_LAKEFS_ENV_SECRET "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"

typedef struct _LatheLakefs LatheLakefs;

/**
 * lathe_lakefs_endpoint_normalize:
 * @url: a lakeFS server URL, with or without "/api/v1" (lakectl accepts both).
 *
 * Returns: (transfer full): the API base, ending in "/api/v1", no trailing
 *   slash; NULL when @url is not http(s).
 */
char *lathe_lakefs_endpoint_normalize(const char *url);

/**
 * lathe_lakefs_open:
 * @endpoint: (nullable): the pipeline's "endpoint" param; it overrides the
 *   endpoint of the environment or ~/.lakectl.yaml, never the credentials.
 * @options: (nullable): HTTP options (timeouts, retries); NULL: defaults,
 *   adjusted by LATHE_LAKEFS_* variables a test may set (see lakefs-client.c).
 *
 * Reads the endpoint and credentials the way lakectl does:
 * LAKECTL_SERVER_ENDPOINT_URL, LAKECTL_CREDENTIALS_ACCESS_KEY_ID and
 * LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY, then ~/.lakectl.yaml
 * (server.endpoint_url, credentials.access_key_id/secret_access_key). No
 * request is made.
 *
 * Returns: (transfer full): the client, or NULL with @error (a
 *   LATHE_HTTP_ERROR_INVALID naming what to set) when no endpoint is known.
 */
LatheLakefs *lathe_lakefs_open(const char *endpoint, const LatheHttpOptions *options,
                               GError **error);
void lathe_lakefs_free(LatheLakefs *lk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheLakefs, lathe_lakefs_free)

/* Returns: (transfer none): the API base ("http://host:port/api/v1"). */
const char *lathe_lakefs_get_endpoint(LatheLakefs *lk);
/* Returns: (transfer none): the HTTP client, for streamed transfers. */
LatheHttpClient *lathe_lakefs_get_http(LatheLakefs *lk);
/* Returns: (transfer none): where the credentials came from ("environment",
 * the yaml file's path, or "none"), for messages. */
const char *lathe_lakefs_get_credentials_source(LatheLakefs *lk);

/**
 * lathe_lakefs_path:
 * @first: the first path segment ("repositories"), then more, NULL-terminated.
 *
 * Joins segments into an API path, each escaped as one segment ("a/b" becomes
 * "a%2Fb"), so a branch or repository name never changes the route.
 *
 * Returns: (transfer full): "/repositories/REPO/branches/BRANCH".
 */
char *lathe_lakefs_path(const char *first, ...) G_GNUC_NULL_TERMINATED;

/**
 * lathe_lakefs_request:
 * @method: "GET", "POST", ...
 * @path: from lathe_lakefs_path().
 *
 * Returns: (transfer full): a request for @path; add queries and a body.
 */
LatheHttpRequest *lathe_lakefs_request(const char *method, const char *path);

/**
 * lathe_lakefs_json:
 * @req: (transfer none): a request from lathe_lakefs_request().
 *
 * Sends @req and parses the JSON answer. Errors keep the HTTP layer's
 * domain and code (the status) and one line naming the method and URL, the
 * status, lakeFS's message, and what to do: a 401 says which variables to
 * set (or the yaml file that gave the credentials).
 *
 * Returns: (transfer full): the parsed body, or NULL with @error set.
 */
JsonNode *lathe_lakefs_json(LatheLakefs *lk, LatheHttpRequest *req, GCancellable *cancellable,
                            GError **error);

G_END_DECLS
