/* The validator refuses, never crashes (issue 11): a wrong JSON type at every
 * member the graph reads, nesting past the limit, NUL and control characters,
 * conditions that are not strings or not finite, and a node depending on
 * itself. Each case is one line of the table: the pipeline's text and a
 * piece of the "POINTER: MESSAGE" expected among its problems. The node
 * kinds are registered as lathe does, so tuners and register nodes are
 * validated in full. Before issue 11, several of these crashed (SIGSEGV, or
 * a Json-CRITICAL that G_DEBUG=fatal-criticals turns into an abort) and the
 * `when` cases were accepted. */
#include <string.h>

#include "engine/engine.h"
#include "graph/graph.h"
#include "tuning/tuning.h"
#include "test-util.h"

/* A source, a split and a model; "%s" is where each case adds to the node
 * list or the top level. */
#define D "{\"id\": \"d\", \"use\": \"source/csv\", \"with\": {\"path\": \"x.csv\"}}"
#define S "{\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": \"d\"}}"
#define M "{\"id\": \"m\", \"use\": \"model/logreg\", \"in\": {\"train\": \"s.train\"}}"
#define TOP(extra) "{\"nodes\": [" D "," S "," M "]" extra "}"
#define NODE(fields) "{\"nodes\": [" D "," S ", {\"id\": \"m\", \"use\": \"model/logreg\", \"in\": {\"train\": \"s.train\"}" fields "}]}"
#define TUNER(trial) "{\"nodes\": [" D "," S ", {\"id\": \"t\", \"use\": \"tuner/grid\", \"with\": " \
  "{\"objective\": \"m.x\", \"space\": {\"m.l2\": [1, 2]}}, \"trial\": " trial "}]}"
#define TRIAL_M "{\"nodes\": [" M "]"

static const struct {
  const char *text;
  const char *expect;
} cases[] = {
    /* nodes */
    {"{\"nodes\": [1]}", "/nodes/0: a node is an object with \"id\" and \"use\", not a number"},
    {"{\"nodes\": [null]}", "/nodes/0: a node is an object with \"id\" and \"use\", not null"},
    {"{\"nodes\": [\"d\", []]}", "/nodes/1: a node is an object with \"id\" and \"use\", not a list"},
    {"{\"nodes\": {}}", "/nodes: \"nodes\" must be a non-empty list"},
    {"{\"nodes\": null}", "/nodes: \"nodes\" must be a non-empty list"},
    {"{\"nodes\": \"d\"}", "/nodes: \"nodes\" must be a non-empty list"},
    {"[1]", "a pipeline is a JSON object"},
    /* id */
    {"{\"nodes\": [{\"id\": 5, \"use\": \"source/csv\"}]}", "/nodes/0: node needs an \"id\" of letters, digits, '_' or '-' (got a number)"},
    {"{\"nodes\": [{\"id\": {}, \"use\": \"source/csv\"}]}", "(got an object)"},
    {"{\"nodes\": [{\"id\": [], \"use\": \"source/csv\"}]}", "(got a list)"},
    {"{\"nodes\": [{\"id\": null, \"use\": \"source/csv\"}]}", "(got null)"},
    {"{\"nodes\": [{\"id\": \"a\\nb\", \"use\": \"source/csv\"}]}", "/nodes/0: node needs an \"id\""},
    {"{\"nodes\": [{\"id\": \"a\\u0000b\", \"use\": \"source/csv\"}]}", "1:21: a string holds \\u0000 (NUL)"},
    /* use */
    {"{\"nodes\": [{\"id\": \"a\", \"use\": 5}]}", "/nodes/0/use: \"use\" is a string \"KIND/NAME\", not a number"},
    {"{\"nodes\": [{\"id\": \"a\", \"use\": {\"x\": 1}}]}", "/nodes/0/use: \"use\" is a string \"KIND/NAME\", not an object"},
    {"{\"nodes\": [{\"id\": \"a\", \"use\": null}]}", "not null"},
    /* with, in, cache */
    {NODE(", \"with\": 5"), "/nodes/2: \"with\" must be an object of params"},
    {NODE(", \"with\": [1]"), "/nodes/2: \"with\" must be an object of params"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": 4}]}", "/nodes/1: \"in\" must be an object"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": [\"d\"]}]}", "/nodes/1: \"in\" must be an object"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": 1}}]}", "/nodes/1/in/data: an input is a string"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": {}}}]}", "/nodes/1/in/data: an input is a string"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": null}}]}", "/nodes/1/in/data: an input is a string"},
    {NODE(", \"cache\": \"no\""), "/nodes/2: \"cache\" must be true or false"},
    {NODE(", \"cache\": {}"), "/nodes/2: \"cache\" must be true or false"},
    /* when: anything but a condition string used to be ignored */
    {NODE(", \"when\": 2"), "/nodes/2/when: \"when\" is a condition string such as \"eval.accuracy >= 0.9\", not a number"},
    {NODE(", \"when\": {\"$gte\": 2}"), "/nodes/2/when: \"when\" is a condition string such as \"eval.accuracy >= 0.9\", not an object"},
    {NODE(", \"when\": true"), "/nodes/2/when: \"when\" is a condition string such as \"eval.accuracy >= 0.9\", not a boolean"},
    {NODE(", \"when\": []"), "/nodes/2/when: \"when\" is a condition string such as \"eval.accuracy >= 0.9\", not a list"},
    {NODE(", \"when\": null"), "/nodes/2/when: \"when\" is a condition string such as \"eval.accuracy >= 0.9\", not null"},
    {NODE(", \"when\": \"\""), "/nodes/2/when: \"when\" is empty"},
    {NODE(", \"when\": \"  \""), "/nodes/2/when: \"when\" is empty"},
    {NODE(", \"when\": \"s.x > 1 &&\""), "/nodes/2/when: cannot read condition ''"},
    {NODE(", \"when\": \"s.x > nan\""), "/nodes/2/when: condition 's.x > nan' compares with nan; use a finite number"},
    {NODE(", \"when\": \"s.x < -inf\""), "/nodes/2/when: condition 's.x < -inf' compares with -inf"},
    {NODE(", \"when\": \"s.x >= 1e999\""), "compares with 1e999; use a finite number"},
    /* a node depending on itself is a cycle */
    {NODE(", \"when\": \"m.x > 1\""), "/nodes: cycle: m -> m; a node cannot depend on its own output"},
    {"{\"nodes\": [" D ", {\"id\": \"s\", \"use\": \"transform/split\", \"in\": {\"data\": \"s.train\"}}]}",
     "/nodes: cycle: s -> s; a node cannot depend on its own output"},
    /* trial */
    {TUNER("5"), "/nodes/2: tuner node 't' needs a \"trial\" object"},
    {TUNER("[]"), "/nodes/2: tuner node 't' needs a \"trial\" object"},
    {TUNER("{\"nodes\": 5, \"output\": \"m\"}"), "/nodes/2/trial/nodes: \"nodes\" must be a non-empty list"},
    {TUNER(TRIAL_M ", \"output\": 5}"), "/nodes/2/trial/output: trial \"output\" is the id of a trial node, not a number"},
    {TUNER(TRIAL_M ", \"output\": {}}"), "/nodes/2/trial/output: trial \"output\" is the id of a trial node, not an object"},
    {TUNER(TRIAL_M ", \"output\": null}"), "/nodes/2/trial/output: trial \"output\" is the id of a trial node, not null"},
    {TUNER("{\"nodes\": [" M ", {\"id\": \"r\", \"use\": \"registry/local\", \"in\": {\"model\": \"m\"},"
           " \"with\": {\"name\": \"x\"}}], \"output\": \"m\"}"),
     "/nodes/2/trial/nodes/1: register node 'r' cannot be inside a trial"},
    /* top level */
    {TOP(", \"name\": 3"), "/name: \"name\" is a string, not a number"},
    {TOP(", \"name\": {}"), "/name: \"name\" is a string, not an object"},
    {TOP(", \"name\": null"), "/name: \"name\" is a string, not null"},
    {TOP(", \"name\": \"\""), "/name: \"name\" must be a non-empty string without control characters"},
    {TOP(", \"name\": \"a\\u001b[2Jb\""), "/name: \"name\" must be a non-empty string without control characters"},
    {TOP(", \"name\": \"a\\nb\""), "/name: \"name\" must be a non-empty string without control characters"},
    {TOP(", \"name\": \"a\\u0000b\""), "a string holds \\u0000 (NUL)"},
    {TOP(", \"seed\": \"7\""), "/seed: \"seed\" must be a non-negative integer"},
    {TOP(", \"seed\": -1"), "/seed: \"seed\" must be a non-negative integer"},
    {TOP(", \"seed\": 1.5"), "/seed: \"seed\" must be a non-negative integer"},
    {TOP(", \"seed\": {}"), "/seed: \"seed\" must be a non-negative integer"},
    {TOP(", \"lathe\": \"1\""), "/lathe: this Lathe reads pipeline format 1"},
    {TOP(", \"lathe\": []"), "/lathe: this Lathe reads pipeline format 1"},
    {TOP(", \"tracker\": 5"), "/tracker: \"tracker\" is {\"use\": \"tracker/NAME\""},
    {TOP(", \"tracker\": {\"use\": {}}"), "/tracker: \"tracker\" is {\"use\": \"tracker/NAME\""},
    {TOP(", \"registry\": {\"use\": 5}"), "/registry: \"registry\" is {\"use\": \"registry/NAME\""},
    {TOP(", \"registry\": {\"use\": \"registry/local\", \"with\": 3}"), "/registry/with: \"with\" is an object of params, not a number"},
    {TOP(", \"executor\": [1]"), "/executor: \"executor\" is {\"use\": \"executor/NAME\""},
    {TOP(", \"preset\": 3, \"presets\": {\"a\": {}}"), "/preset: \"preset\" names one of \"presets\""},
    {TOP(", \"presets\": [1]"), "/presets: \"presets\" maps names to presets"},
    {TOP(", \"presets\": {\"a\": 1}"), "/presets/a: a preset maps node ids to params"},
    {TOP(", \"presets\": {\"a\": {\"m\": 5}}"), "/presets/a/m: the params of a node in a preset are an object"},
    {TOP(", \"presets\": {\"a\": {\"m\": {\"l2\": {}}}}, \"preset\": \"a\""), "/presets/a/m/l2: param 'l2' of model/logreg"},
    {"{\"nodes\": [{\"id\": {}, \"use\": \"source/csv\"}], \"presets\": {\"a\": {\"m\": {}}}, \"preset\": \"a\"}",
     "/presets/a/m: preset 'a' sets params of 'm', which is not a node"},
};

static char *all_problems(GPtrArray *problems) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < problems->len; i++) {
    LatheProblem *p = problems->pdata[i];
    g_assert_null(strchr(p->message, '\n'));
    g_string_append_printf(s, "%s: %s\n", p->pointer, p->message);
  }
  return g_string_free(s, FALSE);
}

static void test_table(void) {
  g_autoptr(LatheCatalog) cat = lathe_catalog_load();
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GPtrArray) problems = lathe_problems_new();
    LatheGraph *g = lathe_graph_load_from_data(cases[i].text, strlen(cases[i].text), "/tmp/p.json",
                                               NULL, NULL, cat, problems);
    g_autofree char *all = all_problems(problems);
    if (g || !strstr(all, cases[i].expect))
      g_error("case %u: %s\nexpected a problem with: %s\ngot:\n%s", i, cases[i].text,
              cases[i].expect, g ? "(accepted)" : all);
  }
  /* the base itself is valid, so each case fails for its own reason */
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  const char *ok = TOP("");
  g_autoptr(LatheGraph) g = lathe_graph_load_from_data(ok, strlen(ok), "/tmp/p.json", NULL, NULL,
                                                       cat, problems);
  g_assert_nonnull(g);
}

/* json-glib's parser recursed until the stack overflowed at ~75,000 levels;
 * the depth is refused before parsing, in the file and in --set values. */
static void test_depth(void) {
  g_autoptr(LatheCatalog) cat = lathe_catalog_load();
  static const guint depths[] = {LATHE_GRAPH_MAX_DEPTH, LATHE_GRAPH_MAX_DEPTH + 1, 200000};
  for (guint k = 0; k < G_N_ELEMENTS(depths); k++) {
    guint depth = depths[k];
    GString *s = g_string_new("{\"nodes\": [" D "," S "," M "], \"x\": ");
    for (guint i = 0; i < depth - 1; i++)
      g_string_append_c(s, '[');
    for (guint i = 0; i < depth - 1; i++)
      g_string_append_c(s, ']');
    g_string_append_c(s, '}');
    g_autoptr(GPtrArray) problems = lathe_problems_new();
    g_assert_null(lathe_graph_load_from_data(s->str, s->len, "/tmp/p.json", NULL, NULL, cat, problems));
    g_autofree char *all = all_problems(problems);
    if (depth == LATHE_GRAPH_MAX_DEPTH)
      g_assert_nonnull(strstr(all, "/x: unknown key 'x'")); /* parsed: deep but allowed */
    else
      g_assert_nonnull(strstr(all, "nested deeper than 512 levels of [ and {"));
    g_string_free(s, TRUE);
  }
  /* brackets inside strings do not count */
  GString *s = g_string_new("{\"name\": \"");
  for (guint i = 0; i < 1000; i++)
    g_string_append(s, "[{");
  g_string_append(s, "\\\"\", \"nodes\": [" D "," S "," M "]}");
  g_autoptr(GPtrArray) p2 = lathe_problems_new();
  g_autoptr(LatheGraph) g = lathe_graph_load_from_data(s->str, s->len, "/tmp/p.json", NULL, NULL, cat, p2);
  g_assert_nonnull(g);
  g_string_free(s, TRUE);
  /* a --set value is JSON too */
  g_autofree char *deep = g_strnfill(100000, '[');
  g_autofree char *set = g_strdup_printf("m.l2=%s", deep);
  const char *sets[] = {set, NULL};
  const char *text = TOP("");
  g_autoptr(GPtrArray) p3 = lathe_problems_new();
  g_assert_null(lathe_graph_load_from_data(text, strlen(text), "/tmp/p.json", NULL, sets, cat, p3));
  g_autofree char *all = all_problems(p3);
  g_assert_nonnull(strstr(all, "--set 'm.l2=[[["));
  g_assert_nonnull(strstr(all, "nested deeper than 512 levels"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  lathe_engine_init();
  lathe_tuning_init();
  g_test_add_func("/graph/refusals/table", test_table);
  g_test_add_func("/graph/refusals/depth", test_depth);
  return g_test_run();
}
