/* tune-random.h: a small seeded PRNG and the random / quasi-random samplers
 * of a #LatheTuneSpace (tuner/random, and the start-up trials of TPE). */
#pragma once

#include <glib.h>

#include <lathe/lathe-rng.h>

#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LATHE_TUNE_ERROR:
 *
 * The #GError domain of the tune/ samplers: the same quark as the SDK's
 * LATHE_ERROR ("lathe-error-quark"), so that the plugins can pass the errors
 * on unchanged, without this library linking the SDK.
 */
#define LATHE_TUNE_ERROR (g_quark_from_static_string("lathe-error-quark"))

/**
 * LATHE_TUNE_ERROR_INVALID:
 *
 * The error code for bad input: LATHE_ERROR_INVALID.
 */
#define LATHE_TUNE_ERROR_INVALID 1

/**
 * LatheTuneRng:
 *
 * The SDK's xoshiro256** (#LatheRng). The samplers seed one per proposal
 * from the study seed and the trial number, so that a proposal never
 * depends on time, threads or the order in which workers ask.
 */
typedef LatheRng LatheTuneRng;

/**
 * lathe_tune_rng_init:
 * @rng: (out caller-allocates): the generator.
 * @seed: the study seed.
 * @stream: a second key (the trial number, or a purpose tag).
 *
 * Seeds @rng from (@seed, @stream) through SplitMix64.
 */
void lathe_tune_rng_init(LatheTuneRng *rng, guint64 seed, guint64 stream);

/** lathe_tune_splitmix64: advances @x and returns the next SplitMix64 output. */
guint64 lathe_tune_splitmix64(guint64 *x);

/**
 * lathe_tune_rng_next:
 * @rng: the generator.
 *
 * Returns: 64 random bits.
 */
guint64 lathe_tune_rng_next(LatheTuneRng *rng);

/**
 * lathe_tune_rng_uniform:
 * @rng: the generator.
 *
 * Returns: a double uniform in [0, 1), with 53 random bits.
 */
double lathe_tune_rng_uniform(LatheTuneRng *rng);

/**
 * lathe_tune_rng_below:
 * @rng: the generator.
 * @n: the bound (> 0).
 *
 * Returns: an integer uniform in [0, @n), without modulo bias.
 */
guint64 lathe_tune_rng_below(LatheTuneRng *rng, guint64 n);

/**
 * lathe_tune_rng_normal:
 * @rng: the generator.
 *
 * A standard normal by Box-Muller from two uniforms in [0, 1) (the first
 * kept above 1e-300; one of the pair is dropped). Not lathe_rng_normal(),
 * which draws 1 - u: the GP optimiser's recorded proposals depend on this
 * stream.
 *
 * Returns: the draw.
 */
double lathe_tune_rng_normal(LatheTuneRng *rng);

/**
 * lathe_tune_check_space:
 * @space: the space.
 * @error: return location for a #GError.
 *
 * Checks what the samplers rely on: at least one dimension, finite bounds
 * with lo < hi, positive bounds on log scales, no step with log, a step
 * that divides the range, integral bounds and steps for integers, at least
 * one choice per categorical, parents before their children. The tuner
 * plugins report friendlier errors from the JSON; this guards the library.
 *
 * Returns: %TRUE when @space is usable.
 */
gboolean lathe_tune_check_space(const LatheTuneSpace *space, GError **error);

/**
 * lathe_tune_check_history:
 * @space: the space.
 * @hist: (array length=n) (nullable): the trials.
 * @n: the number of trials.
 * @error: return location for a #GError.
 *
 * Checks that every trial has a point and a known state, and that every
 * coordinate is NAN or a finite value inside its dimension's bounds.
 *
 * Returns: %TRUE when @hist is usable.
 */
gboolean lathe_tune_check_history(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                  guint n, GError **error);

/**
 * lathe_tune_random_sample:
 * @space: a valid space.
 * @rng: the generator.
 * @x_out: (out caller-allocates) (array): @space->n_dims values.
 *
 * Draws one independent point: uniform, log-uniform (log dimensions),
 * uniform over the grid (integers and steps) or over the choices;
 * inactive dimensions are set to NAN.
 */
void lathe_tune_random_sample(const LatheTuneSpace *space, LatheTuneRng *rng, double *x_out);

/**
 * LatheTuneRandomMode:
 * @LATHE_TUNE_RANDOM_UNIFORM: independent pseudo-random points.
 * @LATHE_TUNE_RANDOM_HALTON: a Halton sequence (bases 2, 3, 5, ...) indexed
 *   by the trial number, shifted modulo 1 by a seeded random vector
 *   (Cranley-Patterson rotation) so that different seeds give different
 *   sequences.
 * @LATHE_TUNE_RANDOM_SOBOL: a Sobol sequence; not available in this library
 *   yet (asking for it is an error, never a silent fallback).
 */
typedef enum {
  LATHE_TUNE_RANDOM_UNIFORM = 0,
  LATHE_TUNE_RANDOM_HALTON = 1,
  LATHE_TUNE_RANDOM_SOBOL = 2,
} LatheTuneRandomMode;

/**
 * lathe_tune_random_propose:
 * @space: the space.
 * @hist: (array length=n) (nullable): the trials so far, any state.
 * @n: the number of trials in @hist.
 * @mode: a #LatheTuneRandomMode.
 * @seed: the study seed.
 * @trial_number: the number of the trial being proposed (0-based).
 * @x_out: (out caller-allocates) (array): @space->n_dims values.
 * @error: return location for a #GError.
 *
 * Proposes the point of trial @trial_number. It depends only on @space,
 * @seed, @trial_number and, in discrete spaces, on the points of @hist.
 *
 * When every dimension is discrete (integers, stepped floats, categoricals),
 * the proposal never repeats a point of @hist (whatever its state): a
 * repeated draw is redrawn from the seeded generator, and once the draws
 * keep colliding the unused points are enumerated and one is picked
 * uniformly. A Halton point that collides is replaced this way as well.
 *
 * Returns: %TRUE with @x_out set; %FALSE without @error when a discrete
 *   space has no unused point left (the study is exhausted; @x_out is then
 *   unspecified); %FALSE with
 *   @error on bad input or for %LATHE_TUNE_RANDOM_SOBOL.
 */
gboolean lathe_tune_random_propose(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                   guint n, LatheTuneRandomMode mode, guint64 seed,
                                   guint trial_number, double *x_out, GError **error);

G_END_DECLS
