/* Classification metrics, with scikit-learn's definitions and conventions
 * (zero_division=0, macro over the labels seen in truth or predictions,
 * log_loss clipping then renormalising), so numbers can be compared 1:1. */
#include <math.h>

#include "classification-metrics.h"

void lathe_class_metrics_free(LatheClassMetrics *m) {
  if (!m)
    return;
  g_free(m->confusion);
  g_free(m->support);
  g_free(m->predicted);
  g_free(m->precision);
  g_free(m->recall);
  g_free(m->f1);
  g_free(m->in_macro);
  g_free(m);
}

LatheClassMetrics *lathe_class_metrics_compute(const float *probs, guint n_rows,
                                               guint n_model_classes, const gint32 *truth,
                                               guint n_classes, GError **error) {
  const guint k = n_model_classes, c_all = n_classes;
  if (k == 0 || c_all < k) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "evaluator/classification: %u probability columns for %u classes", k, c_all);
    return NULL;
  }
  for (guint r = 0; r < n_rows; r++) {
    if (truth[r] < 0 || (guint)truth[r] >= c_all) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "evaluator/classification: row %u has no valid label (%d); drop "
                  "unlabelled rows before evaluating",
                  r, truth[r]);
      return NULL;
    }
    for (guint c = 0; c < k; c++) {
      if (!isfinite(probs[(gsize)r * k + c])) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                    "evaluator/classification: the model returned a non-finite probability "
                    "for row %u, column %u",
                    r, c);
        return NULL;
      }
    }
  }

  LatheClassMetrics *m = g_new0(LatheClassMetrics, 1);
  m->n_rows = n_rows;
  m->n_classes = c_all;
  m->n_model_classes = k;
  m->confusion = g_new0(guint64, (gsize)c_all * c_all);
  m->support = g_new0(guint64, c_all);
  m->predicted = g_new0(guint64, c_all);
  m->precision = g_new0(double, c_all);
  m->recall = g_new0(double, c_all);
  m->f1 = g_new0(double, c_all);
  m->in_macro = g_new0(gboolean, c_all);

  /* Classes the model lacks are columns of zeros: each adds eps to a row's
   * clipped sum, exactly as a padded probability matrix would in sklearn. */
  const double eps = LATHE_LOG_LOSS_EPS;
  const double missing_mass = (double)(c_all - k) * eps;
  guint64 correct = 0;
  double loss = 0.0;
  for (guint r = 0; r < n_rows; r++) {
    const float *p = probs + (gsize)r * k;
    guint best = 0;
    double sum = missing_mass;
    for (guint c = 0; c < k; c++) {
      if (p[c] > p[best])
        best = c;
      sum += CLAMP((double)p[c], eps, 1.0 - eps);
    }
    guint t = (guint)truth[r];
    double pt = t < k ? CLAMP((double)p[t], eps, 1.0 - eps) : eps;
    loss -= log(pt / sum);
    m->confusion[(gsize)t * c_all + best]++;
    m->support[t]++;
    m->predicted[best]++;
    correct += t == best;
  }
  m->accuracy = n_rows ? (double)correct / n_rows : 0.0;
  m->log_loss = n_rows ? loss / n_rows : 0.0;

  guint n_macro = 0;
  for (guint c = 0; c < c_all; c++) {
    double tp = (double)m->confusion[(gsize)c * c_all + c];
    m->precision[c] = m->predicted[c] ? tp / (double)m->predicted[c] : 0.0;
    m->recall[c] = m->support[c] ? tp / (double)m->support[c] : 0.0;
    double pr = m->precision[c] + m->recall[c];
    m->f1[c] = pr > 0.0 ? 2.0 * m->precision[c] * m->recall[c] / pr : 0.0;
    m->in_macro[c] = m->support[c] > 0 || m->predicted[c] > 0;
    if (m->in_macro[c]) {
      m->macro_precision += m->precision[c];
      m->macro_recall += m->recall[c];
      m->macro_f1 += m->f1[c];
      n_macro++;
    }
  }
  if (n_macro) {
    m->macro_precision /= n_macro;
    m->macro_recall /= n_macro;
    m->macro_f1 /= n_macro;
  }
  return m;
}

JsonObject *lathe_class_metrics_to_json(const LatheClassMetrics *m,
                                        const char *const *names) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "n", m->n_rows);
  json_object_set_double_member(o, "accuracy", m->accuracy);
  json_object_set_double_member(o, "macro_precision", m->macro_precision);
  json_object_set_double_member(o, "macro_recall", m->macro_recall);
  json_object_set_double_member(o, "macro_f1", m->macro_f1);
  json_object_set_double_member(o, "log_loss", m->log_loss);
  JsonArray *classes = json_array_new();
  JsonArray *cm = json_array_new();
  for (guint c = 0; c < m->n_classes; c++) {
    g_autofree char *kp = g_strconcat("precision_", names[c], NULL);
    g_autofree char *kr = g_strconcat("recall_", names[c], NULL);
    g_autofree char *kf = g_strconcat("f1_", names[c], NULL);
    g_autofree char *ks = g_strconcat("support_", names[c], NULL);
    json_object_set_double_member(o, kp, m->precision[c]);
    json_object_set_double_member(o, kr, m->recall[c]);
    json_object_set_double_member(o, kf, m->f1[c]);
    json_object_set_int_member(o, ks, (gint64)m->support[c]);
    json_array_add_string_element(classes, names[c]);
    JsonArray *row = json_array_new();
    for (guint p = 0; p < m->n_classes; p++)
      json_array_add_int_element(row, (gint64)m->confusion[(gsize)c * m->n_classes + p]);
    json_array_add_array_element(cm, row);
  }
  json_object_set_array_member(o, "classes", classes);
  json_object_set_array_member(o, "confusion_matrix", cm);
  return o;
}

guint lathe_class_vote_by_group(const gint32 *groups, guint n_groups, guint n_rows, guint k,
                                guint n_classes, float *probs, gint32 *truth) {
  /* Sums in double: a recording has thousands of windows. */
  double *sum = g_new0(double, (gsize)n_groups * k + 1);
  guint64 *votes = g_new0(guint64, (gsize)n_groups * n_classes + 1);
  guint64 *count = g_new0(guint64, (gsize)n_groups + 1);
  for (guint r = 0; r < n_rows; r++) {
    gint32 g = groups[r];
    if (g < 0 || (guint)g >= n_groups)
      continue;
    for (guint c = 0; c < k; c++)
      sum[(gsize)g * k + c] += probs[(gsize)r * k + c];
    votes[(gsize)g * n_classes + (guint)truth[r]]++;
    count[g]++;
  }
  guint out = 0;
  for (guint g = 0; g < n_groups; g++) {
    if (!count[g])
      continue;
    for (guint c = 0; c < k; c++)
      probs[(gsize)out * k + c] = (float)(sum[(gsize)g * k + c] / (double)count[g]);
    guint best = 0;
    for (guint c = 1; c < n_classes; c++)
      if (votes[(gsize)g * n_classes + c] > votes[(gsize)g * n_classes + best])
        best = c;
    truth[out++] = (gint32)best;
  }
  g_free(sum);
  g_free(votes);
  g_free(count);
  return out;
}
