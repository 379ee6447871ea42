/* graph-cv.c: the "cv" node, a macro for grouped k-fold cross-validation.
 *
 * A pipeline writes the fold sub-graph once:
 *   {"id": "cv", "use": "cv", "in": {"data": "windows"},
 *    "with": {"folds": 5, "seed": 0, "grouped": true, "stratify": true,
 *             "group_key": "", "metrics": []},
 *    "fold": {"nodes": [...], "output": "eval"}}
 * and this expands it, before the graph is parsed, into plain nodes: for each
 * fold i a transform/split "cv-i-split" (folds, fold = i) and a copy of every
 * fold node as "cv-i-ID" (references to "split" and to fold nodes renamed,
 * others kept), then an evaluator/cv "cv" whose fold_i is "cv-i-OUTPUT". So
 * every fold is an ordinary node: the scheduler runs the folds in parallel,
 * the cache keeps each one, and "cv.macro_f1.mean" is a metric like any
 * other (a tuner's objective, a `when`). The expanded tree is what the run
 * records. Runs inside a tuner's trial too. */
#include <string.h>

#include "catalog/catalog.h"
#include "graph/graph.h"

#define CV_MAX_FOLDS 10 /* evaluator/cv's ports */

/* A reference "NODE" or "NODE.PORT" renamed when NODE is a fold node. */
static char *rename_ref(const char *ref, const char *prefix, GHashTable *inner) {
  const char *dot = strchr(ref, '.');
  g_autofree char *node = dot ? g_strndup(ref, dot - ref) : g_strdup(ref);
  if (!g_hash_table_contains(inner, node))
    return g_strdup(ref);
  return g_strdup_printf("%s%s%s", prefix, node, dot ? dot : "");
}

/* json_node_copy() shares objects and arrays; each fold renames its own. */
static JsonNode *deep_copy(JsonNode *n) {
  g_autofree char *text = json_to_string(n, FALSE);
  return json_from_string(text, NULL);
}

static gboolean with_bool(JsonObject *with, const char *key, gboolean def) {
  JsonNode *v = with ? json_object_get_member(with, key) : NULL;
  return v && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_BOOLEAN
             ? json_node_get_boolean(v)
             : def;
}

/* The nodes one cv node expands into, or NULL after a problem. */
static JsonArray *expand_one(JsonObject *o, const char *ptr, GPtrArray *problems) {
  static const char *const allowed[] = {"folds",     "seed",         "grouped", "stratify",
                                        "group_key", "stratify_key", "metrics", NULL};
  const char *id = lathe_graph_string(o, "id");
  JsonNode *withn = json_object_get_member(o, "with");
  JsonObject *with = withn && JSON_NODE_HOLDS_OBJECT(withn) ? json_node_get_object(withn) : NULL;
  JsonNode *inn = json_object_get_member(o, "in");
  const char *data = inn && JSON_NODE_HOLDS_OBJECT(inn)
                         ? lathe_graph_string(json_node_get_object(inn), "data")
                         : NULL;
  JsonNode *foldn = json_object_get_member(o, "fold");
  JsonObject *fold = foldn && JSON_NODE_HOLDS_OBJECT(foldn) ? json_node_get_object(foldn) : NULL;
  JsonNode *nodesn = fold ? json_object_get_member(fold, "nodes") : NULL;
  const char *output = fold ? lathe_graph_string(fold, "output") : NULL;
  JsonNode *foldsn = with ? json_object_get_member(with, "folds") : NULL;
  gint64 folds = foldsn && JSON_NODE_HOLDS_VALUE(foldsn) &&
                         json_node_get_value_type(foldsn) == G_TYPE_INT64
                     ? json_node_get_int(foldsn)
                     : 0;
  if (!id || !data || !nodesn || !JSON_NODE_HOLDS_ARRAY(nodesn) || !output) {
    lathe_problems_add(problems, ptr,
                       "a cv node is {\"id\", \"use\": \"cv\", \"in\": {\"data\": NODE}, "
                       "\"with\": {\"folds\": K}, \"fold\": {\"nodes\": [...], \"output\": "
                       "EVALUATOR}} (docs/cv.md)");
    return NULL;
  }
  if (folds < 2 || folds > CV_MAX_FOLDS) {
    lathe_problems_add(problems, ptr, "cv node '%s': \"folds\" must be an integer from 2 to %d",
                       id, CV_MAX_FOLDS);
    return NULL;
  }
  if (with) {
    g_autoptr(GList) keys = json_object_get_members(with);
    for (GList *l = keys; l; l = l->next)
      if (!g_strv_contains(allowed, l->data)) {
        lathe_problems_add(problems, ptr,
                           "cv node '%s': unknown param '%s'; allowed: folds, seed, grouped, "
                           "stratify, group_key, stratify_key, metrics",
                           id, (char *)l->data);
        return NULL;
      }
  }
  JsonArray *inner_nodes = json_node_get_array(nodesn);
  g_autoptr(GHashTable) inner = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(inner, "split");
  gboolean has_output = FALSE;
  for (guint j = 0; j < json_array_get_length(inner_nodes); j++) {
    JsonNode *e = json_array_get_element(inner_nodes, j);
    const char *iid = JSON_NODE_HOLDS_OBJECT(e) ? lathe_graph_string(json_node_get_object(e), "id")
                                                : NULL;
    if (!iid || g_strcmp0(iid, "split") == 0) {
      lathe_problems_add(problems, ptr, "cv node '%s': fold node %u needs an \"id\" other than "
                         "'split' (the fold's own split)", id, j);
      return NULL;
    }
    g_hash_table_add(inner, (gpointer)iid);
    has_output = has_output || g_strcmp0(iid, output) == 0;
  }
  if (!has_output) {
    lathe_problems_add(problems, ptr, "cv node '%s': fold output '%s' is not a fold node", id,
                       output);
    return NULL;
  }
  JsonArray *out = json_array_new();
  JsonObject *agg_in = json_object_new();
  for (gint64 i = 1; i <= folds; i++) {
    g_autofree char *prefix = g_strdup_printf("%s-%" G_GINT64_FORMAT "-", id, i);
    JsonObject *split = json_object_new();
    g_autofree char *split_id = g_strconcat(prefix, "split", NULL);
    json_object_set_string_member(split, "id", split_id);
    json_object_set_string_member(split, "use", "transform/split");
    JsonObject *sin = json_object_new();
    json_object_set_string_member(sin, "data", data);
    json_object_set_object_member(split, "in", sin);
    JsonObject *sw = json_object_new();
    json_object_set_int_member(sw, "folds", folds);
    json_object_set_int_member(sw, "fold", i);
    JsonNode *seed = with ? json_object_get_member(with, "seed") : NULL;
    json_object_set_member(sw, "seed", seed ? json_node_copy(seed) : json_node_init_int(json_node_alloc(), 0));
    json_object_set_boolean_member(sw, "grouped", with_bool(with, "grouped", TRUE));
    json_object_set_boolean_member(sw, "stratify", with_bool(with, "stratify", TRUE));
    JsonNode *key = with ? json_object_get_member(with, "group_key") : NULL;
    if (key)
      json_object_set_member(sw, "group_key", json_node_copy(key));
    JsonNode *skey = with ? json_object_get_member(with, "stratify_key") : NULL;
    if (skey) /* only when given: older pipelines keep their expanded graph */
      json_object_set_member(sw, "stratify_key", json_node_copy(skey));
    json_object_set_object_member(split, "with", sw);
    json_array_add_object_element(out, split);
    for (guint j = 0; j < json_array_get_length(inner_nodes); j++) {
      JsonNode *copy = deep_copy(json_array_get_element(inner_nodes, j));
      JsonObject *c = json_node_get_object(copy);
      g_autofree char *nid = g_strconcat(prefix, lathe_graph_string(c, "id"), NULL);
      json_object_set_string_member(c, "id", nid);
      JsonNode *cin = json_object_get_member(c, "in");
      if (cin && JSON_NODE_HOLDS_OBJECT(cin)) {
        JsonObject *ci = json_node_get_object(cin);
        g_autoptr(GList) ports = json_object_get_members(ci);
        for (GList *l = ports; l; l = l->next) {
          const char *ref = lathe_graph_string(ci, l->data);
          if (ref) {
            g_autofree char *renamed = rename_ref(ref, prefix, inner);
            json_object_set_string_member(ci, l->data, renamed);
          }
        }
      }
      json_array_add_element(out, copy);
    }
    g_autofree char *port = g_strdup_printf("fold_%" G_GINT64_FORMAT, i);
    g_autofree char *src = g_strconcat(prefix, output, NULL);
    json_object_set_string_member(agg_in, port, src);
  }
  JsonObject *agg = json_object_new();
  json_object_set_string_member(agg, "id", id);
  json_object_set_string_member(agg, "use", "evaluator/cv");
  json_object_set_object_member(agg, "in", agg_in);
  JsonNode *metrics = with ? json_object_get_member(with, "metrics") : NULL;
  if (metrics) {
    JsonObject *aw = json_object_new();
    json_object_set_member(aw, "metrics", json_node_copy(metrics));
    json_object_set_object_member(agg, "with", aw);
  }
  static const char *const kept[] = {"when", "cache", "executor", "resources", "retry", NULL};
  for (guint k = 0; kept[k]; k++)
    if (json_object_has_member(o, kept[k]))
      json_object_set_member(agg, kept[k], json_node_copy(json_object_get_member(o, kept[k])));
  json_array_add_object_element(out, agg);
  return out;
}

static gboolean expand_nodes(JsonArray *arr, const char *pointer, GPtrArray *problems) {
  gboolean ok = TRUE;
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonNode *e = json_array_get_element(arr, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *o = json_node_get_object(e);
    g_autofree char *ptr = g_strdup_printf("%s/nodes/%u", pointer, i);
    JsonNode *trial = json_object_get_member(o, "trial");
    if (trial && JSON_NODE_HOLDS_OBJECT(trial)) {
      JsonNode *tn = json_object_get_member(json_node_get_object(trial), "nodes");
      g_autofree char *tptr = g_strconcat(ptr, "/trial", NULL);
      if (tn && JSON_NODE_HOLDS_ARRAY(tn))
        ok = expand_nodes(json_node_get_array(tn), tptr, problems) && ok;
    }
    if (g_strcmp0(lathe_graph_string(o, "use"), "cv") != 0)
      continue;
    JsonArray *repl = expand_one(o, ptr, problems);
    if (!repl) {
      ok = FALSE;
      continue;
    }
    guint n = json_array_get_length(repl);
    /* json-glib cannot insert: rebuild the tail behind the macro. */
    g_autoptr(GPtrArray) tail = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    for (guint j = i + 1; j < json_array_get_length(arr); j++)
      g_ptr_array_add(tail, json_node_ref(json_array_get_element(arr, j)));
    while (json_array_get_length(arr) > i)
      json_array_remove_element(arr, json_array_get_length(arr) - 1);
    for (guint j = 0; j < n; j++)
      json_array_add_element(arr, json_node_ref(json_array_get_element(repl, j)));
    for (guint j = 0; j < tail->len; j++)
      json_array_add_element(arr, json_node_ref(tail->pdata[j]));
    json_array_unref(repl);
    i += n - 1;
  }
  return ok;
}

gboolean lathe_graph_cv_expand(JsonObject *root, GPtrArray *problems) {
  JsonNode *nodes = json_object_get_member(root, "nodes");
  if (!nodes || !JSON_NODE_HOLDS_ARRAY(nodes))
    return TRUE;
  return expand_nodes(json_node_get_array(nodes), "", problems);
}

gboolean lathe_graph_cv_member(const char *family, const char *node_id) {
  /* Every "-DIGITS-" in the id is a candidate fold number: with it taken
   * out, the id must read as the family. */
  for (const char *p = strchr(node_id, '-'); p; p = strchr(p + 1, '-')) {
    const char *q = p + 1;
    while (g_ascii_isdigit(*q))
      q++;
    if (q == p + 1 || *q != '-')
      continue;
    gsize head = (gsize)(p - node_id);
    if (strncmp(family, node_id, head) == 0 && family[head] == '-' &&
        g_str_equal(family + head + 1, q + 1))
      return TRUE;
  }
  return FALSE;
}
