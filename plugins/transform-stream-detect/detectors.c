/* Streaming anomaly detectors, each a transform that scores every row from
 * that row and the rows before it in its series (stream.c drives them).
 *
 * transform/windowed_gaussian: NAB's windowedGaussian detector (Numenta
 *   Anomaly Benchmark, Lavin & Ahmad 2015, nab/detectors/gaussian). The
 *   mean and standard deviation of the last `window` values before row t
 *   (a long window) give a Gaussian; the score is the tail of the mean of
 *   the last `short_window` values up to t (1 = the value itself, as NAB)
 *   under it, as -log10 of the two-sided tail probability. NAB reports
 *   1 - tail, which saturates at 1 in float for |z| > 5.5; -log10 is the
 *   same order without the ties. NAB moves its window in steps of 100 rows;
 *   this one slides by one row.
 * transform/anomaly_likelihood: Numenta's anomaly likelihood (S. Ahmad, A.
 *   Lavin, S. Purdy and Z. Agha, "Unsupervised real-time anomaly detection
 *   for streaming data", Neurocomputing 262, 2017, section 4), written from
 *   the paper, a post-processor of any score column: a Gaussian of the raw
 *   score over a long window (the `window` scores before the short window),
 *   the mean of the last `short_window` scores up to t, and the one-sided
 *   tail Q of that mean under the Gaussian; the paper's likelihood is 1 - Q
 *   and its alarm 1 - Q >= 1 - eps, so the score is -log10 Q (the log scale
 *   NAB reports, uncapped). The standard deviation is floored at `min_std`
 *   (a flat history would divide by zero). It shares the windowed
 *   Gaussian's running window (one copy); the difference is the paper's
 *   sigma (not the short mean's standard error) and the one-sided tail. The
 *   probation rows score 0, as NAB's learning period.
 * transform/bocpd: Bayesian online change point detection (R. P. Adams and
 *   D. J. C. MacKay, "Bayesian Online Changepoint Detection", 2007,
 *   arXiv:0710.3742), the model behind NAB's bayesChangePt: a run-length
 *   posterior with a constant hazard 1/hazard_lambda and a Normal-Gamma
 *   (unknown mean and variance) model per run, whose predictive is a
 *   Student t. The score is the surprise -log p(x_t | x_<t) under the
 *   run-length mixture. Values are first standardised by the mean and
 *   standard deviation of the values before t (so one prior fits every
 *   series); run lengths beyond max_run are merged into max_run.
 * transform/knn_cad: KNN conformal anomaly detection (E. Burnaev and V.
 *   Ishimtsev, "Conformalized density- and distance-based anomaly detection
 *   in time-series data", 2016, arXiv:1608.04585), as NAB's knncad: the
 *   vector of the last dim values is scored by alpha = the sum of its k
 *   smallest squared distances to the `training` latest earlier vectors;
 *   the score is the share of those vectors' own alphas (each computed when
 *   it came) below it. NAB's Mahalanobis metric and its alarm hold-off are
 *   left out (Euclidean; suppression is evaluator/nab's).
 * transform/relative_entropy (relative-entropy.c) and
 *   transform/context_novelty (contextual.c): NAB's relativeEntropy and a
 *   CAD OSE-like detector, on the probation rows' or a running value range.
 * transform/score_max (combine.c): the row-wise maximum of score columns;
 * transform/spatial_anomaly (spatial.c): a value leaving the running range. */
#include <math.h>
#include <string.h>

#include "stream.h"

/* -log10 of the two-sided normal tail of |z|, without underflow. */
static double neg_log10_tail(double z) {
  z = fabs(z);
  if (z < 30)
    return -log10(erfc(z / M_SQRT2));
  /* erfc(u) ~ exp(-u^2) / (u sqrt(pi)) */
  double u = z / M_SQRT2;
  return (u * u + log(u * sqrt(M_PI))) / M_LN10;
}

/* -log10 of the upper normal tail Q(z) = P(Z > z). */
static double neg_log10_upper(double z) {
  if (z > 0)
    return neg_log10_tail(z) + log10(2.0);
  return -log10(0.5 * erfc(z / M_SQRT2));
}

/* ---- windowed Gaussian ---- */

static const LatheParamSpec wg_params[] = {
    LATHE_PARAM_INT_("window", "6400", 2, 10000000,
                     "the long window: values before row t whose mean and standard deviation "
                     "make the Gaussian (NAB: 6400)"),
    LATHE_PARAM_INT_("short_window", "1", 1, 1000000,
                     "values up to row t whose mean is scored (1 = the value itself)"),
    LATHE_PARAM_INT_("min_history", "2", 2, 10000000,
                     "rows before this many values of history score 0"),
    LATHE_PARAM_STRING_("season", "\"none\"", 0,
                        "\"none\" = score the value; \"auto\" = score x_t - x_{t-P}, P the period "
                        "found in the probation rows (none found: the value), probation rows 0"),
    LATHE_PARAM_FLOAT_("min_acf", "0.3", -1, 1, 0,
                       "season auto: the smallest autocorrelation that counts as a period"),
    LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0, 1, 0,
                       "season auto: NAB's probationary period, min(floor(p n), p 5000) rows, "
                       "where the period is looked for"),
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

typedef struct {
  guint window, short_window, min_history;
  gboolean likelihood; /* transform/anomaly_likelihood's score (see above) */
  guint probation;
  double min_std;
  double *ring; /* the last window + short_window values, shifted by the first */
  guint cap;
  guint64 n;
  double shift;
  double hsum, hsq, ssum; /* sums over the history and the short window */
} WgState;

static gpointer wg_make(LatheContext *ctx, const LatheStreamSeries *series, gboolean likelihood) {
  WgState *s = g_new0(WgState, 1);
  s->window = (guint)lathe_context_param_int(ctx, "window");
  s->short_window = (guint)lathe_context_param_int(ctx, "short_window");
  s->min_history = (guint)lathe_context_param_int(ctx, "min_history");
  s->likelihood = likelihood;
  if (likelihood) {
    s->probation = lathe_stream_probation(ctx, series->n);
    s->min_std = lathe_context_param_float(ctx, "min_std");
  }
  s->cap = s->window + s->short_window + 1; /* + 1: the value leaving the history */
  s->ring = g_new0(double, s->cap);
  return s;
}

static gpointer wg_new(LatheContext *ctx, const LatheStreamSeries *series) {
  return wg_make(ctx, series, FALSE);
}

static gpointer al_new(LatheContext *ctx, const LatheStreamSeries *series) {
  return wg_make(ctx, series, TRUE);
}

static double wg_step(gpointer p, double x) {
  WgState *s = p;
  if (s->n == 0)
    s->shift = x; /* sums of shifted values keep the variance's cancellation small */
  double v = x - s->shift;
  /* The history is the window values before the short window ending at t.
   * Running sums, recomputed from the ring every 4096 rows so that rounding
   * cannot drift over a long series. */
  guint64 old_end = s->n > s->short_window ? s->n - s->short_window : 0;
  s->ring[s->n % s->cap] = v;
  s->n++;
  guint64 hist_end = s->n > s->short_window ? s->n - s->short_window : 0;
  guint64 hist_start = hist_end > s->window ? hist_end - s->window : 0;
  if (s->n % 4096 == 0) {
    s->hsum = s->hsq = s->ssum = 0;
    for (guint64 i = hist_start; i < hist_end; i++) {
      double u = s->ring[i % s->cap];
      s->hsum += u;
      s->hsq += u * u;
    }
    for (guint64 i = hist_end; i < s->n; i++)
      s->ssum += s->ring[i % s->cap];
  } else {
    s->ssum += v;
    if (hist_end > old_end) { /* one value moves from the short window to the history */
      double u = s->ring[old_end % s->cap];
      s->ssum -= u;
      s->hsum += u;
      s->hsq += u * u;
      if (hist_end - hist_start == s->window && hist_start > 0) {
        double w = s->ring[(hist_start - 1) % s->cap];
        s->hsum -= w;
        s->hsq -= w * w;
      }
    }
  }
  guint64 h = hist_end - hist_start;
  if (h < s->min_history)
    return 0.0;
  double mean = s->hsum / (double)h;
  double var = MAX(0.0, (s->hsq - s->hsum * mean) / (double)(h - 1));
  double m = (double)(s->n - hist_end);
  double shortm = s->ssum / m, se = sqrt(var / m);
  if (s->likelihood)
    return s->n <= s->probation ? 0.0
                                : neg_log10_upper((shortm - mean) / MAX(sqrt(var), s->min_std));
  if (!(se > 1e-12 * (1 + fabs(mean))))
    return fabs(shortm - mean) <= 1e-12 * (1 + fabs(mean)) ? 0.0 : neg_log10_tail(30.0);
  return neg_log10_tail((shortm - mean) / se);
}

static void wg_free(gpointer p) {
  WgState *s = p;
  g_free(s->ring);
  g_free(s);
}

static const LatheStreamDetector wg_det = {"transform/windowed_gaussian", "_wg", wg_new,
                                           wg_step, wg_free, FALSE};

/* ---- the windowed Gaussian of a seasonal difference (season "auto") ----
 * Many series repeat daily or weekly, and an anomaly there is often a value
 * that is ordinary for the series but not for its hour (NAB's art_daily_*
 * files, traffic, tweets). Scoring x_t - x_{t-P} removes the repeated shape:
 * the seasonal naive forecast's residual (Hyndman & Athanasopoulos,
 * "Forecasting: principles and practice", 3rd ed., 2021, section 5.2). P is
 * the lag, after the autocorrelation of the probation rows first goes below
 * 0, where it is highest (the unbiased estimate, lags up to half the rows):
 * a trend or a random walk never goes below 0 and has no period. Below
 * min_acf there is no period either, and the value itself is scored, as the
 * plain detector does. The probation rows score 0 (NAB scores none of them):
 * at the first row after them P is chosen, and their differences fill the
 * Gaussian's window in order before that row is scored. */

typedef struct {
  WgState *wg;
  double min_acf;
  guint probation, cap, period;
  double *hist; /* the probation rows, then a ring of the last cap values */
  guint64 n;
} SeState;

/* The period of @y[0..@n) as above; 0 = none. */
static guint se_period(const double *y, guint n, double min_acf) {
  if (n < 8)
    return 0;
  double m = 0, c0 = 0;
  for (guint i = 0; i < n; i++)
    m += y[i];
  m /= n;
  for (guint i = 0; i < n; i++)
    c0 += (y[i] - m) * (y[i] - m);
  c0 /= n;
  if (!(c0 > 1e-12 * (1 + m * m)))
    return 0; /* flat */
  gboolean crossed = FALSE;
  guint best = 0;
  double best_acf = min_acf;
  for (guint k = 1; k <= n / 2; k++) {
    double c = 0;
    for (guint i = 0; i + k < n; i++)
      c += (y[i] - m) * (y[i + k] - m);
    double acf = c / (n - k) / c0;
    if (acf < 0)
      crossed = TRUE;
    else if (crossed && acf >= best_acf) {
      best = k;
      best_acf = acf;
    }
  }
  return best;
}

static gpointer se_new(LatheContext *ctx, const LatheStreamSeries *series) {
  SeState *s = g_new0(SeState, 1);
  s->wg = wg_make(ctx, series, FALSE);
  s->probation = lathe_stream_probation(ctx, series->n);
  s->min_acf = lathe_context_param_float(ctx, "min_acf");
  s->cap = MAX(s->probation, 1);
  s->hist = g_new0(double, s->cap);
  return s;
}

static double se_step(gpointer p, double x) {
  SeState *s = p;
  if (s->n < s->probation) {
    s->hist[s->n++] = x;
    return 0.0;
  }
  if (s->n == s->probation) {
    s->period = se_period(s->hist, s->probation, s->min_acf);
    for (guint i = s->period; i < s->probation; i++)
      wg_step(s->wg, s->hist[i] - (s->period ? s->hist[i - s->period] : 0.0));
  }
  double r = x - (s->period ? s->hist[(s->n - s->period) % s->cap] : 0.0);
  s->hist[s->n++ % s->cap] = x;
  return wg_step(s->wg, r);
}

static void se_free(gpointer p) {
  SeState *s = p;
  wg_free(s->wg);
  g_free(s->hist);
  g_free(s);
}

static const LatheStreamDetector se_det = {"transform/windowed_gaussian", "_wg", se_new,
                                           se_step, se_free, FALSE};

static gboolean wg_run(LatheContext *ctx, GError **error) {
  const char *season = lathe_context_param_string(ctx, "season");
  if (g_strcmp0(season, "none") && g_strcmp0(season, "auto")) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, se_det.component,
                            "season '%s' is unknown; use \"none\" or \"auto\"",
                            season ? season : "");
    return FALSE;
  }
  return lathe_stream_detect_run(ctx, g_strcmp0(season, "auto") ? &wg_det : &se_det, error);
}

static const LatheTransformClass wg_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "windowed_gaussian",
                         "streaming: tail of the short-window mean under the long window's "
                         "Gaussian (NAB's windowedGaussian), -log10 tail",
                         wg_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = wg_run,
};

/* ---- anomaly likelihood (the windowed Gaussian's window, the paper's tail) ---- */

static const LatheParamSpec al_params[] = {
    LATHE_PARAM_INT_("window", "8640", 2, 10000000,
                     "the long window: scores before the short window whose mean and standard "
                     "deviation make the Gaussian"),
    LATHE_PARAM_INT_("short_window", "10", 1, 1000000,
                     "scores up to row t whose mean is scored (the paper's W')"),
    LATHE_PARAM_INT_("min_history", "2", 2, 10000000,
                     "rows before this many scores of history score 0"),
    LATHE_PARAM_FLOAT_("min_std", "0.0001", 1e-300, 1e300, 0,
                       "floor of the long window's standard deviation"),
    LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0, 1, 0,
                       "NAB's probationary period: min(floor(p n), p 5000) rows of a series of "
                       "n rows score 0 (they are learned)"),
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

static const LatheStreamDetector al_det = {"transform/anomaly_likelihood", "_al", al_new,
                                           wg_step, wg_free, FALSE};

static gboolean al_run(LatheContext *ctx, GError **error) {
  return lathe_stream_detect_run(ctx, &al_det, error);
}

static const LatheTransformClass al_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "anomaly_likelihood",
                         "streaming post-processor of a score column: Numenta's anomaly "
                         "likelihood (Ahmad et al. 2017), -log10 of the short mean's tail",
                         al_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = al_run,
};

/* ---- Bayesian online change point ---- */

static const LatheParamSpec bo_params[] = {
    LATHE_PARAM_FLOAT_("hazard_lambda", "250", 1, 1e9, 0,
                        "expected run length between change points (hazard 1/lambda)"),
    LATHE_PARAM_INT_("max_run", "300", 2, 100000,
                     "run lengths kept; longer runs are merged into the last"),
    LATHE_PARAM_FLOAT_("kappa0", "0.1", 1e-9, 1e9, 0, "Normal-Gamma prior: pseudo-counts of the mean"),
    LATHE_PARAM_FLOAT_("alpha0", "1", 1e-9, 1e9, 0, "Normal-Gamma prior: shape"),
    LATHE_PARAM_FLOAT_("beta0", "1", 1e-9, 1e9, 0,
                        "Normal-Gamma prior: rate (in standardised units)"),
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

typedef struct {
  double hazard, kappa0, alpha0, beta0;
  guint max_run, len;               /* run lengths 0..len-1 live */
  double *p, *mu, *kappa, *alpha, *beta, *np; /* posterior and per-run params */
  /* the standardisation's running moments (Welford) */
  guint64 n;
  double mean, m2;
} BoState;

static gpointer bo_new(LatheContext *ctx, const LatheStreamSeries *series) {
  BoState *s = g_new0(BoState, 1);
  s->hazard = 1.0 / lathe_context_param_float(ctx, "hazard_lambda");
  s->kappa0 = lathe_context_param_float(ctx, "kappa0");
  s->alpha0 = lathe_context_param_float(ctx, "alpha0");
  s->beta0 = lathe_context_param_float(ctx, "beta0");
  s->max_run = (guint)lathe_context_param_int(ctx, "max_run");
  guint m = s->max_run + 1;
  s->p = g_new0(double, m);
  s->mu = g_new0(double, m);
  s->kappa = g_new0(double, m);
  s->alpha = g_new0(double, m);
  s->beta = g_new0(double, m);
  s->np = g_new0(double, m);
  s->len = 1;
  s->p[0] = 1;
  s->mu[0] = 0;
  s->kappa[0] = s->kappa0;
  s->alpha[0] = s->alpha0;
  s->beta[0] = s->beta0;
  return s;
}

/* log of the Student-t predictive of run r at y. */
static double bo_log_pred(const BoState *s, guint r, double y) {
  double nu = 2 * s->alpha[r];
  double scale2 = s->beta[r] * (s->kappa[r] + 1) / (s->alpha[r] * s->kappa[r]);
  double e = y - s->mu[r];
  return lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * log(nu * M_PI * scale2) -
         (nu + 1) / 2 * log1p(e * e / (nu * scale2));
}

static double bo_step(gpointer p, double x) {
  BoState *s = p;
  /* standardise by the values before t only */
  double sd = s->n >= 2 ? sqrt(s->m2 / (double)(s->n - 1)) : 0;
  double y = s->n >= 1 ? (x - s->mean) / (sd > 0 ? sd : 1.0) : 0.0;
  s->n++;
  double delta = x - s->mean;
  s->mean += delta / (double)s->n;
  s->m2 += delta * (x - s->mean);
  if (!isfinite(y))
    y = 0;
  double *lp = s->np; /* scratch: log predictive per run */
  double mx = -INFINITY;
  for (guint r = 0; r < s->len; r++) {
    lp[r] = bo_log_pred(s, r, y) + log(s->p[r]);
    mx = MAX(mx, lp[r]);
  }
  double evidence = 0;
  for (guint r = 0; r < s->len; r++)
    evidence += exp(lp[r] - mx);
  double surprise = -(log(evidence) + mx);
  /* growth and change, normalised */
  double cp = 0;
  guint newlen = MIN(s->len + 1, s->max_run + 1);
  g_autofree double *grow = g_new(double, newlen);
  for (guint r = 0; r < newlen; r++)
    grow[r] = 0;
  for (guint r = 0; r < s->len; r++) {
    double w = exp(lp[r] - mx);
    cp += w * s->hazard;
    grow[MIN(r + 1, s->max_run)] += w * (1 - s->hazard);
  }
  grow[0] = cp;
  /* the parameters of each run after y; merged runs keep the older one's */
  for (guint r = newlen - 1; r >= 1; r--) {
    guint from = r - 1;
    if (r == s->max_run && s->len == s->max_run + 1)
      from = s->max_run; /* the merged tail keeps accumulating */
    double k = s->kappa[from], m = s->mu[from];
    double nk = k + 1, nmu = (k * m + y) / nk;
    double na = s->alpha[from] + 0.5;
    double nb = s->beta[from] + k * (y - m) * (y - m) / (2 * nk);
    /* write after reading from (from <= r, descending order keeps reads valid
     * except the merged tail, which reads itself) */
    s->kappa[r] = nk;
    s->mu[r] = nmu;
    s->alpha[r] = na;
    s->beta[r] = nb;
  }
  s->kappa[0] = s->kappa0;
  s->mu[0] = 0;
  s->alpha[0] = s->alpha0;
  s->beta[0] = s->beta0;
  double total = 0;
  for (guint r = 0; r < newlen; r++)
    total += grow[r];
  for (guint r = 0; r < newlen; r++)
    s->p[r] = total > 0 ? grow[r] / total : (r == 0);
  s->len = newlen;
  return isfinite(surprise) ? surprise : 1e6;
}

static void bo_free(gpointer p) {
  BoState *s = p;
  g_free(s->p);
  g_free(s->mu);
  g_free(s->kappa);
  g_free(s->alpha);
  g_free(s->beta);
  g_free(s->np);
  g_free(s);
}

static const LatheStreamDetector bo_det = {"transform/bocpd", "_bocpd", bo_new, bo_step,
                                           bo_free, FALSE};

static gboolean bo_run(LatheContext *ctx, GError **error) {
  return lathe_stream_detect_run(ctx, &bo_det, error);
}

static const LatheTransformClass bo_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "bocpd",
                         "streaming: Bayesian online change point detection (Adams & MacKay "
                         "2007), surprise -log p(x_t | past)",
                         bo_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = bo_run,
};

/* ---- KNN CAD ---- */

static const LatheParamSpec kn_params[] = {
    LATHE_PARAM_INT_("dim", "19", 1, 1000, "the last dim values make one vector (NAB: 19)"),
    LATHE_PARAM_INT_("k", "27", 1, 10000, "neighbours summed in the non-conformity measure (NAB: 27)"),
    LATHE_PARAM_INT_("training", "750", 2, 1000000,
                     "vectors kept as the reference set, the latest ones (NAB: the probation "
                     "period, at most 750 rows); rows before it is full score 0"),
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

typedef struct {
  guint dim, k, cap;
  double *vals;   /* the last dim values, ring */
  double *vecs;   /* cap vectors of dim, ring */
  double *alphas; /* each kept vector's non-conformity when it came */
  double *dist;   /* scratch */
  guint n_vecs;
  guint64 n, next;
} KnState;

static gpointer kn_new(LatheContext *ctx, const LatheStreamSeries *series) {
  KnState *s = g_new0(KnState, 1);
  s->dim = (guint)lathe_context_param_int(ctx, "dim");
  s->k = (guint)lathe_context_param_int(ctx, "k");
  s->cap = (guint)lathe_context_param_int(ctx, "training");
  s->vals = g_new0(double, s->dim);
  s->vecs = g_new0(double, (gsize)s->cap * s->dim);
  s->alphas = g_new0(double, s->cap);
  s->dist = g_new0(double, s->cap);
  return s;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sum of the k smallest squared Euclidean distances from @v to the kept
 * vectors (fewer when fewer are kept). */
static double kn_alpha(KnState *s, const double *v) {
  for (guint i = 0; i < s->n_vecs; i++) {
    const double *w = s->vecs + (gsize)i * s->dim;
    double d = 0;
    for (guint j = 0; j < s->dim; j++)
      d += (v[j] - w[j]) * (v[j] - w[j]);
    s->dist[i] = d;
  }
  qsort(s->dist, s->n_vecs, sizeof(double), cmp_dbl);
  double a = 0;
  for (guint i = 0; i < MIN(s->k, s->n_vecs); i++)
    a += s->dist[i];
  return a;
}

static double kn_step(gpointer p, double x) {
  KnState *s = p;
  s->vals[s->n % s->dim] = x;
  s->n++;
  if (s->n < s->dim)
    return 0.0;
  double v[1000];
  for (guint j = 0; j < s->dim; j++) /* oldest first */
    v[j] = s->vals[(s->n + j) % s->dim];
  double alpha = kn_alpha(s, v);
  double score = 0.0;
  if (s->n_vecs == s->cap) {
    guint below = 0;
    for (guint i = 0; i < s->n_vecs; i++)
      below += s->alphas[i] < alpha;
    score = (double)below / s->n_vecs; /* the conformal p-value's complement */
  }
  guint slot = (guint)(s->next++ % s->cap);
  memcpy(s->vecs + (gsize)slot * s->dim, v, sizeof(double) * s->dim);
  s->alphas[slot] = alpha;
  if (s->n_vecs < s->cap)
    s->n_vecs++;
  return score;
}

static void kn_free(gpointer p) {
  KnState *s = p;
  g_free(s->vals);
  g_free(s->vecs);
  g_free(s->alphas);
  g_free(s->dist);
  g_free(s);
}

static const LatheStreamDetector kn_det = {"transform/knn_cad", "_knncad", kn_new, kn_step,
                                           kn_free, FALSE};

static gboolean kn_run(LatheContext *ctx, GError **error) {
  return lathe_stream_detect_run(ctx, &kn_det, error);
}

static const LatheTransformClass kn_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "knn_cad",
                         "streaming: KNN conformal anomaly detection (Burnaev & Ishimtsev 2016, "
                         "NAB's knncad), share of kept vectors less non-conforming",
                         kn_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = kn_run,
};

LATHE_PLUGIN_DEFINE("transform-stream-detect", "0.1.0", "MIT",
                    "streaming anomaly detectors: windowed Gaussian, Bayesian change point, KNN "
                    "CAD, relative entropy, context novelty, spatial anomalies, ARTime; the anomaly "
                    "likelihood of a score; the row-wise maximum of scores",
                    LATHE_COMPONENT(wg_class), LATHE_COMPONENT(bo_class), LATHE_COMPONENT(kn_class),
                    LATHE_COMPONENT(lathe_stream_relative_entropy_class),
                    LATHE_COMPONENT(lathe_stream_context_novelty_class),
                    LATHE_COMPONENT(lathe_stream_score_max_class), LATHE_COMPONENT(al_class),
                    LATHE_COMPONENT(lathe_stream_spatial_class),
                    LATHE_COMPONENT(lathe_stream_artime_class))
