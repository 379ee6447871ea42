/* lathe-archive.h: libarchive, loaded on first use (archive/).
 *
 * libarchive brings libxml2 and ICU with it, about 4 ms of loading in every
 * process that maps it. Only archives, compressed files and model bundles
 * need it, so their readers and writers load it when the first one comes: a
 * plain CSV, a lakeFS source that only resolves its ref on a cache hit, and
 * `lathe run` itself never pay for it. One static library, linked by
 * plugins/lib-tabular and by the host (registry/lathe-bundle.c); it knows
 * GLib, GModule and the SDK's error domain only.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

/* The functions Lathe calls, by their names without "archive_". */
typedef struct {
  __typeof__(archive_entry_filetype) *entry_filetype;
  __typeof__(archive_entry_free) *entry_free;
  __typeof__(archive_entry_hardlink) *entry_hardlink;
  __typeof__(archive_entry_new) *entry_new;
  __typeof__(archive_entry_pathname) *entry_pathname;
  __typeof__(archive_entry_set_filetype) *entry_set_filetype;
  __typeof__(archive_entry_set_gid) *entry_set_gid;
  __typeof__(archive_entry_set_mtime) *entry_set_mtime;
  __typeof__(archive_entry_set_pathname) *entry_set_pathname;
  __typeof__(archive_entry_set_perm) *entry_set_perm;
  __typeof__(archive_entry_set_size) *entry_set_size;
  __typeof__(archive_entry_set_uid) *entry_set_uid;
  __typeof__(archive_entry_size) *entry_size;
  __typeof__(archive_entry_size_is_set) *entry_size_is_set;
  __typeof__(archive_entry_symlink) *entry_symlink;
  __typeof__(archive_error_string) *error_string;
  __typeof__(archive_filter_bytes) *filter_bytes;
  __typeof__(archive_filter_count) *filter_count;
  __typeof__(archive_read_data) *read_data;
  __typeof__(archive_read_data_block) *read_data_block;
  __typeof__(archive_read_free) *read_free;
  __typeof__(archive_read_new) *read_new;
  __typeof__(archive_read_next_header) *read_next_header;
  __typeof__(archive_read_open1) *read_open1;
  __typeof__(archive_read_open_filename) *read_open_filename;
  __typeof__(archive_read_open_memory) *read_open_memory;
  __typeof__(archive_read_set_callback_data) *read_set_callback_data;
  __typeof__(archive_read_set_read_callback) *read_set_read_callback;
  __typeof__(archive_read_set_seek_callback) *read_set_seek_callback;
  __typeof__(archive_read_set_skip_callback) *read_set_skip_callback;
  __typeof__(archive_read_support_filter_bzip2) *read_support_filter_bzip2;
  __typeof__(archive_read_support_filter_gzip) *read_support_filter_gzip;
  __typeof__(archive_read_support_filter_xz) *read_support_filter_xz;
  __typeof__(archive_read_support_filter_zstd) *read_support_filter_zstd;
  __typeof__(archive_read_support_format_raw) *read_support_format_raw;
  __typeof__(archive_read_support_format_tar) *read_support_format_tar;
  __typeof__(archive_read_support_format_zip) *read_support_format_zip;
  __typeof__(archive_set_error) *set_error;
  __typeof__(archive_write_close) *write_close;
  __typeof__(archive_write_data) *write_data;
  __typeof__(archive_write_free) *write_free;
  __typeof__(archive_write_header) *write_header;
  __typeof__(archive_write_new) *write_new;
  __typeof__(archive_write_open_filename) *write_open_filename;
  __typeof__(archive_write_set_format_pax_restricted) *write_set_format_pax_restricted;
} LatheArchiveApi;

/**
 * lathe_archive_api:
 * @error: set when libarchive cannot be loaded (what to install).
 *
 * Loads libarchive once per process (thread-safe) and returns its functions.
 *
 * Returns: (transfer none) (nullable): the table, or %NULL.
 */
const LatheArchiveApi *lathe_archive_api(GError **error);
