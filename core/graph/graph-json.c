/* graph-json.c: reading a pipeline's JSON without trusting its shape.
 *
 * json-glib's parser recurses once per nesting level, so a file of 100,000
 * '[' overflows the stack before anything could be checked; the depth is
 * therefore counted on the raw bytes first. Its getters are no safer: the
 * _with_default ones print a CRITICAL on an object or array and return NULL
 * for a number, which once made a "when": 2 vanish. Every member the graph
 * reads goes through lathe_graph_member() instead, which tells "absent" from
 * "of the wrong type". */
#include <string.h>

#include "graph/graph.h"

/* Counts line and column of @at in @text, 1-based, for the message. */
static void line_col(const char *text, const char *at, guint *line, guint *col) {
  *line = 1;
  *col = 1;
  for (const char *p = text; p < at; p++) {
    if (*p == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

gboolean lathe_graph_json_scan(const char *text, gsize len, const char *what,
                               GPtrArray *problems) {
  guint depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\' && i + 1 < len) {
        /* "\u0000" would end the C string early: an id "a\u0000b" became "a". */
        if (text[i + 1] == 'u' && i + 5 < len && strncmp(text + i + 2, "0000", 4) == 0) {
          guint line, col;
          line_col(text, text + i, &line, &col);
          lathe_problems_add(problems, "",
                             "%s%u:%u: a string holds \\u0000 (NUL), which Lathe cannot keep; "
                             "remove it", what, line, col);
          return FALSE;
        }
        i++; /* the escaped character, even a quote */
      } else if (c == '"') {
        in_string = FALSE;
      }
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > LATHE_GRAPH_MAX_DEPTH) {
        guint line, col;
        line_col(text, text + i, &line, &col);
        lathe_problems_add(problems, "",
                           "%s%u:%u: nested deeper than %u levels of [ and {; a pipeline needs "
                           "far fewer, flatten it", what, line, col, LATHE_GRAPH_MAX_DEPTH);
        return FALSE;
      }
    } else if ((c == ']' || c == '}') && depth) {
      if (--depth == 0) {
        /* json-glib stops at the end of the first value and ignores the
         * rest: "{...}{...}" would lose the second object without a word. */
        gsize j = i + 1;
        while (j < len && g_ascii_isspace(text[j]))
          j++;
        if (j < len) {
          guint line, col;
          line_col(text, text + j, &line, &col);
          lathe_problems_add(problems, "",
                             "%s%u:%u: text after the end of the JSON value; a pipeline is one "
                             "JSON object: remove what follows it", what, line, col);
          return FALSE;
        }
        return TRUE;
      }
    }
  }
  return TRUE;
}

JsonNode *lathe_graph_member(JsonObject *o, const char *key, LatheJsonKind want,
                             gboolean *wrong) {
  JsonNode *v = o ? json_object_get_member(o, key) : NULL;
  *wrong = FALSE;
  if (!v)
    return NULL;
  gboolean ok;
  switch (want) {
  case LATHE_JSON_OBJECT:
    ok = JSON_NODE_HOLDS_OBJECT(v);
    break;
  case LATHE_JSON_ARRAY:
    ok = JSON_NODE_HOLDS_ARRAY(v);
    break;
  case LATHE_JSON_STRING:
    ok = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING;
    break;
  case LATHE_JSON_BOOLEAN:
    ok = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_BOOLEAN;
    break;
  case LATHE_JSON_INT:
    ok = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64;
    break;
  default:
    ok = FALSE;
  }
  *wrong = !ok;
  return ok ? v : NULL;
}

const char *lathe_graph_string(JsonObject *o, const char *key) {
  gboolean wrong;
  JsonNode *v = lathe_graph_member(o, key, LATHE_JSON_STRING, &wrong);
  return v ? json_node_get_string(v) : NULL;
}

const char *lathe_json_kind_name(JsonNode *v) {
  if (!v || JSON_NODE_HOLDS_NULL(v))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT(v))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY(v))
    return "a list";
  GType t = json_node_get_value_type(v);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  return "a number";
}

gboolean lathe_graph_has_control(const char *s) {
  for (const char *p = s; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}
