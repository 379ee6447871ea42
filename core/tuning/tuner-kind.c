/* The tuner as a node kind: the params the host reads for it, its ports,
 * its checks at validation and what enters its cache key besides its edges.
 * lathe_tuning_init() registers it with the lower layers at start-up; they
 * never name tuning/. Its execution (the study) is trials.c's. */
#include "tuning/tuning-private.h"

static const char *const directions[] = {"maximize", "minimize", NULL};
/* The params the host reads for a tuner node, ahead of the tuner plugin's own. */
static const LatheParamSpec tuner_params[] = {
    {.name = "objective", .type = LATHE_PARAM_STRING,
     .doc = "metric of the trial sub-graph to optimise, as NODE.METRIC (or use objectives)"},
    {.name = "direction", .type = LATHE_PARAM_ENUM, .default_json = "\"maximize\"",
     .choices = directions, .doc = "maximize or minimize the objective"},
    {.name = "space", .type = LATHE_PARAM_OBJECT, .flags = LATHE_PARAM_REQUIRED,
     .doc = "search space: {\"NODE.PARAM\": spec} over the trial sub-graph"},
    {.name = "objectives", .type = LATHE_PARAM_OBJECT,
     .doc = "several metrics at once: {\"NODE.METRIC\": \"maximize\"|\"minimize\", ...}; the study "
            "keeps the Pareto front"},
    {.name = "max_trials", .type = LATHE_PARAM_INT, .default_json = "0", .min = 0, .max = 1e9,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "stop after this many trials (0: when the tuner has no more points)"},
    {.name = "parallel_trials", .type = LATHE_PARAM_INT, .default_json = "0", .min = 0,
     .max = 1024, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "trials run at once (0: the run's --jobs)"},
    {.name = "max_failed_trials", .type = LATHE_PARAM_INT, .default_json = "0", .min = 0,
     .max = 1e9, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "stop the study once more trials than this failed (0: no limit)"},
    {.name = "timeout", .type = LATHE_PARAM_FLOAT, .default_json = "0", .min = 0,
     .flags = LATHE_PARAM_HAS_MIN,
     .doc = "seconds after which no new trial starts in this run (0: no limit)"},
    {.name = "goal", .type = LATHE_PARAM_FLOAT,
     .doc = "stop once the best objective reaches this value"},
    {.name = "metrics", .type = LATHE_PARAM_LIST, .item_type = LATHE_PARAM_STRING,
     .default_json = "[]", .doc = "more NODE.METRIC values to record with each trial"},
    {.name = "constraints", .type = LATHE_PARAM_LIST, .item_type = LATHE_PARAM_STRING,
     .default_json = "[]",
     .doc = "\"NODE.METRIC OP NUMBER\" each trial must meet to count as feasible"},
    {.name = "pruner", .type = LATHE_PARAM_OBJECT,
     .doc = "early stopping: {\"rule\": median|halving, \"metric\": \"NODE.METRIC\", ...}"},
    LATHE_PARAM_END};
static const LathePortSpec tuner_out[] = {
    {"model", LATHE_TYPE_MODEL, LATHE_PORT_OPTIONAL, "the best trial's model (trial \"output\")"},
    {"metrics", LATHE_TYPE_METRICS, 0, "best params, best value and every trial"},
    {.name = NULL}};
static const LathePortSpec no_ports[] = {{.name = NULL}};
/* Exactly one of "objective" (one metric) and "objectives" (several, each
 * with its direction), naming metrics of trial nodes. */
static void check_objectives(LatheNode *n, const char *tptr, GPtrArray *problems) {
  gboolean one = json_object_has_member(n->params, "objective");
  JsonNode *many = json_object_get_member(n->params, "objectives");
  g_autofree char *wptr = g_strdup_printf("%s/with", n->pointer);
  if (one == (many != NULL)) {
    lathe_problems_add(problems, wptr, "a tuner needs \"objective\" (one NODE.METRIC) or "
                       "\"objectives\" ({\"NODE.METRIC\": \"maximize\", ...}), not %s",
                       one ? "both" : "neither");
    return;
  }
  g_autoptr(GPtrArray) refs = g_ptr_array_new();
  if (one)
    g_ptr_array_add(refs, (gpointer)json_object_get_string_member(n->params, "objective"));
  JsonObject *obj = many ? json_node_get_object(many) : NULL;
  g_autoptr(GList) names = obj ? json_object_get_members(obj) : NULL;
  for (GList *l = names; l; l = l->next) {
    g_ptr_array_add(refs, l->data);
    JsonNode *d = json_object_get_member(obj, l->data);
    const char *dir = JSON_NODE_HOLDS_VALUE(d) && json_node_get_value_type(d) == G_TYPE_STRING
                          ? json_node_get_string(d) : "";
    if (!g_str_equal(dir, "maximize") && !g_str_equal(dir, "minimize"))
      lathe_problems_add(problems, wptr, "objectives: '%s' needs \"maximize\" or \"minimize\"",
                         (char *)l->data);
  }
  if (obj && json_object_get_size(obj) < 2)
    lathe_problems_add(problems, wptr, "\"objectives\" lists two or more metrics; for one, use "
                       "\"objective\" and \"direction\"");
  for (guint i = 0; i < refs->len; i++) {
    g_autofree char *oid = NULL, *ometric = NULL;
    if (!lathe_graph_split_ref(refs->pdata[i], &oid, &ometric) || !ometric ||
        !g_hash_table_contains(n->trial->by_id, oid))
      lathe_problems_add(problems, tptr, "objective '%s' must be TRIAL_NODE.METRIC, a node of this trial",
                         (char *)refs->pdata[i]);
  }
}

LatheNode *lathe_tuner_dim_target(LatheGraph *trial, const char *node) {
  LatheNode *target = g_hash_table_lookup(trial->by_id, node);
  /* "CV-NODE": a cv node's fold node, copied once per fold (graph-cv.c). */
  for (guint i = 0; !target && i < trial->order->len; i++) {
    LatheNode *m = trial->order->pdata[i];
    if (lathe_graph_cv_member(node, m->id))
      target = m;
  }
  return target;
}

/* "metrics" and "constraints" of a tuner name nodes of its trial. */
static void check_trial_refs(LatheNode *n, GPtrArray *problems) {
  static const char *const lists[] = {"metrics", "constraints"};
  for (guint k = 0; k < G_N_ELEMENTS(lists); k++) {
    JsonNode *ln = json_object_get_member(n->params, lists[k]);
    JsonArray *arr = ln && JSON_NODE_HOLDS_ARRAY(ln) ? json_node_get_array(ln) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
      const char *text = json_array_get_string_element(arr, i);
      g_autofree char *ptr = g_strdup_printf("%s/with/%s/%u", n->pointer, lists[k], i);
      g_autofree char *node = NULL, *metric = NULL, *why = NULL;
      LatheTunerConstraint c;
      if (k == 1) {
        if (!lathe_tuner_constraint_parse(text, &c, &why)) {
          lathe_problems_add(problems, ptr, "%s", why);
          continue;
        }
        node = g_strdup(c.node);
        lathe_tuner_constraint_clear(&c);
      } else if (!lathe_graph_split_ref(text, &node, &metric) || !metric) {
        lathe_problems_add(problems, ptr, "'%s' must be TRIAL_NODE.METRIC", text);
        continue;
      }
      if (!g_hash_table_contains(n->trial->by_id, node))
        lathe_problems_add(problems, ptr, "'%s' names no node of this trial", text);
    }
  }
}

/* The tuner's own checks, once its trial is parsed (graph.c): objectives,
 * metrics and constraints name trial nodes, the pruner, and the search
 * space, which it completes from the target params' declarations. */
static void tuner_validate(LatheNode *n, GPtrArray *problems) {
  if (!n->trial)
    return; /* graph.c said why */
  g_autofree char *tptr = g_strdup_printf("%s/trial", n->pointer);
  if (!n->params)
    return;
  check_objectives(n, tptr, problems);
  check_trial_refs(n, problems);
  JsonNode *pruner = json_object_get_member(n->params, "pruner");
  if (pruner && JSON_NODE_HOLDS_OBJECT(pruner)) {
    g_autofree char *pptr = g_strdup_printf("%s/with/pruner", n->pointer);
    lathe_study_pruner_check(json_node_get_object(pruner), n->trial->by_id, pptr, problems);
  }
  JsonNode *space = json_object_get_member(n->params, "space");
  if (!space || !JSON_NODE_HOLDS_OBJECT(space))
    return;
  g_autoptr(GList) dims = json_object_get_members(json_node_get_object(space));
  g_autoptr(JsonObject) normalized = json_object_new();
  gboolean bad = FALSE;
  for (GList *l = dims; l; l = l->next) {
    g_autofree char *sptr = g_strdup_printf("%s/with/space/%s", n->pointer, (char *)l->data);
    g_autofree char *did = NULL, *dparam = NULL;
    LatheNode *target = NULL;
    if (lathe_graph_split_ref(l->data, &did, &dparam) && dparam)
      target = lathe_tuner_dim_target(n->trial, did);
    if (!target) {
      lathe_problems_add(problems, sptr, "a space dimension is TRIAL_NODE.PARAM; '%s' names no "
                         "node of this trial", (char *)l->data);
      bad = TRUE;
      continue;
    }
    if (!target->comp) {
      bad = TRUE;
      continue;
    }
    const LatheParamSpec *ps = lathe_component_param(target->comp, dparam);
    if (!ps) {
      lathe_problems_add(problems, sptr, "%s has no param '%s'", target->comp->id, dparam);
      bad = TRUE;
      continue;
    }
    JsonNode *spec = json_object_get_member(json_node_get_object(space), l->data);
    JsonNode *norm = lathe_tuner_space_normalize(l->data, spec, ps, json_node_get_object(space), sptr,
                                                 problems);
    if (norm)
      json_object_set_member(normalized, l->data, norm);
    else
      bad = TRUE;
  }
  g_autofree char *spptr = g_strdup_printf("%s/with/space", n->pointer);
  JsonObject *linked = bad ? NULL : lathe_tuner_space_link(normalized, spptr, problems);
  /* The tuner and the study see the completed, parents-first space. */
  if (linked)
    json_object_set_object_member(n->params, "space", linked);
}


/* A tuner has no edges: its trials read outer nodes. Those outputs decide
 * its result, so they are its inputs, recorded and in its key. */
static void tuner_extra_inputs(LatheNodeRun *t, JsonObject *inputs) {
  for (guint i = 0; i < t->node->deps->len; i++) {
    LatheNode *d = t->node->deps->pdata[i];
    LatheNodeRun *src = lathe_batch_find(t->batch, d);
    GHashTableIter it;
    gpointer port, art;
    g_hash_table_iter_init(&it, src ? src->outputs : NULL);
    while (src && g_hash_table_iter_next(&it, &port, &art)) {
      g_autofree char *name = g_strdup_printf("trial:%s.%s", d->id, (char *)port);
      json_object_set_string_member(inputs, name, lathe_artifact_get_digest(art));
    }
  }
}

static const LatheNodeKind tuner_kind = {
    .kind = LATHE_KIND_TUNER,
    .params = tuner_params,
    .inputs = no_ports,
    .outputs = tuner_out,
    .trial = TRUE,
    .validate = tuner_validate,
    .extra_inputs = tuner_extra_inputs,
    .execute = lathe_tuner_execute,
};

void lathe_tuning_init(void) { lathe_node_kind_register(&tuner_kind); }
