/* `lathe run` and `lathe validate`. */
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "graph/graph.h"

#define T lathe_cli_text

static void print_problems(const char *path, GPtrArray *problems) {
  for (guint i = 0; i < problems->len; i++) {
    LatheProblem *p = problems->pdata[i];
    if (!*p->pointer && g_ascii_isdigit(p->message[0]))
      fprintf(stderr, "%s:%s\n", T(path), T(p->message)); /* FILE:LINE:COL: from the JSON parser */
    else if (!*p->pointer)
      fprintf(stderr, "%s: %s\n", T(path), T(p->message));
    else
      fprintf(stderr, "%s: %s: %s\n", T(path), T(p->pointer), T(p->message));
  }
}

static JsonNode *problems_json(GPtrArray *problems, const char *path) {
  JsonArray *arr = json_array_new();
  for (guint i = 0; i < problems->len; i++) {
    LatheProblem *p = problems->pdata[i];
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "file", path);
    json_object_set_string_member(o, "pointer", p->pointer);
    json_object_set_string_member(o, "message", p->message);
    json_array_add_object_element(arr, o);
  }
  JsonObject *root = json_object_new();
  json_object_set_boolean_member(root, "valid", problems->len == 0);
  json_object_set_array_member(root, "problems", arr);
  return json_node_init_object(json_node_alloc(), root);
}

/* Whether a node of @g, or of a trial inside it, runs code that links OpenBLAS. */
static gboolean graph_needs_blas(LatheGraph *g) {
  for (guint i = 0; g && i < g->nodes->len; i++) {
    LatheNode *n = g->nodes->pdata[i];
    if ((n->comp && lathe_plugin_needs_blas(n->comp->plugin)) || graph_needs_blas(n->trial))
      return TRUE;
  }
  return FALSE;
}

/* The per-node table and the metrics of the pipeline's own nodes, for
 * people (a trial's are in `lathe runs show`). */
static void print_summary(JsonObject *res, LatheGraph *graph) {
  JsonArray *nodes = json_object_get_array_member(res, "nodes");
  printf("%-28s %-10s %9s\n", "NODE", "STATUS", "SECONDS");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member(n, "id");
    printf("%-28s %-10s %9.3f", T(id), T(json_object_get_string_member(n, "status")),
           json_object_get_double_member(n, "seconds"));
    const char *err = json_object_get_string_member_with_default(n, "error", NULL);
    /* One row a node: an error's first line (an executor's adds its stderr
     * tail below it, a plugin's may run on); `runs show` prints the rest. */
    g_autofree char *first = err ? g_strndup(err, strcspn(err, "\n")) : NULL;
    if (err)
      printf("  %s%s", T(first), strchr(err, '\n') ? " (more: lathe runs show)" : "");
    putchar('\n');
  }
  JsonObject *metrics = json_object_get_object_member(res, "metrics");
  g_autoptr(GList) names = json_object_get_members(metrics);
  names = g_list_sort(names, (GCompareFunc)strcmp);
  gboolean header = FALSE;
  for (GList *l = names; l; l = l->next) {
    const char *name = l->data;
    /* "NODE.METRIC": node ids hold no '.', so NODE ends at the first one. */
    g_autofree char *node = g_strndup(name, strcspn(name, "."));
    if (!g_hash_table_contains(graph->by_id, node))
      continue; /* a trial's task */
    if (!header) {
      printf("\n%-40s %s\n", "METRIC", "VALUE");
      header = TRUE;
    }
    printf("%-40s %.6g\n", T(name), json_object_get_double_member(metrics, name));
  }
  printf("\nrun %s %s\n", T(json_object_get_string_member(res, "run_id")),
         T(json_object_get_string_member(res, "status")));
}

int lathe_cmd_run(int argc, char **argv, gboolean validate_only) {
  g_auto(GStrv) sets = NULL;
  g_autofree char *preset = NULL;
  int jobs = G_MININT; /* unset: as many as the cores */
  gint64 seed = G_MININT64; /* unset: the pipeline's */
  gboolean no_cache = FALSE, json = FALSE;
  g_autofree char *store_opt = NULL;
  g_auto(GStrv) trackers = NULL;
  g_autofree char *executor_opt = NULL;
  GOptionEntry entries[] = {
      {"executor", 0, 0, G_OPTION_ARG_STRING, &executor_opt,
       "Run every node on this executor (process, slurm, or threads: the host's own), whatever "
       "the pipeline says", "NAME"},
      {"tracker", 0, 0, G_OPTION_ARG_STRING_ARRAY, &trackers,
       "Log to this tracker instead of the pipeline's \"tracker\" (repeat for several; "
       "none for no tracker; default: $LATHE_TRACKER, comma-separated)", "ID"},
      {"preset", 'p', 0, G_OPTION_ARG_STRING, &preset, "Use one of the pipeline's \"presets\"", "NAME"},
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a param (after the preset)", "NODE.PARAM=VALUE"},
      {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Nodes run at once (default: cores)", "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Use this seed instead of the pipeline's \"seed\"", "N"},
      {"no-cache", 0, 0, G_OPTION_ARG_NONE, &no_cache, "Run every node", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: .lathe beside the pipeline)", "DIR"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object on stdout", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new(validate_only ? "PIPELINE.json" : "PIPELINE.json");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc != 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "%s takes one pipeline file; see --help",
                           validate_only ? "validate" : "run");
  if (jobs == G_MININT)
    jobs = 0;
  else if (jobs < 1 || jobs > 1024)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--jobs must be between 1 and 1024 (leave it out for one per core)");
  if (seed != G_MININT64 && seed < 0)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--seed must be a non-negative integer");
  const char *path = argv[1];
  lathe_cli_phase("start");
  g_autofree char *blas_refusal = NULL;
  if (!validate_only) {
    /* Parallel nodes x BLAS threads must not exceed the cores, nor what an
     * address-space limit holds (catalog/memlimit.c). */
    guint cores = (guint)MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
    guint fit_jobs = jobs ? (guint)jobs : cores, threads = MAX(1, cores / fit_jobs);
    blas_refusal = lathe_memlimit_fit(&fit_jobs, jobs != 0, &threads);
    if (!jobs && fit_jobs < cores)
      jobs = (int)fit_jobs;
    lathe_blas_prepare(lathe_original_argv, threads);
  }
  lathe_cli_phase("blas");
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(json);
  lathe_cli_phase("plugins");
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  LatheGraphOverrides ov = {.preset = preset, .sets = (const char *const *)sets,
                            .seed = seed == G_MININT64 ? -1 : seed};
  g_autoptr(LatheGraph) graph = lathe_graph_load_overridden(path, &ov, cat, problems);
  lathe_cli_phase("graph");
  if (!graph) {
    if (json) {
      g_autoptr(JsonNode) out = problems_json(problems, path);
      lathe_cli_print_json(out);
    }
    print_problems(path, problems);
    return LATHE_EXIT_USAGE;
  }
  if (blas_refusal && graph_needs_blas(graph))
    return lathe_cli_error(LATHE_EXIT_FAILED, "%s", blas_refusal);
  if (validate_only) {
    if (json) {
      g_autoptr(JsonNode) out = problems_json(problems, path);
      lathe_cli_print_json(out);
    } else {
      printf("%s: valid (%u nodes)\n", T(path), graph->nodes->len);
    }
    return LATHE_EXIT_OK;
  }
  if (!trackers && g_getenv("LATHE_TRACKER") && *g_getenv("LATHE_TRACKER"))
    trackers = g_strsplit(g_getenv("LATHE_TRACKER"), ",", -1);
  for (guint i = 0; trackers && trackers[i]; i++) {
    g_strstrip(trackers[i]);
    if (g_str_equal(trackers[i], "none"))
      continue;
    g_autofree char *id = strchr(trackers[i], '/') ? g_strdup(trackers[i])
                                                   : g_strdup_printf("tracker/%s", trackers[i]);
    LatheComponentInfo *c = lathe_catalog_lookup(cat, id);
    if (!c || c->kind != LATHE_KIND_TRACKER)
      return lathe_cli_error(LATHE_EXIT_USAGE, "tracker '%s' (--tracker or LATHE_TRACKER) is not "
                             "installed; `lathe plugins` lists the trackers", trackers[i]);
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *executor = executor_opt ? lathe_engine_check_executor(cat, executor_opt, &error) : NULL;
  if (executor_opt && !executor)
    return lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
  g_autofree char *store_dir = lathe_cli_default_store(store_opt, graph->base_dir);
  LatheStore *store = lathe_store_open(store_dir, &error);
  if (!store)
    return lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
  lathe_cli_phase("store open");
  /* --no-cache also repairs: what is made again replaces a damaged file. */
  lathe_store_set_check_rewrites(store, no_cache);
  LatheRunOptions opts = {.jobs = (guint)jobs, .no_cache = no_cache,
                          .progress = !json && isatty(STDERR_FILENO), .escape = lathe_cli_escape,
                          .trackers = (const char *const *)trackers, .executor = executor};
  JsonObject *res = NULL;
  gboolean started = lathe_engine_run(graph, cat, store, &opts, &res, &error);
  lathe_cli_phase("run");
  lathe_store_close(store);
  lathe_cli_phase("store close");
  if (!started)
    return lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), res);
  json_object_unref(res);
  if (json)
    lathe_cli_print_json(root);
  else
    print_summary(res, graph);
  return g_str_equal(json_object_get_string_member(res, "status"), "succeeded") ? LATHE_EXIT_OK
                                                                               : LATHE_EXIT_FAILED;
}
