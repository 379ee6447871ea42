/* tuning-private.h: the tuner kind's execution and its study across runs;
 * tuning/ sits above the engine (a trial is a batch of tasks). */
#pragma once

#include "engine/engine-private.h"
#include "tuning/tuning.h"

G_BEGIN_DECLS

/* A host-only trial state, beside the SDK's complete, failed and pruned: the
 * trial was stopped by something outside it (its process killed, Ctrl-C,
 * memory or threads ran out). It is never told to a tuner, counts as no
 * failure, and runs again, same number and point, when the study resumes
 * (trials.c replays the study's asks and runs it when its turn comes). */
#define LATHE_TRIAL_INTERRUPTED ((LatheTrialState)0x100)

/* One trial, of this run or resumed from an earlier one. */
typedef struct {
  guint number;
  JsonObject *point;
  LatheBatch *batch;      /* its tasks, while useful (this run only) */
  double value;           /* the (first) objective as reported (not negated) */
  double *objectives;     /* every objective as reported, n_obj of them (or NULL) */
  LatheTrialState state;
  gboolean feasible;      /* met every constraint */
  JsonObject *metrics;    /* the objective node's metrics */
  JsonObject *values;     /* {"objective": v, "NODE.METRIC": v, ...} as recorded */
  char *model;            /* digest of the trial's output model */
  char *error;
  gboolean resumed;
  char *run_id;           /* the run it ran in (resumed trials) */
  GThread *thread;        /* while it runs (tuner-exec.c) */
  gboolean finished;
} LatheTrial;

void lathe_trial_free(LatheTrial *trial);

/* What a study is asked to do, read once from the tuner node's params. */
typedef struct {
  char *objective;        /* "eval.accuracy", or "a.x, b.y" with several */
  guint n_obj;            /* objectives: node.metric with a direction each */
  char **obj_nodes;
  char **obj_metrics;
  gboolean *obj_max;
  gboolean maximize;      /* of the first objective: "best", goal, the tuner's tell() */
  guint max_trials, max_failed, parallel;
  double timeout;
  gboolean has_goal;
  double goal;
  GPtrArray *extra;       /* char* "NODE.METRIC" */
  GArray *constraints;    /* LatheTunerConstraint */
  LatheStudyPruner *pruner; /* or NULL */
} LatheStudyConfig;

void lathe_study_config_init(LatheStudyConfig *cfg, LatheContext *ctx, guint jobs);
void lathe_study_config_clear(LatheStudyConfig *cfg);

/* The key under which runs share a study: the pipeline name, the node, its
 * component, its params except the budgets, its trial and the run seed. */
char *lathe_study_key(LatheNodeRun *task, JsonObject *params);

/* The name of a trial state in the store and in summaries. */
const char *lathe_trial_state_name(LatheTrialState state);

/* Fills @trial's state, value, values and feasibility from its tasks.
 * Returns FALSE with @error set when the objective node succeeded but did not
 * produce the objective metric: no later trial can do better. */
gboolean lathe_study_finish_trial(LatheNodeRun *tuner, const LatheStudyConfig *cfg,
                                  LatheTrial *trial, GError **error);

/* Whether @a is better than @b (NULL counts as worse than anything). Equal
 * values go to the lower trial number, so the best does not depend on the
 * order trials finished in (a resumed study reruns its interrupted ones last). */
gboolean lathe_study_better(const LatheStudyConfig *cfg, const LatheTrial *a, const LatheTrial *b);

/* Whether two trial points hold the same values (numbers by value). */
gboolean lathe_study_same_point(JsonObject *a, JsonObject *b);

/* The trials the store holds for @study_id, as resumed LatheTrials. */
GPtrArray *lathe_study_load(LatheStore *store, const char *study_id, guint n_obj, GError **error);

/* (transfer full) the trial numbers on the Pareto front of the complete,
 * feasible @trials (LatheTrial*), in number order. */
GArray *lathe_study_front(const LatheStudyConfig *cfg, GPtrArray *trials);

/* Appends @trial's current state to the store. */
gboolean lathe_study_record(LatheRun *run, const char *study_id, LatheTrial *trial, GError **error);

/* trials.c: the tuner kind's execute operation (tuner-kind.c). */
gboolean lathe_tuner_execute(LatheNodeRun *task, LatheContext *ctx, GError **error);

/* tuner-kind.c: the trial node a space dimension "NODE.PARAM" sets: NODE,
 * or for a cv node's fold node "CV-NODE", its first fold's copy (the
 * params are the same in every fold; trials.c sets them on all). */
LatheNode *lathe_tuner_dim_target(LatheGraph *trial, const char *node);

G_END_DECLS
