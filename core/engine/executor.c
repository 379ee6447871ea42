/* The host's side of executors (issue 15): which executor runs a task, the
 * task file it gets, submitting it, waiting for it without holding the
 * scheduler (the waiting is the task's own worker thread, polling with a
 * growing interval), and reading back what `lathe exec-task` left in the
 * store. node-exec.c does everything else exactly as for a thread: the cache
 * decision before, the output checks and the recording after. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

#include <glib/gstdio.h>

#include "engine/engine-private.h"

/* One executor component's session for the run; its calls are serialized
 * (an executor need not be thread-safe). */
typedef struct _LatheExecSession {
  char *use;
  LatheComponentInfo *comp;
  const LatheExecutorClass *k;
  LatheContext *ctx;
  gpointer session;
  GMutex lock;
} LatheExecSession;

struct _LatheExecutors {
  LatheRun *run;
  GMutex lock;
  GHashTable *sessions; /* "use\nwith-json" -> LatheExecSession* */
};

typedef LatheExecSession Session;

static void session_free(Session *s) {
  if (s->session && s->k->close)
    s->k->close(s->session);
  g_clear_pointer(&s->ctx, lathe_context_free);
  g_mutex_clear(&s->lock);
  g_free(s->use);
  g_free(s);
}

LatheExecutors *lathe_executors_new(LatheRun *run) {
  LatheExecutors *e = g_new0(LatheExecutors, 1);
  e->run = run;
  g_mutex_init(&e->lock);
  e->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)session_free);
  return e;
}

void lathe_executors_free(LatheExecutors *e) {
  if (!e)
    return;
  /* Every task waits for its own job to end, and cancels it on an
   * interrupt: by now none is live. Closing a session ends the executor's
   * own bookkeeping (executor/process kills what is left of its children). */
  g_hash_table_unref(e->sessions);
  g_mutex_clear(&e->lock);
  g_free(e);
}

char *lathe_engine_check_executor(LatheCatalog *cat, const char *id, GError **error) {
  if (g_str_equal(id, "threads"))
    return g_strdup("threads");
  g_autofree char *full = strchr(id, '/') ? g_strdup(id) : g_strdup_printf("executor/%s", id);
  LatheComponentInfo *c = lathe_catalog_lookup(cat, full);
  if (!c || c->kind != LATHE_KIND_EXECUTOR) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "--executor '%s' is not an installed executor; use \"threads\" or one that "
                "`lathe plugins` lists (executor/process)", id);
    return NULL;
  }
  return g_steal_pointer(&full);
}

/* The setting that applies to @t: --executor, the node's own, the pipeline's. */
static JsonObject *setting_of(LatheNodeRun *t, const char **use) {
  LatheRun *run = t->batch->run;
  if (run->opts->executor) {
    *use = run->opts->executor;
    return NULL;
  }
  JsonObject *s = t->node->executor;
  if (!s) {
    LatheGraph *g = t->node->graph;
    while (g->outer)
      g = g->outer;
    s = g->executor ? g->executor : run->graph->executor;
  }
  *use = s ? json_object_get_string_member_with_default(s, "use", NULL) : NULL;
  return s && json_object_has_member(s, "with") ? json_object_get_object_member(s, "with") : NULL;
}

/* The executor's params as its context reads them: what the pipeline set
 * (validated already), defaults for the rest, as any node gets. */
static JsonObject *executor_params(LatheComponentInfo *c, JsonObject *with) {
  g_autoptr(GPtrArray) problems = lathe_problems_new();
  return lathe_params_resolve(c, with, "/executor/with", problems, TRUE);
}

const char *lathe_executors_short_name(const Session *s) {
  const char *slash = strrchr(s->use, '/');
  return slash ? slash + 1 : s->use;
}

gboolean lathe_executors_select(LatheExecutors *e, LatheNodeRun *t, GError **error) {
  t->remote = NULL;
  const LatheNodeKind *kind = lathe_node_kind_get(t->node->comp->kind);
  /* The tuner runs its trials' nodes as tasks of their own, and the register
   * node acts on the run itself: both stay in the host. */
  if (!kind || kind->after_run || kind->trial || t->node->comp->kind == LATHE_KIND_TUNER)
    return TRUE;
  const char *use = NULL;
  JsonObject *with = setting_of(t, &use);
  if (!use || g_str_equal(use, "threads"))
    return TRUE;
  g_autofree char *with_text = NULL;
  if (with) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), with);
    with_text = lathe_json_canonical(n);
  }
  g_autofree char *key = g_strdup_printf("%s\n%s", use, with_text ? with_text : "{}");
  g_mutex_lock(&e->lock);
  Session *s = g_hash_table_lookup(e->sessions, key);
  if (!s) {
    LatheComponentInfo *c = lathe_catalog_lookup(e->run->cat, use);
    if (!c || c->kind != LATHE_KIND_EXECUTOR) {
      g_mutex_unlock(&e->lock);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "node '%s': '%s' is not an installed "
                  "executor", t->exec_id, use);
      return FALSE;
    }
    if (!lathe_catalog_realize(e->run->cat, c, error)) {
      g_mutex_unlock(&e->lock);
      return FALSE;
    }
    g_autoptr(JsonObject) params = executor_params(c, with);
    LatheContext *ctx = lathe_context_new(use, params, 0, NULL, NULL);
    lathe_context_set_dirs(ctx, e->run->graph->base_dir, lathe_store_dir(e->run->store),
                           e->run->scratch_root);
    lathe_context_set_run(ctx, e->run->run_id, e->run->graph->path);
    const LatheExecutorClass *k = c->klass;
    g_autoptr(GError) local = NULL;
    gpointer session = k->open(ctx, &local);
    if (!session) {
      lathe_context_free(ctx);
      g_mutex_unlock(&e->lock);
      const char *said = local ? local->message : "cannot open (plugin bug: no error)";
      /* Plugins name themselves in their errors already: not twice. */
      if (g_str_has_prefix(said, use))
        g_set_error_literal(error, LATHE_ERROR, LATHE_ERROR_FAILED, said);
      else
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "%s: %s", use, said);
      return FALSE;
    }
    s = g_new0(Session, 1);
    s->use = g_strdup(use);
    s->comp = c;
    s->k = k;
    s->ctx = ctx;
    s->session = session;
    g_mutex_init(&s->lock);
    g_hash_table_insert(e->sessions, g_strdup(key), s);
  }
  g_mutex_unlock(&e->lock);
  t->remote = s;
  return TRUE;
}

/* This very binary, for the task's argv: an executor elsewhere (a Slurm
 * node) needs its real path, which /proc/self/exe gives. When the file was
 * replaced since the host started (a rebuild), only /proc/self/exe itself
 * still names the host's binary, in a child of the host. */
static char *self_exe(void) {
  char *p = g_file_read_link("/proc/self/exe", NULL);
  if (p && !g_str_has_suffix(p, " (deleted)"))
    return p;
  g_free(p);
  return g_strdup("/proc/self/exe");
}

/* The task's program and its first argument: lathe-task (core/cli/task-main.c),
 * the engine without the CLI and HTTP, when it sits beside this binary (a
 * build tree, an install); else this binary's own `exec-task`. */
static char *task_program(const char *self) {
  if (g_str_has_prefix(self, "/proc/"))
    return g_strdup(self); /* replaced since it started: a sibling may be of another build */
  g_autofree char *dir = g_path_get_dirname(self);
  char *runner = g_build_filename(dir, "lathe-task", NULL);
  if (g_file_test(runner, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(runner, G_FILE_TEST_IS_DIR))
    return runner;
  g_free(runner);
  return g_strdup(self);
}

static const char *type_name(LatheArtifactType type) { return lathe_artifact_type_name(type); }

LatheArtifactType lathe_artifact_type_from_name(const char *name) {
  for (LatheArtifactType ty = LATHE_TYPE_DATASET; ty <= LATHE_TYPE_METRICS; ty++)
    if (g_strcmp0(name, lathe_artifact_type_name(ty)) == 0)
      return ty;
  return LATHE_TYPE_ANY;
}

/* The file name of a task's files: its exec id ("tune/3/model") made flat. */
static char *task_stem(LatheNodeRun *t) {
  g_autofree char *flat = g_strdup(t->exec_id);
  g_strdelimit(flat, "/", '+');
  return g_strdup_printf("%s.%u", flat, t->attempt ? t->attempt : 1);
}

static JsonObject *task_json(LatheNodeRun *t, LatheContext *ctx, const char *result) {
  LatheRun *run = t->batch->run;
  LatheComponentInfo *c = t->node->comp;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "lathe_task", 1);
  json_object_set_string_member(o, "store", lathe_store_dir(run->store));
  json_object_set_string_member(o, "run_id", run->run_id);
  json_object_set_string_member(o, "pipeline", run->graph->path);
  json_object_set_string_member(o, "base_dir", run->graph->base_dir);
  json_object_set_string_member(o, "exec_id", t->exec_id);
  json_object_set_string_member(o, "node", t->node->id);
  json_object_set_int_member(o, "attempt", t->attempt ? t->attempt : 1);
  json_object_set_string_member(o, "component", c->id);
  json_object_set_string_member(o, "plugin_version", c->plugin->version);
  json_object_set_string_member(o, "plugin_digest", lathe_plugin_digest(c->plugin));
  json_object_set_object_member(o, "params", json_object_ref(t->params));
  /* A string: JSON numbers above 2^53 lose bits in other readers. */
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, t->seed);
  json_object_set_string_member(o, "seed", seed);
  if (t->cache_key)
    json_object_set_string_member(o, "cache_key", t->cache_key);
  /* A node held to N cores runs at most N BLAS threads there. */
  json_object_set_int_member(o, "threads", t->node->resources.cpus
                                               ? MIN(run->blas_threads, t->node->resources.cpus)
                                               : run->blas_threads);
  JsonObject *inputs = json_object_new();
  for (guint i = 0; i < t->node->edges->len; i++) {
    LatheEdge *edge = t->node->edges->pdata[i];
    LatheArtifact *a = lathe_context_get_input(ctx, edge->port);
    if (!a)
      continue;
    JsonObject *in = json_object_new();
    json_object_set_string_member(in, "digest", lathe_artifact_get_digest(a));
    json_object_set_string_member(in, "type", type_name(lathe_artifact_get_kind(a)));
    json_object_set_object_member(inputs, edge->port, in);
  }
  json_object_set_object_member(o, "inputs", inputs);
  if (run->opts->pins) {
    JsonArray *pins = g_hash_table_lookup(run->opts->pins, t->exec_id);
    if (!pins)
      pins = g_hash_table_lookup(run->opts->pins, t->node->id);
    if (pins)
      json_object_set_array_member(o, "pins", json_array_ref(pins));
  }
  if (run->graph->registry)
    json_object_set_object_member(o, "registry", json_object_ref(run->graph->registry));
  json_object_set_string_member(o, "result", result);
  g_autofree char *stream = g_strconcat(result, ".reports", NULL);
  json_object_set_string_member(o, "reports_stream", stream);
  return o;
}

/* The last @n lines of @path, or NULL when it has none. */
static char *log_tail(const char *path, guint n) {
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL) || !len)
    return NULL;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  const char *p = text + len;
  guint lines = 0;
  while (p > text) {
    if (p[-1] == '\n' && ++lines == n)
      break;
    p--;
  }
  if (!*p)
    return NULL;
  /* At most 4 KiB: a tail is for reading, the log file keeps the rest. */
  gsize keep = strlen(p);
  if (keep > 4096)
    p += keep - 4096;
  return g_utf8_make_valid(p, -1);
}

/* What the task logged (its warnings, already tagged "[NODE]" and with
 * secrets hidden by the task's own host services), on our stderr as a thread
 * would have printed it, made safe for the terminal the same way: at most
 * its last 64 KiB. */
static void relay_log(LatheRun *run, const char *path) {
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL) || !len)
    return;
  g_auto(GStrv) lines = g_strsplit(len > 65536 ? text + len - 65536 : text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (!lines[i][0] && !lines[i + 1])
      break; /* the last newline */
    g_autofree char *shown = run->opts->escape ? run->opts->escape(lines[i]) : g_strdup(lines[i]);
    g_printerr("%s\n", shown);
  }
}

static guint tail_lines(void) {
  const char *v = g_getenv("LATHE_STDERR_TAIL_LINES");
  guint64 n = v ? g_ascii_strtoull(v, NULL, 10) : 0;
  return n > 0 && n < 1000 ? (guint)n : 20;
}

static gint64 grace_us(void) {
  const char *v = g_getenv("LATHE_EXECUTOR_GRACE_S");
  if (v && *v) {
    double s = 0;
    if (lathe_parse_duration(v, &s))
      return (gint64)(s * G_USEC_PER_SEC);
  }
  return 600 * G_USEC_PER_SEC;
}

/* Waits for @job to end: polls every 0.25 ms for its first 20 ms (a fork
 * server's task of a few ms is seen ending at once; a poll is a system call
 * or two), then the interval grows by a quarter each time to 1 s, so a
 * short node is seen ending within a quarter of its time and a long one
 * costs a poll a second. The
 * node's context being cancelled (an interrupt) cancels the job. */
static LatheTaskState wait_job(Session *s, LatheNodeRun *t, LatheContext *ctx, gpointer job,
                               LatheReportStream *rs, int *status, gboolean *cancelled, GError **error) {
  gint64 interval = 250, unavailable_since = 0, cancel_at = 0, streamed_at = 0;
  const gint64 submitted = g_get_monotonic_time();
  for (;;) {
    /* A trial's reports so far: its study's pruner may stop it now. Read
     * every 10 ms at most: polls start 0.25 ms apart. */
    if (g_get_monotonic_time() - streamed_at >= 10000) {
      streamed_at = g_get_monotonic_time();
      if (lathe_report_stream_poll(rs, t))
        lathe_context_cancel(ctx);
    }
    g_autoptr(GError) perr = NULL;
    g_mutex_lock(&s->lock);
    LatheTaskState st = s->k->poll(s->session, job, status, &perr);
    g_mutex_unlock(&s->lock);
    if (perr && g_error_matches(perr, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE)) {
      gint64 now = g_get_monotonic_time();
      if (!unavailable_since) {
        unavailable_since = now;
        g_printerr("warning: [%s] %s cannot tell the job's state for now (%s); waiting up to "
                   "LATHE_EXECUTOR_GRACE_S\n", t->exec_id, s->use, perr->message);
      } else if (now - unavailable_since > grace_us()) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE,
                    "%s has not told the job's state for %.0f s (%s); the job is cancelled and "
                    "counted as lost (LATHE_EXECUTOR_GRACE_S sets how long to wait)",
                    s->use, (now - unavailable_since) / 1e6, perr->message);
        /* Best effort: a job nobody waits for any more must not run on. */
        g_mutex_lock(&s->lock);
        s->k->cancel(s->session, job, NULL);
        g_mutex_unlock(&s->lock);
        return LATHE_TASK_LOST;
      }
      st = LATHE_TASK_RUNNING;
    } else if (perr || st < LATHE_TASK_PENDING || st > LATHE_TASK_LOST) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "%s: poll: %s", s->use,
                  perr ? perr->message : "an unknown state (plugin bug)");
      return LATHE_TASK_LOST;
    } else {
      if (unavailable_since)
        g_printerr("[%s] %s answers again\n", t->exec_id, s->use);
      unavailable_since = 0;
    }
    if (st != LATHE_TASK_PENDING && st != LATHE_TASK_RUNNING)
      return st;
    if (!*cancelled && (lathe_context_is_cancelled(ctx) || lathe_engine_interrupted())) {
      *cancelled = TRUE;
      cancel_at = g_get_monotonic_time();
      g_autoptr(GError) cerr = NULL;
      g_mutex_lock(&s->lock);
      if (!s->k->cancel(s->session, job, &cerr))
        g_printerr("warning: [%s] %s: cancel: %s\n", t->exec_id, s->use,
                   cerr ? cerr->message : "refused");
      g_mutex_unlock(&s->lock);
      interval = 1000;
    }
    /* A job that ignores its cancel for a minute is given up on. */
    if (*cancelled && g_get_monotonic_time() - cancel_at > 60 * G_USEC_PER_SEC)
      return LATHE_TASK_CANCELLED;
    g_usleep((gulong)interval);
    if (g_get_monotonic_time() - submitted > 20000)
      interval = MIN(interval * 5 / 4, G_USEC_PER_SEC);
  }
}

static gboolean read_result(LatheNodeRun *t, LatheContext *ctx, const char *path, guint streamed,
                            JsonArray **data_versions, gboolean *component_failed, GError **error) {
  LatheRun *run = t->batch->run;
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_file(p, path, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return FALSE;
  JsonObject *r = json_node_get_object(json_parser_get_root(p));
  /* Reports come back with the outcome: the recorder writes them ahead of
   * it. The first @streamed were read while the task ran (task-reports.c). */
  JsonArray *reports = json_object_has_member(r, "reports") ? json_object_get_array_member(r, "reports") : NULL;
  for (guint i = streamed; reports && i < json_array_get_length(reports); i++) {
    JsonObject *rep = json_array_get_object_element(reports, i);
    lathe_node_run_report(t, json_object_get_string_member_with_default(rep, "name", "?"),
                          json_object_get_double_member_with_default(rep, "value", 0),
                          json_object_get_int_member_with_default(rep, "step", 0));
  }
  JsonObject *metrics = json_object_has_member(r, "metrics") ? json_object_get_object_member(r, "metrics") : NULL;
  g_autoptr(GList) names = metrics ? json_object_get_members(metrics) : NULL;
  for (GList *l = names; l; l = l->next)
    lathe_context_set_metric(ctx, l->data, json_object_get_double_member(metrics, l->data));
  if (json_object_has_member(r, "data_versions"))
    *data_versions = json_array_ref(json_object_get_array_member(r, "data_versions"));
  if (!json_object_get_boolean_member_with_default(r, "ok", FALSE)) {
    *component_failed = TRUE;
    g_set_error(error, LATHE_ERROR, (gint)json_object_get_int_member_with_default(r, "code", LATHE_ERROR_FAILED),
                "%s", json_object_get_string_member_with_default(r, "error", "failed without saying why"));
    return TRUE;
  }
  JsonObject *outs = json_object_has_member(r, "outputs") ? json_object_get_object_member(r, "outputs") : NULL;
  g_autoptr(GList) ports = outs ? json_object_get_members(outs) : NULL;
  for (GList *l = ports; l; l = l->next) {
    JsonObject *o = json_object_get_object_member(outs, l->data);
    const char *digest = json_object_get_string_member_with_default(o, "digest", "");
    LatheArtifact *a = lathe_store_get_artifact(
        run->store, digest, lathe_artifact_type_from_name(json_object_get_string_member_with_default(o, "type", "")), error);
    if (!a) {
      if (error && !*error)
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "output '%s' (%s) is not in the store %s",
                    (char *)l->data, digest, lathe_store_dir(run->store));
      *component_failed = TRUE;
      return TRUE;
    }
    lathe_context_set_output(ctx, l->data, a);
  }
  return TRUE;
}

/* The error of a job that ended otherwise than by its component's own
 * error, and what kind of failure it is for retries. */
static char *job_error(Session *s, gpointer job, LatheTaskState st, int status, gboolean cancelled,
                       guint *failure) {
  g_autofree char *said = NULL;
  if (s->k->describe) {
    g_mutex_lock(&s->lock);
    said = s->k->describe(s->session, job);
    g_mutex_unlock(&s->lock);
  }
  const char *fallback = NULL;
  switch (st) {
  case LATHE_TASK_TIMEOUT:
    *failure = LATHE_RETRY_ON_TIMEOUT;
    fallback = "timed out";
    break;
  case LATHE_TASK_OUT_OF_MEMORY:
    *failure = LATHE_RETRY_ON_CRASH;
    fallback = "exceeded its memory limit";
    break;
  case LATHE_TASK_LOST:
    *failure = LATHE_RETRY_ON_LOST;
    fallback = "lost (the machine failed or the job vanished)";
    break;
  case LATHE_TASK_CANCELLED:
    /* Cancelled by us (an interrupt) is no failure of its own; by someone
     * else (scancel), it is lost work, tried again as such. */
    *failure = cancelled ? 0 : LATHE_RETRY_ON_LOST;
    fallback = cancelled ? "cancelled" : "cancelled from outside Lathe";
    break;
  default:
    *failure = LATHE_RETRY_ON_CRASH;
    break;
  }
  if (said && *said)
    return g_steal_pointer(&said);
  if (fallback)
    return g_strdup(fallback);
  return g_strdup_printf("exited with status %d", status);
}

gboolean lathe_exec_remote(LatheNodeRun *t, LatheContext *ctx, JsonArray **data_versions,
                           GError **error) {
  Session *s = t->remote;
  LatheRun *run = t->batch->run;
  const LatheResources *res = &t->node->resources;
  t->failure = LATHE_RETRY_ON_CRASH;
  g_autofree char *dir = g_build_filename(lathe_store_dir(run->store), "tasks", run->run_id, NULL);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot make %s: %s", dir, g_strerror(errno));
    return FALSE;
  }
  g_autofree char *stem = task_stem(t);
  g_autofree char *task_path = g_strdup_printf("%s/%s.task.json", dir, stem);
  g_autofree char *result_path = g_strdup_printf("%s/%s.result.json", dir, stem);
  g_autofree char *log_path = g_strdup_printf("%s/%s.log", dir, stem);
  g_unlink(result_path);
  {
    g_autoptr(JsonObject) o = task_json(t, ctx, result_path);
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
    /* Canonical JSON: json-glib's own writer gives 1e-08 as "1e-08.0", which
     * no reader takes. */
    g_autofree char *text = lathe_json_canonical(n);
    /* It holds the node's params, secrets included: for the user alone. */
    int fd = g_open(task_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    /* Another node's task that just ended removes the folder when it finds
     * it empty (below), which can fall between the mkdir above and this
     * open: make it again. Once this file is in, the folder stays. */
    for (guint again = 0; fd < 0 && errno == ENOENT && again < 10; again++) {
      g_mkdir_with_parents(dir, 0700);
      fd = g_open(task_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    }
    gboolean ok = fd >= 0 && write(fd, text, strlen(text)) == (gssize)strlen(text);
    if (fd >= 0)
      close(fd);
    if (!ok) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot write task file %s", task_path);
      return FALSE;
    }
  }
  g_autofree char *self = self_exe();
  g_autofree char *program = task_program(self);
  const char *argv[] = {program, "exec-task", task_path, NULL};
  g_autofree char *task_id = g_strdup_printf("%s/%s/%u", run->run_id, t->exec_id, t->attempt);
  g_autofree char *job_name = g_strdup_printf("lathe-%s-%s", run->run_id, t->exec_id);
  g_strdelimit(job_name, "/ ", '-');
  LatheTask task = {
      .struct_size = sizeof(LatheTask),
      .task_id = task_id,
      .argv = argv,
      .workdir = run->graph->base_dir,
      .log_path = log_path,
      .cpus = res->cpus,
      .memory_mb = res->memory_mb,
      .time_limit_s = res->time_s,
      .job_name = job_name,
      .gpus = res->gpus,
      .partition = res->partition,
      .account = res->account,
      .qos = res->qos,
  };
  g_autoptr(GError) local = NULL;
  /* The task opens the store at once: the host's pending writes must not
   * hold the write lock it waits for. */
  lathe_store_commit(run->store);
  g_mutex_lock(&s->lock);
  gpointer job = s->k->submit(s->session, &task, &local);
  g_autofree char *ref = job && s->k->job_ref ? s->k->job_ref(s->session, job) : NULL;
  g_mutex_unlock(&s->lock);
  if (!job) {
    g_unlink(task_path);
    t->failure = LATHE_RETRY_ON_LOST;
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "%s: submit: %s", s->use,
                local ? local->message : "refused without an error (plugin bug)");
    return FALSE;
  }
  if (ref)
    lathe_store_job_begin(run->store, run->run_id, t->exec_id, t->attempt, s->use, ref);
  int status = 0;
  gboolean cancelled = FALSE;
  LatheReportStream rs;
  g_autofree char *stream_path = g_strconcat(result_path, ".reports", NULL);
  lathe_report_stream_init(&rs, stream_path);
  LatheTaskState st = wait_job(s, t, ctx, job, &rs, &status, &cancelled, &local);
  if (local) /* the executor went silent, or answered nonsense */
    t->failure = LATHE_RETRY_ON_LOST;
  if (ref)
    lathe_store_job_end(run->store, run->run_id, t->exec_id, t->attempt);
  gboolean ok = FALSE, component_failed = FALSE, have_result = FALSE;
  if (!local)
    have_result = read_result(t, ctx, result_path, rs.n, data_versions, &component_failed, &local);
  lathe_report_stream_clear(&rs);
  if (have_result && !component_failed && st == LATHE_TASK_SUCCEEDED) {
    ok = TRUE;
    t->failure = LATHE_RETRY_ON_ERROR; /* what fails from here on is the output checks */
  } else if (have_result && component_failed) {
    /* The component's own error, as a thread run would have said it. */
    t->failure = LATHE_RETRY_ON_ERROR;
  } else if (!local) {
    g_autofree char *why = job_error(s, job, st, status, cancelled, &t->failure);
    g_autofree char *tail = log_tail(log_path, tail_lines());
    if (st == LATHE_TASK_SUCCEEDED)
      g_set_error(&local, LATHE_ERROR, LATHE_ERROR_FAILED, "the task left no result (%s)", result_path);
    else if (tail)
      g_set_error(&local, LATHE_ERROR, cancelled ? LATHE_ERROR_CANCELLED : LATHE_ERROR_FAILED,
                  "%s (log %s)\n%s", why, log_path, tail);
    else
      g_set_error(&local, LATHE_ERROR, cancelled ? LATHE_ERROR_CANCELLED : LATHE_ERROR_FAILED,
                  "%s", why);
  }
  g_mutex_lock(&s->lock);
  s->k->release(s->session, job);
  g_mutex_unlock(&s->lock);
  relay_log(run, log_path);
  g_unlink(task_path); /* its params may hold secrets */
  g_unlink(result_path);
  if (ok) { /* the log of a node that worked is noise; a failure's is kept */
    g_unlink(log_path);
  }
  g_rmdir(dir); /* when it is the last */
  if (!ok)
    g_propagate_error(error, g_steal_pointer(&local));
  return ok;
}

void lathe_executors_reap(LatheRun *run) {
  g_autoptr(JsonArray) jobs = lathe_store_jobs_orphaned(run->store);
  for (guint i = 0; i < json_array_get_length(jobs); i++) {
    JsonObject *j = json_array_get_object_element(jobs, i);
    const char *use = json_object_get_string_member(j, "executor");
    const char *ref = json_object_get_string_member(j, "job_ref");
    const char *old_run = json_object_get_string_member(j, "run_id");
    const char *node = json_object_get_string_member(j, "node");
    guint attempt = (guint)json_object_get_int_member(j, "attempt");
    LatheComponentInfo *c = lathe_catalog_lookup(run->cat, use);
    g_autoptr(GError) error = NULL;
    if (!c || c->kind != LATHE_KIND_EXECUTOR || !lathe_catalog_realize(run->cat, c, &error)) {
      g_printerr("warning: job %s of run %s (node %s) was left by a run that ended; %s is not "
                 "installed here to cancel it\n", ref, old_run, node, use);
      continue;
    }
    const LatheExecutorClass *k = c->klass;
    if (!k->attach) {
      lathe_store_job_end(run->store, old_run, node, attempt);
      continue;
    }
    g_autoptr(JsonObject) params = executor_params(c, NULL);
    LatheContext *ctx = lathe_context_new(use, params, 0, NULL, NULL);
    lathe_context_set_dirs(ctx, run->graph->base_dir, lathe_store_dir(run->store), run->scratch_root);
    gpointer session = k->open(ctx, &error);
    gpointer job = session ? k->attach(session, ref, &error) : NULL;
    if (job) {
      /* Its run is over: what it computes would be recorded nowhere. */
      int status = 0;
      g_autoptr(GError) perr = NULL;
      LatheTaskState st = k->poll(session, job, &status, &perr);
      if (perr || st == LATHE_TASK_PENDING || st == LATHE_TASK_RUNNING) {
        g_clear_error(&error);
        if (k->cancel(session, job, &error))
          g_printerr("lathe: cancelled job %s of %s, left running by run %s (node %s)\n", ref, use,
                     old_run, node);
        else
          g_printerr("warning: cannot cancel job %s of %s left by run %s: %s\n", ref, use, old_run,
                     error ? error->message : "refused");
      }
      k->release(session, job);
      lathe_store_job_end(run->store, old_run, node, attempt);
    } else if (session && !(error && g_error_matches(error, LATHE_ERROR, LATHE_ERROR_UNAVAILABLE))) {
      lathe_store_job_end(run->store, old_run, node, attempt); /* gone already */
    }
    if (session)
      k->close(session);
    lathe_context_free(ctx);
  }
}
