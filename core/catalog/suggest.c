#include "catalog/catalog.h"

/* lathe_suggest() itself is in the SDK (lathe-helpers.h), which plugins
 * reach too. */
char *lathe_did_you_mean(const char *near) {
  return near ? g_strdup_printf(" (did you mean '%s'?)", near) : g_strdup("");
}
