/* lathe-rng.h: seeded random streams (xoshiro256**). */
#pragma once

/**
 * SECTION:lathe-rng
 * @title: Random streams
 * @short_description: seeded random streams (xoshiro256**)
 *
 * Every node gets a stream seeded from the run seed and its id, so results
 * repeat for a seed whatever the scheduling.
 */

#include "lathe-api.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheRng:
 *
 * A small, fast, reproducible generator. Not thread-safe: each node gets its
 * own stream from lathe_context_rng().
 */
typedef struct {
  /*< private >*/
  guint64 s[4];
} LatheRng;

/**
 * lathe_seed_derive:
 * @seed: a parent seed (the run's).
 * @name: what the child stream is for (a node id).
 *
 * Derives a child seed from a parent seed and a name, through SHA-256, so that
 * adding a node never shifts the streams of the others.
 *
 * Returns: the derived seed.
 */
LATHE_API guint64 lathe_seed_derive(guint64 seed, const char *name);

/**
 * lathe_rng_init:
 * @rng: a generator.
 * @seed: the seed.
 *
 * Seeds a generator.
 */
LATHE_API void lathe_rng_init(LatheRng *rng, guint64 seed);
/**
 * lathe_rng_next:
 * @rng: a generator.
 *
 * Draws 64 random bits.
 *
 * Returns: the bits.
 */
LATHE_API guint64 lathe_rng_next(LatheRng *rng);
/**
 * lathe_rng_uniform:
 * @rng: a generator.
 *
 * Draws a uniform double with 53 random bits.
 *
 * Returns: a value in [0, 1).
 */
LATHE_API double lathe_rng_uniform(LatheRng *rng);
/**
 * lathe_rng_below:
 * @rng: a generator.
 * @n: the bound, > 0.
 *
 * Draws an unbiased uniform integer.
 *
 * Returns: a value in [0, @n).
 */
LATHE_API guint64 lathe_rng_below(LatheRng *rng, guint64 n);
/**
 * lathe_rng_normal:
 * @rng: a generator.
 *
 * Draws from the standard normal (Box-Muller, no cached state).
 *
 * Returns: the value.
 */
LATHE_API double lathe_rng_normal(LatheRng *rng);
/**
 * lathe_rng_shuffle:
 * @rng: a generator.
 * @items: (array length=n): the indices.
 * @n: the bound, > 0.
 *
 * Shuffles indices in place (Fisher-Yates).
 */
LATHE_API void lathe_rng_shuffle(LatheRng *rng, guint32 *items, gsize n);

G_END_DECLS
