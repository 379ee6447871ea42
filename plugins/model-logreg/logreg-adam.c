/* Adam (Kingma & Ba, 2015) on shuffled minibatches.
 *
 * Each epoch draws a fresh permutation from the node's rng, so one seed gives
 * one sequence of batches and bit-identical weights. Batches are gathered into
 * a contiguous buffer for sgemm. After each epoch the full-data objective and
 * gradient are computed once: that is the loss reported and the gradient the
 * tol test looks at (a minibatch gradient never settles). */
#include <math.h>
#include <string.h>

#include "logreg-internal.h"

#define BETA1 0.9
#define BETA2 0.999
#define ADAM_EPS 1e-8

static double max_abs(const double *a, gsize n) {
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX(m, fabs(a[i]));
  return m;
}

gboolean lathe_logreg_adam(const float *x, const gint32 *y, guint n, guint d, guint k,
                           const LatheLogregSolverParams *prm, double *theta,
                           LatheLogregSolverResult *res, GError **error) {
  const gsize p = lathe_logreg_n_params(d, k);
  const guint bs = CLAMP(prm->batch_size, 1u, n);
  LatheRng *rng = lathe_context_rng(prm->ctx);
  LatheLogregWork *work = lathe_logreg_work_new(n, d, k);
  float *bx = g_new(float, (gsize)bs * d + 1);
  gint32 *by = g_new(gint32, bs + 1);
  guint32 *perm = g_new(guint32, n + 1);
  double *g = g_new(double, p), *m = g_new0(double, p), *v = g_new0(double, p);
  const guint stride = MAX(1u, (prm->max_iter + 99) / 100);
  double b1t = 1.0, b2t = 1.0; /* BETA^t, kept as products to avoid pow() drift */
  gboolean ok = TRUE;
  char note[64];

  for (guint i = 0; i < n; i++)
    perm[i] = i;
  double f = lathe_logreg_objective(x, y, n, prm->l2, theta, g, work);
  guint epoch = 0;
  res->converged = FALSE;
  res->stop = "max_iter reached";
  while (epoch < prm->max_iter) {
    if (max_abs(g, p) < prm->tol) {
      res->converged = TRUE;
      res->stop = "gradient below tol";
      break;
    }
    lathe_rng_shuffle(rng, perm, n);
    for (guint start = 0; start < n && ok; start += bs) {
      if (lathe_context_is_cancelled(prm->ctx)) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED,
                    "model/logreg: cancelled in Adam epoch %u", epoch + 1);
        ok = FALSE;
        break;
      }
      guint nb = MIN(bs, n - start);
      for (guint j = 0; j < nb; j++) {
        guint32 r = perm[start + j];
        memcpy(bx + (gsize)j * d, x + (gsize)r * d, d * sizeof(float));
        by[j] = y[r];
      }
      lathe_logreg_objective(bx, by, nb, prm->l2, theta, g, work);
      b1t *= BETA1;
      b2t *= BETA2;
      const double c1 = 1.0 / (1.0 - b1t), c2 = 1.0 / (1.0 - b2t);
      for (gsize i = 0; i < p; i++) {
        m[i] = BETA1 * m[i] + (1.0 - BETA1) * g[i];
        v[i] = BETA2 * v[i] + (1.0 - BETA2) * g[i] * g[i];
        theta[i] -= prm->lr * (m[i] * c1) / (sqrt(v[i] * c2) + ADAM_EPS);
      }
    }
    if (!ok)
      break;
    f = lathe_logreg_objective(x, y, n, prm->l2, theta, g, work);
    epoch++;
    if (epoch % stride == 0 || epoch == prm->max_iter) {
      lathe_context_report(prm->ctx, "loss", f, epoch);
      g_snprintf(note, sizeof note, "Adam epoch %u/%u", epoch, prm->max_iter);
      lathe_context_progress(prm->ctx, (double)epoch / prm->max_iter, note);
    }
    if (!isfinite(f)) {
      res->stop = "diverged"; /* lr far too large; the caller fails the fit */
      break;
    }
  }
  if (ok && epoch % stride != 0 && epoch != prm->max_iter)
    lathe_context_report(prm->ctx, "loss", f, epoch);
  res->n_iter = epoch;
  res->loss = f;
  if (!res->converged && max_abs(g, p) < prm->tol) {
    res->converged = TRUE;
    res->stop = "gradient below tol";
  }

  lathe_logreg_work_free(work);
  g_free(bx);
  g_free(by);
  g_free(perm);
  g_free(g);
  g_free(m);
  g_free(v);
  return ok;
}
