/* test-tune-prune.c: the median rule and successive halving on hand-worked
 * studies (the expected decisions follow Optuna 3.1's pruners). */
#include <math.h>

#include "tune-prune.h"

static const guint steps[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

/* Five complete trials: trial i reports 10 + i - s at step s, so at step 2
 * the values are 8..12 and their median is 10. */
static double done_vals[5][4];
static LatheTuneCurve done[6];

static void setup_study(void) {
  for (int i = 0; i < 5; i++) {
    for (int s = 0; s < 4; s++)
      done_vals[i][s] = 10 + i - s;
    done[i] = (LatheTuneCurve){steps, done_vals[i], 4, LATHE_TUNE_COMPLETE};
  }
  /* A pruned trial with a tiny value: only complete trials count. */
  static const double low[3] = {0, 0, 0};
  done[5] = (LatheTuneCurve){steps, low, 3, LATHE_TUNE_PRUNED};
}

static gboolean median(const double *vals, guint n, guint n_others,
                       const LatheTuneMedianOptions *o) {
  LatheTuneCurve t = {steps, vals, n, LATHE_TUNE_PENDING};
  gboolean prune = 99;
  GError *error = NULL;
  g_assert_true(lathe_tune_prune_median(&t, done, n_others, o, &prune, &error));
  g_assert_no_error(error);
  g_assert_true(prune == TRUE || prune == FALSE);
  return prune;
}

static void test_median(void) {
  setup_study();
  double worse[3] = {20, 15, 11}, better[3] = {20, 15, 9.5}, early[3] = {9, 15, 11};
  g_assert_true(median(worse, 3, 6, NULL));
  g_assert_false(median(better, 3, 6, NULL));
  /* The best value so far counts, not the last one. */
  g_assert_false(median(early, 3, 6, NULL));
  /* Four complete trials are fewer than the 5 start-up trials. */
  g_assert_false(median(worse, 3, 4, NULL));

  LatheTuneMedianOptions o;
  lathe_tune_median_options_init(&o);
  o.n_warmup_steps = 3;
  g_assert_false(median(worse, 3, 6, &o));
  lathe_tune_median_options_init(&o);
  o.n_min_trials = 6;
  g_assert_false(median(worse, 3, 6, &o));
  /* Every 2 steps: step 2 is checked, step 3 is not (2 was). */
  lathe_tune_median_options_init(&o);
  o.interval_steps = 2;
  g_assert_true(median(worse, 3, 6, &o));
  double worse4[4] = {20, 15, 11, 11};
  g_assert_false(median(worse4, 4, 6, &o));
  /* The 25th percentile of 8..12 is 9. */
  lathe_tune_median_options_init(&o);
  o.percentile = 25;
  g_assert_true(median(better, 3, 6, &o));
  /* All NaN: pruned. */
  double nans[2] = {NAN, NAN};
  g_assert_true(median(nans, 2, 6, NULL));
  /* A step no complete trial reached: no basis, no pruning. */
  double long_[6] = {20, 20, 20, 20, 20, 20};
  g_assert_false(median(long_, 6, 6, NULL));
}

/* Successive halving with min_resource 1 and eta 2: rung r ends at step
 * 2^r. A (complete) reports 1.0 and B (complete) 3.0 at every step 0..8;
 * C reported 5.0 at steps 0 and 1 and was pruned at rung 0. */
static const double ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
static const double threes[9] = {3, 3, 3, 3, 3, 3, 3, 3, 3};
static const double fives[2] = {5, 5};

static gboolean halving(const guint *st, const double *vals, guint n,
                        const LatheTuneHalvingOptions *o) {
  LatheTuneCurve others[3] = {{steps, ones, 9, LATHE_TUNE_COMPLETE},
                              {steps, threes, 9, LATHE_TUNE_COMPLETE},
                              {steps, fives, 2, LATHE_TUNE_PRUNED}};
  LatheTuneCurve t = {st, vals, n, LATHE_TUNE_PENDING};
  gboolean prune = 99;
  GError *error = NULL;
  g_assert_true(lathe_tune_prune_halving(&t, others, 3, o, &prune, &error));
  g_assert_no_error(error);
  g_assert_true(prune == TRUE || prune == FALSE);
  return prune;
}

static void test_halving(void) {
  LatheTuneHalvingOptions o;
  lathe_tune_halving_options_init(&o);
  o.min_resource = 1;
  o.reduction_factor = 2;
  /* Rung 0 at step 1: values {1, 3, 5, T}; the best 4/2 = 2 go on. */
  double v2[2] = {9, 2}, v4[2] = {9, 4};
  g_assert_false(halving(steps, v2, 2, &o));
  g_assert_true(halving(steps, v4, 2, &o));
  /* Step 0 ends no rung: even NaN goes on; NaN at a rung's end is pruned. */
  double nan1[1] = {NAN}, nan2[2] = {1, NAN};
  g_assert_false(halving(steps, nan1, 1, &o));
  g_assert_true(halving(steps, nan2, 2, &o));
  /* Rung 1 at step 2: {1, 3, T} (C never got there); 3 // 2 = 1 goes on. */
  double r1_bad[3] = {9, 2, 3.5}, r1_good[3] = {9, 2, 0.5};
  g_assert_true(halving(steps, r1_bad, 3, &o));
  g_assert_false(halving(steps, r1_good, 3, &o));
  /* Sparse reports: step 4 closes rungs 0, 1 and 2 at once. With 2.0 the
   * trial passes rung 0 ({1, 2, 3, 5}) but not rung 1 ({1, 2, 3}). */
  guint sparse[2] = {0, 4};
  double s_good[2] = {9, 0.5}, s_bad[2] = {9, 2.0};
  g_assert_false(halving(sparse, s_good, 2, &o));
  g_assert_true(halving(sparse, s_bad, 2, &o));
  /* Bootstrap: 4 values at rung 0 are not more than 4. */
  o.bootstrap_count = 4;
  g_assert_true(halving(steps, v2, 2, &o));
  /* Optuna's defaults (eta 4, auto min_resource = max(8 // 100, 1) = 1):
   * only the best 4 // 4 = 1 of {1, 2, 3, 5} goes on. */
  lathe_tune_halving_options_init(&o);
  g_assert_true(halving(steps, v2, 2, &o));
  double v05[2] = {9, 0.5};
  g_assert_false(halving(steps, v05, 2, &o));
}

static void test_errors(void) {
  guint bad_steps[2] = {3, 3};
  double v[2] = {1, 1};
  LatheTuneCurve t = {bad_steps, v, 2, LATHE_TUNE_PENDING};
  gboolean prune;
  GError *error = NULL;
  g_assert_false(lathe_tune_prune_median(&t, NULL, 0, NULL, &prune, &error));
  g_assert_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "increasing"));
  g_clear_error(&error);
  LatheTuneHalvingOptions o;
  lathe_tune_halving_options_init(&o);
  o.reduction_factor = 1;
  t.steps = steps;
  g_assert_false(lathe_tune_prune_halving(&t, NULL, 0, &o, &prune, &error));
  g_assert_nonnull(strstr(error->message, "reduction_factor"));
  g_clear_error(&error);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/prune/median", test_median);
  g_test_add_func("/tune/prune/halving", test_halving);
  g_test_add_func("/tune/prune/errors", test_errors);
  return g_test_run();
}
