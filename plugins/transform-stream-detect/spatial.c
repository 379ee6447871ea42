/* transform/spatial_anomaly: the spatial anomalies NAB's Numenta HTM detector
 * adds to its temporal score (Ahmad, Lavin, Purdy & Agha, "Unsupervised
 * real-time anomaly detection for streaming data", Neurocomputing 262, 2017;
 * NAB's HTM entry describes it), written from that description, not from
 * NAB's (AGPL) code: row t scores 1 when its value leaves [lo, hi], the
 * minimum and maximum of the rows before t, by more than `tolerance` times
 * hi - lo; otherwise 0. The range then takes row t in. The probation rows
 * score 0 and only learn the range, as NAB scores none of them. */
#include <math.h>

#include "stream.h"

static const LatheParamSpec sp_params[] = {
    LATHE_PARAM_FLOAT_("tolerance", "0.05", 0, 1e9, 0,
                       "how far past the running range, as a share of its width, a value must "
                       "go to score 1"),
    LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0, 1, 0,
                       "NAB's probationary period: min(floor(p n), p 5000) rows of a series of "
                       "n rows score 0 (they only set the range)"),
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

typedef struct {
  double tol, lo, hi;
  guint64 n, probation;
} SpState;

static gpointer sp_new(LatheContext *ctx, const LatheStreamSeries *series) {
  SpState *s = g_new0(SpState, 1);
  s->probation = lathe_stream_probation(ctx, series->n);
  s->tol = lathe_context_param_float(ctx, "tolerance");
  s->lo = INFINITY;
  s->hi = -INFINITY;
  return s;
}

static double sp_step(gpointer p, double x) {
  SpState *s = p;
  double margin = s->tol * (s->hi - s->lo);
  gboolean out = s->n > 0 && (x > s->hi + margin || x < s->lo - margin);
  lathe_stream_range_update(TRUE, &s->lo, &s->hi, x);
  return s->n++ < s->probation ? 0.0 : (double)out;
}

static const LatheStreamDetector sp_det = {"transform/spatial_anomaly", "_spatial", sp_new,
                                           sp_step, g_free, FALSE};

static gboolean sp_run(LatheContext *ctx, GError **error) {
  return lathe_stream_detect_run(ctx, &sp_det, error);
}

const LatheTransformClass lathe_stream_spatial_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "spatial_anomaly",
                         "streaming: 1 when a value leaves the running range of the earlier "
                         "rows by more than a tolerance (HTM's spatial anomaly), else 0",
                         sp_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = sp_run,
};
