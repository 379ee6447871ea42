/* A tuner node: the host asks the tuner for points, runs the trial sub-graph
 * once per point as tasks of the same run (so trials are recorded, cached and
 * run in parallel like any node), and tells the tuner each result. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-search-space-private.h>

#include "store/store.h"
#include "tuning/tuning-private.h"

/* The trial's tasks: every node of the sub-graph, params overridden by the point. */
static LatheBatch *trial_batch(LatheNodeRun *tuner, LatheTrial *tr) {
  LatheBatch *b = lathe_batch_new(tuner->batch->run, tuner, tr->number, 0);
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
      g_autofree char *dim_node = dot ? g_strndup(l->data, dot - (char *)l->data) : NULL;
      if (dim_node && (g_str_equal(dim_node, n->id) || lathe_graph_cv_member(dim_node, n->id)))
        json_object_set_member(params, dot + 1, json_node_copy(json_object_get_member(tr->point, l->data)));
    }
    g_autofree char *id = g_strdup_printf("%s/%u/%s", tuner->exec_id, tr->number, n->id);
    lathe_node_run_new(b, n, id, params);
  }
  lathe_batch_link(b);
  return b;
}

static JsonObject *trial_json(LatheTrial *tr) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "trial", tr->number);
  json_object_set_object_member(o, "params", json_object_ref(tr->point));
  json_object_set_string_member(o, "state", lathe_trial_state_name(tr->state));
  if (tr->state == LATHE_TRIAL_COMPLETE)
    json_object_set_double_member(o, "value", tr->value);
  else
    json_object_set_null_member(o, "value");
  if (tr->values)
    json_object_set_object_member(o, "values", json_object_ref(tr->values));
  json_object_set_boolean_member(o, "resumed", tr->resumed);
  if (tr->error)
    json_object_set_string_member(o, "error", tr->error);
  return o;
}

/* An interrupted trial, made ready to run again: only its number and point stay. */
static void trial_reset(LatheTrial *tr) {
  g_clear_pointer(&tr->metrics, json_object_unref);
  g_clear_pointer(&tr->values, json_object_unref);
  g_clear_pointer(&tr->objectives, g_free);
  g_clear_pointer(&tr->model, g_free);
  g_clear_pointer(&tr->error, g_free);
  g_clear_pointer(&tr->run_id, g_free);
  tr->state = LATHE_TRIAL_FAILED;
  tr->value = NAN;
  tr->feasible = FALSE;
  tr->resumed = FALSE;
  tr->finished = FALSE;
}

/* Trials run on threads of their own, each executing its batch; a finished
 * trial is pushed on @done. */
typedef struct {
  GAsyncQueue *done;
} TrialRunner;

typedef struct {
  TrialRunner *runner;
  LatheTrial *trial;
} TrialJob;

static gpointer trial_thread(gpointer data) {
  TrialJob *job = data;
  lathe_batch_execute(job->trial->batch);
  g_async_queue_push(job->runner->done, job->trial);
  g_free(job);
  return NULL;
}

static void start_trial(TrialRunner *runner, LatheTrial *tr) {
  TrialJob *job = g_new0(TrialJob, 1);
  job->runner = runner;
  job->trial = tr;
  g_autofree char *name = g_strdup_printf("lathe-trial-%u", tr->number);
  g_autoptr(GError) error = NULL;
  tr->thread = g_thread_try_new(name, trial_thread, job, &error);
  if (!tr->thread) {
    /* No thread to be had (a memory limit): run it here, and the window of
     * parallel trials becomes one at a time rather than an abort. */
    trial_thread(job);
  }
}

/* The output model of a finished trial of this run, and its digest. */
static LatheArtifact *trial_model(LatheNodeRun *task, LatheTrial *tr) {
  if (!task->node->trial_output || !tr->batch)
    return NULL;
  LatheNodeRun *mt = g_hash_table_lookup(tr->batch->task_of, task->node->trial_output);
  return mt && mt->outputs ? g_hash_table_lookup(mt->outputs, "model") : NULL;
}

/* Why the study stops before its tuner runs out of points, or NULL. */
static const char *budget_spent(const LatheStudyConfig *cfg, guint n_trials, const LatheTrial *best,
                                gint64 started) {
  if (cfg->max_trials && n_trials >= cfg->max_trials)
    return "max_trials reached";
  if (cfg->timeout > 0 && (double)(g_get_monotonic_time() - started) / 1e6 >= cfg->timeout)
    return "timeout reached";
  if (cfg->has_goal && best && (cfg->maximize ? best->value >= cfg->goal : best->value <= cfg->goal))
    return "goal reached";
  return NULL;
}

static void tell(const LatheTunerClass *k, gpointer tuner, const LatheStudyConfig *cfg, LatheTrial *tr) {
  gboolean counts = tr->state == LATHE_TRIAL_COMPLETE && tr->feasible;
  if (cfg->n_obj > 1 && k->tell_multi) {
    g_autofree double *v = g_new(double, cfg->n_obj);
    for (guint i = 0; i < cfg->n_obj; i++)
      v[i] = counts && tr->objectives ? (cfg->obj_max[i] ? -tr->objectives[i] : tr->objectives[i]) : NAN;
    k->tell_multi(tuner, tr->number, tr->point, v, cfg->n_obj,
                  counts ? LATHE_TRIAL_COMPLETE : tr->state == LATHE_TRIAL_PRUNED ? LATHE_TRIAL_PRUNED
                                                                                  : LATHE_TRIAL_FAILED);
    return;
  }
  /* An infeasible trial teaches the tuner where not to go, like a failure. */
  k->tell(tuner, tr->number, tr->point, counts ? (cfg->maximize ? -tr->value : tr->value) : NAN,
          counts ? LATHE_TRIAL_COMPLETE : tr->state == LATHE_TRIAL_PRUNED ? LATHE_TRIAL_PRUNED
                                                                          : LATHE_TRIAL_FAILED);
}

/* A trial's reports go to the study's pruner, which may stop it. */
static gboolean prune_watch(gpointer pruner, LatheNodeRun *task, const char *name, double value,
                            gint64 step) {
  return lathe_study_pruner_report(pruner, task->batch->trial_number, task->node->id, name, value,
                                   step);
}

static gint cmp_trial_number(gconstpointer a, gconstpointer b) {
  guint x = (*(LatheTrial *const *)a)->number, y = (*(LatheTrial *const *)b)->number;
  return (x > y) - (x < y);
}

/* An earlier trial's reports, from the run it ran in, for the pruner. */
static void earlier_curve(LatheNodeRun *task, const LatheStudyConfig *cfg, LatheTrial *tr) {
  if (!cfg->pruner || !tr->run_id)
    return;
  g_autofree char *node = g_strdup_printf("%s/%u/%s", task->exec_id, tr->number,
                                          lathe_study_pruner_node(cfg->pruner));
  g_autoptr(GArray) steps = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) vals = lathe_store_reports(task->batch->run->store, tr->run_id, node,
                                               lathe_study_pruner_metric(cfg->pruner), steps);
  lathe_study_pruner_add_curve(cfg->pruner, tr->number, (const guint *)steps->data,
                               (const double *)vals->data, vals->len,
                               tr->state == LATHE_TRIAL_COMPLETE);
}

typedef struct {
  GHashTable *earlier; /* number -> LatheTrial* of earlier runs, until the replay reaches it */
} Replay;

/* The tuner proposed another point than the study holds for trial @next
 * (parallel_trials, the tuner or its version changed since): the earlier
 * proposals cannot be replayed. Then, as before replaying existed, a fresh
 * tuner is told every trial the study has, the earlier interrupted ones run
 * again at their own points, and new trials are numbered after the last. The
 * earlier trials not reached stay in @rp->earlier, to be counted at the end. */
static gboolean diverge(Replay *rp, const LatheTunerClass *k, gpointer *tuner, LatheContext *ctx,
                        LatheSearchSpace *space, const LatheStudyConfig *cfg, LatheNodeRun *task,
                        GPtrArray *trials, GPtrArray *window, GPtrArray *redo, guint *next,
                        guint *asked, GError **error) {
  lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                    "trial %u: the tuner proposes another point than the study holds "
                    "(parallel_trials or the tuner changed?); the study goes on from what it has",
                    *next);
  k->free(*tuner);
  *tuner = k->create(ctx, space, error);
  if (!*tuner)
    return FALSE;
  g_ptr_array_sort(trials, cmp_trial_number);
  for (guint i = 0; i < trials->len; i++) {
    LatheTrial *tr = trials->pdata[i];
    *next = MAX(*next, tr->number + 1);
    guint at;
    if (g_ptr_array_find(window, tr, &at))
      continue; /* told when it finishes */
    if (g_hash_table_contains(rp->earlier, GUINT_TO_POINTER(tr->number))) {
      if (tr->state == LATHE_TRIAL_INTERRUPTED) {
        g_hash_table_remove(rp->earlier, GUINT_TO_POINTER(tr->number));
        g_ptr_array_add(redo, tr);
        continue;
      }
      earlier_curve(task, cfg, tr);
    }
    if (tr->state != LATHE_TRIAL_INTERRUPTED)
      tell(k, *tuner, cfg, tr);
  }
  *asked = trials->len;
  return TRUE;
}

gboolean lathe_tuner_execute(LatheNodeRun *task, LatheContext *ctx, GError **error) {
  const LatheTunerClass *k = task->node->comp->klass;
  LatheRun *run = task->batch->run;
  gint64 started = g_get_monotonic_time();
  LatheStudyConfig cfg;
  lathe_study_config_init(&cfg, ctx, run->opts->jobs);

  g_autoptr(LatheSearchSpace) space = lathe_search_space_new();
  JsonObject *sp = json_node_get_object(json_object_get_member(lathe_context_get_params(ctx), "space"));
  g_autoptr(GList) dims = json_object_get_members(sp);
  for (GList *l = dims; l; l = l->next) {
    const char *d = strchr(l->data, '.');
    g_autofree char *nid = g_strndup(l->data, d - (char *)l->data);
    LatheNode *target = lathe_tuner_dim_target(task->node->trial, nid);
    lathe_search_space_add(space, l->data, json_object_get_member(sp, l->data),
                           lathe_component_param(target->comp, d + 1));
  }
  gpointer tuner = k->create(ctx, space, error);
  if (!tuner) {
    lathe_study_config_clear(&cfg);
    return FALSE;
  }

  /* The study: earlier runs' trials are kept and told to the tuner first. */
  g_autofree char *key = lathe_study_key(task, lathe_context_get_params(ctx));
  g_autoptr(JsonObject) config = json_object_new();
  json_object_set_object_member(config, "params", json_object_ref(lathe_context_get_params(ctx)));
  gboolean resumed = FALSE;
  g_autofree char *study = lathe_store_study_open(run->store, key, run->graph->name, task->exec_id,
                                                  task->node->comp->id, config, &resumed, error);
  g_autoptr(GPtrArray) trials = study ? lathe_study_load(run->store, study, cfg.n_obj, error) : NULL;
  if (!trials) {
    k->free(tuner);
    lathe_study_config_clear(&cfg);
    return FALSE;
  }
  /* Earlier runs' trials are replayed, not told up front: the tuner is asked
   * again for each number, in the same window as an uninterrupted study, and
   * where it proposes the point the study holds, the earlier outcome is
   * taken instead of running it (an interrupted one runs now). So every ask
   * sees the history it saw uninterrupted, whatever the tuner (TPE's pending
   * trials included), and a study killed at any moment ends where one run
   * would have. */
  Replay rp = {.earlier = g_hash_table_new(g_direct_hash, g_direct_equal)};
  for (guint i = 0; i < trials->len; i++) {
    LatheTrial *tr = trials->pdata[i];
    g_hash_table_insert(rp.earlier, GUINT_TO_POINTER(tr->number), tr);
  }
  if (trials->len)
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "study %s resumed with %u trials", study, trials->len);
  LatheTrial *best = NULL;
  guint next = 0, asked = 0, failed = 0, pruned = 0, n_interrupted = 0, n_resumed = 0;
  g_autoptr(GPtrArray) redo = g_ptr_array_new(); /* after a divergence: interrupted, to run again */
  gboolean resource = FALSE;                       /* a trial of this run ran out of memory or threads */

  /* A sliding window of `parallel` trials. Trial k is asked right after trial
   * k - parallel is told, and trials are told in number order, so every
   * proposal sees the same history (told: < k - parallel + 1, pending: the
   * rest) however long each trial takes: reruns propose the same points for
   * the same parallel_trials. A slot frees when its trial is told, so a slow
   * trial holds back only the slots behind it, not a whole round. */
  gboolean exhausted = FALSE, ok = TRUE;
  const char *stop = NULL;
  LatheTrial *prev_best = NULL;
  g_autoptr(GAsyncQueue) done = g_async_queue_new();
  g_autoptr(GPtrArray) window = g_ptr_array_new(); /* started, not yet told, in number order */
  TrialRunner runner = {.done = done};
  for (;;) {
    /* Fill the window. */
    /* An interrupt may come before the ticker cancels this context: check both. */
    while (ok && window->len < cfg.parallel && !lathe_context_is_cancelled(ctx) &&
           !lathe_engine_interrupted()) {
      LatheTrial *tr;
      if (redo->len) {
        /* asked already, by an earlier run: no budget but time stops them */
        if ((stop = budget_spent(&cfg, 0, NULL, started)))
          break;
        tr = g_ptr_array_steal_index(redo, 0);
        trial_reset(tr);
      } else {
        if (exhausted || (stop = budget_spent(&cfg, asked, best, started)))
          break;
        JsonObject *point = NULL;
        if (!k->ask(tuner, next, &point, error)) {
          ok = !(error && *error);
          exhausted = TRUE;
          break;
        }
        LatheTrial *old = g_hash_table_lookup(rp.earlier, GUINT_TO_POINTER(next));
        /* An interrupted trial was never told: another point for it is no
         * divergence (the run that asked it may have been interrupted before
         * it told the trials it asked it after). */
        if (old && old->state != LATHE_TRIAL_INTERRUPTED && !lathe_study_same_point(old->point, point)) {
          json_object_unref(point);
          ok = diverge(&rp, k, &tuner, ctx, space, &cfg, task, trials, window, redo, &next, &asked,
                       error);
          continue;
        }
        g_hash_table_remove(rp.earlier, GUINT_TO_POINTER(next));
        next++;
        asked++;
        if (old && old->state != LATHE_TRIAL_INTERRUPTED) {
          /* its outcome stands: told when its turn in the window comes */
          json_object_unref(point);
          earlier_curve(task, &cfg, old);
          old->finished = TRUE;
          n_resumed++;
          g_ptr_array_add(window, old);
          continue;
        }
        if (old) {
          /* Interrupted: run now, at the point proposed (the one it had, but
           * for a disturbed history). */
          trial_reset(old);
          json_object_unref(old->point);
          old->point = point;
          tr = old;
        } else {
          tr = g_new0(LatheTrial, 1);
          tr->number = next - 1;
          tr->point = point;
          g_ptr_array_add(trials, tr);
        }
      }
      tr->batch = trial_batch(task, tr);
      if (cfg.pruner) {
        tr->batch->watch = prune_watch;
        tr->batch->watch_data = cfg.pruner;
      }
      ok = lathe_study_record(run, study, tr, error);
      if (!ok)
        break;
      lathe_recorder_trial(run->recorder, &(LatheTrialEvent){.tuner = task->exec_id,
                                                             .number = tr->number,
                                                             .point = tr->point});
      g_ptr_array_add(window, tr);
      start_trial(&runner, tr);
    }
    if (!window->len)
      break;
    /* Wait for the oldest trial; later ones that finish first wait their turn. */
    LatheTrial *oldest = window->pdata[0];
    while (!oldest->finished)
      ((LatheTrial *)g_async_queue_pop(done))->finished = TRUE;
    g_ptr_array_remove_index(window, 0);
    if (oldest->thread) {
      g_thread_join(oldest->thread);
      oldest->thread = NULL;
    }
    if (!ok)
      continue; /* draining: the study already failed */
    if (!oldest->resumed) {
      ok = lathe_study_finish_trial(task, &cfg, oldest, error);
      if (!ok)
        continue;
      LatheArtifact *model = trial_model(task, oldest);
      oldest->model = model ? g_strdup(lathe_artifact_get_digest(model)) : NULL;
      ok = lathe_study_record(run, study, oldest, error);
      lathe_recorder_trial(run->recorder,
                           &(LatheTrialEvent){.ended = TRUE, .tuner = task->exec_id,
                                              .number = oldest->number,
                                              .state = lathe_trial_state_name(oldest->state),
                                              .values = oldest->values});
      if (oldest->state == LATHE_TRIAL_INTERRUPTED) {
        /* Not told: the tuner learns nothing from a trial that did not end. */
        n_interrupted++;
        resource |= !lathe_engine_interrupted();
        g_clear_pointer(&oldest->batch, lathe_batch_free);
        continue;
      }
      lathe_context_report(ctx, "objective", oldest->value, oldest->number);
    }
    tell(k, tuner, &cfg, oldest);
    failed += oldest->state == LATHE_TRIAL_FAILED;
    pruned += oldest->state == LATHE_TRIAL_PRUNED;
    if (lathe_study_better(&cfg, oldest, best))
      best = oldest;
    lathe_context_progress(ctx, cfg.max_trials ? (double)asked / cfg.max_trials : 0.0, NULL);
    /* Only the best trial's artifacts are still needed: free the others. */
    if (oldest != best)
      g_clear_pointer(&oldest->batch, lathe_batch_free);
    if (prev_best && prev_best != best)
      g_clear_pointer(&prev_best->batch, lathe_batch_free);
    prev_best = best;
    if (ok && cfg.max_failed && failed > cfg.max_failed) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                  "%u trials failed, more than max_failed_trials (%u); see `lathe study show %s/%s`",
                  failed, cfg.max_failed, run->run_id, task->exec_id);
      ok = FALSE;
    }
  }
  /* Earlier trials past where this run's budget stopped still belong to the
   * study: they count, and may be its best. */
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, rp.earlier);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    LatheTrial *tr = value;
    if (tr->state == LATHE_TRIAL_INTERRUPTED)
      continue; /* beyond the budget: left for a run with a larger one */
    n_resumed++;
    failed += tr->state == LATHE_TRIAL_FAILED;
    pruned += tr->state == LATHE_TRIAL_PRUNED;
    if (lathe_study_better(&cfg, tr, best))
      best = tr;
  }
  g_hash_table_unref(rp.earlier);
  g_ptr_array_sort(trials, (GCompareFunc)cmp_trial_number);
  k->free(tuner);
  /* An interrupted study is unfinished: the tuner node fails, so that its
   * partial answer is never cached or used, and the next run resumes it. */
  if (ok && (n_interrupted || redo->len || lathe_context_is_cancelled(ctx) ||
             lathe_engine_interrupted())) {
    g_set_error(error, LATHE_ERROR, resource ? LATHE_ERROR_RESOURCE : LATHE_ERROR_CANCELLED,
                "the study was interrupted (%u trials to run again%s); run the pipeline again to "
                "resume study %s", n_interrupted + redo->len,
                resource ? ", out of memory or threads: see `lathe study show`" : "", study);
    ok = FALSE;
  }
  if (ok && !best) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                "no trial of %u completed with a finite '%s'%s; see `lathe study show %s/%s`",
                trials->len, cfg.objective, cfg.constraints->len ? " that meets the constraints" : "",
                run->run_id, task->exec_id);
    ok = FALSE;
  }
  if (!ok) {
    lathe_study_config_clear(&cfg);
    return FALSE;
  }
  JsonObject *summary = json_object_new();
  json_object_set_string_member(summary, "study", study);
  json_object_set_string_member(summary, "objective", cfg.objective);
  json_object_set_string_member(summary, "direction", cfg.maximize ? "maximize" : "minimize");
  if (cfg.n_obj > 1) {
    g_autoptr(GArray) front = lathe_study_front(&cfg, trials);
    JsonArray *fa = json_array_new();
    for (guint i = 0; i < front->len; i++)
      json_array_add_int_element(fa, g_array_index(front, guint, i));
    json_object_set_array_member(summary, "pareto_front", fa);
    lathe_context_set_metric(ctx, "n_front", front->len);
  }
  json_object_set_string_member(summary, "stopped", stop ? stop : exhausted ? "the tuner has no more points" : "interrupted");
  json_object_set_int_member(summary, "best_trial", best->number);
  json_object_set_double_member(summary, "best_value", best->value);
  json_object_set_object_member(summary, "best_params", json_object_ref(best->point));
  json_object_set_object_member(summary, "best_values", json_object_ref(best->values));
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
  lathe_context_set_metric(ctx, "n_resumed", n_resumed);
  lathe_context_set_metric(ctx, "n_pruned", pruned);
  LatheArtifact *model = trial_model(task, best);
  if (model)
    lathe_context_set_output(ctx, "model", lathe_artifact_ref(model));
  else if (best->model) {
    /* the best trial ran in an earlier run: its model is in the store */
    g_autoptr(GError) lerr = NULL;
    LatheArtifact *m = lathe_store_get_artifact(run->store, best->model, LATHE_TYPE_MODEL, &lerr);
    if (m)
      lathe_context_set_output(ctx, "model", m);
    else
      lathe_context_log(ctx, G_LOG_LEVEL_WARNING, "the best trial's model %.16s is not in the store: %s",
                        best->model, lerr->message);
  }
  lathe_study_config_clear(&cfg);
  return TRUE;
}
