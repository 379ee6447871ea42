/* Parsing and validating a pipeline. Validation collects every problem with a
 * JSON pointer and a hint, like a compiler, rather than stopping at the first:
 * a user fixing a pipeline should see all of it in one go. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/graph-file.h"
#include "catalog/catalog.h"

static void edge_free(LatheEdge *e) {
  g_free(e->port);
  g_free(e->output);
  g_free(e);
}

static void cond_free(LatheCondition *c) {
  g_free(c->metric);
  g_free(c->op);
  g_free(c);
}

static void node_free(LatheNode *n) {
  g_free(n->id);
  g_free(n->pointer);
  g_free(n->use);
  g_clear_pointer(&n->with, json_object_unref);
  g_clear_pointer(&n->params, json_object_unref);
  g_ptr_array_unref(n->edges);
  g_ptr_array_unref(n->deps);
  g_ptr_array_unref(n->conditions);
  g_free(n->when);
  g_free(n->trial_text);
  g_clear_pointer(&n->trial, lathe_graph_free);
  lathe_graph_node_exec_clear(n);
  g_free(n);
}

void lathe_graph_free(LatheGraph *g) {
  if (!g)
    return;
  g_free(g->path);
  g_free(g->base_dir);
  g_free(g->name);
  g_ptr_array_unref(g->order);
  g_hash_table_unref(g->by_id);
  g_ptr_array_unref(g->nodes);
  g_clear_pointer(&g->tracker, json_object_unref);
  g_clear_pointer(&g->trackers, json_array_unref);
  g_clear_pointer(&g->registry, json_object_unref);
  g_clear_pointer(&g->executor, json_object_unref);
  g_free(g->text);
  g_free(g->preset);
  g_free(g);
}

LatheNode *lathe_graph_lookup(LatheGraph *g, const char *id) {
  for (; g; g = g->outer) {
    LatheNode *n = g_hash_table_lookup(g->by_id, id);
    if (n)
      return n;
  }
  return NULL;
}

const LathePortSpec *lathe_node_output_port(LatheNode *n, const char *name) {
  if (!name)
    return n->comp->n_outputs ? &n->comp->outputs[0] : NULL;
  return lathe_component_port(n->comp, name, TRUE);
}

static const char *suggest_id(LatheGraph *g, const char *id) {
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  for (LatheGraph *s = g; s; s = s->outer)
    for (guint i = 0; i < s->nodes->len; i++)
      g_ptr_array_add(ids, ((LatheNode *)s->nodes->pdata[i])->id);
  g_ptr_array_add(ids, NULL);
  return lathe_suggest(id, (const char *const *)ids->pdata);
}

static void check_keys(JsonObject *obj, const char *const *allowed, const char *pointer,
                       const char *what, GPtrArray *problems) {
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l; l = l->next) {
    if (g_strv_contains(allowed, l->data))
      continue;
    g_autofree char *ptr = g_strdup_printf("%s/%s", pointer, (char *)l->data);
    const char *near = lathe_suggest(l->data, allowed);
    g_autofree char *list = g_strjoinv(", ", (char **)allowed);
    if (near)
      lathe_problems_add(problems, ptr, "unknown key '%s' in %s (did you mean '%s'?)",
                         (char *)l->data, what, near);
    else
      lathe_problems_add(problems, ptr, "unknown key '%s' in %s; allowed: %s", (char *)l->data,
                         what, list);
  }
}

static gboolean valid_id(const char *id) {
  if (!*id)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

/* A node depending on itself (reading its own output, or a `when` on its own
 * metric) is kept: the ordering then reports it as the cycle "a -> a". */
static void add_dep(LatheNode *n, LatheNode *dep) {
  if (dep && !g_ptr_array_find(n->deps, dep, NULL))
    g_ptr_array_add(n->deps, dep);
}

/* What validation knows of a node kind beyond the catalog: whether it takes
 * a trial sub-graph, and its own checks. Filled at start-up by the layer
 * that owns the kind (lathe_node_kind_register()), so graph/ names none. */
typedef struct {
  gboolean trial;
  LatheNodeValidateFunc validate;
} GraphKind;

static GraphKind graph_kinds[LATHE_KIND_SINK + 1];

void lathe_graph_kind_set(LatheComponentKind kind, gboolean trial, LatheNodeValidateFunc validate) {
  g_return_if_fail(kind >= 1 && kind < G_N_ELEMENTS(graph_kinds));
  graph_kinds[kind] = (GraphKind){.trial = trial, .validate = validate};
}

/* Splits "node.name" at the first dot. */
gboolean lathe_graph_split_ref(const char *ref, char **node, char **rest) {
  const char *dot = strchr(ref, '.');
  if (!dot) {
    *node = g_strdup(ref);
    *rest = NULL;
    return TRUE;
  }
  *node = g_strndup(ref, dot - ref);
  *rest = g_strdup(dot + 1);
  return **node && **rest;
}

/* "a.m >= 0.9 && b.n < 3": a conjunction of comparisons against finite
 * numbers. Anything else is refused: a `when` that was not a string used to
 * be ignored, and the node it guarded ran unconditionally. */
static void parse_when(LatheGraph *g, LatheNode *n, JsonNode *wn, GPtrArray *problems) {
  g_autofree char *ptr = g_strdup_printf("%s/when", n->pointer);
  if (!JSON_NODE_HOLDS_VALUE(wn) || json_node_get_value_type(wn) != G_TYPE_STRING) {
    lathe_problems_add(problems, ptr,
                       "\"when\" is a condition string such as \"eval.accuracy >= 0.9\", "
                       "not %s", lathe_json_kind_name(wn));
    return;
  }
  const char *when = json_node_get_string(wn);
  n->when = g_strdup(when);
  g_autofree char *all = g_strstrip(g_strdup(when));
  if (!*all) {
    lathe_problems_add(problems, ptr,
                       "\"when\" is empty; write a condition such as \"eval.accuracy >= 0.9\", "
                       "or remove it");
    return;
  }
  g_auto(GStrv) clauses = g_strsplit(when, "&&", -1);
  static const char *const ops[] = {">=", "<=", "==", "!=", ">", "<", NULL};
  for (guint i = 0; clauses[i]; i++) {
    g_autofree char *c = g_strstrip(g_strdup(clauses[i]));
    const char *op = NULL, *at = NULL;
    for (guint k = 0; ops[k] && !op; k++)
      if ((at = strstr(c, ops[k])))
        op = ops[k];
    if (!op) {
      lathe_problems_add(problems, ptr,
                         "cannot read condition '%s'; write NODE.METRIC OP NUMBER, e.g. "
                         "\"eval.accuracy >= 0.9\"", c);
      continue;
    }
    g_autofree char *lhs = g_strstrip(g_strndup(c, at - c));
    g_autofree char *rhs = g_strstrip(g_strdup(at + strlen(op)));
    char *end = NULL;
    double v = g_ascii_strtod(rhs, &end);
    g_autofree char *node_id = NULL, *metric = NULL;
    /* "a.b => 1" found '>' and left "a.b =" as the metric: a reference has
     * no spaces and no operator characters. */
    if (!*rhs || *end || strpbrk(lhs, " \t=!<>") || !lathe_graph_split_ref(lhs, &node_id, &metric) ||
        !metric) {
      lathe_problems_add(problems, ptr,
                         "cannot read condition '%s'; write NODE.METRIC OP NUMBER, e.g. "
                         "\"eval.accuracy >= 0.9\"", c);
      continue;
    }
    if (!isfinite(v)) {
      lathe_problems_add(problems, ptr, "condition '%s' compares with %s; use a finite number", c,
                         rhs);
      continue;
    }
    LatheNode *dep = lathe_graph_lookup(g, node_id);
    if (!dep) {
      g_autofree char *hint = lathe_did_you_mean(suggest_id(g, node_id));
      lathe_problems_add(problems, ptr, "condition names unknown node '%s'%s", node_id, hint);
      continue;
    }
    LatheCondition *cond = g_new0(LatheCondition, 1);
    cond->node = dep;
    cond->metric = g_steal_pointer(&metric);
    cond->op = g_strdup(op);
    cond->value = v;
    g_ptr_array_add(n->conditions, cond);
    add_dep(n, dep);
  }
}

static LatheGraph *parse_graph(JsonObject *root, const char *pointer, LatheGraph *outer,
                               LatheCatalog *cat, GPtrArray *problems);

static void resolve_edges(LatheGraph *g, LatheNode *n, JsonObject *in, GPtrArray *problems) {
  g_autoptr(GList) members = in ? json_object_get_members(in) : NULL;
  for (GList *l = members; l; l = l->next) {
    const char *port = l->data;
    g_autofree char *ptr = g_strdup_printf("%s/in/%s", n->pointer, port);
    const LathePortSpec *ps = lathe_component_port(n->comp, port, FALSE);
    if (!ps) {
      g_autoptr(GPtrArray) names = g_ptr_array_new();
      for (guint i = 0; i < n->comp->n_inputs; i++)
        g_ptr_array_add(names, (gpointer)n->comp->inputs[i].name);
      g_ptr_array_add(names, NULL);
      const char *near = lathe_suggest(port, (const char *const *)names->pdata);
      g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
      g_autofree char *hint = lathe_did_you_mean(near);
      lathe_problems_add(problems, ptr, "%s has no input '%s'%s%s%s", n->comp->id, port, hint,
                         near ? "" : "; inputs: ", near ? "" : (*list ? list : "none"));
      continue;
    }
    JsonNode *v = json_object_get_member(in, port);
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
      lathe_problems_add(problems, ptr, "an input is a string \"NODE\" or \"NODE.OUTPUT\"");
      continue;
    }
    g_autofree char *src_id = NULL, *out = NULL;
    if (!lathe_graph_split_ref(json_node_get_string(v), &src_id, &out)) {
      lathe_problems_add(problems, ptr, "cannot read '%s'; write \"NODE\" or \"NODE.OUTPUT\"",
                         json_node_get_string(v));
      continue;
    }
    LatheNode *src = lathe_graph_lookup(g, src_id);
    if (!src) {
      g_autofree char *hint = lathe_did_you_mean(suggest_id(g, src_id));
      lathe_problems_add(problems, ptr, "unknown node '%s'%s", src_id, hint);
      continue;
    }
    if (!src->comp)
      continue; /* its own problem is reported already */
    const LathePortSpec *os = lathe_node_output_port(src, out);
    if (!os) {
      g_autoptr(GPtrArray) names = g_ptr_array_new();
      for (guint i = 0; i < src->comp->n_outputs; i++)
        g_ptr_array_add(names, (gpointer)src->comp->outputs[i].name);
      g_ptr_array_add(names, NULL);
      const char *near = out ? lathe_suggest(out, (const char *const *)names->pdata) : NULL;
      g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
      g_autofree char *hint = lathe_did_you_mean(near);
      lathe_problems_add(problems, ptr, "node '%s' (%s) has no output '%s'%s; outputs: %s",
                         src_id, src->comp->id, out ? out : "", hint, *list ? list : "none");
      continue;
    }
    if (ps->type != LATHE_TYPE_ANY && os->type != LATHE_TYPE_ANY && ps->type != os->type) {
      lathe_problems_add(problems, ptr, "input '%s' takes a %s but %s.%s gives a %s", port,
                         lathe_artifact_type_name(ps->type), src_id, os->name,
                         lathe_artifact_type_name(os->type));
      continue;
    }
    LatheEdge *e = g_new0(LatheEdge, 1);
    e->port = g_strdup(port);
    e->from = src;
    e->output = g_strdup(os->name);
    g_ptr_array_add(n->edges, e);
    add_dep(n, src);
  }
  for (guint i = 0; i < n->comp->n_inputs; i++) {
    const LathePortSpec *ps = &n->comp->inputs[i];
    if (!(ps->flags & LATHE_PORT_OPTIONAL) && !(in && json_object_has_member(in, ps->name)))
      lathe_problems_add(problems, n->pointer, "node '%s' (%s) needs input '%s' (%s)", n->id,
                         n->comp->id, ps->name, lathe_artifact_type_name(ps->type));
  }
}

/* Outer nodes a trial sub-graph reads become dependencies of its tuner. */
static void collect_outer_deps(LatheNode *tuner, LatheGraph *trial) {
  for (guint i = 0; i < trial->nodes->len; i++) {
    LatheNode *t = trial->nodes->pdata[i];
    for (guint j = 0; j < t->deps->len; j++) {
      LatheNode *d = t->deps->pdata[j];
      if (d->graph != trial)
        add_dep(tuner, d);
    }
    if (t->trial)
      collect_outer_deps(tuner, t->trial);
  }
}

/* A kind that takes a trial: its sub-graph, whose nodes may read outer
 * nodes (which the node then waits for) and may shadow outer ids. */
static void parse_trial(LatheGraph *g, LatheNode *n, JsonObject *obj, LatheCatalog *cat,
                        GPtrArray *problems) {
  g_autofree char *tptr = g_strdup_printf("%s/trial", n->pointer);
  JsonNode *tn = json_object_get_member(obj, "trial");
  if (!tn || !JSON_NODE_HOLDS_OBJECT(tn)) {
    lathe_problems_add(problems, n->pointer,
                       "tuner node '%s' needs a \"trial\" object: {\"nodes\": [...], "
                       "\"output\": \"NODE\"}", n->id);
    return;
  }
  JsonObject *trial = json_node_get_object(tn);
  static const char *const tkeys[] = {"nodes", "output", NULL};
  check_keys(trial, tkeys, tptr, "a trial", problems);
  n->trial = parse_graph(trial, tptr, g, cat, problems);
  /* After parsing, which hides secrets written in the trial: this text is
   * part of a cache key, and a plain hash of a password can be guessed. */
  n->trial_text = lathe_json_canonical(tn);
  if (!n->trial)
    return;
  collect_outer_deps(n, n->trial);
  if (json_object_has_member(trial, "output")) {
    const char *out = lathe_graph_string(trial, "output");
    if (!out) {
      g_autofree char *optr = g_strdup_printf("%s/output", tptr);
      lathe_problems_add(problems, optr, "trial \"output\" is the id of a trial node, not %s",
                         lathe_json_kind_name(json_object_get_member(trial, "output")));
      return;
    }
    n->trial_output = g_hash_table_lookup(n->trial->by_id, out);
    if (!n->trial_output || !n->trial_output->comp ||
        !lathe_component_port(n->trial_output->comp, "model", TRUE))
      lathe_problems_add(problems, tptr,
                         "trial output '%s' must name a trial node with a \"model\" output", out);
  }
}

/* A secret written in the file (or by --set) is replaced in the tree once its
 * params are resolved, so the pipeline text the store keeps never holds it;
 * an {"$env": ...} reference stays, as it names no value. */
static void hide_literal_secrets(LatheComponentInfo *c, JsonObject *with) {
  for (guint i = 0; with && c && i < c->params->len; i++) {
    const LatheParamSpec *s = &g_array_index(c->params, LatheParamSpec, i);
    JsonNode *v = (s->flags & LATHE_PARAM_SECRET) ? json_object_get_member(with, s->name) : NULL;
    if (v && !JSON_NODE_HOLDS_NULL(v) && !lathe_param_env_ref(v))
      json_object_set_string_member(with, s->name, LATHE_SECRET_SHOWN);
  }
}

/* The same in "presets": {"NAME": {"NODE": {"PARAM": VALUE}}}, all of them,
 * as the whole block is kept in the pipeline text. */
static void hide_preset_secrets(LatheGraph *g, JsonObject *root) {
  JsonNode *pn = json_object_get_member(root, "presets");
  if (!pn || !JSON_NODE_HOLDS_OBJECT(pn))
    return;
  g_autoptr(GList) names = json_object_get_members(json_node_get_object(pn));
  for (GList *l = names; l; l = l->next) {
    JsonNode *preset = json_object_get_member(json_node_get_object(pn), l->data);
    if (!JSON_NODE_HOLDS_OBJECT(preset))
      continue;
    g_autoptr(GList) ids = json_object_get_members(json_node_get_object(preset));
    for (GList *i = ids; i; i = i->next) {
      LatheNode *n = g_hash_table_lookup(g->by_id, i->data);
      JsonNode *with = json_object_get_member(json_node_get_object(preset), i->data);
      if (n && with && JSON_NODE_HOLDS_OBJECT(with))
        hide_literal_secrets(n->comp, json_node_get_object(with));
    }
  }
}

static LatheNode *parse_node(LatheGraph *g, JsonNode *nn, guint idx, const char *pointer,
                             LatheCatalog *cat, GPtrArray *problems) {
  LatheNode *n = g_new0(LatheNode, 1);
  n->index = idx;
  n->graph = g;
  n->pointer = g_strdup_printf("%s/nodes/%u", pointer, idx);
  n->edges = g_ptr_array_new_with_free_func((GDestroyNotify)edge_free);
  n->deps = g_ptr_array_new();
  n->conditions = g_ptr_array_new_with_free_func((GDestroyNotify)cond_free);
  n->cache = TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(nn)) {
    lathe_problems_add(problems, n->pointer, "a node is an object with \"id\" and \"use\", not %s",
                       lathe_json_kind_name(nn));
    n->id = g_strdup_printf("#%u", idx); /* no id: never looked up */
    return n;
  }
  JsonObject *o = json_node_get_object(nn);
  static const char *const keys[] = {"id",   "use",   "with",      "in",    "when", "cache",
                                     "trial", "executor", "resources", "retry", NULL};
  check_keys(o, keys, n->pointer, "a node", problems);
  gboolean wrong;
  JsonNode *idn = lathe_graph_member(o, "id", LATHE_JSON_STRING, &wrong);
  const char *id = idn ? json_node_get_string(idn) : NULL;
  if (!id || !valid_id(id)) {
    g_autofree char *got = id ? g_strdup_printf("'%s'", id)
                              : g_strdup(wrong ? lathe_json_kind_name(json_object_get_member(o, "id"))
                                               : "none");
    lathe_problems_add(problems, n->pointer,
                       "node needs an \"id\" of letters, digits, '_' or '-' (got %s)", got);
    n->id = g_strdup_printf("#%u", idx);
  } else {
    n->id = g_strdup(id);
  }
  if (json_object_has_member(o, "cache")) {
    JsonNode *c = json_object_get_member(o, "cache");
    if (JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_BOOLEAN)
      n->cache = json_node_get_boolean(c);
    else
      lathe_problems_add(problems, n->pointer, "\"cache\" must be true or false");
  }
  JsonNode *wn = json_object_get_member(o, "with");
  if (wn && !JSON_NODE_HOLDS_OBJECT(wn))
    lathe_problems_add(problems, n->pointer, "\"with\" must be an object of params");
  else if (wn)
    n->with = json_object_ref(json_node_get_object(wn));
  const char *use = lathe_graph_string(o, "use");
  g_autofree char *uptr = g_strdup_printf("%s/use", n->pointer);
  if (!use && json_object_has_member(o, "use")) {
    lathe_problems_add(problems, uptr, "\"use\" is a string \"KIND/NAME\", not %s",
                       lathe_json_kind_name(json_object_get_member(o, "use")));
    return n;
  }
  if (!use) {
    lathe_problems_add(problems, n->pointer, "node '%s' needs \"use\": \"KIND/NAME\"", n->id);
    return n;
  }
  n->use = g_strdup(use);
  n->comp = lathe_catalog_lookup(cat, use);
  if (!n->comp) {
    g_autofree char *near = lathe_catalog_suggest(cat, use);
    if (near)
      lathe_problems_add(problems, uptr, "unknown plugin component '%s' (did you mean '%s'?)", use,
                         near);
    else
      lathe_problems_add(problems, uptr,
                         "unknown plugin component '%s'; `lathe plugins` lists what is installed",
                         use);
    return n;
  }
  if (!lathe_kind_is_node(n->comp->kind)) {
    lathe_problems_add(problems, uptr, "%s is not a node; set it as the pipeline's \"%s\"",
                       use, lathe_kind_name(n->comp->kind));
    n->comp = NULL;
    return n;
  }
  g_autofree char *wptr = g_strdup_printf("%s/with", n->pointer);
  n->params = lathe_params_resolve(n->comp, n->with, wptr, problems, FALSE);
  lathe_params_run_checks(cat, n->comp, n->with, n->params, wptr, problems);
  hide_literal_secrets(n->comp, n->with);
  if (!graph_kinds[n->comp->kind].trial && json_object_has_member(o, "trial"))
    lathe_problems_add(problems, n->pointer, "only tuner nodes have a \"trial\"");
  lathe_graph_node_exec_parse(n, o, cat, problems);
  return n;
}

/* Kahn's order, O(nodes + edges); leftovers are on or behind a cycle,
 * which a walk then names. */
static void order_nodes(LatheGraph *g, const char *pointer, GPtrArray *problems) {
  g_autoptr(GHashTable) indeg = g_hash_table_new(NULL, NULL);
  g_autoptr(GHashTable) dependents = g_hash_table_new_full(NULL, NULL, NULL,
                                                           (GDestroyNotify)g_ptr_array_unref);
  for (guint i = 0; i < g->nodes->len; i++) {
    LatheNode *n = g->nodes->pdata[i];
    guint d = 0;
    for (guint j = 0; j < n->deps->len; j++) {
      LatheNode *dep = n->deps->pdata[j];
      if (dep->graph != g)
        continue;
      d++;
      GPtrArray *list = g_hash_table_lookup(dependents, dep);
      if (!list) {
        list = g_ptr_array_new();
        g_hash_table_insert(dependents, dep, list);
      }
      g_ptr_array_add(list, n);
    }
    g_hash_table_insert(indeg, n, GUINT_TO_POINTER(d));
  }
  g_autoptr(GQueue) ready = g_queue_new();
  for (guint i = 0; i < g->nodes->len; i++)
    if (!GPOINTER_TO_UINT(g_hash_table_lookup(indeg, g->nodes->pdata[i])))
      g_queue_push_tail(ready, g->nodes->pdata[i]);
  while (!g_queue_is_empty(ready)) {
    LatheNode *n = g_queue_pop_head(ready);
    g_ptr_array_add(g->order, n);
    GPtrArray *list = g_hash_table_lookup(dependents, n);
    for (guint i = 0; list && i < list->len; i++) {
      LatheNode *m = list->pdata[i];
      guint d = GPOINTER_TO_UINT(g_hash_table_lookup(indeg, m)) - 1;
      g_hash_table_insert(indeg, m, GUINT_TO_POINTER(d));
      if (!d)
        g_queue_push_tail(ready, m);
    }
  }
  if (g->order->len == g->nodes->len)
    return;
  /* Walk dependencies from a leftover node until one repeats: that is a cycle. */
  g_autoptr(GHashTable) placed = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < g->order->len; i++)
    g_hash_table_add(placed, g->order->pdata[i]);
  LatheNode *start = NULL;
  for (guint i = 0; i < g->nodes->len && !start; i++)
    if (!g_hash_table_contains(placed, g->nodes->pdata[i]))
      start = g->nodes->pdata[i];
  g_autoptr(GPtrArray) path = g_ptr_array_new();
  LatheNode *cur = start;
  while (!g_ptr_array_find(path, cur, NULL)) {
    g_ptr_array_add(path, cur);
    LatheNode *next = NULL;
    for (guint j = 0; j < cur->deps->len && !next; j++) {
      LatheNode *d = cur->deps->pdata[j];
      if (d->graph == g && !g_hash_table_contains(placed, d))
        next = d;
    }
    cur = next;
  }
  guint at;
  g_ptr_array_find(path, cur, &at);
  GString *s = g_string_new(NULL);
  /* path follows dependencies; print it the way data flows */
  for (guint i = path->len; i > at; i--)
    g_string_append_printf(s, "%s -> ", ((LatheNode *)path->pdata[i - 1])->id);
  g_string_append(s, ((LatheNode *)path->pdata[path->len - 1])->id);
  lathe_problems_add(problems, pointer[0] ? pointer : "/nodes",
                     "cycle: %s; a node cannot depend on its own output", s->str);
  g_string_free(s, TRUE);
}

static LatheGraph *parse_graph(JsonObject *root, const char *pointer, LatheGraph *outer,
                               LatheCatalog *cat, GPtrArray *problems) {
  LatheGraph *g = g_new0(LatheGraph, 1);
  g->outer = outer;
  g->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
  g->order = g_ptr_array_new();
  g->by_id = g_hash_table_new(g_str_hash, g_str_equal);
  g_autofree char *nptr = g_strdup_printf("%s/nodes", pointer);
  JsonNode *nodes = json_object_get_member(root, "nodes");
  if (!nodes || !JSON_NODE_HOLDS_ARRAY(nodes) || !json_array_get_length(json_node_get_array(nodes))) {
    lathe_problems_add(problems, nptr, "\"nodes\" must be a non-empty list of nodes");
    return g;
  }
  JsonArray *arr = json_node_get_array(nodes);
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    LatheNode *n = parse_node(g, json_array_get_element(arr, i), i, pointer, cat, problems);
    g_ptr_array_add(g->nodes, n);
    if (n->id[0] == '#')
      continue;
    /* Trial nodes may shadow outer ids: they run namespaced (tune/3/eval). */
    LatheNode *prev = g_hash_table_lookup(g->by_id, n->id);
    if (prev) {
      g_autofree char *iptr = g_strdup_printf("%s/id", n->pointer);
      lathe_problems_add(problems, iptr, "duplicate node id '%s' (first used at %s)", n->id,
                         prev->pointer);
      continue;
    }
    g_hash_table_insert(g->by_id, n->id, n);
  }
  for (guint i = 0; i < g->nodes->len; i++) {
    LatheNode *n = g->nodes->pdata[i];
    JsonNode *nn = json_array_get_element(arr, i);
    if (!n->comp || !JSON_NODE_HOLDS_OBJECT(nn))
      continue;
    JsonObject *o = json_node_get_object(nn);
    JsonNode *in = json_object_get_member(o, "in");
    if (in && !JSON_NODE_HOLDS_OBJECT(in))
      lathe_problems_add(problems, n->pointer, "\"in\" must be an object {\"INPUT\": \"NODE\"}");
    else
      resolve_edges(g, n, in ? json_node_get_object(in) : NULL, problems);
    JsonNode *when = json_object_get_member(o, "when");
    if (when)
      parse_when(g, n, when, problems);
    const GraphKind *k = &graph_kinds[n->comp->kind];
    if (k->trial)
      parse_trial(g, n, o, cat, problems);
    if (k->validate)
      k->validate(n, problems);
  }
  order_nodes(g, pointer, problems);
  return g;
}

void lathe_graph_check_setting(JsonNode *v, const char *ptr, const char *key,
                               LatheComponentKind kind, LatheCatalog *cat, GPtrArray *problems,
                               JsonObject **out) {
  const char *use = JSON_NODE_HOLDS_OBJECT(v) ? lathe_graph_string(json_node_get_object(v), "use")
                                               : NULL;
  if (!use) {
    lathe_problems_add(problems, ptr, "\"%s\" is {\"use\": \"%s/NAME\", \"with\": {...}}", key,
                       lathe_kind_name(kind));
    return;
  }
  LatheComponentInfo *c = lathe_catalog_lookup(cat, use);
  if (!c || c->kind != kind) {
    g_autofree char *near = lathe_catalog_suggest(cat, use);
    g_autofree char *hint = lathe_did_you_mean(near);
    lathe_problems_add(problems, ptr, "'%s' is not an installed %s%s", use, lathe_kind_name(kind),
                       hint);
    return;
  }
  JsonObject *o = json_node_get_object(v);
  static const char *const keys[] = {"use", "with", NULL};
  check_keys(o, keys, ptr, key, problems);
  JsonNode *w = json_object_get_member(o, "with");
  g_autofree char *wptr = g_strdup_printf("%s/with", ptr);
  if (w && !JSON_NODE_HOLDS_OBJECT(w))
    lathe_problems_add(problems, wptr, "\"with\" is an object of params, not %s",
                       lathe_json_kind_name(w));
  /* Registry components also take node params (name, alias); a setting
   * configures the plugin only. */
  JsonObject *resolved = lathe_params_resolve(
      c, w && JSON_NODE_HOLDS_OBJECT(w) ? json_node_get_object(w) : NULL, wptr, problems, TRUE);
  /* A setting's params are checked like a node's, so `lathe validate` refuses
   * what the plugin would refuse at run time (a token written in the file). */
  lathe_params_run_checks(cat, c, w && JSON_NODE_HOLDS_OBJECT(w) ? json_node_get_object(w) : NULL,
                          resolved, wptr, problems);
  hide_literal_secrets(c, w && JSON_NODE_HOLDS_OBJECT(w) ? json_node_get_object(w) : NULL);
  JsonObject *setting = json_object_new();
  json_object_set_string_member(setting, "use", use);
  json_object_set_object_member(setting, "with", resolved);
  *out = setting;
}

static void check_setting(JsonObject *root, const char *key, LatheComponentKind kind,
                          LatheCatalog *cat, GPtrArray *problems, JsonObject **out) {
  JsonNode *v = json_object_get_member(root, key);
  if (!v)
    return;
  g_autofree char *ptr = g_strdup_printf("/%s", key);
  lathe_graph_check_setting(v, ptr, key, kind, cat, problems, out);
}

/* "tracker": one setting, or a list of them (each with its own journal stream). */
static void check_trackers(JsonObject *root, LatheCatalog *cat, GPtrArray *problems,
                           LatheGraph *g) {
  JsonNode *v = json_object_get_member(root, "tracker");
  if (!v)
    return;
  g->trackers = json_array_new();
  if (!JSON_NODE_HOLDS_ARRAY(v)) {
    lathe_graph_check_setting(v, "/tracker", "tracker", LATHE_KIND_TRACKER, cat, problems, &g->tracker);
    if (g->tracker)
      json_array_add_object_element(g->trackers, json_object_ref(g->tracker));
    return;
  }
  JsonArray *a = json_node_get_array(v);
  if (json_array_get_length(a) == 0)
    lathe_problems_add(problems, "/tracker", "\"tracker\" is a setting or a non-empty list of "
                       "settings; leave it out for the default");
  for (guint i = 0; i < json_array_get_length(a); i++) {
    g_autofree char *ptr = g_strdup_printf("/tracker/%u", i);
    JsonObject *one = NULL;
    lathe_graph_check_setting(json_array_get_element(a, i), ptr, "tracker", LATHE_KIND_TRACKER, cat,
                     problems, &one);
    if (one)
      json_array_add_object_element(g->trackers, one);
  }
  if (json_array_get_length(g->trackers))
    g->tracker = json_object_ref(json_array_get_object_element(g->trackers, 0));
}

static gboolean apply_sets(JsonObject *root, const char *const *sets, GPtrArray *problems) {
  JsonNode *nodes = json_object_get_member(root, "nodes");
  JsonArray *arr = nodes && JSON_NODE_HOLDS_ARRAY(nodes) ? json_node_get_array(nodes) : NULL;
  gboolean ok = TRUE;
  for (guint i = 0; sets && sets[i]; i++) {
    const char *eq = strchr(sets[i], '=');
    const char *dot = eq ? memchr(sets[i], '.', eq - sets[i]) : NULL;
    if (!eq || !dot || dot == sets[i] || dot + 1 == eq) {
      lathe_problems_add(problems, "", "--set '%s': write NODE.PARAM=VALUE", sets[i]);
      ok = FALSE;
      continue;
    }
    g_autofree char *id = g_strndup(sets[i], dot - sets[i]);
    g_autofree char *param = g_strndup(dot + 1, eq - dot - 1);
    JsonObject *target = NULL;
    for (guint k = 0; arr && k < json_array_get_length(arr); k++) {
      JsonNode *nn = json_array_get_element(arr, k);
      if (JSON_NODE_HOLDS_OBJECT(nn) &&
          g_strcmp0(lathe_graph_string(json_node_get_object(nn), "id"), id) == 0)
        target = json_node_get_object(nn);
    }
    if (!target) {
      lathe_problems_add(problems, "", "--set '%s': no node '%s' in the pipeline", sets[i], id);
      ok = FALSE;
      continue;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *value;
    g_autofree char *what = g_strdup_printf("--set '%s': ", sets[i]);
    if (!lathe_graph_json_scan(eq + 1, strlen(eq + 1), what, problems)) {
      ok = FALSE;
      continue;
    }
    if (json_parser_load_from_data(p, eq + 1, -1, NULL) && json_parser_get_root(p))
      value = json_node_copy(json_parser_get_root(p));
    else
      value = json_node_init_string(json_node_alloc(), eq + 1);
    JsonNode *w = json_object_get_member(target, "with");
    if (!w || !JSON_NODE_HOLDS_OBJECT(w)) {
      json_object_set_object_member(target, "with", json_object_new());
      w = json_object_get_member(target, "with");
    }
    json_object_set_member(json_node_get_object(w), param, value);
  }
  return ok;
}

LatheGraph *lathe_graph_load(const char *path, const char *preset, const char *const *sets,
                             LatheCatalog *cat, GPtrArray *problems) {
  LatheGraphOverrides ov = {.preset = preset, .sets = sets, .seed = -1};
  return lathe_graph_load_overridden(path, &ov, cat, problems);
}

LatheGraph *lathe_graph_load_from_data(const char *text, gsize len, const char *path,
                                       const char *preset, const char *const *sets,
                                       LatheCatalog *cat, GPtrArray *problems) {
  LatheGraphOverrides ov = {.preset = preset, .sets = sets, .seed = -1};
  return lathe_graph_load_overridden_from_data(text, len, path, &ov, cat, problems);
}

LatheGraph *lathe_graph_load_overridden(const char *path, const LatheGraphOverrides *ov,
                                        LatheCatalog *cat, GPtrArray *problems) {
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!lathe_graph_read_file(path, &text, &len, &error)) {
    lathe_problems_add(problems, "", "cannot read the pipeline: %s", error->message);
    return NULL;
  }
  return lathe_graph_load_overridden_from_data(text, len, path, ov, cat, problems);
}

LatheGraph *lathe_graph_load_overridden_from_data(const char *text, gsize len, const char *path,
                                                  const LatheGraphOverrides *ov,
                                                  LatheCatalog *cat, GPtrArray *problems) {
  static const LatheGraphOverrides none = {.seed = -1};
  if (!ov)
    ov = &none;
  const char *preset = ov->preset;
  const char *const *sets = ov->sets;
  g_autoptr(GError) error = NULL;
  if (!g_utf8_validate(text, (gssize)len, NULL)) {
    lathe_problems_add(problems, "", "the pipeline is not valid UTF-8 text");
    return NULL;
  }
  if (!lathe_graph_json_scan(text, len, "", problems))
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize)len, &error)) {
    /* json-glib says "<data>:LINE:COL: Parse error: unexpected identifier
     * `WORD', ..."; keep LINE:COL and drop the quoted text: the file may be
     * anything (`lathe validate ~/.aws/credentials`), and an error message
     * ends up in logs, so it quotes nothing of a file that is not JSON. */
    const char *msg = error->message;
    if (g_str_has_prefix(msg, "<data>:"))
      msg += strlen("<data>:");
    GString *plain = g_string_new(NULL);
    for (const char *c = msg; *c; c++) {
      const char *end = *c == '`' ? strchr(c, '\'') : NULL;
      if (end && !(end == c + 2 && g_ascii_ispunct(c[1]))) { /* `}' says no more than the column */
        c = end;
        if (plain->len && plain->str[plain->len - 1] == ' ')
          g_string_truncate(plain, plain->len - 1);
      } else {
        g_string_append_c(plain, *c);
      }
    }
    lathe_problems_add(problems, "", "%s (invalid JSON; fix the syntax at that line:column)",
                       plain->str);
    g_string_free(plain, TRUE);
    return NULL;
  }
  JsonNode *rootn = json_parser_get_root(parser);
  if (!rootn || !JSON_NODE_HOLDS_OBJECT(rootn)) {
    lathe_problems_add(problems, "", "a pipeline is a JSON object with \"nodes\"");
    return NULL;
  }
  /* --set edits this tree in place; the parser owns it. */
  JsonNode *copy = rootn;
  JsonObject *root = json_node_get_object(copy);
  g_autofree char *chosen = NULL;
  g_autoptr(JsonObject) presets = NULL;
  if (!lathe_graph_presets_apply(root, preset, problems, &chosen, &presets))
    return NULL;
  if (!apply_sets(root, sets, problems))
    return NULL;
  /* --seed edits the tree like --set: the recorded pipeline holds the seed
   * that ran, and the graph reads it from one place. */
  if (ov->seed >= 0)
    json_object_set_int_member(root, "seed", ov->seed);
  if (!lathe_graph_cv_expand(root, problems))
    return NULL;
  static const char *const keys[] = {"lathe", "name", "seed", "nodes", "tracker",
                                     "registry", "executor", "preset", NULL};
  check_keys(root, keys, "", "the pipeline", problems);
  JsonNode *ver = json_object_get_member(root, "lathe");
  if (ver && (!JSON_NODE_HOLDS_VALUE(ver) || json_node_get_value_type(ver) != G_TYPE_INT64 ||
              json_node_get_int(ver) != 1))
    lathe_problems_add(problems, "/lathe", "this Lathe reads pipeline format 1 (\"lathe\": 1)");
  gboolean wrong;
  LatheGraph *g = parse_graph(root, "", NULL, cat, problems);
  g->path = g_strdup(path);
  g_autofree char *abs = g_canonicalize_filename(path, NULL);
  g->base_dir = g_path_get_dirname(abs);
  g_autofree char *stem = g_path_get_basename(path);
  JsonNode *namen = lathe_graph_member(root, "name", LATHE_JSON_STRING, &wrong);
  const char *name = namen ? json_node_get_string(namen) : stem;
  if (wrong)
    lathe_problems_add(problems, "/name", "\"name\" is a string, not %s",
                       lathe_json_kind_name(json_object_get_member(root, "name")));
  else if (namen && (!*name || lathe_graph_has_control(name)))
    lathe_problems_add(problems, "/name",
                       "\"name\" must be a non-empty string without control characters");
  /* Runs of different presets of one pipeline must tell apart in `runs list`. */
  g->name = chosen ? g_strdup_printf("%s:%s", name, chosen) : g_strdup(name);
  g->preset = g_steal_pointer(&chosen);
  if (presets) {
    lathe_graph_presets_blame(g, presets, g->preset, sets, problems);
    lathe_graph_presets_check(g, cat, presets, g->preset, problems);
  }
  JsonNode *seed = json_object_get_member(root, "seed");
  if (seed) {
    if (JSON_NODE_HOLDS_VALUE(seed) && json_node_get_value_type(seed) == G_TYPE_INT64 &&
        json_node_get_int(seed) >= 0)
      g->seed = (guint64)json_node_get_int(seed);
    else
      lathe_problems_add(problems, "/seed", "\"seed\" must be a non-negative integer");
  }
  check_trackers(root, cat, problems, g);
  check_setting(root, "registry", LATHE_KIND_REGISTRY, cat, problems, &g->registry);
  check_setting(root, "executor", LATHE_KIND_EXECUTOR, cat, problems, &g->executor);
  hide_preset_secrets(g, root);
  g->text = lathe_json_canonical(copy);
  if (problems->len) {
    lathe_graph_free(g);
    return NULL;
  }
  return g;
}
