/* Search-space dimensions (core/tuning/space-check.c): defaults from the param's
 * schema, and each refusal the issue lists (empty or inverted bounds, log
 * with a non-positive bound, a categorical without choices, a step that does
 * not divide the range), plus "when" links. */
#include <math.h>
#include <string.h>

#include "tuning/tuning.h"

static const char *const solvers[] = {"lbfgs", "adam", NULL};
static const LatheParamSpec p_float = {.name = "l2", .type = LATHE_PARAM_FLOAT, .min = 0, .max = 1000,
                                       .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX | LATHE_PARAM_LOG};
static const LatheParamSpec p_lr = {.name = "lr", .type = LATHE_PARAM_FLOAT, .min = 1e-8, .max = 10,
                                    .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX | LATHE_PARAM_LOG};
static const LatheParamSpec p_int = {.name = "units", .type = LATHE_PARAM_INT, .min = 1, .max = 512,
                                     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX};
static const LatheParamSpec p_enum = {.name = "solver", .type = LATHE_PARAM_ENUM, .choices = solvers};
static const LatheParamSpec p_bool = {.name = "standardize", .type = LATHE_PARAM_BOOL};
static const LatheParamSpec p_open = {.name = "x", .type = LATHE_PARAM_FLOAT};

static JsonNode *parse(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

/* Normalises @spec for @ps inside @space_text; returns the result as JSON
 * text, or "ERR: " and the problems. */
static char *norm(const char *spec, const LatheParamSpec *ps, const char *space_text) {
  g_autoptr(JsonNode) s = parse(spec);
  g_autoptr(JsonNode) space = parse(space_text ? space_text : "{}");
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  g_autoptr(JsonNode) out = lathe_tuner_space_normalize("m.p", s, ps, json_node_get_object(space),
                                                        "/ptr", problems);
  if (!out) {
    g_assert_cmpuint(problems->len, ==, 1);
    LatheProblem *pr = problems->pdata[0];
    g_assert_cmpstr(pr->pointer, ==, "/ptr");
    return g_strconcat("ERR: ", pr->message, NULL);
  }
  g_assert_cmpuint(problems->len, ==, 0);
  return json_to_string(out, FALSE);
}

#define EXPECT(spec, ps, space, want)                                                    \
  do {                                                                                   \
    g_autofree char *got_ = norm(spec, ps, space);                                       \
    if (!strstr(got_, want))                                                             \
      g_error("%s: expected '%s' in '%s'", spec, want, got_);                            \
  } while (0)

static void test_defaults(void) {
  /* everything from the schema: type, bounds, log (0 cannot be on a log scale) */
  EXPECT("{}", &p_float, NULL, "{\"type\":\"float\",\"low\":0.0,\"high\":1000.0,\"log\":false}");
  EXPECT("{\"low\": 1e-4}", &p_float, NULL, "\"low\":0.0001,\"type\":\"float\",\"high\":1000.0,\"log\":true}");
  EXPECT("{}", &p_lr, NULL, "\"log\":true");
  EXPECT("{}", &p_int, NULL, "{\"type\":\"int\",\"low\":1.0,\"high\":512.0,\"log\":false}");
  EXPECT("{\"step\": 16, \"low\": 16, \"high\": 256}", &p_int, NULL, "\"step\":16");
  EXPECT("{}", &p_enum, NULL, "\"choices\":[\"lbfgs\",\"adam\"]");
  EXPECT("{}", &p_bool, NULL, "\"choices\":[false,true]");
  EXPECT("[1, 2]", &p_int, NULL, "[1,2]"); /* a list stays a list (tuner/grid) */
  EXPECT("{\"type\": \"int\", \"low\": 2, \"high\": 8}", &p_float, NULL, "\"type\":\"int\"");
}

static void test_refusals(void) {
  EXPECT("{\"low\": 5, \"high\": 5}", &p_int, NULL, "ERR: m.p: the range [5, 5] is empty");
  EXPECT("{\"low\": 0.5, \"high\": 0.1}", &p_float, NULL, "ERR: m.p: the range [0.5, 0.1] is inverted");
  EXPECT("{\"low\": 0, \"high\": 1, \"log\": true}", &p_float, NULL,
         "ERR: m.p: a log scale needs bounds above 0, got low 0");
  EXPECT("{\"low\": -1, \"high\": 1, \"log\": true}", &p_open, NULL, "a log scale needs bounds above 0");
  EXPECT("{\"choices\": []}", &p_enum, NULL, "ERR: m.p: a categorical needs at least one choice");
  EXPECT("[]", &p_enum, NULL, "ERR: m.p: a categorical needs at least one choice");
  EXPECT("{\"type\": \"categorical\", \"choices\": []}", &p_int, NULL, "at least one choice");
  EXPECT("{\"low\": 0, \"high\": 10, \"step\": 3}", &p_float, NULL,
         "ERR: m.p: the step 3 does not divide the range [0, 10]");
  EXPECT("{\"low\": 1, \"high\": 9, \"step\": 0}", &p_int, NULL, "\"step\" is a number above 0 and whole");
  EXPECT("{\"low\": 1, \"high\": 9, \"step\": 2, \"log\": true}", &p_int, NULL, "cannot have a step");
  EXPECT("{}", &p_open, NULL, "ERR: m.p needs numbers \"low\" and \"high\"");
  EXPECT("{\"low\": 1, \"high\": 600}", &p_int, NULL, "leaves the param's bounds [1, 512]");
  EXPECT("{\"low\": 1.5, \"high\": 4}", &p_int, NULL, "an int dimension needs whole bounds");
  EXPECT("{\"type\": \"float\"}", &p_int, NULL, "a float dimension cannot set a int param");
  EXPECT("{\"type\": \"gaussian\"}", &p_float, NULL, "\"type\" is int, float or categorical");
  EXPECT("{\"choices\": [\"sgd\"]}", &p_enum, NULL, "choice 0: 'sgd' is not one of: lbfgs, adam");
  EXPECT("{\"low\": 1, \"choices\": [1]}", &p_enum, NULL, "a categorical has \"choices\", not bounds");
  EXPECT("{\"lo\": 1}", &p_int, NULL, "unknown key 'lo'");
  EXPECT("3", &p_int, NULL, "a dimension is a list of values or an object");
  EXPECT("{\"when\": \"m.q >= 2\"}", &p_int, "{}", "names 'm.q', which is not another dimension");
  EXPECT("{\"when\": \"m.q ~ 2\"}", &p_int, "{\"m.q\": {}}", "\"when\" is \"DIM OP VALUE\"");
  EXPECT("{\"when\": \"m.q >= 2\"}", &p_int, "{\"m.q\": {}}", "\"when\":{\"parent\":\"m.q\",\"op\":\">=\",\"value\":2}");
}

/* lathe_tuner_space_link on @text: the ordered names, or "ERR: " + problems. */
static char *link_space(const char *text) {
  g_autoptr(JsonNode) s = parse(text);
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  g_autoptr(JsonObject) out = lathe_tuner_space_link(json_node_get_object(s), "/space", problems);
  GString *r = g_string_new(out ? "" : "ERR:");
  if (out) {
    g_autoptr(GList) names = json_object_get_members(out);
    for (GList *l = names; l; l = l->next)
      g_string_append_printf(r, "%s ", (char *)l->data);
  }
  for (guint i = 0; i < problems->len; i++)
    g_string_append_printf(r, " %s", ((LatheProblem *)problems->pdata[i])->message);
  return g_string_free(r, FALSE);
}

static void test_links(void) {
  g_autofree char *order = link_space(
      "{\"m.u2\": {\"type\": \"int\", \"when\": {\"parent\": \"m.layers\", \"op\": \">=\", \"value\": 2}},"
      " \"m.layers\": {\"type\": \"int\"}, \"m.opt\": [\"a\", \"b\"],"
      " \"m.lr\": {\"type\": \"float\", \"when\": {\"parent\": \"m.opt\", \"op\": \"==\", \"value\": \"b\"}}}");
  g_assert_cmpstr(order, ==, "m.layers m.u2 m.opt m.lr ");
  g_autofree char *loop = link_space(
      "{\"m.a\": {\"type\": \"int\", \"when\": {\"parent\": \"m.b\", \"op\": \">=\", \"value\": 2}},"
      " \"m.b\": {\"type\": \"int\", \"when\": {\"parent\": \"m.a\", \"op\": \">=\", \"value\": 2}}}");
  g_assert_nonnull(strstr(loop, "ERR: m.a: its \"when\" chain loops back to itself"));
  g_autofree char *badop = link_space(
      "{\"m.opt\": {\"type\": \"categorical\", \"choices\": [\"a\"]},"
      " \"m.x\": {\"type\": \"int\", \"when\": {\"parent\": \"m.opt\", \"op\": \">\", \"value\": \"a\"}}}");
  g_assert_nonnull(strstr(badop, "on the categorical m.opt takes == or !="));
  g_autofree char *badval = link_space(
      "{\"m.opt\": [\"a\", \"b\"],"
      " \"m.x\": {\"type\": \"int\", \"when\": {\"parent\": \"m.opt\", \"op\": \"==\", \"value\": \"c\"}}}");
  g_assert_nonnull(strstr(badval, "compares m.opt with \"c\", which is not one of its choices"));
  g_autofree char *numne = link_space(
      "{\"m.n\": {\"type\": \"int\"},"
      " \"m.x\": {\"type\": \"int\", \"when\": {\"parent\": \"m.n\", \"op\": \"!=\", \"value\": 2}}}");
  g_assert_nonnull(strstr(numne, "on the number m.n takes == < <= > >= and a number"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tuner-space/defaults", test_defaults);
  g_test_add_func("/tuner-space/refusals", test_refusals);
  g_test_add_func("/tuner-space/links", test_links);
  return g_test_run();
}
