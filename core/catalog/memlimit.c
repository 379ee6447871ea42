/* Running under an address-space limit (`ulimit -v`, RLIMIT_AS). OpenBLAS
 * maps a buffer of about 128 MiB for each thread of each concurrent call
 * (BUFFER_SIZE in Debian's DYNAMIC_ARCH 0.3.21 build) and, when the mapping
 * fails, retries for ever at 100% CPU; glibc reserves 64 MiB of address space
 * per malloc arena (up to 8 per core) and 8 MiB per thread stack, so a
 * 500 MB limit ran out in thread creation, which GLib turns into an abort.
 * So, when a limit is set: one malloc arena, 2 MiB thread stacks, and only as
 * many nodes at once and BLAS threads as the limit holds; when not even one
 * fits, a pipeline that uses OpenBLAS is refused with one line (cli-run.c). */
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#include "catalog/catalog.h"

#define MIB (1024.0 * 1024.0)
/* Measured with Debian's libopenblas 0.3.21 (DYNAMIC_ARCH): a dgemm adds
 * 132 MiB of address space per thread, loading the library 40 MiB. */
#define BLAS_BUFFER (132 * MIB)
#define BLAS_LOAD (40 * MIB)
/* The rest of a run: plugins, SQLite, datasets, the main arena's growth. */
#define RUN_RESERVE (96 * MIB)
#define THREAD_STACK (2 * 1024 * 1024)

static guint blas_cap = G_MAXUINT;

guint lathe_blas_thread_cap(guint wanted) { return MAX(1, MIN(wanted, blas_cap)); }

static double vm_size(void) {
  g_autofree char *status = NULL;
  if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *line = strstr(status, "\nVmSize:");
  return line ? g_ascii_strtod(line + strlen("\nVmSize:"), NULL) * 1024.0 : 0;
}

guint64 lathe_memlimit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return 0;
  return (guint64)rl.rlim_cur;
}

char *lathe_memlimit_fit(guint *jobs, gboolean jobs_given, guint *threads) {
  guint64 limit = lathe_memlimit();
  if (!limit)
    return NULL;
  /* Before any thread starts: glibc reads both at thread creation. */
  mallopt(M_ARENA_MAX, 1);
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) == 0) {
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  }
  double avail = (double)limit - vm_size() - BLAS_LOAD - RUN_RESERVE;
  guint j = MAX(*jobs, 1), t = MAX(*threads, 1);
  double per_node = BLAS_BUFFER + THREAD_STACK;
  if (j * t * per_node > avail)
    t = 1; /* fewer BLAS threads first: the nodes at once are the user's choice */
  if (j * per_node > avail && !jobs_given)
    j = MAX(1, (guint)(avail / per_node));
  blas_cap = t;
  *threads = t;
  *jobs = j;
  if (j * per_node <= avail)
    return NULL;
  double need = j * per_node + BLAS_LOAD + RUN_RESERVE + vm_size();
  return g_strdup_printf("the address-space limit (ulimit -v %.0f) leaves too little for OpenBLAS: "
                         "%u node%s at once need%s about %.0f MiB, the limit is %.0f MiB; raise it to "
                         "at least ulimit -v %.0f%s",
                         limit / 1024.0, j, j == 1 ? "" : "s", j == 1 ? "s" : "", need / MIB, limit / MIB,
                         need / 1024.0, jobs_given && j > 1 ? " or use fewer --jobs" : "");
}

gboolean lathe_plugin_needs_blas(LathePlugin *p) {
  g_autoptr(GMappedFile) mf = g_mapped_file_new(p->file, FALSE, NULL);
  if (!mf)
    return FALSE;
  static const char needle[] = "libopenblas.so";
  return memmem(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf), needle,
                sizeof needle - 1) != NULL;
}
