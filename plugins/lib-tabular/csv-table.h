/* csv-table.h: turns the records of one or more CSV files into a dataset.
 *
 * Sits between the tokenizer (csv-parse.h) and the component: it owns the
 * header checks, the column roles (features, label, group, dropped), strict
 * number conversion with FILE:LINE:COLUMN errors, and the row storage. It
 * knows nothing of files on disk, so the fuzz harness and tests can feed it
 * memory directly.
 */
#pragma once

#include <glib.h>
#include <lathe/lathe-dataset.h>

G_BEGIN_DECLS

/**
 * LatheCsvGroupMode:
 * @LATHE_CSV_GROUP_AUTO: @LATHE_CSV_GROUP_COLUMN when a group column is
 *   named, else @LATHE_CSV_GROUP_FILE when rows came from more than one file,
 *   else no groups.
 * @LATHE_CSV_GROUP_NONE: no groups.
 * @LATHE_CSV_GROUP_FILE: each row's group is the file it came from.
 * @LATHE_CSV_GROUP_COLUMN: each row's group is the text of the group column.
 */
typedef enum {
  LATHE_CSV_GROUP_AUTO = 0,
  LATHE_CSV_GROUP_NONE,
  LATHE_CSV_GROUP_FILE,
  LATHE_CSV_GROUP_COLUMN,
} LatheCsvGroupMode;

/**
 * LatheCsvTableOptions:
 * @header: whether the first row of each file names the columns; otherwise
 *   they are named c0..cN.
 * @delimiter: ',', ';' or '\t', or 0 to detect it in each file.
 * @decimal: the decimal separator of numbers, '.' or ','.
 * @label: (nullable): the column holding class names.
 * @drop: (nullable): %NULL-terminated columns to leave out.
 * @group: how rows are grouped.
 * @group_column: (nullable): the column holding group names.
 * @keep: (nullable): %NULL-terminated columns to keep, in this order; every
 *   other column is left out. Exclusive with @drop; errors name it "columns".
 * @file_labels: every row's label is the label of its file, set with
 *   lathe_csv_table_set_file_label(). Exclusive with @label.
 * @drop_param: (nullable): how errors name @drop ("drop" when %NULL).
 * @fix_hint: (nullable): the advice ending a "not a number" error (when
 *   %NULL: list the column in "drop").
 *
 * Every column that is not the label, the group column or dropped must be
 * numeric and becomes a float32 feature.
 */
typedef struct {
  gboolean header;
  char delimiter;
  char decimal;
  const char *label;
  const char *const *drop;
  LatheCsvGroupMode group;
  const char *group_column;
  const char *const *keep;
  gboolean file_labels;
  const char *drop_param;
  const char *fix_hint;
} LatheCsvTableOptions;

typedef struct _LatheCsvTable LatheCsvTable;

/**
 * lathe_csv_table_new:
 * @options: (transfer none): copied.
 *
 * Returns: (transfer full): an empty table; free with lathe_csv_table_free().
 */
LatheCsvTable *lathe_csv_table_new(const LatheCsvTableOptions *options);
void lathe_csv_table_free(LatheCsvTable *t);

/**
 * lathe_csv_table_begin_file:
 * @t: a table.
 * @display: how errors name the file ("data/iris.csv").
 * @group: the file's group name, used when grouping by file.
 *
 * Starts a new file. Every file must have the same columns as the first.
 */
void lathe_csv_table_begin_file(LatheCsvTable *t, const char *display,
                                const char *group);

/**
 * lathe_csv_table_set_file_label:
 * @t: a table made with @file_labels.
 * @label: the class name of the files begun from now on.
 */
void lathe_csv_table_set_file_label(LatheCsvTable *t, const char *label);

/**
 * lathe_csv_table_feed:
 * @t: a table inside a file.
 * @data: the next bytes of the file.
 * @len: how many.
 * @error: return location for a #GError (%LATHE_ERROR_DATA).
 *
 * Returns: %FALSE with @error set on the first bad record; the table is then
 * unusable.
 */
gboolean lathe_csv_table_feed(LatheCsvTable *t, const void *data, gsize len,
                              GError **error);

/**
 * lathe_csv_table_end_file:
 * @t: a table inside a file.
 * @error: return location for a #GError.
 *
 * Returns: %FALSE with @error set when the file is empty, has no data rows,
 * or ends inside a quoted field.
 */
gboolean lathe_csv_table_end_file(LatheCsvTable *t, GError **error);

/** lathe_csv_table_n_files: files begun so far. */
guint lathe_csv_table_n_files(LatheCsvTable *t);
/** lathe_csv_table_n_rows: data rows stored so far. */
guint lathe_csv_table_n_rows(LatheCsvTable *t);

/**
 * lathe_csv_table_finish:
 * @t: a table, outside any file.
 * @error: return location for a #GError.
 *
 * Hands the stored rows over to a dataset without copying the features; the
 * table is left empty. Classes (and group names from a column) are sorted by
 * byte order; file groups keep the order the files were read in.
 *
 * Returns: (transfer full) (nullable): the dataset, or %NULL with @error set
 * when no file was read or the group settings cannot apply.
 */
LatheDataset *lathe_csv_table_finish(LatheCsvTable *t, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheCsvTable, lathe_csv_table_free)

G_END_DECLS
