/* fuzz-nn-blob.c: fuzz harness for the neural-network model blob
 * (nn/nn-blob.c), the bytes a model node stores and the registry serves back.
 *
 * The blob ends with a SHA-256 of the rest, so random mutations would almost
 * all stop at the checksum. The harness therefore reseals every input (the
 * last 32 bytes become the SHA-256 of the bytes before them) so that
 * mutations reach the length, shape and value checks behind it, which a
 * hostile but correctly sealed file would also reach. A blob that reads must
 * write back to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn-blob.h"

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(stderr, "fuzz-nn-blob: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  guint8 *copy = g_memdup2(data, size);
  if (size >= 32) {
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, copy, size - 32);
    gsize len = 32;
    g_checksum_get_digest(sum, copy + size - 32, &len);
    g_checksum_free(sum);
  }
  GBytes *bytes = g_bytes_new_take(copy, size);
  LatheNnBlob blob;
  GError *error = NULL;
  gboolean ok = lathe_nn_blob_read(bytes, "model/fuzz", &blob, &error);
  CHECK(ok == (error == NULL));
  if (ok) {
    CHECK(blob.family && blob.arch_json);
    GBytes *again = lathe_nn_blob_write(&blob);
    CHECK(g_bytes_equal(again, bytes));
    g_bytes_unref(again);
    lathe_nn_blob_clear(&blob);
  } else {
    CHECK(strchr(error->message, '\n') == NULL);
    g_error_free(error);
  }
  g_bytes_unref(bytes);
  return 0;
}
