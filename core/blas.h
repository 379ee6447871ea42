/* blas.h: OpenBLAS set-up for this machine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_blas_ensure_kernels:
 * @argv: the process's argv, for re-executing.
 *
 * Debian's OpenBLAS 0.3.21 does not recognise some AVX2/AVX-512 CPUs and
 * falls back to SSE3 "Prescott" kernels, 3-5x slower. When that happened and
 * the CPU has AVX-512 or AVX2, re-executes this program with
 * OPENBLAS_CORETYPE set (read only when the library loads). Does nothing when
 * the variable is already set or LATHE_BLAS_NO_FIX is.
 */
void lathe_blas_ensure_kernels(char **argv);

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
