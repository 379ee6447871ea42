/* Train/test allocation. The rules are scikit-learn's so that a split here
 * has the same sizes as ShuffleSplit, GroupShuffleSplit and
 * StratifiedShuffleSplit would give; only the random stream differs.
 *
 * Everything works on "items": rows, or groups when grouped. Items are decided
 * first, then rows follow their item, and each side is listed in row order so
 * downstream results never depend on the shuffle order.
 *
 * Groups are numbered in byte order of their names, not by their index in
 * the dataset, and each is one item whatever its row count. So a grouped split
 * depends only on the group names, each group's class and the random stream:
 * the same recordings cut into windows, padded to one row each, or with other
 * columns, split the same way under the same seed (as long as each group's
 * majority label is the same, which it is when every group has one label). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "split-plan.h"

void lathe_split_plan_free(LatheSplitPlan *plan) {
  if (!plan)
    return;
  g_free(plan->train);
  g_free(plan->test);
  g_free(plan);
}

/* Row labels and groups may hold -1 ("missing") in the SDK encoding; a split
 * that relies on them must refuse those rows rather than guess. */
static gboolean check_indices(const gint32 *v, guint n, guint limit, const char *what,
                              const char *param, GError **error) {
  for (guint r = 0; r < n; r++) {
    if (v[r] < 0 || (guint)v[r] >= limit) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "transform/split: row %u has no valid %s (index %d); %s=true needs "
                  "every row to have one",
                  r, what, v[r], param);
      return FALSE;
    }
  }
  return TRUE;
}

typedef struct {
  const gint32 *groups;
  const gint32 *labels;
} RowKeys;

static int cmp_group_label(const void *a, const void *b, void *data) {
  const RowKeys *k = data;
  guint32 ra = *(const guint32 *)a, rb = *(const guint32 *)b;
  if (k->groups[ra] != k->groups[rb])
    return k->groups[ra] < k->groups[rb] ? -1 : 1;
  if (k->labels[ra] != k->labels[rb])
    return k->labels[ra] < k->labels[rb] ? -1 : 1;
  return ra < rb ? -1 : (ra > rb);
}

typedef struct {
  gint32 g;
  const char *name;
} NamedGroup;

static int cmp_named(const void *a, const void *b) {
  const NamedGroup *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->g > y->g) - (x->g < y->g);
}

/* Numbers the groups that occur (compact[g] = item, -1 when absent) in byte
 * order of their names; returns how many. */
static guint number_groups(const LatheDataset *ds, gint32 *compact) {
  for (guint g = 0; g < ds->n_groups; g++)
    compact[g] = -1;
  for (guint r = 0; r < ds->n_rows; r++)
    compact[ds->groups[r]] = 0;
  NamedGroup *present = g_new(NamedGroup, ds->n_groups + 1);
  guint n = 0;
  for (guint g = 0; g < ds->n_groups; g++)
    if (compact[g] == 0)
      present[n++] = (NamedGroup){(gint32)g, ds->group_names[g] ? ds->group_names[g] : ""};
  qsort(present, n, sizeof *present, cmp_named);
  for (guint i = 0; i < n; i++)
    compact[present[i].g] = (gint32)i;
  g_free(present);
  return n;
}

/* Majority label of each compact group; ties go to the lowest class index so
 * the outcome never depends on row order. */
static void group_majority(const LatheDataset *ds, const gint32 *compact, gint32 *out) {
  guint32 *order = g_new(guint32, ds->n_rows + 1);
  for (guint r = 0; r < ds->n_rows; r++)
    order[r] = r;
  RowKeys keys = {ds->groups, ds->labels};
  qsort_r(order, ds->n_rows, sizeof *order, cmp_group_label, &keys);
  guint i = 0;
  while (i < ds->n_rows) {
    gint32 g = ds->groups[order[i]];
    guint best = 0;
    gint32 best_label = -1;
    while (i < ds->n_rows && ds->groups[order[i]] == g) {
      gint32 label = ds->labels[order[i]];
      guint run = 0;
      while (i < ds->n_rows && ds->groups[order[i]] == g && ds->labels[order[i]] == label) {
        run++;
        i++;
      }
      if (run > best) {
        best = run;
        best_label = label;
      }
    }
    out[compact[g]] = best_label;
  }
  g_free(order);
}

/* sklearn.model_selection._split._approximate_mode: floor each class's share
 * of @n_draws, then hand the missing draws to the largest remainders, breaking
 * ties at random. Never gives a class more than it has. */
static void approximate_mode(const guint *counts, guint n_classes, guint total,
                             guint n_draws, guint *out, LatheRng *rng) {
  double *rem = g_new(double, n_classes + 1);
  guint32 *tied = g_new(guint32, n_classes + 1);
  gint64 need = n_draws;
  for (guint c = 0; c < n_classes; c++) {
    double cont = (double)counts[c] / (double)total * (double)n_draws;
    double fl = floor(cont);
    out[c] = (guint)fl;
    rem[c] = cont - fl;
    need -= out[c];
  }
  while (need > 0) {
    double best = -1.0;
    for (guint c = 0; c < n_classes; c++)
      if (rem[c] > best && out[c] < counts[c])
        best = rem[c];
    if (best < 0.0)
      break; /* cannot happen when n_draws <= total */
    guint n_tied = 0;
    for (guint c = 0; c < n_classes; c++)
      if (rem[c] == best && out[c] < counts[c])
        tied[n_tied++] = c;
    lathe_rng_shuffle(rng, tied, n_tied);
    for (guint j = 0; j < n_tied && need > 0; j++) {
      out[tied[j]]++;
      need--;
    }
    for (guint j = 0; j < n_tied; j++)
      rem[tied[j]] = -2.0; /* each remainder value is used once */
  }
  g_free(rem);
  g_free(tied);
}

/* Decides the side of each item (TRUE = test), stratified by @item_class. */
static gboolean stratified_sides(guint n_items, const gint32 *item_class, guint n_classes,
                                 guint n_train, guint n_test, const char *unit,
                                 const LatheDataset *ds, LatheRng *rng, gboolean *is_test,
                                 GError **error) {
  guint *counts = g_new0(guint, n_classes + 1);
  for (guint i = 0; i < n_items; i++)
    counts[item_class[i]]++;
  /* Classes declared but absent take no part, as in sklearn (it only sees y). */
  guint *present = g_new(guint, n_classes + 1);
  guint *pcounts = g_new(guint, n_classes + 1);
  guint n_present = 0;
  gboolean ok = FALSE;
  for (guint c = 0; c < n_classes; c++) {
    if (counts[c] == 0)
      continue;
    if (counts[c] < 2) {
      g_autofree char *name = lathe_value_excerpt(ds->classes[c], -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "transform/split: class %s has only 1 %s, which cannot be on both "
                  "sides; set stratify=false or add data",
                  name, unit);
      goto out;
    }
    present[n_present] = c;
    pcounts[n_present++] = counts[c];
  }
  if (n_train < n_present || n_test < n_present) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: test_fraction gives %u train and %u test %ss, fewer than "
                "the %u classes; stratify needs one of each class per side: move "
                "test_fraction towards 0.5 or set stratify=false",
                n_train, n_test, unit, n_present);
    goto out;
  }
  guint *n_tr = g_new(guint, n_present + 1);
  approximate_mode(pcounts, n_present, n_items, n_train, n_tr, rng);
  /* Whatever a class does not send to train goes to test: the totals match
   * n_test exactly, which is what sklearn's second approximate_mode yields. */
  guint32 *members = g_new(guint32, n_items + 1);
  for (guint p = 0; p < n_present; p++) {
    guint m = 0;
    for (guint i = 0; i < n_items; i++)
      if ((guint)item_class[i] == present[p])
        members[m++] = i;
    lathe_rng_shuffle(rng, members, m);
    for (guint j = 0; j < m; j++)
      is_test[members[j]] = j >= n_tr[p];
  }
  g_free(members);
  g_free(n_tr);
  ok = TRUE;
out:
  g_free(counts);
  g_free(present);
  g_free(pcounts);
  return ok;
}

LatheSplitPlan *lathe_split_plan_compute(const LatheDataset *ds, double test_fraction,
                                         gboolean stratify, gboolean grouped,
                                         LatheRng *rng, GError **error) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: test_fraction=%g leaves one side empty; use a value "
                "strictly between 0 and 1",
                test_fraction);
    return NULL;
  }
  if (stratify && !ds->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: stratify=true needs a labelled dataset; set "
                "stratify=false or give the source a label column");
    return NULL;
  }
  if (grouped && !ds->groups) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: grouped=true needs a dataset with groups; set "
                "grouped=false or give the source a group column");
    return NULL;
  }
  if (stratify && !check_indices(ds->labels, ds->n_rows, ds->n_classes, "label",
                                 "stratify", error))
    return NULL;
  if (grouped && !check_indices(ds->groups, ds->n_rows, ds->n_groups, "group", "grouped",
                                error))
    return NULL;

  /* Items: rows, or the groups that occur, numbered in name order. */
  guint n_items = ds->n_rows;
  gint32 *compact = NULL;
  if (grouped) {
    compact = g_new(gint32, ds->n_groups + 1);
    n_items = number_groups(ds, compact);
  }
  const char *unit = grouped ? "group" : "row";

  /* sklearn: n_test = ceil(test_size * n), n_train = n - n_test. */
  double want = ceil(test_fraction * (double)n_items);
  guint n_test = (guint)MIN(want, (double)n_items);
  guint n_train = n_items - n_test;
  if (n_test == 0 || n_train == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: test_fraction=%g of %u %ss leaves the %s side empty; "
                "choose a test_fraction that gives both sides at least one %s",
                test_fraction, n_items, unit, n_test == 0 ? "test" : "train", unit);
    g_free(compact);
    return NULL;
  }

  gboolean *is_test = g_new0(gboolean, n_items + 1);
  gboolean ok = TRUE;
  if (stratify) {
    gint32 *item_class;
    if (grouped) {
      item_class = g_new(gint32, n_items + 1);
      group_majority(ds, compact, item_class);
    } else {
      item_class = ds->labels;
    }
    ok = stratified_sides(n_items, item_class, ds->n_classes, n_train, n_test, unit, ds,
                          rng, is_test, error);
    if (grouped)
      g_free(item_class);
  } else {
    guint32 *perm = g_new(guint32, n_items + 1);
    for (guint i = 0; i < n_items; i++)
      perm[i] = i;
    lathe_rng_shuffle(rng, perm, n_items);
    for (guint j = 0; j < n_test; j++)
      is_test[perm[j]] = TRUE;
    g_free(perm);
  }
  if (!ok) {
    g_free(is_test);
    g_free(compact);
    return NULL;
  }

  LatheSplitPlan *plan = g_new0(LatheSplitPlan, 1);
  plan->train = g_new(guint32, ds->n_rows + 1);
  plan->test = g_new(guint32, ds->n_rows + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    guint item = grouped ? (guint)compact[ds->groups[r]] : r;
    if (is_test[item])
      plan->test[plan->n_test++] = r;
    else
      plan->train[plan->n_train++] = r;
  }
  g_free(is_test);
  g_free(compact);
  return plan;
}
