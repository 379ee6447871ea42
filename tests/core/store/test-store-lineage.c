/* Lineage over the run store (core/store/store-lineage.c): which producer is
 * followed when several made a digest, cached executions, and the bounds
 * against cycles and depth that a damaged or odd store could need. */
#include <string.h>

#include "store/store.h"
#include "test-util.h"

/* Records one succeeded (or cached) execution of @node in @run reading
 * @in (nullable) on port "data" and writing @out on port "data". */
static void exec(LatheStore *s, const char *run, const char *node, const char *in, const char *out,
                 gboolean cached, const char *cache_key, const char *data_uri) {
  g_autoptr(GError) error = NULL;
  LatheExecIdentity who = {.run_id = run, .node = node, .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "pd", .cache_key = cache_key};
  g_autoptr(JsonObject) ins = json_object_new();
  if (in)
    json_object_set_string_member(ins, "data", in);
  g_autoptr(JsonObject) outs = json_object_new();
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "digest", out);
  json_object_set_string_member(o, "type", "dataset");
  json_object_set_object_member(outs, "data", o);
  g_autoptr(JsonArray) dvs = json_array_new();
  if (data_uri) {
    JsonObject *d = json_object_new();
    json_object_set_string_member(d, "uri", data_uri);
    json_object_set_string_member(d, "digest", "f00d");
    json_array_add_object_element(dvs, d);
  }
  LatheExecRecord rec = {.status = cached ? "cached" : "succeeded", .inputs = ins, .outputs = outs,
                         .data_versions = dvs, .started = 1, .ended = 2};
  g_assert_true(lathe_store_finish_execution(s, -1, &who, cached ? NULL : cache_key, &rec, &error));
  g_assert_no_error(error);
}

static JsonObject *exec_of(JsonObject *n) { return json_object_get_object_member(n, "execution"); }
static JsonObject *input0(JsonObject *n) {
  return json_array_get_object_element(json_object_get_array_member(n, "inputs"), 0);
}

static void test_producers(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-lineage-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *r1 = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  exec(s, r1, "src", NULL, "D", FALSE, "k-src", "/data/a.csv");
  exec(s, r1, "model", "D", "M", FALSE, "k-model", NULL);
  /* A pass-through: same digest out as in; never followed as M's maker. */
  exec(s, r1, "noop", "M", "M", FALSE, NULL, NULL);
  g_autofree char *r2 = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  exec(s, r2, "src", NULL, "D", TRUE, "k-src", "/data/a.csv");
  exec(s, r2, "model", "D", "M", TRUE, "k-model", NULL);

  /* Walking the cached rerun: its own executions, naming the original. */
  g_autoptr(JsonObject) t2 = lathe_store_lineage(s, "M", r2, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(exec_of(t2), "run_id"), ==, r2);
  g_assert_cmpstr(json_object_get_string_member(exec_of(t2), "node"), ==, "model");
  g_assert_true(json_object_get_boolean_member(exec_of(t2), "cached"));
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(exec_of(t2), "original"),
                                                "run_id"), ==, r1);
  JsonObject *src = input0(t2);
  g_assert_cmpstr(json_object_get_string_member(exec_of(src), "run_id"), ==, r2);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(src, "artifact"), "port"),
                  ==, "data");
  JsonArray *dvs = json_object_get_array_member(src, "data_versions");
  g_assert_cmpuint(json_array_get_length(dvs), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(dvs, 0), "uri"), ==,
                  "/data/a.csv");
  g_assert_false(json_object_get_boolean_member(t2, "truncated"));

  /* From no run, or another: the original, non-cached producers. */
  g_autoptr(JsonObject) t0 = lathe_store_lineage(s, "M", NULL, &error);
  g_assert_cmpstr(json_object_get_string_member(exec_of(t0), "run_id"), ==, r1);
  g_assert_false(json_object_get_boolean_member(exec_of(t0), "cached"));
  g_assert_cmpstr(json_object_get_string_member(exec_of(input0(t0)), "run_id"), ==, r1);

  /* Rooted at the pass-through: its input is traced to the model. */
  g_autoptr(JsonObject) run = lathe_store_show_run(s, r1, &error);
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  gint64 noop = json_object_get_int_member(json_array_get_object_element(nodes, 2), "execution");
  g_autoptr(JsonObject) tn = lathe_store_execution_lineage(s, noop, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(json_node_is_null(json_object_get_member(tn, "artifact")));
  g_assert_cmpstr(json_object_get_string_member(exec_of(input0(tn)), "node"), ==, "model");
  g_autoptr(JsonObject) tp = lathe_store_execution_lineage(s, noop, "data", &error);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(tp, "artifact"), "digest"),
                  ==, "M");
  g_assert_null(lathe_store_execution_lineage(s, noop, "nope", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "outputs: data"));
  g_clear_error(&error);

  g_assert_null(lathe_store_lineage(s, "unknown", NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

/* A cycle (only a damaged store holds one) and a chain deeper than the
 * bound: both end. */
static void test_bounds(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-lineage-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_autofree char *r = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  exec(s, r, "a", "E", "D", FALSE, NULL, NULL);
  exec(s, r, "b", "D", "E", FALSE, NULL, NULL);
  g_autoptr(JsonObject) c = lathe_store_lineage(s, "D", r, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(exec_of(c), "node"), ==, "a");
  JsonObject *e = input0(c);
  g_assert_cmpstr(json_object_get_string_member(exec_of(e), "node"), ==, "b");
  /* D again: its producer a is on the path, so the walk stops there. */
  g_assert_true(json_node_is_null(json_object_get_member(input0(e), "execution")));

  for (int i = 0; i < 100; i++) {
    g_autofree char *node = g_strdup_printf("n%d", i);
    g_autofree char *in = i ? g_strdup_printf("C%d", i - 1) : NULL;
    g_autofree char *out = g_strdup_printf("C%d", i);
    exec(s, r, node, in, out, FALSE, NULL, NULL);
  }
  g_autoptr(JsonObject) deep = lathe_store_lineage(s, "C99", r, &error);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(deep, "truncated"));
  guint depth = 0;
  for (JsonObject *n = deep; n; n = json_array_get_length(json_object_get_array_member(n, "inputs"))
                                         ? input0(n) : NULL)
    depth++;
  g_assert_cmpuint(depth, ==, 64);
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/store/lineage/producers", test_producers);
  g_test_add_func("/core/store/lineage/bounds", test_bounds);
  return g_test_run();
}
