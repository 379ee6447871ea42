/* tune-gp.c: GP regression with a Matern 5/2 ARD kernel.
 *
 * Everything is in row-major double arrays. The Cholesky factor is our
 * own (Cholesky-Crout, rows as dot products), so the library needs only
 * CBLAS, not LAPACK; the inverse for the hyperparameter gradient and the
 * batched predictions go through BLAS level 3. */
#include "tune-gp.h"

#include "tune-random.h"
#include "tune-lbfgs.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define SQRT5 2.2360679774997896964

G_DEFINE_QUARK(lathe-tune-gp-error-quark, lathe_tune_gp_error)

/* Priors (BoTorch's SingleTaskGP defaults before 0.12): Gamma(shape, rate)
 * on the lengthscale, the signal and the noise variance. */
#define LS_SHAPE 3.0
#define LS_RATE 6.0
#define SF_SHAPE 2.0
#define SF_RATE 0.15
#define NOISE_SHAPE 1.1
#define NOISE_RATE 0.05

/* The noise variance of a fantasised observation (standardised units). */
#define FANTASY_NOISE 1e-6

struct _LatheTuneGp {
  guint d, n, cap;
  guint n_real; /* observations before the fantasies */
  double *x;     /* n x d */
  double *y;     /* n, standardised */
  double y_mean, y_std;
  double *theta; /* d + 2 */
  /* The factorisation at theta (valid when ready). */
  gboolean ready;
  double *l;     /* n x n, lower */
  double *alpha; /* K^-1 y */
  /* Scratch of the log posterior. */
  double *k, *kinv, *tmp, *scaled;
};

LatheTuneGp *lathe_tune_gp_new(guint dims) {
  g_return_val_if_fail(dims >= 1, NULL);
  LatheTuneGp *gp = g_new0(LatheTuneGp, 1);
  gp->d = dims;
  gp->theta = g_new(double, dims + 2);
  for (guint j = 0; j < dims; j++)
    gp->theta[j] = log(0.5);
  gp->theta[dims] = 0.0;
  gp->theta[dims + 1] = log(1e-4);
  gp->y_std = 1.0;
  return gp;
}

void lathe_tune_gp_free(LatheTuneGp *gp) {
  if (!gp)
    return;
  g_free(gp->x);
  g_free(gp->y);
  g_free(gp->theta);
  g_free(gp->l);
  g_free(gp->alpha);
  g_free(gp->k);
  g_free(gp->kinv);
  g_free(gp->tmp);
  g_free(gp->scaled);
  g_free(gp);
}

guint lathe_tune_gp_dims(const LatheTuneGp *gp) {
  return gp->d;
}

guint lathe_tune_gp_n_params(const LatheTuneGp *gp) {
  return gp->d + 2;
}

void lathe_tune_gp_get_params(const LatheTuneGp *gp, double *theta) {
  memcpy(theta, gp->theta, sizeof(double) * (gp->d + 2));
}

void lathe_tune_gp_param_bounds(const LatheTuneGp *gp, double *lo, double *hi) {
  for (guint j = 0; j < gp->d; j++) {
    lo[j] = log(0.005);
    hi[j] = log(20.0);
  }
  lo[gp->d] = log(0.01);
  hi[gp->d] = log(100.0);
  lo[gp->d + 1] = log(1e-6);
  hi[gp->d + 1] = log(10.0);
}

void lathe_tune_gp_set_params(LatheTuneGp *gp, const double *theta) {
  double lo[gp->d + 2], hi[gp->d + 2];
  lathe_tune_gp_param_bounds(gp, lo, hi);
  for (guint j = 0; j < gp->d + 2; j++)
    gp->theta[j] = isfinite(theta[j]) ? fmin(fmax(theta[j], lo[j]), hi[j]) : 0.5 * (lo[j] + hi[j]);
  gp->ready = FALSE;
}

static void reserve(LatheTuneGp *gp, guint n) {
  if (n <= gp->cap)
    return;
  guint cap = MAX(n, gp->cap * 2);
  gp->x = g_renew(double, gp->x, (gsize)cap * gp->d);
  gp->y = g_renew(double, gp->y, cap);
  g_free(gp->l);
  g_free(gp->alpha);
  g_free(gp->k);
  g_free(gp->kinv);
  g_free(gp->tmp);
  g_free(gp->scaled);
  gp->l = g_new(double, (gsize)cap * cap);
  gp->alpha = g_new(double, cap);
  gp->k = g_new(double, (gsize)cap * cap);
  gp->kinv = g_new(double, (gsize)cap * cap);
  gp->tmp = g_new(double, (gsize)cap * cap);
  gp->scaled = g_new(double, (gsize)cap * gp->d);
  gp->cap = cap;
  gp->ready = FALSE;
}

gboolean lathe_tune_gp_set_data(LatheTuneGp *gp, const double *x, const double *y, guint n,
                                GError **error) {
  if (n < 1 || n > LATHE_TUNE_GP_MAX_POINTS) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                "GP data: %u observations, expected 1..%u", n, LATHE_TUNE_GP_MAX_POINTS);
    return FALSE;
  }
  for (gsize i = 0; i < (gsize)n * gp->d; i++)
    if (!isfinite(x[i])) {
      g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                  "GP data: input %zu of row %zu is not finite", i % gp->d, i / gp->d);
      return FALSE;
    }
  double mean = 0, var = 0;
  for (guint i = 0; i < n; i++) {
    if (!isfinite(y[i])) {
      g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                  "GP data: output %u is not finite", i);
      return FALSE;
    }
    mean += y[i];
  }
  mean /= n;
  for (guint i = 0; i < n; i++)
    var += (y[i] - mean) * (y[i] - mean);
  var = n > 1 ? var / (n - 1) : 0;
  reserve(gp, n);
  gp->n = n;
  gp->n_real = n;
  memcpy(gp->x, x, sizeof(double) * n * gp->d);
  gp->y_mean = mean;
  /* Constant outputs keep scale 1 rather than dividing by zero. */
  gp->y_std = var > 1e-300 ? sqrt(var) : 1.0;
  for (guint i = 0; i < n; i++)
    gp->y[i] = (y[i] - mean) / gp->y_std;
  gp->ready = FALSE;
  return TRUE;
}

/* In-place Cholesky of the lower triangle of the n x n row-major a.
 * Returns FALSE when a pivot is not positive. */
static gboolean cholesky(double *a, guint n) {
  for (guint j = 0; j < n; j++) {
    double *rj = a + (gsize)j * n;
    double djj = rj[j] - cblas_ddot((int)j, rj, 1, rj, 1);
    if (!(djj > 0))
      return FALSE;
    djj = sqrt(djj);
    rj[j] = djj;
    for (guint i = j + 1; i < n; i++) {
      double *ri = a + (gsize)i * n;
      ri[j] = (ri[j] - cblas_ddot((int)j, ri, 1, rj, 1)) / djj;
    }
  }
  for (guint i = 0; i < n; i++)
    memset(a + (gsize)i * n + i + 1, 0, sizeof(double) * (n - i - 1));
  return TRUE;
}

/* The kernel matrix without the noise into the lower triangle of gp->k,
 * the inputs divided by the lengthscales into gp->scaled. */
static void kernel_matrix(LatheTuneGp *gp, const double *theta) {
  guint n = gp->n, d = gp->d;
  double sf2 = exp(theta[d]);
  for (guint j = 0; j < d; j++) {
    double inv = exp(-theta[j]);
    for (guint i = 0; i < n; i++)
      gp->scaled[(gsize)i * d + j] = gp->x[(gsize)i * d + j] * inv;
  }
  for (guint i = 0; i < n; i++) {
    const double *xi = gp->scaled + (gsize)i * d;
    gp->k[(gsize)i * n + i] = sf2;
    for (guint k = i + 1; k < n; k++) {
      const double *xk = gp->scaled + (gsize)k * d;
      double r2 = 0;
      for (guint j = 0; j < d; j++)
        r2 += (xi[j] - xk[j]) * (xi[j] - xk[j]);
      double r = sqrt(r2), e = exp(-SQRT5 * r);
      /* The lower triangle holds k; the upper one, which the Cholesky
       * never reads, caches -dk/dr2 * 2 = 5/3 s2 (1 + sqrt5 r) e for the
       * lengthscale gradient. */
      gp->k[(gsize)k * n + i] = sf2 * (1 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
      gp->k[(gsize)i * n + k] = 5.0 / 3.0 * sf2 * (1 + SQRT5 * r) * e;
    }
  }
}

/* Copies K + noise into gp->l and factorises it, with escalating jitter.
 * Returns the jitter used, or a negative value on failure. */
static double factorise(LatheTuneGp *gp, double noise) {
  guint n = gp->n;
  double mean_diag = 0;
  for (guint i = 0; i < n; i++)
    mean_diag += gp->k[(gsize)i * n + i] + (i < gp->n_real ? noise : 0);
  mean_diag /= n;
  double jitter = 0;
  for (int attempt = 0; attempt < 8; attempt++) {
    memcpy(gp->l, gp->k, sizeof(double) * n * n);
    /* Fantasies are believed exactly (kriging believer): were they noisy,
     * the variance at a pending point would not collapse and EI would
     * send the next worker right next to it. */
    for (guint i = 0; i < n; i++)
      gp->l[(gsize)i * n + i] += (i < gp->n_real ? noise : fmin(noise, FANTASY_NOISE)) + jitter;
    if (cholesky(gp->l, n))
      return jitter;
    jitter = jitter == 0 ? 1e-9 * mean_diag : jitter * 10;
  }
  return -1;
}

static double log_prior(const LatheTuneGp *gp, const double *theta, double *grad) {
  guint d = gp->d;
  double lp = 0;
  for (guint j = 0; j < d; j++) {
    lp += (LS_SHAPE - 1) * theta[j] - LS_RATE * exp(theta[j]);
    if (grad)
      grad[j] += (LS_SHAPE - 1) - LS_RATE * exp(theta[j]);
  }
  lp += (SF_SHAPE - 1) * theta[d] - SF_RATE * exp(theta[d]);
  lp += (NOISE_SHAPE - 1) * theta[d + 1] - NOISE_RATE * exp(theta[d + 1]);
  if (grad) {
    grad[d] += (SF_SHAPE - 1) - SF_RATE * exp(theta[d]);
    grad[d + 1] += (NOISE_SHAPE - 1) - NOISE_RATE * exp(theta[d + 1]);
  }
  return lp;
}

double lathe_tune_gp_log_posterior(LatheTuneGp *gp, const double *theta, double *grad) {
  /* The likelihood is of the real observations: fantasies go. */
  gp->n = gp->n_real;
  guint n = gp->n, d = gp->d;
  if (n == 0)
    return -INFINITY;
  gp->ready = FALSE;
  kernel_matrix(gp, theta);
  double noise = exp(theta[d + 1]);
  if (factorise(gp, noise) < 0)
    return -INFINITY;
  /* alpha = K^-1 y by two triangular solves. */
  memcpy(gp->alpha, gp->y, sizeof(double) * n);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, gp->l, (int)n,
              gp->alpha, 1);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n, gp->l, (int)n,
              gp->alpha, 1);
  double fit = cblas_ddot((int)n, gp->y, 1, gp->alpha, 1), logdet = 0;
  for (guint i = 0; i < n; i++)
    logdet += log(gp->l[(gsize)i * n + i]);
  double mll = -0.5 * fit - logdet - 0.5 * n * log(2 * G_PI);
  if (grad) {
    memset(grad, 0, sizeof(double) * (d + 2));
    /* K^-1 = Li^T Li with Li = L^-1, from solving L Li = I. */
    double *li = gp->tmp, *kinv = gp->kinv;
    memset(li, 0, sizeof(double) * n * n);
    for (guint i = 0; i < n; i++)
      li[(gsize)i * n + i] = 1.0;
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, (int)n,
                1.0, gp->l, (int)n, li, (int)n);
    /* Only the lower triangle of kinv is filled and read. */
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)n, (int)n, 1.0, li, (int)n, 0.0, kinv,
                (int)n);
    double sf2 = exp(theta[d]);
    double tr_sf = 0, tr_noise = 0;
    for (guint i = 0; i < n; i++) {
      const double *xi = gp->scaled + (gsize)i * d;
      double wii = gp->alpha[i] * gp->alpha[i] - kinv[(gsize)i * n + i];
      tr_noise += wii;
      tr_sf += 0.5 * wii * sf2;
      for (guint k = 0; k < i; k++) {
        double wik = gp->alpha[i] * gp->alpha[k] - kinv[(gsize)i * n + k];
        /* Off-diagonal pairs count twice in the trace, times 1/2. */
        tr_sf += wik * gp->k[(gsize)i * n + k];
        const double *xk = gp->scaled + (gsize)k * d;
        double c = wik * gp->k[(gsize)k * n + i];
        for (guint j = 0; j < d; j++)
          grad[j] += c * (xi[j] - xk[j]) * (xi[j] - xk[j]);
      }
    }
    grad[d] = tr_sf;
    grad[d + 1] = 0.5 * tr_noise * noise;
  }
  return mll + log_prior(gp, theta, grad);
}

gboolean lathe_tune_gp_condition(LatheTuneGp *gp, GError **error) {
  guint n = gp->n, d = gp->d;
  if (n == 0) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID, "GP: no data to condition on");
    return FALSE;
  }
  kernel_matrix(gp, gp->theta);
  if (factorise(gp, exp(gp->theta[d + 1])) < 0) {
    gp->ready = FALSE;
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_NUMERIC,
                "GP: the %u x %u kernel matrix is not positive definite even with jitter "
                "1e-3 times its mean diagonal (duplicate inputs with no noise?)",
                n, n);
    return FALSE;
  }
  memcpy(gp->alpha, gp->y, sizeof(double) * n);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, gp->l, (int)n,
              gp->alpha, 1);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n, gp->l, (int)n,
              gp->alpha, 1);
  gp->ready = TRUE;
  return TRUE;
}

typedef struct {
  LatheTuneGp *gp;
  guint evals;
} FitClosure;

static double neg_log_posterior(const double *theta, double *grad, gpointer user_data) {
  FitClosure *c = user_data;
  guint np = c->gp->d + 2;
  double lp = lathe_tune_gp_log_posterior(c->gp, theta, grad);
  c->evals++;
  if (!isfinite(lp))
    return INFINITY;
  for (guint j = 0; j < np; j++)
    grad[j] = -grad[j];
  return -lp;
}

gboolean lathe_tune_gp_fit(LatheTuneGp *gp, guint n_restarts, guint64 seed, GError **error) {
  guint np = gp->d + 2;
  if (gp->n == 0) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID, "GP: no data to fit");
    return FALSE;
  }
  double lo[np], hi[np], best[np], x[np];
  lathe_tune_gp_param_bounds(gp, lo, hi);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  FitClosure c = {gp, 0};
  /* Hyperparameters matter to a few per cent: a gradient of 1e-3 nats per
   * unit of log-parameter is flat enough. */
  LatheTuneLbfgsOptions opts = {.max_iter = 100, .max_evals = 200, .pgtol = 1e-3, .ftol = 1e-8};
  double best_f = INFINITY;
  for (guint r = 0; r <= n_restarts; r++) {
    if (r == 0) {
      memcpy(x, gp->theta, sizeof(double) * np);
    } else {
      /* Restarts spread over plausible scales: lengthscales 0.05..2,
       * signal variance 0.3..3, noise 1e-6..1e-1. */
      for (guint j = 0; j < gp->d; j++)
        x[j] = log(0.05) + lathe_rng_uniform(&rng) * (log(2.0) - log(0.05));
      x[gp->d] = log(0.3) + lathe_rng_uniform(&rng) * (log(3.0) - log(0.3));
      x[gp->d + 1] = log(1e-6) + lathe_rng_uniform(&rng) * (log(1e-1) - log(1e-6));
    }
    double f;
    if (lathe_tune_lbfgs_minimize(np, x, lo, hi, neg_log_posterior, &c, &opts, &f) ==
        LATHE_TUNE_LBFGS_BAD_START)
      continue;
    if (f < best_f) {
      best_f = f;
      memcpy(best, x, sizeof(double) * np);
    }
  }
  if (!isfinite(best_f)) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_NUMERIC,
                "GP: the marginal likelihood could not be evaluated at any of %u starts",
                n_restarts + 1);
    return FALSE;
  }
  memcpy(gp->theta, best, sizeof(double) * np);
  return lathe_tune_gp_condition(gp, error);
}

/* k(x, x_i) for all i into k (n values); with dk, also dk_i/dx_j into
 * dk (n x d). */
static void cross_kernel(const LatheTuneGp *gp, const double *x, double *k, double *dk) {
  guint n = gp->n, d = gp->d;
  double sf2 = exp(gp->theta[d]);
  double inv2[d];
  for (guint j = 0; j < d; j++)
    inv2[j] = exp(-2 * gp->theta[j]);
  for (guint i = 0; i < n; i++) {
    const double *xi = gp->x + (gsize)i * d;
    double r2 = 0;
    for (guint j = 0; j < d; j++)
      r2 += (x[j] - xi[j]) * (x[j] - xi[j]) * inv2[j];
    double r = sqrt(r2), e = exp(-SQRT5 * r);
    k[i] = sf2 * (1 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
    if (dk) {
      /* dk/dx_j = dk/dr2 * 2 (x_j - xi_j) / l_j^2, dk/dr2 = -5/6 sf2 (1 + sqrt5 r) e. */
      double c = -5.0 / 3.0 * sf2 * (1 + SQRT5 * r) * e;
      for (guint j = 0; j < d; j++)
        dk[(gsize)i * d + j] = c * (x[j] - xi[j]) * inv2[j];
    }
  }
}

void lathe_tune_gp_predict(const LatheTuneGp *gp, const double *x, double *mean, double *var,
                           double *d_mean, double *d_var) {
  g_return_if_fail(gp->ready);
  guint n = gp->n, d = gp->d;
  gboolean grads = d_mean || d_var;
  double *k = g_new(double, n), *v = g_new(double, n);
  double *dk = grads ? g_new(double, (gsize)n * d) : NULL;
  cross_kernel(gp, x, k, dk);
  double sf2 = exp(gp->theta[d]);
  double mu = cblas_ddot((int)n, k, 1, gp->alpha, 1);
  memcpy(v, k, sizeof(double) * n);
  cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, gp->l, (int)n, v, 1);
  double s2 = sf2 - cblas_ddot((int)n, v, 1, v, 1);
  /* Rounding can push the variance at a data point below zero. */
  double floor_var = 1e-12 * sf2;
  gboolean clamped = s2 < floor_var;
  if (clamped)
    s2 = floor_var;
  if (mean)
    *mean = gp->y_mean + gp->y_std * mu;
  if (var)
    *var = gp->y_std * gp->y_std * s2;
  if (d_mean)
    /* d mean / dx = dk^T alpha. */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, gp->y_std, dk, (int)d, gp->alpha, 1,
                0.0, d_mean, 1);
  if (d_var) {
    if (clamped) {
      memset(d_var, 0, sizeof(double) * d);
    } else {
      /* d var / dx = -2 dk^T K^-1 k; K^-1 k = L^-T v. */
      cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n, gp->l, (int)n, v,
                  1);
      cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, -2.0 * gp->y_std * gp->y_std, dk,
                  (int)d, v, 1, 0.0, d_var, 1);
    }
  }
  g_free(k);
  g_free(v);
  g_free(dk);
}

void lathe_tune_gp_predict_batch(const LatheTuneGp *gp, const double *x, guint m, double *mean,
                                 double *var) {
  g_return_if_fail(gp->ready);
  guint n = gp->n, d = gp->d;
  double sf2 = exp(gp->theta[d]);
  /* In blocks, so that the m x n cross-kernel stays small. */
  const guint block = 256;
  double *ks = g_new(double, (gsize)block * n);
  for (guint b = 0; b < m; b += block) {
    guint mb = MIN(block, m - b);
    for (guint i = 0; i < mb; i++)
      cross_kernel(gp, x + (gsize)(b + i) * d, ks + (gsize)i * n, NULL);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)mb, (int)n, 1.0, ks, (int)n, gp->alpha, 1, 0.0,
                mean + b, 1);
    /* Rows of Ks L^-T are (L^-1 k_i)^T. */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)mb, (int)n,
                1.0, gp->l, (int)n, ks, (int)n);
    for (guint i = 0; i < mb; i++) {
      const double *vi = ks + (gsize)i * n;
      double s2 = sf2 - cblas_ddot((int)n, vi, 1, vi, 1);
      if (s2 < 1e-12 * sf2)
        s2 = 1e-12 * sf2;
      mean[b + i] = gp->y_mean + gp->y_std * mean[b + i];
      var[b + i] = gp->y_std * gp->y_std * s2;
    }
  }
  g_free(ks);
}

gboolean lathe_tune_gp_add_fantasies(LatheTuneGp *gp, const double *x, guint n, GError **error) {
  if (n == 0)
    return TRUE;
  if (!gp->ready) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                "GP: fantasies need a conditioned GP (call lathe_tune_gp_fit() first)");
    return FALSE;
  }
  if (gp->n + n > LATHE_TUNE_GP_MAX_POINTS) {
    g_set_error(error, LATHE_TUNE_GP_ERROR, LATHE_TUNE_GP_ERROR_INVALID,
                "GP: %u observations plus %u fantasies exceed the limit of %u", gp->n, n,
                LATHE_TUNE_GP_MAX_POINTS);
    return FALSE;
  }
  double *mean = g_new(double, n), *var = g_new(double, n);
  lathe_tune_gp_predict_batch(gp, x, n, mean, var);
  guint n0 = gp->n;
  reserve(gp, n0 + n);
  memcpy(gp->x + (gsize)n0 * gp->d, x, sizeof(double) * n * gp->d);
  for (guint i = 0; i < n; i++)
    gp->y[n0 + i] = (mean[i] - gp->y_mean) / gp->y_std;
  gp->n = n0 + n;
  g_free(mean);
  g_free(var);
  return lathe_tune_gp_condition(gp, error);
}
