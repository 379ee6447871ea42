/* stream.h: the per-series streaming plumbing the detectors of this plugin
 * share (one copy). A detector sees each row of a series once, in time
 * order, and returns that row's score before it may see the next: the
 * driver resets its state at every series (group). */
#pragma once

#include <lathe/lathe-sdk.h>

typedef struct {
  const char *component; /* "transform/windowed_gaussian" */
  const char *suffix;    /* default output suffix, "_wg" */
  /* New state for one series, from the context's params. */
  gpointer (*state_new)(LatheContext *ctx);
  /* The score of @x given every earlier value of the series; then learns @x. */
  double (*step)(gpointer state, double x);
  void (*state_free)(gpointer state);
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

extern const LathePortSpec lathe_stream_inputs[];
extern const LathePortSpec lathe_stream_outputs[];
