/* mlflow.h: the MLflow REST API 2.0 as tracker/mlflow and registry/mlflow
 * call it.
 *
 * One copy of what both plugins need: where the server is and who we are
 * (MLflow's own environment variables, never the pipeline), the JSON call
 * under /api/2.0/mlflow/ with MLflow's answers turned into one-line errors
 * and Lathe's error codes, the experiment lookup, and the artifact proxy's
 * paths. Every request goes through the project's HTTP layer
 * (http/lathe-http.h): retries, timeouts, streaming and credential-free
 * messages come from there.
 *
 * A static library, compiled into each plugin with hidden visibility.
 */
#pragma once

#include <lathe-http.h>

G_BEGIN_DECLS

/* The variables MLflow's own client reads, in its names. */
#define LATHE_MLFLOW_ENV_URI "MLFLOW_TRACKING_URI"
#define LATHE_MLFLOW_ENV_TOKEN "MLFLOW_TRACKING_TOKEN"
#define LATHE_MLFLOW_ENV_USERNAME "MLFLOW_TRACKING_USERNAME"
#define LATHE_MLFLOW_ENV_PASSWORD "MLFLOW_TRACKING_PASSWORD"
#define LATHE_MLFLOW_ENV_EXPERIMENT "MLFLOW_EXPERIMENT_NAME"

typedef struct _LatheMlflow LatheMlflow;

/**
 * LatheMlflowCode:
 * @LATHE_MLFLOW_CODE_NONE: not an error of the server (a local error).
 * @LATHE_MLFLOW_CODE_UNAVAILABLE: down, timed out, cut, 429 or 5xx after
 *   the retries: the same call may succeed later.
 * @LATHE_MLFLOW_CODE_AUTH: 401 or 403.
 * @LATHE_MLFLOW_CODE_NOT_FOUND: 404 (RESOURCE_DOES_NOT_EXIST).
 * @LATHE_MLFLOW_CODE_ALREADY_EXISTS: 400 RESOURCE_ALREADY_EXISTS.
 * @LATHE_MLFLOW_CODE_INVALID: any other 4xx (INVALID_PARAMETER_VALUE...).
 * @LATHE_MLFLOW_CODE_BAD_ANSWER: an answer that is not MLflow's JSON.
 *
 * What a failed call means, from an error the calls below set.
 */
typedef enum {
  LATHE_MLFLOW_CODE_NONE = 0,
  LATHE_MLFLOW_CODE_UNAVAILABLE,
  LATHE_MLFLOW_CODE_AUTH,
  LATHE_MLFLOW_CODE_NOT_FOUND,
  LATHE_MLFLOW_CODE_ALREADY_EXISTS,
  LATHE_MLFLOW_CODE_INVALID,
  LATHE_MLFLOW_CODE_BAD_ANSWER,
} LatheMlflowCode;

/**
 * lathe_mlflow_open:
 * @options: (nullable): HTTP options; NULL: the layer's defaults, adjusted by
 *   LATHE_MLFLOW_CONNECT_TIMEOUT_MS, LATHE_MLFLOW_IDLE_TIMEOUT_MS,
 *   LATHE_MLFLOW_MAX_ATTEMPTS, LATHE_MLFLOW_TOTAL_TIMEOUT_MS and
 *   LATHE_MLFLOW_BACKOFF_MS (tests set them short).
 *
 * Reads MLFLOW_TRACKING_URI (http or https only), then the credentials:
 * MLFLOW_TRACKING_USERNAME and _PASSWORD (Basic), else MLFLOW_TRACKING_TOKEN
 * (Bearer); Basic wins when both are set, as in MLflow. No request is made.
 *
 * Returns: (transfer full): the client, or NULL with @error (LATHE_ERROR,
 *   LATHE_ERROR_INVALID: one line saying what to set).
 */
LatheMlflow *lathe_mlflow_open(const LatheHttpOptions *options, GError **error);
/* The HTTP options lathe_mlflow_open() uses without @options: the layer's
 * defaults with the LATHE_MLFLOW_* variables above. */
void lathe_mlflow_options_init(LatheHttpOptions *options);
void lathe_mlflow_free(LatheMlflow *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheMlflow, lathe_mlflow_free)

/* Returns: (transfer none): the tracking URI, without credentials or a
 * trailing slash. */
const char *lathe_mlflow_get_uri(LatheMlflow *m);
/* Returns: (transfer none): the HTTP client, for streamed transfers. */
LatheHttpClient *lathe_mlflow_get_http(LatheMlflow *m);
/* Returns: (transfer none): "basic", "bearer" or "none", for messages. */
const char *lathe_mlflow_get_auth(LatheMlflow *m);
/* Returns: (transfer none): cancels every call of @m, the one in flight and
 * all later ones (LATHE_HTTP_ERROR_CANCELLED), once cancelled. */
GCancellable *lathe_mlflow_get_cancellable(LatheMlflow *m);

/**
 * lathe_mlflow_request:
 * @method: "GET", "POST", ...
 * @endpoint: under /api/2.0/mlflow/: "runs/create".
 *
 * Returns: (transfer full): the request; add queries or a body, mark it
 *   idempotent when it is, and send it with lathe_mlflow_send().
 */
LatheHttpRequest *lathe_mlflow_request(const char *method, const char *endpoint);

/**
 * lathe_mlflow_send:
 * @req: (transfer none)
 *
 * Sends @req and parses MLflow's JSON answer. Errors are one line naming the
 * method and URL, the status and MLflow's message; a 401/403 names the
 * variables to set (never their values). They keep the HTTP layer's domain
 * and code (the status); read them with lathe_mlflow_error_code(), and turn
 * them into Lathe's with lathe_mlflow_error_to_lathe().
 *
 * Returns: (transfer full): the parsed body, or NULL with @error set.
 */
JsonNode *lathe_mlflow_send(LatheMlflow *m, LatheHttpRequest *req, GError **error);

/**
 * lathe_mlflow_post:
 * @endpoint: "runs/log-batch"
 * @body: (transfer none): the JSON body
 * @idempotent: whether resending is safe (the server deduplicates it)
 *
 * A POST through lathe_mlflow_send().
 */
JsonNode *lathe_mlflow_post(LatheMlflow *m, const char *endpoint, JsonNode *body,
                            gboolean idempotent, GError **error);

/**
 * lathe_mlflow_get:
 * @endpoint: "experiments/get-by-name"
 * @...: query names and values, NULL-terminated
 *
 * A GET through lathe_mlflow_send().
 */
JsonNode *lathe_mlflow_get(LatheMlflow *m, const char *endpoint, GError **error, ...)
    G_GNUC_NULL_TERMINATED;

/* Member @name of @o (nullable) when it is a string, else NULL. */
const char *lathe_mlflow_member_string(JsonObject *o, const char *name);
/* Member @name of @o (nullable) when it is an array, else NULL. */
JsonArray *lathe_mlflow_member_array(JsonObject *o, const char *name);
/* Member @name of @o (nullable) as an integer, MLflow sending its int64
 * fields as JSON strings; 0 when absent or not a value. */
gint64 lathe_mlflow_member_int(JsonObject *o, const char *name);

/* What an error from this library (or the HTTP layer) means. */
LatheMlflowCode lathe_mlflow_error_code(const GError *error);

/**
 * lathe_mlflow_error_to_lathe:
 * @error: (inout): an error from this library; replaced in place
 * @prefix: (nullable): prepended ("tracker-mlflow: ")
 *
 * Moves @error to LATHE_ERROR: UNAVAILABLE for what may succeed later,
 * CANCELLED, INVALID for a refused value, FAILED otherwise (auth, a bad
 * answer). Errors already in LATHE_ERROR keep their code.
 */
void lathe_mlflow_error_to_lathe(GError **error, const char *prefix);

/**
 * lathe_mlflow_experiment_ensure:
 * @name: the experiment's name
 *
 * experiments/get-by-name, then experiments/create when there is none (and
 * get-by-name again when another client created it meanwhile). A deleted
 * experiment is an error (LATHE_ERROR_INVALID) saying how to restore it or
 * what to set instead.
 *
 * Returns: (transfer full): the experiment id, or NULL with @error set.
 */
char *lathe_mlflow_experiment_ensure(LatheMlflow *m, const char *name, GError **error);

/**
 * lathe_mlflow_artifact_endpoint:
 * @artifact_uri: a run's artifact_uri ("mlflow-artifacts:/1/RUN/artifacts")
 * @path: (nullable): the path under it ("model/model.lathe"); segments are
 *   escaped, "." and ".." refused
 *
 * Returns: (transfer full): the proxy's path for lathe_http_request_new()
 *   ("/api/2.0/mlflow-artifacts/artifacts/1/RUN/artifacts/model/model.lathe"),
 *   or NULL with @error (LATHE_ERROR_INVALID) when the server does not proxy
 *   the run's artifacts or @path is not a relative path.
 */
char *lathe_mlflow_artifact_endpoint(const char *artifact_uri, const char *path, GError **error);

/**
 * lathe_mlflow_upload:
 * @artifact_uri: the run's artifact_uri
 * @path: where under it
 * @local_path: (nullable): a file, streamed
 * @bytes: (nullable): or bytes; one of the two
 *
 * PUTs an artifact through the proxy (idempotent: the same bytes again leave
 * the same file).
 */
gboolean lathe_mlflow_upload(LatheMlflow *m, const char *artifact_uri, const char *path,
                             const char *local_path, GBytes *bytes, GError **error);

G_END_DECLS
