/* csv-input.h: where the CSV bytes come from: plain files, compressed files,
 * folders and archives on disk, streamed into a #LatheCsvTable while being
 * hashed, within limits on what archives and compressed files expand to. */
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
 * @max_expanded: the most bytes one archive or compressed file may expand to
 *   (all members together); 0 for %LATHE_CSV_DEFAULT_MAX_EXPANDED.
 * @max_ratio: the most it may expand per byte of its size, once past
 *   %LATHE_CSV_RATIO_FLOOR; 0 for %LATHE_CSV_DEFAULT_MAX_RATIO.
 * @no_versions: record no data version: the caller records its own (a
 *   lakeFS object's URI and checksum, not the path of its cached copy).
 *
 * Progress is reported as (@done + fraction of the current input) / @n_inputs.
 */
typedef struct {
  LatheContext *ctx;
  LatheCsvTable *table;
  guint n_inputs;
  guint done;
  gboolean one_member;
  guint64 max_expanded;
  guint64 max_ratio;
  gboolean no_versions;
} LatheCsvInput;

/* 1 GiB and 100:1 hold any real CSV export (the IDEKO zips expand 4:1);
 * a zip bomb is stopped at the first block past max(16 MiB, 100 x its size). */
#define LATHE_CSV_DEFAULT_MAX_EXPANDED ((guint64)1 << 30)
#define LATHE_CSV_DEFAULT_MAX_RATIO 100
#define LATHE_CSV_RATIO_FLOOR ((guint64)16 << 20)

/* The params that set the limits, shared by source/csv and source/recordings. */
#define LATHE_CSV_LIMIT_PARAMS                                                          \
  LATHE_PARAM_INT_("max_expanded_mb", "1024", 0, 1 << 30,                               \
                   "the most MiB one archive or compressed file may expand to; 0 = no "  \
                   "limit"),                                                             \
      LATHE_PARAM_INT_("max_ratio", "100", 0, G_MAXINT32,                               \
                       "the most an archive or compressed file may expand per byte of "  \
                       "its size, once past 16 MiB (zip bombs); 0 = no limit")

/**
 * lathe_csv_input_set_limits:
 * @in: the reader.
 * @ctx: a node declaring %LATHE_CSV_LIMIT_PARAMS.
 *
 * Sets @in's limits from the params (where 0 means no limit).
 */
void lathe_csv_input_set_limits(LatheCsvInput *in, LatheContext *ctx);

/**
 * lathe_csv_input_is_archive:
 * @name: a file name.
 *
 * Returns: whether @name ends in .zip, .tar, .tar.gz or .tgz (any case).
 */
gboolean lathe_csv_input_is_archive(const char *name);

/**
 * lathe_csv_input_is_compressed:
 * @name: a file name.
 *
 * Returns: whether @name ends in .gz, .bz2, .xz or .zst (any case) and is not
 * an archive (.tar.gz): one compressed CSV.
 */
gboolean lathe_csv_input_is_compressed(const char *name);

/**
 * lathe_csv_input_is_listed:
 * @relpath: a path below a folder, '/'-separated.
 *
 * Returns: whether lathe_csv_input_list_folder() would list it: a .csv or
 * .tsv file (also compressed) or an archive, no component starting with '.'.
 */
gboolean lathe_csv_input_is_listed(const char *relpath);

/**
 * lathe_csv_input_list_folder:
 * @dir: a folder.
 * @display: how errors name it.
 * @error: return location for a #GError.
 *
 * Lists, recursively, the .csv and .tsv files (also compressed, as .csv.gz
 * and so on) and the archives under @dir, sorted by byte order of their
 * relative paths ('/'-separated). Names starting with '.' are skipped.
 * Symbolic links are followed; a link to a folder above it (a loop) is an
 * error naming both.
 *
 * Returns: (transfer full) (nullable): the relative paths, or %NULL with
 * @error set when @dir cannot be read or holds a loop.
 */
GPtrArray *lathe_csv_input_list_folder(const char *dir, const char *display,
                                       GError **error);

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
 * __MACOSX skipped) within @in's limits, and records the archive's SHA-256.
 * With @in->one_member the archive must hold exactly one, grouped as
 * @group_prefix.
 *
 * Returns: %FALSE with @error set when the archive is unreadable, holds no
 * CSV, or a member is bad.
 */
gboolean lathe_csv_input_read_archive(LatheCsvInput *in, const char *path,
                                      const char *display,
                                      const char *group_prefix, GError **error);

/**
 * lathe_csv_input_read_compressed:
 * @in: the reader.
 * @path: a .gz, .bz2, .xz or .zst file holding one CSV.
 * @display: how errors name it.
 * @group: its group name when grouping by file.
 * @error: return location for a #GError.
 *
 * Decompresses @path within @in's limits into the table, and records the
 * SHA-256 of the compressed file.
 *
 * Returns: %FALSE with @error set on a read, decompression, limit, parse or
 * data error.
 */
gboolean lathe_csv_input_read_compressed(LatheCsvInput *in, const char *path,
                                         const char *display, const char *group,
                                         GError **error);

/**
 * lathe_csv_input_read_any:
 * @in: the reader.
 * @path: the file on disk.
 * @name: the name whose ending gives its type (a cached copy has none of
 *   its own); @path when %NULL.
 * @display: how errors name it.
 * @group: the group of a file, the group prefix of an archive's members.
 * @error: return location for a #GError.
 *
 * Reads @path as an archive, a compressed file or a CSV file, by @name.
 *
 * Returns: %FALSE with @error set on any error.
 */
gboolean lathe_csv_input_read_any(LatheCsvInput *in, const char *path, const char *name,
                                  const char *display, const char *group, GError **error);

G_END_DECLS
