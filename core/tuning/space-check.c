/* tuner-space.c: checking and completing the typed dimensions of a tuner's
 * search space against the params they set. Every problem a space can have
 * is found here, when the pipeline is validated, so a study never starts on
 * a space that cannot be sampled. */
#include <math.h>
#include <string.h>

#include "catalog/catalog.h"
#include "tuning/tuning.h"

static const char *const spec_keys[] = {"type", "low", "high", "step", "log", "choices", "when", NULL};
static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};

static gboolean get_number(JsonObject *o, const char *key, double *out) {
  JsonNode *n = json_object_get_member(o, key);
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  GType t = json_node_get_value_type(n);
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double(n);
  return isfinite(*out);
}

static const char *param_kind(const LatheParamSpec *ps) {
  switch (ps->type) {
  case LATHE_PARAM_INT: return "int";
  case LATHE_PARAM_FLOAT: return "float";
  case LATHE_PARAM_ENUM:
  case LATHE_PARAM_BOOL:
  case LATHE_PARAM_STRING: return "categorical";
  default: return NULL;
  }
}

/* Every value of an ENUM or BOOL param, for a categorical without choices. */
static JsonArray *all_choices(const LatheParamSpec *ps) {
  JsonArray *a = json_array_new();
  if (ps->type == LATHE_PARAM_BOOL) {
    json_array_add_boolean_element(a, FALSE);
    json_array_add_boolean_element(a, TRUE);
  }
  for (guint i = 0; ps->type == LATHE_PARAM_ENUM && ps->choices && ps->choices[i]; i++)
    json_array_add_string_element(a, ps->choices[i]);
  return a;
}

/* "DIM OP VALUE" -> {"parent", "op", "value"}; the parent must be another
 * dimension of @space. */
static JsonObject *parse_when(const char *dim, const char *when, JsonObject *space,
                              const char *ptr, GPtrArray *problems) {
  const char *op = NULL, *at = NULL;
  for (const char *p = when; *p && !op; p++)
    for (guint i = 0; ops[i]; i++)
      if (strncmp(p, ops[i], strlen(ops[i])) == 0) {
        op = ops[i];
        at = p;
        break;
      }
  if (!op) {
    lathe_problems_add(problems, ptr, "\"when\" is \"DIM OP VALUE\" with OP one of == != < <= > >=, "
                       "e.g. \"model.layers >= 2\"; got '%s'", when);
    return NULL;
  }
  g_autofree char *parent = g_strstrip(g_strndup(when, at - when));
  g_autofree char *value_text = g_strstrip(g_strdup(at + strlen(op)));
  if (g_str_equal(parent, dim) || !json_object_has_member(space, parent)) {
    lathe_problems_add(problems, ptr, "\"when\" of %s names '%s', which is not another dimension "
                       "of this space", dim, parent);
    return NULL;
  }
  g_autoptr(JsonParser) jp = json_parser_new();
  JsonNode *value = json_parser_load_from_data(jp, value_text, -1, NULL) && json_parser_get_root(jp)
                        ? json_node_copy(json_parser_get_root(jp))
                        : json_node_init_string(json_node_alloc(), value_text);
  if (!JSON_NODE_HOLDS_VALUE(value)) {
    json_node_unref(value);
    lathe_problems_add(problems, ptr, "the value in \"when\" must be a number, string or boolean");
    return NULL;
  }
  JsonObject *w = json_object_new();
  json_object_set_string_member(w, "parent", parent);
  json_object_set_string_member(w, "op", op);
  json_object_set_member(w, "value", value);
  return w;
}

/* A categorical's choices must each be a valid value of the param. */
static gboolean check_choices(const char *dim, JsonArray *choices, const LatheParamSpec *ps,
                              const char *ptr, GPtrArray *problems) {
  if (json_array_get_length(choices) == 0) {
    lathe_problems_add(problems, ptr, "%s: a categorical needs at least one choice", dim);
    return FALSE;
  }
  gboolean ok = TRUE;
  for (guint i = 0; i < json_array_get_length(choices); i++) {
    g_autofree char *why = NULL;
    g_autoptr(JsonNode) checked = lathe_param_check(ps, json_array_get_element(choices, i), &why);
    if (!checked) {
      lathe_problems_add(problems, ptr, "%s: choice %u: %s", dim, i, why);
      ok = FALSE;
    }
  }
  return ok;
}

static gboolean check_numeric(const char *dim, JsonObject *out, const LatheParamSpec *ps,
                              gboolean is_int, const char *ptr, GPtrArray *problems) {
  double lo = 0, hi = 0, step = 0;
  if (!json_object_has_member(out, "low") && (ps->flags & LATHE_PARAM_HAS_MIN))
    json_object_set_double_member(out, "low", ps->min);
  if (!json_object_has_member(out, "high") && (ps->flags & LATHE_PARAM_HAS_MAX))
    json_object_set_double_member(out, "high", ps->max);
  if (!get_number(out, "low", &lo) || !get_number(out, "high", &hi)) {
    lathe_problems_add(problems, ptr, "%s needs numbers \"low\" and \"high\" (the param declares "
                       "no bound to default to)", dim);
    return FALSE;
  }
  if (!(lo < hi)) {
    lathe_problems_add(problems, ptr, "%s: the range [%g, %g] is %s; write \"low\" below \"high\"",
                       dim, lo, hi, lo == hi ? "empty" : "inverted");
    return FALSE;
  }
  if (((ps->flags & LATHE_PARAM_HAS_MIN) && lo < ps->min) ||
      ((ps->flags & LATHE_PARAM_HAS_MAX) && hi > ps->max)) {
    lathe_problems_add(problems, ptr, "%s: the range [%g, %g] leaves the param's bounds [%g, %g]",
                       dim, lo, hi, (ps->flags & LATHE_PARAM_HAS_MIN) ? ps->min : -INFINITY,
                       (ps->flags & LATHE_PARAM_HAS_MAX) ? ps->max : INFINITY);
    return FALSE;
  }
  if (is_int && (lo != floor(lo) || hi != floor(hi))) {
    lathe_problems_add(problems, ptr, "%s: an int dimension needs whole bounds, got [%g, %g]", dim, lo, hi);
    return FALSE;
  }
  JsonNode *logn = json_object_get_member(out, "log");
  if (logn && (!JSON_NODE_HOLDS_VALUE(logn) || json_node_get_value_type(logn) != G_TYPE_BOOLEAN)) {
    lathe_problems_add(problems, ptr, "%s: \"log\" is true or false", dim);
    return FALSE;
  }
  gboolean log = logn ? json_node_get_boolean(logn) : (ps->flags & LATHE_PARAM_LOG) != 0;
  if (log && lo <= 0) {
    if (logn) {
      lathe_problems_add(problems, ptr, "%s: a log scale needs bounds above 0, got low %g", dim, lo);
      return FALSE;
    }
    log = FALSE; /* the schema's hint, but these bounds cannot take it */
  }
  json_object_set_boolean_member(out, "log", log);
  if (json_object_has_member(out, "step")) {
    if (!get_number(out, "step", &step) || step <= 0 || (is_int && step != floor(step))) {
      lathe_problems_add(problems, ptr, "%s: \"step\" is a number above 0%s", dim,
                         is_int ? " and whole" : "");
      return FALSE;
    }
    if (log) {
      lathe_problems_add(problems, ptr, "%s: a log scale cannot have a step; drop one of them", dim);
      return FALSE;
    }
    double k = (hi - lo) / step;
    if (fabs(k - round(k)) > 1e-9 * MAX(1.0, fabs(k))) {
      lathe_problems_add(problems, ptr, "%s: the step %g does not divide the range [%g, %g]; make "
                         "high - low a multiple of it", dim, step, lo, hi);
      return FALSE;
    }
  }
  return TRUE;
}

JsonNode *lathe_tuner_space_normalize(const char *dim, JsonNode *spec, const LatheParamSpec *ps,
                                      JsonObject *space, const char *ptr, GPtrArray *problems) {
  if (ps && (ps->flags & LATHE_PARAM_SECRET)) {
    /* Trial points are stored, logged and shown: a secret has no place there. */
    lathe_problems_add(problems, ptr, "%s is a secret param; it cannot be searched", dim);
    return NULL;
  }
  if (JSON_NODE_HOLDS_ARRAY(spec)) {
    if (!check_choices(dim, json_node_get_array(spec), ps, ptr, problems))
      return NULL;
    return json_node_copy(spec);
  }
  if (!JSON_NODE_HOLDS_OBJECT(spec)) {
    lathe_problems_add(problems, ptr, "%s: a dimension is a list of values or an object "
                       "{\"type\", \"low\", \"high\", ...}", dim);
    return NULL;
  }
  JsonObject *in = json_node_get_object(spec);
  g_autoptr(GList) keys = json_object_get_members(in);
  for (GList *l = keys; l; l = l->next)
    if (!g_strv_contains(spec_keys, l->data)) {
      lathe_problems_add(problems, ptr, "%s: unknown key '%s' (a dimension has type, low, high, "
                         "step, log, choices, when)", dim, (char *)l->data);
      return NULL;
    }
  JsonObject *out = json_object_new();
  for (GList *l = keys; l; l = l->next)
    json_object_set_member(out, l->data, json_node_copy(json_object_get_member(in, l->data)));
  g_autoptr(JsonNode) result = json_node_init_object(json_node_alloc(), out);
  json_object_unref(out);
  const char *type = json_object_get_string_member_with_default(in, "type", param_kind(ps));
  if (!type || (!g_str_equal(type, "int") && !g_str_equal(type, "float") &&
                !g_str_equal(type, "categorical"))) {
    lathe_problems_add(problems, ptr, "%s: \"type\" is int, float or categorical", dim);
    return NULL;
  }
  if ((g_str_equal(type, "float") && ps->type != LATHE_PARAM_FLOAT) ||
      (g_str_equal(type, "int") && ps->type != LATHE_PARAM_INT && ps->type != LATHE_PARAM_FLOAT)) {
    lathe_problems_add(problems, ptr, "%s: a %s dimension cannot set a %s param; use a "
                       "categorical with its values", dim, type, lathe_param_type_name(ps->type));
    return NULL;
  }
  json_object_set_string_member(out, "type", type);
  if (g_str_equal(type, "categorical")) {
    if (json_object_has_member(out, "low") || json_object_has_member(out, "high") ||
        json_object_has_member(out, "step") || json_object_has_member(out, "log")) {
      lathe_problems_add(problems, ptr, "%s: a categorical has \"choices\", not bounds", dim);
      return NULL;
    }
    if (!json_object_has_member(out, "choices"))
      json_object_set_array_member(out, "choices", all_choices(ps));
    JsonNode *ch = json_object_get_member(out, "choices");
    if (!JSON_NODE_HOLDS_ARRAY(ch)) {
      lathe_problems_add(problems, ptr, "%s: \"choices\" is a list of values", dim);
      return NULL;
    }
    if (!check_choices(dim, json_node_get_array(ch), ps, ptr, problems))
      return NULL;
  } else {
    if (json_object_has_member(out, "choices")) {
      lathe_problems_add(problems, ptr, "%s: only a categorical has \"choices\"", dim);
      return NULL;
    }
    if (!check_numeric(dim, out, ps, g_str_equal(type, "int"), ptr, problems))
      return NULL;
  }
  if (json_object_has_member(in, "when")) {
    const char *when = json_object_get_string_member_with_default(in, "when", NULL);
    JsonObject *w = when ? parse_when(dim, when, space, ptr, problems) : NULL;
    if (!when)
      lathe_problems_add(problems, ptr, "%s: \"when\" is a string, e.g. \"model.layers >= 2\"", dim);
    if (!w)
      return NULL;
    json_object_set_object_member(out, "when", w);
  }
  return g_steal_pointer(&result);
}

static gboolean check_link(const char *dim, JsonObject *w, JsonObject *parent, const char *ptr,
                           GPtrArray *problems) {
  const char *op = json_object_get_string_member(w, "op");
  JsonNode *value = json_object_get_member(w, "value");
  const char *pname = json_object_get_string_member(w, "parent");
  if (!JSON_NODE_HOLDS_OBJECT(json_object_get_member(parent, pname)))
    goto categorical; /* a list: categorical */
  JsonObject *ps = json_object_get_object_member(parent, pname);
  if (!g_str_equal(json_object_get_string_member(ps, "type"), "categorical")) {
    GType t = json_node_get_value_type(value);
    if (g_str_equal(op, "!=") || (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)) {
      lathe_problems_add(problems, ptr, "%s: \"when\" on the number %s takes == < <= > >= and a "
                         "number", dim, pname);
      return FALSE;
    }
    return TRUE;
  }
categorical:
  if (!g_str_equal(op, "==") && !g_str_equal(op, "!=")) {
    lathe_problems_add(problems, ptr, "%s: \"when\" on the categorical %s takes == or !=", dim, pname);
    return FALSE;
  }
  JsonNode *pn = json_object_get_member(parent, pname);
  JsonArray *choices = JSON_NODE_HOLDS_ARRAY(pn) ? json_node_get_array(pn)
                                                 : json_object_get_array_member(json_node_get_object(pn), "choices");
  for (guint i = 0; i < json_array_get_length(choices); i++)
    if (json_node_equal(json_array_get_element(choices, i), value))
      return TRUE;
  g_autofree char *text = json_to_string(value, FALSE);
  lathe_problems_add(problems, ptr, "%s: \"when\" compares %s with %s, which is not one of its choices",
                     dim, pname, text);
  return FALSE;
}

static const char *parent_of(JsonObject *space, const char *dim) {
  JsonNode *n = json_object_get_member(space, dim);
  if (!n || !JSON_NODE_HOLDS_OBJECT(n) || !json_object_has_member(json_node_get_object(n), "when"))
    return NULL;
  return json_object_get_string_member(json_object_get_object_member(json_node_get_object(n), "when"),
                                       "parent");
}

static void emit(JsonObject *space, JsonObject *out, const char *dim) {
  if (json_object_has_member(out, dim))
    return;
  const char *p = parent_of(space, dim);
  if (p)
    emit(space, out, p);
  json_object_set_member(out, dim, json_node_copy(json_object_get_member(space, dim)));
}

JsonObject *lathe_tuner_space_link(JsonObject *space, const char *pointer, GPtrArray *problems) {
  gboolean ok = TRUE;
  g_autoptr(GList) dims = json_object_get_members(space);
  guint n = g_list_length(dims);
  for (GList *l = dims; l; l = l->next) {
    g_autofree char *ptr = g_strdup_printf("%s/%s", pointer, (char *)l->data);
    JsonNode *spec = json_object_get_member(space, l->data);
    if (parent_of(space, l->data) &&
        !check_link(l->data, json_object_get_object_member(json_node_get_object(spec), "when"), space,
                    ptr, problems))
      ok = FALSE;
    /* a chain longer than the space loops */
    const char *p = l->data;
    guint steps = 0;
    while ((p = parent_of(space, p)) && steps <= n)
      steps++;
    if (steps > n) {
      lathe_problems_add(problems, ptr, "%s: its \"when\" chain loops back to itself", (char *)l->data);
      ok = FALSE;
    }
  }
  if (!ok)
    return NULL;
  /* Parents first, pulled in just before their first child; else file order. */
  JsonObject *out = json_object_new();
  for (GList *l = dims; l; l = l->next)
    emit(space, out, l->data);
  return out;
}

gboolean lathe_tuner_constraint_parse(const char *text, LatheTunerConstraint *out, char **why) {
  memset(out, 0, sizeof *out);
  const char *at = NULL, *op = NULL;
  for (const char *p = text; *p && !op; p++)
    for (guint i = 0; ops[i]; i++)
      if (strncmp(p, ops[i], strlen(ops[i])) == 0) {
        op = ops[i];
        at = p;
        break;
      }
  g_autofree char *lhs = op ? g_strstrip(g_strndup(text, at - text)) : NULL;
  g_autofree char *rhs = op ? g_strstrip(g_strdup(at + strlen(op))) : NULL;
  const char *dot = lhs ? strchr(lhs, '.') : NULL;
  char *end = NULL;
  double bound = rhs ? g_ascii_strtod(rhs, &end) : NAN;
  if (!op || !dot || dot == lhs || !dot[1] || !end || end == rhs || *end || !isfinite(bound)) {
    *why = g_strdup_printf("'%s' is not \"NODE.METRIC OP NUMBER\" (OP one of == != < <= > >=), e.g. "
                           "\"model.train_seconds <= 60\"", text);
    return FALSE;
  }
  out->node = g_strndup(lhs, dot - lhs);
  out->metric = g_strdup(dot + 1);
  g_strlcpy(out->op, op, sizeof out->op);
  out->bound = bound;
  return TRUE;
}

void lathe_tuner_constraint_clear(LatheTunerConstraint *c) {
  g_clear_pointer(&c->node, g_free);
  g_clear_pointer(&c->metric, g_free);
}

gboolean lathe_tuner_constraint_holds(const LatheTunerConstraint *c, double v) {
  if (g_str_equal(c->op, "=="))
    return v == c->bound;
  if (g_str_equal(c->op, "!="))
    return v != c->bound;
  if (g_str_equal(c->op, "<="))
    return v <= c->bound;
  if (g_str_equal(c->op, ">="))
    return v >= c->bound;
  if (g_str_equal(c->op, "<"))
    return v < c->bound;
  return v > c->bound;
}
