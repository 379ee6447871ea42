/* lathe_store_search_runs(): MLflow's filter syntax over a store of three
 * made-up runs. Every operator, quoting, AND in any case, numbers, order-by
 * and max-results; the errors with their columns; and values that try to
 * break out of their string (they are bound parameters, never SQL text). */
#include <string.h>

#include "store/store.h"
#include "test-util.h"

typedef struct {
  char *dir;
  LatheStore *s;
  char *alpha, *beta, *gamma;
} Fixture;

static JsonObject *obj(const char *json) {
  g_autoptr(JsonNode) n = json_from_string(json, NULL);
  g_assert_nonnull(n);
  return json_object_ref(json_node_get_object(n));
}

/* One execution of @node in @run with @params and @metrics (JSON texts). */
static void exec(LatheStore *s, const char *run, const char *node, const char *params,
                 const char *metrics, const char *data_versions) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) p = params ? obj(params) : NULL;
  g_autoptr(JsonObject) m = metrics ? obj(metrics) : NULL;
  g_autoptr(JsonArray) dv = NULL;
  if (data_versions) {
    g_autoptr(JsonNode) n = json_from_string(data_versions, NULL);
    dv = json_array_ref(json_node_get_array(n));
  }
  LatheExecIdentity who = {.run_id = run, .node = node, .component = "c/x", .plugin = "p",
                           .plugin_version = "1", .plugin_digest = "d", .params = p};
  LatheExecRecord rec = {.status = "succeeded", .metrics = m, .data_versions = dv, .started = 1,
                         .ended = 2};
  g_assert_true(lathe_store_finish_execution(s, -1, &who, NULL, &rec, &error));
  g_assert_no_error(error);
}

static char *new_run(LatheStore *s, const char *name, guint64 seed) {
  g_autoptr(GError) error = NULL;
  g_usleep(2000); /* distinct start times: the default order is newest first */
  char *id = lathe_store_begin_run(s, name, "p.json", "{\"preset\": \"fast\"}", seed, &error);
  g_assert_no_error(error);
  return id;
}

static void fixture_set_up(Fixture *f, gconstpointer data) {
  (void)data;
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("lathe-search-XXXXXX", NULL);
  f->s = lathe_store_open(f->dir, &error);
  g_assert_no_error(error);
  LatheStore *s = f->s;
  f->alpha = new_run(s, "alpha", 1);
  exec(s, f->alpha, "data", NULL, NULL, "[{\"uri\": \"iris.csv\", \"digest\": \"aaaa1111\"}]");
  exec(s, f->alpha, "model",
       "{\"l2\": 0.01, \"solver\": \"lbfgs\", \"flag\": true, \"my param\": \"x\","
       " \"pattern\": \"x*y\"}", NULL, NULL);
  exec(s, f->alpha, "eval", NULL, "{\"accuracy\": 0.5, \"loss\": 0.1}", NULL);
  /* The node run again: its latest execution is the run's value. */
  exec(s, f->alpha, "eval", NULL, "{\"accuracy\": 0.95, \"loss\": 0.1}", NULL);
  g_assert_true(lathe_store_end_run(s, f->alpha, "succeeded", &error));
  f->beta = new_run(s, "beta", 2);
  exec(s, f->beta, "model", "{\"l2\": 0.5, \"solver\": \"sgd\", \"pattern\": \"xzy\"}", NULL, NULL);
  exec(s, f->beta, "eval", NULL, "{\"accuracy\": 0.85, \"loss\": -3}", NULL);
  /* An intermediate report is no final metric. */
  LatheExecIdentity who = {.run_id = f->beta, .node = "eval", .component = "c/x"};
  gint64 ex = lathe_store_begin_execution(s, &who, 1, &error);
  g_assert_cmpint(ex, >, 0);
  lathe_store_add_report(s, ex, "accuracy", 0.99, 1, 1.5);
  g_assert_true(lathe_store_end_run(s, f->beta, "failed", &error));
  f->gamma = new_run(s, "gamma", 3);
  exec(s, f->gamma, "model",
       "{\"l2\": \"auto\", \"solver\": \"Lbfgs\", \"note\": \"a' OR 1=1 --\"}", NULL, NULL);
  g_assert_true(lathe_store_end_run(s, f->gamma, "interrupted", &error));
}

static void fixture_tear_down(Fixture *f, gconstpointer data) {
  (void)data;
  lathe_store_close(f->s);
  lathe_test_remove_tree(f->dir);
  g_free(f->dir);
  g_free(f->alpha);
  g_free(f->beta);
  g_free(f->gamma);
}

/* The runs' names, in order, comma-separated. */
static char *joined_names(JsonArray *runs) {
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < json_array_get_length(runs); i++)
    g_string_append_printf(out, "%s%s", i ? "," : "",
                           json_object_get_string_member(json_array_get_object_element(runs, i), "name"));
  return g_string_free(out, FALSE);
}

/* The names of the runs @filter finds, in order, comma-separated. */
static char *names_ordered(Fixture *f, const char *filter, const char *const *order, guint max) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) runs = lathe_store_search_runs(f->s, filter, order, max, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(runs);
  return joined_names(runs);
}

#define FINDS(filter, expected)                                                              \
  do {                                                                                       \
    g_autofree char *got_ = names_ordered(f, filter, NULL, 1000);                            \
    if (!g_str_equal(got_, expected))                                                        \
      g_error("filter %s: got [%s], expected [%s]", filter, got_, expected);                 \
  } while (0)

static void test_comparisons(Fixture *f, gconstpointer data) {
  (void)data;
  /* No filter: every run, newest first. */
  FINDS("", "gamma,beta,alpha");
  FINDS("   ", "gamma,beta,alpha");
  /* Metrics, every numeric comparator; gamma has none, so matches none. */
  FINDS("metrics.eval.accuracy = 0.95", "alpha");
  FINDS("metrics.eval.accuracy != 0.95", "beta");
  FINDS("metrics.eval.accuracy > 0.85", "alpha");
  FINDS("metrics.eval.accuracy >= 0.85", "beta,alpha");
  FINDS("metrics.eval.accuracy < 0.95", "beta");
  FINDS("metrics.eval.accuracy <= 0.95", "beta,alpha");
  FINDS("metrics.eval.accuracy=0.95", "alpha");
  FINDS("metrics.eval.accuracy = 0.5", "");     /* alpha's first execution: replaced */
  FINDS("metrics.eval.accuracy > 0.98", "");    /* beta's report at step 1: not final */
  FINDS("metrics.eval.missing > 0", "");
  FINDS("metrics.nodot > 0", "");
  /* Numbers: signs, exponents, leading dot. */
  FINDS("metrics.eval.accuracy > 8.5e-1", "alpha");
  FINDS("metrics.eval.accuracy > +0.9", "alpha");
  FINDS("metrics.eval.loss < -2.5", "beta");
  FINDS("metrics.eval.loss >= -3E0", "beta,alpha");
  FINDS("metrics.eval.loss = .1", "alpha");
  FINDS("metrics.eval.accuracy < 1", "beta,alpha");
  /* Params as strings: = != LIKE (case-sensitive) ILIKE. */
  FINDS("params.model.solver = 'lbfgs'", "alpha");
  FINDS("params.model.solver = \"lbfgs\"", "alpha");
  FINDS("params.model.solver != 'lbfgs'", "gamma,beta");
  FINDS("params.model.solver LIKE 'lb%'", "alpha");
  FINDS("params.model.solver like 'lb%'", "alpha");
  FINDS("params.model.solver ILIKE 'lb%'", "gamma,alpha");
  FINDS("params.model.solver LIKE '_gd'", "beta");
  FINDS("params.model.solver LIKE '%'", "gamma,beta,alpha");
  FINDS("params.model.pattern LIKE 'x*y'", "alpha"); /* '*' is no wildcard */
  FINDS("params.model.pattern LIKE 'x?y'", "");
  FINDS("params.model.pattern LIKE 'x[z]y'", "");
  FINDS("params.model.l2 = '0.01'", "alpha");       /* a number, as text */
  FINDS("params.model.l2 = 'auto'", "gamma");
  FINDS("params.model.flag = 'true'", "alpha");
  FINDS("params.model.missing = 'x'", "");
  FINDS("params.model.missing != 'x'", "");
  /* Params as numbers (a Lathe addition): text values never match. */
  FINDS("params.model.l2 < 0.1", "alpha");
  FINDS("params.model.l2 >= 0.01", "beta,alpha");
  FINDS("params.model.l2 = 0.5", "beta");
  FINDS("params.model.l2 != 0.5", "alpha");
  /* Quoted keys and the other spellings of each kind. */
  FINDS("params.\"model.my param\" = 'x'", "alpha");
  FINDS("params.`model.my param` = 'x'", "alpha");
  FINDS("params.'model.my param' = 'x'", "alpha");
  FINDS("metrics.\"eval.accuracy\" > 0.9", "alpha");
  FINDS("`metrics`.eval.accuracy > 0.9", "alpha");
  FINDS("metric.eval.accuracy > 0.9", "alpha");
  FINDS("param.model.solver = 'sgd'", "beta");
  FINDS("parameters.model.solver = 'sgd'", "beta");
  /* AND, in any case. */
  FINDS("metrics.eval.accuracy > 0.8 and params.model.l2 < 0.1", "alpha");
  FINDS("metrics.eval.accuracy > 0.8 AND params.model.l2 > 0.1", "beta");
  FINDS("metrics.eval.accuracy > 0.8 aNd params.model.solver = 'sgd' AND attributes.seed = 2", "beta");
  FINDS("metrics.eval.accuracy > 0.9 and metrics.eval.accuracy < 0.9", "");
  /* Attributes: text and numeric, with and without the prefix. */
  FINDS("attributes.status = 'failed'", "beta");
  FINDS("status = 'succeeded'", "alpha");
  FINDS("attribute.status != 'succeeded'", "gamma,beta");
  FINDS("attr.run_name LIKE 'al%'", "alpha");
  FINDS("run.run_name ILIKE 'AL%'", "alpha");
  FINDS("attributes.run_name IN ('alpha', 'gamma')", "gamma,alpha");
  FINDS("attributes.status NOT IN ('succeeded', \"failed\")", "gamma");
  FINDS("status not in ('succeeded')", "gamma,beta");
  FINDS("attributes.seed >= 2", "gamma,beta");
  FINDS("attributes.seed < 2", "alpha");
  FINDS("attributes.start_time > 1000000000000", "gamma,beta,alpha"); /* milliseconds */
  FINDS("attributes.start_time < 1000000000000", "");
  FINDS("attributes.preset = 'fast'", "gamma,beta,alpha");
  FINDS("attributes.pipeline = 'p.json'", "gamma,beta,alpha");
  g_autofree char *by_id = g_strdup_printf("attributes.run_id = '%s'", f->beta);
  FINDS(by_id, "beta");
  g_autofree char *in_ids = g_strdup_printf("run_id IN ('%s', '%s')", f->alpha, f->gamma);
  FINDS(in_ids, "gamma,alpha");
  /* The store keeps no tags: a tag matches nothing, and is no error. */
  FINDS("tags.mlflow.runName = 'alpha'", "");
  FINDS("tags.x != 'y'", "");
}

static void test_order(Fixture *f, gconstpointer data) {
  (void)data;
  struct {
    const char *order[3];
    guint max;
    const char *expected;
  } cases[] = {
      {{"metrics.eval.accuracy DESC"}, 1000, "alpha,beta,gamma"}, /* without it: last */
      {{"metrics.eval.accuracy"}, 1000, "beta,alpha,gamma"},
      {{"metrics.eval.accuracy asc"}, 1000, "beta,alpha,gamma"},
      {{"params.model.l2"}, 1000, "alpha,beta,gamma"},           /* numbers before text */
      {{"params.model.l2 DESC"}, 1000, "gamma,beta,alpha"},
      {{"attributes.seed DESC"}, 1000, "gamma,beta,alpha"},
      {{"attributes.start_time"}, 1000, "alpha,beta,gamma"},
      {{"status"}, 1000, "beta,gamma,alpha"},
      {{"metrics.eval.loss", "attributes.seed DESC"}, 1000, "beta,alpha,gamma"},
      {{"tags.x DESC"}, 1000, "gamma,beta,alpha"},               /* no values: default order */
      {{"metrics.eval.accuracy DESC, attributes.seed DESC"}, 1000, "alpha,beta,gamma"},
      {{"params.model.pattern DESC", "attributes.seed"}, 1000, "beta,alpha,gamma"},
      {{"attributes.seed"}, 2, "alpha,beta"},
      {{NULL}, 1, "gamma"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = names_ordered(f, NULL, cases[i].order[0] ? cases[i].order : NULL, cases[i].max);
    if (!g_str_equal(got, cases[i].expected))
      g_error("order %s: got [%s], expected [%s]", cases[i].order[0], got, cases[i].expected);
  }
  /* The columns the filter and order name, once each. */
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) columns = NULL;
  const char *order[] = {"metrics.eval.accuracy DESC", "attributes.seed", NULL};
  g_autoptr(JsonArray) runs = lathe_store_search_runs(
      f->s, "metrics.eval.accuracy > 0 and params.\"model.my param\" = 'x'", order, 10, &columns, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(runs), ==, 1);
  g_autofree char *joined = g_strjoinv("|", columns);
  g_assert_cmpstr(joined, ==, "metrics.eval.accuracy|params.model.my param|attributes.seed");
  JsonObject *r = json_array_get_object_element(runs, 0);
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(r, "metrics"), "eval.accuracy"), ==, 0.95);
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(r, "params"), "model.l2"), ==, 0.01);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(r, "params"), "model.solver"), ==, "lbfgs");
}

static void expect_error(LatheStore *s, const char *filter, const char *order, const char *message) {
  g_autoptr(GError) error = NULL;
  const char *orders[] = {order, NULL};
  g_autoptr(JsonArray) runs = lathe_store_search_runs(s, filter, order ? orders : NULL, 10, NULL, &error);
  g_assert_null(runs);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  if (!strstr(error->message, message))
    g_error("filter %s: message [%s] lacks [%s]", filter, error->message, message);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_errors(Fixture *f, gconstpointer data) {
  (void)data;
  /* With and without a store: the parser is the same. */
  LatheStore *stores[] = {f->s, NULL};
  for (guint k = 0; k < G_N_ELEMENTS(stores); k++) {
    LatheStore *s = stores[k];
    expect_error(s, "metrics.acc foo 1",
                 NULL, "filter: column 13: expected a comparator (= != < <= > >= LIKE ILIKE IN NOT IN) after 'metrics.acc', got 'foo'");
    expect_error(s, "metrics.a > 1 OR metrics.b < 2", NULL, "filter: column 15: OR is not supported");
    expect_error(s, "metrics.a > 1 or metrics.b < 2", NULL, "filter: column 15: OR is not supported");
    expect_error(s, "metrics.a > 'x'", NULL, "column 13: 'metrics.a' is a number");
    expect_error(s, "params.a > 'x'", NULL, "column 10: '>' compares with numbers");
    expect_error(s, "params.a = 'x", NULL, "column 12: this string has no closing '");
    expect_error(s, "params.\"a = 'x'", NULL, "column 8: this string has no closing \"");
    expect_error(s, "params.a = x", NULL, "column 12: expected a number or a quoted string after '=', got 'x'");
    expect_error(s, "metrics.a = x", NULL, "column 13: expected a number after '=', got 'x'");
    expect_error(s, "foo = 1", NULL, "column 1: unknown attribute 'foo'");
    expect_error(s, "attributes.bar = 'x'", NULL, "column 12: unknown attribute 'bar'");
    expect_error(s, "x.y = 1", NULL, "column 1: unknown kind 'x'");
    expect_error(s, "datasets.name = 'x'", NULL, "column 1: datasets.* is not supported");
    expect_error(s, "metrics.a > 1 metrics.b > 2", NULL, "column 15: expected AND or the end of the filter, got 'metrics.b'");
    expect_error(s, "metrics.a > 1 AND", NULL, "column 18: expected metrics.KEY, params.KEY, tags.KEY or an attribute, got the end");
    expect_error(s, "metrics.a > 1 AND AND metrics.b > 1", NULL, "column 19: unknown attribute 'AND'");
    expect_error(s, "(metrics.a > 1)", NULL, "column 1: expected metrics.KEY");
    expect_error(s, "metrics.a > 1 AND (metrics.b > 1)", NULL, "column 19: expected metrics.KEY");
    expect_error(s, "metrics.a > 1)", NULL, "column 14: parentheses are not supported");
    expect_error(s, "params.a IN ('x')", NULL, "column 13: IN takes a list only for text attributes");
    expect_error(s, "metrics.a NOT IN ('x')", NULL, "column 18: NOT IN takes a list only");
    expect_error(s, "status IN 'x'", NULL, "column 11: expected a list of quoted strings in ( ) after 'status', got 'x'");
    expect_error(s, "status IN ('a' 'b')", NULL, "column 16: expected ',' or ')', got 'b'");
    expect_error(s, "status IN ('a', 1)", NULL, "column 17: expected a quoted string, got '1'");
    expect_error(s, "status IN ()", NULL, "column 12: expected a quoted string, got ')'");
    expect_error(s, "status NOT 'a'", NULL, "column 12: expected IN after 'NOT'");
    expect_error(s, "status NOT LIKE 'a'", NULL, "column 8: NOT LIKE is not in the syntax");
    expect_error(s, "metrics.a <> 1", NULL, "column 11: '<>' is not a comparator here");
    expect_error(s, "metrics.a == 1", NULL, "column 11: '==' is not a comparator here");
    expect_error(s, "metrics. > 1", NULL, "column 9: expected a name (quote it in \"...\" if it has other characters) after 'metrics', got a space");
    expect_error(s, "metrics.a > 1e", NULL, "column 13: expected a number after '>', got '1e'");
    expect_error(s, "metrics.a > 1.2.3", NULL, "column 13: expected a number");
    expect_error(s, "metrics.a > - 1", NULL, "column 13: expected a number");
    expect_error(s, "metrics.a > inf", NULL, "column 13: expected a number after '>', got 'inf'");
    expect_error(s, "status = 1", NULL, "column 10: 'status' is text: quote the value");
    expect_error(s, "attributes.seed = '1'", NULL, "column 19: 'attributes.seed' is a number");
    expect_error(s, "metrics.a LIKE 1", NULL, "column 16: LIKE takes a quoted pattern");
    expect_error(s, "status > 'a'", NULL, "column 8: '>' compares with numbers");
    /* Columns count characters, not bytes. */
    expect_error(s, "params.x = 'é' AND ?", NULL, "column 20: expected metrics.KEY");
    expect_error(s, "params.é = 'x'", NULL, "column 8: expected a name");
    /* order-by: its own text and columns. */
    expect_error(s, NULL, "metrics.a UP", "order-by 'metrics.a UP': column 11: expected ASC, DESC, ',' or the end, got 'UP'");
    expect_error(s, NULL, "metrics.a DESC,", "order-by 'metrics.a DESC,': column 16: expected metrics.KEY");
    expect_error(s, NULL, "nope", "order-by 'nope': column 1: unknown attribute 'nope'");
    expect_error(s, NULL, "", "order-by '': column 1: expected metrics.KEY");
  }
  /* Without a store, a valid filter finds nothing. */
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) none = lathe_store_search_runs(NULL, "metrics.a > 1", NULL, 10, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(none), ==, 0);
}

/* Values and keys that would end their SQL string if they were pasted in. */
static void test_injection(Fixture *f, gconstpointer data) {
  (void)data;
  FINDS("params.model.note = 'a'' OR 1=1 --'", "gamma"); /* the value, exactly */
  FINDS("params.model.note = \"a' OR 1=1 --\"", "gamma");
  FINDS("params.model.solver = 'x''; DROP TABLE runs; --'", "");
  FINDS("params.model.solver = 'x\"); DELETE FROM runs; --'", "");
  FINDS("params.\"model.x') OR 1=1 --\" = 'a'", "");
  FINDS("metrics.\"eval.accuracy\"\" OR 1=1 --\" > 0", "");
  FINDS("status IN ('x'') OR 1=1 --')", "");
  FINDS("params.model.solver LIKE '%'' OR ''1''=''1'", "");
  g_autofree char *got = names_ordered(f, "status LIKE '%'", (const char *[]){"metrics.\"eval.accuracy); DROP TABLE runs; --\"", NULL}, 10);
  g_assert_cmpstr(got, ==, "gamma,beta,alpha"); /* no such metric: default order */
  FINDS("", "gamma,beta,alpha");                  /* the runs are all still there */
}

static void test_run_values(Fixture *f, gconstpointer data) {
  (void)data;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strndup(f->alpha, 6);
  g_autoptr(JsonObject) v = lathe_store_run_values(f->s, prefix, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(v, "run_id"), ==, f->alpha);
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(v, "metrics"), "eval.accuracy"), ==, 0.95);
  JsonArray *dv = json_object_get_array_member(json_object_get_object_member(v, "data_versions"), "data");
  g_assert_cmpuint(json_array_get_length(dv), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(dv, 0), "digest"), ==, "aaaa1111");
  g_autoptr(JsonObject) none = lathe_store_run_values(f->s, "zz-none", &error);
  g_assert_null(none);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
}

/* The page of @offset and @max runs of @filter in @order, as names. */
static char *page_names(Fixture *f, const char *filter, const char *order, guint offset, guint max) {
  g_autoptr(GError) error = NULL;
  const char *orders[] = {order, NULL};
  g_autoptr(JsonArray) runs = lathe_store_search_runs_page(f->s, filter, order ? orders : NULL, offset,
                                                           max, NULL, &error);
  g_assert_no_error(error);
  return joined_names(runs);
}

/* Pages (lathe ui): LIMIT/OFFSET over the same order and filter, disjoint and
 * together the whole search; an offset past the end is an empty page; a bad
 * filter is still the same error. */
static void test_pages(Fixture *f, gconstpointer data) {
  (void)data;
  static const struct { const char *filter, *order; guint offset, max; const char *expected; } cases[] = {
      {NULL, NULL, 0, 2, "gamma,beta"},
      {NULL, NULL, 2, 2, "alpha"},
      {NULL, NULL, 1, 1, "beta"},
      {NULL, NULL, 3, 2, ""},
      {NULL, NULL, 1000000, 2, ""},
      {"metrics.eval.accuracy > 0", "metrics.eval.accuracy DESC", 0, 1, "alpha"},
      {"metrics.eval.accuracy > 0", "metrics.eval.accuracy DESC", 1, 1, "beta"},
      {"metrics.eval.accuracy > 0", "metrics.eval.accuracy DESC", 2, 1, ""},
      {"status != 'failed'", "attributes.run_name ASC", 1, 5, "gamma"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = page_names(f, cases[i].filter, cases[i].order, cases[i].offset, cases[i].max);
    if (!g_str_equal(got, cases[i].expected))
      g_error("page %u: got [%s], expected [%s]", i, got, cases[i].expected);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) bad = lathe_store_search_runs_page(f->s, "metrics.a >", NULL, 1, 1, NULL, &error);
  g_assert_null(bad);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/store/search/comparisons", Fixture, NULL, fixture_set_up, test_comparisons, fixture_tear_down);
  g_test_add("/store/search/order", Fixture, NULL, fixture_set_up, test_order, fixture_tear_down);
  g_test_add("/store/search/errors", Fixture, NULL, fixture_set_up, test_errors, fixture_tear_down);
  g_test_add("/store/search/injection", Fixture, NULL, fixture_set_up, test_injection, fixture_tear_down);
  g_test_add("/store/search/pages", Fixture, NULL, fixture_set_up, test_pages, fixture_tear_down);
  g_test_add("/store/search/run-values", Fixture, NULL, fixture_set_up, test_run_values, fixture_tear_down);
  return g_test_run();
}
