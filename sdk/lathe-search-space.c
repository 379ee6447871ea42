#include "lathe/lathe-search-space-private.h"

struct _LatheSearchSpace {
  GPtrArray *names; /* char* */
  GPtrArray *specs; /* JsonNode* */
  GPtrArray *params; /* const LatheParamSpec*, not owned */
};

LatheSearchSpace *lathe_search_space_new(void) {
  LatheSearchSpace *s = g_new0(LatheSearchSpace, 1);
  s->names = g_ptr_array_new_with_free_func(g_free);
  s->specs = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  s->params = g_ptr_array_new();
  return s;
}

void lathe_search_space_add(LatheSearchSpace *s, const char *name, JsonNode *spec,
                            const LatheParamSpec *param) {
  g_ptr_array_add(s->names, g_strdup(name));
  g_ptr_array_add(s->specs, json_node_ref(spec));
  g_ptr_array_add(s->params, (gpointer)param);
}

void lathe_search_space_free(LatheSearchSpace *s) {
  if (!s)
    return;
  g_ptr_array_unref(s->names);
  g_ptr_array_unref(s->specs);
  g_ptr_array_unref(s->params);
  g_free(s);
}

guint lathe_search_space_n_dims(const LatheSearchSpace *s) { return s->names->len; }

const char *lathe_search_space_dim_name(const LatheSearchSpace *s, guint i) {
  g_return_val_if_fail(i < s->names->len, NULL);
  return g_ptr_array_index(s->names, i);
}

JsonNode *lathe_search_space_dim_spec(const LatheSearchSpace *s, guint i) {
  g_return_val_if_fail(i < s->specs->len, NULL);
  return g_ptr_array_index(s->specs, i);
}

const LatheParamSpec *lathe_search_space_dim_param(const LatheSearchSpace *s, guint i) {
  g_return_val_if_fail(i < s->params->len, NULL);
  return g_ptr_array_index(s->params, i);
}
