/* layer-conv1d-internal.h: lets the tests and the benchmark pin conv1d to one
 * of its two kernels. Private to the engine. */
#pragma once

#include "nn-layer.h"

G_BEGIN_DECLS

/**
 * LatheNnConvPath:
 * @LATHE_NN_CONV_AUTO: the fixed rule (direct only for tiny kernel x channels).
 * @LATHE_NN_CONV_IM2COL: im2col + one GEMM per chunk of rows.
 * @LATHE_NN_CONV_DIRECT: plain loops.
 * @LATHE_NN_CONV_WINOGRAD: Winograd F(4, 3) + GEMMs (kernel 3 only).
 */
typedef enum {
  LATHE_NN_CONV_AUTO = 0,
  LATHE_NN_CONV_IM2COL = 1,
  LATHE_NN_CONV_DIRECT = 2,
  LATHE_NN_CONV_WINOGRAD = 3,
} LatheNnConvPath;

/**
 * lathe_nn_conv1d_set_path:
 * @l: a layer from lathe_nn_conv1d().
 * @path: the kernel to use from now on (Winograd needs kernel 3).
 *
 * Both kernels compute the same function; this only exists so that the tests
 * can compare them and the benchmark can time them.
 */
void lathe_nn_conv1d_set_path(LatheNnLayer *l, LatheNnConvPath path);

/**
 * lathe_nn_conv1d_chosen_path:
 * @l: a set-up layer from lathe_nn_conv1d().
 *
 * Returns: the kernel forward and backward use: the forced one, or what the
 * rule picks for @l's shape (never %LATHE_NN_CONV_AUTO).
 */
LatheNnConvPath lathe_nn_conv1d_chosen_path(const LatheNnLayer *l);

/**
 * lathe_nn_conv1d_set_chunk_rows:
 * @l: a layer from lathe_nn_conv1d().
 * @rows: the most rows (sample steps) one im2col GEMM covers, or tiles of
 *   4 steps one round of Winograd GEMMs does; 0 for the default. The
 *   scratch set up by @setup still bounds it.
 *
 * For the benchmark, to measure the chunk size the default comes from.
 */
void lathe_nn_conv1d_set_chunk_rows(LatheNnLayer *l, guint rows);

G_END_DECLS
