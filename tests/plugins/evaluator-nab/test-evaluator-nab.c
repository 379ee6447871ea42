/* evaluator/nab: NAB's scoring pinned by hand-computed cases (a detection at
 * the left edge of a window, one just after it, a false positive before any
 * window, a missed window, the earliest detection, probation), the profile
 * weights, the normalisation, the threshold sweep, leave-one-file-out and
 * the nested choice of a score column on tiny examples whose best thresholds
 * are known, the time parser, and the
 * component's errors; and model/iforest on the five NAB files end to end.
 *
 * Most cases use one file of 200 rows: probation = min(floor(0.15 * 200),
 * 750) = 30 rows (0..29), and one window on rows 100..119 (width W = 20).
 * sigma(x) = 2/(1+e^(5x)) - 1; sigma(-1) = 2/(1+e^-5) - 1 = 0.98661430. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nab-internal.h"
#include "test-util.h"

#define N 200

static const LatheNabProfile *standard(void) { return lathe_nab_profile("standard"); }

/* Scores @rows of the 200-row file (window 100..119) detected alone. */
static LatheNabResult score_detections(const LatheNabProfile *p, const guint *det, guint n_det) {
  static double score[N];
  for (guint i = 0; i < N; i++)
    score[i] = 0.0;
  for (guint k = 0; k < n_det; k++)
    score[det[k]] = 1.0;
  static const guint left[] = {100}, right[] = {119};
  LatheNabFile f = {.n = N, .score = score, .n_windows = 1, .win_left = left,
                    .win_right = right, .n_labelled = 1};
  LatheNabRows rows;
  lathe_nab_rows_init(&rows, &f, p, 0.15);
  LatheNabResult r = lathe_nab_score_at(&rows, p, 0.5);
  lathe_nab_rows_clear(&rows);
  return r;
}

#define EPS 1e-7

static void test_time(void) {
  double t;
  g_assert_true(lathe_nab_parse_time("1970-01-01 00:00:00", &t));
  g_assert_cmpfloat(t, ==, 0.0);
  /* 2014-07-01: 16252 days after 1970-01-01 (44 years, 11 leap days:
   * 44*365 + 11 = 16071, + 181 days Jan..Jun 2014 = 16252); 16252*86400 */
  g_assert_true(lathe_nab_parse_time("2014-07-01 00:00:00", &t));
  g_assert_cmpfloat(t, ==, 1404172800.0);
  g_assert_true(lathe_nab_parse_time("2013-12-15 07:00:00.000000", &t));
  g_assert_cmpfloat(t, ==, 1387090800.0);
  /* a leap day, and a fraction */
  g_assert_true(lathe_nab_parse_time("2000-02-29 12:34:56.5", &t));
  g_assert_cmpfloat(t, ==, 951827696.5);
  g_assert_false(lathe_nab_parse_time("2014-13-01 00:00:00", &t));
  g_assert_false(lathe_nab_parse_time("2014-02-29 00:00:00", &t));
  g_assert_false(lathe_nab_parse_time("2014-02-01 24:00:00", &t));
  g_assert_false(lathe_nab_parse_time("2014-02-01 00:00:00Z", &t));
  g_assert_false(lathe_nab_parse_time("2014-02-01 00:00:00.", &t));
  g_assert_false(lathe_nab_parse_time("2014-02-01", &t));
  g_assert_false(lathe_nab_parse_time("yesterday at noon", &t));
}

static void test_sigmoid_probation(void) {
  g_assert_cmpfloat_with_epsilon(lathe_nab_scaled_sigmoid(0.0), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(lathe_nab_scaled_sigmoid(-1.0), 0.98661430, 1e-8);
  g_assert_cmpfloat_with_epsilon(lathe_nab_scaled_sigmoid(1.0), -0.98661430, 1e-8);
  g_assert_cmpfloat(lathe_nab_scaled_sigmoid(3.0), ==, -1.0);
  g_assert_cmpfloat(lathe_nab_probation(200, 0.15), ==, 30.0);
  /* ec2_request_latency: floor(0.15 * 4032) = floor(604.8) = 604 */
  g_assert_cmpfloat(lathe_nab_probation(4032, 0.15), ==, 604.0);
  /* capped at 0.15 * 5000 = 750 */
  g_assert_cmpfloat(lathe_nab_probation(22695, 0.15), ==, 750.0);
}

static void test_hand_cases(void) {
  const LatheNabProfile *p = standard();
  /* Left edge, row 100: x = -(119 - 100 + 1)/20 = -1, weight = A_TP *
   * sigma(-1)/sigma(-1) = 1. */
  guint d1[] = {100};
  LatheNabResult r = score_detections(p, d1, 1);
  g_assert_cmpfloat_with_epsilon(r.score, 1.0, EPS);
  g_assert_cmpuint(r.tp, ==, 1);
  g_assert_cmpuint(r.fn, ==, 0);
  g_assert_cmpuint(r.fp, ==, 0);

  /* One row later, row 101: x = -(119 - 101 + 1)/20 = -0.95,
   * sigma(-0.95) = 2/(1 + e^-4.75) - 1 = 2/1.00865170 - 1 = 0.98284503,
   * weight = 0.98284503 / 0.98661430 = 0.99617959. */
  guint d2[] = {101};
  r = score_detections(p, d2, 1);
  g_assert_cmpfloat_with_epsilon(r.score, 0.99617959, EPS);

  /* Just after the window, row 120: the window is missed (-A_FN = -1) and the
   * false positive sits at x = |120 - 119| / (20 - 1) = 1/19:
   * sigma(1/19) = 2/(1 + e^(5/19)) - 1 = 2/2.30103213 - 1 = -0.13082483,
   * times A_FP 0.11 = -0.01439073; total -1.01439073. */
  guint d3[] = {120};
  r = score_detections(p, d3, 1);
  g_assert_cmpfloat_with_epsilon(r.score, -1.01439073, EPS);
  g_assert_cmpuint(r.fp, ==, 1);
  g_assert_cmpuint(r.fn, ==, 1);
  g_assert_cmpuint(r.tp, ==, 0);

  /* A false positive before any window, row 50: -A_FP = -0.11, plus the
   * missed window -1: -1.11. */
  guint d4[] = {50};
  r = score_detections(p, d4, 1);
  g_assert_cmpfloat_with_epsilon(r.score, -1.11, EPS);

  /* A missed window, nothing detected: -A_FN = -1. */
  r = score_detections(p, NULL, 0);
  g_assert_cmpfloat_with_epsilon(r.score, -1.0, EPS);
  g_assert_cmpuint(r.fn, ==, 1);

  /* Only the earliest detection of a window counts: rows 101 and 110 give
   * row 101's 0.99617959, and rows 100, 101 give 1. */
  guint d5[] = {110, 101};
  r = score_detections(p, d5, 2);
  g_assert_cmpfloat_with_epsilon(r.score, 0.99617959, EPS);
  g_assert_cmpuint(r.tp, ==, 1);
  guint d6[] = {100, 101, 105};
  r = score_detections(p, d6, 3);
  g_assert_cmpfloat_with_epsilon(r.score, 1.0, EPS);

  /* A detection in the probation period (row 10 < 30) is not scored: -1. */
  guint d7[] = {10};
  r = score_detections(p, d7, 1);
  g_assert_cmpfloat_with_epsilon(r.score, -1.0, EPS);
  g_assert_cmpuint(r.fp, ==, 0);

  /* Far after the window, row 180: x = 61/19 = 3.21 >= 3, sigma = -1:
   * -0.11, plus the missed window: -1.11. */
  guint d8[] = {180};
  r = score_detections(p, d8, 1);
  g_assert_cmpfloat_with_epsilon(r.score, -1.11, EPS);

  /* Left edge plus the false positive before: 1 - 0.11 = 0.89. */
  guint d9[] = {50, 100};
  r = score_detections(p, d9, 2);
  g_assert_cmpfloat_with_epsilon(r.score, 0.89, EPS);
}

static void test_profiles(void) {
  const LatheNabProfile *low_fp = lathe_nab_profile("reward_low_FP");
  const LatheNabProfile *low_fn = lathe_nab_profile("reward_low_FN");
  g_assert_nonnull(low_fp);
  g_assert_nonnull(low_fn);
  g_assert_null(lathe_nab_profile("relaxed"));
  guint fp_before[] = {50};
  /* reward_low_FP: -0.22 - 1 = -1.22; reward_low_FN: -0.11 - 2 = -2.11 */
  g_assert_cmpfloat_with_epsilon(score_detections(low_fp, fp_before, 1).score, -1.22, EPS);
  g_assert_cmpfloat_with_epsilon(score_detections(low_fn, fp_before, 1).score, -2.11, EPS);
  /* after the window, reward_low_FP: -1 + 0.22 * -0.13082483 = -1.02878146 */
  guint after[] = {120};
  g_assert_cmpfloat_with_epsilon(score_detections(low_fp, after, 1).score, -1.02878146, EPS);
  /* the left edge is worth A_TP = 1 in every profile */
  guint edge[] = {100};
  g_assert_cmpfloat_with_epsilon(score_detections(low_fn, edge, 1).score, 1.0, EPS);
}

/* Ten false positives (rows 40..49) score 0.95, the window's left edge 0.9,
 * everything else 0.1. Candidate thresholds and summed scores, standard:
 *   1.1 (none)  -1                       (window missed)
 *   0.95        -1 - 10 * 0.11 = -2.1
 *   0.9         1 - 1.1 = -0.1           <- best
 *   0.1         every row: far below (70 FP rows before the window alone
 *               cost 7.7)
 * reward_low_FP: 0.9 gives 1 - 2.2 = -1.2 < -1, so "none" (1.1) wins.
 * reward_low_FN: 0.9 gives -0.1 > -2 (none), so 0.9. */
static void test_sweep(void) {
  double score[N];
  for (guint i = 0; i < N; i++)
    score[i] = 0.1;
  for (guint i = 40; i < 50; i++)
    score[i] = 0.95;
  score[100] = 0.9;
  static const guint left[] = {100}, right[] = {119};
  LatheNabFile f = {.n = N, .score = score, .n_windows = 1, .win_left = left,
                    .win_right = right, .n_labelled = 1};
  struct {
    const char *profile;
    double threshold, score;
  } want[] = {{"standard", 0.9, -0.1}, {"reward_low_FP", 1.1, -1.0}, {"reward_low_FN", 0.9, -0.1}};
  for (guint k = 0; k < G_N_ELEMENTS(want); k++) {
    const LatheNabProfile *p = lathe_nab_profile(want[k].profile);
    LatheNabRows rows;
    lathe_nab_rows_init(&rows, &f, p, 0.15);
    double best;
    double th = lathe_nab_best_threshold(&rows, 1, -1, p, &best);
    g_assert_cmpfloat(th, ==, want[k].threshold);
    g_assert_cmpfloat_with_epsilon(best, want[k].score, EPS);
    /* scoring at the chosen threshold gives the sweep's score */
    g_assert_cmpfloat_with_epsilon(lathe_nab_score_at(&rows, p, th).score, want[k].score, EPS);
    lathe_nab_rows_clear(&rows);
  }
}

/* ---- through the component -------------------------------------------------- */

static const LatheEvaluatorClass *nab(void) {
  return (const LatheEvaluatorClass *)lathe_test_component("evaluator-nab", "evaluator/nab");
}

/* Row i of every file is at 60 i seconds after the epoch, so row 100 is
 * 01:40:00 and row 119 is 01:59:00: the window below. */
static const char *windows_json =
    "{\"a.csv\": [[\"1970-01-01 01:40:00.000000\", \"1970-01-01 01:59:00.000000\"]],"
    " \"b.csv\": [[\"1970-01-01 01:40:00.000000\", \"1970-01-01 01:59:00.000000\"]]}";

static char *write_windows(const char *text) {
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp("nab-windows-XXXXXX.json", &path, &error);
  g_assert_no_error(error);
  close(fd);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

/* Files "a.csv" (and "b.csv" when @score_b) of 200 rows each. */
static LatheDataset *make_scores(const double *score_a, const double *score_b) {
  guint files = score_b ? 2 : 1;
  LatheDataset *ds = lathe_dataset_new(N * files, 2);
  lathe_dataset_set_column(ds, 0, "t");
  lathe_dataset_set_column(ds, 1, "pred_0");
  const char *names[] = {"a.csv", "b.csv", NULL};
  if (!score_b)
    names[1] = NULL;
  lathe_dataset_set_groups(ds, names);
  for (guint k = 0; k < files; k++)
    for (guint i = 0; i < N; i++) {
      guint r = k * N + i;
      ds->x[r * 2] = (float)(60 * i);
      ds->x[r * 2 + 1] = (float)(k ? score_b[i] : score_a[i]);
      ds->groups[r] = (gint32)k;
    }
  return ds;
}

/* Runs the evaluator on @ds (transfer full); returns its metrics JSON or NULL
 * with @error. */
static JsonObject *run_nab(LatheDataset *ds, const char *extra_params, const char *windows,
                           LatheContext **ctx_out, GError **error) {
  g_autofree char *wpath = write_windows(windows ? windows : windows_json);
  g_autofree char *params = g_strdup_printf(
      "{\"windows\": \"%s\", \"days_column\": \"\", \"seconds_column\": \"t\"%s%s}", wpath,
      extra_params ? ", " : "", extra_params ? extra_params : "");
  LatheContext *ctx = lathe_test_context(LATHE_COMPONENT(*nab()), "score", params, 0);
  g_autoptr(LatheArtifact) input = lathe_artifact_new_dataset(ds); /* takes @ds */
  lathe_context_set_input(ctx, "scores", input);
  gboolean ok = nab()->run(ctx, error);
  g_unlink(wpath);
  JsonObject *m = NULL;
  if (ok) {
    LatheArtifact *art = lathe_context_get_output(ctx, "metrics");
    g_assert_nonnull(art);
    m = json_object_ref(lathe_artifact_get_metrics(art, NULL));
  }
  *ctx_out = ctx;
  return m;
}

static JsonObject *profile_of(JsonObject *m, const char *name) {
  return json_object_get_object_member(json_object_get_object_member(m, "profiles"), name);
}

/* One file; null = -1: detecting every row costs far more (70 false
 * positives before the window alone: -7.7), perfect = 1 window x A_TP = 1.
 *   left edge only        S = 1     -> 100 * (1 + 1) / (1 + 1) = 100
 *   nothing               S = -1    -> 0
 *   FP before + left edge S = 0.89  -> 100 * 1.89 / 2 = 94.5 */
static void test_normalisation(void) {
  struct {
    guint det[2];
    guint n;
    double normalized;
  } cases[] = {{{100}, 1, 100.0}, {{0}, 0, 0.0}, {{50, 100}, 2, 94.5}};
  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    double s[N] = {0};
    for (guint k = 0; k < cases[c].n; k++)
      s[cases[c].det[k]] = 1.0;
    /* threshold from the one file itself (global): detections score 1, the
     * rest 0; detecting only them is the best choice in all three cases */
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m =
        run_nab(make_scores(s, NULL), "\"profiles\": [\"standard\"]", NULL, &ctx, &error);
    g_assert_no_error(error);
    JsonObject *st = profile_of(m, "standard");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "null"), -1.0, EPS);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "perfect"), 1.0, EPS);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "normalized"),
                                   cases[c].normalized, 1e-5);
    JsonObject *metrics = lathe_context_get_metrics(ctx);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(metrics, "standard"),
                                   cases[c].normalized, 1e-5);
    g_assert_false(json_object_has_member(metrics, "reward_low_FP"));
    lathe_context_free(ctx);
  }
}

/* Two files. a: the window's left edge scores 0.9, the rest 0.1. b: the left
 * edge scores 0.5, a false positive (row 50) 0.9, the rest 0.1.
 * Global (standard), summed over both files:
 *   1.1  -2;  0.9  a 1 + b (-0.11 - 1) = -0.11;  0.5  1 + (1 - 0.11) = 1.89 <- best
 * Leave one out:
 *   a's threshold from b alone: 0.9 -> -1.11, 0.5 -> 0.89, 1.1 -> -1: 0.5,
 *     so a scores 1;
 *   b's threshold from a alone: 0.9 -> 1 (0.1 detects every row of a, far
 *     worse): 0.9, so b scores -0.11 - 1 = -1.11;
 *   sum 1 - 1.11 = -0.11. */
static void test_leave_one_out(void) {
  double a[N], b[N];
  for (guint i = 0; i < N; i++)
    a[i] = b[i] = 0.1;
  a[100] = 0.9;
  b[100] = 0.5;
  b[50] = 0.9;
  const char *modes[] = {"global", "leave_one_out"};
  const double totals[] = {1.89, -0.11};
  for (guint k = 0; k < 2; k++) {
    g_autofree char *extra =
        g_strdup_printf("\"profiles\": [\"standard\"], \"threshold_mode\": \"%s\"", modes[k]);
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m = run_nab(make_scores(a, b), extra, NULL, &ctx, &error);
    g_assert_no_error(error);
    JsonObject *st = profile_of(m, "standard");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "score"), totals[k], EPS);
    JsonObject *files = json_object_get_object_member(st, "files");
    JsonObject *fa = json_object_get_object_member(files, "a.csv");
    JsonObject *fb = json_object_get_object_member(files, "b.csv");
    if (k == 0) {
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "threshold"), 0.5, 1e-6);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fa, "score"), 1.0, EPS);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "score"), 0.89, EPS);
    } else {
      g_assert_false(json_object_has_member(st, "threshold"));
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fa, "threshold"), 0.5, 1e-6);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "threshold"), 0.9, 1e-6);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "score"), -1.11, EPS);
      g_assert_cmpint(json_object_get_int_member(fb, "fp"), ==, 1);
      g_assert_cmpint(json_object_get_int_member(fb, "fn"), ==, 1);
    }
    /* summed normalisation: null -2, perfect 2 */
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "normalized"),
                                   100.0 * (totals[k] + 2.0) / 4.0, 1e-5);
    lathe_context_free(ctx);
  }
}

/* Files a.csv and b.csv with two candidate columns, "p" and "q". */
static LatheDataset *make_candidates(const double *ap, const double *aq, const double *bp,
                                     const double *bq) {
  LatheDataset *ds = lathe_dataset_new(2 * N, 3);
  lathe_dataset_set_column(ds, 0, "t");
  lathe_dataset_set_column(ds, 1, "p");
  lathe_dataset_set_column(ds, 2, "q");
  const char *names[] = {"a.csv", "b.csv", NULL};
  lathe_dataset_set_groups(ds, names);
  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < N; i++) {
      guint r = k * N + i;
      ds->x[r * 3] = (float)(60 * i);
      ds->x[r * 3 + 1] = (float)(k ? bp[i] : ap[i]);
      ds->x[r * 3 + 2] = (float)(k ? bq[i] : aq[i]);
      ds->groups[r] = (gint32)k;
    }
  return ds;
}

/* Nested selection: the column is chosen with the threshold, on the other
 * file. Everything 0.1 except (standard profile):
 *   a.p: FP row 50 = 0.95, left edge row 100 = 0.9  own best 0.9: -0.11 + 1 = 0.89
 *   a.q: left edge 0.9                              own best 0.9: 1
 *   b.p: left edge 0.9                              own best 0.9: 1
 *   b.q: FPs rows 50, 60 = 0.9, left edge 0.5       own best 0.5: -0.22 + 1 = 0.78
 * leave_one_out:
 *   a: on b, p (1) beats q (0.78): p at 0.9, so a scores 0.89, though a's
 *      own labels would prefer q (1);
 *   b: on a, q (1) beats p (0.89): q at 0.9: two FPs and the window missed,
 *      -0.22 - 1 = -1.22;  total -0.33.
 * global: p at 0.9 sums 1.89, q's best (0.5) 1 + 0.78 = 1.78: p, 1.89.
 * Each alone, leave_one_out: p: a 0.89 (0.9 from b) + b 1 (0.9 from a) = 1.89;
 *   q: a at 0.5 (from b) 1, b at 0.9 (from a) -1.22: -0.22. */
static void test_nested(void) {
  double ap[N], aq[N], bp[N], bq[N];
  for (guint i = 0; i < N; i++)
    ap[i] = aq[i] = bp[i] = bq[i] = 0.1;
  ap[50] = 0.95;
  ap[100] = aq[100] = bp[100] = 0.9;
  bq[50] = bq[60] = 0.9;
  bq[100] = 0.5;
  const char *modes[] = {"leave_one_out", "global"};
  for (guint k = 0; k < 2; k++) {
    g_autofree char *extra = g_strdup_printf(
        "\"profiles\": [\"standard\"], \"score_columns\": [\"p\", \"q\"], "
        "\"threshold_mode\": \"%s\"", modes[k]);
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m = run_nab(make_candidates(ap, aq, bp, bq), extra, NULL, &ctx, &error);
    g_assert_no_error(error);
    JsonObject *st = profile_of(m, "standard");
    JsonObject *files = json_object_get_object_member(st, "files");
    JsonObject *fa = json_object_get_object_member(files, "a.csv");
    JsonObject *fb = json_object_get_object_member(files, "b.csv");
    JsonObject *cand = json_object_get_object_member(st, "candidates");
    JsonObject *cp = json_object_get_object_member(cand, "p");
    JsonObject *cq = json_object_get_object_member(cand, "q");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fa, "threshold"), 0.9, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "threshold"), 0.9, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fa, "score"), 0.89, EPS);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(cp, "score"), 1.89, EPS);
    if (k == 0) {
      g_assert_cmpstr(json_object_get_string_member(fa, "column"), ==, "p");
      g_assert_cmpstr(json_object_get_string_member(fb, "column"), ==, "q");
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "score"), -1.22, EPS);
      g_assert_cmpint(json_object_get_int_member(fb, "fp"), ==, 2);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "score"), -0.33, EPS);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(cq, "score"), -0.22, EPS);
      /* the metric per candidate: normalised with null -2, perfect 2 */
      JsonObject *metrics = lathe_context_get_metrics(ctx);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(metrics, "standard_q"),
                                     100.0 * (-0.22 + 2.0) / 4.0, 1e-5);
    } else {
      g_assert_cmpstr(json_object_get_string_member(st, "column"), ==, "p");
      g_assert_cmpstr(json_object_get_string_member(fb, "column"), ==, "p");
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "score"), 1.0, EPS);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "score"), 1.89, EPS);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(cq, "score"), 1.78, EPS);
    }
    lathe_context_free(ctx);
  }
  /* Ties go to the first listed column: with both a.p and a.q perfect, b
   * (chosen on a) takes whichever is listed first. */
  ap[50] = 0.1;
  const char *orders[] = {"[\"p\", \"q\"]", "[\"q\", \"p\"]"};
  const double b_score[] = {1.0, -1.22};
  for (guint k = 0; k < 2; k++) {
    g_autofree char *extra = g_strdup_printf(
        "\"profiles\": [\"standard\"], \"score_columns\": %s, "
        "\"threshold_mode\": \"leave_one_out\"", orders[k]);
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m = run_nab(make_candidates(ap, aq, bp, bq), extra, NULL, &ctx, &error);
    g_assert_no_error(error);
    JsonObject *fb = json_object_get_object_member(
        json_object_get_object_member(profile_of(m, "standard"), "files"), "b.csv");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(fb, "score"), b_score[k], EPS);
    lathe_context_free(ctx);
  }
}

static void expect_error(LatheDataset *ds, const char *extra, const char *windows,
                         const char *needle) {
  LatheContext *ctx = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *m = run_nab(ds, extra, windows, &ctx, &error);
  g_assert_null(m);
  g_assert_nonnull(error);
  if (!strstr(error->message, needle) || !strstr(error->message, "node score"))
    g_error("message '%s' lacks '%s' or the node", error->message, needle);
  g_assert_null(strchr(error->message, '\n'));
  lathe_context_free(ctx);
}

static void test_errors(void) {
  double s[N] = {0};
  LatheDataset *ds = make_scores(s, NULL);
  /* row 7 jumps ahead, then time runs backwards: 192 of 200 steps go back */
  for (guint i = 0; i < N; i++)
    ds->x[2 * i] = (float)(i < 7 ? 60 * i : 60 * (N - i));
  expect_error(ds, NULL, NULL, "file 'a.csv', step 8: the timestamps are not increasing (192 of 200");
  expect_error(make_scores(s, NULL), NULL,
               "{\"a.csv\": [[\"1970-01-01 01:40:00\", \"1970-01-01 01:59:00\"],"
               " [\"1970-01-01 01:50:00\", \"1970-01-01 02:10:00\"]]}",
               "overlaps or precedes");
  expect_error(make_scores(s, NULL), NULL, "{\"other.csv\": []}", "no windows for file 'a.csv'");
  expect_error(make_scores(s, NULL), "\"profiles\": [\"relaxed\"]", NULL, "unknown profile");
  expect_error(make_scores(s, NULL), "\"score_column\": \"anomaly\"", NULL, "no column 'anomaly'");
  expect_error(make_scores(s, NULL), "\"score_columns\": [\"pred_0\", \"b_0\"]", NULL,
               "no column 'b_0'");
  expect_error(make_scores(s, NULL), "\"score_columns\": [\"pred_0\", \"pred_0\"]", NULL,
               "lists 'pred_0' twice");
  expect_error(make_scores(s, NULL), NULL, "{\"a.csv\": [[\"1970-01-01\", \"x\"]]}",
               "window 1 of 'a.csv'");
  expect_error(make_scores(s, NULL), NULL, "[1, 2]", "expected an object");
  LatheDataset *plain = lathe_dataset_new(N, 2);
  lathe_dataset_set_column(plain, 0, "t");
  lathe_dataset_set_column(plain, 1, "pred_0");
  expect_error(plain, NULL, NULL, "no groups");
}

/* NAB's own files repeat a time (ec2_request_latency_system_failure.csv, 12
 * rows at 03:00:00) or go back once (machine_temperature_system_failure.csv):
 * accepted, rows scored in file order, and an edge at a repeated time is its
 * first row, as NAB's timestamps.index(). Here rows 95..104 all carry the
 * time of row 100 (01:40:00), so the window 01:40..01:59 starts at row 95
 * (W = 25) and a detection at row 95 is its left edge: S = 1. Row 100 is then
 * at x = -(119 - 100 + 1)/25 = -0.8: sigma(-0.8) = 2/(1 + e^-4) - 1 =
 * 0.96402758, / 0.98661430 = 0.97710684. */
static void test_nab_time_quirks(void) {
  for (guint det = 95; det <= 100; det += 5) {
    double s[N] = {0};
    s[det] = 1.0;
    LatheDataset *ds = make_scores(s, NULL);
    for (guint i = 95; i < 105; i++)
      ds->x[2 * i] = 6000.0f;
    ds->x[2 * 150] = ds->x[2 * 149] - 600.0f; /* one step back in time */
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m = run_nab(ds, "\"profiles\": [\"standard\"]", NULL, &ctx, &error);
    g_assert_no_error(error);
    double want = det == 95 ? 1.0 : 0.97710684;
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(profile_of(m, "standard"), "score"),
                                   want, EPS);
    lathe_context_free(ctx);
  }
}

/* Without groups, param file names the one file. */
static void test_single_file(void) {
  LatheDataset *ds = lathe_dataset_new(N, 2);
  lathe_dataset_set_column(ds, 0, "t");
  lathe_dataset_set_column(ds, 1, "pred_0");
  for (guint i = 0; i < N; i++)
    ds->x[i * 2] = (float)(60 * i);
  ds->x[2 * 100 + 1] = 1.0f;
  LatheContext *ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) m = run_nab(ds, "\"file\": \"b.csv\"", NULL, &ctx, &error);
  g_assert_no_error(error);
  for (guint k = 0; k < 3; k++) {
    const char *names[] = {"standard", "reward_low_FP", "reward_low_FN"};
    JsonObject *p = profile_of(m, names[k]);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(p, "normalized"), 100.0, 1e-5);
    g_assert_cmpint(json_object_get_int_member(p, "tp"), ==, 1);
  }
  lathe_context_free(ctx);
}

/* What the report draws: each file's detection rows (as many as its tp and
 * fp), its series (pred_0 here: there is no "value" column) and its windows
 * as row and time ranges. File a: FPs at rows 50 and 150, the window's left
 * edge (row 100) detected; the threshold 1 is the best. */
static void test_artifact_pictures(void) {
  double s[N] = {0};
  s[50] = s[100] = s[150] = 1.0;
  LatheContext *ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) m =
      run_nab(make_scores(s, NULL), "\"profiles\": [\"standard\"]", NULL, &ctx, &error);
  g_assert_no_error(error);
  JsonObject *fa = json_object_get_object_member(
      json_object_get_object_member(profile_of(m, "standard"), "files"), "a.csv");
  g_assert_cmpint(json_object_get_int_member(fa, "tp"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(fa, "fp"), ==, 2);
  JsonObject *det = json_object_get_object_member(fa, "detections");
  JsonArray *tp = json_object_get_array_member(det, "tp"), *fp = json_object_get_array_member(det, "fp");
  g_assert_cmpuint(json_array_get_length(tp), ==, 1);
  g_assert_cmpint(json_array_get_int_element(tp, 0), ==, 100);
  g_assert_cmpuint(json_array_get_length(fp), ==, 2);
  g_assert_cmpint(json_array_get_int_element(fp, 0), ==, 50);
  g_assert_cmpint(json_array_get_int_element(fp, 1), ==, 150);
  g_assert_false(json_object_get_boolean_member(det, "truncated"));
  JsonObject *se = json_object_get_object_member(json_object_get_object_member(m, "series"), "a.csv");
  g_assert_cmpstr(json_object_get_string_member(se, "column"), ==, "pred_0");
  g_assert_cmpint(json_object_get_int_member(se, "rows"), ==, N);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(se, "row")), ==, N);
  g_assert_cmpfloat(json_array_get_double_element(json_object_get_array_member(se, "y"), 100), ==, 1.0);
  JsonArray *wins = json_object_get_array_member(se, "windows");
  g_assert_cmpuint(json_array_get_length(wins), ==, 1);
  JsonObject *w = json_array_get_object_element(wins, 0);
  g_assert_cmpint(json_array_get_int_element(json_object_get_array_member(w, "rows"), 0), ==, 100);
  g_assert_cmpint(json_array_get_int_element(json_object_get_array_member(w, "rows"), 1), ==, 119);
  g_assert_cmpfloat(json_array_get_double_element(json_object_get_array_member(w, "time"), 0), ==, 6000);
  g_assert_cmpfloat(json_array_get_double_element(json_object_get_array_member(w, "time"), 1), ==, 7140);
  lathe_context_free(ctx);

  /* A long file with a "value" column: at most 600 points, its one spike kept */
  const guint n = 20000;
  LatheDataset *ds = lathe_dataset_new(n, 3);
  lathe_dataset_set_column(ds, 0, "t");
  lathe_dataset_set_column(ds, 1, "pred_0");
  lathe_dataset_set_column(ds, 2, "value");
  for (guint i = 0; i < n; i++) {
    ds->x[i * 3] = (float)(60 * i);
    ds->x[i * 3 + 2] = (float)sin(i / 50.0);
  }
  ds->x[12345 * 3 + 2] = 9.0f;
  ctx = NULL;
  g_autoptr(JsonObject) m2 = run_nab(ds, "\"file\": \"b.csv\"", NULL, &ctx, &error);
  g_assert_no_error(error);
  se = json_object_get_object_member(json_object_get_object_member(m2, "series"), "b.csv");
  g_assert_cmpstr(json_object_get_string_member(se, "column"), ==, "value");
  g_assert_cmpint(json_object_get_int_member(se, "rows"), ==, n);
  JsonArray *rows = json_object_get_array_member(se, "row"), *ys = json_object_get_array_member(se, "y");
  g_assert_cmpuint(json_array_get_length(rows), <=, 600);
  g_assert_cmpuint(json_array_get_length(rows), >, 300);
  g_assert_cmpuint(json_array_get_length(ys), ==, json_array_get_length(rows));
  gboolean spike = FALSE;
  for (guint j = 0; j < json_array_get_length(rows); j++)
    spike |= json_array_get_int_element(rows, j) == 12345 && json_array_get_double_element(ys, j) == 9.0;
  g_assert_true(spike);
  lathe_context_free(ctx);
}

/* ---- the five NAB files, scored by model/iforest --------------------------- */

/* @rel's rows as [days, seconds, value, diff] with its times parsed here. */
static LatheDataset *read_nab(const char *nab_dir, const char *rel) {
  g_autofree char *path = g_build_filename(nab_dir, "data", rel, NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = 0;
  for (guint i = 1; lines[i]; i++)
    n += lines[i][0] != '\0';
  LatheDataset *ds = lathe_dataset_new(n, 4);
  float prev = 0;
  for (guint r = 0; r < n; r++) {
    g_auto(GStrv) f = g_strsplit(lines[r + 1], ",", 2);
    double t;
    g_assert_true(lathe_nab_parse_time(f[0], &t));
    float v = (float)g_ascii_strtod(f[1], NULL);
    ds->x[r * 4] = (float)floor(t / 86400);
    ds->x[r * 4 + 1] = (float)(t - 86400 * floor(t / 86400));
    ds->x[r * 4 + 2] = v;
    ds->x[r * 4 + 3] = r ? v - prev : 0.0f;
    prev = v;
  }
  return ds;
}

/* model/iforest (defaults, fit on each whole series, features value and
 * diff) on the five files, then NAB scores both ways. The window matching
 * must find all 15 windows (null -15 and perfect 15 for the standard profile,
 * as the published normalisation uses); the numbers are logged. */
static void test_nab_iforest(void) {
  g_autofree char *windows = lathe_test_shared_path("nab/labels/combined_windows.json");
  if (!windows) {
    g_test_skip("../shared/data/nab is absent; the NAB end-to-end check needs it");
    return;
  }
  g_autofree char *labels_dir = g_path_get_dirname(windows);
  g_autofree char *nab_dir = g_path_get_dirname(labels_dir);
  const char *files[] = {"realKnownCause/ambient_temperature_system_failure.csv",
                         "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
                         "realKnownCause/ec2_request_latency_system_failure.csv",
                         "realKnownCause/machine_temperature_system_failure.csv",
                         "realKnownCause/nyc_taxi.csv", NULL};
  const LatheModelClass *forest =
      (const LatheModelClass *)lathe_test_component("model-iforest", "model/iforest");
  GArray *rows = g_array_new(FALSE, FALSE, sizeof(float));
  GArray *groups = g_array_new(FALSE, FALSE, sizeof(gint32));
  for (guint k = 0; files[k]; k++) {
    g_autoptr(LatheDataset) ds = read_nab(nab_dir, files[k]);
    g_autoptr(LatheDataset) feats = lathe_dataset_new(ds->n_rows, 2);
    for (guint r = 0; r < ds->n_rows; r++) {
      feats->x[r * 2] = ds->x[r * 4 + 2];
      feats->x[r * 2 + 1] = ds->x[r * 4 + 3];
    }
    g_autoptr(LatheContext) fctx = lathe_test_context(LATHE_COMPONENT(*forest), "iforest", "{}", 0);
    lathe_context_set_threads(fctx, 2);
    g_autoptr(GError) error = NULL;
    gpointer m = forest->fit(fctx, feats, NULL, &error);
    g_assert_no_error(error);
    guint cols;
    g_autofree float *pred = forest->predict(m, feats, &cols, &error);
    g_assert_no_error(error);
    forest->free(m);
    for (guint r = 0; r < ds->n_rows; r++) {
      float row[3] = {ds->x[r * 4], ds->x[r * 4 + 1], pred[r * cols]};
      g_array_append_vals(rows, row, 3);
      gint32 g = (gint32)k;
      g_array_append_val(groups, g);
    }
  }
  const char *modes[] = {"global", "leave_one_out"};
  for (guint mode = 0; mode < 2; mode++) {
    LatheDataset *all = lathe_dataset_new(groups->len, 3);
    memcpy(all->x, rows->data, sizeof(float) * rows->len);
    lathe_dataset_set_column(all, 0, "timestamp_days");
    lathe_dataset_set_column(all, 1, "timestamp_sec");
    lathe_dataset_set_column(all, 2, "pred_0");
    lathe_dataset_set_groups(all, files);
    memcpy(all->groups, groups->data, sizeof(gint32) * groups->len);
    g_autofree char *params = g_strdup_printf(
        "{\"windows\": \"%s\", \"threshold_mode\": \"%s\"}", windows, modes[mode]);
    g_autoptr(LatheContext) ctx = lathe_test_context(LATHE_COMPONENT(*nab()), "nab", params, 0);
    g_autoptr(LatheArtifact) input = lathe_artifact_new_dataset(all);
    lathe_context_set_input(ctx, "scores", input);
    g_autoptr(GError) error = NULL;
    gboolean ok = nab()->run(ctx, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    JsonObject *m = lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"), NULL);
    const char *profiles[] = {"standard", "reward_low_FP", "reward_low_FN"};
    for (guint p = 0; p < 3; p++) {
      JsonObject *po = profile_of(m, profiles[p]);
      double fn_weight = p == 2 ? 2.0 : 1.0;
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(po, "perfect"), 15.0, EPS);
      g_assert_cmpfloat_with_epsilon(json_object_get_double_member(po, "null"), -15.0 * fn_weight,
                                     EPS);
      g_assert_cmpint(json_object_get_int_member(po, "tp") + json_object_get_int_member(po, "fn"),
                      ==, 15);
      g_test_message("%s %s: raw %.3f normalised %.2f (tp %d fp %d fn %d)", modes[mode],
                     profiles[p], json_object_get_double_member(po, "score"),
                     json_object_get_double_member(po, "normalized"),
                     (int)json_object_get_int_member(po, "tp"),
                     (int)json_object_get_int_member(po, "fp"),
                     (int)json_object_get_int_member(po, "fn"));
    }
  }
  g_array_unref(rows);
  g_array_unref(groups);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/evaluator-nab/time", test_time);
  g_test_add_func("/evaluator-nab/sigmoid-probation", test_sigmoid_probation);
  g_test_add_func("/evaluator-nab/hand-cases", test_hand_cases);
  g_test_add_func("/evaluator-nab/profiles", test_profiles);
  g_test_add_func("/evaluator-nab/sweep", test_sweep);
  g_test_add_func("/evaluator-nab/normalisation", test_normalisation);
  g_test_add_func("/evaluator-nab/leave-one-out", test_leave_one_out);
  g_test_add_func("/evaluator-nab/nested", test_nested);
  g_test_add_func("/evaluator-nab/errors", test_errors);
  g_test_add_func("/evaluator-nab/single-file", test_single_file);
  g_test_add_func("/evaluator-nab/nab-time-quirks", test_nab_time_quirks);
  g_test_add_func("/evaluator-nab/artifact-pictures", test_artifact_pictures);
  g_test_add_func("/evaluator-nab/nab-iforest", test_nab_iforest);
  return g_test_run();
}
