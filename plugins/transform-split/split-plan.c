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
  gint32 g;
  char *name;
} NamedGroup;

static int cmp_named(const void *a, const void *b) {
  const NamedGroup *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->g > y->g) - (x->g < y->g);
}

/* The item a group belongs to: its name, or the first match of @key in it
 * (an inter-k recording's folder), so near relatives move together. */
static char *group_key(const char *name, GRegex *key) {
  if (key) {
    g_autoptr(GMatchInfo) mi = NULL;
    if (g_regex_match(key, name, 0, &mi))
      return g_match_info_fetch(mi, 0);
  }
  return g_strdup(name);
}

/* Numbers the groups that occur (compact[g] = item, -1 when absent) in byte
 * order of their keys; groups with one key share an item. Returns how many
 * items. */
static guint number_groups(const LatheDataset *ds, GRegex *key, gint32 *compact) {
  for (guint g = 0; g < ds->n_groups; g++)
    compact[g] = -1;
  for (guint r = 0; r < ds->n_rows; r++)
    compact[ds->groups[r]] = 0;
  NamedGroup *present = g_new(NamedGroup, ds->n_groups + 1);
  guint n = 0;
  for (guint g = 0; g < ds->n_groups; g++)
    if (compact[g] == 0)
      present[n++] =
          (NamedGroup){(gint32)g, group_key(ds->group_names[g] ? ds->group_names[g] : "", key)};
  qsort(present, n, sizeof *present, cmp_named);
  gint32 item = -1;
  for (guint i = 0; i < n; i++) {
    if (i == 0 || strcmp(present[i].name, present[i - 1].name) != 0)
      item++;
    compact[present[i].g] = item;
  }
  for (guint i = 0; i < n; i++)
    g_free(present[i].name);
  g_free(present);
  return (guint)(item + 1);
}

typedef struct {
  const gint32 *items;
  const gint32 *labels;
} RowKeys;

static int cmp_item_label(const void *a, const void *b, void *data) {
  const RowKeys *k = data;
  guint32 ra = *(const guint32 *)a, rb = *(const guint32 *)b;
  if (k->items[ra] != k->items[rb])
    return k->items[ra] < k->items[rb] ? -1 : 1;
  if (k->labels[ra] != k->labels[rb])
    return k->labels[ra] < k->labels[rb] ? -1 : 1;
  return ra < rb ? -1 : (ra > rb);
}

/* Majority label of each item's rows; ties go to the lowest class index so
 * the outcome never depends on row order. */
static void group_majority(const LatheDataset *ds, const gint32 *compact, gint32 *out) {
  guint32 *order = g_new(guint32, ds->n_rows + 1);
  gint32 *items = g_new(gint32, ds->n_rows + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    order[r] = r;
    items[r] = compact[ds->groups[r]];
  }
  RowKeys keys = {items, ds->labels};
  qsort_r(order, ds->n_rows, sizeof *order, cmp_item_label, &keys);
  guint i = 0;
  while (i < ds->n_rows) {
    gint32 it = items[order[i]];
    guint best = 0;
    gint32 best_label = -1;
    while (i < ds->n_rows && items[order[i]] == it) {
      gint32 label = ds->labels[order[i]];
      guint run = 0;
      while (i < ds->n_rows && items[order[i]] == it && ds->labels[order[i]] == label) {
        run++;
        i++;
      }
      if (run > best) {
        best = run;
        best_label = label;
      }
    }
    out[it] = best_label;
  }
  g_free(items);
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

/* Checks shared by both plans' labels and groups. */
static gboolean check_inputs(const LatheDataset *ds, gboolean stratify, gboolean grouped,
                             GError **error) {
  if (stratify && !ds->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: stratify=true needs a labelled dataset; set "
                "stratify=false or give the source a label column");
    return FALSE;
  }
  if (grouped && !ds->groups) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: grouped=true needs a dataset with groups; set "
                "grouped=false or give the source a group column");
    return FALSE;
  }
  if (stratify && !check_indices(ds->labels, ds->n_rows, ds->n_classes, "label",
                                 "stratify", error))
    return FALSE;
  return !grouped ||
         check_indices(ds->groups, ds->n_rows, ds->n_groups, "group", "grouped", error);
}

LatheSplitPlan *lathe_split_plan_compute(const LatheDataset *ds, double test_fraction,
                                         gboolean stratify, gboolean grouped,
                                         LatheRng *rng, GError **error) {
  return lathe_split_plan_compute_keyed(ds, test_fraction, stratify, grouped, NULL, rng, error);
}

LatheSplitPlan *lathe_split_plan_compute_keyed(const LatheDataset *ds, double test_fraction,
                                               gboolean stratify, gboolean grouped,
                                               GRegex *group_key, LatheRng *rng,
                                               GError **error) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: test_fraction=%g leaves one side empty; use a value "
                "strictly between 0 and 1",
                test_fraction);
    return NULL;
  }
  if (!check_inputs(ds, stratify, grouped, error))
    return NULL;

  /* Items: rows, or the groups that occur, numbered in name order. */
  guint n_items = ds->n_rows;
  gint32 *compact = NULL;
  if (grouped) {
    compact = g_new(gint32, ds->n_groups + 1);
    n_items = number_groups(ds, group_key, compact);
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

/* Stratified (group) k-fold: each class's items, shuffled, are dealt to the
 * folds in turn by one counter that runs on from class to class, so every
 * fold holds floor or ceil of n_c / k items of class c and the folds' sizes
 * differ by at most one. Every fold node runs this whole dealing with the
 * same stream and keeps its own fold, so the folds partition the items. */
LatheSplitPlan *lathe_split_plan_kfold(const LatheDataset *ds, guint folds, guint fold,
                                       gboolean stratify, gboolean grouped, GRegex *group_key,
                                       gboolean stratify_key, LatheRng *rng, GError **error) {
  if (folds < 2 || fold >= folds) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: fold %u of %u folds does not exist; folds needs at least "
                "2 and fold runs from 1 to folds",
                fold + 1, folds);
    return NULL;
  }
  if (!check_inputs(ds, stratify, grouped, error))
    return NULL;
  guint n_items = ds->n_rows;
  gint32 *compact = NULL;
  if (grouped) {
    compact = g_new(gint32, ds->n_groups + 1);
    n_items = number_groups(ds, group_key, compact);
  }
  if (n_items < folds) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "transform/split: %u %ss cannot fill %u folds; lower folds", n_items,
                grouped ? "group" : "row", folds);
    g_free(compact);
    return NULL;
  }
  gint32 *item_class = NULL;
  if (stratify) {
    item_class = g_new(gint32, n_items + 1);
    if (grouped)
      group_majority(ds, compact, item_class);
    else
      memcpy(item_class, ds->labels, n_items * sizeof *item_class);
  }
  /* keyed[i]: item i's groups match group_key. Dealing a class's keyed items
   * and then its others with the same running counter keeps the class's
   * balance and adds the keyed set's. */
  gboolean *keyed = g_new0(gboolean, n_items + 1);
  gboolean split_keyed = stratify && grouped && group_key && stratify_key;
  for (guint g = 0; split_keyed && g < ds->n_groups; g++)
    if (compact[g] >= 0 && ds->group_names[g] &&
        g_regex_match(group_key, ds->group_names[g], 0, NULL))
      keyed[compact[g]] = TRUE;
  guint n_classes = stratify ? ds->n_classes : 1;
  guint *item_fold = g_new(guint, n_items + 1);
  guint32 *members = g_new(guint32, n_items + 1);
  guint counter = 0;
  for (guint c = 0; c < n_classes; c++) {
    for (guint pass = 0; pass < (split_keyed ? 2u : 1u); pass++) {
      guint m = 0;
      for (guint i = 0; i < n_items; i++)
        if ((!stratify || (guint)item_class[i] == c) && (!split_keyed || keyed[i] == (pass == 0)))
          members[m++] = i;
      lathe_rng_shuffle(rng, members, m);
      for (guint j = 0; j < m; j++)
        item_fold[members[j]] = counter++ % folds;
    }
  }
  g_free(keyed);
  LatheSplitPlan *plan = g_new0(LatheSplitPlan, 1);
  plan->train = g_new(guint32, ds->n_rows + 1);
  plan->test = g_new(guint32, ds->n_rows + 1);
  for (guint r = 0; r < ds->n_rows; r++) {
    guint item = grouped ? (guint)compact[ds->groups[r]] : r;
    if (item_fold[item] == fold)
      plan->test[plan->n_test++] = r;
    else
      plan->train[plan->n_train++] = r;
  }
  g_free(members);
  g_free(item_fold);
  g_free(item_class);
  g_free(compact);
  return plan;
}
