/* `lathe lineage MODEL@ALIAS | MODEL/VERSION | RUN/NODE[.PORT]`: what a
 * registered model or an artifact was made from, down to the data versions
 * (store-lineage.c walks the store; this finds the root and prints). */
#include <string.h>

#include "cli/cli.h"
#include "lathe-registry.h"

#define T lathe_cli_text

/* A digest for people: its first 12 hex digits. */
static const char *short_digest(const char *d) {
  if (!d || strlen(d) <= 12)
    return T(d);
  g_autofree char *s = g_strdup_printf("%.12s…", d);
  return T(s);
}

/* " <- run R/NODE (COMPONENT, plugin digest P, cached from R2, trial N (C))";
 * the run is named when it differs from @parent_run. */
static void print_producer(JsonObject *n, const char *parent_run) {
  JsonObject *e = json_object_get_member(n, "execution") &&
                          JSON_NODE_HOLDS_OBJECT(json_object_get_member(n, "execution"))
                      ? json_object_get_object_member(n, "execution")
                      : NULL;
  if (!e) {
    printf(" <- (no execution in this store made it)\n");
    return;
  }
  const char *run = json_object_get_string_member_with_default(e, "run_id", NULL);
  printf(" <- ");
  if (!parent_run || g_strcmp0(parent_run, run) != 0)
    printf("run %s/", T(run));
  printf("%s (%s", T(json_object_get_string_member_with_default(e, "node", NULL)),
         T(json_object_get_string_member_with_default(e, "component", NULL)));
  const char *pd = json_object_get_string_member_with_default(e, "plugin_digest", NULL);
  if (pd)
    printf(", plugin digest %s", short_digest(pd));
  if (json_object_get_boolean_member_with_default(e, "cached", FALSE)) {
    JsonObject *o = json_object_has_member(e, "original") ? json_object_get_object_member(e, "original")
                                                          : NULL;
    if (o)
      printf(", cached from run %s", T(json_object_get_string_member_with_default(o, "run_id", NULL)));
    else
      printf(", cached");
  }
  if (json_object_has_member(e, "trial")) {
    JsonObject *t = json_object_get_object_member(e, "trial");
    printf(", trial %s (%s)", T(json_object_get_string_member_with_default(t, "node", NULL)),
           T(json_object_get_string_member_with_default(t, "component", NULL)));
  }
  printf(")\n");
}

static const char *run_of(JsonObject *n) {
  JsonNode *e = json_object_get_member(n, "execution");
  return e && JSON_NODE_HOLDS_OBJECT(e)
             ? json_object_get_string_member_with_default(json_node_get_object(e), "run_id", NULL)
             : NULL;
}

/* @n's inputs, then its data versions, as the branches under it. */
static void print_children(JsonObject *n, const char *prefix) {
  JsonArray *in = json_object_get_array_member(n, "inputs");
  JsonArray *dvs = json_object_get_array_member(n, "data_versions");
  guint n_in = in ? json_array_get_length(in) : 0, n_dv = dvs ? json_array_get_length(dvs) : 0;
  for (guint i = 0; i < n_in + n_dv; i++) {
    gboolean last = i + 1 == n_in + n_dv;
    printf("%s%s", prefix, last ? "└─ " : "├─ ");
    if (i >= n_in) {
      JsonObject *d = json_array_get_object_element(dvs, i - n_in);
      const char *uri = json_object_get_string_member_with_default(d, "uri", NULL);
      /* A file's digest is its SHA-256; a lakeFS object's is its checksum. */
      printf("data %s %s %s\n", T(uri), uri && uri[0] == '/' ? "sha256" : "checksum",
             T(json_object_get_string_member_with_default(d, "digest", NULL)));
      continue;
    }
    JsonObject *c = json_array_get_object_element(in, i);
    JsonObject *a = json_object_get_object_member(c, "artifact");
    printf("%s: %s %s", T(json_object_get_string_member_with_default(a, "port", NULL)),
           T(json_object_get_string_member_with_default(a, "type", NULL)),
           short_digest(json_object_get_string_member_with_default(a, "digest", NULL)));
    print_producer(c, run_of(n));
    g_autofree char *sub = g_strconcat(prefix, last ? "   " : "│  ", NULL);
    print_children(c, sub);
  }
}

static void print_tree(JsonObject *root) {
  JsonObject *model = json_object_has_member(root, "model") ? json_object_get_object_member(root, "model")
                                                            : NULL;
  JsonNode *an = json_object_get_member(root, "artifact");
  JsonObject *a = an && JSON_NODE_HOLDS_OBJECT(an) ? json_node_get_object(an) : NULL;
  if (model) {
    printf("model %s/%" G_GINT64_FORMAT " (sha256 %s)",
           T(json_object_get_string_member_with_default(model, "name", NULL)),
           json_object_get_int_member_with_default(model, "version", 0),
           short_digest(json_object_get_string_member_with_default(a, "digest", NULL)));
    print_producer(root, NULL);
  } else if (a) {
    printf("%s: %s %s", T(json_object_get_string_member_with_default(a, "port", NULL)),
           T(json_object_get_string_member_with_default(a, "type", NULL)),
           short_digest(json_object_get_string_member_with_default(a, "digest", NULL)));
    print_producer(root, NULL);
  } else {
    JsonObject *e = json_object_get_object_member(root, "execution");
    printf("run %s/%s (%s", T(json_object_get_string_member_with_default(e, "run_id", NULL)),
           T(json_object_get_string_member_with_default(e, "node", NULL)),
           T(json_object_get_string_member_with_default(e, "component", NULL)));
    const char *pd = json_object_get_string_member_with_default(e, "plugin_digest", NULL);
    if (pd)
      printf(", plugin digest %s", short_digest(pd));
    printf(", %s)\n", T(json_object_get_string_member_with_default(e, "status", NULL)));
    JsonArray *outs = json_object_get_array_member(root, "outputs");
    for (guint i = 0; outs && i < json_array_get_length(outs); i++) {
      JsonObject *o = json_array_get_object_element(outs, i);
      printf("  -> %s: %s %s\n", T(json_object_get_string_member_with_default(o, "port", NULL)),
             T(json_object_get_string_member_with_default(o, "type", NULL)),
             short_digest(json_object_get_string_member_with_default(o, "digest", NULL)));
    }
  }
  print_children(root, "  ");
  if (json_object_get_boolean_member_with_default(root, "truncated", FALSE))
    printf("(lineage truncated: deeper than the walk's bound)\n");
}

/* " (did you mean 'X'?)" for a misspelt model name, or alias of @name:
 * the registry's message lists what there is, this picks the likely one. */
static char *suggest_model(LatheRegistry *reg, const char *name, const char *ref) {
  g_autoptr(JsonArray) all = lathe_registry_list(reg, NULL, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new(), aliases = g_ptr_array_new();
  gboolean known = FALSE;
  for (guint i = 0; all && i < json_array_get_length(all); i++) {
    JsonObject *m = json_array_get_object_element(all, i);
    const char *n = json_object_get_string_member_with_default(m, "name", "");
    g_ptr_array_add(names, (gpointer)n);
    known |= g_str_equal(n, name);
    JsonArray *al = json_object_has_member(m, "aliases") ? json_object_get_array_member(m, "aliases") : NULL;
    for (guint k = 0; g_str_equal(n, name) && al && k < json_array_get_length(al); k++)
      g_ptr_array_add(aliases, (gpointer)json_array_get_string_element(al, k));
  }
  g_ptr_array_add(names, NULL);
  g_ptr_array_add(aliases, NULL);
  if (known) /* the model exists: the alias (or version) is wrong */
    return lathe_did_you_mean(lathe_suggest(ref, (const char *const *)aliases->pdata));
  return lathe_did_you_mean(lathe_suggest(name, (const char *const *)names->pdata));
}

/* The root for MODEL@ALIAS or MODEL/VERSION: the registered model's digest,
 * walked from the run that registered it. */
static JsonObject *model_lineage(LatheStore *store, const char *dir, const char *registry_id,
                                 const char *name, const char *ref, int *code) {
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *cwd = g_get_current_dir();
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheRegistry) reg = lathe_registry_open(cat, registry_id, NULL, cwd, dir, &error);
  g_autoptr(JsonObject) v = reg ? lathe_registry_get_version(reg, name, ref, &error) : NULL;
  if (!v) {
    g_autofree char *dym = reg && error->code == LATHE_ERROR_INVALID ? suggest_model(reg, name, ref)
                                                                     : g_strdup("");
    *code = lathe_cli_error(error->code == LATHE_ERROR_INVALID ? LATHE_EXIT_USAGE : LATHE_EXIT_FAILED,
                            "%s%s", error->message, dym);
    return NULL;
  }
  JsonObject *meta = json_object_has_member(v, "metadata") ? json_object_get_object_member(v, "metadata")
                                                           : NULL;
  const char *digest = json_object_get_string_member_with_default(v, "digest", NULL);
  if (!digest && meta)
    digest = json_object_get_string_member_with_default(meta, "model_digest", NULL);
  const char *run_id = meta ? json_object_get_string_member_with_default(meta, "run_id", NULL) : NULL;
  if (!digest) {
    *code = lathe_cli_error(LATHE_EXIT_FAILED, "%s@%s: the registry records no model digest", name, ref);
    return NULL;
  }
  JsonObject *root = lathe_store_lineage(store, digest, run_id, &error);
  if (!root) {
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "%s/%" G_GINT64_FORMAT ": %s", name,
                            json_object_get_int_member_with_default(v, "version", 0), error->message);
    return NULL;
  }
  JsonObject *m = json_object_new();
  json_object_set_string_member(m, "name", name);
  json_object_set_int_member(m, "version", json_object_get_int_member_with_default(v, "version", 0));
  if (json_object_has_member(v, "aliases"))
    json_object_set_member(m, "aliases", json_object_dup_member(v, "aliases"));
  if (run_id)
    json_object_set_string_member(m, "run_id", run_id);
  if (meta && json_object_has_member(meta, "node"))
    json_object_set_member(m, "node", json_object_dup_member(meta, "node"));
  json_object_set_object_member(root, "model", m);
  return root;
}

/* The execution of @node in @run: its latest success (a rebuilt node has
 * several attempts), else its latest attempt; -1 when the run has none. */
static gint64 find_execution(JsonObject *run, const char *node) {
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  gint64 any = -1, ok = -1;
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *n = json_array_get_object_element(nodes, i);
    if (g_strcmp0(json_object_get_string_member_with_default(n, "id", NULL), node) != 0)
      continue;
    const char *status = json_object_get_string_member_with_default(n, "status", "");
    any = json_object_get_int_member(n, "execution");
    if (g_str_equal(status, "succeeded") || g_str_equal(status, "cached"))
      ok = any;
  }
  return ok >= 0 ? ok : any;
}

/* The root for RUN/NODE or RUN/NODE.PORT. */
static JsonObject *node_lineage(LatheStore *store, const char *run_ref, const char *target, int *code) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) run = lathe_store_show_run(store, run_ref, &error);
  if (!run) {
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
    return NULL;
  }
  /* Node ids have no dots (a dot separates the port in edges): NODE.PORT. */
  g_autofree char *node = g_strdup(target);
  char *dot = strrchr(node, '.');
  const char *port = NULL;
  gint64 exec = find_execution(run, node);
  if (exec < 0 && dot) {
    *dot = '\0';
    port = dot + 1;
    exec = find_execution(run, node);
  }
  const char *run_id = json_object_get_string_member(run, "run_id");
  if (exec < 0) {
    JsonArray *nodes = json_object_get_array_member(run, "nodes");
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(nodes); i++)
      g_ptr_array_add(ids, (gpointer)json_object_get_string_member_with_default(
                               json_array_get_object_element(nodes, i), "id", ""));
    g_ptr_array_add(ids, NULL);
    g_autofree char *dym = lathe_did_you_mean(lathe_suggest(node, (const char *const *)ids->pdata));
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "no node '%s' in run %s%s; `lathe runs show %s` lists them",
                            node, run_id, dym, run_id);
    return NULL;
  }
  JsonObject *root = lathe_store_execution_lineage(store, exec, port, &error);
  if (!root)
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
  return root;
}

static gboolean all_digits(const char *s) {
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit(*s))
      return FALSE;
  return TRUE;
}

int lathe_cmd_lineage(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL;
  g_autofree char *registry_id = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"registry", 0, 0, G_OPTION_ARG_STRING, &registry_id, "Registry component (default: registry/local)", "ID"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("MODEL@ALIAS | MODEL/VERSION | RUN/NODE[.PORT]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  static const char usage[] = "usage: lathe lineage MODEL@ALIAS | MODEL/VERSION | RUN/NODE[.PORT] "
                              "[--json] [--store DIR]";
  if (argc != 2)
    return lathe_cli_error(LATHE_EXIT_USAGE, "%s", usage);
  const char *ref = argv[1];
  const char *at = strchr(ref, '@'), *slash = strchr(ref, '/');
  /* Model names have no '/', so an '@' before any '/' is an alias. */
  gboolean by_alias = at && (!slash || at < slash) && at > ref && at[1];
  gboolean by_version = !by_alias && slash && slash > ref && all_digits(slash + 1);
  gboolean by_node = !by_alias && !by_version && slash && slash > ref && slash[1];
  if (!by_alias && !by_version && !by_node)
    return lathe_cli_error(LATHE_EXIT_USAGE, "'%s' is no MODEL@ALIAS, MODEL/VERSION or RUN/NODE; %s",
                           ref, usage);
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  /* A reader never creates the store (nor the registry under it). */
  int code;
  LatheStore *store = lathe_cli_open_existing(dir, "run a pipeline first or pass --store", &code);
  if (!store)
    return code;
  code = LATHE_EXIT_OK;
  const char *sep = by_alias ? at : slash;
  g_autofree char *head = g_strndup(ref, sep - ref);
  g_autoptr(JsonObject) root = by_node ? node_lineage(store, head, sep + 1, &code)
                                       : model_lineage(store, dir, registry_id, head, sep + 1, &code);
  lathe_store_close(store);
  if (!root)
    return code;
  if (json) {
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), root);
    lathe_cli_print_json(node);
  } else {
    print_tree(root);
  }
  return LATHE_EXIT_OK;
}
