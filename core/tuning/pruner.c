/* tuner-prune.c: a study's early stopping. Each trial's intermediate values
 * of one metric form a curve; at each report the rule compares the curve with
 * the completed trials' curves and may stop the trial between epochs. */
#include <math.h>
#include <string.h>

#include "tune-prune.h"
#include "tuning/tuning.h"

typedef struct {
  GArray *steps;  /* guint */
  GArray *values; /* double, minimised */
  LatheTuneState state;
  gboolean pruned;
  guint pruned_step;
} Curve;

struct _LatheStudyPruner {
  char *node;
  char *metric;
  gboolean maximize;
  gboolean halving;
  LatheTuneMedianOptions median;
  LatheTuneHalvingOptions halve;
  GMutex lock;
  GPtrArray *curves; /* Curve*, index = trial number (NULL until it reports) */
};

static const char *const rule_keys[] = {"rule", "metric", "direction", "n_startup_trials",
                                        "n_warmup_steps", "interval_steps", "min_resource",
                                        "reduction_factor", "min_early_stopping_rate", NULL};

static gboolean get_uint(JsonObject *spec, const char *key, guint lo, guint *out) {
  JsonNode *n = json_object_get_member(spec, key);
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
      json_node_get_int(n) < lo || json_node_get_int(n) > 1000000)
    return FALSE;
  *out = (guint)json_node_get_int(n);
  return TRUE;
}

/* Reads @spec into @p (which may be a scratch copy); adds problems. */
static gboolean read_spec(JsonObject *spec, LatheStudyPruner *p, const char *ptr, GPtrArray *problems) {
  gboolean ok = TRUE;
  g_autoptr(GList) keys = json_object_get_members(spec);
  for (GList *l = keys; l; l = l->next)
    if (!g_strv_contains(rule_keys, l->data)) {
      lathe_problems_add(problems, ptr, "pruner: unknown key '%s'", (char *)l->data);
      ok = FALSE;
    }
  const char *rule = json_object_get_string_member_with_default(spec, "rule", "median");
  if (!g_str_equal(rule, "median") && !g_str_equal(rule, "halving")) {
    lathe_problems_add(problems, ptr, "pruner: \"rule\" is median or halving, not '%s'", rule);
    ok = FALSE;
  }
  p->halving = g_str_equal(rule, "halving");
  const char *dir = json_object_get_string_member_with_default(spec, "direction", "minimize");
  if (!g_str_equal(dir, "minimize") && !g_str_equal(dir, "maximize")) {
    lathe_problems_add(problems, ptr, "pruner: \"direction\" is minimize or maximize");
    ok = FALSE;
  }
  p->maximize = g_str_equal(dir, "maximize");
  const char *metric = json_object_get_string_member_with_default(spec, "metric", NULL);
  const char *dot = metric ? strchr(metric, '.') : NULL;
  if (!dot || dot == metric || !dot[1]) {
    lathe_problems_add(problems, ptr, "pruner: \"metric\" is the TRIAL_NODE.METRIC reported per step, "
                       "e.g. \"model.val_loss\"");
    ok = FALSE;
  } else {
    p->node = g_strndup(metric, dot - metric);
    p->metric = g_strdup(dot + 1);
  }
  lathe_tune_median_options_init(&p->median);
  lathe_tune_halving_options_init(&p->halve);
  static const char *const uints[] = {"n_startup_trials", "n_warmup_steps", "interval_steps",
                                      "min_resource", "reduction_factor", "min_early_stopping_rate"};
  guint *dest[] = {&p->median.n_startup_trials, &p->median.n_warmup_steps, &p->median.interval_steps,
                   &p->halve.min_resource, &p->halve.reduction_factor,
                   &p->halve.min_early_stopping_rate};
  guint mins[] = {0, 0, 1, 1, 2, 0};
  for (guint i = 0; i < G_N_ELEMENTS(uints); i++)
    if (!get_uint(spec, uints[i], mins[i], dest[i])) {
      lathe_problems_add(problems, ptr, "pruner: \"%s\" is an integer >= %u", uints[i], mins[i]);
      ok = FALSE;
    }
  return ok;
}

gboolean lathe_study_pruner_check(JsonObject *spec, GHashTable *trial_nodes, const char *pointer,
                                  GPtrArray *problems) {
  LatheStudyPruner scratch = {0};
  gboolean ok = read_spec(spec, &scratch, pointer, problems);
  if (ok && !g_hash_table_contains(trial_nodes, scratch.node)) {
    lathe_problems_add(problems, pointer, "pruner: \"metric\" names '%s', which is not a node of this trial",
                       scratch.node);
    ok = FALSE;
  }
  g_free(scratch.node);
  g_free(scratch.metric);
  return ok;
}

static void curve_free(Curve *c) {
  if (!c)
    return;
  g_array_unref(c->steps);
  g_array_unref(c->values);
  g_free(c);
}

LatheStudyPruner *lathe_study_pruner_new(JsonObject *spec) {
  LatheStudyPruner *p = g_new0(LatheStudyPruner, 1);
  g_autoptr(GPtrArray) ignored = lathe_problems_new();
  read_spec(spec, p, "", ignored);
  g_mutex_init(&p->lock);
  p->curves = g_ptr_array_new_with_free_func((GDestroyNotify)curve_free);
  return p;
}

void lathe_study_pruner_free(LatheStudyPruner *p) {
  if (!p)
    return;
  g_free(p->node);
  g_free(p->metric);
  g_ptr_array_unref(p->curves);
  g_mutex_clear(&p->lock);
  g_free(p);
}

static Curve *curve_at(LatheStudyPruner *p, guint trial) {
  if (trial >= p->curves->len)
    g_ptr_array_set_size(p->curves, trial + 1);
  Curve *c = p->curves->pdata[trial];
  if (!c) {
    c = g_new0(Curve, 1);
    c->steps = g_array_new(FALSE, FALSE, sizeof(guint));
    c->values = g_array_new(FALSE, FALSE, sizeof(double));
    c->state = LATHE_TUNE_PENDING;
    p->curves->pdata[trial] = c;
  }
  return c;
}

static LatheTuneCurve view(const Curve *c) {
  return (LatheTuneCurve){.steps = (const guint *)c->steps->data,
                          .values = (const double *)c->values->data,
                          .n = c->steps->len,
                          .state = c->state};
}

gboolean lathe_study_pruner_report(LatheStudyPruner *p, guint trial, const char *node,
                                   const char *name, double value, gint64 step) {
  if (!g_str_equal(node, p->node) || !g_str_equal(name, p->metric) || step < 0 || step > G_MAXUINT)
    return FALSE;
  g_mutex_lock(&p->lock);
  Curve *c = curve_at(p, trial);
  guint s = (guint)step;
  double v = p->maximize ? -value : value;
  g_array_append_val(c->steps, s);
  g_array_append_val(c->values, v);
  g_autoptr(GArray) others = g_array_new(FALSE, FALSE, sizeof(LatheTuneCurve));
  for (guint i = 0; i < p->curves->len; i++) {
    Curve *o = p->curves->pdata[i];
    if (o && i != trial) {
      LatheTuneCurve cv = view(o);
      g_array_append_val(others, cv);
    }
  }
  LatheTuneCurve mine = view(c);
  gboolean prune = FALSE;
  if (!c->pruned) {
    gboolean ok = p->halving ? lathe_tune_prune_halving(&mine, (const LatheTuneCurve *)others->data,
                                                        others->len, &p->halve, &prune, NULL)
                             : lathe_tune_prune_median(&mine, (const LatheTuneCurve *)others->data,
                                                       others->len, &p->median, &prune, NULL);
    prune = ok && prune;
    if (prune) {
      c->pruned = TRUE;
      c->pruned_step = s;
    }
  }
  g_mutex_unlock(&p->lock);
  return prune;
}

void lathe_study_pruner_add_curve(LatheStudyPruner *p, guint trial, const guint *steps,
                                  const double *values, guint n, gboolean complete) {
  g_mutex_lock(&p->lock);
  Curve *c = curve_at(p, trial);
  for (guint i = 0; i < n; i++) {
    double v = p->maximize ? -values[i] : values[i];
    g_array_append_val(c->steps, steps[i]);
    g_array_append_val(c->values, v);
  }
  c->state = complete ? LATHE_TUNE_COMPLETE : LATHE_TUNE_FAILED;
  g_mutex_unlock(&p->lock);
}

const char *lathe_study_pruner_node(LatheStudyPruner *p) { return p->node; }
const char *lathe_study_pruner_metric(LatheStudyPruner *p) { return p->metric; }

void lathe_study_pruner_finish(LatheStudyPruner *p, guint trial, gboolean complete) {
  g_mutex_lock(&p->lock);
  Curve *c = curve_at(p, trial);
  c->state = complete ? LATHE_TUNE_COMPLETE : c->pruned ? LATHE_TUNE_PRUNED : LATHE_TUNE_FAILED;
  g_mutex_unlock(&p->lock);
}

gboolean lathe_study_pruner_pruned(LatheStudyPruner *p, guint trial, char **why) {
  g_mutex_lock(&p->lock);
  Curve *c = trial < p->curves->len ? p->curves->pdata[trial] : NULL;
  gboolean pruned = c && c->pruned;
  if (pruned && why) {
    double last = g_array_index(c->values, double, c->values->len - 1);
    *why = g_strdup_printf("pruned at step %u by the %s rule (%s.%s = %g)", c->pruned_step,
                           p->halving ? "successive-halving" : "median", p->node, p->metric,
                           p->maximize ? -last : last);
  }
  g_mutex_unlock(&p->lock);
  return pruned;
}
