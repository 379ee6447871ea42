/* tune-gp-rng.h: a small seeded generator (splitmix64 seeding xoshiro256**)
 * private to the GP tuner code, so that proposals are reproducible from a
 * 64-bit seed on every platform (GRand takes only 32-bit seeds). */
#pragma once

#include <glib.h>
#include <math.h>

typedef struct {
  guint64 s[4];
} LatheTuneGpRng;

static inline guint64 lathe_tune_gp_splitmix64(guint64 *x) {
  guint64 z = (*x += G_GUINT64_CONSTANT(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline void lathe_tune_gp_rng_init(LatheTuneGpRng *r, guint64 seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = lathe_tune_gp_splitmix64(&seed);
}

static inline guint64 lathe_tune_gp_rng_next(LatheTuneGpRng *r) {
  guint64 *s = r->s;
  guint64 x = s[1] * 5;
  guint64 out = ((x << 7) | (x >> 57)) * 9;
  guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double lathe_tune_gp_rng_uniform(LatheTuneGpRng *r) {
  return (double)(lathe_tune_gp_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller (one of the pair is dropped: simplicity
 * over speed, this is not in an inner loop). */
static inline double lathe_tune_gp_rng_normal(LatheTuneGpRng *r) {
  double u1 = lathe_tune_gp_rng_uniform(r), u2 = lathe_tune_gp_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}
