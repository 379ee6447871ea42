/* tune-sobol.c: Sobol (Joe & Kuo direction numbers) and Halton sequences. */
#include "tune-sobol.h"

#include <math.h>
#include <string.h>

#include "tune-random.h"

#define SOBOL_BITS 32

/* Direction numbers of dimensions 2..64 from S. Joe and F. Y. Kuo,
 * "Constructing Sobol sequences with better two-dimensional projections",
 * SIAM J. Sci. Comput. 30 (2008), file new-joe-kuo-6.21201: for each
 * dimension the degree s of the primitive polynomial, its coefficients a
 * (the inner bits) and the initial odd numbers m_1..m_s. Dimension 1 is
 * the van der Corput sequence (all m = 1). */
static const struct {
  guint8 s;
  guint8 a;
  guint16 m[9];
} joe_kuo[LATHE_TUNE_SOBOL_MAX_DIMS - 1] = {
  {1, 0, {1}},
  {2, 1, {1, 3}},
  {3, 1, {1, 3, 1}},
  {3, 2, {1, 1, 1}},
  {4, 1, {1, 1, 3, 3}},
  {4, 4, {1, 3, 5, 13}},
  {5, 2, {1, 1, 5, 5, 17}},
  {5, 4, {1, 1, 5, 5, 5}},
  {5, 7, {1, 1, 7, 11, 19}},
  {5, 11, {1, 1, 5, 1, 1}},
  {5, 13, {1, 1, 1, 3, 11}},
  {5, 14, {1, 3, 5, 5, 31}},
  {6, 1, {1, 3, 3, 9, 7, 49}},
  {6, 13, {1, 1, 1, 15, 21, 21}},
  {6, 16, {1, 3, 1, 13, 27, 49}},
  {6, 19, {1, 1, 1, 15, 7, 5}},
  {6, 22, {1, 3, 1, 15, 13, 25}},
  {6, 25, {1, 1, 5, 5, 19, 61}},
  {7, 1, {1, 3, 7, 11, 23, 15, 103}},
  {7, 4, {1, 3, 7, 13, 13, 15, 69}},
  {7, 7, {1, 1, 3, 13, 7, 35, 63}},
  {7, 8, {1, 3, 5, 9, 1, 25, 53}},
  {7, 14, {1, 3, 1, 13, 9, 35, 107}},
  {7, 19, {1, 3, 1, 5, 27, 61, 31}},
  {7, 21, {1, 1, 5, 11, 19, 41, 61}},
  {7, 28, {1, 3, 5, 3, 3, 13, 69}},
  {7, 31, {1, 1, 7, 13, 1, 19, 1}},
  {7, 32, {1, 3, 7, 5, 13, 19, 59}},
  {7, 37, {1, 1, 3, 9, 25, 29, 41}},
  {7, 41, {1, 3, 5, 13, 23, 1, 55}},
  {7, 42, {1, 3, 7, 3, 13, 59, 17}},
  {7, 50, {1, 3, 1, 3, 5, 53, 69}},
  {7, 55, {1, 1, 5, 5, 23, 33, 13}},
  {7, 56, {1, 1, 7, 7, 1, 61, 123}},
  {7, 59, {1, 1, 7, 9, 13, 61, 49}},
  {7, 62, {1, 3, 3, 5, 3, 55, 33}},
  {8, 14, {1, 3, 1, 15, 31, 13, 49, 245}},
  {8, 21, {1, 3, 5, 15, 31, 59, 63, 97}},
  {8, 22, {1, 3, 1, 11, 11, 11, 77, 249}},
  {8, 38, {1, 3, 1, 11, 27, 43, 71, 9}},
  {8, 47, {1, 1, 7, 15, 21, 11, 81, 45}},
  {8, 49, {1, 3, 7, 3, 25, 31, 65, 79}},
  {8, 50, {1, 3, 1, 1, 19, 11, 3, 205}},
  {8, 52, {1, 1, 5, 9, 19, 21, 29, 157}},
  {8, 56, {1, 3, 7, 11, 1, 33, 89, 185}},
  {8, 67, {1, 3, 3, 3, 15, 9, 79, 71}},
  {8, 70, {1, 3, 7, 11, 15, 39, 119, 27}},
  {8, 84, {1, 1, 3, 1, 11, 31, 97, 225}},
  {8, 97, {1, 1, 1, 3, 23, 43, 57, 177}},
  {8, 103, {1, 3, 7, 7, 17, 17, 37, 71}},
  {8, 115, {1, 3, 1, 5, 27, 63, 123, 213}},
  {8, 122, {1, 1, 3, 5, 11, 43, 53, 133}},
  {9, 8, {1, 3, 5, 5, 29, 17, 47, 173, 479}},
  {9, 13, {1, 3, 3, 11, 3, 1, 109, 9, 69}},
  {9, 16, {1, 1, 1, 5, 17, 39, 23, 5, 343}},
  {9, 22, {1, 3, 1, 5, 25, 15, 31, 103, 499}},
  {9, 25, {1, 1, 1, 11, 11, 17, 63, 105, 183}},
  {9, 44, {1, 1, 5, 11, 9, 29, 97, 231, 363}},
  {9, 47, {1, 1, 5, 15, 19, 45, 41, 7, 383}},
  {9, 52, {1, 3, 7, 7, 31, 19, 83, 137, 221}},
  {9, 55, {1, 1, 1, 3, 23, 15, 111, 223, 83}},
  {9, 59, {1, 1, 5, 13, 31, 15, 55, 25, 161}},
  {9, 62, {1, 1, 3, 13, 25, 47, 39, 87, 257}},
};

struct _LatheTuneSobol {
  guint dims;
  guint64 index;
  guint32 *v;     /* dims x SOBOL_BITS direction numbers */
  guint32 *x;     /* the current point, unshifted */
  guint32 *shift; /* the digital shift, 0 when unscrambled */
};

LatheTuneSobol *lathe_tune_sobol_new(guint dims, gboolean scramble, guint64 seed) {
  if (dims == 0 || dims > LATHE_TUNE_SOBOL_MAX_DIMS)
    return NULL;
  LatheTuneSobol *s = g_new0(LatheTuneSobol, 1);
  s->dims = dims;
  s->v = g_new0(guint32, (gsize)dims * SOBOL_BITS);
  s->x = g_new0(guint32, dims);
  s->shift = g_new0(guint32, dims);
  for (guint k = 0; k < SOBOL_BITS; k++)
    s->v[k] = (guint32)1u << (SOBOL_BITS - 1 - k);
  for (guint j = 1; j < dims; j++) {
    guint32 *v = s->v + (gsize)j * SOBOL_BITS;
    guint deg = joe_kuo[j - 1].s, a = joe_kuo[j - 1].a;
    for (guint k = 0; k < deg && k < SOBOL_BITS; k++)
      v[k] = (guint32)joe_kuo[j - 1].m[k] << (SOBOL_BITS - 1 - k);
    /* The recurrence of Bratley & Fox (1988), on left-aligned numbers. */
    for (guint k = deg; k < SOBOL_BITS; k++) {
      guint32 w = v[k - deg] ^ (v[k - deg] >> deg);
      for (guint l = 1; l < deg; l++)
        if ((a >> (deg - 1 - l)) & 1u)
          w ^= v[k - l];
      v[k] = w;
    }
  }
  if (scramble) {
    LatheRng r;
    lathe_rng_init(&r, seed ^ G_GUINT64_CONSTANT(0x50B01C0DE5EED));
    for (guint j = 0; j < dims; j++)
      s->shift[j] = (guint32)(lathe_tune_rng_next(&r) >> 32);
  }
  return s;
}

void lathe_tune_sobol_free(LatheTuneSobol *sobol) {
  if (!sobol)
    return;
  g_free(sobol->v);
  g_free(sobol->x);
  g_free(sobol->shift);
  g_free(sobol);
}

void lathe_tune_sobol_next(LatheTuneSobol *sobol, double *u) {
  for (guint j = 0; j < sobol->dims; j++)
    u[j] = (double)(sobol->x[j] ^ sobol->shift[j]) * 0x1.0p-32;
  /* Gray-code order: point i+1 differs from point i by the direction
   * number of the lowest zero bit of i. */
  guint64 i = sobol->index++;
  guint c = 0;
  while ((i >> c) & 1u)
    c++;
  if (c >= SOBOL_BITS) {
    /* Wrapped around after 2^32 points: start again at the origin. */
    sobol->index = 0;
    memset(sobol->x, 0, sizeof(guint32) * sobol->dims);
    return;
  }
  for (guint j = 0; j < sobol->dims; j++)
    sobol->x[j] ^= sobol->v[(gsize)j * SOBOL_BITS + c];
}

void lathe_tune_sobol_skip(LatheTuneSobol *sobol, guint64 n) {
  guint64 i = (sobol->index + n) & G_GUINT64_CONSTANT(0xFFFFFFFF);
  guint64 g = i ^ (i >> 1);
  sobol->index = i;
  for (guint j = 0; j < sobol->dims; j++) {
    guint32 x = 0;
    for (guint k = 0; k < SOBOL_BITS; k++)
      if ((g >> k) & 1u)
        x ^= sobol->v[(gsize)j * SOBOL_BITS + k];
    sobol->x[j] = x;
  }
}

guint64 lathe_tune_sobol_index(const LatheTuneSobol *sobol) {
  return sobol->index;
}

static const guint16 primes[LATHE_TUNE_HALTON_MAX_DIMS] = {
    2,   3,   5,   7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,  47,  53,
    59,  61,  67,  71,  73,  79,  83,  89,  97,  101, 103, 107, 109, 113, 127, 131,
    137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223,
    227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311};

gboolean lathe_tune_halton_point(guint dims, guint64 index, gboolean scramble, guint64 seed,
                                 double *u) {
  if (dims == 0 || dims > LATHE_TUNE_HALTON_MAX_DIMS)
    return FALSE;
  LatheRng r;
  lathe_rng_init(&r, seed ^ G_GUINT64_CONSTANT(0x4A170F5EED));
  for (guint j = 0; j < dims; j++) {
    double b = primes[j], f = 1.0 / b, v = 0;
    for (guint64 i = index; i > 0; i /= primes[j]) {
      v += f * (double)(i % primes[j]);
      f /= b;
    }
    if (scramble) {
      v += lathe_rng_uniform(&r);
      v -= floor(v);
    }
    u[j] = v < 1.0 ? v : 0x1.fffffffffffffp-1;
  }
  return TRUE;
}
