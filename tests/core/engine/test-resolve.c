/* A source's resolve and pins (ABI 1.6) through the engine itself, with the
 * fakelake test plugin (LATHE_PLUGIN_PATH): LatheRunOptions.pins reaches the
 * source's context, so resolve reads the pinned commit even after the ref
 * moved, and the execution records that commit. */
#include <stdlib.h>

#include <glib/gstdio.h>

#include "catalog/catalog.h"
#include "engine/engine.h"
#include "graph/graph.h"
#include "store/store.h"

typedef struct {
  char *dir, *log;
  LatheCatalog *cat;
  LatheGraph *graph;
  LatheStore *store;
} Fixture;

static void put(const char *dir, const char *name, const char *text) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* The calls logged since the last look, then forgotten. */
static char *calls(Fixture *f) {
  char *text = NULL;
  if (!g_file_get_contents(f->log, &text, NULL, NULL))
    return g_strdup("");
  g_assert_true(g_file_set_contents(f->log, "", 0, NULL));
  return text;
}

/* Runs the graph; returns the source's status and fills @uri with the
 * data version its execution recorded. */
static char *run(Fixture *f, GHashTable *pins, char **uri) {
  LatheRunOptions opts = {.jobs = 1, .pins = pins};
  g_autoptr(GError) error = NULL;
  JsonObject *res = NULL;
  g_assert_true(lathe_engine_run(f->graph, f->cat, f->store, &opts, &res, &error));
  g_assert_no_error(error);
  JsonArray *nodes = json_object_get_array_member(res, "nodes");
  char *status = g_strdup(json_object_get_string_member(json_array_get_object_element(nodes, 0), "status"));
  g_autoptr(JsonObject) shown = lathe_store_show_run(f->store, json_object_get_string_member(res, "run_id"), &error);
  g_assert_no_error(error);
  JsonObject *node = json_array_get_object_element(json_object_get_array_member(shown, "nodes"), 0);
  JsonArray *dv = json_object_get_array_member(node, "data_versions");
  *uri = json_array_get_length(dv)
             ? g_strdup(json_object_get_string_member(json_array_get_object_element(dv, 0), "uri"))
             : g_strdup("");
  json_object_unref(res);
  return status;
}

static void test_pins(void) {
  Fixture f = {0};
  f.dir = g_dir_make_tmp("lathe-resolve-XXXXXX", NULL);
  f.log = g_build_filename(f.dir, "calls.log", NULL);
  g_setenv("LATHE_FAKELAKE_LOG", f.log, TRUE);
  put(f.dir, "lake/commits/c1/data.csv", "1\n2\n");
  put(f.dir, "lake/commits/c2/data.csv", "7\n8\n9\n");
  put(f.dir, "lake/main", "c1\n");
  g_autofree char *lake = g_build_filename(f.dir, "lake", NULL);
  g_autofree char *text = g_strdup_printf(
      "{\"nodes\": [{\"id\": \"src\", \"use\": \"source/fake-ref\", \"with\": {\"root\": \"%s\"}}]}", lake);
  put(f.dir, "p.json", text);
  g_autofree char *pipeline = g_build_filename(f.dir, "p.json", NULL);
  f.cat = lathe_catalog_load();
  g_assert_nonnull(lathe_catalog_lookup(f.cat, "source/fake-ref"));
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  f.graph = lathe_graph_load(pipeline, NULL, NULL, f.cat, problems);
  g_assert_cmpuint(problems->len, ==, 0);
  g_autofree char *store_dir = g_build_filename(f.dir, "store", NULL);
  g_autoptr(GError) error = NULL;
  f.store = lathe_store_open(store_dir, &error);
  g_assert_no_error(error);

  g_autofree char *uri = NULL;
  g_autofree char *s1 = run(&f, NULL, &uri);
  g_autofree char *c1 = calls(&f);
  g_assert_cmpstr(s1, ==, "succeeded");
  g_assert_cmpstr(c1, ==, "resolve src\nrun src c1\n");
  g_assert_cmpstr(uri, ==, "fakeref://c1/data.csv");

  /* The ref moves to other content; pinned to c1, the source reads c1:
   * the cached result holds, and the execution records c1. */
  put(f.dir, "lake/main", "c2\n");
  g_autoptr(GHashTable) pins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify)json_array_unref);
  JsonArray *pinned = json_array_new();
  JsonObject *v = json_object_new();
  json_object_set_string_member(v, "uri", "fakeref://c1/data.csv");
  json_object_set_string_member(v, "digest", "recorded");
  json_array_add_object_element(pinned, v);
  g_hash_table_insert(pins, g_strdup("src"), pinned);
  g_free(uri);
  g_autofree char *s2 = run(&f, pins, &uri);
  g_autofree char *c2 = calls(&f);
  g_assert_cmpstr(s2, ==, "cached");
  g_assert_cmpstr(c2, ==, "resolve src\n");
  g_assert_cmpstr(uri, ==, "fakeref://c1/data.csv");

  /* Pinned and uncached: run too reads the pinned commit. */
  LatheRunOptions nc = {.jobs = 1, .no_cache = TRUE, .pins = pins};
  JsonObject *res = NULL;
  g_assert_true(lathe_engine_run(f.graph, f.cat, f.store, &nc, &res, &error));
  json_object_unref(res);
  g_autofree char *c3 = calls(&f);
  g_assert_cmpstr(c3, ==, "resolve src\nrun src c1\n");

  /* Without pins the moved ref is read: a miss on c2. */
  g_free(uri);
  g_autofree char *s4 = run(&f, NULL, &uri);
  g_autofree char *c4 = calls(&f);
  g_assert_cmpstr(s4, ==, "succeeded");
  g_assert_cmpstr(c4, ==, "resolve src\nrun src c2\n");
  g_assert_cmpstr(uri, ==, "fakeref://c2/data.csv");

  lathe_store_close(f.store);
  lathe_graph_free(f.graph);
  lathe_catalog_free(f.cat);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", f.dir);
  g_assert_cmpint(system(rm), ==, 0);
  g_free(f.dir);
  g_free(f.log);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  lathe_engine_init();
  g_test_add_func("/core/engine/resolve-pins", test_pins);
  return g_test_run();
}
