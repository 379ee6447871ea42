#include <math.h>
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

typedef struct {
  gboolean sort;   /* canonical: keys sorted, 17 digits */
  gboolean pretty; /* two-space indentation */
} Style;

static void newline(GString *out, const Style *st, guint depth) {
  if (!st->pretty)
    return;
  g_string_append_c(out, '\n');
  for (guint i = 0; i < depth; i++)
    g_string_append(out, "  ");
}

/* Shortest text that reads back as the same double (json-glib 1.6 writes
 * 1e-08 as "1e-08.0", which is not JSON). Non-finite values have no JSON
 * spelling: null. */
static void write_double(GString *out, double v, const Style *st) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite(v)) {
    g_string_append(out, "null");
    return;
  }
  if (st->sort) {
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.17g", v));
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    char fmt[8];
    g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd(buf, sizeof buf, fmt, v);
    if (prec == 17 || g_ascii_strtod(buf, NULL) == v)
      break;
  }
  g_string_append(out, buf);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_node(GString *out, JsonNode *node, const Style *st, guint depth) {
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
    if (st->sort)
      qsort(keys, n, sizeof *keys, cmp_str);
    g_string_append_c(out, '{');
    for (i = 0; i < n; i++) {
      if (i)
        g_string_append_c(out, ',');
      newline(out, st, depth + 1);
      write_string(out, keys[i]);
      g_string_append(out, st->pretty ? ": " : ":");
      write_node(out, json_object_get_member(obj, keys[i]), st, depth + 1);
    }
    if (n)
      newline(out, st, depth);
    g_string_append_c(out, '}');
    g_free(keys);
    g_list_free(members);
    return;
  }
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *arr = json_node_get_array(node);
    guint n = json_array_get_length(arr);
    g_string_append_c(out, '[');
    for (guint i = 0; i < n; i++) {
      if (i)
        g_string_append_c(out, ',');
      newline(out, st, depth + 1);
      write_node(out, json_array_get_element(arr, i), st, depth + 1);
    }
    if (n)
      newline(out, st, depth);
    g_string_append_c(out, ']');
    return;
  }
  switch (json_node_get_value_type(node)) {
  case G_TYPE_INT64:
    g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
    break;
  case G_TYPE_DOUBLE:
    write_double(out, json_node_get_double(node), st);
    break;
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
  static const Style canonical = {TRUE, FALSE};
  GString *out = g_string_new(NULL);
  write_node(out, node, &canonical, 0);
  return g_string_free(out, FALSE);
}

char *lathe_json_write(JsonNode *node, gboolean pretty) {
  const Style st = {FALSE, pretty};
  GString *out = g_string_new(NULL);
  write_node(out, node, &st, 0);
  return g_string_free(out, FALSE);
}
