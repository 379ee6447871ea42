/* The scheduler (core/engine/run-batch.c) driven by a fake executor and a
 * fake recorder: no plugin, no store. Each test asserts the exact sequence of
 * events the scheduler records. With one job the order is deterministic; the
 * parallel test compares each task's own events only. The last test puts the
 * real recorder over a store and checks that one event writes the store row
 * and the result row together. */
#include <string.h>

#include <glib/gstdio.h>

#include "engine/engine-private.h"
#include "test-util.h"

/* ---- the fake recorder: one line per event ---- */

typedef struct {
  GMutex lock;
  GPtrArray *lines;
} FakeRecorder;

static gboolean fake_task(gpointer data, const LatheTaskEvent *ev, GError **error) {
  FakeRecorder *fr = data;
  GString *s = g_string_new(lathe_task_event_kind_name(ev->kind));
  g_string_append_printf(s, " %s", ev->who.node);
  if (ev->trial >= 0)
    g_string_append_printf(s, " [%s#%d %s]", ev->tuner, ev->trial, ev->node);
  if (ev->kind == LATHE_EVENT_SKIPPED)
    g_string_append_printf(s, " (%s: %s)", lathe_skip_reason_name(ev->skip_reason), ev->error);
  if (ev->kind == LATHE_EVENT_FAILED || ev->kind == LATHE_EVENT_INTERRUPTED)
    g_string_append_printf(s, " (%s)", ev->error);
  g_mutex_lock(&fr->lock);
  g_ptr_array_add(fr->lines, g_string_free(s, FALSE));
  g_mutex_unlock(&fr->lock);
  return TRUE;
}

static void fake_trial(gpointer data, const LatheTrialEvent *ev) {
  FakeRecorder *fr = data;
  g_mutex_lock(&fr->lock);
  g_ptr_array_add(fr->lines, ev->ended ? g_strdup_printf("trial-end %s#%u %s", ev->tuner, ev->number, ev->state)
                                       : g_strdup_printf("trial-start %s#%u", ev->tuner, ev->number));
  g_mutex_unlock(&fr->lock);
}

static const LatheRecorderOps fake_ops = {.task = fake_task, .trial = fake_trial};

/* ---- the fake executor: fails the tasks it is told to, sets metrics ---- */

typedef struct {
  GHashTable *fail;    /* exec id -> itself */
  GHashTable *value;   /* node id -> double*: its metric "value" */
  const char *interrupt; /* the exec id that interrupts the run, then succeeds */
  guint trials;        /* a node "tune" runs this many trials of its trial graph */
  LatheGraph *trial_graph;
} FakeExecutor;

static gboolean fake_execute(gpointer data, LatheNodeRun *t, GError **error);

/* ---- graphs built by hand ---- */

static LathePlugin plugin = {.name = "fake", .version = "1.0", .digest = "00"};
static LatheComponentInfo comp = {.id = "test/fake", .name = "fake", .plugin = &plugin};

typedef struct {
  LatheGraph graph;
  LatheGraph trial_graph;
  LatheRunOptions opts;
  LatheRun run;
  FakeRecorder fr;
  LatheRecorder recorder;
  FakeExecutor fx;
  LatheExecutor executor;
  GPtrArray *owned; /* nodes and conditions */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer unused) {
  memset(f, 0, sizeof *f);
  f->owned = g_ptr_array_new();
  f->graph.seed = 42;
  f->graph.nodes = g_ptr_array_new();
  f->trial_graph.seed = 42;
  f->trial_graph.nodes = g_ptr_array_new();
  g_mutex_init(&f->fr.lock);
  f->fr.lines = g_ptr_array_new_with_free_func(g_free);
  f->recorder = (LatheRecorder){.ops = &fake_ops, .data = &f->fr};
  f->fx.fail = g_hash_table_new(g_str_hash, g_str_equal);
  f->fx.value = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  f->fx.trial_graph = &f->trial_graph;
  f->executor = (LatheExecutor){.execute = fake_execute, .data = &f->fx};
  f->run.graph = &f->graph;
  f->run.opts = &f->opts;
  f->run.run_id = g_strdup("run-1");
  g_mutex_init(&f->run.lock);
  f->run.all_tasks = g_ptr_array_new();
  f->run.recorder = &f->recorder;
  f->run.executor = &f->executor;
}

static void node_free(LatheNode *n) {
  g_ptr_array_unref(n->deps);
  g_ptr_array_unref(n->edges);
  g_ptr_array_unref(n->conditions);
  g_free(n->id);
  g_free(n->when);
  g_free(n);
}

static void fixture_teardown(Fixture *f, gconstpointer unused) {
  for (guint i = 0; i < f->graph.nodes->len; i++)
    node_free(f->graph.nodes->pdata[i]);
  for (guint i = 0; i < f->trial_graph.nodes->len; i++)
    node_free(f->trial_graph.nodes->pdata[i]);
  g_ptr_array_unref(f->graph.nodes);
  g_ptr_array_unref(f->trial_graph.nodes);
  g_ptr_array_set_free_func(f->owned, g_free);
  g_ptr_array_unref(f->owned);
  g_ptr_array_unref(f->fr.lines);
  g_mutex_clear(&f->fr.lock);
  g_hash_table_unref(f->fx.fail);
  g_hash_table_unref(f->fx.value);
  g_ptr_array_unref(f->run.all_tasks);
  g_mutex_clear(&f->run.lock);
  g_free(f->run.run_id);
}

/* A node of @g waiting for @deps (NULL-terminated). */
static LatheNode *add_node(LatheGraph *g, const char *id, ...) {
  LatheNode *n = g_new0(LatheNode, 1);
  n->id = g_strdup(id);
  n->comp = &comp;
  n->graph = g;
  n->deps = g_ptr_array_new();
  n->edges = g_ptr_array_new();
  n->conditions = g_ptr_array_new();
  va_list ap;
  va_start(ap, id);
  for (LatheNode *d; (d = va_arg(ap, LatheNode *));)
    g_ptr_array_add(n->deps, d);
  va_end(ap);
  g_ptr_array_add(g->nodes, n);
  return n;
}

/* `when: SRC.value OP X` on @n (and the dependency it implies). */
static void add_when(Fixture *f, LatheNode *n, LatheNode *src, const char *metric, const char *op,
                     double x) {
  LatheCondition *c = g_new0(LatheCondition, 1);
  c->node = src;
  c->metric = (char *)metric;
  c->op = (char *)op;
  c->value = x;
  g_ptr_array_add(f->owned, c);
  g_ptr_array_add(n->conditions, c);
  n->when = g_strdup_printf("%s.%s %s %g", src->id, metric, op, x);
  if (src->graph == n->graph)
    g_ptr_array_add(n->deps, src);
}

static void set_value(Fixture *f, const char *node, double v) {
  g_hash_table_insert(f->fx.value, (char *)node, g_memdup2(&v, sizeof v));
}

/* A batch of every node of @g, linked. */
static LatheBatch *make_batch(LatheRun *run, LatheGraph *g, LatheNodeRun *tuner, guint number,
                              guint jobs) {
  LatheBatch *b = lathe_batch_new(run, tuner, number, jobs);
  for (guint i = 0; i < g->nodes->len; i++) {
    LatheNode *n = g->nodes->pdata[i];
    g_autofree char *id = tuner ? g_strdup_printf("%s/%u/%s", tuner->exec_id, number, n->id)
                                : g_strdup(n->id);
    lathe_node_run_new(b, n, id, json_object_new());
  }
  lathe_batch_link(b);
  return b;
}

static gboolean fake_execute(gpointer data, LatheNodeRun *t, GError **error) {
  FakeExecutor *fx = data;
  if (fx->interrupt && g_str_equal(t->exec_id, fx->interrupt))
    lathe_engine_interrupt();
  else if (lathe_engine_interrupted()) {
    /* what a node does when the ticker cancels its context */
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED, "cancelled");
    return FALSE;
  }
  if (g_str_has_prefix(t->exec_id, "oom")) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_RESOURCE, "out of memory");
    return FALSE;
  }
  if (g_str_has_prefix(t->exec_id, "thread")) {
    g_set_error(error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN, "no thread");
    return FALSE;
  }
  if (g_hash_table_contains(fx->fail, t->exec_id)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED, "%s broke", t->exec_id);
    return FALSE;
  }
  double *v = g_hash_table_lookup(fx->value, t->node->id);
  if (v)
    json_object_set_double_member(t->metrics, "value", *v);
  if (g_str_equal(t->node->id, "tune")) {
    /* What tuning/trials.c does, one trial after another. */
    LatheRun *run = t->batch->run;
    for (guint i = 0; i < fx->trials; i++) {
      LatheBatch *tb = make_batch(run, fx->trial_graph, t, i, 1);
      lathe_recorder_trial(run->recorder, &(LatheTrialEvent){.tuner = t->exec_id, .number = i});
      lathe_batch_execute(tb);
      lathe_recorder_trial(run->recorder, &(LatheTrialEvent){.ended = TRUE, .tuner = t->exec_id,
                                                             .number = i, .state = "complete"});
      lathe_batch_free(tb);
    }
  }
  return TRUE;
}

static void run_graph(Fixture *f, guint jobs) {
  LatheBatch *b = make_batch(&f->run, &f->graph, NULL, 0, jobs);
  lathe_batch_execute(b);
  lathe_batch_free(b);
}

static void assert_lines(GPtrArray *got, const char *const *want) {
  guint n = g_strv_length((char **)want);
  for (guint i = 0; i < MAX(n, got->len); i++) {
    const char *g = i < got->len ? got->pdata[i] : "(none)";
    const char *w = i < n ? want[i] : "(none)";
    if (!g_str_equal(g, w)) {
      for (guint j = 0; j < got->len; j++)
        g_printerr("  got[%u] %s\n", j, (char *)got->pdata[j]);
      g_assert_cmpstr(g, ==, w);
    }
  }
}

/* The events of one task, in order, joined by "; ". */
static char *task_lines(GPtrArray *lines, const char *task) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++) {
    const char *l = lines->pdata[i];
    const char *sp = strchr(l, ' ');
    size_t len = strcspn(sp + 1, " ");
    if (strlen(task) == len && strncmp(sp + 1, task, len) == 0)
      g_string_append_printf(s, "%s%s", s->len ? "; " : "", l);
  }
  return g_string_free(s, FALSE);
}

/* A failed node's dependents, and theirs, are skipped as "upstream failed". */
static void test_skip_propagation(Fixture *f, gconstpointer unused) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  LatheNode *b = add_node(&f->graph, "b", a, NULL);
  add_node(&f->graph, "c", b, NULL);
  add_node(&f->graph, "d", b, NULL);
  g_hash_table_add(f->fx.fail, "a");
  run_graph(f, 1);
  const char *const want[] = {
      "queued a",
      "started a",
      "failed a (a broke)",
      "skipped b (upstream-failed: skipped: 'a' failed)",
      "skipped c (upstream-failed: skipped: 'b' was skipped)",
      "skipped d (upstream-failed: skipped: 'b' was skipped)",
      NULL};
  assert_lines(f->fr.lines, want);
}

/* A false `when` skips the node as "condition" and what follows it as
 * "upstream condition"; a true one runs it; a missing metric is false. */
static void test_when(Fixture *f, gconstpointer unused) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  LatheNode *b = add_node(&f->graph, "b", NULL);
  add_when(f, b, a, "value", ">=", 0.9);
  add_node(&f->graph, "c", b, NULL);
  LatheNode *d = add_node(&f->graph, "d", NULL);
  add_when(f, d, a, "value", "<", 0.9);
  LatheNode *e = add_node(&f->graph, "e", NULL);
  add_when(f, e, a, "missing", ">", 0);
  set_value(f, "a", 0.5);
  run_graph(f, 1);
  const char *const want[] = {
      "queued a",
      "started a",
      "succeeded a",
      "skipped b (condition: condition not met: a.value = 0.5, not >= 0.9)",
      "skipped c (upstream-condition: condition not met upstream: 'b' was skipped)",
      "queued d",
      "skipped e (condition: condition 'a.missing > 0': node 'a' reported no metric 'missing')",
      "started d",
      "succeeded d",
      NULL};
  assert_lines(f->fr.lines, want);
}

/* A failure stops its own branch only: the independent one runs to its end,
 * with one job and with several. */
static void check_isolation(Fixture *f, guint jobs) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  add_node(&f->graph, "b", a, NULL);
  LatheNode *c = add_node(&f->graph, "c", NULL);
  LatheNode *d = add_node(&f->graph, "d", c, NULL);
  add_node(&f->graph, "e", d, NULL);
  g_hash_table_add(f->fx.fail, "a");
  run_graph(f, jobs);
  g_assert_cmpuint(f->fr.lines->len, ==, 3 + 1 + 3 * 3);
  struct { const char *task, *want; } cases[] = {
      {"a", "queued a; started a; failed a (a broke)"},
      {"b", "skipped b (upstream-failed: skipped: 'a' failed)"},
      {"c", "queued c; started c; succeeded c"},
      {"d", "queued d; started d; succeeded d"},
      {"e", "queued e; started e; succeeded e"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = task_lines(f->fr.lines, cases[i].task);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
}

static void test_isolation(Fixture *f, gconstpointer unused) { check_isolation(f, 1); }
static void test_isolation_parallel(Fixture *f, gconstpointer unused) { check_isolation(f, 4); }

/* Trial tasks carry their trial number, tuner and node in every event; a
 * trial reads the outer batch's metrics; a failure inside a trial skips
 * within that trial only, and the tuner still succeeds. */
static void test_trials(Fixture *f, gconstpointer unused) {
  LatheNode *prep = add_node(&f->graph, "prep", NULL);
  add_node(&f->graph, "tune", prep, NULL);
  LatheNode *fit = add_node(&f->trial_graph, "fit", NULL);
  add_when(f, fit, prep, "value", ">=", 3); /* an outer node: no dependency in the trial */
  add_node(&f->trial_graph, "eval", fit, NULL);
  set_value(f, "prep", 3);
  f->fx.trials = 2;
  g_hash_table_add(f->fx.fail, "tune/1/fit");
  run_graph(f, 1);
  const char *const want[] = {
      "queued prep",
      "started prep",
      "succeeded prep",
      "queued tune",
      "started tune",
      "trial-start tune#0",
      "queued tune/0/fit [tune#0 fit]",
      "started tune/0/fit [tune#0 fit]",
      "succeeded tune/0/fit [tune#0 fit]",
      "queued tune/0/eval [tune#0 eval]",
      "started tune/0/eval [tune#0 eval]",
      "succeeded tune/0/eval [tune#0 eval]",
      "trial-end tune#0 complete",
      "trial-start tune#1",
      "queued tune/1/fit [tune#1 fit]",
      "started tune/1/fit [tune#1 fit]",
      "failed tune/1/fit [tune#1 fit] (tune/1/fit broke)",
      "skipped tune/1/eval [tune#1 eval] (upstream-failed: skipped: 'tune/1/fit' failed)",
      "trial-end tune#1 complete",
      "succeeded tune",
      NULL};
  assert_lines(f->fr.lines, want);
}

/* An interrupt skips what has not started as "interrupted", and a task
 * stopped by it is recorded as interrupted and fails its dependents. In a
 * subprocess: the interrupt cannot be taken back. */
static void test_interrupted(Fixture *f, gconstpointer unused) {
  if (!g_test_subprocess()) {
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    return;
  }
  LatheNode *a = add_node(&f->graph, "a", NULL);
  add_node(&f->graph, "b", a, NULL);
  LatheNode *c = add_node(&f->graph, "c", NULL);
  add_node(&f->graph, "d", c, NULL);
  f->fx.interrupt = "a";
  run_graph(f, 1);
  /* With one job, the calling thread runs "a" first (the first ready task),
   * then what its end made ready, then the queue: "c". */
  const char *const want[] = {
      "queued a",
      "queued c",
      "started a",
      "succeeded a",
      "skipped b (interrupted: skipped: the run was interrupted)",
      "started c",
      "interrupted c (cancelled)",
      "skipped d (upstream-failed: skipped: 'c' failed)",
      NULL};
  assert_lines(f->fr.lines, want);
}

/* Each task's seed is derived once, from the run seed and its exec id. */
static void test_seed(Fixture *f, gconstpointer unused) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  add_node(&f->trial_graph, "a", NULL);
  LatheBatch *b = make_batch(&f->run, &f->graph, NULL, 0, 1);
  LatheNodeRun *ta = lathe_batch_find(b, a);
  LatheBatch *tb = make_batch(&f->run, &f->trial_graph, ta, 3, 1);
  LatheNodeRun *tt = tb->tasks->pdata[0];
  g_assert_cmpint(ta->trial, ==, -1);
  g_assert_cmpint(tt->trial, ==, 3);
  g_assert_cmpuint(ta->seed, ==, lathe_seed_derive(42, "a"));
  g_assert_cmpuint(tt->seed, ==, lathe_seed_derive(42, "a/3/a"));
  lathe_batch_free(tb);
  lathe_batch_free(b);
}

/* The real recorder: one event writes the store's row and the result's. */
static void test_run_recorder(Fixture *f, gconstpointer unused) {
  g_autofree char *dir = g_dir_make_tmp("lathe-recorder-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LatheStore *store = lathe_store_open(dir, &error);
  g_assert_no_error(error);
  g_free(f->run.run_id);
  f->run.run_id = lathe_store_begin_run(store, "t", "t.json", "{}", 42, &error);
  g_assert_no_error(error);
  f->run.store = store;
  f->run.nodes = json_array_new();
  f->run.metrics = json_object_new();
  f->run.data_versions = json_array_new();
  LatheRecorder *rec = lathe_run_recorder_new(&f->run);
  f->run.recorder = rec;
  LatheNode *a = add_node(&f->graph, "a", NULL);
  add_node(&f->graph, "b", a, NULL);
  add_node(&f->graph, "c", NULL);
  g_hash_table_add(f->fx.fail, "a");
  set_value(f, "c", 7);
  run_graph(f, 1);
  g_assert_true(f->run.failed);
  g_assert_cmpfloat(json_object_get_double_member(f->run.metrics, "c.value"), ==, 7);
  g_autoptr(JsonObject) shown = lathe_store_show_run(store, f->run.run_id, &error);
  g_assert_no_error(error);
  JsonArray *rows = json_object_get_array_member(shown, "nodes");
  g_assert_cmpuint(json_array_get_length(rows), ==, json_array_get_length(f->run.nodes));
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *s = json_array_get_object_element(rows, i);
    JsonObject *r = json_array_get_object_element(f->run.nodes, i);
    g_assert_cmpstr(json_object_get_string_member(s, "id"), ==, json_object_get_string_member(r, "id"));
    g_assert_cmpstr(json_object_get_string_member(s, "status"), ==,
                    json_object_get_string_member(r, "status"));
  }
  g_autofree char *statuses = NULL;
  {
    GString *st = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(rows); i++) {
      JsonObject *s = json_array_get_object_element(rows, i);
      g_string_append_printf(st, "%s=%s ", json_object_get_string_member(s, "id"),
                             json_object_get_string_member(s, "status"));
    }
    statuses = g_string_free(st, FALSE);
  }
  /* One job: the calling thread runs the first ready task, "a", first. */
  g_assert_cmpstr(statuses, ==, "a=failed b=skipped c=succeeded ");
  lathe_run_recorder_free(rec);
  json_array_unref(f->run.nodes);
  json_object_unref(f->run.metrics);
  json_array_unref(f->run.data_versions);
  lathe_store_close(store);
  lathe_test_remove_tree(dir);
}

/* The run's late batch (engine.c puts the register node there): its tasks
 * read the first batch's through the parent link. A dependency skipped by a
 * condition there skips the late task as a condition too; with the batch's
 * hold set (a task of the run failed) nothing of it runs. */
static void run_late(Fixture *f, LatheNode *const *late, guint n_late, const char *hold) {
  LatheBatch *b = lathe_batch_new(&f->run, NULL, 0, 1);
  LatheBatch *lb = lathe_batch_new(&f->run, NULL, 0, 1);
  lb->parent = b;
  for (guint i = 0; i < f->graph.nodes->len; i++) {
    LatheNode *n = f->graph.nodes->pdata[i];
    gboolean is_late = FALSE;
    for (guint k = 0; k < n_late; k++)
      is_late |= late[k] == n;
    lathe_node_run_new(is_late ? lb : b, n, n->id, json_object_new());
  }
  lathe_batch_link(b);
  lathe_batch_link(lb);
  lathe_batch_execute(b);
  lb->hold = hold;
  lathe_batch_execute(lb);
  lathe_batch_free(lb);
  lathe_batch_free(b);
}

static void test_late(Fixture *f, gconstpointer unused) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  LatheNode *b = add_node(&f->graph, "b", NULL);
  add_when(f, b, a, "value", ">=", 0.9);
  LatheNode *r1 = add_node(&f->graph, "r1", a, NULL);
  LatheNode *r2 = add_node(&f->graph, "r2", b, NULL);
  LatheNode *r3 = add_node(&f->graph, "r3", r1, NULL);
  set_value(f, "a", 0.5);
  LatheNode *late[] = {r1, r2, r3};
  run_late(f, late, G_N_ELEMENTS(late), NULL);
  const char *const want[] = {
      "queued a",
      "started a",
      "succeeded a",
      "skipped b (condition: condition not met: a.value = 0.5, not >= 0.9)",
      "queued r1",
      "skipped r2 (upstream-condition: condition not met upstream: 'b' was skipped)",
      "started r1",
      "succeeded r1",
      "queued r3",
      "started r3",
      "succeeded r3",
      NULL};
  assert_lines(f->fr.lines, want);
}

static void test_late_held(Fixture *f, gconstpointer unused) {
  LatheNode *a = add_node(&f->graph, "a", NULL);
  LatheNode *r1 = add_node(&f->graph, "r1", a, NULL);
  LatheNode *r2 = add_node(&f->graph, "r2", r1, NULL);
  LatheNode *late[] = {r1, r2};
  run_late(f, late, G_N_ELEMENTS(late), "skipped: a node of the run failed");
  const char *const want[] = {
      "queued a",
      "started a",
      "succeeded a",
      "skipped r1 (upstream-failed: skipped: a node of the run failed)",
      "skipped r2 (upstream-failed: skipped: 'r1' was skipped)",
      NULL};
  assert_lines(f->fr.lines, want);
}

/* A task that ran out of memory or threads failed for a reason outside it:
 * it is flagged interrupted (a study reruns such a trial); a task that broke
 * on its own, or was skipped after it, is not. */
static void test_resource(Fixture *f, gconstpointer unused) {
  LatheNode *bad = add_node(&f->graph, "bad", NULL);
  add_node(&f->graph, "after", bad, NULL);
  add_node(&f->graph, "oom", NULL);
  add_node(&f->graph, "thread", NULL);
  add_node(&f->graph, "fine", NULL);
  g_hash_table_add(f->fx.fail, "bad");
  LatheBatch *b = make_batch(&f->run, &f->graph, NULL, 0, 1);
  lathe_batch_execute(b);
  GString *got = g_string_new(NULL);
  for (guint i = 0; i < b->tasks->len; i++) {
    LatheNodeRun *t = b->tasks->pdata[i];
    const char *st = t->status == TASK_FAILED ? "failed" : t->status == TASK_SKIPPED ? "skipped" : "ok";
    g_string_append_printf(got, "%s=%s%s ", t->exec_id, st, t->interrupted ? "/interrupted" : "");
  }
  g_assert_cmpstr(got->str, ==,
                  "bad=failed after=skipped oom=failed/interrupted thread=failed/interrupted fine=ok ");
  g_string_free(got, TRUE);
  lathe_batch_free(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/engine/scheduler/skip-propagation", test_skip_propagation);
  ADD("/engine/scheduler/when", test_when);
  ADD("/engine/scheduler/failure-isolation", test_isolation);
  ADD("/engine/scheduler/failure-isolation-parallel", test_isolation_parallel);
  ADD("/engine/scheduler/trials", test_trials);
  ADD("/engine/scheduler/interrupted", test_interrupted);
  ADD("/engine/scheduler/resource", test_resource);
  ADD("/engine/scheduler/seed", test_seed);
  ADD("/engine/scheduler/late", test_late);
  ADD("/engine/scheduler/late-held", test_late_held);
  ADD("/engine/recorder/store-and-result", test_run_recorder);
  return g_test_run();
}
