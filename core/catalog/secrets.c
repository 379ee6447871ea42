/* Secret params (ABI 1.5, LATHE_PARAM_SECRET) and `{"$env": "NAME"}` values.
 * The plugin gets the real value; everything that leaves the process (run
 * store, tracker, terminal, cache key) gets a stand-in: "(secret)" where people
 * read it, a keyed fingerprint in the cache key. The fingerprint is an
 * HMAC-SHA256 under a random per-store key rather than a plain SHA-256: a
 * plain hash of a short password is reversed by trying candidates, while the
 * keyed one needs the key file, which only the store's owner can read. */
#include <string.h>

#include "catalog/catalog.h"

const char *lathe_param_env_ref(JsonNode *value) {
  if (!value || !JSON_NODE_HOLDS_OBJECT(value))
    return NULL;
  JsonObject *o = json_node_get_object(value);
  if (json_object_get_size(o) != 1 || !json_object_has_member(o, "$env"))
    return NULL;
  JsonNode *n = json_object_get_member(o, "$env");
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

JsonNode *lathe_param_env_value(const LatheParamSpec *spec, const char *name, char **why) {
  if (!*name || strchr(name, '=')) {
    *why = g_strdup("\"$env\" names an environment variable");
    return NULL;
  }
  const char *text = g_getenv(name);
  if (!text) {
    *why = g_strdup_printf("environment variable %s is not set", name);
    return NULL;
  }
  /* Text params take the variable as it is; others read it as JSON ("3",
   * "true"), so that a number can come from the environment too. */
  if (spec->type != LATHE_PARAM_STRING && spec->type != LATHE_PARAM_ENUM) {
    g_autoptr(JsonParser) p = json_parser_new();
    if (json_parser_load_from_data(p, text, -1, NULL) && json_parser_get_root(p))
      return json_node_copy(json_parser_get_root(p));
  }
  return json_node_init_string(json_node_alloc(), text);
}

gboolean lathe_component_has_secrets(LatheComponentInfo *info) {
  for (guint i = 0; info && info->params && i < info->params->len; i++)
    if (g_array_index(info->params, LatheParamSpec, i).flags & LATHE_PARAM_SECRET)
      return TRUE;
  return FALSE;
}

static gboolean is_secret(LatheComponentInfo *info, const char *name) {
  const LatheParamSpec *s = lathe_component_param(info, name);
  return s && (s->flags & LATHE_PARAM_SECRET);
}

/* A copy of @params with each secret replaced by what @stand_in makes of it. */
static JsonObject *replace_secrets(LatheComponentInfo *info, JsonObject *params,
                                   JsonNode *(*stand_in)(JsonNode *, gconstpointer, gsize),
                                   gconstpointer key, gsize key_len) {
  if (!params)
    return NULL;
  if (!lathe_component_has_secrets(info))
    return json_object_ref(params);
  JsonObject *out = json_object_new();
  g_autoptr(GList) names = json_object_get_members(params);
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(params, l->data);
    json_object_set_member(out, l->data, is_secret(info, l->data) ? stand_in(v, key, key_len)
                                                                  : json_node_copy(v));
  }
  return out;
}

static JsonNode *hidden(JsonNode *v, gconstpointer key, gsize key_len) {
  (void)v, (void)key, (void)key_len;
  return json_node_init_string(json_node_alloc(), LATHE_SECRET_SHOWN);
}

static JsonNode *fingerprint(JsonNode *v, gconstpointer key, gsize key_len) {
  g_autofree char *text = lathe_json_canonical(v);
  g_autofree char *mac = g_compute_hmac_for_string(G_CHECKSUM_SHA256, key, key_len, text, -1);
  g_autofree char *s = g_strconcat("hmac-sha256:", mac, NULL);
  return json_node_init_string(json_node_alloc(), s);
}

JsonObject *lathe_params_public(LatheComponentInfo *info, JsonObject *params) {
  return replace_secrets(info, params, hidden, NULL, 0);
}

JsonObject *lathe_params_fingerprinted(LatheComponentInfo *info, JsonObject *params,
                                       const guint8 *key, gsize key_len) {
  return replace_secrets(info, params, fingerprint, key, key_len);
}

/* The texts a secret may appear as in a message: as written, and as JSON. */
static void add_forms(GPtrArray *forms, JsonNode *v) {
  if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING)
    g_ptr_array_add(forms, g_strdup(json_node_get_string(v)));
  g_ptr_array_add(forms, lathe_json_canonical(v));
}

static char *replace_all(const char *text, const char *what) {
  GString *s = g_string_new(NULL);
  gsize n = strlen(what);
  for (const char *p = text, *hit; *p;) {
    if (!(hit = strstr(p, what))) {
      g_string_append(s, p);
      break;
    }
    g_string_append_len(s, p, hit - p);
    g_string_append(s, LATHE_SECRET_SHOWN);
    p = hit + n;
  }
  return g_string_free(s, FALSE);
}

char *lathe_params_redact(LatheComponentInfo *info, JsonObject *params, const char *text) {
  if (!text)
    return NULL;
  char *out = g_strdup(text);
  if (!params || !lathe_component_has_secrets(info))
    return out;
  g_autoptr(GPtrArray) forms = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GList) names = json_object_get_members(params);
  for (GList *l = names; l; l = l->next)
    if (is_secret(info, l->data))
      add_forms(forms, json_object_get_member(params, l->data));
  /* Longest first, so a secret that contains another goes whole. Very short
   * values would blank every message and hardly protect anything. */
  for (guint i = 0; i < forms->len; i++)
    for (guint j = i + 1; j < forms->len; j++)
      if (strlen(forms->pdata[j]) > strlen(forms->pdata[i])) {
        gpointer tmp = forms->pdata[i];
        forms->pdata[i] = forms->pdata[j];
        forms->pdata[j] = tmp;
      }
  for (guint i = 0; i < forms->len; i++) {
    if (strlen(forms->pdata[i]) < 3)
      continue;
    char *next = replace_all(out, forms->pdata[i]);
    g_free(out);
    out = next;
  }
  return out;
}
