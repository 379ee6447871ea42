/* fuzz-blob.c: fuzz harness for the binary formats read back from disk: the
 * dataset encoding, model artifacts, and CSV archives (.zip/.tar.gz through
 * libarchive). The first byte picks which. A dataset that decodes must encode
 * back to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <lathe/lathe-context-private.h>
#include <lathe/lathe-sdk.h>

#include "csv-input.h"

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz-blob: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_dataset(const uint8_t *data, size_t size) {
  g_autoptr(GBytes) bytes = g_bytes_new(data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheDataset) ds = lathe_dataset_deserialize(bytes, &error);
  CHECK((ds == NULL) == (error != NULL));
  if (ds) {
    g_autoptr(GBytes) again = lathe_dataset_serialize(ds);
    CHECK(g_bytes_equal(again, bytes));
  }
}

static void fuzz_model(const uint8_t *data, size_t size) {
  g_autoptr(GBytes) bytes = g_bytes_new(data, size);
  g_autoptr(LatheArtifact) a = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, bytes);
  g_autoptr(GError) error = NULL;
  JsonObject *h = lathe_artifact_get_model_header(a, &error);
  CHECK((h == NULL) == (error != NULL));
  if (h)
    CHECK(lathe_artifact_get_model_state(a, NULL) != NULL);
}

static void fuzz_archive(const uint8_t *data, size_t size, const char *suffix) {
  g_autofree char *tmpl = g_strdup_printf("%s/lathe-fuzz-XXXXXX%s", g_get_tmp_dir(), suffix);
  int fd = g_mkstemp_full(tmpl, O_RDWR, 0600);
  CHECK(fd >= 0);
  CHECK(write(fd, data, size) == (ssize_t)size);
  close(fd);
  LatheCsvTableOptions opts = {.header = TRUE, .decimal = '.', .group = LATHE_CSV_GROUP_FILE};
  g_autoptr(LatheCsvTable) table = lathe_csv_table_new(&opts);
  g_autoptr(LatheContext) ctx = lathe_context_new("fuzz", NULL, 0, NULL, NULL);
  LatheCsvInput in = {.ctx = ctx, .table = table, .n_inputs = 1};
  g_autoptr(GError) error = NULL;
  gboolean ok = lathe_csv_input_read_archive(&in, tmpl, "fuzz", NULL, &error);
  CHECK(ok == (error == NULL));
  if (ok) {
    g_autoptr(GError) e2 = NULL;
    g_autoptr(LatheDataset) ds = lathe_csv_table_finish(table, &e2);
    CHECK((ds == NULL) == (e2 != NULL));
  }
  g_unlink(tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  switch (data[0] % 4) {
  case 0: fuzz_dataset(data + 1, size - 1); break;
  case 1: fuzz_model(data + 1, size - 1); break;
  case 2: fuzz_archive(data + 1, size - 1, ".zip"); break;
  default: fuzz_archive(data + 1, size - 1, ".tar.gz"); break;
  }
  return 0;
}
