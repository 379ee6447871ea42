/* `lathe runs search` and `lathe runs compare`: finding runs again (issue 13). */
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"

#define T lathe_cli_text

/* MLflow's default and largest page. */
#define SEARCH_DEFAULT_MAX 1000
#define SEARCH_MAX 50000

/* A param or metric for people: strings without their JSON quotes, numbers
 * short; "-" when absent. */
static char *value_text(JsonNode *v) {
  if (!v || JSON_NODE_HOLDS_NULL(v))
    return g_strdup("-");
  if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(v));
  if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_DOUBLE) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6g", json_node_get_double(v)));
  }
  return lathe_json_write(v, FALSE);
}

/* Column @col ("metrics.eval.accuracy") of search row @r, or NULL. */
static JsonNode *column_value(JsonObject *r, const char *col) {
  static const char *const objects[] = {"metrics", "params"};
  for (guint i = 0; i < G_N_ELEMENTS(objects); i++) {
    size_t n = strlen(objects[i]);
    if (g_str_has_prefix(col, objects[i]) && col[n] == '.') {
      JsonObject *o = json_object_get_object_member(r, objects[i]);
      return json_object_get_member(o, col + n + 1);
    }
  }
  return NULL; /* tags: none in the store */
}

/* Attributes the table shows anyway. */
static gboolean shown_attribute(const char *col) {
  static const char *const shown[] = {"attributes.run_id", "attributes.run_name", "attributes.status",
                                      "attributes.start_time", "attributes.created"};
  for (guint i = 0; i < G_N_ELEMENTS(shown); i++)
    if (g_str_equal(col, shown[i]))
      return TRUE;
  return FALSE;
}

static void print_search(JsonArray *runs, GStrv columns) {
  guint n = json_array_get_length(runs);
  if (!n) {
    printf("no runs match\n");
    return;
  }
  g_autoptr(GPtrArray) cols = g_ptr_array_new();
  for (guint i = 0; columns && columns[i]; i++)
    if (!shown_attribute(columns[i]))
      g_ptr_array_add(cols, columns[i]);
  /* cells[row][col]; row 0 is the header. */
  guint ncols = 4 + cols->len;
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const char *head[] = {"RUN", "NAME", "STATUS", "STARTED (UTC)"};
  for (guint c = 0; c < 4; c++)
    g_ptr_array_add(cells, g_strdup(head[c]));
  for (guint c = 0; c < cols->len; c++)
    g_ptr_array_add(cells, g_strdup(T(cols->pdata[c])));
  for (guint i = 0; i < n; i++) {
    JsonObject *r = json_array_get_object_element(runs, i);
    g_ptr_array_add(cells, g_strdup(T(json_object_get_string_member(r, "run_id"))));
    g_ptr_array_add(cells, g_strdup(T(json_object_get_string_member(r, "name"))));
    g_ptr_array_add(cells, g_strdup(T(json_object_get_string_member(r, "status"))));
    g_ptr_array_add(cells, lathe_cli_format_time(json_object_get_double_member_with_default(r, "started", 0)));
    for (guint c = 0; c < cols->len; c++) {
      const char *col = cols->pdata[c];
      JsonNode *v = column_value(r, col);
      g_autofree char *text = NULL;
      if (!v && g_str_has_prefix(col, "attributes."))
        v = json_object_get_member(r, col + strlen("attributes."));
      text = value_text(v);
      g_ptr_array_add(cells, g_strdup(T(text)));
    }
  }
  g_autofree glong *width = g_new0(glong, ncols);
  for (guint k = 0; k < cells->len; k++)
    width[k % ncols] = MAX(width[k % ncols], g_utf8_strlen(cells->pdata[k], -1));
  for (guint k = 0; k < cells->len; k++) {
    guint c = k % ncols;
    const char *cell = cells->pdata[k];
    if (c + 1 == ncols)
      printf("%s\n", cell);
    else
      printf("%s%*s", cell, (int)(width[c] - g_utf8_strlen(cell, -1) + 2), "");
  }
}

int lathe_cmd_runs_search(int argc, char **argv) {
  gboolean json = FALSE;
  gint64 max = SEARCH_DEFAULT_MAX;
  g_auto(GStrv) order = NULL;
  g_autofree char *store_opt = NULL;
  GOptionEntry entries[] = {
      {"order-by", 0, 0, G_OPTION_ARG_STRING_ARRAY, &order,
       "Sort by KEY (metrics.eval.accuracy DESC); repeat for ties", "'KEY [ASC|DESC]'"},
      {"max-results", 0, 0, G_OPTION_ARG_INT64, &max, "At most N runs (default 1000)", "N"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("['FILTER']");
  g_option_context_set_summary(octx,
      "Runs whose metrics, params and attributes match FILTER, in MLflow's search syntax:\n"
      "  lathe runs search \"metrics.eval.accuracy > 0.9 and params.split.test_fraction = '0.2'\"\n"
      "Comparisons are joined by AND; see docs/pipelines.md for the keys and operators.");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc > 2)
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "runs search takes one filter; quote it whole (\"metrics.x > 1 and ...\")");
  if (max < 1 || max > SEARCH_MAX)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--max-results must be between 1 and %d", SEARCH_MAX);
  const char *filter = argc == 2 ? argv[1] : NULL;
  gboolean empty;
  int code;
  LatheStore *store = lathe_cli_open_reader(store_opt, &empty, &code);
  if (!store && !empty)
    return code;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) columns = NULL;
  /* With no database yet, the filter is checked all the same (no store). */
  JsonArray *runs = lathe_store_search_runs(store, filter, (const char *const *)order, (guint)max,
                                            &columns, &error);
  if (store)
    lathe_store_close(store);
  if (!runs)
    return lathe_cli_error(g_error_matches(error, LATHE_ERROR, LATHE_ERROR_INVALID) ? LATHE_EXIT_USAGE
                                                                                     : LATHE_EXIT_FAILED,
                           "%s", error->message);
  g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), runs);
  json_array_unref(runs);
  if (json)
    lathe_cli_print_json(root);
  else
    print_search(runs, columns);
  return LATHE_EXIT_OK;
}

/* A data version list for people: "URI sha256:SHORT, ...". */
static char *data_text(JsonNode *v) {
  if (!v || !JSON_NODE_HOLDS_ARRAY(v))
    return g_strdup("-");
  JsonArray *a = json_node_get_array(v);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *d = json_array_get_object_element(a, i);
    g_string_append_printf(s, "%s%s sha256:%.12s", i ? ", " : "",
                           json_object_get_string_member_with_default(d, "uri", "?"),
                           json_object_get_string_member_with_default(d, "digest", "?"));
  }
  return g_string_free(s, FALSE);
}

static gint by_name(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The rows of one section ("params", "metrics" or "data_versions") of @runs:
 * {"kind", "key", "values" [one per run, null when absent], "differs"}. */
static void add_rows(JsonArray *rows, GPtrArray *runs, const char *section, const char *kind,
                     gboolean only_diff) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  for (guint i = 0; i < runs->len; i++) {
    JsonObject *o = json_object_get_object_member(runs->pdata[i], section);
    g_autoptr(GList) names = json_object_get_members(o);
    for (GList *l = names; l; l = l->next)
      if (g_hash_table_add(seen, l->data))
        g_ptr_array_add(keys, l->data);
  }
  g_ptr_array_sort(keys, by_name);
  for (guint k = 0; k < keys->len; k++) {
    JsonArray *values = json_array_new();
    gboolean differs = FALSE;
    g_autofree char *first = NULL;
    for (guint i = 0; i < runs->len; i++) {
      JsonNode *v = json_object_get_member(json_object_get_object_member(runs->pdata[i], section),
                                           keys->pdata[k]);
      JsonNode *copy = v ? json_node_copy(v) : json_node_init_null(json_node_alloc());
      g_autofree char *canon = lathe_json_canonical(copy);
      if (i == 0)
        first = g_steal_pointer(&canon);
      else
        differs |= !g_str_equal(first, canon);
      json_array_add_element(values, copy);
    }
    if (only_diff && !differs) {
      json_array_unref(values);
      continue;
    }
    JsonObject *row = json_object_new();
    json_object_set_string_member(row, "kind", kind);
    json_object_set_string_member(row, "key", keys->pdata[k]);
    json_object_set_array_member(row, "values", values);
    json_object_set_boolean_member(row, "differs", differs);
    json_array_add_object_element(rows, row);
  }
}

static void print_compare(JsonObject *out) {
  JsonArray *runs = json_object_get_array_member(out, "runs");
  JsonArray *rows = json_object_get_array_member(out, "rows");
  guint n = json_array_get_length(runs);
  gboolean bold = isatty(STDOUT_FILENO);
  /* The key column, then one column per run. */
  glong keyw = (glong)strlen("run");
  g_autofree glong *w = g_new0(glong, n);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free); /* rows x runs */
  for (guint r = 0; r < json_array_get_length(rows); r++) {
    JsonObject *row = json_array_get_object_element(rows, r);
    keyw = MAX(keyw, g_utf8_strlen(T(json_object_get_string_member(row, "key")), -1));
    JsonArray *values = json_object_get_array_member(row, "values");
    gboolean data = g_str_equal(json_object_get_string_member(row, "kind"), "data");
    for (guint i = 0; i < n; i++) {
      JsonNode *v = json_array_get_element(values, i);
      g_autofree char *t = data ? data_text(v) : value_text(v);
      g_ptr_array_add(texts, g_strdup(T(t)));
    }
  }
  for (guint i = 0; i < n; i++) {
    JsonObject *run = json_array_get_object_element(runs, i);
    w[i] = MAX(g_utf8_strlen(T(json_object_get_string_member(run, "run_id")), -1),
               g_utf8_strlen(T(json_object_get_string_member(run, "name")), -1));
    for (guint r = 0; r < json_array_get_length(rows); r++)
      w[i] = MAX(w[i], g_utf8_strlen(texts->pdata[r * n + i], -1));
  }
  const char *heads[] = {"run", "name", "status"};
  const char *members[] = {"run_id", "name", "status"};
  for (guint h = 0; h < G_N_ELEMENTS(heads); h++) {
    printf("  %-*s", (int)keyw, heads[h]);
    for (guint i = 0; i < n; i++) {
      const char *t = T(json_object_get_string_member(json_array_get_object_element(runs, i), members[h]));
      printf("  %s%*s", t, i + 1 < n ? (int)(w[i] - g_utf8_strlen(t, -1)) : 0, "");
    }
    putchar('\n');
  }
  const char *last_kind = NULL;
  for (guint r = 0; r < json_array_get_length(rows); r++) {
    JsonObject *row = json_array_get_object_element(rows, r);
    const char *kind = json_object_get_string_member(row, "kind");
    if (!last_kind || !g_str_equal(kind, last_kind))
      printf("\n%s\n", g_str_equal(kind, "param") ? "params" : g_str_equal(kind, "metric") ? "metrics"
                                                                                           : "data versions");
    last_kind = kind;
    gboolean differs = json_object_get_boolean_member(row, "differs");
    const char *key = T(json_object_get_string_member(row, "key"));
    printf("%s %s%s%*s", differs ? "*" : " ", differs && bold ? "\033[1m" : "", key,
           (int)(keyw - g_utf8_strlen(key, -1)), "");
    for (guint i = 0; i < n; i++) {
      const char *t = texts->pdata[r * n + i];
      printf("  %s%*s", t, i + 1 < n ? (int)(w[i] - g_utf8_strlen(t, -1)) : 0, "");
    }
    printf("%s\n", differs && bold ? "\033[0m" : "");
  }
  if (!json_array_get_length(rows))
    printf("\nno params, metrics or data versions%s\n",
           json_object_get_boolean_member(out, "only_differences") ? " differ" : "");
}

int lathe_cmd_runs_compare(int argc, char **argv) {
  gboolean json = FALSE, only_diff = FALSE;
  g_autofree char *store_opt = NULL;
  GOptionEntry entries[] = {
      {"differences", 'd', 0, G_OPTION_ARG_NONE, &only_diff, "Only the rows whose values differ", NULL},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("RUN RUN...");
  g_option_context_set_summary(octx, "Params, metrics and data versions of runs side by side; "
                                     "'*' marks the rows that differ.");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 3)
    return lathe_cli_error(LATHE_EXIT_USAGE, "runs compare takes two or more runs (ids or unique prefixes)");
  gboolean empty;
  int code;
  LatheStore *store = lathe_cli_open_reader(store_opt, &empty, &code);
  if (!store)
    return empty ? lathe_cli_error(LATHE_EXIT_USAGE, "no '%s' in %s: the store has no runs yet",
                                   argv[1], store_opt ? store_opt : "./.lathe")
                 : code;
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  g_autoptr(GError) error = NULL;
  for (int i = 1; i < argc; i++) {
    JsonObject *r = lathe_store_run_values(store, argv[i], &error);
    if (!r)
      break;
    g_ptr_array_add(runs, r);
  }
  lathe_store_close(store);
  if (error)
    return lathe_cli_error(g_error_matches(error, LATHE_ERROR, LATHE_ERROR_INVALID) ? LATHE_EXIT_USAGE
                                                                                     : LATHE_EXIT_FAILED,
                           "%s", error->message);
  JsonObject *out = json_object_new();
  JsonArray *heads = json_array_new();
  for (guint i = 0; i < runs->len; i++) {
    JsonObject *h = json_object_new();
    const char *members[] = {"run_id", "name", "status", "pipeline"};
    for (guint m = 0; m < G_N_ELEMENTS(members); m++)
      json_object_set_member(h, members[m], json_node_copy(json_object_get_member(runs->pdata[i], members[m])));
    json_object_set_double_member(h, "started",
                                  json_object_get_double_member_with_default(runs->pdata[i], "started", 0));
    json_array_add_object_element(heads, h);
  }
  JsonArray *rows = json_array_new();
  add_rows(rows, runs, "params", "param", only_diff);
  add_rows(rows, runs, "metrics", "metric", only_diff);
  add_rows(rows, runs, "data_versions", "data", only_diff);
  json_object_set_array_member(out, "runs", heads);
  json_object_set_array_member(out, "rows", rows);
  json_object_set_boolean_member(out, "only_differences", only_diff);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), out);
  json_object_unref(out);
  if (json)
    lathe_cli_print_json(root);
  else
    print_compare(out);
  return LATHE_EXIT_OK;
}
