/* NAB's timestamps, "YYYY-MM-DD HH:MM:SS" in the data and the same with
 * ".ffffff" in combined_windows.json, both UTC without a zone. */
#include <stdlib.h>
#include <string.h>

#include "nab-internal.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static gint64 days_from_civil(gint64 y, guint m, guint d) {
  y -= m <= 2;
  const gint64 era = (y >= 0 ? y : y - 399) / 400;
  const guint yoe = (guint)(y - era * 400);
  const guint doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const guint doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64)doe - 719468;
}

/* @n digits at @p, else -1. */
static gint64 digits(const char *p, guint n) {
  gint64 v = 0;
  for (guint i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

gboolean lathe_nab_parse_time(const char *text, double *out) {
  if (!text || strlen(text) < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':')
    return FALSE;
  gint64 y = digits(text, 4), mo = digits(text + 5, 2), d = digits(text + 8, 2),
         h = digits(text + 11, 2), mi = digits(text + 14, 2), s = digits(text + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
      s > 59)
    return FALSE;
  static const guint mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap))
    return FALSE;
  double frac = 0.0;
  const char *p = text + 19;
  if (*p == '.') {
    double scale = 0.1;
    if (!p[1])
      return FALSE;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac += (*p - '0') * scale;
  }
  if (*p)
    return FALSE;
  *out = (double)(days_from_civil(y, (guint)mo, (guint)d) * 86400 + h * 3600 + mi * 60 + s) +
         frac;
  return TRUE;
}
