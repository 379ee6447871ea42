/* test-tuner-random.c: tuner/random through its ABI: reproducible points
 * inside every kind of dimension, no repeats and a clean end in discrete
 * spaces, trials told from an earlier run, the Sobol sequence, and bad
 * params. */
#include "tuner-harness.h"

#define PLUGIN "tuner-random", "tuner/random"

static const char *const samplers[] = {"uniform", "halton", "sobol"};

static char *sampler_params(const char *sampler) {
  return g_strdup_printf("{\"sampler\": \"%s\"}", sampler);
}

/* The first @n points of a fresh tuner, as canonical JSON, told as they go. */
static GPtrArray *points(const char *params, guint64 seed, const char *space, guint n) {
  Harness *hs = harness_new(PLUGIN, params, seed, space);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint t = 0; t < n; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    g_ptr_array_add(out, harness_text(p));
    hs->k->tell(hs->tuner, t, p, (double)t, LATHE_TRIAL_COMPLETE);
  }
  harness_free(hs);
  return out;
}

static void test_determinism(void) {
  for (guint s = 0; s < G_N_ELEMENTS(samplers); s++) {
    g_autofree char *params = sampler_params(samplers[s]);
    g_autoptr(GPtrArray) a = points(params, 7, HARNESS_MIXED_SPACE, 20);
    g_autoptr(GPtrArray) b = points(params, 7, HARNESS_MIXED_SPACE, 20);
    g_autoptr(GPtrArray) c = points(params, 8, HARNESS_MIXED_SPACE, 20);
    guint same_seed = 0, other_seed = 0;
    for (guint t = 0; t < 20; t++) {
      same_seed += g_str_equal(a->pdata[t], b->pdata[t]);
      other_seed += g_str_equal(a->pdata[t], c->pdata[t]);
    }
    g_assert_cmpuint(same_seed, ==, 20);
    g_assert_cmpuint(other_seed, ==, 0);
  }
}

/* Every point is inside the space, conditionals appear exactly when their
 * parent allows, and both sides of each condition are explored. */
static void test_inside_space(void) {
  for (guint s = 0; s < G_N_ELEMENTS(samplers); s++) {
    g_autofree char *params = sampler_params(samplers[s]);
    Harness *hs = harness_new(PLUGIN, params, 3, HARNESS_MIXED_SPACE);
    guint sgd = 0, deep = 0, log_low = 0;
    for (guint t = 0; t < 300; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      harness_check_mixed(p);
      sgd += json_object_has_member(p, "m.momentum");
      deep += json_object_has_member(p, "m.units2");
      log_low += harness_num(p, "m.lr") < 1e-3; /* 2/5 of the log range, 1e-3 of the linear */
      hs->k->tell(hs->tuner, t, p, 1.0, LATHE_TRIAL_COMPLETE);
    }
    g_assert_cmpuint(sgd, >, 60);
    g_assert_cmpuint(sgd, <, 140);
    g_assert_cmpuint(deep, >, 180);
    g_assert_cmpuint(deep, <, 270);
    g_assert_cmpuint(log_low, >, 80);
    harness_free(hs);
  }
}

/* {l: 1..3, u: [a, b] when l >= 2, c: [0, 1]}: (1 + 2 + 2) * 2 = 10 points. */
#define DISCRETE_SPACE                                                                        \
  "{\"n.l\": {\"type\": \"int\", \"low\": 1, \"high\": 3, \"log\": false},"                  \
  " \"n.u\": {\"type\": \"categorical\", \"choices\": [\"a\", \"b\"],"                       \
  "   \"when\": {\"parent\": \"n.l\", \"op\": \">=\", \"value\": 2}},"                        \
  " \"n.c\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": false, \"step\": 1}}"

/* Every point once, then "nothing more" without an error; with @tell FALSE
 * the trials stay pending (parallel trials), which must not repeat either. */
static void exhaust(const char *sampler, gboolean tell) {
  g_autofree char *params = sampler_params(sampler);
  Harness *hs = harness_new(PLUGIN, params, 11, DISCRETE_SPACE);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint t = 0; t < 10; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    g_assert_true(g_hash_table_add(seen, harness_text(p)));
    if (tell)
      hs->k->tell(hs->tuner, t, p, NAN, LATHE_TRIAL_FAILED);
  }
  JsonObject *p = NULL;
  GError *error = NULL;
  g_assert_false(hs->k->ask(hs->tuner, 10, &p, &error));
  g_assert_no_error(error);
  g_assert_null(p);
  harness_free(hs);
}

static void test_exhaustion(void) {
  for (guint s = 0; s < G_N_ELEMENTS(samplers); s++) {
    exhaust(samplers[s], TRUE);
    exhaust(samplers[s], FALSE);
  }
}

/* A resumed study: trials of an earlier run are told before any ask. They
 * count as used points; points outside the space are ignored with a
 * warning. */
static void test_resumed_tells(void) {
  Harness *first = harness_new(PLUGIN, NULL, 5, DISCRETE_SPACE);
  Harness *hs = harness_new(PLUGIN, NULL, 5, DISCRETE_SPACE);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint t = 0; t < 6; t++) {
    g_autoptr(JsonObject) p = harness_ask(first, t);
    g_hash_table_add(seen, harness_text(p));
    hs->k->tell(hs->tuner, t, p, t, t % 2 ? LATHE_TRIAL_COMPLETE : LATHE_TRIAL_PRUNED);
  }
  const char *bad[] = {"{\"n.l\": 9, \"n.c\": 0}", "{\"n.l\": 2, \"n.u\": \"z\", \"n.c\": 1}",
                       "{\"n.l\": 2, \"n.c\": 1}", "{\"n.l\": 1.5, \"n.c\": 0}"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonNode) n = json_from_string(bad[i], NULL);
    g_test_expect_message("lathe", G_LOG_LEVEL_WARNING,
                          "*trial * ignored*does not fit the search space*");
    hs->k->tell(hs->tuner, 100 + i, json_node_get_object(n), 0.5, LATHE_TRIAL_COMPLETE);
    g_test_assert_expected_messages();
  }
  /* Told as a second objective would be: recorded all the same. */
  g_autoptr(JsonObject) p6 = harness_ask(first, 6);
  double v[2] = {1, 2};
  hs->k->tell_multi(hs->tuner, 6, p6, v, 2, LATHE_TRIAL_COMPLETE);
  g_hash_table_add(seen, harness_text(p6));
  /* 10 points, 7 used: three new ones, then the end. */
  for (guint t = 7; t < 10; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    g_assert_true(g_hash_table_add(seen, harness_text(p)));
  }
  JsonObject *p = NULL;
  GError *error = NULL;
  g_assert_false(hs->k->ask(hs->tuner, 10, &p, &error));
  g_assert_no_error(error);
  harness_free(hs);
  harness_free(first);
}

/* Asking a pending trial again gives the same point; asking a told one is an
 * error naming the node. */
static void test_ask_again(void) {
  Harness *hs = harness_new(PLUGIN, NULL, 2, HARNESS_MIXED_SPACE);
  g_autoptr(JsonObject) a = harness_ask(hs, 0);
  g_autoptr(JsonObject) b = harness_ask(hs, 0);
  g_autofree char *ta = harness_text(a), *tb = harness_text(b);
  g_assert_cmpstr(ta, ==, tb);
  hs->k->tell(hs->tuner, 0, a, 1.0, LATHE_TRIAL_COMPLETE);
  JsonObject *p = NULL;
  GError *error = NULL;
  g_assert_false(hs->k->ask(hs->tuner, 0, &p, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "node 'tune'"));
  g_error_free(error);
  harness_free(hs);
}

/* A digitally shifted Sobol sequence puts its first 2^k points one in each
 * interval of width 2^-k, where uniform draws leave gaps. */
static void test_sobol_spread(void) {
  const char *space = "{\"s.x\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": false}}";
  for (guint64 seed = 1; seed <= 3; seed++) {
    Harness *hs = harness_new(PLUGIN, "{\"sampler\": \"sobol\"}", seed, space);
    guint bins[16] = {0};
    for (guint t = 0; t < 16; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      double x = harness_num(p, "s.x");
      bins[MIN((guint)(x * 16), 15)]++;
      hs->k->tell(hs->tuner, t, p, x, LATHE_TRIAL_COMPLETE);
    }
    for (guint b = 0; b < 16; b++)
      g_assert_cmpuint(bins[b], ==, 1);
    harness_free(hs);
  }
}

static void expect_refusal(const char *params, const char *space, const char *needle) {
  GError *error = NULL;
  Harness *hs = harness_try(PLUGIN, params, 1, space, &error);
  g_assert_null(hs);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "node 'tune'"));
  if (!strstr(error->message, needle))
    g_error("'%s' lacks '%s'", error->message, needle);
  g_assert_null(strchr(error->message, '\n'));
  g_error_free(error);
}

static void test_bad_input(void) {
  const char *one = "{\"s.x\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": false}}";
  expect_refusal("{\"sampler\": \"lhs\"}", one, "param 'sampler': 'lhs' is not");
  GString *big = g_string_new("{");
  for (int i = 0; i < 65; i++)
    g_string_append_printf(big, "%s\"s.x%d\": [1, 2]", i ? ", " : "", i);
  g_string_append(big, "}");
  expect_refusal("{\"sampler\": \"sobol\"}", big->str, "param 'sampler': sobol handles at most 64");
  g_string_free(big, TRUE);
  expect_refusal(NULL, "{\"s.x\": {\"type\": \"float\", \"low\": 1, \"high\": 0, \"log\": false}}",
                 "param 'space'");
  expect_refusal(NULL, "{\"s.x\": {\"type\": \"categorical\", \"choices\": []}}", "s.x");
  expect_refusal(NULL, "{\"s.x\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"step\": 0.3}}",
                 "does not divide");
  expect_refusal(NULL, "{\"s.x\": {\"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": true}}",
                 "param 'space'");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tuner-random/determinism", test_determinism);
  g_test_add_func("/tuner-random/inside-space", test_inside_space);
  g_test_add_func("/tuner-random/exhaustion", test_exhaustion);
  g_test_add_func("/tuner-random/resumed-tells", test_resumed_tells);
  g_test_add_func("/tuner-random/ask-again", test_ask_again);
  g_test_add_func("/tuner-random/sobol-spread", test_sobol_spread);
  g_test_add_func("/tuner-random/bad-input", test_bad_input);
  return g_test_run();
}
