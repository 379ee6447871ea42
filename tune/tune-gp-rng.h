/* tune-gp-rng.h: the GP code's use of the tuners' generator (tune-random.h):
 * its own seeding (SplitMix64 straight from the seed, which its recorded
 * results depend on) and normal draws. */
#pragma once

#include <glib.h>
#include <math.h>

#include "tune-random.h"

typedef LatheTuneRng LatheTuneGpRng;

/* SplitMix64 straight from the seed: the SDK's own seeding. */
static inline void lathe_tune_gp_rng_init(LatheTuneGpRng *r, guint64 seed) { lathe_rng_init(r, seed); }

static inline double lathe_tune_gp_rng_uniform(LatheTuneGpRng *r) { return lathe_tune_rng_uniform(r); }

/* Standard normal by Box-Muller (one of the pair is dropped: simplicity
 * over speed, this is not in an inner loop). */
static inline double lathe_tune_gp_rng_normal(LatheTuneGpRng *r) {
  double u1 = lathe_tune_gp_rng_uniform(r), u2 = lathe_tune_gp_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}
