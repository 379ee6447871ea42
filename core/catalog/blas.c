/* OpenBLAS set-up. The `lathe` binary does not link OpenBLAS: plugins do, and
 * it loads with the first of them. That leaves main() time to set
 * OPENBLAS_NUM_THREADS (read once, when the library loads): an idle OpenBLAS
 * thread spins on sched_yield, and on a 2-core machine it takes a core from
 * the scheduler's workers. */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmodule.h>

#include "catalog/catalog.h"
#include "catalog/catalog-private.h"

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

/* (transfer full) (nullable) the OpenBLAS library file, NULL when it is
 * not where Debian puts it. */
static char *library_file(void) {
  static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
                                     "/usr/lib64/libopenblas.so.0", "/usr/lib/libopenblas.so.0", NULL};
  char *real = NULL;
  for (guint i = 0; libs[i] && !real; i++)
    real = realpath(libs[i], NULL);
  return real;
}

/* What decides OpenBLAS's choice of kernels: the CPU and the library file.
 * NULL when the library is not where Debian puts it (then we just ask it). */
static char *decision_key(void) {
  g_autofree char *real = library_file();
  struct stat st;
  g_autofree char *cpuinfo = NULL;
  if (!real || stat(real, &st) != 0 || !g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return NULL;
  GString *key = g_string_new(NULL);
  g_string_append_printf(key, "%s:%lld:%lld", real, (long long)st.st_size, (long long)st.st_mtime);
  g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] && *lines[i]; i++) /* the first processor */
    if (g_str_has_prefix(lines[i], "vendor_id") || g_str_has_prefix(lines[i], "cpu family") ||
        g_str_has_prefix(lines[i], "model") || g_str_has_prefix(lines[i], "stepping"))
      g_string_append_printf(key, "|%s", lines[i]);
  g_string_append_printf(key, "|avx2=%d|avx512f=%d", __builtin_cpu_supports("avx2") != 0,
                         __builtin_cpu_supports("avx512f") != 0);
  return g_string_free(key, FALSE);
}

static gboolean blas_loaded(void) {
  void *h = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (h)
    dlclose(h);
  return h != NULL;
}

gboolean lathe_blas_loaded(void) { return blas_loaded(); }

void lathe_blas_prepare(char **argv, guint threads) {
  g_autofree char *n = g_strdup_printf("%u", MAX(threads, 1));
  /* The user's own setting wins. */
  g_setenv("OPENBLAS_NUM_THREADS", n, FALSE);
  const char *user = g_getenv("OPENBLAS_CORETYPE");
  if ((user && *user) || g_getenv("LATHE_BLAS_NO_FIX"))
    return;
  __builtin_cpu_init();
  /* LATHE_BLAS_PRETEND_CORE lets the tests drive the fix on CPUs that
   * OpenBLAS does recognise. */
  const char *pretend = g_getenv("LATHE_BLAS_PRETEND_CORE");
  g_autofree char *key = pretend ? NULL : decision_key();
  g_autoptr(JsonObject) cache = key ? lathe_cache_read("blas") : NULL;
  g_autofree char *detected = NULL;
  if (cache && g_strcmp0(json_object_get_string_member_with_default(cache, "key", ""), key) == 0)
    detected = g_strdup(json_object_get_string_member_with_default(cache, "corename", ""));
  if (!detected) {
    /* Ask OpenBLAS itself: this loads it, once per machine and library. */
    if (!blas_load())
      return;
    detected = g_strdup(pretend ? pretend : get_corename());
    if (key) {
      g_autoptr(JsonObject) c = json_object_new();
      json_object_set_string_member(c, "key", key);
      json_object_set_string_member(c, "corename", detected);
      lathe_cache_write("blas", c);
    }
  }
  const char *want = lathe_blas_fix_for(detected, __builtin_cpu_supports("avx512f"),
                                        __builtin_cpu_supports("avx2"));
  if (!want)
    return;
  g_setenv("OPENBLAS_CORETYPE", want, TRUE);
  g_setenv("LATHE_BLAS_FIXED", detected, TRUE);
  g_unsetenv("LATHE_BLAS_PRETEND_CORE");
  if (!blas_loaded())
    return; /* not loaded yet: it will read the variable when a plugin loads it */
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
  /* Not loaded yet: OPENBLAS_NUM_THREADS, set before, is what it will read. */
  if (blas_loaded() && blas_load())
    set_num_threads((int)lathe_blas_thread_cap(threads));
}

/* The first "model name" of /proc/cpuinfo (x86), else its first "Hardware"
 * or "CPU part" line (ARM), else "unknown". */
static char *cpu_model(void) {
  g_autofree char *cpuinfo = NULL;
  if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return g_strdup("unknown");
  static const char *const keys[] = {"model name", "Hardware", "CPU part", NULL};
  g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
  for (guint k = 0; keys[k]; k++)
    for (guint i = 0; lines[i]; i++)
      if (g_str_has_prefix(lines[i], keys[k]) && strchr(lines[i], ':'))
        return g_strstrip(g_strdup(strchr(lines[i], ':') + 1));
  return g_strdup("unknown");
}

JsonObject *lathe_blas_environment(void) {
  JsonObject *o = json_object_new();
  g_autofree char *cpu = cpu_model();
  json_object_set_string_member(o, "cpu", cpu);
  g_autofree char *lib = library_file();
  json_object_set_string_member(o, "blas", lib ? lib : "none");
  /* The kernels OpenBLAS runs: OPENBLAS_CORETYPE when set (the user's, or
   * lathe_blas_prepare()'s fix), else what it detects, which the decision
   * cache holds once per CPU and library; loaded only when neither knows. */
  const char *env = g_getenv("OPENBLAS_CORETYPE");
  g_autofree char *core = NULL;
  if (env && *env) {
    core = g_strdup(env);
  } else if (lib) {
    g_autofree char *key = decision_key();
    g_autoptr(JsonObject) cache = key ? lathe_cache_read("blas") : NULL;
    if (cache && g_strcmp0(json_object_get_string_member_with_default(cache, "key", ""), key) == 0)
      core = g_strdup(json_object_get_string_member_with_default(cache, "corename", ""));
    if ((!core || !*core) && blas_load()) {
      g_free(core);
      core = g_strdup(get_corename());
    }
  }
  json_object_set_string_member(o, "blas_core", core && *core ? core : "none");
  return o;
}
