/* sink/lakefs: writes a node's output to a lakeFS branch and commits it.
 *
 * A dataset goes as CSV (streamed from a scratch file), a model as its
 * artifact bytes, metrics as JSON. The branch is created from source_ref
 * when missing (a branch per experiment), the commit carries
 * {lathe_run_id, pipeline, node}, and a tag may name it. Each object is
 * recorded as the data version lakefs://REPO/COMMIT/PATH with lakeFS's
 * checksum, so the run store and the registry's lineage point at the exact
 * commit. The output "commit" names it for downstream nodes.
 *
 * Rerunning with the same bytes stages objects lakeFS finds unchanged (it
 * compares checksums), so the commit is refused with "no changes": the
 * branch head already holds them, and that is the commit recorded. A
 * reproduced run (pins) writes nothing: it checks the recorded commit.
 */
#include <string.h>

#include "dataset-csv.h"
#include "lakefs-cancel.h"
#include "lakefs-params.h"
#include "lakefs-write.h"

#define COMPONENT "sink/lakefs"

static gboolean check_path(const LatheParamSpec *spec, JsonNode *value, char **why) {
  (void)spec;
  const char *s = json_node_get_string(value);
  if (!*s || s[0] == '/' || strstr(s, "//")) {
    *why = g_strdup("give an object path (\"models/iris.model\") or a prefix ending in '/' "
                    "(\"runs/exp-1/\"), without a leading '/' or an empty segment");
    return FALSE;
  }
  return TRUE;
}

/* lakeFS refuses an empty commit message, and an empty ref names nothing. */
static gboolean check_nonempty(const LatheParamSpec *spec, JsonNode *value, char **why) {
  if (*json_node_get_string(value))
    return TRUE;
  *why = g_strdup_printf("%s is empty; leave it out for the default", spec->name);
  return FALSE;
}

static const LatheParamSpec sink_params[] = {
    {.name = "repository", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_REQUIRED,
     .check = lathe_lakefs_check_repository, .doc = "lakeFS repository to write to"},
    {.name = "branch", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_REQUIRED,
     .check = lathe_lakefs_check_ref_name,
     .doc = "branch to commit to; created from source_ref when it does not exist"},
    {.name = "source_ref", .type = LATHE_PARAM_STRING, .default_json = "\"main\"",
     .check = check_nonempty,
     .doc = "ref (branch, tag or commit id) a missing branch is created from"},
    {.name = "path", .type = LATHE_PARAM_STRING, .check = check_path,
     .doc = "an object path (one input connected), or a prefix ending in '/' under which "
            "each input is <port>.csv|.model|.json; default: \"<node id>/\""},
    {.name = "message", .type = LATHE_PARAM_STRING, .check = check_nonempty,
     .doc = "commit message; default: \"lathe: <pipeline> <node id>\""},
    {.name = "tag", .type = LATHE_PARAM_STRING, .check = lathe_lakefs_check_ref_name,
     .doc = "tag to create on the new commit; an existing tag elsewhere is an error"},
    LATHE_LAKEFS_CONNECTION_PARAMS,
    LATHE_PARAM_END,
};

static const LathePortSpec sink_inputs[] = {
    {"data", LATHE_TYPE_DATASET, LATHE_PORT_OPTIONAL, "dataset, written as CSV with a header"},
    {"model", LATHE_TYPE_MODEL, LATHE_PORT_OPTIONAL, "model, written as its artifact bytes"},
    {"metrics", LATHE_TYPE_METRICS, LATHE_PORT_OPTIONAL, "metrics, written as JSON"},
    {.name = NULL},
};

static const LathePortSpec sink_outputs[] = {
    {"commit", LATHE_TYPE_METRICS, 0,
     "{\"repository\", \"branch\", \"commit_id\", \"tag\"?}: the commit that holds the inputs"},
    {.name = NULL},
};

/* One object to write: an input port and its body. */
typedef struct {
  const char *port;
  const char *ext;
  LatheArtifact *art;
  char *object;  /* the path in the repository */
  char *file;    /* a body streamed from disk (the CSV), or */
  GBytes *bytes; /* one held in memory (the model, the metrics) */
  char *checksum;
} SinkItem;

static void item_clear(SinkItem *it) {
  g_free(it->object);
  g_free(it->file);
  g_clear_pointer(&it->bytes, g_bytes_unref);
  g_free(it->checksum);
}

/* Metrics as indented JSON with sorted keys: the same metrics give the same
 * bytes whichever node or cache they came from, so a rerun changes nothing. */
static GBytes *metrics_json(JsonObject *m) {
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), m);
  g_autofree char *canon = lathe_json_canonical(n);
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, canon, -1, NULL)) { /* not expected: our own text */
    gsize len = strlen(canon);
    return g_bytes_new_take(g_steal_pointer(&canon), len);
  }
  char *text = lathe_json_write(json_parser_get_root(p), TRUE);
  char *line = g_strconcat(text, "\n", NULL);
  g_free(text);
  return g_bytes_new_take(line, strlen(line));
}

/* Reads the input into the body to send. */
static gboolean prepare_body(LatheContext *ctx, SinkItem *it, GError **error) {
  if (g_str_equal(it->port, "data")) {
    const LatheDataset *ds = lathe_artifact_get_dataset(it->art, error);
    const char *scratch = ds ? lathe_context_scratch_dir(ctx, error) : NULL;
    if (!scratch)
      return FALSE;
    it->file = g_build_filename(scratch, "data.csv", NULL);
    return lathe_dataset_write_csv(ds, it->file, error);
  }
  if (g_str_equal(it->port, "model")) {
    /* Decoding the header first turns an unreadable artifact into an error. */
    if (!lathe_artifact_get_model_header(it->art, error))
      return FALSE;
    it->bytes = g_bytes_ref(lathe_artifact_get_bytes(it->art));
    return TRUE;
  }
  JsonObject *m = lathe_artifact_get_metrics(it->art, error);
  if (!m)
    return FALSE;
  it->bytes = metrics_json(m);
  return TRUE;
}

static gboolean cancelled(LatheContext *ctx, GError **error) {
  if (!lathe_context_is_cancelled(ctx))
    return FALSE;
  lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT, "cancelled");
  return TRUE;
}

static JsonObject *commit_metadata(LatheContext *ctx) {
  JsonObject *meta = json_object_new();
  const char *run_id = lathe_context_run_id(ctx);
  const char *pipeline = lathe_context_pipeline(ctx);
  if (run_id)
    json_object_set_string_member(meta, "lathe_run_id", run_id);
  if (pipeline)
    json_object_set_string_member(meta, "pipeline", pipeline);
  json_object_set_string_member(meta, "node", lathe_context_node_id(ctx));
  return meta;
}

/* The network half: branch, uploads, commit, tag. Errors are prefixed with
 * the target by the caller. */
static gboolean write_out(LatheContext *ctx, LatheLakefs *lk, GCancellable *cancel,
                          SinkItem *items, guint n, char **commit_id, GError **error) {
  const char *repo = lathe_context_param_string(ctx, "repository");
  const char *branch = lathe_context_param_string(ctx, "branch");
  const char *source = lathe_context_param_string(ctx, "source_ref");
  if (!source || !*source)
    source = "main";
  gboolean created = FALSE;
  g_autofree char *head =
      lathe_lakefs_ensure_branch(lk, repo, branch, source, &created, cancel, error);
  if (!head)
    return FALSE;
  if (created)
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "created branch %s from %s (%s)", branch,
                      source, head);
  for (guint i = 0; i < n; i++) {
    if (cancelled(ctx, error))
      return FALSE;
    SinkItem *it = &items[i];
    g_autoptr(LatheHttpRequest) req = lathe_lakefs_upload_request(repo, branch, it->object);
    if (it->file)
      lathe_http_request_set_file(req, it->file, "application/octet-stream");
    else
      lathe_http_request_set_bytes(req, it->bytes, "application/octet-stream");
    g_autoptr(JsonObject) stats = lathe_lakefs_upload(lk, req, cancel, error);
    if (!stats)
      return FALSE;
    it->checksum = g_strdup(json_object_get_string_member(stats, "checksum"));
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "staged %s (%" G_GINT64_FORMAT " bytes)",
                      it->object, json_object_get_int_member_with_default(stats, "size_bytes", 0));
  }
  if (cancelled(ctx, error))
    return FALSE;
  g_autofree char *message = NULL;
  const char *given = lathe_context_param_string(ctx, "message");
  if (given && *given)
    message = g_strdup(given);
  else if (lathe_context_pipeline(ctx))
    message = g_strdup_printf("lathe: %s %s", lathe_context_pipeline(ctx),
                              lathe_context_node_id(ctx));
  else
    message = g_strdup_printf("lathe: %s", lathe_context_node_id(ctx));
  g_autoptr(JsonObject) meta = commit_metadata(ctx);
  gboolean no_changes = FALSE;
  g_autoptr(JsonObject) commit =
      lathe_lakefs_commit(lk, repo, branch, message, meta, &no_changes, cancel, error);
  if (!commit && !no_changes)
    return FALSE;
  if (commit) {
    *commit_id = g_strdup(json_object_get_string_member(commit, "id"));
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "committed %u object%s to %s: %s", n,
                      n == 1 ? "" : "s", branch, *commit_id);
  } else {
    /* The same bytes were there: the head holds them already. */
    *commit_id = lathe_lakefs_branch_head(lk, repo, branch, cancel, error);
    if (!*commit_id)
      return FALSE;
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE,
                      "no changes: %s already holds these bytes at %s; recording that commit",
                      branch, *commit_id);
  }
  const char *tag = lathe_context_param_string(ctx, "tag");
  if (tag && !lathe_lakefs_create_tag(lk, repo, tag, *commit_id, cancel, error))
    return FALSE;
  if (tag)
    lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE, "tag %s -> %s", tag, *commit_id);
  return TRUE;
}

/* Compares a downloaded object with the body the sink would have sent. */
typedef struct {
  const SinkItem *it;
  GInputStream *file; /* it->file, read alongside */
  guint64 offset;
  guint8 *buf;
} Compare;

static gboolean compare_write(const guint8 *data, gsize len, gpointer user, GError **error) {
  Compare *c = user;
  const guint8 *want = NULL;
  if (c->it->bytes) {
    gsize have = g_bytes_get_size(c->it->bytes);
    if (c->offset + len <= have)
      want = (const guint8 *)g_bytes_get_data(c->it->bytes, NULL) + c->offset;
  } else {
    gsize got = 0;
    c->buf = g_realloc(c->buf, len);
    if (g_input_stream_read_all(c->file, c->buf, len, &got, NULL, NULL) && got == len)
      want = c->buf;
  }
  if (!want || memcmp(want, data, len) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s as recomputed differs from the recorded object within bytes %" G_GUINT64_FORMAT
                "..%" G_GUINT64_FORMAT, c->it->object, c->offset, c->offset + len);
    return FALSE;
  }
  c->offset += len;
  return TRUE;
}

static gboolean compare_reset(gpointer user, GError **error) {
  Compare *c = user;
  c->offset = 0;
  return !c->file || g_seekable_seek(G_SEEKABLE(c->file), 0, G_SEEK_SET, NULL, error);
}

/* `lathe reproduce`: the node recorded what it committed then (its pins).
 * Writing again would commit old bytes over a branch that has moved on, so
 * the sink writes nothing: it checks that each object it would write is,
 * byte for byte, the one at the recorded commit, and names that commit. */
static gboolean verify_pinned(LatheContext *ctx, LatheLakefs *lk, GCancellable *cancel,
                              JsonArray *pins, SinkItem *items, guint n, char **commit_id,
                              GError **error) {
  const char *repo = lathe_context_param_string(ctx, "repository");
  g_autofree char *head = g_strdup_printf("lakefs://%s/", repo);
  for (guint i = 0; i < n; i++) {
    SinkItem *it = &items[i];
    const char *uri = NULL, *digest = NULL;
    g_autofree char *commit = NULL;
    for (guint k = 0; !uri && k < json_array_get_length(pins); k++) {
      JsonObject *pin = json_array_get_object_element(pins, k);
      const char *u = json_object_get_string_member_with_default(pin, "uri", "");
      const char *slash = g_str_has_prefix(u, head) ? strchr(u + strlen(head), '/') : NULL;
      if (slash && g_str_equal(slash + 1, it->object)) {
        uri = u;
        digest = json_object_get_string_member_with_default(pin, "digest", "");
        commit = g_strndup(u + strlen(head), (gsize)(slash - u - strlen(head)));
      }
    }
    if (!uri) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "the reproduced run recorded no version of %s%s; reproduce a run whose sink "
                  "succeeded", head, it->object);
      return FALSE;
    }
    if (*commit_id && !g_str_equal(*commit_id, commit)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "the recorded versions name two commits (%s, %s); a sink commits once",
                  *commit_id, commit);
      return FALSE;
    }
    if (!*commit_id)
      *commit_id = g_strdup(commit);
    g_autofree char *path = lathe_lakefs_path("repositories", repo, "refs", commit, "objects",
                                              NULL);
    g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
    lathe_http_request_add_query(req, "path", it->object);
    g_autoptr(GFile) f = it->file ? g_file_new_for_path(it->file) : NULL;
    g_autoptr(GFileInputStream) in = f ? g_file_read(f, NULL, error) : NULL;
    if (f && !in)
      return FALSE;
    Compare c = {.it = it, .file = in ? G_INPUT_STREAM(in) : NULL};
    LatheHttpSink sink = {.write = compare_write, .reset = compare_reset, .user_data = &c};
    g_autoptr(LatheHttpResponse) r = lathe_http_client_stream(
        lathe_lakefs_get_http(lk), req, &sink, LATHE_HTTP_DIGEST_NONE, cancel, error);
    g_free(c.buf);
    if (!r)
      return FALSE;
    guint64 want = 0;
    if (it->bytes) {
      want = g_bytes_get_size(it->bytes);
    } else {
      g_autoptr(GFileInfo) info =
          g_file_query_info(f, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, error);
      if (!info)
        return FALSE;
      want = (guint64)g_file_info_get_size(info);
    }
    if (c.offset != want) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s as recomputed is %" G_GUINT64_FORMAT " bytes, the recorded object %"
                  G_GUINT64_FORMAT, it->object, want, c.offset);
      return FALSE;
    }
    it->checksum = g_strdup(digest);
  }
  lathe_context_log(ctx, G_LOG_LEVEL_MESSAGE,
                    "reproducing: the %u object%s at %s match, byte for byte; nothing written", n,
                    n == 1 ? "" : "s", *commit_id);
  return TRUE;
}

static gboolean sink_run(LatheContext *ctx, GError **error) {
  /* Validation refuses these already; a host that skipped it must not
   * have them used either. */
  for (const char *const *p = (const char *const[]){"access_key_id", "secret_access_key", NULL};
       *p; p++)
    if (lathe_context_param_string(ctx, *p)) {
      lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT, "param '%s': %s", *p,
                              LATHE_LAKEFS_CREDENTIALS_WHY);
      return FALSE;
    }
  SinkItem items[3] = {{.port = "data", .ext = ".csv"},
                       {.port = "model", .ext = ".model"},
                       {.port = "metrics", .ext = ".json"}};
  guint n = 0;
  for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
    LatheArtifact *art = lathe_context_get_input(ctx, items[i].port);
    if (art) {
      items[n] = items[i];
      items[n++].art = art;
    }
  }
  if (n == 0) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "nothing to write: connect at least one of its inputs data, model, "
                            "metrics");
    return FALSE;
  }
  const char *path = lathe_context_param_string(ctx, "path");
  g_autofree char *prefix = path ? NULL : g_strconcat(lathe_context_node_id(ctx), "/", NULL);
  if (path && !g_str_has_suffix(path, "/") && n > 1) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, COMPONENT,
                            "path '%s' names one object but %u inputs are connected; end it "
                            "with '/' to write each as <port>.csv|.model|.json under it",
                            path, n);
    return FALSE;
  }
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++) {
    SinkItem *it = &items[i];
    if (path && !g_str_has_suffix(path, "/"))
      it->object = g_strdup(path);
    else
      it->object = g_strconcat(path ? path : prefix, it->port, it->ext, NULL);
    ok = prepare_body(ctx, it, error);
    if (!ok)
      lathe_context_prefix_error(ctx, error, COMPONENT);
  }
  const char *repo = lathe_context_param_string(ctx, "repository");
  const char *branch = lathe_context_param_string(ctx, "branch");
  g_autoptr(LatheLakefs) lk =
      ok ? lathe_lakefs_open(lathe_context_param_string(ctx, "endpoint"), NULL, error) : NULL;
  g_autofree char *commit_id = NULL;
  if (ok && !lk) {
    lathe_context_prefix_error(ctx, error, COMPONENT);
    ok = FALSE;
  }
  g_autoptr(LatheLakefsCancel) cw = ok ? lathe_lakefs_cancel_watch(ctx) : NULL;
  JsonArray *pins = lathe_context_get_pins(ctx);
  if (ok && !(pins ? verify_pinned(ctx, lk, lathe_lakefs_cancel_get(cw), pins, items, n,
                                   &commit_id, error)
                   : write_out(ctx, lk, lathe_lakefs_cancel_get(cw), items, n, &commit_id,
                               error))) {
    if (lathe_context_is_cancelled(ctx)) {
      /* Whatever the request said, the node was stopped: the host's code. */
      g_clear_error(error);
      lathe_context_set_error(ctx, error, LATHE_ERROR_CANCELLED, COMPONENT,
                              "cancelled while writing to lakefs://%s/%s", repo, branch);
    } else {
      g_prefix_error(error, "lakefs://%s/%s: ", repo, branch);
      lathe_context_prefix_error(ctx, error, COMPONENT);
    }
    ok = FALSE;
  }
  if (ok) {
    for (guint i = 0; i < n; i++) {
      g_autofree char *uri = g_strdup_printf("lakefs://%s/%s/%s", repo, commit_id,
                                             items[i].object);
      lathe_context_add_data_version(ctx, uri, items[i].checksum);
    }
    JsonObject *out = json_object_new();
    json_object_set_string_member(out, "repository", repo);
    json_object_set_string_member(out, "branch", branch);
    json_object_set_string_member(out, "commit_id", commit_id);
    if (lathe_context_param_string(ctx, "tag"))
      json_object_set_string_member(out, "tag", lathe_context_param_string(ctx, "tag"));
    lathe_context_set_output(ctx, "commit", lathe_artifact_new_metrics(out));
  }
  for (guint i = 0; i < n; i++)
    item_clear(&items[i]);
  return ok;
}

static const LatheSinkClass lakefs_sink = {
    LATHE_COMPONENT_INIT(LatheSinkClass, LATHE_KIND_SINK, "lakefs",
                         "writes datasets (CSV), models and metrics (JSON) to a lakeFS branch "
                         "and commits them",
                         sink_params, sink_inputs, sink_outputs),
    .run = sink_run,
};

LATHE_PLUGIN_DEFINE("sink-lakefs", "0.1.0", "MIT", "writes node outputs back to lakeFS",
                    LATHE_COMPONENT(lakefs_sink))
