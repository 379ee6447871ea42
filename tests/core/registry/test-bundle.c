/* The bundle reader (registry/lathe-bundle.c) on bundles built here in
 * memory: what it accepts, and each refusal the manifest and members can
 * cause. The tar-level tricks (links, paths, devices, truncation) are in
 * tests/integration/test-bundles.sh and the fuzz corpus. */
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "lathe-bundle.h"

typedef struct {
  const char *name, *data;
} Member;

/* A tar of @members, gzipped when @gz. */
static GBytes *make_tar(const Member *members, guint n, gboolean gz) {
  struct archive *a = archive_write_new();
  archive_write_set_format_ustar(a);
  if (gz)
    archive_write_add_filter_gzip(a);
  gsize cap = 1 << 20, used = 0;
  char *buf = g_malloc0(cap);
  g_assert_cmpint(archive_write_open_memory(a, buf, cap, &used), ==, ARCHIVE_OK);
  for (guint i = 0; i < n; i++) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, members[i].name);
    archive_entry_set_size(e, (la_int64_t)strlen(members[i].data));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
    archive_write_data(a, members[i].data, strlen(members[i].data));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return g_bytes_new_take(buf, used);
}

static char *entry(const char *name, const char *data, gssize size) {
  g_autofree char *sha = lathe_sha256_hex(data, strlen(data));
  return g_strdup_printf("\"%s\": {\"sha256\": \"%s\", \"size\": %" G_GSSIZE_FORMAT "}", name, sha,
                         size >= 0 ? size : (gssize)strlen(data));
}

static const char *blob = "not really a model, the reader does not look inside";
static const char *sig = "{\"inputs\": []}";

/* A manifest listing model.lathe (with @blob_size, -1 for the true one) and,
 * when @with_sig, signature.json. */
static char *manifest(int format, gssize blob_size, gboolean with_sig) {
  g_autofree char *b = entry("model.lathe", blob, blob_size);
  g_autofree char *s = with_sig ? entry("signature.json", sig, -1) : g_strdup("");
  return g_strdup_printf("{\"format\": %d, \"name\": \"m\", \"version\": 3, \"metadata\": "
                         "{\"run_id\": \"r\"}, \"members\": {%s%s%s}}",
                         format, b, with_sig ? ", " : "", s);
}

static LatheBundle *read_tar(const Member *m, guint n, gboolean gz, GError **error) {
  g_autoptr(GBytes) tar = make_tar(m, n, gz);
  return lathe_bundle_read_memory(g_bytes_get_data(tar, NULL), g_bytes_get_size(tar), "t.bundle",
                                  error);
}

static void test_valid(void) {
  g_autofree char *man = manifest(1, -1, TRUE);
  Member m[] = {{"manifest.json", man}, {"model.lathe", blob}, {"signature.json", sig}};
  for (int gz = 0; gz <= 1; gz++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(LatheBundle) b = read_tar(m, 3, gz, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_bytes_get_size(b->blob), ==, strlen(blob));
    g_assert_cmpstr(json_object_get_string_member(b->manifest, "name"), ==, "m");
    g_autofree char *sha = lathe_sha256_hex(man, strlen(man));
    g_assert_cmpstr(b->manifest_sha256, ==, sha);
  }
}

static void expect_refusal(const Member *m, guint n, const char *text) {
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheBundle) b = read_tar(m, n, FALSE, &error);
  g_assert_null(b);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "t.bundle: "));
  if (!strstr(error->message, text))
    g_error("'%s' lacks '%s'", error->message, text);
  g_assert_null(strchr(error->message, '\n'));
}

static void test_refusals(void) {
  g_autofree char *ok = manifest(1, -1, FALSE);
  g_autofree char *with_sig = manifest(1, -1, TRUE);
  g_autofree char *newer = manifest(2, -1, FALSE);
  g_autofree char *zero = manifest(0, -1, FALSE);
  g_autofree char *wrong_size = manifest(1, 7, FALSE);
  Member unlisted[] = {{"manifest.json", ok}, {"model.lathe", blob}, {"signature.json", sig}};
  expect_refusal(unlisted, 3, "member 'signature.json' is not listed in manifest.json");
  Member missing[] = {{"manifest.json", with_sig}, {"model.lathe", blob}};
  expect_refusal(missing, 2, "member 'signature.json' is listed in manifest.json but missing");
  Member no_blob[] = {{"manifest.json", ok}};
  expect_refusal(no_blob, 1, "no member 'model.lathe'");
  Member fmt2[] = {{"manifest.json", newer}, {"model.lathe", blob}};
  expect_refusal(fmt2, 2, "bundle format 2, this Lathe reads up to 1; upgrade Lathe");
  Member fmt0[] = {{"manifest.json", zero}, {"model.lathe", blob}};
  expect_refusal(fmt0, 2, "bundle format 0");
  Member size[] = {{"manifest.json", wrong_size}, {"model.lathe", blob}};
  expect_refusal(size, 2, "the manifest says 7");
  Member not_object[] = {{"manifest.json", "[1, 2]"}, {"model.lathe", blob}};
  expect_refusal(not_object, 2, "'manifest.json' is not a JSON object");
  Member lacks[] = {{"manifest.json", "{\"format\": 1}"}, {"model.lathe", blob}};
  expect_refusal(lacks, 2, "lacks format, name, metadata or members");
  Member str_format[] = {{"manifest.json", "{\"format\": \"1\", \"name\": \"m\", \"metadata\": {}, "
                                           "\"members\": {}}"},
                         {"model.lathe", blob}};
  expect_refusal(str_format, 2, "lacks format");
  Member nested[] = {{"manifest.json", ok}, {"model.lathe", blob}, {"dir/model.lathe", blob}};
  expect_refusal(nested, 3, "unknown member 'dir/model.lathe'");
}

static void test_empty(void) {
  g_autoptr(GError) error = NULL;
  g_assert_null(lathe_bundle_read_memory("", 0, "e.bundle", &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "e.bundle: "));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/bundle/valid", test_valid);
  g_test_add_func("/bundle/refusals", test_refusals);
  g_test_add_func("/bundle/empty", test_empty);
  return g_test_run();
}
