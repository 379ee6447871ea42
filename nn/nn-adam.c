/* Adam over the flat parameter array: one loop, no temporaries. The loop is
 * memory-bound (four arrays of the net's size), so it is written to be
 * vectorised: restrict pointers, constants hoisted, sqrt without errno (the
 * library is built with -fno-math-errno). */
#include <math.h>

#include "nn-adam.h"

#ifdef LATHE_NN_DOUBLE
#define NN_SQRT sqrt
#else
#define NN_SQRT sqrtf
#endif

void lathe_nn_adam_init(LatheNnAdam *a, double lr, double beta1, double beta2, double eps,
                        double weight_decay) {
  *a = (LatheNnAdam){.lr = lr,
                     .beta1 = beta1,
                     .beta2 = beta2,
                     .eps = eps,
                     .weight_decay = weight_decay,
                     .t = 0};
}

void lathe_nn_adam_begin(LatheNnAdam *a, LatheNnAdamStep *s) {
  a->t++;
  /* pow, as PyTorch does, rather than a running product that drifts. */
  const double bc1 = 1.0 - pow(a->beta1, (double)a->t);
  const double bc2 = 1.0 - pow(a->beta2, (double)a->t);
  *s = (LatheNnAdamStep){.b1 = (nn_real)a->beta1,
                         .c1 = (nn_real)(1.0 - a->beta1),
                         .b2 = (nn_real)a->beta2,
                         .c2 = (nn_real)(1.0 - a->beta2),
                         .step = (nn_real)(a->lr / bc1),
                         .inv_bc2 = (nn_real)(1.0 / sqrt(bc2)),
                         .eps = (nn_real)a->eps,
                         .wd = (nn_real)a->weight_decay};
}

void lathe_nn_adam_apply(const LatheNnAdamStep *s, nn_real *restrict w, nn_real *restrict g,
                         nn_real *restrict m, nn_real *restrict v, gsize n) {
  /* Locals, so the compiler knows they stay constant through the loop. */
  const nn_real b1 = s->b1, c1 = s->c1, b2 = s->b2, c2 = s->c2;
  const nn_real step = s->step, inv_bc2 = s->inv_bc2, eps = s->eps, wd = s->wd;
  for (gsize i = 0; i < n; i++) {
    const nn_real gi = g[i] + wd * w[i];
    g[i] = 0;
    const nn_real mi = b1 * m[i] + c1 * gi;
    const nn_real vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step * mi / (NN_SQRT(vi) * inv_bc2 + eps);
  }
}

void lathe_nn_adam_step(LatheNnAdam *a, nn_real *w, nn_real *g, nn_real *m, nn_real *v,
                        gsize n) {
  LatheNnAdamStep s;
  lathe_nn_adam_begin(a, &s);
  lathe_nn_adam_apply(&s, w, g, m, v, n);
}
