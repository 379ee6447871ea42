/* tune-lbfgs.c: projected L-BFGS with a backtracking Armijo line search.
 *
 * Simpler than L-BFGS-B (no generalised Cauchy point or subspace
 * minimisation) but enough for the small, smooth problems of the GP tuner:
 * variables pinned at an active bound are removed from the quasi-Newton
 * step, and the line search follows the projection of the step onto the
 * box (Bertsekas' projected Newton idea, with the BFGS memory from
 * Nocedal & Wright, Numerical Optimization, algorithm 7.4). */
#include "tune-lbfgs.h"

#include <math.h>
#include <string.h>

static double lo_of(const double *lo, guint i) {
  return lo ? lo[i] : -INFINITY;
}

static double hi_of(const double *hi, guint i) {
  return hi ? hi[i] : INFINITY;
}

static double clampd(double v, double a, double b) {
  return v < a ? a : v > b ? b : v;
}

/* Whether variable i is held at its bound: at it, with the gradient
 * pointing out of the box. */
static gboolean pinned(double x, double g, double a, double b) {
  return (x <= a && g > 0) || (x >= b && g < 0);
}

static double proj_grad_norm(guint n, const double *x, const double *g, const double *lo,
                             const double *hi) {
  double m = 0;
  if (!lo && !hi) {
    /* Unbounded: x - g - x would round, and |g| is what it means. */
    for (guint i = 0; i < n; i++)
      m = MAX(m, fabs(g[i]));
    return m;
  }
  for (guint i = 0; i < n; i++) {
    double a = lo_of(lo, i), b = hi_of(hi, i);
    double pg = clampd(x[i] - g[i], a, b) - x[i];
    if (fabs(pg) > m)
      m = fabs(pg);
  }
  return m;
}

LatheTuneLbfgsStatus lathe_tune_lbfgs_minimize(guint n, double *x, const double *lo,
                                               const double *hi, LatheTuneLbfgsFunc f,
                                               gpointer user_data,
                                               const LatheTuneLbfgsOptions *opts,
                                               double *f_out) {
  guint max_iter = opts && opts->max_iter ? opts->max_iter : 100;
  guint max_evals = opts && opts->max_evals ? opts->max_evals : 400;
  guint m = opts && opts->memory ? opts->memory : 8;
  double pgtol = opts && opts->pgtol > 0 ? opts->pgtol : 1e-6;
  double ftol = opts && opts->ftol > 0 ? opts->ftol : 1e-10;
  double curv = opts && opts->curvature_eps > 0 ? opts->curvature_eps : 1e-10;
  gboolean interpolate = opts && opts->backtrack == LATHE_TUNE_LBFGS_INTERPOLATE;
  const gboolean unbounded = !lo && !hi;

  for (guint i = 0; i < n; i++)
    x[i] = clampd(x[i], lo_of(lo, i), hi_of(hi, i));
  double *g = g_new(double, n), *d = g_new(double, n), *xn = g_new(double, n),
         *gn = g_new(double, n), *s = g_new0(double, (gsize)m * n),
         *y = g_new0(double, (gsize)m * n), *rho = g_new0(double, m),
         *alpha = g_new0(double, m);
  guint n_pairs = 0, head = 0, evals = 1;
  double fx = f(x, g, user_data);
  LatheTuneLbfgsStatus status = LATHE_TUNE_LBFGS_MAX_ITER;
  if (!isfinite(fx)) {
    status = LATHE_TUNE_LBFGS_BAD_START;
    goto out;
  }
  for (guint it = 0; it < max_iter;) {
    if (proj_grad_norm(n, x, g, lo, hi) < pgtol) {
      status = LATHE_TUNE_LBFGS_CONVERGED;
      break;
    }
    /* The two-loop recursion on the free variables. */
    for (guint i = 0; i < n; i++)
      d[i] = pinned(x[i], g[i], lo_of(lo, i), hi_of(hi, i)) ? 0.0 : -g[i];
    for (guint k = 0; k < n_pairs; k++) {
      guint j = (head + m - 1 - k) % m;
      double a = 0;
      for (guint i = 0; i < n; i++)
        a += s[(gsize)j * n + i] * d[i];
      a *= rho[j];
      alpha[j] = a;
      for (guint i = 0; i < n; i++)
        d[i] -= a * y[(gsize)j * n + i];
    }
    if (n_pairs > 0) {
      guint j = (head + m - 1) % m;
      double yy = 0;
      for (guint i = 0; i < n; i++)
        yy += y[(gsize)j * n + i] * y[(gsize)j * n + i];
      double gamma = 1.0 / (rho[j] * yy);
      for (guint i = 0; i < n; i++)
        d[i] *= gamma;
    }
    for (guint k = n_pairs; k-- > 0;) {
      guint j = (head + m - 1 - k) % m;
      double b = 0;
      for (guint i = 0; i < n; i++)
        b += y[(gsize)j * n + i] * d[i];
      b *= rho[j];
      for (guint i = 0; i < n; i++)
        d[i] += (alpha[j] - b) * s[(gsize)j * n + i];
    }
    double gd = 0;
    for (guint i = 0; i < n; i++) {
      if (pinned(x[i], g[i], lo_of(lo, i), hi_of(hi, i)))
        d[i] = 0;
      gd += g[i] * d[i];
    }
    if (!(gd < 0)) {
      /* Not a descent direction: forget the curvature, go downhill. */
      n_pairs = 0;
      gd = 0;
      for (guint i = 0; i < n; i++) {
        d[i] = pinned(x[i], g[i], lo_of(lo, i), hi_of(hi, i)) ? 0.0 : -g[i];
        gd += g[i] * d[i];
      }
      if (!(gd < 0)) {
        status = LATHE_TUNE_LBFGS_CONVERGED;
        break;
      }
    }
    /* The first step has no curvature: scale it to unit length. */
    double t = 1.0;
    if (n_pairs == 0) {
      double dn = 0;
      for (guint i = 0; i < n; i++)
        dn += d[i] * d[i];
      dn = sqrt(dn);
      if (dn > 1.0)
        t = 1.0 / dn;
    }
    double fn = INFINITY;
    gboolean ok = FALSE;
    for (int ls = 0; ls < 40 && evals < max_evals; ls++) {
      double dec = 0;
      for (guint i = 0; i < n; i++) {
        xn[i] = clampd(x[i] + t * d[i], lo_of(lo, i), hi_of(hi, i));
        dec += g[i] * (xn[i] - x[i]);
      }
      fn = f(xn, gn, user_data);
      evals++;
      /* Without bounds the path is straight: t g'd is the decrease, without
       * the rounding of summing g (x_new - x). */
      double bound = unbounded ? fx + 1e-4 * t * gd : fx + 1e-4 * dec;
      if (isfinite(fn) && fn <= bound) {
        ok = TRUE;
        break;
      }
      if (interpolate && isfinite(fn)) {
        double next = -gd * t * t / (2.0 * (fn - fx - gd * t));
        t = CLAMP(next, 0.1 * t, 0.5 * t);
      } else {
        t *= isfinite(fn) ? 0.5 : 0.1;
      }
    }
    if (!ok && opts && opts->restart && n_pairs > 0 && evals < max_evals) {
      n_pairs = 0; /* stale curvature: retry once along steepest descent */
      continue;
    }
    if (!ok) {
      status = evals >= max_evals ? LATHE_TUNE_LBFGS_MAX_ITER : LATHE_TUNE_LBFGS_LINE_SEARCH;
      break;
    }
    /* Keep the pair only under positive curvature, so H stays positive
     * definite. */
    double sy = 0, yy = 0;
    for (guint i = 0; i < n; i++) {
      double si = xn[i] - x[i], yi = gn[i] - g[i];
      s[(gsize)head * n + i] = si;
      y[(gsize)head * n + i] = yi;
      sy += si * yi;
      yy += yi * yi;
    }
    if (sy > curv * yy && sy > 0) {
      rho[head] = 1.0 / sy;
      head = (head + 1) % m;
      if (n_pairs < m)
        n_pairs++;
    }
    double df = fx - fn;
    double scale = opts && opts->ftol_both ? fmax(fmax(fabs(fx), fabs(fn)), 1.0) : fmax(fabs(fn), 1.0);
    memcpy(x, xn, sizeof(double) * n);
    memcpy(g, gn, sizeof(double) * n);
    fx = fn;
    it++;
    if (opts && opts->on_iter && !opts->on_iter(it, fx, g, opts->on_iter_data)) {
      status = LATHE_TUNE_LBFGS_STOPPED;
      break;
    }
    if (df <= ftol * scale) {
      status = LATHE_TUNE_LBFGS_CONVERGED;
      break;
    }
    if (evals >= max_evals)
      break;
  }
out:
  if (f_out)
    *f_out = fx;
  g_free(g);
  g_free(d);
  g_free(xn);
  g_free(gn);
  g_free(s);
  g_free(y);
  g_free(rho);
  g_free(alpha);
  return status;
}
