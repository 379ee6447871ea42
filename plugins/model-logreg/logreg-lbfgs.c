/* L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line
 * search, in double precision on the parameter vector.
 *
 * The objective is strictly convex when l2 > 0, so a plain Armijo search with
 * curvature-pair filtering is enough; no Wolfe search is needed. All buffers
 * are allocated before the loop. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "logreg-internal.h"

#define HISTORY 10
#define ARMIJO_C1 1e-4
#define MAX_BACKTRACKS 40
/* Relative decrease below which the float32 objective is only noise; the
 * same role as scipy's ftol (about 2.2e-9), which scikit-learn relies on. */
#define REL_FTOL 1e-10

static double dot(const double *a, const double *b, gsize n) {
  double s = 0.0;
  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double max_abs(const double *a, gsize n) {
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX(m, fabs(a[i]));
  return m;
}

typedef struct {
  gsize p;
  double *s, *y; /* HISTORY x p ring buffers */
  double rho[HISTORY];
  guint len;  /* pairs stored */
  guint head; /* index of the next slot */
} History;

/* Two-loop recursion: dir = -H g, with H0 = (s'y / y'y) I from the last pair. */
static void two_loop(const History *h, const double *g, double *dir) {
  const gsize p = h->p;
  for (gsize i = 0; i < p; i++)
    dir[i] = -g[i];
  double alpha[HISTORY];
  for (guint j = 0; j < h->len; j++) {
    guint idx = (h->head + HISTORY - 1 - j) % HISTORY;
    const double *s = h->s + idx * p, *y = h->y + idx * p;
    alpha[idx] = h->rho[idx] * dot(s, dir, p);
    for (gsize i = 0; i < p; i++)
      dir[i] -= alpha[idx] * y[i];
  }
  if (h->len > 0) {
    guint last = (h->head + HISTORY - 1) % HISTORY;
    const double *y = h->y + last * p;
    double gamma = 1.0 / (h->rho[last] * dot(y, y, p));
    for (gsize i = 0; i < p; i++)
      dir[i] *= gamma;
  }
  for (guint j = h->len; j > 0; j--) {
    guint idx = (h->head + HISTORY - j) % HISTORY;
    const double *s = h->s + idx * p, *y = h->y + idx * p;
    double beta = h->rho[idx] * dot(y, dir, p);
    for (gsize i = 0; i < p; i++)
      dir[i] += (alpha[idx] - beta) * s[i];
  }
}

gboolean lathe_logreg_lbfgs(const float *x, const gint32 *y, guint n, guint d, guint k,
                            const LatheLogregSolverParams *prm, double *theta,
                            LatheLogregSolverResult *res, GError **error) {
  const gsize p = lathe_logreg_n_params(d, k);
  LatheLogregWork *work = lathe_logreg_work_new(n, d, k);
  History h = {.p = p, .s = g_new0(double, HISTORY * p), .y = g_new0(double, HISTORY * p)};
  double *g = g_new(double, p), *dir = g_new(double, p);
  double *x_new = g_new(double, p), *g_new_ = g_new(double, p);
  const guint stride = MAX(1u, (prm->max_iter + 99) / 100);
  gboolean ok = TRUE;
  char note[64];

  double f = lathe_logreg_objective(x, y, n, prm->l2, theta, g, work);
  guint iter = 0;
  res->converged = FALSE;
  res->stop = "max_iter reached";
  while (iter < prm->max_iter) {
    if (max_abs(g, p) < prm->tol) {
      res->converged = TRUE;
      res->stop = "gradient below tol";
      break;
    }
    if (lathe_context_is_cancelled(prm->ctx)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED,
                  "model/logreg: cancelled at L-BFGS iteration %u", iter);
      ok = FALSE;
      break;
    }
    two_loop(&h, g, dir);
    double gd = dot(g, dir, p);
    if (!(gd < 0.0)) {
      /* Not a descent direction (history went stale): restart from -g. */
      h.len = 0;
      two_loop(&h, g, dir);
      gd = dot(g, dir, p);
    }
    /* Without history the direction is -g, whose scale is arbitrary. */
    double t = h.len > 0 ? 1.0 : 1.0 / MAX(1.0, sqrt(-gd));
    double f_new = NAN;
    gboolean accepted = FALSE;
    for (guint ls = 0; ls < MAX_BACKTRACKS; ls++) {
      for (gsize i = 0; i < p; i++)
        x_new[i] = theta[i] + t * dir[i];
      f_new = lathe_logreg_objective(x, y, n, prm->l2, x_new, g_new_, work);
      if (isfinite(f_new) && f_new <= f + ARMIJO_C1 * t * gd) {
        accepted = TRUE;
        break;
      }
      /* Minimiser of the quadratic through f, f'(0)=gd and f(t), kept within
       * [t/10, t/2] so the search neither stalls nor jumps. */
      double next = isfinite(f_new) ? -gd * t * t / (2.0 * (f_new - f - gd * t)) : 0.1 * t;
      t = CLAMP(next, 0.1 * t, 0.5 * t);
    }
    if (!accepted) {
      if (h.len > 0) {
        h.len = 0; /* retry once along steepest descent */
        continue;
      }
      /* No decrease even along -g: at the float32 precision limit. */
      res->stop = "no further decrease (float32 precision limit)";
      break;
    }

    guint slot = h.head;
    double *s = h.s + slot * p, *yy = h.y + slot * p;
    for (gsize i = 0; i < p; i++) {
      s[i] = x_new[i] - theta[i];
      yy[i] = g_new_[i] - g[i];
    }
    double sy = dot(s, yy, p);
    if (sy > DBL_EPSILON * dot(yy, yy, p)) {
      h.rho[slot] = 1.0 / sy;
      h.head = (h.head + 1) % HISTORY;
      h.len = MIN(h.len + 1, HISTORY);
    }
    double f_old = f;
    memcpy(theta, x_new, p * sizeof(double));
    memcpy(g, g_new_, p * sizeof(double));
    f = f_new;
    iter++;

    if (iter % stride == 0 || iter == prm->max_iter) {
      lathe_context_report(prm->ctx, "loss", f, iter);
      g_snprintf(note, sizeof note, "L-BFGS iteration %u/%u", iter, prm->max_iter);
      lathe_context_progress(prm->ctx, (double)iter / prm->max_iter, note);
    }
    if ((f_old - f) <= REL_FTOL * MAX(MAX(fabs(f_old), fabs(f)), 1.0)) {
      res->stop = "relative decrease below 1e-10";
      break;
    }
  }
  if (ok && iter % stride != 0 && iter != prm->max_iter)
    lathe_context_report(prm->ctx, "loss", f, iter); /* always report the last one */
  res->n_iter = iter;
  res->loss = f;
  if (!res->converged && max_abs(g, p) < prm->tol) {
    res->converged = TRUE;
    res->stop = "gradient below tol";
  }

  lathe_logreg_work_free(work);
  g_free(h.s);
  g_free(h.y);
  g_free(g);
  g_free(dir);
  g_free(x_new);
  g_free(g_new_);
  return ok;
}
