/* transform/split with folds: grouped, stratified k-fold through the public
 * ABI. Column 0 of every row holds its group index, so each test row can be
 * traced back to its group. */
#include <string.h>

#include "test-util.h"

#define N_GROUPS 23

static const LatheTransformClass *split_class(void) {
  return (const LatheTransformClass *)lathe_test_component("transform-split",
                                                           "transform/split");
}

/* 23 groups of 3 classes: group g has class g % 3 and 2 + g % 4 rows, rows
 * emitted round-robin. Groups 20-22 are named "cls/100-200/f<g>_inter-<k>" to
 * share one inter-k folder ("cls/100-200/"); the others "cls/<g>/f<g>". */
static LatheDataset *make_groups(void) {
  guint n = 0;
  for (guint g = 0; g < N_GROUPS; g++)
    n += 2 + g % 4;
  LatheDataset *ds = lathe_dataset_new(n, 2);
  const char *classes[] = {"a", "b", "c", NULL};
  lathe_dataset_set_classes(ds, classes);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (guint g = 0; g < N_GROUPS; g++)
    g_ptr_array_add(names, g >= 20 ? g_strdup_printf("cls/100-200/f%u_inter-%u", g, g - 19)
                                   : g_strdup_printf("cls/%u/f%u", g, g));
  g_ptr_array_add(names, NULL);
  lathe_dataset_set_groups(ds, (const char *const *)names->pdata);
  guint left[N_GROUPS], r = 0;
  for (guint g = 0; g < N_GROUPS; g++)
    left[g] = 2 + g % 4;
  while (r < n)
    for (guint g = 0; g < N_GROUPS; g++)
      if (left[g]) {
        left[g]--;
        ds->x[r * 2] = (float)g;
        ds->x[r * 2 + 1] = (float)r;
        ds->groups[r] = (gint32)g;
        /* the inter-k folder is one class as a whole, like a real one */
        ds->labels[r] = g >= 20 ? 1 : (gint32)(g % 3);
        r++;
      }
  return ds;
}

/* Runs fold @fold of @folds; fills in_test[g] / in_train[g]. */
static gboolean run_fold(guint folds, guint fold, const char *extra, guint64 node_seed,
                         const char *node, gboolean in_test[N_GROUPS],
                         gboolean in_train[N_GROUPS], GError **error) {
  const LatheTransformClass *k = split_class();
  g_autofree char *params = g_strdup_printf(
      "{\"folds\": %u, \"fold\": %u, \"grouped\": true, \"stratify\": true%s}", folds, fold,
      extra);
  LatheContext *ctx = lathe_test_context(&k->base, node, params, node_seed);
  LatheDataset *ds = make_groups();
  g_autoptr(LatheArtifact) in = lathe_artifact_new_dataset(ds);
  lathe_context_set_input(ctx, "data", in);
  gboolean ok = k->run(ctx, error);
  if (ok) {
    const LatheDataset *tr =
        lathe_artifact_get_dataset(lathe_context_get_output(ctx, "train"), NULL);
    const LatheDataset *te =
        lathe_artifact_get_dataset(lathe_context_get_output(ctx, "test"), NULL);
    memset(in_test, 0, N_GROUPS * sizeof(gboolean));
    memset(in_train, 0, N_GROUPS * sizeof(gboolean));
    for (guint i = 0; i < te->n_rows; i++)
      in_test[(guint)te->x[i * 2]] = TRUE;
    for (guint i = 0; i < tr->n_rows; i++)
      in_train[(guint)tr->x[i * 2]] = TRUE;
    g_assert_cmpuint(tr->n_rows + te->n_rows, ==, ds->n_rows);
  }
  lathe_context_free(ctx);
  return ok;
}

/* k folds: no group on both sides, every group in exactly one test fold, each
 * fold's count of class c within 1 of n_c / k; the inter-k folder's groups
 * move together when group_key names it. */
static void check_partition(guint folds, const char *extra, gboolean keyed) {
  guint times_test[N_GROUPS] = {0};
  guint class_groups[3] = {0};
  for (guint g = 0; g < N_GROUPS; g++)
    class_groups[g >= 20 ? 1 : g % 3]++;
  for (guint f = 1; f <= folds; f++) {
    gboolean in_test[N_GROUPS], in_train[N_GROUPS];
    g_autoptr(GError) error = NULL;
    /* node seeds differ: only the fixed seed may decide the folds */
    g_autofree char *node = g_strdup_printf("fold%u", f);
    g_assert_true(run_fold(folds, f, extra, 1000 + f, node, in_test, in_train, &error));
    g_assert_no_error(error);
    guint per_class[3] = {0};
    for (guint g = 0; g < N_GROUPS; g++) {
      g_assert_false(in_test[g] && in_train[g]);
      g_assert_true(in_test[g] || in_train[g]);
      times_test[g] += in_test[g];
      if (in_test[g] && !(keyed && g > 20))
        per_class[g >= 20 ? 1 : g % 3]++;
    }
    if (keyed) {
      g_assert_true(in_test[20] == in_test[21] && in_test[21] == in_test[22]);
      class_groups[1] = 7 + 1; /* groups 1,4,..,19 and the one folder item */
    }
    for (guint c = 0; c < 3; c++) {
      double share = (double)class_groups[c] / folds;
      g_assert_cmpfloat(per_class[c], >=, share - 1.0);
      g_assert_cmpfloat(per_class[c], <=, share + 1.0);
    }
  }
  for (guint g = 0; g < N_GROUPS; g++)
    g_assert_cmpuint(times_test[g], ==, 1);
}

static void test_partition(void) {
  check_partition(5, ", \"seed\": 7", FALSE);
  check_partition(3, ", \"seed\": 1", FALSE);
  check_partition(10, ", \"seed\": 3", FALSE);
}

static void test_group_key(void) {
  check_partition(4, ", \"seed\": 7, \"group_key\": \"^[^/]+/[0-9]+-[0-9]+/\"", TRUE);
}

/* Fold counts per class of all items and of the keyed ones (cls/10..19,
 * which "^cls/1[0-9]/" matches one by one; the folder 100-200 does not match
 * and its 3 groups stay items of their own). TRUE when every fold holds floor
 * or ceil of n / folds of both, for every class. */
static gboolean keyed_balanced(guint folds, guint seed, gboolean stratify_key) {
  guint all_n[3] = {0}, keyed_n[3] = {0}, times_test[N_GROUPS] = {0};
  for (guint g = 0; g < N_GROUPS; g++) {
    guint c = g >= 20 ? 1 : g % 3;
    all_n[c]++;
    keyed_n[c] += g >= 10 && g <= 19;
  }
  gboolean balanced = TRUE;
  for (guint f = 1; f <= folds; f++) {
    gboolean in_test[N_GROUPS], in_train[N_GROUPS];
    g_autoptr(GError) error = NULL;
    g_autofree char *extra = g_strdup_printf(
        ", \"seed\": %u, \"group_key\": \"^cls/1[0-9]/\", \"stratify_key\": %s", seed,
        stratify_key ? "true" : "false");
    g_assert_true(run_fold(folds, f, extra, 1, "n", in_test, in_train, &error));
    g_assert_no_error(error);
    guint all[3] = {0}, keyed[3] = {0};
    for (guint g = 0; g < N_GROUPS; g++) {
      if (!in_test[g])
        continue;
      times_test[g]++;
      guint c = g >= 20 ? 1 : g % 3;
      all[c]++;
      keyed[c] += g >= 10 && g <= 19;
    }
    for (guint c = 0; c < 3; c++) {
      /* the classes' balance holds either way */
      g_assert_cmpuint(all[c], >=, all_n[c] / folds);
      g_assert_cmpuint(all[c], <=, (all_n[c] + folds - 1) / folds);
      balanced = balanced && keyed[c] >= keyed_n[c] / folds &&
                 keyed[c] <= (keyed_n[c] + folds - 1) / folds;
    }
  }
  for (guint g = 0; g < N_GROUPS; g++)
    g_assert_cmpuint(times_test[g], ==, 1);
  return balanced;
}

/* stratify_key: the keyed items are dealt apart within each class, so every
 * fold gets its share of them on every seed; without it some seed leaves a
 * fold short (the check can tell the two apart). */
static void test_stratify_key(void) {
  gboolean plain_always = TRUE;
  for (guint seed = 0; seed < 20; seed++) {
    g_assert_true(keyed_balanced(3, seed, TRUE));
    plain_always = plain_always && keyed_balanced(3, seed, FALSE);
  }
  g_assert_false(plain_always);
}

/* The same seed gives the same folds whatever the node; another seed others. */
static void test_seed(void) {
  gboolean a[N_GROUPS], b[N_GROUPS], tr[N_GROUPS];
  g_autoptr(GError) error = NULL;
  g_assert_true(run_fold(5, 2, ", \"seed\": 11", 1, "x", a, tr, &error));
  g_assert_true(run_fold(5, 2, ", \"seed\": 11", 99, "y", b, tr, &error));
  g_assert_cmpmem(a, sizeof a, b, sizeof b);
  gboolean differs = FALSE;
  for (guint s = 12; s < 20 && !differs; s++) {
    g_autofree char *extra = g_strdup_printf(", \"seed\": %u", s);
    g_assert_true(run_fold(5, 2, extra, 1, "x", b, tr, &error));
    differs = memcmp(a, b, sizeof a) != 0;
  }
  g_assert_true(differs);
}

static void test_refusals(void) {
  gboolean a[N_GROUPS], tr[N_GROUPS];
  const struct {
    guint folds, fold;
    const char *extra, *says;
  } bad[] = {
      {5, 1, "", "fixed seed"},
      {5, 6, ", \"seed\": 1", "fold from 1"},
      {1, 1, ", \"seed\": 1", "at least 2"},
      {30, 1, ", \"seed\": 1", "cannot fill 30 folds"},
      {5, 1, ", \"seed\": 1, \"group_key\": \"(\"", "group_key is not a regex"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_false(run_fold(bad[i].folds, bad[i].fold, bad[i].extra, 1, "cvsplit", a, tr, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
    if (!strstr(error->message, bad[i].says))
      g_error("case %u: '%s' does not say '%s'", i, error->message, bad[i].says);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-split/kfold/partition", test_partition);
  g_test_add_func("/transform-split/kfold/group-key", test_group_key);
  g_test_add_func("/transform-split/kfold/stratify-key", test_stratify_key);
  g_test_add_func("/transform-split/kfold/seed", test_seed);
  g_test_add_func("/transform-split/kfold/refusals", test_refusals);
  return g_test_run();
}
