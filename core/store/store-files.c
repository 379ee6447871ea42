/* store-files.c: the store's files around the database: creating the store
 * so that no reader ever sees it half made, its permissions, the artifact
 * files and their verification, and the leftovers of killed processes. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "store/store-private.h"

/* An hour: a leftover without a process token (written by an older Lathe)
 * that old belongs to nobody still running. */
#define ANONYMOUS_LEFTOVER_S 3600
#define NEW_DB_PREFIX "lathe.db.new-"

char *lathe_store_proc_token_for(int pid) {
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  const char *p = strrchr(text, ')');
  if (!p)
    return NULL;
  g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
  /* field 22 (starttime) is index 19 after "pid (comm) " */
  if (g_strv_length(f) < 20)
    return NULL;
  return g_strdup_printf("%d:%s", pid, f[19]);
}

gboolean lathe_store_proc_alive(const char *token) {
  if (!token)
    return FALSE;
  int pid = atoi(token);
  g_autofree char *now = pid > 0 ? lathe_store_proc_token_for(pid) : NULL;
  /* "pid:starttime" tells a live process from a recycled pid. */
  return now && g_str_equal(now, token);
}

char *lathe_store_artifact_path(LatheStore *s, const char *digest) {
  char sub[3] = {digest[0], digest[1], 0};
  return g_build_filename(s->artifacts, sub, digest + 2, NULL);
}

void lathe_store_remove_tree(const char *path) {
  if (!g_file_test(path, G_FILE_TEST_IS_DIR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink(path);
    return;
  }
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      lathe_store_remove_tree(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

/* mkdir then chmod: the mode must not depend on the caller's umask, either
 * way (0077 would be fine, 0777 would make the store unusable). */
static gboolean make_private_dir(const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return TRUE;
  g_autofree char *parent = g_path_get_dirname(path);
  if (g_mkdir_with_parents(parent, 0755) != 0)
    return FALSE;
  if (g_mkdir(path, 0700) != 0 && errno != EEXIST)
    return FALSE;
  return chmod(path, 0700) == 0 || errno == EPERM;
}

/* Builds a whole database under a name of this process's, then links it
 * into place: link() never replaces, so of two creators one wins and the
 * other opens the winner's, and a reader finds no lathe.db or a whole one. */
static gboolean create_db(const char *dir, const char *dbpath, const char *schema,
                          int schema_version, GError **error) {
  g_autofree char *token = lathe_store_proc_token_for(getpid());
  g_autofree char *tmp = g_strdup_printf("%s/" NEW_DB_PREFIX "%s.XXXXXX", dir, token ? token : "0:0");
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create the run store %s: %s; "
                "choose another place with --store", tmp, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return FALSE;
  }
  close(fd);
  sqlite3 *db = NULL;
  g_autofree char *sql = g_strdup_printf("PRAGMA journal_mode=WAL; BEGIN; %s PRAGMA user_version = %d; COMMIT;",
                                         schema, schema_version);
  char *msg = NULL;
  gboolean ok = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
                sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
  if (!ok)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create the run store %s: %s", tmp,
                msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  sqlite3_close(db); /* checkpoints: the file is whole, its WAL gone */
  if (ok && link(tmp, dbpath) != 0 && errno != EEXIST) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create the run store %s: %s", dbpath,
                g_strerror(errno));
    ok = FALSE;
  }
  g_unlink(tmp);
  g_autofree char *wal = g_strconcat(tmp, "-wal", NULL), *shm = g_strconcat(tmp, "-shm", NULL);
  g_unlink(wal);
  g_unlink(shm);
  return ok;
}

gboolean lathe_store_files_prepare(const char *dir, const char *schema, int schema_version,
                                   GError **error) {
  g_autofree char *artifacts = g_build_filename(dir, "artifacts", NULL);
  g_autofree char *sha = g_build_filename(artifacts, "sha256", NULL);
  g_autofree char *tmp = g_build_filename(artifacts, "tmp", NULL);
  if (!make_private_dir(dir) || !make_private_dir(artifacts) || !make_private_dir(sha) ||
      !make_private_dir(tmp)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot create the run store %s: %s; "
                "choose another place with --store", dir, g_strerror(errno));
    return FALSE;
  }
  g_autofree char *dbpath = g_build_filename(dir, "lathe.db", NULL);
  GStatBuf st, wst;
  if (g_stat(dbpath, &st) != 0)
    return create_db(dir, dbpath, schema, schema_version, error);
  /* A store made by an older Lathe was readable by all: its owner's next
   * open makes it private (SQLite gives -wal and -shm the database's mode
   * when it creates them). */
  if (st.st_uid == geteuid() && (st.st_mode & 077))
    chmod(dbpath, 0600);
  GStatBuf dst;
  if (g_stat(dir, &dst) == 0 && dst.st_uid == geteuid() && (dst.st_mode & 077))
    chmod(dir, 0700);
  g_autofree char *wal = g_strconcat(dbpath, "-wal", NULL);
  /* SQLite would take an empty file for a new database and start the
   * history afresh without a word. Lathe never leaves one (create_db). */
  if (st.st_size == 0 && (g_stat(wal, &wst) != 0 || wst.st_size == 0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s is empty (0 bytes): the run history it held is lost; to start a new store, "
                "move %s away, or choose another place with --store", dbpath, dir);
    return FALSE;
  }
  return TRUE;
}

/* Leftovers are named "PID:START.*" by their writer (lathe_store_tmp_name()). */
static gboolean leftover_dead(const char *path, const char *name, double now) {
  const char *dot = strchr(name, '.');
  if (dot && strchr(name, ':') && strchr(name, ':') < dot) {
    g_autofree char *token = g_strndup(name, (gsize)(dot - name));
    return !lathe_store_proc_alive(token);
  }
  GStatBuf st;
  return g_lstat(path, &st) == 0 && now - (double)st.st_mtime > ANONYMOUS_LEFTOVER_S;
}

void lathe_store_clean_leftovers(LatheStore *s) {
  double now = (double)g_get_real_time() / 1e6;
  g_autofree char *tmpdir = g_build_filename(s->dir, "artifacts", "tmp", NULL);
  g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    if (leftover_dead(path, name, now))
      lathe_store_remove_tree(path);
  }
  /* A database a killed creator was building (create_db()). */
  g_autoptr(GDir) top = g_dir_open(s->dir, 0, NULL);
  while (top && (name = g_dir_read_name(top))) {
    g_autofree char *path = g_build_filename(s->dir, name, NULL);
    if (g_str_has_prefix(name, NEW_DB_PREFIX) && !strstr(name, "-wal") && !strstr(name, "-shm") &&
        leftover_dead(path, name + strlen(NEW_DB_PREFIX), now)) {
      g_autofree char *wal = g_strconcat(path, "-wal", NULL), *shm = g_strconcat(path, "-shm", NULL);
      g_unlink(path);
      g_unlink(wal);
      g_unlink(shm);
    }
  }
  /* scratch/RUN_ID belongs to a run: gone once that run is not running, or
   * its process is dead (killed before the next open marked it). */
  g_autofree char *scratch = g_build_filename(s->dir, "scratch", NULL);
  g_autoptr(GDir) sd = g_dir_open(scratch, 0, NULL);
  while (sd && (name = g_dir_read_name(sd))) {
    g_autofree char *path = g_build_filename(scratch, name, NULL);
    g_mutex_lock(&s->lock);
    sqlite3_stmt *st = stmt(s, "SELECT status, proc FROM runs WHERE id = ?1");
    gboolean dead;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (st && sqlite3_step(st) == SQLITE_ROW)
      dead = !g_str_equal((const char *)sqlite3_column_text(st, 0), "running") ||
             !lathe_store_proc_alive((const char *)sqlite3_column_text(st, 1));
    else
      dead = leftover_dead(path, name, now);
    if (st)
      sqlite3_reset(st);
    g_mutex_unlock(&s->lock);
    if (dead)
      lathe_store_remove_tree(path);
  }
}

char *lathe_store_file_sha256(const char *path, GError **error) {
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, error);
  if (!mf)
    return NULL;
  return lathe_sha256_hex(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf));
}
