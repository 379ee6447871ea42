/* tune-bayes.c: GP + log-EI proposals over a mixed, conditional space.
 *
 * The GP sees an "encoded" point: one coordinate in [0, 1] per numeric
 * dimension (lathe_tune_space_to_unit()), one per choice of a categorical
 * (one-hot), and 0.5 everywhere for inactive dimensions, which keeps an
 * inactive dimension at a fixed, consistent place for the kernel. The
 * acquisition is maximised over the relaxed cube and every candidate is
 * scored at its canonical encoding (decoded to a real point and encoded
 * again), so that the score is the score of the point actually proposed. */
#include "tune-bayes.h"

#include "tune-erfcx.h"
#include "tune-random.h"
#include "tune-gp.h"
#include "tune-lbfgs.h"
#include "tune-sobol.h"

#include <math.h>
#include <string.h>

#define N_BEST_LOCAL 5

struct _LatheTuneBayesState {
  LatheTuneGp *gp;
  guint enc_dims;
  guint n_fits;
};

LatheTuneBayesState *lathe_tune_bayes_state_new(void) {
  return g_new0(LatheTuneBayesState, 1);
}

void lathe_tune_bayes_state_free(LatheTuneBayesState *state) {
  if (!state)
    return;
  lathe_tune_gp_free(state->gp);
  g_free(state);
}

typedef struct {
  const LatheTuneSpace *space;
  guint enc_dims;
  guint *offset; /* per dimension: its first encoded coordinate */
} Encoding;

static gboolean check_space(const LatheTuneSpace *space, GError **error) {
  if (!space || space->n_dims == 0 || !space->dims) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                "bayes: the search space has no dimensions; declare at least one");
    return FALSE;
  }
  for (guint i = 0; i < space->n_dims; i++) {
    const LatheTuneDim *d = &space->dims[i];
    const char *why = NULL;
    if (d->kind == LATHE_TUNE_CATEGORICAL) {
      if (d->n_choices < 1)
        why = "a categorical with no choices";
    } else if (d->kind != LATHE_TUNE_FLOAT && d->kind != LATHE_TUNE_INT) {
      why = "an unknown kind";
    } else if (!isfinite(d->lo) || !isfinite(d->hi) || !(d->lo < d->hi)) {
      why = "empty, inverted or infinite bounds";
    } else if (d->log && !(d->lo > 0)) {
      why = "a log scale with a non-positive lower bound";
    } else if (d->step < 0 || !isfinite(d->step) || (d->step > 0 && d->log)) {
      why = "a negative step, or a step with a log scale";
    }
    if (!why && d->parent >= (int)i)
      why = "a parent that does not come before it";
    if (why) {
      g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                  "bayes: dimension %u has %s; fix the search space", i, why);
      return FALSE;
    }
  }
  return TRUE;
}

static void encoding_init(Encoding *e, const LatheTuneSpace *space) {
  e->space = space;
  e->offset = g_new(guint, space->n_dims);
  e->enc_dims = 0;
  for (guint i = 0; i < space->n_dims; i++) {
    e->offset[i] = e->enc_dims;
    e->enc_dims += space->dims[i].kind == LATHE_TUNE_CATEGORICAL ? space->dims[i].n_choices : 1;
  }
}

static void encode(const Encoding *e, const double *x, double *z) {
  const LatheTuneSpace *s = e->space;
  for (guint i = 0; i < s->n_dims; i++) {
    double *zi = z + e->offset[i];
    gboolean active = !isnan(x[i]) && lathe_tune_space_active(s, x, i);
    if (s->dims[i].kind == LATHE_TUNE_CATEGORICAL) {
      guint c = active ? (guint)fmin(fmax(x[i], 0), s->dims[i].n_choices - 1) : 0;
      for (guint k = 0; k < s->dims[i].n_choices; k++)
        zi[k] = !active ? 0.5 : k == c ? 1.0 : 0.0;
    } else {
      zi[0] = active ? lathe_tune_space_to_unit(s, x[i], i) : 0.5;
    }
  }
}

/* The native point of a relaxed encoding: numeric coordinates through
 * lathe_tune_space_from_unit(), categoricals by argmax. */
static void decode(const Encoding *e, const double *z, double *x) {
  const LatheTuneSpace *s = e->space;
  for (guint i = 0; i < s->n_dims; i++) {
    if (!lathe_tune_space_active(s, x, i)) {
      x[i] = NAN;
      continue;
    }
    const double *zi = z + e->offset[i];
    if (s->dims[i].kind == LATHE_TUNE_CATEGORICAL) {
      guint best = 0;
      for (guint k = 1; k < s->dims[i].n_choices; k++)
        if (zi[k] > zi[best])
          best = k;
      x[i] = best;
    } else {
      x[i] = lathe_tune_space_from_unit(s, zi[0], i);
    }
  }
}

static gboolean same_point(const double *a, const double *b, guint n) {
  for (guint i = 0; i < n; i++) {
    if (isnan(a[i]) != isnan(b[i]))
      return FALSE;
    if (!isnan(a[i]) && a[i] != b[i])
      return FALSE;
  }
  return TRUE;
}

static gboolean in_history(const LatheTuneSpace *s, const LatheTuneTrial *h, guint nh,
                           const double *x) {
  for (guint t = 0; t < nh; t++)
    if (same_point(h[t].x, x, s->n_dims))
      return TRUE;
  return FALSE;
}

/* Quasi-random start: Sobol point number index over the native
 * dimensions, shifted by the seed (Halton beyond the embedded Sobol
 * dimensions is no better than random there, so use the generator). */
static void startup_point(const Encoding *e, guint64 index, guint64 seed, double *u, double *x) {
  const LatheTuneSpace *s = e->space;
  if (s->n_dims <= LATHE_TUNE_SOBOL_MAX_DIMS) {
    LatheTuneSobol *q = lathe_tune_sobol_new(s->n_dims, TRUE, seed);
    lathe_tune_sobol_skip(q, index);
    lathe_tune_sobol_next(q, u);
    lathe_tune_sobol_free(q);
  } else {
    LatheRng r;
    lathe_rng_init(&r, seed ^ (index * G_GUINT64_CONSTANT(0x9E3779B97F4A7C15)));
    for (guint i = 0; i < s->n_dims; i++)
      u[i] = lathe_rng_uniform(&r);
  }
  for (guint i = 0; i < s->n_dims; i++)
    x[i] = lathe_tune_space_active(s, x, i) ? lathe_tune_space_from_unit(s, u[i], i) : NAN;
}

static gboolean propose_startup(const Encoding *e, const LatheTuneTrial *h, guint nh, guint64 seed,
                                double *x_out) {
  const LatheTuneSpace *s = e->space;
  double *u = g_new(double, s->n_dims);
  /* In a discrete space the next points may repeat a trial; look a
   * bounded way ahead for one that does not. */
  for (guint64 k = 0; k < 1000; k++) {
    startup_point(e, nh + k, seed, u, x_out);
    if (!in_history(s, h, nh, x_out))
      break;
    if (k == 999)
      startup_point(e, nh, seed, u, x_out);
  }
  g_free(u);
  return TRUE;
}

/* The acquisition on the relaxed cube, for L-BFGS: -log EI and its
 * gradient. */
typedef struct {
  const LatheTuneGp *gp;
  double best;
  double *d_mean, *d_var;
} AcqClosure;

static double neg_log_ei(const double *z, double *grad, gpointer user_data) {
  AcqClosure *c = user_data;
  guint d = lathe_tune_gp_dims(c->gp);
  double mu, var;
  lathe_tune_gp_predict(c->gp, z, &mu, &var, c->d_mean, c->d_var);
  double sigma = sqrt(var), dmu, dsigma;
  double v = lathe_tune_log_ei_grad(mu, sigma, c->best, &dmu, &dsigma);
  if (!isfinite(v))
    return INFINITY;
  for (guint j = 0; j < d; j++)
    grad[j] = -(dmu * c->d_mean[j] + dsigma * c->d_var[j] / (2 * sigma));
  return -v;
}

typedef struct {
  double acq;
  guint index;
} Scored;

static int by_acq_desc(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  if (x->acq != y->acq)
    return x->acq > y->acq ? -1 : 1;
  /* Ties in index order keep the choice deterministic. */
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Yeo-Johnson power transform of one standardised value. */
static double yeo_johnson(double y, double lambda) {
  if (y >= 0)
    return fabs(lambda) < 1e-8 ? log1p(y) : (pow(1 + y, lambda) - 1) / lambda;
  return fabs(lambda - 2) < 1e-8 ? -log1p(-y) : -(pow(1 - y, 2 - lambda) - 1) / (2 - lambda);
}

/* The profile log-likelihood of lambda under a normal model of the
 * transformed values (as scipy.stats.yeojohnson_llf). */
static double yeo_johnson_llf(const double *y, guint n, double lambda, double *t) {
  double mean = 0, var = 0, jac = 0;
  for (guint i = 0; i < n; i++) {
    t[i] = yeo_johnson(y[i], lambda);
    mean += t[i];
    jac += copysign(log1p(fabs(y[i])), y[i]);
  }
  mean /= n;
  for (guint i = 0; i < n; i++)
    var += (t[i] - mean) * (t[i] - mean);
  var /= n;
  if (!(var > 1e-300) || !isfinite(var))
    return -INFINITY;
  return -0.5 * n * log(var) + (lambda - 1) * jac;
}

/* Warps the objective values in place before the GP sees them: standardise,
 * then the Yeo-Johnson transform with lambda in [-2, 4] by maximum
 * likelihood (golden-section search), as HEBO does (Cowen-Rivers et al.,
 * JAIR 2022). A skewed objective (a few deep values in a flat landscape,
 * or a long tail of bad ones) otherwise puts the incumbent many standard
 * deviations below the mean, where EI only refines the incumbent's basin.
 * The transform is monotone, so the minimiser is unchanged. */
static void warp_outputs(double *y, guint n) {
  double mean = 0, var = 0;
  for (guint i = 0; i < n; i++)
    mean += y[i];
  mean /= n;
  for (guint i = 0; i < n; i++)
    var += (y[i] - mean) * (y[i] - mean);
  double sd = n > 1 ? sqrt(var / (n - 1)) : 0;
  if (!(sd > 0))
    return;
  for (guint i = 0; i < n; i++)
    y[i] = (y[i] - mean) / sd;
  double *t = g_new(double, n);
  const double gr = 0.6180339887498949;
  double a = -2, b = 4, c = b - gr * (b - a), d = a + gr * (b - a);
  double fc = yeo_johnson_llf(y, n, c, t), fd = yeo_johnson_llf(y, n, d, t);
  for (int it = 0; it < 40; it++) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - gr * (b - a);
      fc = yeo_johnson_llf(y, n, c, t);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + gr * (b - a);
      fd = yeo_johnson_llf(y, n, d, t);
    }
  }
  double lambda = 0.5 * (a + b);
  if (isfinite(yeo_johnson_llf(y, n, lambda, t)))
    memcpy(y, t, sizeof(double) * n);
  g_free(t);
}

/* Decodes the relaxed z into x and overwrites z with x's canonical
 * encoding. */
static void canonicalise(const Encoding *e, double *z, double *x) {
  decode(e, z, x);
  encode(e, x, z);
}

static gboolean check_history(const LatheTuneSpace *s, const LatheTuneTrial *h, guint nh,
                              GError **error) {
  if (nh > 0 && !h) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                "bayes: %u trials announced but no history given", nh);
    return FALSE;
  }
  for (guint t = 0; t < nh; t++) {
    if (!h[t].x) {
      g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                  "bayes: trial %u has no point", t);
      return FALSE;
    }
    if (h[t].state == LATHE_TUNE_FAILED || h[t].state == LATHE_TUNE_PRUNED)
      continue;
    for (guint i = 0; i < s->n_dims; i++) {
      double v = h[t].x[i];
      if (isnan(v) || !lathe_tune_space_active(s, h[t].x, i))
        continue;
      const LatheTuneDim *d = &s->dims[i];
      double lo = d->kind == LATHE_TUNE_CATEGORICAL ? 0 : d->lo;
      double hi = d->kind == LATHE_TUNE_CATEGORICAL ? d->n_choices - 1 : d->hi;
      if (!isfinite(v) || v < lo - 1e-9 * fabs(hi - lo) || v > hi + 1e-9 * fabs(hi - lo)) {
        g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                    "bayes: trial %u has %g in dimension %u, outside [%g, %g]", t, v, i, lo, hi);
        return FALSE;
      }
    }
  }
  return TRUE;
}

gboolean lathe_tune_bayes_propose(const LatheTuneSpace *space, const LatheTuneTrial *history,
                                  guint n_history, const LatheTuneBayesOptions *opts,
                                  LatheTuneBayesState *state, guint64 seed, double *x_out,
                                  GError **error) {
  if (!check_space(space, error) || !check_history(space, history, n_history, error))
    return FALSE;
  guint n_startup = opts && opts->n_startup ? opts->n_startup : 10;
  guint n_cand = opts && opts->n_candidates ? opts->n_candidates : 2000;
  guint n_local = opts && opts->n_local ? opts->n_local : 60;
  guint n_starts = opts && opts->n_starts ? opts->n_starts : 5;

  Encoding e;
  encoding_init(&e, space);
  guint nd = space->n_dims, ed = e.enc_dims;
  guint n_complete = 0, n_pending = 0;
  for (guint t = 0; t < n_history; t++) {
    if (history[t].state == LATHE_TUNE_COMPLETE && isfinite(history[t].value))
      n_complete++;
    else if (history[t].state == LATHE_TUNE_PENDING)
      n_pending++;
  }
  if (n_history < n_startup || n_complete < 2 || n_complete > LATHE_TUNE_GP_MAX_POINTS / 2) {
    /* Too little data for a model (or more than it can take: then the
     * quasi-random points are the honest fallback). */
    gboolean ok = propose_startup(&e, history, n_history, seed, x_out);
    g_free(e.offset);
    return ok;
  }

  gboolean ok = FALSE;
  LatheTuneGp *gp = NULL;
  double *zx = g_new(double, (gsize)n_complete * ed), *y = g_new(double, n_complete);
  double *zp = g_new(double, (gsize)MAX(n_pending, 1) * ed);
  double best = INFINITY;
  guint best_idx[N_BEST_LOCAL];
  double best_val[N_BEST_LOCAL];
  guint n_best = 0;
  for (guint t = 0, c = 0, p = 0; t < n_history; t++) {
    if (history[t].state == LATHE_TUNE_COMPLETE && isfinite(history[t].value)) {
      encode(&e, history[t].x, zx + (gsize)c * ed);
      y[c] = history[t].value;
      best = fmin(best, y[c]);
      /* Keep the N_BEST_LOCAL lowest, sorted, for the local candidates. */
      guint pos = n_best;
      while (pos > 0 && best_val[pos - 1] > y[c])
        pos--;
      if (pos < N_BEST_LOCAL) {
        guint last = MIN(n_best, N_BEST_LOCAL - 1);
        for (guint k = last; k > pos; k--) {
          best_val[k] = best_val[k - 1];
          best_idx[k] = best_idx[k - 1];
        }
        best_val[pos] = y[c];
        best_idx[pos] = c;
        if (n_best < N_BEST_LOCAL)
          n_best++;
      }
      c++;
    } else if (history[t].state == LATHE_TUNE_PENDING) {
      encode(&e, history[t].x, zp + (gsize)p * ed);
      p++;
    }
  }

  /* The GP, warm-started from the state when the encoding matches. */
  gboolean warm = state && state->gp && state->enc_dims == ed;
  if (warm) {
    gp = state->gp;
    state->gp = NULL;
  } else {
    gp = lathe_tune_gp_new(ed);
  }
  warp_outputs(y, n_complete);
  best = INFINITY;
  for (guint i = 0; i < n_complete; i++)
    best = fmin(best, y[i]);
  /* Restarts guard against a poor local optimum of the hyperparameters;
   * with many trials the warm start moves little between proposals, so
   * they run on every 5th trial count only (a function of the history, to
   * stay reproducible), and always without a warm start. */
  guint n_restarts = opts && opts->n_restarts ? opts->n_restarts
                     : n_complete <= 60       ? 3
                     : n_complete % 5 == 0    ? 1
                                              : 0;
  if (!warm && n_restarts < 2)
    n_restarts = 2;
  /* Past 100 trials one more point barely moves the hyperparameters, and
   * a fit costs tens of O(n^3) evaluations: a warm state refits on every
   * third trial count only and otherwise reuses its hyperparameters. */
  gboolean refit = !warm || n_complete <= 100 || n_complete % 3 == 0;
  if (!lathe_tune_gp_set_data(gp, zx, y, n_complete, error))
    goto out;
  if (refit ? !lathe_tune_gp_fit(gp, n_restarts, seed ^ G_GUINT64_CONSTANT(0xF17F17), error)
            : !lathe_tune_gp_condition(gp, error))
    goto out;
  if (n_pending > 0) {
    /* Kriging believer: the pending points count as observed at the GP
     * mean, in the data and in the incumbent, so that EI near them is as
     * small as near any observed point. */
    double *pm = g_new(double, n_pending), *pv = g_new(double, n_pending);
    lathe_tune_gp_predict_batch(gp, zp, n_pending, pm, pv);
    for (guint i = 0; i < n_pending; i++)
      best = fmin(best, pm[i]);
    g_free(pm);
    g_free(pv);
    if (!lathe_tune_gp_add_fantasies(gp, zp, n_pending, error))
      goto out;
  }

  /* Candidates: scrambled Sobol over the encoded cube, then perturbations
   * of the best points at three scales, all canonicalised. */
  LatheRng rng;
  lathe_rng_init(&rng, seed ^ G_GUINT64_CONSTANT(0xCA4D1DA7E5));
  guint m = n_cand + n_best * n_local + n_starts;
  double *cz = g_new(double, (gsize)m * ed), *cx = g_new(double, (gsize)m * nd);
  LatheTuneSobol *q = ed <= LATHE_TUNE_SOBOL_MAX_DIMS ? lathe_tune_sobol_new(ed, TRUE, seed) : NULL;
  for (guint i = 0; i < n_cand; i++) {
    double *z = cz + (gsize)i * ed;
    if (q)
      lathe_tune_sobol_next(q, z);
    else
      for (guint j = 0; j < ed; j++)
        z[j] = lathe_rng_uniform(&rng);
  }
  lathe_tune_sobol_free(q);
  static const double scales[3] = {0.1, 0.02, 0.004};
  for (guint b = 0, i = n_cand; b < n_best; b++)
    for (guint k = 0; k < n_local; k++, i++) {
      const double *z0 = zx + (gsize)best_idx[b] * ed;
      double *z = cz + (gsize)i * ed;
      double sc = scales[k % 3];
      for (guint j = 0; j < ed; j++)
        z[j] = fmin(fmax(z0[j] + sc * lathe_tune_rng_normal(&rng), 0.0), 1.0);
    }
  guint m0 = n_cand + n_best * n_local;
  for (guint i = 0; i < m0; i++)
    canonicalise(&e, cz + (gsize)i * ed, cx + (gsize)i * nd);

  double *mean = g_new(double, m), *var = g_new(double, m);
  Scored *sc = g_new(Scored, m);
  lathe_tune_gp_predict_batch(gp, cz, m0, mean, var);
  for (guint i = 0; i < m0; i++) {
    double a = lathe_tune_log_ei(mean[i], sqrt(var[i]), best);
    sc[i] = (Scored){isnan(a) ? -INFINITY : a, i};
  }
  qsort(sc, m0, sizeof(Scored), by_acq_desc);


  /* Local refinement from the best distinct candidates, on the relaxed
   * cube; the results join the pool at their canonical encoding. */
  double *lo = g_new(double, ed), *hi = g_new(double, ed);
  for (guint j = 0; j < ed; j++) {
    lo[j] = 0.0;
    hi[j] = 1.0;
  }
  AcqClosure ac = {gp, best, g_new(double, ed), g_new(double, ed)};
  LatheTuneLbfgsOptions lo_opts = {.max_iter = 50, .max_evals = 120, .pgtol = 1e-7, .ftol = 1e-12};
  guint n_ref = 0;
  for (guint r = 0; r < m0 && n_ref < n_starts; r++) {
    const double *z0 = cz + (gsize)sc[r].index * ed;
    gboolean dup = FALSE;
    for (guint k = 0; k < r && !dup; k++)
      dup = same_point(cx + (gsize)sc[k].index * nd, cx + (gsize)sc[r].index * nd, nd);
    if (dup || !isfinite(sc[r].acq))
      continue;
    guint i = m0 + n_ref++;
    double *z = cz + (gsize)i * ed;
    memcpy(z, z0, sizeof(double) * ed);
    lathe_tune_lbfgs_minimize(ed, z, lo, hi, neg_log_ei, &ac, &lo_opts, NULL);
    canonicalise(&e, z, cx + (gsize)i * nd);
    double mu, v;
    lathe_tune_gp_predict(gp, z, &mu, &v, NULL, NULL);
    double a = lathe_tune_log_ei(mu, sqrt(v), best);
    sc[i] = (Scored){isnan(a) ? -INFINITY : a, i};
  }
  guint mt = m0 + n_ref;
  qsort(sc, mt, sizeof(Scored), by_acq_desc);
  /* The best candidate that is not already a trial (in a continuous space
   * this is the first; in a discrete one the model may like a point it
   * has seen). */
  gboolean found = FALSE;
  for (guint r = 0; r < mt && !found; r++)
    if (!in_history(space, history, n_history, cx + (gsize)sc[r].index * nd)) {
      memcpy(x_out, cx + (gsize)sc[r].index * nd, sizeof(double) * nd);
      found = TRUE;
    }
  /* Every candidate is a trial already (a small discrete space): the
   * quasi-random sequence looks further for a point not yet tried. */
  if (!found)
    propose_startup(&e, history, n_history, seed, x_out);
  ok = TRUE;

  g_free(ac.d_mean);
  g_free(ac.d_var);
  g_free(lo);
  g_free(hi);
  g_free(sc);
  g_free(mean);
  g_free(var);
  g_free(cz);
  g_free(cx);
out:
  if (state) {
    state->gp = gp;
    state->enc_dims = ed;
    state->n_fits++;
  } else {
    lathe_tune_gp_free(gp);
  }
  g_free(zx);
  g_free(y);
  g_free(zp);
  g_free(e.offset);
  return ok;
}
