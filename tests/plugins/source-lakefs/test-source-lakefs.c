/* source/lakefs through its ABI, against the lakeFS test server behind Prism
 * (tests/lakefs; with-lakefs.sh starts it and exports LAKECTL_* and
 * LAKEFS_CONTROL_URL). The test builds its repositories through the API,
 * calls resolve and run as the host does, and counts the server's requests
 * and injects faults through the control port. */
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "lakefs-read.h"
#include "lakefs-fixture.h"
#include "test-asan.h"
#include "test-util.h"

/* ---- the server: API and control port */

static void create_repo(const char *name) {
  g_autofree char *body = g_strdup_printf(
      "{\"name\": \"%s\", \"storage_namespace\": \"local://%s\", \"default_branch\": "
      "\"main\"}",
      name, name);
  json_node_unref(lkfx_call("POST", "/repositories", body));
}

static void put(const char *repo, const char *path, const char *data, gssize len) {
  g_autoptr(LatheLakefs) lk = lkfx_client();
  g_autofree char *p = lathe_lakefs_path("repositories", repo, "branches", "main", "objects", NULL);
  g_autoptr(LatheHttpRequest) r = lathe_lakefs_request("POST", p);
  lathe_http_request_add_query(r, "path", path);
  g_autoptr(GBytes) b = g_bytes_new(data, len < 0 ? strlen(data) : (gsize)len);
  lathe_http_request_set_bytes(r, b, NULL);
  g_autoptr(GError) e = NULL;
  JsonNode *n = lathe_lakefs_json(lk, r, NULL, &e);
  g_assert_no_error(e);
  json_node_unref(n);
}

static char *commit(const char *repo, const char *message) {
  g_autofree char *p = lathe_lakefs_path("repositories", repo, "branches", "main", "commits", NULL);
  g_autofree char *body = g_strdup_printf("{\"message\": \"%s\"}", message);
  g_autoptr(JsonNode) n = lkfx_call("POST", p, body);
  return g_strdup(json_object_get_string_member(json_node_get_object(n), "id"));
}

static void fault(const char *json) { lkfx_control_do("POST", "/faults", json); }

static void reset(void) {
  lkfx_control_do("DELETE", "/counts", NULL);
  lkfx_control_do("DELETE", "/faults", NULL);
}

static gint64 total_api_calls(void) {
  g_autoptr(JsonNode) n = lkfx_control("GET", "/counts", NULL);
  JsonObject *o = json_node_get_object(n);
  gint64 t = 0;
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    if (strcmp(l->data, "getObject") != 0)
      t += json_object_get_int_member(o, l->data);
  return t;
}

/* ---- the plugin */

static const LatheSourceClass *comp(void) {
  return (const LatheSourceClass *)lathe_test_component("source-lakefs", "source/lakefs");
}

static LatheContext *ctx_new(const char *params) {
  return lathe_test_context(LATHE_COMPONENT(*comp()), "lk", params, 7);
}

static const LatheDataset *resolve_run_ok(LatheContext *ctx) {
  g_autoptr(GError) e = NULL;
  gboolean ok = comp()->resolve(ctx, &e);
  g_assert_no_error(e);
  g_assert_true(ok);
  ok = comp()->run(ctx, &e);
  g_assert_no_error(e);
  g_assert_true(ok);
  const LatheDataset *ds = lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"), &e);
  g_assert_no_error(e);
  return ds;
}

static char *run_error(const char *params) {
  g_autoptr(LatheContext) ctx = ctx_new(params);
  g_autoptr(GError) e = NULL;
  gboolean ok = comp()->resolve(ctx, &e) && comp()->run(ctx, &e);
  g_assert_false(ok);
  g_assert_nonnull(e);
  g_assert_null(strchr(e->message, '\n'));
  g_assert_null(lathe_context_get_output(ctx, "data"));
  return g_strdup(e->message);
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_error("expected '%s' in: %s", needle, haystack);
}

static char *md5_of(const char *data) {
  return g_compute_checksum_for_string(G_CHECKSUM_MD5, data, -1);
}

static char *cached_object(const char *checksum) {
  return g_build_filename(g_getenv("LATHE_CACHE_DIR"), "lakefs-objects", checksum, NULL);
}

/* Files left in the object cache that are not objects (temporary, .part). */
static guint stray_files(void) {
  g_autofree char *dir = g_build_filename(g_getenv("LATHE_CACHE_DIR"), "lakefs-objects", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    n += strchr(name, '.') != NULL;
  return n;
}

static const char *const A1 = "x,y,label\n1,10,a\n2,20,b\n";
static const char *const B1 = "x,y,label\n3,30,a\n";
static const char *const B2 = "x,y,label\n300,3000,b\n";

/* ---- tests */

typedef struct {
  LatheContext *ctx;
  gboolean ok;
  GError *error;
} RunJob;

static gpointer run_thread(gpointer data) {
  RunJob *j = data;
  j->ok = comp()->run(j->ctx, &j->error);
  return NULL;
}

/* A commit lands on the branch while the node downloads: the node reads
 * only the commit it resolved, and records it. */
static void test_pinning_mid_run(void) {
  create_repo("pin");
  put("pin", "d/a.csv", A1, -1);
  put("pin", "d/b.csv", B1, -1);
  g_autofree char *c1 = commit("pin", "first");
  reset();
  g_autoptr(LatheContext) ctx = ctx_new("{\"repository\": \"pin\", \"path\": \"d/\", "
                                        "\"label\": \"label\"}");
  g_autoptr(GError) e = NULL;
  g_assert_true(comp()->resolve(ctx, &e));
  g_assert_no_error(e);
  fault("{\"kind\": \"delay\", \"seconds\": 1.5, \"count\": 1, \"match\": \"getObject\"}");
  RunJob job = {ctx, FALSE, NULL};
  GThread *t = g_thread_new("run", run_thread, &job);
  /* Wait until the first download is held by the server, then commit. */
  for (guint i = 0; i < 200 && lkfx_count("getObject") < 1; i++)
    g_usleep(20000);
  g_assert_cmpint(lkfx_count("getObject"), >=, 1);
  put("pin", "d/b.csv", B2, -1);
  g_autofree char *c2 = commit("pin", "second");
  g_assert_cmpstr(c1, !=, c2);
  g_thread_join(t);
  g_assert_no_error(job.error);
  g_assert_true(job.ok);
  const LatheDataset *ds = lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"), &e);
  g_assert_no_error(e);
  g_assert_cmpuint(ds->n_rows, ==, 3);
  const float x[] = {1, 10, 2, 20, 3, 30};
  for (guint i = 0; i < 6; i++)
    g_assert_cmpfloat(ds->x[i], ==, x[i]);
  /* Groups are the paths below the prefix, as for a local folder. */
  g_assert_cmpuint(ds->n_groups, ==, 2);
  g_assert_cmpstr(ds->group_names[0], ==, "a.csv");
  JsonArray *v = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(v), ==, 2);
  g_autofree char *uri = g_strdup_printf("lakefs://pin/%s/d/b.csv", c1);
  JsonObject *b = json_array_get_object_element(v, 1);
  g_assert_cmpstr(json_object_get_string_member(b, "uri"), ==, uri);
  g_autofree char *md5 = md5_of(B1);
  g_assert_cmpstr(json_object_get_string_member(b, "digest"), ==, md5);

  /* A reproduction pinned to those versions reads c1 although the branch
   * is at c2 now, with no call to resolve the branch. */
  reset();
  g_autoptr(LatheContext) again = ctx_new("{\"repository\": \"pin\", \"path\": \"d/\", "
                                          "\"label\": \"label\"}");
  lathe_context_set_pins(again, v);
  const LatheDataset *ds2 = resolve_run_ok(again);
  g_assert_cmpfloat(ds2->x[4], ==, 3);
  g_assert_cmpint(lkfx_count("logCommits"), ==, 0);
  g_assert_cmpint(lkfx_count("getObject"), ==, 0); /* all cached by checksum */

  /* A pin whose checksum differs from the object at that commit is refused. */
  g_autoptr(JsonArray) bad = json_array_new();
  for (guint i = 0; i < 2; i++) {
    JsonObject *o = json_object_new();
    JsonObject *src = json_array_get_object_element(v, i);
    json_object_set_string_member(o, "uri", json_object_get_string_member(src, "uri"));
    json_object_set_string_member(o, "digest",
                                  i == 1 ? "0123456789abcdef0123456789abcdef"
                                         : json_object_get_string_member(src, "digest"));
    json_array_add_object_element(bad, o);
  }
  g_autoptr(LatheContext) refused = ctx_new("{\"repository\": \"pin\", \"path\": \"d/\", "
                                            "\"label\": \"label\"}");
  lathe_context_set_pins(refused, bad);
  g_autoptr(GError) e2 = NULL;
  g_assert_false(comp()->resolve(refused, &e2));
  assert_contains(e2->message, uri);
  assert_contains(e2->message, "0123456789abcdef0123456789abcdef");
  assert_contains(e2->message, md5);
}

/* Cancelling the node (Ctrl-C) stops a download in flight at once. */
static void test_cancel(void) {
  create_repo("cancel");
  const char *body = "x,y,label\n7,77,cancelled\n";
  put("cancel", "c.csv", body, -1);
  g_autofree char *c = commit("cancel", "one");
  g_autoptr(LatheContext) ctx = ctx_new("{\"repository\": \"cancel\", \"path\": \"c.csv\", "
                                        "\"label\": \"label\"}");
  g_autoptr(GError) e = NULL;
  g_assert_true(comp()->resolve(ctx, &e));
  g_autofree char *md5 = md5_of(body);
  g_autofree char *path = cached_object(md5);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  reset();
  fault("{\"kind\": \"delay\", \"seconds\": 5, \"count\": 1, \"match\": \"getObject\"}");
  RunJob job = {ctx, FALSE, NULL};
  GThread *t = g_thread_new("run", run_thread, &job);
  for (guint i = 0; i < 200 && lkfx_count("getObject") < 1; i++)
    g_usleep(20000);
  g_assert_cmpint(lkfx_count("getObject"), ==, 1); /* held by the server now */
  gint64 start = g_get_monotonic_time();
  lathe_context_cancel(ctx);
  g_thread_join(t);
  gint64 ms = (g_get_monotonic_time() - start) / 1000;
  g_assert_false(job.ok);
  g_assert_error(job.error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
  g_clear_error(&job.error);
  g_assert_cmpint(ms, <, 2000);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(stray_files(), ==, 0);
  reset();
  (void)c;
}

/* The content key follows the objects, not the commit; an unmoved head
 * costs one call and no download; a changed object is the only download. */
static void test_cache(void) {
  create_repo("cache");
  put("cache", "d/a.csv", A1, -1);
  put("cache", "d/b.csv", B1, -1);
  g_autofree char *c1 = commit("cache", "first");
  const char *params = "{\"repository\": \"cache\", \"path\": \"d/\", \"label\": \"label\"}";
  g_autoptr(LatheContext) first = ctx_new(params);
  resolve_run_ok(first);
  const char *key1 = lathe_context_get_content_key(first);
  g_assert_nonnull(key1);

  /* Head unmoved: resolve is one API call, run downloads nothing. */
  reset();
  g_autoptr(LatheContext) same = ctx_new(params);
  resolve_run_ok(same);
  g_assert_cmpint(total_api_calls(), ==, 1);
  g_assert_cmpint(lkfx_count("logCommits"), ==, 1);
  g_assert_cmpint(lkfx_count("getObject"), ==, 0);
  g_assert_cmpstr(lathe_context_get_content_key(same), ==, key1);

  /* The branch moves, nothing under d/ changes: same content key. */
  put("cache", "other/z.csv", B2, -1);
  g_autofree char *c2 = commit("cache", "elsewhere");
  reset();
  g_autoptr(LatheContext) moved = ctx_new(params);
  g_autoptr(GError) e = NULL;
  g_assert_true(comp()->resolve(moved, &e));
  g_assert_cmpstr(lathe_context_get_content_key(moved), ==, key1);
  JsonObject *v0 = json_array_get_object_element(lathe_context_get_data_versions(moved), 0);
  g_autofree char *want = g_strdup_printf("lakefs://cache/%s/d/a.csv", c2);
  g_assert_cmpstr(json_object_get_string_member(v0, "uri"), ==, want);

  /* One object changes: another key, and only that object is downloaded. */
  put("cache", "d/b.csv", B2, -1);
  g_autofree char *c3 = commit("cache", "change b");
  reset();
  g_autoptr(LatheContext) changed = ctx_new(params);
  const LatheDataset *ds = resolve_run_ok(changed);
  g_assert_cmpstr(lathe_context_get_content_key(changed), !=, key1);
  g_assert_cmpint(lkfx_count("getObject"), ==, 1);
  g_assert_cmpfloat(ds->x[4], ==, 300);
  g_autofree char *md5 = md5_of(B2);
  g_autofree char *path = cached_object(md5);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  (void)c1;
  (void)c3;
}

/* The object cache keeps to LATHE_LAKEFS_CACHE_MB, the least recently used
 * objects leaving first. */
static void test_cache_bound(void) {
  create_repo("lru");
  char *sums[3];
  for (guint i = 0; i < 3; i++) {
    GString *s = g_string_new("x,y\n");
    while (s->len < 800 * 1024)
      g_string_append_printf(s, "%u,%u\n", i, (guint)s->len);
    g_autofree char *p = g_strdup_printf("o%u.csv", i);
    put("lru", p, s->str, (gssize)s->len);
    sums[i] = md5_of(s->str);
    g_string_free(s, TRUE);
  }
  g_autofree char *c = commit("lru", "three objects");
  g_setenv("LATHE_LAKEFS_CACHE_MB", "2", TRUE);
  guint order[] = {0, 1, 2, 1, 0};
  /* After each read, which objects are cached (bit i: object i). */
  guint expect[] = {1, 3, 6, 6, 3};
  for (guint k = 0; k < G_N_ELEMENTS(order); k++) {
    g_autofree char *params =
        g_strdup_printf("{\"repository\": \"lru\", \"path\": \"o%u.csv\"}", order[k]);
    g_autoptr(LatheContext) ctx = ctx_new(params);
    resolve_run_ok(ctx);
    for (guint i = 0; i < 3; i++) {
      g_autofree char *path = cached_object(sums[i]);
      if ((guint)g_file_test(path, G_FILE_TEST_EXISTS) != ((expect[k] >> i) & 1))
        g_error("after reading o%u.csv: object o%u.csv %s the cache", order[k], i,
                (expect[k] >> i) & 1 ? "is missing from" : "is still in");
    }
  }
  g_unsetenv("LATHE_LAKEFS_CACHE_MB");
  for (guint i = 0; i < 3; i++)
    g_free(sums[i]);
  (void)c;
}

/* More than one page (1,000) of objects. */
static void test_pagination(void) {
  create_repo("many");
  for (guint i = 0; i < 1100; i++) {
    g_autofree char *p = g_strdup_printf("rows/r%04u.csv", i);
    g_autofree char *body = g_strdup_printf("x,y\n%u,%u\n", i, 2 * i);
    put("many", p, body, -1);
  }
  g_autofree char *c = commit("many", "1100 objects");
  reset();
  g_autoptr(LatheContext) ctx = ctx_new("{\"repository\": \"many\", \"path\": \"rows/\"}");
  const LatheDataset *ds = resolve_run_ok(ctx);
  g_assert_cmpint(lkfx_count("listObjects"), ==, 2);
  g_assert_cmpuint(ds->n_rows, ==, 1100);
  g_assert_cmpuint(json_array_get_length(lathe_context_get_data_versions(ctx)), ==, 1100);
  g_assert_cmpfloat(ds->x[2 * 1099], ==, 1099);
  g_assert_cmpfloat(ds->x[2 * 1099 + 1], ==, 2198);
  (void)c;
}

/* A stored object that no longer matches its checksum. */
static void test_checksum_mismatch(void) {
  create_repo("bad");
  const char *body = "x,y\n123456789,987654321\n111,222\n";
  put("bad", "one.csv", body, -1);
  g_autofree char *c = commit("bad", "one");
  json_node_unref(lkfx_control("POST", "/corrupt",
                                  "{\"repository\": \"bad\", \"ref\": \"main\", \"path\": "
                                  "\"one.csv\"}"));
  g_autofree char *msg = run_error("{\"repository\": \"bad\", \"path\": \"one.csv\"}");
  g_autofree char *md5 = md5_of(body);
  assert_contains(msg, "one.csv");
  assert_contains(msg, md5);
  assert_contains(msg, "MD5");
  g_autofree char *path = cached_object(md5);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(stray_files(), ==, 0);
  (void)c;
}

/* 401, 404s with a did-you-mean, 503, timeouts, a dropped download. */
static void test_errors(void) {
  create_repo("errs");
  put("errs", "data/train.csv", "x,y\n1,2\n", -1);
  put("errs", "data/test.csv", "x,y\n3,4\n", -1);
  g_autofree char *c = commit("errs", "one");
  reset();

  g_autofree char *m = run_error("{\"repository\": \"erss\", \"path\": \"data/\"}");
  assert_contains(m, "repository 'erss' not found");
  assert_contains(m, "did you mean 'errs'?");
  assert_contains(m, g_getenv("LAKECTL_SERVER_ENDPOINT_URL"));
  g_clear_pointer(&m, g_free);
  m = run_error("{\"repository\": \"errs\", \"ref\": \"mian\", \"path\": \"data/\"}");
  assert_contains(m, "ref 'mian' not found");
  assert_contains(m, "did you mean 'main'?");
  g_clear_pointer(&m, g_free);
  m = run_error("{\"repository\": \"errs\", \"path\": \"data/trian.csv\"}");
  assert_contains(m, "path 'data/trian.csv' not found");
  assert_contains(m, "did you mean 'data/train.csv'?");
  g_clear_pointer(&m, g_free);
  m = run_error("{\"repository\": \"errs\", \"path\": \"dta/\"}");
  assert_contains(m, "did you mean 'data'?");
  g_clear_pointer(&m, g_free);

  m = run_error("{\"repository\": \"errs\", \"path\": \"data/\", \"columns\": [\"x\"]}");
  assert_contains(m, "param 'columns' belongs to format recordings");
  g_clear_pointer(&m, g_free);

  /* 401: one line naming the endpoint and the variables to set. */
  g_autofree char *secret = g_strdup(g_getenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"));
  g_setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", "wrong-secret-value", TRUE);
  m = run_error("{\"repository\": \"errs\", \"path\": \"data/\"}");
  g_setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", secret, TRUE);
  assert_contains(m, "401");
  assert_contains(m, g_getenv("LAKECTL_SERVER_ENDPOINT_URL"));
  assert_contains(m, "LAKECTL_CREDENTIALS_ACCESS_KEY_ID");
  g_assert_null(strstr(m, "wrong-secret-value"));
  g_assert_null(strstr(m, secret));
  g_clear_pointer(&m, g_free);

  /* 503 twice, then served: retried. Always 503: a clear failure. */
  g_setenv("LATHE_LAKEFS_BACKOFF_MS", "20", TRUE);
  g_setenv("LATHE_LAKEFS_MAX_ATTEMPTS", "3", TRUE);
  reset();
  fault("{\"kind\": \"fail\", \"status\": 503, \"count\": 2, \"match\": \"logCommits\"}");
  g_autoptr(LatheContext) ok503 = ctx_new("{\"repository\": \"errs\", \"path\": \"data/\"}");
  resolve_run_ok(ok503);
  g_assert_cmpint(lkfx_count("logCommits"), ==, 3);
  reset();
  fault("{\"kind\": \"fail\", \"status\": 503, \"count\": -1, \"match\": \"logCommits\"}");
  m = run_error("{\"repository\": \"errs\", \"path\": \"data/\"}");
  assert_contains(m, "503");
  g_assert_cmpint(lkfx_count("logCommits"), ==, 3);
  g_clear_pointer(&m, g_free);

  /* A server that stalls past the idle timeout: retried, then a failure. */
  g_setenv("LATHE_LAKEFS_IDLE_TIMEOUT_MS", "400", TRUE);
  reset();
  fault("{\"kind\": \"delay\", \"seconds\": 1.2, \"count\": 1, \"match\": \"logCommits\"}");
  g_autoptr(LatheContext) slow = ctx_new("{\"repository\": \"errs\", \"path\": \"data/\"}");
  resolve_run_ok(slow);
  g_assert_cmpint(lkfx_count("logCommits"), ==, 2);
  reset();
  fault("{\"kind\": \"delay\", \"seconds\": 1.2, \"count\": -1, \"match\": \"logCommits\"}");
  m = run_error("{\"repository\": \"errs\", \"path\": \"data/\"}");
  assert_contains(m, "idle timeout");
  g_clear_pointer(&m, g_free);
  g_unsetenv("LATHE_LAKEFS_IDLE_TIMEOUT_MS");

  /* A connection dropped mid-download: retried from the start; always
   * dropped: a failure, and no half file in the cache. */
  const char *big_params = "{\"repository\": \"errs\", \"path\": \"big.csv\"}";
  GString *big = g_string_new("x,y\n");
  for (guint i = 0; i < 20000; i++)
    g_string_append_printf(big, "%u,%u\n", i, i + 1);
  put("errs", "big.csv", big->str, (gssize)big->len);
  g_autofree char *c2 = commit("errs", "big");
  g_autofree char *md5 = md5_of(big->str);
  g_autofree char *cached = cached_object(md5);
  reset();
  fault("{\"kind\": \"drop\", \"after_bytes\": 50000, \"count\": -1}");
  m = run_error(big_params);
  assert_contains(m, "big.csv");
  g_assert_false(g_file_test(cached, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(stray_files(), ==, 0);
  g_clear_pointer(&m, g_free);
  reset();
  fault("{\"kind\": \"drop\", \"after_bytes\": 50000, \"count\": 1}");
  g_autoptr(LatheContext) resumed = ctx_new(big_params);
  const LatheDataset *ds = resolve_run_ok(resumed);
  g_assert_cmpuint(ds->n_rows, ==, 20000);
  g_assert_cmpint(lkfx_count("getObject"), ==, 2);
  g_assert_true(g_file_test(cached, G_FILE_TEST_IS_REGULAR));
  g_string_free(big, TRUE);
  g_unsetenv("LATHE_LAKEFS_BACKOFF_MS");
  g_unsetenv("LATHE_LAKEFS_MAX_ATTEMPTS");
  (void)c;
  (void)c2;
}

/* Credentials in a pipeline are refused by the params' own check. */
static void test_secret_params(void) {
  const LatheComponent *c = LATHE_COMPONENT(*comp());
  guint seen = 0;
  for (const LatheParamSpec *s = c->params; s->name; s++) {
    if (strcmp(s->name, "access_key_id") && strcmp(s->name, "secret_access_key"))
      continue;
    seen++;
    g_assert_true(s->flags & LATHE_PARAM_SECRET);
    g_assert_nonnull(s->check);
    g_autoptr(JsonNode) v = json_from_string("\"hunter2\"", NULL);
    g_autofree char *why = NULL;
    g_assert_false(s->check(s, v, &why));
    assert_contains(why, "credentials never go in a pipeline");
    assert_contains(why, "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY");
    g_assert_null(strstr(why, "hunter2"));
  }
  g_assert_cmpuint(seen, ==, 2);
}

static gint by_path(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Recordings (zips of one CSV under class folders) read from lakeFS equal
 * source/recordings on the same files on disk: the IDEKO data when present. */
static void test_ideko_recordings(void) {
  g_autofree char *root = lathe_test_shared_path("ideko");
  if (!root || !g_file_test(root, G_FILE_TEST_IS_DIR)) {
    g_test_skip("no ../shared/data/ideko: the IDEKO recordings test needs it");
    return;
  }
  /* Two recordings of each class, imported as the first ones in byte order. */
  create_repo("ideko");
  const char *classes[] = {"electrical_anomalies", "mechanical_anomalies", "not_anomalous"};
  for (guint k = 0; k < 3; k++) {
    g_autofree char *dir = g_build_filename(root, classes[k], NULL);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d1 = g_dir_open(dir, 0, NULL);
    const char *day;
    while (d1 && (day = g_dir_read_name(d1))) {
      g_autofree char *dd = g_build_filename(dir, day, NULL);
      g_autoptr(GDir) d2 = g_dir_open(dd, 0, NULL);
      const char *f;
      while (d2 && (f = g_dir_read_name(d2)))
        if (g_str_has_suffix(f, ".zip"))
          g_ptr_array_add(files, g_strdup_printf("%s/%s/%s", classes[k], day, f));
    }
    g_ptr_array_sort(files, by_path);
    g_assert_cmpuint(files->len, >=, 2);
    for (guint i = 0; i < 2; i++) {
      const char *rel = files->pdata[i];
      g_autofree char *full = g_build_filename(root, rel, NULL);
      g_autofree char *bytes = NULL;
      gsize len;
      g_assert_true(g_file_get_contents(full, &bytes, &len, NULL));
      g_autofree char *obj = g_strdup_printf("recs/%s", rel);
      put("ideko", obj, bytes, (gssize)len);
    }
  }
  g_autofree char *c = commit("ideko", "IDEKO subset");
  g_autoptr(LatheContext) ctx =
      ctx_new("{\"repository\": \"ideko\", \"path\": \"recs/\", \"format\": \"recordings\"}");
  const LatheDataset *ds = resolve_run_ok(ctx);
  g_assert_cmpuint(ds->n_groups, ==, 6);
  g_assert_cmpuint(ds->n_classes, ==, 3);
  g_assert_cmpstr(ds->classes[2], ==, "not_anomalous");
  /* The same through source/recordings on the IDEKO folder, 2 per class. */
  const LatheSourceClass *rec =
      (const LatheSourceClass *)lathe_test_component("source-csv", "source/recordings");
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\", \"max_per_class\": 2}", root);
  g_autoptr(LatheContext) local = lathe_test_context(LATHE_COMPONENT(*rec), "rec", params, 7);
  g_autoptr(GError) e = NULL;
  g_assert_true(rec->run(local, &e));
  g_assert_no_error(e);
  const LatheDataset *want = lathe_artifact_get_dataset(lathe_context_get_output(local, "data"), &e);
  g_assert_cmpuint(ds->n_rows, ==, want->n_rows);
  g_assert_cmpuint(ds->n_cols, ==, want->n_cols);
  for (guint g = 0; g < 6; g++)
    g_assert_cmpstr(ds->group_names[g], ==, want->group_names[g]);
  g_assert_cmpint(memcmp(ds->x, want->x, sizeof(float) * ds->n_rows * ds->n_cols), ==, 0);
  (void)c;
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* A 200 MB object streams to the cache under a memory bound. */
static void test_large_object(void) {
  if (!g_test_subprocess()) {
    g_test_trap_subprocess(NULL, 300 * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDERR | G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed();
    return;
  }
  const gsize size = 200u << 20;
  g_autofree char *dir = g_dir_make_tmp("lathe-lakefs-big-XXXXXX", NULL);
  g_autofree char *src = g_build_filename(dir, "big.csv", NULL);
  {
    FILE *f = fopen(src, "w");
    g_assert_nonnull(f);
    gsize n = fprintf(f, "x,y\n");
    for (guint i = 0; n < size; i++)
      n += fprintf(f, "%u,%u\n", i, i ^ 0x5555u);
    fclose(f);
  }
  g_autoptr(LatheLakefs) lk = lkfx_client();
  create_repo("large");
  g_autofree char *p = lathe_lakefs_path("repositories", "large", "branches", "main", "objects", NULL);
  g_autoptr(LatheHttpRequest) up = lathe_lakefs_request("POST", p);
  lathe_http_request_add_query(up, "path", "big.csv");
  lathe_http_request_set_file(up, src, NULL);
  g_autoptr(GError) e = NULL;
  JsonNode *st = lathe_lakefs_json(lk, up, NULL, &e);
  g_assert_no_error(e);
  json_node_unref(st);
  g_autofree char *c = commit("large", "big");
  g_autoptr(GPtrArray) objs = lathe_lakefs_list_objects(lk, "large", c, "", NULL, &e);
  g_assert_no_error(e);
  g_assert_cmpuint(objs->len, ==, 1);
  const LatheLakefsObject *o = objs->pdata[0];
  g_assert_cmpuint(o->size, >=, size);
  g_autofree char *dest = g_build_filename(dir, "copy", NULL);
  long before = max_rss_kb();
  g_assert_true(lathe_lakefs_download(lk, "large", c, o, dest, NULL, &e));
  g_assert_no_error(e);
  long after = max_rss_kb();
  g_printerr("# %" G_GUINT64_FORMAT " bytes downloaded: peak RSS %ld -> %ld KiB\n", o->size,
                 before, after);
  GStatBuf sb;
  g_assert_cmpint(g_stat(dest, &sb), ==, 0);
  g_assert_cmpuint((guint64)sb.st_size, ==, o->size);
#ifndef UNDER_ASAN
  g_assert_cmpint(after - before, <, 32 * 1024);
#endif
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (!g_getenv("LAKEFS_CONTROL_URL")) {
    g_printerr("run me through tests/lakefs/with-lakefs.sh (the lakeFS test server)\n");
    return 1;
  }
  /* A fresh object and listing cache: the counts of downloads below start
   * from nothing. */
  g_autofree char *cache = g_dir_make_tmp("lathe-lakefs-cache-XXXXXX", NULL);
  g_setenv("LATHE_CACHE_DIR", cache, TRUE);
  g_test_add_func("/source-lakefs/large-object", test_large_object);
  g_test_add_func("/source-lakefs/secret-params", test_secret_params);
  g_test_add_func("/source-lakefs/pinning-mid-run", test_pinning_mid_run);
  g_test_add_func("/source-lakefs/cache", test_cache);
  g_test_add_func("/source-lakefs/cache-bound", test_cache_bound);
  g_test_add_func("/source-lakefs/cancel", test_cancel);
  g_test_add_func("/source-lakefs/pagination", test_pagination);
  g_test_add_func("/source-lakefs/checksum-mismatch", test_checksum_mismatch);
  g_test_add_func("/source-lakefs/errors", test_errors);
  g_test_add_func("/source-lakefs/ideko-recordings", test_ideko_recordings);
  int status = g_test_run();
  lathe_test_remove_tree(cache);
  return status;
}
