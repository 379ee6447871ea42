/* serve-drift.c: PSI of a served version's recent requests against its
 * training features (serve-drift.h says how). Observing a row costs one bin
 * lookup a value; the window stores each value's bin (a byte), so a row
 * leaving the window is subtracted exactly, with no recount. */
#include <math.h>
#include <string.h>

#include "serve/serve-drift.h"

/* Evidently's share for an empty bin. */
#define EMPTY_SHARE 0.0001
#define NO_BIN 0xff

typedef struct {
  char *name;
  double lo, width;
  double *ref;       /* shares per bin, empty ones at EMPTY_SHARE */
  guint64 *cur;      /* the window's counts per bin */
  guint64 cur_total; /* finite values in the window */
} Feature;

struct _LatheServeDrift {
  guint bins, channels, steps, n_cols;
  Feature *features;
  guint n_features;
  guint window, min_rows;
  guint8 *ring;      /* window x n_cols bins */
  gint *ring_class;  /* window predicted classes (-1: none) */
  guint head, rows;  /* the next slot; rows held */
  guint n_classes;
  char **class_names;
  double *class_ref;
  guint64 *class_cur;
  guint64 class_total;
};

static void shares(double *out, const guint64 *counts, guint n, guint64 total) {
  for (guint b = 0; b < n; b++) {
    double s = total ? (double)counts[b] / (double)total : 0;
    out[b] = s > 0 ? s : EMPTY_SHARE;
  }
}

static double psi(const double *ref, const guint64 *cur, guint n, guint64 total) {
  double sum = 0;
  for (guint b = 0; b < n; b++) {
    double c = total ? (double)cur[b] / (double)total : 0;
    if (c <= 0)
      c = EMPTY_SHARE;
    sum += (c - ref[b]) * log(c / ref[b]);
  }
  return sum;
}

static gboolean read_feature(JsonObject *o, guint bins, Feature *f) {
  JsonArray *counts = json_object_has_member(o, "counts") ? json_object_get_array_member(o, "counts") : NULL;
  if (!counts || json_array_get_length(counts) != bins || !json_object_has_member(o, "min") ||
      !json_object_has_member(o, "max"))
    return FALSE;
  double lo = json_object_get_double_member(o, "min"), hi = json_object_get_double_member(o, "max");
  if (!isfinite(lo) || !isfinite(hi) || hi < lo)
    return FALSE;
  g_autofree guint64 *c = g_new0(guint64, bins);
  guint64 total = 0;
  for (guint b = 0; b < bins; b++) {
    gint64 v = json_array_get_int_element(counts, b);
    c[b] = v > 0 ? (guint64)v : 0;
    total += c[b];
  }
  if (!total)
    return FALSE;
  f->name = g_strdup(json_object_get_string_member_with_default(o, "name", "?"));
  f->lo = lo;
  f->width = (hi - lo) / bins;
  f->ref = g_new(double, bins);
  shares(f->ref, c, bins, total);
  f->cur = g_new0(guint64, bins);
  return TRUE;
}

static void read_classes(LatheServeDrift *d, JsonObject *classes) {
  g_autoptr(GList) names = json_object_get_members(classes);
  guint n = g_list_length(names);
  if (!n || n >= 65536)
    return;
  g_autofree guint64 *c = g_new0(guint64, n);
  guint64 total = 0;
  d->class_names = g_new0(char *, n + 1);
  guint i = 0;
  for (GList *l = names; l; l = l->next, i++) {
    gint64 v = json_object_get_int_member(classes, l->data);
    c[i] = v > 0 ? (guint64)v : 0;
    total += c[i];
    d->class_names[i] = g_strdup(l->data);
  }
  d->n_classes = n;
  d->class_ref = g_new(double, n);
  shares(d->class_ref, c, n, total);
  d->class_cur = g_new0(guint64, n);
}

LatheServeDrift *lathe_serve_drift_new(JsonObject *ref, guint n_cols, guint window,
                                       guint min_rows) {
  if (!ref || !n_cols || !window || !json_object_has_member(ref, "features"))
    return NULL;
  gint64 bins = json_object_get_int_member_with_default(ref, "bins", 0);
  JsonArray *fs = json_object_get_array_member(ref, "features");
  guint nf = fs ? json_array_get_length(fs) : 0;
  if (bins < 1 || bins >= NO_BIN || !nf || n_cols % nf)
    return NULL;
  gint64 seq = json_object_get_int_member_with_default(ref, "seq_len", 0);
  if ((seq && (guint64)seq * nf != n_cols) || (!seq && nf != n_cols))
    return NULL;
  g_autoptr(LatheServeDrift) d = g_new0(LatheServeDrift, 1);
  d->bins = (guint)bins;
  d->channels = nf;
  d->steps = n_cols / nf;
  d->n_cols = n_cols;
  d->features = g_new0(Feature, nf);
  for (guint f = 0; f < nf; f++, d->n_features++)
    if (!read_feature(json_array_get_object_element(fs, f), d->bins, &d->features[f]))
      return NULL;
  d->window = window;
  d->min_rows = MAX(min_rows, 1);
  d->ring = g_malloc((gsize)window * n_cols);
  d->ring_class = g_new(gint, window);
  if (json_object_has_member(ref, "classes") &&
      JSON_NODE_HOLDS_OBJECT(json_object_get_member(ref, "classes")))
    read_classes(d, json_object_get_object_member(ref, "classes"));
  return g_steal_pointer(&d);
}

void lathe_serve_drift_free(LatheServeDrift *d) {
  if (!d)
    return;
  for (guint f = 0; f < d->n_features; f++) {
    g_free(d->features[f].name);
    g_free(d->features[f].ref);
    g_free(d->features[f].cur);
  }
  g_free(d->features);
  g_free(d->ring);
  g_free(d->ring_class);
  g_strfreev(d->class_names);
  g_free(d->class_ref);
  g_free(d->class_cur);
  g_free(d);
}

static guint8 bin_of(const LatheServeDrift *d, const Feature *f, float v) {
  if (!isfinite(v))
    return NO_BIN;
  gint64 b = f->width > 0 ? (gint64)floor((v - f->lo) / f->width) : 0;
  return (guint8)CLAMP(b, 0, (gint64)d->bins - 1);
}

/* Adds (+1) or removes (-1) the row in @slot from the window's counts. */
static void account(LatheServeDrift *d, guint slot, int sign) {
  const guint8 *row = d->ring + (gsize)slot * d->n_cols;
  for (guint i = 0; i < d->n_cols; i++) {
    if (row[i] == NO_BIN)
      continue;
    Feature *f = &d->features[i % d->channels];
    f->cur[row[i]] += (guint64)sign;
    f->cur_total += (guint64)sign;
  }
  gint c = d->ring_class[slot];
  if (c >= 0 && (guint)c < d->n_classes) {
    d->class_cur[c] += (guint64)sign;
    d->class_total += (guint64)sign;
  }
}

void lathe_serve_drift_observe(LatheServeDrift *d, const float *x, guint n_rows,
                               const gint *classes) {
  if (!d)
    return;
  for (guint r = 0; r < n_rows; r++) {
    guint slot = d->head;
    if (d->rows == d->window)
      account(d, slot, -1); /* the oldest row leaves */
    else
      d->rows++;
    guint8 *row = d->ring + (gsize)slot * d->n_cols;
    const float *in = x + (gsize)r * d->n_cols;
    /* A sequence's step t of channel c sits at t * channels + c (row-major
     * steps), the layout lathe_registry_reference_stats reads. */
    for (guint i = 0; i < d->n_cols; i++)
      row[i] = bin_of(d, &d->features[i % d->channels], in[i]);
    d->ring_class[slot] = classes ? classes[r] : -1;
    account(d, slot, +1);
    d->head = (slot + 1) % d->window;
  }
}

guint lathe_serve_drift_n_features(const LatheServeDrift *d) { return d ? d->n_features : 0; }

const char *lathe_serve_drift_feature_name(const LatheServeDrift *d, guint f) {
  return d && f < d->n_features ? d->features[f].name : NULL;
}

guint lathe_serve_drift_rows(const LatheServeDrift *d) { return d ? d->rows : 0; }

gint lathe_serve_drift_class_index(const LatheServeDrift *d, const char *name) {
  for (guint c = 0; d && name && c < d->n_classes; c++)
    if (g_str_equal(d->class_names[c], name))
      return (gint)c;
  return -1;
}

double lathe_serve_drift_feature_psi(const LatheServeDrift *d, guint f) {
  if (!d || f >= d->n_features || d->rows < d->min_rows || !d->features[f].cur_total)
    return NAN;
  const Feature *ft = &d->features[f];
  return psi(ft->ref, ft->cur, d->bins, ft->cur_total);
}

double lathe_serve_drift_psi(const LatheServeDrift *d) {
  double sum = 0;
  guint n = 0;
  for (guint f = 0; d && f < d->n_features; f++) {
    double p = lathe_serve_drift_feature_psi(d, f);
    if (isfinite(p)) {
      sum += p;
      n++;
    }
  }
  return n ? sum / n : NAN;
}

double lathe_serve_drift_psi_max(const LatheServeDrift *d) {
  double m = NAN;
  for (guint f = 0; d && f < d->n_features; f++) {
    double p = lathe_serve_drift_feature_psi(d, f);
    if (isfinite(p) && !(p <= m))
      m = p;
  }
  return m;
}

double lathe_serve_drift_prediction_psi(const LatheServeDrift *d) {
  if (!d || !d->n_classes || d->rows < d->min_rows || !d->class_total)
    return NAN;
  return psi(d->class_ref, d->class_cur, d->n_classes, d->class_total);
}

static void set_number(JsonObject *o, const char *key, double v) {
  if (isfinite(v))
    json_object_set_double_member(o, key, v);
  else
    json_object_set_null_member(o, key);
}

static JsonArray *share_array(const double *ref, const guint64 *cur, guint n, guint64 total) {
  JsonArray *a = json_array_new();
  for (guint b = 0; b < n; b++)
    json_array_add_double_element(a, ref ? ref[b] : total ? (double)cur[b] / (double)total : 0);
  return a;
}

JsonObject *lathe_serve_drift_to_json(const LatheServeDrift *d) {
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "window", d->window);
  json_object_set_int_member(o, "rows", d->rows);
  json_object_set_int_member(o, "min_rows", d->min_rows);
  json_object_set_int_member(o, "bins", d->bins);
  set_number(o, "psi", lathe_serve_drift_psi(d));
  set_number(o, "psi_max", lathe_serve_drift_psi_max(d));
  JsonArray *fa = json_array_new();
  for (guint f = 0; f < d->n_features; f++) {
    const Feature *ft = &d->features[f];
    JsonObject *fo = json_object_new();
    json_object_set_string_member(fo, "name", ft->name);
    set_number(fo, "psi", lathe_serve_drift_feature_psi(d, f));
    JsonArray *edges = json_array_new();
    for (guint b = 0; b <= d->bins; b++)
      json_array_add_double_element(edges, ft->lo + ft->width * b);
    json_object_set_array_member(fo, "edges", edges);
    json_object_set_array_member(fo, "reference", share_array(ft->ref, NULL, d->bins, 0));
    json_object_set_array_member(fo, "current", share_array(NULL, ft->cur, d->bins, ft->cur_total));
    json_array_add_object_element(fa, fo);
  }
  json_object_set_array_member(o, "features", fa);
  if (d->n_classes) {
    JsonObject *po = json_object_new();
    set_number(po, "psi", lathe_serve_drift_prediction_psi(d));
    JsonArray *names = json_array_new();
    for (guint c = 0; c < d->n_classes; c++)
      json_array_add_string_element(names, d->class_names[c]);
    json_object_set_array_member(po, "classes", names);
    json_object_set_array_member(po, "reference", share_array(d->class_ref, NULL, d->n_classes, 0));
    json_object_set_array_member(po, "current", share_array(NULL, d->class_cur, d->n_classes, d->class_total));
    json_object_set_object_member(o, "predictions", po);
  }
  return o;
}
