/* Alarm suppression (a refractory period) for NAB scoring.
 *
 * The detector fires at row i when score[i] >= threshold and i > f + R, f
 * being the row where it last fired: after an alarm it stays silent for R
 * rows. It runs over every row, the probation period included (an alarm
 * there silences the rows after it, like any other), and NAB then scores the
 * alarms as usual (probation rows never count). R = 0 is NAB's own detector.
 *
 * Why: NAB counts only the earliest detection in a window and charges every
 * detection outside one, so a burst of alarms around one event costs false
 * positives and gains nothing.
 *
 * The alarms are not monotone in the threshold (a new alarm can silence a
 * later one, which then lets another fire), so NAB's incremental sweep does
 * not apply. Instead each file's score is traced as a step function of the
 * threshold by adding its rows in decreasing score order and repairing the
 * greedy alarm set after each one: an added row either falls in a silent
 * stretch (nothing changes) or fires, and the alarms after it are
 * recomputed until they meet an alarm that was already there (from an alarm
 * on, the greedy scan no longer depends on what came before). The files'
 * steps are then merged to pick the threshold for any subset of files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nab-internal.h"

LatheNabResult lathe_nab_score_refractory(const LatheNabRows *rows, const LatheNabProfile *p,
                                          double threshold, guint refractory) {
  if (refractory == 0)
    return lathe_nab_score_at(rows, p, threshold);
  return lathe_nab_score_detections(rows, p, threshold, refractory, NULL, NULL);
}

/* With refractory 0 the loop below is lathe_nab_score_at()'s: no alarm is
 * ever within 0 rows after the one before. */
LatheNabResult lathe_nab_score_detections(const LatheNabRows *rows, const LatheNabProfile *p,
                                          double threshold, guint refractory, GArray *tp_rows,
                                          GArray *fp_rows) {
  const LatheNabFile *f = rows->file;
  LatheNabResult r = {0};
  double *best = g_new(double, (gsize)f->n_windows + 1);
  gboolean *seen = g_new0(gboolean, (gsize)f->n_windows + 1);
  guint *best_row = g_new(guint, (gsize)f->n_windows + 1);
  for (guint w = 0; w < f->n_windows; w++)
    best[w] = -p->fn;
  gint64 last = -1 - (gint64)refractory; /* no alarm yet */
  for (guint i = 0; i < rows->n; i++) {
    gint w = rows->window[i];
    if (w >= 0)
      seen[w] = TRUE;
    if (!(f->score[i] >= threshold) || (gint64)i <= last + (gint64)refractory)
      continue;
    last = i;
    if (w == -2)
      continue;
    if (w < 0) {
      r.score += rows->weight[i];
      r.fp++;
      if (fp_rows)
        g_array_append_val(fp_rows, i);
    } else if (rows->weight[i] > best[w]) {
      best[w] = rows->weight[i];
      best_row[w] = i;
    }
  }
  for (guint w = 0; w < f->n_windows; w++) {
    if (!seen[w])
      continue;
    r.score += best[w];
    if (best[w] > -p->fn) {
      r.tp++;
      if (tp_rows)
        g_array_append_val(tp_rows, best_row[w]);
    } else {
      r.fn++;
    }
  }
  g_free(best);
  g_free(seen);
  g_free(best_row);
  return r;
}

/* Bit sets over the rows of one file. */
static inline gboolean bit_get(const guint64 *b, gsize i) { return (b[i >> 6] >> (i & 63)) & 1u; }
static inline void bit_set(guint64 *b, gsize i) { b[i >> 6] |= (guint64)1 << (i & 63); }
static inline void bit_clear(guint64 *b, gsize i) { b[i >> 6] &= ~((guint64)1 << (i & 63)); }

/* The first set bit at or after @x, or @n. */
static gsize next_set(const guint64 *b, gsize n, gsize x) {
  if (x >= n)
    return n;
  gsize wi = x >> 6;
  guint64 word = b[wi] & (~(guint64)0 << (x & 63));
  const gsize nw = (n + 63) >> 6;
  while (word == 0) {
    if (++wi >= nw)
      return n;
    word = b[wi];
  }
  gsize i = (wi << 6) + (gsize)__builtin_ctzll(word);
  return i < n ? i : n;
}

/* The last set bit before @x, or -1. */
static gint64 prev_set(const guint64 *b, gsize x) {
  if (x == 0)
    return -1;
  gsize i = x - 1, wi = i >> 6;
  guint64 word = b[wi] & (~(guint64)0 >> (63 - (i & 63)));
  while (word == 0) {
    if (wi == 0)
      return -1;
    word = b[--wi];
  }
  return (gint64)((wi << 6) + 63 - (gsize)__builtin_clzll(word));
}

/* The incremental state of one file. */
typedef struct {
  const LatheNabRows *rows;
  const LatheNabProfile *p;
  gsize n;
  guint64 *above, *fired; /* rows at or above the threshold; the alarms */
  double *best;           /* per window: the best alarm's weight, or -A_FN */
  gboolean *scorable;     /* per window: has rows after the probation period */
  double fp;              /* summed weights of the alarms outside windows */
} Trace;

/* Recomputes window @w's best alarm (its rows are contiguous). */
static void window_update(Trace *t, gint w) {
  const LatheNabFile *f = t->rows->file;
  double b = -t->p->fn;
  for (gsize i = next_set(t->fired, t->n, f->win_left[w]); i <= f->win_right[w] && i < t->n;
       i = next_set(t->fired, t->n, i + 1))
    if (t->rows->window[i] == w) /* not in probation */
      b = MAX(b, t->rows->weight[i]);
  t->best[w] = b;
}

static void set_alarm(Trace *t, gsize i, gboolean on) {
  if (on)
    bit_set(t->fired, i);
  else
    bit_clear(t->fired, i);
  gint w = t->rows->window[i];
  if (w == -1)
    t->fp += on ? t->rows->weight[i] : -t->rows->weight[i];
  else if (w >= 0)
    window_update(t, w);
}

/* Adds row @i to the rows at or above the threshold and repairs the alarms. */
static void trace_add(Trace *t, gsize i, guint refractory) {
  bit_set(t->above, i);
  gint64 f = prev_set(t->fired, i);
  if (f >= 0 && (gint64)i <= f + (gint64)refractory)
    return; /* silent: nothing changes */
  set_alarm(t, i, TRUE);
  gsize cur = i;
  for (;;) {
    gsize from = cur + refractory + 1;
    gsize e = next_set(t->above, t->n, from);
    /* alarms in (cur, e) are now silenced (there are none in (cur + R, e)) */
    for (gsize j = next_set(t->fired, t->n, cur + 1); j < e; j = next_set(t->fired, t->n, j + 1))
      set_alarm(t, j, FALSE);
    if (e >= t->n || bit_get(t->fired, e))
      break; /* the rest is as it was */
    set_alarm(t, e, TRUE);
    cur = e;
  }
}

static double trace_score(const Trace *t) {
  double s = t->fp;
  const LatheNabRows *rows = t->rows;
  for (guint w = 0; w < rows->file->n_windows; w++)
    if (t->scorable[w])
      s += t->best[w];
  return s;
}

static int by_score_desc(const void *a, const void *b, void *data) {
  const double *s = data;
  double x = s[*(const guint *)a], y = s[*(const guint *)b];
  return x > y ? -1 : x < y;
}

void lathe_nab_curve_init(LatheNabCurve *c, const LatheNabRows *rows, const LatheNabProfile *p,
                          guint refractory) {
  const LatheNabFile *f = rows->file;
  const gsize n = rows->n, nw = (n + 63) / 64 + 1;
  Trace t = {.rows = rows, .p = p, .n = n};
  t.above = g_new0(guint64, nw);
  t.fired = g_new0(guint64, nw);
  t.best = g_new(double, (gsize)f->n_windows + 1);
  t.scorable = g_new0(gboolean, (gsize)f->n_windows + 1);
  for (guint w = 0; w < f->n_windows; w++)
    t.best[w] = -p->fn;
  for (gsize i = 0; i < n; i++)
    if (rows->window[i] >= 0)
      t.scorable[rows->window[i]] = TRUE;
  guint *order = g_new(guint, n + 1);
  for (guint i = 0; i < n; i++)
    order[i] = i;
  g_qsort_with_data(order, (gint)n, sizeof *order, by_score_desc, (gpointer)f->score);
  c->start = trace_score(&t);
  c->threshold = g_new(double, n + 1);
  c->value = g_new(double, n + 1);
  c->n = 0;
  for (gsize i = 0; i < n;) {
    const double s = f->score[order[i]];
    for (; i < n && f->score[order[i]] == s; i++)
      trace_add(&t, order[i], refractory);
    c->threshold[c->n] = s;
    c->value[c->n] = trace_score(&t);
    c->n++;
  }
  g_free(order);
  g_free(t.above);
  g_free(t.fired);
  g_free(t.best);
  g_free(t.scorable);
}

void lathe_nab_curve_clear(LatheNabCurve *c) {
  g_clear_pointer(&c->threshold, g_free);
  g_clear_pointer(&c->value, g_free);
  c->n = 0;
}

typedef struct {
  double threshold, delta;
  guint file;
} Step;

/* Total order: threshold descending, then file, then step (the order a
 * stable sort of the files' steps gives), so leaving a file out is a
 * filter and the sums run in the same order for any subset. */
static int step_cmp(const void *a, const void *b, void *data) {
  const Step *s = data;
  const guint x = *(const guint *)a, y = *(const guint *)b;
  if (s[x].threshold != s[y].threshold)
    return s[x].threshold > s[y].threshold ? -1 : 1;
  return x < y ? -1 : x > y;
}

void lathe_nab_steps_init(LatheNabSteps *st, const LatheNabCurve *curves, guint n_files) {
  gsize total = 0;
  for (guint k = 0; k < n_files; k++)
    total += curves[k].n;
  Step *steps = g_new(Step, total + 1);
  st->n_files = n_files;
  st->start = g_new(double, n_files + 1);
  gsize m = 0;
  for (guint k = 0; k < n_files; k++) {
    st->start[k] = curves[k].start;
    double prev = curves[k].start;
    for (gsize j = 0; j < curves[k].n; j++) {
      steps[m++] = (Step){curves[k].threshold[j], curves[k].value[j] - prev, k};
      prev = curves[k].value[j];
    }
  }
  guint *order = g_new(guint, m + 1);
  for (gsize i = 0; i < m; i++)
    order[i] = (guint)i;
  g_qsort_with_data(order, (gint)m, sizeof *order, step_cmp, steps);
  st->m = m;
  st->threshold = g_new(double, m + 1);
  st->delta = g_new(double, m + 1);
  st->file = g_new(guint, m + 1);
  for (gsize i = 0; i < m; i++) {
    st->threshold[i] = steps[order[i]].threshold;
    st->delta[i] = steps[order[i]].delta;
    st->file[i] = steps[order[i]].file;
  }
  g_free(order);
  g_free(steps);
}

void lathe_nab_steps_clear(LatheNabSteps *st) {
  g_clear_pointer(&st->threshold, g_free);
  g_clear_pointer(&st->delta, g_free);
  g_clear_pointer(&st->file, g_free);
  g_clear_pointer(&st->start, g_free);
  st->m = 0;
}

double lathe_nab_steps_best(const LatheNabSteps *st, gint skip, double no_detection,
                            double *score) {
  double s = 0.0;
  for (guint k = 0; k < st->n_files; k++)
    if ((gint)k != skip)
      s += st->start[k];
  const guint skipped = skip < 0 ? G_MAXUINT : (guint)skip;
  double best_threshold = no_detection, best_score = s;
  for (gsize i = 0; i < st->m;) {
    const double t = st->threshold[i];
    gsize j = i;
    for (; j < st->m && st->threshold[j] == t; j++)
      if (st->file[j] != skipped)
        s += st->delta[j];
    /* strict: on ties the higher threshold, seen first, stays (as NAB); a
     * threshold only the skipped file has leaves s as it was */
    if (s > best_score) {
      best_score = s;
      best_threshold = t;
    }
    i = j;
  }
  *score = best_score;
  return best_threshold;
}

double lathe_nab_curve_best(const LatheNabCurve *curves, guint n_files, gint skip,
                            double no_detection, double *score) {
  LatheNabSteps st;
  lathe_nab_steps_init(&st, curves, n_files);
  double t = lathe_nab_steps_best(&st, skip, no_detection, score);
  lathe_nab_steps_clear(&st);
  return t;
}

guint lathe_nab_refractory_rows(guint n, double fraction) {
  double r = floor(fraction * n);
  return r <= 0.0 ? 0u : r >= n ? n : (guint)r;
}
