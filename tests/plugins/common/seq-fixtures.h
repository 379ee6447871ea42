/* seq-fixtures.h: small hand-built long tables and sequence datasets, and a
 * way to run one transform component on them, for the sequence transform
 * tests. */
#pragma once

#include "test-util.h"

/**
 * seq_long_table:
 * @n_cols: channels; named "a", "b", "c"...
 * @lens: rows of each recording, in order.
 * @n_rec: how many recordings; 0 makes a table without groups of @lens[0] rows.
 *
 * Row r, column j holds r + 100 * j, so every value says where it came from.
 * Recording i is group "rec<i>"; row labels are recording i's class i % 2 of
 * the classes "k0", "k1".
 *
 * Returns: (transfer full): the table.
 */
LatheDataset *seq_long_table(guint n_cols, const guint *lens, guint n_rec);

/**
 * SeqRun:
 * @ctx: the node's context, holding the outputs.
 */
typedef struct {
  LatheContext *ctx;
} SeqRun;

/**
 * seq_run:
 * @run: (out): filled in; clear it with seq_run_clear().
 * @plugin: the plugin folder ("transform-pad").
 * @id: the component ("transform/pad").
 * @node: the node id.
 * @params: (nullable): JSON params.
 * @error: return location for the component's error.
 * @...: pairs of input name and (transfer full) #LatheDataset, then %NULL.
 *
 * Returns: what the component's run returned.
 */
gboolean seq_run(SeqRun *run, const char *plugin, const char *id, const char *node,
                 const char *params, GError **error, ...) G_GNUC_NULL_TERMINATED;

/** seq_output: (transfer none) (nullable) the dataset on output @name. */
const LatheDataset *seq_output(SeqRun *run, const char *name);

void seq_run_clear(SeqRun *run);

/**
 * seq_expect_error:
 * @plugin: plugin folder.
 * @id: component id.
 * @params: (nullable): params.
 * @ds: (transfer full): the dataset on input "data".
 *
 * Runs expecting a failure with no output; asserts the message is one line.
 *
 * Returns: (transfer full): the message.
 */
char *seq_expect_error(const char *plugin, const char *id, const char *params,
                       LatheDataset *ds);

/** seq_roundtrip: (transfer full) @ds through serialize and deserialize. */
LatheDataset *seq_roundtrip(const LatheDataset *ds);

/** seq_assert_contains: fails unless @needle is in @haystack. */
void seq_assert_contains(const char *haystack, const char *needle);
