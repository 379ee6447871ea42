/* csv-input.h: where the CSV bytes come from: plain files, folders and
 * archives on disk, streamed into a #LatheCsvTable while being hashed. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "csv-table.h"

G_BEGIN_DECLS

/**
 * LatheCsvInput:
 * @ctx: the node's context: data versions, progress and cancellation.
 * @table: where the records go.
 * @n_inputs: how many top-level inputs (files or archives) will be read.
 * @done: how many are finished; the caller bumps it after each.
 * @one_member: an archive must hold exactly one .csv or .tsv file (one
 *   recording), whose group is the group prefix itself (the archive's path).
 *
 * Progress is reported as (@done + fraction of the current input) / @n_inputs.
 */
typedef struct {
  LatheContext *ctx;
  LatheCsvTable *table;
  guint n_inputs;
  guint done;
  gboolean one_member;
} LatheCsvInput;

/**
 * lathe_csv_input_is_archive:
 * @name: a file name.
 *
 * Returns: whether @name ends in .zip, .tar, .tar.gz or .tgz (any case).
 */
gboolean lathe_csv_input_is_archive(const char *name);

/**
 * lathe_csv_input_list_folder:
 * @dir: a folder.
 * @error: return location for a #GError.
 *
 * Lists, recursively, the .csv and .tsv files and the archives under @dir,
 * sorted by byte order of their relative paths ('/'-separated). Names
 * starting with '.' are skipped, and symbolic links to folders are not
 * followed (no loops).
 *
 * Returns: (transfer full) (nullable): the relative paths, or %NULL with
 * @error set when @dir cannot be read.
 */
GPtrArray *lathe_csv_input_list_folder(const char *dir, GError **error);

/**
 * lathe_csv_input_read_file:
 * @in: the reader.
 * @path: the file on disk.
 * @display: how errors name it.
 * @group: its group name when grouping by file.
 * @error: return location for a #GError.
 *
 * Streams @path into the table, hashing it on the way, and records its
 * SHA-256 with lathe_context_add_data_version().
 *
 * Returns: %FALSE with @error set on a read, parse or data error.
 */
gboolean lathe_csv_input_read_file(LatheCsvInput *in, const char *path,
                                   const char *display, const char *group,
                                   GError **error);

/**
 * lathe_csv_input_read_archive:
 * @in: the reader.
 * @path: a .zip, .tar, .tar.gz or .tgz file.
 * @display: how errors name it; members are "@display/member.csv".
 * @group_prefix: (nullable): put before member paths to make group names.
 * @error: return location for a #GError.
 *
 * Reads every .csv and .tsv member in archive order (hidden entries and
 * __MACOSX skipped) and records the archive's SHA-256. With @in->one_member
 * the archive must hold exactly one, grouped as @group_prefix.
 *
 * Returns: %FALSE with @error set when the archive is unreadable, holds no
 * CSV, or a member is bad.
 */
gboolean lathe_csv_input_read_archive(LatheCsvInput *in, const char *path,
                                      const char *display,
                                      const char *group_prefix, GError **error);

G_END_DECLS
