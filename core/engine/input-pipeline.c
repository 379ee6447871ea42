/* A registered version's input pipeline: the chain of nodes from the source
 * to the model's training input, with the state each stateful transform
 * fitted, so that new raw data can be scored through it (lathe predict).
 *
 * The chain is traced on the run's graph from the register node's model:
 * through a tuner to its trial's output node, through an evaluator that
 * picks a model (evaluator/compare) to the input whose artifact is the one
 * registered, then from the model's "train" input upstream. transform/split
 * only routes rows between train and test, so it is left out; any other
 * transform is kept with its params, overridden by what its optional
 * "state" output says (the params that make it apply its fit). */
#include "engine/engine-private.h"

#define MAX_DEPTH 64

static LatheEdge *edge_of(LatheNode *n, const char *port) {
  for (guint i = 0; i < n->edges->len; i++) {
    LatheEdge *e = n->edges->pdata[i];
    if (g_str_equal(e->port, port))
      return e;
  }
  return NULL;
}

static const char *output_digest(LatheBatch *b, LatheNode *n, const char *port) {
  LatheNodeRun *t = lathe_batch_find(b, n);
  LatheArtifact *a = t ? g_hash_table_lookup(t->outputs, port) : NULL;
  return a ? lathe_artifact_get_digest(a) : NULL;
}

/* The "train" edge of the model node that made the artifact of @digest,
 * reached from output @port of @n. */
static LatheEdge *model_train_edge(LatheBatch *b, LatheNode *n, const char *port,
                                   const char *digest, guint depth, char **why) {
  if (depth > MAX_DEPTH) {
    *why = g_strdup("the graph is too deep");
    return NULL;
  }
  if (n->comp->kind == LATHE_KIND_MODEL) {
    LatheEdge *e = edge_of(n, "train");
    if (!e)
      *why = g_strdup_printf("model node '%s' has no 'train' input", n->id);
    return e;
  }
  if (n->trial_output)
    return model_train_edge(b, n->trial_output, "model", digest, depth + 1, why);
  for (guint i = 0; i < n->edges->len; i++) {
    LatheEdge *e = n->edges->pdata[i];
    if (g_strcmp0(output_digest(b, e->from, e->output), digest) == 0)
      return model_train_edge(b, e->from, e->output, digest, depth + 1, why);
  }
  *why = g_strdup_printf("node '%s' (%s) passes on a model none of its inputs made", n->id,
                         n->use);
  return NULL;
}

/* The task's params as recorded (secrets hidden), or the node's own. */
static JsonObject *node_params(LatheBatch *b, LatheNode *n) {
  LatheNodeRun *t = lathe_batch_find(b, n);
  JsonObject *p = t && t->public_params ? t->public_params : n->params ? n->params : n->with;
  JsonObject *copy = json_object_new();
  g_autoptr(GList) names = p ? json_object_get_members(p) : NULL;
  for (GList *l = names; l; l = l->next)
    json_object_set_member(copy, l->data, json_node_copy(json_object_get_member(p, l->data)));
  LatheArtifact *state = t ? g_hash_table_lookup(t->outputs, "state") : NULL;
  JsonObject *s = state && lathe_artifact_get_kind(state) == LATHE_TYPE_METRICS
                      ? lathe_artifact_get_metrics(state, NULL) : NULL;
  g_autoptr(GList) keys = s ? json_object_get_members(s) : NULL;
  for (GList *l = keys; l; l = l->next)
    json_object_set_member(copy, l->data, json_node_copy(json_object_get_member(s, l->data)));
  return copy;
}

static JsonObject *step_new(LatheBatch *b, LatheNode *n, const char *output) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", n->id);
  json_object_set_string_member(o, "use", n->comp->id);
  json_object_set_string_member(o, "output", output);
  json_object_set_object_member(o, "with", node_params(b, n));
  return o;
}

JsonObject *lathe_input_pipeline_trace(LatheNodeRun *reg, char **why) {
  LatheBatch *b = reg->batch;
  LatheEdge *me = edge_of(reg->node, "model");
  LatheNodeRun *mt = me ? lathe_batch_find(b, me->from) : NULL;
  LatheArtifact *model = mt ? g_hash_table_lookup(mt->outputs, me->output) : NULL;
  if (!model) {
    *why = g_strdup("its model input is not there");
    return NULL;
  }
  LatheEdge *e = model_train_edge(b, me->from, me->output, lathe_artifact_get_digest(model), 0,
                                  why);
  if (!e)
    return NULL;
  JsonArray *steps = json_array_new();
  for (guint depth = 0; depth < MAX_DEPTH; depth++) {
    LatheNode *n = e->from;
    if (n->comp->kind == LATHE_KIND_SOURCE) {
      JsonObject *out = json_object_new();
      JsonObject *src = step_new(b, n, e->output);
      /* The columns it read: what new data must have (lathe predict). */
      LatheNodeRun *st = lathe_batch_find(b, n);
      LatheArtifact *a = st ? g_hash_table_lookup(st->outputs, e->output) : NULL;
      const LatheDataset *ds = a && lathe_artifact_get_kind(a) == LATHE_TYPE_DATASET
                                   ? lathe_artifact_get_dataset(a, NULL) : NULL;
      if (ds && !ds->seq_len) {
        JsonArray *cols = json_array_new();
        for (guint i = 0; i < ds->n_cols; i++)
          json_array_add_string_element(cols, ds->columns[i]);
        json_object_set_array_member(src, "columns", cols);
      }
      json_object_set_object_member(out, "source", src);
      json_object_set_array_member(out, "steps", steps);
      return out;
    }
    if (n->comp->kind != LATHE_KIND_TRANSFORM) {
      *why = g_strdup_printf("node '%s' (%s) feeds the model but is not a transform", n->id,
                             n->use);
      break;
    }
    gboolean routing = g_str_equal(n->comp->id, "transform/split");
    /* A transform's output comes from the input of the same name
     * (standardize: train -> train), or from its only input. */
    LatheEdge *up = routing ? edge_of(n, "data") : edge_of(n, e->output);
    if (!up && n->edges->len == 1)
      up = n->edges->pdata[0];
    if (!up) {
      *why = g_strdup_printf("transform '%s' (%s) has several inputs; only chains are "
                             "recorded", n->id, n->use);
      break;
    }
    if (!routing && !lathe_batch_find(b, n)) {
      *why = g_strdup_printf("transform '%s' runs inside a trial, where its fitted state is "
                             "not kept; move it before the tuner", n->id);
      break;
    }
    if (!routing) {
      JsonObject *s = step_new(b, n, e->output);
      json_object_set_string_member(s, "input", up->port);
      JsonNode *node = json_node_init_object(json_node_alloc(), s);
      json_object_unref(s);
      /* Walking upstream: each step goes before the ones already found. */
      GList *old = json_array_get_elements(steps);
      JsonArray *next = json_array_new();
      json_array_add_element(next, node);
      for (GList *l = old; l; l = l->next)
        json_array_add_element(next, json_node_copy(l->data));
      g_list_free(old);
      json_array_unref(steps);
      steps = next;
    }
    e = up;
  }
  if (!*why)
    *why = g_strdup("the chain is too long");
  json_array_unref(steps);
  return NULL;
}
