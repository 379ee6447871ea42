/* transform-stream-detect: the streaming contract of every detector (row t's
 * score does not change when rows after t change; each series is scored on
 * its own; the same input gives the same bits), the windowed Gaussian against
 * a naive two-pass computation, the probation-range detectors' NAB
 * conventions, and refusals. */
#include <math.h>
#include <string.h>

#include "ts-fixtures.h"

#define PLUGIN "transform-stream-detect"

typedef struct {
  const char *id, *params, *column;
} Det;

/* Small windows so that the window slides inside the test series. */
static const Det dets[] = {
    {"transform/windowed_gaussian", "{\"window\": 50, \"short_window\": 3}", "value_wg"},
    {"transform/windowed_gaussian", "{\"window\": 6400}", "value_wg"},
    {"transform/bocpd", "{\"hazard_lambda\": 30, \"max_run\": 40}", "value_bocpd"},
    {"transform/bocpd", NULL, "value_bocpd"},
    {"transform/knn_cad", "{\"dim\": 5, \"k\": 3, \"training\": 40}", "value_knncad"},
    {"transform/knn_cad", "{\"training\": 200}", "value_knncad"},
    {"transform/relative_entropy", "{\"window\": 30, \"bins\": 8}", "value_re"},
    {"transform/relative_entropy", NULL, "value_re"},
    {"transform/context_novelty", "{\"levels\": 5, \"max_order\": 3}", "value_ctx"},
    {"transform/context_novelty", NULL, "value_ctx"},
    {"transform/relative_entropy", "{\"range\": \"running\", \"score\": \"pvalue\"}", "value_re"},
    {"transform/relative_entropy", "{\"range\": \"running\", \"window\": 20}", "value_re"},
    {"transform/relative_entropy", "{\"score\": \"share\", \"window\": 20}", "value_re"},
    {"transform/context_novelty", "{\"range\": \"running\"}", "value_ctx"},
    {"transform/context_novelty", "{\"range\": \"running\", \"levels\": 5, \"max_order\": 3}",
     "value_ctx"},
    {"transform/context_novelty", "{\"contexts\": \"recursive\"}", "value_ctx"},
    {"transform/context_novelty",
     "{\"contexts\": \"recursive\", \"range\": \"running\", \"max_active\": 3}", "value_ctx"},
    {"transform/context_novelty", "{\"range\": \"running\", \"relearn_growth\": 1.2}",
     "value_ctx"},
    {"transform/anomaly_likelihood", "{\"window\": 60, \"short_window\": 4}", "value_al"},
    {"transform/anomaly_likelihood", NULL, "value_al"},
    {"transform/spatial_anomaly", NULL, "value_spatial"},
    {"transform/spatial_anomaly", "{\"tolerance\": 0, \"probation_percent\": 0}",
     "value_spatial"},
    {"transform/windowed_gaussian", "{\"season\": \"auto\", \"window\": 50}", "value_wg"},
    {"transform/windowed_gaussian", "{\"season\": \"auto\", \"short_window\": 6}", "value_wg"},
    {"transform/artime", NULL, "value_artime"},
    {"transform/artime", "{\"window\": 4, \"nlevels\": 20}", "value_artime"},
    {"transform/artime", "{\"range\": \"running\"}", "value_artime"},
    {"transform/artime", "{\"range\": \"running\", \"energy\": \"level\"}", "value_artime"},
};

static LatheDataset *run_ok(const Det *det, LatheDataset *in) {
  g_autoptr(GError) error = NULL;
  LatheDataset *out = ts_run(PLUGIN, det->id, det->params, in, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(out);
  return out;
}

/* Row @t's score of a one-column input's output: in [0, 1], and 0 in the
 * @probation rows. */
static double unit_score(const LatheDataset *out, guint t, guint probation) {
  double v = out->x[(gsize)t * 2 + 1];
  g_assert_cmpfloat(v, >=, 0.0);
  g_assert_cmpfloat(v, <=, 1.0);
  if (t < probation)
    g_assert_cmpfloat(v, ==, 0.0);
  return v;
}

/* The rows of group @g in order. */
static GArray *rows_of(const LatheDataset *ds, gint32 g) {
  GArray *rows = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint r = 0; r < ds->n_rows; r++)
    if (ds->groups[r] == g)
      g_array_append_val(rows, r);
  return rows;
}

/* Perturbing every row after the t-th of series s1 (values and a spike)
 * leaves the scores of its rows up to t bit for bit, and every other series
 * entirely (per-series independence). */
static void test_future_invisible(void) {
  for (guint k = 0; k < G_N_ELEMENTS(dets); k++)
    for (int interleave = 0; interleave < 2; interleave++) {
      g_autoptr(LatheDataset) base = run_ok(&dets[k], ts_series(900, 3, interleave, 7));
      LatheDataset *in = ts_series(900, 3, interleave, 7);
      g_autoptr(GArray) s1 = rows_of(in, 1);
      const guint cut = 123;
      const guint vc = ts_col(in, "value");
      for (guint i = cut + 1; i < s1->len; i++) {
        float *v = in->x + (gsize)g_array_index(s1, guint, i) * in->n_cols + vc;
        *v = *v * 3.0f + (i % 17 == 0 ? 1000.0f : -5.0f);
      }
      g_autoptr(LatheDataset) changed = run_ok(&dets[k], in);
      const guint sc = ts_col(base, dets[k].column);
      for (guint r = 0; r < base->n_rows; r++) {
        gboolean after = FALSE;
        for (guint i = cut + 1; i < s1->len && !after; i++)
          after = g_array_index(s1, guint, i) == r;
        if (after)
          continue;
        float a = base->x[(gsize)r * base->n_cols + sc], b = changed->x[(gsize)r * base->n_cols + sc];
        if (memcmp(&a, &b, sizeof a) != 0)
          g_error("%s %s: row %u changed (%g -> %g) after a change in the future of series 1",
                  dets[k].id, dets[k].params ? dets[k].params : "", r, a, b);
      }
      /* and the perturbation is seen at all after the cut */
      gboolean differs = FALSE;
      for (guint i = cut + 1; i < s1->len; i++) {
        gsize r = g_array_index(s1, guint, i);
        differs |= base->x[r * base->n_cols + sc] != changed->x[r * base->n_cols + sc];
      }
      if (!differs)
        g_error("%s %s: no score changed after the cut", dets[k].id, dets[k].params ? dets[k].params : "");
    }
}

/* A series scored alone equals the same series scored among others. */
static void test_series_independent(void) {
  for (guint k = 0; k < G_N_ELEMENTS(dets); k++) {
    g_autoptr(LatheDataset) all = run_ok(&dets[k], ts_series(600, 3, TRUE, 11));
    LatheDataset *src = ts_series(600, 3, TRUE, 11);
    g_autoptr(GArray) s2 = rows_of(src, 2);
    LatheDataset *alone = lathe_dataset_new(s2->len, src->n_cols);
    for (guint j = 0; j < src->n_cols; j++)
      lathe_dataset_set_column(alone, j, src->columns[j]);
    for (guint i = 0; i < s2->len; i++)
      memcpy(alone->x + (gsize)i * src->n_cols,
             src->x + (gsize)g_array_index(s2, guint, i) * src->n_cols,
             sizeof(float) * src->n_cols);
    lathe_dataset_unref(src);
    g_autoptr(LatheDataset) one = run_ok(&dets[k], alone);
    const guint sc = ts_col(all, dets[k].column);
    for (guint i = 0; i < s2->len; i++) {
      float a = all->x[(gsize)g_array_index(s2, guint, i) * all->n_cols + sc];
      float b = one->x[(gsize)i * one->n_cols + sc];
      g_assert_true(memcmp(&a, &b, sizeof a) == 0);
    }
  }
}

static void test_deterministic(void) {
  for (guint k = 0; k < G_N_ELEMENTS(dets); k++) {
    g_autoptr(LatheDataset) a = run_ok(&dets[k], ts_series(500, 2, FALSE, 3));
    g_autoptr(LatheDataset) b = run_ok(&dets[k], ts_series(500, 2, FALSE, 3));
    g_assert_cmpuint(a->n_cols, ==, b->n_cols);
    g_assert_true(memcmp(a->x, b->x, sizeof(float) * a->n_rows * a->n_cols) == 0);
    for (guint r = 0; r < a->n_rows; r++)
      g_assert_true(isfinite(a->x[(gsize)r * a->n_cols + ts_col(a, dets[k].column)]));
  }
}

/* The windowed Gaussian's running sums against a naive two-pass mean and
 * standard deviation over the same windows, on a long series (past the
 * 4096-row recomputation). */
static void test_wg_naive(void) {
  const guint n = 9000, W = 300, S = 4;
  LatheDataset *in = lathe_dataset_new(n, 1);
  lathe_dataset_set_column(in, 0, "value");
  g_autoptr(GRand) rng = g_rand_new_with_seed(5);
  for (guint t = 0; t < n; t++)
    in->x[t] = (float)(1000.0 + 10 * sin(t / 20.0) + g_rand_double_range(rng, -1, 1));
  g_autofree double *v = g_new(double, n);
  for (guint t = 0; t < n; t++)
    v[t] = in->x[t];
  const Det det = {"transform/windowed_gaussian", "{\"window\": 300, \"short_window\": 4}",
                   "value_wg"};
  g_autoptr(LatheDataset) out = run_ok(&det, in);
  for (guint t = 0; t < n; t++) {
    gint64 he = (gint64)t + 1 - S, hs = MAX(0, he - (gint64)W);
    double got = out->x[(gsize)t * 2 + 1];
    if (he - hs < 2) {
      g_assert_cmpfloat(got, ==, 0.0);
      continue;
    }
    double m = 0, q = 0, sm = 0;
    for (gint64 i = hs; i < he; i++)
      m += v[i];
    m /= (double)(he - hs);
    for (gint64 i = hs; i < he; i++)
      q += (v[i] - m) * (v[i] - m);
    double sd = sqrt(q / (double)(he - hs - 1));
    for (gint64 i = he; i <= (gint64)t; i++)
      sm += v[i];
    sm /= (double)S;
    double z = fabs(sm - m) / (sd / sqrt((double)S));
    double want = -log10(erfc(z / M_SQRT2));
    g_assert_cmpfloat_with_epsilon(got, want, 1e-3 * (1 + want));
  }
}

/* transform/anomaly_likelihood against the paper's definition computed
 * naively: -log10 of the upper tail of the last S scores' mean under the
 * Gaussian of the W scores before them (sigma floored), 0 in probation. */
static void test_al_naive(void) {
  const guint n = 2000, W = 100, S = 10, probation = 300; /* 0.15 n */
  LatheDataset *in = lathe_dataset_new(n, 1);
  lathe_dataset_set_column(in, 0, "value");
  g_autoptr(GRand) rng = g_rand_new_with_seed(9);
  for (guint t = 0; t < n; t++) /* a score: mostly small, bursts */
    in->x[t] = (float)(g_rand_double(rng) * (t % 400 < 15 ? 5.0 : 1.0));
  g_autofree double *v = g_new(double, n);
  for (guint t = 0; t < n; t++)
    v[t] = in->x[t];
  const Det det = {"transform/anomaly_likelihood", "{\"window\": 100, \"short_window\": 10}",
                   "value_al"};
  g_autoptr(LatheDataset) out = run_ok(&det, in);
  double top = 0;
  for (guint t = 0; t < n; t++) {
    double got = out->x[(gsize)t * 2 + 1];
    if (t < probation) {
      g_assert_cmpfloat(got, ==, 0.0);
      continue;
    }
    gint64 he = (gint64)t + 1 - S, hs = MAX(0, he - (gint64)W);
    double m = 0, q = 0, sm = 0;
    for (gint64 i = hs; i < he; i++)
      m += v[i];
    m /= (double)(he - hs);
    for (gint64 i = hs; i < he; i++)
      q += (v[i] - m) * (v[i] - m);
    double sd = MAX(sqrt(q / (double)(he - hs - 1)), 1e-4);
    for (gint64 i = he; i <= (gint64)t; i++)
      sm += v[i];
    sm /= (double)S;
    double want = -log10(0.5 * erfc((sm - m) / sd / M_SQRT2));
    g_assert_cmpfloat_with_epsilon(got, want, 1e-3 * (1 + want));
    top = MAX(top, got);
  }
  g_assert_cmpfloat(top, >, 2.0); /* the bursts stand out */
}

/* transform/spatial_anomaly: 1 exactly where a value leaves the earlier
 * rows' range by more than the tolerance, 0 in probation. */
static void test_spatial(void) {
  const float vals[] = {0, 10, 5, 10.4f, 11.2f, -0.7f, -0.4f, 3, 20, 20};
  const double want[] = {0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
  const guint n = G_N_ELEMENTS(vals);
  LatheDataset *in = lathe_dataset_new(n, 1);
  lathe_dataset_set_column(in, 0, "value");
  memcpy(in->x, vals, sizeof vals);
  /* tolerance 0.05 of the range: [0, 0] lets nothing in; [0, 10] lets
   * 10.4 in; [0, 10.4] not 11.2; [0, 11.2] not -0.7; no probation rows */
  const Det det = {"transform/spatial_anomaly", "{\"probation_percent\": 0}", "value_spatial"};
  g_autoptr(LatheDataset) out = run_ok(&det, in);
  for (guint t = 0; t < n; t++)
    g_assert_cmpfloat(out->x[(gsize)t * 2 + 1], ==, want[t]);
  LatheDataset *in2 = lathe_dataset_new(n, 1);
  lathe_dataset_set_column(in2, 0, "value");
  memcpy(in2->x, vals, sizeof vals);
  const Det det2 = {"transform/spatial_anomaly", "{\"probation_percent\": 0.5}",
                    "value_spatial"};
  g_autoptr(LatheDataset) out2 = run_ok(&det2, in2); /* 5 probation rows score 0 */
  for (guint t = 0; t < n; t++)
    g_assert_cmpfloat(out2->x[(gsize)t * 2 + 1], ==, t < 5 ? 0.0 : want[t]);
}

/* The detectors on the probation rows' range and on the running range
 * (relative entropy, context novelty): scores in [0, 1], 0 in the probation
 * period (15% of the rows);
 * a level shift past that range is seen: relative entropy makes a new
 * hypothesis (score 1) within a window of it, and context novelty scores
 * the shift's row at least 0.9 (its level and every transition are new). */
static void test_probation_range(void) {
  const guint n = 1000, shift = 700, probation = 150;
  const Det re = {"transform/relative_entropy", NULL, "value_re"};
  /* no rest period: on noise, raw scores >= 0.75 keep it silent */
  const Det cx = {"transform/context_novelty", "{\"rest_fraction\": 0}", "value_ctx"};
  /* the same on the running range (graded relative entropy) */
  const Det re_run = {"transform/relative_entropy", "{\"range\": \"running\", \"score\": \"pvalue\"}",
                      "value_re"};
  const Det cx_run = {"transform/context_novelty",
                      "{\"rest_fraction\": 0, \"range\": \"running\"}", "value_ctx"};
  const Det *both[] = {&re, &cx, &re_run, &cx_run};
  for (guint k = 0; k < G_N_ELEMENTS(both); k++) {
    LatheDataset *in = lathe_dataset_new(n, 1);
    lathe_dataset_set_column(in, 0, "value");
    g_autoptr(GRand) rng = g_rand_new_with_seed(13);
    for (guint t = 0; t < n; t++)
      in->x[t] = (float)((t >= shift ? 100.0 : 0.0) + 10 * g_rand_double(rng));
    g_autoptr(LatheDataset) out = run_ok(both[k], in);
    double top = 0;
    for (guint t = 0; t < n; t++) {
      double v = unit_score(out, t, probation);
      if (t >= shift && t < shift + 52)
        top = MAX(top, v);
    }
    g_test_message("%s %s: shift row %g, top %g", both[k]->id, both[k]->params,
                   out->x[(gsize)shift * 2 + 1], top);
    if (k % 2 == 0)
      g_assert_cmpfloat(top, ==, 1.0);
    else /* on the running range, the shift's level was a level of the old range:
            some transitions are known, but the score reaches the base threshold */
      g_assert_cmpfloat(out->x[(gsize)shift * 2 + 1], >=, k == 1 ? 0.9 : 0.75);
  }
}

/* transform/artime on a long periodic series (a sine of 40 rows, a little
 * noise; probation 450 rows, sstep 4): the periodic part after probation
 * scores 0 but for at most 2 rows, and a change after probation (a level
 * shift past the probation range, or the same period as a square wave) gets
 * a nonzero score within 4 windows (8 downsampled points of 4 rows each),
 * on both ranges and both energy features. Scores are in [0, 1] and 0 in
 * probation. */
static void test_artime(void) {
  const guint n = 3000, change = 2000, probation = 450, within = 4 * 8 * 4;
  const Det dets_at[] = {
      {"transform/artime", NULL, "value_artime"},
      {"transform/artime", "{\"range\": \"running\"}", "value_artime"},
      {"transform/artime", "{\"energy\": \"level\"}", "value_artime"},
      {"transform/artime", "{\"energy\": \"level\", \"range\": \"running\"}", "value_artime"}};
  for (guint k = 0; k < G_N_ELEMENTS(dets_at); k++)
    for (int shape = 0; shape < 2; shape++) {
      LatheDataset *in = lathe_dataset_new(n, 1);
      lathe_dataset_set_column(in, 0, "value");
      g_autoptr(GRand) rng = g_rand_new_with_seed(5);
      for (guint t = 0; t < n; t++) {
        double s = sin(2 * G_PI * t / 40.0);
        if (t >= change)
          s = shape ? (s >= 0 ? 1.0 : -1.0) : s + 3.0;
        in->x[t] = (float)(10 + 5 * s + 0.05 * g_rand_double(rng));
      }
      g_autoptr(LatheDataset) out = run_ok(&dets_at[k], in);
      guint quiet_hits = 0;
      double top = 0;
      for (guint t = 0; t < n; t++) {
        double v = unit_score(out, t, probation);
        if (t < probation)
          continue;
        if (t < change)
          quiet_hits += v > 0;
        else if (t < change + within)
          top = MAX(top, v);
      }
      g_test_message("%s %s shape %d: %u hits before the change, top %g after it",
                     dets_at[k].id, dets_at[k].params ? dets_at[k].params : "", shape,
                     quiet_hits, top);
      g_assert_cmpuint(quiet_hits, <=, 2);
      g_assert_cmpfloat(top, >, 0.0);
    }
}

/* transform/windowed_gaussian with season "auto" on a series of period 24
 * (a sine plus a little noise; probation 300 rows): after the probation rows
 * (which score 0) its score is, to float rounding, the plain detector's on
 * the differences x_t - x_{t-24} (so the period found is 24, not a multiple
 * or a neighbour), with the differences of the probation rows as history.
 * One period flattened to the series' mean (values well inside the range:
 * a contextual anomaly) scores far above every quiet row, and above what the
 * plain detector gives it. */
static void test_wg_season(void) {
  const guint n = 2000, P = 24, probation = 300, flat = 1500;
  LatheDataset *in = lathe_dataset_new(n, 1);
  lathe_dataset_set_column(in, 0, "value");
  g_autoptr(GRand) rng = g_rand_new_with_seed(9);
  for (guint t = 0; t < n; t++)
    in->x[t] = (float)(t >= flat && t < flat + P ? 10.0
                                                   : 10 + 5 * sin(2 * G_PI * t / P) +
                                                         0.05 * g_rand_double(rng));
  LatheDataset *diff = lathe_dataset_new(n - P, 1);
  lathe_dataset_set_column(diff, 0, "value");
  for (guint t = P; t < n; t++)
    diff->x[t - P] = (float)((double)in->x[t] - (double)in->x[t - P]);
  const Det seasonal = {"transform/windowed_gaussian", "{\"season\": \"auto\", \"window\": 600}",
                        "value_wg"};
  const Det plain = {"transform/windowed_gaussian", "{\"window\": 600}", "value_wg"};
  g_autoptr(LatheDataset) on_plain = run_ok(&plain, lathe_dataset_ref(in));
  g_autoptr(LatheDataset) out = run_ok(&seasonal, in);
  g_autoptr(LatheDataset) want = run_ok(&plain, diff);
  double quiet = 0, top = 0, plain_top = 0;
  for (guint t = 0; t < n; t++) {
    double v = out->x[(gsize)t * 2 + 1];
    if (t < probation) {
      g_assert_cmpfloat(v, ==, 0.0);
      continue;
    }
    double w = want->x[(gsize)(t - P) * 2 + 1];
    if (fabs(v - w) > 1e-3 * (1 + fabs(w)))
      g_error("row %u: seasonal %g, plain on the differences %g", t, v, w);
    if (t >= flat && t < flat + 2 * P) { /* the flat period and the one after it */
      top = MAX(top, v);
      plain_top = MAX(plain_top, on_plain->x[(gsize)t * 2 + 1]);
    } else
      quiet = MAX(quiet, v);
  }
  g_test_message("season: quiet max %g, flat period %g (plain %g)", quiet, top, plain_top);
  g_assert_cmpfloat(top, >, 10.0);
  g_assert_cmpfloat(top, >, 3 * quiet);
  g_assert_cmpfloat(top, >, 3 * plain_top);
}

/* score_max pvalue: -log10 of Fisher's chi-square tail, checked against the
 * textbook's upper 1% points (chi-square 2, 4, 6 dof: 9.210, 13.277, 16.812),
 * each given as F = x / (2 ln 10) spread over the k terms started: the output
 * is 2 (p = 0.01) whatever k. Column c stays 0 (a detector that never
 * fires): with probation_percent 0.15 it counts as started from row 15 of
 * the 100 on, so a row there with the k = 2 figures is taken over 3 terms and
 * comes out lower; before row 15, and without probation_percent, it is 2. */
static void test_score_max_pvalue(void) {
  LatheDataset *in = lathe_dataset_new(100, 3);
  lathe_dataset_set_column(in, 0, "a");
  lathe_dataset_set_column(in, 1, "b");
  lathe_dataset_set_column(in, 2, "c");
  const double f2 = 13.277 / (2 * G_LN10), f3 = 16.812 / (2 * G_LN10);
  in->x[0] = (float)(1 - 0.01); /* row 0: a alone, F = 2 */
  for (guint r = 1; r < 100; r++) { /* b starts at row 1: F = f2 over a and b */
    in->x[(gsize)r * 3 + 0] = (float)(1 - pow(10, -f2 / 2));
    in->x[(gsize)r * 3 + 1] = (float)(1 - pow(10, -f2 / 2));
  }
  for (guint j = 0; j < 3; j++) /* row 50: c too, F = f3 over three terms */
    in->x[(gsize)50 * 3 + j] = (float)(1 - pow(10, -f3 / 3));
  in->x[(gsize)51 * 3 + 2] = 0; /* once started, a term stays counted */
  /* without probation_percent, then with it */
  const Det dets[] = {
      {"transform/score_max",
       "{\"columns\": [\"a\", \"b\", \"c\"], \"output\": \"p\", \"method\": \"fisher\", "
       "\"floor\": 1e-9, \"pvalue\": true}",
       "p"},
      {"transform/score_max",
       "{\"columns\": [\"a\", \"b\", \"c\"], \"output\": \"p\", \"method\": \"fisher\", "
       "\"floor\": 1e-9, \"pvalue\": true, \"probation_percent\": 0.15}",
       "p"},
  };
  float k3 = 0;
  for (guint i = 0; i < 2; i++) {
    g_autoptr(LatheDataset) po = run_ok(&dets[i], lathe_dataset_ref(in));
    const guint c = ts_col(po, "p");
    for (guint r = 0; r <= 50; r++) /* row 0 (a alone), b too, row 50 (all three) */
      if (r < 15 || r == 50 || i == 0)
        g_assert_cmpfloat_with_epsilon(po->x[(gsize)r * po->n_cols + c], 2.0, 2e-3);
    if (i == 0) { /* row 51: F = f2 over three started terms: below 2 */
      k3 = po->x[(gsize)51 * po->n_cols + c];
      g_assert_cmpfloat(k3, <, 1.6);
    } else /* c started after the 15 probation rows: k = 3 from row 15 on */
      for (guint r = 15; r < 100; r++)
        if (r != 50)
          g_assert_cmpfloat(po->x[(gsize)r * po->n_cols + c], ==, k3);
  }
  /* pvalue is a Fisher option */
  g_autofree char *e = ts_expect_error(PLUGIN, "transform/score_max",
                                       "{\"columns\": [\"a\", \"b\"], \"output\": \"m\", "
                                       "\"pvalue\": true}",
                                       in);
  g_assert_nonnull(strstr(e, "pvalue is for method"));
}

/* transform/score_max: the row-wise maximum, bit for bit; refusals. */
static void test_score_max(void) {
  LatheDataset *in = ts_series(300, 2, TRUE, 21);
  g_autofree float *want = g_new(float, in->n_rows);
  const guint v = ts_col(in, "value"), o = ts_col(in, "other");
  in->x[(gsize)5 * in->n_cols + o] = 1.0f; /* a new maximum's rank: Fisher's floor */
  for (guint r = 0; r < in->n_rows; r++)
    want[r] = MAX(in->x[(gsize)r * in->n_cols + v] / 300.0f, in->x[(gsize)r * in->n_cols + o]);
  for (guint r = 0; r < in->n_rows; r++) /* bring value to other's scale */
    in->x[(gsize)r * in->n_cols + v] /= 300.0f;
  const Det det = {"transform/score_max", "{\"columns\": [\"value\", \"other\"], \"output\": \"m\"}",
                   "m"};
  g_autoptr(LatheDataset) out = run_ok(&det, lathe_dataset_ref(in));
  const guint m = ts_col(out, "m");
  for (guint r = 0; r < out->n_rows; r++)
    g_assert_true(memcmp(&out->x[(gsize)r * out->n_cols + m], &want[r], sizeof(float)) == 0);
  /* Fisher's combination of the two as causal ranks: -sum log10(max(1 - u, floor)) */
  const Det fi = {"transform/score_max",
                  "{\"columns\": [\"value\", \"other\"], \"output\": \"f\", \"method\": \"fisher\", "
                  "\"floor\": 0.001}",
                  "f"};
  g_autoptr(LatheDataset) fo = run_ok(&fi, lathe_dataset_ref(in));
  const guint f = ts_col(fo, "f");
  guint floored = 0;
  for (guint r = 0; r < fo->n_rows; r++) {
    double a = in->x[(gsize)r * in->n_cols + v], b = in->x[(gsize)r * in->n_cols + o];
    floored += 1 - a < 0.001 || 1 - b < 0.001;
    double want_f = -log10(MAX(1 - a, 0.001)) - log10(MAX(1 - b, 0.001));
    g_assert_cmpfloat_with_epsilon(fo->x[(gsize)r * fo->n_cols + f], want_f, 1e-5 * (1 + want_f));
  }
  g_assert_cmpuint(floored, >, 0); /* the floor was exercised */
  /* floor 0: 1/(k + 1) at the k-th row of each series (the series interleave) */
  const Det fr = {"transform/score_max",
                  "{\"columns\": [\"value\", \"other\"], \"output\": \"f\", \"method\": \"fisher\", "
                  "\"floor\": 0}",
                  "f"};
  g_assert_nonnull(in->groups);
  g_autoptr(LatheDataset) fro = run_ok(&fr, lathe_dataset_ref(in));
  g_autofree guint *k = g_new0(guint, in->n_groups);
  for (guint r = 0; r < fro->n_rows; r++) {
    double a = in->x[(gsize)r * in->n_cols + v], b = in->x[(gsize)r * in->n_cols + o];
    double fl = 1.0 / (++k[in->groups[r]]);
    double want_f = -log10(MAX(1 - a, fl)) - log10(MAX(1 - b, fl));
    g_assert_cmpfloat_with_epsilon(fro->x[(gsize)r * fro->n_cols + f], want_f, 1e-5 * (1 + want_f));
  }
  /* wait_all: 0 at a series' rows until both columns have been nonzero in
   * it; from then on the plain output. Series 0's value stays 0 for its first
   * 10 rows, series 1's other for its first 20 (a detector still learning). */
  g_autofree guint *seen = g_new0(guint, in->n_groups);
  for (guint r = 0; r < in->n_rows; r++) {
    const guint g = (guint)in->groups[r], t = seen[g]++;
    if (g == 0 && t < 10)
      in->x[(gsize)r * in->n_cols + v] = 0;
    if (g == 1 && t < 20)
      in->x[(gsize)r * in->n_cols + o] = 0;
  }
  const Det fw = {"transform/score_max",
                  "{\"columns\": [\"value\", \"other\"], \"output\": \"f\", \"method\": \"fisher\", "
                  "\"wait_all\": true}",
                  "f"};
  const Det fp = {"transform/score_max",
                  "{\"columns\": [\"value\", \"other\"], \"output\": \"f\", \"method\": \"fisher\"}",
                  "f"};
  g_autoptr(LatheDataset) wo = run_ok(&fw, lathe_dataset_ref(in));
  g_autoptr(LatheDataset) po = run_ok(&fp, lathe_dataset_ref(in));
  memset(seen, 0, sizeof(guint) * in->n_groups);
  guint waited = 0;
  for (guint r = 0; r < wo->n_rows; r++) {
    const guint g = (guint)in->groups[r], t = seen[g]++;
    const float got = wo->x[(gsize)r * wo->n_cols + f];
    if ((g == 0 && t < 10) || (g == 1 && t < 20)) {
      g_assert_cmpfloat(got, ==, 0.0f);
      waited += po->x[(gsize)r * po->n_cols + f] != 0.0f; /* plain Fisher is not 0 there */
    } else
      g_assert_cmpfloat(got, ==, po->x[(gsize)r * po->n_cols + f]);
  }
  g_assert_cmpuint(waited, >=, 25);
  lathe_dataset_unref(in);
  g_autofree char *e3 = ts_expect_error(PLUGIN, "transform/score_max",
                                        "{\"columns\": [\"value\", \"other\"], \"method\": \"sum\"}",
                                        ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e3, "method 'sum' is unknown");
  g_autofree char *e1 = ts_expect_error(PLUGIN, "transform/score_max", "{\"columns\": [\"value\"]}",
                                        ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e1, "two or more");
  g_autofree char *e2 = ts_expect_error(PLUGIN, "transform/score_max",
                                        "{\"columns\": [\"value\", \"other\"], \"output\": \"value\"}",
                                        ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e2, "already a column");
}

static void test_refusals(void) {
  g_autofree char *e1 =
      ts_expect_error(PLUGIN, "transform/bocpd", "{\"columns\": [\"nope\"]}", ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e1, "nope");
  g_autofree char *e2 = ts_expect_error(PLUGIN, "transform/windowed_gaussian",
                                        "{\"suffix\": \"ther\", \"columns\": [\"o\"]}",
                                        ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e2, "transform/windowed_gaussian");
  LatheDataset *bad = ts_series(50, 1, FALSE, 1);
  bad->x[10 * bad->n_cols + ts_col(bad, "value")] = NAN;
  g_autofree char *e3 = ts_expect_error(PLUGIN, "transform/bocpd", NULL, bad);
  ts_assert_contains(e3, "not a finite number");
  g_autofree char *e4 = ts_expect_error(PLUGIN, "transform/context_novelty",
                                        "{\"range\": \"whole\"}", ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e4, "range 'whole' is unknown");
  g_autofree char *e5 = ts_expect_error(PLUGIN, "transform/relative_entropy",
                                        "{\"score\": \"soft\"}", ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e5, "score 'soft' is unknown");
  g_autofree char *e6 = ts_expect_error(PLUGIN, "transform/context_novelty",
                                        "{\"contexts\": \"deep\"}", ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e6, "contexts 'deep' is unknown");
  g_autofree char *e7 = ts_expect_error(PLUGIN, "transform/artime", "{\"energy\": \"first\"}",
                                        ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e7, "energy 'first' is unknown");
  g_autofree char *e8 = ts_expect_error(PLUGIN, "transform/windowed_gaussian",
                                        "{\"season\": \"weekly\"}", ts_series(50, 1, FALSE, 1));
  ts_assert_contains(e8, "season 'weekly' is unknown");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stream-detect/future-invisible", test_future_invisible);
  g_test_add_func("/stream-detect/series-independent", test_series_independent);
  g_test_add_func("/stream-detect/deterministic", test_deterministic);
  g_test_add_func("/stream-detect/wg-naive", test_wg_naive);
  g_test_add_func("/stream-detect/probation-range", test_probation_range);
  g_test_add_func("/stream-detect/al-naive", test_al_naive);
  g_test_add_func("/stream-detect/spatial", test_spatial);
  g_test_add_func("/stream-detect/artime", test_artime);
  g_test_add_func("/stream-detect/wg-season", test_wg_season);
  g_test_add_func("/stream-detect/score-max", test_score_max);
  g_test_add_func("/stream-detect/score-max-pvalue", test_score_max_pvalue);
  g_test_add_func("/stream-detect/refusals", test_refusals);
  return g_test_run();
}
