/* Scanning plugin files out of process, as GStreamer's gst-plugin-scanner
 * does. Opening a plugin runs its code (constructors, lathe_plugin_query), and
 * a plugin that crashes or blocks there must not take down, or hang, every
 * command whose search path reaches it. So the catalog hands the files its
 * cache does not know to a child, the lathe binary re-executed as
 * `lathe --scan-plugins FILE...`, which inspects them one after the other and
 * answers one line of JSON each. The parent waits for each answer with a
 * timeout; a child that dies or stops answering costs the file it was on a
 * refusal, and a new child takes the files after it. Unchanged files are
 * answered by the plugin cache and spawn nothing. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lathe/lathe-json.h>

#include "catalog/catalog.h"
#include "catalog/catalog-private.h"

#define SCAN_TIMEOUT_DEFAULT 10.0
/* Files per child: bounds its argv, nothing else. */
#define SCAN_CHUNK 256

static char *scanner_program;

void lathe_catalog_set_scanner(const char *program) {
  g_free(scanner_program);
  scanner_program = g_strdup(program);
}

/* The child's side: one line of JSON per file, in order, on the pipe that was
 * its stdout; the plugins' own output goes to stderr so that it cannot garble
 * the answers. */
int lathe_plugin_scanner_main(int argc, char **argv) {
  int answers = dup(STDOUT_FILENO);
  if (answers < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    return 1;
  for (int i = 0; i < argc; i++) {
    g_autoptr(GError) error = NULL;
    GModule *module = NULL;
    g_autoptr(JsonObject) meta = lathe_plugin_inspect(argv[i], &module, &error);
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_string_member(o, "path", argv[i]);
    if (meta)
      json_object_set_object_member(o, "meta", json_object_ref(meta));
    else
      json_object_set_string_member(o, "refused", error->message);
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
    g_autofree char *line = lathe_json_write(root, FALSE); /* one line: strings escape newlines */
    g_autofree char *text = g_strconcat(line, "\n", NULL);
    for (gsize off = 0, len = strlen(text); off < len;) {
      ssize_t n = write(answers, text + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit(1);
      off += (gsize)n;
    }
  }
  /* Skip exit handlers and destructors: the plugins' (their bugs are not the
   * scan's business once it answered) and LeakSanitizer's. */
  _exit(0);
}

static double scan_timeout(void) {
  const char *env = g_getenv("LATHE_SCAN_TIMEOUT");
  char *end = NULL;
  double t = env ? g_ascii_strtod(env, &end) : 0;
  return env && end != env && *end == '\0' && t > 0 && t < 1e6 ? t : SCAN_TIMEOUT_DEFAULT;
}

static const char *signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
               {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"},
               {SIGSYS, "SIGSYS"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"},
               {SIGINT, "SIGINT"},   {SIGHUP, "SIGHUP"},   {SIGPIPE, "SIGPIPE"}};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (names[i].sig == sig)
      return names[i].name;
  return NULL;
}

/* Only what the plugin's own code does says something about the file: a
 * child killed from outside (Ctrl-C reaches the whole process group, the OOM
 * killer) is a refusal this time, not one to keep in the cache. */
static gboolean signal_is_the_plugins(int sig) {
  return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
         sig == SIGTRAP || sig == SIGSYS;
}

static void set_refused(LatheScanResult *r, gboolean transient, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void set_refused(LatheScanResult *r, gboolean transient, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  r->refused = g_strdup_printf("plugin %s refused: %s; %s", r->path, why,
                               transient ? "run the command again"
                                         : "remove it from the plugin path or rebuild it");
  r->transient = transient;
}

static void scan_in_process(LatheScanResult *r) {
  g_autoptr(GError) error = NULL;
  GModule *module = NULL; /* resident: lathe_catalog_realize() opens it again, cheaply */
  r->meta = lathe_plugin_inspect(r->path, &module, &error);
  if (!r->meta)
    r->refused = g_strdup(error->message);
}

/* One answer line: TRUE when it is the answer about @r. */
static gboolean take_answer(LatheScanResult *r, const char *line, gsize len) {
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, line, (gssize)len, NULL) || !json_parser_get_root(p) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return FALSE;
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  if (g_strcmp0(json_object_get_string_member_with_default(o, "path", NULL), r->path) != 0)
    return FALSE;
  JsonNode *meta = json_object_get_member(o, "meta");
  const char *refused = json_object_get_string_member_with_default(o, "refused", NULL);
  if (meta && JSON_NODE_HOLDS_OBJECT(meta))
    r->meta = json_object_ref(json_node_get_object(meta));
  else if (refused)
    r->refused = g_strdup(refused);
  else
    return FALSE;
  return TRUE;
}

typedef enum { CHILD_DONE, CHILD_ENDED, CHILD_HUNG, CHILD_GARBLED } ChildEnd;

/* Reads answers for @files in order, giving each @timeout seconds; returns
 * how many were answered and why reading stopped. */
static ChildEnd read_answers(int fd, LatheScanResult *files, guint n, double timeout,
                             guint *answered) {
  g_autoptr(GString) buf = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
  *answered = 0;
  while (*answered < n) {
    char *nl = memchr(buf->str, '\n', buf->len);
    if (nl) {
      gsize len = (gsize)(nl - buf->str);
      if (!take_answer(&files[*answered], buf->str, len))
        return CHILD_GARBLED;
      g_string_erase(buf, 0, (gssize)len + 1);
      (*answered)++;
      deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
      continue;
    }
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
      return CHILD_HUNG;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
    if (r < 0 && errno != EINTR)
      return CHILD_ENDED;
    if (r <= 0)
      continue; /* a signal (Ctrl-C is the engine's business), or the time is up */
    char chunk[65536];
    ssize_t got = read(fd, chunk, sizeof chunk);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (got <= 0)
      return CHILD_ENDED;
    g_string_append_len(buf, chunk, got);
  }
  return CHILD_DONE;
}

/* Reaps @pid, whose answers pipe is @fd; a child that outlives its answers
 * by a second is killed. */
static int reap(GPid pid, int fd, gboolean kill_now) {
  int status = 0;
  if (kill_now)
    kill(pid, SIGKILL);
  /* The pipe closes as the child exits: waiting for that, rather than
   * sleeping between waitpid() calls, costs no time on the usual path. */
  gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
  for (char sink[256]; !kill_now;) {
    gint64 left = deadline - g_get_monotonic_time();
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (left <= 0 || (poll(&pfd, 1, (int)((left + 999) / 1000)) < 0 && errno != EINTR))
      break;
    ssize_t got = (pfd.revents & (POLLIN | POLLHUP | POLLERR)) ? read(fd, sink, sizeof sink) : 1;
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
      break;
  }
  for (int i = 0; !kill_now && i < 1000; i++) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return r == pid ? status : 0;
    g_usleep(1000);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

static char **child_env(void) {
  char **env = g_get_environ();
  /* The scan does no maths: OpenBLAS, loaded with the plugins that link
   * it, need not start a thread per core. */
  env = g_environ_setenv(env, "OPENBLAS_NUM_THREADS", "1", TRUE);
#if defined(__SANITIZE_ADDRESS__)
#define LATHE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LATHE_ASAN 1
#endif
#endif
#ifdef LATHE_ASAN
  /* Under AddressSanitizer a plugin's crash must still end the child with its
   * signal, so that it is named; the child's leaks are not the host's. */
  const char *asan = g_environ_getenv(env, "ASAN_OPTIONS");
  g_autofree char *opts = g_strdup_printf("%s%shandle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
                                          "handle_sigill=0:detect_leaks=0", asan ? asan : "",
                                          asan && *asan ? ":" : "");
  env = g_environ_setenv(env, "ASAN_OPTIONS", opts, TRUE);
#endif
  return env;
}

/* One child for @files (at most SCAN_CHUNK); returns how many it settled,
 * at least one, or 0 when no child could be started. */
static guint scan_chunk(LatheScanResult *files, guint n, double timeout, char **env) {
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, scanner_program);
  g_ptr_array_add(argv, "--scan-plugins");
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(argv, (char *)files[i].path);
  g_ptr_array_add(argv, NULL);
  GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL;
  if (!g_getenv("LATHE_VERBOSE"))
    flags |= G_SPAWN_STDERR_TO_DEV_NULL; /* a crashing plugin's noise; the refusal says it */
  GPid pid = 0;
  int out = -1;
  if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, env, flags, NULL, NULL, &pid, NULL,
                                &out, NULL, NULL))
    return 0;
  guint answered = 0;
  ChildEnd end = read_answers(out, files, n, timeout, &answered);
  int status = reap(pid, out, end == CHILD_HUNG || end == CHILD_GARBLED);
  close(out);
  g_spawn_close_pid(pid);
  if (end == CHILD_DONE)
    return n;
  LatheScanResult *r = &files[answered];
  if (end == CHILD_HUNG)
    set_refused(r, FALSE, "did not answer within %g s while being scanned (a constructor or "
                "lathe_plugin_query blocks)", timeout);
  else if (end == CHILD_GARBLED)
    set_refused(r, FALSE, "garbled the scanner's answer while being scanned");
  else if (WIFSIGNALED(status) && !signal_is_the_plugins(WTERMSIG(status)))
    set_refused(r, TRUE, "its scanner was killed by %s while scanning it",
                signal_name(WTERMSIG(status)) ? signal_name(WTERMSIG(status)) : "a signal");
  else if (WIFSIGNALED(status) && signal_name(WTERMSIG(status)))
    set_refused(r, FALSE, "crashed with %s while being scanned", signal_name(WTERMSIG(status)));
  else if (WIFSIGNALED(status))
    set_refused(r, FALSE, "crashed with signal %d while being scanned", WTERMSIG(status));
  else
    set_refused(r, FALSE, "exited with status %d while being scanned",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return answered + 1;
}

void lathe_plugin_scan(LatheScanResult *files, guint n) {
  if (n == 0)
    return; /* every file came from the cache: the common case, kept free */
  if (!scanner_program) { /* a program that is not lathe (unit tests) */
    for (guint i = 0; i < n; i++)
      scan_in_process(&files[i]);
    return;
  }
  double timeout = scan_timeout();
  g_auto(GStrv) env = child_env();
  for (guint done = 0; done < n;) {
    guint settled = scan_chunk(files + done, MIN(n - done, SCAN_CHUNK), timeout, env);
    if (settled == 0) { /* no child (no processes left?): scan here rather than not at all */
      scan_in_process(&files[done]);
      settled = 1;
    }
    done += settled;
  }
}

void lathe_scan_result_clear(LatheScanResult *r) {
  g_clear_pointer(&r->meta, json_object_unref);
  g_clear_pointer(&r->refused, g_free);
}
