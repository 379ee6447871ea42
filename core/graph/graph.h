/* graph.h: a pipeline file, parsed and validated against the catalog. */
#pragma once

#include "catalog/catalog.h"

G_BEGIN_DECLS

typedef struct _LatheNode LatheNode;
typedef struct _LatheGraph LatheGraph;

/**
 * LatheResources:
 * @cpus: cores (0: the executor's default).
 * @memory_mb: memory limit in MiB (0: none).
 * @time_s: wall-time limit in seconds (0: none).
 * @gpus: GPUs (0: none).
 * @partition: (nullable): @account: (nullable): @qos: (nullable): for Slurm.
 *
 * A node's `"resources"` (graph-exec.c), as #LatheTask takes them.
 */
typedef struct {
  guint cpus;
  guint64 memory_mb;
  guint time_s;
  guint gpus;
  char *partition;
  char *account;
  char *qos;
} LatheResources;

/* What a retry may follow (the "on" list of a node's "retry"). */
typedef enum {
  LATHE_RETRY_ON_CRASH = 1 << 0,   /* a signal, or a non-zero exit outside the component */
  LATHE_RETRY_ON_TIMEOUT = 1 << 1, /* over its wall-time limit */
  LATHE_RETRY_ON_ERROR = 1 << 2,   /* the component returned an error */
  LATHE_RETRY_ON_LOST = 1 << 3,    /* the machine failed, the job was preempted or vanished */
  LATHE_RETRY_ON_ALL = 0xf,
} LatheRetryOn;

/**
 * LatheRetryPolicy:
 * @max: retries after the first attempt (0: none, the default).
 * @delay: seconds before the first retry.
 * @factor: each further delay is the previous times @factor.
 * @max_delay: no delay is longer.
 * @on: #LatheRetryOn bits.
 */
typedef struct {
  guint max;
  double delay;
  double factor;
  double max_delay;
  guint on;
} LatheRetryPolicy;

/** LatheEdge: input @port of a node reads @output of @from. */
typedef struct {
  char *port;
  LatheNode *from;
  char *output;
} LatheEdge;

/** LatheCondition: one comparison of a `when` clause ("eval.accuracy >= 0.9"). */
typedef struct {
  LatheNode *node;
  char *metric;
  char *op;
  double value;
} LatheCondition;

/**
 * LatheNode:
 * @id: unique within its graph.
 * @index: position in its "nodes" array.
 * @pointer: its JSON pointer ("/nodes/2", "/nodes/3/trial/nodes/0").
 * @comp: the resolved component.
 * @params: validated params with defaults (transfer: owned).
 * @edges: #LatheEdge inputs.
 * @deps: nodes this one waits for (inputs and `when`), without duplicates.
 * @conditions: #LatheCondition, all of which must hold for the node to run.
 * @cache: whether the node may use the cache.
 * @trial: for tuners, the trial sub-graph (its nodes may read outer nodes).
 * @trial_output: the trial node whose "model" becomes the tuner's output.
 */
struct _LatheNode {
  char *id;
  guint index;
  char *pointer;
  char *use;
  LatheComponentInfo *comp;
  JsonObject *with;
  JsonObject *params;
  GPtrArray *edges;
  GPtrArray *deps;
  GPtrArray *conditions;
  char *when;
  gboolean cache;
  LatheGraph *trial;
  char *trial_text; /* canonical JSON of "trial", part of the tuner's cache key */
  LatheNode *trial_output;
  LatheGraph *graph;
  /* Issue 15 (graph-exec.c): the node's own "executor" ({"use", "with"};
   * "use" may be "threads"), "resources" and "retry". */
  JsonObject *executor;
  LatheResources resources;
  LatheRetryPolicy retry;
};

/**
 * LatheGraph:
 * @path: the pipeline file.
 * @base_dir: its directory; relative paths in params resolve against it.
 * @name: the pipeline name.
 * @seed: the run seed.
 * @nodes: #LatheNode in file order.
 * @order: the same nodes in a topological order.
 * @outer: for a trial sub-graph, the graph around it.
 * @tracker: (nullable): {"use", "with"} run-wide tracker setting (the
 *   first of @trackers).
 * @trackers: (nullable): every tracker setting, in order: `"tracker"` may be
 *   one setting or a list of them (log to several at once).
 * @registry: (nullable): {"use", "with"} run-wide registry setting.
 * @executor: (nullable): {"use", "with"} run-wide executor setting.
 * @text: the canonical JSON of the pipeline after overrides.
 * @preset: (nullable): the preset the run uses (graph-presets.c).
 */
struct _LatheGraph {
  char *path;
  char *base_dir;
  char *name;
  guint64 seed;
  GPtrArray *nodes;
  GPtrArray *order;
  GHashTable *by_id;
  LatheGraph *outer;
  JsonObject *tracker;
  JsonArray *trackers;
  JsonObject *registry;
  JsonObject *executor;
  char *text;
  char *preset;
};

/**
 * lathe_graph_load:
 * @path: the pipeline file.
 * @preset: (nullable): the preset to use (`--preset`), else the pipeline's
 *   "preset".
 * @sets: (nullable) (array zero-terminated=1): "NODE.PARAM=VALUE" overrides;
 *   VALUE is read as JSON, else taken as a string.
 * @cat: the catalog to resolve components against.
 * @problems: every problem found, with JSON pointers.
 *
 * Parses and validates the whole pipeline, collecting every problem rather
 * than stopping at the first.
 *
 * Returns: (transfer full) (nullable): the graph, or %NULL when @problems is
 * not empty.
 */
LatheGraph *lathe_graph_load(const char *path, const char *preset, const char *const *sets,
                             LatheCatalog *cat, GPtrArray *problems);
/**
 * lathe_graph_load_from_data:
 * @text: the pipeline JSON (@len bytes, need not be NUL-terminated).
 * @path: the file it came from; relative paths resolve against its folder.
 *
 * lathe_graph_load() on text already in memory.
 */
LatheGraph *lathe_graph_load_from_data(const char *text, gsize len, const char *path,
                                       const char *preset, const char *const *sets,
                                       LatheCatalog *cat, GPtrArray *problems);
/**
 * LatheGraphOverrides:
 * @preset: (nullable): as for lathe_graph_load().
 * @sets: (nullable): as for lathe_graph_load().
 * @seed: when >= 0, replaces the pipeline's "seed" (`--seed`), after the
 *   preset and @sets; the recorded pipeline then holds it, and cache keys
 *   change exactly as if the file said so. Negative: the file's seed.
 *
 * What the command line changes in a pipeline.
 */
typedef struct {
  const char *preset;
  const char *const *sets;
  gint64 seed;
} LatheGraphOverrides;

/** lathe_graph_load_overridden: lathe_graph_load() with @overrides (nullable). */
LatheGraph *lathe_graph_load_overridden(const char *path, const LatheGraphOverrides *overrides,
                                        LatheCatalog *cat, GPtrArray *problems);
/** lathe_graph_load_overridden_from_data: lathe_graph_load_from_data() with @overrides. */
LatheGraph *lathe_graph_load_overridden_from_data(const char *text, gsize len, const char *path,
                                                  const LatheGraphOverrides *overrides,
                                                  LatheCatalog *cat, GPtrArray *problems);
void lathe_graph_free(LatheGraph *graph);

/* graph-cv.c, for graph.c: expands every "use": "cv" node (docs/cv.md). */
gboolean lathe_graph_cv_expand(JsonObject *root, GPtrArray *problems);
/* Whether @node_id is one fold's copy ("CV-I-NODE") of the fold node that
 * @family names ("CV-NODE"): a tuner's space dimension "CV-NODE.PARAM"
 * sets PARAM on every fold's copy, so all folds of a trial train alike. */
gboolean lathe_graph_cv_member(const char *family, const char *node_id);
/* graph-presets.c, for graph.c: */
gboolean lathe_graph_presets_apply(JsonObject *root, const char *cli_preset, GPtrArray *problems,
                                   char **chosen, JsonObject **presets);
void lathe_graph_presets_blame(LatheGraph *g, JsonObject *presets, const char *chosen,
                               const char *const *sets, GPtrArray *problems);
void lathe_graph_presets_check(LatheGraph *g, LatheCatalog *cat, JsonObject *presets,
                               const char *chosen, GPtrArray *problems);

/* graph-json.c: the pipeline's JSON, read without trusting its shape. */

/** LATHE_GRAPH_MAX_DEPTH: the deepest nesting of [ and { a pipeline may have;
 * json-glib's parser recurses per level, so deeper input is refused before
 * parsing (a few dozen levels is already a strange pipeline). */
#define LATHE_GRAPH_MAX_DEPTH 512

/**
 * lathe_graph_json_scan:
 * @text: JSON text (@len bytes).
 * @what: the start of each message ("" for the file, "--set 'x=y': " ...).
 *
 * Checks @text before it is parsed: nesting no deeper than
 * %LATHE_GRAPH_MAX_DEPTH and no "\u0000" in a string (it would truncate
 * the string in C). Returns: %FALSE after adding one problem.
 */
gboolean lathe_graph_json_scan(const char *text, gsize len, const char *what, GPtrArray *problems);

typedef enum {
  LATHE_JSON_OBJECT,
  LATHE_JSON_ARRAY,
  LATHE_JSON_STRING,
  LATHE_JSON_BOOLEAN,
  LATHE_JSON_INT,
} LatheJsonKind;

/**
 * lathe_graph_member:
 * @o: (nullable): an object.
 * @wrong: (out): set when @key is present but not of kind @want.
 *
 * Returns: (nullable) (transfer none): member @key of @o when it is of kind
 * @want; %NULL when absent or of another kind (then @wrong tells which).
 */
JsonNode *lathe_graph_member(JsonObject *o, const char *key, LatheJsonKind want, gboolean *wrong);
/** lathe_graph_string: (nullable) member @key of @o when it is a string. */
const char *lathe_graph_string(JsonObject *o, const char *key);
/** lathe_json_kind_name: "a string", "a number", "an object", ... for messages. */
const char *lathe_json_kind_name(JsonNode *value);
/** lathe_graph_has_control: whether @s holds an ASCII control character. */
gboolean lathe_graph_has_control(const char *s);

/* graph.c: a {"use", "with"} setting of @kind at @ptr, checked like the
 * pipeline's; *@out gets {"use", "with"} with the params resolved. */
void lathe_graph_check_setting(JsonNode *v, const char *ptr, const char *key,
                               LatheComponentKind kind, LatheCatalog *cat, GPtrArray *problems,
                               JsonObject **out);

/* graph-exec.c: a node's "executor", "resources" and "retry" (issue 15). */
void lathe_graph_node_exec_parse(LatheNode *n, JsonObject *o, LatheCatalog *cat,
                                 GPtrArray *problems);
void lathe_graph_node_exec_clear(LatheNode *n);
/**
 * lathe_parse_duration:
 * @text: "600s", "10m", "1.5h", "100ms", "0.1s" or a bare number of seconds.
 * @seconds: (out): the duration.
 *
 * Returns: %FALSE when @text is not a non-negative duration.
 */
gboolean lathe_parse_duration(const char *text, double *seconds);
/**
 * lathe_parse_memory:
 * @text: "2GiB", "512MiB", "2G", "512M", "1TiB", "4096KiB" or a bare number of MiB.
 * @mib: (out): the size in MiB, rounded up.
 *
 * Returns: %FALSE when @text is not a positive size.
 */
gboolean lathe_parse_memory(const char *text, guint64 *mib);
/**
 * lathe_retry_delay:
 * @attempt: the attempt about to start (2 for the first retry).
 *
 * Returns: seconds to wait before it: @delay x @factor^(attempt-2), at most @max_delay.
 */
double lathe_retry_delay(const LatheRetryPolicy *policy, guint attempt);
/** lathe_retry_on_parse: (nullable) the #LatheRetryOn bit of "crash", "timeout", "error" or "lost"; 0 if none. */
guint lathe_retry_on_parse(const char *name);
/** lathe_retry_on_name: "crash", ... for one bit. */
const char *lathe_retry_on_name(guint bit);

/** lathe_graph_lookup: (nullable) a node of @graph or of a graph around it. */
LatheNode *lathe_graph_lookup(LatheGraph *graph, const char *id);

/**
 * LatheNodeValidateFunc:
 * @node: a node of the kind, its params resolved (@node->params may be
 *   %NULL after problems) and, for a kind that takes a trial, its sub-graph
 *   parsed (@node->trial is %NULL when it has none).
 * @problems: where to add each problem, with a JSON pointer.
 *
 * A node kind's own checks, after the generic ones (params, inputs, `when`).
 * It may complete @node->params (the tuner normalises its search space).
 */
typedef void (*LatheNodeValidateFunc)(LatheNode *node, GPtrArray *problems);

/**
 * lathe_graph_kind_set:
 * @kind: a node kind.
 * @trial: whether its nodes take a "trial" sub-graph.
 * @validate: (nullable): its own checks.
 *
 * What validation needs of a kind that a higher layer owns; called by
 * lathe_node_kind_register() at start-up, so that graph/ names no layer
 * above it.
 */
void lathe_graph_kind_set(LatheComponentKind kind, gboolean trial, LatheNodeValidateFunc validate);

/**
 * lathe_graph_split_ref:
 * @ref: "NODE" or "NODE.REST".
 * @node: (out) (transfer full): the part before the first dot.
 * @rest: (out) (transfer full) (nullable): the part after it, or %NULL.
 *
 * Returns: %FALSE when a dot leaves either part empty.
 */
gboolean lathe_graph_split_ref(const char *ref, char **node, char **rest);

/** lathe_node_output_port: (nullable) output @name of @node, or its first. */
const LathePortSpec *lathe_node_output_port(LatheNode *node, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheGraph, lathe_graph_free)

G_END_DECLS
