/* tune-erfcx.h: the scaled complementary error function and a numerically
 * stable log expected improvement, for the GP tuner's acquisition. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_tune_erfcx:
 * @x: any real.
 *
 * The scaled complementary error function exp(x^2) erfc(x), to about 1e-15
 * relative for every finite @x (it overflows to +inf below about -26.6 and
 * decays like 1 / (x sqrt(pi)) for large @x).
 *
 * Returns: erfcx(@x); NAN for NAN.
 */
double lathe_tune_erfcx(double x);

/**
 * lathe_tune_log_ei:
 * @mu: the predictive mean.
 * @sigma: the predictive standard deviation (>= 0).
 * @best: the best (lowest) value observed.
 *
 * The log of the expected improvement for minimisation,
 * log E[max(@best - Y, 0)] with Y ~ N(@mu, @sigma^2), computed without
 * underflow far from the incumbent (z = (@best - @mu) / @sigma down to
 * -1e150 stays finite and monotone).
 *
 * Returns: log EI; -inf when @sigma is 0 and @mu >= @best.
 */
double lathe_tune_log_ei(double mu, double sigma, double best);

/**
 * lathe_tune_log_ei_grad:
 * @mu: the predictive mean.
 * @sigma: the predictive standard deviation (> 0).
 * @best: the best (lowest) value observed.
 * @d_mu: (out) (optional): d log EI / d @mu.
 * @d_sigma: (out) (optional): d log EI / d @sigma.
 *
 * lathe_tune_log_ei() and its derivatives, computed together.
 *
 * Returns: log EI.
 */
double lathe_tune_log_ei_grad(double mu, double sigma, double best, double *d_mu, double *d_sigma);

G_END_DECLS
