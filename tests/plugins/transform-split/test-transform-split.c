/* transform/split through its public ABI: sizes, stratification, groups,
 * determinism and refusals. Column 0 of every test dataset holds the row
 * index, so each output row can be traced back to its input row. */
#include <math.h>
#include <string.h>

#include "test-util.h"

static const LatheTransformClass *split_class(void) {
  return (const LatheTransformClass *)lathe_test_component("transform-split",
                                                           "transform/split");
}

/* @n rows, 2 columns (row index, row index squared), labels from @labels. */
static LatheDataset *make_data(guint n, const gint32 *labels, guint n_classes) {
  LatheDataset *ds = lathe_dataset_new(n, 2);
  for (guint r = 0; r < n; r++) {
    ds->x[r * 2] = (float)r;
    ds->x[r * 2 + 1] = (float)r * (float)r;
  }
  if (labels) {
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (guint c = 0; c < n_classes; c++)
      g_ptr_array_add(names, g_strdup_printf("k%u", c));
    g_ptr_array_add(names, NULL);
    lathe_dataset_set_classes(ds, (const char *const *)names->pdata);
    for (guint r = 0; r < n; r++)
      ds->labels[r] = labels[r];
  }
  return ds;
}

/* Labels laid out in blocks: @counts[c] rows of class c, in class order. */
static LatheDataset *make_blocks(const guint *counts, guint n_classes) {
  guint n = 0;
  for (guint c = 0; c < n_classes; c++)
    n += counts[c];
  g_autofree gint32 *labels = g_new(gint32, n);
  guint r = 0;
  for (guint c = 0; c < n_classes; c++)
    for (guint i = 0; i < counts[c]; i++)
      labels[r++] = (gint32)c;
  return make_data(n, labels, n_classes);
}

typedef struct {
  LatheContext *ctx;
  const LatheDataset *train;
  const LatheDataset *test;
} Split;

static void split_clear(Split *s) { g_clear_pointer(&s->ctx, lathe_context_free); }

/* Runs the split as node @node; returns FALSE with @error set when the plugin
 * refuses. */
static gboolean run_split_node(LatheDataset *ds, const char *params, guint64 seed,
                               const char *node, Split *out, GError **error) {
  const LatheTransformClass *k = split_class();
  out->ctx = lathe_test_context(&k->base, node, params, seed);
  g_autoptr(LatheArtifact) in = lathe_artifact_new_dataset(ds);
  lathe_context_set_input(out->ctx, "data", in);
  if (!k->run(out->ctx, error)) {
    g_assert_null(lathe_context_get_output(out->ctx, "train"));
    return FALSE;
  }
  out->train = lathe_artifact_get_dataset(lathe_context_get_output(out->ctx, "train"), NULL);
  out->test = lathe_artifact_get_dataset(lathe_context_get_output(out->ctx, "test"), NULL);
  g_assert_nonnull(out->train);
  g_assert_nonnull(out->test);
  return TRUE;
}

static gboolean run_split(LatheDataset *ds, const char *params, guint64 seed, Split *out,
                          GError **error) {
  return run_split_node(ds, params, seed, "split", out, error);
}

static guint row_of(const LatheDataset *ds, guint i) { return (guint)ds->x[i * ds->n_cols]; }

/* Both sides ascending, disjoint, covering 0..n-1, and rows intact. */
static void assert_partition(const Split *s, guint n) {
  g_assert_cmpuint(s->train->n_rows + s->test->n_rows, ==, n);
  g_autofree guint *seen = g_new0(guint, n);
  const LatheDataset *sides[2] = {s->train, s->test};
  for (guint k = 0; k < 2; k++) {
    for (guint i = 0; i < sides[k]->n_rows; i++) {
      guint r = row_of(sides[k], i);
      g_assert_cmpuint(r, <, n);
      g_assert_cmpfloat(sides[k]->x[i * 2 + 1], ==, (float)r * (float)r);
      if (i > 0)
        g_assert_cmpuint(row_of(sides[k], i - 1), <, r);
      seen[r]++;
    }
  }
  for (guint r = 0; r < n; r++)
    g_assert_cmpuint(seen[r], ==, 1);
}

static guint count_class(const LatheDataset *ds, gint32 c) {
  guint n = 0;
  for (guint i = 0; i < ds->n_rows; i++)
    n += ds->labels[i] == c;
  return n;
}

static void test_sizes(void) {
  Split s = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(run_split(make_data(150, NULL, 0), "{\"stratify\": false}", 1, &s, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(s.test->n_rows, ==, 30);
  g_assert_cmpuint(s.train->n_rows, ==, 120);
  assert_partition(&s, 150);
  JsonObject *metrics = lathe_context_get_metrics(s.ctx);
  g_assert_cmpfloat(json_object_get_double_member(metrics, "n_train"), ==, 120);
  g_assert_cmpfloat(json_object_get_double_member(metrics, "n_test"), ==, 30);
  split_clear(&s);

  /* sklearn rounds the test side up: ceil(0.25 * 10) = 3. */
  g_assert_true(run_split(make_data(10, NULL, 0),
                          "{\"stratify\": false, \"test_fraction\": 0.25}", 1, &s, &error));
  g_assert_cmpuint(s.test->n_rows, ==, 3);
  g_assert_cmpuint(s.train->n_rows, ==, 7);
  assert_partition(&s, 10);
  split_clear(&s);
}

static void test_stratified_exact(void) {
  const guint counts[] = {60, 30, 10};
  Split s = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(run_split(make_blocks(counts, 3), NULL, 7, &s, &error));
  g_assert_no_error(error);
  assert_partition(&s, 100);
  /* 20% of each class exactly. */
  g_assert_cmpuint(count_class(s.test, 0), ==, 12);
  g_assert_cmpuint(count_class(s.test, 1), ==, 6);
  g_assert_cmpuint(count_class(s.test, 2), ==, 2);
  g_assert_cmpuint(s.train->n_classes, ==, 3);
  g_assert_cmpstr(s.train->classes[2], ==, "k2");
  split_clear(&s);
}

static void test_stratified_rounding(void) {
  /* 7/7/6 at 50%: train shares are 3.5/3.5/3.0, so the one extra train row
   * goes to class 0 or 1 at random, never to class 2. */
  const guint counts[] = {7, 7, 6};
  gboolean saw[2] = {FALSE, FALSE};
  for (guint64 seed = 0; seed < 40; seed++) {
    Split s = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(run_split(make_blocks(counts, 3), "{\"test_fraction\": 0.5}", seed, &s,
                            &error));
    assert_partition(&s, 20);
    guint a = count_class(s.train, 0), b = count_class(s.train, 1);
    g_assert_cmpuint(count_class(s.train, 2), ==, 3);
    g_assert_true((a == 4 && b == 3) || (a == 3 && b == 4));
    saw[a == 4 ? 0 : 1] = TRUE;
    split_clear(&s);
  }
  g_assert_true(saw[0] && saw[1]); /* the tie really is broken by the rng */
}

static void test_stratified_many_seeds(void) {
  /* Unbalanced classes: every class's test share stays within one row of
   * its exact share, whatever the seed. */
  const guint counts[] = {41, 23, 17, 9};
  for (guint64 seed = 100; seed < 130; seed++) {
    Split s = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(run_split(make_blocks(counts, 4), "{\"test_fraction\": 0.3}", seed, &s,
                            &error));
    assert_partition(&s, 90);
    g_assert_cmpuint(s.test->n_rows, ==, 27);
    for (guint c = 0; c < 4; c++)
      g_assert_cmpfloat(fabs(count_class(s.test, (gint32)c) - 0.3 * counts[c]), <=, 1.0);
    split_clear(&s);
  }
}

/* 20 groups "g0".."g19"; group g has 2 + g % 5 rows, emitted round-robin so
 * a group's rows are not contiguous. Groups 0-9 are mostly class 0, 10-19
 * mostly class 1; with @mixed_labels the last row of each group of 3 or more
 * rows carries the other label. */
static LatheDataset *make_grouped(gboolean mixed_labels) {
  guint n = 0;
  for (guint g = 0; g < 20; g++)
    n += 2 + g % 5;
  g_autofree gint32 *labels = g_new(gint32, n);
  g_autofree gint32 *groups = g_new(gint32, n);
  guint r = 0;
  for (guint i = 0; i < 6; i++) {
    for (guint g = 0; g < 20; g++) {
      guint size = 2 + g % 5;
      if (i >= size)
        continue;
      gint32 major = g < 10 ? 0 : 1;
      gboolean minority = mixed_labels && size >= 3 && i == size - 1;
      labels[r] = minority ? 1 - major : major;
      groups[r] = (gint32)g;
      r++;
    }
  }
  g_assert_cmpuint(r, ==, n);
  LatheDataset *ds = make_data(n, labels, 2);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint g = 0; g < 20; g++)
    g_ptr_array_add(names, g_strdup_printf("g%u", g));
  g_ptr_array_add(names, NULL);
  lathe_dataset_set_groups(ds, (const char *const *)names->pdata);
  memcpy(ds->groups, groups, n * sizeof(gint32));
  return ds;
}

/* Groups of each side; asserts no group is on both. */
static void group_sides(const Split *s, gboolean in_test[20]) {
  gboolean in_train[20] = {FALSE};
  for (guint g = 0; g < 20; g++)
    in_test[g] = FALSE;
  for (guint i = 0; i < s->train->n_rows; i++)
    in_train[s->train->groups[i]] = TRUE;
  for (guint i = 0; i < s->test->n_rows; i++)
    in_test[s->test->groups[i]] = TRUE;
  for (guint g = 0; g < 20; g++)
    g_assert_false(in_train[g] && in_test[g]);
}

static void test_grouped(void) {
  for (guint64 seed = 0; seed < 10; seed++) {
    Split s = {0};
    g_autoptr(GError) error = NULL;
    LatheDataset *ds = make_grouped(FALSE);
    guint n = ds->n_rows;
    g_assert_true(run_split(ds, "{\"grouped\": true, \"stratify\": false}", seed, &s, &error));
    g_assert_no_error(error);
    assert_partition(&s, n);
    gboolean in_test[20];
    group_sides(&s, in_test);
    guint n_test_groups = 0;
    for (guint g = 0; g < 20; g++)
      n_test_groups += in_test[g];
    g_assert_cmpuint(n_test_groups, ==, 4); /* ceil(0.2 * 20) groups */
    g_assert_cmpuint(s.test->n_groups, ==, 20);
    split_clear(&s);
  }
}

static void test_grouped_stratified(void) {
  for (guint64 seed = 0; seed < 10; seed++) {
    Split s = {0};
    g_autoptr(GError) error = NULL;
    LatheDataset *ds = make_grouped(TRUE);
    guint n = ds->n_rows;
    g_assert_true(run_split(ds, "{\"grouped\": true, \"test_fraction\": 0.2}", seed, &s,
                            &error));
    g_assert_no_error(error);
    assert_partition(&s, n);
    gboolean in_test[20];
    group_sides(&s, in_test);
    /* 4 test groups, 2 of each majority class, despite minority rows. */
    guint per_class[2] = {0, 0};
    for (guint g = 0; g < 20; g++)
      if (in_test[g])
        per_class[g < 10 ? 0 : 1]++;
    g_assert_cmpuint(per_class[0], ==, 2);
    g_assert_cmpuint(per_class[1], ==, 2);
    split_clear(&s);
  }
}

static void test_determinism(void) {
  const guint counts[] = {50, 50, 50};
  Split a = {0}, b = {0}, c = {0};
  g_assert_true(run_split(make_blocks(counts, 3), NULL, 42, &a, NULL));
  g_assert_true(run_split(make_blocks(counts, 3), NULL, 42, &b, NULL));
  g_assert_true(run_split(make_blocks(counts, 3), NULL, 43, &c, NULL));
  g_assert_cmpuint(a.test->n_rows, ==, b.test->n_rows);
  gboolean differs = FALSE;
  for (guint i = 0; i < a.test->n_rows; i++) {
    g_assert_cmpuint(row_of(a.test, i), ==, row_of(b.test, i));
    differs |= row_of(a.test, i) != row_of(c.test, i);
  }
  g_assert_true(differs);
  split_clear(&a);
  split_clear(&b);
  split_clear(&c);
}

/* 12 recordings "rec00".."rec11" of class g % 3, as a long table (2 columns,
 * 3 + g % 4 rows each, names in order) or as one row per recording (5
 * columns, the group names listed and the rows emitted in reverse). */
static LatheDataset *make_recordings(gboolean one_row_reversed) {
  guint n = 0;
  for (guint g = 0; g < 12; g++)
    n += one_row_reversed ? 1 : 3 + g % 4;
  guint cols = one_row_reversed ? 5 : 2;
  LatheDataset *ds = lathe_dataset_new(n, cols);
  const char *classes[] = {"k0", "k1", "k2", NULL};
  lathe_dataset_set_classes(ds, classes);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < 12; i++)
    g_ptr_array_add(names, g_strdup_printf("rec%02u", one_row_reversed ? 11 - i : i));
  g_ptr_array_add(names, NULL);
  lathe_dataset_set_groups(ds, (const char *const *)names->pdata);
  guint r = 0;
  for (guint i = 0; i < 12; i++) {
    guint g = one_row_reversed ? 11 - i : i; /* the recording; index i either way */
    for (guint k = 0; k < (one_row_reversed ? 1 : 3 + g % 4); k++, r++) {
      ds->x[(gsize)r * cols] = (float)r;
      ds->groups[r] = (gint32)i;
      ds->labels[r] = (gint32)(g % 3);
    }
  }
  return ds;
}

static gint cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the groups on the test side, sorted, joined by spaces. */
static char *test_groups(const Split *s) {
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  for (guint i = 0; i < s->test->n_rows; i++) {
    const char *name = s->test->group_names[s->test->groups[i]];
    if (!g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
      g_ptr_array_add(names, (gpointer)name);
  }
  g_ptr_array_sort(names, cmp_names);
  g_ptr_array_add(names, NULL);
  return g_strjoinv(" ", (char **)names->pdata);
}

/* Two split nodes (different node ids, run seeds, columns, row counts and
 * group index order) with the same fixed seed pick the same recordings. */
static void test_fixed_seed(void) {
  const char *params[] = {
      "{\"grouped\": true, \"test_fraction\": 0.25, \"seed\": 5}",
      "{\"grouped\": true, \"test_fraction\": 0.25, \"seed\": 5, \"stratify\": false}",
      "{\"grouped\": true, \"test_fraction\": 0.5, \"seed\": 1234567}",
  };
  for (guint p = 0; p < G_N_ELEMENTS(params); p++) {
    Split a = {0}, b = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(run_split_node(make_recordings(FALSE), params[p], 1, "split_windows", &a,
                                 &error));
    g_assert_no_error(error);
    g_assert_true(run_split_node(make_recordings(TRUE), params[p], 99, "split_padded", &b,
                                 &error));
    g_assert_no_error(error);
    g_autofree char *ga = test_groups(&a), *gb = test_groups(&b);
    g_assert_cmpstr(ga, ==, gb);
    g_assert_cmpuint(b.test->n_rows, ==, p == 2 ? 6 : 3);
    if (p == 0) { /* stratified: one recording of each class */
      for (gint32 c = 0; c < 3; c++)
        g_assert_cmpuint(count_class(b.test, c), ==, 1);
    }
    split_clear(&a);
    split_clear(&b);
  }
  /* Without a fixed seed each node draws from its own stream: over a few run
   * seeds the two nodes disagree at least once. */
  gboolean differs = FALSE;
  for (guint64 seed = 0; seed < 5 && !differs; seed++) {
    Split a = {0}, b = {0};
    g_assert_true(run_split_node(make_recordings(FALSE), "{\"grouped\": true}", seed,
                                 "split_windows", &a, NULL));
    g_assert_true(run_split_node(make_recordings(TRUE), "{\"grouped\": true}", seed,
                                 "split_padded", &b, NULL));
    g_autofree char *ga = test_groups(&a), *gb = test_groups(&b);
    differs = g_strcmp0(ga, gb) != 0;
    split_clear(&a);
    split_clear(&b);
  }
  g_assert_true(differs);
}

static void expect_refusal(LatheDataset *ds, const char *params, const char *needle) {
  Split s = {0};
  g_autoptr(GError) error = NULL;
  g_assert_false(run_split(ds, params, 1, &s, &error));
  g_assert_nonnull(error);
  g_assert_true(error->domain == LATHE_ERROR);
  if (!strstr(error->message, needle))
    g_error("expected '%s' in: %s", needle, error->message);
  split_clear(&s);
}

static void test_errors(void) {
  const guint counts[] = {5, 5};
  expect_refusal(make_blocks(counts, 2), "{\"test_fraction\": 0.0}", "test_fraction");
  expect_refusal(make_blocks(counts, 2), "{\"test_fraction\": 1.0}", "test_fraction");
  /* ceil(0.95 * 10) = 10 leaves train empty. */
  expect_refusal(make_data(10, NULL, 0), "{\"test_fraction\": 0.95, \"stratify\": false}",
                 "train side empty");
  expect_refusal(make_data(10, NULL, 0), NULL, "labelled");
  expect_refusal(make_blocks(counts, 2), "{\"grouped\": true}", "groups");
  const guint lonely[] = {9, 1};
  expect_refusal(make_blocks(lonely, 2), NULL, "only 1 row");
  /* Two classes but one test row: stratification cannot hold one of each. */
  expect_refusal(make_blocks(counts, 2), "{\"test_fraction\": 0.1}", "fewer than");
  LatheDataset *unlabelled_row = make_blocks(counts, 2);
  unlabelled_row->labels[3] = -1;
  expect_refusal(unlabelled_row, NULL, "row 3");
  /* Without stratification the missing label does not matter. */
  LatheDataset *ok = make_blocks(counts, 2);
  ok->labels[3] = -1;
  Split s = {0};
  g_assert_true(run_split(ok, "{\"stratify\": false}", 1, &s, NULL));
  split_clear(&s);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-split/sizes", test_sizes);
  g_test_add_func("/transform-split/stratified-exact", test_stratified_exact);
  g_test_add_func("/transform-split/stratified-rounding", test_stratified_rounding);
  g_test_add_func("/transform-split/stratified-many-seeds", test_stratified_many_seeds);
  g_test_add_func("/transform-split/grouped", test_grouped);
  g_test_add_func("/transform-split/grouped-stratified", test_grouped_stratified);
  g_test_add_func("/transform-split/determinism", test_determinism);
  g_test_add_func("/transform-split/fixed-seed", test_fixed_seed);
  g_test_add_func("/transform-split/errors", test_errors);
  return g_test_run();
}
