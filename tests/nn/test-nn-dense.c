/* The engine's core in the float64 build: the full net loss (softmax
 * cross-entropy with class weights) differentiated through dense relu/tanh
 * layers and dropout, against central finite differences, w.r.t. every
 * parameter and every input value; the net's buffers and errors; and Adam
 * against steps computed by hand.
 *
 * Gradient error per element: |a - n| / max(1e-6, |a|, |n|), a analytic,
 * n numeric (h = 1e-6); it must stay below 1e-4. The floor turns it into an
 * absolute bound of 1e-10 for derivatives that are (near) zero, such as
 * those of dropped units, where only rounding noise would be compared. */
#include <math.h>
#include <string.h>

#include <lathe/lathe-error.h>

#include "nn-adam.h"
#include "nn-net.h"

/* ASan's allocator aborts on absurd requests instead of failing them, so
 * the out-of-memory checks run only without it. */
#include "../common/test-asan.h"

#define N 6
#define K 3
#define FD_H 1e-6
#define GRAD_TOL 1e-4

static const LatheNnShape in_shape = {3, 2}; /* a short sequence: dense flattens it */
static const gint32 labels[N] = {0, 1, 2, 2, 1, 0};
static const guint32 lens[N] = {3, 3, 2, 3, 1, 3};

static double grad_err(double a, double num) {
  return fabs(a - num) / MAX(1e-6, MAX(fabs(a), fabs(num)));
}

static nn_real *random_array(gsize n, guint64 seed, double scale) {
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  nn_real *a = g_new(nn_real, n);
  for (gsize i = 0; i < n; i++)
    a[i] = (nn_real)((2 * lathe_rng_uniform(&rng) - 1) * scale);
  return a;
}

/* The training loss; the dropout stream is reseeded identically on every
 * call, so every evaluation draws the same mask. */
static double net_loss(LatheNnNet *net, const nn_real *x, const double *cw, nn_real *dx) {
  LatheRng rng;
  lathe_rng_init(&rng, 99);
  const LatheNnPass p = {.n = N, .train = TRUE, .rng = &rng};
  lathe_nn_net_zero_grads(net);
  return lathe_nn_net_train_step(net, &p, x, lens, labels, cw, dx);
}

static LatheNnNet *build(LatheNnLayer *const *layers, guint nl, guint64 seed) {
  LatheNnNet *net = lathe_nn_net_new(in_shape, K);
  for (guint i = 0; i < nl; i++)
    lathe_nn_net_add(net, layers[i]);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_nn_net_build(net, N, TRUE, &error));
  g_assert_no_error(error);
  LatheRng rng;
  lathe_rng_init(&rng, seed);
  lathe_nn_net_init(net, &rng);
  return net;
}

/* The worst gradient error over every parameter and input of @net. */
static double check_net(LatheNnNet *net, const double *cw, const char *what) {
  const gsize np = lathe_nn_net_n_params(net), nx = (gsize)N * 6;
  nn_real *x = random_array(nx, 7, 1.5);
  nn_real *dx = g_new0(nn_real, nx);
  net_loss(net, x, cw, dx);
  nn_real *grad = g_memdup2(lathe_nn_net_grads(net), np * sizeof(nn_real));
  nn_real *w = lathe_nn_net_params(net);
  double worst = 0, largest = 0;
  for (gsize i = 0; i < np + nx; i++) {
    nn_real *v = i < np ? &w[i] : &x[i - np];
    const double a = i < np ? grad[i] : dx[i - np];
    const nn_real keep = *v;
    *v = keep + FD_H;
    const double up = net_loss(net, x, cw, NULL);
    *v = keep - FD_H;
    const double down = net_loss(net, x, cw, NULL);
    *v = keep;
    const double num = (up - down) / (2 * FD_H), e = grad_err(a, num);
    if (e > GRAD_TOL)
      g_test_message("%s: %s %" G_GSIZE_FORMAT ": analytic %.10g numeric %.10g", what,
                     i < np ? "param" : "input", i < np ? i : i - np, a, num);
    worst = MAX(worst, e);
    largest = MAX(largest, fabs(a));
  }
  g_test_message("%s: %" G_GSIZE_FORMAT " params + %" G_GSIZE_FORMAT
                 " inputs, worst error %.3g, largest gradient %.3g",
                 what, np, nx, worst, largest);
  g_assert_cmpfloat(largest, >, 1e-3); /* a gradient of all zeros proves nothing */
  g_free(x);
  g_free(dx);
  g_free(grad);
  return worst;
}

static void test_checker(void) {
  /* The measure catches a 1% error on a normal and on a small derivative. */
  g_assert_cmpfloat(grad_err(1.01, 1.0), >, GRAD_TOL);
  g_assert_cmpfloat(grad_err(1.01e-4, 1e-4), >, GRAD_TOL);
  g_assert_cmpfloat(grad_err(1.0 + 1e-9, 1.0), <, GRAD_TOL);
}

static void test_dense_relu(void) {
  LatheNnLayer *l[] = {lathe_nn_dense(5, LATHE_NN_ACT_RELU), lathe_nn_dense(4, LATHE_NN_ACT_RELU),
                       lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 3, 1);
  g_assert_cmpuint(lathe_nn_net_n_params(net), ==, (6 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3));
  /* Non-zero biases, so that their place in the sums is checked. */
  nn_real *w = lathe_nn_net_params(net);
  for (guint j = 0; j < 5; j++)
    w[30 + j] = 0.05 * (j + 1);
  g_assert_cmpfloat(check_net(net, NULL, "dense relu"), <, GRAD_TOL);
  lathe_nn_net_free(net);
}

static void test_dense_tanh(void) {
  LatheNnLayer *l[] = {lathe_nn_dense(5, LATHE_NN_ACT_TANH), lathe_nn_dense(4, LATHE_NN_ACT_TANH),
                       lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 3, 2);
  g_assert_cmpfloat(check_net(net, NULL, "dense tanh"), <, GRAD_TOL);
  lathe_nn_net_free(net);
}

static void test_dropout(void) {
  LatheNnLayer *l[] = {lathe_nn_dense(8, LATHE_NN_ACT_RELU), lathe_nn_dropout(0.4),
                       lathe_nn_dense(6, LATHE_NN_ACT_TANH), lathe_nn_dropout(0.4),
                       lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 5, 3);
  g_assert_cmpfloat(check_net(net, NULL, "dropout"), <, GRAD_TOL);

  /* The mask really drops some values and scales the rest by 1 / (1 - p). */
  nn_real *x = random_array(N * 6, 7, 1.5);
  net_loss(net, x, NULL, NULL);
  LatheNnLayer *drop = lathe_nn_net_layer(net, 1);
  guint zeros = 0, scaled = 0;
  for (gsize i = 0; i < (gsize)N * 8; i++) {
    if (drop->cache[i] == 0)
      zeros++;
    else if (fabs(drop->cache[i] - 1 / 0.6) < 1e-12)
      scaled++;
  }
  g_assert_cmpuint(zeros + scaled, ==, N * 8);
  g_assert_cmpuint(zeros, >, 5);
  g_assert_cmpuint(scaled, >, 5);

  /* At inference dropout is the identity: the logits equal those of the
   * same weights without the dropout layers. */
  LatheNnLayer *l2[] = {lathe_nn_dense(8, LATHE_NN_ACT_RELU), lathe_nn_dense(6, LATHE_NN_ACT_TANH),
                        lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *plain = build(l2, 3, 3);
  memcpy(lathe_nn_net_params(plain), lathe_nn_net_params(net),
         lathe_nn_net_n_params(net) * sizeof(nn_real));
  const LatheNnPass p = {.n = N, .train = FALSE, .rng = NULL};
  nn_real *a = g_memdup2(lathe_nn_net_forward(net, &p, x, lens), N * K * sizeof(nn_real));
  const nn_real *b = lathe_nn_net_forward(plain, &p, x, lens);
  for (gsize i = 0; i < N * K; i++)
    g_assert_cmpfloat(a[i], ==, b[i]);
  g_free(a);
  g_free(x);
  lathe_nn_net_free(plain);
  lathe_nn_net_free(net);
}

static void test_class_weights(void) {
  const double cw[K] = {0.5, 2.0, 1.3};
  LatheNnLayer *l[] = {lathe_nn_dense(5, LATHE_NN_ACT_TANH), lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 2, 4);
  g_assert_cmpfloat(check_net(net, cw, "class weights"), <, GRAD_TOL);

  /* The loss is the mean over the batch of weight x cross-entropy, checked
   * against the probabilities evaluate returns. */
  nn_real *x = random_array(N * 6, 8, 1.0);
  float probs[N * K];
  guint correct = 0;
  const double summed = lathe_nn_net_evaluate(net, N, x, lens, labels, cw, probs, &correct);
  double want = 0;
  guint want_correct = 0;
  for (guint r = 0; r < N; r++) {
    double sum = 0;
    guint best = 0;
    for (guint j = 0; j < K; j++) {
      sum += probs[r * K + j];
      if (probs[r * K + j] > probs[r * K + best])
        best = j;
    }
    g_assert_cmpfloat(fabs(sum - 1), <, 1e-6);
    want += cw[labels[r]] * -log(probs[r * K + labels[r]]);
    want_correct += best == (guint)labels[r];
  }
  g_assert_cmpfloat(fabs(summed - want), <, 1e-5 * want);
  g_assert_cmpuint(correct, ==, want_correct);
  g_assert_cmpfloat(fabs(net_loss(net, x, cw, NULL) - want / N), <, 1e-5 * want);
  g_free(x);
  lathe_nn_net_free(net);
}

/* A smaller batch than the net's maximum uses only its own rows. */
static void test_partial_batch(void) {
  LatheNnLayer *l[] = {lathe_nn_dense(4, LATHE_NN_ACT_RELU), lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 2, 5);
  nn_real *x = random_array(N * 6, 9, 1.0);
  const LatheNnPass full = {.n = N, .train = FALSE}, part = {.n = 2, .train = FALSE};
  nn_real *a = g_memdup2(lathe_nn_net_forward(net, &full, x, lens), N * K * sizeof(nn_real));
  const nn_real *b = lathe_nn_net_forward(net, &part, x, lens);
  for (gsize i = 0; i < 2 * K; i++)
    g_assert_cmpfloat(a[i], ==, b[i]);
  g_free(a);
  g_free(x);
  lathe_nn_net_free(net);
}

static void test_init(void) {
  /* He-uniform bound sqrt(6 / fan_in) for relu, Glorot sqrt(6 / (in + out))
   * otherwise; biases zero. */
  LatheNnLayer *l[] = {lathe_nn_dense(50, LATHE_NN_ACT_RELU), lathe_nn_dense(40, LATHE_NN_ACT_TANH),
                       lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *net = build(l, 3, 6);
  const nn_real *w = lathe_nn_net_params(net);
  const double he = sqrt(6.0 / 6), glorot = sqrt(6.0 / (50 + 40));
  double big0 = 0, big1 = 0;
  for (gsize i = 0; i < 6 * 50; i++)
    big0 = MAX(big0, fabs(w[i]));
  for (gsize i = 0; i < 50; i++)
    g_assert_cmpfloat(w[300 + i], ==, 0);
  for (gsize i = 0; i < 50 * 40; i++)
    big1 = MAX(big1, fabs(w[350 + i]));
  g_assert_cmpfloat(big0, <=, he);
  g_assert_cmpfloat(big0, >, 0.9 * he);
  g_assert_cmpfloat(big1, <=, glorot);
  g_assert_cmpfloat(big1, >, 0.9 * glorot);
  /* The same seed gives the same weights. */
  LatheNnLayer *l2[] = {lathe_nn_dense(50, LATHE_NN_ACT_RELU),
                        lathe_nn_dense(40, LATHE_NN_ACT_TANH),
                        lathe_nn_dense(K, LATHE_NN_ACT_NONE)};
  LatheNnNet *again = build(l2, 3, 6);
  g_assert_cmpmem(w, lathe_nn_net_n_params(net) * sizeof(nn_real), lathe_nn_net_params(again),
                  lathe_nn_net_n_params(again) * sizeof(nn_real));
  lathe_nn_net_free(again);
  lathe_nn_net_free(net);
}

static void expect_build_error(LatheNnNet *net, guint max_batch, const char *needle) {
  g_autoptr(GError) error = NULL;
  g_assert_false(lathe_nn_net_build(net, max_batch, TRUE, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, needle));
  g_assert_null(strchr(error->message, '\n'));
  lathe_nn_net_free(net);
}

static void test_errors(void) {
  LatheNnNet *net = lathe_nn_net_new(in_shape, K);
  lathe_nn_net_add(net, lathe_nn_dense(4, LATHE_NN_ACT_RELU));
  expect_build_error(net, 4, "not the 3 class logits");

  net = lathe_nn_net_new(in_shape, K);
  lathe_nn_net_add(net, lathe_nn_dense(0, LATHE_NN_ACT_RELU));
  lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
  expect_build_error(net, 4, "layer 1 (dense)");

  net = lathe_nn_net_new(in_shape, K);
  lathe_nn_net_add(net, lathe_nn_dropout(1.0));
  lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
  expect_build_error(net, 4, "layer 1 (dropout)");

  net = lathe_nn_net_new((LatheNnShape){0, 4}, K);
  lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
  expect_build_error(net, 4, "input shape");

#ifndef UNDER_ASAN
  /* Too large for memory: an error, not an abort. (ASan's allocator aborts
   * on such requests by default, so this part runs only without it.) */
  net = lathe_nn_net_new((LatheNnShape){1, 1u << 20}, K);
  lathe_nn_net_add(net, lathe_nn_dense(1u << 24, LATHE_NN_ACT_RELU));
  lathe_nn_net_add(net, lathe_nn_dense(K, LATHE_NN_ACT_NONE));
  expect_build_error(net, 4, "cannot be allocated");
#endif
}

/* Adam, step by step, against the textbook formulas written out here
 * (m_hat / (sqrt(v_hat) + eps)) and literal values for the first step. */
static void test_adam(void) {
  nn_real w[3] = {1.0, -2.0, 0.5}, g[3] = {0.1, -0.3, 0.0}, m[3] = {0}, v[3] = {0};
  LatheNnAdam adam;
  lathe_nn_adam_init(&adam, 0.01, 0.9, 0.999, 1e-8, 0.1);
  lathe_nn_adam_step(&adam, w, g, m, v, 3);
  /* Step 1: m_hat = g', v_hat = g'^2 with g' = g + 0.1 w, so each weight
   * moves by lr * g' / (|g'| + eps). */
  g_assert_cmpfloat(fabs(w[0] - (1.0 - 0.01 * 0.2 / (0.2 + 1e-8))), <, 1e-15);
  g_assert_cmpfloat(fabs(w[1] - (-2.0 + 0.01 * 0.5 / (0.5 + 1e-8))), <, 1e-15);
  g_assert_cmpfloat(fabs(w[2] - (0.5 - 0.01 * 0.05 / (0.05 + 1e-8))), <, 1e-15);
  g_assert_cmpfloat(fabs(w[0] - 0.9900000005), <, 1e-12);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat(g[i], ==, 0.0); /* the gradient is consumed */

  /* Step 2 by the textbook, from the state after step 1. */
  double ew[3], em[3], ev[3];
  const double g2[3] = {-0.05, 0.2, 0.01};
  for (int i = 0; i < 3; i++) {
    ew[i] = w[i];
    em[i] = m[i];
    ev[i] = v[i];
    g[i] = g2[i];
  }
  lathe_nn_adam_step(&adam, w, g, m, v, 3);
  for (int i = 0; i < 3; i++) {
    const double gi = g2[i] + 0.1 * ew[i];
    em[i] = 0.9 * em[i] + 0.1 * gi;
    ev[i] = 0.999 * ev[i] + 0.001 * gi * gi;
    const double mh = em[i] / (1 - 0.9 * 0.9), vh = ev[i] / (1 - 0.999 * 0.999);
    ew[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
    g_assert_cmpfloat(fabs(m[i] - em[i]), <, 1e-15);
    g_assert_cmpfloat(fabs(v[i] - ev[i]), <, 1e-15);
    g_assert_cmpfloat(fabs(w[i] - ew[i]), <, 1e-12);
  }
  g_assert_cmpuint(adam.t, ==, 2);
}

/* An allocation the machine could hold failed for want of memory now (a
 * study reruns the trial); one larger than the machine is a param error. */
static void test_alloc_error(void) {
  g_assert_cmpint(lathe_nn_alloc_error(1 << 20), ==, LATHE_ERROR_RESOURCE);
  g_assert_cmpint(lathe_nn_alloc_error(1e30), ==, LATHE_ERROR_INVALID);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nn-dense/alloc-error", test_alloc_error);
  g_test_add_func("/nn-dense/checker", test_checker);
  g_test_add_func("/nn-dense/relu", test_dense_relu);
  g_test_add_func("/nn-dense/tanh", test_dense_tanh);
  g_test_add_func("/nn-dense/dropout", test_dropout);
  g_test_add_func("/nn-dense/class-weights", test_class_weights);
  g_test_add_func("/nn-dense/partial-batch", test_partial_batch);
  g_test_add_func("/nn-dense/init", test_init);
  g_test_add_func("/nn-dense/errors", test_errors);
  g_test_add_func("/nn-dense/adam", test_adam);
  return g_test_run();
}
