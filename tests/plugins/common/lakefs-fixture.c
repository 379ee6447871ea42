/* The lakeFS test server for the lakeFS plugins' C tests (lakefs-fixture.h). */
#include "lakefs-fixture.h"

LatheLakefs *lkfx_client(void) {
  g_autoptr(GError) error = NULL;
  LatheLakefs *lk = lathe_lakefs_open(NULL, NULL, &error);
  g_assert_no_error(error);
  return lk;
}

JsonNode *lkfx_call(const char *method, const char *path, const char *body_json) {
  g_autoptr(LatheLakefs) lk = lkfx_client();
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request(method, path);
  if (body_json) {
    g_autoptr(JsonNode) body = json_from_string(body_json, NULL);
    lathe_http_request_set_json(req, body);
  }
  g_autoptr(GError) error = NULL;
  JsonNode *n = lathe_lakefs_json(lk, req, NULL, &error);
  g_assert_no_error(error);
  return n;
}

JsonNode *lkfx_control(const char *method, const char *path, const char *body_json) {
  const char *url = g_getenv("LAKEFS_CONTROL_URL");
  g_assert_nonnull(url);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheHttpClient) c = lathe_http_client_new(url, NULL, &error);
  g_assert_no_error(error);
  g_autoptr(JsonNode) body = body_json ? json_from_string(body_json, NULL) : NULL;
  JsonNode *n = lathe_http_client_json(c, method, path, body, NULL, &error);
  g_assert_no_error(error);
  return n;
}

void lkfx_control_do(const char *method, const char *path, const char *body_json) {
  json_node_unref(lkfx_control(method, path, body_json));
}

gint64 lkfx_count(const char *op) {
  g_autoptr(JsonNode) n = lkfx_control("GET", "/counts", NULL);
  return json_object_get_int_member_with_default(json_node_get_object(n), op, 0);
}
