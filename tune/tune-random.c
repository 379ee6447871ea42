/* tune-random.c: the seeded generator, input checks shared by the samplers,
 * and random / Halton proposals with no repeats in discrete spaces. */
#include "tune-random.h"

#include <math.h>
#include <string.h>

/* ---- generator ---------------------------------------------------------- */

guint64 lathe_tune_splitmix64(guint64 *x) {
  guint64 z = (*x += G_GUINT64_CONSTANT(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void lathe_tune_rng_init(LatheTuneRng *rng, guint64 seed, guint64 stream) {
  /* Mix the stream through its own SplitMix64 step first, so that nearby
   * (seed, stream) pairs such as (1, 2) and (2, 1) give unrelated states. */
  guint64 k = stream ^ G_GUINT64_CONSTANT(0x6A09E667F3BCC909);
  lathe_rng_init(rng, seed ^ lathe_tune_splitmix64(&k));
}

/* The generator itself is the SDK's: one copy of xoshiro256**. */
guint64 lathe_tune_rng_next(LatheTuneRng *rng) { return lathe_rng_next(rng); }

double lathe_tune_rng_uniform(LatheTuneRng *rng) { return lathe_rng_uniform(rng); }

double lathe_tune_rng_normal(LatheTuneRng *rng) {
  double u1 = lathe_rng_uniform(rng), u2 = lathe_rng_uniform(rng);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

guint64 lathe_tune_rng_below(LatheTuneRng *rng, guint64 n) {
  /* n <= 1 draws nothing: recorded studies depend on that stream. */
  return n <= 1 ? 0 : lathe_rng_below(rng, n);
}

/* ---- checks ------------------------------------------------------------- */

gboolean lathe_tune_check_space(const LatheTuneSpace *space, GError **error) {
  if (space == NULL || space->n_dims == 0 || space->dims == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "search space: no dimensions; declare at least one param to tune");
    return FALSE;
  }
  for (guint i = 0; i < space->n_dims; i++) {
    const LatheTuneDim *d = &space->dims[i];
    if (d->parent >= (int)i) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: dimension %u has parent %d; a parent must come before "
                  "its children",
                  i, d->parent);
      return FALSE;
    }
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      if (d->n_choices == 0) {
        g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                    "search space: categorical dimension %u has no choices; give at least one",
                    i);
        return FALSE;
      }
      continue;
    }
    if (d->kind != LATHE_TUNE_FLOAT && d->kind != LATHE_TUNE_INT) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: dimension %u has unknown kind %d", i, (int)d->kind);
      return FALSE;
    }
    if (!isfinite(d->lo) || !isfinite(d->hi) || !(d->lo < d->hi)) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: dimension %u has bounds [%g, %g]; give finite bounds with "
                  "low < high",
                  i, d->lo, d->hi);
      return FALSE;
    }
    if (d->log && d->lo <= 0) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: dimension %u is on a log scale with low bound %g; log "
                  "bounds must be > 0",
                  i, d->lo);
      return FALSE;
    }
    if (!isfinite(d->step) || d->step < 0 || (d->step > 0 && d->log)) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: dimension %u has step %g; a step must be >= 0 and not used "
                  "with log",
                  i, d->step);
      return FALSE;
    }
    if (d->step > 0) {
      double k = (d->hi - d->lo) / d->step;
      if (fabs(k - round(k)) > 1e-9 * MAX(1.0, k)) {
        g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                    "search space: dimension %u has step %g, which does not divide the range "
                    "[%g, %g]; pick a step that does or move a bound",
                    i, d->step, d->lo, d->hi);
        return FALSE;
      }
    }
    if (d->kind == LATHE_TUNE_INT && (d->lo != floor(d->lo) || d->step != floor(d->step))) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "search space: integer dimension %u has a fractional bound or step", i);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean lathe_tune_check_history(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                  guint n, GError **error) {
  if (n > 0 && hist == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "history: %u trials announced but none given", n);
    return FALSE;
  }
  for (guint t = 0; t < n; t++) {
    LatheTuneState st = hist[t].state;
    if (st < LATHE_TUNE_COMPLETE || st > LATHE_TUNE_PENDING || hist[t].x == NULL) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "history: trial %u has no point or an unknown state %d", t, (int)st);
      return FALSE;
    }
    for (guint i = 0; i < space->n_dims; i++) {
      const LatheTuneDim *d = &space->dims[i];
      double v = hist[t].x[i];
      if (isnan(v))
        continue;
      gboolean ok;
      if (d->kind == LATHE_TUNE_CATEGORICAL) {
        ok = v >= 0 && v < d->n_choices && v == floor(v);
      } else {
        double tol = 1e-9 * (d->hi - d->lo);
        ok = isfinite(v) && v >= d->lo - tol && v <= d->hi + tol;
      }
      if (!ok) {
        g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                    "history: trial %u has value %g in dimension %u, outside the space; "
                    "was the search space changed after the study started?",
                    t, v, i);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* ---- sampling ----------------------------------------------------------- */

void lathe_tune_random_sample(const LatheTuneSpace *space, LatheTuneRng *rng, double *x_out) {
  for (guint i = 0; i < space->n_dims; i++) {
    if (!lathe_tune_space_active(space, x_out, i)) {
      x_out[i] = NAN;
      continue;
    }
    x_out[i] = lathe_tune_space_from_unit(space, lathe_tune_rng_uniform(rng), i);
  }
}

/* The grid of a discrete dimension: its step, and its number of values. */
static double grid_step(const LatheTuneDim *d) {
  if (d->kind == LATHE_TUNE_CATEGORICAL)
    return 1;
  return d->step > 0 ? d->step : 1;
}

static guint64 grid_count(const LatheTuneDim *d) {
  if (d->kind == LATHE_TUNE_CATEGORICAL)
    return d->n_choices;
  return (guint64)floor((d->hi - d->lo) / grid_step(d) + 1e-9) + 1;
}

static double grid_value(const LatheTuneDim *d, guint64 k) {
  if (d->kind == LATHE_TUNE_CATEGORICAL)
    return (double)k;
  return d->lo + (double)k * grid_step(d);
}

static gboolean space_is_discrete(const LatheTuneSpace *space) {
  for (guint i = 0; i < space->n_dims; i++) {
    const LatheTuneDim *d = &space->dims[i];
    if (d->kind == LATHE_TUNE_FLOAT && !(d->step > 0))
      return FALSE;
  }
  return TRUE;
}

/* A point as grid indices (-1 when inactive), so that 0.30000000000000004
 * and 0.3 are the same point. */
static GBytes *point_key(const LatheTuneSpace *space, const double *x) {
  gint64 *k = g_new(gint64, space->n_dims);
  for (guint i = 0; i < space->n_dims; i++) {
    const LatheTuneDim *d = &space->dims[i];
    if (isnan(x[i]))
      k[i] = -1;
    else if (d->kind == LATHE_TUNE_CATEGORICAL)
      k[i] = (gint64)llround(x[i]);
    else
      k[i] = (gint64)llround((x[i] - d->lo) / grid_step(d));
  }
  return g_bytes_new_take(k, space->n_dims * sizeof(gint64));
}

static gboolean point_used(GHashTable *used, const LatheTuneSpace *space, const double *x) {
  GBytes *key = point_key(space, x);
  gboolean hit = g_hash_table_contains(used, key);
  g_bytes_unref(key);
  return hit;
}

typedef struct {
  const LatheTuneSpace *space;
  GHashTable *used;
  LatheTuneRng *rng;
  double *x;
  double *pick;
  guint64 n_free;
  guint64 visited;
  guint64 limit;
} Enum;

/* Walks every point of the discrete space in order, reservoir-sampling one
 * unused point. Returns FALSE when it visited more than its limit. */
static gboolean enumerate(Enum *e, guint i) {
  const LatheTuneSpace *space = e->space;
  if (i == space->n_dims) {
    if (++e->visited > e->limit)
      return FALSE;
    if (!point_used(e->used, space, e->x)) {
      e->n_free++;
      if (lathe_tune_rng_below(e->rng, e->n_free) == 0)
        memcpy(e->pick, e->x, space->n_dims * sizeof(double));
    }
    return TRUE;
  }
  if (!lathe_tune_space_active(space, e->x, i)) {
    e->x[i] = NAN;
    return enumerate(e, i + 1);
  }
  const LatheTuneDim *d = &space->dims[i];
  guint64 c = grid_count(d);
  for (guint64 k = 0; k < c; k++) {
    e->x[i] = grid_value(d, k);
    if (!enumerate(e, i + 1))
      return FALSE;
  }
  return TRUE;
}

/* The Halton coordinate (radical inverse) of @index in @base. */
static double radical_inverse(guint64 index, guint base) {
  double f = 1.0, r = 0.0;
  while (index > 0) {
    f /= base;
    r += f * (double)(index % base);
    index /= base;
  }
  return r;
}

static void halton_point(const LatheTuneSpace *space, guint64 seed, guint trial_number,
                         double *x_out) {
  LatheTuneRng shift;
  /* One shift per study: the stream tag is not a trial number. */
  lathe_tune_rng_init(&shift, seed, G_GUINT64_CONSTANT(0x48414C544F4E) /* "HALTON" */);
  guint prime = 1;
  for (guint i = 0; i < space->n_dims; i++) {
    /* The next prime by trial division: n_dims is small. */
    for (prime++;; prime++) {
      gboolean is_prime = TRUE;
      for (guint p = 2; p * p <= prime; p++)
        if (prime % p == 0) {
          is_prime = FALSE;
          break;
        }
      if (is_prime)
        break;
    }
    double u = radical_inverse((guint64)trial_number + 1, prime) + lathe_tune_rng_uniform(&shift);
    u -= floor(u);
    x_out[i] = lathe_tune_space_active(space, x_out, i)
                   ? lathe_tune_space_from_unit(space, u, i)
                   : NAN;
  }
}

gboolean lathe_tune_random_propose(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                   guint n, LatheTuneRandomMode mode, guint64 seed,
                                   guint trial_number, double *x_out, GError **error) {
  if (!lathe_tune_check_space(space, error) || !lathe_tune_check_history(space, hist, n, error))
    return FALSE;
  if (x_out == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "random sampler: no output buffer");
    return FALSE;
  }
  if (mode == LATHE_TUNE_RANDOM_SOBOL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "random sampler: the sobol mode is not available in this build; use "
                "\"uniform\" or \"halton\"");
    return FALSE;
  }
  if (mode != LATHE_TUNE_RANDOM_UNIFORM && mode != LATHE_TUNE_RANDOM_HALTON) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "random sampler: unknown mode %d; use \"uniform\" or \"halton\"", (int)mode);
    return FALSE;
  }

  LatheTuneRng rng;
  lathe_tune_rng_init(&rng, seed, trial_number);
  if (mode == LATHE_TUNE_RANDOM_HALTON)
    halton_point(space, seed, trial_number, x_out);
  else
    lathe_tune_random_sample(space, &rng, x_out);
  if (!space_is_discrete(space) || n == 0)
    return TRUE;

  GHashTable *used =
      g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
  for (guint t = 0; t < n; t++)
    g_hash_table_add(used, point_key(space, hist[t].x));

  gboolean ok = TRUE;
  /* Redraw a few times first: cheap while the space is mostly unused. */
  for (int tries = 0; tries < 64 && point_used(used, space, x_out); tries++)
    lathe_tune_random_sample(space, &rng, x_out);
  if (point_used(used, space, x_out)) {
    /* Collisions keep coming, so most of the space is used: list the rest.
     * The limit only matters for huge spaces with a tiny heavily used
     * corner, where more random draws will find a free point. */
    double *walk = g_new(double, space->n_dims);
    Enum e = {space, used, &rng, walk, x_out, 0, 0, G_GUINT64_CONSTANT(4000000)};
    if (enumerate(&e, 0)) {
      ok = e.n_free > 0;
    } else {
      for (int tries = 0; tries < 100000 && point_used(used, space, x_out); tries++)
        lathe_tune_random_sample(space, &rng, x_out);
      if (point_used(used, space, x_out)) {
        g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                    "random sampler: could not find an unused point in a discrete space of "
                    "more than %" G_GUINT64_FORMAT " points; widen the sparse params",
                    e.limit);
        ok = FALSE;
      }
    }
    g_free(walk);
  }
  g_hash_table_unref(used);
  return ok;
}
