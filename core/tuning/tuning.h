/* tuning.h: the host side of tuning: search spaces checked at validation,
 * constraints, pruners, and the tuner node kind. The public header of
 * tuning/. */
#pragma once

#include "catalog/catalog.h"
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * lathe_tuning_init:
 *
 * Registers the tuner node kind (its params, ports, checks, cache inputs and
 * execution) with the layers below, which never name tuning/. Call it once
 * at start-up, after lathe_engine_init() and before lathe_catalog_load().
 */
void lathe_tuning_init(void);

/* Early stopping of trials from their intermediate reports
 * (engine-internal). The rules are tune/tune-prune.c's. */

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

/* The typed search-space dimensions of a tuner node. */

/**
 * lathe_tuner_space_normalize:
 * @dim: the dimension's name, "TRIAL_NODE.PARAM".
 * @spec: the dimension as written: a list of values (categorical, what
 *   tuner/grid takes) or an object {"type", "low", "high", "step", "log",
 *   "choices", "when"} whose missing parts come from @param.
 * @param: the declaration of the param the dimension sets.
 * @space: every dimension as written, to resolve "when" parents.
 * @pointer: JSON pointer of @spec, for problems.
 * @problems: where to add each problem.
 *
 * Fills an object spec from the param's schema: the type from the param
 * type (INT -> int, FLOAT -> float, ENUM and BOOL -> categorical with every
 * value), the bounds from its min/max, log from %LATHE_PARAM_LOG. Then it
 * checks it: bounds present, low < high and inside the param's bounds, log
 * bounds > 0, a step that divides the range, choices valid for the param, a
 * "when" of the form "DIM OP VALUE" on another dimension without a cycle.
 *
 * Returns: (transfer full) (nullable): the normalised spec (see
 * docs/pipelines.md#search-spaces), a copy of @spec for a list, or %NULL
 * after adding problems.
 */
JsonNode *lathe_tuner_space_normalize(const char *dim, JsonNode *spec, const LatheParamSpec *param,
                                      JsonObject *space, const char *pointer, GPtrArray *problems);

/**
 * lathe_tuner_space_link:
 * @space: every dimension, normalised by lathe_tuner_space_normalize().
 * @pointer: JSON pointer of the space, for problems.
 * @problems: where to add each problem.
 *
 * Checks what needs all dimensions at once: each "when" fits its parent's
 * type (== or != with one of a categorical's choices; == < <= > >= with a
 * number for int and float), and no "when" chain loops.
 *
 * Returns: (transfer full) (nullable): the same space with parents before
 * their children (otherwise in file order), or %NULL after adding problems.
 */
JsonObject *lathe_tuner_space_link(JsonObject *space, const char *pointer, GPtrArray *problems);

/**
 * LatheTunerConstraint:
 * @node: the trial node; @metric: its metric.
 * @op: one of == != < <= > >=; @bound: the number.
 */
typedef struct {
  char *node;
  char *metric;
  char op[3];
  double bound;
} LatheTunerConstraint;

/**
 * lathe_tuner_constraint_parse:
 * @text: "NODE.METRIC OP NUMBER", e.g. "model.train_seconds <= 60".
 * @out: (out caller-allocates): the parts; free with
 *   lathe_tuner_constraint_clear().
 * @why: (out) (transfer full): the reason when @text does not parse.
 */
gboolean lathe_tuner_constraint_parse(const char *text, LatheTunerConstraint *out, char **why);
void lathe_tuner_constraint_clear(LatheTunerConstraint *c);
/** lathe_tuner_constraint_holds: whether @value meets @c. */
gboolean lathe_tuner_constraint_holds(const LatheTunerConstraint *c, double value);

G_END_DECLS
