/* store.h: the run store, `.lathe/` — content-addressed artifacts and a
 * SQLite database of runs, executions, events, params, metrics, data
 * versions and the cache index. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "store/store-journal.h"

G_BEGIN_DECLS

typedef struct _LatheStore LatheStore;

/**
 * lathe_store_open:
 * @dir: the store directory; created if missing.
 *
 * Opens (or creates) the store. Runs left "running" by a process that no
 * longer exists are marked "interrupted", with their running executions.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with @error set.
 */
LatheStore *lathe_store_open(const char *dir, GError **error);
/* A reader's open (lathe report, lathe ui): nothing is created, upgraded or
 * marked; a store of another schema version is refused with a one-line
 * error. Reads work while another process writes (WAL). */
LatheStore *lathe_store_open_readonly(const char *dir, GError **error);
void lathe_store_close(LatheStore *store);
const char *lathe_store_dir(LatheStore *store);
/**
 * lathe_store_set_check_rewrites:
 * @check: compare an artifact that is produced again with its stored file,
 *   and rewrite the file when they differ (what --no-cache asks for).
 */
void lathe_store_set_check_rewrites(LatheStore *store, gboolean check);

#define LATHE_STORE_KEY_SIZE 32
/**
 * lathe_store_secret_key:
 * @key: (out caller-allocates): %LATHE_STORE_KEY_SIZE bytes.
 *
 * The store's random key for fingerprints of secret params, kept in
 * DIR/secret.key (0600) and made on first use.
 */
gboolean lathe_store_secret_key(LatheStore *store, guint8 *key, GError **error);

/* Writes are committed in groups within 20 ms, whole: a killed process loses
 * at most that window, and never half of an operation. */

/** lathe_store_put_artifact: writes @art's file once (temp file, then rename);
 * lathe_store_finish_execution() records it with the execution's outputs. */
gboolean lathe_store_put_artifact(LatheStore *store, LatheArtifact *art, GError **error);
/** lathe_store_get_artifact: (transfer full) (nullable) a stored artifact by digest, or
 * %NULL when its file is gone (a stat, no read); its bytes are read on first
 * access (lathe_artifact_new_lazy()). */
LatheArtifact *lathe_store_get_artifact(LatheStore *store, const char *digest,
                                        LatheArtifactType type, GError **error);

/** lathe_store_begin_run: (transfer full) a new run id, status "running". */
char *lathe_store_begin_run(LatheStore *store, const char *name, const char *pipeline_path,
                            const char *pipeline_text, guint64 seed, GError **error);
/**
 * lathe_store_set_run_environment:
 * @env: (transfer none): what decides the run's floating-point results,
 *   {"cpu", "blas", "blas_core", "jobs", "blas_threads"}, and the folder its
 *   relative paths resolved against, "pipeline_dir".
 *
 * Records @env with run @run_id (`lathe runs show`, `lathe reproduce`).
 */
gboolean lathe_store_set_run_environment(LatheStore *store, const char *run_id, JsonObject *env,
                                         GError **error);
/**
 * lathe_store_run_pipeline:
 * @run_id: a full run id.
 *
 * Returns: (transfer full) (nullable): the canonical pipeline JSON the run
 * ran (after its preset and overrides), or %NULL when there is no such run.
 */
char *lathe_store_run_pipeline(LatheStore *store, const char *run_id);
gboolean lathe_store_end_run(LatheStore *store, const char *run_id, const char *status,
                             GError **error);
/* As lathe_store_begin_run() and lathe_store_end_run(), with tracker events
 * journaled in the same transaction (events without a run id are the run's). */
char *lathe_store_begin_run_journal(LatheStore *store, const char *name, const char *pipeline_path,
                                    const char *pipeline_text, guint64 seed,
                                    const LatheJournal *journal, GError **error);
gboolean lathe_store_end_run_journal(LatheStore *store, const char *run_id, const char *status,
                                     const LatheJournal *journal, GError **error);

/**
 * LatheExecRecord:
 *
 * What one node attempt did, written in one transaction by
 * lathe_store_finish_execution().
 */
typedef struct {
  const char *status;    /* succeeded, cached, failed, skipped, cancelled */
  JsonObject *inputs;    /* port -> digest */
  JsonObject *outputs;   /* port -> {"digest", "type", "size"} */
  JsonObject *metrics;   /* name -> number */
  JsonArray *data_versions; /* [{uri, digest, size?, mtime?}] */
  const char *error;
  double started;
  double ended;
  const LatheJournal *journal; /* (nullable) tracker events, in the same transaction */
} LatheExecRecord;

/**
 * LatheExecIdentity:
 *
 * What an execution is: its run, node, component and plugin, cache key and
 * resolved params, and the worker that runs it ("thread 1", "process 0";
 * %NULL: not known, as in stores before schema 6).
 */
typedef struct {
  const char *run_id;
  const char *node;
  const char *component;
  const char *plugin;
  const char *plugin_version;
  const char *plugin_digest;
  const char *cache_key;
  JsonObject *params;
  const char *worker;
} LatheExecIdentity;

/**
 * lathe_store_begin_execution:
 *
 * Records an attempt as "running" while it runs, so that a killed process
 * leaves a trace that the next open turns into "interrupted". The engine does
 * this only for nodes that run long enough to matter (or report progress);
 * lathe_store_finish_execution() records short ones whole.
 *
 * Returns: the execution id, or -1 with @error set.
 */
gint64 lathe_store_begin_execution(LatheStore *store, const LatheExecIdentity *who, double started,
                                   GError **error);

/**
 * lathe_store_finish_execution:
 * @exec_id: from lathe_store_begin_execution(), or -1 to record the execution
 *   whole (@who is then required).
 * @cache_key: (nullable): when set and @rec succeeded, the cache entry to write.
 *
 * Records @rec in one operation.
 */
gboolean lathe_store_finish_execution(LatheStore *store, gint64 exec_id,
                                      const LatheExecIdentity *who, const char *cache_key,
                                      const LatheExecRecord *rec, GError **error);

/**
 * LatheStoreReport:
 * @exec_id: the execution's row.
 * @name: the metric.
 * @value: its value.
 * @step: its step.
 * @ts: when it was reported (seconds since the epoch).
 * @target: (nullable): the tracker run it is journaled to.
 * @key: (nullable): its key there.
 *
 * An intermediate metric of an execution (@exec_id -1: of none, for the
 * trackers alone). Reports of one series share their @name, @target and
 * @key pointers.
 */
typedef struct {
  gint64 exec_id;
  const char *name;
  double value;
  gint64 step;
  double ts;
  const char *target;
  const char *key;
} LatheStoreReport;

/** lathe_store_add_report: an intermediate metric of an execution. */
void lathe_store_add_report(LatheStore *store, gint64 exec_id, const char *name, double value,
                            gint64 step, double ts);
/* @n reports in one operation, a chunk of points per series, and (with
 * @journal, whose trackers are the streams) a metrics event per target
 * naming its chunks: a training loop reports far faster than a row or an
 * operation per point allows. */
gboolean lathe_store_add_reports(LatheStore *store, const LatheStoreReport *reports, guint n,
                                 LatheJournal *journal, GError **error);

/**
 * lathe_store_cache_lookup:
 * @key: a cache key.
 *
 * Returns: (transfer full) (nullable): {"outputs", "metrics", "data_versions",
 * "execution"} of the execution that produced @key, or %NULL.
 */
JsonObject *lathe_store_cache_lookup(LatheStore *store, const char *key);

/** lathe_store_list_runs: (transfer full) newest first. */
JsonArray *lathe_store_list_runs(LatheStore *store, GError **error);
/** lathe_store_show_run: (transfer full) (nullable) a run by id or unique prefix,
 * with its "environment" (null for runs recorded before it was). */
JsonObject *lathe_store_show_run(LatheStore *store, const char *run_id, GError **error);
/* What lathe_store_show_run_flags() may leave out. */
typedef enum {
  LATHE_STORE_SHOW_ALL = 0,
  LATHE_STORE_SHOW_NO_NESTED_REPORTS = 1 << 0,
} LatheStoreShowFlags;
/** lathe_store_show_run_flags: (transfer full) (nullable) lathe_store_show_run();
 * with %LATHE_STORE_SHOW_NO_NESTED_REPORTS the executions of nested nodes (an
 * id with a '/': a tuner's trials) have an empty "reports" list: a
 * 1,000-trial study's 20,000 points that `lathe report` reads through
 * lathe_store_trial_reports() instead. */
JsonObject *lathe_store_show_run_flags(LatheStore *store, const char *run_id, LatheStoreShowFlags flags,
                                       GError **error);

/**
 * lathe_store_search_runs:
 * @store: (nullable): %NULL only checks @filter and @order_by (no runs).
 * @filter: (nullable): MLflow's search_runs filter ("metrics.eval.accuracy >
 *   0.9 and params.split.test_fraction = '0.2'"); %NULL or blank: every run.
 * @order_by: (nullable): "KEY [ASC|DESC]" each (or several, comma-separated);
 *   runs without the value come last; then newest first.
 * @max_results: at most this many runs.
 * @columns: (out) (optional) (transfer full): the keys @filter and @order_by
 *   name, once each, as "metrics.KEY", "params.KEY", "tags.KEY" or
 *   "attributes.NAME".
 *
 * Every value of @filter is a bound parameter of one SQL statement
 * (store-search.c describes the mapping).
 *
 * Returns: (transfer full) (nullable): the runs, each {run_id, name, status,
 * started, ended, pipeline, seed, preset, params {"NODE.PARAM": value},
 * metrics {"NODE.METRIC": number, or null for NaN}}; %NULL with @error set, %LATHE_ERROR_INVALID
 * and "filter: column N: ..." (or "order-by 'TEXT': column N: ...") for a
 * syntax error.
 */
JsonArray *lathe_store_search_runs(LatheStore *store, const char *filter,
                                   const char *const *order_by, guint max_results,
                                   GStrv *columns, GError **error);

/**
 * lathe_store_search_runs_page:
 * @offset: how many runs of the search to skip first.
 *
 * lathe_store_search_runs() from the @offset-th run on, skipped in SQL
 * (LIMIT/OFFSET), so a deep page reads only its own runs (lathe ui). The order
 * ends with the run id, so consecutive pages neither overlap nor miss a run
 * of an unchanged store.
 */
JsonArray *lathe_store_search_runs_page(LatheStore *store, const char *filter,
                                        const char *const *order_by, guint offset,
                                        guint max_results, GStrv *columns, GError **error);

/**
 * lathe_store_run_values:
 * @ref: a run id or unique prefix.
 *
 * Returns: (transfer full) (nullable): the run as lathe_store_search_runs()
 * gives it, plus data_versions {"NODE": [{uri, digest}]}; each node's latest
 * execution wins. %NULL with @error set (%LATHE_ERROR_INVALID for an unknown
 * or ambiguous @ref).
 */
JsonObject *lathe_store_run_values(LatheStore *store, const char *ref, GError **error);

/**
 * lathe_store_study_open:
 * @key: what makes two tuner runs the same study (see tuner-exec.c).
 * @name: the pipeline name; @node: the tuner node id; @tuner: its component.
 * @config: (transfer none): the study's settings, recorded when created.
 * @resumed: (out): whether the study existed.
 *
 * Opens the study for @key, creating it on first use. Trials left "running"
 * by a run that is no longer running (killed) are marked "interrupted" first:
 * they did not fail, the study runs them again.
 *
 * Returns: (transfer full) (nullable): the study id, or %NULL with @error set.
 */
char *lathe_store_study_open(LatheStore *store, const char *key, const char *name,
                             const char *node, const char *tuner, JsonObject *config,
                             gboolean *resumed, GError **error);

/**
 * lathe_store_trial_event:
 * @state: running, complete, pruned or failed.
 * @params: (nullable): the trial's point.
 * @values: (nullable): its objective values (and extra metrics), an object.
 * @model: (nullable): digest of the trial's output model.
 * @error_text: (nullable): why it failed or was pruned.
 *
 * Appends one event to trial @number of @study_id.
 */
gboolean lathe_store_trial_event(LatheStore *store, const char *study_id, guint number,
                                 const char *run_id, const char *state, JsonObject *params,
                                 JsonObject *values, const char *model, const char *error_text,
                                 GError **error);

/**
 * lathe_store_study_trials:
 *
 * Returns: (transfer full) (nullable): each trial of @study_id in number
 * order, as its latest event {number, state, run_id, params, values, model,
 * error, started, ended}.
 */
JsonArray *lathe_store_study_trials(LatheStore *store, const char *study_id, GError **error);

/**
 * lathe_store_find_study:
 * @ref: "RUN_ID/NODE" (a run id or unique prefix, and a tuner node), or a
 *   study id.
 *
 * Returns: (transfer full) (nullable): {id, name, node, tuner, config,
 * created}, or %NULL with @error set.
 */
JsonObject *lathe_store_find_study(LatheStore *store, const char *ref, GError **error);

/**
 * lathe_store_reports:
 * @node: an execution's node id ("tune/3/model").
 * @name: a reported metric ("val_loss").
 *
 * Returns: (transfer full): the values @name was reported with, by step
 * (an array of doubles indexed by position, with the steps in @steps), from
 * the execution of @node in @run_id; empty when there is none.
 */
GArray *lathe_store_reports(LatheStore *store, const char *run_id, const char *node,
                            const char *name, GArray *steps);

/**
 * lathe_store_trial_reports:
 * @prefix: the trial's exec-id prefix ("tune/3/").
 *
 * Returns: (transfer full): the intermediate values its nodes reported in
 * @run_id, {"NODE.METRIC": [[step, value], ...]}, steps in order.
 */
JsonObject *lathe_store_trial_reports(LatheStore *store, const char *run_id, const char *prefix);

/**
 * lathe_store_copy_studies:
 * @from_dir: another store's directory.
 * @before: Unix seconds.
 * @name: a pipeline name; @nodes: (array zero-terminated=1): tuner nodes.
 *
 * Copies into @store the studies of @from_dir of those tuner nodes of
 * pipeline @name created before @before, their trial events recorded before
 * it, and the model artifacts those name: the studies as they were at that
 * time (`lathe reproduce` of a run whose tuner resumed one).
 */
gboolean lathe_store_copy_studies(LatheStore *store, const char *from_dir, double before,
                                  const char *name, const char *const *nodes, GError **error);

/** lathe_store_list_studies: (transfer full) every study, newest first,
 * with trial counts per state. */
JsonArray *lathe_store_list_studies(LatheStore *store, GError **error);

/**
 * lathe_store_lineage:
 * @digest: an artifact's digest.
 * @run_id: (nullable): the run whose producers are preferred (a registered
 *   model's run); other runs' original (non-cached) producers otherwise.
 *
 * Walks from @digest back through the executions that produced it and the
 * artifacts they read, down to the data versions (store-lineage.c says which
 * producer is followed when several made the same digest). Each tree node is
 * {artifact: {digest, type, port}, execution: {id, run_id, node, component,
 * plugin, plugin_version, plugin_digest, status, cached, output, original?,
 * trial?} or null, inputs: [tree nodes], data_versions: [{uri, digest}]};
 * the root also has truncated (a bound on depth or size was hit).
 *
 * Returns: (transfer full) (nullable): the tree, or %NULL with @error set
 * (%LATHE_ERROR_INVALID when no execution in the store knows @digest).
 */
JsonObject *lathe_store_lineage(LatheStore *store, const char *digest, const char *run_id,
                                GError **error);

/**
 * lathe_store_execution_lineage:
 * @exec_id: an execution (the "execution" of a node in lathe_store_show_run()).
 * @port: (nullable): one of its outputs; %NULL for the execution itself
 *   (artifact is then null).
 *
 * Like lathe_store_lineage(), rooted at an execution; the root also lists
 * its outputs [{port, digest, type}].
 *
 * Returns: (transfer full) (nullable): the tree, or %NULL with @error set
 * (%LATHE_ERROR_INVALID when @port is not one of its outputs).
 */
JsonObject *lathe_store_execution_lineage(LatheStore *store, gint64 exec_id, const char *port,
                                          GError **error);

/**
 * lathe_store_check:
 * @repair: remove damaged artifact files, and the rows and cache entries
 *   that point to missing ones, so that the next run rebuilds them.
 *
 * Verifies every artifact file against its SHA-256 name, runs SQLite's
 * integrity check and looks for rows pointing to missing artifacts.
 *
 * Returns: (transfer full) (nullable): {store, artifacts_checked, damaged,
 * missing, cache_entries_affected, integrity, repaired, clean}, or %NULL
 * with @error set when the repair could not be written.
 */
JsonObject *lathe_store_check(LatheStore *store, gboolean repair, GError **error);

/** lathe_store_file_sha256: (transfer full) (nullable) hex SHA-256 of the file
 * @path (mapped, not read into memory), or %NULL with @error set. */
char *lathe_store_file_sha256(const char *path, GError **error);

/** lathe_store_remove_tree: removes @path and everything under it (a scratch store). */
void lathe_store_remove_tree(const char *path);

/* store-jobs.c (schema 5): the jobs executors run, for re-attaching. */
/** lathe_store_job_begin: records a live job of @executor, by its reference @job_ref. */
void lathe_store_job_begin(LatheStore *store, const char *run_id, const char *node, guint attempt,
                           const char *executor, const char *job_ref);
/** lathe_store_job_end: the job ended (or was cancelled). */
void lathe_store_job_end(LatheStore *store, const char *run_id, const char *node, guint attempt);
/**
 * lathe_store_jobs_orphaned:
 *
 * Returns: (transfer full): [{"run_id", "node", "attempt", "executor",
 * "job_ref"}] of jobs still live in the store whose run's process is gone.
 */
JsonArray *lathe_store_jobs_orphaned(LatheStore *store);
/**
 * lathe_store_commit:
 *
 * Commits the group transaction now rather than within its 20 ms: another
 * process about to open the store (`lathe exec-task`) need not wait for
 * the write lock.
 */
void lathe_store_commit(LatheStore *store);

G_END_DECLS
