/* The catalog's units (core/catalog): param checks, "did you mean"
 * suggestions and the BLAS decision. */
#include "catalog/catalog.h"

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
  /* A swap of two neighbouring letters is one edit (two for Levenshtein). */
  const char *branches[] = {"main", "dev", NULL};
  g_assert_cmpstr(lathe_suggest("mian", branches), ==, "main");
  g_assert_cmpstr(lathe_suggest("wiht", (const char *const[]){"id", "use", "with", NULL}), ==,
                  "with");
  g_assert_null(lathe_suggest("mxyz", branches));
  g_assert_null(lathe_suggest("anything", NULL));
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
  g_test_add_func("/core/blas/decision", test_blas_decision);
  return g_test_run();
}
