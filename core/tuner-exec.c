/* A tuner node: the host asks the tuner for points, runs the trial sub-graph
 * once per point as tasks of the same run (so trials are recorded, cached and
 * run in parallel like any node), and tells the tuner each result. */
#include <math.h>
#include <string.h>

#include "engine-private.h"

typedef struct {
  guint number;
  JsonObject *point;
  LatheBatch *batch;
  double value;
  LatheTrialState state;
  JsonObject *metrics; /* the objective node's metrics */
} Trial;

static void trial_free(Trial *tr) {
  json_object_unref(tr->point);
  g_clear_pointer(&tr->metrics, json_object_unref);
  if (tr->batch)
    lathe_batch_free(tr->batch);
  g_free(tr);
}

/* The trial's tasks: every node of the sub-graph, params overridden by the point. */
static LatheBatch *trial_batch(LatheNodeRun *tuner, Trial *tr) {
  LatheBatch *b = g_new0(LatheBatch, 1);
  b->run = tuner->batch->run;
  b->parent = tuner->batch;
  b->task_of = g_hash_table_new(NULL, NULL);
  b->tasks = g_ptr_array_new();
  LatheGraph *g = tuner->node->trial;
  for (guint i = 0; i < g->order->len; i++) {
    LatheNode *n = g->order->pdata[i];
    JsonObject *params = json_object_new();
    g_autoptr(GList) names = json_object_get_members(n->params);
    for (GList *l = names; l; l = l->next)
      json_object_set_member(params, l->data, json_node_copy(json_object_get_member(n->params, l->data)));
    g_autoptr(GList) dims = json_object_get_members(tr->point);
    for (GList *l = dims; l; l = l->next) {
      const char *dot = strchr(l->data, '.');
      if (dot && strncmp(l->data, n->id, dot - (char *)l->data) == 0 &&
          n->id[dot - (char *)l->data] == '\0')
        json_object_set_member(params, dot + 1, json_node_copy(json_object_get_member(tr->point, l->data)));
    }
    g_autofree char *id = g_strdup_printf("%s/%u/%s", tuner->exec_id, tr->number, n->id);
    lathe_node_run_new(b, n, id, params);
  }
  lathe_batch_link(b);
  return b;
}

static void finish_trial(LatheNodeRun *tuner, Trial *tr, const char *obj_node,
                         const char *obj_metric) {
  tr->state = LATHE_TRIAL_FAILED;
  tr->value = NAN;
  LatheNode *n = g_hash_table_lookup(tuner->node->trial->by_id, obj_node);
  LatheNodeRun *t = n ? g_hash_table_lookup(tr->batch->task_of, n) : NULL;
  if (!t || (t->status != TASK_SUCCEEDED && t->status != TASK_CACHED))
    return;
  tr->metrics = json_object_ref(t->metrics);
  JsonNode *v = json_object_get_member(t->metrics, obj_metric);
  if (!v)
    return;
  tr->value = json_node_get_double(v);
  if (isfinite(tr->value))
    tr->state = LATHE_TRIAL_COMPLETE;
}

static JsonObject *trial_json(Trial *tr) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "trial", tr->number);
  json_object_set_object_member(o, "params", json_object_ref(tr->point));
  json_object_set_string_member(o, "state", tr->state == LATHE_TRIAL_COMPLETE ? "complete" : "failed");
  if (tr->state == LATHE_TRIAL_COMPLETE)
    json_object_set_double_member(o, "value", tr->value);
  else
    json_object_set_null_member(o, "value");
  return o;
}

gboolean lathe_tuner_execute(LatheNodeRun *task, LatheContext *ctx, GError **error) {
  const LatheTunerClass *k = task->node->comp->klass;
  LatheRun *run = task->batch->run;
  const char *objective = lathe_context_param_string(ctx, "objective");
  gboolean maximize = g_str_equal(lathe_context_param_string(ctx, "direction"), "maximize");
  guint max_trials = (guint)lathe_context_param_int(ctx, "max_trials");
  guint parallel = (guint)lathe_context_param_int(ctx, "parallel_trials");
  if (!parallel)
    parallel = run->opts->jobs;
  const char *dot = strchr(objective, '.');
  g_autofree char *obj_node = g_strndup(objective, dot - objective);
  const char *obj_metric = dot + 1;

  g_autoptr(LatheSearchSpace) space = lathe_search_space_new();
  JsonObject *sp = json_node_get_object(json_object_get_member(lathe_context_get_params(ctx), "space"));
  g_autoptr(GList) dims = json_object_get_members(sp);
  for (GList *l = dims; l; l = l->next) {
    const char *d = strchr(l->data, '.');
    g_autofree char *nid = g_strndup(l->data, d - (char *)l->data);
    LatheNode *target = g_hash_table_lookup(task->node->trial->by_id, nid);
    lathe_search_space_add(space, l->data, json_object_get_member(sp, l->data),
                           lathe_component_param(target->comp, d + 1));
  }
  gpointer tuner = k->create(ctx, space, error);
  if (!tuner)
    return FALSE;

  g_autoptr(GPtrArray) trials = g_ptr_array_new_with_free_func((GDestroyNotify)trial_free);
  Trial *best = NULL;
  Trial *prev_best = NULL;
  gboolean exhausted = FALSE, ok = TRUE;
  guint next = 0, failed = 0;
  while (!exhausted && (!max_trials || next < max_trials) && !lathe_context_is_cancelled(ctx)) {
    /* One round: up to `parallel` points, run as one batch of tasks. */
    g_autoptr(GPtrArray) round = g_ptr_array_new();
    while (round->len < parallel && (!max_trials || next < max_trials)) {
      JsonObject *point = NULL;
      if (!k->ask(tuner, next, &point, error)) {
        if (error && *error)
          ok = FALSE;
        exhausted = TRUE;
        break;
      }
      Trial *tr = g_new0(Trial, 1);
      tr->number = next++;
      tr->point = point;
      g_ptr_array_add(trials, tr);
      g_ptr_array_add(round, tr);
    }
    if (!ok || !round->len)
      break;
    LatheBatch *merged = g_new0(LatheBatch, 1);
    merged->run = run;
    merged->parent = task->batch;
    merged->task_of = g_hash_table_new(NULL, NULL);
    merged->tasks = g_ptr_array_new();
    merged->jobs = parallel;
    for (guint i = 0; i < round->len; i++) {
      Trial *tr = round->pdata[i];
      tr->batch = trial_batch(task, tr);
      /* One pool for the whole round; each task keeps its trial's batch for
       * finding its inputs. */
      for (guint j = 0; j < tr->batch->tasks->len; j++)
        g_ptr_array_add(merged->tasks, tr->batch->tasks->pdata[j]);
    }
    lathe_batch_execute(merged);
    g_ptr_array_set_size(merged->tasks, 0);
    g_ptr_array_unref(merged->tasks);
    g_hash_table_unref(merged->task_of);
    g_free(merged);
    for (guint i = 0; i < round->len; i++) {
      Trial *tr = round->pdata[i];
      finish_trial(task, tr, obj_node, obj_metric);
      if (tr->state == LATHE_TRIAL_COMPLETE) {
        k->tell(tuner, tr->number, tr->point, maximize ? -tr->value : tr->value, tr->state);
        if (!best || (maximize ? tr->value > best->value : tr->value < best->value))
          best = tr;
      } else {
        failed++;
        k->tell(tuner, tr->number, tr->point, NAN, tr->state);
      }
      lathe_context_report(ctx, "objective", tr->value, tr->number);
      lathe_context_progress(ctx, max_trials ? (double)next / max_trials : 0.0, NULL);
    }
    /* Only the best trial's artifacts are still needed: free the others. */
    for (guint i = 0; i < round->len; i++) {
      Trial *tr = round->pdata[i];
      if (tr != best)
        g_clear_pointer(&tr->batch, lathe_batch_free);
    }
    if (prev_best && prev_best != best)
      g_clear_pointer(&prev_best->batch, lathe_batch_free);
    prev_best = best;
  }
  k->free(tuner);
  if (!ok)
    return FALSE;
  if (!best) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                "all %u trials failed or reported no '%s'; see `lathe runs show` for their errors",
                trials->len, objective);
    return FALSE;
  }
  JsonObject *summary = json_object_new();
  json_object_set_string_member(summary, "objective", objective);
  json_object_set_string_member(summary, "direction", maximize ? "maximize" : "minimize");
  json_object_set_int_member(summary, "best_trial", best->number);
  json_object_set_double_member(summary, "best_value", best->value);
  json_object_set_object_member(summary, "best_params", json_object_ref(best->point));
  if (best->metrics)
    json_object_set_object_member(summary, "best_metrics", json_object_ref(best->metrics));
  JsonArray *all = json_array_new();
  for (guint i = 0; i < trials->len; i++)
    json_array_add_object_element(all, trial_json(trials->pdata[i]));
  json_object_set_array_member(summary, "trials", all);
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(summary));
  lathe_context_set_metric(ctx, "best_value", best->value);
  lathe_context_set_metric(ctx, "best_trial", best->number);
  lathe_context_set_metric(ctx, "n_trials", trials->len);
  lathe_context_set_metric(ctx, "n_failed", failed);
  if (task->node->trial_output) {
    LatheNodeRun *mt = g_hash_table_lookup(best->batch->task_of, task->node->trial_output);
    LatheArtifact *model = mt ? g_hash_table_lookup(mt->outputs, "model") : NULL;
    if (model)
      lathe_context_set_output(ctx, "model", lathe_artifact_ref(model));
  }
  return TRUE;
}
