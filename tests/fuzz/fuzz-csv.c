/* fuzz-csv.c: fuzz harness for the source-csv tokenizer and table builder.
 *
 * Besides "never crash", it checks properties a bug would break: feeding the
 * bytes in random chunks gives exactly the records and error of one big
 * chunk; record and field line numbers never go backwards; errors are one
 * line; a dataset that comes out is consistent (finite features, labels and
 * groups in range, classes strictly sorted) and survives serialisation.
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lathe/lathe-sdk.h>

#include "csv-parse.h"
#include "csv-table.h"

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "fuzz-csv: check failed: %s (%s:%d)\n", #cond, __FILE__,     \
              __LINE__);                                                           \
      abort();                                                                     \
    }                                                                              \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a parse produced, reduced to a hash so two parses compare cheaply. */
typedef struct {
  guint64 rows;
  guint64 hash;
  guint64 last_line;
} Summary;

static void mix(Summary *s, const void *p, gsize n) {
  const guint8 *b = p;
  for (gsize i = 0; i < n; i++) /* FNV-1a */
    s->hash = (s->hash ^ b[i]) * 1099511628211ull;
}

static gboolean summarize(const LatheCsvRow *row, gpointer user_data, GError **error) {
  Summary *s = user_data;
  CHECK(row->n_fields >= 1);
  CHECK(row->line > s->last_line);
  s->last_line = row->line;
  for (guint i = 0; i < row->n_fields; i++) {
    CHECK(row->lines[i] >= (i ? row->lines[i - 1] : row->line));
    CHECK(row->fields[i][row->lengths[i]] == '\0');
    mix(s, &row->lengths[i], sizeof(gsize));
    mix(s, row->fields[i], row->lengths[i]);
    mix(s, &row->lines[i], sizeof(guint64));
    mix(s, &row->quoted[i], sizeof(gboolean));
  }
  mix(s, &row->n_fields, sizeof(guint));
  s->rows++;
  return TRUE;
}

static void check_message(const GError *error) {
  CHECK(error->message && error->message[0]);
  CHECK(strchr(error->message, '\n') == NULL);
  CHECK(g_utf8_validate(error->message, -1, NULL));
}

/* Chunk sizes from a small LCG seeded by @seed; @seed 0 feeds everything at once. */
static gsize next_chunk(guint32 *seed, gsize left) {
  if (*seed == 0)
    return left;
  *seed = *seed * 1664525u + 1013904223u;
  return MIN(left, 1 + (*seed >> 16) % 17);
}

static char *run_parser(const uint8_t *data, size_t size, char delim, guint32 seed,
                        gsize max_record, Summary *s) {
  LatheCsvParser *p = lathe_csv_parser_new("fuzz.csv", delim, summarize, s);
  if (max_record)
    lathe_csv_parser_set_max_record(p, max_record);
  GError *error = NULL;
  gboolean ok = TRUE;
  for (gsize pos = 0; ok && pos < size;) {
    gsize n = next_chunk(&seed, size - pos);
    ok = lathe_csv_parser_feed(p, data + pos, n, &error);
    pos += n;
  }
  if (ok)
    ok = lathe_csv_parser_finish(p, &error);
  char d = lathe_csv_parser_get_delimiter(p);
  CHECK(d == ',' || d == ';' || d == '\t' || (!ok && delim == 0 && d == 0));
  lathe_csv_parser_free(p);
  char *msg = NULL;
  if (!ok) {
    check_message(error);
    msg = g_strdup(error->message);
    g_error_free(error);
  }
  return msg;
}

static void check_dataset(LatheDataset *ds) {
  CHECK(ds->n_rows > 0 && ds->n_cols > 0);
  for (gsize i = 0; i < (gsize)ds->n_rows * ds->n_cols; i++)
    CHECK(isfinite(ds->x[i]));
  for (guint c = 0; c < ds->n_cols; c++)
    CHECK(ds->columns[c] != NULL);
  if (ds->labels) {
    for (guint i = 0; i < ds->n_rows; i++)
      CHECK(ds->labels[i] >= 0 && (guint)ds->labels[i] < ds->n_classes);
    for (guint k = 1; k < ds->n_classes; k++)
      CHECK(strcmp(ds->classes[k - 1], ds->classes[k]) < 0);
  }
  if (ds->groups)
    for (guint i = 0; i < ds->n_rows; i++)
      CHECK(ds->groups[i] >= 0 && (guint)ds->groups[i] < ds->n_groups);
  GBytes *bytes = lathe_dataset_serialize(ds);
  GError *error = NULL;
  LatheDataset *back = lathe_dataset_deserialize(bytes, &error);
  CHECK(back != NULL && back->n_rows == ds->n_rows);
  lathe_dataset_unref(back);
  g_bytes_unref(bytes);
}

/* Feeds the bytes as two files split at @split, in chunks from @seed.
 * Returns a hash of the dataset, or of the error text. */
static guint64 run_table(const LatheCsvTableOptions *o, const uint8_t *data, size_t size,
                         size_t split, guint32 seed) {
  LatheCsvTable *t = lathe_csv_table_new(o);
  GError *error = NULL;
  gboolean ok = TRUE;
  const size_t bounds[] = {0, split, size};
  for (guint f = 0; ok && f < 2; f++) {
    if (f == 1 && split == size)
      break;
    lathe_csv_table_begin_file(t, f ? "b.csv" : "a.csv", f ? "b" : "a");
    for (gsize pos = bounds[f]; ok && pos < bounds[f + 1];) {
      gsize n = next_chunk(&seed, bounds[f + 1] - pos);
      ok = lathe_csv_table_feed(t, data + pos, n, &error);
      pos += n;
    }
    ok = ok && lathe_csv_table_end_file(t, &error);
  }
  Summary s = {.hash = 14695981039346656037ull};
  if (ok) {
    LatheDataset *ds = lathe_csv_table_finish(t, &error);
    CHECK(ds != NULL);
    check_dataset(ds);
    mix(&s, ds->x, sizeof(float) * ds->n_rows * ds->n_cols);
    if (ds->labels)
      mix(&s, ds->labels, sizeof(gint32) * ds->n_rows);
    lathe_dataset_unref(ds);
  } else {
    CHECK(error != NULL);
    check_message(error);
    mix(&s, error->message, strlen(error->message));
    g_error_free(error);
  }
  lathe_csv_table_free(t);
  return s.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  guint32 seed = 1;
  for (size_t i = 0; i < size; i++)
    seed = seed * 31u + data[i];
  seed |= 1;

  /* The tokenizer: chunking must not change anything, also when records hit
   * a (small) size limit. */
  static const char delims[] = {0, ',', ';', '\t', 0};
  for (guint d = 0; d < G_N_ELEMENTS(delims); d++) {
    gsize max_record = d == G_N_ELEMENTS(delims) - 1 ? 1 + size % 61 : 0;
    Summary whole = {.hash = 14695981039346656037ull};
    Summary split = whole;
    char *e1 = run_parser(data, size, delims[d], 0, max_record, &whole);
    char *e2 = run_parser(data, size, delims[d], seed, max_record, &split);
    CHECK(whole.rows == split.rows && whole.hash == split.hash);
    CHECK((e1 == NULL) == (e2 == NULL));
    CHECK(!e1 || strcmp(e1, e2) == 0);
    g_free(e1);
    g_free(e2);
  }

  /* The table, with a few option sets, as one file and as two. */
  static const char *const drop[] = {"c2", NULL};
  const LatheCsvTableOptions opts[] = {
      {.header = TRUE},
      {.header = FALSE, .label = "c0", .group = LATHE_CSV_GROUP_COLUMN,
       .group_column = "c1", .drop = drop},
      {.header = TRUE, .delimiter = ';', .decimal = ',', .group = LATHE_CSV_GROUP_FILE},
      {.header = FALSE, .label = "c1"},
  };
  size_t split = size ? data[0] % (size + 1) : 0;
  for (guint i = 0; i < G_N_ELEMENTS(opts); i++) {
    guint64 a = run_table(&opts[i], data, size, size, 0);
    guint64 b = run_table(&opts[i], data, size, size, seed);
    CHECK(a == b);
    run_table(&opts[i], data, size, split, seed);
  }
  return 0;
}
