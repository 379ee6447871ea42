/* test-tune-pareto.c: fronts, crowding distance and hypervolume on points
 * whose answers were worked out by hand. */
#include <math.h>

#include "tune-pareto.h"

static const double pts[7][2] = {
    {1, 5}, {2, 3}, {3, 4}, /* dominated by {2, 3} */
    {4, 1}, {2, 3},         /* a copy of point 1: same front */
    {5, 5},                 /* dominated by {3, 4}, so front 2 */
    {NAN, 0},               /* takes no part */
};

static void test_ranks_and_front(void) {
  guint rank[7];
  g_assert_cmpuint(lathe_tune_pareto_ranks(&pts[0][0], 7, 2, rank), ==, 3);
  guint want[7] = {0, 0, 1, 0, 0, 2, G_MAXUINT};
  for (int i = 0; i < 7; i++)
    g_assert_cmpuint(rank[i], ==, want[i]);
  guint idx[7];
  g_assert_cmpuint(lathe_tune_pareto_front(&pts[0][0], 7, 2, idx), ==, 4);
  g_assert_cmpuint(idx[0], ==, 0);
  g_assert_cmpuint(idx[1], ==, 1);
  g_assert_cmpuint(idx[2], ==, 3);
  g_assert_cmpuint(idx[3], ==, 4);
  g_assert_true(lathe_tune_pareto_dominates(pts[1], pts[2], 2));
  g_assert_false(lathe_tune_pareto_dominates(pts[1], pts[4], 2));
  g_assert_false(lathe_tune_pareto_dominates(pts[0], pts[3], 2));
}

static void test_three_objectives(void) {
  double y[4][3] = {{1, 1, 1}, {1, 1, 2}, {0, 2, 2}, {2, 2, 2}};
  guint rank[4], idx[4];
  g_assert_cmpuint(lathe_tune_pareto_ranks(&y[0][0], 4, 3, rank), ==, 3);
  g_assert_cmpuint(rank[0], ==, 0);
  g_assert_cmpuint(rank[1], ==, 1);
  g_assert_cmpuint(rank[2], ==, 0);
  g_assert_cmpuint(rank[3], ==, 2);
  g_assert_cmpuint(lathe_tune_pareto_front(&y[0][0], 4, 3, idx), ==, 2);
  g_assert_cmpuint(idx[0], ==, 0);
  g_assert_cmpuint(idx[1], ==, 2);
}

/* Front {0, 1, 3, 4}: objective 0 sorts 0, 1, 4, 3 (range 3), objective 1
 * sorts 3, 1, 4, 0 (range 4). Point 1: (2-1)/3 + (3-1)/4; point 4:
 * (4-2)/3 + (5-3)/4; the extremes are infinite. */
static void test_crowding(void) {
  guint idx[4] = {0, 1, 3, 4};
  double d[4];
  lathe_tune_pareto_crowding(&pts[0][0], 2, idx, 4, d);
  g_assert_true(isinf(d[0]));
  g_assert_cmpfloat_with_epsilon(d[1], 1.0 / 3 + 0.5, 1e-12);
  g_assert_true(isinf(d[2]));
  g_assert_cmpfloat_with_epsilon(d[3], 2.0 / 3 + 0.5, 1e-12);
}

/* Boxes to (6, 6) from (1, 5), (2, 3), (4, 1): slabs 5 + 8 + 4 = 17.
 * Dominated points, copies, NAN and points outside the reference add 0. */
static void test_hypervolume(void) {
  double ref[2] = {6, 6};
  g_assert_cmpfloat_with_epsilon(lathe_tune_pareto_hypervolume2(&pts[0][0], 7, ref), 17, 1e-12);
  double out[2][2] = {{7, 0}, {0, 6}};
  g_assert_cmpfloat(lathe_tune_pareto_hypervolume2(&out[0][0], 2, ref), ==, 0);
  double one[2] = {5, 4};
  g_assert_cmpfloat_with_epsilon(lathe_tune_pareto_hypervolume2(one, 1, ref), 2, 1e-12);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tune/pareto/ranks-and-front", test_ranks_and_front);
  g_test_add_func("/tune/pareto/three-objectives", test_three_objectives);
  g_test_add_func("/tune/pareto/crowding", test_crowding);
  g_test_add_func("/tune/pareto/hypervolume", test_hypervolume);
  return g_test_run();
}
