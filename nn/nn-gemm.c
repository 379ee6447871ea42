/* lathe_nn_gemm: the one place the engine calls BLAS, so the float and double
 * builds differ only here; and lathe_nn_blas_threads, its thread count. */
#include <cblas.h>

#include "nn-layer.h"
#include "nn-parallel.h"

void lathe_nn_gemm(gboolean trans_a, gboolean trans_b, int m, int n, int k, nn_real alpha,
                   const nn_real *a, int lda, const nn_real *b, int ldb, nn_real beta,
                   nn_real *c, int ldc) {
  /* BLAS rejects a zero leading dimension even when the matrix is empty. */
  if (m <= 0 || n <= 0)
    return;
#ifdef LATHE_NN_DOUBLE
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, MAX(lda, 1), b,
              MAX(ldb, 1), beta, c, MAX(ldc, 1));
#else
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, MAX(lda, 1), b,
              MAX(ldb, 1), beta, c, MAX(ldc, 1));
#endif
}

int lathe_nn_blas_threads(int n) {
  int previous = openblas_get_num_threads();
  openblas_set_num_threads(MAX(n, 1));
  return previous;
}
