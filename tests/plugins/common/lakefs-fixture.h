/* lakefs-fixture.h: the lakeFS test server (tests/lakefs) for the C tests of
 * the lakeFS plugins. tests/lakefs/with-lakefs.sh starts it and exports
 * LAKECTL_* (the API) and LAKEFS_CONTROL_URL (faults, counts). Every call
 * aborts the test on failure. */
#pragma once

#include "lakefs.h"
#include "test-util.h"

/* A client of the API from LAKECTL_*. Returns: (transfer full). */
LatheLakefs *lkfx_client(void);
/* One API call that must succeed, @body_json or NULL; its answer. Returns: (transfer full). */
JsonNode *lkfx_call(const char *method, const char *path, const char *body_json);
/* A control-port call; its answer. Returns: (transfer full). */
JsonNode *lkfx_control(const char *method, const char *path, const char *body_json);
/* The same, the answer dropped. */
void lkfx_control_do(const char *method, const char *path, const char *body_json);
/* Requests to operation @op so far (GET /counts). */
gint64 lkfx_count(const char *op);
