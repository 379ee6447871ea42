/* tracker-mlflow.h: internals shared by the files of the tracker/mlflow
 * plugin. Not installed, not part of the ABI. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "mlflow.h"

G_BEGIN_DECLS

/* MLflow's log-batch limits (mlflow/utils/validation.py). */
#define TM_MAX_METRICS 1000
#define TM_MAX_PARAMS 100
#define TM_MAX_TAGS 100
#define TM_MAX_ITEMS 1000
#define TM_MAX_BODY 1000000
#define TM_MAX_KEY 250
#define TM_MAX_PARAM_VALUE 6000
/* Run tag values: 8000 in MLflow 3, 5000 in MLflow 2; the lower serves both. */
#define TM_MAX_TAG_VALUE 5000

typedef struct {
  LatheContext *ctx;
  LatheMlflow *m;
  char *experiment_name; /* from the param or MLFLOW_EXPERIMENT_NAME; NULL: the pipeline's */
  char *experiment_id;   /* resolved at the first top-level run */
  GHashTable *ids;       /* Lathe run id -> MLflow run id */
  GHashTable *infos;     /* MLflow run id -> TmRunInfo */
  GHashTable *said;      /* what was said once */
  gint64 offline_until;  /* monotonic µs; the per-item callbacks fail fast until then */
  GThread *watch;        /* turns the host's cancel (its budget spent) into the calls' */
  GMutex watch_lock;
  GCond watch_cond;
  gboolean closing;
  gboolean reached;      /* the server has answered once (see experiment()) */
} TmTracker;

/* Says @message once per @what in this session, as a warning. */
void tm_say_once(TmTracker *t, const char *what, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* Turns an error of lib-mlflow into Lathe's, prefixed "tracker-mlflow: ". */
void tm_error(GError **error);

/* The run's MLflow id: mapped from Lathe's when this session started it. */
const char *tm_run(TmTracker *t, const char *run_id);

/**
 * tm_log_batch:
 * Sends @batch to MLflow run @mlflow_id in requests within MLflow's limits.
 * Values MLflow would refuse or change are said once and skipped or adjusted;
 * a request MLflow refuses for a param is retried item by item, so one bad
 * value never sinks the rest. Fails only when the server is out of reach
 * (UNAVAILABLE: the host sends the whole batch again, which is idempotent)
 * or refuses the run itself.
 */
gboolean tm_log_batch(TmTracker *t, const char *mlflow_id, const LatheTrackerBatch *batch,
                      GError **error);

G_END_DECLS
