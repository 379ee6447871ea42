/* libarchive, loaded on first use (lathe-archive.h says why). */
#include <gmodule.h>

#include <lathe/lathe-sdk.h>

#include "lathe-archive.h"

/* The soname of the libarchive this was compiled against (3.x: 13). */
#define ARCHIVE_SONAME "libarchive.so.13"

static LatheArchiveApi api;
static char *load_error;

static gpointer load(gpointer data) {
  (void)data;
  /* Resident: the table outlives any caller, and libarchive keeps state. */
  GModule *m = g_module_open(ARCHIVE_SONAME, G_MODULE_BIND_LOCAL);
  if (!m)
    return (load_error = g_strdup_printf("cannot load %s (%s): install libarchive13",
                                         ARCHIVE_SONAME, g_module_error()));
  g_module_make_resident(m);
  const struct {
    const char *name;
    gpointer *slot;
  } table[] = {
      {"archive_entry_filetype", (gpointer *)&api.entry_filetype},
      {"archive_entry_free", (gpointer *)&api.entry_free},
      {"archive_entry_hardlink", (gpointer *)&api.entry_hardlink},
      {"archive_entry_new", (gpointer *)&api.entry_new},
      {"archive_entry_pathname", (gpointer *)&api.entry_pathname},
      {"archive_entry_set_filetype", (gpointer *)&api.entry_set_filetype},
      {"archive_entry_set_gid", (gpointer *)&api.entry_set_gid},
      {"archive_entry_set_mtime", (gpointer *)&api.entry_set_mtime},
      {"archive_entry_set_pathname", (gpointer *)&api.entry_set_pathname},
      {"archive_entry_set_perm", (gpointer *)&api.entry_set_perm},
      {"archive_entry_set_size", (gpointer *)&api.entry_set_size},
      {"archive_entry_set_uid", (gpointer *)&api.entry_set_uid},
      {"archive_entry_size", (gpointer *)&api.entry_size},
      {"archive_entry_size_is_set", (gpointer *)&api.entry_size_is_set},
      {"archive_entry_symlink", (gpointer *)&api.entry_symlink},
      {"archive_error_string", (gpointer *)&api.error_string},
      {"archive_filter_bytes", (gpointer *)&api.filter_bytes},
      {"archive_filter_count", (gpointer *)&api.filter_count},
      {"archive_read_data", (gpointer *)&api.read_data},
      {"archive_read_data_block", (gpointer *)&api.read_data_block},
      {"archive_read_free", (gpointer *)&api.read_free},
      {"archive_read_new", (gpointer *)&api.read_new},
      {"archive_read_next_header", (gpointer *)&api.read_next_header},
      {"archive_read_open1", (gpointer *)&api.read_open1},
      {"archive_read_open_filename", (gpointer *)&api.read_open_filename},
      {"archive_read_open_memory", (gpointer *)&api.read_open_memory},
      {"archive_read_set_callback_data", (gpointer *)&api.read_set_callback_data},
      {"archive_read_set_read_callback", (gpointer *)&api.read_set_read_callback},
      {"archive_read_set_seek_callback", (gpointer *)&api.read_set_seek_callback},
      {"archive_read_set_skip_callback", (gpointer *)&api.read_set_skip_callback},
      {"archive_read_support_filter_bzip2", (gpointer *)&api.read_support_filter_bzip2},
      {"archive_read_support_filter_gzip", (gpointer *)&api.read_support_filter_gzip},
      {"archive_read_support_filter_xz", (gpointer *)&api.read_support_filter_xz},
      {"archive_read_support_filter_zstd", (gpointer *)&api.read_support_filter_zstd},
      {"archive_read_support_format_raw", (gpointer *)&api.read_support_format_raw},
      {"archive_read_support_format_tar", (gpointer *)&api.read_support_format_tar},
      {"archive_read_support_format_zip", (gpointer *)&api.read_support_format_zip},
      {"archive_set_error", (gpointer *)&api.set_error},
      {"archive_write_close", (gpointer *)&api.write_close},
      {"archive_write_data", (gpointer *)&api.write_data},
      {"archive_write_free", (gpointer *)&api.write_free},
      {"archive_write_header", (gpointer *)&api.write_header},
      {"archive_write_new", (gpointer *)&api.write_new},
      {"archive_write_open_filename", (gpointer *)&api.write_open_filename},
      {"archive_write_set_format_pax_restricted", (gpointer *)&api.write_set_format_pax_restricted},
  };
  for (guint i = 0; i < G_N_ELEMENTS(table); i++)
    if (!g_module_symbol(m, table[i].name, table[i].slot) || !*table[i].slot)
      return (load_error = g_strdup_printf("%s lacks %s: install libarchive 3.4 or later",
                                           ARCHIVE_SONAME, table[i].name));
  return NULL;
}

const LatheArchiveApi *lathe_archive_api(GError **error) {
  static GOnce once = G_ONCE_INIT;
  g_once(&once, load, NULL);
  if (load_error) {
    g_set_error_literal(error, LATHE_ERROR, LATHE_ERROR_IO, load_error);
    return NULL;
  }
  return &api;
}
