/* Test-only components for ABI 1.6 (data pinned to commits), without a
 * lakeFS server: source/fake-ref reads "commits" under a folder through a
 * ref file, as a lakeFS source reads a branch; sink/fake-file writes its
 * input to a file and records it, as a lakeFS sink commits. Each call is
 * appended to the file $LATHE_FAKELAKE_LOG ("resolve ID", "run ID COMMIT",
 * "sink ID"), so tests can count what the host called.
 *
 * Built with FAKELAKE_ABI_1_5 (its own folder): the source alone, as built
 * against ABI 1.5, its struct ending before resolve. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

static void log_call(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void log_call(const char *fmt, ...) {
  const char *path = g_getenv("LATHE_FAKELAKE_LOG");
  if (!path || !*path)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  FILE *f = fopen(path, "a");
  if (f) {
    fprintf(f, "%s\n", line);
    fclose(f);
  }
}

#define SCHEME "fakeref://"

static char *object_path(LatheContext *ctx, const char *commit) {
  return g_build_filename(lathe_context_param_string(ctx, "root"), "commits", commit, "data.csv",
                          NULL);
}

/* The commit to read: the pinned one (`lathe reproduce`), else the ref's. */
static char *current_commit(LatheContext *ctx, GError **error) {
  JsonArray *pins = lathe_context_get_pins(ctx);
  if (pins && json_array_get_length(pins)) {
    const char *uri = json_object_get_string_member_with_default(
        json_array_get_object_element(pins, 0), "uri", "");
    if (!g_str_has_prefix(uri, SCHEME) || !strchr(uri + strlen(SCHEME), '/')) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "pinned version '%s' is not a %s URI",
                  uri, SCHEME);
      return NULL;
    }
    return g_strndup(uri + strlen(SCHEME), strcspn(uri + strlen(SCHEME), "/"));
  }
  g_autofree char *ref = g_build_filename(lathe_context_param_string(ctx, "root"),
                                          lathe_context_param_string(ctx, "ref"), NULL);
  char *text = NULL;
  if (!g_file_get_contents(ref, &text, NULL, NULL)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "ref %s cannot be read; create it", ref);
    return NULL;
  }
  return g_strstrip(text);
}

static gboolean record_commit(LatheContext *ctx, GError **error) {
  g_autofree char *commit = current_commit(ctx, error);
  if (!commit)
    return FALSE;
  g_autofree char *path = object_path(ctx, commit);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &bytes, &len, NULL)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "commit %s has no data.csv (%s)", commit, path);
    return FALSE;
  }
  g_autofree char *sha = lathe_sha256_hex(bytes, len);
  g_autofree char *uri = g_strdup_printf(SCHEME "%s/data.csv", commit);
  lathe_context_add_data_version(ctx, uri, sha);
  lathe_context_set_content_key(ctx, sha);
  return TRUE;
}

#ifndef FAKELAKE_ABI_1_5
static gboolean ref_resolve(LatheContext *ctx, GError **error) {
  log_call("resolve %s", lathe_context_node_id(ctx));
  return record_commit(ctx, error);
}
#endif

/* One number a line: a one-column dataset. */
static gboolean read_object(LatheContext *ctx, const char *commit, GError **error) {
  g_autofree char *path = object_path(ctx, commit);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return FALSE;
  g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
  guint n = g_strv_length(lines);
  LatheDataset *ds = lathe_dataset_new(n, 1);
  for (guint i = 0; i < n; i++)
    ds->x[i] = (float)g_ascii_strtod(lines[i], NULL);
  lathe_dataset_set_column(ds, 0, "value");
  lathe_context_set_output_dataset(ctx, "data", ds);
  return TRUE;
}

/* With resolve: reads the commit resolve recorded. Without (as a 1.5
 * host or plugin would run it): reads the ref and records it itself. */
static gboolean ref_run(LatheContext *ctx, GError **error) {
  JsonArray *dv = lathe_context_get_data_versions(ctx);
  g_autofree char *commit = NULL;
  if (json_array_get_length(dv)) {
    const char *uri = json_object_get_string_member(json_array_get_object_element(dv, 0), "uri");
    commit = g_strndup(uri + strlen(SCHEME), strcspn(uri + strlen(SCHEME), "/"));
  } else {
    if (!record_commit(ctx, error))
      return FALSE;
    const char *uri = json_object_get_string_member(json_array_get_object_element(dv, 0), "uri");
    commit = g_strndup(uri + strlen(SCHEME), strcspn(uri + strlen(SCHEME), "/"));
  }
  log_call("run %s %s", lathe_context_node_id(ctx), commit);
  return read_object(ctx, commit, error);
}

#ifndef FAKELAKE_ABI_1_5
static gboolean file_run(LatheContext *ctx, GError **error) {
  const char *id = lathe_context_node_id(ctx);
  log_call("sink %s", id);
  LatheArtifact *in = lathe_context_get_input(ctx, "data");
  GBytes *bytes = lathe_artifact_get_bytes(in);
  const char *dir = lathe_context_param_string(ctx, "dir");
  g_autofree char *name = g_strdup_printf("%s.bin", id);
  g_autofree char *path = g_build_filename(dir, name, NULL);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  if (g_mkdir_with_parents(dir, 0755) != 0 || !g_file_set_contents(path, data, (gssize)len, error))
    return FALSE;
  g_autofree char *sha = lathe_sha256_hex(data, len);
  g_autofree char *uri = g_strdup_printf("fakefile://%s", path);
  lathe_context_add_data_version(ctx, uri, sha);
  JsonObject *m = json_object_new();
  json_object_set_string_member(m, "uri", uri);
  json_object_set_int_member(m, "bytes", (gint64)len);
  lathe_context_set_output(ctx, "metrics", lathe_artifact_new_metrics(m));
  return TRUE;
}
#endif

static const LatheParamSpec ref_params[] = {
    LATHE_PARAM_STRING_("root", NULL, LATHE_PARAM_REQUIRED, "folder holding the ref and commits/"),
    LATHE_PARAM_STRING_("ref", "\"main\"", 0, "file in root naming the current commit"),
    LATHE_PARAM_END};
#ifndef FAKELAKE_ABI_1_5
static const LatheParamSpec file_params[] = {
    LATHE_PARAM_STRING_("dir", NULL, LATHE_PARAM_REQUIRED, "folder to write into"),
    LATHE_PARAM_END};
static const LathePortSpec metrics_out[] = {
    {"metrics", LATHE_TYPE_METRICS, 0, "what was written"}, {.name = NULL}};
#endif

#ifdef FAKELAKE_ABI_1_5
static const LatheSourceClass ref_source = {
    .base = {.struct_size = offsetof(LatheSourceClass, resolve),
             .kind = LATHE_KIND_SOURCE,
             .name = "fake-ref",
             .description = "fake-ref as built against ABI 1.5 (test plugin)",
             .params = ref_params},
    .run = ref_run,
};
static const LatheComponent *const components[] = {&ref_source.base, NULL};
static const LathePluginDescriptor descriptor = {
    sizeof(LathePluginDescriptor), 1, 5, "fakelake-1-5", "0.1.0", "MIT",
    "fake-ref as built against ABI 1.5 (test plugin)", components};
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void);
G_MODULE_EXPORT const LathePluginDescriptor *lathe_plugin_query(void) { return &descriptor; }
#else
static const LatheSourceClass ref_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "fake-ref",
                         "reads commits/<commit>/data.csv through a ref file (test plugin)",
                         ref_params, NULL, NULL),
    .run = ref_run,
    .resolve = ref_resolve,
};
static const LatheSinkClass file_sink = {
    LATHE_COMPONENT_INIT(LatheSinkClass, LATHE_KIND_SINK, "fake-file",
                         "writes its input to DIR/NODE.bin (test plugin)", file_params, NULL,
                         metrics_out),
    .run = file_run,
};
LATHE_PLUGIN_DEFINE("fakelake", "0.1.0", "MIT",
                    "a branch-and-commit data source and a sink, on local files (test plugin)",
                    &ref_source.base, &file_sink.base)
#endif
