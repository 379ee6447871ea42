/* test-tune-random.c: the seeded generator, random and Halton proposals,
 * no repeats in discrete spaces and exhaustion. */
#include <math.h>

#include "tune-random.h"

static void test_rng(void) {
  LatheTuneRng a, b, c;
  lathe_tune_rng_init(&a, 42, 3);
  lathe_tune_rng_init(&b, 42, 3);
  lathe_tune_rng_init(&c, 3, 42);
  gboolean differ = FALSE;
  double mean = 0;
  for (int i = 0; i < 10000; i++) {
    double u = lathe_tune_rng_uniform(&a);
    g_assert_cmpfloat(u, ==, lathe_tune_rng_uniform(&b));
    differ |= u != lathe_tune_rng_uniform(&c);
    g_assert_cmpfloat(u, >=, 0);
    g_assert_cmpfloat(u, <, 1);
    mean += u / 10000;
  }
  g_assert_true(differ);
  g_assert_cmpfloat(fabs(mean - 0.5), <, 0.02);
  guint counts[3] = {0};
  for (int i = 0; i < 3000; i++)
    counts[lathe_tune_rng_below(&a, 3)]++;
  for (int k = 0; k < 3; k++)
    g_assert_cmpuint(counts[k], >, 850);
}

/* Log dimensions are log-uniform: the median of [1e-4, 1] is 1e-2. */
static void test_uniform_and_log(void) {
  LatheTuneDim dims[3] = {{LATHE_TUNE_FLOAT, 1e-4, 1, 0, TRUE, 0, -1, 0, 0, 0},
                          {LATHE_TUNE_INT, -2, 2, 0, FALSE, 0, -1, 0, 0, 0},
                          {LATHE_TUNE_CATEGORICAL, 0, 0, 0, FALSE, 4, -1, 0, 0, 0}};
  LatheTuneSpace sp = {3, dims};
  guint below = 0, ints[5] = {0}, cats[4] = {0};
  for (guint t = 0; t < 4000; t++) {
    double x[3];
    g_assert_true(
        lathe_tune_random_propose(&sp, NULL, 0, LATHE_TUNE_RANDOM_UNIFORM, 9, t, x, NULL));
    g_assert_cmpfloat(x[0], >=, 1e-4);
    g_assert_cmpfloat(x[0], <=, 1);
    below += x[0] < 1e-2;
    g_assert_cmpfloat(x[1], ==, round(x[1]));
    ints[(int)x[1] + 2]++;
    cats[(int)x[2]]++;
  }
  g_assert_cmpuint(below, >, 1800);
  g_assert_cmpuint(below, <, 2200);
  for (int k = 0; k < 5; k++)
    g_assert_cmpuint(ints[k], >, 650);
  for (int k = 0; k < 4; k++)
    g_assert_cmpuint(cats[k], >, 850);
}

/* 3 x 4 = 12 points: 12 proposals are all different, the 13th reports
 * exhaustion without an error. Pending and failed trials count as used. */
static void test_no_duplicates(void) {
  LatheTuneDim dims[2] = {{LATHE_TUNE_CATEGORICAL, 0, 0, 0, FALSE, 3, -1, 0, 0, 0},
                          {LATHE_TUNE_FLOAT, 0, 0.3, 0.1, FALSE, 0, -1, 0, 0, 0}};
  LatheTuneSpace sp = {2, dims};
  for (int mode = 0; mode < 2; mode++) {
    double x[2 * 13];
    LatheTuneTrial h[13];
    for (guint t = 0; t < 12; t++) {
      GError *error = NULL;
      g_assert_true(lathe_tune_random_propose(&sp, h, t, mode, 5, t, x + 2 * t, &error));
      g_assert_no_error(error);
      for (guint u = 0; u < t; u++)
        g_assert_true(x[2 * u] != x[2 * t] || fabs(x[2 * u + 1] - x[2 * t + 1]) > 1e-9);
      LatheTuneState st = t % 3 == 0 ? LATHE_TUNE_PENDING
                          : t % 3 == 1 ? LATHE_TUNE_FAILED
                                       : LATHE_TUNE_COMPLETE;
      h[t] = (LatheTuneTrial){x + 2 * t, 1.0, st};
    }
    GError *error = NULL;
    g_assert_false(lathe_tune_random_propose(&sp, h, 12, mode, 5, 12, x + 24, &error));
    g_assert_no_error(error);
  }
}

/* Conditional discrete spaces: the count follows the tree (a = 0: 1 point;
 * a = 1: b in 0..4, 5 points), and inactive dims are NAN. */
static void test_conditional_exhaustion(void) {
  LatheTuneDim dims[2] = {{LATHE_TUNE_CATEGORICAL, 0, 0, 0, FALSE, 2, -1, 0, 0, 0},
                          {LATHE_TUNE_INT, 0, 4, 0, FALSE, 0, 0, 0, 0, 1u << 1}};
  LatheTuneSpace sp = {2, dims};
  double x[2 * 7];
  LatheTuneTrial h[7];
  guint t = 0;
  while (lathe_tune_random_propose(&sp, h, t, LATHE_TUNE_RANDOM_UNIFORM, 1, t, x + 2 * t,
                                   NULL)) {
    g_assert_cmpuint(t, <, 6);
    g_assert_true(x[2 * t] == 1 || isnan(x[2 * t + 1]));
    h[t] = (LatheTuneTrial){x + 2 * t, 0, LATHE_TUNE_COMPLETE};
    t++;
  }
  g_assert_cmpuint(t, ==, 6);
}

static void test_halton(void) {
  LatheTuneDim dims[2] = {{LATHE_TUNE_FLOAT, 0, 1, 0, FALSE, 0, -1, 0, 0, 0},
                          {LATHE_TUNE_FLOAT, 0, 1, 0, FALSE, 0, -1, 0, 0, 0}};
  LatheTuneSpace sp = {2, dims};
  /* Low discrepancy: the first 32 points leave no cell of a 4 x 4 grid
   * empty (32 uniform draws do so about 40% of the time). */
  guint cells[16] = {0};
  double first[2], again[2], other[2];
  for (guint t = 0; t < 32; t++) {
    double x[2];
    g_assert_true(lathe_tune_random_propose(&sp, NULL, 0, LATHE_TUNE_RANDOM_HALTON, 3, t, x, NULL));
    cells[(int)(x[0] * 4) * 4 + (int)(x[1] * 4)]++;
    if (t == 0)
      first[0] = x[0], first[1] = x[1];
  }
  for (int c = 0; c < 16; c++)
    g_assert_cmpuint(cells[c], >=, 1);
  g_assert_true(lathe_tune_random_propose(&sp, NULL, 0, LATHE_TUNE_RANDOM_HALTON, 3, 0, again, NULL));
  g_assert_cmpmem(first, sizeof first, again, sizeof again);
  g_assert_true(lathe_tune_random_propose(&sp, NULL, 0, LATHE_TUNE_RANDOM_HALTON, 4, 0, other, NULL));
  g_assert_true(first[0] != other[0]);
}

static void test_errors(void) {
  LatheTuneDim d = {LATHE_TUNE_FLOAT, 0, 1, 0, FALSE, 0, -1, 0, 0, 0};
  LatheTuneSpace sp = {1, &d};
  double x;
  GError *error = NULL;
  g_assert_false(lathe_tune_random_propose(&sp, NULL, 0, LATHE_TUNE_RANDOM_SOBOL, 1, 0, &x, &error));
  g_assert_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "sobol"));
  g_clear_error(&error);
  LatheTuneDim child = {LATHE_TUNE_FLOAT, 0, 1, 0, FALSE, 0, 0, 0, 1, 0};
  sp.dims = &child;
  g_assert_false(lathe_tune_random_propose(&sp, NULL, 0, 0, 1, 0, &x, &error));
  g_assert_nonnull(strstr(error->message, "parent"));
  g_clear_error(&error);
  LatheTuneDim stepped = {LATHE_TUNE_FLOAT, 0, 1, 0.3, FALSE, 0, -1, 0, 0, 0};
  sp.dims = &stepped;
  g_assert_false(lathe_tune_random_propose(&sp, NULL, 0, 0, 1, 0, &x, &error));
  g_assert_nonnull(strstr(error->message, "does not divide"));
  g_clear_error(&error);
  stepped.step = 0.1; /* 1 / 0.1 is 10 up to rounding: accepted */
  g_assert_true(lathe_tune_random_propose(&sp, NULL, 0, 0, 1, 0, &x, &error));
  g_assert_no_error(error);
  LatheTuneSpace empty = {0, NULL};
  g_assert_false(lathe_tune_random_propose(&empty, NULL, 0, 0, 1, 0, &x, &error));
  g_assert_nonnull(strstr(error->message, "no dimensions"));
  g_clear_error(&error);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/random/rng", test_rng);
  g_test_add_func("/tune/random/uniform-and-log", test_uniform_and_log);
  g_test_add_func("/tune/random/no-duplicates", test_no_duplicates);
  g_test_add_func("/tune/random/conditional-exhaustion", test_conditional_exhaustion);
  g_test_add_func("/tune/random/halton", test_halton);
  g_test_add_func("/tune/random/errors", test_errors);
  return g_test_run();
}
