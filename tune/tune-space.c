/* tune-space.c: activity and the unit-cube mapping of a #LatheTuneSpace. */
#include "tune-space.h"

#include <math.h>

gboolean lathe_tune_space_active(const LatheTuneSpace *space, const double *x, guint i) {
  const LatheTuneDim *d = &space->dims[i];
  if (d->parent < 0)
    return TRUE;
  guint p = (guint)d->parent;
  if (!lathe_tune_space_active(space, x, p) || isnan(x[p]))
    return FALSE;
  const LatheTuneDim *pd = &space->dims[p];
  if (pd->kind == LATHE_TUNE_CATEGORICAL) {
    guint c = (guint)x[p];
    return c < 64 && (d->cond_choices >> c) & 1u;
  }
  return x[p] >= d->cond_lo && x[p] <= d->cond_hi;
}

/* The number of grid points of a stepped or integer dimension, or 0. */
static double grid_points(const LatheTuneDim *d) {
  double step = d->step > 0 ? d->step : (d->kind == LATHE_TUNE_INT ? 1.0 : 0.0);
  if (step <= 0 || d->log)
    return 0;
  return floor((d->hi - d->lo) / step + 1e-9) + 1;
}

double lathe_tune_space_from_unit(const LatheTuneSpace *space, double u, guint i) {
  const LatheTuneDim *d = &space->dims[i];
  u = u < 0 ? 0 : u > 1 ? 1 : u;
  if (d->kind == LATHE_TUNE_CATEGORICAL) {
    double c = floor(u * d->n_choices);
    return c >= d->n_choices ? d->n_choices - 1 : c;
  }
  double n = grid_points(d);
  if (n > 0) {
    double step = d->step > 0 ? d->step : 1.0;
    double k = floor(u * n);
    if (k >= n)
      k = n - 1;
    return d->lo + k * step;
  }
  double v;
  if (d->log)
    v = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
  else
    v = d->lo + u * (d->hi - d->lo);
  if (d->kind == LATHE_TUNE_INT)
    v = round(v);
  return v < d->lo ? d->lo : v > d->hi ? d->hi : v;
}

double lathe_tune_space_to_unit(const LatheTuneSpace *space, double x, guint i) {
  const LatheTuneDim *d = &space->dims[i];
  if (isnan(x))
    return NAN;
  if (d->kind == LATHE_TUNE_CATEGORICAL)
    return (x + 0.5) / d->n_choices;
  double n = grid_points(d);
  if (n > 0) {
    double step = d->step > 0 ? d->step : 1.0;
    return (round((x - d->lo) / step) + 0.5) / n;
  }
  double u = d->log ? (log(x) - log(d->lo)) / (log(d->hi) - log(d->lo))
                    : (x - d->lo) / (d->hi - d->lo);
  return u < 0 ? 0 : u > 1 ? 1 : u;
}
