/* tune-prune.h: early-stopping rules as pure decision functions over the
 * intermediate values of a study: Optuna 3.1's MedianPruner (PercentilePruner
 * at 50, like Katib's medianstop) and SuccessiveHalvingPruner. All
 * objectives are minimised: negate maximised metrics first. */
#pragma once

#include <glib.h>

#include "tune-random.h" /* LATHE_TUNE_ERROR */
#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTuneCurve:
 * @steps: (array length=n): the steps that have a value, strictly
 *   increasing (epochs, from 0).
 * @values: (array length=n): the intermediate value at each step; NAN when
 *   the reported value was NaN.
 * @n: the number of reported steps.
 * @state: the trial's #LatheTuneState (%LATHE_TUNE_PENDING while running).
 *
 * The intermediate values of one trial (step -> value).
 */
typedef struct {
  const guint *steps;
  const double *values;
  guint n;
  LatheTuneState state;
} LatheTuneCurve;

/**
 * LatheTuneMedianOptions:
 * @percentile: the percentile the trial must beat, 0..100 (50: the median).
 * @n_startup_trials: no pruning until this many trials are complete (5).
 * @n_warmup_steps: no pruning before this step (0).
 * @interval_steps: check at most once per this many steps, counted from
 *   the warm-up (1).
 * @n_min_trials: no pruning unless at least this many complete trials
 *   reported a value at the step (1).
 */
typedef struct {
  double percentile;
  guint n_startup_trials;
  guint n_warmup_steps;
  guint interval_steps;
  guint n_min_trials;
} LatheTuneMedianOptions;

/**
 * lathe_tune_median_options_init:
 * @opts: (out caller-allocates): the options to fill.
 *
 * Sets Optuna's MedianPruner defaults (50, 5, 0, 1, 1).
 */
void lathe_tune_median_options_init(LatheTuneMedianOptions *opts);

/**
 * lathe_tune_prune_median:
 * @trial: the running trial, whose last step was just reported.
 * @others: (array length=n_others) (nullable): the other trials of the
 *   study, any state (only complete ones count).
 * @n_others: the number of @others.
 * @opts: (nullable): the options, or %NULL for the defaults.
 * @prune_out: (out): whether to stop @trial now.
 * @error: return location for a #GError.
 *
 * Optuna's PercentilePruner.prune(): after the start-up and warm-up, at the
 * first report of each interval, prune when the trial's best value so far
 * is worse than the percentile (linear interpolation, NaN ignored) of the
 * complete trials' values at the trial's last step. A trial whose values
 * are all NaN is pruned.
 *
 * Returns: %TRUE with @prune_out set, or %FALSE with @error on bad input
 *   (steps not increasing, bad options).
 */
gboolean lathe_tune_prune_median(const LatheTuneCurve *trial, const LatheTuneCurve *others,
                                 guint n_others, const LatheTuneMedianOptions *opts,
                                 gboolean *prune_out, GError **error);

/**
 * LatheTuneHalvingOptions:
 * @min_resource: the steps of the first rung; 0 for Optuna's "auto": the
 *   largest last step of the complete trials / 100, at least 1 (no pruning
 *   before a trial completes). Optuna fixes "auto" once, at the first
 *   complete trial; a pure function re-estimates it on every call, so give
 *   an explicit value for exact reproducibility.
 * @reduction_factor: eta, the share 1/eta of a rung promoted (4; >= 2).
 * @min_early_stopping_rate: s, rung r ends at step
 *   min_resource * eta^(s + r) (0).
 * @bootstrap_count: prune while a rung has this many values or fewer (0).
 */
typedef struct {
  guint min_resource;
  guint reduction_factor;
  guint min_early_stopping_rate;
  guint bootstrap_count;
} LatheTuneHalvingOptions;

/**
 * lathe_tune_halving_options_init:
 * @opts: (out caller-allocates): the options to fill.
 *
 * Sets Optuna's SuccessiveHalvingPruner defaults (auto, 4, 0, 0).
 */
void lathe_tune_halving_options_init(LatheTuneHalvingOptions *opts);

/**
 * lathe_tune_prune_halving:
 * @trial: the running trial, whose last step was just reported.
 * @others: (array length=n_others) (nullable): the other trials, any state.
 * @n_others: the number of @others.
 * @opts: (nullable): the options, or %NULL for the defaults.
 * @prune_out: (out): whether to stop @trial now.
 * @error: return location for a #GError.
 *
 * Optuna's SuccessiveHalvingPruner.prune() (asynchronous successive
 * halving). Optuna records, at each check, the value with which a trial
 * completed each rung; here those records are rebuilt from the curves, as
 * if every report had been checked: a trial completes rung r at its first
 * report at or after the rung's step, and enters rung r + 1 when it went on
 * (a later report, or a state other than pruned). A pruned trial whose last
 * report completed several rungs at once is counted in the first only.
 * The trial is promoted from a rung when its value is within the best
 * 1/eta of the values recorded there (itself included; with fewer than eta
 * values, only when it is the best), else pruned. A NaN value is pruned.
 *
 * Returns: %TRUE with @prune_out set, or %FALSE with @error on bad input.
 */
gboolean lathe_tune_prune_halving(const LatheTuneCurve *trial, const LatheTuneCurve *others,
                                  guint n_others, const LatheTuneHalvingOptions *opts,
                                  gboolean *prune_out, GError **error);

G_END_DECLS
