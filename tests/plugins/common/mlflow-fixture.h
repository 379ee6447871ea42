/* mlflow-fixture.h: the strict MLflow test server (tests/mlflow) for the C
 * tests of the MLflow plugins: a fresh server on free loopback ports, its
 * control port (faults, counts, state) and its API. The test's environment
 * gives MLFLOW_SERVER_PY, the server script. */
#pragma once

#include <lathe-http.h>

#include "test-util.h"

typedef struct {
  char *dir;            /* its temporary folder */
  GPid pid;
  char *uri;            /* http://127.0.0.1:PORT, also set as MLFLOW_TRACKING_URI */
  LatheHttpClient *ctl; /* the control port */
  LatheHttpClient *api; /* the API, for reading back what a plugin wrote */
} MlfxServer;

/* Starts a server; @auth_arg ("--token", "--basic") and @auth_value, or NULLs. */
MlfxServer *mlfx_start(const char *auth_arg, const char *auth_value);
/* Stops it (SIGTERM, waited for) and removes its folder. */
void mlfx_stop(MlfxServer *s);
/* A control call; aborts the test on failure. Returns: (transfer full). */
JsonNode *mlfx_ctl(MlfxServer *s, const char *method, const char *path, const char *body);
/* POST /faults with @json. */
void mlfx_fault(MlfxServer *s, const char *json);
/* Requests to @rpc so far (GET /counts). */
gint64 mlfx_count(MlfxServer *s, const char *rpc);
/* The run as /state shows it. Returns: (transfer full). */
JsonObject *mlfx_state_run(MlfxServer *s, const char *id);
/* How many runs /state has. */
guint mlfx_state_runs(MlfxServer *s);
/* A tag of a /state run, or NULL. */
const char *mlfx_tag(JsonObject *run, const char *key);
