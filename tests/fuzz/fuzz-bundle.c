/* fuzz-bundle.c: fuzz harness for the model bundle reader (registry/
 * lathe-bundle.c). Besides "never crash", a bundle that reads must hold a
 * manifest and a blob whose size the manifest states; a refused one must say
 * why in one line naming the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lathe-bundle.h"

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "fuzz-bundle: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheBundle) b = lathe_bundle_read_memory(data, size, "fuzz.bundle", &error);
  if (!b) {
    CHECK(error && error->code == LATHE_ERROR_INVALID);
    CHECK(g_str_has_prefix(error->message, "fuzz.bundle"));
    CHECK(!strchr(error->message, '\n'));
    return 0;
  }
  CHECK(!error && b->manifest && b->blob && strlen(b->manifest_sha256) == 64);
  JsonObject *m = json_object_get_object_member(json_object_get_object_member(b->manifest, "members"),
                                                "model.lathe");
  CHECK(m && json_object_get_int_member(m, "size") == (gint64)g_bytes_get_size(b->blob));
  return 0;
}
