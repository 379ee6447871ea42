/* stream.h: the per-series streaming plumbing the detectors of this plugin
 * share (one copy). A detector sees each row of a series once, in time
 * order, and returns that row's score before it may see the next: the
 * driver resets its state at every series (group). */
#pragma once

#include <lathe/lathe-sdk.h>

/* What a detector may know of a whole series before its first row: its
 * length (NAB's probationary period is a share of it; no label), and for
 * detectors with probation_range, the range of the probation rows. */
typedef struct {
  guint n;         /* rows of the series */
  guint probation; /* NAB's probationary period, min(floor(p n), p 5000) rows */
  double lo, hi;   /* probation_range: min and max of the probation rows */
  /* range "running": lo and hi are unknown (+inf, -inf); the detector keeps
   * the running min and max of the values it has seen, row t included, and
   * documents how it re-quantises when they move. */
  gboolean running;
} LatheStreamSeries;

/* NAB's probationary period of a series of @n rows: min(floor(p n), p 5000)
 * rows, p the component's "probation_percent" param (one copy of the rule). */
guint lathe_stream_probation(LatheContext *ctx, guint n);

/* A running range: when @running, widens [@lo, @hi] to hold @x and returns
 * TRUE when it moved; otherwise leaves it. */
gboolean lathe_stream_range_update(gboolean running, double *lo, double *hi, double x);

typedef struct {
  const char *component; /* "transform/windowed_gaussian" */
  const char *suffix;    /* default output suffix, "_wg" */
  /* New state for one series, from the context's params. */
  gpointer (*state_new)(LatheContext *ctx, const LatheStreamSeries *series);
  /* The score of @x given every earlier value of the series; then learns @x. */
  double (*step)(gpointer state, double x);
  void (*state_free)(gpointer state);
  /* TRUE: the detector quantises values with the range of the probation
   * rows (NAB's detectors use the whole file's, which a stream cannot know):
   * the probation rows score 0, and at the first row after them the state
   * is made with their range and learns them, in order, before scoring that
   * row. Such a detector lists LATHE_STREAM_PROBATION_PARAM. */
  gboolean probation_range;
} LatheStreamDetector;

/* Runs @det over the "data" input's chosen columns, series by series, and
 * sets the output "data": the input then one <column><suffix> per column. */
gboolean lathe_stream_detect_run(LatheContext *ctx, const LatheStreamDetector *det,
                                 GError **error);

/* The params every detector has (columns, suffix); end a detector's own
 * list with LATHE_STREAM_COMMON_PARAMS then LATHE_PARAM_END. */
#define LATHE_STREAM_COMMON_PARAMS                                                              \
  LATHE_PARAM_LIST_("columns", "[\"value\"]", LATHE_PARAM_STRING, "the value columns to score"), \
      LATHE_PARAM_STRING_("suffix", "\"\"", 0,                                                  \
                          "each score is a new column <column><suffix>; \"\" = the "            \
                          "detector's own suffix")

#define LATHE_STREAM_PROBATION_PARAM                                                   \
  LATHE_PARAM_FLOAT_("probation_percent", "0.15", 0, 1, 0,                             \
                     "NAB's probationary period: min(floor(p n), p 5000) rows of a series " \
                     "of n rows, which score 0 (and set the value range when range is "     \
                     "\"probation\")"),                                                      \
      LATHE_PARAM_STRING_("range", "\"probation\"", 0,                                   \
                          "the value range quantised over: \"probation\" = the probation " \
                          "rows' min and max; \"running\" = the min and max of the rows " \
                          "seen so far, row t included")

extern const LathePortSpec lathe_stream_inputs[];
/* The detectors kept in their own files (listed by detectors.c's plugin). */
extern const LatheTransformClass lathe_stream_relative_entropy_class;
extern const LatheTransformClass lathe_stream_context_novelty_class;
extern const LatheTransformClass lathe_stream_score_max_class;
extern const LatheTransformClass lathe_stream_spatial_class;
extern const LatheTransformClass lathe_stream_artime_class;
extern const LathePortSpec lathe_stream_outputs[];
