/* tune-prune.c: the median (percentile) rule and successive halving, after
 * optuna/pruners/_percentile.py and _successive_halving.py (Optuna 3.1). */
#include "tune-prune.h"

#include <math.h>
#include <string.h>

#include "tune-random.h"

void lathe_tune_median_options_init(LatheTuneMedianOptions *opts) {
  opts->percentile = 50;
  opts->n_startup_trials = 5;
  opts->n_warmup_steps = 0;
  opts->interval_steps = 1;
  opts->n_min_trials = 1;
}

void lathe_tune_halving_options_init(LatheTuneHalvingOptions *opts) {
  opts->min_resource = 0;
  opts->reduction_factor = 4;
  opts->min_early_stopping_rate = 0;
  opts->bootstrap_count = 0;
}

static gboolean check_curve(const LatheTuneCurve *c, const char *what, guint i,
                            GError **error) {
  if (c == NULL || (c->n > 0 && (c->steps == NULL || c->values == NULL))) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "pruner: %s %u has no steps or values", what, i);
    return FALSE;
  }
  for (guint j = 1; j < c->n; j++)
    if (c->steps[j] <= c->steps[j - 1]) {
      g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                  "pruner: %s %u has steps %u then %u; steps must be strictly increasing",
                  what, i, c->steps[j - 1], c->steps[j]);
      return FALSE;
    }
  return TRUE;
}

static gboolean check_curves(const LatheTuneCurve *trial, const LatheTuneCurve *others,
                             guint n_others, gboolean *prune_out, GError **error) {
  if (prune_out == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID, "pruner: no output");
    return FALSE;
  }
  if (n_others > 0 && others == NULL) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "pruner: %u other trials announced but none given", n_others);
    return FALSE;
  }
  if (!check_curve(trial, "trial", 0, error))
    return FALSE;
  for (guint i = 0; i < n_others; i++)
    if (!check_curve(&others[i], "other trial", i, error))
      return FALSE;
  return TRUE;
}

/* The value at @step, or FALSE when the curve has none there. */
static gboolean value_at(const LatheTuneCurve *c, guint step, double *v) {
  guint lo = 0, hi = c->n;
  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    if (c->steps[mid] < step)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < c->n && c->steps[lo] == step) {
    *v = c->values[lo];
    return TRUE;
  }
  return FALSE;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* np.nanpercentile with linear interpolation; NAN when every value is. */
static double nan_percentile(double *v, guint n, double pct) {
  guint m = 0;
  for (guint i = 0; i < n; i++)
    if (!isnan(v[i]))
      v[m++] = v[i];
  if (m == 0)
    return NAN;
  qsort(v, m, sizeof(double), cmp_double);
  double pos = pct / 100 * (m - 1);
  guint lo = (guint)floor(pos);
  if (lo + 1 >= m)
    return v[m - 1];
  return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

gboolean lathe_tune_prune_median(const LatheTuneCurve *trial, const LatheTuneCurve *others,
                                 guint n_others, const LatheTuneMedianOptions *opts,
                                 gboolean *prune_out, GError **error) {
  LatheTuneMedianOptions def;
  if (opts == NULL) {
    lathe_tune_median_options_init(&def);
    opts = &def;
  }
  if (!check_curves(trial, others, n_others, prune_out, error))
    return FALSE;
  if (!(opts->percentile >= 0 && opts->percentile <= 100) || opts->interval_steps == 0 ||
      opts->n_min_trials == 0) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "median pruner: percentile must be in [0, 100], interval_steps and "
                "n_min_trials >= 1");
    return FALSE;
  }
  *prune_out = FALSE;
  guint n_complete = 0;
  for (guint i = 0; i < n_others; i++)
    n_complete += others[i].state == LATHE_TUNE_COMPLETE;
  if (n_complete == 0 || n_complete < opts->n_startup_trials || trial->n == 0)
    return TRUE;
  guint step = trial->steps[trial->n - 1];
  if (step < opts->n_warmup_steps)
    return TRUE;
  /* Optuna's _is_first_in_interval_step: check once per interval, at the
   * first report at or after its start. */
  guint w = opts->n_warmup_steps, iv = opts->interval_steps;
  guint nearest = (step - w) / iv * iv + w;
  if (trial->n >= 2 && trial->steps[trial->n - 2] >= nearest)
    return TRUE;

  double best = NAN;
  for (guint j = 0; j < trial->n; j++)
    if (!isnan(trial->values[j]) && (isnan(best) || trial->values[j] < best))
      best = trial->values[j];
  if (isnan(best)) {
    *prune_out = TRUE;
    return TRUE;
  }
  double *vals = g_new(double, n_complete);
  guint nv = 0;
  for (guint i = 0; i < n_others; i++) {
    double v;
    if (others[i].state == LATHE_TUNE_COMPLETE && value_at(&others[i], step, &v))
      vals[nv++] = v;
  }
  double p = nv < opts->n_min_trials ? NAN : nan_percentile(vals, nv, opts->percentile);
  g_free(vals);
  *prune_out = !isnan(p) && best > p;
  return TRUE;
}

/* The step at which rung @r is complete. */
static double rung_step(const LatheTuneHalvingOptions *o, double min_resource, guint r) {
  return min_resource * pow(o->reduction_factor, o->min_early_stopping_rate + r);
}

/* The value with which @c completed rung @r as Optuna would have recorded
 * it (see lathe_tune_prune_halving()); FALSE when it did not. */
static gboolean rung_value(const LatheTuneCurve *c, const LatheTuneHalvingOptions *o,
                           double min_resource, guint r, double *out) {
  guint rung = 0;
  for (guint j = 0; j < c->n; j++) {
    gboolean last = j + 1 == c->n;
    gboolean first_here = TRUE;
    while (c->steps[j] >= rung_step(o, min_resource, rung)) {
      if (isnan(c->values[j]))
        return FALSE;  /* pruned before anything was recorded */
      if (!first_here && last && c->state == LATHE_TUNE_PRUNED)
        return FALSE;  /* pruned at an earlier rung of this report */
      if (rung == r) {
        *out = c->values[j];
        return TRUE;
      }
      first_here = FALSE;
      rung++;
    }
  }
  return FALSE;
}

gboolean lathe_tune_prune_halving(const LatheTuneCurve *trial, const LatheTuneCurve *others,
                                  guint n_others, const LatheTuneHalvingOptions *opts,
                                  gboolean *prune_out, GError **error) {
  LatheTuneHalvingOptions def;
  if (opts == NULL) {
    lathe_tune_halving_options_init(&def);
    opts = &def;
  }
  if (!check_curves(trial, others, n_others, prune_out, error))
    return FALSE;
  if (opts->reduction_factor < 2) {
    g_set_error(error, LATHE_TUNE_ERROR, LATHE_TUNE_ERROR_INVALID,
                "successive halving: reduction_factor must be >= 2, got %u",
                opts->reduction_factor);
    return FALSE;
  }
  *prune_out = FALSE;
  if (trial->n == 0)
    return TRUE;
  double min_resource = opts->min_resource;
  if (min_resource == 0) {
    /* Optuna's _estimate_min_resource. */
    gboolean any = FALSE;
    guint last = 0;
    for (guint i = 0; i < n_others; i++)
      if (others[i].state == LATHE_TUNE_COMPLETE && others[i].n > 0) {
        any = TRUE;
        last = MAX(last, others[i].steps[others[i].n - 1]);
      }
    if (!any)
      return TRUE;
    min_resource = MAX(last / 100, 1u);
  }

  /* The rungs the trial completed before its last report (it is running,
   * so it was promoted from each). */
  guint rung = 0;
  for (guint j = 0; j + 1 < trial->n; j++)
    while (trial->steps[j] >= rung_step(opts, min_resource, rung))
      rung++;

  guint step = trial->steps[trial->n - 1];
  double value = trial->values[trial->n - 1];
  double *competing = g_new(double, n_others + 1);
  for (;; rung++) {
    if (step < rung_step(opts, min_resource, rung))
      break;
    if (isnan(value)) {
      *prune_out = TRUE;
      break;
    }
    guint nc = 0;
    for (guint i = 0; i < n_others; i++) {
      double v;
      if (rung_value(&others[i], opts, min_resource, rung, &v))
        competing[nc++] = v;
    }
    competing[nc++] = value;
    if (nc <= opts->bootstrap_count) {
      *prune_out = TRUE;
      break;
    }
    /* Optuna's _is_trial_promotable_to_next_rung. */
    gint idx = (gint)(nc / opts->reduction_factor) - 1;
    if (idx < 0)
      idx = 0;
    qsort(competing, nc, sizeof(double), cmp_double);
    if (!(value <= competing[idx])) {
      *prune_out = TRUE;
      break;
    }
  }
  g_free(competing);
  return TRUE;
}
