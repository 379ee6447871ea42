/* transform/artime: an ARTime-style streaming detector, M. Hampton, ARTime
 * (2021; NAB's ARTime entry, numenta/NAB results/ARTime), built on Fuzzy ART
 * (G. A. Carpenter, S. Grossberg and D. B. Rosen, "Fuzzy ART: fast stable
 * learning and categorization of analog patterns by an adaptive resonance
 * system", Neural Networks 4, 1991) and dual vigilance fuzzy ART (L. E.
 * Brito da Silva, I. Elnabarawy and D. C. Wunsch, "Distributed dual
 * vigilance fuzzy adaptive resonance theory learns online, retrieves
 * arbitrarily-shaped clusters, and mitigates order dependence", Neural
 * Networks 121, 2020).
 *
 * Written from a description only (the docs of deveshjawla/ARTime.jl:
 * docs/concepts/art.md, docs/api/artime.md, docs/api/adaptive_resonance.md),
 * never from ARTime's (AGPL) code. Those docs are third-party and vague in
 * places; where they are, the choice below is the standard Fuzzy ART / DVFA
 * one and the comment says so. Outline, per series:
 *
 * - probation: NAB's (min(floor(p n), p 5000) rows), made even; the
 *   downsampling step sstep = probation / (window * windows_per_pb), >= 1;
 *   trend_window = probation / sstep downsampled points;
 * - every sstep rows, the last sstep raw values give one downsampled value:
 *   their max or min, whichever is farther from their mean, unless that
 *   extreme is within 10% of |mean| of the mean, then the mean; normalised
 *   to [0, 1] with the range, discretised to nlevels levels, and replaced
 *   by the running median level when within discretize_chomp of it;
 * - the last `window` downsampled values, min-max normalised, and their
 *   Haar DWT coefficients, min-max normalised, are the features (2 window);
 *   energy "level" adds the last downsampled value itself (not normalised
 *   with the window) as the last feature, which the energy similarity reads:
 *   the docs' features carry no level at all, so a level shift is seen only
 *   where the window straddles it (a variant chosen after the first 53-file
 *   results, examples/nab/README.md designs 23 and 24);
 * - a DVFA (Fuzzy ART's match |x ^ w| / |x|, not the docs' / |w|: see
 *   dvfa_match) with the "energy" similarity classifies them; the first
 *   trend_window points are learned in one batch, ordered by similarity,
 *   after rho is set from them (init_rho); after that a point that makes a
 *   new cluster is an anomaly unless masked, and rho adapts;
 * - a row's score is the anomaly's confidence at a detection, else 0.
 *
 * THE RANGE: ARTime normalises with the whole file's min and max, which a
 * stream cannot know. range "probation" (stream.c's probation_range) uses
 * the probation rows' min and max and clamps later values to [0, 1] (a value
 * past the range reads as the range's edge: a level shift beyond it still
 * changes the window's shape where it happens). range "running" uses the
 * min and max of the rows seen so far, row t included, at the time each
 * value is downsampled: values already in the window and the median's
 * histogram keep the level they were given (no re-quantisation; the window
 * is min-max normalised again at every step, which undoes most of a range
 * change). A flat range maps its value to 0.5, above it to 1, below to 0. */
#include <math.h>
#include <string.h>

#include "stream.h"

static const LatheParamSpec at_params[] = {
    LATHE_PARAM_INT_("window", "8", 2, 1024, "downsampled values per feature window (ARTime: 8)"),
    LATHE_PARAM_INT_("windows_per_pb", "13", 1, 100000,
                     "feature windows per probation period: sstep = probation / (window "
                     "windows_per_pb), at least 1 (ARTime: 13)"),
    LATHE_PARAM_INT_("nlevels", "80", 1, 100000, "discretisation levels of [0, 1] (ARTime: 80)"),
    LATHE_PARAM_FLOAT_("discretize_chomp", "0.075", 0, 1, 0,
                       "a value within this of the running median becomes the median (ARTime: "
                       "0.075)"),
    LATHE_PARAM_FLOAT_("initial_rho", "0.80", 0, 1, 0,
                       "the vigilance of init_rho's ordered training pass (ARTime: 0.80)"),
    LATHE_PARAM_FLOAT_("max_rho_ub", "0.97", 0, 1, 0,
                       "cap of the adaptive upper vigilance (ARTime: 0.97)"),
    LATHE_PARAM_STRING_("energy", "\"last\"", 0,
                        "the feature the energy similarity reads: \"last\" = the last one (the "
                        "last window value, min-max normalised; the docs' description); "
                        "\"level\" = one more feature, the last downsampled value before the "
                        "window's normalisation, so that the level is seen"),
    LATHE_STREAM_PROBATION_PARAM,
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

/* ---- DVFA with ARTime's energy similarity ---- */

typedef struct {
  guint dim;       /* complement-coded length, 2 features */
  double rho_lb, rho_ub;
  GArray *w;       /* categories, dim doubles each */
  guint n_cat;
} Dvfa;

static void dvfa_init(Dvfa *a, guint dim, double rho) {
  a->dim = dim;
  a->rho_lb = a->rho_ub = rho;
  a->w = g_array_new(FALSE, FALSE, sizeof(double));
  a->n_cat = 0;
}

static void dvfa_clear(Dvfa *a) {
  if (a->w)
    g_array_unref(a->w);
  memset(a, 0, sizeof *a);
}

/* M = (|min(x, w)|_1 / |x|_1)^3 * Me^2, Me the same ratio over the
 * "energy" entries: the last feature and its complement (the docs' em[ei],
 * em[end]). The docs divide by |w|_1, Fuzzy ART's choice function, not its
 * match: with fast min learning the boxes then grow until every input scores
 * 1 (tried: after a few hundred points nothing is ever new). Here the
 * standard Fuzzy ART / DVFA match |x ^ w| / |x| is the vigilance quantity,
 * which is lowered, not raised, by a box grown too large; the docs' powers
 * are kept. Complement coding makes |x|_1 = d / 2 and the energy pair's 1. */
static double dvfa_match(const Dvfa *a, const double *x, const double *w, double *me) {
  const guint d = a->dim, ei = d / 2 - 1;
  double num = 0;
  for (guint k = 0; k < d; k++)
    num += MIN(x[k], w[k]);
  *me = MIN(x[ei], w[ei]) + MIN(x[d - 1], w[d - 1]);
  const double f = num / (d / 2.0);
  return f * f * f * *me * *me;
}

/* Classifies complement-coded @x and learns it. Returns TRUE when it makes a
 * new cluster (the best category fails rho_lb); *sim and *esim are the best
 * category's M and Me (categories are ranked by M, the docs' "sorted by
 * similarity"). The docs say a category passing only rho_lb also "creates a
 * new category": as in DVFA (da Silva et al.), that category joins the best
 * one's cluster, so it is not a new cluster (not an anomaly). The first
 * sample commits the uncommitted (all ones) node, as in Fuzzy ART: M = 1.
 * Weight learning: fast commit, w = min(w, x), at M >= rho_ub. */
static gboolean dvfa_train(Dvfa *a, const double *x, double *sim, double *esim) {
  const guint d = a->dim;
  gint best = -1;
  double bm = -1, bme = 0;
  for (guint j = 0; j < a->n_cat; j++) {
    double me, m = dvfa_match(a, x, &g_array_index(a->w, double, (gsize)j * d), &me);
    if (m > bm) { /* ties: the older category, a fixed order */
      bm = m;
      bme = me;
      best = (gint)j;
    }
  }
  if (best < 0)
    bm = bme = 1.0;
  *sim = bm;
  *esim = bme;
  if (best >= 0 && bm >= a->rho_ub) {
    double *w = &g_array_index(a->w, double, (gsize)best * d);
    for (guint k = 0; k < d; k++)
      w[k] = MIN(w[k], x[k]);
    return FALSE;
  }
  g_array_append_vals(a->w, x, d);
  a->n_cat++;
  return !(best >= 0 && bm >= a->rho_lb);
}

/* ---- features ---- */

/* min-max to [0, 1] in place; a flat vector becomes zeros */
static void minmax(double *v, guint n) {
  double lo = v[0], hi = v[0];
  for (guint i = 1; i < n; i++) {
    lo = MIN(lo, v[i]);
    hi = MAX(hi, v[i]);
  }
  for (guint i = 0; i < n; i++)
    v[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 0.0;
}

/* The orthonormal Haar DWT of @v (n values), every level while the
 * approximation's length is even (full for a power of two), laid out as
 * Wavelets.jl's dwt: [coarsest approximation, coarsest detail, ..., finest
 * detail]. */
static void haar(const double *v, double *out, double *tmp, guint n) {
  memcpy(out, v, n * sizeof(double));
  for (guint len = n; len >= 2 && len % 2 == 0; len /= 2) {
    const guint h = len / 2;
    for (guint i = 0; i < h; i++) {
      tmp[i] = (out[2 * i] + out[2 * i + 1]) * M_SQRT1_2;
      tmp[h + i] = (out[2 * i] - out[2 * i + 1]) * M_SQRT1_2;
    }
    memcpy(out, tmp, len * sizeof(double));
  }
}

/* ---- the detector ---- */

typedef struct {
  /* params and derived sizes */
  guint window, nlevels, sstep, trend_window, mask, init_at;
  guint nf; /* features: 2 window, + 1 with energy "level" */
  double chomp, initial_rho, max_ub;
  gboolean running;
  double lo, hi;
  /* downsampling and discretisation */
  guint64 i;         /* raw rows seen */
  double *ds;        /* the last sstep raw values, ring */
  guint *medbin;     /* histogram of levels, nlevels + 1 */
  guint64 med_n, below; /* values in the histogram; of them below medlevel */
  guint medlevel;
  double *fw;        /* the last window downsampled values, ring */
  guint64 dsi;       /* downsampled values made */
  double *f, *tmp;   /* scratch: features (2 window), complement-coded (4 window) */
  GArray *batch;     /* probation features, complement-coded */
  /* classification */
  Dvfa art;
  gboolean ready;
  gboolean has_anomaly, mask_after_cat;
  guint64 last_anomaly_i, no_new_cat;
  double last_anomaly_sim;
  GArray *anomaly_sims;
  double ub_sum;  /* running mean of the similarities (rho_ub_mean) */
  guint64 ub_n;
  double *sim_w;  /* last trend_window / 2 + 1 similarities, ring, starts at 1 */
  double *diff_w; /* last trend_window + 1 of rho_ub - similarity, ring, starts at 0 */
  guint n_sim_w, n_diff_w;
} AtState;

static gpointer at_new(LatheContext *ctx, const LatheStreamSeries *series) {
  AtState *s = g_new0(AtState, 1);
  s->window = (guint)lathe_context_param_int(ctx, "window");
  s->nlevels = (guint)lathe_context_param_int(ctx, "nlevels");
  s->chomp = lathe_context_param_float(ctx, "discretize_chomp");
  s->initial_rho = lathe_context_param_float(ctx, "initial_rho");
  s->max_ub = lathe_context_param_float(ctx, "max_rho_ub");
  const guint pb = series->probation - series->probation % 2;
  const guint per = s->window * (guint)lathe_context_param_int(ctx, "windows_per_pb");
  s->sstep = MAX(pb / per, 1u);
  s->trend_window = pb / s->sstep;
  /* the docs' window * 1.5, in downsampled points like the index it masks */
  s->mask = s->window * 3 / 2;
  /* the batch is learned at the trend_window-th point; a series too short
   * for a window by then learns its first window alone */
  s->init_at = MAX(s->trend_window, s->window);
  s->running = series->running;
  s->lo = series->lo;
  s->hi = series->hi;
  s->ds = g_new0(double, s->sstep);
  s->medbin = g_new0(guint, s->nlevels + 1);
  s->fw = g_new0(double, s->window);
  s->nf = 2 * s->window +
          (g_strcmp0(lathe_context_param_string(ctx, "energy"), "level") == 0 ? 1 : 0);
  s->f = g_new0(double, s->nf);
  s->tmp = g_new0(double, 2 * s->nf);
  s->batch = g_array_new(FALSE, FALSE, sizeof(double));
  s->anomaly_sims = g_array_new(FALSE, FALSE, sizeof(double));
  s->n_sim_w = s->trend_window / 2 + 1;
  s->n_diff_w = s->trend_window + 1;
  s->sim_w = g_new(double, s->n_sim_w);
  for (guint k = 0; k < s->n_sim_w; k++)
    s->sim_w[k] = 1.0;
  s->diff_w = g_new0(double, s->n_diff_w);
  return s;
}

static void at_free(gpointer p) {
  AtState *s = p;
  g_free(s->ds);
  g_free(s->medbin);
  g_free(s->fw);
  g_free(s->f);
  g_free(s->tmp);
  g_array_unref(s->batch);
  g_array_unref(s->anomaly_sims);
  g_free(s->sim_w);
  g_free(s->diff_w);
  dvfa_clear(&s->art);
  g_free(s);
}

/* The running median level of the histogram, after adding @level. */
static guint median_add(AtState *s, guint level) {
  s->medbin[level]++;
  s->med_n++;
  if (s->med_n == 1)
    s->medlevel = level;
  else if (level < s->medlevel)
    s->below++;
  /* the lower median: the least level with more than half of them at or
   * below it (the docs' histogram median; its exact tie rule is not given) */
  const guint64 half = (s->med_n - 1) / 2;
  while (s->below > half) {
    s->medlevel--;
    s->below -= s->medbin[s->medlevel];
  }
  while (s->below + s->medbin[s->medlevel] <= half) {
    s->below += s->medbin[s->medlevel];
    s->medlevel++;
  }
  return s->medlevel;
}

/* ARTime's confidence: the similarity's distance below the vigilances
 * (0.35 ub, 0.65 lb) plus 1.5 (1 - energy similarity), capped at 1 and
 * rounded to 6 decimals; at least 1e-6 so that every detection is seen
 * (a row's score is 0 only where nothing was detected). */
static double confidence(const AtState *s, double fs, double es) {
  fs = MIN(fs, 0.999);
  const double ub = ((1 - fs) - (1 - s->art.rho_ub)) / (1 - fs);
  const double lb = ((1 - fs) - (1 - s->art.rho_lb)) / (1 - fs);
  double c = MIN(1.0, ub * 0.35 + lb * 0.65 + (1.0 - es) * 1.5);
  c = round(c * 1e6) / 1e6;
  return MAX(c, 1e-6);
}

static void update_rho(AtState *s) {
  const double ub = MIN(s->max_ub, s->ub_sum / (double)MAX(s->ub_n, 1u));
  double min_sim = s->sim_w[0];
  for (guint k = 1; k < s->n_sim_w; k++)
    min_sim = MIN(min_sim, s->sim_w[k]);
  double lb = s->art.rho_lb;
  if (lb <= min_sim) {
    lb += 0.19 * (min_sim - lb);
  } else {
    double sum = 0;
    guint m = 0;
    for (guint k = 0; k < s->n_diff_w; k++)
      if (s->diff_w[k] > 0.05) {
        sum += MIN(s->diff_w[k], 0.37);
        m++;
      }
    lb -= MAX(m ? sum / m : 0.0, 0.01);
    if (s->anomaly_sims->len) {
      double a = 0;
      for (guint k = 0; k < s->anomaly_sims->len; k++)
        a += g_array_index(s->anomaly_sims, double, k);
      lb = MAX(lb, a / s->anomaly_sims->len);
    }
  }
  s->art.rho_ub = ub;
  s->art.rho_lb = MIN(lb, ub);
}

/* detect!: classifies complement-coded @x, the @i-th downsampled point;
 * returns its confidence when it is an anomaly, else 0. */
static double detect(AtState *s, const double *x, guint64 i) {
  const gboolean past = i > s->init_at; /* the batch is never scored */
  const guint64 since = s->has_anomaly ? i - s->last_anomaly_i : G_MAXUINT64;
  const gboolean after_anomaly = since == s->mask;
  const guint half = MAX(s->trend_window / 2, 1u);
  const gboolean for_trend = i % half == 0;
  const gboolean mask_after_anomaly = since <= s->mask;
  if (s->mask_after_cat && s->no_new_cat >= s->mask)
    s->mask_after_cat = FALSE;
  double sim, esim;
  const gboolean new_cluster = dvfa_train(&s->art, x, &sim, &esim);
  s->no_new_cat = new_cluster ? 0 : s->no_new_cat + 1;
  s->ub_sum += sim;
  s->ub_n++;
  s->sim_w[i % s->n_sim_w] = sim;
  s->diff_w[i % s->n_diff_w] = s->art.rho_ub - sim;
  /* the lowest similarity inside an anomaly's mask stands for it */
  if (mask_after_anomaly && s->anomaly_sims->len) {
    double *last = &g_array_index(s->anomaly_sims, double, s->anomaly_sims->len - 1);
    *last = MIN(*last, sim);
  }
  double score = 0.0;
  const gboolean masking = s->mask_after_cat || mask_after_anomaly;
  const double scale = mask_after_anomaly ? 0.90 : 0.70;
  /* before any anomaly the docs give last_anomaly_sim no value: 1 (as the
   * similarity windows start at 1), so that a masked detector that has not
   * yet fired still reports a point far below every category */
  const double last = s->has_anomaly ? s->last_anomaly_sim : 1.0;
  const gboolean below_last = sim < last * scale;
  if (new_cluster && (!masking || below_last) && past) {
    score = confidence(s, sim, esim);
    g_array_append_val(s->anomaly_sims, sim);
    s->has_anomaly = TRUE;
    s->last_anomaly_i = i;
    s->last_anomaly_sim = sim;
  }
  if (past && (after_anomaly || for_trend)) {
    update_rho(s);
    s->mask_after_cat = TRUE;
    s->no_new_cat = 0; /* the mask lasts until `mask` points make no new cluster */
  }
  return score;
}

/* cosine similarity; against a zero vector, 1 - the other's norm, >= 0 */
static double cos_sim(const double *a, const double *b, guint n) {
  double ab = 0, aa = 0, bb = 0;
  for (guint k = 0; k < n; k++) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  if (aa == 0 || bb == 0)
    return MAX(0.0, 1.0 - sqrt(aa + bb));
  return ab / sqrt(aa * bb);
}

typedef struct {
  double key;
  guint idx;
} Order;

static int order_cmp(const void *pa, const void *pb) {
  const Order *a = pa, *b = pb;
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* init_rho: the probation features ordered by their summed similarity to
 * the others (least typical first) train a fresh DVFA at initial_rho; rho
 * is the mean similarity of the second half of that pass (from the
 * trend_window / 2-th sample on, as the docs say). The similarity is over
 * the raw features (not complement-coded). */
static double init_rho(AtState *s, const double *fx, guint m) {
  const guint d = 2 * s->nf, h = s->nf;
  g_autofree Order *ord = g_new0(Order, m);
  for (guint a = 0; a < m; a++) {
    ord[a].idx = a;
    for (guint b = 0; b < m; b++)
      ord[a].key += a == b ? 1.0 : cos_sim(fx + (gsize)a * d, fx + (gsize)b * d, h);
  }
  qsort(ord, m, sizeof *ord, order_cmp);
  Dvfa tmp;
  dvfa_init(&tmp, d, s->initial_rho);
  guint from = MIN(MAX(s->trend_window / 2, 1u), m) - 1, cnt = 0;
  double sum = 0;
  for (guint k = 0; k < m; k++) {
    double sim, esim;
    dvfa_train(&tmp, fx + (gsize)ord[k].idx * d, &sim, &esim);
    if (k >= from) {
      sum += sim;
      cnt++;
    }
  }
  dvfa_clear(&tmp);
  return m >= 2 && cnt ? sum / cnt : s->initial_rho;
}

/* process_features!: the probation points are kept, then learned in one
 * batch at init_at; later points are detected one by one. */
static double process_features(AtState *s, const double *x) {
  const guint d = 2 * s->nf;
  if (s->dsi < s->init_at) {
    g_array_append_vals(s->batch, x, d);
    return 0.0;
  }
  if (!s->ready) {
    g_array_append_vals(s->batch, x, d);
    const guint m = s->batch->len / d;
    const double rho = init_rho(s, (const double *)(gpointer)s->batch->data, m);
    dvfa_init(&s->art, d, rho);
    for (guint k = 0; k < m; k++) /* their indices: window .. init_at */
      detect(s, &g_array_index(s->batch, double, (gsize)k * d), s->dsi - (m - 1 - k));
    g_array_set_size(s->batch, 0);
    s->ready = TRUE;
    return 0.0;
  }
  return detect(s, x, s->dsi);
}

static double normalise(const AtState *s, double v) {
  if (!(s->hi > s->lo)) /* flat or empty range */
    return v == s->lo || !isfinite(s->lo) ? 0.5 : v > s->lo ? 1.0 : 0.0;
  return CLAMP((v - s->lo) / (s->hi - s->lo), 0.0, 1.0);
}

static double at_step(gpointer p, double x) {
  AtState *s = p;
  lathe_stream_range_update(s->running, &s->lo, &s->hi, x);
  s->ds[s->i % s->sstep] = x;
  s->i++;
  if (s->i % s->sstep)
    return 0.0;
  /* the spike or the mean of the step's rows (the docs also keep a moving
   * average of the downsampled values, without its rate: not used here) */
  double mean = 0, mx = s->ds[0], mn = s->ds[0];
  for (guint k = 0; k < s->sstep; k++) {
    mean += s->ds[k];
    mx = MAX(mx, s->ds[k]);
    mn = MIN(mn, s->ds[k]);
  }
  mean /= s->sstep;
  double v = mx - mean >= mean - mn ? mx : mn;
  if (fabs(v - mean) < 0.1 * fabs(mean))
    v = mean;
  const guint level = (guint)lround(normalise(s, v) * s->nlevels);
  const guint med = median_add(s, level);
  double q = (double)level / s->nlevels;
  if (fabs(q - (double)med / s->nlevels) <= s->chomp)
    q = (double)med / s->nlevels;
  s->fw[s->dsi % s->window] = q;
  s->dsi++;
  if (s->dsi < s->window)
    return 0.0;
  /* features: [Haar coefficients; window], both min-max normalised, then
   * complement-coded */
  const guint w = s->window;
  double *win = s->f + w;
  for (guint k = 0; k < w; k++)
    win[k] = s->fw[(s->dsi + k) % w];
  minmax(win, w);
  haar(win, s->f, s->tmp, w);
  minmax(s->f, w);
  if (s->nf > 2 * w) /* energy "level": the value before the window's min-max */
    s->f[2 * w] = s->fw[(s->dsi - 1) % w];
  double *x2 = s->tmp;
  for (guint k = 0; k < s->nf; k++) {
    x2[k] = s->f[k];
    x2[s->nf + k] = 1.0 - s->f[k];
  }
  return process_features(s, x2);
}

static const LatheStreamDetector at_det = {"transform/artime", "_artime", at_new, at_step,
                                           at_free, TRUE};

static gboolean at_run(LatheContext *ctx, GError **error) {
  const char *energy = lathe_context_param_string(ctx, "energy");
  if (g_strcmp0(energy, "last") && g_strcmp0(energy, "level")) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, at_det.component,
                            "energy '%s' is unknown; use \"last\" or \"level\"",
                            energy ? energy : "");
    return FALSE;
  }
  return lathe_stream_detect_run(ctx, &at_det, error);
}

const LatheTransformClass lathe_stream_artime_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "artime",
                         "streaming: ARTime-style detector (Hampton 2021): dual vigilance fuzzy "
                         "ART over Haar features of a downsampled window; the confidence of a "
                         "new cluster after probation, else 0",
                         at_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = at_run,
};
