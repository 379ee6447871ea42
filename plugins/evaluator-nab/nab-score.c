/* NAB scoring, as numenta/NAB's nab/sweeper.py (v1.1) computes it:
 *
 * - probation: rows i < min(floor(0.15 n), 0.15 * 5000) are never scored, and
 *   a window whose rows all fall in it does not count as missed;
 * - a row inside window [L, R] (width W = R - L + 1) weighs
 *   A_TP * sigma(-(R - i + 1) / W) / sigma(-1), so the left edge is worth
 *   exactly A_TP, where sigma(x) = 2/(1+e^(5x)) - 1 (and -1 from x >= 3);
 * - a row outside windows weighs A_FP * sigma(|i - R_prev| / (W_prev - 1)),
 *   R_prev and W_prev being the last window that ended before it, or -A_FP
 *   when no window came before (NAB puts it at x = 3);
 * - at a threshold, rows scoring >= it are detections: each window adds the
 *   weight of its earliest detection (the largest), or -A_FN when it has
 *   none; every detection outside windows adds its weight.
 * NAB divides by W_prev - 1, which is 0 after a one-row window; we take the
 * position as +infinity there (weight -A_FP) instead of failing. */
#include <math.h>
#include <stdlib.h>

#include "nab-internal.h"

static const LatheNabProfile profiles[] = {
    {"standard", 1.0, 0.11, 1.0},
    {"reward_low_FP", 1.0, 0.22, 1.0},
    {"reward_low_FN", 1.0, 0.11, 2.0},
};

const LatheNabProfile *lathe_nab_profile(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(profiles); i++)
    if (g_strcmp0(profiles[i].name, name) == 0)
      return &profiles[i];
  return NULL;
}

double lathe_nab_scaled_sigmoid(double x) {
  if (x >= 3.0)
    return -1.0;
  return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

double lathe_nab_probation(guint n, double percent) {
  return MIN(floor(percent * n), percent * 5000.0);
}

void lathe_nab_rows_init(LatheNabRows *rows, const LatheNabFile *f, const LatheNabProfile *p,
                         double probation_percent) {
  const double max_tp = lathe_nab_scaled_sigmoid(-1.0);
  const double probation = lathe_nab_probation(f->n, probation_percent);
  rows->n = f->n;
  rows->file = f;
  rows->weight = g_new(double, (gsize)f->n + 1);
  rows->window = g_new(gint, (gsize)f->n + 1);
  rows->n_windows = 0;
  gboolean *scorable = g_new0(gboolean, (gsize)f->n_windows + 1);
  guint w = 0;
  gint prev = -1; /* the last window that ended before the current row */
  for (guint i = 0; i < f->n; i++) {
    while (w < f->n_windows && f->win_right[w] < i)
      prev = (gint)w++;
    gboolean inside = w < f->n_windows && f->win_left[w] <= i;
    if (inside) {
      double width = f->win_right[w] - f->win_left[w] + 1.0;
      double pos = -((double)f->win_right[w] - i + 1.0) / width;
      rows->weight[i] = lathe_nab_scaled_sigmoid(pos) * p->tp / max_tp;
    } else if (prev < 0) {
      rows->weight[i] = -p->fp;
    } else {
      double width = f->win_right[prev] - f->win_left[prev] + 1.0;
      double pos = width > 1.0 ? (i - (double)f->win_right[prev]) / (width - 1.0) : INFINITY;
      rows->weight[i] = lathe_nab_scaled_sigmoid(pos) * p->fp;
    }
    if (i < probation) {
      rows->window[i] = -2;
    } else {
      rows->window[i] = inside ? (gint)w : -1;
      if (inside && !scorable[w]) {
        scorable[w] = TRUE;
        rows->n_windows++;
      }
    }
  }
  g_free(scorable);
}

void lathe_nab_rows_clear(LatheNabRows *rows) {
  g_clear_pointer(&rows->weight, g_free);
  g_clear_pointer(&rows->window, g_free);
}

LatheNabResult lathe_nab_score_at(const LatheNabRows *rows, const LatheNabProfile *p,
                                  double threshold) {
  const LatheNabFile *f = rows->file;
  LatheNabResult r = {0};
  double *best = g_new(double, (gsize)f->n_windows + 1);
  gboolean *seen = g_new0(gboolean, (gsize)f->n_windows + 1);
  for (guint w = 0; w < f->n_windows; w++)
    best[w] = -p->fn;
  for (guint i = 0; i < rows->n; i++) {
    gint w = rows->window[i];
    if (w >= 0)
      seen[w] = TRUE;
    if (w == -2 || !(f->score[i] >= threshold))
      continue;
    if (w < 0) {
      r.score += rows->weight[i];
      r.fp++;
    } else {
      best[w] = MAX(best[w], rows->weight[i]);
    }
  }
  for (guint w = 0; w < f->n_windows; w++) {
    if (!seen[w])
      continue; /* all in probation: neither found nor missed */
    r.score += best[w];
    if (best[w] > -p->fn)
      r.tp++;
    else
      r.fn++;
  }
  g_free(best);
  g_free(seen);
  return r;
}

/* Total order: score descending, then file, then row, which is the order a
 * stable sort of the files' rows (file by file, row by row) gives; a subset
 * of the files keeps it, so leaving a file out is a filter, not a re-sort. */
static int point_cmp(const void *a, const void *b, void *data) {
  const LatheNabSweep *sw = data;
  const guint x = *(const guint *)a, y = *(const guint *)b;
  const double sx = sw->score[x], sy = sw->score[y];
  if (sx != sy)
    return sx > sy ? -1 : 1;
  return x < y ? -1 : x > y; /* indices run file by file, row by row */
}

double lathe_nab_no_detection(const LatheNabRows *rows, guint n_files) {
  double top = -INFINITY;
  for (guint k = 0; k < n_files; k++)
    for (guint i = 0; i < rows[k].n; i++)
      top = MAX(top, rows[k].file->score[i]);
  /* NAB starts its sweep at 1.1; scores above that need a higher start */
  return top < 1.1 ? 1.1 : top + 1.0;
}

void lathe_nab_sweep_init(LatheNabSweep *sw, const LatheNabRows *rows, guint n_files) {
  gsize total = 0;
  sw->n_files = n_files;
  sw->n_windows = 0;
  for (guint k = 0; k < n_files; k++) {
    total += rows[k].n;
    sw->n_windows += rows[k].file->n_windows;
  }
  sw->scorable = g_new(guint, n_files + 1);
  sw->score = g_new(double, total + 1);
  sw->weight = g_new(double, total + 1);
  sw->window = g_new(guint, total + 1);
  sw->file = g_new(guint, total + 1);
  gsize m = 0;
  guint base = 0;
  for (guint k = 0; k < n_files; k++) {
    for (guint i = 0; i < rows[k].n; i++) {
      gint w = rows[k].window[i];
      if (w == -2)
        continue;
      sw->score[m] = rows[k].file->score[i];
      sw->weight[m] = rows[k].weight[i];
      sw->window[m] = w < 0 ? G_MAXUINT : base + (guint)w;
      sw->file[m] = k;
      m++;
    }
    base += rows[k].file->n_windows;
    sw->scorable[k] = rows[k].n_windows;
  }
  sw->m = m;
  guint *order = g_new(guint, m + 1);
  for (gsize i = 0; i < m; i++)
    order[i] = (guint)i;
  g_qsort_with_data(order, (gint)m, sizeof *order, point_cmp, sw);
  /* permute the columns into the sorted order */
  double *score = g_new(double, m + 1), *weight = g_new(double, m + 1);
  guint *window = g_new(guint, m + 1), *file = g_new(guint, m + 1);
  for (gsize i = 0; i < m; i++) {
    score[i] = sw->score[order[i]];
    weight[i] = sw->weight[order[i]];
    window[i] = sw->window[order[i]];
    file[i] = sw->file[order[i]];
  }
  g_free(order);
  g_free(sw->score);
  g_free(sw->weight);
  g_free(sw->window);
  g_free(sw->file);
  sw->score = score;
  sw->weight = weight;
  sw->window = window;
  sw->file = file;
  sw->no_detection = lathe_nab_no_detection(rows, n_files);
}

void lathe_nab_sweep_clear(LatheNabSweep *sw) {
  g_clear_pointer(&sw->score, g_free);
  g_clear_pointer(&sw->weight, g_free);
  g_clear_pointer(&sw->window, g_free);
  g_clear_pointer(&sw->file, g_free);
  g_clear_pointer(&sw->scorable, g_free);
  sw->m = 0;
}

double lathe_nab_sweep_best(const LatheNabSweep *sw, gint skip, const LatheNabProfile *p,
                            double *score) {
  guint scorable = 0;
  for (guint k = 0; k < sw->n_files; k++)
    if ((gint)k != skip)
      scorable += sw->scorable[k];
  double *best = g_new(double, (gsize)sw->n_windows + 1);
  for (guint w = 0; w < sw->n_windows; w++)
    best[w] = -p->fn;
  double s = -p->fn * scorable;
  double best_threshold = sw->no_detection, best_score = s;
  const guint skipped = skip < 0 ? G_MAXUINT : (guint)skip;
  for (gsize i = 0; i < sw->m;) {
    const double t = sw->score[i];
    gsize j = i;
    for (; j < sw->m && sw->score[j] == t; j++) {
      if (sw->file[j] == skipped)
        continue;
      const guint w = sw->window[j];
      if (w == G_MAXUINT) {
        s += sw->weight[j];
      } else if (sw->weight[j] > best[w]) {
        s += sw->weight[j] - best[w];
        best[w] = sw->weight[j];
      }
    }
    /* strict: on ties the higher threshold, seen first, stays; a score that
     * only the skipped file has leaves s unchanged, so it never wins */
    if (s > best_score) {
      best_score = s;
      best_threshold = t;
    }
    i = j;
  }
  g_free(best);
  *score = best_score;
  return best_threshold;
}

double lathe_nab_best_threshold(const LatheNabRows *rows, guint n_files, gint skip,
                                const LatheNabProfile *p, double *score) {
  LatheNabSweep sw;
  lathe_nab_sweep_init(&sw, rows, n_files);
  double t = lathe_nab_sweep_best(&sw, skip, p, score);
  lathe_nab_sweep_clear(&sw);
  return t;
}

double lathe_nab_null_score(const LatheNabRows *rows, guint n_files, gint skip,
                            const LatheNabProfile *p) {
  double none = 0.0, all = 0.0;
  for (guint k = 0; k < n_files; k++) {
    if ((gint)k == skip)
      continue;
    none -= p->fn * rows[k].n_windows;
    all += lathe_nab_score_at(&rows[k], p, -INFINITY).score;
  }
  return MAX(none, all);
}

guint lathe_nab_locate(const double *time, guint n, double t, gboolean start) {
  for (guint i = 0; i < n; i++)
    if (time[i] == t)
      return i;
  if (start) {
    for (guint i = 0; i < n; i++)
      if (time[i] >= t)
        return i;
  } else {
    for (guint i = n; i-- > 0;)
      if (time[i] <= t)
        return i;
  }
  return G_MAXUINT;
}
