/* engine-private.h: the engine's parts (scheduler, node kinds, tuner,
 * tracker feed, cache) and what they share. */
#pragma once

#include <lathe/lathe-context-private.h>

#include "engine/engine.h"

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

/* Why a task did not run. Only a skip for a false `when`, here or upstream,
 * leaves the run successful. */
typedef enum {
  LATHE_SKIP_NONE,
  LATHE_SKIP_CONDITION,          /* its own `when` is false or cannot be evaluated */
  LATHE_SKIP_UPSTREAM_CONDITION, /* downstream of such a skip */
  LATHE_SKIP_UPSTREAM_FAILED,    /* downstream of a failure, or of a skip after one */
  LATHE_SKIP_INTERRUPTED,        /* the run was interrupted before it started */
} LatheSkipReason;

/* One node instance in a run: a node of the graph, or of one trial. */
struct _LatheNodeRun {
  LatheNode *node;
  LatheBatch *batch;
  char *exec_id;        /* "model", or "tune/3/model" inside a trial */
  JsonObject *params;   /* resolved, with the trial point applied */
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
  char *progress_note;
  double progress;
  gint64 exec_row;      /* the store row, once written (see lathe_node_run_row) */
  char *cache_key;      /* while running */
  GMutex row_lock;      /* exec_row's creation: worker, ticker and reports race for it */
  LatheContext *ctx;    /* while running, for cancellation and progress */
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
  GThreadPool *pool;
  guint finalized;      /* tasks whose result is recorded */
  guint active;         /* tasks queued or running */
  /* A trial's batch: its number, and who watches its tasks' reports (the
   * study's pruner), or NULL; the engine knows no more of tuning. */
  guint trial_number;
  LatheReportWatch watch;
  gpointer watch_data;
  char *tracker_run;    /* the trial's child run in the tracker, or NULL */
};

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
  gpointer tracker;     /* instance of tracker_class, or NULL */
  const LatheTrackerClass *tracker_class;
  LatheContext *tracker_ctx; /* the tracker's params and directories, while open */
  GMutex tracker_lock;  /* one tracker call at a time, apart from the run lock */
  char *scratch_root;
  GPtrArray *all_tasks; /* every task of every batch, for progress and cleanup */
};

extern const LatheHostServices lathe_engine_services;

/* run-batch.c */
LatheNodeRun *lathe_node_run_new(LatheBatch *batch, LatheNode *node, const char *exec_id,
                          JsonObject *params);
LatheNodeRun *lathe_batch_find(LatheBatch *batch, LatheNode *node);
void lathe_batch_link(LatheBatch *batch);
void lathe_batch_execute(LatheBatch *batch);
void lathe_batch_free(LatheBatch *batch);
gboolean lathe_engine_interrupted(void);

/* node-exec.c: does a task's work by its kind; FALSE with @error on failure. */
gboolean lathe_node_execute(LatheNodeRun *task, LatheContext *ctx, GError **error);
/* The task's "running" row, written now if it has none: for nodes that run
 * long (the ticker) or report metrics. Returns the row, or -1. */
gint64 lathe_node_run_row(LatheNodeRun *task);
/* Its identity as the store records it (strings borrowed from @task). */
void lathe_node_run_identity(LatheNodeRun *task, LatheExecIdentity *who);

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
} LatheNodeKind;

/* node-kinds.c */
/* Registers @kind (static) for its kind, handing the catalog and the graph
 * their parts. Before lathe_catalog_load(): components are completed then. */
void lathe_node_kind_register(const LatheNodeKind *kind);
/* (nullable) the registered operations of @kind. */
const LatheNodeKind *lathe_node_kind_get(LatheComponentKind kind);

/* cache.c */
char *lathe_cache_key(LatheNodeRun *task, JsonObject *input_digests);
gboolean lathe_cache_restore(LatheNodeRun *task, const char *key);
void lathe_data_versions_stat(JsonArray *versions);

/* tracking.c */
gboolean lathe_tracking_open(LatheRun *run, GError **error);
void lathe_tracking_task_done(LatheRun *run, LatheNodeRun *task);
void lathe_tracking_report(LatheRun *run, LatheNodeRun *task, const char *name, double value,
                           gint64 step);
void lathe_tracking_close(LatheRun *run, const char *status);
/* A trial as a child run of the run (MLflow's nested runs): started with
 * its params when the trial starts; its tasks then log into it. */
void lathe_tracking_trial_start(LatheRun *run, LatheNodeRun *tuner, LatheBatch *trial,
                                JsonObject *point);
void lathe_tracking_trial_end(LatheRun *run, LatheBatch *trial, const char *state,
                              JsonObject *values);

/* progress.c */
void lathe_progress_draw(LatheRun *run, gboolean final);
