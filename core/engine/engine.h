/* engine.h: running a validated graph. */
#pragma once

#include "catalog/catalog.h"
#include "graph/graph.h"
#include "store/store.h"

G_BEGIN_DECLS

/**
 * LatheRunOptions:
 * @jobs: nodes run at once (0: the core count).
 * @no_cache: ignore the cache for the whole run.
 * @progress: draw progress on stderr (a terminal).
 * @escape: (nullable): how a plugin's text (log lines, progress notes) is
 *   made safe for the terminal: the CLI's escaping (cli/cli-escape.c),
 *   given here since the engine prints them and knows no layer above it.
 * @pins: (nullable): `lathe reproduce`: node id -> #JsonArray of the data
 *   versions that node recorded in the original run; each source gets its
 *   own through lathe_context_get_pins().
 * @trackers: (nullable): tracker ids ("tracker/mlflow" or "mlflow") that
 *   replace the pipeline's `"tracker"` (`lathe run --tracker`,
 *   LATHE_TRACKER), with their default params; "none" alone means no
 *   tracker.
 * @executor: (nullable): `lathe run --executor`: an executor component id
 *   that replaces every node's and the pipeline's, or "threads".
 */
typedef struct {
  guint jobs;
  gboolean no_cache;
  gboolean progress;
  char *(*escape)(const char *text);
  GHashTable *pins;
  const char *const *trackers;
  const char *executor;
} LatheRunOptions;

/**
 * LatheShipper:
 *
 * Ships the tracker journal (store/store-journal.h) to the trackers: from a
 * background thread during a run, or at once for `lathe tracker sync`.
 * Trackers are opened on first use, in the shipping thread, so a tracker
 * that is slow to reach never delays a run. A tracker that answers
 * LATHE_ERROR_UNAVAILABLE leaves its rows pending (one warning); any other
 * error refuses the rows for good (one warning; the store keeps them).
 */
typedef struct _LatheShipper LatheShipper;

/**
 * lathe_shipper_new:
 * @streams: journal streams to ship ("tracker/sqlite", or
 *   "tracker/sqlite#TAG" for a second setting of the same tracker).
 * @settings: (nullable): stream -> {"use", "with"}; a stream without one
 *   uses the settings the store recorded for it, or the tracker's defaults.
 * @base_dir: (nullable): where relative tracker paths resolve (the pipeline's
 *   directory).
 * @run_id: (nullable): ship only this run's rows (and its trials').
 *
 * Returns: (transfer full): a shipper; streams whose tracker is not installed
 * are reported in @missing (transfer full, NULL-terminated).
 */
LatheShipper *lathe_shipper_new(LatheCatalog *cat, LatheStore *store, const char *const *streams,
                                JsonObject *settings, const char *base_dir, const char *run_id,
                                GStrv *missing);
/* Ships from a background thread until lathe_shipper_finish(). */
void lathe_shipper_start(LatheShipper *shipper);
/* New rows were journaled. */
void lathe_shipper_kick(LatheShipper *shipper);
/**
 * lathe_shipper_finish:
 * @budget_us: how long to keep shipping after the thread stopped (-1: until
 *   nothing is pending or every tracker is out of reach).
 *
 * Returns: the number of rows still pending for the streams.
 */
gint64 lathe_shipper_finish(LatheShipper *shipper, gint64 budget_us);
/* Closes the trackers and frees. */
void lathe_shipper_free(LatheShipper *shipper);
/* The stream's tracker component id: @stream up to any '#'. */
char *lathe_tracker_stream_use(const char *stream);

/**
 * lathe_engine_run:
 * @graph: a validated graph.
 * @cat: the catalog it was validated against.
 * @store: the run store.
 * @opts: options.
 * @result: (out) (transfer full): {"run_id", "status", "nodes": [{"id",
 *   "status", "seconds", "error"?}], "metrics": {"NODE.METRIC": value}}.
 * @error: set when the run could not even start (store, tracker).
 *
 * Runs every node in dependency order, @opts->jobs at a time. A failed node
 * skips its dependents only. Each attempt is recorded in @store.
 *
 * Returns: %TRUE when the run started (read its status in @result).
 */
gboolean lathe_engine_run(LatheGraph *graph, LatheCatalog *cat, LatheStore *store,
                          const LatheRunOptions *opts, JsonObject **result, GError **error);

/**
 * lathe_cache_key_compute:
 *
 * SHA-256 (hex) over the canonical JSON of everything that decides a node's
 * result. Key order in @params and @inputs does not matter; names of input
 * nodes never enter, only the digests of what they produced.
 *
 * Returns: (transfer full): the key.
 */
char *lathe_cache_key_compute(const char *component, const char *plugin_version,
                              const char *plugin_digest, JsonObject *params, guint64 seed,
                              JsonObject *inputs, const char *trial);

/**
 * lathe_engine_init:
 *
 * Registers the node kinds the engine owns (source, transform, model, sink,
 * evaluator, registry) with the catalog, the graph and the engine. Call it
 * once at start-up, before lathe_catalog_load(); the layers above register
 * theirs the same way (lathe_tuning_init()).
 */
void lathe_engine_init(void);

/**
 * lathe_engine_exec_task:
 * @cat: the loaded catalog.
 * @file: a task file the host wrote.
 * @json: print the outcome as JSON on stdout.
 *
 * `lathe exec-task`: runs one node the host handed to an executor, and
 * writes its result file. Returns the exit code (0 success, 1 the
 * component failed, 2 the task file is unusable).
 */
int lathe_engine_exec_task(LatheCatalog *cat, const char *file, gboolean json);

/**
 * lathe_engine_exec_server:
 * @cat: the loaded catalog.
 * @title: (nullable): this process's command-line room, which each child
 *   overwrites with its task file (so that ps shows it).
 * @title_room: its size in bytes.
 *
 * `lathe exec-task --server`: executor/process's fork server (exec-server.c
 * describes the protocol on fds 0 and 1). Returns when fd 0 closes, with
 * every child stopped; 1 when it cannot serve.
 */
int lathe_engine_exec_server(LatheCatalog *cat, char *title, gsize title_room);

/**
 * lathe_engine_check_executor:
 * @id: an executor component id, its short name ("process"), or "threads".
 *
 * Returns: (transfer full) (nullable): the component id ("executor/process",
 * or "threads"), %NULL with @error when none is installed.
 */
char *lathe_engine_check_executor(LatheCatalog *cat, const char *id, GError **error);

/** lathe_engine_interrupt: asks a running engine to stop (signal-safe). */
void lathe_engine_interrupt(void);

G_END_DECLS
