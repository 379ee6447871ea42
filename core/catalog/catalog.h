/* catalog.h: the plugins found on the search path, their components and
 * params, and the native libraries they load (OpenBLAS). The catalog's one
 * public header. */
#pragma once

#include <glib.h>
#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/* The plugins found on the search path and their components. */

/**
 * LathePlugin:
 *
 * One plugin file, known from its metadata (inspected now, or read from the
 * plugin cache). @module is %NULL until one of its components is realised.
 */
typedef struct {
  char *file; /* real path */
  char *name;
  char *version;
  char *license;
  char *description;
  guint abi_major;
  guint abi_minor;
  char *digest; /* SHA-256 of the file */
  JsonObject *meta; /* owns the strings the components' specs point to; parsed on first lookup */
  GModule *module;
  const char *meta_text; /* cached metadata not parsed yet (in the catalog's mapping of the cache) */
  gsize meta_len;
} LathePlugin;

/**
 * LatheComponentInfo:
 *
 * A component as the host sees it. @klass is %NULL until
 * lathe_catalog_realize() opens the plugin; then it is a zeroed copy of the
 * plugin's kind struct at the host's size, so callbacks beyond the plugin's
 * struct_size read as %NULL. @params is the params the host adds for the
 * kind (tuners, registry nodes) followed by the declared ones.
 * @resolves: a source whose struct_size covers a non-%NULL
 * #LatheSourceClass.resolve (ABI 1.6): known from the metadata, so the
 * engine opens the plugin before the cache decision only for these.
 */
typedef struct {
  char *id; /* "model/logreg" */
  const char *name; /* "logreg" */
  const char *description;
  LatheComponentKind kind;
  LathePlugin *plugin;
  gpointer klass;
  GPtrArray *owned; /* arrays the specs point to */
  GArray *params;          /* LatheParamSpec, without terminator */
  guint n_host_params;     /* the first ones are the host's (tuner, registry node) */
  GPtrArray *defaults;     /* JsonNode* (or NULL) per param: parsed once, copied per node */
  const LathePortSpec *inputs;
  const LathePortSpec *outputs;
  guint n_inputs;
  guint n_outputs;
  gboolean resolves;
} LatheComponentInfo;

/* In a host copy of a #LatheParamSpec: the plugin's spec has a check
 * (its function pointer lives in the plugin, which may not be open yet). */
#define LATHE_PARAM_HOST_CHECKED (1u << 31)

typedef struct _LatheCatalog LatheCatalog;

/**
 * lathe_catalog_load:
 * @extra_dirs: (nullable): directories searched before the default path.
 *
 * Scans $LATHE_PLUGIN_PATH, then the install dir — or, when this binary runs
 * from its build tree, the build tree's plugins instead — loading every `*.so`. Refused files do not
 * stop the scan: their one-line reasons are in lathe_catalog_problems().
 *
 * Returns: (transfer full): the catalog.
 */
LatheCatalog *lathe_catalog_load(void);
void lathe_catalog_free(LatheCatalog *cat);

/**
 * lathe_catalog_add_file:
 *
 * Adds one plugin file, from the plugin cache when its size, mtime and inode
 * match, else by inspecting it (in the scanner, lathe_catalog_set_scanner()). Returns %FALSE with a one-line
 * @error naming the file and the reason when it is refused.
 */
gboolean lathe_catalog_add_file(LatheCatalog *cat, const char *path, GError **error);

/**
 * lathe_catalog_realize:
 *
 * Opens the component's plugin if needed and fills @info->klass. Call before
 * using @info->klass; thread-safe and cheap once done.
 */
gboolean lathe_catalog_realize(LatheCatalog *cat, LatheComponentInfo *info, GError **error);

/** lathe_catalog_lookup: (transfer none) (nullable) the component @id. */
LatheComponentInfo *lathe_catalog_lookup(LatheCatalog *cat, const char *id);
/** lathe_catalog_components: (transfer container) sorted by id. */
GPtrArray *lathe_catalog_components(LatheCatalog *cat);
/** lathe_catalog_plugins: (transfer none) LathePlugin*, in load order. */
GPtrArray *lathe_catalog_plugins(LatheCatalog *cat);
/** lathe_catalog_problems: (transfer none) char* refusal lines. */
GPtrArray *lathe_catalog_problems(LatheCatalog *cat);
/** lathe_catalog_search_path: (transfer none) the directories scanned. */
GPtrArray *lathe_catalog_search_path(LatheCatalog *cat);
/** lathe_catalog_suggest: (transfer full) (nullable) the closest component id. */
char *lathe_catalog_suggest(LatheCatalog *cat, const char *id);

/** lathe_plugin_digest: (transfer none) SHA-256 of the plugin file. */
const char *lathe_plugin_digest(LathePlugin *plugin);

/**
 * lathe_catalog_set_scanner:
 * @program: (nullable): a program that runs lathe_plugin_scanner_main() when
 *   its first argument is `--scan-plugins` (the lathe binary: "/proc/self/exe").
 *
 * From then on, plugin files the cache does not know are opened in children
 * of @program, so that one that crashes or blocks while it loads is refused
 * rather than taking this process down. Without a scanner (%NULL, the
 * default) they are opened in this process.
 */
void lathe_catalog_set_scanner(const char *program);

/**
 * lathe_plugin_scanner_main:
 * @argc: how many files.
 * @argv: (array length=argc): plugin files.
 *
 * The scanner's side: inspects each file and writes one line of JSON per
 * file on stdout ({"path", "meta"} or {"path", "refused"}), then exits
 * without running exit handlers. Returns (1) only when it cannot set up its
 * answers' pipe.
 */
int lathe_plugin_scanner_main(int argc, char **argv);

/** lathe_catalog_save_cache: writes the plugin cache if anything changed. */
void lathe_catalog_save_cache(LatheCatalog *cat);

const char *lathe_kind_name(LatheComponentKind kind);
/** lathe_kind_is_node: whether components of @kind can be pipeline nodes (not only settings). */
gboolean lathe_kind_is_node(LatheComponentKind kind);

/**
 * lathe_catalog_kind_set:
 * @kind: a node kind.
 * @params: (nullable) (array zero-terminated=1): params the host reads for
 *   nodes of @kind, ahead of each component's own; static.
 * @inputs: (nullable) (array zero-terminated=1): the kind's ports (static);
 *   %NULL keeps the catalog's default.
 * @outputs: (nullable) (array zero-terminated=1): likewise.
 *
 * Lets the layer that owns a node kind (the engine's register node,
 * tuning/'s tuner) describe its nodes to the catalog without the catalog
 * knowing that layer: see lathe_node_kind_register(). Call it before
 * lathe_catalog_load(), which completes components from it.
 */
void lathe_catalog_kind_set(LatheComponentKind kind, const LatheParamSpec *params,
                            const LathePortSpec *inputs, const LathePortSpec *outputs);
/** lathe_param_type_name: "int", "float", ... */
const char *lathe_param_type_name(LatheParamType type);
/** lathe_component_param: (nullable) the declared param @name. */
const LatheParamSpec *lathe_component_param(LatheComponentInfo *info, const char *name);
/** lathe_component_port: (nullable) the input (@output FALSE) or output port. */
const LathePortSpec *lathe_component_port(LatheComponentInfo *info, const char *name,
                                          gboolean output);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheCatalog, lathe_catalog_free)

/* Validation problems, each tied to a JSON pointer. */

/**
 * LatheProblem:
 * @pointer: where, as a JSON pointer ("/nodes/2/in/train"), or "" for the file.
 * @message: what is wrong and what to do, one line.
 */
typedef struct {
  char *pointer;
  char *message;
} LatheProblem;

/** lathe_problems_new: (transfer full) an empty list of #LatheProblem. */
GPtrArray *lathe_problems_new(void);
void lathe_problems_add(GPtrArray *problems, const char *pointer, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Checking a node's `with` block against declared params. */

/**
 * lathe_param_check:
 * @spec: the declaration.
 * @value: a JSON value.
 * @why: (out) (transfer full): the reason when it does not fit.
 *
 * Returns: (transfer full) (nullable): @value normalised to the declared type
 * (an integer given for a float becomes a float), or %NULL with @why set.
 */
JsonNode *lathe_param_check(const LatheParamSpec *spec, JsonNode *value, char **why);

/**
 * lathe_params_resolve:
 * @info: the component.
 * @with: (nullable): the params as written.
 * @pointer: JSON pointer of the `with` block, for problems.
 * @problems: where to add unknown, mistyped, out-of-bounds or missing params.
 * @own_only: check only the plugin's own params, not those the host adds
 *   for the kind (a registry used as a setting rather than as a node).
 *
 * Returns: (transfer full): the params with defaults filled in.
 */
JsonObject *lathe_params_resolve(LatheComponentInfo *info, JsonObject *with, const char *pointer,
                                 GPtrArray *problems, gboolean own_only);

/**
 * lathe_params_run_checks:
 * @cat: the catalog, to open the plugin when a param has a check.
 * @info: the component.
 * @with: (nullable): the params as written.
 * @resolved: the output of lathe_params_resolve().
 * @pointer: JSON pointer of the `with` block, for problems.
 * @problems: where to add each refusal.
 *
 * Runs the plugin's #LatheParamCheckFunc (ABI 1.3) on every param written in
 * @with that declares one. The plugin is opened only then: metadata from the
 * plugin cache says which params have checks.
 */
void lathe_params_run_checks(LatheCatalog *cat, LatheComponentInfo *info, JsonObject *with,
                             JsonObject *resolved, const char *pointer, GPtrArray *problems);

/* Secret params and environment references (secrets.c). */

/* What the store, the tracker and every output show for a secret's value. */
#define LATHE_SECRET_SHOWN "(secret)"

/** lathe_param_env_ref: (nullable) NAME when @value is `{"$env": "NAME"}`. */
const char *lathe_param_env_ref(JsonNode *value);
/**
 * lathe_param_env_value:
 * @name: the environment variable.
 * @why: (out): why not, when it returns %NULL.
 *
 * Returns: (transfer full) (nullable): the variable's value for @spec: a
 * string for STRING and ENUM params, else read as JSON when it parses.
 */
JsonNode *lathe_param_env_value(const LatheParamSpec *spec, const char *name, char **why);
/** lathe_component_has_secrets: whether any param of @info is %LATHE_PARAM_SECRET. */
gboolean lathe_component_has_secrets(LatheComponentInfo *info);
/**
 * lathe_params_public:
 *
 * Returns: (transfer full): @params with each secret's value replaced by
 * %LATHE_SECRET_SHOWN, for the store, the tracker and output (@params
 * itself, with a new reference, when @info has no secrets).
 */
JsonObject *lathe_params_public(LatheComponentInfo *info, JsonObject *params);
/**
 * lathe_params_fingerprinted:
 * @key: the store's secret key (lathe_store_secret_key()).
 *
 * Returns: (transfer full): @params with each secret's value replaced by
 * "hmac-sha256:HEX" of its canonical JSON under @key, for the cache key.
 */
JsonObject *lathe_params_fingerprinted(LatheComponentInfo *info, JsonObject *params,
                                       const guint8 *key, gsize key_len);
/**
 * lathe_params_redact:
 * @text: (nullable): a message, from the host or a plugin.
 *
 * Returns: (transfer full) (nullable): @text with every occurrence of the
 * value of a secret param of @params replaced by %LATHE_SECRET_SHOWN.
 */
char *lathe_params_redact(LatheComponentInfo *info, JsonObject *params, const char *text);

/** lathe_param_default: (transfer full) (nullable) the parsed default. */
JsonNode *lathe_param_default(const LatheParamSpec *spec);

/* Did-you-mean hints. */

/* lathe_suggest() (the nearest name) is the SDK's, lathe-helpers.h. */

/**
 * lathe_did_you_mean:
 * @near: (nullable): a suggestion from lathe_suggest().
 *
 * Returns: (transfer full): " (did you mean 'NEAR'?)", or "" when @near is
 * %NULL: the one spelling of every hint.
 */
char *lathe_did_you_mean(const char *near);

/* OpenBLAS set-up for this machine. */

/**
 * lathe_blas_prepare:
 * @argv: the process's original argv, for re-executing.
 * @threads: BLAS threads for this process (unless OPENBLAS_NUM_THREADS is set).
 *
 * Call before any plugin loads. Sets OPENBLAS_NUM_THREADS, then loads
 * OpenBLAS. Debian's OpenBLAS 0.3.21 does not recognise some AVX2/AVX-512 CPUs
 * and falls back to SSE3 "Prescott" kernels, 3-5x slower; when that happened,
 * re-executes this program with OPENBLAS_CORETYPE set (read only when the
 * library loads). The user's OPENBLAS_CORETYPE, or LATHE_BLAS_NO_FIX, turns the
 * fix off.
 */
void lathe_blas_prepare(char **argv, guint threads);

/**
 * lathe_blas_fix_for:
 * @corename: what openblas_get_corename() says.
 * @avx512: the CPU has AVX-512F.
 * @avx2: the CPU has AVX2.
 *
 * Returns: (nullable): the OPENBLAS_CORETYPE to force, or %NULL when the
 * detected kernels are fine.
 */
const char *lathe_blas_fix_for(const char *corename, gboolean avx512, gboolean avx2);

/** lathe_blas_describe: (transfer full) "OpenBLAS 0.3.21, core SkylakeX (…)". */
char *lathe_blas_describe(void);

/**
 * lathe_blas_environment:
 *
 * What decides floating-point results on this machine, recorded with every
 * run for `lathe reproduce`: {"cpu": its model name, "blas": the OpenBLAS
 * library file (or "none"), "blas_core": the kernels it runs (or "none")}.
 * Call after lathe_blas_prepare(); it loads OpenBLAS only when the core is
 * neither set nor cached.
 *
 * Returns: (transfer full): the object.
 */
JsonObject *lathe_blas_environment(void);

/** lathe_blas_loaded: whether OpenBLAS is loaded in this process (it read
 * OPENBLAS_NUM_THREADS then; lathe_blas_set_threads() rules after). */
gboolean lathe_blas_loaded(void);

/** lathe_blas_set_threads: BLAS threads for this process (at most the cap
 * lathe_memlimit_fit() set). */
void lathe_blas_set_threads(guint threads);

/* An address-space limit (memlimit.c). */

/** lathe_memlimit: RLIMIT_AS in bytes, or 0 when there is none. */
guint64 lathe_memlimit(void);
/**
 * lathe_memlimit_fit:
 * @jobs: (inout): nodes at once; lowered to what the limit holds unless
 *   @jobs_given.
 * @threads: (inout): BLAS threads per node; lowered to 1 when needed.
 *
 * Under a limit, before any thread starts: limits malloc arenas and thread
 * stacks, and fits the nodes at once and BLAS threads to the limit (a BLAS
 * thread maps a buffer of about 128 MiB). Without a limit it does nothing.
 *
 * Returns: (transfer full) (nullable): %NULL when it fits, else one line
 * naming the limit and the need, for pipelines that use OpenBLAS.
 */
char *lathe_memlimit_fit(guint *jobs, gboolean jobs_given, guint *threads);
/** lathe_blas_thread_cap: @wanted BLAS threads, at most what the limit holds. */
guint lathe_blas_thread_cap(guint wanted);
/** lathe_plugin_needs_blas: whether @p's file links OpenBLAS. */
gboolean lathe_plugin_needs_blas(LathePlugin *p);

/**
 * lathe_catalog_predict:
 * @model: a model artifact; its loaded instance is cached on it.
 * @n_cols: (out): columns per row of the result.
 *
 * Loads @model through the plugin that made it (realising it) and predicts.
 * Returns: (transfer full) (nullable): row-major predictions, or %NULL with @error set.
 */
float *lathe_catalog_predict(LatheCatalog *cat, LatheArtifact *model, const LatheDataset *data,
                             guint *n_cols, GError **error);

/**
 * LatheTransformStep:
 *
 * One transform prepared to run outside any pipeline: no store, no cache,
 * no seed (what `lathe serve` needs to replay a version's input pipeline).
 */
typedef struct _LatheTransformStep LatheTransformStep;

/**
 * lathe_catalog_transform_step_new:
 * @use: a transform's component id.
 * @with: (nullable): its params as recorded (defaults fill the rest).
 * @in_port: the input data goes to; @out_port: the output to return.
 *
 * Looks the transform up, realises its plugin and resolves its params, once.
 * Returns: (transfer full) (nullable): the step, or %NULL with @error set.
 */
LatheTransformStep *lathe_catalog_transform_step_new(LatheCatalog *cat, const char *use,
                                                     JsonObject *with, const char *in_port,
                                                     const char *out_port, GError **error);
void lathe_catalog_transform_step_free(LatheTransformStep *step);

/**
 * lathe_catalog_transform_step_apply:
 *
 * Runs @step on @data; safe from several threads at once.
 * Returns: (transfer full) (nullable): the output dataset, or %NULL with @error set.
 */
LatheDataset *lathe_catalog_transform_step_apply(LatheTransformStep *step, const LatheDataset *data,
                                                 GError **error);

G_END_DECLS
