/* store-journal.h: the tracker journal in the run store.
 *
 * Every tracker event (a run's start and end, params, metric points, tags,
 * inputs, artifacts) is first a row of the journal, written in the same
 * transaction as the store rows it mirrors, one row per tracker it goes to.
 * Rows are pending until the tracker acknowledges them (acked) or refuses
 * them for good (refused); the shipper (engine/tracker-ship.c) sends them.
 * The store is the record: nothing is lost when a tracker is down, and an
 * acked row is never sent again.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _LatheStore LatheStore;

/* Event kinds, as journal rows name them. */
#define LATHE_JOURNAL_START "start"       /* {name, parent?, start_ms} */
#define LATHE_JOURNAL_PARAMS "params"     /* {items: {key: text}} */
#define LATHE_JOURNAL_METRICS "metrics"   /* {points: [{key, value, step, ts}]}, or
                                           * {report_chunks: [{chunk, key}]}: points
                                           * of the store's report_chunks, which
                                           * lathe_store_journal_pending() reads in */
#define LATHE_JOURNAL_TAGS "tags"         /* {items: {key: text}} */
#define LATHE_JOURNAL_INPUTS "inputs"     /* {inputs: [{node, uri, digest}]} */
#define LATHE_JOURNAL_ARTIFACT "artifact" /* {path, file? | digest? | text?} */
#define LATHE_JOURNAL_END "end"           /* {status, end_ms} */

/**
 * LatheJournal:
 *
 * Events to append with a store write, each once per tracker. Built by the
 * engine, written by the store inside the operation it is given to.
 */
typedef struct _LatheJournal LatheJournal;

/* @trackers: the streams (tracker ids) every event goes to; copied. */
LatheJournal *lathe_journal_new(const char *const *trackers);
void lathe_journal_free(LatheJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheJournal, lathe_journal_free)
/* @run_id: (nullable): the Lathe run (a trial's child run id too); NULL is
 * the run being begun by lathe_store_begin_run_journal(). @payload is
 * taken (transfer full). */
void lathe_journal_add(LatheJournal *journal, const char *run_id, const char *kind,
                       JsonObject *payload);
gboolean lathe_journal_is_empty(const LatheJournal *journal);
/* A metric value as the journal keeps it: a number, or "NaN", "Infinity",
 * "-Infinity" (JSON has no such numbers). */
JsonNode *lathe_journal_number(double value);
double lathe_journal_number_get(JsonNode *node);

/* Appends @journal in an operation of its own (inside the group commit). */
gboolean lathe_store_journal_append(LatheStore *store, const LatheJournal *journal,
                                    GError **error);

/** LatheJournalRow: one pending row, as the shipper reads it. */
typedef struct {
  gint64 id;
  char *run_id;
  char *kind;
  JsonObject *payload;
  gint tries;
} LatheJournalRow;

/* (transfer full) up to @limit pending rows of @tracker with id > @after,
 * oldest first, for @run_id only when it is set (LatheJournalRow*, freed
 * with the array). It stops early past LATHE_JOURNAL_PENDING_BYTES of
 * payloads (a row of reports holds thousands of points), but always gives
 * at least one row when any is pending. */
#define LATHE_JOURNAL_PENDING_BYTES (2 * 1024 * 1024)
GPtrArray *lathe_store_journal_pending(LatheStore *store, const char *tracker, const char *run_id,
                                       gint64 after, guint limit);
/* Pending rows of @tracker (of @run_id and its trials when set). */
gint64 lathe_store_journal_count_pending(LatheStore *store, const char *tracker,
                                         const char *run_id);
/* Marks rows @ids "acked" or "refused", or (@state NULL) counts one more
 * try of each. */
gboolean lathe_store_journal_mark(LatheStore *store, const gint64 *ids, guint n_ids,
                                  const char *state, GError **error);
/* (transfer full) (nullable) the tracker's run id for a Lathe run. */
char *lathe_store_tracker_run(LatheStore *store, const char *run_id, const char *tracker);
gboolean lathe_store_set_tracker_run(LatheStore *store, const char *run_id, const char *tracker,
                                     const char *tracker_run_id, GError **error);
/* The settings a run used a tracker with (canonical JSON, secrets hidden),
 * appended per run; lathe_store_tracker_settings() returns the latest, for
 * `lathe tracker sync`. */
gboolean lathe_store_set_tracker_settings(LatheStore *store, const char *run_id,
                                          const char *tracker, const char *with_json,
                                          GError **error);
char *lathe_store_tracker_settings(LatheStore *store, const char *tracker);
/* (transfer full) the trackers with pending rows. */
GStrv lathe_store_journal_trackers(LatheStore *store);
/* (transfer full) [{run_id, tracker, pending, acked, refused, tracker_run_id?}],
 * for @run_id (an id or prefix) or every run; NULL with @error when
 * @run_id names no run. */
JsonArray *lathe_store_journal_status(LatheStore *store, const char *run_id, GError **error);
/* Journals a stored run again for @tracker as if it had just run (`lathe runs
 * export`); FALSE with @error when it names no run. Sets @already when the
 * tracker has rows of it already (then nothing is added). */
gboolean lathe_store_journal_replay(LatheStore *store, const char *run_id, const char *tracker,
                                    gboolean *already, GError **error);
/* (transfer full) (nullable) the full id of the run @ref names (an id or a
 * unique prefix), or NULL with @error. */
char *lathe_store_run_full_id(LatheStore *store, const char *ref, GError **error);
/* (transfer full) (nullable) the file of a stored artifact, by digest. */
char *lathe_store_artifact_file(LatheStore *store, const char *digest);

G_END_DECLS
