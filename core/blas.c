/* OpenBLAS set-up. The `lathe` binary does not link OpenBLAS: plugins do, and
 * it loads with the first of them. That leaves main() time to set
 * OPENBLAS_NUM_THREADS (read once, when the library loads): an idle OpenBLAS
 * thread spins on sched_yield, and on a 2-core machine it takes a core from
 * the scheduler's workers. */
#include <string.h>
#include <unistd.h>

#include <gmodule.h>

#include "blas.h"

static GModule *blas_module;
static char *(*get_corename)(void);
static char *(*get_config)(void);
static void (*set_num_threads)(int);

static gboolean blas_load(void) {
  if (blas_module)
    return TRUE;
  blas_module = g_module_open("libopenblas.so.0", G_MODULE_BIND_LAZY);
  if (!blas_module)
    return FALSE;
  if (!g_module_symbol(blas_module, "openblas_get_corename", (gpointer *)&get_corename) ||
      !g_module_symbol(blas_module, "openblas_get_config", (gpointer *)&get_config) ||
      !g_module_symbol(blas_module, "openblas_set_num_threads", (gpointer *)&set_num_threads)) {
    g_module_close(blas_module);
    blas_module = NULL;
    return FALSE;
  }
  g_module_make_resident(blas_module);
  return TRUE;
}

const char *lathe_blas_fix_for(const char *corename, gboolean avx512, gboolean avx2) {
  /* Pre-AVX kernels on a CPU that has AVX2 or AVX-512 mean detection failed. */
  gboolean fallback = corename && (g_ascii_strcasecmp(corename, "prescott") == 0 ||
                                   g_ascii_strcasecmp(corename, "core2") == 0 ||
                                   g_ascii_strcasecmp(corename, "nehalem") == 0);
  if (!fallback)
    return NULL;
  return avx512 ? "SkylakeX" : avx2 ? "Haswell" : NULL;
}

void lathe_blas_prepare(char **argv, guint threads) {
  g_autofree char *n = g_strdup_printf("%u", MAX(threads, 1));
  /* The user's own setting wins. */
  g_setenv("OPENBLAS_NUM_THREADS", n, FALSE);
  const char *user = g_getenv("OPENBLAS_CORETYPE");
  if ((user && *user) || g_getenv("LATHE_BLAS_NO_FIX") || !blas_load())
    return;
  __builtin_cpu_init();
  /* LATHE_BLAS_PRETEND_CORE lets the tests drive the fix on CPUs that
   * OpenBLAS does recognise. */
  const char *detected = g_getenv("LATHE_BLAS_PRETEND_CORE");
  detected = detected ? detected : get_corename();
  const char *want = lathe_blas_fix_for(detected, __builtin_cpu_supports("avx512f"),
                                        __builtin_cpu_supports("avx2"));
  if (!want)
    return;
  g_setenv("OPENBLAS_CORETYPE", want, TRUE);
  g_setenv("LATHE_BLAS_FIXED", detected, TRUE);
  g_unsetenv("LATHE_BLAS_PRETEND_CORE");
  execv("/proc/self/exe", argv);
  /* exec failed: go on with the slow kernels rather than not at all */
  g_unsetenv("OPENBLAS_CORETYPE");
}

char *lathe_blas_describe(void) {
  if (!blas_load())
    return g_strdup("OpenBLAS not found (libopenblas.so.0); models that need BLAS will not load");
  const char *fixed = g_getenv("LATHE_BLAS_FIXED");
  const char *env = g_getenv("OPENBLAS_CORETYPE");
  env = env && *env ? env : NULL;
  g_autofree char *config = g_strstrip(g_strdup(get_config()));
  if (fixed)
    return g_strdup_printf("%s; core %s (OpenBLAS detected %s, a fallback; Lathe set "
                           "OPENBLAS_CORETYPE=%s)", config, get_corename(), fixed, env);
  if (env)
    return g_strdup_printf("%s; core %s (OPENBLAS_CORETYPE=%s from the environment)", config,
                           get_corename(), env);
  return g_strdup_printf("%s; core %s", config, get_corename());
}

void lathe_blas_set_threads(guint threads) {
  if (blas_load())
    set_num_threads((int)MAX(threads, 1));
}
