/* evaluator/nab's alarm suppression (refractory_fractions): hand-computed
 * cases of the detector that stays silent for R rows after an alarm; the
 * traced score curves and their threshold choice checked against brute force
 * (every threshold scored from scratch) on random files with ties; R = 0
 * against NAB's own sweep; and the component's choice of the fraction, its
 * per-file report and its errors.
 *
 * The hand cases use one file of 200 rows: probation = 30 rows (0..29), one
 * window on rows 100..119 (W = 20); a left-edge detection scores A_TP = 1
 * and a detection before any window -A_FP = -0.11 (standard profile). */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nab-internal.h"
#include "test-util.h"

#define N 200
#define EPS 1e-7

static const guint left1[] = {100}, right1[] = {119};

static LatheNabResult score_alarms(const guint *det, guint n_det, guint refractory) {
  static double score[N];
  for (guint i = 0; i < N; i++)
    score[i] = 0.0;
  for (guint k = 0; k < n_det; k++)
    score[det[k]] = 1.0;
  const LatheNabProfile *p = lathe_nab_profile("standard");
  LatheNabFile f = {.n = N, .score = score, .n_windows = 1, .win_left = left1,
                    .win_right = right1, .n_labelled = 1};
  LatheNabRows rows;
  lathe_nab_rows_init(&rows, &f, p, 0.15);
  LatheNabResult r = lathe_nab_score_refractory(&rows, p, 0.5, refractory);
  lathe_nab_rows_clear(&rows);
  return r;
}

static void test_hand_cases(void) {
  /* three detections before the window: R = 0 pays three false positives,
   * R = 5 silences 52 and 55 (rows 51..55 after the alarm at 50) */
  const guint burst[] = {50, 52, 55};
  LatheNabResult r = score_alarms(burst, 3, 0);
  g_assert_cmpfloat_with_epsilon(r.score, -0.33 - 1.0, EPS);
  g_assert_cmpuint(r.fp, ==, 3);
  r = score_alarms(burst, 3, 5);
  g_assert_cmpfloat_with_epsilon(r.score, -0.11 - 1.0, EPS);
  g_assert_cmpuint(r.fp, ==, 1);
  g_assert_cmpuint(r.fn, ==, 1);
  /* R = 4: row 55 is the first row after the silent 51..54, so it fires */
  r = score_alarms(burst, 3, 4);
  g_assert_cmpuint(r.fp, ==, 2);
  /* an alarm at 98 silences the left edge at 100 with R = 5 (the window is
   * missed), not with R = 1 */
  const guint edge[] = {98, 100};
  r = score_alarms(edge, 2, 5);
  g_assert_cmpfloat_with_epsilon(r.score, -0.11 - 1.0, EPS);
  g_assert_cmpuint(r.tp, ==, 0);
  r = score_alarms(edge, 2, 1);
  g_assert_cmpfloat_with_epsilon(r.score, -0.11 + 1.0, EPS);
  g_assert_cmpuint(r.tp, ==, 1);
  /* an alarm in the probation period is not scored but still silences the
   * rows after it: 28 (unscored) silences 31 */
  const guint prob[] = {28, 31};
  r = score_alarms(prob, 2, 5);
  g_assert_cmpfloat_with_epsilon(r.score, -1.0, EPS);
  g_assert_cmpuint(r.fp, ==, 0);
  r = score_alarms(prob, 2, 0);
  g_assert_cmpuint(r.fp, ==, 1);
  /* a chain: 50 fires, 53 is silent (R = 5), 56 fires (after 51..55),
   * so the silenced rows depend on the alarms, not on the detections */
  const guint chain[] = {50, 53, 56};
  r = score_alarms(chain, 3, 5);
  g_assert_cmpuint(r.fp, ==, 2);
  g_assert_cmpuint(lathe_nab_refractory_rows(4032, 0.01), ==, 40);
  g_assert_cmpuint(lathe_nab_refractory_rows(4032, 0.0), ==, 0);
  g_assert_cmpuint(lathe_nab_refractory_rows(10, 0.99), ==, 9);
}

/* Random files: scores on a coarse grid (many ties), two or three windows,
 * the first sometimes inside the probation period. */
typedef struct {
  LatheNabFile f;
  double *score;
  guint left[3], right[3];
  LatheNabRows rows;
} RandFile;

static void rand_file(RandFile *rf, GRand *rng, const LatheNabProfile *p) {
  const guint n = (guint)g_rand_int_range(rng, 60, 400);
  rf->score = g_new(double, n);
  for (guint i = 0; i < n; i++)
    rf->score[i] = g_rand_int_range(rng, 0, 25) / 24.0;
  guint nw = (guint)g_rand_int_range(rng, 1, 4), at = (guint)g_rand_int_range(rng, 0, 20);
  guint k = 0;
  for (; k < nw && at + 10 < n; k++) {
    rf->left[k] = at;
    rf->right[k] = at + (guint)g_rand_int_range(rng, 0, 10);
    at = rf->right[k] + (guint)g_rand_int_range(rng, 2, 120);
  }
  rf->f = (LatheNabFile){.n = n, .score = rf->score, .n_windows = k, .win_left = rf->left,
                         .win_right = rf->right, .n_labelled = k};
  lathe_nab_rows_init(&rf->rows, &rf->f, p, 0.15);
}

/* Every threshold that can matter: the file's distinct scores and "none". */
static double brute_best(RandFile *files, guint nf, gint skip, const LatheNabProfile *p,
                         guint *refractory, double no_det, double *best_th) {
  double best = -INFINITY;
  /* candidate thresholds in decreasing order, so the first best is the
   * highest, as the sweep keeps it */
  for (gint g = 25; g >= 0; g--) {
    double th = g == 25 ? no_det : g / 24.0;
    double s = 0.0;
    for (guint k = 0; k < nf; k++)
      if ((gint)k != skip)
        s += lathe_nab_score_refractory(&files[k].rows, p, th, refractory[k]).score;
    if (s > best + 1e-9) {
      best = s;
      *best_th = th;
    }
  }
  return best;
}

static void test_curves_brute_force(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(42);
  const char *profiles[] = {"standard", "reward_low_FP", "reward_low_FN"};
  for (guint trial = 0; trial < 60; trial++) {
    const LatheNabProfile *p = lathe_nab_profile(profiles[trial % 3]);
    const guint nf = 3;
    RandFile files[3];
    LatheNabCurve curves[3];
    guint refr[3];
    LatheNabRows rows[3];
    const guint r_choice[] = {0, 1, 3, 17, 70};
    for (guint k = 0; k < nf; k++) {
      rand_file(&files[k], rng, p);
      rows[k] = files[k].rows;
      refr[k] = r_choice[(trial + k) % G_N_ELEMENTS(r_choice)];
      lathe_nab_curve_init(&curves[k], &files[k].rows, p, refr[k]);
      /* the curve holds the score at every one of its thresholds */
      g_assert_cmpfloat_with_epsilon(
          curves[k].start,
          lathe_nab_score_refractory(&files[k].rows, p, 2.0, refr[k]).score, 1e-9);
      for (gsize j = 0; j < curves[k].n; j++) {
        if (j > 0)
          g_assert_cmpfloat(curves[k].threshold[j], <, curves[k].threshold[j - 1]);
        double want = lathe_nab_score_refractory(&files[k].rows, p, curves[k].threshold[j],
                                                 refr[k]).score;
        g_assert_cmpfloat_with_epsilon(curves[k].value[j], want, 1e-9);
      }
    }
    double no_det = lathe_nab_no_detection(rows, nf);
    for (gint skip = -1; skip < (gint)nf; skip++) {
      double s, want_th = NAN;
      double th = lathe_nab_curve_best(curves, nf, skip, no_det, &s);
      double want = brute_best(files, nf, skip, p, refr, no_det, &want_th);
      g_assert_cmpfloat_with_epsilon(s, want, 1e-9);
      g_assert_cmpfloat(th, ==, want_th);
      /* with no silence it is NAB's sweep */
      gboolean all_zero = refr[0] == 0 && refr[1] == 0 && refr[2] == 0;
      if (all_zero) {
        double s0;
        double th0 = lathe_nab_best_threshold(rows, nf, skip, p, &s0);
        g_assert_cmpfloat_with_epsilon(s0, s, 1e-9);
        g_assert_cmpfloat(th0, ==, th);
      }
    }
    for (guint k = 0; k < nf; k++) {
      lathe_nab_curve_clear(&curves[k]);
      lathe_nab_rows_clear(&files[k].rows);
      g_free(files[k].score);
    }
  }
}

/* R = 0 for every file in the curves must give NAB's sweep exactly, also on
 * continuous scores (no ties). */
static void test_zero_is_nab(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(7);
  const LatheNabProfile *p = lathe_nab_profile("standard");
  for (guint trial = 0; trial < 20; trial++) {
    RandFile files[2];
    LatheNabCurve curves[2];
    LatheNabRows rows[2];
    for (guint k = 0; k < 2; k++) {
      rand_file(&files[k], rng, p);
      for (guint i = 0; i < files[k].f.n; i++)
        files[k].score[i] = g_rand_double(rng);
      rows[k] = files[k].rows;
      lathe_nab_curve_init(&curves[k], &files[k].rows, p, 0);
    }
    double s, s0;
    double th = lathe_nab_curve_best(curves, 2, -1, lathe_nab_no_detection(rows, 2), &s);
    double th0 = lathe_nab_best_threshold(rows, 2, -1, p, &s0);
    g_assert_cmpfloat_with_epsilon(s, s0, 1e-9);
    g_assert_cmpfloat(th, ==, th0);
    for (guint k = 0; k < 2; k++) {
      lathe_nab_curve_clear(&curves[k]);
      lathe_nab_rows_clear(&files[k].rows);
      g_free(files[k].score);
    }
  }
}

/* Leaving file k out of the kept sweep (LatheNabSweep, LatheNabSteps: one
 * sort, then one pass per file left out) gives bit for bit what sweeping
 * the other files alone gives: same sums in the same order. Scores on a
 * coarse grid, so the files share thresholds and the order of ties counts. */
static void test_leave_out_is_filter(void) {
  g_autoptr(GRand) rng = g_rand_new_with_seed(99);
  const char *profiles[] = {"standard", "reward_low_FP", "reward_low_FN"};
  for (guint trial = 0; trial < 30; trial++) {
    const LatheNabProfile *p = lathe_nab_profile(profiles[trial % 3]);
    enum { NF = 5 };
    RandFile files[NF];
    LatheNabCurve curves[NF];
    LatheNabRows rows[NF];
    const guint refr = trial % 2 ? 0 : 1 + trial % 7;
    for (guint k = 0; k < NF; k++) {
      rand_file(&files[k], rng, p);
      rows[k] = files[k].rows;
      lathe_nab_curve_init(&curves[k], &files[k].rows, p, refr);
    }
    LatheNabSweep sw;
    LatheNabSteps st;
    lathe_nab_sweep_init(&sw, rows, NF);
    lathe_nab_steps_init(&st, curves, NF);
    const double no_det = sw.no_detection;
    for (gint skip = 0; skip < NF; skip++) {
      LatheNabRows sub_rows[NF];
      LatheNabCurve sub_curves[NF];
      guint m = 0;
      for (guint k = 0; k < NF; k++)
        if ((gint)k != skip) {
          sub_rows[m] = rows[k];
          sub_curves[m++] = curves[k];
        }
      double a, b;
      double ta = lathe_nab_sweep_best(&sw, skip, p, &a);
      double tb = lathe_nab_best_threshold(sub_rows, m, -1, p, &b);
      g_assert_true(memcmp(&a, &b, sizeof a) == 0);
      if (ta != no_det) /* "detect nothing" is reported above every file's score */
        g_assert_cmpfloat(ta, ==, tb);
      ta = lathe_nab_steps_best(&st, skip, no_det, &a);
      tb = lathe_nab_curve_best(sub_curves, m, -1, no_det, &b);
      g_assert_true(memcmp(&a, &b, sizeof a) == 0);
      g_assert_cmpfloat(ta, ==, tb);
    }
    lathe_nab_sweep_clear(&sw);
    lathe_nab_steps_clear(&st);
    for (guint k = 0; k < NF; k++) {
      lathe_nab_curve_clear(&curves[k]);
      lathe_nab_rows_clear(&files[k].rows);
      g_free(files[k].score);
    }
  }
}

/* ---- through the component -------------------------------------------------- */

static const LatheEvaluatorClass *nab(void) {
  return (const LatheEvaluatorClass *)lathe_test_component("evaluator-nab", "evaluator/nab");
}

/* Row i at 60 i seconds: the window 01:40..01:59 is rows 100..119. */
static const char *windows_json =
    "{\"a.csv\": [[\"1970-01-01 01:40:00.000000\", \"1970-01-01 01:59:00.000000\"]],"
    " \"b.csv\": [[\"1970-01-01 01:40:00.000000\", \"1970-01-01 01:59:00.000000\"]]}";

static LatheDataset *make_scores(const double *a, const double *b) {
  LatheDataset *ds = lathe_dataset_new(2 * N, 2);
  lathe_dataset_set_column(ds, 0, "t");
  lathe_dataset_set_column(ds, 1, "pred_0");
  const char *names[] = {"a.csv", "b.csv", NULL};
  lathe_dataset_set_groups(ds, names);
  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < N; i++) {
      guint r = k * N + i;
      ds->x[r * 2] = (float)(60 * i);
      ds->x[r * 2 + 1] = (float)(k ? b[i] : a[i]);
      ds->groups[r] = (gint32)k;
    }
  return ds;
}

static JsonObject *run_nab(LatheDataset *ds, const char *extra, LatheContext **ctx_out,
                           GError **error) {
  g_autoptr(GError) e = NULL;
  char *wpath = NULL;
  int fd = g_file_open_tmp("nab-windows-XXXXXX.json", &wpath, &e);
  g_assert_no_error(e);
  close(fd);
  g_assert_true(g_file_set_contents(wpath, windows_json, -1, NULL));
  g_autofree char *params = g_strdup_printf(
      "{\"windows\": \"%s\", \"days_column\": \"\", \"seconds_column\": \"t\", "
      "\"profiles\": [\"standard\"], %s}", wpath, extra);
  LatheContext *ctx = lathe_test_context(LATHE_COMPONENT(*nab()), "score", params, 0);
  g_autoptr(LatheArtifact) input = lathe_artifact_new_dataset(ds);
  lathe_context_set_input(ctx, "scores", input);
  gboolean ok = nab()->run(ctx, error);
  g_unlink(wpath);
  g_free(wpath);
  JsonObject *m = NULL;
  if (ok)
    m = json_object_ref(lathe_artifact_get_metrics(lathe_context_get_output(ctx, "metrics"),
                                                   NULL));
  *ctx_out = ctx;
  return m;
}

/* Both files: a burst of alarms (score 0.9) on rows 60..69 before the window
 * and the left edge (row 100) at 0.9; everything else 0.1.
 *   R = 0: best is 0.9: 10 FPs (-1.1) + 1 = -0.1 per file, or detect
 *     nothing: -1 per file; so -0.1 each.
 *   R = 10 (0.05 x 200): the alarm at 60 silences 61..69 (and 70):
 *     -0.11 + 1 = 0.89 per file.
 * With refractory_fractions [0, 0.05], leave_one_out: each file's choice on
 * the other picks 0.05 (0.89 > -0.1), so each scores 0.89. */
static void test_component(void) {
  double a[N];
  for (guint i = 0; i < N; i++)
    a[i] = 0.1;
  for (guint i = 60; i < 70; i++)
    a[i] = 0.9;
  a[100] = 0.9;
  const char *lists[] = {"[0.0]", "[0.05]", "[0.0, 0.05]"};
  const double want[] = {-0.2, 1.78, 1.78};
  for (guint k = 0; k < G_N_ELEMENTS(lists); k++) {
    g_autofree char *extra = g_strdup_printf(
        "\"threshold_mode\": \"leave_one_out\", \"refractory_fractions\": %s", lists[k]);
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) m = run_nab(make_scores(a, a), extra, &ctx, &error);
    g_assert_no_error(error);
    JsonObject *st = json_object_get_object_member(json_object_get_object_member(m, "profiles"),
                                                   "standard");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(st, "score"), want[k], EPS);
    JsonObject *fb = json_object_get_object_member(json_object_get_object_member(st, "files"),
                                                   "b.csv");
    g_assert_cmpint(json_object_get_int_member(fb, "refractory_rows"), ==, k ? 10 : 0);
    g_assert_cmpint(json_object_get_int_member(fb, "fp"), ==, k ? 1 : 10);
    lathe_context_free(ctx);
  }
  const char *bad[] = {"[1.5]", "[0.01, 0.01]"};
  const char *needle[] = {"refractory_fractions: item 1 is 1.5", "lists 0.01 twice"};
  for (guint k = 0; k < G_N_ELEMENTS(bad); k++) {
    g_autofree char *extra = g_strdup_printf("\"refractory_fractions\": %s", bad[k]);
    LatheContext *ctx = NULL;
    g_autoptr(GError) error = NULL;
    JsonObject *m = run_nab(make_scores(a, a), extra, &ctx, &error);
    g_assert_null(m);
    g_assert_nonnull(error);
    if (!strstr(error->message, needle[k]))
      g_error("message '%s' lacks '%s'", error->message, needle[k]);
    lathe_context_free(ctx);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nab-refractory/hand-cases", test_hand_cases);
  g_test_add_func("/nab-refractory/curves-brute-force", test_curves_brute_force);
  g_test_add_func("/nab-refractory/zero-is-nab", test_zero_is_nab);
  g_test_add_func("/nab-refractory/leave-out-is-filter", test_leave_out_is_filter);
  g_test_add_func("/nab-refractory/component", test_component);
  return g_test_run();
}
