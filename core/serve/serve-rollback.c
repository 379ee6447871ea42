/* serve-rollback.c: the rollback policy of `lathe serve --route` and the
 * routes' state in /health and /routes. A canary (a routed variant other than
 * the primary) is withdrawn when its online accuracy falls more than
 * --max-accuracy-drop below the primary's, its p99 latency passes
 * --max-p99-ms, or its PSI passes --max-psi. Checked after each /feedback and
 * every second; O(variants). */
#include <math.h>
#include <string.h>

#include "serve/serve.h"

#define P99_MIN_SAMPLES 50

/* Like Prometheus's histogram_quantile: linear within the bucket. */
double lathe_serve_variant_p99(const LatheServeVariant *v) {
  if (!v->lat_n)
    return NAN;
  double want = 0.99 * (double)v->lat_n;
  guint64 cum = 0;
  for (guint b = 0; b <= LATHE_SERVE_N_BUCKETS; b++) {
    guint64 prev = cum;
    cum += v->lat_counts[b];
    if ((double)cum >= want && v->lat_counts[b]) {
      if (b == LATHE_SERVE_N_BUCKETS)
        return LATHE_SERVE_BUCKETS[LATHE_SERVE_N_BUCKETS - 1];
      double lo = b ? LATHE_SERVE_BUCKETS[b - 1] : 0, hi = LATHE_SERVE_BUCKETS[b];
      return lo + (hi - lo) * (want - (double)prev) / (double)v->lat_counts[b];
    }
  }
  return LATHE_SERVE_BUCKETS[LATHE_SERVE_N_BUCKETS - 1];
}

static double accuracy(const LatheServeVariant *v) {
  return v->labelled ? (double)v->correct / (double)v->labelled : NAN;
}

static gboolean is_version_number(const char *ref) {
  for (const char *p = ref; *p; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  return *ref != '\0';
}

typedef struct {
  LatheServer *sv;
  LatheServeVariant *v;
  char *name;
  guint to;
  JsonObject *why;
  char *result;
} Withdrawal;

/* On a thread: the registry may be remote. */
static void record_thread(GTask *task, gpointer src, gpointer data, GCancellable *c) {
  Withdrawal *w = data;
  g_autoptr(GError) error = NULL;
  g_mutex_lock(&w->sv->reg_lock);
  gboolean ok = lathe_registry_set_alias_why(w->sv->reg, w->name, w->v->alias, w->to, w->why, &error);
  g_mutex_unlock(&w->sv->reg_lock);
  w->result = ok ? g_strdup_printf("alias %s of %s now points at version %u (reason \"%s\")", w->v->alias,
                                   w->name, w->to, LATHE_REGISTRY_REASON_CANARY_WITHDRAWN)
                 : g_strdup_printf("could not record the withdrawal in the registry: %s", error->message);
  g_task_return_boolean(task, ok);
}

static void record_done(GObject *src, GAsyncResult *res, gpointer data) {
  Withdrawal *w = g_task_get_task_data(G_TASK(res));
  g_free(w->v->withdraw_record);
  w->v->withdraw_record = g_steal_pointer(&w->result);
  w->sv->registry_jobs--;
}

static void withdrawal_free(gpointer p) {
  Withdrawal *w = p;
  g_free(w->name);
  json_object_unref(w->why);
  g_free(w->result);
  g_free(w);
}

static void add_double_or_null(JsonObject *o, const char *key, double x) {
  if (isnan(x))
    json_object_set_null_member(o, key);
  else
    json_object_set_double_member(o, key, x);
}

/* Weight 0 now; then, as an MLflow or KServe user expects of a withdrawn
 * canary, its alias points back at the primary's version, the move recorded
 * with reason "canary withdrawn" and the figures behind it. */
static void withdraw(LatheServer *sv, LatheServeGroup *g, LatheServeVariant *p, LatheServeVariant *c,
                     const char *rule, double threshold, char *reason) {
  c->weight = 0;
  c->withdrawn = reason;
  g_autoptr(JsonObject) fig = json_object_new();
  json_object_set_string_member(fig, "rule", rule);
  json_object_set_double_member(fig, "threshold", threshold);
  json_object_set_string_member(fig, "canary", c->alias);
  json_object_set_int_member(fig, "canary_version", c->served->version);
  json_object_set_string_member(fig, "primary", p->alias);
  json_object_set_int_member(fig, "primary_version", p->served->version);
  add_double_or_null(fig, "canary_accuracy", accuracy(c));
  add_double_or_null(fig, "primary_accuracy", accuracy(p));
  json_object_set_int_member(fig, "canary_labelled", (gint64)c->labelled);
  json_object_set_int_member(fig, "primary_labelled", (gint64)p->labelled);
  add_double_or_null(fig, "canary_p99_ms", lathe_serve_variant_p99(c) * 1000);
  add_double_or_null(fig, "primary_p99_ms", lathe_serve_variant_p99(p) * 1000);
  json_object_set_int_member(fig, "canary_requests", (gint64)c->lat_n);
  add_double_or_null(fig, "psi", c->psi);
  g_printerr("lathe serve: canary %s@%s withdrawn: %s\n", g->name, c->alias, reason);
  if (is_version_number(c->alias)) {
    c->withdraw_record = g_strdup("not recorded: the canary names a version, not an alias");
    return;
  }
  Withdrawal *w = g_new0(Withdrawal, 1);
  w->sv = sv;
  w->v = c;
  w->name = g_strdup(g->name);
  w->to = p->served->version;
  w->why = lathe_registry_why_new(LATHE_REGISTRY_REASON_CANARY_WITHDRAWN, NULL, fig);
  sv->registry_jobs++;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, record_done, NULL);
  g_task_set_task_data(task, w, withdrawal_free);
  g_task_run_in_thread(task, record_thread);
}

void lathe_serve_check_rollback(LatheServer *sv) {
  const LatheServeOptions *o = sv->opt;
  lathe_serve_monitor_update(sv);
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    LatheServeVariant *p = g->variants->pdata[0];
    for (guint j = 1; j < g->variants->len; j++) {
      LatheServeVariant *c = g->variants->pdata[j];
      if (c->shadow || c->withdrawn || c->weight == 0)
        continue;
      double ac = accuracy(c), ap = accuracy(p), p99 = lathe_serve_variant_p99(c);
      if (!isnan(o->max_accuracy_drop) && c->labelled >= o->min_feedback && p->labelled >= o->min_feedback &&
          ac < ap - o->max_accuracy_drop)
        withdraw(sv, g, p, c, "accuracy", o->max_accuracy_drop,
                 g_strdup_printf("online accuracy %.4f is below %s's %.4f by more than %g (%" G_GUINT64_FORMAT
                                 " and %" G_GUINT64_FORMAT " labelled rows)",
                                 ac, p->alias, ap, o->max_accuracy_drop, c->labelled, p->labelled));
      else if (!isnan(o->max_p99_ms) && c->lat_n >= P99_MIN_SAMPLES && p99 * 1000 > o->max_p99_ms)
        withdraw(sv, g, p, c, "p99", o->max_p99_ms,
                 g_strdup_printf("p99 latency %.1f ms is above %g ms (%" G_GUINT64_FORMAT " requests)",
                                 p99 * 1000, o->max_p99_ms, c->lat_n));
      else if (!isnan(o->max_psi) && !isnan(c->psi) && c->psi > o->max_psi)
        withdraw(sv, g, p, c, "psi", o->max_psi,
                 g_strdup_printf("PSI %.4f is above %g", c->psi, o->max_psi));
    }
  }
}

static void add_opt(JsonBuilder *b, const char *key, double x) {
  json_builder_set_member_name(b, key);
  if (isnan(x))
    json_builder_add_null_value(b);
  else
    json_builder_add_double_value(b, x);
}

void lathe_serve_add_routes(JsonBuilder *b, LatheServer *sv) {
  const LatheServeOptions *o = sv->opt;
  json_builder_set_member_name(b, "policy");
  json_builder_begin_object(b);
  add_opt(b, "max_accuracy_drop", o->max_accuracy_drop);
  add_opt(b, "max_p99_ms", o->max_p99_ms);
  add_opt(b, "max_psi", o->max_psi);
  json_builder_set_member_name(b, "min_feedback");
  json_builder_add_int_value(b, o->min_feedback);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "routes");
  json_builder_begin_array(b);
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, g->name);
    json_builder_set_member_name(b, "sticky");
    g_autofree char *sticky = o->sticky_field ? g_strdup_printf("field %s", o->sticky_field)
                                              : g_strdup_printf("header %s", o->sticky_header ? o->sticky_header : "X-Request-Key");
    json_builder_add_string_value(b, sticky);
    json_builder_set_member_name(b, "variants");
    json_builder_begin_array(b);
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServeVariant *v = g->variants->pdata[j];
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "variant");
      json_builder_add_string_value(b, v->alias);
      json_builder_set_member_name(b, "version");
      json_builder_add_int_value(b, v->served->version);
      json_builder_set_member_name(b, "role");
      json_builder_add_string_value(b, v->primary ? "primary" : v->shadow ? "shadow" : "canary");
      json_builder_set_member_name(b, "weight");
      json_builder_add_int_value(b, v->weight);
      json_builder_set_member_name(b, "requests");
      json_builder_add_int_value(b, (gint64)v->lat_n);
      json_builder_set_member_name(b, "labelled");
      json_builder_add_int_value(b, (gint64)v->labelled);
      json_builder_set_member_name(b, "correct");
      json_builder_add_int_value(b, (gint64)v->correct);
      add_opt(b, "online_accuracy", accuracy(v));
      add_opt(b, "p99_ms", lathe_serve_variant_p99(v) * 1000);
      add_opt(b, "psi", v->psi);
      if (v->shadow) {
        json_builder_set_member_name(b, "agree");
        json_builder_add_int_value(b, (gint64)v->agree);
        json_builder_set_member_name(b, "disagree");
        json_builder_add_int_value(b, (gint64)v->disagree);
      }
      json_builder_set_member_name(b, "withdrawn");
      json_builder_add_boolean_value(b, v->withdrawn != NULL);
      json_builder_set_member_name(b, "withdrawn_reason");
      if (v->withdrawn)
        json_builder_add_string_value(b, v->withdrawn);
      else
        json_builder_add_null_value(b);
      json_builder_set_member_name(b, "withdrawal_record");
      if (v->withdraw_record)
        json_builder_add_string_value(b, v->withdraw_record);
      else
        json_builder_add_null_value(b);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}
