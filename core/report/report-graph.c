/* report/report-graph.c: the pipeline graph and the timeline of a run.
 *
 * The graph is laid out in columns by longest path from the sources (each
 * node one column right of its furthest input), which keeps every edge
 * pointing right with no layout library. A tuner node is one box: its trials
 * are folded into "N trials" (the study section draws them). */
#include <math.h>
#include <string.h>

#include "report/report-private.h"

/* The latest execution of each top-level node; trial executions
 * ("tune/3/model") count towards their tuner. */
typedef struct {
  JsonObject *exec;
  guint trials;
} NodeState;

static GHashTable *node_states(JsonObject *run) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *e = json_array_get_object_element(nodes, i);
    const char *id = json_object_get_string_member_with_default(e, "id", "");
    const char *slash = lathe_report_is_trial(id) ? strchr(id, '/') : NULL;
    g_autofree char *top = slash ? g_strndup(id, slash - id) : g_strdup(id);
    NodeState *st = g_hash_table_lookup(h, top);
    if (!st) {
      st = g_new0(NodeState, 1);
      g_hash_table_insert(h, g_strdup(top), st);
    }
    if (slash)
      st->trials++;
    else
      st->exec = e;
  }
  return h;
}

/* The producing node of an input reference "node" or "node.port". */
static char *source_node(const char *ref) {
  const char *dot = strchr(ref, '.');
  return dot ? g_strndup(ref, dot - ref) : g_strdup(ref);
}

typedef struct {
  JsonObject *def;
  const char *id;
  int col, row;
} GraphNode;

static GPtrArray *layout(JsonObject *pipeline, GHashTable **by_id, int *ncols, int *nrows) {
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  *by_id = g_hash_table_new(g_str_hash, g_str_equal);
  JsonArray *pn = json_object_has_member(pipeline, "nodes") ? json_object_get_array_member(pipeline, "nodes") : NULL;
  for (guint i = 0; pn && i < json_array_get_length(pn); i++) {
    GraphNode *g = g_new0(GraphNode, 1);
    g->def = json_array_get_object_element(pn, i);
    g->id = json_object_get_string_member_with_default(g->def, "id", "?");
    g_ptr_array_add(v, g);
    g_hash_table_insert(*by_id, (gpointer)g->id, g);
  }
  /* longest path: relax until stable; a cycle (not a valid pipeline) stops at n rounds */
  for (guint round = 0; round < v->len; round++) {
    gboolean changed = FALSE;
    for (guint i = 0; i < v->len; i++) {
      GraphNode *g = g_ptr_array_index(v, i);
      JsonObject *in = json_object_has_member(g->def, "in") ? json_object_get_object_member(g->def, "in") : NULL;
      g_autoptr(GList) ports = in ? json_object_get_members(in) : NULL;
      for (GList *l = ports; l; l = l->next) {
        JsonNode *r = json_object_get_member(in, l->data);
        if (!JSON_NODE_HOLDS_VALUE(r))
          continue;
        g_autofree char *src = source_node(json_node_get_string(r) ? json_node_get_string(r) : "");
        GraphNode *s = g_hash_table_lookup(*by_id, src);
        if (s && s->col + 1 > g->col)
          g->col = s->col + 1, changed = TRUE;
      }
    }
    if (!changed)
      break;
  }
  g_autofree int *rows = g_new0(int, v->len + 1);
  *ncols = 0, *nrows = 0;
  for (guint i = 0; i < v->len; i++) {
    GraphNode *g = g_ptr_array_index(v, i);
    g->row = rows[g->col]++;
    *ncols = MAX(*ncols, g->col + 1);
    *nrows = MAX(*nrows, rows[g->col]);
  }
  return v;
}

void lathe_report_graph(GString *out, JsonObject *pipeline, JsonObject *run) {
  g_autoptr(GHashTable) states = node_states(run);
  GHashTable *by_id;
  int ncols, nrows;
  g_autoptr(GPtrArray) v = layout(pipeline, &by_id, &ncols, &nrows);
  const double BW = 150, BH = 46, GX = 70, GY = 24, P = 10;
  double W = P * 2 + ncols * (BW + GX), H = P * 2 + nrows * (BH + GY);
  g_string_append_printf(out, "<svg class=\"graph\" role=\"img\" width=\"%g\" height=\"%g\"><title>pipeline graph</title>"
                              "<desc>nodes coloured by status (green succeeded, light blue cached, vermilion failed, "
                              "dashed grey skipped); the table below lists them</desc>"
                              "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" "
                              "markerHeight=\"6\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"#777\"/></marker></defs>",
                         W, H);
  for (guint i = 0; i < v->len; i++) {
    GraphNode *g = g_ptr_array_index(v, i);
    JsonObject *in = json_object_has_member(g->def, "in") ? json_object_get_object_member(g->def, "in") : NULL;
    g_autoptr(GList) ports = in ? json_object_get_members(in) : NULL;
    for (GList *l = ports; l; l = l->next) {
      JsonNode *r = json_object_get_member(in, l->data);
      const char *ref = JSON_NODE_HOLDS_VALUE(r) ? json_node_get_string(r) : NULL;
      g_autofree char *src = source_node(ref ? ref : "");
      GraphNode *s = g_hash_table_lookup(by_id, src);
      if (!s)
        continue;
      double x1 = P + s->col * (BW + GX) + BW, y1 = P + s->row * (BH + GY) + BH / 2;
      double x2 = P + g->col * (BW + GX), y2 = P + g->row * (BH + GY) + BH / 2;
      g_string_append_printf(out, "<path class=\"edge\" d=\"M%g %gC%g %g %g %g %g %g\"/><text class=\"port\" x=\"%g\" "
                                  "y=\"%g\" text-anchor=\"middle\" style=\"font-size:9px\">",
                             x1, y1, x1 + GX / 2, y1, x2 - GX / 2, y2, x2, y2, (x1 + x2) / 2, (y1 + y2) / 2 - 3);
      const char *dot = ref ? strchr(ref, '.') : NULL;
      lathe_report_escape(out, dot ? dot + 1 : "");
      g_string_append(out, "→");
      lathe_report_escape(out, l->data);
      g_string_append(out, "</text>");
    }
  }
  for (guint i = 0; i < v->len; i++) {
    GraphNode *g = g_ptr_array_index(v, i);
    NodeState *st = g_hash_table_lookup(states, g->id);
    const char *status = st && st->exec ? json_object_get_string_member_with_default(st->exec, "status", "none")
                                        : "none";
    double x = P + g->col * (BW + GX), y = P + g->row * (BH + GY);
    g_string_append(out, "<g class=\"node st-");
    lathe_report_escape(out, status);
    g_string_append_printf(out, "\"><rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" rx=\"5\"/><title>", x, y, BW, BH);
    lathe_report_escape(out, g->id);
    g_string_append(out, ": ");
    lathe_report_escape(out, status);
    g_string_append_printf(out, "</title><text x=\"%g\" y=\"%g\" style=\"font-weight:bold\">", x + 6, y + 15);
    lathe_report_escape(out, g->id);
    g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\">", x + 6, y + 28);
    lathe_report_escape(out, json_object_get_string_member_with_default(g->def, "use", ""));
    g_string_append_printf(out, "</text><text x=\"%g\" y=\"%g\">", x + 6, y + 41);
    lathe_report_escape(out, status);
    if (st && st->exec && json_object_has_member(st->exec, "seconds"))
      g_string_append_printf(out, " %.2fs", json_object_get_double_member(st->exec, "seconds"));
    if (st && st->trials)
      g_string_append_printf(out, " · %u trial nodes", st->trials);
    g_string_append(out, "</text></g>");
  }
  g_string_append(out, "</svg>\n<details><summary>nodes as a table</summary><table><tr><th class=\"l\">node</th>"
                       "<th class=\"l\">component</th><th class=\"l\">status</th><th>seconds</th></tr>");
  for (guint i = 0; i < v->len; i++) {
    GraphNode *g = g_ptr_array_index(v, i);
    NodeState *st = g_hash_table_lookup(states, g->id);
    g_string_append(out, "<tr><td class=\"l\">");
    lathe_report_escape(out, g->id);
    g_string_append(out, "</td><td class=\"l\">");
    lathe_report_escape(out, json_object_get_string_member_with_default(g->def, "use", ""));
    g_string_append(out, "</td><td class=\"l\">");
    lathe_report_escape(out, st && st->exec ? json_object_get_string_member_with_default(st->exec, "status", "") : "not run");
    g_string_append(out, "</td><td>");
    lathe_report_number(out, st && st->exec ? json_object_get_double_member_with_default(st->exec, "seconds", NAN) : NAN);
    g_string_append(out, "</td></tr>");
  }
  g_string_append(out, "</table></details>\n");
  g_hash_table_unref(by_id);
}

/* Lanes by worker (schema 6 records which worker ran each execution): one
 * lane a worker, named by it, in natural order ("thread 2" before
 * "thread 10"), and one "none" lane last for executions no worker ran (a
 * skip). Returns the lane count, or 0 when no execution has a worker. */
static gint compare_keys(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static guint worker_lanes(GPtrArray *ex, guint *lane, GPtrArray *labels) {
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  gboolean unknown = FALSE;
  for (guint i = 0; i < ex->len; i++) {
    const char *w = json_object_get_string_member_with_default(g_ptr_array_index(ex, i), "worker", NULL);
    if (!w) {
      unknown = TRUE;
      continue;
    }
    if (g_hash_table_contains(seen, w))
      continue;
    g_hash_table_insert(seen, (gpointer)w, NULL);
    /* the key, then the name: worker names hold no \x01, keys may */
    g_autofree char *k = g_utf8_collate_key_for_filename(w, -1);
    g_ptr_array_add(keys, g_strconcat(k, "\x01", w, NULL));
  }
  if (!keys->len)
    return 0;
  g_ptr_array_sort(keys, compare_keys);
  g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint k = 0; k < keys->len; k++) {
    const char *name = strrchr(keys->pdata[k], '\x01') + 1;
    g_ptr_array_add(labels, g_strdup(name));
    g_hash_table_insert(index, (gpointer)labels->pdata[k], GUINT_TO_POINTER(k));
  }
  if (unknown)
    g_ptr_array_add(labels, g_strdup("none"));
  for (guint i = 0; i < ex->len; i++) {
    const char *w = json_object_get_string_member_with_default(g_ptr_array_index(ex, i), "worker", NULL);
    lane[i] = w ? GPOINTER_TO_UINT(g_hash_table_lookup(index, w)) : labels->len - 1;
  }
  return labels->len;
}

/* Lanes when no execution has a worker (stores before schema 6): a greedy
 * packing, each execution in the first lane free at its start. That shows
 * how many ran at once, not which worker ran them. */
static guint packed_lanes(GPtrArray *ex, guint *lane, double t1) {
  g_autoptr(GArray) lane_free = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 0; i < ex->len; i++) {
    JsonObject *e = g_ptr_array_index(ex, i);
    double s = json_object_get_double_member(e, "started");
    JsonNode *en = json_object_get_member(e, "ended");
    double f = en && !JSON_NODE_HOLDS_NULL(en) ? json_node_get_double(en) : t1;
    guint k = 0;
    while (k < lane_free->len && g_array_index(lane_free, double, k) > s + 1e-9)
      k++;
    if (k == lane_free->len)
      g_array_append_val(lane_free, f);
    else
      g_array_index(lane_free, double, k) = f;
    lane[i] = k;
  }
  return lane_free->len;
}

/* The timeline: a lane a worker (or packed, above). The critical
 * path walks back from the last execution to end, each step to the input
 * node that ended last. */
void lathe_report_timeline(GString *out, JsonObject *pipeline, JsonObject *run) {
  JsonArray *nodes = json_object_get_array_member(run, "nodes");
  g_autoptr(GPtrArray) ex = g_ptr_array_new();
  double t0 = INFINITY, t1 = -INFINITY;
  for (guint i = 0; i < json_array_get_length(nodes); i++) {
    JsonObject *e = json_array_get_object_element(nodes, i);
    if (!json_object_has_member(e, "started") || JSON_NODE_HOLDS_NULL(json_object_get_member(e, "started")))
      continue;
    double s = json_object_get_double_member(e, "started");
    JsonNode *en = json_object_get_member(e, "ended");
    double f = en && !JSON_NODE_HOLDS_NULL(en) ? json_node_get_double(en) : s;
    t0 = MIN(t0, s), t1 = MAX(t1, f);
    g_ptr_array_add(ex, e);
  }
  if (!ex->len) {
    g_string_append(out, "<p class=\"note\">No execution has a start time yet.</p>\n");
    return;
  }
  if (t1 <= t0)
    t1 = t0 + 1e-3;
  /* critical path over top-level nodes */
  g_autoptr(GHashTable) last_end = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) crit = g_hash_table_new(g_str_hash, g_str_equal);
  const char *last = NULL;
  double last_t = -INFINITY;
  for (guint i = 0; i < ex->len; i++) {
    JsonObject *e = g_ptr_array_index(ex, i);
    const char *id = json_object_get_string_member(e, "id");
    JsonNode *en = json_object_get_member(e, "ended");
    double f = en && !JSON_NODE_HOLDS_NULL(en) ? json_node_get_double(en) : t1;
    if (!lathe_report_is_trial(id)) {
      g_hash_table_insert(last_end, (gpointer)id, e);
      if (f >= last_t)
        last_t = f, last = id;
    }
  }
  JsonArray *pn = json_object_has_member(pipeline, "nodes") ? json_object_get_array_member(pipeline, "nodes") : NULL;
  for (guint guard = 0; last && guard < 10000 && !g_hash_table_contains(crit, last); guard++) {
    g_hash_table_add(crit, (gpointer)last);
    const char *next = NULL;
    double best = -INFINITY;
    for (guint i = 0; pn && i < json_array_get_length(pn); i++) {
      JsonObject *d = json_array_get_object_element(pn, i);
      if (g_strcmp0(json_object_get_string_member_with_default(d, "id", ""), last) || !json_object_has_member(d, "in"))
        continue;
      JsonObject *in = json_object_get_object_member(d, "in");
      g_autoptr(GList) ports = json_object_get_members(in);
      for (GList *l = ports; l; l = l->next) {
        JsonNode *r = json_object_get_member(in, l->data);
        g_autofree char *src = source_node(JSON_NODE_HOLDS_VALUE(r) && json_node_get_string(r) ? json_node_get_string(r) : "");
        JsonObject *se = g_hash_table_lookup(last_end, src);
        double f = se ? json_object_get_double_member_with_default(se, "ended", -INFINITY) : -INFINITY;
        if (se && f > best)
          best = f, next = json_object_get_string_member(se, "id");
      }
    }
    last = next;
  }
  g_autofree guint *lane = g_new0(guint, ex->len);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
  guint lanes = worker_lanes(ex, lane, labels);
  if (!lanes)
    lanes = packed_lanes(ex, lane, t1);
  /* Room on the left for the workers' names. */
  const double L = labels->len ? 110 : 60, W = 760, LH = 16, T = 10;
  double H = T + lanes * LH + 40;
  g_string_append_printf(out, "<svg class=\"timeline\" role=\"img\" width=\"%g\" height=\"%g\"><title>timeline of "
                              "node executions</title><desc>one bar per execution, %s, critical path "
                              "outlined in black; the table below has the times</desc>", W + 20, H,
                         labels->len ? "a lane per worker" : "lanes by greedy packing");
  for (guint k = 0; k < labels->len; k++) {
    g_string_append_printf(out, "<text class=\"lane\" x=\"%g\" y=\"%g\" text-anchor=\"end\">", L - 4,
                           T + k * LH + LH - 5);
    lathe_report_escape(out, labels->pdata[k]);
    g_string_append(out, "</text>");
  }
  for (guint i = 0; i < ex->len; i++) {
    JsonObject *e = g_ptr_array_index(ex, i);
    const char *id = json_object_get_string_member(e, "id");
    double s = json_object_get_double_member(e, "started");
    JsonNode *en = json_object_get_member(e, "ended");
    double f = en && !JSON_NODE_HOLDS_NULL(en) ? json_node_get_double(en) : t1;
    const char *st = json_object_get_string_member_with_default(e, "status", "");
    const char *fill = g_str_equal(st, "failed") ? "#D55E00" : g_str_equal(st, "cached") ? "#56B4E9"
                       : g_str_equal(st, "running") ? "#E69F00" : "#009E73";
    double x = L + (W - L) * (s - t0) / (t1 - t0), w = MAX(1.0, (W - L) * (f - s) / (t1 - t0));
    gboolean c = !lathe_report_is_trial(id) && g_hash_table_contains(crit, id) && g_hash_table_lookup(last_end, id) == e;
    g_string_append_printf(out, "<rect class=\"bar%s\" x=\"%.1f\" y=\"%g\" width=\"%.1f\" height=\"%g\" fill=\"%s\"><title>",
                           c ? " crit" : "", x, T + lane[i] * LH, w, LH - 3, fill);
    lathe_report_escape(out, id);
    g_string_append_printf(out, " %.3fs</title></rect>", f - s);
  }
  g_string_append_printf(out, "<line class=\"axis\" x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>"
                              "<text x=\"%g\" y=\"%g\">0 s</text><text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.3f s</text>"
                              "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">time since the run's first execution (seconds)</text>"
                              "<text transform=\"translate(12,%g) rotate(-90)\" text-anchor=\"middle\">%s</text></svg>\n",
                         L, H - 34, W, H - 34, L, H - 22, W, H - 22, t1 - t0, (L + W) / 2, H - 6, T + lanes * LH / 2,
                         labels->len ? "worker" : "lane");
  g_string_append(out, "<details><summary>timeline as a table</summary><table><tr><th class=\"l\">execution</th>"
                       "<th class=\"l\">worker</th><th>start (s)</th><th>end (s)</th><th class=\"l\">critical</th></tr>");
  for (guint i = 0; i < ex->len; i++) {
    JsonObject *e = g_ptr_array_index(ex, i);
    const char *id = json_object_get_string_member(e, "id");
    g_string_append(out, "<tr><td class=\"l\">");
    lathe_report_escape(out, id);
    g_string_append(out, "</td><td class=\"l\">");
    lathe_report_escape(out, json_object_get_string_member_with_default(e, "worker", ""));
    JsonNode *en = json_object_get_member(e, "ended");
    g_string_append_printf(out, "</td><td>%.3f</td><td>", json_object_get_double_member(e, "started") - t0);
    if (en && !JSON_NODE_HOLDS_NULL(en))
      g_string_append_printf(out, "%.3f", json_node_get_double(en) - t0);
    else
      g_string_append(out, "running");
    g_string_append_printf(out, "</td><td class=\"l\">%s</td></tr>",
                           !lathe_report_is_trial(id) && g_hash_table_contains(crit, id) ? "yes" : "");
  }
  g_string_append(out, "</table></details>\n");
}
