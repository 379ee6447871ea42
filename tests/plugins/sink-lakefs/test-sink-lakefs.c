/* sink/lakefs through its ABI, against the lakeFS test server behind Prism
 * (tests/lakefs/with-lakefs.sh starts them and exports LAKECTL_* and
 * LAKEFS_CONTROL_URL). What was written is read back through the API. */
#include <math.h>
#include <string.h>

#include "dataset-csv.h"
#include "lakefs-params.h"
#include "lakefs-write.h"
#include "lakefs-fixture.h"
#include "test-util.h"

#define REPO "sinktest"

static const LatheComponent *sink(void) {
  return lathe_test_component("sink-lakefs", "sink/lakefs");
}

static GBytes *get_object(const char *ref, const char *path) {
  g_autoptr(LatheLakefs) lk = lkfx_client();
  g_autofree char *p = lathe_lakefs_path("repositories", REPO, "refs", ref, "objects", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", p);
  lathe_http_request_add_query(req, "path", path);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheHttpResponse) r = lathe_http_client_send(lathe_lakefs_get_http(lk), req, NULL,
                                                          &error);
  g_assert_no_error(error);
  return g_bytes_ref(lathe_http_response_get_body(r));
}

static char *stat_checksum(const char *ref, const char *path) {
  g_autofree char *p = lathe_lakefs_path("repositories", REPO, "refs", ref, "objects", "stat",
                                         NULL);
  g_autofree char *full = g_strdup_printf("%s?path=%s", p, path);
  g_autoptr(JsonNode) n = lkfx_call("GET", full, NULL);
  return g_strdup(json_object_get_string_member(json_node_get_object(n), "checksum"));
}

static LatheDataset *small_dataset(float first) {
  LatheDataset *ds = lathe_dataset_new(3, 2);
  lathe_dataset_set_column(ds, 0, "sepal length");
  lathe_dataset_set_column(ds, 1, "a,b \"q\"");
  const float x[] = {first, 3.5f, 4.9f, -3.0f, 0.1f, 1e-8f};
  memcpy(ds->x, x, sizeof x);
  const char *classes[] = {"setosa", "virginica", NULL};
  lathe_dataset_set_classes(ds, classes);
  ds->labels[1] = 1;
  return ds;
}

static const char small_csv[] = "sepal length,\"a,b \"\"q\"\"\",label\n"
                                "5.1,3.5,setosa\n"
                                "4.9,-3,virginica\n"
                                "0.1,1e-08,setosa\n";

static LatheArtifact *small_model(void) {
  JsonObject *h = json_object_new();
  json_object_set_string_member(h, "component", "model/fake");
  json_object_set_int_member(h, "state_version", 1);
  g_autoptr(GBytes) state = g_bytes_new_static("\x00\x01\x02\xff binary state", 17);
  return lathe_artifact_new_model(h, state);
}

static LatheArtifact *small_metrics(void) {
  JsonObject *m = json_object_new();
  json_object_set_double_member(m, "accuracy", 0.9);
  json_object_set_int_member(m, "n", 3);
  return lathe_artifact_new_metrics(m);
}

/* A context as the host builds it for node "sink" of run "run-123". */
static LatheContext *sink_context(const char *params, LatheArtifact *data, LatheArtifact *model,
                                  LatheArtifact *metrics) {
  LatheContext *ctx = lathe_test_context(sink(), "sink", params, 7);
  lathe_context_set_run(ctx, "run-123", "pipelines/exp.json");
  if (data)
    lathe_context_set_input(ctx, "data", data);
  if (model)
    lathe_context_set_input(ctx, "model", model);
  if (metrics)
    lathe_context_set_input(ctx, "metrics", metrics);
  return ctx;
}

static gboolean run_sink(LatheContext *ctx, GError **error) {
  return ((const LatheSinkClass *)sink())->run(ctx, error);
}

static JsonObject *commit_output(LatheContext *ctx) {
  LatheArtifact *out = lathe_context_get_output(ctx, "commit");
  g_assert_nonnull(out);
  g_autoptr(GError) error = NULL;
  JsonObject *o = lathe_artifact_get_metrics(out, &error);
  g_assert_no_error(error);
  return o;
}

static void assert_one_line(const GError *e, const char *want) {
  g_assert_nonnull(e);
  g_test_message("error: %s", e->message);
  g_assert_null(strchr(e->message, '\n'));
  g_assert_nonnull(strstr(e->message, "sink/lakefs (node sink)"));
  if (want && !strstr(e->message, want))
    g_error("'%s' not in: %s", want, e->message);
}

static void test_spec(void) {
  const LatheComponent *c = sink();
  g_assert_cmpuint(c->kind, ==, LATHE_KIND_SINK);
  g_assert_cmpuint(c->struct_size, ==, sizeof(LatheSinkClass));
  const char *in[] = {"data", "model", "metrics"};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpstr(c->inputs[i].name, ==, in[i]);
    g_assert_true(c->inputs[i].flags & LATHE_PORT_OPTIONAL);
  }
  g_assert_cmpstr(c->outputs[0].name, ==, "commit");
  g_assert_cmpint(c->outputs[0].type, ==, LATHE_TYPE_METRICS);
  /* The credentials: secret, and refused whatever their value, saying where
   * they go and never quoting them. */
  guint refused = 0;
  for (const LatheParamSpec *s = c->params; s->name; s++) {
    if (!g_str_has_suffix(s->name, "access_key_id") && !g_str_has_suffix(s->name, "_access_key"))
      continue;
    g_assert_true(s->flags & LATHE_PARAM_SECRET);
    g_autoptr(JsonNode) v = json_from_string("\"hunter2-secret\"", NULL);
    g_autofree char *why = NULL;
    g_assert_false(s->check(s, v, &why));
    g_assert_cmpstr(why, ==, "credentials never go in a pipeline: set "
                             "LAKECTL_CREDENTIALS_ACCESS_KEY_ID and "
                             "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY or ~/.lakectl.yaml");
    refused++;
  }
  g_assert_cmpuint(refused, ==, 2);
  /* An endpoint with user:password@ would be credentials in the pipeline. */
  for (const LatheParamSpec *s = c->params; s->name; s++) {
    if (!g_str_equal(s->name, "endpoint"))
      continue;
    const char *values[] = {"\"http://key:hunter2@localhost:8000\"", "\"ftp://host/\"",
                            "\"localhost:8000\"", "\"http://127.0.0.1:8000/api/v1\""};
    for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
      g_autoptr(JsonNode) v = json_from_string(values[i], NULL);
      g_autofree char *why = NULL;
      g_assert_cmpint(s->check(s, v, &why), ==, i == 3);
      if (why)
        g_assert_null(strstr(why, "hunter2"));
      if (i == 0)
        g_assert_nonnull(strstr(why, "credentials never go in a pipeline"));
    }
  }
  /* lakeFS's id rules and empty values, at validation. */
  guint checked = 0;
  for (const LatheParamSpec *s = c->params; s->name; s++) {
    const char *bad = g_str_equal(s->name, "repository") ? "\"Bad_Repo\""
                      : g_str_equal(s->name, "branch") || g_str_equal(s->name, "tag") ? "\"a/b\""
                      : g_str_equal(s->name, "path") ? "\"/abs\""
                      : g_str_equal(s->name, "message") || g_str_equal(s->name, "source_ref")
                          ? "\"\""
                          : NULL;
    if (!bad)
      continue;
    g_autoptr(JsonNode) v = json_from_string(bad, NULL);
    g_autofree char *why = NULL;
    g_assert_false(s->check(s, v, &why));
    g_assert_nonnull(why);
    checked++;
  }
  g_assert_cmpuint(checked, ==, 6);
}

/* A secret in the params never reaches the network, even past validation. */
static void test_secret_param_refused_at_run(void) {
  g_autoptr(LatheArtifact) m = small_metrics();
  g_autoptr(LatheContext) ctx = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"x\", \"secret_access_key\": \"hunter2\"}",
      NULL, NULL, m);
  gint64 before = lkfx_count("getBranch");
  g_autoptr(GError) error = NULL;
  g_assert_false(run_sink(ctx, &error));
  assert_one_line(error, "credentials never go in a pipeline");
  g_assert_null(strstr(error->message, "hunter2"));
  g_assert_cmpint(lkfx_count("getBranch"), ==, before);
}

static void test_write_new_branch(void) {
  g_autoptr(JsonNode) main_ref = lkfx_call("GET", "/repositories/" REPO "/branches/main", NULL);
  const char *main_head = json_object_get_string_member(json_node_get_object(main_ref),
                                                        "commit_id");
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(small_dataset(5.1f));
  g_autoptr(LatheArtifact) model = small_model();
  g_autoptr(LatheArtifact) metrics = small_metrics();
  const char *params = "{\"repository\": \"" REPO "\", \"branch\": \"exp-1\", "
                       "\"path\": \"runs/exp-1/\", \"tag\": \"exp-1-v1\"}";
  g_autoptr(LatheContext) ctx = sink_context(params, data, model, metrics);
  g_autoptr(GError) error = NULL;
  g_assert_true(run_sink(ctx, &error));
  g_assert_no_error(error);

  JsonObject *out = commit_output(ctx);
  const char *commit = json_object_get_string_member(out, "commit_id");
  g_assert_cmpuint(strlen(commit), ==, 64);
  g_assert_cmpstr(json_object_get_string_member(out, "repository"), ==, REPO);
  g_assert_cmpstr(json_object_get_string_member(out, "branch"), ==, "exp-1");
  g_assert_cmpstr(json_object_get_string_member(out, "tag"), ==, "exp-1-v1");
  g_assert_false(json_object_has_member(out, "changed"));

  /* The branch exists, at the new commit, whose parent is main's head. */
  g_autoptr(JsonNode) b = lkfx_call("GET", "/repositories/" REPO "/branches/exp-1", NULL);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(b), "commit_id"), ==, commit);
  g_autofree char *cpath = g_strdup_printf("/repositories/" REPO "/commits/%s", commit);
  g_autoptr(JsonNode) cn = lkfx_call("GET", cpath, NULL);
  JsonObject *c = json_node_get_object(cn);
  JsonArray *parents = json_object_get_array_member(c, "parents");
  g_assert_cmpuint(json_array_get_length(parents), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(parents, 0), ==, main_head);
  g_assert_cmpstr(json_object_get_string_member(c, "message"), ==,
                  "lathe: pipelines/exp.json sink");
  JsonObject *meta = json_object_get_object_member(c, "metadata");
  g_assert_cmpstr(json_object_get_string_member(meta, "lathe_run_id"), ==, "run-123");
  g_assert_cmpstr(json_object_get_string_member(meta, "pipeline"), ==, "pipelines/exp.json");
  g_assert_cmpstr(json_object_get_string_member(meta, "node"), ==, "sink");

  /* The tag points at it. */
  g_autoptr(JsonNode) t = lkfx_call("GET", "/repositories/" REPO "/tags/exp-1-v1", NULL);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(t), "commit_id"), ==, commit);

  /* The bytes, read back at the commit. */
  g_autoptr(GBytes) csv = get_object(commit, "runs/exp-1/data.csv");
  g_assert_cmpmem(g_bytes_get_data(csv, NULL), g_bytes_get_size(csv), small_csv,
                  strlen(small_csv));
  g_autoptr(GBytes) mb = get_object(commit, "runs/exp-1/model.model");
  g_assert_true(g_bytes_equal(mb, lathe_artifact_get_bytes(model)));
  g_autoptr(GBytes) jb = get_object(commit, "runs/exp-1/metrics.json");
  g_autofree char *jtext = g_strndup(g_bytes_get_data(jb, NULL), g_bytes_get_size(jb));
  g_assert_true(g_str_has_suffix(jtext, "}\n"));
  g_autoptr(JsonNode) jn = json_from_string(jtext, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(json_object_get_double_member(json_node_get_object(jn), "accuracy"), ==, 0.9);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(jn), "n"), ==, 3);

  /* One data version per object, at the commit, with lakeFS's checksum. */
  JsonArray *dv = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(dv), ==, 3);
  const char *names[] = {"data.csv", "model.model", "metrics.json"};
  for (guint i = 0; i < 3; i++) {
    JsonObject *v = json_array_get_object_element(dv, i);
    g_autofree char *path = g_strconcat("runs/exp-1/", names[i], NULL);
    g_autofree char *uri = g_strdup_printf("lakefs://" REPO "/%s/%s", commit, path);
    g_autofree char *sum = stat_checksum(commit, path);
    g_assert_cmpstr(json_object_get_string_member(v, "uri"), ==, uri);
    g_assert_cmpstr(json_object_get_string_member(v, "digest"), ==, sum);
  }

  /* Again with the same bytes: lakeFS finds no changes; the head is
   * recorded, no commit is made, the tag (already there) is fine. */
  g_autoptr(LatheContext) again = sink_context(params, data, model, metrics);
  gint64 creates = lkfx_count("createBranch"), tags = lkfx_count("createTag");
  g_assert_true(run_sink(again, &error));
  g_assert_no_error(error);
  JsonObject *out2 = commit_output(again);
  g_assert_cmpstr(json_object_get_string_member(out2, "commit_id"), ==, commit);
  /* The same output as the first run: equal inputs, equal commit. */
  g_assert_cmpstr(lathe_artifact_get_digest(lathe_context_get_output(again, "commit")), ==,
                  lathe_artifact_get_digest(lathe_context_get_output(ctx, "commit")));
  g_assert_cmpint(lkfx_count("createBranch"), ==, creates); /* the branch existed */
  g_assert_cmpint(lkfx_count("createTag"), ==, tags + 1);
  g_autoptr(JsonNode) b2 = lkfx_call("GET", "/repositories/" REPO "/branches/exp-1", NULL);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(b2), "commit_id"), ==,
                  commit);
  JsonArray *dv2 = lathe_context_get_data_versions(again);
  g_assert_cmpuint(json_array_get_length(dv2), ==, 3);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(dv2, 0), "uri"), ==,
                  json_object_get_string_member(json_array_get_object_element(dv, 0), "uri"));

  /* Changed data under the same tag: committed, then refused, since the tag
   * would have to move. */
  g_autoptr(LatheArtifact) data2 = lathe_artifact_new_dataset(small_dataset(6.25f));
  g_autoptr(LatheContext) third = sink_context(params, data2, NULL, NULL);
  g_assert_false(run_sink(third, &error));
  assert_one_line(error, "tag 'exp-1-v1' already points at commit");
  g_clear_error(&error);
  g_autoptr(GBytes) csv2 = get_object("exp-1", "runs/exp-1/data.csv");
  g_assert_nonnull(g_strstr_len(g_bytes_get_data(csv2, NULL), (gssize)g_bytes_get_size(csv2),
                                "\n6.25,3.5,setosa\n"));
}

/* An object path takes one input; defaults: "<node>/" and the message. */
static void test_paths(void) {
  g_autoptr(LatheArtifact) model = small_model();
  g_autoptr(LatheArtifact) metrics = small_metrics();
  g_autoptr(LatheContext) one = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"paths\", \"path\": \"models/iris.bin\", "
      "\"message\": \"my model\"}", NULL, model, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(run_sink(one, &error));
  g_assert_no_error(error);
  const char *commit = json_object_get_string_member(commit_output(one), "commit_id");
  g_autoptr(GBytes) mb = get_object(commit, "models/iris.bin");
  g_assert_true(g_bytes_equal(mb, lathe_artifact_get_bytes(model)));
  g_autofree char *cpath = g_strdup_printf("/repositories/" REPO "/commits/%s", commit);
  g_autoptr(JsonNode) cn = lkfx_call("GET", cpath, NULL);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(cn), "message"), ==,
                  "my model");

  g_autoptr(LatheContext) two = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"paths\", \"path\": \"models/iris.bin\"}",
      NULL, model, metrics);
  g_assert_false(run_sink(two, &error));
  assert_one_line(error, "names one object but 2 inputs are connected");
  g_clear_error(&error);

  g_autoptr(LatheContext) dflt = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"paths\"}", NULL, NULL, metrics);
  g_assert_true(run_sink(dflt, &error));
  g_assert_no_error(error);
  JsonObject *v = json_array_get_object_element(lathe_context_get_data_versions(dflt), 0);
  g_assert_true(g_str_has_suffix(json_object_get_string_member(v, "uri"), "/sink/metrics.json"));

  /* The endpoint param stands in for LAKECTL_SERVER_ENDPOINT_URL. */
  g_autofree char *ep = g_strdup(g_getenv("LAKECTL_SERVER_ENDPOINT_URL"));
  g_autofree char *ep_params = g_strdup_printf(
      "{\"repository\": \"" REPO "\", \"branch\": \"paths\", \"path\": \"by-param/\", "
      "\"endpoint\": \"%s\"}", ep);
  g_unsetenv("LAKECTL_SERVER_ENDPOINT_URL");
  g_autoptr(LatheContext) by_param = sink_context(ep_params, NULL, NULL, metrics);
  gboolean ok = run_sink(by_param, &error);
  g_setenv("LAKECTL_SERVER_ENDPOINT_URL", ep, TRUE);
  g_assert_no_error(error);
  g_assert_true(ok);

  g_autoptr(LatheContext) none = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"paths\"}", NULL, NULL, NULL);
  g_assert_false(run_sink(none, &error));
  assert_one_line(error, "connect at least one of its inputs data, model, metrics");
}

static void test_refusals(void) {
  g_autoptr(LatheArtifact) metrics = small_metrics();
  g_autoptr(GError) error = NULL;
  /* An unknown repository: one line, lakeFS's words, the target. */
  g_autoptr(LatheContext) r404 = sink_context(
      "{\"repository\": \"no-such-repo\", \"branch\": \"b\"}", NULL, NULL, metrics);
  g_assert_false(run_sink(r404, &error));
  assert_one_line(error, "lakefs://no-such-repo/b: ");
  g_assert_true(strstr(error->message, "404") && strstr(error->message, "repository not found"));
  g_clear_error(&error);
  /* A missing branch from an unknown source ref. */
  g_autoptr(LatheContext) src = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"from-nowhere\", \"source_ref\": \"nope\"}",
      NULL, NULL, metrics);
  g_assert_false(run_sink(src, &error));
  assert_one_line(error, "cannot create branch 'from-nowhere' from 'nope': POST ");
  g_assert_nonnull(strstr(error->message, "404"));
  g_clear_error(&error);
  /* Wrong credentials: 401, what to set, and never the secret. */
  g_autofree char *secret = g_strdup(g_getenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"));
  g_setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", "wrong-secret-value", TRUE);
  g_autoptr(LatheContext) r401 = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"b\"}", NULL, NULL, metrics);
  gboolean ok = run_sink(r401, &error);
  g_setenv("LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", secret, TRUE);
  g_assert_false(ok);
  assert_one_line(error, "401");
  g_assert_nonnull(strstr(error->message, "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"));
  g_assert_null(strstr(error->message, "wrong-secret-value"));
  g_assert_null(strstr(error->message, secret));
}

/* A dataset of some megabytes goes up from its scratch file intact. */
static void test_large_dataset(void) {
  LatheDataset *ds = lathe_dataset_new(60000, 8);
  LatheRng rng;
  lathe_rng_init(&rng, 9);
  for (gsize i = 0; i < (gsize)60000 * 8; i++)
    ds->x[i] = (float)lathe_rng_normal(&rng);
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(ds);
  g_autoptr(LatheContext) ctx = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"large\", \"path\": \"big.csv\"}",
      data, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(run_sink(ctx, &error));
  g_assert_no_error(error);
  g_autofree char *dir = g_dir_make_tmp("lathe-sink-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "big.csv", NULL);
  g_assert_true(lathe_dataset_write_csv(ds, path, &error));
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  g_assert_cmpuint(len, >, 4 * 1024 * 1024);
  g_autofree char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, (const guchar *)text, len);
  const char *commit = json_object_get_string_member(commit_output(ctx), "commit_id");
  g_autofree char *sum = stat_checksum(commit, "big.csv");
  g_assert_cmpstr(sum, ==, md5); /* the test server's checksum is the MD5, as lakeFS's local adapter */
  lathe_test_remove_tree(dir);
}

/* Uploads are resent after a 503 (the same bytes at the same path); a
 * commit never is: a lost answer and a resend would commit twice. */
static void test_retries(void) {
  g_autoptr(LatheArtifact) metrics = small_metrics();
  g_autoptr(GError) error = NULL;
  const char *params = "{\"repository\": \"" REPO "\", \"branch\": \"retry\"}";
  lkfx_control_do(
      "POST", "/faults", "{\"kind\": \"fail\", \"status\": 503, \"count\": 1, \"match\": \"uploadObject\"}");
  gint64 uploads = lkfx_count("uploadObject");
  /* The CSV goes first, from its file: reopened for the second attempt. */
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(small_dataset(5.1f));
  g_autoptr(LatheContext) a = sink_context(params, data, NULL, metrics);
  g_assert_true(run_sink(a, &error));
  g_assert_no_error(error);
  g_assert_cmpint(lkfx_count("uploadObject"), ==, uploads + 3);
  const char *commit = json_object_get_string_member(commit_output(a), "commit_id");
  g_autoptr(GBytes) csv = get_object(commit, "sink/data.csv");
  g_assert_cmpmem(g_bytes_get_data(csv, NULL), g_bytes_get_size(csv), small_csv,
                  strlen(small_csv));

  g_autoptr(LatheArtifact) other = lathe_artifact_new_metrics(json_object_new());
  lkfx_control_do(
      "POST", "/faults", "{\"kind\": \"fail\", \"status\": 503, \"count\": 1, \"match\": \"commit\"}");
  gint64 commits = lkfx_count("commit");
  g_autoptr(LatheContext) b = sink_context(params, NULL, NULL, other);
  g_assert_false(run_sink(b, &error));
  assert_one_line(error, "commits");
  g_assert_nonnull(strstr(error->message, "a commit is never resent"));
  g_assert_cmpint(lkfx_count("commit"), ==, commits + 1);
  lkfx_control_do("DELETE", "/faults", NULL);
}

/* A NaN and an unknown label are empty fields; a label in a column name
 * is quoted like any text. */
static void test_csv_text(void) {
  LatheDataset *ds = lathe_dataset_new(2, 2);
  lathe_dataset_set_column(ds, 0, " x");
  const float x[] = {NAN, -INFINITY, 1e30f, 0.0f};
  memcpy(ds->x, x, sizeof x);
  const char *classes[] = {"yes", NULL};
  lathe_dataset_set_classes(ds, classes);
  ds->labels[1] = -1;
  const char *groups[] = {"g\nh", NULL};
  lathe_dataset_set_groups(ds, groups);
  g_autofree char *dir = g_dir_make_tmp("lathe-sink-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "d.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_dataset_write_csv(ds, path, &error));
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "\" x\",c1,label,group\n,-inf,yes,\"g\nh\"\n1e+30,0,,\"g\nh\"\n");
  lathe_test_remove_tree(dir);
  /* An unwritable path: one line naming it. */
  g_autofree char *bad = g_build_filename(dir, "no", "d.csv", NULL);
  g_assert_false(lathe_dataset_write_csv(ds, bad, &error));
  g_assert_nonnull(strstr(error->message, bad));
  lathe_dataset_unref(ds);
}

/* `lathe reproduce` gives the sink what it recorded (pins): it writes
 * nothing, checks the recorded commit byte for byte, and outputs what the
 * original run did, although the branch has moved on. */
static void test_reproduce(void) {
  g_autoptr(LatheArtifact) data = lathe_artifact_new_dataset(small_dataset(5.1f));
  g_autoptr(LatheArtifact) metrics = small_metrics();
  const char *params = "{\"repository\": \"" REPO "\", \"branch\": \"repro\", \"tag\": \"repro-1\"}";
  g_autoptr(LatheContext) first = sink_context(params, data, NULL, metrics);
  g_autoptr(GError) error = NULL;
  g_assert_true(run_sink(first, &error));
  g_assert_no_error(error);
  const char *commit = json_object_get_string_member(commit_output(first), "commit_id");
  JsonArray *recorded = lathe_context_get_data_versions(first);
  /* The branch moves on. */
  g_autoptr(LatheArtifact) other = lathe_artifact_new_metrics(json_object_new());
  g_autoptr(LatheContext) later = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"repro\"}", NULL, NULL, other);
  g_assert_true(run_sink(later, &error));
  g_assert_no_error(error);

  gint64 uploads = lkfx_count("uploadObject"), commits = lkfx_count("commit");
  gint64 tags = lkfx_count("createTag"), creates = lkfx_count("createBranch");
  g_autoptr(LatheContext) again = sink_context(params, data, NULL, metrics);
  lathe_context_set_pins(again, recorded);
  g_assert_true(run_sink(again, &error));
  g_assert_no_error(error);
  g_assert_cmpint(lkfx_count("uploadObject"), ==, uploads);
  g_assert_cmpint(lkfx_count("commit"), ==, commits);
  g_assert_cmpint(lkfx_count("createTag"), ==, tags);
  g_assert_cmpint(lkfx_count("createBranch"), ==, creates);
  g_assert_cmpstr(json_object_get_string_member(commit_output(again), "commit_id"), ==, commit);
  g_assert_cmpstr(lathe_artifact_get_digest(lathe_context_get_output(again, "commit")), ==,
                  lathe_artifact_get_digest(lathe_context_get_output(first, "commit")));
  JsonArray *dv = lathe_context_get_data_versions(again);
  g_assert_cmpuint(json_array_get_length(dv), ==, json_array_get_length(recorded));
  for (guint i = 0; i < json_array_get_length(dv); i++) {
    JsonObject *a = json_array_get_object_element(dv, i);
    JsonObject *b = json_array_get_object_element(recorded, i);
    g_assert_cmpstr(json_object_get_string_member(a, "uri"), ==,
                    json_object_get_string_member(b, "uri"));
    g_assert_cmpstr(json_object_get_string_member(a, "digest"), ==,
                    json_object_get_string_member(b, "digest"));
  }
  /* A recomputed dataset that differs is not a reproduction. */
  g_autoptr(LatheArtifact) data2 = lathe_artifact_new_dataset(small_dataset(6.25f));
  g_autoptr(LatheContext) differs = sink_context(params, data2, NULL, metrics);
  lathe_context_set_pins(differs, recorded);
  g_assert_false(run_sink(differs, &error));
  assert_one_line(error, "sink/data.csv as recomputed differs from the recorded object");
  g_clear_error(&error);
  /* Nor is one the run did not record. */
  g_autoptr(LatheArtifact) model = small_model();
  g_autoptr(LatheContext) extra = sink_context(params, data, model, metrics);
  lathe_context_set_pins(extra, recorded);
  g_assert_false(run_sink(extra, &error));
  assert_one_line(error, "recorded no version of lakefs://" REPO "/sink/model.model");
  g_assert_cmpint(lkfx_count("uploadObject"), ==, uploads);
}

static gpointer run_in_thread(gpointer data) {
  GError *error = NULL;
  run_sink(data, &error);
  return error;
}

/* A node cancelled in the middle of an upload stops at once, not when the
 * server answers (it sleeps 5 s here). */
static void test_cancel(void) {
  g_autoptr(LatheArtifact) metrics = small_metrics();
  g_autoptr(LatheContext) ctx = sink_context(
      "{\"repository\": \"" REPO "\", \"branch\": \"cancelled\"}", NULL, NULL, metrics);
  lkfx_control_do(
      "POST", "/faults", "{\"kind\": \"delay\", \"seconds\": 5, \"count\": 1, \"match\": \"uploadObject\"}");
  gint64 uploads = lkfx_count("uploadObject");
  gint64 start = g_get_monotonic_time();
  GThread *t = g_thread_new("sink", run_in_thread, ctx);
  while (lkfx_count("uploadObject") == uploads && g_get_monotonic_time() - start < 5 * G_USEC_PER_SEC)
    g_usleep(20000);
  lathe_context_cancel(ctx);
  g_autoptr(GError) error = g_thread_join(t);
  double seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  g_test_message("cancelled after %.2f s", seconds);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
  assert_one_line(error, "cancelled while writing to lakefs://" REPO "/cancelled");
  g_assert_cmpfloat(seconds, <, 3.0);
  g_assert_null(lathe_context_get_output(ctx, "commit"));
}

/* What the CSV writer makes, source/csv reads back exactly. */
static void test_csv_round_trip(void) {
  LatheDataset *ds = lathe_dataset_new(200, 3);
  LatheRng rng;
  lathe_rng_init(&rng, 42);
  for (guint i = 0; i < 600; i++)
    ds->x[i] = (float)((lathe_rng_uniform(&rng) - 0.5) * pow(10.0, (double)(i % 13) - 6.0));
  lathe_dataset_set_column(ds, 2, "label"); /* the label column is then label_2 */
  const char *classes[] = {"a b", "c,\"d\"", NULL};
  lathe_dataset_set_classes(ds, classes);
  for (guint r = 0; r < 200; r++)
    ds->labels[r] = (gint32)(r % 2);
  g_autofree char *dir = g_dir_make_tmp("lathe-sink-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "d.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_dataset_write_csv(ds, path, &error));
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\", \"label\": \"label_2\"}", path);
  const LatheComponent *csv = lathe_test_component("source-csv", "source/csv");
  g_autoptr(LatheContext) ctx = lathe_test_context(csv, "src", params, 0);
  g_assert_true(((const LatheSourceClass *)csv)->run(ctx, &error));
  g_assert_no_error(error);
  LatheArtifact *back = lathe_context_get_output(ctx, "data");
  const LatheDataset *rd = lathe_artifact_get_dataset(back, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(rd->n_rows, ==, 200);
  g_assert_cmpuint(rd->n_cols, ==, 3);
  g_assert_cmpstr(rd->columns[2], ==, "label");
  g_assert_cmpmem(rd->x, 600 * sizeof(float), ds->x, 600 * sizeof(float));
  for (guint r = 0; r < 200; r++)
    g_assert_cmpstr(rd->classes[rd->labels[r]], ==, ds->classes[ds->labels[r]]);
  lathe_dataset_unref(ds);
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (!g_getenv("LAKEFS_CONTROL_URL")) {
    g_printerr("run through tests/lakefs/with-lakefs.sh\n");
    return 1;
  }
  JsonNode *repo = lkfx_call("POST", "/repositories",
                                 "{\"name\": \"" REPO "\", \"storage_namespace\": "
                                 "\"local://" REPO "\", \"default_branch\": \"main\"}");
  json_node_unref(repo);
  g_test_add_func("/sink-lakefs/spec", test_spec);
  g_test_add_func("/sink-lakefs/csv-text", test_csv_text);
  g_test_add_func("/sink-lakefs/csv-round-trip", test_csv_round_trip);
  g_test_add_func("/sink-lakefs/secret-param-refused-at-run", test_secret_param_refused_at_run);
  g_test_add_func("/sink-lakefs/write-new-branch", test_write_new_branch);
  g_test_add_func("/sink-lakefs/paths", test_paths);
  g_test_add_func("/sink-lakefs/refusals", test_refusals);
  g_test_add_func("/sink-lakefs/large-dataset", test_large_dataset);
  g_test_add_func("/sink-lakefs/retries", test_retries);
  g_test_add_func("/sink-lakefs/reproduce", test_reproduce);
  g_test_add_func("/sink-lakefs/cancel", test_cancel);
  return g_test_run();
}
