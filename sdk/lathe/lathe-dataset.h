/* lathe-dataset.h: the tabular dataset that flows between nodes. */
#pragma once

/**
 * SECTION:lathe-dataset
 * @title: Datasets
 * @short_description: the tabular dataset that flows between nodes
 *
 * A #LatheDataset is a row-major float matrix with column names, optional
 * class labels and groups (recordings), and, since 1.2, a sequence layout.
 */

#include "lathe-api.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LatheDataset LatheDataset;

/**
 * LatheDataset:
 * @n_rows: number of rows.
 * @n_cols: number of feature columns.
 * @x: @n_rows x @n_cols float32, row-major and contiguous, ready for cblas.
 * @columns: @n_cols column names.
 * @labels: @n_rows class indices into @classes (-1: unknown), or %NULL when
 *   unlabelled.
 * @classes: @n_classes class names (sorted when read from text).
 * @n_classes: number of classes.
 * @groups: @n_rows group indices into @group_names (-1: none), or %NULL.
 * @group_names: @n_groups names (the source file, an equipment id).
 * @n_groups: number of groups.
 * @seq_len: 0 for a table. Otherwise every row is a sequence of @seq_len
 *   steps of @n_cols / @seq_len channels, stored step-major (step t, channel
 *   c at column t * channels + c), and the column names are "CHANNEL@t".
 *   Since: 1.2.
 * @lengths: (nullable): for sequences, the valid steps of each row
 *   (1..@seq_len); the steps after them are padding (zeros). %NULL means
 *   every row is full. Since: 1.2.
 *
 * Allocate only with lathe_dataset_new(): fields may be appended in later
 * minor versions. Once a dataset is inside an artifact it is shared between
 * threads and must not be modified.
 */
struct _LatheDataset {
  guint n_rows;
  guint n_cols;
  float *x;
  char **columns;
  gint32 *labels;
  char **classes;
  guint n_classes;
  gint32 *groups;
  char **group_names;
  guint n_groups;
  /*< private >*/
  gint ref_count;
  /*< public >*/
  /* Since: 1.2. Only the SDK allocates datasets, so appending is compatible. */
  guint seq_len;
  guint32 *lengths;
};

/**
 * lathe_dataset_new:
 * @n_rows: rows.
 * @n_cols: columns.
 *
 * Allocates a dataset; the only way to get one (fields may be appended).
 *
 * Returns: (transfer full): a dataset with zeroed @x, column names "c0".."cN",
 * no labels and no groups. Free with lathe_dataset_unref().
 */
LATHE_API LatheDataset *lathe_dataset_new(guint n_rows, guint n_cols);

/**
 * lathe_dataset_ref:
 * @ds: a dataset.
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @ds.
 */
LATHE_API LatheDataset *lathe_dataset_ref(LatheDataset *ds);

/**
 * lathe_dataset_unref:
 * @ds: a dataset.
 *
 * Drops a reference; the last one frees @ds.
 */
LATHE_API void lathe_dataset_unref(LatheDataset *ds);

/**
 * lathe_dataset_set_classes:
 * @ds: a dataset.
 * @classes: (transfer none): %NULL-terminated class names.
 *
 * Sets the class names and allocates @labels (all zero).
 */
LATHE_API void lathe_dataset_set_classes(LatheDataset *ds, const char *const *classes);

/**
 * lathe_dataset_set_groups:
 * @ds: a dataset.
 * @names: (transfer none): %NULL-terminated group names.
 *
 * Sets the group names and allocates @groups (all zero).
 */
LATHE_API void lathe_dataset_set_groups(LatheDataset *ds, const char *const *names);

/**
 * lathe_dataset_set_sequence:
 * @ds: a dataset whose @n_cols is a multiple of @seq_len.
 * @seq_len: steps per row (> 0).
 * @with_lengths: allocate @lengths (all set to @seq_len).
 *
 * Marks @ds as a sequence dataset.
 *
 * Returns: %FALSE, changing nothing, when @seq_len does not divide @n_cols.
 *
 * Since: 1.2
 */
LATHE_API gboolean lathe_dataset_set_sequence(LatheDataset *ds, guint seq_len,
                                              gboolean with_lengths);

/**
 * lathe_dataset_channels:
 * @ds: a dataset.
 *
 * The channels of a step of a sequence dataset.
 *
 * Returns: channels per step: @n_cols / @seq_len for a sequence dataset,
 * @n_cols for a table.
 *
 * Since: 1.2
 */
LATHE_API guint lathe_dataset_channels(const LatheDataset *ds);

/**
 * LatheRowRun:
 * @start: first row.
 * @end: one past the last row.
 *
 * Rows [@start, @end) of one recording (group) of a long table.
 */
typedef struct {
  guint start;
  guint end;
} LatheRowRun;

/**
 * lathe_dataset_group_runs:
 * @ds: a long table whose rows are grouped by recording (or not grouped).
 * @error: return location for a #GError.
 *
 * The recordings of a long table, in row order: each maximal run of
 * consecutive rows with the same group. A table without groups is one
 * recording (none when it has no rows).
 *
 * Returns: (transfer full) (nullable): a #GArray of #LatheRowRun, or %NULL
 * with %LATHE_ERROR_DATA when a row has no group or a group's rows are split
 * over several runs (its sequence would be out of order).
 *
 * Since: 1.2
 */
LATHE_API GArray *lathe_dataset_group_runs(const LatheDataset *ds, GError **error);

/**
 * lathe_dataset_majority_label:
 * @ds: a labelled dataset.
 * @start: first row.
 * @end: one past the last row.
 *
 * The label of a window of rows, by vote.
 *
 * Returns: the most frequent label of rows [@start, @end), ties to the lowest
 * class index; -1 when no row has a valid label.
 *
 * Since: 1.2
 */
LATHE_API gint32 lathe_dataset_majority_label(const LatheDataset *ds, guint start, guint end);

/**
 * lathe_dataset_column_index:
 * @ds: a dataset.
 * @name: a column name.
 *
 * Looks a column up by name.
 *
 * Returns: the index of the column named @name, or -1.
 *
 * Since: 1.3
 */
LATHE_API gint lathe_dataset_column_index(const LatheDataset *ds, const char *name);

/**
 * lathe_dataset_copy_targets:
 * @dst: a dataset with as many rows as @src.
 * @src: the dataset whose labels and groups to copy.
 *
 * Copies @src's classes and labels, and its group names and groups, when it
 * has them: what a transform that keeps the rows passes on.
 *
 * Since: 1.3
 */
LATHE_API void lathe_dataset_copy_targets(LatheDataset *dst, const LatheDataset *src);

/**
 * lathe_dataset_add_columns:
 * @ds: a dataset.
 * @names: (array length=k): the new columns' names.
 * @k: how many columns to add.
 *
 * What a transform that appends scores or features needs: a copy of @ds
 * (its columns, rows, classes, labels and groups) with @k more columns at
 * the end, named @names and holding zeros, for the caller to fill.
 *
 * Returns: (transfer full): the new dataset, @ds's columns first.
 *
 * Since: 1.9
 */
LATHE_API LatheDataset *lathe_dataset_add_columns(const LatheDataset *ds, const char *const *names,
                                                  guint k);

/**
 * lathe_dataset_series_rows:
 * @ds: a long table; its groups are the series (none: one series).
 * @n_series: (out): the number of series.
 * @offsets: (out) (transfer full): @n_series + 1 offsets into the result;
 *   series g is rows[offsets[g] .. offsets[g + 1]).
 *
 * The rows of each series in row order, for series whose rows may be
 * interleaved with other series'. Rows without a group (-1) belong to no
 * series.
 *
 * Returns: (transfer full): the row indices, g_free() it.
 *
 * Since: 1.3
 */
LATHE_API guint *lathe_dataset_series_rows(const LatheDataset *ds, guint *n_series, guint **offsets);

/**
 * lathe_dataset_set_column:
 * @ds: a dataset.
 * @col: a column index.
 * @name: the new name (copied).
 *
 * Renames a column.
 */
LATHE_API void lathe_dataset_set_column(LatheDataset *ds, guint col, const char *name);

/**
 * lathe_dataset_take_rows:
 * @ds: a dataset.
 * @rows: (array length=n): row indices, in the order wanted.
 * @n: how many.
 *
 * Selects and reorders rows (a split, a shuffle, a sample).
 *
 * Returns: (transfer full): a new dataset with those rows, and the same
 * columns, classes, groups and sequence layout.
 */
LATHE_API LatheDataset *lathe_dataset_take_rows(const LatheDataset *ds,
                                                const guint32 *rows, guint n);

/**
 * lathe_dataset_serialize:
 * @ds: a dataset.
 *
 * Encodes @ds as edges and the store carry it; the encoding is what a
 * dataset's digest, and so every cache key, is computed over.
 *
 * Returns: (transfer full): a portable little-endian encoding of @ds.
 */
LATHE_API GBytes *lathe_dataset_serialize(const LatheDataset *ds);

/**
 * lathe_dataset_deserialize:
 * @bytes: bytes from lathe_dataset_serialize().
 * @error: return location for a #GError.
 *
 * Refuses truncated or inconsistent input with %LATHE_ERROR_DATA.
 *
 * Returns: (transfer full) (nullable): the dataset, or %NULL on error.
 */
LATHE_API LatheDataset *lathe_dataset_deserialize(GBytes *bytes, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheDataset, lathe_dataset_unref)

G_END_DECLS
