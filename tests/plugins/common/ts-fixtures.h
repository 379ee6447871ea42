/* ts-fixtures.h: running the time-series components on hand-made inputs. */
#pragma once

#include "test-util.h"

/**
 * ts_run:
 * @plugin: plugin folder ("transform-lags").
 * @id: component id.
 * @params: (nullable): JSON params.
 * @input: (nullable) (transfer full): dataset on input "data", %NULL for a source.
 * @ctx_out: (out) (optional): the context, to read data versions; free it.
 * @error: the component's error.
 *
 * Returns: (transfer full) (nullable): the dataset on output "data".
 */
LatheDataset *ts_run(const char *plugin, const char *id, const char *params,
                     LatheDataset *input, LatheContext **ctx_out, GError **error);

/** ts_expect_error: runs expecting a one-line LATHE_ERROR; returns the message. */
char *ts_expect_error(const char *plugin, const char *id, const char *params,
                      LatheDataset *input);

/** ts_col: index of column @name; fails the test when absent. */
guint ts_col(const LatheDataset *ds, const char *name);

/** ts_at: value at row @r of column @name. */
float ts_at(const LatheDataset *ds, guint r, const char *name);

/** ts_assert_contains: fails unless @needle is in @haystack. */
void ts_assert_contains(const char *haystack, const char *needle);

/**
 * ts_series:
 * @n: rows.
 * @n_groups: series, interleaved row by row when @interleave, else in blocks.
 * @seed: for the values.
 *
 * Returns: (transfer full): columns "timestamp_days", "timestamp_sec", "value",
 * "other", noisy values with an offset, groups "s0".."sN".
 */
LatheDataset *ts_series(guint n, guint n_groups, gboolean interleave, guint32 seed);
