/* source/csv: reads a CSV file, a folder of them, or an archive of them into
 * one dataset.
 *
 * Grouping ("group"): rows can carry a group so that a grouped split keeps a
 * whole group on one side.
 *   auto    "column" when group_column is set, else "file" when more than one
 *           file was read, else no groups (the default).
 *   none    no groups, even for many files.
 *   file    each row's group is its file: its path relative to the folder, or
 *           its member path in an archive ("rec/a.csv", "day1.zip/a.csv" for
 *           an archive inside a folder); a single file is one group named
 *           after it.
 *   column  each row's group is the text of group_column (sorted names).
 * Setting group_column with group "none" or "file" is refused rather than
 * ignored.
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <lathe/lathe-sdk.h>

#include "csv-input.h"
#include "csv-table.h"
#include "recordings-source.h"

static const char *const delimiter_choices[] = {"auto", "comma", "semicolon", "tab", NULL};
static const char *const group_choices[] = {"auto", "none", "file", "column", NULL};

static const LatheParamSpec csv_params[] = {
    {.name = "path",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .doc = "a CSV file (also .csv.gz/.bz2/.xz/.zst), a folder of CSV files (read "
            "recursively, sorted by name), or a .zip/.tar/.tar.gz/.tgz archive of them; "
            "relative to the pipeline file"},
    LATHE_PARAM_BOOL_("header", "true",
                      "the first row names the columns; otherwise they are c0..cN"),
    LATHE_PARAM_ENUM_("delimiter", "\"auto\"", delimiter_choices,
                      "field separator; auto picks the most frequent of , ; and tab in "
                      "the first line of each file"),
    LATHE_PARAM_STRING_("label", NULL, 0,
                        "column of class names (text or numbers); classes are sorted"),
    LATHE_PARAM_LIST_("drop", "[]", LATHE_PARAM_STRING,
                      "columns to leave out; every other column must be numeric"),
    LATHE_PARAM_ENUM_("group", "\"auto\"", group_choices,
                      "row groups: auto = column if group_column is set, else file when "
                      "several files are read; none; file; column"),
    LATHE_PARAM_STRING_("group_column", NULL, 0,
                        "column whose text is each row's group (with group auto or column)"),
    LATHE_CSV_LIMIT_PARAMS,
    LATHE_PARAM_END,
};

static const LathePortSpec csv_inputs[] = {{.name = NULL}};

static const LathePortSpec csv_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "float32 features, plus labels when label is set and groups when grouped"},
    {.name = NULL},
};

static gboolean parse_options(LatheContext *ctx, LatheCsvTableOptions *o,
                              GPtrArray *drop, GError **error) {
  const char *delim = lathe_context_param_string(ctx, "delimiter");
  const char *group = lathe_context_param_string(ctx, "group");
  o->header = lathe_context_param_bool(ctx, "header");
  o->delimiter = !g_strcmp0(delim, "comma")       ? ','
                 : !g_strcmp0(delim, "semicolon") ? ';'
                 : !g_strcmp0(delim, "tab")       ? '\t'
                                                  : 0;
  o->decimal = '.';
  o->label = lathe_context_param_string(ctx, "label");
  o->group_column = lathe_context_param_string(ctx, "group_column");
  o->group = !g_strcmp0(group, "none")     ? LATHE_CSV_GROUP_NONE
             : !g_strcmp0(group, "file")   ? LATHE_CSV_GROUP_FILE
             : !g_strcmp0(group, "column") ? LATHE_CSV_GROUP_COLUMN
                                           : LATHE_CSV_GROUP_AUTO;
  if (o->group == LATHE_CSV_GROUP_COLUMN && !o->group_column) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "group is \"column\" but group_column is not set; name the column "
                "that holds each row's group");
    return FALSE;
  }
  if (o->group_column &&
      (o->group == LATHE_CSV_GROUP_NONE || o->group == LATHE_CSV_GROUP_FILE)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "group_column is set but group is \"%s\"; set group to \"column\" (or "
                "\"auto\") or remove group_column",
                group);
    return FALSE;
  }
  JsonArray *list = lathe_context_param_list(ctx, "drop");
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    JsonNode *n = json_array_get_element(list, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "drop: item %u is not a column name (a string)", i + 1);
      return FALSE;
    }
    g_ptr_array_add(drop, (gpointer)json_node_get_string(n));
  }
  g_ptr_array_add(drop, NULL);
  o->drop = (const char *const *)drop->pdata;
  return TRUE;
}

/* Reads a folder: its CSV files and archives in name order. */
static gboolean read_folder(LatheCsvInput *in, const char *dir, const char *display,
                            GError **error) {
  g_autoptr(GPtrArray) rel = lathe_csv_input_list_folder(dir, display, error);
  if (!rel)
    return FALSE;
  if (rel->len == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: folder holds no .csv, .tsv, .zip, .tar, .tar.gz or .tgz file",
                display);
    return FALSE;
  }
  in->n_inputs = rel->len;
  for (guint i = 0; i < rel->len; i++) {
    const char *r = rel->pdata[i];
    g_autofree char *path = g_build_filename(dir, r, NULL);
    g_autofree char *shown = g_strdup_printf("%s/%s", display, r);
    if (!lathe_csv_input_read_any(in, path, shown, r, error))
      return FALSE;
    in->done++;
    lathe_context_progress(in->ctx, (double)in->done / in->n_inputs, shown);
  }
  return TRUE;
}

static gboolean csv_run(LatheContext *ctx, GError **error) {
  const char *param = lathe_context_param_string(ctx, "path");
  if (!param || !*param) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "path is not set; give a CSV file, a folder or an archive");
    return FALSE;
  }
  LatheCsvTableOptions opts = {0};
  g_autoptr(GPtrArray) drop = g_ptr_array_new();
  if (!parse_options(ctx, &opts, drop, error))
    return FALSE;

  g_autofree char *path = lathe_context_resolve_path(ctx, param, NULL, error);
  if (!path)
    return FALSE;
  /* Errors name files the way the pipeline does, without a trailing slash. */
  g_autofree char *display = g_strdup(param);
  gsize dl = strlen(display);
  while (dl > 1 && display[dl - 1] == '/')
    display[--dl] = '\0';

  g_autoptr(LatheCsvTable) table = lathe_csv_table_new(&opts);
  LatheCsvInput in = {.ctx = ctx, .table = table, .n_inputs = 1};
  lathe_csv_input_set_limits(&in, ctx);
  gboolean ok;
  /* stat, never open, to choose: a FIFO is then refused by the readers'
   * non-blocking open instead of hanging here. */
  GStatBuf st;
  if (g_stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    ok = read_folder(&in, path, display, error);
  } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "path '%s' does not exist (looked for %s); check the path, which is "
                "relative to the pipeline file",
                param, path);
    return FALSE;
  } else if (lathe_csv_input_is_archive(path)) {
    ok = lathe_csv_input_read_archive(&in, path, display, NULL, error);
  } else {
    g_autofree char *base = g_path_get_basename(path);
    ok = lathe_csv_input_read_any(&in, path, display, base, error);
  }
  if (!ok)
    return FALSE;

  LatheDataset *ds = lathe_csv_table_finish(table, error);
  if (!ds)
    return FALSE;
  lathe_context_progress(ctx, 1.0, display);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%s: %u rows, %u features, %u classes, %u groups from %u files",
                    display, ds->n_rows, ds->n_cols, ds->n_classes, ds->n_groups,
                    lathe_csv_table_n_files(table));
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}

static const LatheSourceClass csv_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "csv",
                         "reads CSV files, folders or archives of them into a dataset",
                         csv_params, csv_inputs, csv_outputs),
    .run = csv_run,
};

LATHE_PLUGIN_DEFINE("source-csv", "0.2.0", "MIT",
                    "CSV sources: files, folders and .zip/.tar.gz archives; folders of "
                    "recordings",
                    LATHE_COMPONENT(csv_source), LATHE_COMPONENT(lathe_recordings_source))
