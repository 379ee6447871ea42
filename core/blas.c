#include <string.h>
#include <unistd.h>

#include "blas.h"

/* OpenBLAS extensions; declared here as Debian's cblas.h may come from
 * another provider. */
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern void openblas_set_num_threads(int num_threads);

const char *lathe_blas_fix_for(const char *corename, gboolean avx512, gboolean avx2) {
  /* Pre-AVX kernels on a CPU that has AVX2 or AVX-512 mean detection failed. */
  gboolean fallback = corename && (g_ascii_strcasecmp(corename, "prescott") == 0 ||
                                   g_ascii_strcasecmp(corename, "core2") == 0 ||
                                   g_ascii_strcasecmp(corename, "nehalem") == 0);
  if (!fallback)
    return NULL;
  return avx512 ? "SkylakeX" : avx2 ? "Haswell" : NULL;
}

void lathe_blas_ensure_kernels(char **argv) {
  if (g_getenv("OPENBLAS_CORETYPE") || g_getenv("LATHE_BLAS_NO_FIX"))
    return;
  __builtin_cpu_init();
  const char *want = lathe_blas_fix_for(openblas_get_corename(), __builtin_cpu_supports("avx512f"),
                                        __builtin_cpu_supports("avx2"));
  if (!want)
    return;
  g_setenv("OPENBLAS_CORETYPE", want, TRUE);
  g_setenv("LATHE_BLAS_FIXED", openblas_get_corename(), TRUE);
  execv("/proc/self/exe", argv);
  /* exec failed: go on with the slow kernels rather than not at all */
  g_unsetenv("OPENBLAS_CORETYPE");
}

char *lathe_blas_describe(void) {
  const char *fixed = g_getenv("LATHE_BLAS_FIXED");
  const char *env = g_getenv("OPENBLAS_CORETYPE");
  g_autofree char *config = g_strstrip(g_strdup(openblas_get_config()));
  if (fixed)
    return g_strdup_printf("%s; core %s (OpenBLAS detected %s, a fallback; Lathe set "
                           "OPENBLAS_CORETYPE=%s)", config, openblas_get_corename(), fixed, env);
  if (env)
    return g_strdup_printf("%s; core %s (OPENBLAS_CORETYPE=%s from the environment)", config,
                           openblas_get_corename(), env);
  return g_strdup_printf("%s; core %s", config, openblas_get_corename());
}

void lathe_blas_set_threads(guint threads) { openblas_set_num_threads((int)MAX(threads, 1)); }
