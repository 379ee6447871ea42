/* tune-erfcx.c: erfcx and log expected improvement.
 *
 * erfcx(x) = exp(x^2) erfc(x) on three ranges:
 *  - 0 <= x < 26: erfc(x) from the C library (glibc's erfc is accurate to a
 *    few ulp, relative, down to its underflow near x = 26.5) times exp(x^2),
 *    with x^2 split exactly into hi + lo by fma so that exp(x^2) loses no
 *    accuracy to the rounding of x^2 (which would cost x^2 ulp);
 *  - x >= 26: the Laplace continued fraction
 *    erfcx(x) = 1/sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))),
 *    evaluated backwards from a fixed depth (A. Cuyt et al., Handbook of
 *    Continued Fractions for Special Functions, 2008, 13.2.20a); at x >= 26
 *    twenty levels converge far below one ulp;
 *  - x < 0: the reflection erfcx(x) = 2 exp(x^2) - erfcx(-x).
 *
 * log EI follows Ament et al., "Unexpected improvements to expected
 * improvement for Bayesian optimization" (NeurIPS 2023): with
 * h(z) = phi(z) + z Phi(z), EI = sigma h(z), and for z < -1 it writes
 * h(z) = phi(z) (1 + z R(z)) with the Mills ratio
 * R(z) = Phi(z) / phi(z) = sqrt(pi/2) erfcx(-z / sqrt(2)); far out
 * (z < -20) 1 + z R(z) comes from its asymptotic series instead, where the
 * subtraction would cancel. */
#include "tune-erfcx.h"

#include <math.h>

#define SQRT_PI 1.7724538509055160273
#define SQRT_2 1.4142135623730950488
#define SQRT_HALF_PI 1.2533141373155002512
#define LOG_SQRT_2PI 0.91893853320467274178

/* exp(x * x) without the error of rounding x * x first. */
static double exp_sq(double x) {
  double hi = x * x;
  double lo = fma(x, x, -hi);
  return exp(hi) * (1.0 + lo);
}

static double erfcx_pos(double x) {
  if (x < 26.0)
    return erfc(x) * exp_sq(x);
  /* 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(...)))) from depth 20 up. */
  double t = x;
  for (int k = 20; k >= 1; k--)
    t = x + (0.5 * k) / t;
  return 1.0 / (t * SQRT_PI);
}

double lathe_tune_erfcx(double x) {
  if (isnan(x))
    return NAN;
  if (x >= 0)
    return isinf(x) ? 0.0 : erfcx_pos(x);
  if (x < -26.7)
    return INFINITY;
  return 2.0 * exp_sq(x) - erfcx_pos(-x);
}

/* 1 + z R(z) for z < -20: the series 1/z^2 - 3/z^4 + 15/z^6 - ... (the
 * terms (2k-1)!! / z^(2k) with alternating signs), which at |z| >= 20 is
 * below 1e-17 relative after ten terms. */
static double one_plus_zr_asym(double z) {
  double iz2 = 1.0 / (z * z), term = iz2, sum = 0;
  for (int k = 1; k <= 12; k++) {
    sum += term;
    term *= -(2.0 * k + 1.0) * iz2;
  }
  return sum;
}

double lathe_tune_log_ei_grad(double mu, double sigma, double best, double *d_mu, double *d_sigma) {
  if (!(sigma > 0)) {
    /* No uncertainty: the improvement is certain. */
    double imp = best - mu;
    if (d_mu)
      *d_mu = imp > 0 ? -1.0 / imp : 0.0;
    if (d_sigma)
      *d_sigma = 0.0;
    return imp > 0 ? log(imp) : -INFINITY;
  }
  double z = (best - mu) / sigma;
  double log_h, phi_over_h, cdf_over_h;
  if (z >= -1.0) {
    double cdf = 0.5 * erfc(-z / SQRT_2);
    double pdf = exp(-0.5 * z * z - LOG_SQRT_2PI);
    double h = pdf + z * cdf;
    log_h = log(h);
    phi_over_h = pdf / h;
    cdf_over_h = cdf / h;
  } else {
    double r = SQRT_HALF_PI * lathe_tune_erfcx(-z / SQRT_2);
    double q = z < -20.0 ? one_plus_zr_asym(z) : 1.0 + z * r;
    /* For |z| beyond ~1e154 z*z overflows; log phi is then -inf-like but
     * the ordering must survive, so fall back to the leading term. */
    log_h = isfinite(z * z) ? -0.5 * z * z - LOG_SQRT_2PI + log(q) : -INFINITY;
    phi_over_h = 1.0 / q;
    /* R / q, with R ~ -1/z (1 - 1/z^2 ...) far out. */
    cdf_over_h = (z < -20.0 ? -1.0 / z * (1.0 - q) : r) / q;
  }
  /* d log h / dz = Phi / h; dz/dmu = -1/sigma; dz/dsigma = -z/sigma, and
   * d log EI / dsigma = 1/sigma - z Phi / (h sigma) = phi / (h sigma). */
  if (d_mu)
    *d_mu = -cdf_over_h / sigma;
  if (d_sigma)
    *d_sigma = phi_over_h / sigma;
  return log(sigma) + log_h;
}

double lathe_tune_log_ei(double mu, double sigma, double best) {
  return lathe_tune_log_ei_grad(mu, sigma, best, NULL, NULL);
}
