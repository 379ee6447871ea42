/* serve-drift.h: input drift of a served model version (core/serve/).
 *
 * The registry keeps, for each version, histograms of its training features
 * on fixed equal-width bins (lathe_registry_reference_stats). A served
 * version keeps the same histograms over a sliding window of its most recent
 * request rows and compares them with Evidently's PSI: the share of each bin,
 * 0.0001 in place of an empty bin's, and sum (cur - ref) * ln(cur / ref).
 * Values outside the reference range fall in the edge bins, as the reference
 * binned them. Per feature, in all (the mean over features) and the largest.
 * Also the predicted classes against the training class distribution. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _LatheServeDrift LatheServeDrift;

/**
 * lathe_serve_drift_new:
 * @reference: (nullable): a version's "reference" metadata.
 * @n_cols: the width of a request row (channels x steps for sequences).
 * @window: rows kept (the oldest leaves as a new one comes).
 * @min_rows: rows needed before a PSI is given (NAN until then).
 *
 * Returns: (transfer full) (nullable): %NULL when @reference holds no usable
 * histograms (a version registered without a reference input), or when its
 * features do not divide @n_cols.
 */
LatheServeDrift *lathe_serve_drift_new(JsonObject *reference, guint n_cols, guint window,
                                       guint min_rows);
void lathe_serve_drift_free(LatheServeDrift *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheServeDrift, lathe_serve_drift_free)

/* @x: @n_rows rows of n_cols floats; @classes: (nullable) the predicted class
 * index of each row (into the version's class names, as the reference's
 * "classes" object lists them), or -1. */
void lathe_serve_drift_observe(LatheServeDrift *d, const float *x, guint n_rows,
                               const gint *classes);

guint lathe_serve_drift_n_features(const LatheServeDrift *d);
const char *lathe_serve_drift_feature_name(const LatheServeDrift *d, guint f);
/* NAN while the window holds fewer than min_rows rows. */
double lathe_serve_drift_feature_psi(const LatheServeDrift *d, guint f);
double lathe_serve_drift_psi(const LatheServeDrift *d);     /* the mean over features */
double lathe_serve_drift_psi_max(const LatheServeDrift *d); /* the largest feature's */
/* The predicted classes' PSI against the training labels (NAN without them). */
double lathe_serve_drift_prediction_psi(const LatheServeDrift *d);
guint lathe_serve_drift_rows(const LatheServeDrift *d);
/* The index of class @name in the reference's class distribution, or -1. */
gint lathe_serve_drift_class_index(const LatheServeDrift *d, const char *name);

/* Returns: (transfer full): the detail `GET /drift` shows for one version:
 * window, rows, psi, psi_max, and per feature its name, psi, and the
 * reference and current shares per bin with the bin edges. */
JsonObject *lathe_serve_drift_to_json(const LatheServeDrift *d);

G_END_DECLS
