/* serve-metrics.c: GET /metrics, Prometheus text format. Every series of a
 * served model carries model= and variant= (the alias, e.g. "production"). */
#include <math.h>
#include <string.h>

#include "serve/serve.h"

/* Prometheus label values escape backslash, quote and newline. */
char *lathe_serve_label(const char *v) {
  GString *s = g_string_new(NULL);
  for (const char *p = v; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c(s, '\\');
    if (*p == '\n')
      g_string_append(s, "\\n");
    else
      g_string_append_c(s, *p);
  }
  return g_string_free(s, FALSE);
}

typedef void (*VariantLine)(GString *o, const char *labels, LatheServeVariant *v);

/* One HELP/TYPE header, then @line for every variant (shadows too unless @skip_shadow). */
static void each_variant(GString *o, LatheServer *sv, const char *name, const char *type, const char *help,
                         gboolean skip_shadow, VariantLine line) {
  g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    g_autofree char *m = lathe_serve_label(g->name);
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServeVariant *v = g->variants->pdata[j];
      if (skip_shadow && v->shadow)
        continue;
      g_autofree char *a = lathe_serve_label(v->alias);
      g_autofree char *labels = g_strdup_printf("model=\"%s\",variant=\"%s\"", m, a);
      line(o, labels, v);
    }
  }
}

static void l_hist(GString *o, const char *labels, LatheServeVariant *v) {
  guint64 cum = 0;
  for (guint b = 0; b <= LATHE_SERVE_N_BUCKETS; b++) {
    cum += v->lat_counts[b];
    if (b < LATHE_SERVE_N_BUCKETS)
      g_string_append_printf(o, "lathe_serve_request_duration_seconds_bucket{%s,le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                             labels, LATHE_SERVE_BUCKETS[b], cum);
    else
      g_string_append_printf(o, "lathe_serve_request_duration_seconds_bucket{%s,le=\"+Inf\"} %" G_GUINT64_FORMAT "\n",
                             labels, cum);
  }
  g_string_append_printf(o, "lathe_serve_request_duration_seconds_sum{%s} %.9g\n"
                            "lathe_serve_request_duration_seconds_count{%s} %" G_GUINT64_FORMAT "\n",
                         labels, v->lat_sum, labels, v->lat_n);
}

static void l_load(GString *o, const char *labels, LatheServeVariant *v) {
  g_string_append_printf(o, "lathe_serve_model_load_seconds{%s,version=\"%u\"} %.9g\n", labels,
                         v->served->version, v->served->load_seconds);
}

static void l_weight(GString *o, const char *labels, LatheServeVariant *v) {
  g_string_append_printf(o, "lathe_serve_variant_weight{%s} %u\n", labels, v->weight);
}

static void l_labelled(GString *o, const char *labels, LatheServeVariant *v) {
  g_string_append_printf(o, "lathe_serve_feedback_total{%s} %" G_GUINT64_FORMAT "\n", labels, v->labelled);
}

static void l_accuracy(GString *o, const char *labels, LatheServeVariant *v) {
  if (v->labelled)
    g_string_append_printf(o, "lathe_serve_online_accuracy{%s} %.9g\n", labels,
                           (double)v->correct / (double)v->labelled);
}

static void l_withdrawn(GString *o, const char *labels, LatheServeVariant *v) {
  if (!v->primary && !v->shadow)
    g_string_append_printf(o, "lathe_serve_canary_withdrawn{%s} %d\n", labels, v->withdrawn ? 1 : 0);
}

static void l_agree(GString *o, const char *labels, LatheServeVariant *v) {
  if (v->shadow)
    g_string_append_printf(o, "lathe_serve_shadow_agreement_total{%s} %" G_GUINT64_FORMAT "\n", labels, v->agree);
}

static void l_disagree(GString *o, const char *labels, LatheServeVariant *v) {
  if (v->shadow)
    g_string_append_printf(o, "lathe_serve_shadow_disagreement_total{%s} %" G_GUINT64_FORMAT "\n", labels,
                           v->disagree);
}

static void l_psi(GString *o, const char *labels, LatheServeVariant *v) {
  if (!isnan(v->psi))
    g_string_append_printf(o, "lathe_serve_variant_psi{%s} %.9g\n", labels, v->psi);
}

static void l_feature_psi(GString *o, const char *labels, LatheServeVariant *v) {
  LatheServeDrift *d = v->served->drift;
  for (guint f = 0; f < lathe_serve_drift_n_features(d); f++) {
    double p = lathe_serve_drift_feature_psi(d, f);
    if (isnan(p))
      continue;
    g_autofree char *name = lathe_serve_label(lathe_serve_drift_feature_name(d, f));
    g_string_append_printf(o, "lathe_serve_feature_psi{%s,feature=\"%s\"} %.9g\n", labels, name, p);
  }
}

static void l_predicted(GString *o, const char *labels, LatheServeVariant *v) {
  if (!v->predicted)
    return;
  g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(v->predicted), (GCompareFunc)g_strcmp0);
  for (GList *l = keys; l; l = l->next) {
    g_autofree char *c = lathe_serve_label(l->data);
    g_string_append_printf(o, "lathe_serve_predictions_total{%s,class=\"%s\"} %" G_GUINT64_FORMAT "\n", labels, c,
                           *(guint64 *)g_hash_table_lookup(v->predicted, l->data));
  }
}

void lathe_serve_h_metrics(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  lathe_serve_monitor_update(sv);
  GString *o = ex->out;
  ex->out_type = "text/plain; version=0.0.4; charset=utf-8";
  g_string_append(o, "# HELP lathe_serve_requests_total Scoring requests by model, variant, version and HTTP status.\n"
                     "# TYPE lathe_serve_requests_total counter\n");
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, sv->requests);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_auto(GStrv) f = g_strsplit(k, "\t", 4);
    g_autofree char *m = lathe_serve_label(f[0]);
    g_autofree char *a = lathe_serve_label(f[1]);
    g_string_append_printf(o, "lathe_serve_requests_total{model=\"%s\",variant=\"%s\",version=\"%s\",status=\"%s\"} %u\n",
                           m, a, f[2], f[3], GPOINTER_TO_UINT(v));
  }
  each_variant(o, sv, "lathe_serve_request_duration_seconds", "histogram",
               "Time to answer a scoring request.", TRUE, l_hist);
  g_string_append_printf(o, "# HELP lathe_serve_in_flight_requests Scoring requests being answered.\n"
                            "# TYPE lathe_serve_in_flight_requests gauge\n"
                            "lathe_serve_in_flight_requests %u\n", sv->in_flight);
  each_variant(o, sv, "lathe_serve_model_load_seconds", "gauge",
               "Time to fetch and load each served model version.", FALSE, l_load);
  each_variant(o, sv, "lathe_serve_variant_weight", "gauge",
               "Share of the traffic routed to each variant (0: withdrawn or shadow).", FALSE, l_weight);
  each_variant(o, sv, "lathe_serve_feedback_total", "counter",
               "Answered rows labelled through POST /feedback.", FALSE, l_labelled);
  each_variant(o, sv, "lathe_serve_online_accuracy", "gauge",
               "Share of labelled rows the variant predicted right.", FALSE, l_accuracy);
  each_variant(o, sv, "lathe_serve_canary_withdrawn", "gauge",
               "1 once the rollback policy withdrew the canary.", FALSE, l_withdrawn);
  each_variant(o, sv, "lathe_serve_shadow_agreement_total", "counter",
               "Rows where the shadow predicted what the primary answered.", FALSE, l_agree);
  each_variant(o, sv, "lathe_serve_shadow_disagreement_total", "counter",
               "Rows where the shadow predicted otherwise.", FALSE, l_disagree);
  each_variant(o, sv, "lathe_serve_variant_psi", "gauge",
               "Population stability index of the variant's recent inputs against its training data, "
               "the mean over features.", FALSE, l_psi);
  each_variant(o, sv, "lathe_serve_feature_psi", "gauge",
               "Population stability index of one input feature (recent requests against training data).",
               FALSE, l_feature_psi);
  each_variant(o, sv, "lathe_serve_predictions_total", "counter", "Rows answered, by predicted class.", FALSE,
               l_predicted);
  g_string_append_printf(o, "# HELP lathe_serve_registry_up 1 when the last look at the registry succeeded.\n"
                            "# TYPE lathe_serve_registry_up gauge\n"
                            "lathe_serve_registry_up %d\n"
                            "# HELP lathe_serve_reloads_total Reloads (POST /reload and polls) that succeeded.\n"
                            "# TYPE lathe_serve_reloads_total counter\n"
                            "lathe_serve_reloads_total %" G_GUINT64_FORMAT "\n"
                            "# HELP lathe_serve_reload_failures_total Reloads that failed; the loaded versions kept serving.\n"
                            "# TYPE lathe_serve_reload_failures_total counter\n"
                            "lathe_serve_reload_failures_total %" G_GUINT64_FORMAT "\n",
                         sv->registry_ok ? 1 : 0, sv->reloads, sv->reload_failures);
}
