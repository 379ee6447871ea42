/* tuner-study.c: what a tuner node keeps across runs: the study key, trial
 * outcomes (objective, extra metrics, constraints), and their record in the
 * run store. */
#include <math.h>
#include <string.h>

#include "store/store.h"
#include "tune-pareto.h"
#include "tuning/tuning-private.h"

static gint cmp_uint(const guint *a, const guint *b) { return (*a > *b) - (*a < *b); }

void lathe_trial_free(LatheTrial *tr) {
  g_clear_pointer(&tr->point, json_object_unref);
  g_clear_pointer(&tr->metrics, json_object_unref);
  g_clear_pointer(&tr->values, json_object_unref);
  g_free(tr->objectives);
  g_free(tr->model);
  g_free(tr->error);
  g_free(tr->run_id);
  if (tr->batch)
    lathe_batch_free(tr->batch);
  g_free(tr);
}

void lathe_study_config_init(LatheStudyConfig *cfg, LatheContext *ctx, guint jobs) {
  memset(cfg, 0, sizeof *cfg);
  JsonObject *params = lathe_context_get_params(ctx);
  g_autoptr(GPtrArray) refs = g_ptr_array_new();
  g_autoptr(GArray) max = g_array_new(FALSE, FALSE, sizeof(gboolean));
  if (json_object_has_member(params, "objectives")) {
    JsonObject *o = json_object_get_object_member(params, "objectives");
    g_autoptr(GList) names = json_object_get_members(o);
    for (GList *l = names; l; l = l->next) {
      gboolean m = g_str_equal(json_object_get_string_member(o, l->data), "maximize");
      g_ptr_array_add(refs, l->data);
      g_array_append_val(max, m);
    }
  } else {
    gboolean m = g_str_equal(lathe_context_param_string(ctx, "direction"), "maximize");
    g_ptr_array_add(refs, (gpointer)lathe_context_param_string(ctx, "objective"));
    g_array_append_val(max, m);
  }
  cfg->n_obj = refs->len;
  cfg->obj_nodes = g_new0(char *, cfg->n_obj + 1);
  cfg->obj_metrics = g_new0(char *, cfg->n_obj + 1);
  cfg->obj_max = g_new0(gboolean, cfg->n_obj);
  for (guint i = 0; i < cfg->n_obj; i++) {
    const char *ref = refs->pdata[i], *dot = strchr(ref, '.');
    cfg->obj_nodes[i] = g_strndup(ref, dot - ref);
    cfg->obj_metrics[i] = g_strdup(dot + 1);
    cfg->obj_max[i] = g_array_index(max, gboolean, i);
  }
  g_ptr_array_add(refs, NULL);
  cfg->objective = g_strjoinv(", ", (char **)refs->pdata);
  cfg->maximize = cfg->obj_max[0];
  cfg->max_trials = (guint)lathe_context_param_int(ctx, "max_trials");
  cfg->max_failed = (guint)lathe_context_param_int(ctx, "max_failed_trials");
  cfg->parallel = (guint)lathe_context_param_int(ctx, "parallel_trials");
  if (!cfg->parallel)
    cfg->parallel = MAX(jobs, 1);
  cfg->timeout = lathe_context_param_float(ctx, "timeout");
  cfg->has_goal = lathe_context_param_is_set(ctx, "goal");
  cfg->goal = cfg->has_goal ? lathe_context_param_float(ctx, "goal") : NAN;
  cfg->extra = g_ptr_array_new_with_free_func(g_free);
  JsonArray *extra = lathe_context_param_list(ctx, "metrics");
  for (guint i = 0; extra && i < json_array_get_length(extra); i++)
    g_ptr_array_add(cfg->extra, g_strdup(json_array_get_string_element(extra, i)));
  cfg->constraints = g_array_new(FALSE, TRUE, sizeof(LatheTunerConstraint));
  g_array_set_clear_func(cfg->constraints, (GDestroyNotify)lathe_tuner_constraint_clear);
  JsonArray *cons = lathe_context_param_list(ctx, "constraints");
  for (guint i = 0; cons && i < json_array_get_length(cons); i++) {
    LatheTunerConstraint c;
    g_autofree char *why = NULL;
    if (lathe_tuner_constraint_parse(json_array_get_string_element(cons, i), &c, &why))
      g_array_append_val(cfg->constraints, c); /* validated with the pipeline */
  }
  JsonNode *pruner = json_object_get_member(lathe_context_get_params(ctx), "pruner");
  if (pruner && JSON_NODE_HOLDS_OBJECT(pruner))
    cfg->pruner = lathe_study_pruner_new(json_node_get_object(pruner));
}

void lathe_study_config_clear(LatheStudyConfig *cfg) {
  g_free(cfg->objective);
  g_strfreev(cfg->obj_nodes);
  g_strfreev(cfg->obj_metrics);
  g_free(cfg->obj_max);
  g_ptr_array_unref(cfg->extra);
  g_array_unref(cfg->constraints);
  g_clear_pointer(&cfg->pruner, lathe_study_pruner_free);
}

char *lathe_study_key(LatheNodeRun *task, JsonObject *params) {
  static const char *const budgets[] = {"max_trials", "max_failed_trials", "timeout", "goal",
                                        "parallel_trials", NULL};
  g_autoptr(JsonObject) p = json_object_new();
  g_autoptr(GList) names = json_object_get_members(params);
  for (GList *l = names; l; l = l->next)
    if (!g_strv_contains(budgets, l->data))
      json_object_set_member(p, l->data, json_node_copy(json_object_get_member(params, l->data)));
  g_autoptr(JsonObject) k = json_object_new();
  LatheRun *run = task->batch->run;
  json_object_set_string_member(k, "pipeline", run->graph->name);
  json_object_set_string_member(k, "node", task->exec_id);
  json_object_set_string_member(k, "component", task->node->comp->id);
  json_object_set_object_member(k, "params", json_object_ref(p));
  json_object_set_string_member(k, "trial", task->node->trial_text);
  json_object_set_int_member(k, "seed", (gint64)run->graph->seed);
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), k);
  g_autofree char *text = lathe_json_canonical(n);
  return lathe_sha256_hex(text, strlen(text));
}

/* The finished task of trial node @id, or NULL. */
static LatheNodeRun *done_task(LatheNodeRun *tuner, LatheTrial *tr, const char *id) {
  LatheNode *n = g_hash_table_lookup(tuner->node->trial->by_id, id);
  LatheNodeRun *t = n && tr->batch ? g_hash_table_lookup(tr->batch->task_of, n) : NULL;
  return t && (t->status == TASK_SUCCEEDED || t->status == TASK_CACHED) ? t : NULL;
}

static gboolean metric_of(LatheNodeRun *tuner, LatheTrial *tr, const char *node, const char *metric,
                          double *out) {
  LatheNodeRun *t = done_task(tuner, tr, node);
  JsonNode *v = t && t->metrics ? json_object_get_member(t->metrics, metric) : NULL;
  if (!v || !JSON_NODE_HOLDS_VALUE(v))
    return FALSE;
  *out = json_node_get_double(v);
  return TRUE;
}

/* The first failed task's error: why the trial failed. */
static char *first_error(LatheTrial *tr) {
  for (guint i = 0; tr->batch && i < tr->batch->tasks->len; i++) {
    LatheNodeRun *t = tr->batch->tasks->pdata[i];
    if (t->status == TASK_FAILED)
      return g_strdup_printf("%s: %s", t->exec_id, t->error ? t->error : "failed");
  }
  return NULL;
}

/* Why the trial was interrupted (a task stopped by a signal or short of a
 * resource, or skipped because the run was interrupted), or NULL when it
 * ran to its own end. */
static char *interruption(LatheTrial *tr) {
  for (guint i = 0; tr->batch && i < tr->batch->tasks->len; i++) {
    LatheNodeRun *t = tr->batch->tasks->pdata[i];
    if (t->interrupted)
      return g_strdup_printf("interrupted: %s: %s", t->exec_id, t->error ? t->error : "stopped");
  }
  return NULL;
}

gboolean lathe_study_finish_trial(LatheNodeRun *tuner, const LatheStudyConfig *cfg, LatheTrial *tr,
                                  GError **error) {
  tr->state = LATHE_TRIAL_FAILED;
  tr->value = NAN;
  tr->values = json_object_new();
  char *why = NULL;
  if (cfg->pruner && lathe_study_pruner_pruned(cfg->pruner, tr->number, &why)) {
    tr->state = LATHE_TRIAL_PRUNED;
    tr->error = why;
    lathe_study_pruner_finish(cfg->pruner, tr->number, FALSE);
    return TRUE;
  }
  /* Before any value is read: an interrupted trial's values may be partial. */
  if ((tr->error = interruption(tr))) {
    tr->state = LATHE_TRIAL_INTERRUPTED;
    return TRUE;
  }
  tr->objectives = g_new0(double, cfg->n_obj);
  JsonArray *all = json_array_new();
  json_object_set_array_member(tr->values, "objectives", all);
  for (guint k = 0; k < cfg->n_obj; k++) {
    LatheNodeRun *obj = done_task(tuner, tr, cfg->obj_nodes[k]);
    if (!obj) {
      tr->error = first_error(tr);
      if (!tr->error)
        tr->error = g_strdup_printf("the objective node '%s' did not run", cfg->obj_nodes[k]);
      return TRUE;
    }
    if (k == 0)
      tr->metrics = json_object_ref(obj->metrics);
    JsonNode *v = json_object_get_member(obj->metrics, cfg->obj_metrics[k]);
    if (!v) {
      g_autoptr(GList) have = json_object_get_members(obj->metrics);
      GString *list = g_string_new(NULL);
      for (GList *l = have; l; l = l->next)
        g_string_append_printf(list, "%s%s", list->len ? ", " : "", (char *)l->data);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "param '%s': trial node '%s' produces no metric '%s' (it produces: %s); "
                  "fix the objective",
                  cfg->n_obj > 1 ? "objectives" : "objective", cfg->obj_nodes[k], cfg->obj_metrics[k],
                  list->len ? list->str : "none");
      g_string_free(list, TRUE);
      return FALSE;
    }
    tr->objectives[k] = json_node_get_double(v);
    json_array_add_double_element(all, tr->objectives[k]);
  }
  tr->value = tr->objectives[0];
  json_object_set_double_member(tr->values, "objective", tr->value);
  for (guint i = 0; i < cfg->extra->len; i++) {
    const char *ref = cfg->extra->pdata[i];
    const char *dot = strchr(ref, '.');
    g_autofree char *node = g_strndup(ref, dot - ref);
    double x;
    if (metric_of(tuner, tr, node, dot + 1, &x))
      json_object_set_double_member(tr->values, ref, x);
  }
  for (guint k = 0; k < cfg->n_obj; k++)
    if (!isfinite(tr->objectives[k])) {
      tr->error = g_strdup_printf("the objective %s.%s is %g; a trial needs a finite value",
                                  cfg->obj_nodes[k], cfg->obj_metrics[k], tr->objectives[k]);
      return TRUE;
    }
  tr->state = LATHE_TRIAL_COMPLETE;
  tr->feasible = TRUE;
  if (cfg->pruner)
    lathe_study_pruner_finish(cfg->pruner, tr->number, TRUE);
  for (guint i = 0; i < cfg->constraints->len; i++) {
    const LatheTunerConstraint *c = &g_array_index(cfg->constraints, LatheTunerConstraint, i);
    double x = NAN;
    gboolean ok = metric_of(tuner, tr, c->node, c->metric, &x) && lathe_tuner_constraint_holds(c, x);
    g_autofree char *key = g_strdup_printf("%s.%s", c->node, c->metric);
    if (!isnan(x))
      json_object_set_double_member(tr->values, key, x);
    tr->feasible &= ok;
  }
  json_object_set_boolean_member(tr->values, "feasible", tr->feasible);
  return TRUE;
}

gboolean lathe_study_better(const LatheStudyConfig *cfg, const LatheTrial *a, const LatheTrial *b) {
  if (!a || a->state != LATHE_TRIAL_COMPLETE || !a->feasible)
    return FALSE;
  if (!b)
    return TRUE;
  if (a->value == b->value)
    return a->number < b->number;
  return cfg->maximize ? a->value > b->value : a->value < b->value;
}

/* Numbers compare by value, whether stored as integers or not: a point read
 * back from the store may hold 0 where the tuner proposed 0.0. */
static gboolean same_value(JsonNode *a, JsonNode *b) {
  if (!JSON_NODE_HOLDS_VALUE(a) || !JSON_NODE_HOLDS_VALUE(b))
    return json_node_equal(a, b);
  GType ta = json_node_get_value_type(a), tb = json_node_get_value_type(b);
  gboolean na = ta == G_TYPE_INT64 || ta == G_TYPE_DOUBLE, nb = tb == G_TYPE_INT64 || tb == G_TYPE_DOUBLE;
  if (na && nb)
    return json_node_get_double(a) == json_node_get_double(b);
  return ta == tb && json_node_equal(a, b);
}

gboolean lathe_study_same_point(JsonObject *a, JsonObject *b) {
  if (!a || !b || json_object_get_size(a) != json_object_get_size(b))
    return FALSE;
  g_autoptr(GList) names = json_object_get_members(a);
  for (GList *l = names; l; l = l->next) {
    JsonNode *y = json_object_get_member(b, l->data);
    if (!y || !same_value(json_object_get_member(a, l->data), y))
      return FALSE;
  }
  return TRUE;
}

/* "running" is read as interrupted: lathe_store_study_open() already closed
 * the trials of dead runs, so only a foreign live run's trial is left, and
 * this run must not take its result for a failure. */
static LatheTrialState state_of(const char *s) {
  return g_str_equal(s, "complete")   ? LATHE_TRIAL_COMPLETE
         : g_str_equal(s, "pruned")   ? LATHE_TRIAL_PRUNED
         : g_str_equal(s, "failed")   ? LATHE_TRIAL_FAILED
                                      : LATHE_TRIAL_INTERRUPTED;
}

const char *lathe_trial_state_name(LatheTrialState s) {
  return s == LATHE_TRIAL_COMPLETE      ? "complete"
         : s == LATHE_TRIAL_PRUNED      ? "pruned"
         : s == LATHE_TRIAL_INTERRUPTED ? "interrupted"
                                        : "failed";
}

GPtrArray *lathe_study_load(LatheStore *store, const char *study_id, guint n_obj, GError **error) {
  g_autoptr(JsonArray) rows = lathe_store_study_trials(store, study_id, error);
  if (!rows)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)lathe_trial_free);
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *r = json_array_get_object_element(rows, i);
    LatheTrial *tr = g_new0(LatheTrial, 1);
    tr->resumed = TRUE;
    tr->number = (guint)json_object_get_int_member(r, "number");
    JsonNode *p = json_object_get_member(r, "params");
    tr->point = p && JSON_NODE_HOLDS_OBJECT(p) ? json_object_ref(json_node_get_object(p)) : json_object_new();
    tr->state = state_of(json_object_get_string_member(r, "state"));
    JsonNode *v = json_object_get_member(r, "values");
    tr->values = v && JSON_NODE_HOLDS_OBJECT(v) ? json_object_ref(json_node_get_object(v)) : json_object_new();
    tr->value = json_object_get_double_member_with_default(tr->values, "objective", NAN);
    JsonArray *objs = json_object_has_member(tr->values, "objectives")
                          ? json_object_get_array_member(tr->values, "objectives") : NULL;
    tr->objectives = g_new(double, n_obj);
    for (guint k = 0; k < n_obj; k++)
      tr->objectives[k] = objs && k < json_array_get_length(objs)
                              ? json_array_get_double_element(objs, k) : NAN;
    for (guint k = 0; k < n_obj; k++)
      if (!isfinite(tr->objectives[k]))
        tr->value = NAN; /* an incomplete record counts as failed below */
    tr->feasible = json_object_get_boolean_member_with_default(tr->values, "feasible", TRUE);
    tr->model = g_strdup(json_object_get_string_member_with_default(r, "model", NULL));
    tr->run_id = g_strdup(json_object_get_string_member_with_default(r, "run_id", NULL));
    tr->error = g_strdup(json_object_get_string_member_with_default(r, "error", NULL));
    if (tr->state == LATHE_TRIAL_COMPLETE && !isfinite(tr->value))
      tr->state = LATHE_TRIAL_FAILED; /* never trust a record over the rule */
    g_ptr_array_add(out, tr);
  }
  return out;
}

gboolean lathe_study_record(LatheRun *run, const char *study_id, LatheTrial *tr, GError **error) {
  const char *state = tr->batch && !tr->values && tr->state != LATHE_TRIAL_INTERRUPTED
                          ? "running"
                          : lathe_trial_state_name(tr->state);
  return lathe_store_trial_event(run->store, study_id, tr->number, run->run_id, state, tr->point,
                                 tr->values, tr->model, tr->error, error);
}

GArray *lathe_study_front(const LatheStudyConfig *cfg, GPtrArray *trials) {
  g_autoptr(GArray) y = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) who = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < trials->len; i++) {
    LatheTrial *tr = trials->pdata[i];
    if (tr->state != LATHE_TRIAL_COMPLETE || !tr->feasible || !tr->objectives)
      continue;
    for (guint k = 0; k < cfg->n_obj; k++) {
      double v = cfg->obj_max[k] ? -tr->objectives[k] : tr->objectives[k];
      g_array_append_val(y, v);
    }
    g_array_append_val(who, tr->number);
  }
  g_autofree guint *idx = g_new0(guint, MAX(who->len, 1));
  guint m = who->len ? lathe_tune_pareto_front((const double *)y->data, who->len, cfg->n_obj, idx) : 0;
  GArray *front = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < m; i++)
    g_array_append_val(front, g_array_index(who, guint, idx[i]));
  g_array_sort(front, (GCompareFunc)cmp_uint);
  return front;
}
