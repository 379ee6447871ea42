/* Sequence layers of the engine (conv1d, maxpool, pool, rnn, lstm), in the
 * float64 build: forward against naive reference loops, backward against
 * central finite differences, lengths and padding, and setup errors.
 *
 * Gradient error measure, per element: |a - n| / max(1e-4, |a| + |n|), a the
 * analytic and n the numeric derivative (h = 1e-6); it must stay below 1e-4.
 * The 1e-4 floor makes it an absolute bound of 1e-8 for derivatives that are
 * (near) zero, where a pure relative measure would only compare rounding
 * noise; finite differences here are accurate to ~1e-9. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <lathe/lathe-error.h>
#include <lathe/lathe-rng.h>

#include "layer-conv1d-internal.h"
#include "layer-seq-internal.h"
#include "nn-layer.h"

#define N 4
#define STEPS 7
#define CH 3
#define FD_H 1e-6
#define GRAD_TOL 1e-4

static const guint32 lens_short[N] = {7, 5, 3, 7};

/* ---- chains of layers with their own buffers ---- */

typedef struct {
  guint nl, n;
  LatheNnShape in;
  LatheNnLayer *l[4];
  nn_real *out[4];
  guint32 *len[4];
  nn_real *d[5]; /* d[i]: gradient w.r.t. layer i's input; d[nl]: the loss's */
} Chain;

static gsize shape_size(LatheNnShape s) { return (gsize)s.steps * s.channels; }

/* Takes the layers; gives each max_batch n + 2 so that a layer using its max
 * batch instead of the pass's n would show. */
static Chain *chain_new(LatheNnShape in, guint n, guint64 seed, guint nl, ...) {
  Chain *c = g_new0(Chain, 1);
  c->nl = nl;
  c->n = n;
  c->in = in;
  va_list ap;
  va_start(ap, nl);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  LatheNnShape shape = in;
  c->d[0] = g_new0(nn_real, n * shape_size(in));
  for (guint i = 0; i < nl; i++) {
    LatheNnLayer *l = va_arg(ap, LatheNnLayer *);
    l->in = shape;
    g_autoptr(GError) error = NULL;
    g_assert_true(lathe_nn_layer_alloc(l, n + 2, &error));
    g_assert_no_error(error);
    l->ops->init(l, &rng);
    c->l[i] = l;
    shape = l->out;
    c->out[i] = g_new0(nn_real, n * shape_size(shape));
    c->len[i] = g_new0(guint32, n);
    c->d[i + 1] = g_new0(nn_real, n * shape_size(shape));
  }
  va_end(ap);
  return c;
}

static void chain_free(Chain *c) {
  for (guint i = 0; i < c->nl; i++) {
    lathe_nn_layer_free(c->l[i]);
    g_free(c->out[i]);
    g_free(c->len[i]);
  }
  for (guint i = 0; i <= c->nl; i++)
    g_free(c->d[i]);
  g_free(c);
}

static LatheNnShape chain_out_shape(const Chain *c) { return c->l[c->nl - 1]->out; }
static const nn_real *chain_out(const Chain *c) { return c->out[c->nl - 1]; }
static const guint32 *chain_len(const Chain *c) { return c->len[c->nl - 1]; }

static void chain_forward(Chain *c, const nn_real *x, const guint32 *len, gboolean train) {
  LatheNnPass p = {.n = c->n, .train = train, .rng = NULL};
  const nn_real *in = x;
  const guint32 *len_in = len;
  for (guint i = 0; i < c->nl; i++) {
    c->l[i]->ops->forward(c->l[i], &p, in, len_in, c->out[i], c->len[i]);
    in = c->out[i];
    len_in = c->len[i];
  }
}

/* L = sum of out * R over the valid output steps. */
static double chain_loss(Chain *c, const nn_real *x, const guint32 *len, const nn_real *r) {
  chain_forward(c, x, len, TRUE);
  LatheNnShape s = chain_out_shape(c);
  const nn_real *o = chain_out(c);
  const guint32 *lo = chain_len(c);
  double sum = 0;
  for (guint i = 0; i < c->n; i++)
    for (guint t = 0; t < MIN(lo[i], s.steps); t++)
      for (guint k = 0; k < s.channels; k++) {
        gsize at = ((gsize)i * s.steps + t) * s.channels + k;
        sum += o[at] * r[at];
      }
  return sum;
}

/* Forward, then backward of L: the weight gradients land in each l->gw, the
 * input gradient in c->d[0] (or nowhere when with_dx is FALSE). */
static void chain_backward(Chain *c, const nn_real *x, const guint32 *len, const nn_real *r,
                           gboolean with_dx) {
  chain_loss(c, x, len, r);
  LatheNnShape s = chain_out_shape(c);
  const guint32 *lo = chain_len(c);
  nn_real *dl = c->d[c->nl];
  for (guint i = 0; i < c->n; i++)
    for (guint t = 0; t < s.steps; t++)
      for (guint k = 0; k < s.channels; k++) {
        gsize at = ((gsize)i * s.steps + t) * s.channels + k;
        dl[at] = t < lo[i] ? r[at] : 0;
      }
  for (guint i = 0; i < c->nl; i++)
    memset(c->l[i]->gw, 0, sizeof(nn_real) * c->l[i]->n_params);
  LatheNnPass p = {.n = c->n, .train = TRUE, .rng = NULL};
  for (guint i = c->nl; i-- > 0;) {
    const nn_real *in = i == 0 ? x : c->out[i - 1];
    const guint32 *len_in = i == 0 ? len : c->len[i - 1];
    nn_real *din = i == 0 && !with_dx ? NULL : c->d[i];
    c->l[i]->ops->backward(c->l[i], &p, in, len_in, c->out[i], c->len[i], c->d[i + 1], din);
  }
}

static nn_real *random_array(gsize n, guint64 seed, double scale) {
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  nn_real *a = g_new(nn_real, n);
  for (gsize i = 0; i < n; i++)
    a[i] = (nn_real)((2 * lathe_rng_uniform(&rng) - 1) * scale);
  return a;
}

static double grad_err(double a, double num) {
  return fabs(a - num) / MAX(1e-4, fabs(a) + fabs(num));
}

/* The worst error of the analytic gradients (weights of every layer, and the
 * input when check_input) against central differences; also returns the
 * largest analytic value so that callers can insist it is not all zero. */
static double grad_check(Chain *c, nn_real *x, const guint32 *len, const nn_real *r,
                         gboolean check_input, double *largest) {
  chain_backward(c, x, len, r, check_input);
  double worst = 0, big = 0;
  for (guint li = 0; li < c->nl; li++) {
    LatheNnLayer *l = c->l[li];
    nn_real *analytic = g_memdup2(l->gw, sizeof(nn_real) * l->n_params);
    for (gsize i = 0; i < l->n_params; i++) {
      nn_real keep = l->w[i];
      l->w[i] = keep + FD_H;
      double up = chain_loss(c, x, len, r);
      l->w[i] = keep - FD_H;
      double down = chain_loss(c, x, len, r);
      l->w[i] = keep;
      double e = grad_err(analytic[i], (up - down) / (2 * FD_H));
      if (e > GRAD_TOL)
        g_test_message("layer %u (%s) weight %" G_GSIZE_FORMAT ": analytic %.10g numeric %.10g", li,
                       l->ops->kind, i, (double)analytic[i], (up - down) / (2 * FD_H));
      worst = MAX(worst, e);
      big = MAX(big, fabs(analytic[i]));
    }
    g_free(analytic);
  }
  if (check_input) {
    gsize nx = c->n * shape_size(c->in);
    nn_real *analytic = g_memdup2(c->d[0], sizeof(nn_real) * nx);
    for (gsize i = 0; i < nx; i++) {
      nn_real keep = x[i];
      x[i] = keep + FD_H;
      double up = chain_loss(c, x, len, r);
      x[i] = keep - FD_H;
      double down = chain_loss(c, x, len, r);
      x[i] = keep;
      double e = grad_err(analytic[i], (up - down) / (2 * FD_H));
      if (e > GRAD_TOL)
        g_test_message("input %" G_GSIZE_FORMAT ": analytic %.10g numeric %.10g", i,
                       (double)analytic[i], (up - down) / (2 * FD_H));
      worst = MAX(worst, e);
      big = MAX(big, fabs(analytic[i]));
    }
    g_free(analytic);
  }
  if (largest)
    *largest = big;
  return worst;
}

/* Gradient-checks a chain on the standard small input (4 x 7 x 3, lengths
 * 7, 5, 3, 7) and frees it. */
static void check_chain(Chain *c, const char *what) {
  gsize nx = c->n * shape_size(c->in);
  nn_real *x = random_array(nx, 11, 1.0);
  nn_real *r = random_array(c->n * shape_size(chain_out_shape(c)), 12, 1.0);
  double big = 0;
  double worst = grad_check(c, x, lens_short, r, TRUE, &big);
  g_test_message("%s: worst gradient error %.3g (largest gradient %.3g)", what, worst, big);
  g_assert_cmpfloat(worst, <, GRAD_TOL);
  g_assert_cmpfloat(big, >, 1e-3);
  g_free(x);
  g_free(r);
  chain_free(c);
}

static const LatheNnShape in_shape = {STEPS, CH};

/* ---- the checker itself ---- */

static void test_checker_detects_errors(void) {
  /* A gradient off by 1% must be caught by the measure used everywhere. */
  g_assert_cmpfloat(grad_err(1.01, 1.0), >, GRAD_TOL);
  g_assert_cmpfloat(grad_err(1e-3 * 1.01, 1e-3), >, GRAD_TOL);
  g_assert_cmpfloat(grad_err(1.0 + 1e-9, 1.0), <, GRAD_TOL);
  /* And a wrong layer gradient: corrupt W after backward by scaling it (the
   * analytic gradients then no longer match the loss). */
  Chain *c = chain_new(in_shape, N, 5, 1, lathe_nn_rnn(3));
  nn_real *x = random_array(N * STEPS * CH, 11, 1.0);
  nn_real *r = random_array(N * STEPS * 3, 12, 1.0);
  chain_backward(c, x, lens_short, r, TRUE);
  nn_real *analytic = g_memdup2(c->l[0]->gw, sizeof(nn_real) * c->l[0]->n_params);
  c->l[0]->w[0] += FD_H;
  double up = chain_loss(c, x, lens_short, r);
  c->l[0]->w[0] -= 2 * FD_H;
  double down = chain_loss(c, x, lens_short, r);
  g_assert_cmpfloat(grad_err(analytic[0] * 1.01, (up - down) / (2 * FD_H)), >, GRAD_TOL);
  g_assert_cmpfloat(grad_err(analytic[0], (up - down) / (2 * FD_H)), <, GRAD_TOL);
  g_free(analytic);
  g_free(x);
  g_free(r);
  chain_free(c);
}

/* ---- conv1d ---- */

static double act_apply(LatheNnActivation act, double v) {
  return act == LATHE_NN_ACT_RELU ? MAX(v, 0.0) : act == LATHE_NN_ACT_TANH ? tanh(v) : v;
}

/* The definition, in plain loops: taps outside [0, len) read zero. */
static void conv_reference(const LatheNnLayer *l, guint n, const nn_real *x, const guint32 *len,
                           double *out) {
  guint T = l->in.steps, C = l->in.channels, K = l->kernel, F = l->units;
  int pad = (int)(K - 1) / 2;
  const nn_real *b = l->w + (gsize)K * C * F;
  for (guint s = 0; s < n; s++)
    for (guint t = 0; t < T; t++)
      for (guint f = 0; f < F; f++) {
        double acc = b[f];
        for (guint j = 0; j < K; j++) {
          int tt = (int)t + (int)j - pad;
          if (tt < 0 || tt >= (int)MIN(len[s], T))
            continue;
          for (guint ch = 0; ch < C; ch++)
            acc += (double)l->w[((gsize)j * C + ch) * F + f] * x[((gsize)s * T + tt) * C + ch];
        }
        out[((gsize)s * T + t) * F + f] = act_apply(l->act, acc);
      }
}

static void check_conv_reference(LatheNnShape in, const guint32 *lens, guint kernel,
                                 LatheNnActivation act, LatheNnConvPath path) {
  LatheNnLayer *l = lathe_nn_conv1d(5, kernel, act);
  lathe_nn_conv1d_set_path(l, path);
  Chain *c = chain_new(in, N, 3, 1, l);
  g_assert_cmpuint(l->out.steps, ==, in.steps);
  g_assert_cmpuint(l->out.channels, ==, 5);
  g_assert_cmpuint(l->n_params, ==, (gsize)kernel * in.channels * 5 + 5);
  /* Non-zero biases, so that the reference checks where they are added. */
  for (guint f = 0; f < 5; f++)
    l->w[(gsize)kernel * in.channels * 5 + f] = 0.1 * f - 0.2;
  gsize no = N * shape_size(l->out);
  nn_real *x = random_array(N * shape_size(in), 21, 1.0);
  chain_forward(c, x, lens, FALSE);
  double *ref = g_new(double, no);
  conv_reference(l, N, x, lens, ref);
  for (gsize i = 0; i < no; i++)
    g_assert_cmpfloat(fabs(c->out[0][i] - ref[i]), <, 1e-12);
  for (guint s = 0; s < N; s++)
    g_assert_cmpuint(c->len[0][s], ==, lens[s]);
  g_free(ref);
  g_free(x);
  chain_free(c);
}

static void test_conv_reference(void) {
  for (guint k = 1; k <= 5; k++)
    for (int a = 0; a < 3; a++) {
      check_conv_reference(in_shape, lens_short, k, (LatheNnActivation)a, LATHE_NN_CONV_IM2COL);
      check_conv_reference(in_shape, lens_short, k, (LatheNnActivation)a, LATHE_NN_CONV_DIRECT);
      if (k == 3)
        check_conv_reference(in_shape, lens_short, k, (LatheNnActivation)a, LATHE_NN_CONV_WINOGRAD);
    }
  /* Sequences shorter than a Winograd tile or the kernel, empty samples,
   * and steps that are not a multiple of 4. */
  static const guint steps[] = {1, 2, 3, 5, 9};
  for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
    guint32 lens[N] = {0, 1, steps[i], steps[i] - 1};
    LatheNnShape in = {steps[i], 2};
    for (guint k = 1; k <= 4; k++) {
      check_conv_reference(in, lens, k, LATHE_NN_ACT_TANH, LATHE_NN_CONV_IM2COL);
      check_conv_reference(in, lens, k, LATHE_NN_ACT_TANH, LATHE_NN_CONV_DIRECT);
    }
    check_conv_reference(in, lens, 3, LATHE_NN_ACT_TANH, LATHE_NN_CONV_WINOGRAD);
  }
}

static void check_conv_grad(guint kernel, LatheNnActivation act, LatheNnConvPath path) {
  LatheNnLayer *l = lathe_nn_conv1d(4, kernel, act);
  lathe_nn_conv1d_set_path(l, path);
  g_autofree char *what = g_strdup_printf("conv1d k%u act %d path %d", kernel, act, path);
  check_chain(chain_new(in_shape, N, 7, 1, l), what);
}

static void test_conv_grad(void) {
  for (guint k = 2; k <= 3; k++)
    for (int a = 0; a < 3; a++) {
      check_conv_grad(k, (LatheNnActivation)a, LATHE_NN_CONV_IM2COL);
      check_conv_grad(k, (LatheNnActivation)a, LATHE_NN_CONV_DIRECT);
      if (k == 3)
        check_conv_grad(k, (LatheNnActivation)a, LATHE_NN_CONV_WINOGRAD);
    }
}

/* All kernels, and im2col and Winograd with chunks that split samples,
 * agree to 1e-12 on the outputs and on every gradient. */
static void test_conv_paths_agree(void) {
  for (guint k = 1; k <= 4; k++) {
    Chain *c[5];
    int nv = k == 3 ? 5 : 3;
    for (int v = 0; v < nv; v++) {
      static const LatheNnConvPath paths[] = {LATHE_NN_CONV_DIRECT, LATHE_NN_CONV_IM2COL,
                                              LATHE_NN_CONV_IM2COL, LATHE_NN_CONV_WINOGRAD,
                                              LATHE_NN_CONV_WINOGRAD};
      LatheNnLayer *l = lathe_nn_conv1d(6, k, LATHE_NN_ACT_TANH);
      lathe_nn_conv1d_set_path(l, paths[v]);
      if (v == 2 || v == 4) /* 5 rows, 3 tiles: chunks end inside samples */
        lathe_nn_conv1d_set_chunk_rows(l, v == 2 ? 5 : 3);
      c[v] = chain_new(in_shape, N, 9, 1, l);
      g_assert_cmpint(lathe_nn_conv1d_chosen_path(l), ==, paths[v]);
    }
    nn_real *x = random_array(N * STEPS * CH, 31, 1.0);
    nn_real *r = random_array(N * STEPS * 6, 32, 1.0);
    for (int v = 0; v < nv; v++)
      chain_backward(c[v], x, lens_short, r, TRUE);
    for (int v = 1; v < nv; v++) {
      for (gsize i = 0; i < N * STEPS * 6; i++)
        g_assert_cmpfloat(fabs(c[v]->out[0][i] - c[0]->out[0][i]), <, 1e-12);
      for (gsize i = 0; i < c[0]->l[0]->n_params; i++)
        g_assert_cmpfloat(fabs(c[v]->l[0]->gw[i] - c[0]->l[0]->gw[i]), <, 1e-12);
      for (gsize i = 0; i < N * STEPS * CH; i++)
        g_assert_cmpfloat(fabs(c[v]->d[0][i] - c[0]->d[0][i]), <, 1e-12);
    }
    g_free(x);
    g_free(r);
    for (int v = 0; v < nv; v++)
      chain_free(c[v]);
  }
  /* The automatic rule: direct for kernel x channels <= 3, Winograd for
   * the other kernel-3 layers, im2col otherwise. */
  static const struct {
    guint kernel, channels;
    LatheNnConvPath want;
  } rule[] = {
      {3, 1, LATHE_NN_CONV_DIRECT},    {1, 3, LATHE_NN_CONV_DIRECT}, {3, 2, LATHE_NN_CONV_WINOGRAD},
      {3, 64, LATHE_NN_CONV_WINOGRAD}, {5, 1, LATHE_NN_CONV_IM2COL}, {5, 64, LATHE_NN_CONV_IM2COL},
      {2, 64, LATHE_NN_CONV_IM2COL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(rule); i++) {
    LatheNnLayer *l = lathe_nn_conv1d(8, rule[i].kernel, LATHE_NN_ACT_RELU);
    l->in = (LatheNnShape){50, rule[i].channels};
    g_assert_true(lathe_nn_layer_alloc(l, 2, NULL));
    g_assert_cmpint(lathe_nn_conv1d_chosen_path(l), ==, rule[i].want);
    lathe_nn_layer_free(l);
  }
}

/* ---- maxpool ---- */

static void test_maxpool(void) {
  /* 7 steps, pool 2: windows {0,1} {2,3} {4,5} {6}: the last is partial. */
  LatheNnLayer *l = lathe_nn_maxpool(2);
  Chain *c = chain_new(in_shape, N, 1, 1, l);
  g_assert_cmpuint(l->out.steps, ==, 4);
  g_assert_cmpuint(l->out.channels, ==, CH);
  g_assert_cmpuint(l->n_params, ==, 0);
  nn_real *x = random_array(N * STEPS * CH, 41, 1.0);
  chain_forward(c, x, lens_short, TRUE);
  static const guint32 want_len[N] = {4, 3, 2, 4};
  for (guint s = 0; s < N; s++) {
    g_assert_cmpuint(c->len[0][s], ==, want_len[s]);
    for (guint w = 0; w < 4; w++)
      for (guint ch = 0; ch < CH; ch++) {
        double m = -INFINITY;
        for (guint t = 2 * w; t < MIN(2 * w + 2, lens_short[s]); t++)
          m = MAX(m, x[((gsize)s * STEPS + t) * CH + ch]);
        if (w >= want_len[s])
          m = 0; /* wholly padding */
        g_assert_cmpfloat(c->out[0][((gsize)s * 4 + w) * CH + ch], ==, m);
      }
  }
  /* The partial last window of a full-length sample is step 6 alone. */
  for (guint ch = 0; ch < CH; ch++)
    g_assert_cmpfloat(c->out[0][(0 * 4 + 3) * CH + ch], ==, x[(0 * STEPS + 6) * CH + ch]);
  g_free(x);
  chain_free(c);
  for (guint pool = 1; pool <= 4; pool++) {
    g_autofree char *what = g_strdup_printf("maxpool %u", pool);
    check_chain(chain_new(in_shape, N, 1, 1, lathe_nn_maxpool(pool)), what);
  }
}

/* ---- pool ---- */

static void test_pool(void) {
  static const char *const names[] = {"pool last", "pool mean", "pool max"};
  for (int mode = 0; mode < 3; mode++) {
    LatheNnLayer *l = lathe_nn_pool((LatheNnPooling)mode);
    Chain *c = chain_new(in_shape, N, 1, 1, l);
    g_assert_cmpuint(l->out.steps, ==, 1);
    g_assert_cmpuint(l->out.channels, ==, CH);
    nn_real *x = random_array(N * STEPS * CH, 51, 1.0);
    chain_forward(c, x, lens_short, TRUE);
    for (guint s = 0; s < N; s++) {
      g_assert_cmpuint(c->len[0][s], ==, 1);
      for (guint ch = 0; ch < CH; ch++) {
        double want = 0;
        if (mode == LATHE_NN_POOL_LAST) {
          want = x[((gsize)s * STEPS + lens_short[s] - 1) * CH + ch];
        } else if (mode == LATHE_NN_POOL_MAX) {
          want = -INFINITY;
          for (guint t = 0; t < lens_short[s]; t++)
            want = MAX(want, x[((gsize)s * STEPS + t) * CH + ch]);
        } else {
          for (guint t = 0; t < lens_short[s]; t++)
            want += x[((gsize)s * STEPS + t) * CH + ch];
          want /= lens_short[s];
        }
        g_assert_cmpfloat(fabs(c->out[0][s * CH + ch] - want), <, 1e-14);
      }
    }
    g_free(x);
    chain_free(c);
    check_chain(chain_new(in_shape, N, 1, 1, lathe_nn_pool((LatheNnPooling)mode)), names[mode]);
  }
}

/* ---- rnn ---- */

static void rnn_reference(const LatheNnLayer *l, guint n, const nn_real *x, double *out) {
  guint T = l->in.steps, C = l->in.channels, U = l->units;
  const nn_real *W = l->w, *R = W + C * U, *b = R + U * U;
  for (guint s = 0; s < n; s++)
    for (guint t = 0; t < T; t++)
      for (guint u = 0; u < U; u++) {
        double z = b[u];
        for (guint ch = 0; ch < C; ch++)
          z += x[((gsize)s * T + t) * C + ch] * W[ch * U + u];
        if (t > 0)
          for (guint v = 0; v < U; v++)
            z += out[((gsize)s * T + t - 1) * U + v] * R[v * U + u];
        out[((gsize)s * T + t) * U + u] = tanh(z);
      }
}

static void test_rnn(void) {
  LatheNnLayer *l = lathe_nn_rnn(5);
  Chain *c = chain_new(in_shape, N, 2, 1, l);
  g_assert_cmpuint(l->out.steps, ==, STEPS);
  g_assert_cmpuint(l->out.channels, ==, 5);
  g_assert_cmpuint(l->n_params, ==, CH * 5 + 25 + 5);
  /* Non-zero biases, so that the reference checks where they are added. */
  for (guint u = 0; u < 5; u++)
    l->w[CH * 5 + 25 + u] = 0.1 * (u + 1);
  nn_real *x = random_array(N * STEPS * CH, 61, 1.0);
  chain_forward(c, x, lens_short, FALSE);
  double *ref = g_new(double, N *STEPS * 5);
  rnn_reference(l, N, x, ref);
  for (gsize i = 0; i < N * STEPS * 5; i++)
    g_assert_cmpfloat(fabs(c->out[0][i] - ref[i]), <, 1e-12);
  for (guint s = 0; s < N; s++)
    g_assert_cmpuint(c->len[0][s], ==, lens_short[s]);
  g_free(ref);
  g_free(x);
  chain_free(c);
  check_chain(chain_new(in_shape, N, 2, 1, lathe_nn_rnn(5)), "rnn");
  check_chain(chain_new(in_shape, N, 2, 2, lathe_nn_rnn(4), lathe_nn_pool(LATHE_NN_POOL_LAST)),
              "rnn -> pool last");
}

/* ---- lstm ---- */

static double sigm(double v) { return 1 / (1 + exp(-v)); }

static void lstm_reference(const LatheNnLayer *l, guint n, const nn_real *x, double *out) {
  guint T = l->in.steps, C = l->in.channels, U = l->units, G = 4 * U;
  const nn_real *W = l->w, *R = W + C * G, *b = R + U * G;
  double *c = g_new0(double, U), *z = g_new(double, G);
  for (guint s = 0; s < n; s++) {
    memset(c, 0, sizeof(double) * U);
    for (guint t = 0; t < T; t++) {
      for (guint k = 0; k < G; k++) {
        z[k] = b[k];
        for (guint ch = 0; ch < C; ch++)
          z[k] += x[((gsize)s * T + t) * C + ch] * W[ch * G + k];
        if (t > 0)
          for (guint v = 0; v < U; v++)
            z[k] += out[((gsize)s * T + t - 1) * U + v] * R[v * G + k];
      }
      for (guint u = 0; u < U; u++) {
        c[u] = sigm(z[U + u]) * c[u] + sigm(z[u]) * tanh(z[2 * U + u]);
        out[((gsize)s * T + t) * U + u] = sigm(z[3 * U + u]) * tanh(c[u]);
      }
    }
  }
  g_free(c);
  g_free(z);
}

static void test_lstm(void) {
  LatheNnLayer *l = lathe_nn_lstm(4);
  Chain *c = chain_new(in_shape, N, 2, 1, l);
  g_assert_cmpuint(l->out.steps, ==, STEPS);
  g_assert_cmpuint(l->out.channels, ==, 4);
  g_assert_cmpuint(l->n_params, ==, 16 * (CH + 4 + 1));
  /* Biases: forget gate 1, the others 0. */
  const nn_real *b = l->w + 16 * (CH + 4);
  for (guint k = 0; k < 16; k++)
    g_assert_cmpfloat(b[k], ==, k >= 4 && k < 8 ? 1.0 : 0.0);
  nn_real *x = random_array(N * STEPS * CH, 71, 1.0);
  double *ref = g_new(double, N *STEPS * 4);
  lstm_reference(l, N, x, ref);
  /* Training (cache) and inference (scratch) forwards agree with it. */
  for (int train = 0; train < 2; train++) {
    memset(c->out[0], 0, sizeof(nn_real) * N * STEPS * 4);
    chain_forward(c, x, lens_short, train);
    for (gsize i = 0; i < N * STEPS * 4; i++)
      g_assert_cmpfloat(fabs(c->out[0][i] - ref[i]), <, 1e-12);
    for (guint s = 0; s < N; s++)
      g_assert_cmpuint(c->len[0][s], ==, lens_short[s]);
  }
  g_free(ref);
  g_free(x);
  chain_free(c);
  check_chain(chain_new(in_shape, N, 2, 1, lathe_nn_lstm(4)), "lstm");
  check_chain(chain_new(in_shape, N, 2, 3, lathe_nn_lstm(4), lathe_nn_lstm(3),
                        lathe_nn_pool(LATHE_NN_POOL_LAST)),
              "lstm -> lstm -> pool last");
  check_chain(chain_new(in_shape, N, 2, 3, lathe_nn_lstm(3), lathe_nn_lstm(3),
                        lathe_nn_pool(LATHE_NN_POOL_MEAN)),
              "lstm -> lstm -> pool mean");
}

static void test_cnn_stack(void) {
  check_chain(chain_new(in_shape, N, 4, 3, lathe_nn_conv1d(4, 3, LATHE_NN_ACT_RELU),
                        lathe_nn_maxpool(2), lathe_nn_pool(LATHE_NN_POOL_MAX)),
              "conv -> maxpool -> pool max");
  check_chain(chain_new(in_shape, N, 4, 4, lathe_nn_conv1d(4, 3, LATHE_NN_ACT_RELU),
                        lathe_nn_maxpool(2), lathe_nn_conv1d(3, 2, LATHE_NN_ACT_TANH),
                        lathe_nn_pool(LATHE_NN_POOL_MEAN)),
              "conv -> maxpool -> conv -> pool mean");
}

/* ---- padding ---- */

/* Changing the padding steps' values changes neither the pooled outputs nor
 * any weight gradient nor the gradient w.r.t. a valid input, and padding
 * inputs get a zero gradient. Each chain is built twice from one seed. */
static void check_padding(Chain *a, Chain *b, const char *what) {
  gsize nx = N * shape_size(in_shape);
  nn_real *x = random_array(nx, 81, 1.0);
  nn_real *y = g_memdup2(x, sizeof(nn_real) * nx);
  guint changed = 0;
  for (guint s = 0; s < N; s++)
    for (guint t = lens_short[s]; t < STEPS; t++)
      for (guint ch = 0; ch < CH; ch++, changed++)
        y[((gsize)s * STEPS + t) * CH + ch] = 5.0 + t + ch;
  g_assert_cmpuint(changed, >, 0);
  nn_real *r = random_array(N * shape_size(chain_out_shape(a)), 82, 1.0);
  chain_backward(a, x, lens_short, r, TRUE);
  chain_backward(b, y, lens_short, r, TRUE);
  gsize no = N * shape_size(chain_out_shape(a));
  for (gsize i = 0; i < no; i++)
    g_assert_cmpfloat(fabs(chain_out(a)[i] - chain_out(b)[i]), <, 1e-13);
  for (guint li = 0; li < a->nl; li++) {
    double diff = 0, size = 0;
    for (gsize i = 0; i < a->l[li]->n_params; i++) {
      diff = MAX(diff, fabs(a->l[li]->gw[i] - b->l[li]->gw[i]));
      size = MAX(size, fabs(a->l[li]->gw[i]));
    }
    g_test_message("%s layer %u: weight gradients differ by %.3g (size %.3g)", what, li, diff,
                   size);
    g_assert_cmpfloat(diff, <=, 1e-13 * MAX(size, 1.0));
  }
  for (guint s = 0; s < N; s++)
    for (guint t = 0; t < STEPS; t++)
      for (guint ch = 0; ch < CH; ch++) {
        gsize i = ((gsize)s * STEPS + t) * CH + ch;
        if (t < lens_short[s])
          g_assert_cmpfloat(fabs(a->d[0][i] - b->d[0][i]), <, 1e-13);
        else
          g_assert_cmpfloat(b->d[0][i], ==, 0.0);
      }
  g_free(x);
  g_free(y);
  g_free(r);
  chain_free(a);
  chain_free(b);
}

static void test_padding(void) {
  for (int mode = 0; mode < 3; mode++)
    check_padding(chain_new(in_shape, N, 1, 1, lathe_nn_pool((LatheNnPooling)mode)),
                  chain_new(in_shape, N, 1, 1, lathe_nn_pool((LatheNnPooling)mode)), "pool");
  check_padding(chain_new(in_shape, N, 5, 2, lathe_nn_rnn(4), lathe_nn_pool(LATHE_NN_POOL_LAST)),
                chain_new(in_shape, N, 5, 2, lathe_nn_rnn(4), lathe_nn_pool(LATHE_NN_POOL_LAST)),
                "rnn");
  check_padding(chain_new(in_shape, N, 5, 3, lathe_nn_lstm(4), lathe_nn_lstm(3),
                          lathe_nn_pool(LATHE_NN_POOL_MEAN)),
                chain_new(in_shape, N, 5, 3, lathe_nn_lstm(4), lathe_nn_lstm(3),
                          lathe_nn_pool(LATHE_NN_POOL_MEAN)),
                "lstm");
  for (int path = 1; path <= 3; path++) {
    LatheNnLayer *ca = lathe_nn_conv1d(4, 3, LATHE_NN_ACT_RELU);
    LatheNnLayer *cb = lathe_nn_conv1d(4, 3, LATHE_NN_ACT_RELU);
    lathe_nn_conv1d_set_path(ca, (LatheNnConvPath)path);
    lathe_nn_conv1d_set_path(cb, (LatheNnConvPath)path);
    check_padding(
        chain_new(in_shape, N, 5, 3, ca, lathe_nn_maxpool(2), lathe_nn_pool(LATHE_NN_POOL_MEAN)),
        chain_new(in_shape, N, 5, 3, cb, lathe_nn_maxpool(2), lathe_nn_pool(LATHE_NN_POOL_MEAN)),
        "conv");
  }
}

/* ---- init ---- */

static void test_init_deterministic(void) {
  LatheNnLayer *(*make[3])(guint) = {lathe_nn_rnn, lathe_nn_lstm, NULL};
  for (int k = 0; k < 3; k++) {
    LatheNnLayer *l[3];
    for (int i = 0; i < 3; i++) {
      l[i] = make[k] ? make[k](6) : lathe_nn_conv1d(6, 3, LATHE_NN_ACT_RELU);
      l[i]->in = in_shape;
      g_assert_true(lathe_nn_layer_alloc(l[i], 1, NULL));
      LatheRng rng;
      lathe_rng_init(&rng, i == 2 ? 78 : 77);
      l[i]->ops->init(l[i], &rng);
    }
    gsize np = l[0]->n_params;
    g_assert_cmpmem(l[0]->w, np * sizeof(nn_real), l[1]->w, np * sizeof(nn_real));
    g_assert_true(memcmp(l[0]->w, l[2]->w, np * sizeof(nn_real)) != 0);
    /* Weights within the Glorot bound of the input matrix (and non-zero). */
    guint fan_in = make[k] ? CH : 3 * CH;
    guint fan_out = make[k] == lathe_nn_lstm ? 24 : make[k] ? 6 : 18;
    double bound = sqrt(6.0 / (fan_in + fan_out)), biggest = 0;
    for (gsize i = 0; i < (gsize)fan_in * (make[k] == lathe_nn_lstm ? 24 : 6); i++)
      biggest = MAX(biggest, fabs(l[0]->w[i]));
    g_assert_cmpfloat(biggest, <=, bound);
    g_assert_cmpfloat(biggest, >, bound / 4);
    if (make[k]) {
      /* Recurrent weights: orthonormal rows. */
      guint cols = make[k] == lathe_nn_lstm ? 24 : 6;
      const nn_real *R = l[0]->w + (gsize)CH * cols;
      for (guint i = 0; i < 6; i++)
        for (guint j = 0; j < 6; j++) {
          double dot = 0;
          for (guint q = 0; q < cols; q++)
            dot += R[i * cols + q] * R[j * cols + q];
          g_assert_cmpfloat(fabs(dot - (i == j)), <, 1e-12);
        }
    }
    for (int i = 0; i < 3; i++)
      lathe_nn_layer_free(l[i]);
  }
}

/* ---- setup errors ---- */

static void expect_setup_error(LatheNnLayer *l, LatheNnShape in, const char *needle) {
  l->in = in;
  g_autoptr(GError) error = NULL;
  g_assert_false(lathe_nn_layer_alloc(l, 2, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, needle));
  g_assert_null(strchr(error->message, '\n'));
  lathe_nn_layer_free(l);
}

static void test_setup_errors(void) {
  expect_setup_error(lathe_nn_maxpool(0), in_shape, "pool is 0");
  expect_setup_error(lathe_nn_maxpool(8), in_shape, "pool 8 is longer than the 7 steps");
  expect_setup_error(lathe_nn_conv1d(0, 3, LATHE_NN_ACT_RELU), in_shape, "filters (0)");
  expect_setup_error(lathe_nn_conv1d(4, 0, LATHE_NN_ACT_RELU), in_shape, "kernel (0)");
  expect_setup_error(lathe_nn_conv1d(4, 3, (LatheNnActivation)9), in_shape, "activation");
  expect_setup_error(lathe_nn_rnn(0), in_shape, "units");
  expect_setup_error(lathe_nn_lstm(0), in_shape, "units");
  expect_setup_error(lathe_nn_pool((LatheNnPooling)7), in_shape, "pooling");
  expect_setup_error(lathe_nn_lstm(4), (LatheNnShape){0, 3}, "empty");
  expect_setup_error(lathe_nn_conv1d(4, 3, LATHE_NN_ACT_NONE), (LatheNnShape){5, 0}, "empty");
  expect_setup_error(lathe_nn_rnn(4), (LatheNnShape){1u << 20, 1u << 10}, "too large");
  /* A pool as long as the sequence is fine: one window. */
  LatheNnLayer *ok = lathe_nn_maxpool(7);
  ok->in = in_shape;
  g_assert_true(lathe_nn_layer_alloc(ok, 2, NULL));
  g_assert_cmpuint(ok->out.steps, ==, 1);
  lathe_nn_layer_free(ok);
}

/* ---- the float32 tanh ---- */

static void test_tanhf(void) {
  /* The float build's tanh (and, through it, its sigmoid): within 5e-7 of
   * tanh everywhere, never beyond +-1, odd, NaN stays NaN. */
  double worst = 0;
  for (int i = -200000; i <= 200000; i++) {
    float x = (float)i * 6e-5f;
    double y = lathe_nn_tanhf(x);
    worst = MAX(worst, fabs(y - tanh((double)x)));
    g_assert_cmpfloat(fabs(y), <=, 1.0);
    g_assert_cmpfloat(lathe_nn_tanhf(-x), ==, -lathe_nn_tanhf(x));
  }
  static const float big[] = {8.0f, 20.0f, 1e30f, INFINITY};
  for (guint i = 0; i < G_N_ELEMENTS(big); i++) {
    worst = MAX(worst, fabs(lathe_nn_tanhf(big[i]) - 1.0));
    worst = MAX(worst, fabs(lathe_nn_tanhf(-big[i]) + 1.0));
  }
  g_assert_cmpfloat(lathe_nn_tanhf(1e-30f), ==, 1e-30f);
  g_assert_true(isnan(lathe_nn_tanhf(NAN)));
  g_test_message("float tanh: worst absolute error %.3g", worst);
  g_assert_cmpfloat(worst, <, 5e-7);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nn-seq/checker", test_checker_detects_errors);
  g_test_add_func("/nn-seq/conv1d/reference", test_conv_reference);
  g_test_add_func("/nn-seq/conv1d/gradients", test_conv_grad);
  g_test_add_func("/nn-seq/conv1d/paths-agree", test_conv_paths_agree);
  g_test_add_func("/nn-seq/maxpool", test_maxpool);
  g_test_add_func("/nn-seq/pool", test_pool);
  g_test_add_func("/nn-seq/rnn", test_rnn);
  g_test_add_func("/nn-seq/lstm", test_lstm);
  g_test_add_func("/nn-seq/cnn-stack", test_cnn_stack);
  g_test_add_func("/nn-seq/padding", test_padding);
  g_test_add_func("/nn-seq/init", test_init_deterministic);
  g_test_add_func("/nn-seq/setup-errors", test_setup_errors);
  g_test_add_func("/nn-seq/tanhf", test_tanhf);
  return g_test_run();
}
