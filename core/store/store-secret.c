/* The store's secret key: 32 random bytes in DIR/secret.key, mode 0600, that
 * key the fingerprints of secret params (catalog/secrets.c). Per store, so a
 * fingerprint copied elsewhere cannot be tested against guesses without the
 * key; made once, by whichever process gets there first. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "store/store.h"

static gboolean read_key(const char *path, guint8 *key, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0)
    return FALSE;
  ssize_t n = read(fd, key, LATHE_STORE_KEY_SIZE);
  close(fd);
  if (n != LATHE_STORE_KEY_SIZE) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "%s is damaged (%zd bytes, expected %d); delete it: the next run makes a new "
                "one and re-runs the nodes that take secrets", path, n, LATHE_STORE_KEY_SIZE);
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_store_secret_key(LatheStore *store, guint8 *key, GError **error) {
  g_autofree char *path = g_build_filename(lathe_store_dir(store), "secret.key", NULL);
  GError *local = NULL;
  if (read_key(path, key, &local))
    return TRUE;
  if (local) {
    g_propagate_error(error, local);
    return FALSE;
  }
  if (errno != ENOENT) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot read %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  guint8 fresh[LATHE_STORE_KEY_SIZE];
  if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "no random bytes for %s", path);
    return FALSE;
  }
  /* Written whole under a temporary name, then linked: a concurrent run
   * either wins (and we read its key) or sees no file, never half of one. */
  g_autofree char *tmp = g_strdup_printf("%s.%d.tmp", path, (int)getpid());
  int fd = g_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok = fd >= 0 && write(fd, fresh, sizeof fresh) == (ssize_t)sizeof fresh &&
                fsync(fd) == 0;
  int e = errno;
  if (fd >= 0)
    close(fd);
  if (ok && link(tmp, path) != 0 && errno != EEXIST) {
    e = errno;
    ok = FALSE;
  }
  g_unlink(tmp);
  if (!ok) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  return read_key(path, key, error);
}
