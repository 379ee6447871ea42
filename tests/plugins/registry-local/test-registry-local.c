/* test-registry-local.c: registry/local through its ABI (plus the alias
 * 1.4 history, delete and version callbacks), with the files and the index checked from outside. */
#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test-util.h"

typedef struct {
  char *dir;  /* fresh temporary folder */
  char *root; /* dir/reg: the registry */
  LatheContext *ctx;
  gpointer reg;
} Fixture;

static const LatheRegistryClass *klass(void) {
  return (const LatheRegistryClass *)lathe_test_component("registry-local", "registry/local");
}

/* The alias history through the ABI (LatheRegistryClass.alias_history, 1.4). */
static JsonArray *history(gpointer reg, const char *name, const char *alias, GError **error) {
  g_assert_nonnull(klass()->alias_history);
  return klass()->alias_history(reg, name, alias, error);
}


static LatheContext *context_for(const char *root) {
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", root);
  return lathe_test_context(LATHE_COMPONENT(*klass()), "registry", params, 1);
}

static gpointer open_ctx(LatheContext *ctx) {
  g_autoptr(GError) error = NULL;
  gpointer r = klass()->open(ctx, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
  return r;
}

static void reopen(Fixture *fx) {
  klass()->close(fx->reg);
  fx->reg = open_ctx(fx->ctx);
}

static void setup(Fixture *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  fx->dir = g_dir_make_tmp("lathe-reg-XXXXXX", &error);
  g_assert_no_error(error);
  fx->root = g_build_filename(fx->dir, "reg", NULL);
  fx->ctx = context_for(fx->root);
  fx->reg = open_ctx(fx->ctx);
}

static void teardown(Fixture *fx, gconstpointer data) {
  if (fx->reg)
    klass()->close(fx->reg);
  lathe_context_free(fx->ctx);
  lathe_test_remove_tree(fx->dir);
  g_free(fx->dir);
  g_free(fx->root);
}

static GBytes *str_bytes(const char *s) { return g_bytes_new(s, strlen(s)); }

static guint reg_model(gpointer reg, const char *name, const char *content, const char *meta) {
  g_autoptr(GBytes) b = str_bytes(content);
  return lathe_test_register_model(klass(), reg, name, b, meta);
}

static void set_alias(gpointer reg, const char *name, const char *alias, guint version) {
  lathe_test_set_alias(klass(), reg, name, alias, version);
}

/* Asserts that get(@name, @ref) returns exactly @content. */
static void expect_get(gpointer reg, const char *name, const char *ref, const char *content) {
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = klass()->get(reg, name, ref, &error);
  g_assert_no_error(error);
  g_assert_nonnull(b);
  gsize len = 0;
  const char *data = g_bytes_get_data(b, &len);
  g_assert_cmpmem(data, len, content, strlen(content));
}

/* Asserts the call failed with @code and a message holding every needle. */
static void expect_error(GError **error, gint code, ...) {
  g_assert_nonnull(*error);
  g_test_message("refused as expected: %s", (*error)->message);
  g_assert_error(*error, LATHE_ERROR, code);
  g_assert_null(strchr((*error)->message, '\n'));
  va_list ap;
  va_start(ap, code);
  const char *needle;
  while ((needle = va_arg(ap, const char *)))
    if (!strstr((*error)->message, needle))
      g_error("'%s' not in: %s", needle, (*error)->message);
  va_end(ap);
  g_clear_error(error);
}

static gint64 sql_int(const char *db_path, const char *sql) {
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  gint64 v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* Counts regular files under @dir; counts names starting with ".tmp-" in *tmp. */
static guint count_files(const char *dir, guint *tmp) {
  guint n = 0;
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *child = g_build_filename(dir, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR)) {
      n += count_files(child, tmp);
    } else {
      n++;
      if (g_str_has_prefix(name, ".tmp-"))
        (*tmp)++;
    }
  }
  return n;
}

static char *blob_path(const char *root, const char *content) {
  g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);
  char prefix[3] = {hex[0], hex[1], 0};
  return g_build_filename(root, "blobs", "sha256", prefix, hex + 2, NULL);
}

static void test_layout(Fixture *fx, gconstpointer data) {
  g_autofree char *db = g_build_filename(fx->root, "registry.db", NULL);
  g_autofree char *blobs = g_build_filename(fx->root, "blobs", "sha256", NULL);
  g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(blobs, G_FILE_TEST_IS_DIR));
  g_assert_cmpint(sql_int(db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                              "name IN ('models', 'versions', 'aliases', 'alias_history')"),
                  ==, 4);
  sqlite3 *h = NULL;
  g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "wal");
  sqlite3_finalize(st);
  sqlite3_close(h);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) all = klass()->list(fx->reg, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(all), ==, 0);
}

static void test_default_and_relative_path(Fixture *fx, gconstpointer data) {
  g_autofree char *store = g_build_filename(fx->dir, "store", NULL);
  g_autofree char *base = g_build_filename(fx->dir, "pipeline", NULL);
  LatheContext *ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "registry", NULL, 1);
  lathe_context_set_dirs(ctx, base, store, store);
  gpointer r = open_ctx(ctx);
  reg_model(r, "m", "bytes", NULL);
  klass()->close(r);
  lathe_context_free(ctx);
  g_autofree char *def = g_build_filename(store, "registry", "registry.db", NULL);
  g_assert_true(g_file_test(def, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint(sql_int(def, "SELECT count(*) FROM versions"), ==, 1);

  ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "registry", "{\"path\": \"regs/a\"}", 1);
  lathe_context_set_dirs(ctx, base, store, store);
  r = open_ctx(ctx);
  klass()->close(r);
  lathe_context_free(ctx);
  g_autofree char *rel = g_build_filename(base, "regs", "a", "registry.db", NULL);
  g_assert_true(g_file_test(rel, G_FILE_TEST_IS_REGULAR));
}

static void test_versions(Fixture *fx, gconstpointer data) {
  g_assert_cmpuint(reg_model(fx->reg, "m", "one", "{\"acc\": 0.9}"), ==, 1);
  g_assert_cmpuint(reg_model(fx->reg, "m", "two", NULL), ==, 2);
  g_assert_cmpuint(reg_model(fx->reg, "other", "x", NULL), ==, 1);
  g_assert_cmpuint(reg_model(fx->reg, "m", "three", NULL), ==, 3);
  reopen(fx);
  g_assert_cmpuint(reg_model(fx->reg, "m", "four", NULL), ==, 4);
  expect_get(fx->reg, "m", "1", "one");
  expect_get(fx->reg, "m", "2", "two");
  expect_get(fx->reg, "m", "4", "four");
  expect_get(fx->reg, "other", "1", "x");
  /* An empty model is still a model. */
  g_assert_cmpuint(reg_model(fx->reg, "empty", "", NULL), ==, 1);
  expect_get(fx->reg, "empty", "1", "");
  g_autoptr(GError) error = NULL;
  g_assert_false(klass()->register_model(fx->reg, "m", NULL, NULL, NULL, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "'m'", NULL);
}

static void test_list_shape(Fixture *fx, gconstpointer data) {
  const char *meta = "{\"zeta\":1,\"alpha\":{\"nested\":[1,2,\"x\"]},\"ok\":true}";
  gint64 before = g_get_real_time() / G_USEC_PER_SEC;
  reg_model(fx->reg, "b-model", "bbb", NULL);
  reg_model(fx->reg, "a.model", "a1", meta);
  reg_model(fx->reg, "a.model", "a2", "{}");
  set_alias(fx->reg, "a.model", "zulu", 2);
  set_alias(fx->reg, "a.model", "alpha", 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) all = klass()->list(fx->reg, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(all), ==, 3);
  const char *names[] = {"a.model", "a.model", "b-model"};
  const gint64 versions[] = {1, 2, 1};
  const char *contents[] = {"a1", "a2", "bbb"};
  for (guint i = 0; i < 3; i++) {
    JsonObject *o = json_array_get_object_element(all, i);
    g_assert_cmpuint(json_object_get_size(o), ==, 7);
    g_assert_cmpstr(json_object_get_string_member(o, "name"), ==, names[i]);
    g_assert_cmpint(json_object_get_int_member(o, "version"), ==, versions[i]);
    g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, contents[i], -1);
    g_assert_cmpstr(json_object_get_string_member(o, "digest"), ==, hex);
    g_assert_cmpint(json_object_get_int_member(o, "size"), ==, (gint64)strlen(contents[i]));
    const char *created = json_object_get_string_member(o, "created");
    g_assert_true(g_str_has_suffix(created, "Z"));
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(created, NULL);
    g_assert_nonnull(dt);
    g_assert_cmpint(g_date_time_to_unix(dt), >=, before);
    g_assert_cmpint(g_date_time_to_unix(dt), <=, before + 60);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "aliases")));
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "metadata")));
  }
  /* Metadata comes back as given, key order included. */
  g_autoptr(JsonNode) m0 = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(m0, json_object_get_object_member(
                               json_array_get_object_element(all, 0), "metadata"));
  g_autofree char *m0_text = json_to_string(m0, FALSE);
  g_assert_cmpstr(m0_text, ==, meta);
  g_assert_cmpuint(json_object_get_size(json_object_get_object_member(
                       json_array_get_object_element(all, 2), "metadata")),
                   ==, 0);
  /* Aliases are listed on their version, sorted. */
  JsonArray *a1 = json_object_get_array_member(json_array_get_object_element(all, 0), "aliases");
  JsonArray *a2 = json_object_get_array_member(json_array_get_object_element(all, 1), "aliases");
  g_assert_cmpuint(json_array_get_length(a1), ==, 0);
  g_assert_cmpuint(json_array_get_length(a2), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(a2, 0), ==, "alpha");
  g_assert_cmpstr(json_array_get_string_element(a2, 1), ==, "zulu");

  g_autoptr(JsonArray) one = klass()->list(fx->reg, "b-model", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(one), ==, 1);
  g_autoptr(JsonArray) none = klass()->list(fx->reg, "nothing-here", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(none), ==, 0);
  JsonArray *bad = klass()->list(fx->reg, "bad name", &error);
  g_assert_null(bad);
  expect_error(&error, LATHE_ERROR_INVALID, "invalid model name", NULL);
}

static void expect_history(JsonObject *h, const char *alias, gint64 version,
                           gint64 previous) {
  g_assert_cmpstr(json_object_get_string_member(h, "name"), ==, "m");
  g_assert_cmpstr(json_object_get_string_member(h, "alias"), ==, alias);
  g_assert_cmpint(json_object_get_int_member(h, "version"), ==, version);
  if (previous < 0)
    g_assert_true(json_object_get_null_member(h, "previous_version"));
  else
    g_assert_cmpint(json_object_get_int_member(h, "previous_version"), ==, previous);
  g_autoptr(GDateTime) dt =
      g_date_time_new_from_iso8601(json_object_get_string_member(h, "set_at"), NULL);
  g_assert_nonnull(dt);
}

static void test_aliases(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", NULL);
  reg_model(fx->reg, "m", "v2", NULL);
  reg_model(fx->reg, "m", "v3", NULL);
  set_alias(fx->reg, "m", "champion", 1);
  expect_get(fx->reg, "m", "champion", "v1");
  set_alias(fx->reg, "m", "champion", 2);
  expect_get(fx->reg, "m", "champion", "v2");
  set_alias(fx->reg, "m", "champion", 2); /* not a move: no history */
  set_alias(fx->reg, "m", "Staging_2-b", 3);
  reopen(fx);
  set_alias(fx->reg, "m", "champion", 3);
  expect_get(fx->reg, "m", "champion", "v3");
  expect_get(fx->reg, "m", "Staging_2-b", "v3");

  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) champ = history(fx->reg, "m", "champion", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(champ), ==, 3);
  expect_history(json_array_get_object_element(champ, 0), "champion", 1, -1);
  expect_history(json_array_get_object_element(champ, 1), "champion", 2, 1);
  expect_history(json_array_get_object_element(champ, 2), "champion", 3, 2);
  g_autoptr(JsonArray) all = history(fx->reg, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(all), ==, 4);
  expect_history(json_array_get_object_element(all, 2), "Staging_2-b", 3, -1);
  g_autoptr(JsonArray) none = history(fx->reg, "other", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(none), ==, 0);
  g_assert_null(history(fx->reg, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);

  g_autoptr(JsonArray) list = klass()->list(fx->reg, "m", &error);
  g_assert_no_error(error);
  JsonArray *v3 = json_object_get_array_member(json_array_get_object_element(list, 2), "aliases");
  g_assert_cmpuint(json_array_get_length(v3), ==, 2);
  JsonArray *v1 = json_object_get_array_member(json_array_get_object_element(list, 0), "aliases");
  g_assert_cmpuint(json_array_get_length(v1), ==, 0);
}

static void test_alias_errors(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", NULL);
  reg_model(fx->reg, "m", "v2", NULL);
  g_autoptr(GError) error = NULL;
  const char *bad[] = {"1", "42", "", "9lives", "-x", "_x", "a b", "a.b", "a/b", "a\nb"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(klass()->set_alias(fx->reg, "m", bad[i], 1, &error));
    expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);
  }
  g_assert_false(klass()->set_alias(fx->reg, "m", NULL, 1, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);
  g_autofree char *long_alias = g_strnfill(129, 'a');
  g_assert_false(klass()->set_alias(fx->reg, "m", long_alias, 1, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);
  g_autofree char *max_alias = g_strnfill(128, 'a');
  set_alias(fx->reg, "m", max_alias, 1);

  g_assert_false(klass()->set_alias(fx->reg, "ghost", "prod", 1, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no model named 'ghost'", "registered models: m",
               fx->root, NULL);
  g_assert_false(klass()->set_alias(fx->reg, "m", "prod", 7, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no version 7", "versions 1-2", NULL);
  g_assert_false(klass()->set_alias(fx->reg, "m", "prod", 0, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no version 0", NULL);
  /* None of the refusals recorded anything. */
  g_autofree char *db = g_build_filename(fx->root, "registry.db", NULL);
  g_assert_cmpint(sql_int(db, "SELECT count(*) FROM aliases"), ==, 1);
  g_assert_cmpint(sql_int(db, "SELECT count(*) FROM alias_history"), ==, 1);
}

static void test_invalid_names(Fixture *fx, gconstpointer data) {
  g_autofree char *too_long = g_strnfill(129, 'n');
  g_autofree char *longest = g_strnfill(128, 'n');
  const char *bad[] = {"", "a/b", "a b", "caf\xc3\xa9", "x\n", "a:b", "a@b", too_long};
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = str_bytes("model");
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    guint version = 0;
    g_assert_false(klass()->register_model(fx->reg, bad[i], b, NULL, &version, &error));
    expect_error(&error, LATHE_ERROR_INVALID, "invalid model name", NULL);
    g_assert_null(klass()->get(fx->reg, bad[i], "1", &error));
    expect_error(&error, LATHE_ERROR_INVALID, "invalid model name", NULL);
    g_assert_false(klass()->set_alias(fx->reg, bad[i], "prod", 1, &error));
    expect_error(&error, LATHE_ERROR_INVALID, "invalid model name", NULL);
  }
  g_assert_false(klass()->register_model(fx->reg, NULL, b, NULL, NULL, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid model name", NULL);
  g_assert_cmpuint(reg_model(fx->reg, longest, "model", NULL), ==, 1);
  g_assert_cmpuint(reg_model(fx->reg, "Az09_.-", "model", NULL), ==, 1);
  g_autoptr(JsonArray) all = klass()->list(fx->reg, NULL, &error);
  g_assert_cmpuint(json_array_get_length(all), ==, 2);
}

static void test_unknown(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", NULL);
  reg_model(fx->reg, "m", "v2", NULL);
  set_alias(fx->reg, "m", "champion", 2);
  g_autoptr(GError) error = NULL;
  g_assert_null(klass()->get(fx->reg, "m", "9", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no version 9", "versions 1-2",
               "champion -> 2", fx->root, NULL);
  g_assert_null(klass()->get(fx->reg, "m", "nope", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no alias 'nope'", "versions 1-2",
               "champion -> 2", NULL);
  g_assert_null(klass()->get(fx->reg, "ghost", "1", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no model named 'ghost'", "registered models: m",
               NULL);
  g_assert_null(klass()->get(fx->reg, "m", "0", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "count from 1", NULL);
  g_assert_null(klass()->get(fx->reg, "m", "", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "version number or an alias", NULL);
  g_assert_null(klass()->get(fx->reg, "m", NULL, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "version number or an alias", NULL);
  g_assert_null(klass()->get(fx->reg, "m", "not an alias", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);
  g_assert_null(klass()->get(fx->reg, "m", "99999999999999999999999", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no version 99999999999999999999999", NULL);
  /* An empty registry says so. */
  g_autofree char *other = g_build_filename(fx->dir, "other", NULL);
  LatheContext *ctx = context_for(other);
  gpointer r = open_ctx(ctx);
  g_assert_null(klass()->get(r, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no models yet", NULL);
  klass()->close(r);
  lathe_context_free(ctx);
}

static void test_dedupe(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "x", "same bytes", NULL);
  reg_model(fx->reg, "y", "same bytes", NULL);
  reg_model(fx->reg, "x", "same bytes", NULL);
  g_autofree char *blobs = g_build_filename(fx->root, "blobs", NULL);
  guint tmp = 0;
  g_assert_cmpuint(count_files(blobs, &tmp), ==, 1);
  g_autofree char *path = blob_path(fx->root, "same bytes");
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  reg_model(fx->reg, "x", "other bytes", NULL);
  g_assert_cmpuint(count_files(blobs, &tmp), ==, 2);
  g_assert_cmpuint(tmp, ==, 0);
  expect_get(fx->reg, "y", "1", "same bytes");
  expect_get(fx->reg, "x", "2", "same bytes");
  expect_get(fx->reg, "x", "3", "other bytes");
}

static void test_corruption(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "precious weights", NULL);
  set_alias(fx->reg, "m", "prod", 1);
  g_autofree char *path = blob_path(fx->root, "precious weights");
  g_autoptr(GError) error = NULL;

  /* Same size, one byte flipped. */
  g_assert_true(g_file_set_contents(path, "precious weighTs", -1, NULL));
  g_assert_null(klass()->get(fx->reg, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_DATA, "corrupt", path, "model 'm' version 1", NULL);
  g_assert_null(klass()->get(fx->reg, "m", "prod", &error));
  expect_error(&error, LATHE_ERROR_DATA, "corrupt", NULL);
  /* Truncated. */
  g_assert_true(g_file_set_contents(path, "precious", -1, NULL));
  g_assert_null(klass()->get(fx->reg, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_DATA, "corrupt", NULL);
  /* Gone. */
  g_assert_cmpint(g_unlink(path), ==, 0);
  g_assert_null(klass()->get(fx->reg, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_IO, "model 'm' version 1", NULL);
  /* Registering the same bytes again repairs the blob for every version. */
  g_assert_true(g_file_set_contents(path, "garbage", -1, NULL));
  g_test_expect_message("lathe", G_LOG_LEVEL_WARNING, "*replaced a corrupt copy*");
  g_assert_cmpuint(reg_model(fx->reg, "m", "precious weights", NULL), ==, 2);
  g_test_assert_expected_messages();
  expect_get(fx->reg, "m", "1", "precious weights");
}

typedef struct {
  LatheContext *ctx;
  guint id;
  gint *ready; /* both threads start registering together */
  guint versions[15];
} Worker;

static gpointer worker_main(gpointer data) {
  Worker *w = data;
  gpointer r = klass()->open(w->ctx, NULL);
  g_assert_nonnull(r);
  g_atomic_int_inc(w->ready);
  while (g_atomic_int_get(w->ready) < 2)
    g_usleep(100);
  for (guint i = 0; i < G_N_ELEMENTS(w->versions); i++) {
    g_autofree char *content = g_strdup_printf("thread %u model %u", w->id, i);
    w->versions[i] = reg_model(r, "shared", content, NULL);
  }
  klass()->close(r);
  return NULL;
}

static void test_concurrent(Fixture *fx, gconstpointer data) {
  klass()->close(fx->reg);
  fx->reg = NULL;
  gint ready = 0;
  Worker w[2] = {{.ctx = context_for(fx->root), .id = 0, .ready = &ready},
                 {.ctx = context_for(fx->root), .id = 1, .ready = &ready}};
  GThread *th[2];
  for (guint i = 0; i < 2; i++)
    th[i] = g_thread_new("register", worker_main, &w[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join(th[i]);
  const guint n = 2 * G_N_ELEMENTS(w[0].versions);
  gboolean seen[31] = {FALSE};
  for (guint t = 0; t < 2; t++)
    for (guint i = 0; i < G_N_ELEMENTS(w[t].versions); i++) {
      guint v = w[t].versions[i];
      g_assert_cmpuint(v, >=, 1);
      g_assert_cmpuint(v, <=, n);
      g_assert_false(seen[v]);
      seen[v] = TRUE;
      if (i > 0)
        g_assert_cmpuint(v, >, w[t].versions[i - 1]);
    }
  fx->reg = open_ctx(fx->ctx);
  for (guint t = 0; t < 2; t++) {
    for (guint i = 0; i < G_N_ELEMENTS(w[t].versions); i++) {
      g_autofree char *ref = g_strdup_printf("%u", w[t].versions[i]);
      g_autofree char *content = g_strdup_printf("thread %u model %u", t, i);
      expect_get(fx->reg, "shared", ref, content);
    }
    lathe_context_free(w[t].ctx);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) list = klass()->list(fx->reg, "shared", &error);
  g_assert_cmpuint(json_array_get_length(list), ==, n);
  GString *order = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(w[0].versions); i++)
    g_string_append_printf(order, " %u", w[0].versions[i]);
  g_test_message("versions of thread 0:%s", order->str);
  g_string_free(order, TRUE);
}

static void test_refused(Fixture *fx, gconstpointer data) {
  klass()->close(fx->reg);
  fx->reg = NULL;
  g_autofree char *db_path = g_build_filename(fx->root, "registry.db", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_autoptr(GError) error = NULL;
  g_assert_null(klass()->open(fx->ctx, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "newer", db_path, NULL);

  g_autofree char *foreign = g_build_filename(fx->dir, "foreign", NULL);
  g_assert_cmpint(g_mkdir(foreign, 0755), ==, 0);
  g_autofree char *foreign_db = g_build_filename(foreign, "registry.db", NULL);
  g_assert_cmpint(sqlite3_open(foreign_db, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  LatheContext *ctx = context_for(foreign);
  g_assert_null(klass()->open(ctx, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "did not create", foreign_db, NULL);
  lathe_context_free(ctx);

  g_autofree char *file = g_build_filename(fx->dir, "a-file", NULL);
  g_assert_true(g_file_set_contents(file, "x", -1, NULL));
  g_autofree char *under = g_build_filename(file, "reg", NULL);
  ctx = context_for(under);
  g_assert_null(klass()->open(ctx, &error));
  expect_error(&error, LATHE_ERROR_IO, under, NULL);
  lathe_context_free(ctx);
}

static void test_delete_alias_and_version(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", NULL);
  reg_model(fx->reg, "m", "v2", NULL);
  set_alias(fx->reg, "m", "prod", 1);
  set_alias(fx->reg, "m", "prod", 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) v = klass()->get_version(fx->reg, "m", "prod", &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(v, "version"), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(v, "name"), ==, "m");
  JsonArray *aliases = json_object_get_array_member(v, "aliases");
  g_assert_cmpuint(json_array_get_length(aliases), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(aliases, 0), ==, "prod");
  g_autoptr(JsonObject) v1 = klass()->get_version(fx->reg, "m", "1", &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(v1, "version"), ==, 1);
  g_assert_null(klass()->get_version(fx->reg, "m", "9", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no version 9", NULL);
  g_assert_null(klass()->get_version(fx->reg, "ghost", "1", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no model named 'ghost'", NULL);

  g_assert_true(klass()->delete_alias(fx->reg, "m", "prod", &error));
  g_assert_no_error(error);
  g_assert_null(klass()->get(fx->reg, "m", "prod", &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_false(klass()->delete_alias(fx->reg, "m", "prod", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "no alias 'prod'", NULL);
  g_assert_false(klass()->delete_alias(fx->reg, "m", "1", &error));
  expect_error(&error, LATHE_ERROR_INVALID, "invalid alias", NULL);
  /* The moves stay in the history after the delete. */
  g_autoptr(JsonArray) hist = history(fx->reg, "m", "prod", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(hist), ==, 2);
}

/* set_alias_full (ABI 1.8): each move keeps its reason, user, run and
 * figures; plain set_alias records the user and no reason. */
static void test_alias_why(Fixture *fx, gconstpointer data) {
  g_assert_nonnull(klass()->set_alias_full);
  reg_model(fx->reg, "m", "v1", NULL);
  reg_model(fx->reg, "m", "v2", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) why = json_from_string(
      "{\"reason\": \"promotion by evaluator/ab\", \"user\": \"ana\", \"run_id\": \"r-1\","
      " \"figures\": {\"candidate_accuracy\": 0.97}}", NULL);
  g_assert_true(klass()->set_alias_full(fx->reg, "m", "production", 1,
                                        json_node_get_object(why), &error));
  g_assert_no_error(error);
  set_alias(fx->reg, "m", "production", 2);
  g_autoptr(JsonArray) h = history(fx->reg, "m", "production", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(h), ==, 2);
  JsonObject *a = json_array_get_object_element(h, 0), *b = json_array_get_object_element(h, 1);
  g_assert_cmpstr(json_object_get_string_member(a, "reason"), ==, "promotion by evaluator/ab");
  g_assert_cmpstr(json_object_get_string_member(a, "user"), ==, "ana");
  g_assert_cmpstr(json_object_get_string_member(a, "run_id"), ==, "r-1");
  g_assert_cmpfloat(json_object_get_double_member(json_object_get_object_member(a, "figures"),
                                                  "candidate_accuracy"), ==, 0.97);
  g_assert_true(json_object_get_null_member(b, "reason"));
  g_assert_cmpstr(json_object_get_string_member(b, "user"), ==, g_get_user_name());
  g_assert_true(json_object_get_null_member(b, "figures"));
}

/* An index of schema 1 (before ABI 1.8) gains the columns when opened; its
 * older moves read back with null reasons. */
static void test_schema_upgrade(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", NULL);
  set_alias(fx->reg, "m", "production", 1);
  klass()->close(fx->reg);
  fx->reg = NULL;
  g_autofree char *db_path = g_build_filename(fx->root, "registry.db", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(db_path, &db), ==, SQLITE_OK);
  const char *downgrade =
      "ALTER TABLE alias_history DROP COLUMN reason; ALTER TABLE alias_history DROP COLUMN user;"
      "ALTER TABLE alias_history DROP COLUMN run_id; ALTER TABLE alias_history DROP COLUMN figures;"
      "PRAGMA user_version = 1";
  g_assert_cmpint(sqlite3_exec(db, downgrade, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  fx->reg = open_ctx(fx->ctx);
  g_assert_cmpint(sql_int(db_path, "PRAGMA user_version"), ==, 2);
  reg_model(fx->reg, "m", "v2", NULL);
  g_autoptr(JsonNode) why = json_from_string("{\"reason\": \"rollback\"}", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(klass()->set_alias_full(fx->reg, "m", "production", 2,
                                        json_node_get_object(why), &error));
  g_assert_no_error(error);
  g_autoptr(JsonArray) h = history(fx->reg, "m", "production", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(h), ==, 2);
  g_assert_true(json_object_get_null_member(json_array_get_object_element(h, 0), "reason"));
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(h, 1), "reason"),
                  ==, "rollback");
}

static gpointer open_read_only(const char *root, LatheContext **ctx, GError **error) {
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\", \"read_only\": true}", root);
  *ctx = lathe_test_context(LATHE_COMPONENT(*klass()), "registry", params, 1);
  return klass()->open(*ctx, error);
}

static char *file_sum(const char *path) {
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL))
    return g_strdup("absent");
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
}

/* read_only (lathe ui): the registry reads back whole while nothing is
 * written (the index and its WAL byte for byte), writes are refused; a
 * registry not made yet lists nothing and is not made; an older schema is
 * refused, not upgraded. */
static void test_read_only(Fixture *fx, gconstpointer data) {
  reg_model(fx->reg, "m", "v1", "{\"run_id\": \"r-1\"}");
  set_alias(fx->reg, "m", "production", 1);
  g_autofree char *db_path = g_build_filename(fx->root, "registry.db", NULL);
  g_autofree char *wal_path = g_strconcat(db_path, "-wal", NULL);
  g_autofree char *db_before = file_sum(db_path), *wal_before = file_sum(wal_path);
  g_autoptr(GError) error = NULL;
  LatheContext *ctx = NULL;
  gpointer ro = open_read_only(fx->root, &ctx, &error);
  g_assert_no_error(error);
  g_autoptr(JsonArray) all = klass()->list(ro, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(all), ==, 1);
  g_autoptr(JsonArray) h = history(ro, "m", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(h), ==, 1);
  g_autoptr(GBytes) b = str_bytes("v2");
  guint version = 0;
  g_assert_false(klass()->register_model(ro, "m", b, NULL, &version, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_false(klass()->set_alias(ro, "m", "staging", 1, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  klass()->close(ro);
  lathe_context_free(ctx);
  g_autofree char *db_after = file_sum(db_path), *wal_after = file_sum(wal_path);
  g_assert_cmpstr(db_before, ==, db_after);
  g_assert_cmpstr(wal_before, ==, wal_after);

  g_autofree char *none = g_build_filename(fx->dir, "none", NULL);
  ro = open_read_only(none, &ctx, &error);
  g_assert_no_error(error);
  g_autoptr(JsonArray) empty = klass()->list(ro, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(empty), ==, 0);
  klass()->close(ro);
  lathe_context_free(ctx);
  g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));

  klass()->close(fx->reg);
  fx->reg = NULL;
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
  g_assert_null(open_read_only(fx->root, &ctx, &error));
  expect_error(&error, LATHE_ERROR_INVALID, "schema version 1", "lathe models list", NULL);
  lathe_context_free(ctx);
  g_assert_cmpint(sql_int(db_path, "PRAGMA user_version"), ==, 1);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/registry-local/" name, Fixture, NULL, setup, fn, teardown)
  ADD("delete-alias-and-version", test_delete_alias_and_version);
  ADD("layout", test_layout);
  ADD("default-and-relative-path", test_default_and_relative_path);
  ADD("versions", test_versions);
  ADD("list-shape", test_list_shape);
  ADD("aliases", test_aliases);
  ADD("alias-errors", test_alias_errors);
  ADD("invalid-names", test_invalid_names);
  ADD("unknown", test_unknown);
  ADD("dedupe", test_dedupe);
  ADD("corruption", test_corruption);
  ADD("concurrent", test_concurrent);
  ADD("refused", test_refused);
  ADD("alias-why", test_alias_why);
  ADD("schema-upgrade", test_schema_upgrade);
  ADD("read-only", test_read_only);
  return g_test_run();
}
