/* test-tune-bayes.c: GP proposals on the issue 5 benchmarks and on mixed,
 * conditional and parallel (pending) cases. */
#include "tune-bayes.h"
#include "tune-functions.h"
#include "tune-random.h"
#include "tune-gp.h"

#include <math.h>
#include <string.h>

typedef double (*Objective)(const double *x);

static guint64 trial_seed(guint64 study, guint t) {
  guint64 s = study * G_GUINT64_CONSTANT(1000003) + t;
  return lathe_tune_splitmix64(&s);
}

/* Runs a study of n_trials sequential proposals; returns the best value
 * and adds the proposal time to *seconds. */
static double run_study(const LatheTuneSpace *space, Objective f, guint n_trials, guint64 seed,
                        double *seconds) {
  guint d = space->n_dims;
  double *xs = g_new(double, (gsize)n_trials * d);
  LatheTuneTrial *h = g_new(LatheTuneTrial, n_trials);
  LatheTuneBayesState *st = lathe_tune_bayes_state_new();
  double best = INFINITY;
  for (guint t = 0; t < n_trials; t++) {
    GError *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = lathe_tune_bayes_propose(space, h, t, NULL, st, trial_seed(seed, t),
                                           xs + (gsize)t * d, &err);
    *seconds += (g_get_monotonic_time() - t0) * 1e-6;
    g_assert_no_error(err);
    g_assert_true(ok);
    h[t] = (LatheTuneTrial){xs + (gsize)t * d, f(xs + (gsize)t * d), LATHE_TUNE_COMPLETE};
    best = fmin(best, h[t].value);
  }
  lathe_tune_bayes_state_free(st);
  g_free(h);
  g_free(xs);
  return best;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, guint n) {
  qsort(v, n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double branin(const double *x) {
  return lathe_fn_branin(x);
}

static double hartmann6(const double *x) {
  return lathe_fn_hartmann6(x);
}

static const LatheTuneDim branin_dims[2] = {
    {.kind = LATHE_TUNE_FLOAT, .lo = -5, .hi = 10, .parent = -1},
    {.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 15, .parent = -1},
};

static void test_branin(void) {
  LatheTuneSpace space = {2, branin_dims};
  enum { SEEDS = 5, TRIALS = 40 };
  double gap[SEEDS], secs = 0;
  for (guint s = 0; s < SEEDS; s++) {
    gap[s] = run_study(&space, branin, TRIALS, s + 1, &secs) - 0.397887;
    g_test_message("branin seed %u: best - f* after %d trials = %.3g", s + 1, TRIALS, gap[s]);
  }
  double med = median(gap, SEEDS);
  g_test_message("branin: median gap %.3g, %.1f ms per proposal", med,
                 1e3 * secs / (SEEDS * TRIALS));
  g_assert_cmpfloat(med, <=, 1e-3);
}

static void test_hartmann6(void) {
  LatheTuneDim dims[6];
  for (int j = 0; j < 6; j++)
    dims[j] = (LatheTuneDim){.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 1, .parent = -1};
  LatheTuneSpace space = {6, dims};
  /* Twenty seeds, as the benchmark protocol: plain GP-EI lands in
   * the -3.20 local basin on about a third of the seeds (seeds 1, 2, 4, 5,
   * 15 and 20 here), so a 3-seed median is a coin toss on the seeds that
   * happen to be drawn; the median of 20 is the quantity the issue sets
   * the goal on. Takes 15-30 s. */
  enum { SEEDS = 20, TRIALS = 100 };
  double best[SEEDS], secs = 0;
  for (guint s = 0; s < SEEDS; s++) {
    best[s] = run_study(&space, hartmann6, TRIALS, s + 1, &secs);
    g_test_message("hartmann6 seed %u: best after %d trials = %.5f", s + 1, TRIALS, best[s]);
  }
  guint hits = 0;
  for (guint s = 0; s < SEEDS; s++)
    hits += best[s] <= -3.3;
  double med = median(best, SEEDS);
  g_test_message("hartmann6: %u of %d seeds within 0.03 of f*", hits, SEEDS);
  g_test_message("hartmann6: median %.5f (f* = -3.32237), %.1f ms per proposal", med,
                 1e3 * secs / (SEEDS * TRIALS));
  g_assert_cmpfloat(med, <=, -3.25);
}

/* A categorical, an integer, a log float, a stepped integer active only
 * when layers >= 2 and a float active only for choice 1. */
static const LatheTuneDim mixed_dims[5] = {
    {.kind = LATHE_TUNE_CATEGORICAL, .n_choices = 3, .parent = -1},
    {.kind = LATHE_TUNE_INT, .lo = 1, .hi = 4, .parent = -1},
    {.kind = LATHE_TUNE_FLOAT, .lo = 1e-4, .hi = 1e-1, .log = TRUE, .parent = -1},
    {.kind = LATHE_TUNE_INT, .lo = 16, .hi = 256, .step = 16, .parent = 1, .cond_lo = 2,
     .cond_hi = 4},
    {.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 0.99, .parent = 0, .cond_choices = 1u << 1},
};

static double mixed_objective(const double *x) {
  double v = (x[0] == 1 ? 0 : 1) + fabs(log10(x[2]) + 2.5) + 0.3 * fabs(x[1] - 3);
  if (!isnan(x[3]))
    v += fabs(x[3] - 128) / 128;
  if (!isnan(x[4]))
    v += fabs(x[4] - 0.9);
  return v;
}

static void assert_valid(const LatheTuneSpace *s, const double *x) {
  for (guint i = 0; i < s->n_dims; i++) {
    const LatheTuneDim *d = &s->dims[i];
    if (!lathe_tune_space_active(s, x, i)) {
      g_assert_true(isnan(x[i]));
      continue;
    }
    g_assert_false(isnan(x[i]));
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      g_assert_cmpfloat(x[i], ==, floor(x[i]));
      g_assert_true(x[i] >= 0 && x[i] < d->n_choices);
      continue;
    }
    g_assert_true(x[i] >= d->lo && x[i] <= d->hi);
    if (d->kind == LATHE_TUNE_INT)
      g_assert_cmpfloat(x[i], ==, round(x[i]));
    if (d->step > 0)
      g_assert_cmpfloat(fmod(x[i] - d->lo, d->step), ==, 0);
  }
}

static void test_mixed(void) {
  LatheTuneSpace space = {5, mixed_dims};
  enum { TRIALS = 30 };
  double xs[TRIALS * 5], best = INFINITY;
  LatheTuneTrial h[TRIALS];
  LatheTuneBayesState *st = lathe_tune_bayes_state_new();
  guint seen_inactive = 0, seen_active = 0;
  for (guint t = 0; t < TRIALS; t++) {
    GError *err = NULL;
    g_assert_true(lathe_tune_bayes_propose(&space, h, t, NULL, st, trial_seed(9, t), xs + t * 5,
                                           &err));
    g_assert_no_error(err);
    assert_valid(&space, xs + t * 5);
    seen_inactive += isnan(xs[t * 5 + 4]);
    seen_active += !isnan(xs[t * 5 + 4]);
    /* Every fifth trial fails; it must not poison the model. */
    LatheTuneState state = t % 5 == 4 ? LATHE_TUNE_FAILED : LATHE_TUNE_COMPLETE;
    h[t] = (LatheTuneTrial){xs + t * 5, mixed_objective(xs + t * 5), state};
    if (state == LATHE_TUNE_COMPLETE)
      best = fmin(best, h[t].value);
  }
  lathe_tune_bayes_state_free(st);
  g_test_message("mixed: best %.3f after %d trials (optimum 0)", best, TRIALS);
  g_assert_cmpuint(seen_inactive, >, 0);
  g_assert_cmpuint(seen_active, >, 0);
  /* Random search over this space averages about 2.3; the model should
   * have found the right choice and a good learning rate. */
  g_assert_cmpfloat(best, <, 0.6);
}

/* A 15-point discrete space: no point is proposed twice until all are. */
static void test_discrete_no_duplicates(void) {
  static const LatheTuneDim dims[2] = {
      {.kind = LATHE_TUNE_INT, .lo = 0, .hi = 4, .parent = -1},
      {.kind = LATHE_TUNE_CATEGORICAL, .n_choices = 3, .parent = -1},
  };
  LatheTuneSpace space = {2, dims};
  double xs[15 * 2];
  LatheTuneTrial h[15];
  for (guint t = 0; t < 15; t++) {
    GError *err = NULL;
    g_assert_true(lathe_tune_bayes_propose(&space, h, t, NULL, NULL, trial_seed(3, t), xs + 2 * t,
                                           &err));
    g_assert_no_error(err);
    for (guint u = 0; u < t; u++)
      g_assert_false(xs[2 * u] == xs[2 * t] && xs[2 * u + 1] == xs[2 * t + 1]);
    h[t] = (LatheTuneTrial){xs + 2 * t, (xs[2 * t] - 2) * (xs[2 * t] - 2) + xs[2 * t + 1],
                            LATHE_TUNE_COMPLETE};
  }
  /* The space is exhausted: a (repeated) valid point, not an error. */
  double x[2];
  GError *err = NULL;
  g_assert_true(lathe_tune_bayes_propose(&space, h, 15, NULL, NULL, 99, x, &err));
  g_assert_no_error(err);
  assert_valid(&space, x);
}

/* 15 completed Branin trials, used by the next tests. */
static void branin_history(double *xs, LatheTuneTrial *h, guint n) {
  LatheTuneSpace space = {2, branin_dims};
  for (guint t = 0; t < n; t++) {
    GError *err = NULL;
    g_assert_true(lathe_tune_bayes_propose(&space, h, t, NULL, NULL, trial_seed(5, t), xs + 2 * t,
                                           &err));
    h[t] = (LatheTuneTrial){xs + 2 * t, lathe_fn_branin(xs + 2 * t), LATHE_TUNE_COMPLETE};
  }
}

static void test_pending(void) {
  LatheTuneSpace space = {2, branin_dims};
  double xs[20 * 2];
  LatheTuneTrial h[20];
  branin_history(xs, h, 15);
  /* Three workers ask in turn with the same seed, each seeing the earlier
   * ones as pending: all three points differ clearly. */
  for (guint w = 0; w < 3; w++) {
    GError *err = NULL;
    double *x = xs + 2 * (15 + w);
    g_assert_true(lathe_tune_bayes_propose(&space, h, 15 + w, NULL, NULL, 77, x, &err));
    g_assert_no_error(err);
    for (guint u = 0; u < w; u++) {
      const double *p = xs + 2 * (15 + u);
      double dist = hypot((x[0] - p[0]) / 15, (x[1] - p[1]) / 15);
      g_test_message("pending: worker %u vs %u: distance %.3g (unit cube)", w, u, dist);
      /* The fantasy at a pending point flattens EI around it. */
      g_assert_cmpfloat(dist, >, 0.02);
    }
    h[15 + w] = (LatheTuneTrial){x, NAN, LATHE_TUNE_PENDING};
  }
}

static void test_deterministic(void) {
  LatheTuneSpace space = {2, branin_dims};
  double xs[16 * 2], a[2], b[2], c[2];
  LatheTuneTrial h[16];
  branin_history(xs, h, 15);
  xs[30] = 2.5;
  xs[31] = 7.5;
  h[15] = (LatheTuneTrial){xs + 30, NAN, LATHE_TUNE_PENDING};
  LatheTuneBayesState *st = lathe_tune_bayes_state_new();
  GError *err = NULL;
  g_assert_true(lathe_tune_bayes_propose(&space, h, 16, NULL, NULL, 123, a, &err));
  g_assert_true(lathe_tune_bayes_propose(&space, h, 16, NULL, NULL, 123, b, &err));
  g_assert_true(lathe_tune_bayes_propose(&space, h, 16, NULL, st, 123, c, &err));
  g_assert_no_error(err);
  g_assert_cmpmem(a, sizeof a, b, sizeof b);
  g_assert_cmpmem(a, sizeof a, c, sizeof c);
  /* The startup points depend on the seed. */
  g_assert_true(lathe_tune_bayes_propose(&space, h, 3, NULL, NULL, 1, a, &err));
  g_assert_true(lathe_tune_bayes_propose(&space, h, 3, NULL, NULL, 2, b, &err));
  g_assert_true(a[0] != b[0] || a[1] != b[1]);
  lathe_tune_bayes_state_free(st);
}

static void test_bad_input(void) {
  LatheTuneDim dims[2] = {
      {.kind = LATHE_TUNE_FLOAT, .lo = 1, .hi = 0, .parent = -1},
      {.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 1, .log = TRUE, .parent = -1},
  };
  LatheTuneSpace space = {2, dims};
  double x[2];
  GError *err = NULL;
  g_assert_false(lathe_tune_bayes_propose(&space, NULL, 0, NULL, NULL, 1, x, &err));
  g_assert_error(err, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID);
  g_assert_nonnull(strstr(err->message, "dimension 0"));
  g_clear_error(&err);
  dims[0].hi = 2;
  g_assert_false(lathe_tune_bayes_propose(&space, NULL, 0, NULL, NULL, 1, x, &err));
  g_assert_nonnull(strstr(err->message, "dimension 1"));
  g_clear_error(&err);
  dims[1].lo = 0.5;
  double bad[2] = {5, 0.7};
  LatheTuneTrial h[1] = {{bad, 1.0, LATHE_TUNE_COMPLETE}};
  g_assert_false(lathe_tune_bayes_propose(&space, h, 1, NULL, NULL, 1, x, &err));
  g_assert_nonnull(strstr(err->message, "trial 0"));
  g_clear_error(&err);
}

/* Time per proposal with n completed Hartmann-6 trials (a warm state, as a
 * tuner keeps it). Printed, not asserted: machines differ. */
static void time_at(guint n) {
  LatheTuneDim dims[6];
  for (int j = 0; j < 6; j++)
    dims[j] = (LatheTuneDim){.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 1, .parent = -1};
  LatheTuneSpace space = {6, dims};
  enum { REPS = 5 };
  double *xs = g_new(double, (gsize)(n + REPS + 1) * 6);
  LatheTuneTrial *h = g_new(LatheTuneTrial, n + REPS + 1);
  LatheRng r;
  lathe_rng_init(&r, n);
  for (guint t = 0; t < n; t++) {
    for (int j = 0; j < 6; j++)
      xs[t * 6 + j] = lathe_rng_uniform(&r);
    h[t] = (LatheTuneTrial){xs + t * 6, lathe_fn_hartmann6(xs + t * 6), LATHE_TUNE_COMPLETE};
  }
  LatheTuneBayesState *st = lathe_tune_bayes_state_new();
  GError *err = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(lathe_tune_bayes_propose(&space, h, n, NULL, st, 1, xs + n * 6, &err));
  double cold = (g_get_monotonic_time() - t0) * 1e-3;
  t0 = g_get_monotonic_time();
  for (guint k = 0; k < REPS; k++) {
    guint t = n + k;
    g_assert_true(lathe_tune_bayes_propose(&space, h, t, NULL, st, 2 + k, xs + t * 6, &err));
    h[t] = (LatheTuneTrial){xs + t * 6, lathe_fn_hartmann6(xs + t * 6), LATHE_TUNE_COMPLETE};
  }
  double warm = (g_get_monotonic_time() - t0) * 1e-3 / REPS;
  g_assert_no_error(err);
  g_test_message("time per proposal at %u completed trials (6-D): %.1f ms warm, %.1f ms cold", n,
                 warm, cold);
  lathe_tune_bayes_state_free(st);
  g_free(h);
  g_free(xs);
}

static void test_timing(void) {
  time_at(50);
  time_at(200);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/bayes/bad-input", test_bad_input);
  g_test_add_func("/tune/bayes/deterministic", test_deterministic);
  g_test_add_func("/tune/bayes/pending", test_pending);
  g_test_add_func("/tune/bayes/discrete-no-duplicates", test_discrete_no_duplicates);
  g_test_add_func("/tune/bayes/mixed", test_mixed);
  /* A measurement, not a check: only with -m perf (bench/ reports the
   * proposal cost against Optuna, side by side). */
  if (g_test_perf())
    g_test_add_func("/tune/bayes/timing", test_timing);
  g_test_add_func("/tune/bayes/branin", test_branin);
  g_test_add_func("/tune/bayes/hartmann6", test_hartmann6);
  return g_test_run();
}
