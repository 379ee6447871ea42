/* source/timeseries: exact day/second columns for every supported format,
 * folders and file lists as groups, data versions, and one-line refusals
 * naming file and line. */
#include <glib/gstdio.h>
#include <string.h>

#include "ts-fixtures.h"
#include "test-util.h"

#define PLUGIN "source-timeseries"
#define ID "source/timeseries"

static char *tmp_root;


static char *write_file(const char *rel, const char *text) {
  char *path = g_build_filename(tmp_root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void put(const char *rel, const char *text) {
  g_free(write_file(rel, text));
}

static LatheDataset *read_ok(const char *params, LatheContext **ctx) {
  g_autoptr(GError) error = NULL;
  LatheDataset *ds = ts_run(PLUGIN, ID, params, NULL, ctx, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ds);
  return ds;
}

static char *read_error(const char *params) {
  return ts_expect_error(PLUGIN, ID, params, NULL);
}

/* 2014-07-01 is day 16252 after 1970-01-01 (1404172800 / 86400). */
static void test_default_format(void) {
  g_autofree char *path = write_file("one.csv",
                                     "timestamp,value\r\n"
                                     "2014-07-01 00:00:00,10844\r\n"
                                     "2014-07-01 00:30:00,8127.5\r\n"
                                     "2014-07-01 23:59:59,-3\r\n"
                                     "2014-07-02 00:00:01,0\r\n");
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", path);
  LatheContext *ctx = NULL;
  g_autoptr(LatheDataset) ds = read_ok(params, &ctx);
  g_assert_cmpuint(ds->n_rows, ==, 4);
  g_assert_cmpuint(ds->n_cols, ==, 3);
  g_assert_cmpstr(ds->columns[0], ==, "timestamp_days");
  g_assert_cmpstr(ds->columns[1], ==, "timestamp_sec");
  g_assert_cmpstr(ds->columns[2], ==, "value");
  const float want[4][3] = {{16252, 0, 10844}, {16252, 1800, 8127.5f}, {16252, 86399, -3},
                            {16253, 1, 0}};
  for (guint r = 0; r < 4; r++)
    for (guint j = 0; j < 3; j++)
      g_assert_cmpfloat(ds->x[r * 3 + j], ==, want[r][j]);
  /* Epoch seconds come back exactly from the two columns. */
  g_assert_cmpfloat((double)ds->x[0] * 86400.0 + ds->x[1], ==, 1404172800.0);
  g_assert_cmpuint(ds->n_groups, ==, 1);
  g_assert_cmpstr(ds->group_names[0], ==, "one.csv");
  g_assert_cmpint(ds->groups[3], ==, 0);
  JsonArray *versions = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(versions), ==, 1);
  JsonObject *v = json_array_get_object_element(versions, 0);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  g_autofree char *digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)text, len);
  g_assert_cmpstr(json_object_get_string_member(v, "digest"), ==, digest);
  g_assert_cmpstr(json_object_get_string_member(v, "uri"), ==, path);
  lathe_context_free(ctx);
}

static void test_iso_epoch_pattern(void) {
  g_autofree char *iso = write_file("iso.csv",
                                    "value,time\n"
                                    "1,2016-02-29T00:00:00\n"
                                    "2,2016-02-29T01:00:00Z\n"
                                    "3,2016-02-29T03:30:00+02:00\n"
                                    "4,2016-02-29T01:00:00.5-01:00\n"
                                    "5,1969-12-31T23:59:59\n");
  /* Rows 1..4 increase; the last one is before 1970 and must go first. */
  g_autofree char *params =
      g_strdup_printf("{\"path\": \"%s\", \"format\": \"iso8601\", \"timestamp_column\": "
                      "\"time\"}",
                      iso);
  g_autofree char *msg = read_error(params);
  ts_assert_contains(msg, "iso.csv:6:");
  ts_assert_contains(msg, "not after the previous row");

  g_autofree char *iso2 = write_file("iso2.csv",
                                     "value,time\n"
                                     "5,1969-12-31T23:59:59\n"
                                     "1,2016-02-29T00:00:00\n"
                                     "2,2016-02-29T01:00:00Z\n"
                                     "3,2016-02-29T03:30:00+02:00\n"
                                     "4,2016-02-29T01:00:00.5-01:00\n");
  g_autofree char *p2 = g_strdup_printf(
      "{\"path\": \"%s\", \"format\": \"iso8601\", \"timestamp_column\": \"time\"}", iso2);
  g_autoptr(LatheDataset) ds = read_ok(p2, NULL);
  g_assert_cmpuint(ds->n_rows, ==, 5);
  g_assert_cmpstr(ds->columns[2], ==, "value");
  /* 2016-02-29 is day 16860. */
  const float want[5][2] = {{-1, 86399}, {16860, 0}, {16860, 3600}, {16860, 5400},
                            {16860, 7200.5f}};
  for (guint r = 0; r < 5; r++) {
    g_assert_cmpfloat(ts_at(ds, r, "timestamp_days"), ==, want[r][0]);
    g_assert_cmpfloat(ts_at(ds, r, "timestamp_sec"), ==, want[r][1]);
    g_assert_cmpfloat(ts_at(ds, r, "value"), ==, r == 0 ? 5 : r);
  }

  g_autofree char *ep = write_file("epoch.csv", "timestamp,value\n1404172800,1\n1404259201.25,2\n");
  g_autofree char *p3 = g_strdup_printf("{\"path\": \"%s\", \"format\": \"epoch\"}", ep);
  g_autoptr(LatheDataset) e = read_ok(p3, NULL);
  g_assert_cmpfloat(ts_at(e, 1, "timestamp_days"), ==, 16253);
  g_assert_cmpfloat(ts_at(e, 1, "timestamp_sec"), ==, 1.25f);

  g_autofree char *pat = write_file("pat.csv", "timestamp,value\n1/7/2014 0:05,1\n31/12/2014 23:00,2\n");
  g_autofree char *p4 =
      g_strdup_printf("{\"path\": \"%s\", \"format\": \"%%d/%%m/%%Y %%H:%%M\"}", pat);
  g_autoptr(LatheDataset) pd = read_ok(p4, NULL);
  g_assert_cmpfloat(ts_at(pd, 0, "timestamp_days"), ==, 16252);
  g_assert_cmpfloat(ts_at(pd, 0, "timestamp_sec"), ==, 300);
  g_assert_cmpfloat(ts_at(pd, 1, "timestamp_days"), ==, 16252 + 183);
  g_assert_cmpfloat(ts_at(pd, 1, "timestamp_sec"), ==, 82800);
}

static void test_refusals(void) {
  struct {
    const char *text, *needle;
  } cases[] = {
      {"timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:00:00,2\n",
       "bad.csv:3: timestamp '2014-07-01 00:00:00' is not after"},
      {"timestamp,value\n2014-07-01 00:05:00,1\n2014-07-01 00:00:00,2\n",
       "bad.csv:3: timestamp '2014-07-01 00:00:00' is not after the previous row's; sort the "
       "file by time and drop duplicate timestamps, or set unordered to \"keep\""},
      {"timestamp,value\n2015-02-29 00:00:00,1\n", "bad.csv:2:1: timestamp '2015-02-29 00:00:00' day"},
      {"timestamp,value\n2014-07-01 24:00:00,1\n", "bad.csv:2:1:"},
      {"timestamp,value\n2014-07-01T00:00:00,1\n", "does not match the format"},
      {"timestamp,value\n2014-07-01 00:00:00,abc\n", "bad.csv:2:2: column 'value': 'abc'"},
      {"timestamp,value\n2014-07-01 00:00:00,\n", "bad.csv:2:2:"},
      {"timestamp,value\n2014-07-01 00:00:00,nan\n", "not a finite number"},
      {"timestamp,value\n2014-07-01 00:00:00\n", "bad.csv:2: 1 fields"},
      {"time,value\n2014-07-01 00:00:00,1\n", "no column 'timestamp'"},
      {"timestamp\n2014-07-01 00:00:00\n", "no value column"},
      {"timestamp,value\n", "no data rows"},
      {"", "no data rows and no header"},
      {"timestamp,v\xe9lue\n2014-07-01 00:00:00,1\n",
       "bad.csv:1:2: column name 'v\\xe9lue' is not valid UTF-8; save the file as UTF-8"},
      {"\ntimestamp,\"\xc3\x28\"\n2014-07-01 00:00:00,1\n",
       "bad.csv:2:2: column name '\\xc3(' is not valid UTF-8"},
      {"PK\x03\x04\xff,x\n", "bad.csv:1:1: the header is binary data, not text (column name "
                               "'PK\\x03\\x04\\xff'); point path at a CSV file"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = write_file("bad.csv", cases[i].text);
    g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", path);
    g_autofree char *msg = read_error(params);
    ts_assert_contains(msg, cases[i].needle);
  }
  g_autofree char *missing = g_strdup_printf("{\"path\": \"%s/nope.csv\"}", tmp_root);
  g_autofree char *m1 = read_error(missing);
  ts_assert_contains(m1, "does not exist");
}

static void test_folder_groups(void) {
  g_autofree char *dir = g_build_filename(tmp_root, "nab", NULL);
  put("nab/realB/b.csv", "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n");
  put("nab/realA/z.csv", "timestamp,value\n2014-01-02 00:00:00,3\n");
  put("nab/Zeta.csv", "timestamp,value\n2014-01-03 00:00:00,4\n");
  put("nab/.hidden.csv", "junk\n");
  put("nab/notes.txt", "junk\n");
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", dir);
  LatheContext *ctx = NULL;
  g_autoptr(LatheDataset) ds = read_ok(params, &ctx);
  /* Byte order of the relative paths: 'Z' (0x5A) sorts before 'r'. */
  g_assert_cmpuint(ds->n_groups, ==, 3);
  g_assert_cmpstr(ds->group_names[0], ==, "Zeta.csv");
  g_assert_cmpstr(ds->group_names[1], ==, "realA/z.csv");
  g_assert_cmpstr(ds->group_names[2], ==, "realB/b.csv");
  g_assert_cmpuint(ds->n_rows, ==, 4);
  const gint32 groups[] = {0, 1, 2, 2};
  const float values[] = {4, 3, 1, 2};
  for (guint r = 0; r < 4; r++) {
    g_assert_cmpint(ds->groups[r], ==, groups[r]);
    g_assert_cmpfloat(ts_at(ds, r, "value"), ==, values[r]);
  }
  g_assert_cmpuint(json_array_get_length(lathe_context_get_data_versions(ctx)), ==, 3);
  lathe_context_free(ctx);

  g_autofree char *listed =
      g_strdup_printf("{\"path\": \"%s\", \"files\": [\"realB/b.csv\", \"Zeta.csv\"]}", dir);
  g_autoptr(LatheDataset) two = read_ok(listed, NULL);
  g_assert_cmpuint(two->n_groups, ==, 2);
  g_assert_cmpstr(two->group_names[0], ==, "realB/b.csv");
  g_assert_cmpstr(two->group_names[1], ==, "Zeta.csv");
  g_assert_cmpuint(two->n_rows, ==, 3);
  g_assert_cmpfloat(ts_at(two, 2, "value"), ==, 4);

  g_autofree char *up = g_strdup_printf("{\"path\": \"%s\", \"files\": [\"../x.csv\"]}", dir);
  g_autofree char *m1 = read_error(up);
  ts_assert_contains(m1, "files[0]");
  g_autofree char *twice =
      g_strdup_printf("{\"path\": \"%s\", \"files\": [\"Zeta.csv\", \"Zeta.csv\"]}", dir);
  g_autofree char *m2 = read_error(twice);
  ts_assert_contains(m2, "listed twice");
  g_autofree char *absent = g_strdup_printf("{\"path\": \"%s\", \"files\": [\"no.csv\"]}", dir);
  g_autofree char *m3 = read_error(absent);
  ts_assert_contains(m3, "no.csv: cannot read");
  put("nab2/a.csv", "timestamp,value\n2014-01-01 00:00:00,1\n");
  put("nab2/b.csv", "timestamp,v2\n2014-01-01 00:00:00,1\n");
  g_autofree char *dir2 = g_build_filename(tmp_root, "nab2", NULL);
  g_autofree char *p2 = g_strdup_printf("{\"path\": \"%s\"}", dir2);
  g_autofree char *m4 = read_error(p2);
  ts_assert_contains(m4, "b.csv:1: its value columns differ");
}

/* more_paths: a second folder's files follow the first's, each named
 * relative to its own folder (as NAB's labels key them), listed by files or
 * not; a name in both folders is refused. */
static void test_more_paths(void) {
  put("mp1/realK/a.csv", "timestamp,value\n2014-01-01 00:00:00,1\n");
  put("mp1/realK/b.csv", "timestamp,value\n2014-01-01 00:00:00,2\n");
  put("mp2/art/c.csv", "timestamp,value\n2014-01-01 00:00:00,3\n2014-01-01 00:05:00,4\n");
  put("mp2/realT/d.csv", "timestamp,value\n2014-01-01 00:00:00,5\n");
  g_autofree char *d1 = g_build_filename(tmp_root, "mp1", NULL);
  g_autofree char *d2 = g_build_filename(tmp_root, "mp2", NULL);
  g_autofree char *params =
      g_strdup_printf("{\"path\": \"%s\", \"files\": [\"realK/b.csv\"], \"more_paths\": [\"%s\"]}",
                      d1, d2);
  LatheContext *ctx = NULL;
  g_autoptr(LatheDataset) ds = read_ok(params, &ctx);
  g_assert_cmpuint(ds->n_groups, ==, 3);
  g_assert_cmpstr(ds->group_names[0], ==, "realK/b.csv");
  g_assert_cmpstr(ds->group_names[1], ==, "art/c.csv");
  g_assert_cmpstr(ds->group_names[2], ==, "realT/d.csv");
  const gint32 groups[] = {0, 1, 1, 2};
  const float values[] = {2, 3, 4, 5};
  g_assert_cmpuint(ds->n_rows, ==, 4);
  for (guint r = 0; r < 4; r++) {
    g_assert_cmpint(ds->groups[r], ==, groups[r]);
    g_assert_cmpfloat(ts_at(ds, r, "value"), ==, values[r]);
  }
  g_assert_cmpuint(json_array_get_length(lathe_context_get_data_versions(ctx)), ==, 3);
  lathe_context_free(ctx);
  put("mp3/realK/a.csv", "timestamp,value\n2014-01-01 00:00:00,9\n");
  g_autofree char *d3 = g_build_filename(tmp_root, "mp3", NULL);
  g_autofree char *clash =
      g_strdup_printf("{\"path\": \"%s\", \"more_paths\": [\"%s\"]}", d1, d3);
  g_autofree char *m1 = read_error(clash);
  ts_assert_contains(m1, "unique across folders");
  g_autofree char *notdir = g_strdup_printf(
      "{\"path\": \"%s/realK/a.csv\", \"more_paths\": [\"%s\"]}", d1, d2);
  g_autofree char *m2 = read_error(notdir);
  ts_assert_contains(m2, "more_paths[0]");
}

/* A repeated and a backward timestamp: kept in file order, or dropped. */
static void test_unordered(void) {
  g_autofree char *path = write_file("dst.csv",
                                     "timestamp,value\n"
                                     "2014-03-09 01:00:00,1\n"
                                     "2014-03-09 03:00:00,2\n"
                                     "2014-03-09 03:00:00,3\n"
                                     "2014-03-09 02:30:00,4\n"
                                     "2014-03-09 03:05:00,5\n");
  g_autofree char *keep = g_strdup_printf("{\"path\": \"%s\", \"unordered\": \"keep\"}", path);
  g_autoptr(LatheDataset) kept = read_ok(keep, NULL);
  g_assert_cmpuint(kept->n_rows, ==, 5);
  for (guint r = 0; r < 5; r++)
    g_assert_cmpfloat(ts_at(kept, r, "value"), ==, r + 1);
  g_assert_cmpfloat(ts_at(kept, 3, "timestamp_sec"), ==, 9000);
  g_autofree char *drop = g_strdup_printf("{\"path\": \"%s\", \"unordered\": \"drop\"}", path);
  g_autoptr(LatheDataset) dropped = read_ok(drop, NULL);
  g_assert_cmpuint(dropped->n_rows, ==, 3);
  const float want[] = {1, 2, 5};
  for (guint r = 0; r < 3; r++)
    g_assert_cmpfloat(ts_at(dropped, r, "value"), ==, want[r]);
  g_assert_cmpfloat(ts_at(dropped, 2, "timestamp_sec"), ==, 3 * 3600 + 300);
}

static void test_columns_param(void) {
  g_autofree char *path = write_file("multi.csv", "a,timestamp,b,c\n1,2014-01-01 00:00:00,2,3\n");
  g_autofree char *params =
      g_strdup_printf("{\"path\": \"%s\", \"columns\": [\"c\", \"a\"]}", path);
  g_autoptr(LatheDataset) ds = read_ok(params, NULL);
  g_assert_cmpuint(ds->n_cols, ==, 4);
  g_assert_cmpstr(ds->columns[2], ==, "c");
  g_assert_cmpstr(ds->columns[3], ==, "a");
  g_assert_cmpfloat(ds->x[2], ==, 3);
  g_assert_cmpfloat(ds->x[3], ==, 1);
  g_autofree char *bad = g_strdup_printf("{\"path\": \"%s\", \"columns\": [\"timestamp\"]}", path);
  g_autofree char *msg = read_error(bad);
  ts_assert_contains(msg, "multi.csv:1: columns: 'timestamp'");
}

/* The five NAB files of the shared data, read the way examples/nab does. */
static void test_nab_files(void) {
  g_autofree char *root = lathe_test_shared_path("nab/data");
  if (!root) {
    g_test_skip("shared NAB data (../shared/data/nab/data) is absent");
    return;
  }
  /* ec2_request_latency repeats 03:00:00 and machine_temperature goes back
   * from 02:55 to 02:00: refused by default, kept in file order on demand. */
  g_autofree char *strict = g_strdup_printf("{\"path\": \"%s\"}", root);
  g_autofree char *msg = read_error(strict);
  ts_assert_contains(msg, "ec2_request_latency_system_failure.csv:559: timestamp "
                          "'2014-03-09 03:00:00' is not after");
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\", \"unordered\": \"keep\"}", root);
  g_autoptr(LatheDataset) ds = read_ok(params, NULL);
  g_assert_cmpuint(ds->n_groups, ==, 5);
  g_assert_cmpuint(ds->n_rows, ==, 7267 + 18050 + 4032 + 22695 + 10320);
  g_autofree char *dropping =
      g_strdup_printf("{\"path\": \"%s\", \"unordered\": \"drop\"}", root);
  g_autoptr(LatheDataset) dropped = read_ok(dropping, NULL);
  g_assert_cmpuint(dropped->n_rows, ==, 7267 + 18050 + 4021 + 22683 + 10320);
  g_assert_cmpstr(ds->group_names[4], ==, "realKnownCause/nyc_taxi.csv");
  guint taxi = 0, first = G_MAXUINT;
  for (guint r = 0; r < ds->n_rows; r++)
    if (ds->groups[r] == 4) {
      first = MIN(first, r);
      taxi++;
    }
  g_assert_cmpuint(taxi, ==, 10320);
  /* 2014-07-01 00:00:00,10844 */
  g_assert_cmpfloat(ts_at(ds, first, "timestamp_days") * 86400.0 +
                        ts_at(ds, first, "timestamp_sec"),
                    ==, 1404172800.0);
  g_assert_cmpfloat(ts_at(ds, first, "value"), ==, 10844);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmp_root = g_dir_make_tmp("lathe-ts-XXXXXX", NULL);
  g_assert_nonnull(tmp_root);
  g_test_add_func("/source-timeseries/default-format", test_default_format);
  g_test_add_func("/source-timeseries/iso-epoch-pattern", test_iso_epoch_pattern);
  g_test_add_func("/source-timeseries/refusals", test_refusals);
  g_test_add_func("/source-timeseries/folder-groups", test_folder_groups);
  g_test_add_func("/source-timeseries/more-paths", test_more_paths);
  g_test_add_func("/source-timeseries/columns", test_columns_param);
  g_test_add_func("/source-timeseries/unordered", test_unordered);
  g_test_add_func("/source-timeseries/nab-files", test_nab_files);
  int rc = g_test_run();
  lathe_test_remove_tree(tmp_root);
  g_free(tmp_root);
  return rc;
}
