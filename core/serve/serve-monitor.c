/* serve-monitor.c: what each variant is asked and answers, against what its
 * version was trained on: input drift (serve-drift.c, from the version's
 * reference statistics) and the predicted class distribution. Observing is a
 * bin lookup per value on the main loop; PSI is computed when /metrics,
 * /drift or the rollback policy (once a second) asks, never per request. */
#include <math.h>

#include "serve/serve.h"

/* Rows kept per version, and rows needed before a PSI is given: Evidently's
 * reports want a few hundred rows; fewer make PSI mostly noise. */
#define DRIFT_WINDOW 1000
#define DRIFT_MIN_ROWS 100

void lathe_serve_monitor_attach(LatheServed *s, JsonObject *ref) {
  s->drift = lathe_serve_drift_new(ref, json_array_get_length(s->model_columns), DRIFT_WINDOW, DRIFT_MIN_ROWS);
  guint nk = s->classes ? json_array_get_length(s->classes) : 0;
  if (!s->drift || !nk)
    return;
  s->class_map = g_new(gint, nk);
  for (guint j = 0; j < nk; j++)
    s->class_map[j] = lathe_serve_drift_class_index(s->drift, json_array_get_string_element(s->classes, j));
}

void lathe_serve_monitor_observe(LatheServeVariant *v, LatheServed *s, const LatheDataset *ds,
                                 const float *y, guint k) {
  guint nk = s->classes ? json_array_get_length(s->classes) : 0;
  gboolean probs = nk > 0 && k == nk;
  /* Most requests carry a few rows: no allocation for them on the hot path. */
  gint small[256];
  g_autofree gint *big = ds->n_rows > G_N_ELEMENTS(small) ? g_new(gint, ds->n_rows) : NULL;
  gint *cls = big ? big : small;
  for (guint r = 0; r < ds->n_rows; r++) {
    cls[r] = -1;
    if (!probs)
      continue;
    guint best = 0;
    for (guint j = 1; j < k; j++)
      if (y[(gsize)r * k + j] > y[(gsize)r * k + best])
        best = j;
    const char *name = json_array_get_string_element(s->classes, best);
    if (!v->predicted)
      v->predicted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    guint64 *n = g_hash_table_lookup(v->predicted, name);
    if (!n) {
      n = g_new0(guint64, 1);
      g_hash_table_insert(v->predicted, g_strdup(name), n);
    }
    (*n)++;
    cls[r] = s->class_map ? s->class_map[best] : -1;
  }
  lathe_serve_drift_observe(s->drift, ds->x, ds->n_rows, cls);
}

void lathe_serve_monitor_update(LatheServer *sv) {
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServeVariant *v = g->variants->pdata[j];
      v->psi = lathe_serve_drift_psi(v->served->drift);
    }
  }
}

static void add_drift(JsonBuilder *b, LatheServeVariant *v) {
  json_builder_set_member_name(b, "drift");
  if (v->served->drift) {
    json_builder_add_value(b, json_node_init_object(json_node_alloc(), lathe_serve_drift_to_json(v->served->drift)));
    return;
  }
  json_builder_add_null_value(b);
  json_builder_set_member_name(b, "why");
  json_builder_add_string_value(b, "the version has no reference statistics: register it with a "
                                   "\"reference\" input (the training split)");
}

/* GET /drift: per variant, its version's window against its reference. */
void lathe_serve_h_drift(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  lathe_serve_monitor_update(sv);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "definition");
  json_builder_add_string_value(b, "PSI as Evidently computes it: equal-width bins (the registry's reference "
                                   "bins), 0.0001 for an empty bin, sum (cur - ref) * ln(cur / ref); "
                                   "psi is the mean over features");
  json_builder_set_member_name(b, "models");
  lathe_serve_add_variants(b, sv, "model", add_drift);
  json_builder_end_object(b);
  lathe_serve_reply(ex, b);
}
