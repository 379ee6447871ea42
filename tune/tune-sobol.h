/* tune-sobol.h: low-discrepancy sequences (Sobol and Halton) for the
 * quasi-random start of the tuners and for acquisition candidates. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LATHE_TUNE_SOBOL_MAX_DIMS:
 *
 * The number of dimensions whose direction numbers are embedded.
 */
#define LATHE_TUNE_SOBOL_MAX_DIMS 64

/**
 * LATHE_TUNE_HALTON_MAX_DIMS:
 *
 * The number of primes embedded for the Halton sequence.
 */
#define LATHE_TUNE_HALTON_MAX_DIMS 64

/**
 * LatheTuneSobol:
 *
 * An opaque Sobol sequence generator; not thread-safe (one per thread).
 */
typedef struct _LatheTuneSobol LatheTuneSobol;

/**
 * lathe_tune_sobol_new:
 * @dims: the number of dimensions, 1..%LATHE_TUNE_SOBOL_MAX_DIMS.
 * @scramble: apply a random digital shift drawn from @seed (the unshifted
 *   sequence starts at the origin).
 * @seed: the seed of the shift; ignored unless @scramble.
 *
 * Creates a Sobol sequence generator with the Joe & Kuo (2008)
 * new-joe-kuo-6.21201 direction numbers, 32 bits of resolution, Gray-code
 * order. The first point is index 0.
 *
 * Returns: (transfer full) (nullable): a new generator to free with
 *   lathe_tune_sobol_free(), or %NULL when @dims is out of range.
 */
LatheTuneSobol *lathe_tune_sobol_new(guint dims, gboolean scramble, guint64 seed);

/**
 * lathe_tune_sobol_free:
 * @sobol: (transfer full) (nullable): a generator.
 */
void lathe_tune_sobol_free(LatheTuneSobol *sobol);

/**
 * lathe_tune_sobol_next:
 * @sobol: a generator.
 * @u: (out caller-allocates) (array): receives the next point, dims values
 *   in [0, 1).
 *
 * After 2^32 points the sequence wraps around.
 */
void lathe_tune_sobol_next(LatheTuneSobol *sobol, double *u);

/**
 * lathe_tune_sobol_skip:
 * @sobol: a generator.
 * @n: how many points to skip.
 *
 * Advances the sequence by @n points in O(32 * dims) time.
 */
void lathe_tune_sobol_skip(LatheTuneSobol *sobol, guint64 n);

/**
 * lathe_tune_sobol_index:
 * @sobol: a generator.
 *
 * Returns: the index of the point that the next lathe_tune_sobol_next()
 *   returns.
 */
guint64 lathe_tune_sobol_index(const LatheTuneSobol *sobol);

/**
 * lathe_tune_halton_point:
 * @dims: the number of dimensions, 1..%LATHE_TUNE_HALTON_MAX_DIMS.
 * @index: the index of the point (0 is the origin when unshifted).
 * @scramble: add a random shift modulo 1 (Cranley-Patterson rotation)
 *   drawn from @seed.
 * @seed: the seed of the shift; ignored unless @scramble.
 * @u: (out caller-allocates) (array): receives @dims values in [0, 1).
 *
 * The Halton point @index: in dimension j the radical inverse of @index in
 * base the j-th prime.
 *
 * Returns: %FALSE (and leaves @u alone) when @dims is out of range.
 */
gboolean lathe_tune_halton_point(guint dims, guint64 index, gboolean scramble, guint64 seed,
                                 double *u);

G_END_DECLS
