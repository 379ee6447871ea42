/* The node kinds the engine owns, and the table every kind registers in.
 * Each kind's operations live with the code that owns it: the data kinds
 * and the register node here, the tuner in tuning/ (lathe_tuning_init()). */
#include "engine/engine-private.h"
#include "lathe-registry.h"

static const LatheNodeKind *node_kinds[LATHE_KIND_SINK + 1];

void lathe_node_kind_register(const LatheNodeKind *kind) {
  g_return_if_fail(kind->kind >= 1 && kind->kind < G_N_ELEMENTS(node_kinds));
  node_kinds[kind->kind] = kind;
  lathe_catalog_kind_set(kind->kind, kind->params, kind->inputs, kind->outputs);
  lathe_graph_kind_set(kind->kind, kind->trial, kind->validate);
}

const LatheNodeKind *lathe_node_kind_get(LatheComponentKind kind) {
  return kind >= 1 && kind < G_N_ELEMENTS(node_kinds) ? node_kinds[kind] : NULL;
}

/* Sources, transforms, evaluators and sinks share the layout of LatheSourceClass
 * up to run. */
static gboolean run_plain(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  const LatheSourceClass *k = t->node->comp->klass;
  return k->run(ctx, error);
}

/* A source resolves relative paths against the pipeline's folder: two
 * pipelines sharing a store with the same "path" read different files. */
static void source_cache_inputs(LatheNodeRun *t, JsonObject *inputs) {
  json_object_set_string_member(inputs, "source:base_dir", t->batch->run->graph->base_dir);
}

static gboolean run_model(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  const LatheModelClass *m = t->node->comp->klass;
  const LatheDataset *train = lathe_context_get_input_dataset(ctx, "train", error);
  if (!train)
    return FALSE;
  LatheArtifact *va = lathe_context_get_input(ctx, "valid");
  const LatheDataset *valid = va ? lathe_artifact_get_dataset(va, error) : NULL;
  if (va && !valid)
    return FALSE;
  gpointer inst = m->fit(ctx, train, valid, error);
  if (!inst) {
    if (error && !*error)
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s: fit failed without an error",
                  t->node->comp->id);
    return FALSE;
  }
  g_autoptr(GBytes) state = m->save(inst, error);
  if (!state) {
    m->free(inst);
    return FALSE;
  }
  JsonObject *h = json_object_new();
  LathePlugin *p = t->node->comp->plugin;
  json_object_set_string_member(h, "component", t->node->comp->id);
  json_object_set_string_member(h, "plugin", p->name);
  json_object_set_string_member(h, "plugin_version", p->version);
  json_object_set_int_member(h, "state_version", m->state_version);
  JsonArray *classes = json_array_new(), *columns = json_array_new();
  for (guint i = 0; train->labels && i < train->n_classes; i++)
    json_array_add_string_element(classes, train->classes[i]);
  for (guint i = 0; i < train->n_cols; i++)
    json_array_add_string_element(columns, train->columns[i]);
  json_object_set_array_member(h, "classes", classes);
  json_object_set_array_member(h, "columns", columns);
  if (m->summary) {
    JsonObject *s = m->summary(inst);
    if (s)
      json_object_set_object_member(h, "summary", s);
  }
  LatheArtifact *art = lathe_artifact_new_model(h, state);
  /* Evaluators downstream reuse the trained instance instead of loading it. */
  lathe_artifact_set_cached_object(art, inst, m->free);
  lathe_context_set_output(ctx, "model", art);
  return TRUE;
}

/* The trackers' own ids of the run (MLflow makes its own), as
 * meta["tracker_runs"] = {stream: id}, so that a registry links the version
 * to the run people read in the tracker. The shipper starts runs in the
 * trackers from its thread, so it may not have done so yet: wait for it,
 * bounded as the run's final flush, and not at all for a tracker that is
 * out of reach. */
static void add_tracker_runs(LatheRun *run, LatheContext *ctx, JsonObject *meta, const char *name) {
  if (!run->shipper)
    return;
  g_auto(GStrv) missing = NULL;
  g_autoptr(JsonObject) ids =
      lathe_shipper_run_ids(run->shipper, run->run_id, lathe_tracker_flush_us(), &missing);
  if (json_object_get_size(ids))
    json_object_set_object_member(meta, "tracker_runs", json_object_ref(ids));
  if (missing && missing[0]) {
    g_autofree char *list = g_strjoinv(", ", missing);
    lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                      "%s has not started run %s yet (out of reach?): '%s' is registered without "
                      "%s run id; its metadata keeps the Lathe run id",
                      list, run->run_id, name, g_strv_length(missing) > 1 ? "their" : "its");
  }
}

/* What loading the version takes (its component, plugin and the plugin
 * file's digest) and, from the optional `reference` input, the statistics
 * of its training features. */
static gboolean register_load_and_reference(LatheNodeRun *t, LatheContext *ctx,
                                            LatheArtifact *model, JsonObject *meta,
                                            GError **error) {
  JsonObject *header = lathe_artifact_get_model_header(model, error);
  if (!header)
    return FALSE;
  JsonObject *load = json_object_new();
  const char *component = json_object_get_string_member_with_default(header, "component", NULL);
  static const char *const copied[] = {"component", "plugin", "plugin_version", NULL};
  for (int i = 0; copied[i]; i++) {
    const char *v = json_object_get_string_member_with_default(header, copied[i], NULL);
    if (v)
      json_object_set_string_member(load, copied[i], v);
  }
  json_object_set_int_member(load, "state_version",
                             json_object_get_int_member_with_default(header, "state_version", 0));
  LatheComponentInfo *c = component ? lathe_catalog_lookup(t->batch->run->cat, component) : NULL;
  if (c)
    json_object_set_string_member(load, "plugin_digest", lathe_plugin_digest(c->plugin));
  json_object_set_object_member(meta, "load", load);
  LatheArtifact *ra = lathe_context_get_input(ctx, "reference");
  if (!ra)
    return TRUE;
  const LatheDataset *ref = lathe_artifact_get_dataset(ra, error);
  if (!ref)
    return FALSE;
  JsonNode *cols = json_object_get_member(header, "columns");
  JsonArray *want = cols && JSON_NODE_HOLDS_ARRAY(cols) ? json_node_get_array(cols) : NULL;
  gboolean same = want && json_array_get_length(want) == ref->n_cols;
  for (guint i = 0; same && i < ref->n_cols; i++)
    same = g_strcmp0(json_array_get_string_element(want, i), ref->columns[i]) == 0;
  if (!same) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "register node '%s': input 'reference' has %u columns (%s%s) that are not the "
                "%u the model takes; connect the model's training rows (e.g. split.train)",
                t->exec_id, ref->n_cols, ref->n_cols ? ref->columns[0] : "",
                ref->n_cols > 1 ? ", ..." : "", want ? json_array_get_length(want) : 0);
    return FALSE;
  }
  json_object_set_object_member(meta, "reference", lathe_registry_reference_stats(ref));
  return TRUE;
}

static gboolean run_register(LatheNodeRun *t, LatheContext *ctx, GError **error) {
  LatheRun *run = t->batch->run;
  g_autoptr(LatheRegistry) reg = lathe_registry_open_in(t->node->comp->klass, ctx, error);
  if (!reg)
    return FALSE;
  g_autoptr(JsonObject) meta = json_object_new();
  json_object_set_string_member(meta, "run_id", run->run_id);
  json_object_set_string_member(meta, "node", t->exec_id);
  json_object_set_string_member(meta, "pipeline", run->graph->path);
  LatheArtifact *ma = lathe_context_get_input(ctx, "metrics");
  JsonObject *metrics = ma ? lathe_artifact_get_metrics(ma, error) : NULL;
  if (ma && !metrics)
    return FALSE;
  JsonObject *scalars = json_object_new();
  g_autoptr(GList) names = metrics ? json_object_get_members(metrics) : NULL;
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(metrics, l->data);
    if (JSON_NODE_HOLDS_VALUE(v) && (json_node_get_value_type(v) == G_TYPE_DOUBLE ||
                                     json_node_get_value_type(v) == G_TYPE_INT64))
      json_object_set_double_member(scalars, l->data, json_node_get_double(v));
  }
  json_object_set_object_member(meta, "metrics", scalars);
  JsonArray *lineage = json_array_new();
  g_mutex_lock(&run->lock);
  for (guint i = 0; i < json_array_get_length(run->data_versions); i++)
    json_array_add_element(lineage, json_node_copy(json_array_get_element(run->data_versions, i)));
  g_mutex_unlock(&run->lock);
  json_object_set_array_member(meta, "data_versions", lineage);
  const char *name = lathe_context_param_string(ctx, "name");
  add_tracker_runs(run, ctx, meta, name);
  const char *alias = lathe_context_param_string(ctx, "alias");
  LatheArtifact *model = lathe_context_get_input(ctx, "model");
  if (!register_load_and_reference(t, ctx, model, meta, error))
    return FALSE;
  g_autofree char *untraced = NULL;
  JsonObject *pipeline = lathe_input_pipeline_trace(t, &untraced);
  if (pipeline)
    json_object_set_object_member(meta, "input_pipeline", pipeline);
  else
    lathe_context_log(ctx, G_LOG_LEVEL_WARNING,
                      "'%s' is registered without its input pipeline (%s): lathe predict cannot "
                      "score raw data with this version", name, untraced);
  /* A decision upstream (evaluator/ab) says why the alias moves. */
  JsonNode *move = metrics ? json_object_get_member(metrics, "alias_move") : NULL;
  JsonObject *mo = move && JSON_NODE_HOLDS_OBJECT(move) ? json_node_get_object(move) : NULL;
  JsonNode *figures = mo ? json_object_get_member(mo, "figures") : NULL;
  g_autoptr(JsonObject) why =
      mo && json_object_get_string_member_with_default(mo, "reason", NULL)
          ? lathe_registry_why_new(json_object_get_string_member(mo, "reason"), run->run_id,
                                   figures && JSON_NODE_HOLDS_OBJECT(figures)
                                       ? json_node_get_object(figures) : NULL)
          : NULL;
  guint version = 0;
  if (!lathe_registry_register_full(reg, name, model, meta, alias, why,
                                    lathe_context_param_bool(ctx, "allow_signature_change"),
                                    &version, error))
    return FALSE;
  lathe_context_set_metric(ctx, "version", version);
  lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "registered %s version %u%s%s", name, version,
                    alias ? " as " : "", alias ? alias : "");
  return TRUE;
}

/* A register node runs once the run has succeeded (after_run); a trial is
 * not the run, and registering each trial's model would publish models the
 * study then rejects. */
static void validate_register(LatheNode *n, GPtrArray *problems) {
  if (n->graph->outer)
    lathe_problems_add(problems, n->pointer,
                       "register node '%s' cannot be inside a trial; register the tuner's "
                       "output after it", n->id);
}

/* The params the host reads for a registry node: the storage is the plugin's. */
static const LatheParamSpec registry_node_params[] = {
    {.name = "name", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_REQUIRED,
     .doc = "registered model name"},
    {.name = "alias", .type = LATHE_PARAM_STRING,
     .doc = "alias to point at the new version (e.g. candidate)"},
    {.name = "allow_signature_change", .type = LATHE_PARAM_BOOL, .default_json = "false",
     .doc = "move the alias even when the version it points at takes other inputs"},
    LATHE_PARAM_END};
static const LathePortSpec registry_in[] = {
    {"model", LATHE_TYPE_MODEL, 0, "the model to register"},
    {"metrics", LATHE_TYPE_METRICS, LATHE_PORT_OPTIONAL, "metrics stored with the version"},
    {"reference", LATHE_TYPE_DATASET, LATHE_PORT_OPTIONAL,
     "the model's training rows: their per-feature histograms and class counts are stored "
     "with the version, as the reference for drift"},
    {.name = NULL}};

static const LatheNodeKind engine_kinds[] = {
    {.kind = LATHE_KIND_SOURCE, .cache_inputs = source_cache_inputs, .execute = run_plain},
    {.kind = LATHE_KIND_TRANSFORM, .execute = run_plain},
    {.kind = LATHE_KIND_MODEL, .execute = run_model},
    {.kind = LATHE_KIND_EVALUATOR, .execute = run_plain},
    {.kind = LATHE_KIND_SINK, .execute = run_plain, .uncached = TRUE},
    {.kind = LATHE_KIND_REGISTRY, .params = registry_node_params, .inputs = registry_in,
     .validate = validate_register, .execute = run_register, .after_run = TRUE},
};

void lathe_engine_init(void) {
  for (guint i = 0; i < G_N_ELEMENTS(engine_kinds); i++)
    lathe_node_kind_register(&engine_kinds[i]);
}
