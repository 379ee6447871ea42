/* tuner/bayes: Bayesian optimisation with a Gaussian process (Matern 5/2 ARD)
 * and log expected improvement, from tune/tune-bayes.c. This file is the
 * ask/tell glue: the history of asked and told trials (shared with
 * tuner/random and tuner/tpe), the seeds, ParEGO for several objectives, and
 * the fallbacks that keep a study going when the model cannot propose.
 *
 * Determinism: a proposal is a function of the study seed
 * (lathe_context_seed() at create), the trial number, the set of trials
 * (sorted by number, pending ones included) and, with warm_start, the GP
 * hyperparameters carried from the previous proposal of this tuner instance.
 * A rerun of the same pipeline from scratch makes the same calls in the same
 * order and so proposes the same points. A resumed study starts with a cold
 * GP: its first model-based proposal fits the hyperparameters from scratch,
 * so from there on its points may differ from those of one uninterrupted
 * run; warm_start=false removes that dependence at several times the cost
 * per proposal past ~100 trials. */
#include <cblas.h>
#include <lathe/lathe-sdk.h>
#include <math.h>

#include "tune-bayes.h"
#include "tune-gp.h"
#include "tune-random.h"
#include "tune-history.h"
#include "tune-parego.h"

#define COMPONENT "tuner/bayes"

typedef struct {
  LatheTunerHistory *h;
  LatheTuneBayesOptions opts;
  guint n_startup;
  gboolean warm;
  gboolean discrete;
  LatheTuneBayesState *state; /* NULL without warm_start */
} BayesTuner;

static const LatheParamSpec bayes_params[] = {
    LATHE_PARAM_INT_("n_startup_trials", "10", 1, 100000,
                     "trials proposed quasi-randomly (scrambled Sobol) before the GP takes over; "
                     "the GP also waits for 2 completed trials"),
    LATHE_PARAM_INT_("n_candidates", "2000", 16, 100000,
                     "Sobol candidates the acquisition (log EI) is evaluated on per proposal"),
    LATHE_PARAM_INT_("n_local_candidates", "60", 1, 10000,
                     "random perturbations of each of the 5 best trials added to the candidates"),
    LATHE_PARAM_INT_("n_local_starts", "5", 1, 1000,
                     "best candidates refined by L-BFGS on the acquisition"),
    LATHE_PARAM_INT_("fit_restarts", "0", 0, 100,
                     "random restarts of the GP hyperparameter fit per proposal (0: automatic, 3 "
                     "up to 60 trials and fewer later)"),
    LATHE_PARAM_BOOL_("warm_start", "true",
                      "start each GP fit from the previous proposal's hyperparameters (much "
                      "faster past 100 trials; a resumed study then proposes points that may "
                      "differ from an uninterrupted run's)"),
    LATHE_PARAM_END};

static void bayes_free(gpointer self) {
  BayesTuner *t = self;
  lathe_tune_bayes_state_free(t->state);
  lathe_tuner_history_free(t->h);
  g_free(t);
}

/* The host validates params against bayes_params; these checks keep a
 * context built elsewhere (a test, a future host) from crashing the GP. */
static gboolean int_param(LatheContext *ctx, const char *name, guint *out, GError **error) {
  for (const LatheParamSpec *s = bayes_params; s->name; s++) {
    if (!g_str_equal(s->name, name))
      continue;
    gint64 v = lathe_context_param_int(ctx, name);
    if (v < (gint64)s->min || v > (gint64)s->max) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "node '%s': " COMPONENT ": param '%s': %" G_GINT64_FORMAT
                  " is out of range; use an integer in [%.0f, %.0f]",
                  lathe_context_node_id(ctx), name, v, s->min, s->max);
      return FALSE;
    }
    *out = (guint)v;
    return TRUE;
  }
  g_return_val_if_reached(FALSE);
}

static gpointer bayes_create(LatheContext *ctx, const LatheSearchSpace *space, GError **error) {
  guint n_startup, n_cand, n_local, n_starts, restarts;
  if (!int_param(ctx, "n_startup_trials", &n_startup, error) ||
      !int_param(ctx, "n_candidates", &n_cand, error) ||
      !int_param(ctx, "n_local_candidates", &n_local, error) ||
      !int_param(ctx, "n_local_starts", &n_starts, error) ||
      !int_param(ctx, "fit_restarts", &restarts, error))
    return NULL;
  LatheTunerHistory *h = lathe_tuner_history_new(ctx, COMPONENT, space, error);
  if (!h)
    return NULL;
  BayesTuner *t = g_new0(BayesTuner, 1);
  t->h = h;
  t->n_startup = n_startup;
  /* tune-bayes reads 0 as "its default": fit_restarts 0 means automatic. */
  t->opts = (LatheTuneBayesOptions){.n_startup = n_startup, .n_candidates = n_cand,
                                    .n_local = n_local, .n_starts = n_starts,
                                    .n_restarts = restarts};
  t->warm = lathe_context_param_bool(ctx, "warm_start");
  t->state = t->warm ? lathe_tune_bayes_state_new() : NULL;
  const LatheTuneSpace *sp = &h->sj->space;
  t->discrete = TRUE;
  for (guint i = 0; i < sp->n_dims; i++)
    if (sp->dims[i].kind == LATHE_TUNE_FLOAT && !(sp->dims[i].step > 0))
      t->discrete = FALSE;
  return t;
}

/* ParEGO (see tune-parego.h): when trials were told several objectives,
 * each complete trial's value in @view becomes the augmented Chebyshev
 * scalarisation of its objectives, normalised to [0, 1] over the complete
 * trials, under a weight vector drawn from the simplex for this trial
 * number. The GP then models that one scalar: each proposal aims at the
 * part of the front its weights favour, and the weights change from trial
 * to trial. Complete trials with fewer objectives than the others (told
 * through tell() in a multi-objective study) are left out like failed ones.
 * Returns the number of objectives. */
static guint parego_view(const BayesTuner *t, guint trial, LatheTuneTrial *view, guint n) {
  guint k = 1;
  for (guint i = 0; i < n; i++) {
    guint nv;
    if (view[i].state == LATHE_TUNE_COMPLETE && lathe_tuner_history_values(t->h, i, &nv))
      k = MAX(k, nv);
  }
  if (k < 2)
    return k;
  g_autofree double *vals = g_new0(double, (gsize)MAX(n, 1) * k);
  g_autofree gboolean *use = g_new0(gboolean, MAX(n, 1));
  g_autofree double *out = g_new(double, MAX(n, 1));
  g_autofree double *lambda = g_new(double, k);
  for (guint i = 0; i < n; i++) {
    guint nv;
    const double *v = lathe_tuner_history_values(t->h, i, &nv);
    if (view[i].state != LATHE_TUNE_COMPLETE)
      continue;
    if (!v || nv < k) {
      view[i].state = LATHE_TUNE_FAILED;
      continue;
    }
    use[i] = TRUE;
    for (guint j = 0; j < k; j++)
      vals[(gsize)i * k + j] = v[j];
  }
  lathe_tune_parego_weights(t->h->seed, trial, k, lambda);
  lathe_tune_parego_scalarise(vals, use, n, k, lambda, out);
  for (guint i = 0; i < n; i++)
    if (use[i])
      view[i].value = out[i];
  return k;
}

/* Whether @a and @b are the same point of a discrete space. */
static gboolean same_point(const LatheTuneSpace *sp, const double *a, const double *b) {
  for (guint i = 0; i < sp->n_dims; i++) {
    if (isnan(a[i]) || isnan(b[i])) {
      if (isnan(a[i]) != isnan(b[i]))
        return FALSE;
      continue;
    }
    const LatheTuneDim *d = &sp->dims[i];
    double step = d->kind == LATHE_TUNE_CATEGORICAL ? 1 : d->step > 0 ? d->step : 1;
    if (llround((a[i] - d->lo) / step) != llround((b[i] - d->lo) / step))
      return FALSE;
  }
  return TRUE;
}

/* The seed of the model's proposal for @trial: distinct per trial, so that
 * the Sobol candidates and restarts differ from one proposal to the next.
 * The start-up phase keeps the study seed instead: its points are one
 * scrambled Sobol sequence indexed by the history length, and a seed per
 * trial would scramble each point differently and lose the sequence's even
 * coverage. */
static guint64 trial_seed(guint64 seed, guint trial) {
  LatheTuneRng rng;
  lathe_tune_rng_init(&rng, seed, (guint64)trial + 1);
  return lathe_tune_rng_next(&rng);
}

/* A uniform random point, or an unused one in a discrete space; FALSE
 * without @error when a discrete space is exhausted. */
static gboolean random_point(const BayesTuner *t, guint trial, const LatheTuneTrial *view, guint n,
                             double *x, GError **error) {
  return lathe_tune_random_propose(&t->h->sj->space, view, n, LATHE_TUNE_RANDOM_UNIFORM,
                                   t->h->seed, trial, x, error);
}

static gboolean bayes_ask(gpointer self, guint trial, JsonObject **point, GError **error) {
  BayesTuner *t = self;
  LatheTunerHistory *h = t->h;
  const LatheTuneSpace *sp = &h->sj->space;
  g_autofree LatheTuneTrial *view = NULL;
  guint n = 0;
  if (!lathe_tuner_history_begin_ask(h, trial, &view, &n, error))
    return FALSE;
  parego_view(t, trial, view, n);
  guint n_complete = 0;
  for (guint i = 0; i < n; i++)
    n_complete += view[i].state == LATHE_TUNE_COMPLETE && isfinite(view[i].value);
  /* The condition tune-bayes uses to choose the start-up sequence. */
  gboolean model = n >= t->n_startup && n_complete >= 2 && n_complete <= LATHE_TUNE_GP_MAX_POINTS / 2;
  guint64 seed = model ? trial_seed(h->seed, trial) : h->seed;

  g_autofree double *x = g_new(double, MAX(sp->n_dims, 1));
  GError *lerr = NULL;
  /* The GP's matrices are at most a few hundred rows: OpenBLAS threads cost
   * more to wake than they save there, and on a loaded machine they spin
   * against the trials (measured: see the report of task BY). */
  int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  gboolean ok = lathe_tune_bayes_propose(sp, view, n, &t->opts, t->state, seed, x, &lerr);
  openblas_set_num_threads(blas_threads);
  if (!ok) {
    if (!g_error_matches(lerr, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_NUMERIC))
      return lathe_tuner_history_fail(h, error, lerr);
    /* A GP that cannot be factorised (e.g. many identical points with
     * very different values) should not end the study: this one trial is
     * random, and the next fit starts cold. */
    lathe_context_log(h->ctx, G_LOG_LEVEL_WARNING,
                      COMPONENT ": trial %u is a random point: the GP failed (%s)", trial,
                      lerr->message);
    g_clear_error(&lerr);
    if (t->warm) {
      lathe_tune_bayes_state_free(t->state);
      t->state = lathe_tune_bayes_state_new();
    }
    if (!random_point(t, trial, view, n, x, &lerr))
      goto no_point;
  } else if (t->discrete) {
    /* tune-bayes repeats a trial only when it found nothing else; in a
     * discrete space look for an unused point exhaustively, and stop the
     * study once there is none. */
    gboolean used = FALSE;
    for (guint i = 0; i < n && !used; i++)
      used = same_point(sp, view[i].x, x);
    if (used && !random_point(t, trial, view, n, x, &lerr))
      goto no_point;
  }
  *point = lathe_tuner_history_add_pending(h, trial, x);
  return TRUE;

no_point:
  if (lerr) {
    lathe_tuner_history_fail(h, error, lerr);
  } else {
    lathe_context_log(h->ctx, G_LOG_LEVEL_INFO,
                      COMPONENT ": every point of the discrete search space was proposed (%u "
                      "trials)", n);
  }
  return FALSE;
}

static const LatheTunerClass bayes_tuner = {
    LATHE_COMPONENT_INIT(LatheTunerClass, LATHE_KIND_TUNER, "bayes",
                         "Bayesian optimisation: a Gaussian process (Matern 5/2 ARD) with log "
                         "expected improvement; fantasised pending trials; ParEGO random "
                         "scalarisations for several objectives",
                         bayes_params, NULL, NULL),
    .create = bayes_create,
    .ask = bayes_ask,
    .tell = lathe_tuner_history_tell_cb,
    .free = bayes_free,
    .tell_multi = lathe_tuner_history_tell_multi_cb,
};

LATHE_PLUGIN_DEFINE("tuner-bayes", "0.1.0", "MIT", "Gaussian-process Bayesian optimisation tuner",
                    LATHE_COMPONENT(bayes_tuner))
