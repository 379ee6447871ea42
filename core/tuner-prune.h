/* tuner-prune.h: early stopping of trials from their intermediate reports
 * (engine-internal). The rules are tune/tune-prune.c's. */
#pragma once

#include <json-glib/json-glib.h>

#include "problems.h"

G_BEGIN_DECLS

typedef struct _LatheStudyPruner LatheStudyPruner;

/**
 * lathe_study_pruner_check:
 * @spec: the tuner's "pruner" param: {"rule": "median"|"halving", "metric":
 *   "TRIAL_NODE.METRIC" (a reported intermediate value, e.g.
 *   "model.val_loss"), "direction": "minimize"|"maximize", and the rule's
 *   options: n_startup_trials, n_warmup_steps, interval_steps (median);
 *   min_resource, reduction_factor, min_early_stopping_rate (halving)}.
 * @trial_nodes: the trial's node ids, to check the metric's node.
 *
 * Adds a problem per mistake, with @pointer. Returns whether @spec is usable.
 */
gboolean lathe_study_pruner_check(JsonObject *spec, GHashTable *trial_nodes, const char *pointer,
                                  GPtrArray *problems);

/* (transfer full) a pruner for a checked @spec. */
LatheStudyPruner *lathe_study_pruner_new(JsonObject *spec);
void lathe_study_pruner_free(LatheStudyPruner *pruner);

/**
 * lathe_study_pruner_report:
 * @trial: the trial number; @node: the reporting trial node's id.
 *
 * Records an intermediate value. Returns %TRUE when the trial should stop
 * now (the caller cancels it). Thread-safe: trials report concurrently.
 */
gboolean lathe_study_pruner_report(LatheStudyPruner *pruner, guint trial, const char *node,
                                   const char *name, double value, gint64 step);

/* The whole curve of a trial that ran in an earlier run of the study, and how
 * it ended, so that resumed trials vote like the others. */
void lathe_study_pruner_add_curve(LatheStudyPruner *pruner, guint trial, const guint *steps,
                                  const double *values, guint n, gboolean complete);

/* The trial node and metric the pruner watches (owned by it). */
const char *lathe_study_pruner_node(LatheStudyPruner *pruner);
const char *lathe_study_pruner_metric(LatheStudyPruner *pruner);

/* Tells the pruner a trial ended: @complete trials become the reference. */
void lathe_study_pruner_finish(LatheStudyPruner *pruner, guint trial, gboolean complete);

/**
 * lathe_study_pruner_pruned:
 * @why: (out) (transfer full) (optional): "pruned at step S (rule): ...".
 *
 * Returns: whether @trial was stopped by the pruner.
 */
gboolean lathe_study_pruner_pruned(LatheStudyPruner *pruner, guint trial, char **why);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheStudyPruner, lathe_study_pruner_free)

G_END_DECLS
