#include <math.h>
#include <string.h>

#include "catalog/catalog.h"

static void problem_free(LatheProblem *p) {
  g_free(p->pointer);
  g_free(p->message);
  g_free(p);
}

GPtrArray *lathe_problems_new(void) {
  return g_ptr_array_new_with_free_func((GDestroyNotify)problem_free);
}

void lathe_problems_add(GPtrArray *problems, const char *pointer, const char *format, ...) {
  LatheProblem *p = g_new0(LatheProblem, 1);
  va_list ap;
  va_start(ap, format);
  p->message = g_strdup_vprintf(format, ap);
  va_end(ap);
  /* One problem, one line: names and values from the file may hold control
   * characters. */
  for (char *c = p->message; *c; c++)
    if ((unsigned char)*c < 0x20)
      *c = ' ';
  p->pointer = g_strdup(pointer ? pointer : "");
  g_ptr_array_add(problems, p);
}

JsonNode *lathe_param_default(const LatheParamSpec *spec) {
  if (!spec->default_json)
    return NULL;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, spec->default_json, -1, NULL))
    return NULL;
  return json_node_copy(json_parser_get_root(p));
}

static const char *json_kind(JsonNode *v) {
  if (JSON_NODE_HOLDS_NULL(v))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT(v))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY(v))
    return "a list";
  switch (json_node_get_value_type(v)) {
  case G_TYPE_INT64: return "an integer";
  case G_TYPE_DOUBLE: return "a number";
  case G_TYPE_BOOLEAN: return "a boolean";
  default: return "a string";
  }
}

static char *fmt_num(double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup(g_ascii_formatd(buf, sizeof buf, "%g", v));
}

static gboolean check_bounds(const LatheParamSpec *s, double v, char **why) {
  if (((s->flags & LATHE_PARAM_HAS_MIN) && v < s->min) ||
      ((s->flags & LATHE_PARAM_HAS_MAX) && v > s->max)) {
    g_autofree char *lo = fmt_num(s->min), *hi = fmt_num(s->max), *got = fmt_num(v);
    *why = g_strdup_printf("%s is out of bounds [%s, %s]", got,
                           (s->flags & LATHE_PARAM_HAS_MIN) ? lo : "-inf",
                           (s->flags & LATHE_PARAM_HAS_MAX) ? hi : "inf");
    return FALSE;
  }
  return TRUE;
}

static JsonNode *check_scalar(const LatheParamSpec *s, LatheParamType type, JsonNode *v,
                              char **why) {
  GType vt = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
  switch (type) {
  case LATHE_PARAM_INT:
    if (vt == G_TYPE_DOUBLE && json_node_get_double(v) == floor(json_node_get_double(v)) &&
        fabs(json_node_get_double(v)) < 9e15) {
      /* 3.0 is an integer written by a JSON emitter that only has doubles */
      JsonNode *n = json_node_init_int(json_node_alloc(), (gint64)json_node_get_double(v));
      if (!check_bounds(s, json_node_get_double(v), why)) {
        json_node_unref(n);
        return NULL;
      }
      return n;
    }
    if (vt != G_TYPE_INT64)
      break;
    if (!check_bounds(s, (double)json_node_get_int(v), why))
      return NULL;
    return json_node_copy(v);
  case LATHE_PARAM_FLOAT:
    if (vt != G_TYPE_INT64 && vt != G_TYPE_DOUBLE)
      break;
    if (!isfinite(json_node_get_double(v))) {
      *why = g_strdup("must be finite");
      return NULL;
    }
    if (!check_bounds(s, json_node_get_double(v), why))
      return NULL;
    return json_node_init_double(json_node_alloc(), json_node_get_double(v));
  case LATHE_PARAM_BOOL:
    if (vt != G_TYPE_BOOLEAN)
      break;
    return json_node_copy(v);
  case LATHE_PARAM_STRING:
    if ((vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE) && (s->flags & LATHE_PARAM_NUMBER_AS_STRING)) {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      if (vt == G_TYPE_INT64)
        g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, json_node_get_int(v));
      else if (!isfinite(json_node_get_double(v)))
        break;
      else if (json_node_get_double(v) == floor(json_node_get_double(v)) &&
               fabs(json_node_get_double(v)) < 1e15) /* 2e3 -> "2000.0" */
        g_ascii_formatd(buf, sizeof buf, "%.1f", json_node_get_double(v));
      else /* the shortest text that reads back as the same double */
        for (int digits = 1; digits <= 17; digits++) {
          char fmt[8];
          g_snprintf(fmt, sizeof fmt, "%%.%dg", digits);
          g_ascii_formatd(buf, sizeof buf, fmt, json_node_get_double(v));
          if (g_ascii_strtod(buf, NULL) == json_node_get_double(v))
            break;
        }
      /* A JSON float stays a float in text: 1.0 is "1.0", not the count "1". */
      if (vt == G_TYPE_DOUBLE && !strpbrk(buf, ".e"))
        g_strlcat(buf, ".0", sizeof buf);
      return json_node_init_string(json_node_alloc(), buf);
    }
    if (vt != G_TYPE_STRING)
      break;
    return json_node_copy(v);
  case LATHE_PARAM_ENUM:
    if (vt != G_TYPE_STRING)
      break;
    for (guint i = 0; s->choices && s->choices[i]; i++)
      if (g_str_equal(s->choices[i], json_node_get_string(v)))
        return json_node_copy(v);
    {
      g_autofree char *list = s->choices ? g_strjoinv(", ", (char **)s->choices) : g_strdup("");
      g_autofree char *hint = lathe_did_you_mean(lathe_suggest(json_node_get_string(v), s->choices));
      *why = g_strdup_printf("'%s' is not one of: %s%s", json_node_get_string(v), list, hint);
    }
    return NULL;
  case LATHE_PARAM_OBJECT:
    if (!JSON_NODE_HOLDS_OBJECT(v))
      break;
    return json_node_copy(v);
  default:
    break;
  }
  *why = g_strdup_printf("expected %s, got %s", lathe_param_type_name(type), json_kind(v));
  return NULL;
}

JsonNode *lathe_param_check(const LatheParamSpec *s, JsonNode *v, char **why) {
  if (s->type != LATHE_PARAM_LIST)
    return check_scalar(s, s->type, v, why);
  if (!JSON_NODE_HOLDS_ARRAY(v)) {
    *why = g_strdup_printf("expected a list of %s, got %s", lathe_param_type_name(s->item_type),
                           json_kind(v));
    return NULL;
  }
  JsonArray *in = json_node_get_array(v);
  JsonArray *out = json_array_new();
  for (guint i = 0; i < json_array_get_length(in); i++) {
    g_autofree char *inner = NULL;
    JsonNode *item = check_scalar(s, s->item_type, json_array_get_element(in, i), &inner);
    if (!item) {
      *why = g_strdup_printf("item %u: %s", i, inner);
      json_array_unref(out);
      return NULL;
    }
    json_array_add_element(out, item);
  }
  JsonNode *n = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(n, out);
  return n;
}

static const LatheParamSpec *find_spec(LatheComponentInfo *info, const char *name, guint first) {
  for (guint i = first; i < info->params->len; i++)
    if (g_str_equal(g_array_index(info->params, LatheParamSpec, i).name, name))
      return &g_array_index(info->params, LatheParamSpec, i);
  return NULL;
}

JsonObject *lathe_params_resolve(LatheComponentInfo *info, JsonObject *with, const char *pointer,
                                 GPtrArray *problems, gboolean own_only) {
  JsonObject *out = json_object_new();
  guint first = own_only ? info->n_host_params : 0;
  if (with) {
    g_autoptr(GList) members = json_object_get_members(with);
    for (GList *l = members; l; l = l->next) {
      const char *name = l->data;
      g_autofree char *ptr = g_strdup_printf("%s/%s", pointer, name);
      const LatheParamSpec *spec = find_spec(info, name, first);
      if (!spec) {
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        for (guint i = first; i < info->params->len; i++)
          g_ptr_array_add(names, (gpointer)g_array_index(info->params, LatheParamSpec, i).name);
        g_ptr_array_add(names, NULL);
        const char *near = lathe_suggest(name, (const char *const *)names->pdata);
        if (near)
          lathe_problems_add(problems, ptr, "unknown param '%s' for %s (did you mean '%s'?)", name,
                             info->id, near);
        else
          lathe_problems_add(problems, ptr,
                             "unknown param '%s' for %s; `lathe plugins inspect %s` lists them",
                             name, info->id, info->id);
        continue;
      }
      JsonNode *value = json_object_get_member(with, name);
      if (JSON_NODE_HOLDS_NULL(value) && !(spec->flags & LATHE_PARAM_REQUIRED))
        continue; /* null means "use the default" */
      g_autofree char *why = NULL;
      g_autoptr(JsonNode) from_env = NULL;
      const char *env = lathe_param_env_ref(value);
      if (env && !(from_env = lathe_param_env_value(spec, env, &why))) {
        lathe_problems_add(problems, ptr, "param '%s' of %s: %s", name, info->id, why);
        continue;
      }
      JsonNode *checked = lathe_param_check(spec, from_env ? from_env : value, &why);
      if (!checked) {
        if (spec->flags & LATHE_PARAM_SECRET) {
          /* The reason may quote the value ("'hunter2' is not one of"). */
          g_autoptr(JsonObject) one = json_object_new();
          json_object_set_member(one, name, json_node_copy(from_env ? from_env : value));
          g_autofree char *safe = lathe_params_redact(info, one, why);
          g_free(why);
          why = g_steal_pointer(&safe);
        }
        lathe_problems_add(problems, ptr, "param '%s' of %s: %s", name, info->id, why);
        continue;
      }
      json_object_set_member(out, name, checked);
    }
  }
  for (guint i = first; i < info->params->len; i++) {
    const LatheParamSpec *spec = &g_array_index(info->params, LatheParamSpec, i);
    if (json_object_has_member(out, spec->name))
      continue;
    if (with && json_object_has_member(with, spec->name) &&
        !JSON_NODE_HOLDS_NULL(json_object_get_member(with, spec->name)))
      continue; /* already reported as invalid */
    JsonNode *def = g_ptr_array_index(info->defaults, i);
    if (def)
      json_object_set_member(out, spec->name, json_node_copy(def));
    else if (spec->flags & LATHE_PARAM_REQUIRED)
      lathe_problems_add(problems, pointer, "%s needs param '%s' (%s)", info->id, spec->name,
                         spec->doc ? spec->doc : lathe_param_type_name(spec->type));
  }
  return out;
}

void lathe_params_run_checks(LatheCatalog *cat, LatheComponentInfo *info, JsonObject *with,
                             JsonObject *resolved, const char *pointer, GPtrArray *problems) {
  if (!with)
    return;
  for (guint i = info->n_host_params; i < info->params->len; i++) {
    const LatheParamSpec *spec = &g_array_index(info->params, LatheParamSpec, i);
    if (!(spec->flags & LATHE_PARAM_HOST_CHECKED) || !json_object_has_member(with, spec->name) ||
        !json_object_has_member(resolved, spec->name))
      continue;
    g_autofree char *ptr = g_strdup_printf("%s/%s", pointer, spec->name);
    g_autoptr(GError) error = NULL;
    if (!lathe_catalog_realize(cat, info, &error)) {
      lathe_problems_add(problems, ptr, "%s", error->message);
      return;
    }
    const LatheComponent *c = info->klass;
    const LatheParamSpec *own = NULL;
    for (guint k = 0; c->params && c->params[k].name && !own; k++)
      if (g_str_equal(c->params[k].name, spec->name))
        own = &c->params[k];
    if (!own || !own->check)
      continue; /* the metadata was stale; the plugin checks at run time */
    g_autofree char *why = NULL;
    if (!own->check(own, json_object_get_member(resolved, spec->name), &why)) {
      g_autofree char *safe = lathe_params_redact(info, resolved, why);
      lathe_problems_add(problems, ptr, "param '%s' of %s: %s", spec->name, info->id,
                         safe ? safe : "refused by the plugin");
    }
  }
}
