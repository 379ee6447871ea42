/* nn-adam.h: the Adam optimiser over one flat parameter array. */
#pragma once

#include "nn-layer.h"

G_BEGIN_DECLS

/**
 * LatheNnAdam:
 * @lr: learning rate.
 * @beta1: decay of the first moment, in [0, 1).
 * @beta2: decay of the second moment, in [0, 1).
 * @eps: added to the denominator.
 * @weight_decay: PyTorch Adam's (coupled) L2: weight_decay x w is added to
 *   the gradient before the moments, which is not AdamW's decoupled decay.
 * @t: steps taken so far.
 *
 * Adam (Kingma & Ba, 2015) with bias correction, computed as PyTorch 1.13
 * does: w -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
 */
typedef struct {
  double lr, beta1, beta2, eps, weight_decay;
  guint64 t;
} LatheNnAdam;

/**
 * LatheNnAdamStep:
 *
 * The per-step constants (bias corrections included) of one step, so that
 * the step can be applied to ranges of the parameters, on several threads,
 * with exactly the result of one lathe_nn_adam_step().
 */
typedef struct {
  nn_real b1, c1, b2, c2, step, inv_bc2, eps, wd;
} LatheNnAdamStep;

/** lathe_nn_adam_init: sets the hyper-parameters and t = 0. */
void lathe_nn_adam_init(LatheNnAdam *adam, double lr, double beta1, double beta2, double eps,
                        double weight_decay);

/**
 * lathe_nn_adam_step:
 * @w: (inout): @n parameters.
 * @g: (inout): their gradient, consumed: set to zero, ready for the next
 *   batch's accumulation (saves the net a separate pass over memory).
 * @m: (inout): first moments (zero before the first step).
 * @v: (inout): second moments (zero before the first step).
 *
 * One step over all parameters in a single loop.
 */
void lathe_nn_adam_step(LatheNnAdam *adam, nn_real *w, nn_real *g, nn_real *m, nn_real *v,
                        gsize n);

/** lathe_nn_adam_begin: counts one step (t++) and fills @step's constants. */
void lathe_nn_adam_begin(LatheNnAdam *adam, LatheNnAdamStep *step);

/**
 * lathe_nn_adam_apply:
 *
 * The step @step on @n parameters (any range of them; the parameters are
 * independent), as lathe_nn_adam_step() does to each.
 */
void lathe_nn_adam_apply(const LatheNnAdamStep *step, nn_real *w, nn_real *g, nn_real *m,
                         nn_real *v, gsize n);

G_END_DECLS
