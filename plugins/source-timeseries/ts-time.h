/* ts-time.h: timestamps of time-series files -> exact days + seconds (UTC). */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheTsTime:
 * @days: whole days since 1970-01-01 (negative before it).
 * @sec: seconds into that day, 0 <= @sec < 86400 (may carry a fraction).
 *
 * A UTC instant split so that both halves fit a float32 exactly for whole
 * seconds: epoch seconds = @days * 86400 + @sec, computed in double.
 */
typedef struct {
  gint64 days;
  double sec;
} LatheTsTime;

/**
 * lathe_ts_parse:
 * @text: the timestamp text (not NUL-terminated: @len bytes).
 * @len: its length.
 * @format: "iso8601" (YYYY-MM-DD then 'T' or ' ', HH:MM[:SS[.fff]], then
 *   optional 'Z' or +HH:MM / -HH:MM), "epoch" (seconds since 1970, may be
 *   fractional), or a pattern of %Y %m %d %H %M %S %% and literal
 *   characters; %S accepts an optional fraction (".000000").
 * @out: (out): the instant; times without an offset are taken as UTC.
 * @why: (out): on failure, a static reason.
 *
 * Returns: %TRUE when the whole of @text matched @format.
 */
gboolean lathe_ts_parse(const char *text, gsize len, const char *format, LatheTsTime *out,
                        const char **why);

/** lathe_ts_compare: <0, 0, >0 as @a is before, equal to, after @b. */
int lathe_ts_compare(const LatheTsTime *a, const LatheTsTime *b);

/**
 * lathe_ts_days_from_civil:
 *
 * Returns: days since 1970-01-01 of the proleptic Gregorian date (valid
 * @m 1..12 and @d 1..31 assumed).
 */
gint64 lathe_ts_days_from_civil(gint64 y, int m, int d);

G_END_DECLS
