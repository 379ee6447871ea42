/* fuzz-graph.c: fuzz harness for pipeline parsing and validation, against the
 * real plugins of the build tree. Besides "never crash", a graph that
 * validates must have every node in its order exactly once, each after its
 * dependencies; a refused one must have problems, each one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "graph/graph.h"
#include "tuning/tuning.h"

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz-graph: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_order(LatheGraph *g) {
  CHECK(g->order->len == g->nodes->len);
  g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
  for (guint i = 0; i < g->order->len; i++) {
    LatheNode *n = g->order->pdata[i];
    for (guint j = 0; j < n->deps->len; j++) {
      LatheNode *d = n->deps->pdata[j];
      CHECK(d->graph != g || g_hash_table_contains(seen, d));
    }
    CHECK(!g_hash_table_contains(seen, n));
    g_hash_table_add(seen, n);
    if (n->trial)
      check_order(n->trial);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static LatheCatalog *cat;
  if (!cat) {
    /* As lathe does, so that tuner and registry nodes are validated in full. */
    lathe_engine_init();
    lathe_tuning_init();
    cat = lathe_catalog_load();
  }
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  /* The first byte picks a --set override, to fuzz that path too. */
  const char *sets_a[] = {"a.seconds=0.5", NULL};
  const char *sets_b[] = {"m.l2=x", "bad", NULL};
  const char *const *sets = size && (data[0] & 3) == 1 ? sets_a : size && (data[0] & 3) == 2 ? sets_b : NULL;
  LatheGraph *g = lathe_graph_load_from_data((const char *)data, size, "/fuzz/pipeline.json", NULL, sets,
                                             cat, problems);
  if (g) {
    CHECK(problems->len == 0);
    check_order(g);
    lathe_graph_free(g);
  } else {
    CHECK(problems->len > 0);
    for (guint i = 0; i < problems->len; i++) {
      LatheProblem *p = problems->pdata[i];
      CHECK(!strchr(p->message, '\n'));
    }
  }
  return 0;
}
