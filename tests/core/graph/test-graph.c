/* Graph validation (core/graph/graph.c): params, defaults and --set, the
 * topological order, and every problem with its JSON pointer. Uses the built
 * plugins source/csv, transform/split and model/logreg. */
#include <string.h>

#include <glib/gstdio.h>

#include "catalog/catalog.h"
#include "graph/graph.h"
#include "test-util.h"

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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/graph", test_graph);
  return g_test_run();
}
