/* sampler-cost.c: the time per proposal of Lathe's TPE and GP samplers
 * (tune/), alone, without the host, at a given number of completed trials.
 *
 * For each sampler, space (2-D Branin, 10-D Rosenbrock) and history size N,
 * it builds a history of N-K+1 completed trials at uniform random points
 * with their function values, then times K proposals in a row at N-K+1,
 * ..., N completed trials: each proposal is evaluated and appended, the way
 * a study goes on. Timing a run of sizes rather than one size many times
 * matters for the GP, whose warm-started fit refits and restarts on some
 * trial counts only (tune-bayes.h); the mean over the run is then the
 * amortised cost. The run ends at N rather than starting there because the
 * GP gives way to quasi-random points past LATHE_TUNE_GP_MAX_POINTS / 2
 * completed trials: a run starting at 1000 would time those instead.
 * The GP carries a #LatheTuneBayesState, warmed by one untimed proposal at
 * N-K trials, as tuner/bayes does within a study; a second figure, "cold",
 * is the first timed size again with a fresh state (a resumed study).
 *
 * Usage: tune-sampler-cost [--quick] [--only tpe|bayes] [--sizes 50,200,1000]
 * Prints one JSON object on stdout: {"results": [{sampler, dims, n_trials,
 * k, mean_ms, median_ms, min_ms, cold_ms}]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune-bayes.h"
#include "tune-functions.h"
#include "tune-tpe.h"

typedef struct {
  guint n_dims;
  LatheTuneDim dims[10];
} Space;

static void space_init(Space *s, guint n_dims) {
  memset(s, 0, sizeof *s);
  s->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++) {
    LatheTuneDim *d = &s->dims[i];
    d->kind = LATHE_TUNE_FLOAT;
    d->parent = -1;
    if (n_dims == 2) { /* Branin */
      d->lo = i == 0 ? -5 : 0;
      d->hi = i == 0 ? 10 : 15;
    } else { /* Rosenbrock */
      d->lo = -5;
      d->hi = 10;
    }
  }
}

static double objective(guint n_dims, const double *x) {
  return n_dims == 2 ? lathe_fn_branin(x) : lathe_fn_rosenbrock(x, (int)n_dims);
}

/* A growing history; the points live in one block so that trial pointers
 * stay valid, hence the fixed capacity. */
typedef struct {
  guint n, cap, n_dims;
  double *xs;
  LatheTuneTrial *trials;
} History;

static void history_init(History *h, guint n_dims, guint cap) {
  h->n = 0;
  h->cap = cap;
  h->n_dims = n_dims;
  h->xs = g_new(double, (gsize)cap * n_dims);
  h->trials = g_new0(LatheTuneTrial, cap);
}

static void history_clear(History *h) {
  g_free(h->xs);
  g_free(h->trials);
}

static void history_add(History *h, const double *x) {
  g_assert(h->n < h->cap);
  double *dst = h->xs + (gsize)h->n * h->n_dims;
  memcpy(dst, x, h->n_dims * sizeof *x);
  h->trials[h->n] = (LatheTuneTrial){.x = dst, .value = objective(h->n_dims, dst),
                                     .state = LATHE_TUNE_COMPLETE};
  h->n++;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef enum { TPE, BAYES } Sampler;

/* One proposal on @h; returns its wall time in ms, or -1 with @error. */
static double propose(Sampler which, const LatheTuneSpace *sp, History *h,
                      LatheTuneBayesState *state, guint64 seed, double *x, GError **error) {
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = which == TPE
                    ? lathe_tune_tpe_propose(sp, h->trials, h->n, NULL, seed, h->n, x, error)
                    : lathe_tune_bayes_propose(sp, h->trials, h->n, NULL, state,
                                               seed ^ ((guint64)h->n << 32), x, error);
  gint64 t1 = g_get_monotonic_time();
  return ok ? (double)(t1 - t0) / 1000.0 : -1;
}

static gboolean measure(Sampler which, guint n_dims, guint n_trials, guint k, guint64 seed,
                        GString *out, GError **error) {
  Space s;
  space_init(&s, n_dims);
  LatheTuneSpace sp = {.n_dims = n_dims, .dims = s.dims};
  History h;
  history_init(&h, n_dims, n_trials + 1);
  GRand *rng = g_rand_new_with_seed((guint32)(seed * 7919 + n_trials * 31 + n_dims));
  double x[10];
  /* all but the last of the N-K+1 random trials first, so that the GP can
   * be warmed at N-K */
  for (guint i = 0; i + k < n_trials; i++) {
    for (guint j = 0; j < n_dims; j++)
      x[j] = g_rand_double_range(rng, s.dims[j].lo, s.dims[j].hi);
    history_add(&h, x);
  }
  LatheTuneBayesState *state = which == BAYES ? lathe_tune_bayes_state_new() : NULL;
  gboolean ok = TRUE;
  if (which == BAYES)
    ok = propose(which, &sp, &h, state, seed, x, error) >= 0;
  for (guint j = 0; ok && j < n_dims; j++)
    x[j] = g_rand_double_range(rng, s.dims[j].lo, s.dims[j].hi);
  if (ok)
    history_add(&h, x);
  double cold = 0;
  if (ok && which == BAYES) {
    LatheTuneBayesState *fresh = lathe_tune_bayes_state_new();
    cold = propose(which, &sp, &h, fresh, seed + 1, x, error);
    lathe_tune_bayes_state_free(fresh);
    ok = cold >= 0;
  }
  g_autofree double *ms = g_new(double, k);
  double sum = 0;
  for (guint r = 0; ok && r < k; r++) {
    ms[r] = propose(which, &sp, &h, state, seed, x, error);
    ok = ms[r] >= 0;
    sum += ms[r];
    if (ok)
      history_add(&h, x); /* the study goes on with the point just proposed */
  }
  if (ok) {
    qsort(ms, k, sizeof *ms, cmp_double);
    double med = k % 2 ? ms[k / 2] : (ms[k / 2 - 1] + ms[k / 2]) / 2;
    g_string_append_printf(out,
                           "%s{\"sampler\": \"%s\", \"dims\": %u, \"n_trials\": %u, \"k\": %u, "
                           "\"mean_ms\": %.6g, \"median_ms\": %.6g, \"min_ms\": %.6g",
                           out->len > 0 ? ",\n  " : "  ", which == TPE ? "tpe" : "bayes", n_dims,
                           n_trials, k, sum / k, med, ms[0]);
    if (which == BAYES)
      g_string_append_printf(out, ", \"cold_ms\": %.6g", cold);
    g_string_append(out, "}");
    fprintf(stderr, "%-5s %2u-D  N=%-5u  mean %9.3f ms  median %9.3f ms  (%u proposals)\n",
            which == TPE ? "tpe" : "bayes", n_dims, n_trials, sum / k, med, k);
  }
  lathe_tune_bayes_state_free(state);
  g_rand_free(rng);
  history_clear(&h);
  return ok;
}

int main(int argc, char **argv) {
  gboolean quick = FALSE;
  const char *only = NULL, *sizes_arg = "50,200,1000";
  for (int i = 1; i < argc; i++) {
    if (g_str_equal(argv[i], "--quick"))
      quick = TRUE;
    else if (g_str_equal(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (g_str_equal(argv[i], "--sizes") && i + 1 < argc)
      sizes_arg = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--quick] [--only tpe|bayes] [--sizes 50,200,1000]\n", argv[0]);
      return 2;
    }
  }
  g_auto(GStrv) sizes = g_strsplit(sizes_arg, ",", -1);
  g_autoptr(GString) out = g_string_new(NULL);
  for (int w = TPE; w <= BAYES; w++) {
    if (only && !g_str_equal(only, w == TPE ? "tpe" : "bayes"))
      continue;
    for (guint dims = 2; dims <= 10; dims += 8)
      for (guint i = 0; sizes[i]; i++) {
        char *end = NULL;
        guint64 n = g_ascii_strtoull(sizes[i], &end, 10);
        /* fewer GP proposals where one costs seconds */
        guint k = quick ? 3 : w == TPE ? 30 : n >= 1000 ? 6 : n >= 200 ? 15 : 20;
        if (!end || *end || n < k + 2 || n > 100000) {
          fprintf(stderr, "--sizes: '%s' is not a trial count in [%u, 100000]\n", sizes[i], k + 2);
          return 2;
        }
        g_autoptr(GError) error = NULL;
        if (!measure((Sampler)w, dims, (guint)n, k, 42, out, &error)) {
          fprintf(stderr, "%s %u-D N=%u: %s\n", w == TPE ? "tpe" : "bayes", dims, (guint)n,
                  error ? error->message : "failed");
          return 1;
        }
      }
  }
  printf("{\"results\": [\n%s\n]}\n", out->str);
  return 0;
}
