/* tune-bayes.h: Bayesian optimisation proposals (a GP with log expected
 * improvement) over a #LatheTuneSpace. */
#pragma once

#include <glib.h>

#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTuneBayesOptions:
 * @n_startup: trials proposed quasi-randomly (scrambled Sobol) before the
 *   GP takes over (default 10; at least 2 completed trials are needed
 *   anyway).
 * @n_candidates: Sobol candidates the acquisition is evaluated on (default
 *   2000).
 * @n_local: perturbations of each of the best 5 observed points added to
 *   the candidates (default 60).
 * @n_starts: local refinements (L-BFGS) from the best candidates (default
 *   5).
 * @n_restarts: random restarts of the hyperparameter fit besides the warm
 *   start (default: 3 up to 60 completed trials, then 1 on every 5th
 *   trial count and 0 otherwise; at least 2 without a warm start). Past
 *   100 completed trials a warm @state refits only on every 3rd trial
 *   count and otherwise keeps its hyperparameters.
 *
 * Zero fields take their defaults; a %NULL options pointer means all
 * defaults.
 */
typedef struct {
  guint n_startup;
  guint n_candidates;
  guint n_local;
  guint n_starts;
  guint n_restarts;
} LatheTuneBayesOptions;

/**
 * LatheTuneBayesState:
 *
 * An opaque warm-start state (the last fitted GP) of one study.
 */
typedef struct _LatheTuneBayesState LatheTuneBayesState;

/**
 * lathe_tune_bayes_state_new:
 *
 * Creates the state that carries the fitted GP hyperparameters from one
 * proposal to the next of the same study, so that each fit warm starts.
 *
 * Returns: (transfer full): a new state; free with
 *   lathe_tune_bayes_state_free().
 */
LatheTuneBayesState *lathe_tune_bayes_state_new(void);

/**
 * lathe_tune_bayes_state_free:
 * @state: (transfer full) (nullable): a state.
 */
void lathe_tune_bayes_state_free(LatheTuneBayesState *state);

/**
 * lathe_tune_bayes_propose:
 * @space: the search space.
 * @history: (array length=n_history) (nullable): the trials so far
 *   (complete, failed, pruned and pending), each with a point of
 *   @space->n_dims values.
 * @n_history: the number of trials.
 * @opts: (nullable): options, or %NULL for the defaults.
 * @state: (nullable): a warm-start state from lathe_tune_bayes_state_new(),
 *   updated in place, or %NULL to fit from scratch.
 * @seed: the seed of this proposal (e.g. derived from the study seed and
 *   the trial number).
 * @x_out: (out caller-allocates) (array): receives the proposed point,
 *   @space->n_dims values in the native scale, NAN where inactive.
 * @error: return location for a #GError.
 *
 * Proposes the next point to evaluate, minimising the objective.
 *
 * While fewer than @n_startup trials exist (or fewer than 2 completed),
 * the point is the scrambled Sobol point number @n_history (a function of
 * @seed and @n_history only), skipping points that duplicate a trial in a
 * discrete space. Then a GP (Matern 5/2 ARD, see lathe_tune_gp_new()) is
 * fitted to the completed trials, with the inputs mapped to [0, 1] by
 * lathe_tune_space_to_unit(), categoricals one-hot, and inactive
 * dimensions at 0.5; failed and pruned trials are left out, pending ones
 * are fantasised at the GP mean (kriging believer). The objective values
 * are standardised and Yeo-Johnson transformed (lambda by maximum
 * likelihood) first, which tames skewed objectives. The proposal maximises
 * log EI over Sobol candidates and perturbations of the best points,
 * refined by L-BFGS, and never repeats a trial point unless the space has
 * no other.
 *
 * With the same @seed, @history and @opts and a fresh (or %NULL) @state,
 * the proposal is identical; a carried @state makes it depend on the
 * earlier calls too.
 *
 * Returns: %TRUE on success; %FALSE with @error set for a malformed
 *   space or history (naming the dimension or trial) or a numerical
 *   failure of the GP.
 */
gboolean lathe_tune_bayes_propose(const LatheTuneSpace *space, const LatheTuneTrial *history,
                                  guint n_history, const LatheTuneBayesOptions *opts,
                                  LatheTuneBayesState *state, guint64 seed, double *x_out,
                                  GError **error);

G_END_DECLS
