/* test-tune-space.c: activity under conditions and the unit-cube mapping of
 * a LatheTuneSpace (tune/tune-space.c), on hand-worked values. */
#include "tune-space.h"

#include <math.h>

/* 0: categorical of 3; 1: float [0, 10] active when 0 is choice 0 or 2;
 * 2: int [1, 4] active when 1 lies in [2, 5]; 3: log float [1e-3, 1e1];
 * 4: float [0, 1] on a 0.25 grid. */
static const LatheTuneDim dims[] = {
    {.kind = LATHE_TUNE_CATEGORICAL, .n_choices = 3, .parent = -1},
    {.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 10, .parent = 0, .cond_choices = 0x5},
    {.kind = LATHE_TUNE_INT, .lo = 1, .hi = 4, .parent = 1, .cond_lo = 2, .cond_hi = 5},
    {.kind = LATHE_TUNE_FLOAT, .lo = 1e-3, .hi = 1e1, .log = TRUE, .parent = -1},
    {.kind = LATHE_TUNE_FLOAT, .lo = 0, .hi = 1, .step = 0.25, .parent = -1},
};
static const LatheTuneSpace space = {.n_dims = G_N_ELEMENTS(dims), .dims = dims};

static void test_active(void) {
  double x[5] = {0, 3, 2, 1, 0.5};
  g_assert_true(lathe_tune_space_active(&space, x, 0));
  g_assert_true(lathe_tune_space_active(&space, x, 1));
  g_assert_true(lathe_tune_space_active(&space, x, 2));
  x[1] = 6; /* outside [2, 5] */
  g_assert_false(lathe_tune_space_active(&space, x, 2));
  x[1] = 5; /* the bounds are inclusive */
  g_assert_true(lathe_tune_space_active(&space, x, 2));
  x[0] = 1; /* choice 1 is not in the mask: 1 and, through it, 2 go */
  g_assert_false(lathe_tune_space_active(&space, x, 1));
  g_assert_false(lathe_tune_space_active(&space, x, 2));
  x[0] = 2;
  x[1] = NAN; /* an undecided parent leaves its child inactive */
  g_assert_false(lathe_tune_space_active(&space, x, 2));
  g_assert_true(lathe_tune_space_active(&space, x, 3));
}

static void test_from_unit(void) {
  /* Categoricals: equal shares, u = 1 is the last choice. */
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.0, 0), ==, 0);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.34, 0), ==, 1);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 1.0, 0), ==, 2);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.25, 1), ==, 2.5);
  /* Integers get a quarter of [0, 1] each, and out-of-range u is clamped. */
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.24, 2), ==, 1);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.26, 2), ==, 2);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 1.5, 2), ==, 4);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, -1, 2), ==, 1);
  /* Log scale: the middle is the geometric mean, 0.1. */
  g_assert_cmpfloat(fabs(lathe_tune_space_from_unit(&space, 0.5, 3) - 0.1), <, 1e-12);
  /* A 0.25 grid over [0, 1] has five points, a fifth of [0, 1] each. */
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.19, 4), ==, 0);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.21, 4), ==, 0.25);
  g_assert_cmpfloat(lathe_tune_space_from_unit(&space, 0.99, 4), ==, 1);
}

static void test_round_trip(void) {
  /* Grid values map to the centre of their share and back to themselves. */
  for (guint i = 0; i < space.n_dims; i++) {
    for (int k = 0; k <= 20; k++) {
      double v = lathe_tune_space_from_unit(&space, k / 20.0, i);
      double u = lathe_tune_space_to_unit(&space, v, i);
      g_assert_cmpfloat(u, >=, 0);
      g_assert_cmpfloat(u, <=, 1);
      g_assert_cmpfloat(fabs(lathe_tune_space_from_unit(&space, u, i) - v), <=, 1e-12 * fmax(1, fabs(v)));
    }
  }
  g_assert_cmpfloat(lathe_tune_space_to_unit(&space, 2, 2), ==, 0.375);
  g_assert_cmpfloat(lathe_tune_space_to_unit(&space, 0.5, 4), ==, 0.5);
  g_assert_true(isnan(lathe_tune_space_to_unit(&space, NAN, 1)));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/space/active", test_active);
  g_test_add_func("/tune/space/from-unit", test_from_unit);
  g_test_add_func("/tune/space/round-trip", test_round_trip);
  return g_test_run();
}
