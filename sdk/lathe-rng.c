/* xoshiro256** (Blackman & Vigna): small state, fast, and the same stream on
 * every platform, which bit-identical reruns need. */
#include <math.h>

#include "lathe/lathe-rng.h"

static guint64 splitmix64(guint64 *x) {
  guint64 z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline guint64 rotl(guint64 x, int k) { return (x << k) | (x >> (64 - k)); }

guint64 lathe_seed_derive(guint64 seed, const char *name) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  guint8 le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (guint8)(seed >> (8 * i));
  g_checksum_update(sum, le, sizeof le);
  g_checksum_update(sum, (const guchar *)name, -1);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_checksum_get_digest(sum, digest, &len);
  guint64 out = 0;
  for (int i = 0; i < 8; i++)
    out |= (guint64)digest[i] << (8 * i);
  return out;
}

void lathe_rng_init(LatheRng *rng, guint64 seed) {
  guint64 x = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&x);
}

guint64 lathe_rng_next(LatheRng *rng) {
  guint64 *s = rng->s;
  const guint64 result = rotl(s[1] * 5, 7) * 9;
  const guint64 t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double lathe_rng_uniform(LatheRng *rng) {
  return (double)(lathe_rng_next(rng) >> 11) * 0x1.0p-53;
}

guint64 lathe_rng_below(LatheRng *rng, guint64 n) {
  g_return_val_if_fail(n > 0, 0);
  /* Rejection on the top of the range keeps it unbiased. */
  guint64 limit = G_MAXUINT64 - (G_MAXUINT64 % n);
  guint64 r;
  do
    r = lathe_rng_next(rng);
  while (r >= limit);
  return r % n;
}

double lathe_rng_normal(LatheRng *rng) {
  double u1 = 1.0 - lathe_rng_uniform(rng); /* (0, 1]: log stays finite */
  double u2 = lathe_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

void lathe_rng_shuffle(LatheRng *rng, guint32 *items, gsize n) {
  for (gsize i = n; i > 1; i--) {
    gsize j = (gsize)lathe_rng_below(rng, i);
    guint32 t = items[i - 1];
    items[i - 1] = items[j];
    items[j] = t;
  }
}
