/* The tokenizer, number parser and table builder of source-csv, called
 * directly (they are compiled into this test). */
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "csv-parse.h"
#include "csv-table.h"

/* Records flattened to text: "L<line>:" then fields joined by '|', one record
 * per line, so whole parses compare with one string. */
static gboolean collect(const LatheCsvRow *row, gpointer data, GError **error) {
  GString *s = data;
  g_string_append_printf(s, "L%" G_GUINT64_FORMAT ":", row->line);
  for (guint i = 0; i < row->n_fields; i++) {
    g_assert_cmpuint(strlen(row->fields[i]), <=, row->lengths[i]);
    g_string_append(s, i ? "|" : "");
    if (row->quoted[i])
      g_string_append_c(s, 'Q');
    g_string_append_len(s, row->fields[i], (gssize)row->lengths[i]);
    g_string_append_printf(s, "@%" G_GUINT64_FORMAT, row->lines[i]);
  }
  g_string_append_c(s, '\n');
  return TRUE;
}

/* Parses @in fed in pieces of @step bytes (0: all at once), after a first
 * piece of @first bytes. Returns the flattened records or "ERROR: msg". */
static char *parse_max(const char *in, gsize len, char delim, gsize first, gsize step,
                       gsize max_record) {
  GString *out = g_string_new(NULL);
  g_autoptr(LatheCsvParser) p = lathe_csv_parser_new("t.csv", delim, collect, out);
  if (max_record)
    lathe_csv_parser_set_max_record(p, max_record);
  g_autoptr(GError) error = NULL;
  gsize pos = 0;
  gboolean ok = TRUE;
  if (first && first <= len) {
    ok = lathe_csv_parser_feed(p, in, first, &error);
    pos = first;
  }
  while (ok && pos < len) {
    gsize n = step ? MIN(step, len - pos) : len - pos;
    ok = lathe_csv_parser_feed(p, in + pos, n, &error);
    pos += n;
  }
  if (ok)
    ok = lathe_csv_parser_finish(p, &error);
  if (!ok)
    g_string_printf(out, "ERROR: %s", error->message);
  return g_string_free(out, FALSE);
}

static char *parse(const char *in, gsize len, char delim, gsize first, gsize step) {
  return parse_max(in, len, delim, first, step, 0);
}

static void test_records(void) {
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"a,b\n1,2\n", "L1:a@1|b@1\nL2:1@2|2@2\n"},
      {"a,b\r\n1,2", "L1:a@1|b@1\nL2:1@2|2@2\n"},
      {"a,b\r1,2\r", "L1:a@1|b@1\nL2:1@2|2@2\n"},
      {"a,\n,\n", "L1:a@1|@1\nL2:@2|@2\n"},
      {"\n\n a \n  \t\nx\n\n", "L3: a @3\nL5:x@5\n"},
      {"\"a,b\",\"c\"\"d\"\n", "L1:Qa,b@1|Qc\"d@1\n"},
      {"\"x\r\ny\",2\n3,4\n", "L1:Qx\r\ny@1|2@2\nL3:3@3|4@3\n"},
      {"\"q\"tail,ab\"c\n", "L1:Qqtail@1|ab\"c@1\n"},
      {"\xEF\xBB\xBF" "a;b\n", "L1:a@1|b@1\n"},
      {"a;b,c\n1;2,3\n", "L1:a;b@1|c@1\nL2:1;2@2|3@2\n"}, /* tie: ',' */
      {"a;b;c,d\n1;2;3,4\n", "L1:a@1|b@1|c,d@1\nL2:1@2|2@2|3,4@2\n"},
      {"\"\"\n", "L1:Q@1\n"},
      {"", ""},
      {"\xEF\xBB\xBF", ""},
      {"a,\"b\n\nc\"", "L1:a@1|Qb\n\nc@1\n"},
      {"a,\"b\nc\n", "ERROR: t.csv:1: unterminated quoted field (the quote opened on this "
                     "line never closes); close it, and double any quote inside it (\"\")"},
      {"x\n\n\"open", "ERROR: t.csv:3: unterminated quoted field (the quote opened on this "
                      "line never closes); close it, and double any quote inside it (\"\")"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = parse(cases[i].in, strlen(cases[i].in), 0, 0, 0);
    if (strcmp(got, cases[i].want) != 0)
      g_error("case %u: got\n%s\nwant\n%s", i, got, cases[i].want);
  }
}

/* Any split of the input into chunks gives the same records. */
static void test_chunking(void) {
  const char in[] = "\xEF\xBB\xBF" "name;\"v;1\"\r\n\"a\r\nb\";\"x\"\"y\"\r\n\r\n"
                    "c;d\re;f\n\"tail\"\"\"";
  gsize len = sizeof in - 1;
  g_autofree char *whole = parse(in, len, 0, 0, 0);
  g_assert_true(g_str_has_prefix(whole, "L1:name@1|Qv;1@1\n"));
  g_assert_true(strstr(whole, "L2:Qa\r\nb@2|Qx\"y@3\n") != NULL);
  g_assert_true(g_str_has_suffix(whole, "L7:Qtail\"@7\n"));
  for (gsize first = 1; first < len; first++)
    for (gsize step = 1; step <= 3; step++) {
      g_autofree char *got = parse(in, len, 0, first, step);
      if (strcmp(got, whole) != 0)
        g_error("first=%zu step=%zu: got\n%s\nwant\n%s", first, step, got, whole);
    }
}

/* Records over the limit fail at the line they began, however chunked; a
 * first line that never ends is judged on its first max_record bytes. */
static void test_max_record(void) {
  const char in[] = "a,b\n1,\"0123456789\nabcdefghij\n";
  const char *want = "ERROR: t.csv:2: record is longer than 16 bytes; is a quote opened on "
                     "this line never closed?";
  for (gsize step = 0; step <= 5; step++) {
    g_autofree char *got = parse_max(in, sizeof in - 1, 0, 0, step, 16);
    g_assert_cmpstr(got, ==, want);
  }
  g_autofree char *ok = parse_max("a,b\n1,2\n", 8, 0, 0, 0, 16);
  g_assert_cmpstr(ok, ==, "L1:a@1|b@1\nL2:1@2|2@2\n");
  /* A line of nothing but delimiters is bounded by the field count. */
  g_autofree char *commas = g_strnfill(100, ',');
  g_autofree char *wide = parse_max(commas, 100, ',', 0, 7, 1024);
  g_assert_cmpstr(wide, ==, "ERROR: t.csv:1: record has more than 96 fields; is the "
                            "delimiter right?");
  /* The first 4 bytes of 'a;b;c,d,e,f' hold only ';', which wins over the
   * commas further on. */
  g_autofree char *cut = parse_max("a;b;c,d,e,f", 11, 0, 0, 1, 4);
  g_assert_true(g_str_has_prefix(cut, "ERROR: t.csv:1: record is longer than 4 bytes"));
  static const char line[] = "a;b;c,d,e,f";
  for (gsize step = 1; step <= 3; step++) {
    g_autoptr(GString) sink = g_string_new(NULL);
    g_autoptr(LatheCsvParser) p = lathe_csv_parser_new("t.csv", 0, collect, sink);
    lathe_csv_parser_set_max_record(p, 4);
    for (gsize pos = 0; pos < 3; pos += step)
      lathe_csv_parser_feed(p, line + pos, MIN(step, 3 - pos), NULL);
    g_assert_cmpint(lathe_csv_parser_get_delimiter(p), ==, 0);
    lathe_csv_parser_feed(p, line + 3, 2, NULL);
    g_assert_cmpint(lathe_csv_parser_get_delimiter(p), ==, ';');
  }
}

static void test_detect_delimiter(void) {
  g_assert_cmpint(lathe_csv_detect_delimiter("a,b,c", 5), ==, ',');
  g_assert_cmpint(lathe_csv_detect_delimiter("a;b;c", 5), ==, ';');
  g_assert_cmpint(lathe_csv_detect_delimiter("a\tb\tc,d", 7), ==, '\t');
  g_assert_cmpint(lathe_csv_detect_delimiter("a,b;c", 5), ==, ','); /* tie */
  g_assert_cmpint(lathe_csv_detect_delimiter("\"a;b;c\",d", 9), ==, ',');
  g_assert_cmpint(lathe_csv_detect_delimiter("abc", 3), ==, ',');
  /* IDEKO-style header: ';' wins even with decimal commas on data lines. */
  g_autofree char *got = parse("time;f1\n0,5;1,25\n", 17, 0, 0, 0);
  g_assert_cmpstr(got, ==, "L1:time@1|f1@1\nL2:0,5@2|1,25@2\n");
}

static void test_parse_float(void) {
  static const struct {
    const char *s;
    char decimal;
    LatheCsvNumber r;
    float v;
  } cases[] = {
      {"1", '.', LATHE_CSV_NUMBER_OK, 1.0f},
      {" 2.5\t", '.', LATHE_CSV_NUMBER_OK, 2.5f},
      {"-3e2", '.', LATHE_CSV_NUMBER_OK, -300.0f},
      {".5", '.', LATHE_CSV_NUMBER_OK, 0.5f},
      {"+1.", '.', LATHE_CSV_NUMBER_OK, 1.0f},
      {"1e-50", '.', LATHE_CSV_NUMBER_OK, 0.0f},
      {"3.4e38", '.', LATHE_CSV_NUMBER_OK, 3.4e38f},
      {"1,5", ',', LATHE_CSV_NUMBER_OK, 1.5f},
      {"", '.', LATHE_CSV_NUMBER_EMPTY, 0},
      {" \t ", '.', LATHE_CSV_NUMBER_EMPTY, 0},
      {"1.2.3", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"abc", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"0x10", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"nan", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"-inf", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"1e", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"--1", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"1 2", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"e5", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {".", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"1,5", '.', LATHE_CSV_NUMBER_INVALID, 0},
      {"1.5", ',', LATHE_CSV_NUMBER_INVALID, 0},
      {"1e39", '.', LATHE_CSV_NUMBER_RANGE, 0},
      {"-1e999", '.', LATHE_CSV_NUMBER_RANGE, 0},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    float v = -12345.0f;
    LatheCsvNumber r = lathe_csv_parse_float(cases[i].s, strlen(cases[i].s), cases[i].decimal, &v);
    if (r != cases[i].r)
      g_error("case %u '%s': got %d want %d", i, cases[i].s, r, cases[i].r);
    if (r == LATHE_CSV_NUMBER_OK)
      g_assert_cmpfloat(v, ==, cases[i].v);
    else
      g_assert_cmpfloat(v, ==, -12345.0f); /* untouched on failure */
  }
  float v;
  g_assert_cmpint(lathe_csv_parse_float("1\0", 2, '.', &v), ==, LATHE_CSV_NUMBER_INVALID);
  /* A long but valid number still parses (beyond the stack buffer). */
  GString *lng = g_string_new("0.");
  for (guint i = 0; i < 300; i++)
    g_string_append_c(lng, '0');
  g_string_append_c(lng, '1');
  g_assert_cmpint(lathe_csv_parse_float(lng->str, lng->len, '.', &v), ==, LATHE_CSV_NUMBER_OK);
  g_assert_cmpfloat(v, ==, 0.0f);
  g_string_free(lng, TRUE);
}

/* The SDK's excerpt, which the table's errors quote values with. */
static void test_describe_value(void) {
  g_autofree char *a = lathe_value_excerpt("ab\nc\x01\xff", 6);
  g_assert_cmpstr(a, ==, "'ab\\nc\\x01\\xff'");
  g_autofree char *b = lathe_value_excerpt("caf\xc3\xa9", 5);
  g_assert_cmpstr(b, ==, "'caf\xc3\xa9'");
  g_autofree char *c = lathe_value_excerpt(
      "0123456789012345678901234567890123456789012345678901234567890123XYZ", -1);
  g_assert_cmpstr(
      c, ==, "'012345678901234567890123456789012345678901234567890123456789'\xe2\x80\xa6 (67 bytes)");
  g_autofree char *d = lathe_value_excerpt("\x1b[2Kforged\r\xe2\x80\xa8", -1);
  g_assert_cmpstr(d, ==, "'\\x1b[2Kforged\\r\\u{2028}'");
  g_autofree char *e = lathe_value_excerpt(NULL, 3);
  g_assert_cmpstr(e, ==, "(none)");
}

static gboolean fail_second(const LatheCsvRow *row, gpointer data, GError **error) {
  guint *n = data;
  if (++*n == 2) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "stop at line %" G_GUINT64_FORMAT,
                row->line);
    return FALSE;
  }
  return TRUE;
}

static void test_callback_error(void) {
  guint n = 0;
  g_autoptr(LatheCsvParser) p = lathe_csv_parser_new("t", ',', fail_second, &n);
  g_autoptr(GError) error = NULL;
  g_assert_false(lathe_csv_parser_feed(p, "a\nb\nc\n", 6, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_DATA);
  g_assert_cmpstr(error->message, ==, "stop at line 2");
  g_assert_cmpuint(n, ==, 2);
  g_clear_error(&error);
  g_assert_false(lathe_csv_parser_feed(p, "d\n", 2, &error));
  g_assert_nonnull(error);
  g_assert_cmpuint(n, ==, 2);
}

/* The table gives the same dataset however the bytes are chunked, and hands
 * over sorted classes and file groups. */
static void test_table_chunks(void) {
  const char *f1 = "v;w;label\r\n1;2;b\r\n3;4;a\r\n";
  const char *f2 = "v;w;label\n5;6;b\n";
  for (gsize step = 1; step <= 7; step += 3) {
    LatheCsvTableOptions o = {.header = TRUE, .label = "label"};
    g_autoptr(LatheCsvTable) t = lathe_csv_table_new(&o);
    g_autoptr(GError) error = NULL;
    const char *files[] = {f1, f2};
    for (guint f = 0; f < 2; f++) {
      lathe_csv_table_begin_file(t, f ? "two.csv" : "one.csv", f ? "g2" : "g1");
      for (gsize pos = 0; pos < strlen(files[f]); pos += step)
        g_assert_true(lathe_csv_table_feed(t, files[f] + pos,
                                           MIN(step, strlen(files[f]) - pos), &error));
      g_assert_true(lathe_csv_table_end_file(t, &error));
    }
    g_assert_no_error(error);
    g_assert_cmpuint(lathe_csv_table_n_rows(t), ==, 3);
    g_autoptr(LatheDataset) ds = lathe_csv_table_finish(t, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(ds->n_rows, ==, 3);
    g_assert_cmpuint(ds->n_cols, ==, 2);
    const float want[] = {1, 2, 3, 4, 5, 6};
    for (guint i = 0; i < 6; i++)
      g_assert_cmpfloat(ds->x[i], ==, want[i]);
    g_assert_cmpstr(ds->classes[0], ==, "a");
    g_assert_cmpint(ds->labels[0], ==, 1);
    g_assert_cmpint(ds->labels[1], ==, 0);
    g_assert_cmpuint(ds->n_groups, ==, 2);
    g_assert_cmpstr(ds->group_names[1], ==, "g2");
    g_assert_cmpint(ds->groups[2], ==, 1);
    /* The encoding round-trips, so the handed-over buffers are consistent. */
    g_autoptr(GBytes) bytes = lathe_dataset_serialize(ds);
    g_autoptr(LatheDataset) back = lathe_dataset_deserialize(bytes, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(back->n_rows, ==, 3);
  }
}

static void test_decimal_comma_table(void) {
  LatheCsvTableOptions o = {.header = TRUE, .delimiter = ';', .decimal = ','};
  g_autoptr(LatheCsvTable) t = lathe_csv_table_new(&o);
  g_autoptr(GError) error = NULL;
  const char *text = "time;f1\r\n0,0;1800\r\n2,0;-1,25\r\n";
  lathe_csv_table_begin_file(t, "rec.csv", NULL);
  g_assert_true(lathe_csv_table_feed(t, text, strlen(text), &error));
  g_assert_true(lathe_csv_table_end_file(t, &error));
  g_autoptr(LatheDataset) ds = lathe_csv_table_finish(t, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(ds->x[2], ==, 2.0f);
  g_assert_cmpfloat(ds->x[3], ==, -1.25f);
  g_assert_null(ds->groups); /* one file, auto */
}

/* Reads @text as one file "x.csv"; returns the error message, or NULL. */
static char *table_error(const LatheCsvTableOptions *o, const char *text) {
  g_autoptr(LatheCsvTable) t = lathe_csv_table_new(o);
  g_autoptr(GError) error = NULL;
  lathe_csv_table_begin_file(t, "x.csv", NULL);
  if (!lathe_csv_table_feed(t, text, strlen(text), &error) ||
      !lathe_csv_table_end_file(t, &error))
    return g_strdup(error->message);
  g_autoptr(LatheDataset) ds = lathe_csv_table_finish(t, &error);
  return ds ? NULL : g_strdup(error->message);
}

/* Header names and label or group texts must be UTF-8 (they reach JSON and
 * metric names): refused with FILE:LINE:COLUMN, never repaired. */
static void test_table_utf8(void) {
  LatheCsvTableOptions lab = {.header = TRUE, .label = "label"};
  LatheCsvTableOptions grp = {.header = TRUE, .group = LATHE_CSV_GROUP_COLUMN,
                              .group_column = "g"};
  struct {
    const LatheCsvTableOptions *o;
    const char *text, *want;
  } cases[] = {
      {&lab, "a,b\xfe,label\n1,2,x\n", "x.csv:1:2: column name 'b\\xfe' is not valid UTF-8; "
                                        "save the file as UTF-8"},
      /* Quoted, and after a multi-line field: the field's own line is named. */
      {&lab, "\"a\nb\",\"\xc0\xaf\",label\n1,2,x\n",
       "x.csv:2:2: column name '\\xc0\\xaf' is not valid UTF-8; save the file as UTF-8"},
      {&lab, "a,label\n1,ok\n2, \xc3\x28 \n",
       "x.csv:3:2: label '\\xc3(' is not valid UTF-8 (column 'label'); save the file as UTF-8"},
      {&grp, "a,g\n1,g1\n2,\xff\n",
       "x.csv:3:2: group '\\xff' is not valid UTF-8 (column 'g'); save the file as UTF-8"},
      {&lab, "\xff\xfe" "a", "x.csv:1: the file is UTF-16 text (it starts with a UTF-16 "
                                     "byte order mark); save it as UTF-8"},
      /* Control bytes too: binary data, not a legacy encoding. */
      {&lab, "\x01\xff,a\n1,2\n", "x.csv:1:1: the header is binary data, not text (column "
                                    "name '\\x01\\xff'); point the path at a CSV file"},
      /* Numeric cells are not validated as text: the number parser refuses. */
      {&lab, "a,label\n1\xff,x\n", "x.csv:2:1: '1\\xff' is not a number (column 'a'); fix "
                                    "the value or list the column in \"drop\""},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = table_error(cases[i].o, cases[i].text);
    g_assert_cmpstr(got, ==, cases[i].want);
  }

  /* Valid UTF-8 is kept as is. */
  g_autoptr(LatheCsvTable) t = lathe_csv_table_new(&lab);
  g_autoptr(GError) error = NULL;
  const char *text = "temp\xc3\xa9rature,label\n1,caf\xc3\xa9\n2,\xe2\x82\xac\n";
  lathe_csv_table_begin_file(t, "x.csv", NULL);
  g_assert_true(lathe_csv_table_feed(t, text, strlen(text), &error));
  g_assert_true(lathe_csv_table_end_file(t, &error));
  g_autoptr(LatheDataset) ds = lathe_csv_table_finish(t, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ds->columns[0], ==, "temp\xc3\xa9rature");
  g_assert_cmpstr(ds->classes[0], ==, "caf\xc3\xa9");
  g_assert_cmpstr(ds->classes[1], ==, "\xe2\x82\xac");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/csv-parse/records", test_records);
  g_test_add_func("/csv-parse/chunking", test_chunking);
  g_test_add_func("/csv-parse/max-record", test_max_record);
  g_test_add_func("/csv-parse/detect-delimiter", test_detect_delimiter);
  g_test_add_func("/csv-parse/parse-float", test_parse_float);
  g_test_add_func("/csv-parse/describe-value", test_describe_value);
  g_test_add_func("/csv-parse/callback-error", test_callback_error);
  g_test_add_func("/csv-parse/table-chunks", test_table_chunks);
  g_test_add_func("/csv-parse/decimal-comma-table", test_decimal_comma_table);
  g_test_add_func("/csv-parse/table-utf8", test_table_utf8);
  return g_test_run();
}
