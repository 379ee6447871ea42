/* Plugins that misbehave while they are being looked at (chosen with
 * -DVARIANT_x): the host must scan them in a child and refuse them, never
 * crash or hang itself (tests/integration/test-bad-plugins.sh).
 *   query_segv  segfaults in lathe_plugin_query
 *   ctor_abort  aborts in a constructor
 *   ctor_loop   spins forever in a constructor
 *   ctor_sleep  sleeps (for 1000 s) in a constructor
 * Each first appends its name to $LATHE_TEST_SCAN_LOG, so a test can count
 * how often it was opened. Otherwise each is a valid plugin. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lathe/lathe-sdk.h>

#define NAME G_STRINGIFY(VARIANT)

static void note_opened(void) {
  const char *log = getenv("LATHE_TEST_SCAN_LOG");
  int fd = log ? open(log, O_WRONLY | O_APPEND | O_CREAT, 0644) : -1;
  if (fd < 0)
    return;
  if (write(fd, NAME "\n", strlen(NAME) + 1) < 0) {
    /* nothing to do: the count will be short and the test says so */
  }
  close(fd);
}

#if defined(VARIANT_ctor_abort) || defined(VARIANT_ctor_loop) || defined(VARIANT_ctor_sleep)
__attribute__((constructor)) static void misbehave(void) {
  note_opened();
#if defined(VARIANT_ctor_abort)
  abort();
#elif defined(VARIANT_ctor_loop)
  static volatile unsigned long spin;
  for (;;)
    spin++;
#else
  sleep(1000);
#endif
}
#endif

static gboolean bad_run(LatheContext *ctx, GError **error) {
  (void)ctx;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "never meant to run");
  return FALSE;
}

static const LatheSourceClass bad_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, NAME, "misbehaves when loaded",
                         NULL, NULL, NULL),
    .run = bad_run,
};

static const LatheComponent *const components[] = {&bad_source.base, NULL};
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), LATHE_ABI_MAJOR, LATHE_ABI_MINOR, "bad-" NAME, "0.1.0", "MIT",
    "misbehaves while it is scanned (test plugin)", components};

#if defined(VARIANT_query_segv)
/* Volatile, so the compiler can neither see where it points nor make it a
 * trap; not NULL, so that UBSan's null check (in the sanitized build) does
 * not stop the process before the fault does. Page 0 is never mapped. */
static int *volatile nowhere = (int *)(guintptr)64;
#endif

G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) {
#if defined(VARIANT_query_segv)
  note_opened();
  *nowhere = 1;
#endif
  return &descriptor;
}
