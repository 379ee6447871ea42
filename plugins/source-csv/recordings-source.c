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
     .doc = "a folder laid out as <class>/.../<file>, each file a .csv/.tsv (also "
            ".csv.gz/.bz2/.xz/.zst) or an archive (.zip/.tar/.tar.gz/.tgz) holding one; "
            "symbolic links are followed; relative to the pipeline file (or use paths)"},
    LATHE_PARAM_LIST_("paths", "[]", LATHE_PARAM_STRING,
                      "several such folders read as one: their files are merged in byte "
                      "order of their paths below their folder, which stay the groups (a "
                      "path found under two folders is an error); instead of path"),
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

/* A folder param as the user wrote it, without trailing slashes: how errors,
 * logs and the file names shown name it. */
static char *display_of(const char *param) {
  char *display = g_strdup(param);
  gsize dl = strlen(display);
  while (dl > 1 && display[dl - 1] == '/')
    display[--dl] = '\0';
  return display;
}

/* Lists one root into @where (relative name -> its file on disk), refusing a
 * name another root already gave: its group would be ambiguous. */
static gboolean list_root(LatheContext *ctx, const char *param, GHashTable *where,
                          GPtrArray *names, GError **error) {
  g_autofree char *dir = lathe_context_resolve_path(ctx, param, NULL, error);
  if (!dir)
    return FALSE;
  g_autofree char *display = display_of(param);
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
  for (guint i = 0; i < all->len; i++) {
    const char *name = all->pdata[i];
    const char *other = g_hash_table_lookup(where, name);
    if (other) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "source/recordings",
                              "'%s' is under two of paths (%s and %s); a group must come "
                              "from one folder: remove one copy or one folder",
                              name, other, dir);
      return FALSE;
    }
    g_hash_table_insert(where, g_strdup(name), g_build_filename(dir, name, NULL));
    g_ptr_array_add(names, g_strdup(name));
  }
  return TRUE;
}

static int cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean rec_run(LatheContext *ctx, GError **error) {
  const char *param = lathe_context_param_string(ctx, "path");
  JsonArray *roots = lathe_context_param_list(ctx, "paths");
  guint n_roots = roots ? json_array_get_length(roots) : 0;
  gboolean has_path = param && *param;
  if (has_path == (n_roots > 0)) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "source/recordings",
                            has_path ? "both path and paths are set; give one folder as "
                                       "path or several as paths"
                                     : "path is not set; give the folder of recordings "
                                       "(or several as paths)");
    return FALSE;
  }
  if (!lathe_tabular_check_recordings_params(ctx, error))
    return FALSE;
  g_autoptr(GPtrArray) params = g_ptr_array_new();
  if (has_path)
    g_ptr_array_add(params, (gpointer)param);
  for (guint i = 0; i < n_roots; i++) {
    JsonNode *e = json_array_get_element(roots, i);
    const char *s = JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING
                        ? json_node_get_string(e)
                        : NULL;
    if (!s || !*s) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, "source/recordings",
                              "paths[%u] is not a folder name; give a list of folders", i);
      return FALSE;
    }
    g_ptr_array_add(params, (gpointer)s);
  }
  g_autoptr(GHashTable) where = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) shown = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < params->len; i++) {
    if (!list_root(ctx, params->pdata[i], where, all, error))
      return FALSE;
    g_ptr_array_add(shown, display_of(params->pdata[i]));
  }
  g_ptr_array_sort(all, cmp_names);
  g_ptr_array_add(shown, NULL);
  g_autofree char *display = g_strjoinv("+", (char **)shown->pdata);
  g_autoptr(GPtrArray) chosen = lathe_tabular_recordings_choose(ctx, display, all, error);
  if (!chosen)
    return FALSE;
  g_autofree LatheTabularFile *files = g_new0(LatheTabularFile, chosen->len + 1);
  for (guint i = 0; i < chosen->len; i++)
    files[i] = (LatheTabularFile){g_hash_table_lookup(where, chosen->pdata[i]), chosen->pdata[i]};
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
