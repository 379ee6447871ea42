#include <string.h>

#include "lathe/lathe-json.h"

static void write_string(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': g_string_append(out, "\\\""); break;
    case '\\': g_string_append(out, "\\\\"); break;
    case '\n': g_string_append(out, "\\n"); break;
    case '\r': g_string_append(out, "\\r"); break;
    case '\t': g_string_append(out, "\\t"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf(out, "\\u%04x", *p);
      else
        g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_node(GString *out, JsonNode *node) {
  if (!node || JSON_NODE_HOLDS_NULL(node)) {
    g_string_append(out, "null");
    return;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *obj = json_node_get_object(node);
    GList *members = json_object_get_members(obj);
    guint n = g_list_length(members);
    const char **keys = g_new(const char *, n + 1);
    guint i = 0;
    for (GList *l = members; l; l = l->next)
      keys[i++] = l->data;
    qsort(keys, n, sizeof *keys, cmp_str);
    g_string_append_c(out, '{');
    for (i = 0; i < n; i++) {
      if (i)
        g_string_append_c(out, ',');
      write_string(out, keys[i]);
      g_string_append_c(out, ':');
      write_node(out, json_object_get_member(obj, keys[i]));
    }
    g_string_append_c(out, '}');
    g_free(keys);
    g_list_free(members);
    return;
  }
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *arr = json_node_get_array(node);
    g_string_append_c(out, '[');
    for (guint i = 0; i < json_array_get_length(arr); i++) {
      if (i)
        g_string_append_c(out, ',');
      write_node(out, json_array_get_element(arr, i));
    }
    g_string_append_c(out, ']');
    return;
  }
  switch (json_node_get_value_type(node)) {
  case G_TYPE_INT64:
    g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
    break;
  case G_TYPE_DOUBLE: {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(buf, sizeof buf, "%.17g", json_node_get_double(node));
    g_string_append(out, buf);
    break;
  }
  case G_TYPE_BOOLEAN:
    g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
    break;
  case G_TYPE_STRING:
    write_string(out, json_node_get_string(node));
    break;
  default:
    g_string_append(out, "null");
  }
}

char *lathe_json_canonical(JsonNode *node) {
  GString *out = g_string_new(NULL);
  write_node(out, node);
  return g_string_free(out, FALSE);
}
