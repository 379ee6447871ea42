/* The softmax cross-entropy objective and its gradient.
 *
 * The data stays float32 and the two products (X.W^T forward, R^T.X backward)
 * go through sgemm, which is where the time goes. The small per-row work
 * (log-sum-exp, residuals, sums) is done in double and in row order, so the
 * objective is deterministic and precise enough for L-BFGS line searches. */
#include <cblas.h>
#include <math.h>

#include "logreg-internal.h"

gsize lathe_logreg_n_params(guint d, guint k) { return (gsize)k * ((gsize)d + 1); }

LatheLogregWork *lathe_logreg_work_new(guint n_max, guint d, guint k) {
  LatheLogregWork *w = g_new0(LatheLogregWork, 1);
  w->n_max = n_max;
  w->d = d;
  w->k = k;
  w->w = g_new0(float, (gsize)k * d + 1);
  w->scores = g_new0(float, (gsize)n_max * k + 1);
  w->gw = g_new0(float, (gsize)k * d + 1);
  return w;
}

void lathe_logreg_work_free(LatheLogregWork *w) {
  if (!w)
    return;
  g_free(w->w);
  g_free(w->scores);
  g_free(w->gw);
  g_free(w);
}

double lathe_logreg_objective(const float *x, const gint32 *y, guint n, double l2,
                              const double *theta, double *grad, LatheLogregWork *work) {
  const guint d = work->d, k = work->k;
  const gsize kd = (gsize)k * d;
  const double *bias = theta + kd;
  g_return_val_if_fail(n >= 1 && n <= work->n_max, NAN);

  for (gsize i = 0; i < kd; i++)
    work->w[i] = (float)theta[i];
  /* scores (n x k) = X (n x d) . W^T (d x k) */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)k, (int)d, 1.0f, x,
              (int)d, work->w, (int)d, 0.0f, work->scores, (int)k);

  if (grad)
    for (guint c = 0; c < k; c++)
      grad[kd + c] = 0.0;
  const double inv_n = 1.0 / n;
  double loss = 0.0;
  for (guint r = 0; r < n; r++) {
    float *s = work->scores + (gsize)r * k;
    double zmax = -INFINITY;
    for (guint c = 0; c < k; c++) {
      double z = (double)s[c] + bias[c];
      if (z > zmax)
        zmax = z;
    }
    double sum = 0.0;
    for (guint c = 0; c < k; c++)
      sum += exp((double)s[c] + bias[c] - zmax);
    double lse = zmax + log(sum);
    loss += lse - ((double)s[y[r]] + bias[y[r]]);
    if (!grad)
      continue;
    /* Residual p - onehot, already divided by n so sgemm yields the mean. */
    for (guint c = 0; c < k; c++) {
      double p = exp((double)s[c] + bias[c] - lse);
      double res = (p - (c == (guint)y[r] ? 1.0 : 0.0)) * inv_n;
      grad[kd + c] += res;
      s[c] = (float)res;
    }
  }
  loss *= inv_n;

  double sq = 0.0;
  for (gsize i = 0; i < kd; i++)
    sq += theta[i] * theta[i];
  loss += 0.5 * l2 * sq;

  if (grad) {
    /* gw (k x d) = R^T (k x n) . X (n x d) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)n, 1.0f,
                work->scores, (int)k, x, (int)d, 0.0f, work->gw, (int)d);
    for (gsize i = 0; i < kd; i++)
      grad[i] = (double)work->gw[i] + l2 * theta[i];
  }
  return loss;
}

void lathe_logreg_softmax_rows(float *scores, guint n, guint k) {
  for (guint r = 0; r < n; r++) {
    float *s = scores + (gsize)r * k;
    float zmax = s[0];
    for (guint c = 1; c < k; c++)
      zmax = MAX(zmax, s[c]);
    double sum = 0.0;
    for (guint c = 0; c < k; c++)
      sum += exp((double)s[c] - zmax);
    for (guint c = 0; c < k; c++)
      s[c] = (float)(exp((double)s[c] - zmax) / sum);
  }
}
