/* `lathe exec-task --server`: a fork server for executor/process (issue 15).
 *
 * Starting `lathe exec-task FILE` per task costs the dynamic linker (lathe
 * links some 30 libraries) and the plugin index, most of the overhead of a
 * small node. The server pays both once per run: it loads the catalog, then
 * forks one child per task, which runs the task file exactly as
 * `lathe exec-task FILE` does (lathe_engine_exec_task()).
 *
 * Protocol, lines on fd 0 (requests) and fd 1 (answers), fields split by
 * tabs (the plugin sends no path holding a tab or a newline):
 *   server: READY                                   once the catalog is loaded
 *   plugin: RUN <memory_mb> <workdir|-> <log> <task file>
 *   server: PID <pid>  or  ERR <message>            in the order of the RUNs
 *   server: EXIT <pid> <wait status> <maxrss_kb>    when a child ended
 * End of file on fd 0 (the host closed, or died): every child's process
 * group is killed and the server exits.
 *
 * The server is single-threaded (a fork of a threaded process keeps only
 * the forking thread): it refuses to serve if anything started a thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine-private.h"

static void say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  gsize len = strlen(line), off = 0;
  while (off < len) {
    gssize n = write(STDOUT_FILENO, line + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(1); /* the host is gone */
    off += (gsize)n;
  }
}

static guint threads_here(void) {
  g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d))
    n++;
  return n;
}

/* The child: becomes the task, as `lathe exec-task FILE` would be. */
static G_GNUC_NORETURN void run_child(LatheCatalog *cat, pid_t server, int sfd, char **f,
                                      char *title, gsize title_room) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server)
    _exit(127);
  close(sfd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  /* The command line names the task file, as an exec'd task's does (ps,
   * and the tests' search of /proc, find a task by it). */
  if (title && title_room) {
    memset(title, 0, title_room);
    g_strlcpy(title, f[4], title_room);
  }
  int log = open(f[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0)
    _exit(127);
  dup2(null, STDIN_FILENO);
  dup2(log, STDOUT_FILENO);
  dup2(log, STDERR_FILENO);
  close(null);
  close(log);
  guint64 mb = g_ascii_strtoull(f[1], NULL, 10);
  if (mb) {
    struct rlimit as = {.rlim_cur = (rlim_t)mb << 20, .rlim_max = (rlim_t)mb << 20};
    setrlimit(RLIMIT_AS, &as);
  }
  if (!g_str_equal(f[2], "-") && chdir(f[2]) != 0) {
    fprintf(stderr, "executor/process: cannot enter the working directory %s\n", f[2]);
    _exit(127);
  }
  int code = lathe_engine_exec_task(cat, f[4], FALSE);
  fflush(NULL);
  exit(code);
}

/* Reaps every child that ended and says so. Its process group is killed
 * first, while the child is an unreaped zombie, so that the group id cannot
 * have gone to another process (as executor/process does for its own). */
static void reap(GHashTable *live) {
  for (;;) {
    siginfo_t si = {0};
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
      return;
    pid_t pid = si.si_pid;
    killpg(pid, SIGKILL);
    int st = 0;
    struct rusage ru = {0};
    if (wait4(pid, &st, 0, &ru) != pid)
      return;
    g_hash_table_remove(live, GINT_TO_POINTER(pid));
    say("EXIT\t%d\t%d\t%ld\n", (int)pid, st, ru.ru_maxrss);
  }
}

static void kill_all(GHashTable *live) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, live);
  while (g_hash_table_iter_next(&it, &k, NULL))
    killpg(GPOINTER_TO_INT(k), SIGKILL);
  while (g_hash_table_size(live) > 0) {
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0 && errno != EINTR)
      break;
    if (pid > 0)
      g_hash_table_remove(live, GINT_TO_POINTER(pid));
  }
}

int lathe_engine_exec_server(LatheCatalog *cat, char *title, gsize title_room) {
  /* The host stops the server by closing the pipe; a Ctrl-C at the
   * terminal is the host's to handle. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  if (threads_here() != 1) {
    g_printerr("lathe: exec-task --server: %u threads already run here (a fork would lose "
               "them); executor/process starts each task itself\n", threads_here());
    return 1;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    g_printerr("lathe: exec-task --server: signalfd: %s\n", g_strerror(errno));
    return 1;
  }
  pid_t self = getpid();
  g_autoptr(GHashTable) live = g_hash_table_new(NULL, NULL);
  g_autoptr(GString) in = g_string_new(NULL);
  say("READY\n");
  for (;;) {
    struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si)
        ;
      reap(live);
    }
    if (!p[0].revents)
      continue;
    char buf[4096];
    gssize n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* the host closed or died */
    g_string_append_len(in, buf, n);
    char *nl;
    while ((nl = memchr(in->str, '\n', in->len))) {
      g_autofree char *line = g_strndup(in->str, (gsize)(nl - in->str));
      g_string_erase(in, 0, nl - in->str + 1);
      g_auto(GStrv) f = g_strsplit(line, "\t", 0);
      if (g_strv_length(f) != 5 || !g_str_equal(f[0], "RUN")) {
        say("ERR\tnot a request of this Lathe: %.60s\n", line);
        continue;
      }
      pid_t pid = fork();
      if (pid == 0)
        run_child(cat, self, sfd, f, title, title_room);
      if (pid < 0) {
        say("ERR\tcannot fork: %s\n", g_strerror(errno));
        continue;
      }
      setpgid(pid, pid); /* also here: the group exists before the plugin may kill it */
      g_hash_table_add(live, GINT_TO_POINTER(pid));
      say("PID\t%d\n", (int)pid);
    }
  }
  kill_all(live);
  close(sfd);
  return 0;
}
