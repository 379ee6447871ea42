/* registry-tags.c: a version's Lathe metadata as MLflow model-version tags
 * and back (docs/mlflow-registry.md, "Version tags"). Tags are what MLflow's
 * UI and search show, so each metric is a tag of its own; values longer than
 * MLflow's limit are split into numbered parts rather than truncated. */
#include <string.h>

#include "registry-mlflow-private.h"

#define PREFIX "lathe."
#define METRIC_PREFIX "lathe.metric."
#define PARTS_SUFFIX ".parts"
#define PART_INFIX ".part."
/* Which metadata members are JSON (the others are plain strings). */
#define JSON_MEMBERS "lathe.json_members"
#define METRICS_EXTRA "lathe.metrics_extra"
#define META_EXTRA "lathe.meta_extra"
/* Tags of ours that are not metadata members. */
static const char *const internal[] = {"lathe.blob.", "lathe.load.", "lathe.request_id",
                                       JSON_MEMBERS, METRICS_EXTRA, META_EXTRA, NULL};

static void add_one(JsonArray *tags, const char *key, const char *value) {
  JsonObject *t = json_object_new();
  json_object_set_string_member(t, "key", key);
  json_object_set_string_member(t, "value", value);
  json_array_add_object_element(tags, t);
}

/* @key = @value, or KEY.parts = N and KEY.part.0 .. KEY.part.N-1 when
 * @value is longer than MLflow keeps (in characters, as MLflow counts). */
static void add_tag(JsonArray *tags, const char *key, const char *value) {
  if (g_utf8_strlen(value, -1) <= RM_TAG_VALUE_MAX) {
    add_one(tags, key, value);
    return;
  }
  guint n = 0;
  for (const char *p = value; *p; n++) {
    const char *end = g_utf8_offset_to_pointer(p, MIN(RM_TAG_VALUE_MAX, g_utf8_strlen(p, -1)));
    g_autofree char *k = g_strdup_printf("%s" PART_INFIX "%u", key, n);
    g_autofree char *part = g_strndup(p, (gsize)(end - p));
    add_one(tags, k, part);
    p = end;
  }
  g_autofree char *k = g_strconcat(key, PARTS_SUFFIX, NULL);
  g_autofree char *count = g_strdup_printf("%u", n);
  add_one(tags, k, count);
}

/* MLflow's tag-key rule, narrowed to ASCII and without '/' (so the key
 * never normalizes to another path). */
static gboolean valid_key(const char *key) {
  if (strlen(key) > RM_TAG_KEY_MAX)
    return FALSE;
  for (const char *p = key; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("_-. ", *p))
      return FALSE;
  return TRUE;
}

static char *json_text(JsonNode *node) {
  return lathe_json_write(node, FALSE);
}

static void add_metrics(JsonArray *tags, JsonObject *metrics) {
  g_autoptr(JsonObject) extra = json_object_new();
  g_autoptr(GList) names = json_object_get_members(metrics);
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(metrics, l->data);
    g_autofree char *key = g_strconcat(METRIC_PREFIX, l->data, NULL);
    gboolean number = JSON_NODE_HOLDS_VALUE(v) && (json_node_get_value_type(v) == G_TYPE_DOUBLE ||
                                                   json_node_get_value_type(v) == G_TYPE_INT64);
    if (number && valid_key(key)) {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      add_one(tags, key, g_ascii_dtostr(buf, sizeof buf, json_node_get_double(v)));
    } else {
      json_object_set_member(extra, l->data, json_node_copy(v));
    }
  }
  if (json_object_get_size(extra)) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), extra);
    g_autofree char *text = json_text(n);
    add_tag(tags, METRICS_EXTRA, text);
  }
}

JsonArray *rm_tags_from_metadata(JsonObject *metadata, const char *sha256, gsize size,
                                 const char *request_id) {
  JsonArray *tags = json_array_new();
  g_autoptr(JsonObject) meta_extra = json_object_new();
  GString *json_members = g_string_new(NULL);
  g_autoptr(GList) names = metadata ? json_object_get_members(metadata) : NULL;
  for (GList *l = names; l; l = l->next) {
    const char *m = l->data;
    JsonNode *v = json_object_get_member(metadata, m);
    g_autofree char *key = g_strconcat(PREFIX, m, NULL);
    if (g_str_equal(m, "metrics") && JSON_NODE_HOLDS_OBJECT(v)) {
      add_metrics(tags, json_node_get_object(v));
      continue;
    }
    if (!valid_key(key) || strchr(m, ',') || strlen(key) + 12 > RM_TAG_KEY_MAX) {
      /* A name MLflow refuses as a key: kept whole in one JSON tag. */
      json_object_set_member(meta_extra, m, json_node_copy(v));
      continue;
    }
    if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING) {
      add_tag(tags, key, json_node_get_string(v));
    } else {
      g_autofree char *text = json_text(v);
      add_tag(tags, key, text);
      g_string_append_printf(json_members, "%s%s", json_members->len ? "," : "", m);
    }
  }
  if (json_members->len)
    add_tag(tags, JSON_MEMBERS, json_members->str);
  if (json_object_get_size(meta_extra)) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), meta_extra);
    g_autofree char *text = json_text(n);
    add_tag(tags, META_EXTRA, text);
  }
  g_string_free(json_members, TRUE);
  /* What loading the model needs, readable in MLflow's UI. */
  JsonObject *header = metadata && json_object_has_member(metadata, "model") &&
                               JSON_NODE_HOLDS_OBJECT(json_object_get_member(metadata, "model"))
                           ? json_object_get_object_member(metadata, "model")
                           : NULL;
  static const char *const load[] = {"component", "plugin", "plugin_version", NULL};
  for (int i = 0; header && load[i]; i++) {
    const char *v = json_object_get_string_member_with_default(header, load[i], NULL);
    g_autofree char *key = g_strconcat("lathe.load.", load[i], NULL);
    if (v)
      add_tag(tags, key, v);
  }
  g_autofree char *sz = g_strdup_printf("%" G_GSIZE_FORMAT, size);
  add_one(tags, "lathe.blob.sha256", sha256);
  add_one(tags, "lathe.blob.size", sz);
  add_one(tags, "lathe.request_id", request_id);
  return tags;
}

GHashTable *rm_tags_table(JsonObject *holder) {
  GHashTable *raw = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *tags = lathe_mlflow_member_array(holder, "tags");
  for (guint i = 0; tags && i < json_array_get_length(tags); i++) {
    JsonObject *t = json_array_get_object_element(tags, i);
    const char *k = t ? json_object_get_string_member_with_default(t, "key", NULL) : NULL;
    if (k)
      g_hash_table_replace(raw, g_strdup(k),
                           g_strdup(json_object_get_string_member_with_default(t, "value", "")));
  }
  /* Joins split values: KEY.parts = N names KEY.part.0 .. N-1. */
  GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, raw);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const char *key = k;
    guint64 n = 0;
    if (g_str_has_suffix(key, PARTS_SUFFIX) &&
        g_ascii_string_to_unsigned(v, 10, 1, 100000, &n, NULL)) {
      g_autofree char *base = g_strndup(key, strlen(key) - strlen(PARTS_SUFFIX));
      GString *joined = g_string_new(NULL);
      gboolean whole = TRUE;
      for (guint64 i = 0; i < n && whole; i++) {
        g_autofree char *pk = g_strdup_printf("%s" PART_INFIX "%" G_GUINT64_FORMAT, base, i);
        const char *part = g_hash_table_lookup(raw, pk);
        whole = part != NULL;
        if (part)
          g_string_append(joined, part);
      }
      if (whole)
        g_hash_table_replace(out, g_steal_pointer(&base), g_string_free(joined, FALSE));
      else
        g_string_free(joined, TRUE);
    } else if (!strstr(key, PART_INFIX)) {
      g_hash_table_replace(out, g_strdup(key), g_strdup(v));
    }
  }
  g_hash_table_unref(raw);
  return out;
}

static JsonNode *parse_json(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, text, -1, NULL) || !json_parser_get_root(p))
    return NULL;
  return json_node_copy(json_parser_get_root(p));
}

static gboolean is_internal(const char *key) {
  for (int i = 0; internal[i]; i++)
    if (g_str_has_prefix(key, internal[i]))
      return TRUE;
  return FALSE;
}

/* The metadata object register_model was given, from the tags. */
static JsonObject *metadata_from_tags(GHashTable *tags) {
  JsonObject *meta = json_object_new();
  JsonObject *metrics = json_object_new();
  const char *jm = g_hash_table_lookup(tags, JSON_MEMBERS);
  g_auto(GStrv) json_members = g_strsplit(jm ? jm : "", ",", -1);
  const char *extra = g_hash_table_lookup(tags, METRICS_EXTRA);
  g_autoptr(JsonNode) extra_node = extra ? parse_json(extra) : NULL;
  if (extra_node && JSON_NODE_HOLDS_OBJECT(extra_node)) {
    JsonObject *eo = json_node_get_object(extra_node);
    g_autoptr(GList) names = json_object_get_members(eo);
    for (GList *l = names; l; l = l->next)
      json_object_set_member(metrics, l->data,
                             json_node_copy(json_object_get_member(eo, l->data)));
  }
  g_autoptr(GList) keys = g_hash_table_get_keys(tags);
  keys = g_list_sort(keys, (GCompareFunc)strcmp);
  for (GList *l = keys; l; l = l->next) {
    const char *key = l->data, *value = g_hash_table_lookup(tags, key);
    if (!g_str_has_prefix(key, PREFIX) || is_internal(key))
      continue;
    if (g_str_has_prefix(key, METRIC_PREFIX)) {
      json_object_set_double_member(metrics, key + strlen(METRIC_PREFIX),
                                    g_ascii_strtod(value, NULL));
      continue;
    }
    const char *m = key + strlen(PREFIX);
    JsonNode *parsed = g_strv_contains((const char *const *)json_members, m) ? parse_json(value)
                                                                             : NULL;
    if (parsed)
      json_object_set_member(meta, m, parsed);
    else
      json_object_set_string_member(meta, m, value);
  }
  const char *mextra = g_hash_table_lookup(tags, META_EXTRA);
  g_autoptr(JsonNode) mextra_node = mextra ? parse_json(mextra) : NULL;
  if (mextra_node && JSON_NODE_HOLDS_OBJECT(mextra_node)) {
    JsonObject *eo = json_node_get_object(mextra_node);
    g_autoptr(GList) names = json_object_get_members(eo);
    for (GList *l = names; l; l = l->next)
      json_object_set_member(meta, l->data, json_node_copy(json_object_get_member(eo, l->data)));
  }
  json_object_set_object_member(meta, "metrics", metrics);
  return meta;
}

static gint cmp_strp(gconstpointer a, gconstpointer b) {
  return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

JsonObject *rm_version_object(JsonObject *mv, GError **error) {
  const char *name = json_object_get_string_member_with_default(mv, "name", NULL);
  gint64 version = lathe_mlflow_member_int(mv, "version");
  if (!name || version < 1) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                RM_COMPONENT ": the server answered a model version without a name or number");
    return NULL;
  }
  g_autoptr(GHashTable) tags = rm_tags_table(mv);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", name);
  json_object_set_int_member(o, "version", version);
  const char *sha = g_hash_table_lookup(tags, "lathe.blob.sha256");
  const char *size = g_hash_table_lookup(tags, "lathe.blob.size");
  if (sha)
    json_object_set_string_member(o, "digest", sha);
  if (size)
    json_object_set_int_member(o, "size", g_ascii_strtoll(size, NULL, 10));
  g_autofree char *created = rm_iso8601(lathe_mlflow_member_int(mv, "creation_timestamp"));
  json_object_set_string_member(o, "created", created);
  JsonArray *aliases = json_array_new();
  JsonArray *given = lathe_mlflow_member_array(mv, "aliases");
  g_autoptr(GPtrArray) sorted = g_ptr_array_new();
  for (guint i = 0; given && i < json_array_get_length(given); i++)
    g_ptr_array_add(sorted, (gpointer)json_array_get_string_element(given, i));
  g_ptr_array_sort(sorted, cmp_strp);
  for (guint i = 0; i < sorted->len; i++)
    json_array_add_string_element(aliases, sorted->pdata[i]);
  json_object_set_array_member(o, "aliases", aliases);
  json_object_set_string_member(o, "source",
                                json_object_get_string_member_with_default(mv, "source", ""));
  const char *run = json_object_get_string_member_with_default(mv, "run_id", NULL);
  if (run)
    json_object_set_string_member(o, "mlflow_run_id", run);
  json_object_set_object_member(o, "metadata", metadata_from_tags(tags));
  return o;
}
