/* engine-private.h: the engine's parts (scheduler, node kinds, tuner,
 * tracker feed, cache) and what they share. */
#pragma once

#include <lathe/lathe-context-private.h>

#include "engine/engine.h"
#include "engine/recorder.h"

typedef struct _LatheRun LatheRun;
typedef struct _LatheBatch LatheBatch;
typedef struct _LatheNodeRun LatheNodeRun;

/* Told each intermediate value a task of the batch reports; returns TRUE
 * when the task should stop now (the engine cancels its context). Called
 * from the reporting node's thread. */
typedef gboolean (*LatheReportWatch)(gpointer data, LatheNodeRun *task, const char *name,
                                     double value, gint64 step);

typedef enum {
  TASK_PENDING,
  TASK_RUNNING,
  TASK_SUCCEEDED,
  TASK_CACHED,
  TASK_FAILED,
  TASK_SKIPPED,
} LatheNodeRunStatus;

/* One node instance in a run: a node of the graph, or of one trial. */
struct _LatheNodeRun {
  LatheNode *node;
  LatheBatch *batch;
  char *exec_id;        /* "model", or "tune/3/model" inside a trial */
  gint trial;           /* its trial's number, or -1 for a task of the run itself */
  JsonObject *params;   /* resolved, with the trial point applied */
  JsonObject *public_params; /* the same with secrets hidden: what is recorded and shown */
  GPtrArray *deps;      /* LatheNodeRun* of this batch */
  GPtrArray *dependents;
  guint waiting;
  LatheNodeRunStatus status;
  LatheSkipReason skip_reason;
  guint64 seed;         /* lathe_seed_derive(run seed, exec_id), computed once */
  GHashTable *outputs;  /* port -> LatheArtifact* */
  JsonObject *metrics;  /* name -> number */
  JsonArray *data_versions;
  double started, ended;
  char *error;
  /* It failed for a reason outside it: the run was interrupted (a signal) or
   * the machine ran out of something (LATHE_ERROR_RESOURCE, a thread). Not
   * its own fault: a study reruns such a trial. */
  gboolean interrupted;
  char *progress_note;
  double progress;
  JsonObject *inputs;   /* what the executor read and wrote, for the recorder: */
  JsonObject *outs;     /* port -> digest, and port -> {"digest", "type", "size"} */
  gboolean running_told; /* the ticker sent its RUNNING event (under the run lock) */
  char *cache_key;      /* while running */
  GMutex key_lock;      /* @cache_key: the worker writes it while the ticker and reports read it */
  LatheContext *ctx;    /* while running, for cancellation and progress */
  /* Issue 15 (executor.c, retry.c): the attempt being made (1 the first),
   * the executor session that runs it (NULL: this process's threads), and
   * what the last failure was, as a #LatheRetryOn bit (0: not retryable). */
  guint attempt;
  struct _LatheExecSession *remote;
  guint failure;
  /* Issue 16: the scheduler's worker slot that runs it (0..jobs-1 of its
   * batch), and the worker as the store records it ("thread 1", "process 0",
   * "trial 3"); @worker is written under the run lock, the ticker reads it. */
  guint slot;
  char *worker;
};

/* A set of tasks run together: the graph's, or one round of trials. */
struct _LatheBatch {
  LatheRun *run;
  LatheBatch *parent;   /* trials read the outer batch's finished tasks */
  GHashTable *task_of;  /* LatheNode* -> LatheNodeRun* */
  GPtrArray *tasks;
  guint jobs;
  /* While the batch executes (run-batch.c): workers do the bookkeeping
   * themselves under @lock, and the caller waits on @cond. */
  GMutex lock;
  GCond cond;
  GThreadPool *pool;    /* jobs - 1 workers: the calling thread is one too */
  GQueue queue;         /* runnable tasks no thread has taken yet */
  gboolean thread_failed; /* a worker could not be started (said once) */
  gboolean *slot_busy;  /* jobs entries: the worker slots taken (under @lock) */
  guint trial_slot;     /* a trial's batch: its thread's slot among the run's trials */
  guint finalized;      /* tasks whose result is recorded */
  guint active;         /* tasks queued or running */
  /* A trial's batch: its tuner task, its number, and who watches its tasks'
   * reports (the study's pruner), or NULL; the engine knows no more of tuning. */
  LatheNodeRun *tuner;
  guint trial_number;
  LatheReportWatch watch;
  gpointer watch_data;
  /* When set, no task of the batch runs: each is skipped with this reason,
   * as after an upstream failure (the run's late nodes after a failure). */
  const char *hold;
};

/* Does one task's work (no bookkeeping): fills the task's outputs, metrics,
 * data versions, inputs/outs and ended, and sets its status to TASK_CACHED
 * on a cache hit. Returns FALSE with @error when the task failed. Called on
 * worker threads, for several tasks at once. */
typedef struct {
  gboolean (*execute)(gpointer data, LatheNodeRun *task, GError **error);
  gpointer data;
} LatheExecutor;

struct _LatheRun {
  LatheGraph *graph;
  LatheCatalog *cat;
  LatheStore *store;
  const LatheRunOptions *opts;
  char *run_id;
  guint blas_threads;
  GMutex lock;          /* results, data versions and the tracker */
  JsonArray *nodes;     /* result rows */
  gboolean failed;      /* a task of the run itself (not of a trial) failed */
  JsonObject *metrics;  /* "NODE.METRIC" -> value */
  JsonArray *data_versions; /* all read in this run, for registry lineage */
  GStrv tracker_streams; /* journal streams the run's tracker events go to (NULL: none) */
  JsonObject *tracker_settings; /* stream -> {"use", "with"} */
  LatheShipper *shipper; /* ships the journal while the run goes on */
  char *scratch_root;
  GPtrArray *all_tasks; /* every task of every batch, for progress and cleanup */
  const LatheRecorder *recorder; /* where every state change of a task goes */
  const LatheExecutor *executor; /* what does a task's work */
  /* The store's key for fingerprints of secret params, read on first need
   * (under @lock): 0 not yet, 1 read, -1 unreadable (secret nodes then run
   * uncached). */
  gint secret_key_state;
  guint8 secret_key[LATHE_STORE_KEY_SIZE];
  struct _LatheExecutors *executors; /* executor.c: the sessions of the run's executors */
  /* The slots of the trial threads running (gboolean each, under @lock;
   * NULL until a trial runs): a trial's nodes run on its own thread, named
   * by the lowest slot free when it starts, so the timeline has as many
   * trial lanes as trials ran at once, not one a trial. */
  GArray *trial_slots;
};

extern const LatheHostServices lathe_engine_services;

/* run-batch.c */
/* A batch of @run: the run's own (@tuner NULL), or trial @trial_number of @tuner. */
LatheBatch *lathe_batch_new(LatheRun *run, LatheNodeRun *tuner, guint trial_number, guint jobs);
LatheNodeRun *lathe_node_run_new(LatheBatch *batch, LatheNode *node, const char *exec_id,
                          JsonObject *params);
LatheNodeRun *lathe_batch_find(LatheBatch *batch, LatheNode *node);
void lathe_batch_link(LatheBatch *batch);
void lathe_batch_execute(LatheBatch *batch);
void lathe_batch_free(LatheBatch *batch);
/* Runs a finished task again, now, on this thread, and records the new
 * outcome (a cached output that failed verification is made anew). */
void lathe_batch_run_again(LatheNodeRun *task);
gboolean lathe_engine_interrupted(void);
/* Whether @error says the machine ran out of something (memory, threads),
 * rather than that the work itself failed. */
gboolean lathe_error_is_resource(const GError *error);

/* An event of @task, its identity filled in (strings borrowed from @task;
 * call with @task->key_lock held while the task may run). */
void lathe_node_run_event(LatheNodeRun *task, LatheTaskEventKind kind, LatheTaskEvent *event);
/* engine.c: records one report of @task (a thread's, or one a task outside
 * the host sent back) and tells its batch's watcher; TRUE when the watcher
 * asks that the task stop (a trial pruned). */
gboolean lathe_node_run_report(LatheNodeRun *task, const char *name, double value, gint64 step);

/* task-reports.c: the reports a task outside the host appends, one JSON line
 * each, to a file beside its result, read as they come so that a study's
 * pruner can stop a trial under any executor. */
typedef struct {
  char *path;
  gint64 offset;  /* bytes of whole lines consumed */
  guint n;        /* reports consumed; the result file repeats them all */
} LatheReportStream;
void lathe_report_stream_init(LatheReportStream *rs, const char *path);
gboolean lathe_report_stream_poll(LatheReportStream *rs, LatheNodeRun *task);
void lathe_report_stream_clear(LatheReportStream *rs);
/* The task's side: appends one report line to @fd (-1: none). */
void lathe_report_stream_write(int fd, const char *name, double value, gint64 step);

/* node-exec.c: the executor that runs tasks in this process, by their kind. */
extern const LatheExecutor lathe_node_executor;

/* executor.c: tasks run by an executor component (executor/process, slurm). */
typedef struct _LatheExecutors LatheExecutors;
LatheExecutors *lathe_executors_new(LatheRun *run);
/* Cancels every live job, then closes the sessions. */
void lathe_executors_free(LatheExecutors *execs);
/* Chooses where @task runs (sets @task->remote; NULL: on this thread).
 * Returns FALSE with @error when its executor cannot be opened. */
gboolean lathe_executors_select(LatheExecutors *execs, LatheNodeRun *task, GError **error);
/* The executor @task->remote is ("process" for executor/process), for the
 * worker the store records. */
const char *lathe_executors_short_name(const struct _LatheExecSession *session);
/* Runs @task's component through its executor (`lathe exec-task` there):
 * on success @ctx holds its outputs and metrics, and *@data_versions what
 * it read. Sets @task->failure on failure. */
gboolean lathe_exec_remote(LatheNodeRun *task, LatheContext *ctx, JsonArray **data_versions,
                           GError **error);
/* Jobs a run killed earlier left behind (their references are in the store):
 * each is attached and cancelled. */
void lathe_executors_reap(LatheRun *run);
/* The type lathe_artifact_type_name() names; LATHE_TYPE_ANY for none. */
LatheArtifactType lathe_artifact_type_from_name(const char *name);


/* retry.c: whether @task, which just failed (@task->failure), gets another
 * attempt under its node's policy. */
gboolean lathe_retry_should(LatheNodeRun *task);
/* Waits the policy's delay before the next attempt; FALSE on an interrupt. */
gboolean lathe_retry_wait(LatheNodeRun *task);

/* recorder.c: the recorder over the run's store, tracker and result. */
LatheRecorder *lathe_run_recorder_new(LatheRun *run);
void lathe_run_recorder_free(LatheRecorder *recorder);

/* A node kind's operations: one table per kind, written by the code that
 * owns the kind (node-kinds.c for the engine's own, tuning/ for the tuner)
 * and registered at start-up. The lower layers get their part of it
 * (params and ports to the catalog, checks to the graph) so that none of
 * them names a higher one. */
typedef struct {
  LatheComponentKind kind;
  /* catalog/: host params ahead of the component's, and ports (NULL: the
   * catalog's defaults for the kind). */
  const LatheParamSpec *params;
  const LathePortSpec *inputs, *outputs;
  /* graph/: whether its nodes take a "trial" sub-graph, and its checks. */
  gboolean trial;
  LatheNodeValidateFunc validate;
  /* Inputs besides its edges, added to @inputs (digests by name): recorded
   * as the execution's inputs and part of its cache key. */
  void (*extra_inputs)(LatheNodeRun *task, JsonObject *inputs);
  /* What else decides its result, added to a copy of the inputs that only
   * the cache key sees. */
  void (*cache_inputs)(LatheNodeRun *task, JsonObject *inputs);
  /* Does the node's work, once its plugin is realised. */
  gboolean (*execute)(LatheNodeRun *task, LatheContext *ctx, GError **error);
  /* Its nodes act outside the run (the register node moves an alias): they,
   * and what reads them, run after every other node of the run, and only
   * when none failed (engine.c). */
  gboolean after_run;
  /* Its nodes have side effects (a sink writes to a lakeFS branch): never
   * served from the cache, run every time. */
  gboolean uncached;
} LatheNodeKind;

/* node-kinds.c */
/* Registers @kind (static) for its kind, handing the catalog and the graph
 * their parts. Before lathe_catalog_load(): components are completed then. */
void lathe_node_kind_register(const LatheNodeKind *kind);
/* (nullable) the registered operations of @kind. */
const LatheNodeKind *lathe_node_kind_get(LatheComponentKind kind);

/* cache.c */
/* @content: (nullable) a resolved source's content key, added to the key. */
char *lathe_cache_key(LatheNodeRun *task, JsonObject *input_digests, const char *content);
/* @resolved: the task's data versions come from its source's resolve, not
 * from the entry, and the entry's are not checked against local files. */
gboolean lathe_cache_restore(LatheNodeRun *task, const char *key, gboolean resolved);
void lathe_data_versions_stat(JsonArray *versions);
/* Reads the cached outputs @task takes in, which verifies them; rebuilds
 * the producer of any that cannot be read (damaged, so removed, or gone).
 * Returns whether any was rebuilt (the task's inputs changed). */
gboolean lathe_cache_reload_inputs(LatheNodeRun *task);
/* Held around reading producers' outputs: a rebuild replaces them. */
void lathe_cache_inputs_lock(void);
void lathe_cache_inputs_unlock(void);

/* tracking.c: the tracker's half of the run recorder. Events become
 * journal rows (store/store-journal.h), written with the store rows they
 * mirror; the shipper (tracker-ship.c) sends them. @target is the run a task
 * logs into (the run, or its trial's child run) and @prefix the start of
 * its keys. The journal builders return NULL when no tracker is selected. */
/* Which trackers the run feeds: set before the run's store row is written. */
gboolean lathe_tracking_select(LatheRun *run, GError **error);
/* (transfer full) (nullable) the run's start events (its id is the store's). */
LatheJournal *lathe_tracking_start_journal(LatheRun *run);
/* Starts shipping (after the run's row exists). */
void lathe_tracking_open(LatheRun *run);
LatheJournal *lathe_tracking_task_journal(LatheRun *run, const char *target, const char *prefix,
                                          const char *component, JsonObject *params, JsonObject *metrics,
                                          JsonObject *outputs, JsonArray *data_versions);
/* (nullable) an empty journal to the run's trackers; NULL without any. */
LatheJournal *lathe_tracking_journal_new(LatheRun *run);
LatheJournal *lathe_tracking_end_journal(LatheRun *run, const char *status);
/* Rows were journaled: the shipper may send them. */
void lathe_tracking_kick(LatheRun *run);
/* Final bounded flush, then the trackers close. */
void lathe_tracking_close(LatheRun *run);
/* A trial as a child run of the run (MLflow's nested runs), its parent the
 * run. Returns the child run's Lathe id, or NULL when no tracker is fed. */
char *lathe_tracking_trial_start(LatheRun *run, const char *tuner, guint number,
                                 JsonObject *point);
void lathe_tracking_trial_end(LatheRun *run, const char *tracker_run, const char *state,
                              JsonObject *values);

/* tracker-ship.c, for the run. */
/* How long the end of a run may wait for the trackers: LATHE_TRACKER_FLUSH_MS,
 * or 2 s. Tests that expect a working tracker to have everything at the end
 * of a run set it, so they do not depend on how loaded the machine is. */
gint64 lathe_tracker_flush_us(void);
/* (transfer full) stream -> the tracker's own id of @run_id, for the
 * streams whose tracker has started the run. Waits for the others while the
 * shipping thread may still start it, at most @budget_us: not for a tracker
 * that is out of reach, broken or refused the start. @missing (transfer
 * full, nullable) gets the streams left out. */
JsonObject *lathe_shipper_run_ids(LatheShipper *shipper, const char *run_id, gint64 budget_us,
                                  GStrv *missing);

/* input-pipeline.c */
/* (transfer full) (nullable) the input pipeline of the model register task
 * @reg registers: {"source": STEP, "steps": [STEP...]}, each STEP {"id",
 * "use", "output", "with", and "input" for a transform}, in data order.
 * NULL with @why (transfer full) when the chain cannot be traced. */
JsonObject *lathe_input_pipeline_trace(LatheNodeRun *reg, char **why);

/* progress.c */
void lathe_progress_draw(LatheRun *run, gboolean final);
