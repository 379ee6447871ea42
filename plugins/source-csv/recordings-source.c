/* source/recordings: a folder of recordings (one CSV, or one archive holding
 * one CSV, per recording) laid out as <class>/.../<file>, read into one "long"
 * table: a row per time sample, a group per file, the class from the folder.
 *
 * The reading is the recordings format of plugins/lib-tabular (tabular.c),
 * shared with source/lakefs: the streaming reader of source/csv, so memory
 * stays about the size of the float32 matrix (no text is kept), and every
 * file is hashed for its data version on the way.
 */
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "recordings-source.h"
#include "tabular.h"

static const LatheParamSpec rec_params[] = {
    {.name = "path",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .doc = "a folder laid out as <class>/.../<file>, each file a .csv/.tsv (also "
            ".csv.gz/.bz2/.xz/.zst) or an archive (.zip/.tar/.tar.gz/.tgz) holding one; "
            "symbolic links are followed; relative to the pipeline file"},
    LATHE_TABULAR_RECORDINGS_PARAMS,
    LATHE_TABULAR_DELIMITER_PARAM,
    LATHE_TABULAR_RECORDINGS_MORE_PARAMS,
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

static gboolean rec_run(LatheContext *ctx, GError **error) {
  const char *param = lathe_context_param_string(ctx, "path");
  if (!param || !*param) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "path is not set; give the folder of recordings");
    return FALSE;
  }
  if (!lathe_tabular_check_recordings_params(ctx, error))
    return FALSE;
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
  g_autoptr(GPtrArray) all = lathe_csv_input_list_folder(dir, display, error);
  if (!all)
    return FALSE;
  g_autoptr(GPtrArray) chosen = lathe_tabular_recordings_choose(ctx, display, all, error);
  if (!chosen)
    return FALSE;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  g_autofree LatheTabularFile *files = g_new0(LatheTabularFile, chosen->len);
  for (guint i = 0; i < chosen->len; i++) {
    g_ptr_array_add(paths, g_build_filename(dir, chosen->pdata[i], NULL));
    files[i] = (LatheTabularFile){paths->pdata[i], chosen->pdata[i]};
  }
  return lathe_tabular_read_recordings(ctx, display, files, chosen->len, TRUE, error);
}

const LatheSourceClass lathe_recordings_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "recordings",
                         "reads a <class>/.../<file> folder of recordings (CSV or one-CSV "
                         "archives) into a long table: one group per file, class from "
                         "the folder",
                         rec_params, rec_inputs, rec_outputs),
    .run = rec_run,
};
