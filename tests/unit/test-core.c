/* Core units: param checks, suggestions, graph validation, cache keys, the
 * run store and the BLAS decision. */
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "graph/graph.h"
#include "store/store.h"
#include "test-util.h"

static JsonNode *parse(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void test_param_check(void) {
  static const char *const choices[] = {"a", "bb", NULL};
  LatheParamSpec f = LATHE_PARAM_FLOAT_("x", "1", 0, 10, 0, "doc");
  LatheParamSpec i = LATHE_PARAM_INT_("n", "1", 1, 5, "doc");
  LatheParamSpec e = LATHE_PARAM_ENUM_("e", "\"a\"", choices, "doc");
  LatheParamSpec l = LATHE_PARAM_LIST_("u", "[1]", LATHE_PARAM_INT, "doc");
  l.flags = LATHE_PARAM_HAS_MIN;
  l.min = 1;
  struct { LatheParamSpec *s; const char *v; const char *why; } cases[] = {
      {&f, "3", NULL}, {&f, "2.5", NULL}, {&f, "\"3\"", "expected float, got a string"},
      {&f, "11", "11 is out of bounds [0, 10]"}, {&i, "3.0", NULL}, {&i, "3.5", "expected int, got a number"},
      {&i, "0", "0 is out of bounds [1, 5]"}, {&e, "\"b\"", "'b' is not one of: a, bb (did you mean 'a'?)"},
      {&e, "\"bb\"", NULL}, {&l, "[1, 2]", NULL}, {&l, "[1, 0]", "item 1: 0 is out of bounds [1, inf]"},
      {&l, "5", "expected a list of int, got an integer"}};
  for (guint k = 0; k < G_N_ELEMENTS(cases); k++) {
    g_autoptr(JsonNode) v = parse(cases[k].v);
    g_autofree char *why = NULL;
    g_autoptr(JsonNode) ok = lathe_param_check(cases[k].s, v, &why);
    g_assert_cmpstr(why, ==, cases[k].why);
    g_assert_true((ok != NULL) == (cases[k].why == NULL));
  }
  /* An int given for a float becomes a float: equal values, equal cache keys. */
  g_autoptr(JsonNode) three = parse("3");
  g_autofree char *why = NULL;
  g_autoptr(JsonNode) n = lathe_param_check(&f, three, &why);
  g_assert_cmpint(json_node_get_value_type(n), ==, G_TYPE_DOUBLE);

  /* ABI 1.3: a STRING param flagged NUMBER_AS_STRING takes numbers as their
   * shortest round-tripping text; without the flag a number is refused. */
  LatheParamSpec str = LATHE_PARAM_STRING_("max_features", "\"sqrt\"", LATHE_PARAM_NUMBER_AS_STRING, "doc");
  struct { const char *in, *out; } texts[] = {{"0.5", "0.5"}, {"9", "9"}, {"0.1", "0.1"},
                                              {"1e-07", "1e-07"}, {"0.30000000000000004", "0.30000000000000004"},
                                              {"1.0", "1.0"}, {"2e3", "2000.0"}, {"-3", "-3"},
                                              {"\"log2\"", "log2"}};
  for (guint k = 0; k < G_N_ELEMENTS(texts); k++) {
    g_autoptr(JsonNode) v = parse(texts[k].in);
    g_autofree char *w = NULL;
    g_autoptr(JsonNode) out = lathe_param_check(&str, v, &w);
    g_assert_nonnull(out);
    g_assert_cmpstr(json_node_get_string(out), ==, texts[k].out);
  }
  str.flags = 0;
  g_autoptr(JsonNode) half = parse("0.5");
  g_autofree char *why2 = NULL;
  g_assert_null(lathe_param_check(&str, half, &why2));
  g_assert_cmpstr(why2, ==, "expected string, got a number");
}

static void test_suggest(void) {
  const char *words[] = {"seconds", "value", "transform/noop", NULL};
  g_assert_cmpstr(lathe_suggest("secnds", words), ==, "seconds");
  g_assert_cmpstr(lathe_suggest("transfrom/noop", words), ==, "transform/noop");
  g_assert_null(lathe_suggest("zzz", words));
}

static void test_cache_key(void) {
  g_autoptr(JsonNode) p1 = parse("{\"l2\": 0.01, \"solver\": \"lbfgs\"}");
  g_autoptr(JsonNode) p2 = parse("{\"solver\": \"lbfgs\", \"l2\": 0.01}");
  g_autoptr(JsonNode) in = parse("{\"train\": \"ab12\"}");
  g_autofree char *k1 = lathe_cache_key_compute("model/logreg", "0.1.0", "d1",
                                                json_node_get_object(p1), 42,
                                                json_node_get_object(in), NULL);
  g_autofree char *k2 = lathe_cache_key_compute("model/logreg", "0.1.0", "d1",
                                                json_node_get_object(p2), 42,
                                                json_node_get_object(in), NULL);
  /* Pinned: a change here invalidates every user's cache, so make it on purpose. */
  g_assert_cmpstr(k1, ==, "9192fe1256c145b0283e5d9750fd7b9b1004fac7ccca521de9c75fae7a387100");
  g_assert_cmpstr(k1, ==, k2);
  const char *variants[][4] = {{"model/other", "0.1.0", "d1", "ab12"}, {"model/logreg", "0.2.0", "d1", "ab12"},
                               {"model/logreg", "0.1.0", "d2", "ab12"}, {"model/logreg", "0.1.0", "d1", "ab13"}};
  for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
    g_autoptr(JsonObject) vin = json_object_new();
    json_object_set_string_member(vin, "train", variants[v][3]);
    g_autofree char *k = lathe_cache_key_compute(variants[v][0], variants[v][1], variants[v][2],
                                                 json_node_get_object(p1), 42, vin, NULL);
    g_assert_cmpstr(k, !=, k1);
  }
  g_autofree char *kseed = lathe_cache_key_compute("model/logreg", "0.1.0", "d1", json_node_get_object(p1),
                                                   43, json_node_get_object(in), NULL);
  g_assert_cmpstr(kseed, !=, k1);
  g_autoptr(JsonNode) p3 = parse("{\"l2\": 0.02, \"solver\": \"lbfgs\"}");
  g_autofree char *kp = lathe_cache_key_compute("model/logreg", "0.1.0", "d1", json_node_get_object(p3), 42,
                                                json_node_get_object(in), NULL);
  g_assert_cmpstr(kp, !=, k1);
}


static char *write_tmp(const char *dir, const char *name, const char *text) {
  char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void test_graph(void) {
  g_autoptr(LatheCatalog) cat = lathe_catalog_load();
  g_assert_nonnull(lathe_catalog_lookup(cat, "source/csv"));
  g_autofree char *dir = g_dir_make_tmp("lathe-unit-XXXXXX", NULL);
  g_autofree char *ok = write_tmp(dir, "ok.json",
      "{\"seed\": 5, \"nodes\": [{\"id\": \"d\", \"use\": \"source/csv\", \"with\": {\"path\": \"x.csv\"}},"
      "{\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": \"d\"}},"
      "{\"id\": \"m\", \"use\": \"model/logreg\", \"in\": {\"train\": \"s.train\"}}]}");
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  const char *sets[] = {"m.l2=0.5", "s.stratify=false", NULL};
  g_autoptr(LatheGraph) g = lathe_graph_load(ok, NULL, sets, cat, problems);
  g_assert_cmpuint(problems->len, ==, 0);
  g_assert_cmpuint(g->seed, ==, 5);
  LatheNode *m = lathe_graph_lookup(g, "m");
  g_assert_cmpfloat(json_object_get_double_member(m->params, "l2"), ==, 0.5);
  g_assert_cmpstr(json_object_get_string_member(m->params, "solver"), ==, "lbfgs"); /* default */
  g_assert_false(json_object_get_boolean_member(lathe_graph_lookup(g, "s")->params, "stratify"));
  LatheEdge *e = m->edges->pdata[0];
  g_assert_cmpstr(e->output, ==, "train");
  /* Topological order puts d before s before m whatever the file order. */
  g_assert_true(g->order->pdata[0] == lathe_graph_lookup(g, "d"));
  g_assert_true(g->order->pdata[2] == m);

  g_autofree char *bad = write_tmp(dir, "bad.json",
      "{\"nodes\": [{\"id\": \"d\", \"use\": \"source/csv\"}, {\"id\": \"s\", \"use\": \"transform/split\","
      " \"in\": {\"data\": \"d.nope\"}}], \"tracker\": {\"use\": \"tracker/nosuch\"}, \"extra\": 1}");
  g_autoptr(GPtrArray) p2 = lathe_problems_new();
  g_assert_null(lathe_graph_load(bad, NULL, NULL, cat, p2));
  g_autoptr(GString) all = g_string_new(NULL);
  for (guint i = 0; i < p2->len; i++) {
    LatheProblem *p = p2->pdata[i];
    g_string_append_printf(all, "%s: %s\n", p->pointer, p->message);
  }
  g_assert_nonnull(strstr(all->str, "/nodes/0/with: source/csv needs param 'path'"));
  g_assert_nonnull(strstr(all->str, "/nodes/1/in/data: node 'd' (source/csv) has no output 'nope'"));
  g_assert_nonnull(strstr(all->str, "/tracker: 'tracker/nosuch' is not an installed tracker"));
  g_assert_nonnull(strstr(all->str, "/extra: unknown key 'extra' in the pipeline"));
  g_assert_cmpuint(p2->len, ==, 4);

  /* Found by fuzz-graph: a key holding a newline made a two-line problem. */
  const char nl[] = "{\"nodes\": [{\"id\": \"a\", \"use\": \"x/\\ny\", \"wi\\nth\": 1}]}";
  g_autoptr(GPtrArray) p3 = lathe_problems_new();
  g_assert_null(lathe_graph_load_from_data(nl, strlen(nl), "nl.json", NULL, NULL, cat, p3));
  g_assert_cmpuint(p3->len, ==, 2);
  for (guint i = 0; i < p3->len; i++)
    g_assert_null(strchr(((LatheProblem *)p3->pdata[i])->message, '\n'));
  lathe_test_remove_tree(dir);
}

static void test_store(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autofree char *run = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  g_assert_nonnull(run);
  LatheDataset *ds = lathe_dataset_new(2, 2);
  g_autoptr(LatheArtifact) a = lathe_artifact_new_dataset(ds);
  g_assert_true(lathe_store_put_artifact(s, a, &error));
  g_autoptr(LatheArtifact) back = lathe_store_get_artifact(s, lathe_artifact_get_digest(a), LATHE_TYPE_DATASET, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(lathe_artifact_get_digest(back), ==, lathe_artifact_get_digest(a));
  g_assert_nonnull(lathe_artifact_get_dataset(back, &error));
  LatheExecIdentity who = {.run_id = run, .node = "node", .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "dig", .cache_key = "key1"};
  gint64 ex = lathe_store_begin_execution(s, &who, 1.0, &error);
  g_assert_cmpint(ex, >, 0);
  g_autoptr(JsonObject) outs = json_object_new();
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "digest", lathe_artifact_get_digest(a));
  json_object_set_string_member(o, "type", "dataset");
  json_object_set_object_member(outs, "data", o);
  g_autoptr(JsonObject) metrics = json_object_new();
  json_object_set_double_member(metrics, "acc", 0.5);
  LatheExecRecord rec = {.status = "succeeded", .outputs = outs, .metrics = metrics, .started = 1, .ended = 2};
  g_assert_true(lathe_store_finish_execution(s, ex, &who, "key1", &rec, &error));
  /* A short execution is recorded whole, in one operation. */
  LatheExecIdentity who2 = who;
  who2.node = "short";
  LatheExecRecord rec2 = {.status = "failed", .error = "boom", .started = 3, .ended = 4};
  g_assert_true(lathe_store_finish_execution(s, -1, &who2, NULL, &rec2, &error));
  g_autoptr(JsonObject) hit = lathe_store_cache_lookup(s, "key1");
  g_assert_nonnull(hit);
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(hit, "metrics"), "acc"), ==, 0.5);
  g_assert_null(lathe_store_cache_lookup(s, "key2"));
  /* A run left "running" by a dead process becomes "interrupted" on the next open. */
  lathe_store_close(s);
  sqlite3 *db;
  g_autofree char *dbp = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(sqlite3_open(dbp, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "UPDATE runs SET proc = '999999999:1'", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  s = lathe_store_open(dir, &error);
  g_autoptr(JsonObject) shown = lathe_store_show_run(s, run, &error);
  g_assert_cmpstr(json_object_get_string_member(shown, "status"), ==, "interrupted");
  JsonArray *nodes = json_object_get_array_member(shown, "nodes");
  g_assert_cmpuint(json_array_get_length(nodes), ==, 2);
  JsonObject *n1 = json_array_get_object_element(nodes, 1);
  g_assert_cmpstr(json_object_get_string_member(n1, "id"), ==, "short");
  g_assert_cmpstr(json_object_get_string_member(n1, "status"), ==, "failed");
  g_assert_cmpstr(json_object_get_string_member(n1, "error"), ==, "boom");
  lathe_store_close(s);
  lathe_test_remove_tree(dir);
}

static void test_blas_decision(void) {
  g_assert_cmpstr(lathe_blas_fix_for("Prescott", TRUE, TRUE), ==, "SkylakeX");
  g_assert_cmpstr(lathe_blas_fix_for("Prescott", FALSE, TRUE), ==, "Haswell");
  g_assert_null(lathe_blas_fix_for("Prescott", FALSE, FALSE));
  g_assert_null(lathe_blas_fix_for("SkylakeX", TRUE, TRUE));
  g_assert_null(lathe_blas_fix_for("Cooperlake", TRUE, TRUE));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/params/check", test_param_check);
  g_test_add_func("/core/suggest", test_suggest);
  g_test_add_func("/core/cache/key", test_cache_key);
  g_test_add_func("/core/graph", test_graph);
  g_test_add_func("/core/store", test_store);
  g_test_add_func("/core/blas/decision", test_blas_decision);
  return g_test_run();
}
