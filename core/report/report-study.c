/* report/report-study.c: a tuner node's study.
 *
 * Param importance is |Spearman's rank correlation| between a param and the
 * objective over the complete trials (a categorical param ranks by its
 * choices' order of first appearance): a simple, documented measure
 * (docs/report.md), not fANOVA; it misses effects that are not monotone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report-private.h"

static double value_of(JsonObject *t, guint k) {
  JsonObject *v = json_object_has_member(t, "values") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(t, "values"))
                      ? json_object_get_object_member(t, "values") : NULL;
  if (!v)
    return NAN;
  if (k == 0 && json_object_has_member(v, "objective")) {
    JsonNode *n = json_object_get_member(v, "objective");
    return JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
  }
  JsonArray *a = json_object_has_member(v, "objectives") ? json_object_get_array_member(v, "objectives") : NULL;
  if (!a || k >= json_array_get_length(a))
    return NAN;
  JsonNode *n = json_array_get_element(a, k);
  return JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

static double param_of(JsonObject *t, const char *name, GHashTable *cats) {
  JsonObject *p = json_object_has_member(t, "params") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(t, "params"))
                      ? json_object_get_object_member(t, "params") : NULL;
  JsonNode *n = p ? json_object_get_member(p, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return NAN;
  GType ty = json_node_get_value_type(n);
  if (ty == G_TYPE_DOUBLE || ty == G_TYPE_INT64)
    return json_node_get_double(n);
  if (ty == G_TYPE_BOOLEAN)
    return json_node_get_boolean(n);
  g_autofree char *key = g_strconcat(name, "\x1f", json_node_get_string(n), NULL);
  gpointer idx = g_hash_table_lookup(cats, key);
  if (!idx) {
    idx = GUINT_TO_POINTER(g_hash_table_size(cats) + 1);
    g_hash_table_insert(cats, g_steal_pointer(&key), idx);
  }
  return GPOINTER_TO_UINT(idx);
}

static int cmp_idx(gconstpointer a, gconstpointer b, gpointer data) {
  const double *v = data;
  double x = v[*(const guint *)a], y = v[*(const guint *)b];
  return x < y ? -1 : x > y;
}

/* Ranks, ties averaged. */
static void ranks(const double *v, guint n, double *r) {
  g_autofree guint *idx = g_new(guint, n);
  for (guint i = 0; i < n; i++)
    idx[i] = i;
  g_qsort_with_data(idx, (gint)n, sizeof(guint), cmp_idx, (gpointer)v);
  for (guint i = 0; i < n;) {
    guint j = i;
    while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
      j++;
    for (guint k = i; k <= j; k++)
      r[idx[k]] = (i + j) / 2.0;
    i = j + 1;
  }
}

static double spearman(const double *a, const double *b, guint n) {
  if (n < 3)
    return NAN;
  g_autofree double *ra = g_new(double, n), *rb = g_new(double, n);
  ranks(a, n, ra);
  ranks(b, n, rb);
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  for (guint i = 0; i < n; i++)
    ma += ra[i] / n, mb += rb[i] / n;
  for (guint i = 0; i < n; i++)
    sab += (ra[i] - ma) * (rb[i] - mb), saa += (ra[i] - ma) * (ra[i] - ma), sbb += (rb[i] - mb) * (rb[i] - mb);
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

static void trials_chart(GString *out, JsonArray *trials, gboolean maximize, const char *objective) {
  guint n = json_array_get_length(trials);
  const double L = 60, W = 560, T = 14, H = 200;
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < n; i++) {
    double v = value_of(json_array_get_object_element(trials, i), 0);
    if (isfinite(v))
      lo = MIN(lo, v), hi = MAX(hi, v);
  }
  if (!isfinite(lo))
    lo = 0, hi = 1;
  if (hi <= lo)
    hi = lo + 1;
  g_string_append_printf(out, "<svg class=\"study\" role=\"img\" width=\"%g\" height=\"%g\"><title>every trial's ", W + 20, T + H + 40);
  lathe_report_escape(out, objective);
  g_string_append(out, " and the best so far</title><desc>one dot per trial (grey: pruned or without a value), "
                       "the orange line the best value so far; the trial table is below</desc>");
  g_string_append_printf(out, "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/><line class=\"axis\" "
                              "x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>", L, T + H, W, T + H, L, T, L, T + H);
  g_string_append_printf(out, "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">", L - 4, T + 8);
  lathe_report_number(out, hi);
  g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\" text-anchor=\"end\">", L - 4, T + H);
  lathe_report_number(out, lo);
  g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\" text-anchor=\"middle\">trial number (0 to %u)</text>"
                              "<text transform=\"translate(12,%g) rotate(-90)\" text-anchor=\"middle\">",
                         (L + W) / 2, T + H + 28, n ? n - 1 : 0, T + H / 2);
  lathe_report_escape(out, objective);
  g_string_append(out, "</text>");
  GString *best = g_string_new(NULL);
  double b = NAN;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    const char *state = json_object_get_string_member_with_default(t, "state", "");
    double v = value_of(t, 0);
    double x = L + (W - L) * (n > 1 ? (double)i / (n - 1) : 0.5);
    gboolean ok = g_str_equal(state, "complete") && isfinite(v);
    double y = ok ? T + H - H * (v - lo) / (hi - lo) : T + H;
    g_string_append_printf(out, "<circle class=\"trial%s%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>",
                           ok ? "" : g_str_equal(state, "failed") ? " failed" : " pruned", "", x, y);
    if (ok && (isnan(b) || (maximize ? v > b : v < b)))
      b = v;
    if (!isnan(b))
      g_string_append_printf(best, "%c%.1f %.1f", best->len ? 'L' : 'M', x, T + H - H * (b - lo) / (hi - lo));
  }
  if (best->len)
    g_string_append_printf(out, "<path class=\"best\" d=\"%s\"/>", best->str);
  g_string_free(best, TRUE);
  g_string_append(out, "</svg>\n");
}

static void parallel_chart(GString *out, JsonArray *trials, GPtrArray *params, gboolean maximize, const char *objective) {
  guint n = json_array_get_length(trials), na = params->len + 1;
  if (!params->len)
    return;
  const double L = 40, AX = 140, T = 20, H = 200;
  g_autoptr(GHashTable) cats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree double *lo = g_new(double, na), *hi = g_new(double, na), *v = g_new(double, (gsize)n * na);
  for (guint a = 0; a < na; a++)
    lo[a] = INFINITY, hi[a] = -INFINITY;
  double best = NAN;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    for (guint a = 0; a < na; a++) {
      double x = a < params->len ? param_of(t, params->pdata[a], cats) : value_of(t, 0);
      v[(gsize)i * na + a] = x;
      if (isfinite(x))
        lo[a] = MIN(lo[a], x), hi[a] = MAX(hi[a], x);
    }
    double o = v[(gsize)i * na + params->len];
    if (isfinite(o) && (isnan(best) || (maximize ? o > best : o < best)))
      best = o;
  }
  double W = L + AX * (na - 1) + 60;
  g_string_append_printf(out, "<svg class=\"parallel\" role=\"img\" width=\"%g\" height=\"%g\"><title>parallel coordinates "
                              "of the params against ", W, T + H + 36);
  lathe_report_escape(out, objective);
  g_string_append(out, "</title><desc>one line per trial across an axis per param and the objective; the best trial in "
                       "vermilion, pruned trials grey; the trial table is below</desc>");
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    const char *state = json_object_get_string_member_with_default(t, "state", "");
    double o = v[(gsize)i * na + params->len];
    g_string_append_printf(out, "<polyline class=\"pc%s\" points=\"",
                           !g_str_equal(state, "complete") ? " pruned" : o == best ? " top" : "");
    for (guint a = 0; a < na; a++) {
      double x = v[(gsize)i * na + a];
      double f = isfinite(x) ? (hi[a] > lo[a] ? (x - lo[a]) / (hi[a] - lo[a]) : 0.5) : 0;
      g_string_append_printf(out, "%.1f,%.1f ", L + AX * a, T + H - H * f);
    }
    g_string_append(out, "\"/>");
  }
  for (guint a = 0; a < na; a++) {
    g_string_append_printf(out, "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/><text x=\"%g\" y=\"%g\" "
                                "text-anchor=\"middle\">", L + AX * a, T, L + AX * a, T + H, L + AX * a, T + H + 16);
    lathe_report_escape(out, a < params->len ? params->pdata[a] : objective);
    g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\">", L + AX * a + 3, T - 4);
    lathe_report_number(out, hi[a]);
    g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\">", L + AX * a + 3, T + H + 30);
    lathe_report_number(out, lo[a]);
    g_string_append(out, "</text>");
  }
  g_string_append(out, "</svg>\n<table class=\"importance\"><tr><th class=\"l\">param</th><th>importance "
                       "(|Spearman ρ| with the objective)</th><th class=\"l\"></th></tr>");
  for (guint a = 0; a < params->len; a++) {
    g_autofree double *pa = g_new(double, n + 1), *ob = g_new(double, n + 1);
    guint m = 0;
    for (guint i = 0; i < n; i++) {
      double x = v[(gsize)i * na + a], o = v[(gsize)i * na + params->len];
      if (isfinite(x) && isfinite(o))
        pa[m] = x, ob[m] = o, m++;
    }
    double rho = fabs(spearman(pa, ob, m));
    g_string_append(out, "<tr><td class=\"l\">");
    lathe_report_escape(out, params->pdata[a]);
    g_string_append(out, "</td><td>");
    lathe_report_number(out, rho);
    g_string_append_printf(out, "</td><td class=\"l\"><svg class=\"imp\" role=\"img\" width=\"160\" height=\"12\" "
                                "aria-label=\"importance bar\"><rect x=\"0\" y=\"1\" width=\"%.1f\" height=\"10\" "
                                "fill=\"#0072B2\"/></svg></td></tr>", isfinite(rho) ? 160 * rho : 0);
  }
  g_string_append(out, "</table>\n");
}

/* Several objectives: objective 0 against objective 1, the non-dominated
 * complete trials marked. */
static void pareto_chart(GString *out, JsonArray *trials, const gboolean *max, const char *n0, const char *n1) {
  guint n = json_array_get_length(trials);
  const double L = 60, W = 420, T = 14, H = 240;
  double lx = INFINITY, hx = -INFINITY, ly = INFINITY, hy = -INFINITY;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    double a = value_of(t, 0), b = value_of(t, 1);
    if (isfinite(a) && isfinite(b))
      lx = MIN(lx, a), hx = MAX(hx, a), ly = MIN(ly, b), hy = MAX(hy, b);
  }
  if (!isfinite(lx))
    return;
  if (hx <= lx)
    hx = lx + 1;
  if (hy <= ly)
    hy = ly + 1;
  g_string_append_printf(out, "<svg class=\"pareto-chart\" role=\"img\" width=\"%g\" height=\"%g\"><title>Pareto front</title>"
                              "<desc>each complete trial's two objectives; vermilion dots are the non-dominated trials</desc>"
                              "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/><line class=\"axis\" x1=\"%g\" "
                              "y1=\"%g\" x2=\"%g\" y2=\"%g\"/><text x=\"%g\" y=\"%g\" text-anchor=\"middle\">",
                         W + 20, T + H + 40, L, T + H, W, T + H, L, T, L, T + H, (L + W) / 2, T + H + 28);
  lathe_report_escape(out, n0);
  g_string_append_printf(out, "</text><text transform=\"translate(12,%g) rotate(-90)\" text-anchor=\"middle\">", T + H / 2);
  lathe_report_escape(out, n1);
  g_string_append(out, "</text>");
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    double a = value_of(t, 0), b = value_of(t, 1);
    if (!isfinite(a) || !isfinite(b))
      continue;
    gboolean dominated = FALSE;
    for (guint j = 0; j < n && !dominated; j++) {
      JsonObject *u = json_array_get_object_element(trials, j);
      double c = value_of(u, 0), d = value_of(u, 1);
      if (j == i || !isfinite(c) || !isfinite(d))
        continue;
      gboolean ge0 = max[0] ? c >= a : c <= a, ge1 = max[1] ? d >= b : d <= b;
      dominated = ge0 && ge1 && (c != a || d != b);
    }
    g_string_append_printf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>", dominated ? "trial" : "pareto",
                           L + (W - L) * (a - lx) / (hx - lx), T + H - H * (b - ly) / (hy - ly));
  }
  g_string_append(out, "</svg>\n");
}

void lathe_report_study(GString *out, LatheStore *store, JsonObject *run, JsonObject *def,
                        const LatheReportOptions *options) {
  const char *node = json_object_get_string_member_with_default(def, "id", "");
  g_autofree char *ref = g_strdup_printf("%s/%s", json_object_get_string_member(run, "run_id"), node);
  g_autoptr(JsonObject) study = lathe_store_find_study(store, ref, NULL);
  if (!study)
    return;
  g_autoptr(JsonArray) trials = lathe_store_study_trials(store, json_object_get_string_member(study, "id"), NULL);
  if (!trials)
    return;
  JsonObject *with = json_object_has_member(def, "with") ? json_object_get_object_member(def, "with") : NULL;
  gboolean max[2] = {FALSE, FALSE};
  const char *names[2] = {"objective", "objective 2"};
  if (with && json_object_has_member(with, "objectives")) {
    JsonObject *o = json_object_get_object_member(with, "objectives");
    g_autoptr(GList) keys = json_object_get_members(o);
    guint k = 0;
    for (GList *l = keys; l && k < 2; l = l->next, k++) {
      names[k] = l->data;
      max[k] = g_strcmp0(json_object_get_string_member(o, l->data), "maximize") == 0;
    }
  } else if (with) {
    names[0] = json_object_get_string_member_with_default(with, "objective", "objective");
    max[0] = g_strcmp0(json_object_get_string_member_with_default(with, "direction", ""), "maximize") == 0;
  }
  guint n = json_array_get_length(trials);
  g_string_append(out, "<h2>Study of ");
  lathe_report_escape(out, node);
  g_string_append(out, "</h2>\n<p>study ");
  lathe_report_link(out, options, "studies", json_object_get_string_member(study, "id"));
  g_string_append_printf(out, ": %u trials, %s ", n, max[0] ? "maximising" : "minimising");
  lathe_report_escape(out, names[0]);
  g_string_append(out, "</p>\n");
  trials_chart(out, trials, max[0], names[0]);
  g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    JsonNode *p = json_object_get_member(t, "params");
    if (!p || !JSON_NODE_HOLDS_OBJECT(p))
      continue;
    g_autoptr(GList) keys = json_object_get_members(json_node_get_object(p));
    for (GList *l = keys; l; l = l->next)
      if (!g_hash_table_contains(seen, l->data)) {
        char *k = g_strdup(l->data);
        g_ptr_array_add(params, k);
        g_hash_table_add(seen, k);
      }
  }
  parallel_chart(out, trials, params, max[0], names[0]);
  if (with && json_object_has_member(with, "objectives"))
    pareto_chart(out, trials, max, names[0], names[1]);
  /* Intermediate curves of each trial, pruned ones greyed: one query for
   * the whole study ("N/NODE.METRIC" keys under "TUNER/"). */
  g_autoptr(JsonArray) series = json_array_new();
  g_autoptr(GHashTable) state_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    g_hash_table_insert(state_of, GINT_TO_POINTER((gint)json_object_get_int_member(t, "number")),
                        (gpointer)json_object_get_string_member_with_default(t, "state", ""));
  }
  g_autofree char *prefix = g_strdup_printf("%s/", node);
  g_autoptr(JsonObject) reps = lathe_store_trial_reports(store, json_object_get_string_member(run, "run_id"), prefix);
  g_autoptr(GList) keys = reps ? json_object_get_members(reps) : NULL;
  for (GList *l = keys; l; l = l->next) {
    const char *key = l->data;
    gint number = atoi(key);
    JsonArray *pts = json_object_get_array_member(reps, key);
    JsonObject *s = json_object_new();
    g_autofree char *name = g_strdup_printf("trial %s", key);
    json_object_set_string_member(s, "name", name);
    json_object_set_int_member(s, "trial", number);
    JsonArray *xs = json_array_new(), *ys = json_array_new();
    for (guint k = 0; k < json_array_get_length(pts); k++) {
      JsonArray *pt = json_array_get_array_element(pts, k);
      JsonNode *yv = json_array_get_element(pt, 1);
      json_array_add_double_element(xs, json_array_get_double_element(pt, 0));
      json_array_add_double_element(ys, JSON_NODE_HOLDS_VALUE(yv) ? json_node_get_double(yv) : NAN);
    }
    json_object_set_array_member(s, "x", xs);
    json_object_set_array_member(s, "y", ys);
    json_object_set_boolean_member(s, "pruned", g_strcmp0(g_hash_table_lookup(state_of, GINT_TO_POINTER(number)), "pruned") == 0);
    json_array_add_object_element(series, s);
  }
  if (json_array_get_length(series))
    lathe_report_line_chart(out, "trials' intermediate values (pruned trials grey)", "step", "reported value", series, NULL);
  g_string_append(out, "<details><summary>trials as a table</summary><table class=\"trials\"><tr><th>trial</th>"
                       "<th class=\"l\">state</th><th>value</th><th class=\"l\">params</th></tr>");
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    g_string_append_printf(out, "<tr><td>%" G_GINT64_FORMAT "</td><td class=\"l\">", json_object_get_int_member(t, "number"));
    lathe_report_escape(out, json_object_get_string_member_with_default(t, "state", ""));
    g_string_append(out, "</td><td>");
    lathe_report_number(out, value_of(t, 0));
    g_string_append(out, "</td><td class=\"l\">");
    JsonNode *p = json_object_get_member(t, "params");
    g_autofree char *ptxt = p ? lathe_json_canonical(p) : g_strdup("");
    lathe_report_escape(out, ptxt);
    g_string_append(out, "</td></tr>");
  }
  g_string_append(out, "</table></details>\n");
}
