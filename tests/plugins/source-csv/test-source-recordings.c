/* source/recordings through its ABI: a <class>/.../<file> layout of zips and
 * CSV files built at test time (CRLF and "0.0" numbers in one class, LF and
 * plain numbers in the other), labels from folders, a group per file, the
 * time column, column selection, max_per_class, data versions, refusals, and
 * the real IDEKO recordings when they are present. */
#include <string.h>

#include "csv-fixtures.h"

static const LatheSourceClass *rec_component(void) {
  return (const LatheSourceClass *)lathe_test_component("source-csv", "source/recordings");
}

static LatheContext *rec_context(const char *params_json) {
  LatheContext *ctx =
      lathe_test_context(LATHE_COMPONENT(*rec_component()), "recs", params_json, 7);
  g_autofree char *store = g_build_filename(csv_fixture_dir(), ".store", NULL);
  lathe_context_set_dirs(ctx, csv_fixture_dir(), store, store);
  return ctx;
}

static const LatheDataset *rec_run_ok(LatheContext *ctx) {
  g_autoptr(GError) error = NULL;
  gboolean ok = rec_component()->run(ctx, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  const LatheDataset *ds = lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"),
                                                      &error);
  g_assert_no_error(error);
  g_assert_nonnull(ds);
  return ds;
}

static char *rec_run_error(const char *params_json) {
  g_autoptr(LatheContext) ctx = rec_context(params_json);
  g_autoptr(GError) error = NULL;
  g_assert_false(rec_component()->run(ctx, &error));
  g_assert_nonnull(error);
  g_assert_true(error->domain == LATHE_ERROR);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(lathe_context_get_output(ctx, "data"));
  return g_strdup(error->message);
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_error("expected '%s' in: %s", needle, haystack);
}

/* The layout, in byte order of the paths (the order they must be read in):
 *   electrical/d1/a.zip   2 rows  CRLF, time in ms, "1800.0" numbers
 *   electrical/d1/b.zip   3 rows  CRLF
 *   electrical/d2/c.zip   1 row   CRLF
 *   normal/sub/y.csv      1 row   LF, plain CSV (not zipped)
 *   normal/x.zip          2 rows  LF, time in s, "1800" and 17 decimals */
static const char *const files[] = {"electrical/d1/a.zip", "electrical/d1/b.zip",
                                    "electrical/d2/c.zip", "normal/sub/y.csv",
                                    "normal/x.zip", NULL};
static char *paths[5];

static void make_layout(void) {
  if (paths[0])
    return;
  /* Written out of order: reading order must come from the sorted paths. */
  const char *x[] = {"x.csv",
                     "time;f1;f2;f3;f4\n0;1800;1799.86118;0.26953;1800\n"
                     "0.002;1800.12345678901234567;1800;0.33594;1800\n",
                     NULL};
  paths[4] = csv_fixture_archive("recs/normal/x.zip", x);
  paths[3] = csv_fixture_write("recs/normal/sub/y.csv", "time;f1;f2;f3;f4\n0;1;2;3;4\n", -1);
  const char *c[] = {"c.csv", "time;f1;f2;f3;f4\r\n0.0;5.0;6.0;7.0;8.0\r\n", NULL};
  paths[2] = csv_fixture_archive("recs/electrical/d2/c.zip", c);
  const char *b[] = {"b.csv",
                     "time;f1;f2;f3;f4\r\n0.0;10.0;11.0;12.0;13.0\r\n2.0;14.0;15.0;16.0;17.0\r\n"
                     "4.0;18.0;19.0;20.0;21.0\r\n",
                     NULL};
  paths[1] = csv_fixture_archive("recs/electrical/d1/b.zip", b);
  const char *a[] = {"a.csv",
                     "time;f1;f2;f3;f4\r\n0.0;1800.0;1800.00361;-1.08984;1800.0\r\n"
                     "2.0;1800.5;1800.0;2.5;1801.0\r\n",
                     NULL};
  paths[0] = csv_fixture_archive("recs/electrical/d1/a.zip", a);
  csv_fixture_put("recs/notes.txt", "not a recording", -1);
  csv_fixture_put("recs/.hidden/z.csv", "junk", -1);
}

static void assert_versions(LatheContext *ctx, const guint *which, guint n) {
  JsonArray *versions = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(versions), ==, n);
  for (guint i = 0; i < n; i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    g_autofree char *canon = g_canonicalize_filename(paths[which[i]], NULL);
    g_autofree char *sha = csv_sha256_of(paths[which[i]]);
    g_assert_cmpstr(json_object_get_string_member(v, "uri"), ==, canon);
    g_assert_cmpstr(json_object_get_string_member(v, "digest"), ==, sha);
  }
}

static void test_layout(void) {
  make_layout();
  g_autoptr(LatheContext) ctx = rec_context("{\"path\": \"recs/\"}");
  const LatheDataset *ds = rec_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 9);
  g_assert_cmpuint(ds->n_cols, ==, 4); /* time is left out */
  const char *cols[] = {"f1", "f2", "f3", "f4"};
  for (guint j = 0; j < 4; j++)
    g_assert_cmpstr(ds->columns[j], ==, cols[j]);
  g_assert_cmpuint(ds->n_classes, ==, 2);
  g_assert_cmpstr(ds->classes[0], ==, "electrical");
  g_assert_cmpstr(ds->classes[1], ==, "normal");
  g_assert_cmpuint(ds->n_groups, ==, 5);
  for (guint g = 0; g < 5; g++)
    g_assert_cmpstr(ds->group_names[g], ==, files[g]);
  const gint32 groups[] = {0, 0, 1, 1, 1, 2, 3, 4, 4}, labels[] = {0, 0, 0, 0, 0, 0, 1, 1, 1};
  for (guint r = 0; r < 9; r++) {
    g_assert_cmpint(ds->groups[r], ==, groups[r]);
    g_assert_cmpint(ds->labels[r], ==, labels[r]);
  }
  /* Both number formats and both line endings parse to the same floats. */
  const float row0[] = {1800.0f, (float)1800.00361, (float)-1.08984, 1800.0f};
  const float row8[] = {(float)1800.12345678901234567, 1800.0f, (float)0.33594, 1800.0f};
  for (guint j = 0; j < 4; j++) {
    g_assert_cmpfloat(ds->x[j], ==, row0[j]);
    g_assert_cmpfloat(ds->x[8 * 4 + j], ==, row8[j]);
    g_assert_cmpfloat(ds->x[4 * 4 + j], ==, (float)(18 + j)); /* b.zip, last row */
    g_assert_cmpfloat(ds->x[6 * 4 + j], ==, (float)(1 + j));  /* y.csv */
  }
  const guint all[] = {0, 1, 2, 3, 4};
  assert_versions(ctx, all, 5);
}

static void test_columns(void) {
  make_layout();
  g_autoptr(LatheContext) ctx = rec_context("{\"path\": \"recs\", \"columns\": [\"f3\"]}");
  const LatheDataset *ds = rec_run_ok(ctx);
  g_assert_cmpuint(ds->n_cols, ==, 1);
  g_assert_cmpstr(ds->columns[0], ==, "f3");
  g_assert_cmpfloat(ds->x[0], ==, (float)-1.08984);
  g_assert_cmpfloat(ds->x[5], ==, 7.0f);
  g_assert_cmpuint(ds->n_groups, ==, 5);

  /* The order listed is kept, and time comes back when it is named. */
  g_autoptr(LatheContext) t = rec_context("{\"path\": \"recs\", \"columns\": [\"f4\", \"time\"]}");
  const LatheDataset *dt = rec_run_ok(t);
  g_assert_cmpuint(dt->n_cols, ==, 2);
  g_assert_cmpstr(dt->columns[0], ==, "f4");
  g_assert_cmpstr(dt->columns[1], ==, "time");
  g_assert_cmpfloat(dt->x[1 * 2 + 1], ==, 2.0f);      /* electrical: milliseconds */
  g_assert_cmpfloat(dt->x[8 * 2 + 1], ==, (float)0.002); /* normal: seconds */
  g_assert_cmpfloat(dt->x[1 * 2], ==, 1801.0f);

  /* Another time column name. */
  csv_fixture_put("other/c1/r.csv", "t_ms;v\n0;1.5\n1;2.5\n", -1);
  g_autoptr(LatheContext) o = rec_context("{\"path\": \"other\", \"time_column\": \"t_ms\"}");
  const LatheDataset *d2 = rec_run_ok(o);
  g_assert_cmpuint(d2->n_cols, ==, 1);
  g_assert_cmpstr(d2->columns[0], ==, "v");
  g_assert_cmpfloat(d2->x[1], ==, 2.5f);
  g_assert_cmpstr(d2->group_names[0], ==, "c1/r.csv");
}

static void test_max_per_class(void) {
  make_layout();
  g_autoptr(LatheContext) ctx = rec_context("{\"path\": \"recs\", \"max_per_class\": 1}");
  const LatheDataset *ds = rec_run_ok(ctx);
  g_assert_cmpuint(ds->n_groups, ==, 2);
  g_assert_cmpstr(ds->group_names[0], ==, "electrical/d1/a.zip");
  g_assert_cmpstr(ds->group_names[1], ==, "normal/sub/y.csv");
  g_assert_cmpuint(ds->n_rows, ==, 3);
  const guint read[] = {0, 3};
  assert_versions(ctx, read, 2);

  g_autoptr(LatheContext) two = rec_context("{\"path\": \"recs\", \"max_per_class\": 2}");
  const LatheDataset *d2 = rec_run_ok(two);
  g_assert_cmpuint(d2->n_groups, ==, 4);
  g_assert_cmpstr(d2->group_names[1], ==, "electrical/d1/b.zip");
  g_assert_cmpstr(d2->group_names[3], ==, "normal/x.zip");
}

static void test_label_none(void) {
  make_layout();
  g_autoptr(LatheContext) ctx = rec_context("{\"path\": \"recs\", \"label_from\": \"none\"}");
  const LatheDataset *ds = rec_run_ok(ctx);
  g_assert_null(ds->labels);
  g_assert_cmpuint(ds->n_classes, ==, 0);
  g_assert_cmpuint(ds->n_groups, ==, 5);
  g_assert_cmpuint(ds->n_rows, ==, 9);

  /* Files directly in the folder need label_from none. */
  csv_fixture_put("flat/r1.csv", "time;v\n0;1\n", -1);
  g_autofree char *msg = rec_run_error("{\"path\": \"flat\"}");
  assert_contains(msg, "flat/r1.csv: file directly in path, so it has no class folder");
  g_autoptr(LatheContext) flat = rec_context("{\"path\": \"flat\", \"label_from\": \"none\"}");
  const LatheDataset *df = rec_run_ok(flat);
  g_assert_cmpstr(df->group_names[0], ==, "r1.csv");
  g_assert_cmpuint(df->n_groups, ==, 1); /* one file is still one group */
}

static void test_errors(void) {
  make_layout();
  const char *two[] = {"p.csv", "time;v\n0;1\n", "q.csv", "time;v\n0;2\n", NULL};
  csv_fixture_put_archive("bad2/k/two.zip", two);
  g_autofree char *m1 = rec_run_error("{\"path\": \"bad2\"}");
  assert_contains(m1, "bad2/k/two.zip: holds more than one .csv or .tsv file ('p.csv' and "
                      "'q.csv')");

  const char *empty[] = {"e.csv", "time;v\r\n", NULL};
  csv_fixture_put_archive("bad3/k/a.zip", empty);
  g_autofree char *m2 = rec_run_error("{\"path\": \"bad3\"}");
  assert_contains(m2, "bad3/k/a.zip/e.csv: only a header, no data rows");

  g_autofree char *m3 = rec_run_error("{\"path\": \"recs\", \"time_column\": \"tick\"}");
  assert_contains(m3, "time_column: column 'tick' is not a column of recs/electrical/d1/"
                      "a.zip/a.csv; available columns: time, f1, f2, f3, f4");
  g_autofree char *m4 = rec_run_error("{\"path\": \"recs\", \"columns\": [\"f9\"]}");
  assert_contains(m4, "columns: column 'f9' is not a column of");
  g_autofree char *m5 = rec_run_error("{\"path\": \"recs\", \"columns\": [\"f1\", \"f1\"]}");
  assert_contains(m5, "columns: 'f1' is listed twice");
  g_autofree char *m6 = rec_run_error("{\"path\": \"recs/normal/sub/y.csv\"}");
  assert_contains(m6, "is not a folder");
  g_autofree char *m7 = rec_run_error("{\"path\": \"nowhere\"}");
  assert_contains(m7, "path 'nowhere'");

  csv_fixture_put("bad4/k/r.csv", "time;v;w\n0;1;x\n", -1);
  g_autofree char *m8 = rec_run_error("{\"path\": \"bad4\"}");
  g_assert_cmpstr(m8, ==,
                  "bad4/k/r.csv:2:3: 'x' is not a number (column 'w'); fix the value or name "
                  "the numeric columns to read in \"columns\"");
  g_autofree char *m9 = rec_run_error("{\"path\": \"bad4\", \"columns\": [\"w\"]}");
  assert_contains(m9, "fix the value or leave the column out of \"columns\"");

  csv_fixture_put("bad5/k/r.csv", "time,v\n0,1\n", -1);
  g_autofree char *m10 = rec_run_error("{\"path\": \"bad5\", \"decimal\": \"comma\"}");
  assert_contains(m10, "the delimiter and the decimal separator are both ','");
  csv_fixture_put("dec/k/r.csv", "time;v\n0;1,25\n", -1);
  g_autoptr(LatheContext) dec = rec_context("{\"path\": \"dec\", \"decimal\": \"comma\"}");
  g_assert_cmpfloat(rec_run_ok(dec)->x[0], ==, 1.25f);
}

/* The real recordings, f3 only: what the IDEKO pipelines read. */
static void test_ideko(void) {
  g_autofree char *root = lathe_test_shared_path("ideko");
  if (!root) {
    g_test_skip("shared IDEKO data not found (set LATHE_SHARED_DATA to the folder holding "
                "ideko/); skipping the real-data check");
    return;
  }
  g_autofree char *params =
      g_strdup_printf("{\"path\": \"%s\", \"columns\": [\"f3\"]}", root);
  g_autoptr(LatheContext) ctx = rec_context(params);
  const LatheDataset *ds = rec_run_ok(ctx);
  g_assert_cmpuint(ds->n_cols, ==, 1);
  g_assert_cmpstr(ds->columns[0], ==, "f3");
  g_assert_cmpuint(ds->n_groups, ==, 155);
  g_assert_cmpuint(ds->n_classes, ==, 3);
  const char *classes[] = {"electrical_anomalies", "mechanical_anomalies", "not_anomalous"};
  for (guint c = 0; c < 3; c++)
    g_assert_cmpstr(ds->classes[c], ==, classes[c]);
  g_autofree guint *rows = g_new0(guint, ds->n_groups);
  for (guint r = 0; r < ds->n_rows; r++) {
    gint32 g = ds->groups[r];
    /* contiguous, in order, one class per recording, from its folder */
    g_assert_true(r == 0 ? g == 0 : g == ds->groups[r - 1] || g == ds->groups[r - 1] + 1);
    g_assert_true(g_str_has_prefix(ds->group_names[g], ds->classes[ds->labels[r]]));
    rows[g]++;
  }
  for (guint g = 0; g < ds->n_groups; g++) {
    if (rows[g] < 18000 || rows[g] > 20000)
      g_error("%s has %u rows", ds->group_names[g], rows[g]);
    g_assert_true(g_str_has_suffix(ds->group_names[g], ".zip"));
  }
  JsonArray *versions = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(versions), ==, 155);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  csv_fixtures_init();
  g_test_add_func("/source-recordings/layout", test_layout);
  g_test_add_func("/source-recordings/columns", test_columns);
  g_test_add_func("/source-recordings/max-per-class", test_max_per_class);
  g_test_add_func("/source-recordings/label-none", test_label_none);
  g_test_add_func("/source-recordings/errors", test_errors);
  g_test_add_func("/source-recordings/ideko", test_ideko);
  int status = g_test_run();
  for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
    g_free(paths[i]);
  return csv_fixtures_cleanup(status);
}
