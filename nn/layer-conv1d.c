/* layer-conv1d.c: 1-D convolution over steps, stride 1, "same" zero padding,
 * with a fused activation.
 *
 * Weights: W as a (kernel * in_channels) x filters matrix, row j * C + c being
 * kernel tap j on input channel c, then the filters biases. Output step t
 * sees input steps t - pad .. t - pad + kernel - 1 with pad = (kernel - 1) / 2
 * (for an even kernel the extra tap is on the right).
 *
 * Steps at or past a sample's valid length read as zeros, exactly like the
 * padding before step 0: a padded sample then gives the same valid outputs as
 * the unpadded one, whatever the padding holds. len_out = len_in.
 *
 * Three kernels compute the same thing:
 * - im2col: the windows of a chunk of rows (one row = one sample step) are
 *   copied side by side (for step-major data each window is one contiguous
 *   span of the input) and multiplied by W in one GEMM; backward does the
 *   weight gradient and the input gradient as one GEMM each per chunk, plus
 *   col2im. The im2col buffer lives in scratch, in chunks of rows so that
 *   it stays small whatever the batch.
 * - Winograd F(4, 3) for kernel 3: the same GEMM structure on tiles of 4
 *   output steps, with half the multiplications (see the section below).
 * - direct: plain loops, for a tiny kernel x channels (the first layer on a
 *   univariate series, 3 x 1), where a GEMM with an inner dimension of 3
 *   spends its time packing.
 * The choice is a fixed rule on the shape (lathe_nn_conv1d_chosen_path()),
 * never a timing, so results do not depend on the run.
 */
#include "layer-conv1d-internal.h"
#include "layer-seq-internal.h"

/* The rule, from bench/nn-kernels.c (1931 steps, 128 filters, batch 64,
 * forward + backward, float32, one BLAS thread, best of 5 on a shared
 * machine, so +-30%): the direct kernel beats the GEMMs only while kernel x
 * channels is at most 3 (kernel 3 on 1 channel: 28 ms against 45 ms; on 2
 * channels 73 ms against 43 ms for Winograd; kernel 5 or 7 on 1 channel: 66
 * and 44 ms against 53 and 36 ms for im2col). For kernel 3 Winograd matches
 * or beats im2col from 2 channels on and cuts the big layers by a third (966
 * steps x 128 channels: 147 against 223 ms), so every other kernel-3 layer
 * takes it. */
#define CONV_DIRECT_MAX_KC 3
/* Rows (im2col) or tiles (Winograd) of scratch each sample contributes:
 * bounds the scratch to max_batch times this many rows or tiles. */
#define CONV_SEG_ROWS 256
#define CONV_SEG_TILES 64
/* Rows or tiles one GEMM covers by default: big enough that OpenBLAS reaches
 * its full rate, small enough that the chunk it reads is still in cache right
 * after we wrote it (on 966 steps x 128 channels im2col is flat from 256 to
 * 1024 rows, Winograd best at 256 to 512 tiles, both slower beyond). */
#define CONV_CHUNK_ROWS 1024
#define CONV_CHUNK_TILES 512
/* Winograd F(WINO_M, 3): output steps per tile, and inputs (= products). */
#define WINO_M 4
#define WINO_A 6

typedef struct {
  LatheNnConvPath path;
  guint chunk_rows;
  /* Winograd (kernel 3), sized by setup so that forward and backward
   * allocate nothing: the transformed weights and their gradient (6 x C x F
   * each), a row of zeros to read for padding and 6 rows to write it to. */
  nn_real *u, *du, *zero, *sink;
} ConvPriv;

static const ConvPriv *priv_of(const LatheNnLayer *l) { return l->priv; }

static gboolean conv_setup(LatheNnLayer *l, GError **error) {
  if (!lathe_nn_seq_check_in(l, error))
    return FALSE;
  if (l->units == 0 || l->kernel == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "conv1d layer: filters (%u) and kernel (%u) must both be at least 1", l->units,
                l->kernel);
    return FALSE;
  }
  if (l->act != LATHE_NN_ACT_NONE && l->act != LATHE_NN_ACT_RELU && l->act != LATHE_NN_ACT_TANH) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "conv1d layer: unknown activation %d; use none, relu or tanh", (int)l->act);
    return FALSE;
  }
  gsize kc = (gsize)l->kernel * l->in.channels;
  if (kc > LATHE_NN_SEQ_MAX_SIZE / 16 || (gsize)l->units * l->in.steps > LATHE_NN_SEQ_MAX_SIZE ||
      kc * l->units > LATHE_NN_SEQ_MAX_SIZE) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "conv1d layer: %u filters x kernel %u on %u steps x %u channels is too large; "
                "use fewer filters or a smaller kernel",
                l->units, l->kernel, l->in.steps, l->in.channels);
    return FALSE;
  }
  l->out.steps = l->in.steps;
  l->out.channels = l->units;
  l->n_params = kc * l->units + l->units;
  l->cache_per_sample = 0; /* backward recomputes its input transform */
  l->scratch_per_sample = (gsize)MIN(l->in.steps, CONV_SEG_ROWS) * kc;
  ConvPriv *pv = l->priv;
  g_clear_pointer(&pv->u, g_free);
  pv->du = pv->zero = pv->sink = NULL;
  if (l->kernel == 3) {
    gsize tiles = MIN((l->in.steps + WINO_M - 1) / WINO_M, CONV_SEG_TILES);
    l->scratch_per_sample =
        MAX(l->scratch_per_sample, tiles * WINO_A * ((gsize)l->in.channels + l->units));
    gsize ucf = (gsize)WINO_A * l->in.channels * l->units;
    gsize row = MAX(l->in.channels, l->units);
    pv->u = g_try_new0(nn_real, 2 * ucf + (1 + WINO_A) * row);
    if (!pv->u) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "conv1d layer: no memory for the transformed weights of %u filters x %u "
                  "channels; use fewer filters",
                  l->units, l->in.channels);
      return FALSE;
    }
    pv->du = pv->u + ucf;
    pv->zero = pv->du + ucf;
    pv->sink = pv->zero + row;
  }
  return TRUE;
}

static void conv_init(LatheNnLayer *l, LatheRng *rng) {
  gsize kc = (gsize)l->kernel * l->in.channels;
  /* Keras/PyTorch fans for a convolution: taps x channels in, taps x filters out. */
  lathe_nn_seq_glorot(l->w, kc * l->units, (double)kc, (double)l->kernel * l->units, rng);
  memset(l->w + kc * l->units, 0, sizeof(nn_real) * l->units);
}

LatheNnConvPath lathe_nn_conv1d_chosen_path(const LatheNnLayer *l) {
  const ConvPriv *pv = priv_of(l);
  if (pv->path != LATHE_NN_CONV_AUTO)
    return pv->path;
  if ((gsize)l->kernel * l->in.channels <= CONV_DIRECT_MAX_KC)
    return LATHE_NN_CONV_DIRECT;
  if (l->kernel == 3)
    return LATHE_NN_CONV_WINOGRAD;
  return LATHE_NN_CONV_IM2COL;
}

/* The window of output step t: input steps [lo, lo + kernel), of which
 * [a, b) are inside the sample's valid steps (a >= b: none). */
typedef struct {
  gint64 lo, a, b;
} Window;

static inline Window window_of(guint t, guint pad, guint kernel, guint len) {
  Window w;
  w.lo = (gint64)t - pad;
  w.a = MAX(w.lo, 0);
  w.b = MIN(w.lo + (gint64)kernel, (gint64)len);
  return w;
}

/* The activation over count values, in place. */
static void act_rows(nn_real *o, gsize count, LatheNnActivation act) {
  if (act == LATHE_NN_ACT_RELU) {
    for (gsize i = 0; i < count; i++) /* a NaN stays NaN */
      o[i] = o[i] < 0 ? 0 : o[i];
  } else if (act == LATHE_NN_ACT_TANH) {
    for (gsize i = 0; i < count; i++)
      o[i] = NN_TANH(o[i]);
  }
}

/* Bias plus activation over rows x f values, in place. */
static void bias_act(nn_real *o, gsize rows, guint f, const nn_real *bias, LatheNnActivation act) {
  for (gsize r = 0; r < rows; r++, o += f) {
    for (guint j = 0; j < f; j++)
      o[j] += bias[j];
    act_rows(o, f, act);
  }
}

/* dout *= act'(z), written in terms of the output. */
static void act_backward(nn_real *d, const nn_real *out, gsize count, LatheNnActivation act) {
  if (act == LATHE_NN_ACT_RELU) {
    for (gsize i = 0; i < count; i++)
      d[i] = out[i] > 0 ? d[i] : 0;
  } else if (act == LATHE_NN_ACT_TANH) {
    for (gsize i = 0; i < count; i++)
      d[i] *= 1 - out[i] * out[i];
  }
}

/* Rows [r0, r1) of the im2col matrix, into col (row stride kernel * C). */
static void im2col(const LatheNnLayer *l, const nn_real *in, const guint32 *len_in, gsize r0,
                   gsize r1, nn_real *col) {
  guint T = l->in.steps, C = l->in.channels, K = l->kernel, pad = (K - 1) / 2;
  gsize kc = (gsize)K * C;
  guint s = (guint)(r0 / T), t = (guint)(r0 % T);
  guint len = lathe_nn_seq_len(len_in[s], T);
  for (gsize r = r0; r < r1; r++) {
    nn_real *dst = col + (r - r0) * kc;
    Window w = window_of(t, pad, K, len);
    if (w.b <= w.a) {
      memset(dst, 0, sizeof(nn_real) * kc);
    } else {
      gsize before = (gsize)(w.a - w.lo) * C, span = (gsize)(w.b - w.a) * C;
      memset(dst, 0, sizeof(nn_real) * before);
      memcpy(dst + before, in + ((gsize)s * T + (gsize)w.a) * C, sizeof(nn_real) * span);
      memset(dst + before + span, 0, sizeof(nn_real) * (kc - before - span));
    }
    if (++t == T && r + 1 < r1) {
      t = 0;
      s++;
      len = lathe_nn_seq_len(len_in[s], T);
    }
  }
}

/* din += col2im(dcol) for rows [r0, r1); taps on padding are dropped. */
static void col2im(const LatheNnLayer *l, const nn_real *dcol, const guint32 *len_in, gsize r0,
                   gsize r1, nn_real *din) {
  guint T = l->in.steps, C = l->in.channels, K = l->kernel, pad = (K - 1) / 2;
  gsize kc = (gsize)K * C;
  guint s = (guint)(r0 / T), t = (guint)(r0 % T);
  guint len = lathe_nn_seq_len(len_in[s], T);
  for (gsize r = r0; r < r1; r++) {
    Window w = window_of(t, pad, K, len);
    if (w.b > w.a) {
      const nn_real *src = dcol + (r - r0) * kc + (gsize)(w.a - w.lo) * C;
      nn_real *dst = din + ((gsize)s * T + (gsize)w.a) * C;
      gsize span = (gsize)(w.b - w.a) * C;
      for (gsize i = 0; i < span; i++)
        dst[i] += src[i];
    }
    if (++t == T && r + 1 < r1) {
      t = 0;
      s++;
      len = lathe_nn_seq_len(len_in[s], T);
    }
  }
}

/* Rows one im2col GEMM may cover for a batch of n within the scratch. */
static gsize chunk_rows(const LatheNnLayer *l, guint n) {
  gsize cap = (gsize)n * MIN(l->in.steps, CONV_SEG_ROWS);
  gsize want = priv_of(l)->chunk_rows ? priv_of(l)->chunk_rows : CONV_CHUNK_ROWS;
  return MAX(MIN(cap, want), 1);
}

static void forward_im2col(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                           nn_real *out) {
  guint F = l->units;
  gsize kc = (gsize)l->kernel * l->in.channels, rows = (gsize)n * l->in.steps;
  gsize chunk = chunk_rows(l, n);
  const nn_real *bias = l->w + kc * F;
  for (gsize r0 = 0; r0 < rows; r0 += chunk) {
    gsize r1 = MIN(rows, r0 + chunk);
    im2col(l, in, len_in, r0, r1, l->scratch);
    lathe_nn_gemm(FALSE, FALSE, (int)(r1 - r0), (int)F, (int)kc, 1, l->scratch, (int)kc, l->w,
                  (int)F, 0, out + r0 * F, (int)F);
    bias_act(out + r0 * F, r1 - r0, F, bias, l->act);
  }
}

/* o = bias + sum_q x[q] w[q] (rows of F) for one output step: filters in
 * blocks of 16 accumulated in registers, so that each output is written
 * once however many taps there are. */
static inline void direct_row(gsize F, gsize span, const nn_real *restrict x,
                              const nn_real *restrict w, const nn_real *restrict bias,
                              nn_real *restrict o) {
  gsize f = 0;
  for (; f + 16 <= F; f += 16) {
    nn_real acc[16];
    for (gsize k = 0; k < 16; k++)
      acc[k] = bias[f + k];
    for (gsize q = 0; q < span; q++) {
      nn_real xv = x[q];
      const nn_real *wr = w + q * F + f;
      for (gsize k = 0; k < 16; k++)
        acc[k] += xv * wr[k];
    }
    for (gsize k = 0; k < 16; k++)
      o[f + k] = acc[k];
  }
  for (; f < F; f++) {
    nn_real acc = bias[f];
    for (gsize q = 0; q < span; q++)
      acc += x[q] * w[q * F + f];
    o[f] = acc;
  }
}

static void forward_direct(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                           nn_real *out) {
  guint T = l->in.steps, C = l->in.channels, K = l->kernel, F = l->units, pad = (K - 1) / 2;
  gsize kc = (gsize)K * C;
  const nn_real *bias = l->w + kc * F;
  for (guint s = 0; s < n; s++) {
    guint len = lathe_nn_seq_len(len_in[s], T);
    for (guint t = 0; t < T; t++) {
      nn_real *o = out + ((gsize)s * T + t) * F;
      Window w = window_of(t, pad, K, len);
      /* The window's valid part is one contiguous span of the input, and its
       * weights are consecutive rows of W. */
      gsize span = w.b > w.a ? (gsize)(w.b - w.a) * C : 0;
      gsize at = w.b > w.a ? ((gsize)s * T + (gsize)w.a) * C : 0;
      direct_row(F, span, in + at, l->w + (gsize)(w.a - w.lo) * C * F, bias, o);
      act_rows(o, F, l->act);
    }
  }
}

/* ---- Winograd F(4, 3) ----
 *
 * Lavin & Gray's minimal filtering: 4 outputs of a 3-tap correlation from
 * the 6 inputs d around them, y = AT [(G w) . (BT d)], 6 products instead of
 * 12. Across channels and filters each of the 6 products is a GEMM (tiles x
 * C) by (C x F) on the transformed inputs V_i = BT d and weights U_i = G w,
 * so a layer costs half the GEMM work of im2col; the transforms are a few
 * adds per value, one pass each. Backward is the same algorithm run
 * backwards: dM = A dy, dU_i = V_i^T dM_i (folded into dW through G^T) and
 * dV_i = dM_i U_i^T (scattered into din through B).
 * Tile k of a sample covers output steps 4k .. 4k + 3 and input steps
 * 4k - 1 .. 4k + 4 (pad 1): the last tile may hang past the end, where
 * inputs read a row of zeros and outputs go to a sink row.
 *
 *        | 4  0 -5  0  1  0 |       | 1/4    0     0   |
 *        | 0 -4 -4  1  1  0 |       | -1/6 -1/6  -1/6  |       | 1 1  1 1  1 0 |
 *   BT = | 0  4 -4 -1  1  0 |   G = | -1/6  1/6  -1/6  |  AT = | 0 1 -1 2 -2 0 |
 *        | 0 -2 -1  2  1  0 |       | 1/24  1/12  1/6  |       | 0 1  1 4  4 0 |
 *        | 0  2 -1 -2  1  0 |       | 1/24 -1/12  1/6  |       | 0 1 -1 8 -8 1 |
 *        | 0  4  0 -5  0  1 |       | 0      0     1   |
 */
static const double wino_g[WINO_A][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

static gsize wino_tiles(const LatheNnLayer *l) { return (l->in.steps + WINO_M - 1) / WINO_M; }

/* Tiles one round of GEMMs may cover for a batch of n within the scratch. */
static gsize wino_chunk(const LatheNnLayer *l, guint n) {
  gsize cap = (gsize)n * MIN(wino_tiles(l), CONV_SEG_TILES);
  gsize want = priv_of(l)->chunk_rows ? priv_of(l)->chunk_rows : CONV_CHUNK_TILES;
  return MAX(MIN(cap, want), 1);
}

/* U_i = sum_j G[i][j] W_j, each C x F. */
static void wino_weights(const LatheNnLayer *l, nn_real *u) {
  gsize cf = (gsize)l->in.channels * l->units;
  const nn_real *w0 = l->w, *w1 = w0 + cf, *w2 = w1 + cf;
  for (guint i = 0; i < WINO_A; i++) {
    nn_real *ui = u + i * cf;
    nn_real g0 = (nn_real)wino_g[i][0], g1 = (nn_real)wino_g[i][1], g2 = (nn_real)wino_g[i][2];
    for (gsize q = 0; q < cf; q++)
      ui[q] = g0 * w0[q] + g1 * w1[q] + g2 * w2[q];
  }
}

/* v_i = (BT d)_i over n channels. */
static inline void bt_rows(gsize n, const nn_real *restrict d0, const nn_real *restrict d1,
                           const nn_real *restrict d2, const nn_real *restrict d3,
                           const nn_real *restrict d4, const nn_real *restrict d5,
                           nn_real *restrict v0, nn_real *restrict v1, nn_real *restrict v2,
                           nn_real *restrict v3, nn_real *restrict v4, nn_real *restrict v5) {
  for (gsize c = 0; c < n; c++) {
    nn_real a1 = d1[c], a2 = d2[c], a3 = d3[c], a4 = d4[c];
    v0[c] = 4 * d0[c] - 5 * a2 + a4;
    v1[c] = -4 * (a1 + a2) + a3 + a4;
    v2[c] = 4 * (a1 - a2) - a3 + a4;
    v3[c] = 2 * (a3 - a1) - a2 + a4;
    v4[c] = 2 * (a1 - a3) - a2 + a4;
    v5[c] = 4 * a1 - 5 * a3 + d5[c];
  }
}

/* d_a += (B dv)_a over n channels: the transpose of bt_rows. */
static inline void b_rows_add(gsize n, const nn_real *restrict v, gsize vs, nn_real *restrict d0,
                              nn_real *restrict d1, nn_real *restrict d2, nn_real *restrict d3,
                              nn_real *restrict d4, nn_real *restrict d5) {
  for (gsize c = 0; c < n; c++) {
    nn_real v0 = v[c], v1 = v[vs + c], v2 = v[2 * vs + c], v3 = v[3 * vs + c], v4 = v[4 * vs + c],
            v5 = v[5 * vs + c];
    d0[c] += 4 * v0;
    d1[c] += 4 * (v2 - v1 + v5) + 2 * (v4 - v3);
    d2[c] += -5 * v0 - 4 * (v1 + v2) - v3 - v4;
    d3[c] += v1 - v2 + 2 * (v3 - v4) - 5 * v5;
    d4[c] += v0 + v1 + v2 + v3 + v4;
    d5[c] += v5;
  }
}

/* y_r = (AT m)_r over n filters, plus bias and activation. */
static inline void at_rows(gsize n, const nn_real *restrict m, gsize ms,
                           const nn_real *restrict bias, LatheNnActivation act,
                           nn_real *restrict y0, nn_real *restrict y1, nn_real *restrict y2,
                           nn_real *restrict y3) {
  for (gsize f = 0; f < n; f++) {
    nn_real m1 = m[ms + f], m2 = m[2 * ms + f], m3 = m[3 * ms + f], m4 = m[4 * ms + f];
    nn_real s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4, b = bias[f];
    y0[f] = m[f] + s12 + s34 + b;
    y1[f] = d12 + 2 * d34 + b;
    y2[f] = s12 + 4 * s34 + b;
    y3[f] = d12 + 8 * d34 + m[5 * ms + f] + b;
  }
  act_rows(y0, n, act);
  act_rows(y1, n, act);
  act_rows(y2, n, act);
  act_rows(y3, n, act);
}

/* dm_i = (A dy)_i over n filters: the transpose of at_rows. */
static inline void a_rows(gsize n, const nn_real *restrict y0, const nn_real *restrict y1,
                          const nn_real *restrict y2, const nn_real *restrict y3,
                          nn_real *restrict m0, nn_real *restrict m1, nn_real *restrict m2,
                          nn_real *restrict m3, nn_real *restrict m4, nn_real *restrict m5) {
  for (gsize f = 0; f < n; f++) {
    nn_real e0 = y0[f], e1 = y1[f], e2 = y2[f], e3 = y3[f];
    nn_real s02 = e0 + e2, s13 = e1 + e3;
    m0[f] = e0;
    m1[f] = s02 + s13;
    m2[f] = s02 - s13;
    m3[f] = e0 + 2 * e1 + 4 * e2 + 8 * e3;
    m4[f] = e0 - 2 * e1 + 4 * e2 - 8 * e3;
    m5[f] = e3;
  }
}

/* Row a of a tile starting at input step t0, or the zero row when that
 * step is padding. */
static inline const nn_real *tile_row(const nn_real *x, gint64 t0, guint a, gint64 len, gsize C,
                                      const nn_real *zero) {
  gint64 pos = t0 + a;
  return pos >= 0 && pos < len ? x + (gsize)pos * C : zero;
}

/* V_i for the batch's tiles [k0, k1), tile-major within each i (row stride C). */
static void wino_input(const LatheNnLayer *l, const nn_real *in, const guint32 *len_in, gsize k0,
                       gsize k1, nn_real *v) {
  guint T = l->in.steps, C = l->in.channels;
  gsize nt = wino_tiles(l), cnt = k1 - k0;
  const nn_real *zero = priv_of(l)->zero;
  for (gsize k = k0; k < k1; k++) {
    guint s = (guint)(k / nt);
    gint64 t0 = (gint64)(k % nt) * WINO_M - 1, len = lathe_nn_seq_len(len_in[s], T);
    const nn_real *x = in + (gsize)s * T * C;
    nn_real *vk = v + (k - k0) * C;
    gsize vs = cnt * C;
    bt_rows(C, tile_row(x, t0, 0, len, C, zero), tile_row(x, t0, 1, len, C, zero),
            tile_row(x, t0, 2, len, C, zero), tile_row(x, t0, 3, len, C, zero),
            tile_row(x, t0, 4, len, C, zero), tile_row(x, t0, 5, len, C, zero), vk, vk + vs,
            vk + 2 * vs, vk + 3 * vs, vk + 4 * vs, vk + 5 * vs);
  }
}

/* din += B dV for the tiles [k0, k1): the transpose of wino_input. Padding
 * steps go to distinct sink rows. */
static void wino_input_backward(const LatheNnLayer *l, const guint32 *len_in, gsize k0, gsize k1,
                                const nn_real *dv, nn_real *din) {
  guint T = l->in.steps, C = l->in.channels;
  gsize nt = wino_tiles(l), cnt = k1 - k0;
  nn_real *sink = priv_of(l)->sink;
  for (gsize k = k0; k < k1; k++) {
    guint s = (guint)(k / nt);
    gint64 t0 = (gint64)(k % nt) * WINO_M - 1, len = lathe_nn_seq_len(len_in[s], T);
    nn_real *x = din + (gsize)s * T * C, *d[WINO_A];
    for (guint a = 0; a < WINO_A; a++) {
      gint64 pos = t0 + a;
      d[a] = pos >= 0 && pos < len ? x + (gsize)pos * C : sink + (gsize)a * C;
    }
    b_rows_add(C, dv + (k - k0) * C, cnt * C, d[0], d[1], d[2], d[3], d[4], d[5]);
  }
}

/* Output steps of the tiles [k0, k1) from the products M_i, plus bias and
 * activation; steps past the end go to sink rows. */
static void wino_output(const LatheNnLayer *l, gsize k0, gsize k1, const nn_real *m, nn_real *out) {
  guint T = l->in.steps, F = l->units;
  gsize nt = wino_tiles(l), cnt = k1 - k0;
  const nn_real *bias = l->w + (gsize)3 * l->in.channels * F;
  nn_real *sink = priv_of(l)->sink;
  for (gsize k = k0; k < k1; k++) {
    guint s = (guint)(k / nt), t0 = (guint)(k % nt) * WINO_M;
    nn_real *y[WINO_M];
    for (guint r = 0; r < WINO_M; r++)
      y[r] = t0 + r < T ? out + ((gsize)s * T + t0 + r) * F : sink + (gsize)r * F;
    at_rows(F, m + (k - k0) * F, cnt * F, bias, l->act, y[0], y[1], y[2], y[3]);
  }
}

/* dM for the tiles [k0, k1) from dz (the activation already undone): the
 * transpose of wino_output; steps past the end read zeros. */
static void wino_output_backward(const LatheNnLayer *l, gsize k0, gsize k1, const nn_real *dz,
                                 nn_real *dm) {
  guint T = l->in.steps, F = l->units;
  gsize nt = wino_tiles(l), cnt = k1 - k0;
  const nn_real *zero = priv_of(l)->zero;
  for (gsize k = k0; k < k1; k++) {
    guint s = (guint)(k / nt), t0 = (guint)(k % nt) * WINO_M;
    const nn_real *y[WINO_M];
    for (guint r = 0; r < WINO_M; r++)
      y[r] = t0 + r < T ? dz + ((gsize)s * T + t0 + r) * F : zero;
    nn_real *mk = dm + (k - k0) * F;
    gsize ms = cnt * F;
    a_rows(F, y[0], y[1], y[2], y[3], mk, mk + ms, mk + 2 * ms, mk + 3 * ms, mk + 4 * ms,
           mk + 5 * ms);
  }
}

static void forward_winograd(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                             nn_real *out) {
  guint C = l->in.channels, F = l->units;
  gsize cf = (gsize)C * F, tiles = n * wino_tiles(l), chunk = wino_chunk(l, n);
  const ConvPriv *pv = priv_of(l);
  wino_weights(l, pv->u);
  nn_real *v = l->scratch, *m = v + WINO_A * chunk * C;
  for (gsize k0 = 0; k0 < tiles; k0 += chunk) {
    gsize k1 = MIN(tiles, k0 + chunk), cnt = k1 - k0;
    wino_input(l, in, len_in, k0, k1, v);
    for (guint i = 0; i < WINO_A; i++)
      lathe_nn_gemm(FALSE, FALSE, (int)cnt, (int)F, (int)C, 1, v + i * cnt * C, (int)C,
                    pv->u + i * cf, (int)F, 0, m + i * cnt * F, (int)F);
    wino_output(l, k0, k1, m, out);
  }
}

static void backward_winograd(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                              const nn_real *dz, nn_real *din) {
  guint C = l->in.channels, F = l->units;
  gsize cf = (gsize)C * F, tiles = n * wino_tiles(l), chunk = wino_chunk(l, n);
  const ConvPriv *pv = priv_of(l);
  wino_weights(l, pv->u);
  memset(pv->du, 0, sizeof(nn_real) * WINO_A * cf);
  nn_real *v = l->scratch, *m = v + WINO_A * chunk * C;
  for (gsize k0 = 0; k0 < tiles; k0 += chunk) {
    gsize k1 = MIN(tiles, k0 + chunk), cnt = k1 - k0;
    wino_input(l, in, len_in, k0, k1, v);
    wino_output_backward(l, k0, k1, dz, m);
    for (guint i = 0; i < WINO_A; i++) {
      lathe_nn_gemm(TRUE, FALSE, (int)C, (int)F, (int)cnt, 1, v + i * cnt * C, (int)C,
                    m + i * cnt * F, (int)F, 1, pv->du + i * cf, (int)F);
      /* V_i is spent: dV_i overwrites it. */
      if (din)
        lathe_nn_gemm(FALSE, TRUE, (int)cnt, (int)C, (int)F, 1, m + i * cnt * F, (int)F,
                      pv->u + i * cf, (int)F, 0, v + i * cnt * C, (int)C);
    }
    if (din)
      wino_input_backward(l, len_in, k0, k1, v, din);
  }
  /* dW_j += sum_i G[i][j] dU_i */
  for (guint j = 0; j < 3; j++) {
    nn_real *gwj = l->gw + j * cf;
    for (guint i = 0; i < WINO_A; i++) {
      nn_real g = (nn_real)wino_g[i][j];
      const nn_real *dui = pv->du + i * cf;
      if (g != 0)
        for (gsize q = 0; q < cf; q++)
          gwj[q] += g * dui[q];
    }
  }
}

static void conv_forward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                         const guint32 *len_in, nn_real *out, guint32 *len_out) {
  switch (lathe_nn_conv1d_chosen_path(l)) {
  case LATHE_NN_CONV_DIRECT:
    forward_direct(l, p->n, in, len_in, out);
    break;
  case LATHE_NN_CONV_WINOGRAD:
    forward_winograd(l, p->n, in, len_in, out);
    break;
  default:
    forward_im2col(l, p->n, in, len_in, out);
    break;
  }
  memcpy(len_out, len_in, sizeof(guint32) * p->n);
}

static void backward_im2col(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                            const nn_real *dz, nn_real *din) {
  guint F = l->units;
  gsize kc = (gsize)l->kernel * l->in.channels, rows = (gsize)n * l->in.steps;
  gsize chunk = chunk_rows(l, n);
  for (gsize r0 = 0; r0 < rows; r0 += chunk) {
    gsize r1 = MIN(rows, r0 + chunk);
    int m = (int)(r1 - r0);
    im2col(l, in, len_in, r0, r1, l->scratch);
    lathe_nn_gemm(TRUE, FALSE, (int)kc, (int)F, m, 1, l->scratch, (int)kc, dz + r0 * F, (int)F, 1,
                  l->gw, (int)F);
    if (din) {
      /* The columns are no longer needed: the gradient overwrites them. */
      lathe_nn_gemm(FALSE, TRUE, m, (int)kc, (int)F, 1, dz + r0 * F, (int)F, l->w, (int)F, 0,
                    l->scratch, (int)kc);
      col2im(l, l->scratch, len_in, r0, r1, din);
    }
  }
}

/* acc = sum_f d[f] w[f], in 8 partial sums (fixed order: deterministic) so
 * that it vectorizes without reassociating. */
static inline nn_real dot_row(gsize F, const nn_real *restrict d, const nn_real *restrict w) {
  nn_real part[8] = {0};
  gsize f = 0;
  for (; f + 8 <= F; f += 8)
    for (gsize k = 0; k < 8; k++)
      part[k] += d[f + k] * w[f + k];
  nn_real acc =
      ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; f < F; f++)
    acc += d[f] * w[f];
  return acc;
}

static inline void axpy_row(gsize F, nn_real a, const nn_real *restrict x, nn_real *restrict y) {
  for (gsize f = 0; f < F; f++)
    y[f] += a * x[f];
}

/* The direct kernel's backward does the activation and the bias gradient
 * too, row by row while the row is in cache: for a tiny kernel x channels
 * those passes over dout are most of the work. */
static void backward_direct(LatheNnLayer *l, guint n, const nn_real *in, const guint32 *len_in,
                            const nn_real *out, nn_real *dz, nn_real *din) {
  guint T = l->in.steps, C = l->in.channels, K = l->kernel, F = l->units, pad = (K - 1) / 2;
  nn_real *gb = l->gw + (gsize)K * C * F;
  for (guint s = 0; s < n; s++) {
    guint len = lathe_nn_seq_len(len_in[s], T);
    for (guint t = 0; t < T; t++) {
      gsize row = (gsize)s * T + t;
      nn_real *d = dz + row * F;
      act_backward(d, out + row * F, F, l->act);
      for (guint f = 0; f < F; f++)
        gb[f] += d[f];
      Window w = window_of(t, pad, K, len);
      if (w.b <= w.a)
        continue;
      gsize first = (gsize)(w.a - w.lo) * C, span = (gsize)(w.b - w.a) * C;
      const nn_real *x = in + ((gsize)s * T + (gsize)w.a) * C;
      for (gsize q = 0; q < span; q++)
        axpy_row(F, x[q], d, l->gw + (first + q) * F);
      if (din) {
        nn_real *dx = din + ((gsize)s * T + (gsize)w.a) * C;
        for (gsize q = 0; q < span; q++)
          dx[q] += dot_row(F, d, l->w + (first + q) * F);
      }
    }
  }
}

static void conv_backward(LatheNnLayer *l, const LatheNnPass *p, const nn_real *in,
                          const guint32 *len_in, const nn_real *out, const guint32 *len_out,
                          nn_real *dout, nn_real *din) {
  guint n = p->n, F = l->units;
  gsize kc = (gsize)l->kernel * l->in.channels, rows = (gsize)n * l->in.steps;
  if (din)
    memset(din, 0, sizeof(nn_real) * rows * l->in.channels);
  LatheNnConvPath path = lathe_nn_conv1d_chosen_path(l);
  if (path == LATHE_NN_CONV_DIRECT) {
    backward_direct(l, n, in, len_in, out, dout, din);
    return;
  }
  act_backward(dout, out, rows * F, l->act);
  lathe_nn_seq_colsum(dout, rows, F, l->gw + kc * F);
  if (path == LATHE_NN_CONV_WINOGRAD)
    backward_winograd(l, n, in, len_in, dout, din);
  else
    backward_im2col(l, n, in, len_in, dout, din);
}

static void conv_finalize(LatheNnLayer *l) {
  ConvPriv *pv = l->priv;
  if (pv)
    g_free(pv->u);
  g_free(pv);
  l->priv = NULL;
}

/* The config only: the Winograd buffers are the copy's own, sized by its setup. */
static gpointer conv_copy_priv(const LatheNnLayer *l) {
  ConvPriv *pv = g_new0(ConvPriv, 1);
  pv->path = priv_of(l)->path;
  pv->chunk_rows = priv_of(l)->chunk_rows;
  return pv;
}

static const LatheNnLayerOps conv_ops = {
    .kind = "conv1d",
    .setup = conv_setup,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .finalize = conv_finalize,
    .copy_priv = conv_copy_priv,
};

LatheNnLayer *lathe_nn_conv1d(guint filters, guint kernel, LatheNnActivation act) {
  LatheNnLayer *l = g_new0(LatheNnLayer, 1);
  l->ops = &conv_ops;
  l->units = filters;
  l->kernel = kernel;
  l->act = act;
  l->priv = g_new0(ConvPriv, 1);
  return l;
}

void lathe_nn_conv1d_set_path(LatheNnLayer *l, LatheNnConvPath path) {
  g_return_if_fail(l && l->ops == &conv_ops);
  g_return_if_fail(path != LATHE_NN_CONV_WINOGRAD || l->kernel == 3);
  ((ConvPriv *)l->priv)->path = path;
}

void lathe_nn_conv1d_set_chunk_rows(LatheNnLayer *l, guint rows) {
  g_return_if_fail(l && l->ops == &conv_ops);
  ((ConvPriv *)l->priv)->chunk_rows = rows;
}
