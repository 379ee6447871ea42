/* source/recordings: a folder of recordings (one CSV, or one archive holding
 * one CSV, per recording) laid out as <class>/.../<file>, read into one "long"
 * table: a row per time sample, a group per file, the class from the folder.
 *
 * It shares the streaming reader of source/csv, so memory stays about the
 * size of the float32 matrix (no text is kept), and every file is hashed for
 * its data version on the way. The time column is left out unless asked for
 * by name: in real data its unit or formatting can give the class away.
 */
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "csv-input.h"
#include "csv-table.h"
#include "recordings-source.h"

static const char *const delimiter_choices[] = {"auto", "comma", "semicolon", "tab", NULL};
static const char *const decimal_choices[] = {"point", "comma", NULL};
static const char *const label_choices[] = {"folder", "none", NULL};

static const LatheParamSpec rec_params[] = {
    {.name = "path",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .doc = "a folder laid out as <class>/.../<file>, each file a .csv/.tsv (also "
            ".csv.gz/.bz2/.xz/.zst) or an archive (.zip/.tar/.tar.gz/.tgz) holding one; "
            "symbolic links are followed; relative to the pipeline file"},
    LATHE_PARAM_LIST_("columns", "[]", LATHE_PARAM_STRING,
                      "the channels to read, in this order; [] = every column except "
                      "time_column"),
    LATHE_PARAM_STRING_("time_column", "\"time\"", 0,
                        "the timestamp column, left out unless listed in columns; \"\" "
                        "when the files have none"),
    LATHE_PARAM_ENUM_("label_from", "\"folder\"", label_choices,
                      "folder: a file's class is the first folder of its path under path "
                      "(classes sorted); none: no labels"),
    LATHE_PARAM_ENUM_("delimiter", "\"auto\"", delimiter_choices,
                      "field separator; auto picks the most frequent of , ; and tab in "
                      "the first line of each file"),
    LATHE_PARAM_ENUM_("decimal", "\"point\"", decimal_choices,
                      "decimal separator of the numbers: point (1.5) or comma (1,5)"),
    LATHE_PARAM_INT_("max_per_class", "0", 0, G_MAXINT32,
                     "read only the first N files (byte order of their paths) of each "
                     "top-level folder; 0 reads all"),
    LATHE_CSV_LIMIT_PARAMS,
    LATHE_PARAM_END,
};

static const LathePortSpec rec_inputs[] = {{.name = NULL}};

static const LathePortSpec rec_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "one row per time sample; groups = the file (its path under path), labels "
            "= its class"},
    {.name = NULL},
};

/* Reads a list param of strings into @out (NULL-terminated, not copied). */
static gboolean string_list(LatheContext *ctx, const char *name, GPtrArray *out,
                            GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, name);
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    JsonNode *n = json_array_get_element(list, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING ||
        !*json_node_get_string(n)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: item %u is not a column name (a non-empty string)", name, i + 1);
      return FALSE;
    }
    g_ptr_array_add(out, (gpointer)json_node_get_string(n));
  }
  g_ptr_array_add(out, NULL);
  return TRUE;
}

static char parse_delimiter(const char *v) {
  return !g_strcmp0(v, "comma")       ? ','
         : !g_strcmp0(v, "semicolon") ? ';'
         : !g_strcmp0(v, "tab")       ? '\t'
                                      : 0;
}

/* The class of a file: the first component of its relative path, or NULL
 * for a file directly in the folder. */
static char *class_of(const char *rel) {
  const char *slash = strchr(rel, '/');
  return slash ? g_strndup(rel, (gsize)(slash - rel)) : NULL;
}

/* The files to read: every recording under @dir in byte order of their
 * paths, keeping the first @max of each top-level folder when @max > 0. */
static GPtrArray *choose_files(const char *dir, const char *display, gboolean by_folder,
                               gint64 max, GError **error) {
  g_autoptr(GPtrArray) all = lathe_csv_input_list_folder(dir, display, error);
  if (!all)
    return NULL;
  g_autoptr(GPtrArray) chosen = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < all->len; i++) {
    const char *rel = all->pdata[i];
    char *klass = class_of(rel);
    if (!klass && by_folder) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s/%s: file directly in path, so it has no class folder; put each "
                  "file under a folder named after its class, or set label_from \"none\"",
                  display, rel);
      return NULL;
    }
    if (!klass)
      klass = g_strdup("");
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(taken, klass));
    if (max > 0 && n >= (guint64)max) {
      g_free(klass);
      continue;
    }
    g_hash_table_insert(taken, klass, GUINT_TO_POINTER(n + 1));
    g_ptr_array_add(chosen, g_strdup(rel));
  }
  if (chosen->len == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: folder holds no recording (.csv, .tsv, .zip, .tar, .tar.gz or .tgz "
                "file); check path",
                display);
    return NULL;
  }
  return g_steal_pointer(&chosen);
}

static gboolean read_all(LatheCsvInput *in, const char *dir, const char *display,
                         GPtrArray *files, gboolean by_folder, GError **error) {
  in->n_inputs = files->len;
  for (guint i = 0; i < files->len; i++) {
    const char *rel = files->pdata[i];
    g_autofree char *path = g_build_filename(dir, rel, NULL);
    g_autofree char *shown = g_strdup_printf("%s/%s", display, rel);
    if (by_folder) {
      g_autofree char *klass = class_of(rel);
      lathe_csv_table_set_file_label(in->table, klass);
    }
    if (!lathe_csv_input_read_any(in, path, shown, rel, error))
      return FALSE;
    in->done++;
    lathe_context_progress(in->ctx, (double)in->done / in->n_inputs, shown);
  }
  return TRUE;
}

static gboolean rec_run(LatheContext *ctx, GError **error) {
  const char *param = lathe_context_param_string(ctx, "path");
  if (!param || !*param) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "path is not set; give the folder of recordings");
    return FALSE;
  }
  g_autoptr(GPtrArray) columns = g_ptr_array_new();
  if (!string_list(ctx, "columns", columns, error))
    return FALSE;
  const char *time_column = lathe_context_param_string(ctx, "time_column");
  const char *decimal = lathe_context_param_string(ctx, "decimal");
  gboolean by_folder = g_strcmp0(lathe_context_param_string(ctx, "label_from"), "none") != 0;
  const char *drop[] = {time_column, NULL};

  LatheCsvTableOptions opts = {
      .header = TRUE,
      .delimiter = parse_delimiter(lathe_context_param_string(ctx, "delimiter")),
      .decimal = g_strcmp0(decimal, "comma") == 0 ? ',' : '.',
      .group = LATHE_CSV_GROUP_FILE,
      .file_labels = by_folder,
      .drop_param = "time_column",
  };
  if (columns->len > 1) {
    opts.keep = (const char *const *)columns->pdata;
    opts.fix_hint = "leave the column out of \"columns\"";
  } else {
    opts.drop = time_column && *time_column ? drop : NULL;
    opts.fix_hint = "name the numeric columns to read in \"columns\"";
  }
  if (opts.decimal == ',' && opts.delimiter == ',') {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "delimiter and decimal are both a comma; set delimiter to semicolon or tab");
    return FALSE;
  }

  g_autofree char *dir = lathe_context_resolve_path(ctx, param, NULL, error);
  if (!dir)
    return FALSE;
  g_autofree char *display = g_strdup(param);
  gsize dl = strlen(display);
  while (dl > 1 && display[dl - 1] == '/')
    display[--dl] = '\0';
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, LATHE_ERROR, g_file_test(dir, G_FILE_TEST_EXISTS) ? LATHE_ERROR_INVALID
                                                                          : LATHE_ERROR_IO,
                "path '%s' (%s) is not a folder; source/recordings reads a folder laid "
                "out as <class>/.../<file> (use source/csv for one file)",
                param, dir);
    return FALSE;
  }
  g_autoptr(GPtrArray) files = choose_files(
      dir, display, by_folder, lathe_context_param_int(ctx, "max_per_class"), error);
  if (!files)
    return FALSE;

  g_autoptr(LatheCsvTable) table = lathe_csv_table_new(&opts);
  LatheCsvInput in = {.ctx = ctx, .table = table, .n_inputs = 1, .one_member = TRUE};
  lathe_csv_input_set_limits(&in, ctx);
  if (!read_all(&in, dir, display, files, by_folder, error))
    return FALSE;
  LatheDataset *ds = lathe_csv_table_finish(table, error);
  if (!ds)
    return FALSE;
  lathe_context_progress(ctx, 1.0, display);
  g_autofree char *names = g_strjoinv(", ", ds->columns);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%s: %u recordings, %u rows, channels %s, %u classes", display,
                    ds->n_groups, ds->n_rows, names, ds->n_classes);
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}

const LatheSourceClass lathe_recordings_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "recordings",
                         "reads a <class>/.../<file> folder of recordings (CSV or one-CSV "
                         "archives) into a long table: one group per file, class from "
                         "the folder",
                         rec_params, rec_inputs, rec_outputs),
    .run = rec_run,
};
