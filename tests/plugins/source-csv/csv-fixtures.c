#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "csv-fixtures.h"
#include "test-util.h"

static char *fixture_dir;

static const LatheSourceClass *csv_component(void) {
  return (const LatheSourceClass *)lathe_test_component("source-csv", "source/csv");
}

void csv_fixtures_init(void) {
  g_autoptr(GError) error = NULL;
  fixture_dir = g_dir_make_tmp("lathe-source-csv-XXXXXX", &error);
  g_assert_no_error(error);
}


int csv_fixtures_cleanup(int status) {
  if (fixture_dir)
    lathe_test_remove_tree(fixture_dir);
  g_clear_pointer(&fixture_dir, g_free);
  return status;
}

const char *csv_fixture_dir(void) {
  return fixture_dir;
}

char *csv_fixture_write(const char *rel, const char *data, gssize len) {
  char *path = g_build_filename(fixture_dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(path, data, len, &error);
  g_assert_no_error(error);
  return path;
}

char *csv_fixture_archive(const char *rel, const char *const *entries) {
  char *path = g_build_filename(fixture_dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
  struct archive *a = archive_write_new();
  if (g_str_has_suffix(rel, ".zip")) {
    g_assert_cmpint(archive_write_set_format_zip(a), ==, ARCHIVE_OK);
  } else {
    g_assert_cmpint(archive_write_set_format_pax_restricted(a), ==, ARCHIVE_OK);
    g_assert_cmpint(archive_write_add_filter_gzip(a), ==, ARCHIVE_OK);
  }
  g_assert_cmpint(archive_write_open_filename(a, path), ==, ARCHIVE_OK);
  for (guint i = 0; entries[i]; i += 2) {
    struct archive_entry *e = archive_entry_new();
    gsize len = strlen(entries[i + 1]);
    archive_entry_set_pathname(e, entries[i]);
    if (g_str_has_suffix(entries[i], "/")) {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
      len = 0;
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
    }
    archive_entry_set_size(e, (la_int64_t)len);
    g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
    if (len)
      g_assert_cmpint(archive_write_data(a, entries[i + 1], len), ==, (la_ssize_t)len);
    archive_entry_free(e);
  }
  g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
  archive_write_free(a);
  return path;
}

void csv_fixture_put(const char *rel, const char *data, gssize len) {
  g_free(csv_fixture_write(rel, data, len));
}

void csv_fixture_put_archive(const char *rel, const char *const *entries) {
  g_free(csv_fixture_archive(rel, entries));
}

char *csv_sha256_of(const char *path) {
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &data, &len, &error);
  g_assert_no_error(error);
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

LatheContext *csv_context(const char *params_json) {
  LatheContext *ctx =
      lathe_test_context(LATHE_COMPONENT(*csv_component()), "data", params_json, 7);
  g_autofree char *store = g_build_filename(fixture_dir, ".store", NULL);
  lathe_context_set_dirs(ctx, fixture_dir, store, store);
  return ctx;
}

const LatheDataset *csv_run_ok(LatheContext *ctx) {
  g_autoptr(GError) error = NULL;
  gboolean ok = csv_component()->run(ctx, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  LatheArtifact *out = lathe_context_get_output(ctx, "data");
  g_assert_nonnull(out);
  const LatheDataset *ds = lathe_artifact_get_dataset(out, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ds);
  return ds;
}

char *csv_run_error(const char *params_json, int code) {
  g_autoptr(LatheContext) ctx = csv_context(params_json);
  g_autoptr(GError) error = NULL;
  g_assert_false(csv_component()->run(ctx, &error));
  g_assert_error(error, LATHE_ERROR, code);
  g_assert_null(lathe_context_get_output(ctx, "data"));
  /* Errors are one line: a host prints them after "node: ". */
  g_assert_null(strchr(error->message, '\n'));
  return g_strdup(error->message);
}
