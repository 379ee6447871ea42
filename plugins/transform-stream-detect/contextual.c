/* transform/context_novelty: a contextual anomaly detector in the spirit of
 * CAD OSE (M. Smirnov, "Contextual Anomaly Detector - Open Source Edition",
 * 2016, github.com/smirmik/CAD; NAB's contextOSE detector, the NAB
 * scoreboard's second best). Written from the idea, not from its code:
 *
 * - each value is quantised to a level, floor((x - lo) / step) with step =
 *   (hi - lo) / (levels - 1), lo and hi the probation rows' range (NAB gives
 *   CAD OSE the whole file's, which a stream cannot know; stream.c's
 *   probation_range), unbounded beyond it;
 * - a context of order m is the last m levels before row t; with the level
 *   of row t it makes a transition. For m = 1..max_order the detector asks
 *   whether the context was seen before ("selected") and whether its
 *   transition to this level was ("active"); an unseen transition is new and
 *   is learned (contexts are never forgotten, as in CAD OSE);
 * - the raw score is CAD OSE's form, (1 - active/selected + new/orders) / 2 in
 *   [0, 1]: 0 when every known context predicted this level, 1 when none of
 *   the known contexts did and every transition is new;
 * - CAD OSE's rest period: after a raw score >= base_threshold, the next
 *   rest rows score 0 (rest = rest_fraction x the probation rows; NAB:
 *   probation / 5), and the first rest rows too (CAD OSE's history starts
 *   at 1).
 *
 * CAD OSE builds its contexts from the previous step's facts (the level)
 * and the contexts that were active (its "neurons"), which makes longer
 * contexts grow where they recur. contexts "orders" stands in for that with
 * the fixed orders 1..max_order (CAD OSE's maximal left semi-context
 * length, 7); contexts "recursive" follows the description (cx_recursive),
 * written from NAB's and CAD OSE's prose, not their code.
 *
 * range "running" quantises over the running min and max instead of the
 * probation rows' (stream.h); see cx_step for the re-quantisation rule. */
#include <math.h>
#include <string.h>

#include "stream.h"

static const LatheParamSpec cx_params[] = {
    LATHE_PARAM_INT_("levels", "8", 2, 1000000,
                     "quantisation levels over the value range, see range (CAD OSE: 3 bits, 8)"),
    LATHE_PARAM_INT_("max_order", "7", 1, 64,
                     "contexts of the last 1..max_order levels (CAD OSE's maximal left "
                     "semi-context length: 7)"),
    LATHE_PARAM_FLOAT_("base_threshold", "0.75", 0, 1e9, 0,
                        "a raw score at or above this starts a rest period (CAD OSE: 0.75)"),
    LATHE_PARAM_FLOAT_("rest_fraction", "0.2", 0, 1e6, 0,
                        "rest period, as a share of the probation rows (NAB: 1/5); 0 = none"),
    LATHE_PARAM_STRING_("contexts", "\"orders\"", 0,
                        "\"orders\": the last 1..max_order levels; \"recursive\": CAD OSE's "
                        "recursive contexts (left: the previous row's facts, its level and "
                        "the contexts active then; right: this row's level)"),
    LATHE_PARAM_INT_("max_active", "15", 1, 1000,
                     "recursive contexts: at most this many active contexts become facts of "
                     "the next row (CAD OSE: 15)"),
    LATHE_PARAM_FLOAT_("relearn_growth", "0", 0, 1e9, 0,
                        "range \"running\": when the range has grown this many times wider "
                        "than when the contexts were started, forget them and start afresh "
                        "in the new levels; 0 = never (the contexts keep their old levels)"),
    LATHE_STREAM_PROBATION_PARAM,
    LATHE_STREAM_COMMON_PARAMS,
    LATHE_PARAM_END,
};

typedef struct {
  guint levels, max_order;
  gboolean running;
  double lo, hi, base;
  guint rest;      /* rows silent after a raw score >= base */
  guint since;     /* rows since the last raw score >= base */
  gint32 *hist;    /* the last max_order levels, ring */
  guint64 n;
  GHashTable *contexts, *transitions; /* keys: GString-made strings; sets */
  GString *key;
  /* recursive contexts: transitions map to context ids; facts = the
   * previous row's level then the ids of the contexts active at it */
  gboolean recursive;
  guint max_active, next_id;
  GArray *facts, *active; /* gint32 */
  double relearn, width; /* relearn_growth; the range's width the contexts started with */
} CxState;

static gpointer cx_new(LatheContext *ctx, const LatheStreamSeries *series) {
  CxState *s = g_new0(CxState, 1);
  s->levels = (guint)lathe_context_param_int(ctx, "levels");
  s->max_order = (guint)lathe_context_param_int(ctx, "max_order");
  s->base = lathe_context_param_float(ctx, "base_threshold");
  s->rest = (guint)(lathe_context_param_float(ctx, "rest_fraction") * series->probation);
  s->since = 0; /* CAD OSE's score history starts with 1.0 */
  s->running = series->running;
  s->lo = series->lo;
  s->hi = series->hi;
  s->hist = g_new0(gint32, s->max_order);
  s->contexts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  s->transitions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  s->key = g_string_new(NULL);
  s->recursive = g_strcmp0(lathe_context_param_string(ctx, "contexts"), "recursive") == 0;
  s->max_active = (guint)lathe_context_param_int(ctx, "max_active");
  s->relearn = lathe_context_param_float(ctx, "relearn_growth");
  s->facts = g_array_new(FALSE, FALSE, sizeof(gint32));
  s->active = g_array_new(FALSE, FALSE, sizeof(gint32));
  return s;
}

#define CX_ID_BASE 2000001

static gint cx_cmp(gconstpointer a, gconstpointer b) {
  gint32 x = *(const gint32 *)a, y = *(const gint32 *)b;
  return (x > y) - (x < y);
}

/* Fixed orders: contexts of the last 1..max_order levels. */
static void cx_orders(CxState *s, gint32 q, guint *selected_, guint *active_, guint *added_,
                      guint *orders_) {
  const guint orders = (guint)MIN((guint64)s->max_order, s->n);
  guint selected = 0, active = 0, added = 0;
  g_string_truncate(s->key, 0);
  for (guint m = 1; m <= orders; m++) {
    /* the context of order m extends that of order m - 1 one level back */
    g_string_append_printf(s->key, "%d,", s->hist[(s->n - m) % s->max_order]);
    const gsize ctx_len = s->key->len;
    gboolean known = g_hash_table_contains(s->contexts, s->key->str);
    if (!known)
      g_hash_table_add(s->contexts, g_strdup(s->key->str));
    g_string_append_printf(s->key, ">%d", q);
    gboolean seen = g_hash_table_contains(s->transitions, s->key->str);
    if (!seen) {
      g_hash_table_add(s->transitions, g_strdup(s->key->str));
      added++;
    }
    selected += known;
    active += known && seen;
    g_string_truncate(s->key, ctx_len);
  }
  s->hist[s->n % s->max_order] = q;
  s->n++;
  *selected_ = selected;
  *active_ = active;
  *added_ = added;
  *orders_ = orders;
}

/* One left semi-context (the facts @f[0..k), as a key) with this row's level
 * @q: counts it and, when its transition is known, records the context's
 * id as active. */
static void cx_left(CxState *s, const gint32 *f, guint k, gint32 q, guint *selected,
                    guint *active, guint *added) {
  g_string_truncate(s->key, 0);
  for (guint i = 0; i < k; i++)
    g_string_append_printf(s->key, "%d,", f[i]);
  const gsize left_len = s->key->len;
  gboolean known = g_hash_table_contains(s->contexts, s->key->str);
  if (!known)
    g_hash_table_add(s->contexts, g_strdup(s->key->str));
  g_string_append_printf(s->key, ">%d", q);
  gpointer id;
  if (g_hash_table_lookup_extended(s->transitions, s->key->str, NULL, &id)) {
    *active += known;
    gint32 v = GPOINTER_TO_INT(id);
    g_array_append_val(s->active, v);
  } else {
    g_hash_table_insert(s->transitions, g_strdup(s->key->str), GINT_TO_POINTER(++s->next_id));
    (*added)++;
  }
  *selected += known;
  g_string_truncate(s->key, left_len);
}

/* Recursive contexts, after CAD OSE's description: the facts of a row are
 * its level and the ids of the contexts active at it (at most max_active,
 * the oldest first: the established ones). A context's left semi-context
 * is the previous row's facts, each alone and all together; its right
 * semi-context this row's level. An active context's id is a fact of the
 * next row, so a context whose left holds it spans one more row: contexts
 * lengthen where the series repeats itself, without a fixed order. */
static void cx_recursive(CxState *s, gint32 q, guint *selected, guint *active, guint *added,
                         guint *orders) {
  g_array_set_size(s->active, 0);
  const gint32 *f = (const gint32 *)(gconstpointer)s->facts->data;
  const guint k = s->facts->len;
  for (guint i = 0; i < k; i++)
    cx_left(s, f + i, 1, q, selected, active, added);
  if (k > 1)
    cx_left(s, f, k, q, selected, active, added);
  *orders = k > 1 ? k + 1 : k;
  /* the next row's facts: this level, then the active ids, oldest first */
  g_array_sort(s->active, cx_cmp);
  g_array_set_size(s->facts, 0);
  gint32 level = q;
  g_array_append_val(s->facts, level);
  for (guint i = 0; i < s->active->len && i < s->max_active; i++) {
    /* ids apart from levels, which are clamped to +-1e6 */
    gint32 id = CX_ID_BASE + g_array_index(s->active, gint32, i);
    g_array_append_val(s->facts, id);
  }
  s->n++;
}

static double cx_step(gpointer state, double x) {
  CxState *s = state;
  /* A running range quantises row t over the range of rows <= t; the
   * contexts learned keep the levels they were made with, so a widening
   * range makes contexts new for a while, as an excursion should; with
   * relearn_growth, a range grown that much forgets them instead. */
  if (lathe_stream_range_update(s->running, &s->lo, &s->hi, x)) {
    const double width = s->hi - s->lo;
    if (s->width > 0 && s->relearn > 0 && width > s->relearn * s->width) {
      g_hash_table_remove_all(s->contexts);
      g_hash_table_remove_all(s->transitions);
      g_array_set_size(s->facts, 0);
      s->n = 0;
    }
    if (s->width <= 0 || (s->relearn > 0 && width > s->relearn * s->width))
      s->width = width;
  }
  double lo = s->lo, step = (s->hi - s->lo) / (s->levels - 1.0);
  if (!(s->hi > s->lo)) { /* flat: as CAD OSE, a step of 1 */
    lo = isfinite(lo) ? lo : 0.0;
    step = 1.0;
  }
  double qd = floor((x - lo) / step);
  gint32 q = (gint32)CLAMP(qd, -1e6, 1e6);
  guint selected = 0, active = 0, added = 0, orders = 0;
  if (s->recursive)
    cx_recursive(s, q, &selected, &active, &added, &orders);
  else
    cx_orders(s, q, &selected, &active, &added, &orders);
  double raw = (1.0 - (selected ? (double)active / selected : 0.0) +
                (orders ? (double)added / orders : 0.0)) / 2.0;
  /* CAD OSE: the score is reported when no raw score of the last rest rows
   * reached the base threshold */
  double out = s->since >= s->rest ? raw : 0.0;
  s->since = raw >= s->base ? 0 : s->since + 1;
  return out;
}

static void cx_free(gpointer state) {
  CxState *s = state;
  g_free(s->hist);
  g_hash_table_unref(s->contexts);
  g_hash_table_unref(s->transitions);
  g_string_free(s->key, TRUE);
  g_array_unref(s->facts);
  g_array_unref(s->active);
  g_free(s);
}

static const LatheStreamDetector cx_det = {"transform/context_novelty", "_ctx", cx_new, cx_step,
                                           cx_free, TRUE};

static gboolean cx_run(LatheContext *ctx, GError **error) {
  const char *contexts = lathe_context_param_string(ctx, "contexts");
  if (g_strcmp0(contexts, "orders") && g_strcmp0(contexts, "recursive")) {
    lathe_context_set_error(ctx, error, LATHE_ERROR_INVALID, cx_det.component,
                            "contexts '%s' is unknown; use \"orders\" or \"recursive\"",
                            contexts ? contexts : "");
    return FALSE;
  }
  return lathe_stream_detect_run(ctx, &cx_det, error);
}

const LatheTransformClass lathe_stream_context_novelty_class = {
    LATHE_COMPONENT_INIT(LatheTransformClass, LATHE_KIND_TRANSFORM, "context_novelty",
                         "streaming: novelty of the contexts of quantised recent values (in "
                         "the spirit of CAD OSE, NAB's contextOSE), in [0, 1]",
                         cx_params, lathe_stream_inputs, lathe_stream_outputs),
    .run = cx_run,
};
