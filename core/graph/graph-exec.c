/* A node's execution settings (issue 15): where it runs ("executor"), what
 * it may use ("resources") and how often it is tried again ("retry"), with
 * the duration and size parsers they share with the engine. */
#include <math.h>
#include <string.h>

#include "graph/graph.h"

static const struct {
  const char *suffix;
  double scale;
} duration_units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"", 1}};

gboolean lathe_parse_duration(const char *text, double *seconds) {
  if (!text || !*text)
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod(text, &end);
  if (end == text || !isfinite(v) || v < 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(duration_units); i++)
    if (g_str_equal(end, duration_units[i].suffix)) {
      *seconds = v * duration_units[i].scale;
      return TRUE;
    }
  return FALSE;
}

static const struct {
  const char *suffix;
  double mib;
} memory_units[] = {{"KiB", 1.0 / 1024}, {"K", 1.0 / 1024}, {"MiB", 1}, {"M", 1},
                    {"GiB", 1024},       {"G", 1024},       {"TiB", 1048576}, {"T", 1048576},
                    {"", 1}};

gboolean lathe_parse_memory(const char *text, guint64 *mib) {
  if (!text || !*text || *text == '-')
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod(text, &end);
  if (end == text || !isfinite(v) || v <= 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(memory_units); i++)
    if (g_str_equal(end, memory_units[i].suffix)) {
      double m = ceil(v * memory_units[i].mib);
      if (m > (double)G_MAXINT64)
        return FALSE;
      *mib = (guint64)m;
      return TRUE;
    }
  return FALSE;
}

double lathe_retry_delay(const LatheRetryPolicy *p, guint attempt) {
  double d = p->delay;
  for (guint i = 2; i < attempt && d < p->max_delay; i++)
    d *= p->factor;
  return MIN(d, p->max_delay);
}

static const char *const retry_names[] = {"crash", "timeout", "error", "lost"};

guint lathe_retry_on_parse(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(retry_names); i++)
    if (g_strcmp0(name, retry_names[i]) == 0)
      return 1u << i;
  return 0;
}

const char *lathe_retry_on_name(guint bit) {
  for (guint i = 0; i < G_N_ELEMENTS(retry_names); i++)
    if (bit == 1u << i)
      return retry_names[i];
  return "?";
}

void lathe_graph_node_exec_clear(LatheNode *n) {
  g_clear_pointer(&n->executor, json_object_unref);
  g_clear_pointer(&n->resources.partition, g_free);
  g_clear_pointer(&n->resources.account, g_free);
  g_clear_pointer(&n->resources.qos, g_free);
}

/* A duration member: a string with its unit, or a number of seconds. */
static gboolean member_duration(JsonObject *o, const char *key, double *out, LatheNode *n,
                                const char *what, GPtrArray *problems) {
  JsonNode *v = json_object_get_member(o, key);
  if (!v)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE(v) && (json_node_get_value_type(v) == G_TYPE_INT64 ||
                                   json_node_get_value_type(v) == G_TYPE_DOUBLE) &&
      json_node_get_double(v) >= 0) {
    *out = json_node_get_double(v);
    return TRUE;
  }
  const char *s = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                      ? json_node_get_string(v) : NULL;
  if (s && lathe_parse_duration(s, out))
    return TRUE;
  lathe_problems_add(problems, n->pointer,
                     "node '%s': %s.%s must be a duration such as \"600s\", \"10m\" or \"0.1s\"",
                     n->id, what, key);
  return FALSE;
}

static gboolean member_uint(JsonObject *o, const char *key, guint max, guint *out, LatheNode *n,
                            const char *what, GPtrArray *problems) {
  JsonNode *v = json_object_get_member(o, key);
  if (!v)
    return FALSE;
  if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64 &&
      json_node_get_int(v) >= 0 && json_node_get_int(v) <= max) {
    *out = (guint)json_node_get_int(v);
    return TRUE;
  }
  lathe_problems_add(problems, n->pointer, "node '%s': %s.%s must be an integer from 0 to %u",
                     n->id, what, key, max);
  return FALSE;
}

static char *member_name(JsonObject *o, const char *key, LatheNode *n, GPtrArray *problems) {
  JsonNode *v = json_object_get_member(o, key);
  if (!v)
    return NULL;
  const char *s = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                      ? json_node_get_string(v) : NULL;
  /* Handed to sbatch as an argument: no spaces, quotes or control characters. */
  gboolean ok = s && *s && strlen(s) < 128;
  for (const char *c = s; ok && *c; c++)
    ok = g_ascii_isalnum(*c) || strchr("_-.:+", *c);
  if (!ok) {
    lathe_problems_add(problems, n->pointer,
                       "node '%s': resources.%s must be a name of letters, digits, '_', '-', '.'",
                       n->id, key);
    return NULL;
  }
  return g_strdup(s);
}

static void check_only(JsonObject *o, const char *const *keys, LatheNode *n, const char *what,
                       GPtrArray *problems) {
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains(keys, l->data)) {
      g_autofree char *list = g_strjoinv(", ", (char **)keys);
      lathe_problems_add(problems, n->pointer, "node '%s': unknown key '%s' in \"%s\"; allowed: %s",
                         n->id, (char *)l->data, what, list);
    }
}

static void parse_resources(LatheNode *n, JsonNode *v, GPtrArray *problems) {
  if (!JSON_NODE_HOLDS_OBJECT(v)) {
    lathe_problems_add(problems, n->pointer, "node '%s': \"resources\" is an object such as "
                       "{\"cpus\": 2, \"memory\": \"2GiB\", \"time\": \"10m\"}", n->id);
    return;
  }
  JsonObject *o = json_node_get_object(v);
  static const char *const keys[] = {"cpus", "memory", "time", "gpus", "partition", "account",
                                     "qos", NULL};
  check_only(o, keys, n, "resources", problems);
  LatheResources *r = &n->resources;
  member_uint(o, "cpus", 4096, &r->cpus, n, "resources", problems);
  member_uint(o, "gpus", 64, &r->gpus, n, "resources", problems);
  JsonNode *m = json_object_get_member(o, "memory");
  if (m) {
    const char *s = JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING
                        ? json_node_get_string(m) : NULL;
    if (!s || !lathe_parse_memory(s, &r->memory_mb))
      lathe_problems_add(problems, n->pointer,
                         "node '%s': resources.memory must be a size such as \"2GiB\" or \"512MiB\"",
                         n->id);
  }
  double t = 0;
  if (member_duration(o, "time", &t, n, "resources", problems)) {
    if (t < 1 || t > 365.0 * 86400)
      lathe_problems_add(problems, n->pointer,
                         "node '%s': resources.time must be from 1 s to 365 days", n->id);
    else
      r->time_s = (guint)ceil(t);
  }
  r->partition = member_name(o, "partition", n, problems);
  r->account = member_name(o, "account", n, problems);
  r->qos = member_name(o, "qos", n, problems);
}

static void parse_retry(LatheNode *n, JsonNode *v, GPtrArray *problems) {
  if (!JSON_NODE_HOLDS_OBJECT(v)) {
    lathe_problems_add(problems, n->pointer, "node '%s': \"retry\" is an object such as "
                       "{\"max\": 3, \"delay\": \"30s\", \"factor\": 2}", n->id);
    return;
  }
  JsonObject *o = json_node_get_object(v);
  static const char *const keys[] = {"max", "delay", "factor", "max_delay", "on", NULL};
  check_only(o, keys, n, "retry", problems);
  LatheRetryPolicy *p = &n->retry;
  member_uint(o, "max", 100, &p->max, n, "retry", problems);
  member_duration(o, "delay", &p->delay, n, "retry", problems);
  member_duration(o, "max_delay", &p->max_delay, n, "retry", problems);
  JsonNode *f = json_object_get_member(o, "factor");
  if (f) {
    if (JSON_NODE_HOLDS_VALUE(f) && (json_node_get_value_type(f) == G_TYPE_INT64 ||
                                     json_node_get_value_type(f) == G_TYPE_DOUBLE) &&
        json_node_get_double(f) >= 1 && json_node_get_double(f) <= 100)
      p->factor = json_node_get_double(f);
    else
      lathe_problems_add(problems, n->pointer, "node '%s': retry.factor must be a number from 1 to 100",
                         n->id);
  }
  JsonNode *on = json_object_get_member(o, "on");
  if (on) {
    JsonArray *a = JSON_NODE_HOLDS_ARRAY(on) ? json_node_get_array(on) : NULL;
    guint bits = 0;
    gboolean ok = a && json_array_get_length(a) > 0;
    for (guint i = 0; ok && i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      guint bit = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING
                      ? lathe_retry_on_parse(json_node_get_string(e)) : 0;
      ok = bit != 0;
      bits |= bit;
    }
    if (ok)
      p->on = bits;
    else
      lathe_problems_add(problems, n->pointer, "node '%s': retry.on is a non-empty list of "
                         "\"crash\", \"timeout\", \"error\", \"lost\"", n->id);
  }
  if (p->max_delay < p->delay)
    p->max_delay = p->delay;
}

void lathe_graph_node_exec_parse(LatheNode *n, JsonObject *o, LatheCatalog *cat,
                                 GPtrArray *problems) {
  /* Kubeflow's defaults: no retry unless asked; a retry waits 10 s, twice
   * as long each time, at most an hour, whatever went wrong. */
  n->retry = (LatheRetryPolicy){.max = 0, .delay = 10, .factor = 2, .max_delay = 3600,
                                .on = LATHE_RETRY_ON_ALL};
  JsonNode *ex = json_object_get_member(o, "executor");
  if (ex) {
    g_autofree char *ptr = g_strdup_printf("%s/executor", n->pointer);
    const char *use = JSON_NODE_HOLDS_OBJECT(ex)
                          ? json_object_get_string_member_with_default(json_node_get_object(ex), "use", NULL)
                          : NULL;
    if (g_strcmp0(use, "threads") == 0) { /* back on the host, whatever the pipeline says */
      n->executor = json_object_new();
      json_object_set_string_member(n->executor, "use", "threads");
    } else {
      guint before = problems->len;
      lathe_graph_check_setting(ex, ptr, "executor", LATHE_KIND_EXECUTOR, cat, problems, &n->executor);
      for (guint i = before; i < problems->len; i++) { /* say which node */
        LatheProblem *p = problems->pdata[i];
        g_autofree char *m = p->message;
        p->message = g_strdup_printf("node '%s': %s", n->id, m);
      }
    }
  }
  JsonNode *res = json_object_get_member(o, "resources");
  if (res)
    parse_resources(n, res, problems);
  JsonNode *retry = json_object_get_member(o, "retry");
  if (retry)
    parse_retry(n, retry, problems);
}
