/* tuner/tpe: the tree-structured Parzen estimator of tune/tune-tpe.c, with
 * Optuna 3.1 TPESampler's params and defaults, except constant_liar (on by
 * default: see its doc). Several objectives are ranked by non-dominated
 * sorting, so that l(x) models the best Pareto fronts. */
#include <lathe/lathe-sdk.h>
#include <math.h>
#include <string.h>

#include "tune-pareto.h"
#include "tune-random.h"
#include "tune-tpe.h"
#include "tune-history.h"

#define COMPONENT "tuner/tpe"

typedef struct {
  LatheTunerHistory *h;
  LatheTuneTpeOptions opts;
} TpeTuner;

static gboolean check_positive(const LatheParamSpec *spec, JsonNode *value, char **why) {
  if (json_node_get_double(value) > 0)
    return TRUE;
  *why = g_strdup_printf("%s must be above 0", spec->name);
  return FALSE;
}

static const LatheParamSpec tpe_params[] = {
    LATHE_PARAM_INT_("n_startup_trials", "10", 0, 1000000,
                     "finished trials drawn at random before TPE models the objective"),
    LATHE_PARAM_INT_("n_ei_candidates", "24", 1, 100000,
                     "candidates drawn from l(x) per proposal; the one with the best "
                     "l(x)/g(x) is proposed"),
    {.name = "gamma_fraction", .type = LATHE_PARAM_FLOAT, .default_json = "0.1", .min = 0,
     .max = 1, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX, .check = check_positive,
     .doc = "share of the finished trials that form l(x), the good group: "
            "min(ceil(gamma_fraction * n), gamma_max), as Optuna's default_gamma"},
    LATHE_PARAM_INT_("gamma_max", "25", 1, 1000000, "the most trials in the good group"),
    {.name = "prior_weight", .type = LATHE_PARAM_FLOAT, .default_json = "1.0", .min = 0,
     .max = 1e6, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX, .check = check_positive,
     .doc = "weight of the prior (a wide kernel over the whole range) in both estimators"},
    LATHE_PARAM_BOOL_("consider_prior", "true",
                      "add the prior component to l(x) and g(x), which keeps exploring"),
    LATHE_PARAM_BOOL_("consider_magic_clip", "true",
                      "floor the kernel bandwidths at range / min(100, 1 + n)"),
    LATHE_PARAM_BOOL_("consider_endpoints", "false",
                      "let the bounds widen the bandwidths of the first and last observations"),
    LATHE_PARAM_BOOL_("multivariate", "false",
                      "model the dimensions every finished trial has jointly (Scott's "
                      "bandwidths) instead of one at a time"),
    LATHE_PARAM_BOOL_("constant_liar", "true",
                      "count running trials as the worst result, and redraw a proposal that "
                      "repeats a running trial's point, so that parallel trials do not propose "
                      "the same point (katib #1700); it only acts while trials run in parallel, "
                      "so sequential studies match Optuna's default (false)"),
    LATHE_PARAM_END};

static void tpe_free(gpointer self) {
  TpeTuner *t = self;
  lathe_tuner_history_free(t->h);
  g_free(t);
}

/* The params the host validates (bounds and checks), checked again for
 * callers that skip validation, such as tests driving the ABI. */
static gboolean read_options(LatheContext *ctx, LatheTuneTpeOptions *o, GError **error) {
  lathe_tune_tpe_options_init(o);
  gint64 startup = lathe_context_param_int(ctx, "n_startup_trials");
  gint64 cand = lathe_context_param_int(ctx, "n_ei_candidates");
  gint64 gmax = lathe_context_param_int(ctx, "gamma_max");
  double gamma = lathe_context_param_float(ctx, "gamma_fraction");
  double prior = lathe_context_param_float(ctx, "prior_weight");
  const char *param = NULL, *why = NULL;
  if (startup < 0 || startup > 1000000)
    param = "n_startup_trials", why = "is an integer in [0, 1000000]";
  else if (cand < 1 || cand > 100000)
    param = "n_ei_candidates", why = "is an integer in [1, 100000]";
  else if (!(gamma > 0 && gamma <= 1))
    param = "gamma_fraction", why = "is a share in (0, 1], e.g. 0.1";
  else if (gmax < 1 || gmax > 1000000)
    param = "gamma_max", why = "is an integer in [1, 1000000]";
  else if (!(prior > 0 && prior <= 1e6))
    param = "prior_weight", why = "is a weight in (0, 1e6], e.g. 1.0";
  if (param) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "node '%s': " COMPONENT ": param '%s' %s",
                lathe_context_node_id(ctx), param, why);
    return FALSE;
  }
  o->n_startup_trials = (guint)startup;
  o->n_ei_candidates = (guint)cand;
  o->gamma_fraction = gamma;
  o->gamma_max = (guint)gmax;
  o->constant_liar = lathe_context_param_bool(ctx, "constant_liar");
  o->parzen.prior_weight = prior;
  o->parzen.consider_prior = lathe_context_param_bool(ctx, "consider_prior");
  o->parzen.consider_magic_clip = lathe_context_param_bool(ctx, "consider_magic_clip");
  o->parzen.consider_endpoints = lathe_context_param_bool(ctx, "consider_endpoints");
  o->parzen.multivariate = lathe_context_param_bool(ctx, "multivariate");
  return TRUE;
}

static gpointer tpe_create(LatheContext *ctx, const LatheSearchSpace *space, GError **error) {
  LatheTuneTpeOptions opts;
  if (!read_options(ctx, &opts, error))
    return NULL;
  LatheTunerHistory *h = lathe_tuner_history_new(ctx, COMPONENT, space, error);
  if (!h)
    return NULL;
  TpeTuner *t = g_new0(TpeTuner, 1);
  t->h = h;
  t->opts = opts;
  return t;
}

/* With several objectives, a complete trial's value becomes its Pareto
 * front (0 for the non-dominated) plus a tie-break in [0, 0.5] that prefers
 * isolated points (NSGA-II crowding distance), so that the gamma best trials
 * in l(x) are the first fronts, spread along them. Optuna's MOTPE breaks the
 * tie on the last front by hypervolume contribution instead; crowding is
 * cheaper for any number of objectives and keeps the same intent. */
static void scalarize(const LatheTunerHistory *h, LatheTuneTrial *view, guint n) {
  guint k = 0;
  for (guint i = 0; i < n && !k; i++) {
    guint nv;
    lathe_tuner_history_values(h, i, &nv);
    if (view[i].state == LATHE_TUNE_COMPLETE && nv > 1)
      k = nv;
  }
  if (!k)
    return;
  g_autofree guint *rows = g_new(guint, n);
  g_autofree double *y = g_new(double, (gsize)n * k);
  guint m = 0;
  for (guint i = 0; i < n; i++) {
    guint nv;
    const double *v = lathe_tuner_history_values(h, i, &nv);
    if (view[i].state != LATHE_TUNE_COMPLETE)
      continue;
    if (nv != k) {
      view[i].value = NAN; /* another number of objectives: unusable */
      continue;
    }
    memcpy(y + (gsize)m * k, v, k * sizeof(double));
    rows[m++] = i;
  }
  if (!m)
    return;
  g_autofree guint *rank = g_new(guint, m);
  guint fronts = lathe_tune_pareto_ranks(y, m, k, rank);
  g_autofree guint *idx = g_new(guint, m);
  g_autofree double *dist = g_new(double, m);
  for (guint f = 0; f < fronts; f++) {
    guint c = 0;
    for (guint j = 0; j < m; j++)
      if (rank[j] == f)
        idx[c++] = j;
    if (!c)
      continue;
    lathe_tune_pareto_crowding(y, k, idx, c, dist);
    for (guint j = 0; j < c; j++)
      view[rows[idx[j]]].value = f + 0.5 / (1.0 + dist[j]);
  }
}

/* Whether @x is the point of a running trial. */
static gboolean repeats_pending(const LatheTunerHistory *h, const LatheTuneTrial *view, guint n,
                                const double *x) {
  for (guint k = 0; k < n; k++)
    if (view[k].state == LATHE_TUNE_PENDING && lathe_tuner_history_same_point(h, view[k].x, x))
      return TRUE;
  return FALSE;
}

/* How many more draws a proposal that repeats a running trial gets. */
#define LIAR_REDRAWS 8

static gboolean tpe_ask(gpointer self, guint trial, JsonObject **point, GError **error) {
  TpeTuner *t = self;
  LatheTunerHistory *h = t->h;
  const LatheTuneSpace *sp = &h->sj->space;
  g_autofree LatheTuneTrial *view = NULL;
  guint n = 0;
  if (!lathe_tuner_history_begin_ask(h, trial, &view, &n, error))
    return FALSE;
  scalarize(h, view, n);
  g_autofree double *x = g_new(double, sp->n_dims);
  GError *lerr = NULL;
  /* The liar lowers g(x)'s odds at running points per dimension, which in a
   * small discrete space can still land on a running trial's point: draw
   * again from streams derived from the seed (proposals stay a function of
   * seed, trial number and history), then take a random point that no
   * running trial holds. */
  gboolean ok = TRUE, again = TRUE;
  for (guint r = 0; ok && again && r <= LIAR_REDRAWS; r++) {
    guint64 seed = r ? h->seed ^ (G_GUINT64_CONSTANT(0x9E3779B97F4A7C15) * r) : h->seed;
    ok = lathe_tune_tpe_propose(sp, view, n, &t->opts, seed, trial, x, &lerr);
    again = ok && t->opts.constant_liar && repeats_pending(h, view, n, x);
  }
  if (ok && again) {
    g_autofree LatheTuneTrial *pending = g_new(LatheTuneTrial, MAX(n, 1));
    guint np = 0;
    for (guint k = 0; k < n; k++)
      if (view[k].state == LATHE_TUNE_PENDING)
        pending[np++] = view[k];
    g_autofree double *y = g_new(double, sp->n_dims);
    /* FALSE without an error: every point is running; keep the repeat. */
    if (lathe_tune_random_propose(sp, pending, np, LATHE_TUNE_RANDOM_UNIFORM, h->seed, trial, y,
                                  &lerr))
      memcpy(x, y, sp->n_dims * sizeof(double));
    ok = lerr == NULL;
  }
  if (!ok) {
    lathe_tuner_history_fail(h, error, lerr);
    return FALSE;
  }
  *point = lathe_tuner_history_add_pending(h, trial, x);
  return TRUE;
}

static const LatheTunerClass tpe_tuner = {
    LATHE_COMPONENT_INIT(LatheTunerClass, LATHE_KIND_TUNER, "tpe",
                         "Tree-structured Parzen estimator (Optuna 3.1 TPESampler defaults), "
                         "univariate or multivariate, with a constant liar for parallel trials",
                         tpe_params, NULL, NULL),
    .create = tpe_create,
    .ask = tpe_ask,
    .tell = lathe_tuner_history_tell_cb,
    .free = tpe_free,
    .tell_multi = lathe_tuner_history_tell_multi_cb,
};

LATHE_PLUGIN_DEFINE("tuner-tpe", "0.1.0", "MIT", "Tree-structured Parzen estimator tuner",
                    LATHE_COMPONENT(tpe_tuner))
