/* Timestamp parsing without the C library's locale and time-zone state:
 * strptime/mktime read TZ and are not thread-safe everywhere, and a source
 * runs on a worker thread. Dates are proleptic Gregorian, times UTC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts-time.h"

gint64 lathe_ts_days_from_civil(gint64 y, int m, int d) {
  /* Howard Hinnant's days_from_civil: eras of 400 years, March-based years. */
  y -= m <= 2;
  gint64 era = (y >= 0 ? y : y - 399) / 400;
  gint64 yoe = y - era * 400;
  gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(gint64 y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dm[m - 1];
}

typedef struct {
  const char *p, *end;
} Cursor;

/* Reads between @min and @max decimal digits. */
static gboolean digits(Cursor *c, int min, int max, gint64 *v) {
  int n = 0;
  *v = 0;
  while (n < max && c->p < c->end && g_ascii_isdigit(*c->p)) {
    *v = *v * 10 + (*c->p - '0');
    c->p++;
    n++;
  }
  return n >= min;
}

/* An optional ".ddd" after the seconds. */
static double fraction(Cursor *c) {
  if (c->p >= c->end || (*c->p != '.' && *c->p != ',') || c->p + 1 >= c->end ||
      !g_ascii_isdigit(c->p[1]))
    return 0.0;
  c->p++;
  double f = 0.0, scale = 0.1;
  while (c->p < c->end && g_ascii_isdigit(*c->p)) {
    f += (*c->p - '0') * scale;
    scale *= 0.1;
    c->p++;
  }
  return f;
}

typedef struct {
  gint64 y, mo, d, h, mi, s;
  double frac;
  gint64 offset_s; /* local time minus UTC */
} Fields;

static gboolean finish(const Fields *f, LatheTsTime *out, const char **why) {
  if (f->mo < 1 || f->mo > 12) {
    *why = "month out of 1..12";
    return FALSE;
  }
  if (f->d < 1 || f->d > days_in_month(f->y, (int)f->mo)) {
    *why = "day out of range for its month";
    return FALSE;
  }
  if (f->h > 23 || f->mi > 59 || f->s > 59) {
    *why = "time of day out of range (hours 0..23, minutes and seconds 0..59)";
    return FALSE;
  }
  gint64 days = lathe_ts_days_from_civil(f->y, (int)f->mo, (int)f->d);
  gint64 sec = f->h * 3600 + f->mi * 60 + f->s - f->offset_s;
  /* An offset moves the instant at most a day either way. */
  while (sec < 0) {
    sec += 86400;
    days--;
  }
  while (sec >= 86400) {
    sec -= 86400;
    days++;
  }
  out->days = days;
  out->sec = (double)sec + f->frac;
  return TRUE;
}

static gboolean parse_iso(Cursor *c, Fields *f, const char **why) {
  *why = "expected ISO 8601 like 2014-07-01T00:30:00 or 2014-07-01 00:30:00Z";
  if (!digits(c, 4, 4, &f->y) || c->p >= c->end || *c->p++ != '-' || !digits(c, 2, 2, &f->mo) ||
      c->p >= c->end || *c->p++ != '-' || !digits(c, 2, 2, &f->d))
    return FALSE;
  if (c->p == c->end)
    return TRUE; /* a date alone is midnight */
  if (*c->p != 'T' && *c->p != 't' && *c->p != ' ')
    return FALSE;
  c->p++;
  if (!digits(c, 2, 2, &f->h) || c->p >= c->end || *c->p++ != ':' || !digits(c, 2, 2, &f->mi))
    return FALSE;
  if (c->p < c->end && *c->p == ':') {
    c->p++;
    if (!digits(c, 2, 2, &f->s))
      return FALSE;
    f->frac = fraction(c);
  }
  if (c->p < c->end && (*c->p == 'Z' || *c->p == 'z')) {
    c->p++;
  } else if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
    int sign = *c->p++ == '-' ? -1 : 1;
    gint64 oh, om = 0;
    if (!digits(c, 2, 2, &oh))
      return FALSE;
    if (c->p < c->end && *c->p == ':')
      c->p++;
    if (c->p < c->end && !digits(c, 2, 2, &om))
      return FALSE;
    if (oh > 23 || om > 59) {
      *why = "time-zone offset out of range";
      return FALSE;
    }
    f->offset_s = sign * (oh * 3600 + om * 60);
  }
  return c->p == c->end;
}

static gboolean parse_pattern(Cursor *c, const char *fmt, Fields *f, const char **why) {
  *why = "does not match the format";
  for (const char *q = fmt; *q; q++) {
    if (*q != '%' || q[1] == '%') {
      if (c->p >= c->end || *c->p != *q)
        return FALSE;
      c->p++;
      q += *q == '%';
      continue;
    }
    q++;
    gboolean ok;
    switch (*q) {
    case 'Y': ok = digits(c, 4, 4, &f->y); break;
    case 'm': ok = digits(c, 1, 2, &f->mo); break;
    case 'd': ok = digits(c, 1, 2, &f->d); break;
    case 'H': ok = digits(c, 1, 2, &f->h); break;
    case 'M': ok = digits(c, 1, 2, &f->mi); break;
    case 'S':
      ok = digits(c, 1, 2, &f->s);
      f->frac = ok ? fraction(c) : 0.0;
      break;
    default:
      *why = "the format uses a directive other than %Y %m %d %H %M %S %%";
      return FALSE;
    }
    if (!ok)
      return FALSE;
  }
  return c->p == c->end;
}

static gboolean parse_epoch(const char *text, gsize len, LatheTsTime *out, const char **why) {
  char buf[64];
  *why = "expected seconds since 1970-01-01 UTC";
  if (len == 0 || len >= sizeof buf)
    return FALSE;
  memcpy(buf, text, len);
  buf[len] = '\0';
  char *end;
  double v = g_ascii_strtod(buf, &end);
  if (*end || !isfinite(v) || fabs(v) > 1e15)
    return FALSE;
  double days = floor(v / 86400.0);
  out->days = (gint64)days;
  out->sec = v - days * 86400.0;
  return TRUE;
}

gboolean lathe_ts_parse(const char *text, gsize len, const char *format, LatheTsTime *out,
                        const char **why) {
  if (strcmp(format, "epoch") == 0)
    return parse_epoch(text, len, out, why);
  Cursor c = {text, text + len};
  Fields f = {.y = 1970, .mo = 1, .d = 1};
  gboolean ok = strcmp(format, "iso8601") == 0 ? parse_iso(&c, &f, why)
                                                : parse_pattern(&c, format, &f, why);
  return ok && finish(&f, out, why);
}

int lathe_ts_compare(const LatheTsTime *a, const LatheTsTime *b) {
  if (a->days != b->days)
    return a->days < b->days ? -1 : 1;
  return a->sec < b->sec ? -1 : a->sec > b->sec ? 1 : 0;
}
