/* `lathe runs list` and `lathe runs show`. */
#include <string.h>

#include "cli/cli.h"
#include "report/report.h"
#include "store/store.h"

#define T lathe_cli_text

/* Each execution of a node is an attempt (a retry, or an output made
 * again): numbered in the order they were made, 1 the first. */
static void number_attempts(JsonObject *run) {
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member_with_default(n, "id", "");
    guint k = GPOINTER_TO_UINT(g_hash_table_lookup(seen, id)) + 1;
    g_hash_table_insert(seen, (gpointer)id, GUINT_TO_POINTER(k));
    json_object_set_int_member(n, "attempt", k);
  }
}

/* A failure's error, then the stderr tail an executor kept, a line each. */
static void print_error(const char *err) {
  g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
  printf("    error: %s\n", T(lines[0]));
  for (guint i = 1; lines[i]; i++)
    printf("      | %s\n", T(lines[i]));
}

/* Each evaluator's confusion matrix and per-class scores, from its metrics
 * artifact (report.c reads it, for the report too): "classification". */
static void add_class_tables(LatheStore *store, JsonObject *run) {
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    JsonObject *t = lathe_report_class_table(store, n);
    if (t)
      json_object_set_object_member(n, "classification", t);
  }
}

static void print_class_table(JsonObject *t) {
  JsonArray *classes = json_object_get_array_member(t, "classes");
  JsonArray *cm = json_object_get_array_member(t, "confusion_matrix");
  guint n = json_array_get_length(classes), w = 6;
  for (guint c = 0; c < n; c++)
    w = MAX(w, (guint)strlen(T(json_array_get_string_element(classes, c))));
  printf("    confusion matrix (rows: true class, columns: predicted):\n      %-*s", (int)w, "");
  for (guint c = 0; c < n; c++)
    printf(" %*s", (int)w, T(json_array_get_string_element(classes, c)));
  putchar('\n');
  for (guint r = 0; r < n; r++) {
    JsonArray *row = json_array_get_array_element(cm, r);
    printf("      %-*s", (int)w, T(json_array_get_string_element(classes, r)));
    for (guint c = 0; c < n && c < json_array_get_length(row); c++)
      printf(" %*" G_GINT64_FORMAT, (int)w, json_array_get_int_element(row, c));
    putchar('\n');
  }
  printf("    %-*s %9s %9s %9s %9s\n", (int)w + 2, "class", "precision", "recall", "f1", "support");
  JsonArray *per = json_object_get_array_member(t, "per_class");
  for (guint c = 0; c < json_array_get_length(per); c++) {
    JsonObject *r = json_array_get_object_element(per, c);
    printf("      %-*s", (int)w, T(json_object_get_string_member(r, "class")));
    const char *keys[] = {"precision", "recall", "f1"};
    for (guint k = 0; k < 3; k++) {
      JsonNode *v = json_object_get_member(r, keys[k]);
      if (v && JSON_NODE_HOLDS_VALUE(v))
        printf(" %9.4f", json_node_get_double(v));
      else
        printf(" %9s", "NaN");
    }
    printf(" %9" G_GINT64_FORMAT "\n", json_object_get_int_member_with_default(r, "support", 0));
  }
}

static void print_show(JsonObject *run) {
  g_autofree char *started = lathe_cli_format_time(json_object_get_double_member_with_default(run, "started", 0));
  const char *preset = json_object_get_string_member_with_default(run, "preset", NULL);
  printf("run %s  %s  %s\npipeline %s%s%s  seed %" G_GINT64_FORMAT "  started %s UTC\n",
         T(json_object_get_string_member(run, "run_id")), T(json_object_get_string_member(run, "name")),
         T(json_object_get_string_member(run, "status")), T(json_object_get_string_member(run, "pipeline")),
         preset ? "  preset " : "", preset ? T(preset) : "", json_object_get_int_member(run, "seed"),
         started);
  JsonNode *envn = json_object_get_member(run, "environment");
  if (envn && JSON_NODE_HOLDS_OBJECT(envn)) {
    JsonObject *e = json_node_get_object(envn);
    g_autofree char *lib = g_path_get_basename(json_object_get_string_member_with_default(e, "blas", "none"));
    printf("environment: %s, BLAS core %s (%s), jobs %" G_GINT64_FORMAT ", BLAS threads %" G_GINT64_FORMAT "\n",
           T(json_object_get_string_member_with_default(e, "cpu", "?")),
           T(json_object_get_string_member_with_default(e, "blas_core", "?")), T(lib),
           json_object_get_int_member_with_default(e, "jobs", 0),
           json_object_get_int_member_with_default(e, "blas_threads", 0));
  }
  putchar('\n');
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    gint64 attempt = json_object_get_int_member_with_default(n, "attempt", 1);
    g_autofree char *nth = attempt > 1 || (i + 1 < json_array_get_length(nodes) &&
                                           g_strcmp0(json_object_get_string_member(json_array_get_object_element(nodes, i + 1), "id"),
                                                     json_object_get_string_member(n, "id")) == 0)
                               ? g_strdup_printf("  attempt %" G_GINT64_FORMAT, attempt) : g_strdup("");
    printf("%s  [%s]  %s  cache %s  %.3fs%s\n", T(json_object_get_string_member(n, "id")),
           T(json_object_get_string_member(n, "component")), T(json_object_get_string_member(n, "status")),
           T(json_object_get_string_member(n, "cache")),
           json_object_get_double_member_with_default(n, "seconds", 0), nth);
    const char *err = json_object_get_string_member_with_default(n, "error", NULL);
    if (err)
      print_error(err);
    const char *lists[] = {"params", "metrics"};
    for (guint k = 0; k < 2; k++) {
      JsonObject *o = json_object_get_object_member(n, lists[k]);
      g_autoptr(GList) names = json_object_get_members(o);
      if (!names)
        continue;
      printf("    %s:", lists[k]);
      for (GList *l = names; l; l = l->next) {
        g_autofree char *v = lathe_json_canonical(json_object_get_member(o, l->data));
        printf(" %s=%s", T(l->data), T(v));
      }
      putchar('\n');
    }
    if (json_object_has_member(n, "classification"))
      print_class_table(json_object_get_object_member(n, "classification"));
    const char *ports[] = {"inputs", "outputs"};
    for (guint k = 0; k < 2; k++) {
      JsonObject *o = json_object_get_object_member(n, ports[k]);
      g_autoptr(GList) names = json_object_get_members(o);
      for (GList *l = names; l; l = l->next)
        printf("    %s %s: sha256:%.16s\n", k ? "out" : "in ", T(l->data),
               T(json_object_get_string_member(o, l->data)));
    }
    /* A sink's versions are what it wrote; a URI's digest is its system's
     * checksum (lakeFS: the object's MD5), only a local file's is SHA-256. */
    const char *component = json_object_get_string_member_with_default(n, "component", "");
    const char *verb = g_str_has_prefix(component, "sink/") ? "wrote" : "read";
    JsonArray *dvs = json_object_get_array_member(n, "data_versions");
    for (guint k = 0; k < json_array_get_length(dvs); k++) {
      JsonObject *d = json_array_get_object_element(dvs, k);
      const char *uri = json_object_get_string_member(d, "uri");
      printf("    %s %s %s:%.16s\n", verb, T(uri), strstr(uri, "://") ? "checksum" : "sha256",
             T(json_object_get_string_member(d, "digest")));
    }
  }
}

int lathe_cmd_runs(int argc, char **argv) {
  if (argc >= 2 && g_str_equal(argv[1], "search"))
    return lathe_cmd_runs_search(argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal(argv[1], "compare"))
    return lathe_cmd_runs_compare(argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal(argv[1], "export"))
    return lathe_cmd_runs_export(argc - 1, argv + 1);
  gboolean json = FALSE, show = FALSE;
  int code;
  LatheStore *store = lathe_cli_open_list_show(&argc, &argv, "runs", "RUN_ID", &json, &show, &code);
  if (!store)
    return code;
  g_autoptr(GError) error = NULL;
  gboolean list = !show;
  code = LATHE_EXIT_OK;
  if (list) {
    JsonArray *runs = lathe_store_list_runs(store, &error);
    g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), runs);
    json_array_unref(runs);
    if (json) {
      lathe_cli_print_json(root);
    } else {
      printf("%-10s %-20s %-12s %-20s %s\n", "RUN", "NAME", "STATUS", "STARTED (UTC)", "NODES");
      for (guint i = 0; i < json_array_get_length(runs); i++) {
        JsonObject *r = json_array_get_object_element(runs, i);
        g_autofree char *t = lathe_cli_format_time(json_object_get_double_member_with_default(r, "started", 0));
        printf("%-10s %-20s %-12s %-20s %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " cached, %"
               G_GINT64_FORMAT " failed)\n",
               T(json_object_get_string_member(r, "run_id")), T(json_object_get_string_member(r, "name")),
               T(json_object_get_string_member(r, "status")), t,
               json_object_get_int_member(r, "executions"), json_object_get_int_member(r, "cached"),
               json_object_get_int_member(r, "failed"));
      }
    }
  } else {
    JsonObject *run = lathe_store_show_run(store, argv[2], &error);
    if (!run) {
      code = lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
    } else {
      g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), run);
      json_object_unref(run);
      number_attempts(run);
      add_class_tables(store, run);
      if (json)
        lathe_cli_print_json(root);
      else
        print_show(run);
    }
  }
  lathe_store_close(store);
  return code;
}
