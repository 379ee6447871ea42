/* nab-internal.h: the Numenta Anomaly Benchmark scorer, shared by the
 * evaluator and its tests (tests/plugins/evaluator-nab compiles the same
 * sources). Nothing here knows about contexts or datasets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_nab_parse_time:
 * @text: "YYYY-MM-DD HH:MM:SS" with an optional fraction (".ffffff"), UTC.
 * @out: (out): seconds since 1970-01-01 00:00:00 UTC.
 * Returns: %FALSE when @text is not such a time (or not a real date).
 */
gboolean lathe_nab_parse_time(const char *text, double *out);

/**
 * LatheNabProfile:
 * @name: "standard", "reward_low_FP" or "reward_low_FN".
 * @tp: A_TP, @fp: A_FP, @fn: A_FN: NAB's cost matrix.
 */
typedef struct {
  const char *name;
  double tp, fp, fn;
} LatheNabProfile;

/**
 * lathe_nab_locate:
 * The row of a window edge at time @t among @n rows of times @time: NAB's
 * rule, the first row whose time equals it (NAB files repeat times around
 * clock changes); when none does, the first row at or after a start
 * (@start), or the last row at or before an end. G_MAXUINT when there is no
 * such row.
 */
guint lathe_nab_locate(const double *time, guint n, double t, gboolean start);

/** lathe_nab_profile: (nullable) NAB's profile called @name. */
const LatheNabProfile *lathe_nab_profile(const char *name);

/** lathe_nab_scaled_sigmoid: 2/(1+e^(5x)) - 1, and -1 from x >= 3 (NAB). */
double lathe_nab_scaled_sigmoid(double x);

/** lathe_nab_probation: NAB's probation rows: min(floor(@percent * n), @percent * 5000). */
double lathe_nab_probation(guint n, double percent);

/**
 * LatheNabFile:
 * @n: rows (time steps, in time order).
 * @score: @n anomaly scores (higher = more anomalous).
 * @n_windows: anomaly windows of the file.
 * @win_left: first row of each window, @win_right: its last row (windows
 *   sorted and disjoint; a window with no rows is not listed).
 * @n_labelled: windows the labels list for the file (NAB's perfect score
 *   counts them all, including any that has no rows).
 * Filled by the caller; the scorer only reads it.
 */
typedef struct {
  guint n;
  const double *score;
  guint n_windows;
  const guint *win_left;
  const guint *win_right;
  guint n_labelled;
} LatheNabFile;

/**
 * LatheNabRows:
 * What NAB's sweeper computes once per file and profile: for every row, the
 * weighted score it adds when detected (sweepScore), and its window (-1
 * outside any, -2 in the probation period, which is never scored).
 */
typedef struct {
  guint n;
  double *weight;
  gint *window;
  guint n_windows; /* windows with at least one scorable row */
  const LatheNabFile *file;
} LatheNabRows;

void lathe_nab_rows_init(LatheNabRows *rows, const LatheNabFile *f, const LatheNabProfile *p,
                         double probation_percent);
void lathe_nab_rows_clear(LatheNabRows *rows);

/**
 * LatheNabResult:
 * @score: the raw NAB score.
 * @tp: windows detected, @fn: windows missed, @fp: detections outside windows.
 */
typedef struct {
  double score;
  guint tp, fp, fn;
} LatheNabResult;

/**
 * lathe_nab_score_at:
 * Scores one file with detections at rows whose score is >= @threshold: the
 * earliest detection in each window adds its weight, every detection outside
 * windows adds its (negative) weight, and each missed window costs A_FN.
 */
LatheNabResult lathe_nab_score_at(const LatheNabRows *rows, const LatheNabProfile *p,
                                  double threshold);

/**
 * lathe_nab_best_threshold:
 * @rows: per-file rows.
 * @n_files: how many.
 * @skip: a file index to leave out, or -1.
 * @score: (out): the summed score at the best threshold.
 * NAB's sweep: every distinct score is a candidate threshold (plus one above
 * them all: no detection); returns the one with the highest summed score over
 * the files, the highest threshold on ties (NAB's stable sort).
 */
double lathe_nab_best_threshold(const LatheNabRows *rows, guint n_files, gint skip,
                                const LatheNabProfile *p, double *score);

/**
 * LatheNabSweep:
 * lathe_nab_best_threshold()'s sorted rows, kept so that the best threshold
 * of every subset "all files but one" costs one pass instead of one sort
 * (leave-one-file-out): every file's scorable rows in decreasing score order
 * (ties by file, then row), with their weight, global window id (G_MAXUINT
 * outside windows) and file.
 */
typedef struct {
  gsize m;
  double *score, *weight;
  guint *window, *file;
  guint n_files, n_windows;
  guint *scorable; /* per file: LatheNabRows.n_windows */
  double no_detection;
} LatheNabSweep;

void lathe_nab_sweep_init(LatheNabSweep *sw, const LatheNabRows *rows, guint n_files);
void lathe_nab_sweep_clear(LatheNabSweep *sw);

/** lathe_nab_sweep_best: lathe_nab_best_threshold() of the rows @sw was made from. */
double lathe_nab_sweep_best(const LatheNabSweep *sw, gint skip, const LatheNabProfile *p,
                            double *score);

/**
 * lathe_nab_null_score:
 * The score of NAB's null detector (one constant score, its threshold
 * optimised): the better of detecting nothing and detecting every row.
 */
double lathe_nab_null_score(const LatheNabRows *rows, guint n_files, gint skip,
                            const LatheNabProfile *p);

/** lathe_nab_no_detection: the threshold reported for "detect nothing". */
double lathe_nab_no_detection(const LatheNabRows *rows, guint n_files);

/**
 * lathe_nab_refractory_rows:
 * The silent rows after an alarm for a file of @n rows: floor(@fraction * @n),
 * at most @n.
 */
guint lathe_nab_refractory_rows(guint n, double fraction);

/**
 * lathe_nab_score_refractory:
 * lathe_nab_score_at() for a detector that, after firing, stays silent for
 * @refractory rows: it fires at row i when the score is >= @threshold and i
 * is more than @refractory rows after its last alarm (alarms in the
 * probation period count for that, but are never scored). @refractory = 0
 * is lathe_nab_score_at().
 */
LatheNabResult lathe_nab_score_refractory(const LatheNabRows *rows, const LatheNabProfile *p,
                                          double threshold, guint refractory);

/**
 * lathe_nab_score_detections:
 * @tp_rows: (nullable): appended with each detected window's scoring row
 *   (its earliest detection, the one NAB counts), in window order.
 * @fp_rows: (nullable): appended with every detection outside windows.
 * lathe_nab_score_refractory() that also lists the rows it counted, so that
 * the metrics artifact can show them (as many as its tp and fp).
 */
LatheNabResult lathe_nab_score_detections(const LatheNabRows *rows, const LatheNabProfile *p,
                                          double threshold, guint refractory, GArray *tp_rows,
                                          GArray *fp_rows);

/**
 * LatheNabCurve:
 * One file's score as a step function of the threshold: @start with no
 * detection, and @value[j] at every threshold from @threshold[j] (the file's
 * distinct scores, decreasing) down to the next one.
 */
typedef struct {
  gsize n;
  double start;
  double *threshold;
  double *value;
} LatheNabCurve;

/**
 * lathe_nab_curve_init:
 * Traces lathe_nab_score_refractory(@rows, @p, t, @refractory) for every
 * threshold t (exactly, with no grid).
 */
void lathe_nab_curve_init(LatheNabCurve *c, const LatheNabRows *rows, const LatheNabProfile *p,
                          guint refractory);
void lathe_nab_curve_clear(LatheNabCurve *c);

/**
 * lathe_nab_curve_best:
 * lathe_nab_best_threshold() on traced curves: the threshold (one of the
 * files' scores, or @no_detection) with the best summed score over the files
 * but @skip, the highest one on ties.
 */
double lathe_nab_curve_best(const LatheNabCurve *curves, guint n_files, gint skip,
                            double no_detection, double *score);

/**
 * LatheNabSteps:
 * lathe_nab_curve_best()'s merged steps, kept for the same reason as
 * LatheNabSweep: every file's steps in decreasing threshold order (ties by
 * file, then step), the change of the file's score at each, and the file.
 */
typedef struct {
  gsize m;
  double *threshold, *delta;
  guint *file;
  guint n_files;
  double *start; /* per file: LatheNabCurve.start */
} LatheNabSteps;

void lathe_nab_steps_init(LatheNabSteps *st, const LatheNabCurve *curves, guint n_files);
void lathe_nab_steps_clear(LatheNabSteps *st);

/** lathe_nab_steps_best: lathe_nab_curve_best() of the curves @st was made from. */
double lathe_nab_steps_best(const LatheNabSteps *st, gint skip, double no_detection,
                            double *score);

G_END_DECLS
