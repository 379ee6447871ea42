/* source/csv through its ABI: folders, archives, groups, data versions and
 * progress. */
#include <string.h>

#include "csv-fixtures.h"

static void assert_strv(char **got, guint n, const char *const *want) {
  g_assert_cmpuint(n, ==, g_strv_length((char **)want));
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr(got[i], ==, want[i]);
}

/* Asserts the recorded data versions are exactly @paths (absolute), each with
 * the SHA-256 of its bytes. */
static void assert_versions(LatheContext *ctx, const char *const *paths) {
  JsonArray *versions = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(versions), ==, g_strv_length((char **)paths));
  for (guint i = 0; paths[i]; i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    g_autofree char *canon = g_canonicalize_filename(paths[i], NULL);
    g_autofree char *sha = csv_sha256_of(paths[i]);
    g_assert_cmpstr(json_object_get_string_member(v, "uri"), ==, canon);
    g_assert_cmpstr(json_object_get_string_member(v, "digest"), ==, sha);
    g_assert_cmpuint(strlen(sha), ==, 64);
  }
}

static void test_folder_groups(void) {
  g_autofree char *b = csv_fixture_write("runs/b.csv", "v,label\n3,y\n4,y\n", -1);
  g_autofree char *a = csv_fixture_write("runs/a.csv", "v,label\n1,x\n2,y\n", -1);
  g_autofree char *c = csv_fixture_write("runs/sub/c.csv", "v,label\r\n5,z\r\n", -1);
  csv_fixture_put("runs/notes.txt", "not a csv", -1);
  csv_fixture_put("runs/.hidden.csv", "junk", -1);

  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"runs/\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 5);
  for (guint i = 0; i < 5; i++) /* sorted by name: a.csv, b.csv, sub/c.csv */
    g_assert_cmpfloat(ds->x[i], ==, (float)(i + 1));
  const char *groups[] = {"a.csv", "b.csv", "sub/c.csv", NULL};
  assert_strv(ds->group_names, ds->n_groups, groups);
  const gint32 want_groups[] = {0, 0, 1, 1, 2};
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint(ds->groups[i], ==, want_groups[i]);
  const char *classes[] = {"x", "y", "z", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);
  const char *files[] = {a, b, c, NULL};
  assert_versions(ctx, files);

  g_autoptr(LatheContext) none =
      csv_context("{\"path\": \"runs\", \"label\": \"label\", \"group\": \"none\"}");
  const LatheDataset *dn = csv_run_ok(none);
  g_assert_cmpuint(dn->n_rows, ==, 5);
  g_assert_null(dn->groups);
  g_assert_cmpuint(dn->n_groups, ==, 0);
}

static void test_single_file_groups(void) {
  csv_fixture_put("one/single.csv", "v\n1\n2\n", -1);
  g_autoptr(LatheContext) auto_ctx = csv_context("{\"path\": \"one/single.csv\"}");
  g_assert_null(csv_run_ok(auto_ctx)->groups);
  g_autoptr(LatheContext) file_ctx =
      csv_context("{\"path\": \"one/single.csv\", \"group\": \"file\"}");
  const LatheDataset *ds = csv_run_ok(file_ctx);
  g_assert_cmpuint(ds->n_groups, ==, 1);
  g_assert_cmpstr(ds->group_names[0], ==, "single.csv");
  g_assert_cmpint(ds->groups[1], ==, 0);
}

static void test_group_column(void) {
  csv_fixture_put("grp.csv", "machine,v,label\nm2,1,a\nm1,2,b\nm2,3,a\n m10 ,4,b\n", -1);
  g_autoptr(LatheContext) ctx =
      csv_context("{\"path\": \"grp.csv\", \"label\": \"label\", \"group_column\": \"machine\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_cols, ==, 1); /* the group column is not a feature */
  g_assert_cmpstr(ds->columns[0], ==, "v");
  const char *groups[] = {"m1", "m10", "m2", NULL};
  assert_strv(ds->group_names, ds->n_groups, groups);
  const gint32 want[] = {2, 0, 2, 1};
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint(ds->groups[i], ==, want[i]);

  g_autofree char *e1 =
      csv_run_error("{\"path\": \"grp.csv\", \"group\": \"column\"}", LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(e1, "group is \"column\" but group_column is not set"));
  g_autofree char *e2 = csv_run_error(
      "{\"path\": \"grp.csv\", \"group\": \"file\", \"group_column\": \"machine\"}",
      LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(e2, "group_column is set but group is \"file\""));
  g_autofree char *e3 = csv_run_error(
      "{\"path\": \"grp.csv\", \"drop\": [\"label\"], \"group_column\": \"host\"}",
      LATHE_ERROR_INVALID);
  g_assert_cmpstr(e3, ==,
                  "group_column 'host' is not a column of grp.csv; available columns: "
                  "machine, v, label");
}

static const char *const members[] = {
    "x/",           "",
    "x/2.csv",      "v,label\n3,q\n",
    "x/1.csv",      "v,label\n1,p\n2,q\n",
    "README.md",    "# not data\n",
    "__MACOSX/._1.csv", "\x05junk",
    NULL,
};

static void check_archive_dataset(const LatheDataset *ds, const char *prefix) {
  g_assert_cmpuint(ds->n_rows, ==, 3);
  /* Archive order, not name order: members cannot be revisited cheaply. */
  g_assert_cmpfloat(ds->x[0], ==, 3.0f);
  g_assert_cmpfloat(ds->x[1], ==, 1.0f);
  g_assert_cmpfloat(ds->x[2], ==, 2.0f);
  g_autofree char *g0 = g_strconcat(prefix, "x/2.csv", NULL);
  g_autofree char *g1 = g_strconcat(prefix, "x/1.csv", NULL);
  g_assert_cmpuint(ds->n_groups, ==, 2);
  g_assert_cmpstr(ds->group_names[0], ==, g0);
  g_assert_cmpstr(ds->group_names[1], ==, g1);
  g_assert_cmpint(ds->groups[0], ==, 0);
  g_assert_cmpint(ds->groups[2], ==, 1);
  const char *classes[] = {"p", "q", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);
}

static void test_zip(void) {
  g_autofree char *zip = csv_fixture_archive("arch/data.zip", members);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"arch/data.zip\", \"label\": \"label\"}");
  check_archive_dataset(csv_run_ok(ctx), "");
  const char *files[] = {zip, NULL};
  assert_versions(ctx, files);
}

static void test_tar_gz(void) {
  g_autofree char *tgz = csv_fixture_archive("arch/data.tar.gz", members);
  g_autoptr(LatheContext) ctx =
      csv_context("{\"path\": \"arch/data.tar.gz\", \"label\": \"label\"}");
  check_archive_dataset(csv_run_ok(ctx), "");
  const char *files[] = {tgz, NULL};
  assert_versions(ctx, files);
  /* .tgz is the same format under another name. */
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(tgz, &data, &len, NULL));
  csv_fixture_put("arch/copy.tgz", data, (gssize)len);
  g_autoptr(LatheContext) ctx2 =
      csv_context("{\"path\": \"arch/copy.tgz\", \"label\": \"label\"}");
  check_archive_dataset(csv_run_ok(ctx2), "");
}

static void test_archive_in_folder(void) {
  g_autofree char *zip = csv_fixture_archive("mixed/day1.zip", members);
  g_autofree char *extra = csv_fixture_write("mixed/extra.csv", "v,label\n9,p\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"mixed\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 4);
  const char *groups[] = {"day1.zip/x/2.csv", "day1.zip/x/1.csv", "extra.csv", NULL};
  assert_strv(ds->group_names, ds->n_groups, groups);
  g_assert_cmpfloat(ds->x[3], ==, 9.0f);
  const char *files[] = {zip, extra, NULL};
  assert_versions(ctx, files);
}

static void test_archive_errors(void) {
  const char *const bad[] = {"a.csv", "v,label\n1,p\n", "b.csv", "v,label\n1,p,3\n", NULL};
  csv_fixture_put_archive("arch/bad.zip", bad);
  g_autofree char *e1 =
      csv_run_error("{\"path\": \"arch/bad.zip\", \"label\": \"label\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e1, ==,
                  "arch/bad.zip/b.csv:2: row has 3 fields, expected 2 (from the header)");

  const char *const none[] = {"readme.txt", "hello\n", NULL};
  csv_fixture_put_archive("arch/none.zip", none);
  g_autofree char *e2 = csv_run_error("{\"path\": \"arch/none.zip\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e2, ==, "arch/none.zip: no .csv or .tsv file inside the archive");

  csv_fixture_put("arch/fake.zip", "v\n1\n", -1);
  g_autofree char *e3 = csv_run_error("{\"path\": \"arch/fake.zip\"}", LATHE_ERROR_DATA);
  g_assert_true(g_str_has_prefix(e3, "arch/fake.zip: "));
}

static void test_mismatched_headers(void) {
  csv_fixture_put("mm/a.csv", "x,y\n1,2\n", -1);
  csv_fixture_put("mm/b.csv", "x,z\n1,2\n", -1);
  g_autofree char *e1 = csv_run_error("{\"path\": \"mm\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e1, ==,
                  "mm/b.csv:1: header differs from mm/a.csv: column 2 is 'z' here but 'y' "
                  "there; all files must have the same columns");
  csv_fixture_put("mm2/a.csv", "x,y\n1,2\n", -1);
  csv_fixture_put("mm2/b.csv", "x,y,z\n1,2,3\n", -1);
  g_autofree char *e2 = csv_run_error("{\"path\": \"mm2\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e2, ==,
                  "mm2/b.csv:1: header has 3 columns but mm2/a.csv has 2; all files must "
                  "have the same columns");
  g_autofree char *e3 = csv_run_error("{\"path\": \"mm2\", \"header\": false}",
                                      LATHE_ERROR_DATA);
  g_assert_true(g_str_has_prefix(e3, "mm2/a.csv:1:1: 'x' is not a number"));
  csv_fixture_put("emptydir/readme.txt", "x", -1);
  g_autofree char *e4 = csv_run_error("{\"path\": \"emptydir\"}", LATHE_ERROR_DATA);
  g_assert_true(g_str_has_prefix(e4, "emptydir: folder holds no .csv"));
}

static void test_digest_tracks_content(void) {
  csv_fixture_put("ver.csv", "v\n1\n", -1);
  g_autoptr(LatheContext) c1 = csv_context("{\"path\": \"ver.csv\"}");
  csv_run_ok(c1);
  g_autofree char *d1 = g_strdup(json_object_get_string_member(
      json_array_get_object_element(lathe_context_get_data_versions(c1), 0), "digest"));
  g_autofree char *p2 = csv_fixture_write("ver.csv", "v\n2\n", -1);
  g_autoptr(LatheContext) c2 = csv_context("{\"path\": \"ver.csv\"}");
  csv_run_ok(c2);
  const char *d2 = json_object_get_string_member(
      json_array_get_object_element(lathe_context_get_data_versions(c2), 0), "digest");
  g_assert_cmpstr(d1, !=, d2);
  g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "v\n1\n", -1);
  g_assert_cmpstr(d1, ==, want);
  const char *files[] = {p2, NULL};
  assert_versions(c2, files);
}

static GArray *fractions;

static void record_progress(gpointer host_data, LatheContext *ctx, double f, const char *msg) {
  g_array_append_val(fractions, f);
}

static void test_progress(void) {
  csv_fixture_put("prog/a.csv", "v\n1\n", -1);
  csv_fixture_put("prog/b.csv", "v\n2\n", -1);
  csv_fixture_put("prog/c.csv", "v\n3\n", -1);
  g_autoptr(LatheContext) base = csv_context("{\"path\": \"prog\"}");
  static const LatheHostServices host = {.struct_size = sizeof(LatheHostServices),
                                         .progress = record_progress};
  g_autoptr(LatheContext) ctx =
      lathe_context_new("data", lathe_context_get_params(base), 1, &host, NULL);
  lathe_context_set_dirs(ctx, csv_fixture_dir(), NULL, NULL);
  fractions = g_array_new(FALSE, FALSE, sizeof(double));
  csv_run_ok(ctx);
  g_assert_cmpuint(fractions->len, >=, 3);
  for (guint i = 1; i < fractions->len; i++)
    g_assert_cmpfloat(g_array_index(fractions, double, i), >=,
                      g_array_index(fractions, double, i - 1));
  g_assert_cmpfloat_with_epsilon(g_array_index(fractions, double, 0), 1.0 / 3, 1e-9);
  g_assert_cmpfloat(g_array_index(fractions, double, fractions->len - 1), ==, 1.0);
  g_array_unref(fractions);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  csv_fixtures_init();
  g_test_add_func("/source-csv/folder-groups", test_folder_groups);
  g_test_add_func("/source-csv/single-file-groups", test_single_file_groups);
  g_test_add_func("/source-csv/group-column", test_group_column);
  g_test_add_func("/source-csv/zip", test_zip);
  g_test_add_func("/source-csv/tar-gz", test_tar_gz);
  g_test_add_func("/source-csv/archive-in-folder", test_archive_in_folder);
  g_test_add_func("/source-csv/archive-errors", test_archive_errors);
  g_test_add_func("/source-csv/mismatched-headers", test_mismatched_headers);
  g_test_add_func("/source-csv/digest-tracks-content", test_digest_tracks_content);
  g_test_add_func("/source-csv/progress", test_progress);
  return csv_fixtures_cleanup(g_test_run());
}
