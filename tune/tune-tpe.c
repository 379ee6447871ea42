/* tune-tpe.c: Optuna 3.1's TPESampler (optuna/samplers/_tpe/sampler.py):
 * rank the finished trials, split them into the gamma(n) best (l) and the
 * rest (g), fit a Parzen estimator to each, draw candidates from l and keep
 * the one with the largest log l(x) - log g(x). */
#include "tune-tpe.h"

#include <math.h>
#include <string.h>

#include "tune-random.h"

void lathe_tune_tpe_options_init(LatheTuneTpeOptions *opts) {
  memset(opts, 0, sizeof *opts);
  opts->n_startup_trials = 10;
  opts->n_ei_candidates = 24;
  opts->gamma_fraction = 0.1;
  opts->gamma_max = 25;
  opts->constant_liar = FALSE;
  opts->parzen.consider_prior = TRUE;
  opts->parzen.prior_weight = 1.0;
  opts->parzen.consider_magic_clip = TRUE;
  opts->parzen.consider_endpoints = FALSE;
  opts->parzen.multivariate = FALSE;
  opts->parzen.normalized_logpdf = FALSE;
}

/* A finished or pending trial as Optuna's (-step, value) score. */
typedef struct {
  double key;    /* -inf complete, 0 pruned with a value, 1 pruned without, +inf pending */
  double value;
  guint trial;   /* index into the history */
} Score;

static gint cmp_score(gconstpointer a, gconstpointer b, gpointer data) {
  (void)data;
  const Score *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  if (x->value != y->value)
    return x->value < y->value ? -1 : 1;
  return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static gboolean check_options(const LatheTuneTpeOptions *o, GError **error) {
  const char *bad = NULL;
  if (o->n_ei_candidates == 0)
    bad = "n_ei_candidates must be >= 1";
  else if (!(o->gamma_fraction > 0) || !isfinite(o->gamma_fraction))
    bad = "gamma must be > 0";
  else if (o->gamma_max == 0)
    bad = "the gamma cap must be >= 1";
  else if (!(o->parzen.prior_weight > 0) || !isfinite(o->parzen.prior_weight))
    bad = "prior_weight must be > 0";
  if (bad) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID, "tpe: %s", bad);
    return FALSE;
  }
  return TRUE;
}

/* Samples the dimensions @dims jointly (or one) from l and scores them under
 * g; writes the best candidate's values to x_out[dims[k]]. */
static void sample_group(const LatheTuneSpace *space, const guint *dims, guint nd,
                         const double *const *below, guint nb, const double *const *above,
                         guint na, const LatheTuneTpeOptions *o, LatheTuneRng *rng,
                         double *cand, double *ll, double *lg, double *x_out) {
  LatheTuneParzen *pl = lathe_tune_parzen_new(space, dims, nd, below, nb, &o->parzen);
  LatheTuneParzen *pg = lathe_tune_parzen_new(space, dims, nd, above, na, &o->parzen);
  guint nc = o->n_ei_candidates;
  lathe_tune_parzen_sample(pl, rng, nc, cand);
  lathe_tune_parzen_log_pdf(pl, cand, nc, ll);
  lathe_tune_parzen_log_pdf(pg, cand, nc, lg);
  /* np.argmax: the first of equal scores. */
  guint best = 0;
  double best_score = ll[0] - lg[0];
  for (guint s = 1; s < nc; s++) {
    double sc = ll[s] - lg[s];
    if (sc > best_score) {
      best = s;
      best_score = sc;
    }
  }
  for (guint k = 0; k < nd; k++)
    x_out[dims[k]] = cand[(gsize)best * nd + k];
  lathe_tune_parzen_free(pl);
  lathe_tune_parzen_free(pg);
}

gboolean lathe_tune_tpe_propose(const LatheTuneSpace *space, const LatheTuneTrial *hist,
                                guint n, const LatheTuneTpeOptions *opts, guint64 seed,
                                guint trial_number, double *x_out, GError **error) {
  LatheTuneTpeOptions defaults;
  if (opts == NULL) {
    lathe_tune_tpe_options_init(&defaults);
    opts = &defaults;
  }
  if (!check_options(opts, error) || !lathe_tune_check_space(space, error) ||
      !lathe_tune_check_history(space, hist, n, error))
    return FALSE;
  if (x_out == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID, "tpe: no output buffer");
    return FALSE;
  }

  LatheTuneRng rng;
  lathe_tune_rng_init(&rng, seed, trial_number);

  /* Optuna's _get_observation_pairs. */
  Score *sc = g_new(Score, n ? n : 1);
  guint ns = 0, n_finished = 0;
  for (guint t = 0; t < n; t++) {
    const LatheTuneTrial *tr = &hist[t];
    Score s = {0, 0, t};
    if (tr->state == LATHE_TUNE_COMPLETE && !isnan(tr->value)) {
      s.key = -INFINITY;
      s.value = tr->value;
    } else if (tr->state == LATHE_TUNE_PRUNED) {
      s.key = isnan(tr->value) ? 1 : 0;
      s.value = isnan(tr->value) ? 0 : tr->value;
    } else if (tr->state == LATHE_TUNE_PENDING && opts->constant_liar) {
      s.key = INFINITY;
      s.value = INFINITY;
    } else {
      continue;  /* failed, or complete with a NAN value (a failure) */
    }
    if (s.key < INFINITY)
      n_finished++;
    sc[ns++] = s;
  }
  if (n_finished < opts->n_startup_trials || n_finished == 0) {
    g_free(sc);
    lathe_tune_random_sample(space, &rng, x_out);
    return TRUE;
  }

  /* Optuna's _split_observation_pairs: the gamma(n) best are "below";
   * both sides go back to chronological order for the weights. */
  guint n_below = (guint)ceil(opts->gamma_fraction * n_finished);
  n_below = MIN(n_below, opts->gamma_max);
  n_below = MIN(n_below, ns);
  g_qsort_with_data(sc, (gint)ns, sizeof(Score), cmp_score, NULL);
  gboolean *is_below = g_new0(gboolean, n);
  gboolean *in_study = g_new0(gboolean, n);
  for (guint j = 0; j < ns; j++) {
    in_study[sc[j].trial] = TRUE;
    is_below[sc[j].trial] = j < n_below;
  }

  guint D = space->n_dims, nc = opts->n_ei_candidates;
  const double **below = g_new(const double *, ns + 1);
  const double **above = g_new(const double *, ns + 1);
  guint *dims = g_new(guint, D);
  double *cand = g_new(double, (gsize)nc * D);
  double *ll = g_new(double, nc), *lg = g_new(double, nc);
  gboolean *joint = g_new0(gboolean, D);

  /* Multivariate: the intersection search space of the finished trials. */
  if (opts->parzen.multivariate) {
    guint nd = 0;
    for (guint i = 0; i < D; i++) {
      gboolean all = TRUE;
      for (guint t = 0; t < n && all; t++)
        if (in_study[t] && hist[t].state != LATHE_TUNE_PENDING && isnan(hist[t].x[i]))
          all = FALSE;
      if (all)
        dims[nd++] = i;
      joint[i] = all;
    }
    if (nd > 0) {
      guint nb = 0, na = 0;
      for (guint t = 0; t < n; t++) {
        if (!in_study[t])
          continue;
        gboolean has = TRUE;
        for (guint k = 0; k < nd && has; k++)
          has = !isnan(hist[t].x[dims[k]]);
        if (!has)
          continue;
        if (is_below[t])
          below[nb++] = hist[t].x;
        else
          above[na++] = hist[t].x;
      }
      double *cand_j = g_new(double, (gsize)nc * nd);
      sample_group(space, dims, nd, below, nb, above, na, opts, &rng, cand_j, ll, lg, x_out);
      g_free(cand_j);
    }
  }

  /* Univariate (and the dimensions left out of the joint model): each
   * dimension from the trials where it was active. */
  for (guint i = 0; i < D; i++) {
    if (!lathe_tune_space_active(space, x_out, i)) {
      x_out[i] = NAN;
      continue;
    }
    if (joint[i])
      continue;
    guint nb = 0, na = 0;
    for (guint t = 0; t < n; t++) {
      if (!in_study[t] || isnan(hist[t].x[i]))
        continue;
      if (is_below[t])
        below[nb++] = hist[t].x;
      else
        above[na++] = hist[t].x;
    }
    sample_group(space, &i, 1, below, nb, above, na, opts, &rng, cand, ll, lg, x_out);
  }

  g_free(sc);
  g_free(is_below);
  g_free(in_study);
  g_free(below);
  g_free(above);
  g_free(dims);
  g_free(cand);
  g_free(ll);
  g_free(lg);
  g_free(joint);
  return TRUE;
}
