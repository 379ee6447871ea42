/* The softmax cross-entropy objective and its gradient.
 *
 * The data stays float32 and the two products (X.W^T forward, R^T.X backward)
 * go through sgemm, which is where the time goes. The small per-row work
 * (log-sum-exp, residuals, sums) is done in double and in row order, so the
 * objective is deterministic and precise enough for L-BFGS line searches. */
#include <cblas.h>
#include <float.h>
#include <math.h>

#include "logreg-internal.h"
#include "tune-lbfgs.h"

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

/* L-BFGS is tune/'s (tune-lbfgs.c). The options below are the ones this
 * solver always had: history 10, interpolating Armijo backtracking, a
 * restart along -g when the line search fails with stale pairs, and scipy's
 * relative decrease (about its ftol, which scikit-learn relies on: below it
 * the float32 objective is only noise). */
#define LBFGS_HISTORY 10
#define LBFGS_REL_FTOL 1e-10

typedef struct {
  const float *x;
  const gint32 *y;
  guint n;
  gsize p;
  const LatheLogregSolverParams *prm;
  LatheLogregWork *work;
  guint stride;
  guint iter;   /* accepted steps */
  double f;     /* at the current point */
  double g_max; /* max |gradient| at the current point */
  gboolean started;
  gboolean cancelled;
  char note[64];
} LbfgsFit;

static double max_abs(const double *a, gsize n) {
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX(m, fabs(a[i]));
  return m;
}

static double lbfgs_objective(const double *theta, double *grad, gpointer data) {
  LbfgsFit *fit = data;
  double f = lathe_logreg_objective(fit->x, fit->y, fit->n, fit->prm->l2, theta, grad, fit->work);
  if (!fit->started) { /* the start point */
    fit->started = TRUE;
    fit->f = f;
    fit->g_max = max_abs(grad, fit->p);
  }
  return f;
}

static gboolean lbfgs_step(guint iter, double f, const double *grad, gpointer data) {
  LbfgsFit *fit = data;
  const LatheLogregSolverParams *prm = fit->prm;
  fit->iter = iter;
  fit->f = f;
  fit->g_max = max_abs(grad, fit->p);
  if (iter % fit->stride == 0 || iter == prm->max_iter) {
    lathe_context_report(prm->ctx, "loss", f, iter);
    g_snprintf(fit->note, sizeof fit->note, "L-BFGS iteration %u/%u", iter, prm->max_iter);
    lathe_context_progress(prm->ctx, (double)iter / prm->max_iter, fit->note);
  }
  if (fit->g_max >= prm->tol && iter < prm->max_iter && lathe_context_is_cancelled(prm->ctx)) {
    fit->cancelled = TRUE;
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_logreg_lbfgs(const float *x, const gint32 *y, guint n, guint d, guint k,
                            const LatheLogregSolverParams *prm, double *theta,
                            LatheLogregSolverResult *res, GError **error) {
  LbfgsFit fit = {.x = x, .y = y, .n = n, .p = lathe_logreg_n_params(d, k), .prm = prm,
                  .work = lathe_logreg_work_new(n, d, k),
                  .stride = MAX(1u, (prm->max_iter + 99) / 100)};
  LatheTuneLbfgsOptions opts = {
      .max_iter = prm->max_iter,
      .max_evals = G_MAXUINT,
      .memory = LBFGS_HISTORY,
      /* tol 0 means never stop on the gradient, but 0 would be the default */
      .pgtol = prm->tol > 0 ? prm->tol : DBL_MIN,
      .ftol = LBFGS_REL_FTOL,
      .ftol_both = TRUE,
      .curvature_eps = DBL_EPSILON,
      .backtrack = LATHE_TUNE_LBFGS_INTERPOLATE,
      .restart = TRUE,
      .on_iter = lbfgs_step,
      .on_iter_data = &fit,
  };
  gboolean ok = TRUE;
  LatheTuneLbfgsStatus status = LATHE_TUNE_LBFGS_STOPPED;
  if (lathe_context_is_cancelled(prm->ctx))
    fit.cancelled = TRUE;
  else /* max_iter >= 1 (the param's minimum): 0 would be tune's default */
    status = lathe_tune_lbfgs_minimize((guint)fit.p, theta, NULL, NULL, lbfgs_objective, &fit,
                                       &opts, NULL);
  if (fit.cancelled) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED,
                "model/logreg: cancelled at L-BFGS iteration %u", fit.iter);
    ok = FALSE;
  }
  if (ok && fit.iter % fit.stride != 0 && fit.iter != prm->max_iter)
    lathe_context_report(prm->ctx, "loss", fit.f, fit.iter); /* always report the last one */
  res->n_iter = fit.iter;
  res->loss = fit.f;
  res->converged = fit.g_max < prm->tol;
  res->stop = res->converged                          ? "gradient below tol"
              : status == LATHE_TUNE_LBFGS_CONVERGED  ? "relative decrease below 1e-10"
              : status == LATHE_TUNE_LBFGS_LINE_SEARCH ? "no further decrease (float32 precision limit)"
                                                       : "max_iter reached";
  lathe_logreg_work_free(fit.work);
  return ok;
}
