/* transform/split: one dataset in, a train and a test dataset out.
 *
 * The component only wires the context to lathe_split_plan_compute(); the
 * allocation rules live in split-plan.c. */
#include "split-plan.h"

static const LatheParamSpec split_params[] = {
    LATHE_PARAM_FLOAT_("test_fraction", "0.2", 0.0, 1.0, 0,
                       "share of rows (of groups when grouped) put in test; both sides "
                       "must end up non-empty"),
    LATHE_PARAM_BOOL_("stratify", "true",
                      "keep each class's proportion on both sides (StratifiedShuffleSplit "
                      "rounding); needs labels"),
    LATHE_PARAM_BOOL_("grouped", "false",
                      "never put one group on both sides; with stratify, groups are "
                      "stratified by their majority label"),
    LATHE_PARAM_INT_("seed", "-1", -1, 9007199254740991.0,
                     "-1: this node's own seed; otherwise a fixed seed, so split nodes over "
                     "differently featurised data with the same group names and labels "
                     "pick the same groups"),
    LATHE_PARAM_INT_("folds", "0", 0, 1000,
                     "0: one shuffle split by test_fraction; k >= 2: k-fold, this node's "
                     "test side is fold `fold` (grouped, stratified: docs/cv.md); needs a "
                     "fixed seed, the same on every fold node"),
    LATHE_PARAM_INT_("fold", "1", 1, 1000, "with folds: which fold is the test side, 1 to folds"),
    LATHE_PARAM_STRING_("group_key", "\"\"", 0,
                        "with grouped: a regex; groups whose names share its first match "
                        "are one item, kept on one side (\"^[^/]+/[0-9]+-[0-9]+/\": an IDEKO "
                        "inter-k folder); \"\" = each group is its own item"),
    LATHE_PARAM_BOOL_("stratify_key", "false",
                      "with folds, stratify and group_key: within each class, deal the items "
                      "that match group_key (inter-k folders) apart from the others, so every "
                      "fold holds its share of both"),
    LATHE_PARAM_END,
};

static const LathePortSpec split_inputs[] = {
    {.name = "data", .type = LATHE_TYPE_DATASET, .doc = "the rows to split"},
    {.name = NULL},
};

static const LathePortSpec split_outputs[] = {
    {.name = "train", .type = LATHE_TYPE_DATASET, .doc = "training rows, in input order"},
    {.name = "test", .type = LATHE_TYPE_DATASET, .doc = "held-out rows, in input order"},
    {.name = NULL},
};

static gboolean split_run(LatheContext *ctx, GError **error) {
  const LatheDataset *ds = lathe_context_get_input_dataset(ctx, "data", error);
  if (!ds)
    return FALSE;
  double fraction = lathe_context_param_float(ctx, "test_fraction");
  gboolean stratify = lathe_context_param_bool(ctx, "stratify");
  gboolean grouped = lathe_context_param_bool(ctx, "grouped");

  /* A fixed seed bypasses the node's stream, which is derived from the node id
   * and would differ between two split nodes. */
  gint64 seed = lathe_context_param_int(ctx, "seed");
  LatheRng fixed;
  LatheRng *rng = lathe_context_rng(ctx);
  if (seed >= 0) {
    lathe_rng_init(&fixed, (guint64)seed);
    rng = &fixed;
  }
  gint64 folds = lathe_context_param_int(ctx, "folds");
  gint64 fold = lathe_context_param_int(ctx, "fold");
  const char *key = lathe_context_param_string(ctx, "group_key");
  gboolean stratify_key = lathe_context_param_bool(ctx, "stratify_key");
  if (folds == 1 || (folds > 0 && fold > folds)) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "transform/split",
                            "folds=%" G_GINT64_FORMAT " fold=%" G_GINT64_FORMAT
                            " is not a fold; folds is 0 (off) or at least 2, fold from 1 "
                            "to folds",
                            folds, fold);
    return FALSE;
  }
  if (folds > 0 && seed < 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "transform/split",
                            "folds needs a fixed seed (seed >= 0), the same on every fold "
                            "node, or the folds would not partition the data");
    return FALSE;
  }
  g_autoptr(GRegex) re = NULL;
  if (key && *key) {
    g_autoptr(GError) rerr = NULL;
    re = g_regex_new(key, 0, 0, &rerr);
    if (!re) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "transform/split",
                              "group_key is not a regex (%s); fix it or set \"\"",
                              rerr->message);
      return FALSE;
    }
  }
  g_autoptr(LatheSplitPlan) plan =
      folds > 0 ? lathe_split_plan_kfold(ds, (guint)folds, (guint)fold - 1, stratify, grouped,
                                         re, stratify_key, rng, error)
                : lathe_split_plan_compute_keyed(ds, fraction, stratify, grouped, re, rng,
                                                 error);
  if (!plan)
    return FALSE;

  lathe_context_set_output_dataset(ctx, "train",
                                   lathe_dataset_take_rows(ds, plan->train, plan->n_train));
  lathe_context_set_output_dataset(ctx, "test",
                                   lathe_dataset_take_rows(ds, plan->test, plan->n_test));
  lathe_context_set_metric(ctx, "n_train", plan->n_train);
  lathe_context_set_metric(ctx, "n_test", plan->n_test);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO, "split %u rows into %u train and %u test%s%s",
                    ds->n_rows, plan->n_train, plan->n_test,
                    stratify ? ", stratified" : "", grouped ? ", by group" : "");
  return TRUE;
}

static const LatheTransformClass split_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "split",
                         "shuffle rows into train and test, optionally stratified and "
                         "grouped",
                         split_params, split_inputs, split_outputs),
    .run = split_run,
};

LATHE_PLUGIN_DEFINE("transform-split", "0.2.0", "MIT",
                    "train/test split, stratified and group-aware",
                    LATHE_COMPONENT(split_class))
