/* recorder.h: the run recorder's contract.
 *
 * Every state change of a task goes through one recorder: the scheduler
 * (run-batch.c), the host services (engine.c: reports), the ticker (long
 * runs) and the tuner (tuning/trials.c: trial child runs) emit events, and
 * the recorder alone writes the store rows, the tracker journal's rows and
 * the run's result rows for them.
 *
 * Events hold plain ids, enums, numbers and JSON, never engine pointers, so
 * that an executor in another process (or on another machine) can send them
 * back over a pipe as they are. Strings and JSON are borrowed for the call.
 *
 * The real recorder (recorder.c, lathe_run_recorder_new()) writes to the run
 * store (with the tracker journal) and the run's result; tests give the scheduler a fake
 * one that only keeps the sequence of events.
 */
#pragma once

#include "store/store.h"

G_BEGIN_DECLS

/* Why a task did not run. Only a skip for a false `when`, here or upstream,
 * leaves the run successful. */
typedef enum {
  LATHE_SKIP_NONE,
  LATHE_SKIP_CONDITION,          /* its own `when` is false or cannot be evaluated */
  LATHE_SKIP_UPSTREAM_CONDITION, /* downstream of such a skip */
  LATHE_SKIP_UPSTREAM_FAILED,    /* downstream of a failure, or of a skip after one */
  LATHE_SKIP_INTERRUPTED,        /* the run was interrupted before it started */
} LatheSkipReason;

/* A task's state changes, in the order a task goes through them. QUEUED,
 * STARTED and RUNNING may be followed by REPORTs; exactly one of the last
 * five ends every task. */
typedef enum {
  LATHE_EVENT_QUEUED,      /* its dependencies are done and its `when` holds */
  LATHE_EVENT_STARTED,     /* an executor took it */
  LATHE_EVENT_RUNNING,     /* it runs long enough to deserve a row before it ends */
  LATHE_EVENT_REPORT,      /* an intermediate metric (@metric, @value, @step) */
  LATHE_EVENT_CACHED,      /* its outputs came from the cache */
  LATHE_EVENT_SUCCEEDED,
  LATHE_EVENT_FAILED,
  LATHE_EVENT_SKIPPED,     /* never ran: see @skip_reason */
  LATHE_EVENT_INTERRUPTED, /* stopped by an interrupt while it ran; recorded as a failure */
} LatheTaskEventKind;

/**
 * LatheTaskEvent:
 * @kind: what happened.
 * @who: the task as the store knows it; @who.node is its exec id ("model",
 *   or "tune/3/model" inside a trial), the store's row key since schema 1.
 * @node: the graph node it instantiates ("model").
 * @trial: the trial number, or -1 for a task of the run itself.
 * @tuner: (nullable): inside a trial, the exec id of its tuner node.
 * @started: when an executor took it (0 if it never ran).
 * @time: when this event happened (the end, for the last five kinds).
 * @skip_reason: for %LATHE_EVENT_SKIPPED.
 * @error: (nullable): why it failed or was skipped.
 * @inputs: (nullable): for outcomes, port -> digest.
 * @outputs: (nullable): for outcomes, port -> {"digest", "type", "size"}.
 * @metrics: (nullable): for outcomes, name -> number.
 * @data_versions: (nullable): for outcomes, what it read.
 * @metric: for %LATHE_EVENT_REPORT, the metric's name, with @value and @step.
 * @will_retry: for %LATHE_EVENT_FAILED, the task gets another attempt: this
 *   one is recorded, and the run's outcome waits for the last.
 */
typedef struct {
  LatheTaskEventKind kind;
  LatheExecIdentity who;
  const char *node;
  gint trial;
  const char *tuner;
  double started;
  double time;
  LatheSkipReason skip_reason;
  const char *error;
  JsonObject *inputs;
  JsonObject *outputs;
  JsonObject *metrics;
  JsonArray *data_versions;
  const char *metric;
  double value;
  gint64 step;
  gboolean will_retry;
} LatheTaskEvent;

/**
 * LatheTrialEvent:
 * @ended: %FALSE when the trial starts, %TRUE when its result is told.
 * @tuner: the tuner node's exec id.
 * @number: the trial number.
 * @state: (nullable): at the end, "complete", "pruned" or "failed".
 * @point: (nullable): at the start, the trial's params.
 * @values: (nullable): at the end, its objective values.
 *
 * A trial as a whole (its tasks send #LatheTaskEvent with @trial set).
 */
typedef struct {
  gboolean ended;
  const char *tuner;
  guint number;
  const char *state;
  JsonObject *point;
  JsonObject *values;
} LatheTrialEvent;

/**
 * LatheRecorderOps:
 * @task: records one task event. May be called from any thread, for
 *   different tasks at once. Returns %FALSE with @error only when a task's
 *   success could not be recorded: the caller then counts the task as failed
 *   (the recorder has already recorded it so).
 * @trial: records a trial's start or end.
 * @flush: (nullable): writes what it holds back now. A recorder may hold
 *   reports back a few milliseconds, to write many at once; they are always
 *   written before their task's outcome.
 */
typedef struct {
  gboolean (*task)(gpointer data, const LatheTaskEvent *event, GError **error);
  void (*trial)(gpointer data, const LatheTrialEvent *event);
  void (*flush)(gpointer data);
} LatheRecorderOps;

/** LatheRecorder: a recorder: its @ops and their @data. */
typedef struct {
  const LatheRecorderOps *ops;
  gpointer data;
} LatheRecorder;

/**
 * lathe_recorder_task:
 * @recorder: a recorder.
 * @event: the event (borrowed for the call).
 * @error: set when a success could not be recorded.
 *
 * Records @event.
 *
 * Returns: %FALSE when the task must count as failed.
 */
gboolean lathe_recorder_task(const LatheRecorder *recorder, const LatheTaskEvent *event,
                             GError **error);

/**
 * lathe_recorder_trial:
 * @recorder: a recorder.
 * @event: the event (borrowed for the call).
 *
 * Records a trial's start or end.
 */
void lathe_recorder_trial(const LatheRecorder *recorder, const LatheTrialEvent *event);

/**
 * lathe_recorder_flush:
 * @recorder: the recorder.
 *
 * Writes what @recorder holds back (see #LatheRecorderOps).
 */
void lathe_recorder_flush(const LatheRecorder *recorder);

/**
 * lathe_task_event_kind_name:
 * @kind: an event kind.
 *
 * Returns: its name as events are serialised ("queued", "skipped", ...).
 */
const char *lathe_task_event_kind_name(LatheTaskEventKind kind);

/**
 * lathe_skip_reason_name:
 * @reason: a skip reason.
 *
 * Returns: its name as events are serialised ("condition", "upstream-failed", ...).
 */
const char *lathe_skip_reason_name(LatheSkipReason reason);

G_END_DECLS
