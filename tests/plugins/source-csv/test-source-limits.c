/* source/csv and source/recordings under abuse (issue 11, "Limits"): FIFOs,
 * zip bombs built at test time, compressed CSV files, symbolic links to
 * folders, and data values that would make huge error messages. */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

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

static char *rec_run_error(const char *params_json) {
  g_autoptr(LatheContext) ctx = rec_context(params_json);
  g_autoptr(GError) error = NULL;
  g_assert_false(rec_component()->run(ctx, &error));
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
  return g_strdup(error->message);
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_error("expected '%s' in: %.2000s", needle, haystack);
}

/* Runs python3 on @script with the fixture folder as its working directory. */
static void python(const char *script) {
  const char *argv[] = {"python3", "-c", script, NULL};
  g_autoptr(GError) error = NULL;
  gint status = 0;
  g_autofree char *err = NULL;
  g_spawn_sync(csv_fixture_dir(), (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
               &err, &status, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("python3 failed: %s", err);
}

static void make_fifo(const char *rel) {
  g_autofree char *path = g_build_filename(csv_fixture_dir(), rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
  g_assert_cmpint(mkfifo(path, 0600), ==, 0);
}

/* A FIFO with no writer used to block the open forever: the alarm turns
 * such a hang into a failure. */
static void test_fifo(void) {
  alarm(30);
  make_fifo("fifo/data.csv");
  make_fifo("fifo/data.zip");
  make_fifo("fifo/data.csv.gz");
  g_autofree char *m1 = csv_run_error("{\"path\": \"fifo/data.csv\"}", LATHE_ERROR_INVALID);
  assert_contains(m1, "fifo/data.csv: is a named pipe (FIFO), not a regular file");
  g_autofree char *m2 = csv_run_error("{\"path\": \"fifo/data.zip\"}", LATHE_ERROR_INVALID);
  assert_contains(m2, "fifo/data.zip: is a named pipe (FIFO)");
  g_autofree char *m3 = csv_run_error("{\"path\": \"fifo/data.csv.gz\"}", LATHE_ERROR_INVALID);
  assert_contains(m3, "fifo/data.csv.gz: is a named pipe (FIFO)");
  /* In a folder only regular files are listed, so a FIFO there is skipped. */
  csv_fixture_put("fifo/ok.csv", "v\n1\n", -1);
  g_autoptr(LatheContext) ctx = csv_context("{\"path\": \"fifo\"}");
  g_assert_cmpuint(csv_run_ok(ctx)->n_rows, ==, 1);
  g_autofree char *m4 = rec_run_error("{\"path\": \"fifo/data.csv\"}");
  assert_contains(m4, "is not a folder");
  /* source/timeseries reads whole files the same way. */
  const LatheComponent *ts = lathe_test_component("source-timeseries", "source/timeseries");
  g_autoptr(LatheContext) tctx = lathe_test_context(ts, "ts", "{\"path\": \"fifo/data.csv\"}", 7);
  lathe_context_set_dirs(tctx, csv_fixture_dir(), NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(((const LatheSourceClass *)ts)->run(tctx, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  assert_contains(error->message, "data.csv: is a named pipe (FIFO), not a regular file");
  alarm(0);
}

static double now_s(void) {
  return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

/* ASan keeps freed blocks in a quarantine (256 MB by default), shadows
 * every allocation and runs several times slower, so the bounds on peak
 * memory and time are looser under it. */
#include "../../common/test-asan.h"
#ifdef UNDER_ASAN
#define RSS_LIMIT_MB 700
#define SECONDS_LIMIT 40.0
#else
#define RSS_LIMIT_MB 200
#define SECONDS_LIMIT 10.0
#endif

static long max_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

/* 100 MB of "0" rows in a ~100 KB zip, and the same in a .tar.gz and a
 * .csv.gz: refused as soon as the ratio limit is crossed (past the 16 MiB
 * floor), in bounded time and memory. Before the limits, the zip loaded
 * 50 M rows (about 400 MB of RSS). */
static void test_bombs(void) {
  python("import zipfile, tarfile, gzip, io\n"
         "data = b'v\\n' + b'0\\n' * 50000000\n"
         "with zipfile.ZipFile('bomb.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n"
         "    z.writestr('bomb.csv', data)\n"
         "with gzip.open('bomb.csv.gz', 'wb', compresslevel=9) as f:\n"
         "    f.write(data)\n"
         "with tarfile.open('bomb.tar.gz', 'w:gz') as t:\n"
         "    i = tarfile.TarInfo('bomb.csv'); i.size = len(data)\n"
         "    t.addfile(i, io.BytesIO(data))\n");
  const char *bombs[] = {"bomb.zip", "bomb.csv.gz", "bomb.tar.gz"};
  for (guint i = 0; i < G_N_ELEMENTS(bombs); i++) {
    double t0 = now_s();
    g_autofree char *params = g_strdup_printf("{\"path\": \"%s\"}", bombs[i]);
    g_autofree char *m = csv_run_error(params, LATHE_ERROR_DATA);
    g_autofree char *want = g_strdup_printf("%s: expands more than 100 times its size", bombs[i]);
    assert_contains(m, want);
    assert_contains(m, "raise max_ratio");
    g_assert_cmpfloat(now_s() - t0, <, SECONDS_LIMIT);
  }
  /* The floor is 16 MiB of text: 8 M rows of float32 at most, plus slack. */
  g_assert_cmpint(max_rss_mb(), <, RSS_LIMIT_MB);
  /* A recording is limited the same way. */
  g_autofree char *dir = g_build_filename(csv_fixture_dir(), "recbomb", "k", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  g_autofree char *from = g_build_filename(csv_fixture_dir(), "bomb.zip", NULL);
  g_autofree char *to = g_build_filename(dir, "bomb.zip", NULL);
  g_assert_cmpint(link(from, to), ==, 0);
  g_autofree char *mr = rec_run_error("{\"path\": \"recbomb\", \"time_column\": \"\"}");
  assert_contains(mr, "recbomb/k/bomb.zip: expands more than 100 times its size");
}

/* max_expanded_mb caps what one archive expands to, whatever the ratio. */
static void test_max_expanded(void) {
  python("import zipfile, random\n"
         "r = random.Random(7)\n"
         "rows = ''.join('%.6f,%.6f\\n' % (r.random(), r.random()) for _ in range(120000))\n"
         "with zipfile.ZipFile('big.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n"
         "    z.writestr('big.csv', 'a,b\\n' + rows)\n");
  g_autofree char *m =
      csv_run_error("{\"path\": \"big.zip\", \"max_expanded_mb\": 1}", LATHE_ERROR_DATA);
  assert_contains(m, "big.zip: expands to more than 1.0 MiB (max_expanded_mb); raise "
                     "max_expanded_mb");
  g_autoptr(LatheContext) ok = csv_context("{\"path\": \"big.zip\"}");
  g_assert_cmpuint(csv_run_ok(ok)->n_rows, ==, 120000);
  /* 0 turns the ratio check off: 20 MB of zeros then reads. */
  python("import gzip\n"
         "with gzip.open('zeros.csv.gz', 'wb') as f:\n"
         "    f.write(b'v\\n' + b'0\\n' * 10000000)\n");
  g_autofree char *refused = csv_run_error("{\"path\": \"zeros.csv.gz\"}", LATHE_ERROR_DATA);
  assert_contains(refused, "zeros.csv.gz: expands more than 100 times its size");
  g_autoptr(LatheContext) off = csv_context("{\"path\": \"zeros.csv.gz\", \"max_ratio\": 0}");
  g_assert_cmpuint(csv_run_ok(off)->n_rows, ==, 10000000);
}

/* A zip member whose CRC-32 does not match its data is refused, whether the
 * data or the recorded CRC is what changed (libarchive reports it as a
 * warning once the data is out: it used to be read as if whole). */
static void test_bad_crc(void) {
  python("import zipfile, struct\n"
         "rows = 'a,b,label\\n' + ''.join('%d,%d,%s\\n' % (i, i * 2, 'xy'[i % 2])"
         " for i in range(200))\n"
         "for name, how in (('stored.zip', zipfile.ZIP_STORED),"
         " ('deflated.zip', zipfile.ZIP_DEFLATED)):\n"
         "    with zipfile.ZipFile(name, 'w', how) as z:\n"
         "        z.writestr('d.csv', rows)\n"
         "z = bytearray(open('stored.zip', 'rb').read())\n"
         "pos = z.index(b'100,200')\n"
         "z[pos] = ord('7')\n"
         "open('stored.zip', 'wb').write(bytes(z))\n"
         "z = bytearray(open('deflated.zip', 'rb').read())\n"
         "for sig, off in ((b'PK\\x03\\x04', 14), (b'PK\\x01\\x02', 16)):\n"
         "    at = z.index(sig) + off\n"
         "    z[at:at + 4] = struct.pack('<I', struct.unpack('<I', z[at:at + 4])[0] ^ 1)\n"
         "open('deflated.zip', 'wb').write(bytes(z))\n");
  const char *zips[] = {"stored.zip", "deflated.zip"};
  for (guint i = 0; i < G_N_ELEMENTS(zips); i++) {
    g_autofree char *params =
        g_strdup_printf("{\"path\": \"%s\", \"label\": \"label\"}", zips[i]);
    g_autofree char *m = csv_run_error(params, LATHE_ERROR_DATA);
    g_autofree char *head = g_strdup_printf("%s/d.csv: damaged data: ZIP bad CRC: ", zips[i]);
    g_autofree char *tail = g_strdup_printf("; %s is corrupt: download or copy it again", zips[i]);
    g_assert_true(g_str_has_prefix(m, head));
    g_assert_true(g_str_has_suffix(m, tail));
    g_assert_null(strchr(m, '\n'));
  }
}

/* .csv.gz, .csv.bz2 and .csv.xz are decompressed (they were parsed as raw
 * bytes), alone or in a folder; the data version is the compressed file's. */
static void test_compressed(void) {
  python("import gzip, bz2, lzma, os\n"
         "os.makedirs('z', exist_ok=True)\n"
         "gzip.open('z/a.csv.gz', 'wb').write(b'v,label\\n1,x\\n2,y\\n')\n"
         "bz2.open('z/b.csv.bz2', 'wb').write(b'v,label\\n3,x\\n')\n"
         "lzma.open('z/c.tsv.xz', 'wb').write(b'v\\tlabel\\n4\\ty\\n')\n"
         "open('notgz.csv.gz', 'wb').write(b'v\\n1\\n')\n");
  g_autoptr(LatheContext) one = csv_context("{\"path\": \"z/a.csv.gz\", \"label\": \"label\"}");
  const LatheDataset *ds = csv_run_ok(one);
  g_assert_cmpuint(ds->n_rows, ==, 2);
  g_assert_cmpfloat(ds->x[1], ==, 2.0f);
  g_assert_cmpuint(ds->n_classes, ==, 2);
  JsonArray *versions = lathe_context_get_data_versions(one);
  g_assert_cmpuint(json_array_get_length(versions), ==, 1);
  g_autofree char *gz = g_build_filename(csv_fixture_dir(), "z", "a.csv.gz", NULL);
  g_autofree char *sha = csv_sha256_of(gz);
  g_assert_cmpstr(
      json_object_get_string_member(json_array_get_object_element(versions, 0), "digest"), ==,
      sha);

  g_autoptr(LatheContext) all = csv_context("{\"path\": \"z\", \"label\": \"label\"}");
  const LatheDataset *da = csv_run_ok(all);
  g_assert_cmpuint(da->n_rows, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat(da->x[i], ==, (float)(i + 1));
  g_assert_cmpstr(da->group_names[2], ==, "c.tsv.xz");

  g_autofree char *m = csv_run_error("{\"path\": \"notgz.csv.gz\"}", LATHE_ERROR_DATA);
  assert_contains(m, "notgz.csv.gz: ");
}

static void symlink_fixture(const char *target, const char *rel) {
  g_autofree char *path = g_build_filename(csv_fixture_dir(), rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
  g_assert_cmpint(symlink(target, path), ==, 0);
}

/* A class folder that is a symbolic link was skipped without a word; it is
 * followed now, and a link back up the tree is refused. */
static void test_symlinked_folders(void) {
  csv_fixture_put("links/normal/a.csv", "time,v\n0,1\n1,2\n", -1);
  csv_fixture_put("elsewhere/el/d1/b.csv", "time,v\n0,3\n", -1);
  symlink_fixture("../elsewhere/el", "links/electrical");
  g_autoptr(LatheContext) ctx = rec_context("{\"path\": \"links\"}");
  g_autoptr(GError) error = NULL;
  g_assert_true(rec_component()->run(ctx, &error));
  g_assert_no_error(error);
  const LatheDataset *ds =
      lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"), &error);
  g_assert_nonnull(ds);
  g_assert_cmpuint(ds->n_classes, ==, 2);
  g_assert_cmpstr(ds->classes[0], ==, "electrical");
  g_assert_cmpuint(ds->n_rows, ==, 3);
  g_assert_cmpstr(ds->group_names[0], ==, "electrical/d1/b.csv");

  symlink_fixture("..", "links/normal/up");
  g_autofree char *m = rec_run_error("{\"path\": \"links\"}");
  assert_contains(m, "links/normal/up: symbolic link loops back to links;");
  g_autofree char *mc = csv_run_error("{\"path\": \"links\"}", LATHE_ERROR_INVALID);
  assert_contains(mc, "links/normal/up: symbolic link loops back");
}

/* Values and names from the data are quoted as short, escaped excerpts: a
 * 1 MB header name made 1 MB (and 2 MB) messages. */
static void test_short_messages(void) {
  GString *big = g_string_new(NULL);
  for (guint i = 0; i < (1u << 20); i++)
    g_string_append_c(big, (char)('a' + i % 26));
  g_autofree char *dup = g_strdup_printf("%s,%s\n1,2\n", big->str, big->str);
  csv_fixture_put("long/dup.csv", dup, -1);
  g_autofree char *m1 = csv_run_error("{\"path\": \"long/dup.csv\"}", LATHE_ERROR_DATA);
  assert_contains(m1, "long/dup.csv:1: column 'abcdefghij");
  assert_contains(m1, "\xe2\x80\xa6 (1048576 bytes) appears twice");
  g_assert_cmpuint(strlen(m1), <, 300);

  g_autofree char *one = g_strdup_printf("%s,v\n1,2\n", big->str);
  csv_fixture_put("long/h/a.csv", one, -1);
  csv_fixture_put("long/h/b.csv", "x,v\n1,2\n", -1);
  g_autofree char *m2 = csv_run_error("{\"path\": \"long/h\"}", LATHE_ERROR_DATA);
  assert_contains(m2, "header differs");
  g_assert_cmpuint(strlen(m2), <, 400);

  g_autofree char *m3 = csv_run_error("{\"path\": \"long/h/a.csv\", \"label\": \"nope\"}",
                                      LATHE_ERROR_INVALID);
  assert_contains(m3, "available columns: ");
  g_assert_cmpuint(strlen(m3), <, 400);

  /* A 1 MB label with control characters in a numeric column. */
  g_autofree char *bad = g_strdup_printf("v\n\x1b[2J%s\n", big->str);
  csv_fixture_put("long/bad.csv", bad, -1);
  g_autofree char *m4 = csv_run_error("{\"path\": \"long/bad.csv\"}", LATHE_ERROR_DATA);
  assert_contains(m4, "long/bad.csv:2:1: '\\x1b[2Jabcdef");
  assert_contains(m4, "(1048580 bytes) is not a number");
  g_assert_cmpuint(strlen(m4), <, 300);
  g_string_free(big, TRUE);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  csv_fixtures_init();
  g_test_add_func("/source-limits/fifo", test_fifo);
  g_test_add_func("/source-limits/bombs", test_bombs);
  g_test_add_func("/source-limits/max-expanded", test_max_expanded);
  g_test_add_func("/source-limits/compressed", test_compressed);
  g_test_add_func("/source-limits/bad-crc", test_bad_crc);
  g_test_add_func("/source-limits/symlinked-folders", test_symlinked_folders);
  g_test_add_func("/source-limits/short-messages", test_short_messages);
  return csv_fixtures_cleanup(g_test_run());
}
