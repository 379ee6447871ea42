/* `lathe tracker status|sync` and `lathe runs export`: the tracker journal
 * (store/store-journal.h) seen and shipped from the command line. */
#include <string.h>

#include "catalog/catalog.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "store/store.h"

#define T lathe_cli_text

static char *full_id(const char *id) {
  return strchr(id, '/') ? g_strdup(id) : g_strdup_printf("tracker/%s", id);
}

static JsonArray *status_rows(LatheStore *store, const char *run, int *code) {
  g_autoptr(GError) error = NULL;
  JsonArray *rows = lathe_store_journal_status(store, run, &error);
  if (!rows)
    *code = lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
  return rows;
}

static void print_status(JsonArray *rows) {
  printf("%-24s %-22s %8s %8s %8s  %s\n", "RUN", "TRACKER", "PENDING", "ACKED", "REFUSED",
         "TRACKER RUN");
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *r = json_array_get_object_element(rows, i);
    printf("%-24s %-22s %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT "  %s\n",
           T(json_object_get_string_member(r, "run_id")),
           T(json_object_get_string_member(r, "tracker")), json_object_get_int_member(r, "pending"),
           json_object_get_int_member(r, "acked"), json_object_get_int_member(r, "refused"),
           T(json_object_get_string_member_with_default(r, "tracker_run_id", NULL)));
  }
}

/* Ships what is pending for @streams (every stream with pending rows when
 * NULL), of @run or of every run; prints what is left. */
static int sync_streams(LatheStore *store, const char *const *streams, const char *run,
                        gboolean json) {
  g_auto(GStrv) pending = streams ? NULL : lathe_store_journal_trackers(store);
  const char *const *which = streams ? streams : (const char *const *)pending;
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(json);
  g_auto(GStrv) missing = NULL;
  LatheShipper *sh = lathe_shipper_new(cat, store, which, NULL, NULL, run, &missing);
  gint64 left = lathe_shipper_finish(sh, -1);
  lathe_shipper_free(sh);
  for (guint i = 0; missing && missing[i]; i++) {
    g_autofree char *use = lathe_tracker_stream_use(missing[i]);
    gint64 n = lathe_store_journal_count_pending(store, missing[i], run);
    left += n;
    if (n)
      fprintf(stderr, "lathe: %s is not installed; its %" G_GINT64_FORMAT " pending events stay "
              "pending (install it, or `lathe plugins` to see what is)\n", T(use), n);
  }
  int code = LATHE_EXIT_OK;
  g_autoptr(JsonArray) rows = status_rows(store, run, &code);
  if (!rows)
    return code;
  if (json) {
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "pending", left);
    json_object_set_array_member(o, "runs", json_array_ref(rows));
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
    json_object_unref(o);
    lathe_cli_print_json(root);
  } else if (left) {
    print_status(rows);
  }
  if (left) {
    fprintf(stderr, "lathe: %" G_GINT64_FORMAT " tracker event%s still pending (see above; "
            "the tracker is out of reach or not installed); run `lathe tracker sync` again "
            "later\n", left, left == 1 ? " is" : "s are");
    return LATHE_EXIT_FAILED;
  }
  if (!json)
    printf("nothing pending\n");
  return LATHE_EXIT_OK;
}

int lathe_cmd_tracker(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL;
  g_auto(GStrv) trackers = NULL;
  GOptionEntry entries[] = {
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"tracker", 0, 0, G_OPTION_ARG_STRING_ARRAY, &trackers,
       "sync: only this tracker (repeatable)", "ID"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("status|sync [RUN]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (argc < 2 || argc > 3 || (!g_str_equal(argv[1], "status") && !g_str_equal(argv[1], "sync")))
    return lathe_cli_error(LATHE_EXIT_USAGE, "usage: lathe tracker status|sync [RUN] [--json]");
  const char *run_ref = argc == 3 ? argv[2] : NULL;
  gboolean empty;
  int code;
  LatheStore *store = lathe_cli_open_reader(store_opt, &empty, &code);
  if (!store) {
    if (empty && json)
      puts(g_str_equal(argv[1], "sync") ? "{\"pending\": 0, \"runs\": []}" : "[]");
    else if (empty)
      printf("nothing pending\n");
    return code;
  }
  g_autofree char *run = NULL;
  if (run_ref) {
    g_autoptr(GError) error = NULL;
    run = lathe_store_run_full_id(store, run_ref, &error);
    if (!run) {
      lathe_store_close(store);
      return lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
    }
  }
  if (g_str_equal(argv[1], "sync")) {
    for (guint i = 0; trackers && trackers[i]; i++) {
      char *f = full_id(trackers[i]);
      g_free(trackers[i]);
      trackers[i] = f;
    }
    code = sync_streams(store, (const char *const *)trackers, run, json);
    lathe_store_close(store);
    return code;
  }
  code = LATHE_EXIT_OK;
  g_autoptr(JsonArray) rows = status_rows(store, run, &code);
  lathe_store_close(store);
  if (!rows)
    return code;
  if (json) {
    g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), json_array_ref(rows));
    lathe_cli_print_json(root);
  } else if (!json_array_get_length(rows)) {
    printf("no tracker events in the store\n");
  } else {
    print_status(rows);
  }
  return LATHE_EXIT_OK;
}

int lathe_cmd_runs_export(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL, *format = NULL, *tracker = NULL, *with = NULL;
  GOptionEntry entries[] = {
      {"format", 0, 0, G_OPTION_ARG_STRING, &format, "mlflow (the only format)", "FORMAT"},
      {"tracker", 0, 0, G_OPTION_ARG_STRING, &tracker,
       "Replay into this tracker (default: tracker/mlflow)", "ID"},
      {"with", 0, 0, G_OPTION_ARG_STRING, &with,
       "The tracker's params as a JSON object (default: its defaults)", "JSON"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("--format mlflow [RUN...]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  if (!format || !g_str_equal(format, "mlflow"))
    return lathe_cli_error(LATHE_EXIT_USAGE, "runs export needs --format mlflow (the only format)");
  g_autofree char *use = full_id(tracker ? tracker : "mlflow");
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(json);
  LatheComponentInfo *c = lathe_catalog_lookup(cat, use);
  if (!c || c->kind != LATHE_KIND_TRACKER)
    return lathe_cli_error(LATHE_EXIT_USAGE, "%s is not installed; install it, or choose "
                           "another tracker with --tracker ID", use);
  g_autoptr(JsonObject) settings = json_object_new();
  g_autofree char *stream = g_strdup(use);
  if (with) {
    g_autoptr(JsonNode) n = json_from_string(with, NULL);
    if (!n || !JSON_NODE_HOLDS_OBJECT(n))
      return lathe_cli_error(LATHE_EXIT_USAGE, "--with is a JSON object of the tracker's params");
    g_autoptr(GPtrArray) problems = lathe_problems_new();
    JsonObject *resolved = lathe_params_resolve(c, json_node_get_object(n), "--with", problems, TRUE);
    if (problems->len) {
      LatheProblem *p = problems->pdata[0];
      json_object_unref(resolved);
      return lathe_cli_error(LATHE_EXIT_USAGE, "--with: %s", p->message);
    }
    /* Other params, another destination: a journal stream of its own. */
    g_autofree char *canon = lathe_json_canonical(n);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canon, -1);
    g_free(stream);
    stream = g_strdup_printf("%s#%.8s", use, sum);
    JsonObject *set = json_object_new();
    json_object_set_string_member(set, "use", use);
    json_object_set_object_member(set, "with", resolved);
    json_object_set_object_member(settings, stream, set);
  }
  gboolean empty;
  int code;
  LatheStore *store = lathe_cli_open_reader(store_opt, &empty, &code);
  if (!store)
    return empty ? lathe_cli_error(LATHE_EXIT_USAGE, "the store has no runs yet") : code;
  g_autoptr(JsonArray) runs = NULL;
  if (argc > 1) {
    runs = json_array_new();
    for (int i = 1; i < argc; i++)
      json_array_add_string_element(runs, argv[i]);
  } else {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) all = lathe_store_list_runs(store, &error);
    runs = json_array_new();
    for (guint i = 0; all && i < json_array_get_length(all); i++)
      json_array_add_string_element(
          runs, json_object_get_string_member(json_array_get_object_element(all, i), "run_id"));
  }
  guint added = 0, skipped = 0;
  for (guint i = 0; i < json_array_get_length(runs); i++) {
    gboolean already = FALSE;
    g_autoptr(GError) error = NULL;
    if (!lathe_store_journal_replay(store, json_array_get_string_element(runs, i), stream,
                                    &already, &error)) {
      lathe_store_close(store);
      return lathe_cli_error(LATHE_EXIT_USAGE, "%s", error->message);
    }
    already ? skipped++ : added++;
  }
  if (with) {
    JsonObject *rec = json_object_new();
    json_object_set_object_member(
        rec, "with",
        json_object_ref(json_object_get_object_member(
            json_object_get_object_member(settings, stream), "with")));
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), rec);
    json_object_unref(rec);
    g_autofree char *text = lathe_json_canonical(n);
    lathe_store_set_tracker_settings(store, "export", stream, text, NULL);
  }
  if (!json)
    printf("%u run%s journaled for %s (%u already were); shipping\n", added, added == 1 ? "" : "s",
           T(stream), skipped);
  const char *streams[] = {stream, NULL};
  code = sync_streams(store, streams, NULL, json);
  lathe_store_close(store);
  return code;
}
