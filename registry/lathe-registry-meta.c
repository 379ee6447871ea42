/* What a registered version records beside its bytes, computed by the host so
 * that every registry backend stores the same: the input signature (from the
 * model header) and the reference statistics of the training features (for
 * drift). docs/pipelines.md, "Registry nodes", describes both shapes. */
#include <math.h>
#include <string.h>

#include "lathe-registry.h"

/* Splits "CHANNEL@STEP"; FALSE when @col is not of that form. */
static gboolean split_step(const char *col, char **channel, guint64 *step) {
  const char *at = strrchr(col, '@');
  if (!at || at == col || !g_ascii_string_to_unsigned(at + 1, 10, 0, G_MAXUINT, step, NULL))
    return FALSE;
  *channel = g_strndup(col, (gsize)(at - col));
  return TRUE;
}

/* When @cols are the step-major columns of a sequence (C@0, D@0, C@1, D@1,
 * ...), its channels and step count; otherwise %NULL. A model's header
 * lists the flattened columns; thousands of "f3@t" names say no more than
 * one channel and a length. */
static GPtrArray *sequence_channels(JsonArray *cols, guint *seq_len) {
  guint n = json_array_get_length(cols);
  g_autoptr(GPtrArray) channels = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n; i++) {
    g_autofree char *ch = NULL;
    guint64 step = 0;
    if (!split_step(json_array_get_string_element(cols, i), &ch, &step))
      return NULL;
    if (step != 0)
      break;
    g_ptr_array_add(channels, g_steal_pointer(&ch));
  }
  guint c = channels->len;
  if (c == 0 || n % c != 0 || n / c < 2)
    return NULL;
  for (guint i = 0; i < n; i++) {
    g_autofree char *ch = NULL;
    guint64 step = 0;
    if (!split_step(json_array_get_string_element(cols, i), &ch, &step) || step != i / c ||
        strcmp(ch, channels->pdata[i % c]) != 0)
      return NULL;
  }
  *seq_len = n / c;
  return g_steal_pointer(&channels);
}

static JsonArray *string_array(JsonArray *from) {
  JsonArray *out = json_array_new();
  for (guint i = 0; from && i < json_array_get_length(from); i++) {
    const char *s = json_array_get_string_element(from, i);
    json_array_add_string_element(out, s ? s : "");
  }
  return out;
}

static JsonArray *member_array(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

JsonObject *lathe_registry_signature_from_header(JsonObject *header) {
  JsonArray *cols = member_array(header, "columns");
  JsonObject *sig = json_object_new();
  guint seq_len = 0;
  g_autoptr(GPtrArray) channels = cols ? sequence_channels(cols, &seq_len) : NULL;
  if (channels) {
    JsonArray *ch = json_array_new();
    for (guint i = 0; i < channels->len; i++)
      json_array_add_string_element(ch, channels->pdata[i]);
    json_object_set_array_member(sig, "channels", ch);
    json_object_set_int_member(sig, "seq_len", seq_len);
  } else {
    json_object_set_array_member(sig, "columns", string_array(cols));
  }
  /* Every feature Lathe passes to a model is a float32. */
  json_object_set_string_member(sig, "dtype", "float32");
  json_object_set_array_member(sig, "classes", string_array(member_array(header, "classes")));
  return sig;
}

static gboolean same_strings(JsonArray *a, JsonArray *b) {
  guint n = a ? json_array_get_length(a) : 0;
  if (n != (b ? json_array_get_length(b) : 0))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0(json_array_get_string_element(a, i), json_array_get_string_element(b, i)))
      return FALSE;
  return TRUE;
}

gboolean lathe_registry_signature_equal(JsonObject *a, JsonObject *b) {
  return same_strings(member_array(a, "columns"), member_array(b, "columns")) &&
         same_strings(member_array(a, "channels"), member_array(b, "channels")) &&
         json_object_get_int_member_with_default(a, "seq_len", 0) ==
             json_object_get_int_member_with_default(b, "seq_len", 0) &&
         g_strcmp0(json_object_get_string_member_with_default(a, "dtype", "float32"),
                   json_object_get_string_member_with_default(b, "dtype", "float32")) == 0;
}

/* "3 names: a, b, c" with at most a few names shown. */
static void append_names(GString *out, JsonArray *names) {
  guint n = names ? json_array_get_length(names) : 0;
  for (guint i = 0; i < n && i < 4; i++)
    g_string_append_printf(out, "%s%s", i ? ", " : "", json_array_get_string_element(names, i));
  if (n > 5)
    g_string_append_printf(out, ", ... (%u more)", n - 4);
  else if (n == 5)
    g_string_append_printf(out, ", %s", json_array_get_string_element(names, 4));
}

char *lathe_registry_signature_brief(JsonObject *sig) {
  GString *out = g_string_new(NULL);
  JsonArray *ch = member_array(sig, "channels");
  if (ch) {
    g_string_append_printf(out, "sequences of %" G_GINT64_FORMAT " steps x %u channels (",
                           json_object_get_int_member_with_default(sig, "seq_len", 0),
                           json_array_get_length(ch));
    append_names(out, ch);
  } else {
    JsonArray *cols = member_array(sig, "columns");
    g_string_append_printf(out, "%u columns (", cols ? json_array_get_length(cols) : 0);
    append_names(out, cols);
  }
  g_string_append_c(out, ')');
  return g_string_free(out, FALSE);
}

/* Histograms of the values of @d's feature @f: one column of a table, or a
 * channel over the valid steps of every sequence. */
typedef struct {
  double lo, hi;
  guint64 counts[LATHE_REGISTRY_REF_BINS];
  guint64 n, missing;
} Feature;

static void feature_pass(const LatheDataset *d, guint f, guint channels, Feature *ft,
                         gboolean fill) {
  for (guint r = 0; r < d->n_rows; r++) {
    guint steps = d->seq_len ? (d->lengths ? d->lengths[r] : d->seq_len) : 1;
    for (guint t = 0; t < steps; t++) {
      float v = d->x[(gsize)r * d->n_cols + (gsize)t * channels + f];
      if (!isfinite(v)) {
        ft->missing += !fill;
        continue;
      }
      if (!fill) {
        ft->lo = ft->n ? MIN(ft->lo, v) : v;
        ft->hi = ft->n ? MAX(ft->hi, v) : v;
        ft->n++;
        continue;
      }
      double w = (ft->hi - ft->lo) / LATHE_REGISTRY_REF_BINS;
      gint64 b = w > 0 ? (gint64)floor((v - ft->lo) / w) : 0;
      ft->counts[CLAMP(b, 0, LATHE_REGISTRY_REF_BINS - 1)]++;
    }
  }
}

JsonObject *lathe_registry_reference_stats(const LatheDataset *d) {
  guint channels = d->seq_len ? d->n_cols / d->seq_len : d->n_cols;
  JsonObject *out = json_object_new();
  json_object_set_int_member(out, "bins", LATHE_REGISTRY_REF_BINS);
  json_object_set_int_member(out, "n_rows", d->n_rows);
  if (d->seq_len)
    json_object_set_int_member(out, "seq_len", d->seq_len);
  JsonArray *features = json_array_new();
  for (guint f = 0; f < channels; f++) {
    Feature ft = {0};
    feature_pass(d, f, channels, &ft, FALSE);
    feature_pass(d, f, channels, &ft, TRUE);
    JsonObject *o = json_object_new();
    const char *col = d->columns[f];
    g_autofree char *channel = NULL;
    guint64 step = 0;
    json_object_set_string_member(o, "name", d->seq_len && split_step(col, &channel, &step)
                                                 ? channel : col);
    json_object_set_double_member(o, "min", ft.n ? ft.lo : 0);
    json_object_set_double_member(o, "max", ft.n ? ft.hi : 0);
    JsonArray *counts = json_array_new();
    for (guint b = 0; b < LATHE_REGISTRY_REF_BINS; b++)
      json_array_add_int_element(counts, (gint64)ft.counts[b]);
    json_object_set_array_member(o, "counts", counts);
    json_object_set_int_member(o, "missing", (gint64)ft.missing);
    json_array_add_object_element(features, o);
  }
  json_object_set_array_member(out, "features", features);
  if (d->labels) {
    g_autofree guint64 *per = g_new0(guint64, d->n_classes + 1);
    for (guint r = 0; r < d->n_rows; r++)
      if (d->labels[r] >= 0 && (guint)d->labels[r] < d->n_classes)
        per[d->labels[r]]++;
    JsonObject *classes = json_object_new();
    for (guint c = 0; c < d->n_classes; c++)
      json_object_set_int_member(classes, d->classes[c], (gint64)per[c]);
    json_object_set_object_member(out, "classes", classes);
  }
  return out;
}
