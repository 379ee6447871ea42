/* tuner/random: independent uniform (log-uniform, grid-uniform) points, or a
 * Halton or Sobol low-discrepancy sequence indexed by the trial number. In a
 * space where every dimension is discrete, no point is proposed twice; once
 * every point was tried, ask() reports that there is nothing left. */
#include <lathe/lathe-sdk.h>
#include <math.h>

#include "tune-random.h"
#include "tune-sobol.h"
#include "tune-history.h"

#define COMPONENT "tuner/random"

typedef enum { SAMPLER_UNIFORM, SAMPLER_HALTON, SAMPLER_SOBOL } Sampler;

typedef struct {
  LatheTunerHistory *h;
  Sampler sampler;
  gboolean discrete;
} RandomTuner;

static const char *const sampler_choices[] = {"uniform", "halton", "sobol", NULL};

static const LatheParamSpec random_params[] = {
    LATHE_PARAM_ENUM_("sampler", "\"uniform\"", sampler_choices,
                      "uniform: independent draws; halton or sobol: a scrambled low-discrepancy "
                      "sequence indexed by the trial number, which covers the space more evenly "
                      "in few trials"),
    LATHE_PARAM_END};

static void random_free(gpointer self) {
  RandomTuner *t = self;
  lathe_tuner_history_free(t->h);
  g_free(t);
}

static gpointer random_create(LatheContext *ctx, const LatheSearchSpace *space, GError **error) {
  /* The order of sampler_choices is the order of Sampler. */
  gint which = lathe_context_param_enum(ctx, "sampler", sampler_choices);
  if (which < 0) {
    const char *name = lathe_context_param_string(ctx, "sampler");
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "node '%s': " COMPONENT ": param 'sampler': '%s' is not uniform, halton or sobol",
                lathe_context_node_id(ctx), name ? name : "(null)");
    return NULL;
  }
  Sampler sampler = (Sampler)which;
  LatheTunerHistory *h = lathe_tuner_history_new(ctx, COMPONENT, space, error);
  if (!h)
    return NULL;
  guint D = h->sj->space.n_dims;
  if (sampler == SAMPLER_SOBOL) {
    LatheTuneSobol *probe = lathe_tune_sobol_new(D, TRUE, h->seed);
    if (!probe) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "node '%s': " COMPONENT ": param 'sampler': sobol handles at most %d "
                  "dimensions and the space has %u; use halton or uniform",
                  lathe_context_node_id(ctx), LATHE_TUNE_SOBOL_MAX_DIMS, D);
      lathe_tuner_history_free(h);
      return NULL;
    }
    lathe_tune_sobol_free(probe);
  }
  RandomTuner *t = g_new0(RandomTuner, 1);
  t->h = h;
  t->sampler = sampler;
  t->discrete = TRUE;
  for (guint i = 0; i < D; i++)
    if (h->sj->space.dims[i].kind == LATHE_TUNE_FLOAT && !(h->sj->space.dims[i].step > 0))
      t->discrete = FALSE;
  return t;
}

/* Sobol point @trial: the sequence scrambled by the study seed, so that two
 * seeds give two sequences; trial numbers index it, so a resumed study goes
 * on where it stopped. */
static void sobol_point(const LatheTunerHistory *h, guint trial, double *x) {
  const LatheTuneSpace *sp = &h->sj->space;
  LatheTuneSobol *s = lathe_tune_sobol_new(sp->n_dims, TRUE, h->seed);
  double *u = g_new(double, sp->n_dims);
  lathe_tune_sobol_skip(s, trial);
  lathe_tune_sobol_next(s, u);
  for (guint i = 0; i < sp->n_dims; i++)
    x[i] = lathe_tune_space_active(sp, x, i) ? lathe_tune_space_from_unit(sp, u[i], i) : NAN;
  g_free(u);
  lathe_tune_sobol_free(s);
}

static gboolean random_ask(gpointer self, guint trial, JsonObject **point, GError **error) {
  RandomTuner *t = self;
  LatheTunerHistory *h = t->h;
  const LatheTuneSpace *sp = &h->sj->space;
  g_autofree LatheTuneTrial *view = NULL;
  guint n = 0;
  if (!lathe_tuner_history_begin_ask(h, trial, &view, &n, error))
    return FALSE;
  g_autofree double *x = g_new(double, sp->n_dims);
  GError *lerr = NULL;
  gboolean ok;
  if (t->sampler == SAMPLER_SOBOL) {
    sobol_point(h, trial, x);
    gboolean used = FALSE;
    for (guint k = 0; t->discrete && k < n && !used; k++)
      used = lathe_tuner_history_same_point(h, view[k].x, x);
    /* A repeat in a discrete space: an unused point drawn at random, as the
     * Halton sampler of tune/ does, which also detects exhaustion. */
    ok = !used || lathe_tune_random_propose(sp, view, n, LATHE_TUNE_RANDOM_UNIFORM, h->seed,
                                            trial, x, &lerr);
  } else {
    ok = lathe_tune_random_propose(sp, view, n,
                                   t->sampler == SAMPLER_HALTON ? LATHE_TUNE_RANDOM_HALTON
                                                                : LATHE_TUNE_RANDOM_UNIFORM,
                                   h->seed, trial, x, &lerr);
  }
  if (!ok) {
    if (lerr) {
      lathe_tuner_history_fail(h, error, lerr);
    } else {
      lathe_context_log(h->ctx, G_LOG_LEVEL_INFO,
                        "every point of the discrete search space was proposed (%u trials)", n);
    }
    return FALSE;
  }
  *point = lathe_tuner_history_add_pending(h, trial, x);
  return TRUE;
}

static const LatheTunerClass random_tuner = {
    LATHE_COMPONENT_INIT(LatheTunerClass, LATHE_KIND_TUNER, "random",
                         "Random search: uniform, log-uniform and categorical draws, or "
                         "Halton/Sobol sequences; no repeats in discrete spaces",
                         random_params, NULL, NULL),
    .create = random_create,
    .ask = random_ask,
    .tell = lathe_tuner_history_tell_cb,
    .free = random_free,
    .tell_multi = lathe_tuner_history_tell_multi_cb,
};

LATHE_PLUGIN_DEFINE("tuner-random", "0.1.0", "MIT", "Random and quasi-random search tuner",
                    LATHE_COMPONENT(random_tuner))
