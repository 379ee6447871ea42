/* transform/relative_entropy: relative entropy (Kullback-Leibler) anomaly
 * detection, C. Wang, K. Viswanathan, L. Choudur, V. Talwar, W. Satterfield
 * and K. Schwan, "Statistical techniques for online anomaly detection in data
 * centers", IFIP/IEEE IM 2011, as NAB's relativeEntropy detector runs it
 * (numenta/NAB, nab/detectors/relative_entropy):
 *
 * - each value is quantised to B = ceil((x - lo) / step), step = (hi - lo) /
 *   bins, and the last `window` values' B make a histogram P of `bins` bins
 *   (numpy's: B = bins falls into the last bin, with bins - 1);
 * - the detector keeps hypotheses (earlier histograms) and how many windows
 *   agreed with each. A window agrees with the hypothesis nearest in 2 W
 *   KL(P || Q) when that statistic is below the chi-square quantile of
 *   1 - significance with bins - 1 degrees of freedom; then its count grows
 *   and the score is 1 when the count is still <= rare_count (a rare
 *   pattern). When none agrees, P becomes a new hypothesis and the score is
 *   1. Otherwise 0. The first window becomes the first hypothesis.
 *
 * NAB takes lo and hi from the whole file, which a stream cannot know; here
 * they are the probation rows' (range "probation", stream.c's
 * probation_range: those rows score 0, as NAB never scores them, and later
 * values outside [lo, hi] fall in the end bins) or the running min and max
 * (range "running": the window is re-binned when they move, the hypotheses
 * keep their bins). A flat range is widened to [lo - 0.5, lo + 0.5] so that
 * a later change is seen (NAB scores a flat file 0 throughout).
 *
 * score "binary" is NAB's; "pvalue" and "share" grade it (re_params). */
#include <math.h>
#include <string.h>

#include "stream.h"

static const LatheParamSpec re_params[] = {
    LATHE_PARAM_INT_("window", "52", 2, 1000000, "values per histogram (NAB: 52)"),
    LATHE_PARAM_INT_("bins", "5", 2, 1000, "histogram bins (NAB: 5)"),
    LATHE_PARAM_FLOAT_("significance", "0.01", 1e-9, 0.5, 0,
                        "a window agrees with a hypothesis when 2 W KL is below the chi-square "
                        "quantile of 1 - significance, bins - 1 degrees of freedom (NAB: 0.01)"),
    LATHE_PARAM_INT_("rare_count", "1", 0, 1000000,
                     "an agreeing hypothesis seen at most this many times is an anomaly (NAB: 1)"),
    LATHE_PARAM_STRING_("score", "\"binary\"", 0,
                        "\"binary\": NAB's 0 or 1; \"pvalue\": the chi-square CDF of the "
                        "statistic against the nearest hypothesis (1 - its p-value), 1 for a "
                        "new or rare hypothesis, so that thresholds can be graded; \"share\": "
                        "the share of the last `window` rows whose binary score was 1"),
    LATHE_STREAM_PROBATION_PARAM,
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

/* The regularised lower incomplete gamma P(a, x), by its series (converges
 * for every x; the few hundred terms it needs here are cheap). */
static double gamma_p(double a, double x) {
  if (x <= 0)
    return 0.0;
  double term = 1.0 / a, sum = term;
  for (int n = 1; n < 10000 && term > sum * 1e-16; n++) {
    term *= x / (a + n);
    sum += term;
  }
  return exp(-x + a * log(x) - lgamma(a)) * sum;
}

/* The chi-square quantile: x with P(k/2, x/2) = p, by bisection. */
static double chi2_quantile(double k, double p) {
  double lo = 0.0, hi = 1.0;
  while (gamma_p(k / 2, hi / 2) < p)
    hi *= 2;
  for (int i = 0; i < 200; i++) {
    double mid = (lo + hi) / 2;
    if (gamma_p(k / 2, mid / 2) < p)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

typedef struct {
  guint window, bins, rare;
  gboolean running, pvalue, share;
  guint8 *hits; /* score "share": the last window rows' binary scores, ring */
  guint n_hits;
  double lo, hi, limit, dof;
  double *ring; /* the window's values */
  guint *count; /* the window's histogram */
  guint64 n;
  GArray *hyp;   /* hypotheses: bins doubles each, normalised */
  GArray *seen;  /* guint per hypothesis */
  double *p;     /* scratch: the window's histogram, normalised */
} ReState;

static gpointer re_new(LatheContext *ctx, const LatheStreamSeries *series) {
  ReState *s = g_new0(ReState, 1);
  s->window = (guint)lathe_context_param_int(ctx, "window");
  s->bins = (guint)lathe_context_param_int(ctx, "bins");
  s->rare = (guint)lathe_context_param_int(ctx, "rare_count");
  s->dof = s->bins - 1.0;
  s->limit = chi2_quantile(s->dof, 1.0 - lathe_context_param_float(ctx, "significance"));
  s->pvalue = g_strcmp0(lathe_context_param_string(ctx, "score"), "pvalue") == 0;
  s->share = g_strcmp0(lathe_context_param_string(ctx, "score"), "share") == 0;
  s->hits = g_new0(guint8, s->window);
  s->running = series->running;
  s->lo = series->lo;
  s->hi = series->hi;
  s->ring = g_new0(double, s->window);
  s->count = g_new0(guint, s->bins);
  s->hyp = g_array_new(FALSE, FALSE, sizeof(double));
  s->seen = g_array_new(FALSE, FALSE, sizeof(guint));
  s->p = g_new0(double, s->bins);
  return s;
}

/* sum p log(p / q) over p > 0 (scipy's entropy(p, q)); +inf where q = 0 < p */
static double kl(const double *p, const double *q, guint bins) {
  double d = 0.0;
  for (guint b = 0; b < bins; b++)
    if (p[b] > 0)
      d += q[b] > 0 ? p[b] * log(p[b] / q[b]) : INFINITY;
  return d;
}

/* The bin of @x: ceil((x - lo) / step) clamped to the bins, over [lo, hi]
 * widened to [lo - 0.5, lo + 0.5] when flat (or empty) so that a later
 * change is seen (NAB scores a flat file 0 throughout). */
static guint re_bin(const ReState *s, double x) {
  double lo = s->lo, hi = s->hi;
  if (!(hi > lo)) {
    lo = isfinite(lo) ? lo - 0.5 : -0.5;
    hi = lo + 1.0;
  }
  double q = ceil((x - lo) / ((hi - lo) / s->bins));
  return q <= 0 ? 0 : q >= s->bins - 1 ? s->bins - 1 : (guint)q;
}

static double re_score(ReState *s, double x);

/* score "share": the binary score smoothed over the last window rows */
static double re_step(gpointer state, double x) {
  ReState *s = state;
  if (!s->share)
    return re_score(s, x);
  const guint slot = (guint)(s->n % s->window); /* re_score advances n */
  const guint8 hit = re_score(s, x) >= 1.0;
  s->n_hits += hit;
  s->n_hits -= s->hits[slot];
  s->hits[slot] = hit;
  return (double)s->n_hits / s->window;
}

static double re_score(ReState *s, double x) {
  guint slot = (guint)(s->n % s->window);
  if (s->n >= s->window)
    s->count[re_bin(s, s->ring[slot])]--;
  s->ring[slot] = x;
  s->n++;
  if (lathe_stream_range_update(s->running, &s->lo, &s->hi, x)) {
    /* the running range moved: the window is re-binned over the new range;
     * the hypotheses keep the bins they were made with */
    memset(s->count, 0, s->bins * sizeof(guint));
    for (guint i = 0; i < MIN(s->n, (guint64)s->window); i++)
      s->count[re_bin(s, s->ring[i])]++;
  } else {
    s->count[re_bin(s, x)]++;
  }
  if (s->n < s->window)
    return 0.0;
  for (guint i = 0; i < s->bins; i++)
    s->p[i] = (double)s->count[i] / s->window;
  const guint m = s->seen->len;
  gint best = -1;
  double best_d = INFINITY;
  for (guint h = 0; h < m; h++) {
    double d = 2.0 * s->window *
               kl(s->p, &g_array_index(s->hyp, double, (gsize)h * s->bins), s->bins);
    if (d < s->limit && d < best_d) {
      best_d = d;
      best = (gint)h;
    }
  }
  if (best >= 0) {
    guint *c = &g_array_index(s->seen, guint, best);
    (*c)++;
    if (*c <= s->rare)
      return 1.0;
    return s->pvalue ? gamma_p(s->dof / 2, best_d / 2) : 0.0;
  }
  /* no hypothesis agrees (or none yet): a new one */
  g_array_append_vals(s->hyp, s->p, s->bins);
  guint one = 1;
  g_array_append_val(s->seen, one);
  return m == 0 ? 0.0 : 1.0;
}

static void re_free(gpointer state) {
  ReState *s = state;
  g_free(s->ring);
  g_free(s->hits);
  g_free(s->count);
  g_array_unref(s->hyp);
  g_array_unref(s->seen);
  g_free(s->p);
  g_free(s);
}

static const LatheStreamDetector re_det = {"transform/relative_entropy", "_re", re_new, re_step,
                                           re_free, TRUE};

static gboolean re_run(LatheContext *ctx, GError **error) {
  const char *score = lathe_context_param_string(ctx, "score");
  if (g_strcmp0(score, "binary") && g_strcmp0(score, "pvalue") && g_strcmp0(score, "share")) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, re_det.component,
                            "score '%s' is unknown; use \"binary\", \"pvalue\" or \"share\"",
                            score ? score : "");
    return FALSE;
  }
  return lathe_stream_detect_run(ctx, &re_det, error);
}

const LatheTransformClass lathe_stream_relative_entropy_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "relative_entropy",
                         "streaming: relative entropy of the last window's histogram against "
                         "the hypotheses seen (Wang et al. 2011, NAB's relativeEntropy), in [0, 1]",
                         re_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = re_run,
};
