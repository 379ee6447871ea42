/* tune-space-json.c: host search space <-> #LatheTuneSpace. */
#include "tune-space-json.h"

#include <math.h>

static gboolean fail(GError **error, const char *name, const char *why) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "search space dimension %s: %s", name, why);
  return FALSE;
}

static double num(JsonObject *o, const char *key, double def) {
  JsonNode *n = json_object_get_member(o, key);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : def;
}

/* The index of @value among @choices, or -1. */
static int choice_index(JsonArray *choices, JsonNode *value) {
  for (guint i = 0; i < json_array_get_length(choices); i++)
    if (json_node_equal(json_array_get_element(choices, i), value))
      return (int)i;
  return -1;
}

static gboolean set_condition(LatheTuneSpaceJson *sj, guint i, JsonObject *when, GError **error) {
  LatheTuneDim *d = &sj->dims[i];
  const char *parent = json_object_get_string_member_with_default(when, "parent", "");
  const char *op = json_object_get_string_member_with_default(when, "op", "");
  JsonNode *value = json_object_get_member(when, "value");
  d->parent = -1;
  for (guint p = 0; p < i; p++)
    if (g_str_equal(sj->names[p], parent))
      d->parent = (int)p;
  if (d->parent < 0 || !value)
    return fail(error, sj->names[i], "its \"when\" parent must come before it");
  const LatheTuneDim *pd = &sj->dims[d->parent];
  if (pd->kind == LATHE_TUNE_CATEGORICAL) {
    int c = choice_index(sj->choices[d->parent], value);
    if (c < 0 || c >= 64)
      return fail(error, sj->names[i], "its \"when\" value is not one of the parent's first 64 choices");
    guint64 all = pd->n_choices >= 64 ? G_MAXUINT64 : ((guint64)1 << pd->n_choices) - 1;
    d->cond_choices = g_str_equal(op, "==") ? (guint64)1 << c : all & ~((guint64)1 << c);
    return TRUE;
  }
  double v = json_node_get_double(value);
  gboolean is_int = pd->kind == LATHE_TUNE_INT;
  d->cond_lo = -INFINITY;
  d->cond_hi = INFINITY;
  if (g_str_equal(op, "=="))
    d->cond_lo = d->cond_hi = v;
  else if (g_str_equal(op, ">="))
    d->cond_lo = v;
  else if (g_str_equal(op, ">"))
    d->cond_lo = is_int ? floor(v) + 1 : nextafter(v, INFINITY);
  else if (g_str_equal(op, "<="))
    d->cond_hi = v;
  else if (g_str_equal(op, "<"))
    d->cond_hi = is_int ? ceil(v) - 1 : nextafter(v, -INFINITY);
  else
    return fail(error, sj->names[i], "its \"when\" op does not apply to a number");
  return TRUE;
}

static gboolean set_dim(LatheTuneSpaceJson *sj, guint i, JsonNode *spec, GError **error) {
  LatheTuneDim *d = &sj->dims[i];
  d->parent = -1;
  if (JSON_NODE_HOLDS_ARRAY(spec)) {
    d->kind = LATHE_TUNE_CATEGORICAL;
    sj->choices[i] = json_array_ref(json_node_get_array(spec));
    d->n_choices = json_array_get_length(sj->choices[i]);
    return d->n_choices > 0 || fail(error, sj->names[i], "no choices");
  }
  if (!JSON_NODE_HOLDS_OBJECT(spec))
    return fail(error, sj->names[i], "a spec is a list or an object");
  JsonObject *o = json_node_get_object(spec);
  const char *type = json_object_get_string_member_with_default(o, "type", "");
  if (g_str_equal(type, "categorical")) {
    JsonNode *ch = json_object_get_member(o, "choices");
    if (!ch || !JSON_NODE_HOLDS_ARRAY(ch) || json_array_get_length(json_node_get_array(ch)) == 0)
      return fail(error, sj->names[i], "a categorical needs choices");
    d->kind = LATHE_TUNE_CATEGORICAL;
    sj->choices[i] = json_array_ref(json_node_get_array(ch));
    d->n_choices = json_array_get_length(sj->choices[i]);
  } else if (g_str_equal(type, "int") || g_str_equal(type, "float")) {
    d->kind = g_str_equal(type, "int") ? LATHE_TUNE_INT : LATHE_TUNE_FLOAT;
    d->lo = num(o, "low", NAN);
    d->hi = num(o, "high", NAN);
    d->step = num(o, "step", 0);
    d->log = json_object_get_boolean_member_with_default(o, "log", FALSE);
    if (!(d->lo < d->hi) || (d->log && d->lo <= 0) || d->step < 0)
      return fail(error, sj->names[i], "bounds the host should have refused");
  } else {
    return fail(error, sj->names[i], "unknown type");
  }
  if (json_object_has_member(o, "when"))
    return set_condition(sj, i, json_object_get_object_member(o, "when"), error);
  return TRUE;
}

LatheTuneSpaceJson *lathe_tune_space_json_new(const LatheSearchSpace *space, GError **error) {
  guint n = lathe_search_space_n_dims(space);
  LatheTuneSpaceJson *sj = g_new0(LatheTuneSpaceJson, 1);
  sj->dims = g_new0(LatheTuneDim, MAX(n, 1));
  sj->names = g_new0(char *, n + 1);
  sj->choices = g_new0(JsonArray *, MAX(n, 1));
  sj->space.n_dims = n;
  sj->space.dims = sj->dims;
  for (guint i = 0; i < n; i++) {
    sj->names[i] = g_strdup(lathe_search_space_dim_name(space, i));
    if (!set_dim(sj, i, lathe_search_space_dim_spec(space, i), error)) {
      lathe_tune_space_json_free(sj);
      return NULL;
    }
  }
  return sj;
}

void lathe_tune_space_json_free(LatheTuneSpaceJson *sj) {
  if (!sj)
    return;
  for (guint i = 0; i < sj->space.n_dims; i++)
    if (sj->choices[i])
      json_array_unref(sj->choices[i]);
  g_strfreev(sj->names);
  g_free(sj->choices);
  g_free(sj->dims);
  g_free(sj);
}

JsonObject *lathe_tune_space_json_point(const LatheTuneSpaceJson *sj, const double *x) {
  JsonObject *o = json_object_new();
  for (guint i = 0; i < sj->space.n_dims; i++) {
    if (isnan(x[i]))
      continue;
    const LatheTuneDim *d = &sj->dims[i];
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      guint c = MIN((guint)x[i], d->n_choices - 1);
      json_object_set_member(o, sj->names[i], json_node_copy(json_array_get_element(sj->choices[i], c)));
    } else if (d->kind == LATHE_TUNE_INT) {
      json_object_set_int_member(o, sj->names[i], (gint64)llround(x[i]));
    } else {
      json_object_set_double_member(o, sj->names[i], x[i]);
    }
  }
  return o;
}

gboolean lathe_tune_space_json_parse(const LatheTuneSpaceJson *sj, JsonObject *point, double *x) {
  for (guint i = 0; i < sj->space.n_dims; i++) {
    JsonNode *v = json_object_get_member(point, sj->names[i]);
    const LatheTuneDim *d = &sj->dims[i];
    x[i] = NAN;
    if (!v)
      continue; /* inactive where it was proposed */
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      int c = choice_index(sj->choices[i], v);
      if (c < 0)
        return FALSE;
      x[i] = c;
      continue;
    }
    if (!JSON_NODE_HOLDS_VALUE(v) || (json_node_get_value_type(v) != G_TYPE_INT64 &&
                                      json_node_get_value_type(v) != G_TYPE_DOUBLE))
      return FALSE;
    x[i] = json_node_get_double(v);
    if (!(x[i] >= d->lo && x[i] <= d->hi))
      return FALSE;
  }
  return TRUE;
}
