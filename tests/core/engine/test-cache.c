/* Cache keys (core/engine/cache.c): pinned, independent of param order, and
 * changed by each of their inputs. */
#include "engine/engine.h"

static JsonNode *parse(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
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

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/core/cache/key", test_cache_key);
  return g_test_run();
}
