/* source/csv: reads a CSV file, a folder of them, or an archive of them into
 * one dataset. The reading itself, with its grouping rules (auto, none, file,
 * column), is the csv format of plugins/lib-tabular (tabular.c), which
 * source/lakefs calls on the objects it downloads.
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <lathe/lathe-sdk.h>

#include "recordings-source.h"
#include "tabular.h"

static const LatheParamSpec csv_params[] = {
    {.name = "path",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .doc = "a CSV file (also .csv.gz/.bz2/.xz/.zst), a folder of CSV files (read "
            "recursively, sorted by name), or a .zip/.tar/.tar.gz/.tgz archive of them; "
            "relative to the pipeline file"},
    LATHE_TABULAR_HEADER_PARAM,
    LATHE_TABULAR_DELIMITER_PARAM,
    LATHE_TABULAR_CSV_PARAMS,
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

/* Reads a folder: its CSV files and archives in name order. */
static gboolean read_folder(LatheContext *ctx, const char *dir, const char *display,
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
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  g_autofree LatheTabularFile *files = g_new0(LatheTabularFile, rel->len);
  for (guint i = 0; i < rel->len; i++) {
    g_ptr_array_add(paths, g_build_filename(dir, rel->pdata[i], NULL));
    files[i] = (LatheTabularFile){paths->pdata[i], rel->pdata[i]};
  }
  return lathe_tabular_read_csv(ctx, display, files, rel->len, TRUE, TRUE, error);
}

static gboolean csv_run(LatheContext *ctx, GError **error) {
  const char *param = lathe_context_param_string(ctx, "path");
  if (!param || !*param) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "path is not set; give a CSV file, a folder or an archive");
    return FALSE;
  }
  if (!lathe_tabular_check_csv_params(ctx, error))
    return FALSE;
  g_autofree char *path = lathe_context_resolve_path(ctx, param, NULL, error);
  if (!path)
    return FALSE;
  /* Errors name files the way the pipeline does, without a trailing slash. */
  g_autofree char *display = g_strdup(param);
  gsize dl = strlen(display);
  while (dl > 1 && display[dl - 1] == '/')
    display[--dl] = '\0';
  /* stat, never open, to choose: a FIFO is then refused by the readers'
   * non-blocking open instead of hanging here. */
  GStatBuf st;
  if (g_stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return read_folder(ctx, path, display, error);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO,
                "path '%s' does not exist (looked for %s); check the path, which is "
                "relative to the pipeline file",
                param, path);
    return FALSE;
  }
  g_autofree char *base = g_path_get_basename(path);
  LatheTabularFile one = {path, base};
  return lathe_tabular_read_csv(ctx, display, &one, 1, FALSE, TRUE, error);
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
