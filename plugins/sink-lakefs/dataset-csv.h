/* dataset-csv.h: a dataset as CSV text that source/csv reads back. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * lathe_dataset_write_csv:
 * @ds: the dataset.
 * @path: the file to write (replaced).
 * @error: a LATHE_ERROR_IO naming @path.
 *
 * Writes a header row (the column names, then "label" when @ds has labels
 * and "group" when it has groups, each renamed "label_2"... if a column
 * already has that name), then one row per dataset row: floats in their
 * shortest text that reads back as the same float32 (C locale), class and
 * group names as text, RFC 4180 quoting where a field needs it. A NaN and
 * an unknown label or group (-1) are empty fields. A sequence dataset is
 * written as its flattened "CHANNEL@t" columns. Streamed: nothing but one
 * row is held in memory.
 *
 * Returns: TRUE on success.
 */
gboolean lathe_dataset_write_csv(const LatheDataset *ds, const char *path, GError **error);

/* Returns: (transfer full): the name of the extra column (@base, or
 * @base_2, @base_3... when a column of @ds already has that name). */
char *lathe_dataset_csv_extra_column(const LatheDataset *ds, const char *base);

G_END_DECLS
