/* archive-loader.h: libarchive, loaded on first use.
 *
 * libarchive brings libxml2 and ICU with it, about 4 ms of loading in every
 * process that maps it. Only archives and compressed files need it, so the
 * readers load it when the first one comes: a plain CSV, and a lakeFS
 * source that only resolves its ref on a cache hit, never pay for it.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

/* The functions csv-input.c calls, by their names without "archive_". */
typedef struct {
  __typeof__(archive_entry_filetype) *entry_filetype;
  __typeof__(archive_entry_pathname) *entry_pathname;
  __typeof__(archive_error_string) *error_string;
  __typeof__(archive_filter_bytes) *filter_bytes;
  __typeof__(archive_filter_count) *filter_count;
  __typeof__(archive_read_data_block) *read_data_block;
  __typeof__(archive_read_free) *read_free;
  __typeof__(archive_read_new) *read_new;
  __typeof__(archive_read_next_header) *read_next_header;
  __typeof__(archive_read_open1) *read_open1;
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
