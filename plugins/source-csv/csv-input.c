/* Files, folders and archives -> table. Plain files are hashed in the same
 * pass that parses them; archives are hashed in a pass of their own because
 * libarchive seeks inside zips (central directory), so the bytes it reads are
 * neither in order nor read once. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "csv-input.h"

#define CHUNK (256 * 1024)
/* Progress and cancellation are looked at every this many chunks. */
#define CHECK_EVERY 8

static gboolean has_suffix_ci(const char *name, const char *const *suffixes) {
  g_autofree char *lower = g_ascii_strdown(name, -1);
  for (guint i = 0; suffixes[i]; i++)
    if (g_str_has_suffix(lower, suffixes[i]))
      return TRUE;
  return FALSE;
}

gboolean lathe_csv_input_is_archive(const char *name) {
  static const char *const suffixes[] = {".zip", ".tar", ".tar.gz", ".tgz", NULL};
  return has_suffix_ci(name, suffixes);
}

static gboolean is_csv_name(const char *name) {
  static const char *const suffixes[] = {".csv", ".tsv", NULL};
  return has_suffix_ci(name, suffixes);
}

/* Dot files, dot folders and the resource forks macOS puts in zips. */
static gboolean is_hidden(const char *relpath) {
  g_auto(GStrv) parts = g_strsplit(relpath, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if ((parts[i][0] == '.' && strcmp(parts[i], ".") != 0) ||
        strcmp(parts[i], "__MACOSX") == 0)
      return TRUE;
  return FALSE;
}

static void progress(LatheCsvInput *in, double fraction, const char *what) {
  double f = (in->done + CLAMP(fraction, 0.0, 1.0)) / MAX(in->n_inputs, 1u);
  lathe_context_progress(in->ctx, f, what);
}

static gboolean cancelled(LatheCsvInput *in, const char *display, GError **error) {
  if (!lathe_context_is_cancelled(in->ctx))
    return FALSE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "cancelled while reading %s",
              display);
  return TRUE;
}

static void add_version(LatheCsvInput *in, const char *path, const char *digest) {
  g_autofree char *abs = g_canonicalize_filename(path, NULL);
  lathe_context_add_data_version(in->ctx, abs, digest);
}

static int open_file(const char *path, const char *display, goffset *size, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot open: %s", display,
                g_strerror(e));
    return -1;
  }
  *size = st.st_size;
  return fd;
}

/* Reads up to CHUNK bytes; returns the count, 0 at the end, -1 on error. */
static gssize read_chunk(int fd, guint8 *buf, const char *display, GError **error) {
  for (;;) {
    gssize n = read(fd, buf, CHUNK);
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: read failed: %s", display,
                g_strerror(errno));
    return -1;
  }
}

gboolean lathe_csv_input_read_file(LatheCsvInput *in, const char *path, const char *display,
                                   const char *group, GError **error) {
  goffset size = 0;
  if (cancelled(in, display, error))
    return FALSE;
  int fd = open_file(path, display, &size, error);
  if (fd < 0)
    return FALSE;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  gboolean ok = TRUE;
  goffset pos = 0;
  lathe_csv_table_begin_file(in->table, display, group);
  for (guint chunk = 1;; chunk++) {
    gssize n = read_chunk(fd, buf, display, error);
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    g_checksum_update(sum, buf, n);
    if (!lathe_csv_table_feed(in->table, buf, (gsize)n, error)) {
      ok = FALSE;
      break;
    }
    pos += n;
    if (chunk % CHECK_EVERY == 0) {
      if (cancelled(in, display, error)) {
        ok = FALSE;
        break;
      }
      progress(in, size > 0 ? (double)pos / (double)size : 0.0, display);
    }
  }
  close(fd);
  if (!ok || !lathe_csv_table_end_file(in->table, error))
    return FALSE;
  add_version(in, path, g_checksum_get_string(sum));
  return TRUE;
}

static char *hash_file(const char *path, const char *display, GError **error) {
  goffset size;
  int fd = open_file(path, display, &size, error);
  if (fd < 0)
    return NULL;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  gssize n;
  while ((n = read_chunk(fd, buf, display, error)) > 0)
    g_checksum_update(sum, buf, n);
  close(fd);
  return n == 0 ? g_strdup(g_checksum_get_string(sum)) : NULL;
}

static gboolean archive_failed(struct archive *a, const char *display, const char *what,
                               GError **error) {
  const char *why = archive_error_string(a);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s: %s: %s", display, what,
              why ? why : "unknown libarchive error");
  return FALSE;
}

/* Streams the current member's data into the table. */
static gboolean read_member(LatheCsvInput *in, struct archive *a, const char *display,
                            goffset archive_size, GError **error) {
  for (guint block = 1;; block++) {
    const void *data;
    size_t size;
    la_int64_t offset;
    int r = archive_read_data_block(a, &data, &size, &offset);
    if (r == ARCHIVE_EOF)
      return TRUE;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return archive_failed(a, display, "cannot read", error);
    if (size && !lathe_csv_table_feed(in->table, data, size, error))
      return FALSE;
    if (block % CHECK_EVERY == 0) {
      if (cancelled(in, display, error))
        return FALSE;
      double consumed = (double)archive_filter_bytes(a, -1);
      progress(in, archive_size > 0 ? consumed / (double)archive_size : 0.0, display);
    }
  }
}

static gboolean read_entries(LatheCsvInput *in, struct archive *a, const char *display,
                             const char *group_prefix, goffset size, GError **error) {
  guint members = 0;
  g_autofree char *first = NULL;
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return archive_failed(a, display, "not a readable archive", error);
    const char *name = archive_entry_pathname(e);
    if (archive_entry_filetype(e) != AE_IFREG || !name)
      continue;
    while (g_str_has_prefix(name, "./"))
      name += 2;
    if (!*name || is_hidden(name) || !is_csv_name(name))
      continue;
    if (in->one_member && members == 1) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: holds more than one .csv or .tsv file ('%s' and '%s'); each archive "
                  "must hold exactly one recording",
                  display, first, name);
      return FALSE;
    }
    if (members++ == 0)
      first = g_strdup(name);
    g_autofree char *member = g_strdup_printf("%s/%s", display, name);
    g_autofree char *group =
        in->one_member && group_prefix ? g_strdup(group_prefix)
        : group_prefix                 ? g_strdup_printf("%s/%s", group_prefix, name)
                                       : g_strdup(name);
    lathe_csv_table_begin_file(in->table, member, group);
    if (!read_member(in, a, member, size, error) ||
        !lathe_csv_table_end_file(in->table, error))
      return FALSE;
  }
  if (members == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: no .csv or .tsv file inside the archive", display);
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_csv_input_read_archive(LatheCsvInput *in, const char *path,
                                      const char *display, const char *group_prefix,
                                      GError **error) {
  if (cancelled(in, display, error))
    return FALSE;
  g_autofree char *digest = hash_file(path, display, error);
  if (!digest)
    return FALSE;
  GStatBuf st;
  goffset size = g_stat(path, &st) == 0 ? st.st_size : 0;

  struct archive *a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_zip(a);
  archive_read_support_format_tar(a);
  gboolean ok;
  if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK)
    ok = archive_failed(a, display, "cannot open archive", error);
  else
    ok = read_entries(in, a, display, group_prefix, size, error);
  archive_read_free(a);
  if (ok)
    add_version(in, path, digest);
  return ok;
}

static gint cmp_paths(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean walk(const char *root, const char *rel, GPtrArray *out, GError **error) {
  g_autofree char *dir = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
  if (!d) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot list folder %s: %s", dir,
                local->message);
    return FALSE;
  }
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (name[0] == '.')
      continue;
    char *child = rel ? g_strdup_printf("%s/%s", rel, name) : g_strdup(name);
    g_autofree char *full = g_build_filename(root, child, NULL);
    if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
      gboolean ok = g_file_test(full, G_FILE_TEST_IS_SYMLINK) || walk(root, child, out, error);
      g_free(child);
      if (!ok)
        return FALSE;
    } else if (g_file_test(full, G_FILE_TEST_IS_REGULAR) &&
               (is_csv_name(name) || lathe_csv_input_is_archive(name))) {
      g_ptr_array_add(out, child);
    } else {
      g_free(child);
    }
  }
  return TRUE;
}

GPtrArray *lathe_csv_input_list_folder(const char *dir, GError **error) {
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  if (!walk(dir, NULL, out, error))
    return NULL;
  g_ptr_array_sort(out, cmp_paths);
  return g_steal_pointer(&out);
}
