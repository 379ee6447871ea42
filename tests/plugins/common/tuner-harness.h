/* tuner-harness.h: drives a tuner plugin through its ABI the way the host's
 * tuner node does (create, ask, tell), for the tuner plugin tests. */
#pragma once

#include <math.h>

#include <lathe/lathe-search-space-private.h>

#include "test-util.h"

/**
 * Harness:
 * @k: the tuner component.
 * @ctx: its context (params with defaults filled, seed from the node id).
 * @space: the search space, built from a JSON object {name: spec}.
 * @tuner: the instance.
 */
typedef struct {
  const LatheTunerClass *k;
  LatheContext *ctx;
  LatheSearchSpace *space;
  gpointer tuner;
} Harness;

static inline void harness_free(Harness *hs) {
  if (!hs)
    return;
  if (hs->tuner)
    hs->k->free(hs->tuner);
  lathe_search_space_free(hs->space);
  lathe_context_free(hs->ctx);
  g_free(hs);
}

/* A space from {"name": spec, ...}, in the order written (parents first). */
static inline LatheSearchSpace *harness_space(const char *space_json) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, space_json, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  LatheSearchSpace *space = lathe_search_space_new();
  g_autoptr(GList) names = json_object_get_members(o);
  for (GList *l = names; l; l = l->next)
    lathe_search_space_add(space, l->data, json_object_get_member(o, l->data), NULL);
  return space;
}

/* Creates the tuner; returns NULL with @error set when create() refuses. */
static inline Harness *harness_try(const char *plugin_dir, const char *id, const char *params,
                                   guint64 seed, const char *space_json, GError **error) {
  Harness *hs = g_new0(Harness, 1);
  hs->k = (const LatheTunerClass *)lathe_test_component(plugin_dir, id);
  hs->ctx = lathe_test_context(&hs->k->base, "tune", params, seed);
  hs->space = harness_space(space_json);
  hs->tuner = hs->k->create(hs->ctx, hs->space, error);
  if (!hs->tuner) {
    harness_free(hs);
    return NULL;
  }
  return hs;
}

static inline Harness *harness_new(const char *plugin_dir, const char *id, const char *params,
                                   guint64 seed, const char *space_json) {
  GError *error = NULL;
  Harness *hs = harness_try(plugin_dir, id, params, seed, space_json, &error);
  g_assert_no_error(error);
  g_assert_nonnull(hs);
  return hs;
}

/* Asks for trial @trial; fails the test when the tuner errs or has no point. */
static inline JsonObject *harness_ask(Harness *hs, guint trial) {
  GError *error = NULL;
  JsonObject *point = NULL;
  gboolean ok = hs->k->ask(hs->tuner, trial, &point, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_nonnull(point);
  return point;
}

static inline double harness_num(JsonObject *point, const char *name) {
  JsonNode *n = json_object_get_member(point, name);
  g_assert_nonnull(n);
  return json_node_get_double(n);
}

/* The point as canonical JSON text, to compare points. */
static inline char *harness_text(JsonObject *point) {
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), point);
  return lathe_json_canonical(n);
}

/* Runs a sequential study of @n trials of @f over {"x1", "x2"}; returns the
 * best value. */
static inline double harness_study_2d(Harness *hs, guint n, double (*f)(const double *)) {
  double best = INFINITY;
  for (guint t = 0; t < n; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    double x[2] = {harness_num(p, "x1"), harness_num(p, "x2")};
    double v = f(x);
    hs->k->tell(hs->tuner, t, p, v, LATHE_TRIAL_COMPLETE);
    best = MIN(best, v);
  }
  return best;
}

static inline int harness_cmp_double(gconstpointer a, gconstpointer b) {
  double u = *(const double *)a, v = *(const double *)b;
  return (u > v) - (u < v);
}

/* The median of @n values (sorted in place). */
static inline double harness_median(double *v, guint n) {
  qsort(v, n, sizeof(double), harness_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A space with every kind of dimension: float, log float, stepped float,
 * int, stepped int, categorical, and conditionals on a categorical and on a
 * number. */
#define HARNESS_MIXED_SPACE                                                                 \
  "{\"m.lr\": {\"type\": \"float\", \"low\": 1e-5, \"high\": 1, \"log\": true},"            \
  " \"m.drop\": {\"type\": \"float\", \"low\": 0, \"high\": 0.5, \"log\": false, \"step\": 0.1}," \
  " \"m.x\": {\"type\": \"float\", \"low\": -2, \"high\": 3, \"log\": false},"              \
  " \"m.units\": {\"type\": \"int\", \"low\": 16, \"high\": 256, \"log\": true},"           \
  " \"m.batch\": {\"type\": \"int\", \"low\": 8, \"high\": 64, \"log\": false, \"step\": 8},"  \
  " \"m.opt\": [\"sgd\", \"adam\", \"rmsprop\"],"                                         \
  " \"m.momentum\": {\"type\": \"float\", \"low\": 0, \"high\": 0.99, \"log\": false,"      \
  "   \"when\": {\"parent\": \"m.opt\", \"op\": \"==\", \"value\": \"sgd\"}},"              \
  " \"m.layers\": {\"type\": \"int\", \"low\": 1, \"high\": 4, \"log\": false},"            \
  " \"m.units2\": {\"type\": \"categorical\", \"choices\": [32, 64, 128],"                 \
  "   \"when\": {\"parent\": \"m.layers\", \"op\": \">=\", \"value\": 2}}}"

/* Checks that @p is a point of HARNESS_MIXED_SPACE. */
static inline void harness_check_mixed(JsonObject *p) {
  double lr = harness_num(p, "m.lr");
  g_assert_cmpfloat(lr, >=, 1e-5);
  g_assert_cmpfloat(lr, <=, 1);
  double drop = harness_num(p, "m.drop");
  g_assert_cmpfloat(drop, >=, 0);
  g_assert_cmpfloat(drop, <=, 0.5 + 1e-12);
  g_assert_cmpfloat(fabs(drop * 10 - round(drop * 10)), <, 1e-9);
  double x = harness_num(p, "m.x");
  g_assert_cmpfloat(x, >=, -2);
  g_assert_cmpfloat(x, <=, 3);
  JsonNode *units = json_object_get_member(p, "m.units");
  g_assert_cmpint(json_node_get_value_type(units), ==, G_TYPE_INT64);
  g_assert_cmpint(json_node_get_int(units), >=, 16);
  g_assert_cmpint(json_node_get_int(units), <=, 256);
  JsonNode *batch = json_object_get_member(p, "m.batch");
  g_assert_cmpint(json_node_get_value_type(batch), ==, G_TYPE_INT64);
  g_assert_cmpint(json_node_get_int(batch) % 8, ==, 0);
  g_assert_cmpint(json_node_get_int(batch), >=, 8);
  g_assert_cmpint(json_node_get_int(batch), <=, 64);
  const char *opt = json_object_get_string_member(p, "m.opt");
  g_assert_true(g_str_equal(opt, "sgd") || g_str_equal(opt, "adam") || g_str_equal(opt, "rmsprop"));
  g_assert_cmpint(json_object_has_member(p, "m.momentum"), ==, g_str_equal(opt, "sgd"));
  if (g_str_equal(opt, "sgd")) {
    g_assert_cmpfloat(harness_num(p, "m.momentum"), >=, 0);
    g_assert_cmpfloat(harness_num(p, "m.momentum"), <=, 0.99);
  }
  gint64 layers = json_object_get_int_member(p, "m.layers");
  g_assert_cmpint(layers, >=, 1);
  g_assert_cmpint(layers, <=, 4);
  g_assert_cmpint(json_object_has_member(p, "m.units2"), ==, layers >= 2);
  if (layers >= 2) {
    gint64 u2 = json_object_get_int_member(p, "m.units2");
    g_assert_true(u2 == 32 || u2 == 64 || u2 == 128);
  }
}
