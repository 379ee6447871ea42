/* classification-metrics.h: scoring class probabilities against true labels.
 *
 * Internal to the evaluator-classification plugin; its tests compile
 * classification-metrics.c in to check the numbers on hand-made inputs. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/** LATHE_LOG_LOSS_EPS: probabilities are clipped to [eps, 1-eps] for log_loss. */
#define LATHE_LOG_LOSS_EPS 1e-15

/**
 * LatheClassMetrics:
 * @n_rows: rows scored.
 * @n_classes: classes in the report: the model's, then data classes the
 *   model does not know (which it can never predict).
 * @n_model_classes: probability columns (the first @n_model_classes classes).
 * @confusion: @n_classes x @n_classes counts, rows = true, columns = predicted.
 * @support: true rows per class.
 * @predicted: predicted rows per class.
 * @precision: per class; 0 when the class is never predicted (sklearn's
 *   zero_division=0).
 * @recall: per class; 0 when the class has no true rows.
 * @f1: per class; 0 when precision + recall is 0.
 * @in_macro: whether the class is part of the macro averages: it occurs in
 *   the truth or in the predictions, as sklearn's default labels.
 * @accuracy: share of rows whose argmax is the true class.
 * @macro_precision: mean of @precision over the @in_macro classes.
 * @macro_recall: likewise.
 * @macro_f1: mean of @f1 (not the F1 of the macro means), as sklearn.
 * @log_loss: mean -log p(true class) after clipping each probability to
 *   [%LATHE_LOG_LOSS_EPS, 1 - eps] and renormalising the row (sklearn); a
 *   class unknown to the model counts as a column of zeros.
 */
typedef struct {
  guint n_rows;
  guint n_classes;
  guint n_model_classes;
  guint64 *confusion;
  guint64 *support;
  guint64 *predicted;
  double *precision;
  double *recall;
  double *f1;
  gboolean *in_macro;
  double accuracy;
  double macro_precision;
  double macro_recall;
  double macro_f1;
  double log_loss;
} LatheClassMetrics;

/**
 * lathe_class_metrics_compute:
 * @probs: @n_rows x @n_model_classes probabilities, row-major.
 * @truth: @n_rows true class indices in [0, @n_classes).
 * @n_classes: classes in the report, at least @n_model_classes.
 * @error: return location for a #GError.
 *
 * The predicted class of a row is its first highest probability (numpy's
 * argmax).
 *
 * Returns: (transfer full) (nullable): the metrics, or %NULL with
 * %LATHE_ERROR_DATA when a probability is not finite or a truth index is out
 * of range.
 */
LatheClassMetrics *lathe_class_metrics_compute(const float *probs, guint n_rows,
                                               guint n_model_classes, const gint32 *truth,
                                               guint n_classes, GError **error);

/**
 * lathe_class_vote_by_group:
 * @groups: @n_rows group indices in [0, @n_groups) (-1: the row is left out).
 * @probs: (inout): @n_rows x @k probabilities; on return its first rows are
 *   one row per group present, in group order: the mean of that group's rows.
 * @truth: (inout): @n_rows true classes in [0, @n_classes); on return, one per
 *   group: its majority class (ties to the smallest index).
 *
 * Soft voting over the rows of a group (the windows of one recording), so a
 * recording is scored once.
 *
 * Returns: the number of groups that had rows.
 */
guint lathe_class_vote_by_group(const gint32 *groups, guint n_groups, guint n_rows, guint k,
                                guint n_classes, float *probs, gint32 *truth);

/** lathe_class_metrics_free: frees @m (nullable). */
void lathe_class_metrics_free(LatheClassMetrics *m);

/**
 * lathe_class_metrics_to_json:
 * @names: @m->n_classes class names.
 *
 * Returns: (transfer full): an object with the scalar metrics (accuracy,
 * macro_*, log_loss, n, and precision_/recall_/f1_/support_ per class) plus
 * "classes" and "confusion_matrix" (rows = true, columns = predicted).
 */
JsonObject *lathe_class_metrics_to_json(const LatheClassMetrics *m,
                                        const char *const *names);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheClassMetrics, lathe_class_metrics_free)

G_END_DECLS
