/* Files, folders and archives -> table. Plain files are hashed in the same
 * pass that parses them; archives and compressed files are hashed in a pass
 * of their own because libarchive seeks inside zips (central directory), so
 * the bytes it reads are neither in order nor read once. Every file is opened
 * once, without blocking, and checked to be a regular file on that
 * descriptor (lathe_open_regular_file), so a FIFO can never hang a run. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lathe-archive.h"
#include "csv-input.h"

/* Set by read_packed(), the way in to everything below that calls it. */
static const LatheArchiveApi *A;

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

static const char *const compressions[] = {".gz", ".bz2", ".xz", ".zst", NULL};

gboolean lathe_csv_input_is_compressed(const char *name) {
  return has_suffix_ci(name, compressions) && !lathe_csv_input_is_archive(name);
}

static gboolean is_csv_name(const char *name) {
  static const char *const suffixes[] = {".csv", ".tsv", NULL};
  return has_suffix_ci(name, suffixes);
}

/* "a.csv.gz" and friends, which a folder lists beside plain CSV files. */
static gboolean is_compressed_csv_name(const char *name) {
  if (!lathe_csv_input_is_compressed(name))
    return FALSE;
  g_autofree char *base = g_strndup(name, strrchr(name, '.') - name);
  return is_csv_name(base);
}

void lathe_csv_input_set_limits(LatheCsvInput *in, LatheContext *ctx) {
  gint64 mb = lathe_context_param_int(ctx, "max_expanded_mb");
  gint64 ratio = lathe_context_param_int(ctx, "max_ratio");
  /* In the params 0 turns a check off; in LatheCsvInput 0 means the default. */
  in->max_expanded = mb > 0 ? (guint64)mb << 20 : G_MAXUINT64;
  in->max_ratio = ratio > 0 ? (guint64)ratio : G_MAXUINT64;
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
  if (in->no_versions)
    return;
  g_autofree char *abs = g_canonicalize_filename(path, NULL);
  lathe_context_add_data_version(in->ctx, abs, digest);
}

static int open_file(const char *path, const char *display, goffset *size, GError **error) {
  return lathe_open_regular_file(path, display, size, error);
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

/* Hashes the whole file from the start and rewinds it for libarchive. */
static char *hash_fd(int fd, const char *display, GError **error) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  gssize n;
  while ((n = read_chunk(fd, buf, display, error)) > 0)
    g_checksum_update(sum, buf, n);
  if (n < 0)
    return NULL;
  if (lseek(fd, 0, SEEK_SET) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s: cannot rewind: %s", display,
                g_strerror(errno));
    return NULL;
  }
  return g_strdup(g_checksum_get_string(sum));
}

/* libarchive reads our descriptor, never the path: the file checked by
 * open_file() is the one decompressed. Seeking keeps zips on their fast,
 * central-directory reader. */
typedef struct {
  int fd;
  guint8 *buf;
} Source;

static la_ssize_t source_read(struct archive *a, void *data, const void **out) {
  Source *src = data;
  *out = src->buf;
  for (;;) {
    gssize n = read(src->fd, src->buf, CHUNK);
    if (n >= 0)
      return n;
    if (errno != EINTR) {
      A->set_error(a, errno, "%s", g_strerror(errno));
      return -1;
    }
  }
}

static la_int64_t source_seek(struct archive *a, void *data, la_int64_t offset, int whence) {
  Source *src = data;
  off_t r = lseek(src->fd, (off_t)offset, whence);
  if (r < 0)
    A->set_error(a, errno, "%s", g_strerror(errno));
  return r < 0 ? ARCHIVE_FATAL : (la_int64_t)r;
}

static la_int64_t source_skip(struct archive *a, void *data, la_int64_t request) {
  Source *src = data;
  off_t from = lseek(src->fd, 0, SEEK_CUR);
  off_t to = from < 0 ? -1 : lseek(src->fd, (off_t)request, SEEK_CUR);
  (void)a;
  return to < 0 ? 0 : (la_int64_t)(to - from);
}

static void open_source(struct archive *a, Source *src) {
  A->read_set_callback_data(a, src);
  A->read_set_read_callback(a, source_read);
  A->read_set_seek_callback(a, source_seek);
  A->read_set_skip_callback(a, source_skip);
}

/* Only decompressors built into libarchive: one that would run an external
 * program (its support call says ARCHIVE_WARN) is left out, probed on a
 * throwaway handle because registering cannot be undone. */
static void support_filters(struct archive *a) {
  int (*const filters[])(struct archive *) = {
      A->read_support_filter_gzip, A->read_support_filter_bzip2,
      A->read_support_filter_xz, A->read_support_filter_zstd};
  for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
    struct archive *probe = A->read_new();
    int r = filters[i](probe);
    A->read_free(probe);
    if (r == ARCHIVE_OK)
      filters[i](a);
  }
}

static gboolean archive_failed(struct archive *a, const char *display, const char *what,
                               GError **error) {
  const char *why = A->error_string(a);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s: %s: %s", display, what,
              why ? why : "unknown libarchive error");
  return FALSE;
}

/* One archive or compressed file being expanded. */
typedef struct {
  LatheCsvInput *in;
  struct archive *a;
  const char *display; /* the archive's, which limit errors name */
  goffset size;
  guint64 expanded;
} Unpack;

/* "1.0 GiB" with a plain space: GLib puts a no-break space there, which
 * grep and terminals without UTF-8 do not take for one. */
static char *iec(guint64 bytes) {
  g_autofree char *s = g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_auto(GStrv) parts = g_strsplit(s, "\xc2\xa0", -1);
  return g_strjoinv(" ", parts);
}

/* Counts @n more expanded bytes; fails as soon as a limit is crossed, before
 * they are parsed, so a bomb costs at most one block past the limit. */
static gboolean check_limits(Unpack *u, gsize n, GError **error) {
  guint64 max = u->in->max_expanded ? u->in->max_expanded : LATHE_CSV_DEFAULT_MAX_EXPANDED;
  guint64 ratio = u->in->max_ratio ? u->in->max_ratio : LATHE_CSV_DEFAULT_MAX_RATIO;
  u->expanded += n;
  if (u->expanded > max) {
    g_autofree char *lim = iec(max);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: expands to more than %s (max_expanded_mb); raise max_expanded_mb, or "
                "set it to 0 for no limit, if you trust this file",
                u->display, lim);
    return FALSE;
  }
  guint64 packed = (guint64)MAX(u->size, 1);
  if (u->expanded > LATHE_CSV_RATIO_FLOOR && packed <= G_MAXUINT64 / ratio &&
      u->expanded > packed * ratio) {
    g_autofree char *from = iec(packed);
    g_autofree char *to = iec(u->expanded);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: expands more than %" G_GUINT64_FORMAT " times its size (%s already, "
                "from %s; max_ratio), as a zip bomb does; raise max_ratio, or set it to 0 "
                "for no limit, if you trust this file",
                u->display, ratio, to, from);
    return FALSE;
  }
  return TRUE;
}

static gboolean damaged_member(Unpack *u, const char *member, GError **error) {
  const char *why = A->error_string(u->a);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
              "%s: damaged data: %s; %s is corrupt: download or copy it again", member,
              why ? why : "libarchive warned while reading it", u->display);
  return FALSE;
}

/* Streams the current member's data into the table. */
static gboolean read_member(Unpack *u, const char *member, GError **error) {
  for (guint block = 1;; block++) {
    const void *data;
    size_t size;
    la_int64_t offset;
    int r = A->read_data_block(u->a, &data, &size, &offset);
    if (r == ARCHIVE_EOF)
      return TRUE;
    /* A warning while reading data means the data itself is suspect: zip
     * reports a member whose CRC-32 does not match ("ZIP bad CRC") this way,
     * after handing over every byte. Using it would train on damaged data,
     * so it fails like a read error, blaming the copy of the archive.
     * (Warnings from A->read_next_header are about metadata, such as a
     * malformed pax attribute, and stay accepted there.) */
    if (r == ARCHIVE_WARN)
      return damaged_member(u, member, error);
    if (r != ARCHIVE_OK)
      return archive_failed(u->a, member, "cannot read", error);
    if (!check_limits(u, size, error))
      return FALSE;
    if (size && !lathe_csv_table_feed(u->in->table, data, size, error))
      return FALSE;
    if (block % CHECK_EVERY == 0) {
      if (cancelled(u->in, member, error))
        return FALSE;
      double consumed = (double)A->filter_bytes(u->a, -1);
      progress(u->in, u->size > 0 ? consumed / (double)u->size : 0.0, member);
    }
  }
}

static gboolean read_entries(Unpack *u, const char *group_prefix, GError **error) {
  LatheCsvInput *in = u->in;
  guint members = 0;
  g_autofree char *first = NULL;
  for (;;) {
    struct archive_entry *e;
    int r = A->read_next_header(u->a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return archive_failed(u->a, u->display, "not a readable archive", error);
    const char *name = A->entry_pathname(e);
    if (A->entry_filetype(e) != AE_IFREG || !name)
      continue;
    while (g_str_has_prefix(name, "./"))
      name += 2;
    if (!*name || is_hidden(name) || !is_csv_name(name))
      continue;
    if (in->one_member && members == 1) {
      g_autofree char *one = lathe_value_excerpt(first, -1);
      g_autofree char *two = lathe_value_excerpt(name, -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: holds more than one .csv or .tsv file (%s and %s); each archive "
                  "must hold exactly one recording",
                  u->display, one, two);
      return FALSE;
    }
    if (members++ == 0)
      first = g_strdup(name);
    g_autofree char *member = g_strdup_printf("%s/%s", u->display, name);
    g_autofree char *group =
        in->one_member && group_prefix ? g_strdup(group_prefix)
        : group_prefix                 ? g_strdup_printf("%s/%s", group_prefix, name)
                                       : g_strdup(name);
    lathe_csv_table_begin_file(in->table, member, group);
    if (!read_member(u, member, error) || !lathe_csv_table_end_file(in->table, error))
      return FALSE;
  }
  if (members == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: no .csv or .tsv file inside the archive", u->display);
    return FALSE;
  }
  return TRUE;
}

/* A compressed file holds one CSV: libarchive's raw format over the filter. */
static gboolean read_single(Unpack *u, const char *group, GError **error) {
  struct archive_entry *e;
  int r = A->read_next_header(u->a, &e);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return archive_failed(u->a, u->display, "cannot decompress", error);
  if (A->filter_count(u->a) < 2) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: not compressed in a format this build can read (gzip, bzip2, xz or "
                "zstd); decompress it, or name it without the compression suffix",
                u->display);
    return FALSE;
  }
  lathe_csv_table_begin_file(u->in->table, u->display, group);
  return read_member(u, u->display, error) && lathe_csv_table_end_file(u->in->table, error);
}

/* Archives and compressed files: hashed whole, then expanded within limits. */
static gboolean read_packed(LatheCsvInput *in, const char *path, const char *display,
                            const char *group, gboolean single, GError **error) {
  if (cancelled(in, display, error) || !(A = lathe_archive_api(error)))
    return FALSE;
  goffset size = 0;
  int fd = open_file(path, display, &size, error);
  if (fd < 0)
    return FALSE;
  /* A caller that records its own versions has checked the bytes already. */
  g_autofree char *digest = in->no_versions ? NULL : hash_fd(fd, display, error);
  if (!in->no_versions && !digest) {
    close(fd);
    return FALSE;
  }
  g_autofree guint8 *buf = g_malloc(CHUNK);
  Source src = {fd, buf};
  struct archive *a = A->read_new();
  support_filters(a);
  if (single) {
    A->read_support_format_raw(a);
  } else {
    A->read_support_format_zip(a);
    A->read_support_format_tar(a);
  }
  open_source(a, &src);
  Unpack u = {.in = in, .a = a, .display = display, .size = size};
  gboolean ok;
  if (A->read_open1(a) != ARCHIVE_OK)
    ok = archive_failed(a, display, single ? "cannot decompress" : "cannot open archive",
                        error);
  else
    ok = single ? read_single(&u, group, error) : read_entries(&u, group, error);
  A->read_free(a);
  close(fd);
  if (ok)
    add_version(in, path, digest);
  return ok;
}

gboolean lathe_csv_input_read_archive(LatheCsvInput *in, const char *path,
                                      const char *display, const char *group_prefix,
                                      GError **error) {
  return read_packed(in, path, display, group_prefix, FALSE, error);
}

gboolean lathe_csv_input_read_compressed(LatheCsvInput *in, const char *path,
                                         const char *display, const char *group,
                                         GError **error) {
  return read_packed(in, path, display, group, TRUE, error);
}

gboolean lathe_csv_input_read_any(LatheCsvInput *in, const char *path, const char *name,
                                  const char *display, const char *group, GError **error) {
  if (!name)
    name = path;
  if (lathe_csv_input_is_archive(name))
    return lathe_csv_input_read_archive(in, path, display, group, error);
  if (lathe_csv_input_is_compressed(name))
    return lathe_csv_input_read_compressed(in, path, display, group, error);
  return lathe_csv_input_read_file(in, path, display, group, error);
}

static gboolean is_listed_name(const char *name) {
  return is_csv_name(name) || is_compressed_csv_name(name) || lathe_csv_input_is_archive(name);
}

gboolean lathe_csv_input_is_listed(const char *relpath) {
  const char *base = strrchr(relpath, '/');
  base = base ? base + 1 : relpath;
  return *base && !is_hidden(relpath) && is_listed_name(base);
}

static gint cmp_paths(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A folder on the way down: links are followed, so a folder met again
 * among its own ancestors is a loop. */
typedef struct {
  dev_t dev;
  ino_t ino;
  const char *rel;
} Visit;

static gboolean walk(const char *root, const char *display, const char *rel, GArray *path,
                     GPtrArray *out, GError **error) {
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
    g_autofree char *child = rel ? g_strdup_printf("%s/%s", rel, name) : g_strdup(name);
    g_autofree char *full = g_build_filename(root, child, NULL);
    GStatBuf st;
    if (g_stat(full, &st) != 0) /* a dangling link: nothing to read */
      continue;
    if (S_ISDIR(st.st_mode)) {
      for (guint k = 0; k < path->len; k++) {
        const Visit *v = &g_array_index(path, Visit, k);
        if (v->dev == st.st_dev && v->ino == st.st_ino) {
          g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                      "%s/%s: symbolic link loops back to %s%s%s; remove the link or point "
                      "it outside the folder",
                      display, child, display, v->rel ? "/" : "", v->rel ? v->rel : "");
          return FALSE;
        }
      }
      Visit me = {st.st_dev, st.st_ino, child};
      g_array_append_val(path, me);
      gboolean ok = walk(root, display, child, path, out, error);
      g_array_set_size(path, path->len - 1);
      if (!ok)
        return FALSE;
    } else if (S_ISREG(st.st_mode) && is_listed_name(name)) {
      g_ptr_array_add(out, g_steal_pointer(&child));
    }
  }
  return TRUE;
}

GPtrArray *lathe_csv_input_list_folder(const char *dir, const char *display,
                                       GError **error) {
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) path = g_array_new(FALSE, FALSE, sizeof(Visit));
  GStatBuf st;
  if (g_stat(dir, &st) == 0) {
    Visit top = {st.st_dev, st.st_ino, NULL};
    g_array_append_val(path, top);
  }
  if (!walk(dir, display, NULL, path, out, error))
    return NULL;
  g_ptr_array_sort(out, cmp_paths);
  return g_steal_pointer(&out);
}
