/* The nearest-centroid math: training computes one centroid per class, and
 * prediction turns the squared distances to them into probabilities with a
 * softmax, so evaluators get a meaningful log loss, not just an argmax. */
#include <math.h>
#include <string.h>

#include "nc-model.h"

#define PREFIX "model/nearest-centroid: "

NcModel *nc_model_new(guint n_features, guint n_classes) {
  NcModel *m = g_new0(NcModel, 1);
  m->n_features = n_features;
  m->n_classes = n_classes;
  m->temperature = 1.0;
  /* +1: a zero-sized g_new0 returns NULL, and NULL here would read as "no array" */
  m->mean = g_new0(float, (gsize)n_features + 1);
  m->scale = g_new0(float, (gsize)n_features + 1);
  m->centroids = g_new0(float, (gsize)n_classes * n_features + 1);
  m->counts = g_new0(guint32, (gsize)n_classes + 1);
  return m;
}

void nc_model_free(NcModel *m) {
  if (!m)
    return;
  g_free(m->mean);
  g_free(m->scale);
  g_free(m->centroids);
  g_free(m->counts);
  g_free(m);
}

/* Names the first non-finite cell, so the user knows what to clean. */
static gboolean check_finite(const LatheDataset *ds, const char *what, GError **error) {
  const gsize total = (gsize)ds->n_rows * ds->n_cols;
  for (gsize i = 0; i < total; i++) {
    if (isfinite(ds->x[i]))
      continue;
    guint row = (guint)(i / ds->n_cols), col = (guint)(i % ds->n_cols);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                PREFIX "%s row %u, column '%s' is %g; impute or drop non-finite values "
                       "before the model",
                what, row, ds->columns[col], (double)ds->x[i]);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_train(const LatheDataset *ds, GError **error) {
  if (!ds->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                PREFIX "the training data has no labels; set \"label\" on the source");
    return FALSE;
  }
  if (ds->n_rows == 0 || ds->n_cols == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                PREFIX "the training data is empty (%u rows, %u columns)", ds->n_rows,
                ds->n_cols);
    return FALSE;
  }
  for (guint r = 0; r < ds->n_rows; r++) {
    if (ds->labels[r] < 0 || (guint)ds->labels[r] >= ds->n_classes) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  PREFIX "training row %u has no valid label (%d); drop unlabelled rows "
                         "before the model",
                  r, ds->labels[r]);
      return FALSE;
    }
  }
  return check_finite(ds, "training", error);
}

/* Mean and population standard deviation per feature, in double. A constant
 * feature keeps scale 1, so it maps to 0 instead of dividing by 0. */
static void fit_scaling(const LatheDataset *ds, NcModel *m) {
  const guint n = ds->n_rows, d = ds->n_cols;
  g_autofree double *mean = g_new0(double, d), *var = g_new0(double, d);
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < d; j++)
      mean[j] += ds->x[(gsize)r * d + j];
  for (guint j = 0; j < d; j++)
    mean[j] /= n;
  for (guint r = 0; r < n; r++)
    for (guint j = 0; j < d; j++) {
      double dev = ds->x[(gsize)r * d + j] - mean[j];
      var[j] += dev * dev;
    }
  for (guint j = 0; j < d; j++) {
    double sd = sqrt(var[j] / n);
    m->mean[j] = (float)mean[j];
    m->scale[j] = sd > 1e-12 * MAX(1.0, fabs(mean[j])) && isfinite((float)sd) ? (float)sd : 1.0f;
  }
}

NcModel *nc_model_fit(const LatheDataset *train, const NcParams *p, GError **error) {
  if (!check_train(train, error))
    return NULL;
  if (!(p->shrink >= 0.0 && p->shrink <= 1.0) || !(p->temperature > 0.0) ||
      !isfinite(p->temperature)) {
    /* The host validates declared bounds; this guards direct callers (tests). */
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                PREFIX "shrink must be in [0, 1] and temperature > 0 (got %g and %g)",
                p->shrink, p->temperature);
    return NULL;
  }
  const guint n = train->n_rows, d = train->n_cols, k = train->n_classes;
  NcModel *m = nc_model_new(d, k);
  m->standardize = p->standardize;
  m->temperature = p->temperature;
  m->shrink = p->shrink;
  if (m->standardize)
    fit_scaling(train, m);
  else
    for (guint j = 0; j < d; j++)
      m->scale[j] = 1.0f;

  /* Sums in double: float sums of many rows lose digits. */
  g_autofree double *sums = g_new0(double, (gsize)k * d);
  g_autofree double *overall = g_new0(double, d);
  for (guint r = 0; r < n; r++) {
    guint c = (guint)train->labels[r];
    m->counts[c]++;
    for (guint j = 0; j < d; j++) {
      double z = ((double)train->x[(gsize)r * d + j] - m->mean[j]) / m->scale[j];
      sums[(gsize)c * d + j] += z;
      overall[j] += z;
    }
  }
  guint present = 0;
  for (guint c = 0; c < k; c++)
    present += m->counts[c] > 0;
  if (present < 2) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                PREFIX "the training data has rows of %u class; a classifier needs at least 2",
                present);
    nc_model_free(m);
    return NULL;
  }
  for (guint c = 0; c < k; c++) {
    if (!m->counts[c])
      continue; /* stays 0; predict gives this class probability 0 */
    for (guint j = 0; j < d; j++) {
      double centroid = sums[(gsize)c * d + j] / m->counts[c];
      double target = overall[j] / n;
      m->centroids[(gsize)c * d + j] = (float)((1.0 - p->shrink) * centroid + p->shrink * target);
    }
  }
  return m;
}

float *nc_model_predict(const NcModel *m, const LatheDataset *data, guint *n_cols,
                        GError **error) {
  if (data->n_cols != m->n_features) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                PREFIX "the data has %u feature columns but the model was trained on %u; "
                       "predict on data with the training columns",
                data->n_cols, m->n_features);
    return NULL;
  }
  if (!check_finite(data, "input", error))
    return NULL;
  const guint d = m->n_features, k = m->n_classes;
  float *out = g_new0(float, (gsize)data->n_rows * k + 1);
  /* Per-call scratch, never in the model: other threads may be predicting. */
  g_autofree double *z = g_new(double, d + 1);
  g_autofree double *score = g_new(double, k + 1);
  for (guint r = 0; r < data->n_rows; r++) {
    const float *x = data->x + (gsize)r * d;
    for (guint j = 0; j < d; j++)
      z[j] = ((double)x[j] - m->mean[j]) / m->scale[j];
    double best = -INFINITY;
    for (guint c = 0; c < k; c++) {
      if (!m->counts[c])
        continue;
      double d2 = 0.0;
      for (guint j = 0; j < d; j++) {
        double diff = z[j] - m->centroids[(gsize)c * d + j];
        d2 += diff * diff;
      }
      score[c] = -d2 / m->temperature;
      best = MAX(best, score[c]);
    }
    /* Subtracting the best score keeps exp() from underflowing to 0/0. */
    double total = 0.0;
    for (guint c = 0; c < k; c++) {
      if (m->counts[c]) {
        score[c] = exp(score[c] - best);
        total += score[c];
      }
    }
    for (guint c = 0; c < k; c++)
      out[(gsize)r * k + c] = m->counts[c] ? (float)(score[c] / total) : 0.0f;
  }
  *n_cols = k;
  return out;
}
