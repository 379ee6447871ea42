/* `lathe reproduce RUN`: re-executes a recorded run into a scratch store and
 * compares every output digest with the original's. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "graph/graph.h"
#include "lathe-registry.h"

#define T lathe_cli_text

typedef struct {
  JsonObject *run;      /* lathe_store_show_run() of the original */
  const char *run_id;
  LatheCatalog *cat;
} Repro;

/* The last execution of each node that has outputs: a node retried in a run
 * (a damaged input rebuilt) keeps the outputs of its last attempt. */
static GHashTable *outputs_by_node(JsonObject *run, GPtrArray *order) {
  GHashTable *by = g_hash_table_new(g_str_hash, g_str_equal);
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member(n, "id");
    if (json_object_get_size(json_object_get_object_member(n, "outputs")) == 0)
      continue;
    if (order && !g_hash_table_contains(by, id))
      g_ptr_array_add(order, (gpointer)id);
    g_hash_table_insert(by, (gpointer)id, n);
  }
  return by;
}

/* Node id -> the data versions it recorded, for the sources to read again. */
static GHashTable *pins_of(JsonObject *run) {
  GHashTable *pins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify)json_array_unref);
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    JsonArray *dvs = json_object_get_array_member(n, "data_versions");
    if (json_array_get_length(dvs) == 0)
      continue;
    g_autoptr(JsonNode) copy = json_node_copy(json_object_get_member(n, "data_versions"));
    g_hash_table_insert(pins, g_strdup(json_object_get_string_member(n, "id")),
                        json_array_ref(json_node_get_array(copy)));
  }
  return pins;
}

/* Local files the run read must hold the bytes they held then; lakeFS and
 * other URIs are read at their recorded version by their source. */
static gboolean check_local_files(Repro *r) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  JsonArray *nodes = json_object_get_array_member(r->run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonArray *dvs = json_object_get_array_member(json_array_get_object_element(nodes, i),
                                                  "data_versions");
    for (guint k = 0; k < json_array_get_length(dvs); k++) {
      JsonObject *d = json_array_get_object_element(dvs, k);
      const char *uri = json_object_get_string_member_with_default(d, "uri", "");
      const char *want = json_object_get_string_member_with_default(d, "digest", "");
      if (strstr(uri, "://") || !g_hash_table_add(seen, (gpointer)uri))
        continue;
      g_autoptr(GError) error = NULL;
      g_autofree char *got = lathe_store_file_sha256(uri, &error);
      if (!got) {
        lathe_cli_error(LATHE_EXIT_USAGE, "%s: run %s read it, and it cannot be read now (%s); "
                        "restore it to reproduce the run", uri, r->run_id, error->message);
        return FALSE;
      }
      if (!g_str_equal(got, want)) {
        lathe_cli_error(LATHE_EXIT_USAGE, "%s changed since run %s (SHA-256 %.12s... now, "
                        "%.12s... then); restore it to reproduce the run", uri, r->run_id, got, want);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* The plugins whose binaries differ from the ones the run recorded, each
 * {plugin, component, recorded, current}; a component no longer installed
 * has a null current digest. */
static JsonArray *changed_plugins(Repro *r) {
  JsonArray *out = json_array_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  JsonArray *nodes = json_object_get_array_member(r->run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *comp = json_object_get_string_member_with_default(n, "component", NULL);
    const char *plugin = json_object_get_string_member_with_default(n, "plugin", NULL);
    const char *want = json_object_get_string_member_with_default(n, "plugin_digest", NULL);
    if (!comp || !plugin || !want || !g_hash_table_add(seen, (gpointer)plugin))
      continue; /* the host's own nodes have no plugin file */
    LatheComponentInfo *c = lathe_catalog_lookup(r->cat, comp);
    const char *now = c ? lathe_plugin_digest(c->plugin) : NULL;
    if (now && g_str_equal(now, want))
      continue;
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "plugin", plugin);
    json_object_set_string_member(o, "component", comp);
    json_object_set_string_member(o, "recorded", want);
    if (now)
      json_object_set_string_member(o, "current", now);
    else
      json_object_set_null_member(o, "current");
    json_array_add_object_element(out, o);
  }
  return out;
}

/* The tuner nodes the run executed rather than restored from the cache,
 * NULL-terminated. */
static GPtrArray *tuners_that_ran(Repro *r) {
  GPtrArray *out = g_ptr_array_new();
  JsonArray *nodes = json_object_get_array_member(r->run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    LatheComponentInfo *c = lathe_catalog_lookup(
        r->cat, json_object_get_string_member_with_default(n, "component", ""));
    if (c && c->kind == LATHE_KIND_TUNER &&
        g_strcmp0(json_object_get_string_member_with_default(n, "status", ""), "cached") != 0)
      g_ptr_array_add(out, (gpointer)json_object_get_string_member(n, "id"));
  }
  g_ptr_array_add(out, NULL);
  return out;
}

/* Whether @use names registry/local, the one registry whose folder can be
 * moved into the scratch store. */
static gboolean local_registry(const char *use) {
  return !use || g_str_equal(use, "registry/local");
}

/* Drops "path" from a registry/local "with", so that it lives in the scratch
 * store; refuses other registries, which would write where the user's are. */
static gboolean redirect_registry(JsonObject *o, const char *where) {
  const char *use = json_object_get_string_member_with_default(o, "use", NULL);
  if (!local_registry(use)) {
    lathe_cli_error(LATHE_EXIT_USAGE, "%s uses the registry '%s': reproduce keeps the user's "
                    "registries untouched and can move only registry/local into its scratch "
                    "store", where, use);
    return FALSE;
  }
  JsonNode *w = json_object_get_member(o, "with");
  if (w && JSON_NODE_HOLDS_OBJECT(w))
    json_object_remove_member(json_node_get_object(w), "path");
  return TRUE;
}

static gboolean redirect_nodes(Repro *r, JsonArray *nodes) {
  for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    const char *use = json_object_get_string_member_with_default(n, "use", "");
    LatheComponentInfo *c = lathe_catalog_lookup(r->cat, use);
    g_autofree char *where = g_strdup_printf("node '%s'",
                                             json_object_get_string_member_with_default(n, "id", ""));
    if (c && c->kind == LATHE_KIND_REGISTRY && !redirect_registry(n, where))
      return FALSE;
    JsonNode *trial = json_object_get_member(n, "trial");
    if (trial && JSON_NODE_HOLDS_OBJECT(trial) &&
        json_object_has_member(json_node_get_object(trial), "nodes") &&
        !redirect_nodes(r, json_object_get_array_member(json_node_get_object(trial), "nodes")))
      return FALSE;
  }
  return TRUE;
}

/* The recorded pipeline, made to run without side effects on the user's
 * state: its tracker is the default one, inside the scratch store, and its
 * registry is registry/local inside it too. Its preset was applied when it
 * was recorded: the name stays, the choice goes. */
static char *scratch_pipeline(Repro *r, const char *text, GError **error) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, text, -1, error))
    return NULL;
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  json_object_remove_member(root, "preset");
  json_object_remove_member(root, "tracker");
  json_object_set_string_member(root, "name", json_object_get_string_member(r->run, "name"));
  JsonNode *reg = json_object_get_member(root, "registry");
  if (reg && JSON_NODE_HOLDS_OBJECT(reg) &&
      !redirect_registry(json_node_get_object(reg), "the pipeline's \"registry\""))
    return NULL;
  if (!redirect_nodes(r, json_object_get_array_member(root, "nodes")))
    return NULL;
  return lathe_json_canonical(json_parser_get_root(p));
}

static double iso_seconds(const char *iso) {
  g_autoptr(GDateTime) dt = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
  return dt ? (double)g_date_time_to_unix(dt) + g_date_time_get_microsecond(dt) / 1e6 : 0;
}

/* The scratch registry starts as the user's was when the run started: the
 * versions registered before it, under the same numbers, and the aliases
 * as they pointed then, so that a node that reads the registry (evaluator/ab)
 * sees what it saw and a register node gets the same version number. */
static gboolean seed_registry(Repro *r, LatheGraph *g, const char *store_dir, const char *scratch,
                              const char *orig_text, GError **error) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, orig_text, -1, error))
    return FALSE;
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  JsonNode *setn = json_object_get_member(root, "registry");
  JsonObject *setting = setn && JSON_NODE_HOLDS_OBJECT(setn) ? json_node_get_object(setn) : NULL;
  JsonNode *wn = setting ? json_object_get_member(setting, "with") : NULL;
  JsonObject *with = wn && JSON_NODE_HOLDS_OBJECT(wn) ? json_node_get_object(wn) : NULL;
  const char *path = with ? json_object_get_string_member_with_default(with, "path", "") : "";
  g_autofree char *folder = !*path ? g_build_filename(store_dir, "registry", NULL)
                            : g_path_is_absolute(path) ? g_strdup(path)
                                                       : g_build_filename(g->base_dir, path, NULL);
  g_autofree char *db = g_build_filename(folder, "registry.db", NULL);
  if (!g_file_test(db, G_FILE_TEST_EXISTS))
    return TRUE; /* no registry then either */
  const char *use = setting ? json_object_get_string_member_with_default(setting, "use", NULL) : NULL;
  g_autoptr(LatheRegistry) from = lathe_registry_open(r->cat, use, with, g->base_dir, store_dir, error);
  JsonNode *sw = g->registry ? json_object_get_member(g->registry, "with") : NULL;
  JsonObject *scratch_with = sw && JSON_NODE_HOLDS_OBJECT(sw) ? json_node_get_object(sw) : NULL;
  g_autoptr(LatheRegistry) to =
      from ? lathe_registry_open(r->cat, use, scratch_with, g->base_dir, scratch, error) : NULL;
  if (!to)
    return FALSE;
  double started = json_object_get_double_member_with_default(r->run, "started", 0);
  g_autoptr(JsonArray) versions = lathe_registry_list(from, NULL, error);
  if (!versions)
    return FALSE;
  g_autoptr(GHashTable) seeded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    const char *name = json_object_get_string_member(v, "name");
    gint64 number = json_object_get_int_member(v, "version");
    if (iso_seconds(json_object_get_string_member_with_default(v, "created", NULL)) >= started)
      continue;
    g_autofree char *ref = g_strdup_printf("%" G_GINT64_FORMAT, number);
    guint got = 0, made = 0;
    g_autoptr(LatheArtifact) model = lathe_registry_fetch(from, name, ref, &got, error);
    if (!model)
      return FALSE;
    JsonNode *mn = json_object_get_member(v, "metadata");
    g_autoptr(JsonNode) mc = mn && JSON_NODE_HOLDS_OBJECT(mn) ? json_node_copy(mn) : NULL;
    g_autoptr(JsonObject) meta = mc ? json_object_ref(json_node_get_object(mc)) : json_object_new();
    if (!lathe_registry_register(to, name, model, meta, NULL, &made, error))
      return FALSE;
    if (made != (guint)number)
      g_printerr("warning: registry: %s version %" G_GINT64_FORMAT " is version %u in the "
                 "scratch registry (versions were removed since)\n", name, number, made);
    g_hash_table_add(seeded, g_strdup_printf("%s/%" G_GINT64_FORMAT, name, number));
  }
  g_autoptr(GError) herr = NULL;
  g_autoptr(JsonArray) history = lathe_registry_alias_history(from, NULL, NULL, &herr);
  if (!history) {
    g_printerr("warning: registry: %s; its aliases are not copied\n", herr->message);
    return TRUE;
  }
  g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length(history); i++) {
    JsonObject *h = json_array_get_object_element(history, i);
    g_autofree char *key = g_strdup_printf("%s/%" G_GINT64_FORMAT, json_object_get_string_member(h, "name"),
                                           json_object_get_int_member(h, "version"));
    if (iso_seconds(json_object_get_string_member(h, "set_at")) < started &&
        g_hash_table_contains(seeded, key))
      g_hash_table_insert(held, g_strdup_printf("%s\n%s", json_object_get_string_member(h, "name"),
                                                json_object_get_string_member(h, "alias")),
                          GINT_TO_POINTER((gint)json_object_get_int_member(h, "version")));
  }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, held);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_auto(GStrv) na = g_strsplit(k, "\n", 2);
    if (!lathe_registry_set_alias(to, na[0], na[1], (guint)GPOINTER_TO_INT(v), error))
      return FALSE;
  }
  return TRUE;
}

/* Whether two environments run the same kernels on the same CPU. */
static gboolean same_kernel(JsonObject *a, JsonObject *b) {
  static const char *const keys[] = {"cpu", "blas", "blas_core", NULL};
  for (guint i = 0; keys[i]; i++)
    if (g_ascii_strcasecmp(json_object_get_string_member_with_default(a, keys[i], ""),
                           json_object_get_string_member_with_default(b, keys[i], "")) != 0)
      return FALSE;
  return TRUE;
}

static char *describe_env(JsonObject *e) {
  g_autofree char *lib = g_path_get_basename(json_object_get_string_member_with_default(e, "blas", "none"));
  return g_strdup_printf("%s (BLAS core %s, %s)", json_object_get_string_member_with_default(e, "cpu", "?"),
                         json_object_get_string_member_with_default(e, "blas_core", "?"), lib);
}

/* {name: {original, reproduced, delta}} for the metrics of one node that
 * differ, or that only one side has. */
static JsonObject *metric_deltas(JsonObject *orig, JsonObject *repro) {
  JsonObject *out = json_object_new();
  JsonObject *om = orig ? json_object_get_object_member(orig, "metrics") : NULL;
  JsonObject *rm = repro ? json_object_get_object_member(repro, "metrics") : NULL;
  g_autoptr(GList) names = om ? json_object_get_members(om) : NULL;
  g_autoptr(GList) more = rm ? json_object_get_members(rm) : NULL;
  for (GList *l = more; l; l = l->next)
    if (!om || !json_object_has_member(om, l->data))
      names = g_list_append(names, l->data);
  names = g_list_sort(names, (GCompareFunc)strcmp);
  for (GList *l = names; l; l = l->next) {
    gboolean ho = om && json_object_has_member(om, l->data), hr = rm && json_object_has_member(rm, l->data);
    double a = ho ? json_object_get_double_member(om, l->data) : 0;
    double b = hr ? json_object_get_double_member(rm, l->data) : 0;
    if (ho && hr && memcmp(&a, &b, sizeof a) == 0)
      continue;
    JsonObject *d = json_object_new();
    if (ho) json_object_set_double_member(d, "original", a); else json_object_set_null_member(d, "original");
    if (hr) json_object_set_double_member(d, "reproduced", b); else json_object_set_null_member(d, "reproduced");
    if (ho && hr) json_object_set_double_member(d, "delta", b - a); else json_object_set_null_member(d, "delta");
    json_object_set_object_member(out, l->data, d);
  }
  return out;
}

/* The table: one row per output of the original run (and per output of a
 * pipeline node only the reproduction has). Outputs of trials only the
 * reproduction ran (the original's study was resumed, or its tuner cached)
 * are not rows: the tuner's own output stands for them. */
static JsonArray *compare(JsonObject *orig, JsonObject *repro, guint *differ) {
  JsonArray *rows = json_array_new();
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  g_autoptr(GPtrArray) rorder = g_ptr_array_new();
  g_autoptr(GHashTable) ob = outputs_by_node(orig, order);
  g_autoptr(GHashTable) rb = outputs_by_node(repro, rorder);
  for (guint i = 0; i < rorder->len; i++)
    if (!g_hash_table_contains(ob, rorder->pdata[i]) && !strchr(rorder->pdata[i], '/'))
      g_ptr_array_add(order, rorder->pdata[i]);
  *differ = 0;
  for (guint i = 0; i < order->len; i++) {
    const char *id = order->pdata[i];
    JsonObject *on = g_hash_table_lookup(ob, id), *rn = g_hash_table_lookup(rb, id);
    JsonObject *oo = on ? json_object_get_object_member(on, "outputs") : NULL;
    JsonObject *ro = rn ? json_object_get_object_member(rn, "outputs") : NULL;
    g_autoptr(GList) ports = json_object_get_members(oo ? oo : ro);
    for (GList *l = ports; l; l = l->next) {
      const char *a = oo ? json_object_get_string_member_with_default(oo, l->data, NULL) : NULL;
      const char *b = ro ? json_object_get_string_member_with_default(ro, l->data, NULL) : NULL;
      gboolean same = a && b && g_str_equal(a, b);
      JsonObject *row = json_object_new();
      json_object_set_string_member(row, "node", id);
      json_object_set_string_member(row, "output", l->data);
      if (a) json_object_set_string_member(row, "original", a); else json_object_set_null_member(row, "original");
      if (b) json_object_set_string_member(row, "reproduced", b); else json_object_set_null_member(row, "reproduced");
      json_object_set_boolean_member(row, "identical", same);
      if (!same) {
        (*differ)++;
        json_object_set_object_member(row, "metric_deltas", metric_deltas(on, rn));
      }
      json_array_add_object_element(rows, row);
    }
  }
  return rows;
}

static void print_table(JsonArray *rows, gboolean kernel_differs) {
  printf("%-24s %-10s %-17s %-17s %s\n", "NODE", "OUTPUT", "ORIGINAL", "REPRODUCED", "IDENTICAL");
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *row = json_array_get_object_element(rows, i);
    const char *a = json_object_get_string_member_with_default(row, "original", NULL);
    const char *b = json_object_get_string_member_with_default(row, "reproduced", NULL);
    gboolean same = json_object_get_boolean_member(row, "identical");
    printf("%-24s %-10s %-17.16s %-17.16s %s\n", T(json_object_get_string_member(row, "node")),
           T(json_object_get_string_member(row, "output")), a ? a : "-", b ? b : "-",
           same ? "yes" : "no");
    if (same)
      continue;
    JsonObject *d = json_object_get_object_member(row, "metric_deltas");
    g_autoptr(GList) names = json_object_get_members(d);
    for (GList *l = names; l; l = l->next) {
      JsonObject *m = json_object_get_object_member(d, l->data);
      if (json_object_get_null_member(m, "delta"))
        printf("    %s: only in the %s run\n", T(l->data),
               json_object_get_null_member(m, "original") ? "reproduced" : "original");
      else
        printf("    %s: %.10g -> %.10g (%+.3g)\n", T(l->data), json_object_get_double_member(m, "original"),
               json_object_get_double_member(m, "reproduced"), json_object_get_double_member(m, "delta"));
    }
    if (!names)
      printf("    %s\n", kernel_differs ? "no metric of its own differs: its bytes differ (see the "
                                          "nodes that read it)"
                                        : "differs on the same machine and kernels");
  }
}

/* The recorded pipeline's path, where relative paths resolve as they did:
 * in the folder the run recorded, else (runs from before it was recorded)
 * relative to here or, failing that, to the folder holding the store (the
 * default store is beside its pipeline). */
static char *pipeline_path(JsonObject *run, JsonObject *env, const char *store_dir) {
  const char *path = json_object_get_string_member_with_default(run, "pipeline", "pipeline.json");
  const char *dir = env ? json_object_get_string_member_with_default(env, "pipeline_dir", NULL) : NULL;
  g_autofree char *base = g_path_get_basename(path);
  if (dir)
    return g_build_filename(dir, base, NULL);
  g_autofree char *parent = g_path_get_dirname(store_dir);
  g_autofree char *beside = g_build_filename(parent, path, NULL);
  if (!g_path_is_absolute(path) && !g_file_test(path, G_FILE_TEST_EXISTS) &&
      g_file_test(beside, G_FILE_TEST_EXISTS))
    return g_steal_pointer(&beside);
  return g_strdup(path);
}

/* The scratch store, and the folder of scratch stores once it is empty. */
static void remove_scratch(const char *scratch) {
  lathe_store_remove_tree(scratch);
  g_autofree char *parent = g_path_get_dirname(scratch);
  g_rmdir(parent);
}

/* The run id the user meant: a unique prefix, with a did-you-mean hint. */
static JsonObject *find_run(LatheStore *store, const char *ref) {
  g_autoptr(GError) error = NULL;
  JsonObject *run = lathe_store_show_run(store, ref, &error);
  if (run)
    return run;
  g_autoptr(JsonArray) runs = lathe_store_list_runs(store, NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  for (guint i = 0; i < json_array_get_length(runs); i++)
    g_ptr_array_add(ids, (gpointer)json_object_get_string_member(json_array_get_object_element(runs, i), "run_id"));
  g_ptr_array_add(ids, NULL);
  g_autofree char *hint = lathe_did_you_mean(lathe_suggest(ref, (const char *const *)ids->pdata));
  lathe_cli_error(LATHE_EXIT_USAGE, "%s%s", error->message, hint);
  return NULL;
}

int lathe_cmd_reproduce(int argc, char **argv) {
  gboolean json = FALSE, allow = FALSE, keep = FALSE;
  g_autofree char *store_opt = NULL;
  GOptionEntry entries[] = {
      {"allow-plugin-change", 0, 0, G_OPTION_ARG_NONE, &allow,
       "Reproduce even when plugin binaries differ from the recorded ones (they are listed)", NULL},
      {"keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the scratch store of the reproduction", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object on stdout", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("RUN_ID");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc != 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "reproduce takes one run id; see --help");
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  int code;
  LatheStore *store = lathe_cli_open_existing(dir, "pass --store DIR", &code);
  if (!store)
    return code;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) run = find_run(store, argv[1]);
  g_autofree char *text = run ? lathe_store_run_pipeline(store, json_object_get_string_member(run, "run_id")) : NULL;
  lathe_store_close(store);
  if (!run)
    return LATHE_EXIT_USAGE;
  Repro r = {.run = run, .run_id = json_object_get_string_member(run, "run_id")};
  if (!text)
    return lathe_cli_error(LATHE_EXIT_USAGE, "run %s recorded no pipeline", r.run_id);
  if (g_strcmp0(json_object_get_string_member(run, "status"), "running") == 0)
    return lathe_cli_error(LATHE_EXIT_USAGE, "run %s is still running; reproduce it once it has "
                           "ended", r.run_id);

  /* What decided the numbers: the same jobs and BLAS threads, so that the
   * same machine gives the same bits. */
  JsonNode *envn = json_object_get_member(run, "environment");
  JsonObject *recorded = envn && JSON_NODE_HOLDS_OBJECT(envn) ? json_node_get_object(envn) : NULL;
  guint jobs = recorded ? (guint)json_object_get_int_member_with_default(recorded, "jobs", 0) : 0;
  guint threads = recorded ? (guint)json_object_get_int_member_with_default(recorded, "blas_threads", 0) : 0;
  if (threads) {
    g_autofree char *n = g_strdup_printf("%u", threads);
    g_setenv("OPENBLAS_NUM_THREADS", n, TRUE);
  }
  /* A run from before environments were recorded: `lathe run`'s defaults. */
  guint cores = (guint)MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
  if (!threads)
    threads = MAX(1, cores / (jobs ? jobs : cores));
  lathe_blas_prepare(lathe_original_argv, threads);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(json);
  r.cat = cat;

  if (!check_local_files(&r))
    return LATHE_EXIT_USAGE;
  g_autoptr(JsonArray) changed = changed_plugins(&r);
  for (guint i = 0; i < json_array_get_length(changed); i++) {
    JsonObject *c = json_array_get_object_element(changed, i);
    const char *now = json_object_get_string_member_with_default(c, "current", NULL);
    if (!now)
      return lathe_cli_error(LATHE_EXIT_USAGE, "plugin %s (component %s) is not installed; "
                             "run %s needs it", json_object_get_string_member(c, "plugin"),
                             json_object_get_string_member(c, "component"), r.run_id);
    if (!allow)
      return lathe_cli_error(LATHE_EXIT_USAGE, "plugin %s changed since run %s (sha256:%.12s... "
                             "then, sha256:%.12s... now); pass --allow-plugin-change to reproduce "
                             "with it", json_object_get_string_member(c, "plugin"), r.run_id,
                             json_object_get_string_member(c, "recorded"), now);
  }

  g_autofree char *scratch_text = scratch_pipeline(&r, text, &error);
  if (!scratch_text)
    return error ? lathe_cli_error(LATHE_EXIT_USAGE, "run %s: its recorded pipeline: %s", r.run_id,
                                   error->message)
                 : LATHE_EXIT_USAGE;
  g_autofree char *path = pipeline_path(run, recorded, dir);
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  LatheGraphOverrides ov = {.seed = json_object_get_int_member(run, "seed")};
  g_autoptr(LatheGraph) graph = lathe_graph_load_overridden_from_data(scratch_text, strlen(scratch_text),
                                                                       path, &ov, cat, problems);
  if (!graph) {
    LatheProblem *p = problems->pdata[0];
    return lathe_cli_error(LATHE_EXIT_USAGE, "run %s: its recorded pipeline (%s) does not validate "
                           "now: %s: %s", r.run_id, path, *p->pointer ? p->pointer : "/", p->message);
  }

  g_autoptr(JsonObject) current = lathe_blas_environment();
  json_object_set_int_member(current, "jobs", jobs ? jobs : cores);
  json_object_set_int_member(current, "blas_threads", threads);
  gboolean differs = recorded && !same_kernel(recorded, current);
  if (differs) {
    g_autofree char *was = describe_env(recorded), *is = describe_env(current);
    fprintf(stderr, "recorded on %s, reproducing on %s: floating-point results may differ\n",
            T(was), T(is));
  } else if (!recorded) {
    fprintf(stderr, "run %s predates environment records: whether it ran on these kernels is "
                    "unknown\n", r.run_id);
  }
  for (guint i = 0; i < json_array_get_length(changed); i++) {
    JsonObject *c = json_array_get_object_element(changed, i);
    fprintf(stderr, "plugin changed: %s (sha256:%.12s... then, sha256:%.12s... now)\n",
            T(json_object_get_string_member(c, "plugin")),
            json_object_get_string_member(c, "recorded"), json_object_get_string_member(c, "current"));
  }

  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_autofree char *leaf = g_strdup_printf("%s-%s-%d", r.run_id, stamp, (int)getpid());
  g_autofree char *scratch = g_build_filename(dir, "reproduce", leaf, NULL);
  g_autofree char *parent = g_path_get_dirname(scratch);
  if (g_mkdir_with_parents(parent, 0700) != 0) { /* a store we may only read */
    g_autofree char *tmp = g_dir_make_tmp("lathe-reproduce-XXXXXX", &error);
    if (!tmp)
      return lathe_cli_error(LATHE_EXIT_FAILED, "no place for a scratch store: %s", error->message);
    g_free(scratch);
    scratch = g_build_filename(tmp, leaf, NULL);
  }
  fprintf(stderr, "reproducing run %s in %s\n", r.run_id, T(scratch));
  LatheStore *ss = lathe_store_open(scratch, &error);
  if (!ss)
    return lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
  /* The studies and the registry as the run found them: a study it resumed
   * replays the trials it replayed, an A/B node reads the model it read.
   * Only the studies of tuners that ran: a cached tuner's output was made
   * by an earlier run, from the study as that run found it. */
  double started_at = json_object_get_double_member_with_default(run, "started", 0);
  g_autoptr(GPtrArray) tuners = tuners_that_ran(&r);
  if (!lathe_store_copy_studies(ss, dir, started_at, graph->name, (const char *const *)tuners->pdata,
                                &error) ||
      !seed_registry(&r, graph, dir, scratch, text, &error)) {
    lathe_store_close(ss);
    remove_scratch(scratch);
    return lathe_cli_error(LATHE_EXIT_FAILED, "copying the studies and the registry as run %s "
                           "found them: %s", r.run_id, error->message);
  }
  g_autoptr(GHashTable) pins = pins_of(run);
  LatheRunOptions opts = {.jobs = jobs, .progress = !json && isatty(STDERR_FILENO),
                          .escape = lathe_cli_escape, .pins = pins};
  JsonObject *res = NULL;
  gboolean started = lathe_engine_run(graph, cat, ss, &opts, &res, &error);
  g_autoptr(JsonObject) again = NULL;
  if (started) {
    again = lathe_store_show_run(ss, json_object_get_string_member(res, "run_id"), NULL);
    json_object_unref(res); /* the store's record says it all */
  }
  lathe_store_close(ss);
  if (!started || !again) {
    if (!keep)
      remove_scratch(scratch);
    return lathe_cli_error(LATHE_EXIT_FAILED, "reproducing run %s: %s", r.run_id,
                           error ? error->message : "its record cannot be read back");
  }
  guint differ = 0;
  g_autoptr(JsonArray) rows = compare(run, again, &differ);
  const char *ostatus = json_object_get_string_member(run, "status");
  const char *rstatus = json_object_get_string_member(again, "status");
  /* A reproduction that fails is no reproduction, even of a failed run. */
  gboolean identical = differ == 0 && g_strcmp0(ostatus, rstatus) == 0 &&
                       g_strcmp0(rstatus, "succeeded") == 0;
  if (!keep)
    remove_scratch(scratch);

  if (json) {
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "run_id", r.run_id);
    json_object_set_string_member(o, "reproduced_run_id", json_object_get_string_member(again, "run_id"));
    json_object_set_string_member(o, "store", scratch);
    json_object_set_boolean_member(o, "kept", keep);
    json_object_set_string_member(o, "status", rstatus);
    json_object_set_string_member(o, "original_status", ostatus);
    JsonObject *env = json_object_new();
    if (recorded)
      json_object_set_object_member(env, "recorded", json_object_ref(recorded));
    else
      json_object_set_null_member(env, "recorded");
    json_object_set_object_member(env, "current", json_object_ref(current));
    json_object_set_boolean_member(env, "same_kernel", recorded && !differs);
    json_object_set_object_member(o, "environment", env);
    json_object_set_array_member(o, "plugins_changed", json_array_ref(changed));
    json_object_set_array_member(o, "outputs", json_array_ref(rows));
    json_object_set_boolean_member(o, "identical", identical);
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
    lathe_cli_print_json(root);
  } else {
    print_table(rows, differs);
    guint n = json_array_get_length(rows);
    printf("\nrun %s reproduced as %s (%s): %u of %u outputs identical%s\n", T(r.run_id),
           T(json_object_get_string_member(again, "run_id")), T(rstatus), n - differ, n,
           g_strcmp0(ostatus, rstatus) == 0 ? "" : "; the original run's status differs");
    printf("%s %s\n", keep ? "kept in" : "its scratch store was removed (--keep keeps it):",
           T(scratch));
  }
  return identical ? LATHE_EXIT_OK : LATHE_EXIT_FAILED;
}
