/* registry-blob.c: the content-addressed store of model bytes, laid out as
 * <root>/blobs/sha256/ab/cdef... (the hex SHA-256 split after two characters
 * so no folder grows huge). A blob is written to a temporary file in its final
 * folder, synced, then renamed, so the final name never holds a partial file;
 * identical bytes are stored once. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "registry-private.h"

#define DIGEST_LEN 64

static gboolean is_digest(const char *digest) {
  if (!digest || strlen(digest) != DIGEST_LEN)
    return FALSE;
  for (const char *p = digest; *p; p++)
    if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/**
 * lathe_registry_blob_path:
 * @root: the registry folder.
 * @digest: a hex SHA-256.
 *
 * Returns: (transfer full): where the blob with @digest lives.
 */
char *lathe_registry_blob_path(const char *root, const char *digest) {
  char prefix[3] = {digest[0], digest[1], 0};
  return g_build_filename(root, "blobs", "sha256", prefix, digest + 2, NULL);
}

static char *sha256_hex(const guint8 *data, gsize len) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

static gboolean write_all(int fd, const guint8 *data, gsize len) {
  while (len > 0) {
    ssize_t n = write(fd, data, MIN(len, (gsize)G_MAXSSIZE));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

/* Makes the rename itself durable: a crash after it must not bring back a
 * folder without the new name. */
static gboolean sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

/* Whether @path exists and already holds exactly the bytes of @digest. */
static gboolean blob_intact(const char *path, const char *digest, gsize size) {
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL) || len != size)
    return FALSE;
  g_autofree char *hex = sha256_hex((const guint8 *)data, len);
  return strcmp(hex, digest) == 0;
}

/**
 * lathe_registry_blob_put:
 * @root: the registry folder.
 * @bytes: the model bytes.
 * @healed: (out) (optional): set to %TRUE when a damaged copy was replaced.
 *
 * Stores @bytes unless an intact copy is already there.
 *
 * Returns: (transfer full) (nullable): the hex SHA-256 of @bytes, or %NULL
 * with @error set.
 */
char *lathe_registry_blob_put(const char *root, GBytes *bytes, gboolean *healed,
                              GError **error) {
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  g_autofree char *digest = sha256_hex(data ? data : (const guint8 *)"", len);
  g_autofree char *path = lathe_registry_blob_path(root, digest);
  if (healed)
    *healed = FALSE;
  if (g_file_test(path, G_FILE_TEST_EXISTS)) {
    if (blob_intact(path, digest, len))
      return g_steal_pointer(&digest);
    if (healed)
      *healed = TRUE; /* rewritten below: the rename replaces the bad copy */
  }
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "registry-local: cannot create %s: %s",
                dir, g_strerror(e));
    return NULL;
  }
  g_autofree char *tmp = g_build_filename(dir, ".tmp-XXXXXX", NULL);
  int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "registry-local: cannot create a temporary file in %s: %s", dir,
                g_strerror(e));
    return NULL;
  }
  gboolean ok = write_all(fd, data, len) && fsync(fd) == 0;
  int e = errno;
  if (close(fd) != 0 && ok) {
    ok = FALSE;
    e = errno;
  }
  if (ok && g_rename(tmp, path) != 0) {
    ok = FALSE;
    e = errno;
  }
  if (!ok) {
    g_unlink(tmp);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "registry-local: cannot write the model blob %s: %s", path, g_strerror(e));
    return NULL;
  }
  if (!sync_dir(dir)) {
    e = errno;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "registry-local: cannot sync %s: %s",
                dir, g_strerror(e));
    return NULL;
  }
  return g_steal_pointer(&digest);
}

/**
 * lathe_registry_blob_get:
 * @root: the registry folder.
 * @digest: the hex SHA-256 the index recorded.
 * @size: the size the index recorded.
 * @label: what the blob is, for messages ("model 'm' version 2").
 *
 * Reads a blob and checks it against @digest: a damaged file is an error,
 * never a model that silently predicts garbage.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set.
 */
GBytes *lathe_registry_blob_get(const char *root, const char *digest, gint64 size,
                                const char *label, GError **error) {
  if (!is_digest(digest)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "registry-local: %s: the index of %s holds a malformed digest '%s'",
                label, root, digest ? digest : "");
    return NULL;
  }
  g_autofree char *path = lathe_registry_blob_path(root, digest);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) read_error = NULL;
  if (!g_file_get_contents(path, &data, &len, &read_error)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "registry-local: %s: cannot read its blob: %s", label, read_error->message);
    return NULL;
  }
  g_autofree char *hex = sha256_hex((const guint8 *)data, len);
  if (size < 0 || len != (gsize)size || strcmp(hex, digest) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "registry-local: %s: the blob %s is corrupt (%" G_GSIZE_FORMAT
                " bytes with SHA-256 %s, expected %" G_GINT64_FORMAT
                " bytes with SHA-256 %s); restore it from a backup or register the model "
                "again",
                label, path, len, hex, size, digest);
    return NULL;
  }
  return g_bytes_new_take(g_steal_pointer(&data), len);
}
