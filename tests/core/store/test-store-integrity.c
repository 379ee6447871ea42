/* The store under abuse: several connections writing at once, stale-run
 * recovery beside live runs, an empty lathe.db, the store's modes, literal
 * run ids, artifacts verified as they are read, `store check`, and the
 * leftovers of dead processes. */
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include <lathe/lathe-context-private.h>

#include "store/store.h"

static char *tmp_store(void) {
  g_autofree char *root = g_dir_make_tmp("lathe-store-XXXXXX", NULL);
  return g_build_filename(root, "store", NULL);
}

static void flip_byte(const char *path) {
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  g_assert_cmpuint(len, >, 0);
  data[len / 2] ^= 1;
  g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
}

static char *artifact_file(const char *dir, const char *digest) {
  char sub[3] = {digest[0], digest[1], 0};
  return g_build_filename(dir, "artifacts", "sha256", sub, digest + 2, NULL);
}

static LatheArtifact *put_text(LatheStore *s, const char *text) {
  g_autoptr(GBytes) b = g_bytes_new(text, strlen(text));
  LatheArtifact *a = lathe_artifact_new_from_bytes(LATHE_TYPE_ANY, b);
  g_autoptr(GError) error = NULL;
  g_assert_true(lathe_store_put_artifact(s, a, &error));
  g_assert_no_error(error);
  return a;
}

/* Two connections opened before either writes: each write of one comes
 * after a write of the other. A snapshot kept from the open made this fail
 * at once with "database is locked". */
static void test_interleaved_writers(void) {
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  LatheStore *a = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  LatheStore *b = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  for (int i = 0; i < 5; i++) {
    g_autofree char *ra = lathe_store_begin_run(a, "a", "p.json", "{}", 1, &error);
    g_assert_no_error(error);
    g_autofree char *rb = lathe_store_begin_run(b, "b", "p.json", "{}", 1, &error);
    g_assert_no_error(error);
    g_assert_true(lathe_store_end_run(a, ra, "succeeded", &error));
    g_assert_true(lathe_store_end_run(b, rb, "succeeded", &error));
    g_assert_no_error(error);
  }
  g_autoptr(JsonArray) runs = lathe_store_list_runs(a, &error);
  g_assert_cmpuint(json_array_get_length(runs), ==, 10);
  lathe_store_close(a);
  lathe_store_close(b);
}

typedef struct {
  const char *dir;
  int failures;
} Writer;

#define N_WRITERS 6
static gint opened;

static gpointer writer(gpointer data) {
  Writer *w = data;
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(w->dir, &error);
  /* All open before any writes: each then writes after the others did. */
  g_atomic_int_inc(&opened);
  while (g_atomic_int_get(&opened) < N_WRITERS)
    g_usleep(1000);
  if (!s) {
    w->failures++;
    return NULL;
  }
  for (int i = 0; i < 20; i++) {
    g_autofree char *r = lathe_store_begin_run(s, "w", "p.json", "{}", 1, &error);
    LatheExecIdentity who = {.run_id = r, .node = "n", .component = "transform/noop"};
    LatheExecRecord rec = {.status = "succeeded", .started = 1, .ended = 2};
    if (!r || !lathe_store_finish_execution(s, -1, &who, NULL, &rec, &error) ||
        !lathe_store_end_run(s, r, "succeeded", &error)) {
      w->failures++;
      g_clear_error(&error);
    }
  }
  lathe_store_close(s);
  return NULL;
}

/* Many connections creating and writing one store at once. */
static void test_many_writers(void) {
  g_autofree char *dir = tmp_store();
  Writer w[N_WRITERS];
  GThread *t[N_WRITERS];
  for (int i = 0; i < N_WRITERS; i++) {
    w[i] = (Writer){.dir = dir};
    t[i] = g_thread_new("writer", writer, &w[i]);
  }
  for (int i = 0; i < N_WRITERS; i++) {
    g_thread_join(t[i]);
    g_assert_cmpint(w[i].failures, ==, 0);
  }
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonArray) runs = lathe_store_list_runs(s, &error);
  g_assert_cmpuint(json_array_get_length(runs), ==, 120);
  for (guint i = 0; i < 120; i++)
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(runs, i), "status"),
                    ==, "succeeded");
  lathe_store_close(s);
}

/* Opening the store marks dead processes' runs interrupted, never a live one's. */
static void test_recovery_spares_live_runs(void) {
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  LatheStore *live = lathe_store_open(dir, &error);
  g_autofree char *mine = lathe_store_begin_run(live, "live", "p.json", "{}", 1, &error);
  g_assert_no_error(error);
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  sqlite3 *raw;
  g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(raw, "INSERT INTO runs(id, status, proc, started) VALUES "
                               "('deadrun1', 'running', '999999:1', 0)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(raw);
  LatheStore *other = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) r1 = lathe_store_show_run(other, mine, &error);
  g_assert_cmpstr(json_object_get_string_member(r1, "status"), ==, "running");
  g_autoptr(JsonObject) r2 = lathe_store_show_run(other, "deadrun1", &error);
  g_assert_cmpstr(json_object_get_string_member(r2, "status"), ==, "interrupted");
  lathe_store_close(other);
  lathe_store_close(live);
}

static void test_empty_db_refused(void) {
  g_autofree char *dir = tmp_store();
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  g_assert_true(g_file_set_contents(db, "", 0, NULL));
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_null(s);
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "0 bytes"));
  g_assert_nonnull(strstr(error->message, "--store"));
  g_assert_null(strchr(error->message, '\n'));
  GStatBuf st;
  g_assert_cmpint(g_stat(db, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, 0);
}

static void raw_exec(const char *dir, const char *sql) {
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  sqlite3 *raw = NULL;
  g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(raw, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(raw);
}

static gboolean has_table(const char *dir, const char *table) {
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  sqlite3 *raw = NULL;
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(raw, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                          " AND name = ?1", -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  gboolean found = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return found;
}

/* A store with history that lost a table is damaged: every opener (readers
 * like `runs list`, writers like `run`) refuses it in one line, and nothing
 * recreates the table behind the user's back. */
static void test_missing_table_refused(void) {
  const char *tables[] = {"runs", "executions", "cache", "trial_events", "run_environment", NULL};
  for (guint i = 0; tables[i]; i++) {
    g_autofree char *dir = tmp_store();
    g_autoptr(GError) error = NULL;
    LatheStore *s = lathe_store_open(dir, &error);
    g_assert_no_error(error);
    g_free(lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error)); /* some history */
    g_assert_no_error(error);
    lathe_store_close(s);
    g_autofree char *drop = g_strdup_printf("DROP TABLE %s", tables[i]);
    raw_exec(dir, drop);
    s = lathe_store_open(dir, &error);
    g_assert_null(s);
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_IO);
    g_autofree char *want = g_strdup_printf("%s/lathe.db is damaged: its table %s is missing; "
                                            "move %s away to start a new store, or choose "
                                            "another place with --store",
                                            dir, tables[i], dir);
    g_assert_cmpstr(error->message, ==, want);
    g_assert_false(has_table(dir, tables[i]));
    g_assert_true(has_table(dir, "runs") || i == 0);
  }

  /* Several missing are all named. */
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  lathe_store_close(lathe_store_open(dir, &error));
  g_assert_no_error(error);
  raw_exec(dir, "DROP TABLE runs; DROP TABLE params");
  g_assert_null(lathe_store_open(dir, &error));
  g_assert_nonnull(strstr(error->message, "its tables runs, params are missing;"));
  g_clear_error(&error);

  /* A schema-1 store has no study tables yet: opening upgrades it. */
  g_autofree char *old = tmp_store();
  lathe_store_close(lathe_store_open(old, &error));
  g_assert_no_error(error);
  raw_exec(old, "DROP TABLE studies; DROP TABLE trial_events; DROP TABLE run_environment;"
                " PRAGMA user_version = 1");
  LatheStore *s = lathe_store_open(old, &error);
  g_assert_no_error(error);
  lathe_store_close(s);
  g_assert_true(has_table(old, "studies"));
  g_assert_true(has_table(old, "trial_events"));
  g_assert_true(has_table(old, "run_environment"));

  /* A schema-2 store has no tracker journal yet: opening adds it. */
  g_autofree char *v2 = tmp_store();
  lathe_store_close(lathe_store_open(v2, &error));
  g_assert_no_error(error);
  raw_exec(v2, "DROP TABLE tracker_journal; DROP TABLE tracker_runs; DROP TABLE tracker_settings;"
               " PRAGMA user_version = 2");
  s = lathe_store_open(v2, &error);
  g_assert_no_error(error);
  lathe_store_close(s);
  g_assert_true(has_table(v2, "tracker_journal"));
  g_assert_true(has_table(v2, "tracker_runs"));
  g_assert_true(has_table(v2, "tracker_settings"));
  /* ... and a schema-3 store without it is damaged, said so. */
  raw_exec(v2, "DROP TABLE tracker_runs");
  g_assert_null(lathe_store_open(v2, &error));
  g_assert_nonnull(strstr(error->message, "tracker_runs"));
  g_clear_error(&error);
}

static void test_private_modes(void) {
  g_autofree char *dir = tmp_store();
  mode_t old = umask(0);
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_autoptr(LatheArtifact) a = put_text(s, "private bytes");
  umask(old);
  GStatBuf st;
  g_assert_cmpint(g_stat(dir, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0700);
  g_autofree char *db = g_build_filename(dir, "lathe.db", NULL);
  g_assert_cmpint(g_stat(db, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  g_autofree char *f = artifact_file(dir, lathe_artifact_get_digest(a));
  g_assert_cmpint(g_stat(f, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0077, ==, 0);
  g_autofree char *sub = g_path_get_dirname(f);
  g_assert_cmpint(g_stat(sub, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0077, ==, 0);
  lathe_store_close(s);
  /* A store an older Lathe left readable by all becomes private on open. */
  g_assert_cmpint(chmod(dir, 0755), ==, 0);
  g_assert_cmpint(chmod(db, 0644), ==, 0);
  lathe_store_close(lathe_store_open(dir, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(dir, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0700);
  g_assert_cmpint(g_stat(db, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
}

static void test_show_run_literal(void) {
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_autofree char *r = lathe_store_begin_run(s, "n", "p.json", "{}", 1, &error);
  g_assert_no_error(error);
  const char *wild[] = {"%", "_", "________", "\\", NULL};
  for (guint i = 0; wild[i]; i++) {
    JsonObject *o = lathe_store_show_run(s, wild[i], &error);
    g_assert_null(o);
    g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
    g_clear_error(&error);
  }
  char prefix[5];
  g_strlcpy(prefix, r, sizeof prefix);
  g_autoptr(JsonObject) o = lathe_store_show_run(s, prefix, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(o, "run_id"), ==, r);
  lathe_store_close(s);
}

/* A flipped byte: the read fails (the bytes never reach a node), the file
 * goes, and `store check` sees it before and repairs it. */
static void test_verified_reads_and_check(void) {
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  LatheStore *s = lathe_store_open(dir, &error);
  g_autoptr(LatheArtifact) a = put_text(s, "train rows 1,2,3");
  lathe_artifact_unref(put_text(s, "test rows 4,5")); /* a second, undamaged one */
  const char *digest = lathe_artifact_get_digest(a);
  g_autofree char *f = artifact_file(dir, digest);
  g_autoptr(JsonObject) clean = lathe_store_check(s, FALSE, &error);
  g_assert_true(json_object_get_boolean_member(clean, "clean"));
  g_assert_cmpint(json_object_get_int_member(clean, "artifacts_checked"), ==, 2);

  flip_byte(f);
  g_autoptr(JsonObject) found = lathe_store_check(s, FALSE, &error);
  g_assert_false(json_object_get_boolean_member(found, "clean"));
  JsonArray *damaged = json_object_get_array_member(found, "damaged");
  g_assert_cmpuint(json_array_get_length(damaged), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(damaged, 0), ==, digest);

  g_autoptr(LatheArtifact) back = lathe_store_get_artifact(s, digest, LATHE_TYPE_ANY, &error);
  g_assert_nonnull(back);
  g_assert_null(lathe_artifact_read_bytes(back, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "damaged"));
  g_clear_error(&error);
  g_assert_false(g_file_test(f, G_FILE_TEST_EXISTS));

  /* --no-cache: a re-made artifact is compared with its file and repaired. */
  g_autoptr(LatheArtifact) again = put_text(s, "train rows 1,2,3");
  flip_byte(f);
  lathe_store_set_check_rewrites(s, TRUE);
  g_assert_true(lathe_store_put_artifact(s, again, &error));
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(f, &data, &len, NULL));
  g_assert_cmpmem(data, len, "train rows 1,2,3", 16);

  flip_byte(f);
  g_autoptr(JsonObject) repaired = lathe_store_check(s, TRUE, &error);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(repaired, "repaired"));
  g_assert_true(json_object_get_boolean_member(repaired, "clean"));
  g_assert_false(g_file_test(f, G_FILE_TEST_EXISTS));
  g_autoptr(JsonObject) after = lathe_store_check(s, FALSE, &error);
  g_assert_true(json_object_get_boolean_member(after, "clean"));
  lathe_store_close(s);
}

static void test_leftovers_of_dead_processes(void) {
  g_autofree char *dir = tmp_store();
  g_autoptr(GError) error = NULL;
  lathe_store_close(lathe_store_open(dir, &error));
  g_assert_no_error(error);
  g_autofree char *dead = g_build_filename(dir, "artifacts", "tmp", "999999:1.abcdef", NULL);
  g_assert_true(g_file_set_contents(dead, "half", -1, NULL));
  g_autofree char *scratch = g_build_filename(dir, "scratch", "nosuchrun", "node", NULL);
  g_assert_cmpint(g_mkdir_with_parents(scratch, 0700), ==, 0);
  g_autofree char *root = g_path_get_dirname(scratch);
  GStatBuf st;
  g_assert_cmpint(g_stat(root, &st), ==, 0);
  g_assert_cmpint(g_utime(root, &(struct utimbuf){st.st_atime - 7200, st.st_mtime - 7200}), ==, 0);
  LatheStore *s = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_assert_false(g_file_test(dead, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
  lathe_store_close(s);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/interleaved-writers", test_interleaved_writers);
  g_test_add_func("/store/many-writers", test_many_writers);
  g_test_add_func("/store/recovery-spares-live-runs", test_recovery_spares_live_runs);
  g_test_add_func("/store/empty-db-refused", test_empty_db_refused);
  g_test_add_func("/store/missing-table-refused", test_missing_table_refused);
  g_test_add_func("/store/private-modes", test_private_modes);
  g_test_add_func("/store/show-run-literal", test_show_run_literal);
  g_test_add_func("/store/verified-reads-and-check", test_verified_reads_and_check);
  g_test_add_func("/store/leftovers", test_leftovers_of_dead_processes);
  return g_test_run();
}
