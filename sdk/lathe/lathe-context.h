/* lathe-context.h: what a component sees of the host while it runs. */
#pragma once

/**
 * SECTION:lathe-context
 * @title: Context
 * @short_description: what a component sees of the host while it runs
 *
 * A #LatheContext carries one node execution: its resolved params, its
 * inputs and outputs, its seed and thread budget, and the host's services
 * (logging, reports, progress, cancellation, prediction, the registry).
 */

#include "lathe-api.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lathe-artifact.h"
#include "lathe-dataset.h"
#include "lathe-plugin.h"
#include "lathe-rng.h"

G_BEGIN_DECLS

/**
 * LatheContext:
 *
 * One node execution (or one tracker/registry/tuner session): its resolved
 * params, inputs and outputs, and the host services. Owned by the host; valid
 * only during the callback it is passed to (for trackers, registries and
 * tuners: until their close/free). All functions are safe to call from the
 * thread the component runs on.
 */
typedef struct _LatheContext LatheContext;

/**
 * lathe_context_node_id:
 * @ctx: the node's context.
 *
 * The id of the running node.
 *
 * Returns: (transfer none): the node id ("model", "tune/3/model").
 */
LATHE_API const char *lathe_context_node_id(LatheContext *ctx);

/**
 * lathe_context_base_dir:
 * @ctx: the node's context.
 *
 * The folder of the pipeline file.
 *
 * Returns: (transfer none): the directory of the pipeline file; resolve
 * relative paths in params against it.
 */
LATHE_API const char *lathe_context_base_dir(LatheContext *ctx);

/**
 * lathe_context_store_dir:
 * @ctx: the node's context.
 *
 * The run store.
 *
 * Returns: (transfer none): its directory (".lathe").
 */
LATHE_API const char *lathe_context_store_dir(LatheContext *ctx);

/**
 * lathe_context_resolve_path:
 * @path: (nullable): a path from a param: absolute, or relative to the
 *   pipeline's folder.
 * @in_store: (nullable): when @path is empty or %NULL, this name inside the
 *   run store is used instead ("tracking.db").
 * @ctx: the node's context.
 * @error: return location for a #GError, or %NULL.
 *
 * Resolves a path param the way every component does.
 *
 * Returns: (transfer full) (nullable): an absolute, canonical path, or %NULL
 * with @error set when @path is empty and there is no @in_store default (or
 * no store).
 */
LATHE_API char *lathe_context_resolve_path(LatheContext *ctx, const char *path, const char *in_store,
                                           GError **error);

/**
 * lathe_context_scratch_dir:
 * @ctx: the node's context.
 * @error: return location for a #GError, or %NULL.
 *
 * A directory for the node's temporary files.
 *
 * Returns: (transfer none) (nullable): a private directory for this node,
 * created on first call and removed after the node; %NULL with @error set if it
 * could not be created.
 */
LATHE_API const char *lathe_context_scratch_dir(LatheContext *ctx, GError **error);

/* Params: the host has validated them and filled in defaults, so the getters
 * return the declared type. Asking for an undeclared name is a plugin bug; the
 * getters then return 0, FALSE or NULL and log a critical. */

/**
 * lathe_context_get_params:
 * @ctx: the node's context.
 *
 * All params of the node, validated and with defaults filled in.
 *
 * Returns: (transfer none): the resolved `with` block.
 */
LATHE_API JsonObject *lathe_context_get_params(LatheContext *ctx);

/**
 * lathe_context_param_int:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Reads an INT param.
 *
 * Returns: its value.
 */
LATHE_API gint64 lathe_context_param_int(LatheContext *ctx, const char *name);

/**
 * lathe_context_param_float:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Reads a FLOAT param (an INT value reads as a float).
 *
 * Returns: its value.
 */
LATHE_API double lathe_context_param_float(LatheContext *ctx, const char *name);

/**
 * lathe_context_param_bool:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Reads a BOOL param.
 *
 * Returns: its value.
 */
LATHE_API gboolean lathe_context_param_bool(LatheContext *ctx, const char *name);

/**
 * lathe_context_param_string:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Reads a STRING or ENUM param.
 *
 * Returns: (transfer none) (nullable): its value, %NULL when unset.
 */
LATHE_API const char *lathe_context_param_string(LatheContext *ctx, const char *name);

/**
 * lathe_context_param_list:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Reads a LIST param.
 *
 * Returns: (transfer none) (nullable): its value, %NULL when unset.
 */
LATHE_API JsonArray *lathe_context_param_list(LatheContext *ctx, const char *name);

/**
 * lathe_context_param_is_set:
 * @ctx: the node's context.
 * @name: a declared param.
 *
 * Whether a param has a value.
 *
 * Returns: %TRUE when @name is set or has a default.
 */
LATHE_API gboolean lathe_context_param_is_set(LatheContext *ctx, const char *name);

/**
 * lathe_context_get_input:
 * @name: an input port.
 * @ctx: the node's context.
 *
 * The artifact connected to an input port.
 *
 * Returns: (transfer none) (nullable): the artifact on that input, or %NULL
 * for an optional input that is not connected.
 */
LATHE_API LatheArtifact *lathe_context_get_input(LatheContext *ctx, const char *name);

/**
 * lathe_context_get_input_dataset:
 * @ctx: the node's context.
 * @name: an input port.
 * @error: return location for a #GError, or %NULL.
 *
 * The dataset connected to an input port, decoded once.
 *
 * Returns: (transfer none) (nullable): the dataset on input @name, or %NULL
 * with @error set when it is missing or not a dataset.
 */
LATHE_API const LatheDataset *lathe_context_get_input_dataset(LatheContext *ctx,
                                                              const char *name,
                                                              GError **error);

/**
 * lathe_context_set_output:
 * @ctx: the node's context.
 * @name: an output port.
 * @art: (transfer full): the artifact.
 *
 * Sets an output of the node.
 */
LATHE_API void lathe_context_set_output(LatheContext *ctx, const char *name,
                                        LatheArtifact *art);

/**
 * lathe_context_set_output_dataset:
 * @ctx: the node's context.
 * @name: an output port.
 * @ds: (transfer full): the dataset.
 *
 * Sets an output of the node to a dataset.
 */
LATHE_API void lathe_context_set_output_dataset(LatheContext *ctx, const char *name,
                                                LatheDataset *ds);

/**
 * lathe_context_seed:
 * @ctx: the node's context.
 *
 * The seed of the node, derived from the run seed and the node id.
 *
 * Returns: the seed.
 */
LATHE_API guint64 lathe_context_seed(LatheContext *ctx);

/**
 * lathe_context_rng:
 * @ctx: the node's context.
 *
 * The random stream of the node, seeded with lathe_context_seed().
 *
 * Returns: (transfer none): the stream.
 */
LATHE_API LatheRng *lathe_context_rng(LatheContext *ctx);

/**
 * lathe_context_threads:
 * @ctx: the node's context.
 *
 * The node's share of the cores.
 *
 * Returns: how many threads the component may use for its own math. The host
 * sets BLAS threads to it; parallel nodes x threads never exceed the cores.
 */
LATHE_API guint lathe_context_threads(LatheContext *ctx);

/**
 * lathe_context_log:
 * @ctx: the node's context.
 * @level: a #GLogLevelFlags level.
 * @format: a printf() format.
 * @...: its arguments.
 *
 * Logs a line, prefixed by the node id.
 */
LATHE_API void lathe_context_log(LatheContext *ctx, GLogLevelFlags level,
                                 const char *format, ...) G_GNUC_PRINTF(3, 4);

/**
 * lathe_context_report:
 * @name: a metric name ("loss", "val_accuracy").
 * @value: its value.
 * @step: the step (epoch, iteration).
 * @ctx: the node's context.
 *
 * Reports an intermediate value: recorded with its step and time, forwarded
 * to the tracker and the progress display.
 */
LATHE_API void lathe_context_report(LatheContext *ctx, const char *name, double value,
                                    gint64 step);

/**
 * lathe_context_set_metric:
 * @ctx: the node's context.
 * @name: the metric's name.
 * @value: its value.
 *
 * Sets a final scalar metric of this node, readable as "NODE.NAME" by `when`
 * conditions, tuner objectives and `lathe run --json`.
 */
LATHE_API void lathe_context_set_metric(LatheContext *ctx, const char *name,
                                        double value);

/**
 * lathe_context_progress:
 * @ctx: the node's context.
 * @fraction: how much is done, in [0, 1].
 * @message: (nullable): a note.
 *
 * Reports how much of the node is done, with a note.
 */
LATHE_API void lathe_context_progress(LatheContext *ctx, double fraction,
                                      const char *message);

/**
 * lathe_context_is_cancelled:
 * @ctx: the node's context.
 *
 * Whether the node should stop.
 *
 * Returns: %TRUE when the host wants the node to stop (user interrupt, a tuner
 * pruning the trial). Check it between epochs or batches, then fail with
 * %LATHE_ERROR_CANCELLED.
 */
LATHE_API gboolean lathe_context_is_cancelled(LatheContext *ctx);

/**
 * lathe_context_add_data_version:
 * @uri: what was read: a local path, or a URI ("lakefs://repo/commit/path").
 * @digest: its version: hex SHA-256 of a file, or a commit id.
 * @ctx: the node's context.
 *
 * Records what a source read. For local paths the host rechecks the file before
 * reusing a cached result, so an edited file re-runs its source.
 */
LATHE_API void lathe_context_add_data_version(LatheContext *ctx, const char *uri,
                                              const char *digest);

/**
 * lathe_context_get_data_versions:
 * @ctx: the node's context.
 *
 * The data versions recorded so far, each {"uri", "digest"}. In a source's
 * run, after its resolve, these are what resolve pinned: read them, not the
 * branch again.
 *
 * Returns: (transfer none): the array; do not change it.
 * Since: 1.6
 */
LATHE_API JsonArray *lathe_context_get_data_versions(LatheContext *ctx);

/**
 * lathe_context_set_content_key:
 * @ctx: the node's context.
 * @key: what identifies the content a source would read, whatever its names
 *   (a digest over each object's path below the source's prefix and its
 *   checksum); not the commit id, so that a branch that moved without
 *   changing these objects keeps its cached results.
 *
 * Called from a source's resolve. The host adds @key to the node's cache
 * key. Since: 1.6
 */
LATHE_API void lathe_context_set_content_key(LatheContext *ctx, const char *key);

/**
 * lathe_context_run_id:
 * @ctx: the node's context.
 *
 * The id of the run this node belongs to, for what a node writes outside
 * the run store (a sink's commit metadata).
 *
 * Returns: (transfer none) (nullable): the run id; %NULL outside a run.
 * Since: 1.6
 */
LATHE_API const char *lathe_context_run_id(LatheContext *ctx);

/**
 * lathe_context_pipeline:
 * @ctx: the node's context.
 *
 * The pipeline file of the run, as given to `lathe run`.
 *
 * Returns: (transfer none) (nullable): the path; %NULL outside a run.
 * Since: 1.6
 */
LATHE_API const char *lathe_context_pipeline(LatheContext *ctx);

/**
 * lathe_context_get_pins:
 * @ctx: the node's context.
 *
 * When the host re-executes a recorded run (`lathe reproduce`), the data
 * versions this node recorded then, each {"uri", "digest"}: a source must
 * read exactly these (a lakeFS source: at the commit in each URI, never at
 * the branch) or fail. %NULL in an ordinary run.
 *
 * Returns: (transfer none) (nullable): the recorded versions.
 * Since: 1.6
 */
LATHE_API JsonArray *lathe_context_get_pins(LatheContext *ctx);

/**
 * lathe_context_registry_fetch:
 * @name: a registered model name.
 * @ref: a version number ("3") or an alias ("production").
 * @version: (out) (optional): the version @ref resolves to; 0 when none.
 * @error: return location for a #GError.
 * @ctx: the node's context.
 *
 * Reads a model from the run's model registry: the pipeline's "registry"
 * setting, registry/local by default. It goes through the registry plugin,
 * so a node that reads models works with whichever backend is configured.
 *
 * Returns: (transfer full) (nullable): the model artifact (unref it); %NULL
 * without an error when nothing holds @ref (yet); %NULL with @error set when
 * the registry cannot be read.
 *
 * Since: 1.3
 */
LATHE_API LatheArtifact *lathe_context_registry_fetch(LatheContext *ctx, const char *name,
                                                      const char *ref, guint *version,
                                                      GError **error);

/**
 * lathe_context_predict:
 * @model: a model artifact (from an input).
 * @data: rows to predict.
 * @n_cols: (out): columns of the result.
 * @ctx: the node's context.
 * @error: return location for a #GError, or %NULL.
 *
 * Runs the model's own component on @data, loading the model once per artifact.
 *
 * Returns: (transfer full) (nullable): @data->n_rows x @n_cols, g_free it.
 */
LATHE_API float *lathe_context_predict(LatheContext *ctx, LatheArtifact *model,
                                       const LatheDataset *data, guint *n_cols,
                                       GError **error);

G_END_DECLS
