/* serve.h: `lathe serve`, registered models behind HTTP (core/serve/).
 * Above registry and engine, below cli. */
#pragma once

#include <json-glib/json-glib.h>
#include <lathe/lathe-sdk.h>

#include "catalog/catalog.h"
#include "lathe-http-server.h"
#include "lathe-registry.h"
#include "serve/serve-drift.h"

G_BEGIN_DECLS

typedef struct {
  const char *bind;    /* default 127.0.0.1 */
  guint port;          /* 0: a free port */
  gsize max_body;      /* bytes; larger bodies get 413 */
  gboolean json;       /* print the startup line as JSON */
  int access_log_fd;   /* JSON lines; -1: none */
  guint timeout_ms;    /* to receive a whole request (0: none) */
  const char *registry_id; /* for messages; NULL: registry/local */
  const char *route;   /* NAME@ALIAS:WEIGHT,...; NULL: none */
  const char *shadow;  /* NAME@ALIAS; NULL: none */
  const char *sticky_header; /* NULL: X-Request-Key */
  const char *sticky_field;  /* a body member; overrides the header */
  guint min_feedback;  /* labelled requests per variant before the accuracy rule */
  double max_accuracy_drop; /* NAN: off */
  double max_p99_ms;   /* NAN: off */
  double max_psi;      /* NAN: off */
  guint poll_seconds;  /* 0: no polling */
  guint drain_seconds;
  guint max_in_flight; /* 0: no limit */
} LatheServeOptions;

/**
 * lathe_serve_run:
 * @specs: NAME@ALIAS (or NAME@VERSION) strings, %NULL-terminated (may be
 *   empty when @opt has a route).
 *
 * Loads every model, listens, and serves until SIGTERM or SIGINT, then stops
 * accepting and finishes the requests under way (at most drain_seconds).
 * Returns: an exit code (0, 1 when a model or the port fails, 2 for usage).
 */
int lathe_serve_run(LatheCatalog *cat, LatheRegistry *reg, char **specs,
                    const LatheServeOptions *opt, GError **error);

/* serve-input.c: a request body into rows in @cols's order (finite numbers only). */
LatheDataset *lathe_serve_parse(JsonNode *root, JsonArray *cols, GError **error);
LatheDataset *lathe_serve_parse_v2(JsonNode *root, JsonArray *cols, GError **error);

/* ---- internal to core/serve ---- */

/* One loaded model version. Refcounted: a reload swaps a variant's pointer on
 * the main loop while a shadow scoring job may still hold the old one. */
typedef struct {
  gint refs;
  char *name;
  char *ref; /* the alias or version asked for */
  guint version;
  LatheArtifact *model;
  JsonArray *columns;       /* what a request carries: the raw columns when a pipeline comes first */
  JsonArray *model_columns; /* the signature's input columns, in order */
  GPtrArray *steps;         /* the version's input pipeline, prepared (LatheTransformStep); NULL: none */
  JsonArray *classes;
  double load_seconds;
  LatheServeDrift *drift; /* NULL: the version has no reference statistics */
  gint *class_map;        /* the model's class j -> the drift's class index (or -1) */
} LatheServed;

LatheServed *lathe_served_load(LatheCatalog *cat, LatheRegistry *reg, const char *name,
                               const char *ref, GError **error);
LatheServed *lathe_served_ref(LatheServed *s);
void lathe_served_unref(LatheServed *s);

extern const double LATHE_SERVE_BUCKETS[];
#define LATHE_SERVE_N_BUCKETS 12

typedef struct {
  char *alias;  /* the metric label variant= */
  guint weight; /* share of the traffic; 0 once withdrawn */
  gboolean primary, shadow;
  LatheServed *served;
  guint64 lat_counts[LATHE_SERVE_N_BUCKETS + 1];
  double lat_sum;
  guint64 lat_n;
  guint64 labelled, correct; /* rows with feedback, and those predicted right */
  guint64 agree, disagree;   /* a shadow's rows against the primary's answer */
  double psi;                /* the served version's PSI in all; NAN until measured */
  GHashTable *predicted;     /* class name -> guint64* rows predicted as it */
  char *withdrawn;           /* why, once the canary is withdrawn */
  char *withdraw_record;     /* the registry's answer to recording it */
} LatheServeVariant;

typedef struct {
  char *name;
  GPtrArray *variants; /* LatheServeVariant*, [0] the primary */
} LatheServeGroup;

typedef struct _LatheServeFeedback LatheServeFeedback;

typedef struct {
  LatheCatalog *cat;
  LatheRegistry *reg;
  GMutex reg_lock; /* the registry is used by the main loop and the reload thread */
  const LatheServeOptions *opt;
  GPtrArray *groups; /* LatheServeGroup* */
  GHashTable *requests; /* "model\tvariant\tversion\tstatus" -> count */
  LatheServeFeedback *feedback;
  LatheHttpServer *http;
  GMainLoop *loop;
  guint in_flight;
  /* reload */
  gboolean registry_ok;
  char *registry_error;
  guint64 reloads, reload_failures;
  GPtrArray *reload_waiting; /* exchanges for the next reload; NULL when none runs */
  GPtrArray *reload_queued;  /* exchanges that came while one ran */
  guint registry_jobs;       /* withdrawals being recorded on a thread */
  GQueue *shadow_jobs;       /* rows waiting for the shadow, scored when idle */
  guint shadow_idle;
  guint64 shadow_dropped;
  gboolean draining;
  guint drain_sources[2]; /* the drain's poll and deadline */
} LatheServer;

/* serve.c */
void lathe_serve_reply(LatheHttpExchange *ex, JsonBuilder *b);
/* An array of {NAME_KEY: model, variant, version} for every variant, with
 * what @more adds to each. */
void lathe_serve_add_variants(JsonBuilder *b, LatheServer *sv, const char *name_key,
                              void (*more)(JsonBuilder *b, LatheServeVariant *v));
/* The body as JSON: %NULL after answering 415 or 400. */
JsonNode *lathe_serve_body_json(LatheHttpExchange *ex);

/* serve-route.c */
/* Returns an exit code: 0, 1 when a model fails to load, 2 for usage. */
int lathe_serve_setup_routes(LatheServer *sv, char **specs, GError **error);
/* --route's syntax, one model, weights summing above 0: before anything opens. */
gboolean lathe_serve_route_check(const char *route, GError **error);
LatheServeGroup *lathe_serve_find_group(LatheServer *sv, const char *name);
LatheServeVariant *lathe_serve_pick(LatheServer *sv, LatheServeGroup *g, LatheHttpExchange *ex,
                                    JsonNode *root);
char **lathe_serve_answers(LatheServed *s, const float *y, guint n_rows, guint k);
void lathe_serve_shadow(LatheServer *sv, LatheServeGroup *g, LatheDataset *ds, char **answers);
void lathe_serve_shadow_clear(LatheServer *sv);
double lathe_serve_variant_p99(const LatheServeVariant *v);
void lathe_serve_check_rollback(LatheServer *sv);
void lathe_serve_add_routes(JsonBuilder *b, LatheServer *sv);
void lathe_serve_group_free(gpointer p);

/* serve-feedback.c */
LatheServeFeedback *lathe_serve_feedback_new(guint capacity);
void lathe_serve_feedback_free(LatheServeFeedback *f);
void lathe_serve_feedback_remember(LatheServer *sv, const char *request_id, LatheServeVariant *v,
                                   char **answers);
void lathe_serve_h_feedback(LatheHttpExchange *ex, gpointer data);

/* serve-reload.c */
void lathe_serve_h_reload(LatheHttpExchange *ex, gpointer data);
gboolean lathe_serve_poll(gpointer data);
void lathe_serve_add_registry(JsonBuilder *b, LatheServer *sv);

/* serve-input.c: a version's input pipeline, replayed on each request's raw rows */
gboolean lathe_serve_input_pipeline(LatheServed *s, LatheCatalog *cat, JsonObject *ip, GError **error);
LatheDataset *lathe_serve_apply_pipeline(LatheServed *s, LatheDataset *raw,
                                         GError **error);

/* serve-monitor.c: drift and the predicted classes of each variant */
void lathe_serve_monitor_attach(LatheServed *s, JsonObject *reference);
void lathe_serve_monitor_observe(LatheServeVariant *v, LatheServed *s, const LatheDataset *ds,
                                 const float *y, guint k);
void lathe_serve_monitor_update(LatheServer *sv);
void lathe_serve_h_drift(LatheHttpExchange *ex, gpointer data);

/* serve-metrics.c */
void lathe_serve_h_metrics(LatheHttpExchange *ex, gpointer data);
char *lathe_serve_label(const char *v);

G_END_DECLS
