/* tune-parzen.c: Optuna 3.1's Parzen estimator and truncated-normal helpers.
 * The formulas follow optuna/samplers/_tpe/parzen_estimator.py and
 * _truncnorm.py line by line; comments mark where they differ. */
#include "tune-parzen.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define LOG_SQRT_2PI 0.91893853320467274178

/* ---- normal distribution helpers (Optuna's _truncnorm.py) --------------- */

static double ndtr(double a) {
  double x = a / G_SQRT2;
  if (x < -1 / G_SQRT2)
    return 0.5 * erfc(-x);
  if (x < 1 / G_SQRT2)
    return 0.5 + 0.5 * erf(x);
  return 1.0 - 0.5 * erfc(x);
}

double lathe_tune_log_ndtr(double a) {
  if (a > 6)
    return -ndtr(-a);
  if (a > -20)
    return log(ndtr(a));
  /* The asymptotic series of the left tail, summed until it settles. */
  double log_lhs = -0.5 * a * a - log(-a) - 0.5 * log(2 * G_PI);
  double last = 0, rhs = 1, num = 1, denom_factor = 1, denom_cons = 1 / (a * a);
  int sign = 1;
  for (int i = 1; fabs(last - rhs) > DBL_EPSILON && i < 200; i++) {
    last = rhs;
    sign = -sign;
    denom_factor *= denom_cons;
    num *= 2 * i - 1;
    rhs += sign * num * denom_factor;
  }
  return log_lhs + log(rhs);
}

static double log_diff(double log_p, double log_q) {
  return log_p + log1p(-exp(log_q - log_p));
}

double lathe_tune_log_gauss_mass(double a, double b) {
  if (b <= 0)
    return log_diff(lathe_tune_log_ndtr(b), lathe_tune_log_ndtr(a));
  if (a > 0)
    return log_diff(lathe_tune_log_ndtr(-a), lathe_tune_log_ndtr(-b));
  /* Optuna's vectorised _ndtr here, not the tail-aware one above. */
  return log1p(-(0.5 + 0.5 * erf(a / G_SQRT2)) - (0.5 + 0.5 * erf(-b / G_SQRT2)));
}

static double log_add(double a, double b) {
  double m = a > b ? a : b;
  if (m == -INFINITY)
    return -INFINITY;
  return m + log(exp(a - m) + exp(b - m));
}

/* The x with log Phi(x) = y. Optuna bisects 100 times on [-100, 100]; Newton
 * on log Phi (concave, so the iterates close in from the left after one
 * step) reaches the same root to rounding in a handful of steps. */
static double ndtri_exp(double y) {
  if (!(y < 0))
    return 100;
  double x;
  if (y < -700) {
    x = -sqrt(-2 * y);
  } else {
    double p = exp(y), pl = p < 0.5 ? p : -expm1(y);
    /* Abramowitz & Stegun 26.2.23 as the start, |error| < 4.5e-4. */
    double t = sqrt(-2 * log(pl));
    x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    if (p < 0.5)
      x = -x;
  }
  for (int it = 0; it < 60; it++) {
    double lf = lathe_tune_log_ndtr(x);
    double d = exp(-0.5 * x * x - LOG_SQRT_2PI - lf);
    if (!(d > 0) || !isfinite(d))
      break;
    double step = (lf - y) / d;
    x -= step;
    if (x < -100)
      x = -100;
    if (x > 100)
      x = 100;
    if (fabs(step) <= 1e-15 * (1 + fabs(x)))
      break;
  }
  return x;
}

double lathe_tune_truncnorm_ppf(double q, double a, double b) {
  if (q <= 0)
    return a;
  if (q >= 1)
    return b;
  double x;
  if (a < 0)
    x = ndtri_exp(log_add(lathe_tune_log_ndtr(a), log(q) + lathe_tune_log_gauss_mass(a, b)));
  else
    x = -ndtri_exp(log_add(lathe_tune_log_ndtr(-b), log1p(-q) + lathe_tune_log_gauss_mass(a, b)));
  /* Rounding can step just outside; Optuna leaves it there, which only
   * happens in the last ulp. */
  return x < a ? a : x > b ? b : x;
}

/* ---- the estimator ------------------------------------------------------ */

typedef struct {
  guint dim;
  LatheTuneKind kind;
  gboolean log;
  double lo, hi;     /* native bounds (hi on the grid for stepped dims) */
  double low, high;  /* bounds in the model's scale */
  double q;          /* the grid step in the model's scale, 0 for none */
  guint n_choices;
  double *mu;        /* n_comp */
  double *sigma;     /* n_comp */
  double *lnorm;     /* n_comp: log mass of [low, high] (+ log sigma) */
  double *lsig;      /* n_comp: log sigma */
  double *logp;      /* categorical: n_comp x n_choices log probabilities */
  double *cum;       /* categorical: n_comp x n_choices cumulative probs */
  double cur_m, cur_lb, cur_ub; /* the value being scored, and its grid cell */
  guint cur_c;
} PDim;

struct _LatheTuneParzen {
  guint n_comp;
  guint n_dims;
  double *log_w;  /* n_comp */
  double *cum_w;  /* n_comp */
  double *acc;    /* n_comp scratch for log_pdf */
  PDim *pd;
  gboolean normalized;
};

/* Optuna's _calculate_parzen_bounds and the native grid. */
static void dim_bounds(const LatheTuneDim *d, PDim *p) {
  p->kind = d->kind;
  p->log = d->log;
  p->lo = d->lo;
  p->hi = d->hi;
  p->q = 0;
  double step = d->step > 0 ? d->step : (d->kind == LATHE_TUNE_INT ? 1 : 0);
  if (step > 0 && !d->log)
    p->hi = d->lo + floor((d->hi - d->lo) / step + 1e-9) * step;
  if (d->kind == LATHE_TUNE_FLOAT) {
    if (d->log) {
      p->low = log(d->lo);
      p->high = log(d->hi);
    } else if (step > 0) {
      p->q = step;
      p->low = d->lo - 0.5 * step;
      p->high = p->hi + 0.5 * step;
    } else {
      p->low = d->lo;
      p->high = d->hi;
    }
  } else if (d->log) {
    p->low = log(d->lo - 0.5);
    p->high = log(d->hi + 0.5);
  } else {
    p->q = step;
    p->low = d->lo - 0.5 * step;
    p->high = p->hi + 0.5 * step;
  }
}

static double to_model(const PDim *p, double v) {
  return p->log ? log(v) : v;
}

/* Optuna's _transform_from_uniform, with the clip also applied to log
 * floats so that exp() rounding never leaves the bounds. */
static double from_model(const PDim *p, double s) {
  double v;
  if (p->log) {
    v = exp(s);
    if (p->kind == LATHE_TUNE_INT)
      v = round(v);
  } else if (p->q > 0) {
    v = round((s - p->lo) / p->q) * p->q + p->lo;
  } else {
    v = s;
  }
  return v < p->lo ? p->lo : v > p->hi ? p->hi : v;
}

typedef struct {
  double v;
  guint i;
} Keyed;

static gint cmp_keyed(gconstpointer a, gconstpointer b, gpointer data) {
  (void)data;
  const Keyed *x = a, *y = b;
  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Optuna's _calculate_numerical_params: neighbour-gap bandwidths (or
 * Scott's rule when multivariate), clipped; the prior is the last component.
 * numpy's argsort is not stable for large arrays; ties are broken by
 * position here. */
static void numeric_params(PDim *p, const double *const *obs, guint n_obs, gboolean prior,
                           const LatheTuneParzenParams *par, double sigma0, Keyed *tmp,
                           double *sorted) {
  guint n = n_obs + (prior ? 1 : 0);
  for (guint j = 0; j < n_obs; j++)
    p->mu[j] = to_model(p, obs[j][p->dim]);
  if (prior)
    p->mu[n_obs] = 0.5 * (p->low + p->high);
  double range = p->high - p->low;
  if (par->multivariate) {
    for (guint k = 0; k < n; k++)
      p->sigma[k] = sigma0 * range;
  } else {
    for (guint k = 0; k < n; k++)
      tmp[k] = (Keyed){p->mu[k], k};
    g_qsort_with_data(tmp, (gint)n, sizeof(Keyed), cmp_keyed, NULL);
    /* sorted = [low, mus..., high] */
    sorted[0] = p->low;
    for (guint k = 0; k < n; k++)
      sorted[k + 1] = tmp[k].v;
    sorted[n + 1] = p->high;
    for (guint k = 0; k < n; k++) {
      double l = sorted[k + 1] - sorted[k], r = sorted[k + 2] - sorted[k + 1];
      double s = l > r ? l : r;
      if (!par->consider_endpoints && n + 2 >= 4) {
        if (k == 0)
          s = sorted[2] - sorted[1];
        else if (k == n - 1)
          s = sorted[n] - sorted[n - 1];
      }
      p->sigma[tmp[k].i] = s;
    }
  }
  double maxs = range;
  double mins = par->consider_magic_clip ? range / MIN(100.0, 1.0 + n) : 1e-12;
  for (guint k = 0; k < n; k++)
    p->sigma[k] = p->sigma[k] < mins ? mins : p->sigma[k] > maxs ? maxs : p->sigma[k];
  if (prior)
    p->sigma[n_obs] = range;
  for (guint k = 0; k < n; k++) {
    double a = (p->low - p->mu[k]) / p->sigma[k], b = (p->high - p->mu[k]) / p->sigma[k];
    p->lnorm[k] = lathe_tune_log_gauss_mass(a, b);
    p->lsig[k] = log(p->sigma[k]);
    if (par->normalized_logpdf && p->q == 0)
      p->lnorm[k] += p->lsig[k];
  }
}

/* Optuna's _calculate_categorical_params. */
static void categorical_params(PDim *p, const double *const *obs, guint n_obs, gboolean prior,
                               double prior_weight) {
  guint n = n_obs + (prior ? 1 : 0), c = p->n_choices;
  double value = prior ? prior_weight / (n_obs + 1) : prior_weight / n_obs;
  for (guint k = 0; k < n; k++) {
    double *row = p->logp + (gsize)k * c;
    for (guint j = 0; j < c; j++)
      row[j] = value;
    if (k < n_obs) {
      guint ch = (guint)obs[k][p->dim];
      row[ch < c ? ch : c - 1] += 1;
    }
    double sum = 0;
    for (guint j = 0; j < c; j++)
      sum += row[j];
    double acc = 0;
    for (guint j = 0; j < c; j++) {
      acc += row[j] / sum;
      p->cum[(gsize)k * c + j] = acc;
      row[j] = log(row[j] / sum);
    }
  }
}

LatheTuneParzen *lathe_tune_parzen_new(const LatheTuneSpace *space, const guint *dims,
                                       guint n_dims, const double *const *obs, guint n_obs,
                                       const LatheTuneParzenParams *params) {
  gboolean prior = params->consider_prior || n_obs == 0;
  guint n = n_obs + (prior ? 1 : 0);
  /* One block: the header, the dims, then every array. */
  gsize doubles = 3 * (gsize)n;
  for (guint k = 0; k < n_dims; k++) {
    const LatheTuneDim *d = &space->dims[dims[k]];
    doubles += d->kind == LATHE_TUNE_CATEGORICAL ? 2 * (gsize)n * d->n_choices : 4 * (gsize)n;
  }
  gsize head = sizeof(LatheTuneParzen) + n_dims * sizeof(PDim);
  head = (head + 15) & ~(gsize)15;
  char *block = g_malloc(head + doubles * sizeof(double));
  LatheTuneParzen *pe = (LatheTuneParzen *)block;
  pe->pd = (PDim *)(block + sizeof(LatheTuneParzen));
  double *mem = (double *)(block + head);
  pe->n_comp = n;
  pe->n_dims = n_dims;
  pe->normalized = params->normalized_logpdf;
  pe->log_w = mem, mem += n;
  pe->cum_w = mem, mem += n;
  pe->acc = mem, mem += n;

  /* Optuna's default_weights, then the prior weight, normalised. */
  double *w = pe->acc, sum = 0;
  for (guint j = 0; j < n_obs; j++) {
    if (n_obs < 25 || j >= n_obs - 25) {
      w[j] = 1;
    } else {
      guint num = n_obs - 25;  /* np.linspace(1 / n, 1, num) */
      w[j] = num == 1 ? 1.0 / n_obs : 1.0 / n_obs + j * (1 - 1.0 / n_obs) / (num - 1);
    }
  }
  if (prior)
    w[n_obs] = params->prior_weight;
  for (guint k = 0; k < n; k++)
    sum += w[k];
  double acc = 0;
  for (guint k = 0; k < n; k++) {
    pe->log_w[k] = log(w[k] / sum);
    acc += w[k] / sum;
    pe->cum_w[k] = acc;
  }

  double sigma0 = 0.2 * pow(MAX(n_obs, 1u), -1.0 / (n_dims + 4));
  Keyed *tmp = g_new(Keyed, n);
  double *sorted = g_new(double, n + 2);
  for (guint k = 0; k < n_dims; k++) {
    PDim *p = &pe->pd[k];
    const LatheTuneDim *d = &space->dims[dims[k]];
    memset(p, 0, sizeof *p);
    p->dim = dims[k];
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      p->kind = d->kind;
      p->n_choices = d->n_choices;
      p->logp = mem, mem += (gsize)n * d->n_choices;
      p->cum = mem, mem += (gsize)n * d->n_choices;
      categorical_params(p, obs, n_obs, prior, params->prior_weight);
    } else {
      dim_bounds(d, p);
      p->mu = mem, mem += n;
      p->sigma = mem, mem += n;
      p->lnorm = mem, mem += n;
      p->lsig = mem, mem += n;
      numeric_params(p, obs, n_obs, prior, params, sigma0, tmp, sorted);
    }
  }
  g_free(tmp);
  g_free(sorted);
  return pe;
}

void lathe_tune_parzen_free(LatheTuneParzen *pe) {
  g_free(pe);
}

/* The first index whose cumulative value reaches u (numpy's choice and
 * Optuna's sum(cum < u)). */
static guint pick(const double *cum, guint n, double u) {
  guint lo = 0, hi = n - 1;
  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    if (cum[mid] < u)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void lathe_tune_parzen_sample(LatheTuneParzen *pe, LatheTuneRng *rng, guint n, double *out) {
  for (guint s = 0; s < n; s++) {
    guint k = pick(pe->cum_w, pe->n_comp, lathe_tune_rng_uniform(rng));
    for (guint j = 0; j < pe->n_dims; j++) {
      PDim *p = &pe->pd[j];
      double u = lathe_tune_rng_uniform(rng);
      if (p->kind == LATHE_TUNE_CATEGORICAL) {
        out[(gsize)s * pe->n_dims + j] = pick(p->cum + (gsize)k * p->n_choices, p->n_choices, u);
        continue;
      }
      double a = (p->low - p->mu[k]) / p->sigma[k], b = (p->high - p->mu[k]) / p->sigma[k];
      double v = lathe_tune_truncnorm_ppf(u, a, b) * p->sigma[k] + p->mu[k];
      out[(gsize)s * pe->n_dims + j] = from_model(p, v);
    }
  }
}

/* The log density of component k in dimension p at the value held in
 * p->cur_* (exact). */
static double comp_log_pdf(const PDim *p, guint k) {
  if (p->kind == LATHE_TUNE_CATEGORICAL)
    return p->logp[(gsize)k * p->n_choices + p->cur_c];
  double is = 1 / p->sigma[k];
  if (p->q == 0) {
    double z = (p->cur_m - p->mu[k]) * is;
    return -0.5 * z * z - LOG_SQRT_2PI - p->lnorm[k];
  }
  return lathe_tune_log_gauss_mass((p->cur_lb - p->mu[k]) * is, (p->cur_ub - p->mu[k]) * is) -
         p->lnorm[k];
}

/* Components whose log term is this far below the largest one add less
 * than n_comp * e^-40 (relative) to the mixture: they are skipped. */
#define LOG_SKIP 40.0

void lathe_tune_parzen_log_pdf(LatheTuneParzen *pe, const double *x, guint n, double *out) {
  guint nc = pe->n_comp;
  double *acc = pe->acc;
  for (guint s = 0; s < n; s++) {
    /* First pass: exact terms for continuous and categorical dimensions,
     * and for discrete ones the cheap bound mass <= width * pdf(nearest),
     * so that the costly cell masses are only computed where they count. */
    gboolean bounded = FALSE;
    memcpy(acc, pe->log_w, nc * sizeof(double));
    for (guint j = 0; j < pe->n_dims; j++) {
      PDim *p = &pe->pd[j];
      double v = x[(gsize)s * pe->n_dims + j];
      if (p->kind == LATHE_TUNE_CATEGORICAL) {
        p->cur_c = (guint)v;
        for (guint k = 0; k < nc; k++)
          acc[k] += p->logp[(gsize)k * p->n_choices + p->cur_c];
        continue;
      }
      p->cur_m = to_model(p, v);
      if (p->q == 0) {
        for (guint k = 0; k < nc; k++) {
          double z = (p->cur_m - p->mu[k]) / p->sigma[k];
          acc[k] += -0.5 * z * z - LOG_SQRT_2PI - p->lnorm[k];
        }
        continue;
      }
      bounded = TRUE;
      p->cur_lb = MAX(p->cur_m - p->q / 2, p->low);
      p->cur_ub = MIN(p->cur_m + p->q / 2, p->high);
      double lwidth = log(p->cur_ub - p->cur_lb);
      for (guint k = 0; k < nc; k++) {
        double is = 1 / p->sigma[k];
        double za = (p->cur_lb - p->mu[k]) * is, zb = (p->cur_ub - p->mu[k]) * is;
        double zn = za > 0 ? za : zb < 0 ? -zb : 0;
        acc[k] += lwidth - p->lsig[k] - 0.5 * zn * zn - LOG_SQRT_2PI - p->lnorm[k];
      }
    }
    double mx = -INFINITY;
    guint kmax = 0;
    for (guint k = 0; k < nc; k++)
      if (acc[k] > mx) {
        mx = acc[k];
        kmax = k;
      }
    if (bounded && mx > -INFINITY) {
      /* The exact term of the best-bounded component is a floor for the
       * largest exact term; every bound below floor - LOG_SKIP is dropped,
       * the rest are computed exactly. */
      double floor_ = pe->log_w[kmax];
      for (guint j = 0; j < pe->n_dims; j++)
        floor_ += comp_log_pdf(&pe->pd[j], kmax);
      mx = -INFINITY;
      for (guint k = 0; k < nc; k++) {
        if (acc[k] < floor_ - LOG_SKIP) {
          acc[k] = -INFINITY;
          continue;
        }
        double e = pe->log_w[k];
        for (guint j = 0; j < pe->n_dims; j++)
          e += comp_log_pdf(&pe->pd[j], k);
        acc[k] = e;
        if (e > mx)
          mx = e;
      }
    }
    if (mx == -INFINITY) {
      out[s] = -INFINITY;
      continue;
    }
    double sum = 0;
    for (guint k = 0; k < nc; k++)
      if (acc[k] >= mx - LOG_SKIP)
        sum += exp(acc[k] - mx);
    out[s] = log(sum) + mx;
  }
}
