/* test-tuner-tpe.c: tuner/tpe through its ABI: reproducible points inside
 * every kind of dimension, a resumed study proposing what one long run
 * would, failed trials that teach nothing, the constant liar for pending
 * trials, a win over random search on Branin, two objectives, and bad
 * params. */
#include "tune-functions.h"
#include "tuner-harness.h"

#define PLUGIN "tuner-tpe", "tuner/tpe"

/* A toy objective over HARNESS_MIXED_SPACE with its optimum inside. */
static double mixed_objective(JsonObject *p) {
  double v = pow(log10(harness_num(p, "m.lr")) + 3, 2) + pow(harness_num(p, "m.x") - 1, 2) +
             fabs(harness_num(p, "m.drop") - 0.2) + fabs(log2(harness_num(p, "m.units")) - 6) +
             (g_str_equal(json_object_get_string_member(p, "m.opt"), "adam") ? 0 : 1);
  if (json_object_has_member(p, "m.momentum"))
    v += fabs(harness_num(p, "m.momentum") - 0.9);
  return v;
}

/* Runs @n trials of the mixed study; returns the points as canonical JSON. */
static GPtrArray *mixed_study(const char *params, guint64 seed, guint n) {
  Harness *hs = harness_new(PLUGIN, params, seed, HARNESS_MIXED_SPACE);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint t = 0; t < n; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    harness_check_mixed(p);
    g_ptr_array_add(out, harness_text(p));
    hs->k->tell(hs->tuner, t, p, mixed_objective(p), LATHE_TRIAL_COMPLETE);
  }
  harness_free(hs);
  return out;
}

static void test_determinism(void) {
  const char *variants[] = {NULL, "{\"multivariate\": true}"};
  for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
    g_autoptr(GPtrArray) a = mixed_study(variants[v], 4, 30);
    g_autoptr(GPtrArray) b = mixed_study(variants[v], 4, 30);
    g_autoptr(GPtrArray) c = mixed_study(variants[v], 5, 30);
    guint same = 0, other = 0;
    for (guint t = 0; t < 30; t++) {
      same += g_str_equal(a->pdata[t], b->pdata[t]);
      other += g_str_equal(a->pdata[t], c->pdata[t]);
    }
    g_assert_cmpuint(same, ==, 30);
    g_assert_cmpuint(other, ==, 0);
  }
}

/* Past the start-up trials, TPE's points stay inside every dimension and
 * respect the conditions (checked by mixed_study), and they improve on the
 * start-up ones. */
static void test_inside_space(void) {
  const char *variants[] = {NULL, "{\"multivariate\": true}",
                            "{\"consider_endpoints\": true, \"consider_prior\": false}"};
  for (guint v = 0; v < G_N_ELEMENTS(variants); v++) {
    Harness *hs = harness_new(PLUGIN, variants[v], 9, HARNESS_MIXED_SPACE);
    double start = 0, late = 0;
    for (guint t = 0; t < 80; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      harness_check_mixed(p);
      double y = mixed_objective(p);
      if (t < 10)
        start += y / 10;
      if (t >= 60)
        late += y / 20;
      hs->k->tell(hs->tuner, t, p, y, LATHE_TRIAL_COMPLETE);
    }
    g_assert_cmpfloat(late, <, 0.6 * start);
    harness_free(hs);
  }
}

/* The host re-tells a resumed study's trials (never asked by this tuner)
 * before asking new ones: the next proposal must be what a single run
 * would propose, whatever the order of the tells, and differ from the
 * proposal without them. */
static void test_resume(void) {
  const guint n = 25;
  Harness *live = harness_new(PLUGIN, NULL, 21, HARNESS_MIXED_SPACE);
  JsonObject *pts[25];
  double vals[25];
  for (guint t = 0; t < n; t++) {
    pts[t] = harness_ask(live, t);
    vals[t] = mixed_objective(pts[t]);
    live->k->tell(live->tuner, t, pts[t], vals[t],
                  t == 3 ? LATHE_TRIAL_FAILED : LATHE_TRIAL_COMPLETE);
  }
  g_autoptr(JsonObject) want = harness_ask(live, n);
  g_autofree char *want_text = harness_text(want);

  for (int order = 0; order < 2; order++) {
    Harness *resumed = harness_new(PLUGIN, NULL, 21, HARNESS_MIXED_SPACE);
    for (guint i = 0; i < n; i++) {
      guint t = order ? n - 1 - i : i;
      resumed->k->tell(resumed->tuner, t, pts[t], t == 3 ? NAN : vals[t],
                       t == 3 ? LATHE_TRIAL_FAILED : LATHE_TRIAL_COMPLETE);
    }
    g_autoptr(JsonObject) got = harness_ask(resumed, n);
    g_autofree char *got_text = harness_text(got);
    g_assert_cmpstr(got_text, ==, want_text);
    harness_free(resumed);
  }

  Harness *fresh = harness_new(PLUGIN, NULL, 21, HARNESS_MIXED_SPACE);
  g_autoptr(JsonObject) blind = harness_ask(fresh, n);
  g_autofree char *blind_text = harness_text(blind);
  g_assert_cmpstr(blind_text, !=, want_text);
  harness_free(fresh);
  for (guint t = 0; t < n; t++)
    json_object_unref(pts[t]);
  harness_free(live);
}

/* Failed trials, and complete ones with a NaN objective, are not finished
 * trials: with 5 of them TPE is still in its random start-up, and proposes
 * what it proposes with no history at all. Five complete trials end the
 * start-up and change the proposal. */
static void test_failed_trials(void) {
  const char *params = "{\"n_startup_trials\": 5}";
  Harness *empty = harness_new(PLUGIN, params, 13, HARNESS_MIXED_SPACE);
  g_autoptr(JsonObject) p_empty = harness_ask(empty, 5);
  g_autofree char *t_empty = harness_text(p_empty);

  Harness *failed = harness_new(PLUGIN, params, 13, HARNESS_MIXED_SPACE);
  Harness *done = harness_new(PLUGIN, params, 13, HARNESS_MIXED_SPACE);
  for (guint t = 0; t < 5; t++) {
    g_autoptr(JsonObject) p = harness_ask(failed, t);
    failed->k->tell(failed->tuner, t, p, NAN, t % 2 ? LATHE_TRIAL_FAILED : LATHE_TRIAL_COMPLETE);
    g_autoptr(JsonObject) q = harness_ask(done, t);
    done->k->tell(done->tuner, t, q, mixed_objective(q), LATHE_TRIAL_COMPLETE);
  }
  g_autoptr(JsonObject) p_failed = harness_ask(failed, 5);
  g_autoptr(JsonObject) p_done = harness_ask(done, 5);
  g_autofree char *t_failed = harness_text(p_failed), *t_done = harness_text(p_done);
  g_assert_cmpstr(t_failed, ==, t_empty);
  g_assert_cmpstr(t_done, !=, t_empty);
  harness_free(empty);
  harness_free(failed);
  harness_free(done);
}

/* Parallel trials: after a start-up around an obvious optimum, 6 trials are
 * asked before any is told. With the constant liar each pending point
 * counts as a bad one, so the proposals spread out; without it, they pile
 * up on the same few values. */
static guint pending_distinct(gboolean liar, guint64 seed) {
  const char *space = "{\"d.k\": {\"type\": \"int\", \"low\": 0, \"high\": 40, \"log\": false}}";
  g_autofree char *params = g_strdup_printf("{\"constant_liar\": %s}", liar ? "true" : "false");
  Harness *hs = harness_new(PLUGIN, params, seed, space);
  for (guint t = 0; t < 30; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    hs->k->tell(hs->tuner, t, p, fabs(harness_num(p, "d.k") - 20), LATHE_TRIAL_COMPLETE);
  }
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint t = 30; t < 36; t++) {
    g_autoptr(JsonObject) p = harness_ask(hs, t);
    g_hash_table_add(seen, GINT_TO_POINTER((int)harness_num(p, "d.k") + 1));
  }
  harness_free(hs);
  return g_hash_table_size(seen);
}

static void test_constant_liar(void) {
  guint with = 0, without = 0;
  for (guint64 seed = 0; seed < 5; seed++) {
    guint w = pending_distinct(TRUE, seed);
    with += w;
    without += pending_distinct(FALSE, seed);
    g_assert_cmpuint(w, ==, 6);
  }
  g_assert_cmpuint(with, >, without + 5);
}

/* In a space of 3 points, 3 running trials get the 3 points; a fourth can
 * only repeat one, which is not an error. */
static void test_liar_tiny_space(void) {
  const char *space = "{\"d.c\": [\"a\", \"b\", \"c\"]}";
  for (guint64 seed = 0; seed < 4; seed++) {
    Harness *hs = harness_new(PLUGIN, "{\"n_startup_trials\": 2}", seed, space);
    for (guint t = 0; t < 6; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      const char *c = json_object_get_string_member(p, "d.c");
      hs->k->tell(hs->tuner, t, p, g_str_equal(c, "b") ? 0.0 : 1.0, LATHE_TRIAL_COMPLETE);
    }
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint t = 6; t < 9; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      g_assert_true(g_hash_table_add(seen, g_strdup(json_object_get_string_member(p, "d.c"))));
    }
    g_autoptr(JsonObject) p = harness_ask(hs, 9);
    g_assert_true(g_hash_table_contains(seen, json_object_get_string_member(p, "d.c")));
    harness_free(hs);
  }
}

static double branin(const double *x) {
  return lathe_fn_branin(x);
}

/* The median best value over 5 seeds after 100 trials on Branin. */
static void test_branin(void) {
  const char *space = "{\"x1\": {\"type\": \"float\", \"low\": -5, \"high\": 10, \"log\": false},"
                      " \"x2\": {\"type\": \"float\", \"low\": 0, \"high\": 15, \"log\": false}}";
  double tpe[5], rnd[5];
  for (guint64 seed = 0; seed < 5; seed++) {
    Harness *a = harness_new(PLUGIN, NULL, seed, space);
    tpe[seed] = harness_study_2d(a, 100, branin);
    harness_free(a);
    Harness *b = harness_new("tuner-random", "tuner/random", NULL, seed, space);
    rnd[seed] = harness_study_2d(b, 100, branin);
    harness_free(b);
  }
  double mt = harness_median(tpe, 5), mr = harness_median(rnd, 5);
  g_test_message("Branin, 100 trials, median of 5 seeds: tpe %.4f, random %.4f", mt, mr);
  g_assert_cmpfloat(mt, <, mr);
  g_assert_cmpfloat(mt, <, 0.397887 + 0.1);
}

/* Two objectives told through tell_multi, (x - 0.2)^2 and (x - 0.8)^2: the
 * Pareto set is [0.2, 0.8]. TPE's late proposals gather on it and spread
 * along it; the first objective alone would pull them all to 0.2. */
static void test_two_objectives(void) {
  const char *space = "{\"o.x\": {\"type\": \"float\", \"low\": -1, \"high\": 2, \"log\": false}}";
  guint inside = 0, upper = 0;
  for (guint64 seed = 0; seed < 3; seed++) {
    Harness *hs = harness_new(PLUGIN, NULL, seed, space);
    for (guint t = 0; t < 80; t++) {
      g_autoptr(JsonObject) p = harness_ask(hs, t);
      double x = harness_num(p, "o.x");
      double v[2] = {(x - 0.2) * (x - 0.2), (x - 0.8) * (x - 0.8)};
      hs->k->tell_multi(hs->tuner, t, p, v, 2, LATHE_TRIAL_COMPLETE);
      inside += t >= 50 && x >= 0.15 && x <= 0.85;
      upper += t >= 50 && x >= 0.55 && x <= 0.85;
    }
    harness_free(hs);
  }
  g_test_message("two objectives: %u of 90 late proposals on the front, %u in its upper part",
                 inside, upper);
  /* Uniform draws land on [0.15, 0.85] 23% of the time: 21 of 90. */
  g_assert_cmpuint(inside, >, 50);
  g_assert_cmpuint(upper, >=, 15);
}

static void expect_refusal(const char *params, const char *needle) {
  GError *error = NULL;
  Harness *hs = harness_try(PLUGIN, params, 1, HARNESS_MIXED_SPACE, &error);
  g_assert_null(hs);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "node 'tune'"));
  if (!strstr(error->message, needle))
    g_error("'%s' lacks '%s'", error->message, needle);
  g_assert_null(strchr(error->message, '\n'));
  g_error_free(error);
}

static void test_bad_params(void) {
  expect_refusal("{\"gamma_fraction\": 0}", "param 'gamma_fraction'");
  expect_refusal("{\"gamma_fraction\": 1.5}", "param 'gamma_fraction'");
  expect_refusal("{\"prior_weight\": 0}", "param 'prior_weight'");
  expect_refusal("{\"n_ei_candidates\": 0}", "param 'n_ei_candidates'");
  expect_refusal("{\"gamma_max\": 0}", "param 'gamma_max'");
  expect_refusal("{\"n_startup_trials\": -1}", "param 'n_startup_trials'");
  /* The declared check lets the host refuse them at validation. */
  const LatheComponent *c = lathe_test_component(PLUGIN);
  guint checked = 0;
  for (const LatheParamSpec *s = c->params; s->name; s++) {
    if (!s->check)
      continue;
    g_autoptr(JsonNode) zero = json_from_string("0", NULL);
    g_autoptr(JsonNode) ok = json_from_string("0.5", NULL);
    char *why = NULL;
    g_assert_false(s->check(s, zero, &why));
    g_assert_nonnull(strstr(why, s->name));
    g_free(why);
    g_assert_true(s->check(s, ok, &why));
    checked++;
  }
  g_assert_cmpuint(checked, ==, 2);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tuner-tpe/determinism", test_determinism);
  g_test_add_func("/tuner-tpe/inside-space", test_inside_space);
  g_test_add_func("/tuner-tpe/resume", test_resume);
  g_test_add_func("/tuner-tpe/failed-trials", test_failed_trials);
  g_test_add_func("/tuner-tpe/constant-liar", test_constant_liar);
  g_test_add_func("/tuner-tpe/liar-tiny-space", test_liar_tiny_space);
  g_test_add_func("/tuner-tpe/branin", test_branin);
  g_test_add_func("/tuner-tpe/two-objectives", test_two_objectives);
  g_test_add_func("/tuner-tpe/bad-params", test_bad_params);
  return g_test_run();
}
