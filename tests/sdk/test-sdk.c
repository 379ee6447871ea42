/* The SDK's own pieces: dataset encoding, canonical JSON, random streams,
 * artifacts. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include <lathe/lathe-context-private.h>
#include <lathe/lathe-sdk.h>

static LatheDataset *sample(void) {
  LatheDataset *ds = lathe_dataset_new(3, 2);
  for (guint i = 0; i < 6; i++)
    ds->x[i] = (float)i * 0.5f;
  lathe_dataset_set_column(ds, 0, "a");
  lathe_dataset_set_column(ds, 1, "b");
  const char *classes[] = {"no", "yes", NULL};
  lathe_dataset_set_classes(ds, classes);
  ds->labels[1] = 1;
  const char *groups[] = {"f1.csv", "f2.csv", NULL};
  lathe_dataset_set_groups(ds, groups);
  ds->groups[2] = 1;
  return ds;
}

static void test_dataset_roundtrip(void) {
  g_autoptr(LatheDataset) ds = sample();
  g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheDataset) back = lathe_dataset_deserialize(bytes, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(back->n_rows, ==, 3);
  g_assert_cmpuint(back->n_cols, ==, 2);
  g_assert_cmpmem(back->x, 6 * sizeof(float), ds->x, 6 * sizeof(float));
  g_assert_cmpstr(back->columns[1], ==, "b");
  g_assert_cmpstr(back->classes[1], ==, "yes");
  g_assert_cmpint(back->labels[1], ==, 1);
  g_assert_cmpstr(back->group_names[1], ==, "f2.csv");
  g_assert_cmpint(back->groups[2], ==, 1);
}

static void test_dataset_corrupt(void) {
  g_autoptr(LatheDataset) ds = sample();
  g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
  gsize len;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  /* Every truncation fails cleanly. */
  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr(GBytes) part = g_bytes_new(data, cut);
    g_autoptr(GError) error = NULL;
    g_autoptr(LatheDataset) back = lathe_dataset_deserialize(part, &error);
    g_assert_null(back);
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  }
  /* A label index beyond the classes is refused. */
  g_autofree guint8 *copy = g_memdup2(data, len);
  copy[len - 2 * 3 * 4] = 9; /* first label */
  g_autoptr(GBytes) bad = g_bytes_new(copy, len);
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_dataset_deserialize(bad, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

/* ABI 1.2: sequence layout and lengths survive encoding, row selection, and
 * every truncation fails; a length past seq_len is refused. */
static void test_dataset_sequence(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(3, 6); /* 3 steps x 2 channels */
  for (guint i = 0; i < 18; i++)
    ds->x[i] = (float)i;
  g_assert_false(lathe_dataset_set_sequence(ds, 4, TRUE));
  g_assert_true(lathe_dataset_set_sequence(ds, 3, TRUE));
  g_assert_cmpuint(lathe_dataset_channels(ds), ==, 2);
  ds->lengths[1] = 2;
  g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheDataset) back = lathe_dataset_deserialize(bytes, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(back->seq_len, ==, 3);
  g_assert_nonnull(back->lengths);
  g_assert_cmpuint(back->lengths[1], ==, 2);
  g_autoptr(GBytes) again = lathe_dataset_serialize(back);
  g_assert_true(g_bytes_equal(bytes, again));
  guint32 rows[] = {1};
  g_autoptr(LatheDataset) one = lathe_dataset_take_rows(ds, rows, 1);
  g_assert_cmpuint(one->seq_len, ==, 3);
  g_assert_cmpuint(one->lengths[0], ==, 2);
  g_assert_cmpfloat(one->x[0], ==, 6.0f);
  gsize len;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr(GBytes) part = g_bytes_new(data, cut);
    g_autoptr(GError) e = NULL;
    g_assert_null(lathe_dataset_deserialize(part, &e));
    g_assert_error(e, LATHE_ERROR, LATHE_ERROR_DATA);
  }
  g_autofree guint8 *copy = g_memdup2(data, len);
  copy[len - 4] = 7; /* last row's length beyond seq_len */
  g_autoptr(GBytes) bad = g_bytes_new(copy, len);
  g_assert_null(lathe_dataset_deserialize(bad, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  /* A table encodes exactly as before 1.2: no sequence flag, no seq_len word. */
  g_autoptr(LatheDataset) table = lathe_dataset_new(1, 1);
  g_autoptr(GBytes) tb = lathe_dataset_serialize(table);
  g_assert_cmpuint(g_bytes_get_size(tb), ==, 8 + 5 * 4 + 4 + 2 + 4);
}

/* Recordings of a long table: runs of one group, refusals, majority label. */
static void test_dataset_group_runs(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(6, 1);
  const char *groups[] = {"a", "b", NULL};
  const char *classes[] = {"x", "y", NULL};
  lathe_dataset_set_groups(ds, groups);
  lathe_dataset_set_classes(ds, classes);
  const gint32 g[6] = {0, 0, 0, 1, 1, 1}, l[6] = {1, 0, 1, 0, 1, -1};
  memcpy(ds->groups, g, sizeof g);
  memcpy(ds->labels, l, sizeof l);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) runs = lathe_dataset_group_runs(ds, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(runs->len, ==, 2);
  g_assert_cmpuint(g_array_index(runs, LatheRowRun, 1).start, ==, 3);
  g_assert_cmpuint(g_array_index(runs, LatheRowRun, 1).end, ==, 6);
  g_assert_cmpint(lathe_dataset_majority_label(ds, 0, 3), ==, 1);
  g_assert_cmpint(lathe_dataset_majority_label(ds, 3, 6), ==, 0); /* tie: lowest */
  g_assert_cmpint(lathe_dataset_majority_label(ds, 5, 6), ==, -1);
  ds->groups[4] = 0; /* a then b then a again */
  g_assert_null(lathe_dataset_group_runs(ds, &error));
  g_assert_nonnull(strstr(error->message, "recording 'a' is not contiguous"));
  g_clear_error(&error);
  ds->groups[4] = 7;
  g_assert_null(lathe_dataset_group_runs(ds, &error));
  g_assert_nonnull(strstr(error->message, "row 4 has no group"));
}

/* Found by fuzz-blob: non-canonical headers decoded, then re-encoded differently. */
static void test_dataset_noncanonical(void) {
  g_autoptr(LatheDataset) ds = sample();
  g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
  gsize len;
  const guint8 *data = g_bytes_get_data(bytes, &len);
  g_autofree guint8 *copy = g_memdup2(data, len);
  copy[8 + 16] |= 16; /* an unknown flag bit */
  g_autoptr(GBytes) bad = g_bytes_new(copy, len);
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_dataset_deserialize(bad, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_autoptr(LatheDataset) plain = lathe_dataset_new(1, 1);
  g_autoptr(GBytes) pb = lathe_dataset_serialize(plain);
  g_autofree guint8 *pc = g_memdup2(g_bytes_get_data(pb, NULL), g_bytes_get_size(pb));
  pc[8 + 8] = 2; /* two classes but no label flag */
  g_autoptr(GBytes) bad2 = g_bytes_new(pc, g_bytes_get_size(pb));
  g_clear_error(&error);
  g_assert_null(lathe_dataset_deserialize(bad2, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

/* Found by fuzz-blob: 2^31 rows, no columns and labels passed the size check
 * and allocated gigabytes for the labels. */
static void test_dataset_huge_rows(void) {
  g_autofree char *blob = NULL;
  gsize len;
  blob = (char *)g_base64_decode("TEFUSEVEUzECAACEAAAAAAAAAAACAAAAAgAAAAAAAAABAAAAAQAAAGEBAAAAYgEAAABwAQAAAAEAAABh"
                                 "AQAAAGYBAAAAcIBAALJXxBIAAAASAAAABQAAAC50c3YCUAAAAAABAAAA", &len);
  g_autoptr(GBytes) bytes = g_bytes_new(blob, len);
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_dataset_deserialize(bytes, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

/* Found by fuzz-blob: a NUL inside a class name was cut off on decoding. */
static void test_dataset_nul_in_name(void) {
  gsize len;
  g_autofree guchar *blob = g_base64_decode(
      "TEFUSEVEUzECAAAAAgAAAAIAAAAAAAAAAQAAAAEAAABhAQAAAGIBAAAAcAEAAAAAAAAAY15XErIgxHZdAAAAEgAAAAABAAAA", &len);
  g_autoptr(GBytes) bytes = g_bytes_new(blob, len);
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_dataset_deserialize(bytes, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

static JsonNode *parse(const char *text) {
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void test_canonical_json(void) {
  g_autoptr(JsonNode) a = parse("{\"b\": [1, 2.5, \"x\\n\"], \"a\": {\"z\": true, \"y\": null}}");
  g_autoptr(JsonNode) b = parse("{\"a\": {\"y\": null, \"z\": true}, \"b\": [1, 2.5, \"x\\n\"]}");
  g_autofree char *ca = lathe_json_canonical(a);
  g_autofree char *cb = lathe_json_canonical(b);
  g_assert_cmpstr(ca, ==, "{\"a\":{\"y\":null,\"z\":true},\"b\":[1,2.5,\"x\\n\"]}");
  g_assert_cmpstr(ca, ==, cb);
  g_autoptr(JsonNode) c = parse("{\"v\": 0.1}");
  g_autofree char *cc = lathe_json_canonical(c);
  g_assert_cmpstr(cc, ==, "{\"v\":0.10000000000000001}");
}

/* json-glib 1.6 writes 1e-08 as "1e-08.0"; lathe_json_write must not. */
static void test_json_write(void) {
  g_autoptr(JsonObject) o = json_object_new();
  json_object_set_double_member(o, "tiny", 1e-08);
  json_object_set_double_member(o, "third", 1.0 / 3.0);
  json_object_set_double_member(o, "acc", 0.9666666666666667);
  json_object_set_double_member(o, "nan", NAN);
  json_object_set_int_member(o, "n", 30);
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  for (int pretty = 0; pretty < 2; pretty++) {
    g_autofree char *text = lathe_json_write(n, pretty);
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, text, -1, &error));
    g_assert_no_error(error);
    JsonObject *back = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpfloat(json_object_get_double_member(back, "tiny"), ==, 1e-08);
    g_assert_cmpfloat(json_object_get_double_member(back, "third"), ==, 1.0 / 3.0);
    g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(back, "nan")));
    g_assert_cmpint(json_object_get_int_member(back, "n"), ==, 30);
    if (!pretty) /* insertion order, shortest round-trip digits */
      g_assert_cmpstr(text, ==, "{\"tiny\":1e-08,\"third\":0.3333333333333333,"
                                "\"acc\":0.9666666666666667,\"nan\":null,\"n\":30}");
  }
}

static void test_rng(void) {
  LatheRng a, b;
  lathe_rng_init(&a, 42);
  lathe_rng_init(&b, 42);
  for (int i = 0; i < 100; i++)
    g_assert_cmpuint(lathe_rng_next(&a), ==, lathe_rng_next(&b));
  /* The stream is fixed forever: reruns on any machine must match. */
  lathe_rng_init(&a, 1);
  g_assert_cmpuint(lathe_rng_next(&a), ==, G_GUINT64_CONSTANT(0xb3f2af6d0fc710c5));
  guint hist[10] = {0};
  for (int i = 0; i < 100000; i++) {
    double u = lathe_rng_uniform(&a);
    g_assert_true(u >= 0 && u < 1);
    hist[(int)(u * 10)]++;
  }
  for (int i = 0; i < 10; i++)
    g_assert_cmpuint(hist[i], >, 9500);
  guint32 items[50];
  for (guint i = 0; i < 50; i++)
    items[i] = i;
  lathe_rng_shuffle(&a, items, 50);
  guint64 sum = 0;
  gboolean moved = FALSE;
  for (guint i = 0; i < 50; i++) {
    sum += items[i];
    moved |= items[i] != i;
  }
  g_assert_cmpuint(sum, ==, 49 * 50 / 2);
  g_assert_true(moved);
}

static void test_seed_derive(void) {
  g_assert_cmpuint(lathe_seed_derive(7, "model"), ==, lathe_seed_derive(7, "model"));
  g_assert_cmpuint(lathe_seed_derive(7, "model"), !=, lathe_seed_derive(7, "eval"));
  g_assert_cmpuint(lathe_seed_derive(7, "model"), !=, lathe_seed_derive(8, "model"));
}

static void test_artifact(void) {
  LatheArtifact *a = lathe_artifact_new_dataset(sample());
  g_autoptr(LatheArtifact) b = lathe_artifact_new_from_bytes(LATHE_TYPE_DATASET, lathe_artifact_get_bytes(a));
  g_assert_cmpstr(lathe_artifact_get_digest(a), ==, lathe_artifact_get_digest(b));
  g_assert_cmpuint(strlen(lathe_artifact_get_digest(a)), ==, 64);
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_artifact_get_metrics(b, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  lathe_artifact_unref(a);

  JsonObject *h = json_object_new();
  json_object_set_string_member(h, "component", "model/x");
  g_autoptr(GBytes) state = g_bytes_new_static("weights", 7);
  g_autoptr(LatheArtifact) m = lathe_artifact_new_model(h, state);
  g_autoptr(LatheArtifact) m2 = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, lathe_artifact_get_bytes(m));
  JsonObject *h2 = lathe_artifact_get_model_header(m2, NULL);
  g_assert_cmpstr(json_object_get_string_member(h2, "component"), ==, "model/x");
  g_assert_cmpmem(g_bytes_get_data(lathe_artifact_get_model_state(m2, NULL), NULL), 7, "weights", 7);
  g_autoptr(GBytes) junk = g_bytes_new_static("LATHEMD1\xff\xff\xff\x7f", 12);
  g_autoptr(LatheArtifact) m3 = lathe_artifact_new_from_bytes(LATHE_TYPE_MODEL, junk);
  g_clear_error(&error);
  g_assert_null(lathe_artifact_get_model_header(m3, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
}

static void test_resolve_path(void) {
  g_autoptr(LatheContext) ctx = lathe_context_new("n", NULL, 0, NULL, NULL);
  g_autofree char *cwd = g_get_current_dir();
  lathe_context_set_dirs(ctx, ".", "store", NULL); /* relative, as a test host may give */
  g_autoptr(GError) error = NULL;
  g_autofree char *rel = lathe_context_resolve_path(ctx, "data/x.csv", NULL, &error);
  g_autofree char *want_rel = g_build_filename(cwd, "data", "x.csv", NULL);
  g_assert_cmpstr(rel, ==, want_rel);
  g_autofree char *abs = lathe_context_resolve_path(ctx, "/tmp/../tmp/y.db", NULL, &error);
  g_assert_cmpstr(abs, ==, "/tmp/y.db");
  g_autofree char *def = lathe_context_resolve_path(ctx, "", "tracking.db", &error);
  g_autofree char *want_def = g_build_filename(cwd, "store", "tracking.db", NULL);
  g_assert_cmpstr(def, ==, want_def);
  g_assert_null(lathe_context_resolve_path(ctx, NULL, NULL, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
}

static void test_scratch_dir(void) {
  g_autofree char *root = g_dir_make_tmp("lathe-scratch-XXXXXX", NULL);
  LatheContext *ctx = lathe_context_new("tune/3/model", NULL, 0, NULL, NULL);
  lathe_context_set_dirs(ctx, ".", ".", root);
  g_autoptr(GError) error = NULL;
  const char *dir = lathe_context_scratch_dir(ctx, &error);
  g_assert_no_error(error);
  g_assert_true(g_str_has_prefix(dir, root));
  g_assert_null(strchr(dir + strlen(root) + 1, '/')); /* the node id's '/' is flattened */
  g_assert_cmpstr(lathe_context_scratch_dir(ctx, NULL), ==, dir); /* one per node */
  g_autofree char *file = g_build_filename(dir, "sub", "f.bin", NULL);
  g_autofree char *sub = g_path_get_dirname(file);
  g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
  g_assert_true(g_file_set_contents(file, "x", 1, NULL));
  g_autofree char *copy = g_strdup(dir);
  lathe_context_free(ctx);
  g_assert_false(g_file_test(copy, G_FILE_TEST_EXISTS)); /* removed with the node */
  g_rmdir(root);
}

/* ABI 1.3 helpers: column lookup, copying labels and groups, and the rows of
 * interleaved series. */
static void test_dataset_helpers(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(6, 2);
  lathe_dataset_set_column(ds, 0, "a");
  lathe_dataset_set_column(ds, 1, "b");
  g_assert_cmpint(lathe_dataset_column_index(ds, "b"), ==, 1);
  g_assert_cmpint(lathe_dataset_column_index(ds, "c"), ==, -1);
  static const char *const classes[] = {"x", "y", NULL};
  static const char *const series[] = {"s0", "s1", NULL};
  lathe_dataset_set_classes(ds, classes);
  lathe_dataset_set_groups(ds, series);
  const gint32 groups[] = {1, 0, 1, -1, 0, 1};
  for (guint r = 0; r < 6; r++) {
    ds->labels[r] = (gint32)(r % 2);
    ds->groups[r] = groups[r];
  }
  g_autoptr(LatheDataset) out = lathe_dataset_new(6, 1);
  lathe_dataset_copy_targets(out, ds);
  g_assert_cmpuint(out->n_classes, ==, 2);
  g_assert_cmpstr(out->group_names[1], ==, "s1");
  g_assert_cmpmem(out->labels, 6 * sizeof(gint32), ds->labels, 6 * sizeof(gint32));
  g_assert_cmpmem(out->groups, 6 * sizeof(gint32), ds->groups, 6 * sizeof(gint32));
  guint n = 0;
  g_autofree guint *offsets = NULL;
  g_autofree guint *rows = lathe_dataset_series_rows(ds, &n, &offsets);
  g_assert_cmpuint(n, ==, 2);
  const guint want_off[] = {0, 2, 5}, want_rows[] = {1, 4, 0, 2, 5}; /* row 3 has no series */
  g_assert_cmpmem(offsets, sizeof want_off, want_off, sizeof want_off);
  g_assert_cmpmem(rows, sizeof want_rows, want_rows, sizeof want_rows);
  /* no groups: one series of every row */
  g_autoptr(LatheDataset) flat = lathe_dataset_new(3, 1);
  g_autofree guint *o2 = NULL;
  g_autofree guint *r2 = lathe_dataset_series_rows(flat, &n, &o2);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(o2[1], ==, 3);
  g_assert_cmpuint(r2[2], ==, 2);
}

/* ABI 1.3 blob helpers: little-endian numbers both ways, and the checksum is
 * SHA-256's first 8 bytes (saved models' formats depend on both). */
static void test_blob(void) {
  g_autoptr(GByteArray) b = g_byte_array_new();
  lathe_blob_put_u32(b, 0x01020304u);
  lathe_blob_put_f32(b, -1.5f);
  lathe_blob_put_f64(b, 0.1);
  g_assert_cmpuint(b->len, ==, 16);
  const guint8 le[4] = {4, 3, 2, 1};
  g_assert_cmpmem(b->data, 4, le, 4);
  g_assert_cmpuint(lathe_blob_get_u32(b->data), ==, 0x01020304u);
  g_assert_cmpfloat(lathe_blob_get_f32(b->data + 4), ==, -1.5f);
  g_assert_cmpfloat(lathe_blob_get_f64(b->data + 8), ==, 0.1);
  guint8 sum[LATHE_BLOB_SUM_SIZE];
  lathe_blob_checksum((const guint8 *)"abc", 3, sum);
  const guint8 want[] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea}; /* SHA-256("abc") */
  g_assert_cmpmem(sum, sizeof sum, want, sizeof want);
  /* sealing appends that checksum; one flipped byte breaks it */
  g_autoptr(GByteArray) c = g_byte_array_new();
  g_byte_array_append(c, (const guint8 *)"abc", 3);
  g_autoptr(GBytes) sealed = lathe_blob_seal(g_steal_pointer(&c));
  gsize n;
  const guint8 *d = g_bytes_get_data(sealed, &n);
  g_assert_cmpuint(n, ==, 3 + LATHE_BLOB_SUM_SIZE);
  g_assert_cmpmem(d + 3, LATHE_BLOB_SUM_SIZE, want, sizeof want);
  g_assert_true(lathe_blob_sealed(d, n));
  g_autofree guint8 *bad = g_memdup2(d, n);
  bad[1] ^= 1;
  g_assert_false(lathe_blob_sealed(bad, n));
  g_assert_false(lathe_blob_sealed(d, 4));
}

/* lathe_dataset_add_columns: the old columns and targets kept, new ones zeroed and named. */
static void test_dataset_add_columns(void) {
  g_autoptr(LatheDataset) ds = lathe_dataset_new(3, 2);
  lathe_dataset_set_column(ds, 0, "a");
  lathe_dataset_set_column(ds, 1, "b");
  for (guint i = 0; i < 6; i++)
    ds->x[i] = (float)i + 1;
  const char *classes[] = {"x", "y", NULL};
  lathe_dataset_set_classes(ds, classes);
  ds->labels[0] = 1;
  ds->labels[2] = 1;
  const char *groups[] = {"g0", "g1", NULL};
  lathe_dataset_set_groups(ds, groups);
  ds->groups[1] = 1;
  const char *names[] = {"s1", "s2", "s3"};
  g_autoptr(LatheDataset) out = lathe_dataset_add_columns(ds, names, 3);
  g_assert_cmpuint(out->n_rows, ==, 3);
  g_assert_cmpuint(out->n_cols, ==, 5);
  g_assert_cmpstr(out->columns[1], ==, "b");
  g_assert_cmpstr(out->columns[4], ==, "s3");
  for (guint r = 0; r < 3; r++) {
    g_assert_cmpfloat(out->x[r * 5 + 0], ==, ds->x[r * 2 + 0]);
    g_assert_cmpfloat(out->x[r * 5 + 1], ==, ds->x[r * 2 + 1]);
    for (guint j = 2; j < 5; j++)
      g_assert_cmpfloat(out->x[r * 5 + j], ==, 0.0f);
    g_assert_cmpint(out->labels[r], ==, ds->labels[r]);
    g_assert_cmpint(out->groups[r], ==, ds->groups[r]);
  }
  g_assert_cmpstr(out->classes[1], ==, "y");
  g_assert_cmpstr(out->group_names[1], ==, "g1");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdk/dataset/roundtrip", test_dataset_roundtrip);
  g_test_add_func("/sdk/dataset/corrupt", test_dataset_corrupt);
  g_test_add_func("/sdk/dataset/noncanonical", test_dataset_noncanonical);
  g_test_add_func("/sdk/dataset/sequence", test_dataset_sequence);
  g_test_add_func("/sdk/dataset/group-runs", test_dataset_group_runs);
  g_test_add_func("/sdk/dataset/huge-rows", test_dataset_huge_rows);
  g_test_add_func("/sdk/dataset/nul-in-name", test_dataset_nul_in_name);
  g_test_add_func("/sdk/json/canonical", test_canonical_json);
  g_test_add_func("/sdk/json/write", test_json_write);
  g_test_add_func("/sdk/rng/stream", test_rng);
  g_test_add_func("/sdk/rng/derive", test_seed_derive);
  g_test_add_func("/sdk/artifact", test_artifact);
  g_test_add_func("/sdk/context/resolve-path", test_resolve_path);
  g_test_add_func("/sdk/context/scratch-dir", test_scratch_dir);
  g_test_add_func("/sdk/dataset/helpers", test_dataset_helpers);
  g_test_add_func("/sdk/dataset/add-columns", test_dataset_add_columns);
  g_test_add_func("/sdk/blob", test_blob);
  return g_test_run();
}
