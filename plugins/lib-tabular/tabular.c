/* The csv and recordings formats over files on disk (tabular.h).
 *
 * csv: grouping ("group"): rows can carry a group so that a grouped split
 * keeps a whole group on one side.
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
 *
 * recordings: one "long" table, a row per time sample, a group per file, the
 * class from the file's first folder. The time column is left out unless
 * asked for by name: in real data its unit or formatting can give the class
 * away.
 */
#include <string.h>

#include "tabular.h"

const char *const lathe_tabular_delimiter_choices[] = {"auto", "comma", "semicolon", "tab",
                                                       NULL};
const char *const lathe_tabular_group_choices[] = {"auto", "none", "file", "column", NULL};
const char *const lathe_tabular_decimal_choices[] = {"point", "comma", NULL};
const char *const lathe_tabular_label_from_choices[] = {"folder", "none", NULL};

static char parse_delimiter(const char *v) {
  return !g_strcmp0(v, "comma")       ? ','
         : !g_strcmp0(v, "semicolon") ? ';'
         : !g_strcmp0(v, "tab")       ? '\t'
                                      : 0;
}

/* Reads a list param of strings into @out (NULL-terminated, not copied). */
static gboolean string_list(LatheContext *ctx, const char *name, gboolean nonempty,
                            GPtrArray *out, GError **error) {
  JsonArray *list = lathe_context_param_list(ctx, name);
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    JsonNode *n = json_array_get_element(list, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING ||
        (nonempty && !*json_node_get_string(n))) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: item %u is not a column name (a%s string)", name, i + 1,
                  nonempty ? " non-empty" : "");
      return FALSE;
    }
    g_ptr_array_add(out, (gpointer)json_node_get_string(n));
  }
  g_ptr_array_add(out, NULL);
  return TRUE;
}

static gboolean csv_options(LatheContext *ctx, LatheCsvTableOptions *o, GPtrArray *drop,
                            GError **error) {
  const char *group = lathe_context_param_string(ctx, "group");
  o->header = lathe_context_param_bool(ctx, "header");
  o->delimiter = parse_delimiter(lathe_context_param_string(ctx, "delimiter"));
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
  if (!string_list(ctx, "drop", FALSE, drop, error))
    return FALSE;
  o->drop = (const char *const *)drop->pdata;
  return TRUE;
}

gboolean lathe_tabular_check_csv_params(LatheContext *ctx, GError **error) {
  LatheCsvTableOptions o = {0};
  g_autoptr(GPtrArray) drop = g_ptr_array_new();
  return csv_options(ctx, &o, drop, error);
}

/* One of @n files read: the progress says so. */
static void file_done(LatheContext *ctx, LatheCsvInput *in, guint n, const char *shown) {
  in->done++;
  lathe_context_progress(ctx, (double)in->done / n, shown);
}

/* The dataset of every file read, the progress at its end; NULL with @error set. */
static LatheDataset *finish_table(LatheContext *ctx, LatheCsvTable *table, const char *display,
                                  GError **error) {
  LatheDataset *ds = lathe_csv_table_finish(table, error);
  if (ds)
    lathe_context_progress(ctx, 1.0, display);
  return ds;
}

gboolean lathe_tabular_read_csv(LatheContext *ctx, const char *display,
                                const LatheTabularFile *files, guint n, gboolean folder,
                                gboolean versions, GError **error) {
  LatheCsvTableOptions opts = {0};
  g_autoptr(GPtrArray) drop = g_ptr_array_new();
  if (!csv_options(ctx, &opts, drop, error))
    return FALSE;
  g_autoptr(LatheCsvTable) table = lathe_csv_table_new(&opts);
  LatheCsvInput in = {.ctx = ctx, .table = table, .n_inputs = n, .no_versions = !versions};
  lathe_csv_input_set_limits(&in, ctx);
  for (guint i = 0; i < n; i++) {
    const LatheTabularFile *f = &files[i];
    g_autofree char *shown = folder ? g_strdup_printf("%s/%s", display, f->name)
                                    : g_strdup(display);
    gboolean ok;
    if (folder) {
      ok = lathe_csv_input_read_any(&in, f->path, f->name, shown, f->name, error);
    } else if (lathe_csv_input_is_archive(f->name)) {
      ok = lathe_csv_input_read_archive(&in, f->path, shown, NULL, error);
    } else {
      g_autofree char *base = g_path_get_basename(f->name);
      ok = lathe_csv_input_read_any(&in, f->path, f->name, shown, base, error);
    }
    if (!ok)
      return FALSE;
    file_done(ctx, &in, n, shown);
  }
  LatheDataset *ds = finish_table(ctx, table, display, error);
  if (!ds)
    return FALSE;
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%s: %u rows, %u features, %u classes, %u groups from %u files", display,
                    ds->n_rows, ds->n_cols, ds->n_classes, ds->n_groups,
                    lathe_csv_table_n_files(table));
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}

/* The class of a file: the first component of its relative path, or NULL
 * for a file directly in the folder. */
static char *class_of(const char *rel) {
  const char *slash = strchr(rel, '/');
  return slash ? g_strndup(rel, (gsize)(slash - rel)) : NULL;
}

static gboolean by_folder(LatheContext *ctx) {
  return g_strcmp0(lathe_context_param_string(ctx, "label_from"), "none") != 0;
}

GPtrArray *lathe_tabular_recordings_choose(LatheContext *ctx, const char *display,
                                           GPtrArray *names, GError **error) {
  gboolean folder = by_folder(ctx);
  gint64 max = lathe_context_param_int(ctx, "max_per_class");
  g_autoptr(GPtrArray) chosen = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < names->len; i++) {
    const char *rel = names->pdata[i];
    char *klass = class_of(rel);
    if (!klass && folder) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s/%s: file directly in path, so it has no class folder; put each "
                  "file under a folder named after its class, or set label_from \"none\"",
                  display, rel);
      return NULL;
    }
    if (!klass)
      klass = g_strdup("");
    guint k = GPOINTER_TO_UINT(g_hash_table_lookup(taken, klass));
    if (max > 0 && k >= (guint64)max) {
      g_free(klass);
      continue;
    }
    g_hash_table_insert(taken, klass, GUINT_TO_POINTER(k + 1));
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

static gboolean rec_options(LatheContext *ctx, LatheCsvTableOptions *o, GPtrArray *columns,
                            const char **drop, GError **error) {
  if (!string_list(ctx, "columns", TRUE, columns, error))
    return FALSE;
  const char *time_column = lathe_context_param_string(ctx, "time_column");
  const char *decimal = lathe_context_param_string(ctx, "decimal");
  *o = (LatheCsvTableOptions){
      .header = TRUE,
      .delimiter = parse_delimiter(lathe_context_param_string(ctx, "delimiter")),
      .decimal = g_strcmp0(decimal, "comma") == 0 ? ',' : '.',
      .group = LATHE_CSV_GROUP_FILE,
      .file_labels = by_folder(ctx),
      .drop_param = "time_column",
  };
  drop[0] = time_column;
  drop[1] = NULL;
  if (columns->len > 1) {
    o->keep = (const char *const *)columns->pdata;
    o->fix_hint = "leave the column out of \"columns\"";
  } else {
    o->drop = time_column && *time_column ? drop : NULL;
    o->fix_hint = "name the numeric columns to read in \"columns\"";
  }
  if (o->decimal == ',' && o->delimiter == ',') {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "delimiter and decimal are both a comma; set delimiter to semicolon or tab");
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_tabular_check_recordings_params(LatheContext *ctx, GError **error) {
  LatheCsvTableOptions o;
  g_autoptr(GPtrArray) columns = g_ptr_array_new();
  const char *drop[2];
  return rec_options(ctx, &o, columns, drop, error);
}

gboolean lathe_tabular_read_recordings(LatheContext *ctx, const char *display,
                                       const LatheTabularFile *files, guint n,
                                       gboolean versions, GError **error) {
  LatheCsvTableOptions opts;
  g_autoptr(GPtrArray) columns = g_ptr_array_new();
  const char *drop[2];
  if (!rec_options(ctx, &opts, columns, drop, error))
    return FALSE;
  g_autoptr(LatheCsvTable) table = lathe_csv_table_new(&opts);
  LatheCsvInput in = {.ctx = ctx,
                      .table = table,
                      .n_inputs = n,
                      .one_member = TRUE,
                      .no_versions = !versions};
  lathe_csv_input_set_limits(&in, ctx);
  for (guint i = 0; i < n; i++) {
    const LatheTabularFile *f = &files[i];
    g_autofree char *shown = g_strdup_printf("%s/%s", display, f->name);
    if (opts.file_labels) {
      g_autofree char *klass = class_of(f->name);
      lathe_csv_table_set_file_label(table, klass);
    }
    if (!lathe_csv_input_read_any(&in, f->path, f->name, shown, f->name, error))
      return FALSE;
    file_done(ctx, &in, n, shown);
  }
  LatheDataset *ds = finish_table(ctx, table, display, error);
  if (!ds)
    return FALSE;
  g_autofree char *names = g_strjoinv(", ", ds->columns);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%s: %u recordings, %u rows, channels %s, %u classes", display,
                    ds->n_groups, ds->n_rows, names, ds->n_classes);
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}
