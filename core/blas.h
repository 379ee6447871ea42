/* blas.h: OpenBLAS set-up for this machine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_blas_prepare:
 * @argv: the process's original argv, for re-executing.
 * @threads: BLAS threads for this process (unless OPENBLAS_NUM_THREADS is set).
 *
 * Call before any plugin loads. Sets OPENBLAS_NUM_THREADS, then loads
 * OpenBLAS. Debian's OpenBLAS 0.3.21 does not recognise some AVX2/AVX-512 CPUs
 * and falls back to SSE3 "Prescott" kernels, 3-5x slower; when that happened,
 * re-executes this program with OPENBLAS_CORETYPE set (read only when the
 * library loads). The user's OPENBLAS_CORETYPE, or LATHE_BLAS_NO_FIX, turns the
 * fix off.
 */
void lathe_blas_prepare(char **argv, guint threads);

/**
 * lathe_blas_fix_for:
 * @corename: what openblas_get_corename() says.
 * @avx512: the CPU has AVX-512F.
 * @avx2: the CPU has AVX2.
 *
 * Returns: (nullable): the OPENBLAS_CORETYPE to force, or %NULL when the
 * detected kernels are fine.
 */
const char *lathe_blas_fix_for(const char *corename, gboolean avx512, gboolean avx2);

/** lathe_blas_describe: (transfer full) "OpenBLAS 0.3.21, core SkylakeX (…)". */
char *lathe_blas_describe(void);

/** lathe_blas_set_threads: BLAS threads for this process. */
void lathe_blas_set_threads(guint threads);

G_END_DECLS
