/* engine-private.h: the engine's parts (scheduler, node kinds, tuner,
 * tracker feed, cache) and what they share. */
#pragma once

#include <lathe/lathe-context-private.h>

#include "engine/engine.h"

typedef struct _LatheRun LatheRun;
typedef struct _LatheBatch LatheBatch;
typedef struct _LatheNodeRun LatheNodeRun;

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
  /* A trial's batch: its number, and the study's pruner (or NULL). */
  guint trial_number;
  struct _LatheStudyPruner *pruner;
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

/* tuning/trials.c */
gboolean lathe_tuner_execute(LatheNodeRun *task, LatheContext *ctx, GError **error);

/* cache.c */
char *lathe_cache_key(LatheNodeRun *task, JsonObject *input_digests);
gboolean lathe_cache_restore(LatheNodeRun *task, const char *key);
void lathe_data_versions_stat(JsonArray *versions);
/* Reads the cached outputs @task takes in, which verifies them; rebuilds
 * the producer of any that cannot be read (damaged, so removed, or gone).
 * Returns whether any was rebuilt (the task's inputs changed). */
gboolean lathe_cache_reload_inputs(LatheNodeRun *task);
/* Held around reading producers' outputs: a rebuild replaces them. */
void lathe_cache_inputs_lock(void);
void lathe_cache_inputs_unlock(void);

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
