/* tune-parego.h: ParEGO's random scalarisations, which let a single-
 * objective GP (tuner/bayes) search a multi-objective study's Pareto front
 * (Knowles, "ParEGO", IEEE TEVC 10(1), 2006). */
#pragma once

#include <glib.h>

#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LATHE_TUNE_PAREGO_RHO:
 *
 * The weight of the augmentation term of the Chebyshev scalarisation, as in
 * Knowles's paper. It breaks the ties of the max term, so that weakly
 * dominated points score worse than the points that dominate them.
 */
#define LATHE_TUNE_PAREGO_RHO 0.05

/**
 * lathe_tune_parego_weights:
 * @seed: the study seed.
 * @trial: the number of the trial being proposed.
 * @k: the number of objectives (>= 1).
 * @lambda: (out caller-allocates) (array length=k): the weights, >= 0,
 *   summing to 1.
 *
 * Draws a weight vector uniformly from the simplex (normalised exponential
 * spacings). It is a function of @seed, @trial and @k only, so that a rerun
 * or a resumed study scalarises trial @trial the same way.
 */
void lathe_tune_parego_weights(guint64 seed, guint trial, guint k, double *lambda);

/**
 * lathe_tune_parego_scalarise:
 * @values: (array): @n rows of @k objectives, row-major, all minimised;
 *   rows where @use is %FALSE are ignored (they may hold NAN).
 * @use: (array length=n): which rows are complete trials.
 * @n: the number of rows.
 * @k: the number of objectives (>= 1).
 * @lambda: (array length=k): the weights.
 * @out: (out caller-allocates) (array length=n): the scalar of each used
 *   row; NAN for the others.
 *
 * Normalises each objective to [0, 1] over the used rows (an objective
 * whose used values are all equal becomes 0), then applies the augmented
 * Chebyshev function
 * f = max_i (lambda_i f_i) + rho * sum_i lambda_i f_i,
 * rho = %LATHE_TUNE_PAREGO_RHO. Minimising f for every lambda finds every
 * Pareto-optimal point, including those on non-convex parts of the front
 * that a weighted sum never prefers.
 */
void lathe_tune_parego_scalarise(const double *values, const gboolean *use, guint n, guint k,
                                  const double *lambda, double *out);

G_END_DECLS
