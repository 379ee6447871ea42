/* nn-kernels: micro-benchmark of the sequence layers of the neural engine
 * (float32), forward + backward at the shapes of the model benchmarks:
 *   conv1d alone: im2col + GEMM against the direct kernel, the im2col chunk
 *     size, and where the direct kernel stops paying (kernel x channels);
 *   the CNN, RNN and LSTM layer stacks of bench/nn, timed per training epoch
 *     next to PyTorch 1.13's (2 threads, this machine).
 * The stacks stop at the sequence pooling: the dense head, the loss and Adam
 * are the engine's other layers, negligible at these sizes.
 *
 * Usage: nn-kernels [--quick] [conv|cnn|rnn|lstm|lstm-win]
 *   (threads: OPENBLAS_NUM_THREADS, default all cores)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <lathe/lathe-rng.h>

#include "layer-conv1d-internal.h"
#include "nn-layer.h"

#define MAX_LAYERS 8

static gboolean quick;

typedef struct {
  guint nl, max_batch;
  LatheNnShape in;
  LatheNnLayer *l[MAX_LAYERS];
  nn_real *out[MAX_LAYERS];
  guint32 *len[MAX_LAYERS];
  nn_real *d[2]; /* gradients ping-pong between these */
  nn_real *x;
  guint32 *xlen;
} Stack;

static gsize shape_size(LatheNnShape s) { return (gsize)s.steps * s.channels; }

static Stack *stack_new(LatheNnShape in, guint max_batch, guint nl, LatheNnLayer **layers) {
  Stack *s = g_new0(Stack, 1);
  s->nl = nl;
  s->max_batch = max_batch;
  s->in = in;
  LatheRng rng;
  lathe_rng_init(&rng, 42);
  LatheNnShape shape = in;
  gsize widest = shape_size(in);
  for (guint i = 0; i < nl; i++) {
    LatheNnLayer *l = layers[i];
    l->in = shape;
    GError *error = NULL;
    if (!lathe_nn_layer_alloc(l, max_batch, &error)) {
      fprintf(stderr, "nn-kernels: %s\n", error->message);
      exit(1);
    }
    l->ops->init(l, &rng);
    s->l[i] = l;
    shape = l->out;
    widest = MAX(widest, shape_size(shape));
    s->out[i] = g_new0(nn_real, max_batch * shape_size(shape));
    s->len[i] = g_new0(guint32, max_batch);
  }
  s->d[0] = g_new0(nn_real, widest * max_batch);
  s->d[1] = g_new0(nn_real, widest * max_batch);
  s->x = g_new(nn_real, shape_size(in) * max_batch);
  s->xlen = g_new(guint32, max_batch);
  for (gsize i = 0; i < shape_size(in) * max_batch; i++)
    s->x[i] = (nn_real)(2 * lathe_rng_uniform(&rng) - 1);
  for (guint i = 0; i < max_batch; i++)
    s->xlen[i] = in.steps;
  return s;
}

static void stack_free(Stack *s) {
  for (guint i = 0; i < s->nl; i++) {
    lathe_nn_layer_free(s->l[i]);
    g_free(s->out[i]);
    g_free(s->len[i]);
  }
  g_free(s->d[0]);
  g_free(s->d[1]);
  g_free(s->x);
  g_free(s->xlen);
  g_free(s);
}

static void stack_forward(Stack *s, guint n) {
  LatheNnPass p = {.n = n, .train = TRUE, .rng = NULL};
  const nn_real *in = s->x;
  const guint32 *len = s->xlen;
  for (guint i = 0; i < s->nl; i++) {
    s->l[i]->ops->forward(s->l[i], &p, in, len, s->out[i], s->len[i]);
    in = s->out[i];
    len = s->len[i];
  }
}

/* A training step's layer work: forward, then backward from a gradient of
 * ones (the first layer gets no input gradient, as in the net). */
static void stack_step(Stack *s, guint n) {
  stack_forward(s, n);
  LatheNnPass p = {.n = n, .train = TRUE, .rng = NULL};
  int which = 0;
  gsize top = n * shape_size(s->l[s->nl - 1]->out);
  for (gsize i = 0; i < top; i++)
    s->d[0][i] = (nn_real)1e-3;
  for (guint i = s->nl; i-- > 0;) {
    const nn_real *in = i == 0 ? s->x : s->out[i - 1];
    const guint32 *len = i == 0 ? s->xlen : s->len[i - 1];
    nn_real *din = i == 0 ? NULL : s->d[1 - which];
    s->l[i]->ops->backward(s->l[i], &p, in, len, s->out[i], s->len[i], s->d[which], din);
    which = 1 - which;
  }
}

static double now(void) { return (double)g_get_monotonic_time() / 1e6; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Timings: the best wall and CPU (the process's, all threads) seconds of
 * one call over the runs. On a loaded machine the wall time mostly measures the others;
 * with one BLAS thread the CPU time is what the wall time would be alone. */
typedef struct {
  double wall, cpu;
} Timing;

static Timing timeit2(void (*fn)(Stack *, guint), Stack *s, guint n, int reps) {
  if (quick)
    reps = MIN(reps, 2);
  fn(s, n);
  double t[32], c[32];
  reps = CLAMP(reps, 1, 32);
  for (int r = 0; r < reps; r++) {
    double t0 = now(), c0 = cpu_now();
    fn(s, n);
    t[r] = now() - t0;
    c[r] = cpu_now() - c0;
  }
  /* The best run: on a shared machine the others only ever add time. */
  qsort(t, (size_t)reps, sizeof(double), cmp_double);
  qsort(c, (size_t)reps, sizeof(double), cmp_double);
  return (Timing){t[0], c[0]};
}

/* Milliseconds: CPU with one BLAS thread (the load-proof figure), wall
 * otherwise. */
static gboolean one_thread;

static double timeit(void (*fn)(Stack *, guint), Stack *s, guint n, int reps) {
  Timing t = timeit2(fn, s, n, reps);
  return one_thread ? t.cpu : t.wall;
}

static Stack *conv_stack(guint steps, guint channels, guint filters, LatheNnConvPath path,
                         guint chunk, guint batch) {
  LatheNnLayer *l = lathe_nn_conv1d(filters, 3, LATHE_NN_ACT_RELU);
  lathe_nn_conv1d_set_path(l, path);
  lathe_nn_conv1d_set_chunk_rows(l, chunk);
  return stack_new((LatheNnShape){steps, channels}, batch, 1, &l);
}

/* conv1d alone; the first layer of a model gets no input gradient, the
 * others do, so time backward with din when channels > 1 (what the CNN
 * needs). */
static void conv_one(Stack *s, guint n) {
  LatheNnLayer *l = s->l[0];
  LatheNnPass p = {.n = n, .train = TRUE, .rng = NULL};
  l->ops->forward(l, &p, s->x, s->xlen, s->out[0], s->len[0]);
  gsize no = n * shape_size(l->out);
  for (gsize i = 0; i < no; i++)
    s->d[0][i] = (nn_real)1e-3;
  l->ops->backward(l, &p, s->x, s->xlen, s->out[0], s->len[0], s->d[0],
                   l->in.channels > 1 ? s->d[1] : NULL);
}

static void conv_fwd(Stack *s, guint n) {
  LatheNnPass p = {.n = n, .train = TRUE, .rng = NULL};
  s->l[0]->ops->forward(s->l[0], &p, s->x, s->xlen, s->out[0], s->len[0]);
}

static const char *path_name(LatheNnConvPath p) {
  return p == LATHE_NN_CONV_DIRECT ? "direct" : p == LATHE_NN_CONV_WINOGRAD ? "winograd" : "im2col";
}

static void bench_conv(void) {
  static const LatheNnConvPath paths[] = {LATHE_NN_CONV_IM2COL, LATHE_NN_CONV_WINOGRAD,
                                          LATHE_NN_CONV_DIRECT};
  printf("\n== conv1d kernel 3, 128 filters, relu, batch 64: forward / forward+backward (ms)\n");
  printf("%-22s %19s %19s %19s   auto\n", "input", "im2col", "winograd", "direct");
  static const guint shapes[][2] = {{1931, 1}, {966, 128}, {483, 128}};
  for (guint i = 0; i < G_N_ELEMENTS(shapes); i++) {
    char name[64];
    g_snprintf(name, sizeof name, "%u steps x %u ch", shapes[i][0], shapes[i][1]);
    printf("%-22s", name);
    LatheNnConvPath chosen = LATHE_NN_CONV_AUTO;
    for (guint k = 0; k < G_N_ELEMENTS(paths); k++) {
      Stack *s = conv_stack(shapes[i][0], shapes[i][1], 128, paths[k], 0, 64);
      /* The direct kernel on 128 channels takes seconds: once is enough. */
      int reps = paths[k] == LATHE_NN_CONV_DIRECT && shapes[i][1] > 8 ? 1 : 5;
      double f = timeit(conv_fwd, s, 64, reps) * 1e3, fb = timeit(conv_one, s, 64, reps) * 1e3;
      printf(" %8.1f / %8.1f", f, fb);
      stack_free(s);
    }
    Stack *s = conv_stack(shapes[i][0], shapes[i][1], 128, LATHE_NN_CONV_AUTO, 0, 1);
    chosen = lathe_nn_conv1d_chosen_path(s->l[0]);
    stack_free(s);
    printf("   %s\n", path_name(chosen));
  }

  /* What Winograd costs in float32 accuracy: its outputs against im2col's. */
  {
    Stack *a = conv_stack(966, 128, 128, LATHE_NN_CONV_IM2COL, 0, 8);
    Stack *b = conv_stack(966, 128, 128, LATHE_NN_CONV_WINOGRAD, 0, 8);
    memcpy(b->x, a->x, sizeof(nn_real) * 8 * shape_size(a->in));
    memcpy(b->l[0]->w, a->l[0]->w, sizeof(nn_real) * a->l[0]->n_params);
    conv_fwd(a, 8);
    conv_fwd(b, 8);
    double diff = 0, size = 0;
    for (gsize i = 0; i < 8 * shape_size(a->l[0]->out); i++) {
      diff = MAX(diff, fabs((double)a->out[0][i] - b->out[0][i]));
      size = MAX(size, fabs((double)a->out[0][i]));
    }
    printf("winograd vs im2col outputs (966 x 128, float32): max difference %.2g "
           "(largest output %.2g)\n",
           diff, size);
    stack_free(a);
    stack_free(b);
  }

  printf("\n== conv1d kernel x channels: which kernel, 1931 steps, 128 filters, batch 64, "
         "f+b (ms)\n");
  printf("%-8s %-6s %10s %10s %10s   auto\n", "kernel", "ch", "im2col", "winograd", "direct");
  static const guint kc[][2] = {{3, 1},  {3, 2},  {3, 3}, {3, 4}, {3, 8}, {3, 16},
                                {3, 32}, {3, 64}, {5, 1}, {5, 2}, {7, 1}, {7, 2}};
  for (guint i = 0; i < G_N_ELEMENTS(kc); i++) {
    printf("%-8u %-6u", kc[i][0], kc[i][1]);
    for (guint k = 0; k < G_N_ELEMENTS(paths); k++) {
      if ((paths[k] == LATHE_NN_CONV_DIRECT && kc[i][1] > 16) ||
          (paths[k] == LATHE_NN_CONV_WINOGRAD && kc[i][0] != 3)) {
        printf(" %10s", "-");
        continue;
      }
      LatheNnLayer *l = lathe_nn_conv1d(128, kc[i][0], LATHE_NN_ACT_RELU);
      lathe_nn_conv1d_set_path(l, paths[k]);
      Stack *s = stack_new((LatheNnShape){1931, kc[i][1]}, 64, 1, &l);
      printf(" %10.1f", timeit(conv_one, s, 64, 5) * 1e3);
      stack_free(s);
    }
    LatheNnLayer *l = lathe_nn_conv1d(128, kc[i][0], LATHE_NN_ACT_RELU);
    Stack *s = stack_new((LatheNnShape){1931, kc[i][1]}, 1, 1, &l);
    printf("   %s\n", path_name(lathe_nn_conv1d_chosen_path(s->l[0])));
    stack_free(s);
  }

  printf("\n== conv1d chunk size, 966 steps x 128 ch, batch 64, f+b (ms)\n");
  printf("%-8s %10s %10s\n", "chunk", "im2col", "winograd");
  printf("%-8s %10s %10s\n", "", "(rows)", "(tiles)");
  static const guint chunks[] = {256, 512, 1024, 2048, 4096, 8192, 16384};
  for (guint i = 0; i < G_N_ELEMENTS(chunks); i++) {
    printf("%-8u", chunks[i]);
    for (guint k = 0; k < 2; k++) {
      Stack *s = conv_stack(966, 128, 128, paths[k], chunks[i], 64);
      printf(" %10.1f", timeit(conv_one, s, 64, 5) * 1e3);
      stack_free(s);
    }
    printf("\n");
  }
}

/* Seconds per epoch of the layer work for @total sequences in batches of
 * @batch: full batches at the measured rate, plus the last partial one. */
static Timing epoch_time(Stack *s, guint total, guint batch, int reps) {
  guint full = total / batch, rest = total % batch;
  Timing e = {0, 0};
  if (full) {
    Timing t = timeit2(stack_step, s, batch, reps);
    e.wall += t.wall * full;
    e.cpu += t.cpu * full;
  }
  if (rest) {
    Timing t = timeit2(stack_step, s, rest, reps);
    e.wall += t.wall;
    e.cpu += t.cpu;
  }
  return e;
}

static void report(const char *name, Timing t, double torch, double goal) {
  printf("%-40s %7.3f %7.3f %6.2f  %5.2fx %5.2fx (goal <= %.1fx)\n", name, t.wall, t.cpu, torch,
         t.wall / torch, (one_thread ? t.cpu : t.wall) / torch, goal);
}

static gboolean wanted(const char *only, const char *name) {
  return !only || strcmp(only, name) == 0;
}

static void bench_models(const char *only) {
  printf("\n== model layer stacks, forward + backward, seconds per epoch; torch 1.13 (2 threads)\n"
         "   ratio = wall / torch; ratio* = cpu / torch with one BLAS thread (load-proof), else "
         "wall\n");
  printf("%-40s %7s %7s %6s  %6s %6s\n", "stack", "wall", "cpu", "torch", "ratio", "ratio*");
  if (wanted(only, "cnn")) {
    LatheNnLayer *l[] = {
        lathe_nn_conv1d(128, 3, LATHE_NN_ACT_RELU), lathe_nn_maxpool(2),
        lathe_nn_conv1d(128, 3, LATHE_NN_ACT_RELU), lathe_nn_maxpool(2),
        lathe_nn_conv1d(128, 3, LATHE_NN_ACT_RELU), lathe_nn_maxpool(2),
        lathe_nn_pool(LATHE_NN_POOL_MEAN),
    };
    Stack *s = stack_new((LatheNnShape){1931, 1}, 64, G_N_ELEMENTS(l), l);
    report("CNN [128,128,128] k3, 1931x1, 124 seqs/64", epoch_time(s, 124, 64, 5), 0.99, 0.7);
    stack_free(s);
  }
  if (wanted(only, "rnn")) {
    LatheNnLayer *l[] = {lathe_nn_rnn(128), lathe_nn_rnn(128), lathe_nn_pool(LATHE_NN_POOL_LAST)};
    Stack *s = stack_new((LatheNnShape){387, 1}, 64, G_N_ELEMENTS(l), l);
    report("RNN [128,128], 387x1, 124 seqs/64", epoch_time(s, 124, 64, 5), 2.27, 1.0);
    stack_free(s);
  }
  if (wanted(only, "lstm")) {
    LatheNnLayer *l[] = {lathe_nn_lstm(64), lathe_nn_lstm(64), lathe_nn_pool(LATHE_NN_POOL_LAST)};
    Stack *s = stack_new((LatheNnShape){387, 1}, 64, G_N_ELEMENTS(l), l);
    report("LSTM [64,64], 387x1, 124 seqs/64", epoch_time(s, 124, 64, 5), 2.83, 1.0);
    stack_free(s);
  }
  if (wanted(only, "lstm-win")) {
    LatheNnLayer *l[] = {lathe_nn_lstm(64), lathe_nn_lstm(64), lathe_nn_pool(LATHE_NN_POOL_LAST)};
    Stack *s = stack_new((LatheNnShape){10, 3}, 64, G_N_ELEMENTS(l), l);
    report("LSTM [64,64], 10x3, 114928 windows/64", epoch_time(s, 114928, 64, 21), 44.0, 1.0);
    stack_free(s);
  }
}

int main(int argc, char **argv) {
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = TRUE;
    } else if (!only && (strcmp(argv[i], "conv") == 0 || strcmp(argv[i], "cnn") == 0 ||
                         strcmp(argv[i], "rnn") == 0 || strcmp(argv[i], "lstm") == 0 ||
                         strcmp(argv[i], "lstm-win") == 0)) {
      only = argv[i];
    } else {
      fprintf(stderr, "usage: nn-kernels [--quick] [conv|cnn|rnn|lstm|lstm-win]\n");
      return 2;
    }
  }
  const char *threads = g_getenv("OPENBLAS_NUM_THREADS");
  one_thread = threads && strcmp(threads, "1") == 0;
  printf("nn-kernels: float32, OPENBLAS_NUM_THREADS=%s%s; conv tables in %s ms\n",
         threads ? threads : "(unset)", quick ? ", quick" : "", one_thread ? "CPU" : "wall");
  if (wanted(only, "conv"))
    bench_conv();
  if (!only || strcmp(only, "conv") != 0)
    bench_models(only);
  return 0;
}
