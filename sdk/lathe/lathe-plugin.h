/* lathe-plugin.h: the plugin ABI.
 *
 * Everything a plugin shares with the host is declared here. The layout rules
 * (see docs/ABI.md) are SQLite's: structs only grow at the end, each one starts
 * with its own size, and the host copies at most what it knows into a zeroed
 * struct, so a plugin built against an older minor version keeps loading.
 */
#pragma once

/**
 * SECTION:lathe-plugin
 * @title: Plugin ABI
 * @short_description: the structs a plugin shares with the host
 *
 * Everything a plugin shares with the host: the version, the component kinds
 * and their callback tables, param and port specs, and the entry point that
 * LATHE_PLUGIN_DEFINE() writes. See docs/ABI.md for the layout rules.
 */

#include "lathe-api.h"

#include <glib.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * LATHE_ABI_MAJOR:
 *
 * Bumped on any incompatible change; recorded in docs/ABI.md. The host refuses
 * a plugin whose major differs from its own.
 */
#define LATHE_ABI_MAJOR 1
/**
 * LATHE_ABI_MINOR:
 *
 * Bumped when fields are appended. The host refuses a plugin whose minor is
 * above its own (it may rely on callbacks the host would never call).
 */
#define LATHE_ABI_MINOR 9

/**
 * LATHE_PLUGIN_ENTRY:
 *
 * The name of the one symbol every plugin exports, a #LathePluginQueryFunc
 * that LATHE_PLUGIN_DEFINE() writes.
 */
#define LATHE_PLUGIN_ENTRY "lathe_plugin_query"

/* Forward declarations of the types their own headers document; gtk-doc
 * would take these for the documented ones. */
#ifndef __GTK_DOC_IGNORE__
typedef struct _LatheContext LatheContext;
typedef struct _LatheDataset LatheDataset;
typedef struct _LatheArtifact LatheArtifact;
typedef struct _LatheSearchSpace LatheSearchSpace;
#endif

/**
 * LatheComponentKind:
 * @LATHE_KIND_SOURCE: reads data (#LatheSourceClass).
 * @LATHE_KIND_TRANSFORM: datasets in, datasets out (#LatheTransformClass).
 * @LATHE_KIND_MODEL: trains and predicts (#LatheModelClass).
 * @LATHE_KIND_EVALUATOR: scores a model (#LatheEvaluatorClass).
 * @LATHE_KIND_TUNER: proposes trial points (#LatheTunerClass).
 * @LATHE_KIND_TRACKER: records runs for people (#LatheTrackerClass).
 * @LATHE_KIND_REGISTRY: keeps model versions (#LatheRegistryClass).
 * @LATHE_KIND_EXECUTOR: runs node work elsewhere (#LatheExecutorClass).
 * @LATHE_KIND_SINK: writes artifacts to an outside system (#LatheSinkClass). Since: 1.6.
 *
 * What a component does; also the first half of its id ("model/logreg").
 */
typedef enum {
  LATHE_KIND_SOURCE = 1,
  LATHE_KIND_TRANSFORM = 2,
  LATHE_KIND_MODEL = 3,
  LATHE_KIND_EVALUATOR = 4,
  LATHE_KIND_TUNER = 5,
  LATHE_KIND_TRACKER = 6,
  LATHE_KIND_REGISTRY = 7,
  LATHE_KIND_EXECUTOR = 8,
  LATHE_KIND_SINK = 9,
} LatheComponentKind;

/**
 * LatheParamType:
 * @LATHE_PARAM_INT: a JSON integer, read with lathe_context_param_int().
 * @LATHE_PARAM_FLOAT: a JSON number, read with lathe_context_param_float().
 * @LATHE_PARAM_BOOL: a JSON boolean, read with lathe_context_param_bool().
 * @LATHE_PARAM_STRING: a JSON string, read with lathe_context_param_string().
 * @LATHE_PARAM_ENUM: a string among the spec's @choices.
 * @LATHE_PARAM_LIST: a JSON array, read with lathe_context_param_list().
 * @LATHE_PARAM_OBJECT: any JSON object, read from lathe_context_get_params().
 *
 * Types a parameter can declare. LIST holds items of `item_type`; OBJECT is any
 * JSON object (used for tuner search spaces).
 */
typedef enum {
  LATHE_PARAM_INT = 1,
  LATHE_PARAM_FLOAT = 2,
  LATHE_PARAM_BOOL = 3,
  LATHE_PARAM_STRING = 4,
  LATHE_PARAM_ENUM = 5,
  LATHE_PARAM_LIST = 6,
  LATHE_PARAM_OBJECT = 7,
} LatheParamType;

/**
 * LatheParamFlags:
 * @LATHE_PARAM_HAS_MIN: @min of the #LatheParamSpec is a bound.
 * @LATHE_PARAM_HAS_MAX: @max of the #LatheParamSpec is a bound.
 * @LATHE_PARAM_LOG: tuners sample it on a log scale.
 * @LATHE_PARAM_REQUIRED: no default; the pipeline must set it.
 * @LATHE_PARAM_NUMBER_AS_STRING: a STRING param that also takes a JSON
 *   number, passed to the plugin as its shortest decimal text:
 *   "max_features": 0.5 arrives as "0.5", so "sqrt" | fraction | count needs
 *   no union type. A JSON float keeps a point (1.0 -> "1.0") so a fraction
 *   never reads as a count. Since: 1.3.
 * @LATHE_PARAM_SECRET: a credential (a token, a password). The plugin reads
 *   its value as usual, but the host never stores, logs or prints it: the
 *   run store, the tracker and every output show "(secret)", and only a
 *   salted fingerprint enters the cache key, so a changed secret re-runs the
 *   node. A pipeline sets it with `{"$env": "NAME"}` to keep it out of the
 *   file. Since: 1.5.
 *
 * Flags of a #LatheParamSpec.
 */
typedef enum {
  LATHE_PARAM_HAS_MIN = 1 << 0,
  LATHE_PARAM_HAS_MAX = 1 << 1,
  LATHE_PARAM_LOG = 1 << 2,
  LATHE_PARAM_REQUIRED = 1 << 3,
  LATHE_PARAM_NUMBER_AS_STRING = 1 << 4,
  LATHE_PARAM_SECRET = 1 << 5,
} LatheParamFlags;

/**
 * LatheParamSpec:
 * @name: the key in a node's `with` block.
 * @type: its type.
 * @default_json: the default as a JSON literal ("0.01", "[100,100]",
 *   "\"auto\""), or %NULL when the param is required or has no default.
 * @min: lower bound (inclusive) when @flags has %LATHE_PARAM_HAS_MIN.
 * @max: upper bound (inclusive) when @flags has %LATHE_PARAM_HAS_MAX.
 * @flags: #LatheParamFlags.
 * @choices: for ENUM, the %NULL-terminated allowed values.
 * @item_type: for LIST, the type of its items (bounds apply to each item).
 * @doc: one line of documentation.
 * @check: (nullable): a rule the type and bounds cannot express,
 *   run by the host when it validates a pipeline, so that a bad value is a
 *   validation error (exit code 2) instead of a failed run. Since: 1.3.
 *
 * Arrays of specs end with an entry whose @name is %NULL. Bounds of a list
 * apply to each of its items.
 */
typedef struct _LatheParamSpec LatheParamSpec;

/**
 * LatheParamCheckFunc:
 * @spec: the param's spec.
 * @value: the value, already of the declared type and within the bounds.
 * @why: (out) (transfer full): on refusal, a newly allocated reason that
 *   says what to write instead ("0 is not a depth; use -1 for unlimited").
 *
 * A param's own rule, run when the host validates a pipeline.
 *
 * Returns: %TRUE when @value is acceptable. Must not keep @value.
 *
 * Since: 1.3
 */
typedef gboolean (*LatheParamCheckFunc)(const LatheParamSpec *spec, JsonNode *value,
                                        char **why);

struct _LatheParamSpec {
  const char *name;
  LatheParamType type;
  const char *default_json;
  double min;
  double max;
  guint32 flags;
  const char *const *choices;
  LatheParamType item_type;
  const char *doc;
  /* Since: 1.3. Was reserved[0]; plugins built before 1.3 leave it NULL. */
  LatheParamCheckFunc check;
  /*< private >*/
  gpointer reserved[1];
};

/**
 * LatheArtifactType:
 * @LATHE_TYPE_ANY: a port that takes any type.
 * @LATHE_TYPE_DATASET: a #LatheDataset.
 * @LATHE_TYPE_MODEL: a trained model: a header and the plugin's state.
 * @LATHE_TYPE_METRICS: a JSON object of metrics.
 *
 * The type of what travels on an edge. The validator refuses an edge whose
 * output type differs from the input's, unless one side is ANY.
 */
typedef enum {
  LATHE_TYPE_ANY = 0,
  LATHE_TYPE_DATASET = 1,
  LATHE_TYPE_MODEL = 2,
  LATHE_TYPE_METRICS = 3,
} LatheArtifactType;

/**
 * LathePortFlags:
 * @LATHE_PORT_OPTIONAL: the port may be left unconnected.
 *
 * Flags of a #LathePortSpec.
 */
typedef enum {
  LATHE_PORT_OPTIONAL = 1 << 0,
} LathePortFlags;

/**
 * LathePortSpec:
 * @name: the input or output name ("train", "data").
 * @type: what it carries.
 * @flags: #LathePortFlags.
 * @doc: one line of documentation.
 *
 * Arrays of ports end with an entry whose @name is %NULL. The first output is
 * the default one: `"in": {"data": "split"}` means `split.<first output>`.
 */
typedef struct {
  const char *name;
  LatheArtifactType type;
  guint32 flags;
  const char *doc;
} LathePortSpec;

/**
 * LatheComponent:
 * @struct_size: sizeof the whole kind struct that embeds this one.
 * @kind: a #LatheComponentKind; must match the struct that embeds it.
 * @name: the name after the kind ("logreg" in "model/logreg"); not empty.
 * @description: one line.
 * @params: declared parameters, %NULL-name terminated, or %NULL for none.
 * @inputs: input ports, or %NULL to take the kind's defaults (docs/ABI.md).
 * @outputs: output ports, or %NULL to take the kind's defaults.
 *
 * The head of every component struct. All pointers are static data owned by
 * the plugin and must stay valid while the module is loaded.
 */
typedef struct {
  guint32 struct_size;
  guint32 kind;
  const char *name;
  const char *description;
  const LatheParamSpec *params;
  const LathePortSpec *inputs;
  const LathePortSpec *outputs;
} LatheComponent;

/**
 * LatheRunFunc:
 * @ctx: the node's context: inputs, params, outputs and host services.
 * @error: return location for a #GError.
 *
 * Does a node's work: reads inputs from @ctx and sets every declared output on
 * it. Called from a worker thread; may run concurrently with other nodes of the
 * same component, so keep no mutable global state.
 *
 * Returns: %TRUE on success, %FALSE with @error set.
 */
typedef gboolean (*LatheRunFunc)(LatheContext *ctx, GError **error);

/**
 * LatheSourceClass:
 * @base: the component head, %LATHE_KIND_SOURCE.
 * @run: (not optional): reads the data and sets the outputs.
 * @resolve: (nullable): says what @run would read, cheaply, before the host
 *   decides whether a cached result still holds. It gets the node's params
 *   (no inputs), records every version it would read with
 *   lathe_context_add_data_version() (a lakeFS source: the branch resolved
 *   to a commit id, each object's checksum) and states the content with
 *   lathe_context_set_content_key(); the host adds that key to the node's
 *   cache key, so equal content at another commit is still a hit. On a miss
 *   the host calls @run on the same context: @run reads exactly what
 *   @resolve recorded (lathe_context_get_data_versions()) and adds no
 *   version again. Sources without it keep the rule for local files (size,
 *   mtime, then SHA-256). Since: 1.6.
 *
 * Reads data. Must call lathe_context_add_data_version() for everything it
 * read, so the host can tell when the data changed.
 */
typedef struct {
  LatheComponent base;
  LatheRunFunc run; /* required */
  LatheRunFunc resolve; /* optional, 1.6 */
} LatheSourceClass;

/**
 * LatheSinkClass:
 * @base: the component head, %LATHE_KIND_SINK.
 * @run: (not optional): writes the inputs out and sets the outputs.
 *
 * Writes a node's artifacts to an outside system (a lakeFS branch). A sink
 * has side effects, so the host never serves it from the cache: it runs
 * every time its inputs are ready. It records what it wrote with
 * lathe_context_add_data_version() ("lakefs://REPO/COMMIT/PATH"), which
 * the run store keeps as the execution's lineage, and it may output a
 * "metrics" artifact naming what it made. Default ports: input "data"
 * (any type), no output. Since: 1.6
 */
typedef struct {
  LatheComponent base;
  LatheRunFunc run; /* required */
} LatheSinkClass;

/**
 * LatheTransformClass:
 * @base: the component head, %LATHE_KIND_TRANSFORM.
 * @run: (not optional): reads the inputs and sets the outputs.
 *
 * Datasets in, datasets out.
 */
typedef struct {
  LatheComponent base;
  LatheRunFunc run; /* required */
} LatheTransformClass;

/**
 * LatheEvaluatorClass:
 * @base: the component head, %LATHE_KIND_EVALUATOR.
 * @run: (not optional): scores the model and sets the outputs.
 *
 * Scores a model on data; outputs "metrics" and sets scalar metrics with
 * lathe_context_set_metric().
 */
typedef struct {
  LatheComponent base;
  LatheRunFunc run; /* required */
} LatheEvaluatorClass;

/**
 * LatheModelClass:
 * @base: the component head, %LATHE_KIND_MODEL.
 * @state_version: the format version of the blobs @save writes.
 * @fit: trains on @train (and @valid, which may be %NULL) with the params
 *   and services of @ctx. Returns a new model instance owned by the caller,
 *   freed with @free.
 * @predict: returns a newly allocated row-major @n_rows x *@n_cols matrix
 *   (g_free it): class probabilities for classifiers, scores otherwise.
 * @save: serialises a model; the host stores the bytes as an artifact.
 * @load: rebuilds a model from bytes written by @save with @version. Must
 *   refuse bytes it cannot read with an error, never crash.
 * @free: frees an instance from @fit or @load.
 * @summary: (optional): a JSON object describing the trained model (for
 *   example its parameter count); recorded with the model. Since: 1.1.
 *
 * A model node has the inputs "train" (dataset) and "valid" (optional dataset)
 * and the output "model" unless the component declares its own ports.
 */
typedef struct {
  LatheComponent base;
  guint32 state_version;
  gpointer (*fit)(LatheContext *ctx, const LatheDataset *train,
                  const LatheDataset *valid, GError **error);
  float *(*predict)(gconstpointer model, const LatheDataset *data,
                    guint *n_cols, GError **error);
  GBytes *(*save)(gconstpointer model, GError **error);
  gpointer (*load)(GBytes *state, guint32 version, GError **error);
  void (*free)(gpointer model);
  /* Since: 1.1 */
  JsonObject *(*summary)(gconstpointer model);
} LatheModelClass;

/**
 * LatheTrialState:
 * @LATHE_TRIAL_COMPLETE: the trial finished and has its objective values.
 * @LATHE_TRIAL_FAILED: the trial failed; it has no values.
 * @LATHE_TRIAL_PRUNED: the tuner's pruner stopped it early; it has no value.
 *
 * How a trial ended, as told to a tuner.
 */
typedef enum {
  LATHE_TRIAL_COMPLETE = 1,
  LATHE_TRIAL_FAILED = 2,
  LATHE_TRIAL_PRUNED = 3,
} LatheTrialState;

/**
 * LatheTunerClass:
 * @base: the component head, %LATHE_KIND_TUNER.
 * @create: a new tuner for @space, seeded from lathe_context_seed(@ctx).
 * @ask: proposes the point for trial number @trial: a new JSON object
 *   mapping each dimension name of the space to a value. Returns %FALSE with
 *   no error set when the tuner has nothing more to propose.
 * @tell: reports the objective @value of trial @trial at @point (transfer
 *   none). @value is only meaningful for %LATHE_TRIAL_COMPLETE.
 * @free: frees the tuner.
 * @tell_multi: (optional): for a study with several objectives: all
 *   @n_values of them, each to be minimised (the host negates the maximised
 *   ones). A tuner without it gets tell() with the first objective.
 *   Since: 1.3.
 *
 * Ask/tell: the host drives the loop, runs each trial's sub-graph, and may
 * ask again before earlier trials were told (parallel trials). Values are
 * always minimised; the host negates them for "maximize".
 */
typedef struct {
  LatheComponent base;
  gpointer (*create)(LatheContext *ctx, const LatheSearchSpace *space,
                     GError **error);
  gboolean (*ask)(gpointer tuner, guint trial, JsonObject **point,
                  GError **error);
  void (*tell)(gpointer tuner, guint trial, JsonObject *point, double value,
               LatheTrialState state);
  void (*free)(gpointer tuner);
  /* Since: 1.3 */
  void (*tell_multi)(gpointer tuner, guint trial, JsonObject *point,
                     const double *values, guint n_values, LatheTrialState state);
} LatheTunerClass;

/**
 * LatheTrackerItem:
 * @key: the param's or tag's name ("NODE.PARAM", "lathe.seed").
 * @value: its value as text.
 *
 * A param or a tag in a #LatheTrackerBatch. Since: 1.7
 */
typedef struct {
  const char *key;
  const char *value;
} LatheTrackerItem;

/**
 * LatheTrackerMetric:
 * @key: "NODE.METRIC".
 * @value: the value; may be NaN or infinite (the tracker says what its
 *   server does with them).
 * @step: the step (0 for a node's final metrics).
 * @timestamp_ms: when it was logged; fixed in the journal, so a batch
 *   sent again is the same batch.
 *
 * A metric point in a #LatheTrackerBatch. Since: 1.7
 */
typedef struct {
  const char *key;
  double value;
  gint64 step;
  gint64 timestamp_ms;
} LatheTrackerMetric;

/**
 * LatheTrackerBatch:
 * @params: @n_params params.
 * @n_params: how many.
 * @metrics: @n_metrics metric points.
 * @n_metrics: how many.
 * @tags: @n_tags tags.
 * @n_tags: how many.
 *
 * What #LatheTrackerClass.log_batch() gets: any sizes; the tracker splits
 * it to its server's limits. Since: 1.7
 */
typedef struct {
  const LatheTrackerItem *params;
  guint n_params;
  const LatheTrackerMetric *metrics;
  guint n_metrics;
  const LatheTrackerItem *tags;
  guint n_tags;
} LatheTrackerBatch;

/**
 * LatheTrackerInput:
 * @node: the source node that read it.
 * @uri: what it read: "lakefs://REPO/COMMIT/PATH" or a local path.
 * @digest: its checksum (lakeFS) or SHA-256 (a file).
 *
 * One data version in #LatheTrackerClass.log_inputs(). Since: 1.7
 */
typedef struct {
  const char *node;
  const char *uri;
  const char *digest;
} LatheTrackerInput;

/**
 * LatheTrackerClass:
 * @base: the component head, %LATHE_KIND_TRACKER.
 * @open: a new tracker session; its context holds the tracker's params and
 *   the store directory.
 * @start_run: a run (or a trial's child run) begins.
 * @log_param: records a param of @run_id.
 * @log_metric: records a metric value at @step.
 * @set_tag: sets a tag of @run_id.
 * @end_run: @run_id ended with Lathe's @status ("succeeded", "failed",
 *   "interrupted"; a trial may also be "pruned").
 * @close: ends the session.
 * @start_run_full: (nullable): as @start_run, with the parent run for a
 *   nested run (a tuner trial under its study's run; %NULL for a top-level
 *   run), and the tracker's own run id out: trackers that make their own
 *   ids (MLflow) return it (transfer full), and the host passes it, not
 *   Lathe's, to every later callback for that run; returning %NULL without
 *   an error keeps Lathe's id. Since: 1.7.
 * @log_batch: (nullable): params, metrics and tags of one run at once. The
 *   host may send the same batch again when it never learnt whether it
 *   was applied (a lost answer): applying it twice must leave what once
 *   does. Since: 1.7.
 * @log_inputs: (nullable): the data a run read. Since: 1.7.
 * @log_artifact: (nullable): a file (@local_path) or bytes (@bytes), one
 *   of the two, stored at @artifact_path ("model/model.lathe"). Since: 1.7.
 *
 * A view of runs for people (MLflow-like). The host calls it from one thread.
 * Timestamps are milliseconds since the Unix epoch.
 *
 * Since 1.7 the host first writes every event to a journal in the run
 * store and ships it from a background thread: a callback that fails with
 * %LATHE_ERROR_UNAVAILABLE (server down, timed out, 5xx after retries)
 * leaves the event pending, to be sent again later (`lathe tracker sync`);
 * any other error means the tracker refused it for good, and the host says
 * so once and keeps the value in the store. A 1.6 tracker gets the old
 * per-item callbacks, under the same rules.
 */
typedef struct {
  LatheComponent base;
  gpointer (*open)(LatheContext *ctx, GError **error);
  gboolean (*start_run)(gpointer tracker, const char *run_id, const char *name,
                        gint64 start_ms, GError **error);
  gboolean (*log_param)(gpointer tracker, const char *run_id, const char *key,
                        const char *value, GError **error);
  gboolean (*log_metric)(gpointer tracker, const char *run_id, const char *key,
                         double value, gint64 step, gint64 timestamp_ms,
                         GError **error);
  gboolean (*set_tag)(gpointer tracker, const char *run_id, const char *key,
                      const char *value, GError **error);
  gboolean (*end_run)(gpointer tracker, const char *run_id, const char *status,
                      gint64 end_ms, GError **error);
  void (*close)(gpointer tracker);
  /* 1.7 */
  char *(*start_run_full)(gpointer tracker, const char *run_id, const char *name,
                          const char *parent_run_id, gint64 start_ms, GError **error);
  gboolean (*log_batch)(gpointer tracker, const char *run_id, const LatheTrackerBatch *batch,
                        GError **error);
  gboolean (*log_inputs)(gpointer tracker, const char *run_id, const LatheTrackerInput *inputs,
                         guint n_inputs, GError **error);
  gboolean (*log_artifact)(gpointer tracker, const char *run_id, const char *artifact_path,
                           const char *local_path, GBytes *bytes, GError **error);
} LatheTrackerClass;

/**
 * LatheRegistryClass:
 * @base: the component head, %LATHE_KIND_REGISTRY.
 * @open: a new registry session; its context holds the registry's params
 *   and the store directory.
 * @register_model: stores @model (a serialised model artifact, transfer
 *   none) with @metadata (transfer none) and returns its new version.
 * @set_alias: points @alias of @name at @version, keeping the history.
 * @list: returns a new array of objects {name, version, aliases, created,
 *   metadata} for @name, or for every model when @name is %NULL.
 * @get: returns the bytes of @name at a version number or alias (new ref).
 * @close: ends the session.
 * @alias_history: (optional): returns a new array of every move of an
 *   alias, oldest first: objects {name, alias, version, previous_version
 *   (null when first set), set_at}; @name and @alias may be %NULL for all. A
 *   registry without it keeps no history, and rollback is refused.
 *   Since: 1.4.
 * @delete_alias: (optional): removes @alias of @name; %LATHE_ERROR_INVALID
 *   when it is not set. Since: 1.4.
 * @get_version: (optional): returns a new object describing @name at a
 *   version number or alias, shaped like an element of @list; %NULL with
 *   %LATHE_ERROR_INVALID when there is no such version. Since: 1.4.
 * @set_alias_full: (optional): moves @alias of @name to @version as
 *   set_alias does, and records why in the alias history. @why (transfer
 *   none, nullable) is {reason, user, run_id, figures}, each optional: reason a
 *   free string ("manual", "register", "promotion", "promotion by
 *   evaluator/ab", "rollback", "canary withdrawn"), user who moved it,
 *   run_id the run that moved it, figures a JSON object of the numbers
 *   behind the move. @alias_history entries then carry reason, user,
 *   run_id and figures. Without it the host calls @set_alias and the
 *   history has no reasons. Since: 1.8.
 *
 * Model versions and aliases. Versions count from 1 per model name.
 */
typedef struct {
  LatheComponent base;
  gpointer (*open)(LatheContext *ctx, GError **error);
  gboolean (*register_model)(gpointer registry, const char *name,
                             GBytes *model, JsonObject *metadata,
                             guint *version, GError **error);
  gboolean (*set_alias)(gpointer registry, const char *name, const char *alias,
                        guint version, GError **error);
  JsonArray *(*list)(gpointer registry, const char *name, GError **error);
  GBytes *(*get)(gpointer registry, const char *name,
                 const char *version_or_alias, GError **error);
  void (*close)(gpointer registry);
  /* Since: 1.4. Appended, so 1.3 registries load with these NULL. */
  JsonArray *(*alias_history)(gpointer registry, const char *name, const char *alias,
                              GError **error);
  gboolean (*delete_alias)(gpointer registry, const char *name, const char *alias,
                           GError **error);
  JsonObject *(*get_version)(gpointer registry, const char *name,
                             const char *version_or_alias, GError **error);
  /* Since: 1.8. Appended, so 1.7 registries load with it NULL. */
  gboolean (*set_alias_full)(gpointer registry, const char *name, const char *alias,
                             guint version, JsonObject *why, GError **error);
} LatheRegistryClass;

/**
 * LatheTaskState:
 * @LATHE_TASK_PENDING: submitted, not started.
 * @LATHE_TASK_RUNNING: started.
 * @LATHE_TASK_SUCCEEDED: finished with exit status 0.
 * @LATHE_TASK_FAILED: finished otherwise.
 * @LATHE_TASK_CANCELLED: stopped by a cancel.
 * @LATHE_TASK_TIMEOUT: stopped at its wall-time limit. Since: 1.9
 * @LATHE_TASK_OUT_OF_MEMORY: stopped at its memory limit. Since: 1.9
 * @LATHE_TASK_LOST: lost with no fault of its own: the machine failed, the
 *   job was preempted or vanished. Retried as "lost". Since: 1.9
 *
 * The state of a task on an executor. %LATHE_TASK_FAILED covers a non-zero
 * exit and a signal; #LatheExecutorClass.describe tells which.
 */
typedef enum {
  LATHE_TASK_PENDING = 1,
  LATHE_TASK_RUNNING = 2,
  LATHE_TASK_SUCCEEDED = 3,
  LATHE_TASK_FAILED = 4,
  LATHE_TASK_CANCELLED = 5,
  LATHE_TASK_TIMEOUT = 6,
  LATHE_TASK_OUT_OF_MEMORY = 7,
  LATHE_TASK_LOST = 8,
} LatheTaskState;

/**
 * LatheTask:
 * @struct_size: sizeof(LatheTask) as the host built it.
 * @task_id: unique within a run ("RUN/NODE/attempt").
 * @argv: %NULL-terminated command that performs the node (the host writes
 *   the node's inputs to the artifact store and passes a task file).
 * @workdir: where to run it; on a shared filesystem for remote executors.
 * @log_path: where to send stdout and stderr.
 * @cpus: cores the node may use (its `resources.cpus`); 0 when the node did
 *   not say, for the executor's default (Slurm: one core; executor/process:
 *   not pinned). Hosts before 1.9 never called executors, so no plugin saw
 *   another meaning.
 * @memory_mb: memory it may use, 0 for no limit.
 * @time_limit_s: wall-time limit, 0 for none.
 * @job_name: a name for the scheduler's queue ("lathe-RUN-NODE"). Since: 1.9
 * @gpus: GPUs the node may use, 0 for none. Since: 1.9
 * @partition: (nullable): the cluster partition, %NULL for its default. Since: 1.9
 * @account: (nullable): the account charged, %NULL for the default. Since: 1.9
 * @qos: (nullable): the quality of service, %NULL for the default. Since: 1.9
 *
 * One node's work, as the host hands it to a #LatheExecutorClass. Read the
 * fields after @time_limit_s only when @struct_size covers them (a host
 * before 1.9 ends there).
 */
typedef struct {
  guint32 struct_size;
  const char *task_id;
  const char *const *argv;
  const char *workdir;
  const char *log_path;
  guint cpus;
  guint64 memory_mb;
  guint time_limit_s;
  /* Since: 1.9 */
  const char *job_name;
  guint gpus;
  const char *partition;
  const char *account;
  const char *qos;
} LatheTask;

/**
 * LatheExecutorClass:
 * @base: the component head, %LATHE_KIND_EXECUTOR.
 * @open: a new executor session for the run.
 * @submit: starts @task and returns a job handle.
 * @poll: reports a job's state and, once finished, its exit status.
 * @cancel: asks a job to stop.
 * @release: frees a job handle.
 * @close: ends the session.
 * @describe: (nullable): a finished job's outcome in a few words, for the
 *   node's error ("killed by SIGSEGV", "exceeded memory 2048 MiB", "timed out
 *   after 600 s", "NODE_FAIL"); the host frees it. Since: 1.9
 * @job_ref: (nullable): a job's reference as text (a Slurm job id), which
 *   the host stores so that a later process can re-attach; the host frees
 *   it. Since: 1.9
 * @attach: (nullable): a job handle for a reference @job_ref gave, in a new
 *   session (a run resumed after the host died): %NULL with an error when the
 *   job is unknown to the executor. Since: 1.9
 *
 * poll() may fail with %LATHE_ERROR_UNAVAILABLE when the executor cannot tell
 * for now (the Slurm controller is down): the host keeps the job and asks
 * again later, within a grace period; any other error fails the task.
 *
 * Runs node work away from the host's threads (child processes, Slurm). The
 * default executor is the host's own thread pool and needs no plugin.
 */
typedef struct {
  LatheComponent base;
  gpointer (*open)(LatheContext *ctx, GError **error);
  gpointer (*submit)(gpointer executor, const LatheTask *task, GError **error);
  LatheTaskState (*poll)(gpointer executor, gpointer job, int *exit_status,
                         GError **error);
  gboolean (*cancel)(gpointer executor, gpointer job, GError **error);
  void (*release)(gpointer executor, gpointer job);
  void (*close)(gpointer executor);
  /* Since: 1.9. Appended, so 1.8 executors load with it NULL. */
  char *(*describe)(gpointer executor, gpointer job);
  char *(*job_ref)(gpointer executor, gpointer job);
  gpointer (*attach)(gpointer executor, const char *job_ref, GError **error);
} LatheExecutorClass;

/**
 * LathePluginDescriptor:
 * @struct_size: sizeof(LathePluginDescriptor) as the plugin saw it.
 * @abi_major: %LATHE_ABI_MAJOR the plugin was built with.
 * @abi_minor: %LATHE_ABI_MINOR the plugin was built with.
 * @name: plugin name, unique across the search path ("model-logreg").
 * @version: the plugin's version; part of every cache key.
 * @license: SPDX identifier.
 * @description: one line.
 * @components: %NULL-terminated array of the components it provides.
 *
 * Returned by the entry point; static data owned by the plugin.
 */
typedef struct {
  guint32 struct_size;
  guint16 abi_major;
  guint16 abi_minor;
  const char *name;
  const char *version;
  const char *license;
  const char *description;
  const LatheComponent *const *components;
} LathePluginDescriptor;

/**
 * LathePluginQueryFunc:
 *
 * The type of a plugin's entry point, %LATHE_PLUGIN_ENTRY.
 *
 * Returns: (transfer none): the plugin's static descriptor.
 */
typedef const LathePluginDescriptor *(*LathePluginQueryFunc)(void);

/**
 * LATHE_COMPONENT:
 * @klass: a kind struct (LatheModelClass etc.) defined by the plugin.
 *
 * The component pointer to list in LATHE_PLUGIN_DEFINE().
 */
#define LATHE_COMPONENT(klass) (&(klass).base)

/**
 * LATHE_COMPONENT_INIT:
 * @type: the kind struct type.
 * @kind_: the #LatheComponentKind.
 * @name_: the component's name, the second half of its id ("logreg").
 * @desc_: one line for `lathe plugins`.
 * @params_: (nullable): its #LatheParamSpec array, ended by %LATHE_PARAM_END.
 * @in_: (nullable): its input #LathePortSpec array, %NULL for the kind's.
 * @out_: (nullable): its output #LathePortSpec array, %NULL for the kind's.
 *
 * Fills the head of a component; the rest follows as designated initialisers:
 * `static const LatheModelClass m = { LATHE_COMPONENT_INIT(LatheModelClass,
 * LATHE_KIND_MODEL, "logreg", "...", params, NULL, NULL), .fit = ... };`
 */
#define LATHE_COMPONENT_INIT(type, kind_, name_, desc_, params_, in_, out_)    \
  .base = {.struct_size = sizeof(type),                                        \
           .kind = (kind_),                                                    \
           .name = (name_),                                                    \
           .description = (desc_),                                             \
           .params = (params_),                                                \
           .inputs = (in_),                                                    \
           .outputs = (out_)}

/**
 * LATHE_PLUGIN_DEFINE:
 * @name_: plugin name.
 * @version_: plugin version string.
 * @license_: SPDX license id.
 * @desc_: one-line description.
 * @...: component pointers, each LATHE_COMPONENT(x).
 *
 * Defines the descriptor and the exported entry point, filled with the ABI
 * version this plugin is compiled against.
 */
#define LATHE_PLUGIN_DEFINE(name_, version_, license_, desc_, ...)             \
  static const LatheComponent *const lathe_plugin_components_[] = {           \
      __VA_ARGS__, NULL};                                                      \
  static const LathePluginDescriptor lathe_plugin_descriptor_ = {             \
      sizeof(LathePluginDescriptor), LATHE_ABI_MAJOR, LATHE_ABI_MINOR,        \
      (name_), (version_), (license_), (desc_), lathe_plugin_components_};    \
  G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);       \
  G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) {      \
    return &lathe_plugin_descriptor_;                                          \
  }

/**
 * LATHE_PARAM_INT_:
 * @n: the param's name.
 * @def: its default, as JSON text.
 * @lo: the smallest value allowed.
 * @hi: the largest value allowed.
 * @doc_: one line for `lathe plugins inspect`.
 *
 * A bounded integer #LatheParamSpec, for readable static tables.
 */
#define LATHE_PARAM_INT_(n, def, lo, hi, doc_)                                 \
  {.name = (n), .type = LATHE_PARAM_INT, .default_json = (def), .min = (lo),   \
   .max = (hi), .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX, .doc = (doc_)}
/**
 * LATHE_PARAM_FLOAT_:
 * @n: the param's name.
 * @def: its default, as JSON text.
 * @lo: the smallest value allowed.
 * @hi: the largest value allowed.
 * @flags_: more #LatheParamFlags (%LATHE_PARAM_LOG).
 * @doc_: one line for `lathe plugins inspect`.
 *
 * A bounded float #LatheParamSpec.
 */
#define LATHE_PARAM_FLOAT_(n, def, lo, hi, flags_, doc_)                       \
  {.name = (n), .type = LATHE_PARAM_FLOAT, .default_json = (def), .min = (lo), \
   .max = (hi), .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX | (flags_), \
   .doc = (doc_)}
/**
 * LATHE_PARAM_BOOL_:
 * @n: the param's name.
 * @def: its default, "true" or "false".
 * @doc_: one line for `lathe plugins inspect`.
 *
 * A boolean #LatheParamSpec.
 */
#define LATHE_PARAM_BOOL_(n, def, doc_)                                        \
  {.name = (n), .type = LATHE_PARAM_BOOL, .default_json = (def), .doc = (doc_)}
/**
 * LATHE_PARAM_STRING_:
 * @n: the param's name.
 * @def: its default, as JSON text (a quoted string, or "null").
 * @flags_: #LatheParamFlags (%LATHE_PARAM_REQUIRED, %LATHE_PARAM_NUMBER_AS_STRING).
 * @doc_: one line for `lathe plugins inspect`.
 *
 * A string #LatheParamSpec.
 */
#define LATHE_PARAM_STRING_(n, def, flags_, doc_)                              \
  {.name = (n), .type = LATHE_PARAM_STRING, .default_json = (def),            \
   .flags = (flags_), .doc = (doc_)}
/**
 * LATHE_PARAM_ENUM_:
 * @n: the param's name.
 * @def: its default, as JSON text (one of @choices_, quoted).
 * @choices_: the %NULL-terminated allowed values.
 * @doc_: one line for `lathe plugins inspect`.
 *
 * An enumerated string #LatheParamSpec.
 */
#define LATHE_PARAM_ENUM_(n, def, choices_, doc_)                              \
  {.name = (n), .type = LATHE_PARAM_ENUM, .default_json = (def),              \
   .choices = (choices_), .doc = (doc_)}
/**
 * LATHE_PARAM_LIST_:
 * @n: the param's name.
 * @def: its default, as JSON text (an array).
 * @item: the #LatheParamType of every item.
 * @doc_: one line for `lathe plugins inspect`.
 *
 * A list #LatheParamSpec; bounds, if set afterwards, apply to each item.
 */
#define LATHE_PARAM_LIST_(n, def, item, doc_)                                  \
  {.name = (n), .type = LATHE_PARAM_LIST, .default_json = (def),              \
   .item_type = (item), .doc = (doc_)}
/**
 * LATHE_PARAM_END:
 *
 * The entry that ends an array of #LatheParamSpec.
 */
#define LATHE_PARAM_END {.name = NULL}

G_END_DECLS
