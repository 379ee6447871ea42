/* graph-presets.c: named param presets, chosen when the pipeline is run.
 *
 * A pipeline may declare
 *   "presets": {"NAME": {"NODE": {"PARAM": VALUE, ...}, ...}, ...},
 *   "preset": "NAME"            (optional: the one used without --preset)
 * and `lathe run --preset NAME` picks one. The chosen preset is merged into
 * the nodes' `with` before --set, so --set still wins. Only the chosen
 * preset shapes the run, but every preset is checked, so that a typo in a
 * variant nobody ran today is still caught by `lathe validate`. */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "catalog/catalog.h"

static JsonObject *find_node(JsonObject *root, const char *id) {
  JsonNode *nodes = json_object_get_member(root, "nodes");
  if (!nodes || !JSON_NODE_HOLDS_ARRAY(nodes))
    return NULL;
  JsonArray *arr = json_node_get_array(nodes);
  for (guint k = 0; k < json_array_get_length(arr); k++) {
    JsonNode *nn = json_array_get_element(arr, k);
    if (JSON_NODE_HOLDS_OBJECT(nn) &&
        g_strcmp0(lathe_graph_string(json_node_get_object(nn), "id"), id) == 0)
      return json_node_get_object(nn);
  }
  return NULL;
}

static char *names_of(JsonObject *presets, const char *word, char **hint) {
  g_autoptr(GList) names = json_object_get_members(presets);
  g_autoptr(GPtrArray) arr = g_ptr_array_new();
  for (GList *l = names; l; l = l->next)
    g_ptr_array_add(arr, l->data);
  g_ptr_array_add(arr, NULL);
  if (hint)
    *hint = lathe_did_you_mean(word ? lathe_suggest(word, (const char *const *)arr->pdata) : NULL);
  return g_strjoinv(", ", (char **)arr->pdata);
}

/* The shape of every preset: an object of node ids holding param objects. */
static gboolean check_shape(JsonObject *root, JsonObject *presets, GPtrArray *problems) {
  gboolean ok = TRUE;
  g_autoptr(GList) names = json_object_get_members(presets);
  for (GList *l = names; l; l = l->next) {
    JsonNode *p = json_object_get_member(presets, l->data);
    g_autofree char *ptr = g_strdup_printf("/presets/%s", (char *)l->data);
    if (!JSON_NODE_HOLDS_OBJECT(p)) {
      lathe_problems_add(problems, ptr, "a preset maps node ids to params: {\"NODE\": {\"PARAM\": VALUE}}");
      ok = FALSE;
      continue;
    }
    g_autoptr(GList) ids = json_object_get_members(json_node_get_object(p));
    for (GList *m = ids; m; m = m->next) {
      g_autofree char *nptr = g_strdup_printf("%s/%s", ptr, (char *)m->data);
      if (!find_node(root, m->data)) {
        lathe_problems_add(problems, nptr, "preset '%s' sets params of '%s', which is not a node of the pipeline",
                           (char *)l->data, (char *)m->data);
        ok = FALSE;
      } else if (!JSON_NODE_HOLDS_OBJECT(json_object_get_member(json_node_get_object(p), m->data))) {
        lathe_problems_add(problems, nptr, "the params of a node in a preset are an object");
        ok = FALSE;
      }
    }
  }
  return ok;
}

gboolean lathe_graph_presets_apply(JsonObject *root, const char *cli_preset, GPtrArray *problems,
                                   char **chosen, JsonObject **presets) {
  *chosen = NULL;
  *presets = NULL;
  JsonNode *pn = json_object_get_member(root, "presets");
  JsonNode *dn = json_object_get_member(root, "preset");
  if (dn && (!JSON_NODE_HOLDS_VALUE(dn) || json_node_get_value_type(dn) != G_TYPE_STRING)) {
    lathe_problems_add(problems, "/preset", "\"preset\" names one of \"presets\"");
    return FALSE;
  }
  if (!pn) {
    if (cli_preset || dn) {
      lathe_problems_add(problems, dn ? "/preset" : "",
                         "%s%s%s: the pipeline declares no \"presets\"", cli_preset ? "--preset '" : "\"preset\" '",
                         cli_preset ? cli_preset : json_node_get_string(dn), "'");
      return FALSE;
    }
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_OBJECT(pn) || json_object_get_size(json_node_get_object(pn)) == 0) {
    lathe_problems_add(problems, "/presets", "\"presets\" maps names to presets: {\"NAME\": {\"NODE\": {\"PARAM\": VALUE}}}");
    return FALSE;
  }
  JsonObject *all = json_node_get_object(pn);
  if (!check_shape(root, all, problems))
    return FALSE;
  const char *want = cli_preset ? cli_preset : dn ? json_node_get_string(dn) : NULL;
  if (!want) {
    g_autofree char *list = names_of(all, NULL, NULL);
    lathe_problems_add(problems, "/presets", "choose a preset with --preset NAME (one of: %s), or set \"preset\"", list);
    return FALSE;
  }
  if (!json_object_has_member(all, want)) {
    g_autofree char *hint = NULL;
    g_autofree char *list = names_of(all, want, &hint);
    lathe_problems_add(problems, cli_preset ? "" : "/preset", "%s '%s': no such preset; choose one of: %s%s",
                       cli_preset ? "--preset" : "\"preset\"", want, list, hint);
    return FALSE;
  }
  JsonObject *preset = json_object_get_object_member(all, want);
  g_autoptr(GList) ids = json_object_get_members(preset);
  for (GList *l = ids; l; l = l->next) {
    JsonObject *node = find_node(root, l->data);
    JsonNode *w = json_object_get_member(node, "with");
    if (!w || !JSON_NODE_HOLDS_OBJECT(w)) {
      json_object_set_object_member(node, "with", json_object_new());
      w = json_object_get_member(node, "with");
    }
    JsonObject *params = json_object_get_object_member(preset, l->data);
    g_autoptr(GList) keys = json_object_get_members(params);
    for (GList *k = keys; k; k = k->next)
      json_object_set_member(json_node_get_object(w), k->data,
                             json_node_copy(json_object_get_member(params, k->data)));
  }
  *chosen = g_strdup(want);
  *presets = json_object_ref(all);
  /* The run records what ran: the chosen name, not the alternatives. */
  json_object_set_string_member(root, "preset", want);
  json_object_remove_member(root, "presets");
  return TRUE;
}

void lathe_graph_presets_check(LatheGraph *g, LatheCatalog *cat, JsonObject *presets,
                               const char *chosen, GPtrArray *problems) {
  g_autoptr(GList) names = json_object_get_members(presets);
  for (GList *l = names; l; l = l->next) {
    if (g_str_equal(l->data, chosen))
      continue; /* already checked as the nodes' params */
    JsonObject *preset = json_object_get_object_member(presets, l->data);
    g_autoptr(GList) ids = json_object_get_members(preset);
    for (GList *m = ids; m; m = m->next) {
      LatheNode *n = g_hash_table_lookup(g->by_id, m->data);
      if (!n || !n->comp)
        continue;
      g_autoptr(JsonObject) with = json_object_new();
      g_autoptr(GList) own = n->with ? json_object_get_members(n->with) : NULL;
      JsonObject *params = json_object_get_object_member(preset, m->data);
      /* n->with already holds the chosen preset; only this preset's keys
       * are judged, against the component, with its other params as written. */
      for (GList *k = own; k; k = k->next)
        json_object_set_member(with, k->data, json_node_copy(json_object_get_member(n->with, k->data)));
      g_autoptr(GList) keys = json_object_get_members(params);
      for (GList *k = keys; k; k = k->next)
        json_object_set_member(with, k->data, json_node_copy(json_object_get_member(params, k->data)));
      g_autofree char *ptr = g_strdup_printf("/presets/%s/%s", (char *)l->data, (char *)m->data);
      g_autoptr(GPtrArray) found = lathe_problems_new();
      g_autoptr(JsonObject) resolved = lathe_params_resolve(n->comp, with, ptr, found, FALSE);
      lathe_params_run_checks(cat, n->comp, params, resolved, ptr, found);
      for (guint i = 0; i < found->len; i++) {
        LatheProblem *p = found->pdata[i];
        /* only problems of this preset's own keys; the rest are the node's */
        const char *key = strrchr(p->pointer, '/');
        if (key && json_object_has_member(params, key + 1))
          lathe_problems_add(problems, p->pointer, "%s", p->message);
      }
    }
  }
}

/* The chosen preset's params are merged into the nodes' `with` and checked
 * there, so their problems carry the node's pointer; a problem of a param
 * the preset set (and --set did not override) is the preset's, and is
 * reported where the docs say: /presets/NAME/NODE/PARAM. */
void lathe_graph_presets_blame(LatheGraph *g, JsonObject *presets, const char *chosen,
                               const char *const *sets, GPtrArray *problems) {
  JsonObject *preset = json_object_get_object_member(presets, chosen);
  for (guint i = 0; i < problems->len; i++) {
    LatheProblem *p = problems->pdata[i];
    guint idx;
    int end = 0;
    if (sscanf(p->pointer, "/nodes/%u/with/%n", &idx, &end) != 1 || !end || idx >= g->nodes->len)
      continue;
    const char *key = p->pointer + end;
    LatheNode *n = g->nodes->pdata[idx];
    JsonNode *params = json_object_get_member(preset, n->id);
    if (!params || !json_object_has_member(json_node_get_object(params), key))
      continue;
    g_autofree char *set = g_strdup_printf("%s.%s=", n->id, key);
    gboolean overridden = FALSE;
    for (guint k = 0; sets && sets[k]; k++)
      overridden |= g_str_has_prefix(sets[k], set);
    if (overridden)
      continue;
    char *blamed = g_strdup_printf("/presets/%s/%s/%s", chosen, n->id, key);
    g_free(p->pointer);
    p->pointer = blamed;
  }
}
