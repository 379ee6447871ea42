/* tune-tpe.h: the tree-structured Parzen estimator sampler, a faithful
 * reproduction of Optuna 3.1's TPESampler (single objective). */
#pragma once

#include <glib.h>

#include "tune-parzen.h"
#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTuneTpeOptions:
 * @n_startup_trials: finished trials sampled at random before TPE starts
 *   (10).
 * @n_ei_candidates: candidates drawn from l(x) per proposal (24).
 * @gamma_fraction: the share of finished trials in l(x) (0.1) ...
 * @gamma_max: ... at most this many (25): gamma(n) = min(ceil(0.1 n), 25).
 * @constant_liar: put %LATHE_TUNE_PENDING trials in g(x) as the worst
 *   possible results, so that parallel workers avoid each other's points
 *   (Optuna's constant_liar; %FALSE).
 * @parzen: the estimator: prior (%TRUE, weight 1.0), magic clip (%TRUE),
 *   endpoints (%FALSE), multivariate (%FALSE), normalized_logpdf (%FALSE,
 *   as Optuna 3.1).
 *
 * The options of lathe_tune_tpe_propose(). In multivariate mode, the
 * dimensions present in every finished trial are modelled jointly and the
 * others (conditional ones) one at a time, as Optuna's multivariate TPE
 * does with its intersection search space.
 */
typedef struct {
  guint n_startup_trials;
  guint n_ei_candidates;
  double gamma_fraction;
  guint gamma_max;
  gboolean constant_liar;
  LatheTuneParzenParams parzen;
} LatheTuneTpeOptions;

/**
 * lathe_tune_tpe_options_init:
 * @opts: (out caller-allocates): the options to fill.
 *
 * Sets Optuna 3.1's TPESampler defaults.
 */
void lathe_tune_tpe_options_init(LatheTuneTpeOptions *opts);

/**
 * lathe_tune_tpe_propose:
 * @space: the space.
 * @hist: (array length=n) (nullable): the trials so far, oldest first.
 * @n: the number of trials in @hist.
 * @opts: (nullable): the options, or %NULL for the defaults.
 * @seed: the study seed.
 * @trial_number: the number of the trial being proposed.
 * @x_out: (out caller-allocates) (array): @space->n_dims values; inactive
 *   dimensions get NAN.
 * @error: return location for a #GError.
 *
 * Proposes the next point. Finished trials are those %LATHE_TUNE_COMPLETE
 * (with a non-NAN value) and %LATHE_TUNE_PRUNED; failed trials are ignored,
 * as in Optuna. Trials are ranked, best first: complete ones by value, then
 * pruned ones with a value (their last intermediate value; the history has
 * no step, so they rank as if pruned at the same step), then pruned ones
 * without a value (NAN), then, with @constant_liar, the pending ones. Until
 * @n_startup_trials trials are finished, the point is drawn at random.
 *
 * A dimension is modelled from the trials where it is active only, which is
 * how Optuna treats conditional params. The result depends only on the
 * arguments: the generator is seeded from (@seed, @trial_number).
 *
 * Cost: O(n log n + n * n_ei_candidates * n_dims) time; a few allocations
 * per modelled dimension, none per candidate or component.
 *
 * Returns: %TRUE with @x_out set, or %FALSE with @error on bad input.
 */
gboolean lathe_tune_tpe_propose(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                guint n, const LatheTuneTpeOptions *opts, guint64 seed,
                                guint trial_number, double *x_out, GError **error);

G_END_DECLS
