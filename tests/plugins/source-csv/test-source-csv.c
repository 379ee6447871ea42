/* source/csv through its ABI: one file at a time, formats and errors. Folders,
 * archives, groups and data versions are in test-source-csv-files.c. */
#include <string.h>

#include "csv-fixtures.h"

#define ASSERT_X(ds, row, col, v) \
  g_assert_cmpfloat_with_epsilon((ds)->x[(gsize)(row) * (ds)->n_cols + (col)], (v), 1e-6)

static void assert_strv(char **got, guint n, const char *const *want) {
  g_assert_cmpuint(n, ==, g_strv_length((char **)want));
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr(got[i], ==, want[i]);
}

static void test_component_spec(void) {
  const LatheComponent *c = lathe_test_component("source-csv", "source/csv");
  g_assert_cmpuint(c->kind, ==, LATHE_KIND_SOURCE);
  g_assert_cmpstr(c->outputs[0].name, ==, "data");
  g_assert_cmpint(c->outputs[0].type, ==, LATHE_TYPE_DATASET);
  g_assert_null(c->outputs[1].name);
  g_assert_nonnull(c->inputs);
  g_assert_null(c->inputs[0].name);
  const char *want[] = {"path",         "header",          "delimiter", "label",
                        "drop",         "group",           "group_column",
                        "max_expanded_mb", "max_ratio",    NULL};
  guint n = 0;
  for (const LatheParamSpec *s = c->params; s->name; s++, n++)
    g_assert_cmpstr(s->name, ==, want[n]);
  g_assert_cmpuint(n, ==, 9);
  g_assert_true(c->params[0].flags & LATHE_PARAM_REQUIRED);
}

static void test_iris(void) {
  g_autofree char *path = lathe_test_shared_path("iris/seaborn-data/iris.csv");
  if (!path) {
    g_test_skip("iris/seaborn-data/iris.csv not found under $LATHE_SHARED_DATA");
    return;
  }
  g_autofree char *params =
      g_strdup_printf("{\"path\": \"%s\", \"label\": \"species\"}", path);
  g_autoptr(LatheContext) ctx = csv_context(params);
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 150);
  g_assert_cmpuint(ds->n_cols, ==, 4);
  const char *cols[] = {"sepal_length", "sepal_width", "petal_length", "petal_width", NULL};
  assert_strv(ds->columns, ds->n_cols, cols);
  const char *classes[] = {"setosa", "versicolor", "virginica", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);
  ASSERT_X(ds, 0, 0, 5.1);
  ASSERT_X(ds, 0, 3, 0.2);
  ASSERT_X(ds, 149, 0, 5.9);
  ASSERT_X(ds, 149, 2, 5.1);
  guint count[3] = {0};
  for (guint i = 0; i < ds->n_rows; i++)
    count[ds->labels[i]]++;
  g_assert_cmpuint(count[0], ==, 50);
  g_assert_cmpuint(count[1], ==, 50);
  g_assert_cmpuint(count[2], ==, 50);
  g_assert_cmpint(ds->labels[0], ==, 0);
  g_assert_cmpint(ds->labels[149], ==, 2);
  g_assert_null(ds->groups); /* one file: no groups by default */

  JsonArray *versions = lathe_context_get_data_versions(ctx);
  g_assert_cmpuint(json_array_get_length(versions), ==, 1);
  JsonObject *v = json_array_get_object_element(versions, 0);
  g_autofree char *canon = g_canonicalize_filename(path, NULL);
  g_autofree char *sha = csv_sha256_of(path);
  g_assert_cmpstr(json_object_get_string_member(v, "uri"), ==, canon);
  g_assert_cmpstr(json_object_get_string_member(v, "digest"), ==, sha);
}

static void test_semicolon_crlf(void) {
  csv_fixture_put("semi.csv", "a;b;label\r\n1,5;2;x\r\n", -1);
  /* "1,5" is no number with '.' decimals; a well-formed file next. */
  csv_fixture_put("semi2.csv", "a;b;label\r\n1.5;2;x\r\n3;-4e1;y\r\n\r\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"semi2.csv\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 2);
  g_assert_cmpuint(ds->n_cols, ==, 2);
  g_assert_cmpstr(ds->columns[1], ==, "b");
  ASSERT_X(ds, 0, 0, 1.5);
  ASSERT_X(ds, 1, 1, -40.0);
  const char *classes[] = {"x", "y", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);

  g_autofree char *e1 = csv_run_error("{\"path\": \"semi.csv\", \"label\": \"label\"}",
                                      LATHE_ERROR_DATA);
  g_assert_cmpstr(e1, ==,
                  "semi.csv:2:1: '1,5' is not a number (column 'a'); fix the value or "
                  "list the column in \"drop\"");
  /* Forcing the wrong delimiter leaves one column, and the error shows it. */
  g_autofree char *e2 = csv_run_error(
      "{\"path\": \"semi2.csv\", \"label\": \"label\", \"delimiter\": \"comma\"}",
      LATHE_ERROR_INVALID);
  g_assert_cmpstr(e2, ==,
                  "label column 'label' is not a column of semi2.csv; available columns: "
                  "a;b;label");
}

static void test_tab(void) {
  csv_fixture_put("tab.tsv", "a\tb\tc\n1\t2\t3\n4\t5\t6\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"tab.tsv\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 2);
  g_assert_cmpuint(ds->n_cols, ==, 3);
  g_assert_null(ds->labels);
  ASSERT_X(ds, 1, 2, 6.0);
  g_autoptr(LatheContext) ctx2 = csv_context("{\"path\": \"tab.tsv\", \"delimiter\": \"tab\"}");
  g_assert_cmpuint(csv_run_ok(ctx2)->n_cols, ==, 3);
}

static void test_quoted(void) {
  csv_fixture_put(
      "quoted.csv",
      "a,\"b,1\",label\n"
      "\"1.5\",2,\"multi\nline\"\n"
      "3,\" 4 \",plain\n"
      "5,6,\"say \"\"hi\"\"\"\n"
      "7,8,\"p,q\"",
      -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"quoted.csv\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 4);
  g_assert_cmpstr(ds->columns[1], ==, "b,1");
  ASSERT_X(ds, 0, 0, 1.5);
  ASSERT_X(ds, 1, 1, 4.0);
  ASSERT_X(ds, 3, 1, 8.0);
  const char *classes[] = {"multi\nline", "p,q", "plain", "say \"hi\"", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);
  g_assert_cmpint(ds->labels[0], ==, 0);
  g_assert_cmpint(ds->labels[2], ==, 3);
  g_assert_cmpint(ds->labels[3], ==, 1);

  /* Lines are physical: the newline inside quotes counts. */
  csv_fixture_put("quoted-bad.csv", "a,label\n1,\"x\ny\"\nabc,z\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"quoted-bad.csv\", \"label\": \"label\"}",
                                     LATHE_ERROR_DATA);
  g_assert_true(g_str_has_prefix(e, "quoted-bad.csv:4:1: 'abc' is not a number"));
}

static void test_bom_and_spaces(void) {
  csv_fixture_put(
      "bom.csv", "\xEF\xBB\xBF" "a, b ,label\n 1 , 2\t,x \n3,4, x\n\n\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"bom.csv\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpstr(ds->columns[0], ==, "a");
  g_assert_cmpstr(ds->columns[1], ==, "b");
  g_assert_cmpuint(ds->n_rows, ==, 2);
  ASSERT_X(ds, 0, 1, 2.0);
  /* Surrounding spaces are not part of a class name. */
  g_assert_cmpuint(ds->n_classes, ==, 1);
  g_assert_cmpstr(ds->classes[0], ==, "x");
}

static void test_no_header(void) {
  csv_fixture_put("nohead.csv", "1,2,10\n3,4,2\n5,6,1\n", -1);
  g_autoptr(LatheContext) ctx =
      csv_context("{\"path\": \"nohead.csv\", \"header\": false, \"label\": \"c2\"}");
  const LatheDataset *ds = csv_run_ok(ctx);
  g_assert_cmpuint(ds->n_rows, ==, 3);
  const char *cols[] = {"c0", "c1", NULL};
  assert_strv(ds->columns, ds->n_cols, cols);
  ASSERT_X(ds, 0, 0, 1.0);
  /* Numeric class names sort as text. */
  const char *classes[] = {"1", "10", "2", NULL};
  assert_strv(ds->classes, ds->n_classes, classes);
  g_assert_cmpint(ds->labels[0], ==, 1);
  g_assert_cmpint(ds->labels[1], ==, 2);
  g_assert_cmpint(ds->labels[2], ==, 0);

  csv_fixture_put("nohead-rag.csv", "1,2\n3\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"nohead-rag.csv\", \"header\": false}",
                                     LATHE_ERROR_DATA);
  g_assert_cmpstr(e, ==, "nohead-rag.csv:2: row has 1 fields, expected 2 (from the first row)");
}

static void test_drop(void) {
  csv_fixture_put("drop.csv", "id,a,note,b,label\nr1,1,hello,2,x\nr2,3,,4,y\n", -1);
  g_autoptr(LatheContext) ctx = csv_context(
      "{\"path\": \"drop.csv\", \"label\": \"label\", \"drop\": [\"id\", \"note\"]}");
  const LatheDataset *ds = csv_run_ok(ctx);
  const char *cols[] = {"a", "b", NULL};
  assert_strv(ds->columns, ds->n_cols, cols);
  ASSERT_X(ds, 1, 0, 3.0);
  ASSERT_X(ds, 1, 1, 4.0);

  g_autofree char *e1 = csv_run_error(
      "{\"path\": \"drop.csv\", \"label\": \"label\", \"drop\": [\"id\", \"nope\"]}",
      LATHE_ERROR_INVALID);
  g_assert_cmpstr(e1, ==,
                  "drop: column 'nope' is not a column of drop.csv; available columns: "
                  "id, a, note, b, label");
  g_autofree char *e2 = csv_run_error("{\"path\": \"drop.csv\", \"label\": \"label\"}",
                                      LATHE_ERROR_DATA);
  g_assert_cmpstr(e2, ==,
                  "drop.csv:2:1: 'r1' is not a number (column 'id'); fix the value or "
                  "list the column in \"drop\"");
  g_autofree char *e3 = csv_run_error(
      "{\"path\": \"drop.csv\", \"label\": \"label\", \"drop\": [\"id\", \"a\", \"note\", "
      "\"b\"]}",
      LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(e3, "drop.csv: no feature columns are left"));
}

static void test_unknown_label(void) {
  csv_fixture_put("lab.csv", "x,y,species\n1,2,a\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"lab.csv\", \"label\": \"spieces\"}",
                                     LATHE_ERROR_INVALID);
  g_assert_cmpstr(e, ==,
                  "label column 'spieces' is not a column of lab.csv; available columns: "
                  "x, y, species");
}

static void test_bad_numbers(void) {
  csv_fixture_put("bad.csv", "x,y,z\n1,2,3\n4,abc,6\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"bad.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e, ==,
                  "bad.csv:3:2: 'abc' is not a number (column 'y'); fix the value or list "
                  "the column in \"drop\"");

  static const struct {
    const char *text, *want;
  } cases[] = {
      {"x,y\n1,2\n1.2.3,4\n", "b.csv:3:1: '1.2.3' is not a number (column 'x')"},
      {"x,y\n1,\n", "b.csv:2:2: empty value (column 'y'); fill it in"},
      {"x,y\n1,nan\n", "b.csv:2:2: 'nan' is not a number (column 'y')"},
      {"x,y\n0x10,1\n", "b.csv:2:1: '0x10' is not a number (column 'x')"},
      {"x,y\n1,1e39\n", "b.csv:2:2: '1e39' is too large for float32 (column 'y')"},
      {"x,y\n\n\n1,\"2\n\"\n", "b.csv:4:2: '2\\n' is not a number (column 'y')"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    csv_fixture_put("b.csv", cases[i].text, -1);
    g_autofree char *err = csv_run_error("{\"path\": \"b.csv\"}", LATHE_ERROR_DATA);
    if (!g_str_has_prefix(err, cases[i].want))
      g_error("case %u: got \"%s\", want prefix \"%s\"", i, err, cases[i].want);
  }
}

static void test_ragged(void) {
  csv_fixture_put("rag.csv", "a,b,c,d,e\n1,2,3,4,5\n\n1,2,3\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"rag.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e, ==, "rag.csv:4: row has 3 fields, expected 5 (from the header)");
}

static void test_empty_and_header_only(void) {
  csv_fixture_put("empty.csv", "", 0);
  g_autofree char *e1 = csv_run_error("{\"path\": \"empty.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e1, ==, "empty.csv: empty file, expected a header and rows");
  csv_fixture_put("blank.csv", "\xEF\xBB\xBF\r\n\n  \n", -1);
  g_autofree char *e2 = csv_run_error("{\"path\": \"blank.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e2, ==, "blank.csv: empty file, expected a header and rows");
  csv_fixture_put("head.csv", "a,b\r\n\r\n", -1);
  g_autofree char *e3 = csv_run_error("{\"path\": \"head.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e3, ==, "head.csv: only a header, no data rows; add rows or remove the file");
}

static void test_unterminated_quote(void) {
  csv_fixture_put("uq.csv", "a,b\n1,2\n3,\"4\n5,6\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"uq.csv\"}", LATHE_ERROR_DATA);
  g_assert_true(g_str_has_prefix(e, "uq.csv:3: unterminated quoted field"));
}

static void test_duplicate_header(void) {
  csv_fixture_put("dup.csv", "a,b,a\n1,2,3\n", -1);
  g_autofree char *e = csv_run_error("{\"path\": \"dup.csv\"}", LATHE_ERROR_DATA);
  g_assert_cmpstr(e, ==,
                  "dup.csv:1: column 'a' appears twice in the header (fields 1 and 3); "
                  "rename one of them");
}

static void test_missing_path(void) {
  g_autofree char *e = csv_run_error("{\"path\": \"nowhere/x.csv\"}", LATHE_ERROR_IO);
  g_assert_true(g_str_has_prefix(e, "path 'nowhere/x.csv' does not exist"));
  g_autofree char *e2 = csv_run_error("{}", LATHE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(e2, "path is not set"));
}

/* A host may give a relative base dir ("." here, from lathe_test_context). */
static void test_relative_base_dir(void) {
  g_autofree char *abs = csv_fixture_write("basedir.csv", "v\n4\n", -1);
  const LatheComponent *c = lathe_test_component("source-csv", "source/csv");
  g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", abs);
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "data", params, 1);
  g_assert_cmpstr(lathe_context_base_dir(ctx), ==, ".");
  g_assert_cmpfloat(csv_run_ok(ctx)->x[0], ==, 4.0f);

  g_autofree char *cwd = g_get_current_dir();
  g_autofree char *rel = g_build_filename(csv_fixture_dir(), "basedir.csv", NULL);
  if (g_str_has_prefix(rel, cwd) && rel[strlen(cwd)] == '/') {
    g_autofree char *p2 = g_strdup_printf("{\"path\": \"%s\"}", rel + strlen(cwd) + 1);
    g_autoptr(LatheContext) ctx2 = lathe_test_context(c, "data", p2, 1);
    g_assert_cmpfloat(csv_run_ok(ctx2)->x[0], ==, 4.0f);
  }
}

static void test_cancelled(void) {
  csv_fixture_put("c.csv", "a\n1\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"c.csv\"}");
  lathe_context_cancel(ctx);
  g_autoptr(GError) error = NULL;
  const LatheSourceClass *src =
      (const LatheSourceClass *)lathe_test_component("source-csv", "source/csv");
  g_assert_false(src->run(ctx, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  csv_fixtures_init();
  g_test_add_func("/source-csv/component-spec", test_component_spec);
  g_test_add_func("/source-csv/iris", test_iris);
  g_test_add_func("/source-csv/semicolon-crlf", test_semicolon_crlf);
  g_test_add_func("/source-csv/tab", test_tab);
  g_test_add_func("/source-csv/quoted", test_quoted);
  g_test_add_func("/source-csv/bom-and-spaces", test_bom_and_spaces);
  g_test_add_func("/source-csv/no-header", test_no_header);
  g_test_add_func("/source-csv/drop", test_drop);
  g_test_add_func("/source-csv/unknown-label", test_unknown_label);
  g_test_add_func("/source-csv/bad-numbers", test_bad_numbers);
  g_test_add_func("/source-csv/ragged", test_ragged);
  g_test_add_func("/source-csv/empty-and-header-only", test_empty_and_header_only);
  g_test_add_func("/source-csv/unterminated-quote", test_unterminated_quote);
  g_test_add_func("/source-csv/duplicate-header", test_duplicate_header);
  g_test_add_func("/source-csv/missing-path", test_missing_path);
  g_test_add_func("/source-csv/relative-base-dir", test_relative_base_dir);
  g_test_add_func("/source-csv/cancelled", test_cancelled);
  return csv_fixtures_cleanup(g_test_run());
}
