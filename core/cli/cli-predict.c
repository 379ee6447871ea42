/* `lathe predict NAME@ALIAS DATA`: new raw data scored through the input
 * pipeline the version recorded when it was registered (engine/
 * input-pipeline.c). The command builds a pipeline in memory (the recorded
 * source reading DATA, the recorded transforms with their fitted state,
 * source/model fetching the version, transform/predict, and
 * evaluator/classification when DATA has labels) and runs it through the
 * engine as an ordinary run named "predict", recorded in the store like any
 * other; the predictions are read back from the run's artifacts. */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/engine.h"
#include "lathe-registry.h"

#define PREDICT_NODE "lathe_predict"
#define EVAL_NODE "lathe_eval"
#define MODEL_NODE "lathe_model"

static gboolean ends_with_any(const char *s, const char *const *ends) {
  g_autofree char *low = g_ascii_strdown(s, -1);
  for (guint i = 0; ends[i]; i++)
    if (g_str_has_suffix(low, ends[i]))
      return TRUE;
  return FALSE;
}

static const char *const csv_ends[] = {".csv", ".tsv", ".csv.gz", ".csv.bz2", ".csv.xz",
                                       ".csv.zst", NULL};
static const char *const archive_ends[] = {".zip", ".tar", ".tar.gz", ".tgz", NULL};

/* The header fields of a CSV file (plain text only; NULL for compressed). */
static GStrv csv_header(const char *path, const char *delimiter) {
  g_autoptr(GFile) f = g_file_new_for_path(path);
  g_autoptr(GFileInputStream) in = g_file_read(f, NULL, NULL);
  if (!in || ends_with_any(path, (const char *const[]){".gz", ".bz2", ".xz", ".zst", NULL}))
    return NULL;
  g_autoptr(GDataInputStream) data = g_data_input_stream_new(G_INPUT_STREAM(in));
  g_autofree char *line = g_data_input_stream_read_line_utf8(data, NULL, NULL, NULL);
  if (!line)
    return NULL;
  g_strchomp(line);
  char sep = ',';
  if (delimiter && strlen(delimiter) == 1)
    sep = delimiter[0];
  else if (g_str_has_suffix(path, ".tsv") || strchr(line, '\t'))
    sep = '\t';
  else if (!strchr(line, ',') && strchr(line, ';'))
    sep = ';';
  char seps[2] = {sep, 0};
  GStrv fields = g_strsplit(line, seps, -1);
  for (guint i = 0; fields[i]; i++) {
    g_strstrip(fields[i]);
    gsize n = strlen(fields[i]);
    if (n >= 2 && fields[i][0] == '"' && fields[i][n - 1] == '"') {
      memmove(fields[i], fields[i] + 1, n - 2);
      fields[i][n - 2] = 0;
    }
  }
  return fields;
}

/* For a CSV read by source/csv: the label column goes when DATA has none;
 * against the columns the source read at training (recorded with the input
 * pipeline; for older records, the model's signature when the model read
 * the CSV directly), extra columns are dropped, and a missing or misplaced
 * one is an error naming it. */
static int fit_csv_source(JsonObject *with, JsonArray *read, const char *data,
                          JsonObject *version, gboolean direct, gboolean *labelled) {
  const char *label = json_object_get_string_member_with_default(with, "label", NULL);
  g_auto(GStrv) header =
      csv_header(data, json_object_get_string_member_with_default(with, "delimiter", NULL));
  *labelled = label && *label && (!header || g_strv_contains((const char *const *)header, label));
  if (!*labelled)
    json_object_remove_member(with, "label");
  JsonObject *sig = lathe_registry_version_signature(version);
  JsonNode *in = sig && direct ? json_object_get_member(sig, "columns") : NULL;
  JsonArray *want = read ? read : in && JSON_NODE_HOLDS_ARRAY(in) ? json_node_get_array(in) : NULL;
  if (!header || !want)
    return LATHE_EXIT_OK;
  JsonArray *drop = json_array_new();
  guint next = 0;
  for (guint i = 0; header[i]; i++) {
    if (*labelled && g_str_equal(header[i], label))
      continue;
    gboolean wanted = FALSE;
    for (guint j = 0; j < json_array_get_length(want) && !wanted; j++) {
      const char *name = json_array_get_string_element(want, j);
      wanted = g_strcmp0(name, header[i]) == 0;
      if (wanted && j != next) {
        json_array_unref(drop);
        return lathe_cli_error(LATHE_EXIT_USAGE,
                               "predict: %s: feature %u is '%s' but the model's pipeline takes "
                               "'%s' there; give the columns in the order it was trained on",
                               data, next + 1, header[i], json_array_get_string_element(want, next));
      }
    }
    if (wanted)
      next++;
    else
      json_array_add_string_element(drop, header[i]);
  }
  if (next < json_array_get_length(want)) {
    const char *name = json_array_get_string_element(want, next);
    json_array_unref(drop);
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "predict: %s has no column '%s', which the model's pipeline takes; "
                           "add it",
                           data, name);
  }
  json_object_set_array_member(with, "drop", drop);
  return LATHE_EXIT_OK;
}

/* Recordings from DATA: a folder as it is, or archives/CSVs linked into a
 * scratch folder. The folder is labelled when its subfolders are all classes
 * of the model (@classes): a folder of one class's dated subfolders is not. */
static char *recordings_folder(char **data, guint n, JsonArray *classes, const char *scratch,
                               gboolean *labelled, GError **error) {
  *labelled = FALSE;
  if (n == 1 && g_file_test(data[0], G_FILE_TEST_IS_DIR)) {
    g_autoptr(GDir) d = g_dir_open(data[0], 0, error);
    if (!d)
      return NULL;
    guint dirs = 0, known = 0;
    for (const char *e; (e = g_dir_read_name(d));) {
      g_autofree char *p = g_build_filename(data[0], e, NULL);
      if (!g_file_test(p, G_FILE_TEST_IS_DIR))
        continue;
      dirs++;
      for (guint i = 0; classes && i < json_array_get_length(classes); i++)
        if (g_strcmp0(json_array_get_string_element(classes, i), e) == 0) {
          known++;
          break;
        }
    }
    *labelled = dirs > 0 && known == dirs;
    return g_canonicalize_filename(data[0], NULL);
  }
  if (g_mkdir_with_parents(scratch, 0700) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot create %s", scratch);
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    if (!g_file_test(data[i], G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                  "%s is not a file or folder; give a CSV, a folder or recordings", data[i]);
      return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(data[i], NULL);
    g_autofree char *base = g_path_get_basename(data[i]);
    g_autofree char *link = g_build_filename(scratch, base, NULL);
    if (symlink(abs, link) != 0) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                  "%s is given twice (or cannot be linked in %s)", base, scratch);
      return NULL;
    }
  }
  return g_strdup(scratch);
}

static void add_node(JsonArray *nodes, const char *id, const char *use, JsonObject *in,
                     JsonObject *with) {
  JsonObject *n = json_object_new();
  json_object_set_string_member(n, "id", id);
  json_object_set_string_member(n, "use", use);
  if (in)
    json_object_set_object_member(n, "in", in);
  json_object_set_object_member(n, "with", with ? with : json_object_new());
  json_array_add_object_element(nodes, n);
}

static JsonObject *in1(const char *port, const char *from) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, port, from);
  return o;
}

static JsonObject *copy_object(JsonObject *o) {
  JsonNode *n = json_node_init_object(json_node_alloc(), o);
  JsonNode *c = json_node_copy(n);
  JsonObject *r = json_object_ref(json_node_get_object(c));
  json_node_unref(n);
  json_node_unref(c);
  return r;
}

/* The output digest @port of node @id in the run (@nodes: show_run's). */
static const char *run_output(JsonObject *run, const char *id, const char *port) {
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *e = json_array_get_object_element(nodes, i);
    if (g_strcmp0(json_object_get_string_member_with_default(e, "id", NULL), id) == 0) {
      JsonObject *outs = json_object_get_object_member(e, "outputs");
      return outs ? json_object_get_string_member_with_default(outs, port, NULL) : NULL;
    }
  }
  return NULL;
}

static gboolean write_predictions(const char *path, const LatheDataset *ds, GStrv classes,
                                  guint k, GError **error) {
  GString *s = g_string_new("row");
  if (ds->groups)
    g_string_append(s, ",group");
  if (ds->labels)
    g_string_append(s, ",label");
  if (classes)
    g_string_append(s, ",predicted");
  for (guint j = 0; j < k; j++)
    g_string_append_printf(s, ",%s", ds->columns[ds->n_cols - k + j]);
  g_string_append_c(s, '\n');
  for (guint r = 0; r < ds->n_rows; r++) {
    const float *p = ds->x + (gsize)r * ds->n_cols + (ds->n_cols - k);
    g_string_append_printf(s, "%u", r);
    if (ds->groups)
      g_string_append_printf(s, ",%s", ds->groups[r] >= 0 ? ds->group_names[ds->groups[r]] : "");
    if (ds->labels)
      g_string_append_printf(s, ",%s", ds->labels[r] >= 0 ? ds->classes[ds->labels[r]] : "");
    if (classes) {
      guint best = 0;
      for (guint j = 1; j < k; j++)
        if (p[j] > p[best])
          best = j;
      g_string_append_printf(s, ",%s", classes[best]);
    }
    for (guint j = 0; j < k; j++)
      g_string_append_printf(s, ",%.9g", p[j]);
    g_string_append_c(s, '\n');
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}

static void print_summary(JsonObject *out, JsonObject *metrics) {
  printf("%s@%s (version %" G_GINT64_FORMAT "): %" G_GINT64_FORMAT " predictions, run %s\n",
         lathe_cli_text(json_object_get_string_member(out, "model")),
         lathe_cli_text(json_object_get_string_member(out, "ref")),
         json_object_get_int_member(out, "version"), json_object_get_int_member(out, "rows"),
         lathe_cli_text(json_object_get_string_member(out, "run_id")));
  if (json_object_has_member(out, "output"))
    printf("predictions written to %s\n",
           lathe_cli_text(json_object_get_string_member(out, "output")));
  if (!metrics)
    return;
  static const char *const shown[] = {"accuracy", "macro_f1", "macro_precision", "macro_recall",
                                      NULL};
  for (guint i = 0; shown[i]; i++)
    if (json_object_has_member(metrics, shown[i]))
      printf("%-16s %.4f\n", shown[i], json_object_get_double_member(metrics, shown[i]));
  JsonArray *classes = json_object_get_array_member(metrics, "classes");
  JsonArray *cm = json_object_get_array_member(metrics, "confusion_matrix");
  if (!classes || !cm)
    return;
  printf("confusion matrix (rows: true, columns: predicted):\n");
  for (guint i = 0; i < json_array_get_length(cm); i++) {
    JsonArray *row = json_array_get_array_element(cm, i);
    printf("  %-24s", lathe_cli_text(json_array_get_string_element(classes, i)));
    for (guint j = 0; row && j < json_array_get_length(row); j++)
      printf(" %6" G_GINT64_FORMAT, json_array_get_int_element(row, j));
    printf("\n");
  }
}

/* The pipeline that scores @data with @name@@ref: NULL after printing the
 * error, with its exit code in @code. */
static char *build_pipeline(const char *name, const char *ref, JsonObject *version,
                            JsonObject *ip, char **data, guint n_data, const char *scratch,
                            const char *registry_id, gboolean *labelled, int *code) {
  JsonObject *src = json_object_get_object_member(ip, "source");
  JsonArray *steps = json_object_get_array_member(ip, "steps");
  if (!src || !steps) {
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s: its input pipeline is damaged; "
                            "re-register it by running its pipeline again", name, ref);
    return NULL;
  }
  const char *src_use = json_object_get_string_member_with_default(src, "use", "");
  g_autoptr(JsonObject) with = copy_object(json_object_get_object_member(src, "with"));
  gboolean csv = n_data == 1 && g_file_test(data[0], G_FILE_TEST_IS_REGULAR) &&
                 ends_with_any(data[0], csv_ends);
  const char *use = src_use;
  if (g_str_equal(src_use, "source/csv")) {
    if (n_data != 1 || !(csv || g_file_test(data[0], G_FILE_TEST_IS_DIR) ||
                         ends_with_any(data[0], archive_ends))) {
      *code = lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s reads one CSV (or a folder or "
                              "archive of them); give one", name, ref);
      return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(data[0], NULL);
    json_object_set_string_member(with, "path", abs);
    JsonNode *rn = json_object_get_member(src, "columns");
    int c = fit_csv_source(with, rn && JSON_NODE_HOLDS_ARRAY(rn) ? json_node_get_array(rn) : NULL,
                           data[0], version, json_array_get_length(steps) == 0, labelled);
    if (c) {
      *code = c;
      return NULL;
    }
  } else if (g_str_equal(src_use, "source/recordings")) {
    g_autoptr(GError) error = NULL;
    JsonObject *sig = lathe_registry_version_signature(version);
    JsonArray *classes = sig ? json_object_get_array_member(sig, "classes") : NULL;
    g_autofree char *folder = recordings_folder(data, n_data, classes, scratch, labelled, &error);
    if (!folder) {
      *code = lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s", error->message);
      return NULL;
    }
    json_object_set_string_member(with, "path", folder);
    json_object_set_string_member(with, "label_from", *labelled ? "folder" : "none");
    json_object_set_int_member(with, "max_per_class", 0);
  } else {
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s reads its data with %s; predict "
                            "reads CSVs and recordings only", name, ref, src_use);
    return NULL;
  }
  JsonArray *nodes = json_array_new();
  const char *src_id = json_object_get_string_member_with_default(src, "id", "source");
  add_node(nodes, src_id, use, NULL, g_steal_pointer(&with));
  g_autofree char *prev = g_strdup_printf(
      "%s.%s", src_id, json_object_get_string_member_with_default(src, "output", "data"));
  for (guint i = 0; i < json_array_get_length(steps); i++) {
    JsonObject *st = json_array_get_object_element(steps, i);
    const char *id = st ? json_object_get_string_member_with_default(st, "id", NULL) : NULL;
    JsonObject *sw = id ? json_object_get_object_member(st, "with") : NULL;
    if (!sw) {
      json_array_unref(nodes);
      *code = lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s: step %u of its input pipeline "
                              "is damaged; re-register it", name, ref, i + 1);
      return NULL;
    }
    add_node(nodes, id, json_object_get_string_member_with_default(st, "use", ""),
             in1(json_object_get_string_member_with_default(st, "input", "data"), prev),
             copy_object(sw));
    g_free(prev);
    prev = g_strdup_printf("%s.%s", id,
                           json_object_get_string_member_with_default(st, "output", "data"));
  }
  JsonObject *mw = json_object_new();
  json_object_set_string_member(mw, "name", name);
  json_object_set_string_member(mw, "ref", ref);
  add_node(nodes, MODEL_NODE, "source/model", NULL, mw);
  JsonObject *pin = in1("model", MODEL_NODE);
  json_object_set_string_member(pin, "data", prev);
  JsonObject *pw = json_object_new();
  json_object_set_boolean_member(pw, "keep", FALSE);
  add_node(nodes, PREDICT_NODE, "transform/predict", pin, pw);
  if (*labelled) {
    JsonObject *ein = in1("model", MODEL_NODE);
    json_object_set_string_member(ein, "data", prev);
    add_node(nodes, EVAL_NODE, "evaluator/classification", ein, NULL);
  }
  g_autoptr(JsonObject) root = json_object_new();
  json_object_set_int_member(root, "lathe", 1);
  json_object_set_string_member(root, "name", "predict");
  json_object_set_array_member(root, "nodes", nodes);
  JsonObject *reg = json_object_new();
  json_object_set_string_member(reg, "use", registry_id ? registry_id : "registry/local");
  json_object_set_object_member(root, "registry", reg);
  g_autoptr(JsonNode) rn = json_node_init_object(json_node_alloc(), root);
  return json_to_string(rn, TRUE);
}

int lathe_cmd_predict(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL, *registry_id = NULL, *output = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json,
       "JSON on stdout: {model, ref, version, run_id, rows, output, metrics}", NULL},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the predictions as CSV", "FILE"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"registry", 0, 0, G_OPTION_ARG_STRING, &registry_id,
       "Registry component (default: registry/local)", "ID"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("NAME@ALIAS DATA [DATA ...]");
  g_option_context_set_summary(octx, "DATA: a CSV file, a folder of recordings, or recordings "
                                     "(.zip and other archives)");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 3)
    return lathe_cli_error(LATHE_EXIT_USAGE, "predict: give a model and data, e.g. `lathe "
                           "predict iris@production new.csv`");
  const char *at = strrchr(argv[1], '@');
  if (!at || at == argv[1] || !at[1])
    return lathe_cli_error(LATHE_EXIT_USAGE, "predict: '%s' is not NAME@ALIAS (or NAME@VERSION)",
                           argv[1]);
  g_autofree char *name = g_strndup(argv[1], (gsize)(at - argv[1]));
  const char *ref = at + 1;
  for (int i = 2; i < argc; i++)
    if (!g_file_test(argv[i], G_FILE_TEST_EXISTS))
      return lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s does not exist", argv[i]);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *cwd = g_get_current_dir();
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: no run store at %s; pass --store", dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheRegistry) reg = lathe_registry_open(cat, registry_id, NULL, cwd, dir, &error);
  if (!reg)
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s", error->message);
  g_autoptr(JsonObject) version = lathe_registry_get_version(reg, name, ref, &error);
  if (!version)
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s@%s: %s", name, ref, error->message);
  JsonObject *meta = json_object_get_object_member(version, "metadata");
  JsonObject *ip = meta && json_object_has_member(meta, "input_pipeline")
                       ? json_object_get_object_member(meta, "input_pipeline") : NULL;
  gint64 vnum = json_object_get_int_member_with_default(version, "version", 0);
  if (!ip)
    return lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s (version %" G_GINT64_FORMAT ") has "
                           "no input pipeline (registered before Lathe recorded them, or its "
                           "chain could not be traced); re-register it by running its pipeline "
                           "again", name, ref, vnum);
  g_autofree char *scratch = g_dir_make_tmp("lathe-predict-XXXXXX", &error);
  if (!scratch)
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s", error->message);
  g_autofree char *links = g_build_filename(scratch, "data", NULL);
  gboolean labelled = FALSE;
  int code = LATHE_EXIT_OK;
  g_autofree char *text = build_pipeline(name, ref, version, ip, argv + 2, (guint)argc - 2,
                                         links, registry_id, &labelled, &code);
  if (!text) {
    lathe_store_remove_tree(scratch);
    return code;
  }
  g_autofree char *path = g_build_filename(cwd, "predict.json", NULL);
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  g_autoptr(LatheGraph) graph = lathe_graph_load_from_data(text, strlen(text), path, NULL, NULL,
                                                          cat, problems);
  if (!graph) {
    lathe_store_remove_tree(scratch);
    return lathe_cli_error(LATHE_EXIT_USAGE, "predict: %s@%s: its input pipeline does not load "
                           "(%s); re-register it", name, ref,
                           problems->len ? ((LatheProblem *)problems->pdata[0])->message : "?");
  }
  LatheStore *store = lathe_store_open(dir, &error);
  if (!store) {
    lathe_store_remove_tree(scratch);
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s", error->message);
  }
  LatheRunOptions opts = {.escape = lathe_cli_escape};
  JsonObject *res = NULL;
  gboolean started = lathe_engine_run(graph, cat, store, &opts, &res, &error);
  lathe_store_remove_tree(scratch);
  if (!started) {
    lathe_store_close(store);
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s", error->message);
  }
  g_autoptr(JsonObject) result = res;
  const char *run_id = json_object_get_string_member(result, "run_id");
  if (!g_str_equal(json_object_get_string_member(result, "status"), "succeeded")) {
    JsonArray *nodes = json_object_get_array_member(result, "nodes");
    for (guint i = 0; i < json_array_get_length(nodes); i++) {
      JsonObject *n = json_array_get_object_element(nodes, i);
      const char *err = json_object_get_string_member_with_default(n, "error", NULL);
      if (err) {
        /* The source refusing DATA (a column it lacks) is a problem of the
         * input, not a failed run. */
        const char *id = json_object_get_string_member(n, "id");
        gboolean src_failed = g_strcmp0(id, json_object_get_string_member_with_default(
                                                json_object_get_object_member(ip, "source"),
                                                "id", "source")) == 0;
        lathe_store_close(store);
        return lathe_cli_error(src_failed ? LATHE_EXIT_USAGE : LATHE_EXIT_FAILED,
                               "predict: %snode '%s' of run %s: %s",
                               src_failed ? "DATA does not fit the model's input pipeline: " : "",
                               id, run_id, err);
      }
    }
    lathe_store_close(store);
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: run %s failed", run_id);
  }
  g_autoptr(JsonObject) shown = lathe_store_show_run(store, run_id, &error);
  const char *pd = shown ? run_output(shown, PREDICT_NODE, "data") : NULL;
  const char *md = shown && labelled ? run_output(shown, EVAL_NODE, "metrics") : NULL;
  g_autoptr(LatheArtifact) pa = pd ? lathe_store_get_artifact(store, pd, LATHE_TYPE_DATASET,
                                                              &error) : NULL;
  g_autoptr(LatheArtifact) ma = md ? lathe_store_get_artifact(store, md, LATHE_TYPE_METRICS,
                                                              &error) : NULL;
  const LatheDataset *preds = pa ? lathe_artifact_get_dataset(pa, &error) : NULL;
  JsonObject *metrics = ma ? lathe_artifact_get_metrics(ma, &error) : NULL;
  lathe_store_close(store);
  if (!preds || (md && !metrics))
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: run %s: its predictions cannot be read "
                           "back (%s); run `lathe store check`", run_id,
                           error ? error->message : "not recorded");
  JsonObject *sig = lathe_registry_version_signature(version);
  JsonArray *ca = sig ? json_object_get_array_member(sig, "classes") : NULL;
  guint k = preds->n_cols;
  g_auto(GStrv) classes = NULL;
  if (ca && json_array_get_length(ca) == k) {
    classes = g_new0(char *, k + 1);
    for (guint j = 0; j < k; j++)
      classes[j] = g_strdup(json_array_get_string_element(ca, j));
  }
  if (output && !write_predictions(output, preds, classes, k, &error))
    return lathe_cli_error(LATHE_EXIT_FAILED, "predict: %s", error->message);
  g_autoptr(JsonObject) out = json_object_new();
  json_object_set_string_member(out, "model", name);
  json_object_set_string_member(out, "ref", ref);
  json_object_set_int_member(out, "version", vnum);
  json_object_set_string_member(out, "run_id", run_id);
  json_object_set_int_member(out, "rows", preds->n_rows);
  if (output)
    json_object_set_string_member(out, "output", output);
  if (metrics)
    json_object_set_object_member(out, "metrics", json_object_ref(metrics));
  else
    json_object_set_null_member(out, "metrics");
  if (json) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), out);
    lathe_cli_print_json(n);
  } else {
    print_summary(out, metrics);
  }
  return LATHE_EXIT_OK;
}
