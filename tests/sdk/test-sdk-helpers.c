/* test-sdk-helpers.c: the 1.4 helpers: lathe-helpers.h (error prefixes,
 * "columns", enums) and lathe-blob.h's header. */
#include <lathe/lathe-context-private.h>
#include <lathe/lathe-sdk.h>

static LatheContext *context_with(const char *node, const char *params_json) {
  g_autoptr(JsonNode) root = json_from_string(params_json, NULL);
  g_assert_nonnull(root);
  return lathe_context_new(node, json_node_get_object(root), 1, NULL, NULL);
}

static LatheDataset *abc(void) {
  LatheDataset *ds = lathe_dataset_new(2, 3);
  lathe_dataset_set_column(ds, 0, "a");
  lathe_dataset_set_column(ds, 1, "b");
  lathe_dataset_set_column(ds, 2, "c");
  return ds;
}

static void test_set_error(void) {
  g_autoptr(LatheContext) ctx = context_with("roll", "{}");
  g_autoptr(GError) error = NULL;
  lathe_context_set_error(ctx, &error, LATHE_ERROR_DATA, "transform/rolling", "%u rows", 3u);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_cmpstr(error->message, ==, "transform/rolling (node roll): 3 rows");
  g_clear_error(&error);
  lathe_context_set_error(NULL, &error, LATHE_ERROR_IO, "source/timeseries", "x.csv:%d: bad", 2);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_IO);
  g_assert_cmpstr(error->message, ==, "source/timeseries: x.csv:2: bad");
  /* A NULL location is allowed, as with g_set_error. */
  lathe_context_set_error(ctx, NULL, LATHE_ERROR_DATA, "x/y", "ignored");
}

static void test_prefix_error(void) {
  g_autoptr(LatheContext) ctx = context_with("tune/3/model", "{}");
  g_autoptr(GError) error = g_error_new(LATHE_ERROR, LATHE_ERROR_DATA, "group 'g' is split");
  lathe_context_prefix_error(ctx, &error, "transform/pad");
  g_assert_cmpstr(error->message, ==, "transform/pad (node tune/3/model): group 'g' is split");
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  GError *none = NULL;
  lathe_context_prefix_error(ctx, &none, "transform/pad");
  g_assert_null(none);
  lathe_context_prefix_error(ctx, NULL, "transform/pad");
}

static void test_columns(void) {
  g_autoptr(LatheDataset) ds = abc();
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheContext) named = context_with("n", "{\"columns\": [\"c\", \"a\"]}");
  g_autoptr(GArray) got =
      lathe_context_param_columns(named, "columns", ds, LATHE_COLUMNS_NONEMPTY, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(got->len, ==, 2);
  g_assert_cmpuint(g_array_index(got, guint, 0), ==, 2);
  g_assert_cmpuint(g_array_index(got, guint, 1), ==, 0);

  g_autoptr(LatheContext) empty = context_with("n", "{\"columns\": []}");
  g_autoptr(GArray) all =
      lathe_context_param_columns(empty, "columns", ds, LATHE_COLUMNS_ALL_WHEN_EMPTY, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 3);
  g_assert_cmpuint(g_array_index(all, guint, 2), ==, 2);
  g_assert_null(lathe_context_param_columns(empty, "columns", ds, LATHE_COLUMNS_NONEMPTY, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "columns is empty; name at least one column");
  g_clear_error(&error);

  g_autoptr(LatheContext) unknown = context_with("n", "{\"columns\": [\"a\", \"z\"]}");
  g_assert_null(
      lathe_context_param_columns(unknown, "columns", ds, LATHE_COLUMNS_ALL_WHEN_EMPTY, &error));
  g_assert_cmpstr(error->message, ==,
                  "columns: 'z' is not a column of the input; available columns: a, b, c");
  g_clear_error(&error);

  g_autoptr(LatheContext) twice = context_with("n", "{\"keep\": [\"b\", \"a\", \"b\"]}");
  g_assert_null(lathe_context_param_columns(twice, "keep", ds, LATHE_COLUMNS_NONEMPTY, &error));
  g_assert_cmpstr(error->message, ==, "keep: 'b' is listed twice; list it once");
  g_clear_error(&error);

  g_autoptr(LatheContext) number = context_with("n", "{\"columns\": [3]}");
  g_assert_null(lathe_context_param_columns(number, "columns", ds, LATHE_COLUMNS_NONEMPTY, &error));
  g_assert_cmpstr(error->message, ==,
                  "columns: '(not a string)' is not a column of the input; available columns: "
                  "a, b, c");
}

static void test_enum(void) {
  static const char *const modes[] = {"every", "mean", "max", NULL};
  g_assert_cmpint(lathe_enum_index(modes, "every"), ==, 0);
  g_assert_cmpint(lathe_enum_index(modes, "max"), ==, 2);
  g_assert_cmpint(lathe_enum_index(modes, "Mean"), ==, -1);
  g_assert_cmpint(lathe_enum_index(modes, NULL), ==, -1);
  g_autoptr(LatheContext) ctx = context_with("n", "{\"mode\": \"mean\", \"other\": \"min\"}");
  g_assert_cmpint(lathe_context_param_enum(ctx, "mode", modes), ==, 1);
  g_assert_cmpint(lathe_context_param_enum(ctx, "other", modes), ==, -1);
}

static void test_enum_list(void) {
  static const char *const stats[] = {"mean", "std", "min", "max", NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheContext) ok = context_with("n", "{\"stats\": [\"max\", \"mean\"]}");
  g_autoptr(GArray) got = lathe_context_param_enum_list(ok, "stats", stats, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(got->len, ==, 2);
  g_assert_cmpuint(g_array_index(got, guint, 0), ==, 3);
  g_assert_cmpuint(g_array_index(got, guint, 1), ==, 0);

  g_autoptr(LatheContext) empty = context_with("n", "{}");
  g_autoptr(GArray) none = lathe_context_param_enum_list(empty, "stats", stats, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(none->len, ==, 0);

  g_autoptr(LatheContext) unknown = context_with("n", "{\"stats\": [\"std\", \"median\"]}");
  g_assert_null(lathe_context_param_enum_list(unknown, "stats", stats, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "stats: 'median' is not one of mean, std, min, max");
  g_clear_error(&error);

  g_autoptr(LatheContext) twice = context_with("n", "{\"stats\": [\"min\", \"std\", \"min\"]}");
  g_assert_null(lathe_context_param_enum_list(twice, "stats", stats, &error));
  g_assert_cmpstr(error->message, ==, "stats: 'min' is listed twice; list it once");
}

static void test_blob_header(void) {
  GByteArray *b = g_byte_array_new();
  lathe_blob_put_header(b, "LATHETST", 0x01020304u);
  g_assert_cmpuint(b->len, ==, LATHE_BLOB_HEADER_SIZE);
  /* The preamble the bundled states have always had: magic, then LE u32. */
  static const guint8 want[] = {'L', 'A', 'T', 'H', 'E', 'T', 'S', 'T', 4, 3, 2, 1};
  g_assert_cmpmem(b->data, b->len, want, sizeof want);
  lathe_blob_put_u32(b, 7);
  g_autoptr(GBytes) sealed = lathe_blob_seal(b);

  gsize size = 1;
  g_autoptr(GError) error = NULL;
  const guint8 *data = lathe_blob_read_header(sealed, "model/test", "LATHETST", 0x01020304u,
                                              16, &size, &error);
  g_assert_no_error(error);
  g_assert_true(data == g_bytes_get_data(sealed, NULL));
  g_assert_cmpuint(size, ==, 16 + LATHE_BLOB_SUM_SIZE);
  g_assert_cmpuint(lathe_blob_get_u32(data + 12), ==, 7);

  const struct {
    GBytes *state;
    const char *magic;
    guint32 format;
    gsize header_size;
    const char *why;
  } bad[] = {
      {NULL, "LATHETST", 0x01020304u, 16, "no bytes"},
      {sealed, "LATHETST", 0x01020304u, 17, "shorter than its header"},
      {sealed, "LATHEXXX", 0x01020304u, 16, "bad magic, not a model/test blob"},
      {sealed, "LATHETST", 2, 16, "unknown format version inside the blob"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_null(lathe_blob_read_header(bad[i].state, "model/test", bad[i].magic, bad[i].format,
                                         bad[i].header_size, &size, &error));
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
    g_autofree char *msg = g_strdup_printf("model/test: saved model is corrupt or truncated (%s); "
                                           "retrain or restore the artifact",
                                           bad[i].why);
    g_assert_cmpstr(error->message, ==, msg);
    g_clear_error(&error);
  }
  g_assert_null(lathe_blob_corrupt(NULL, "model/test", "ignored"));
}

static void test_blob_reader(void) {
  GByteArray *b = g_byte_array_new();
  lathe_blob_put_u32(b, 0xdeadbeefu);
  lathe_blob_put_u32(b, 0x89abcdefu); /* low word of the u64 */
  lathe_blob_put_u32(b, 0x01234567u);
  g_byte_array_append(b, (const guint8 *)"abc", 3);
  LatheBlobReader r = {b->data, b->len};
  guint32 u = 0;
  guint64 w = 0;
  const guint8 *p = NULL;
  g_assert_true(lathe_blob_read_u32(&r, &u));
  g_assert_cmphex(u, ==, 0xdeadbeefu);
  g_assert_true(lathe_blob_read_u64(&r, &w));
  g_assert_cmphex(w, ==, G_GUINT64_CONSTANT(0x0123456789abcdef));
  /* Three bytes left: a u32, a u64 or four bytes are refused, in place. */
  g_assert_false(lathe_blob_read_u32(&r, &u));
  g_assert_false(lathe_blob_read_u64(&r, &w));
  g_assert_false(lathe_blob_read_bytes(&r, 4, &p));
  g_assert_cmpuint(r.left, ==, 3);
  g_assert_true(lathe_blob_read_bytes(&r, 3, &p));
  g_assert_cmpmem(p, 3, "abc", 3);
  g_assert_cmpuint(r.left, ==, 0);
  g_assert_true(lathe_blob_read_bytes(&r, 0, NULL));
  g_assert_false(lathe_blob_read_bytes(&r, G_MAXUINT64, NULL));
  g_byte_array_unref(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdk/helpers/set-error", test_set_error);
  g_test_add_func("/sdk/helpers/prefix-error", test_prefix_error);
  g_test_add_func("/sdk/helpers/columns", test_columns);
  g_test_add_func("/sdk/helpers/enum", test_enum);
  g_test_add_func("/sdk/helpers/enum-list", test_enum_list);
  g_test_add_func("/sdk/helpers/blob-header", test_blob_header);
  g_test_add_func("/sdk/helpers/blob-reader", test_blob_reader);
  return g_test_run();
}
