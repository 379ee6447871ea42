/* Datasets to batches. The checks run once per fit or predict over the whole
 * data, so training never meets a label or a value it cannot use. */
#include <math.h>
#include <string.h>

#include "nn-data.h"

gboolean lathe_nn_data_shape(const LatheDataset *ds, const char *who, LatheNnShape *shape,
                             GError **error) {
  if (ds->n_cols == 0 || (ds->seq_len > 0 && ds->n_cols % ds->seq_len != 0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the data has %u columns%s; give the model at least one feature", who,
                ds->n_cols,
                ds->seq_len > 0 ? " that are not whole steps of its sequences" : "");
    return FALSE;
  }
  if (ds->seq_len == 0)
    *shape = (LatheNnShape){1, ds->n_cols};
  else
    *shape = (LatheNnShape){ds->seq_len, lathe_dataset_channels(ds)};
  return TRUE;
}

gboolean lathe_nn_data_check(const LatheDataset *ds, const char *who, const char *what,
                             gboolean labelled, GError **error) {
  if (labelled && !ds->labels) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the %s data has no labels; give the source a label column", who, what);
    return FALSE;
  }
  if (labelled && ds->n_rows == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s: the %s data has no rows", who, what);
    return FALSE;
  }
  for (guint r = 0; labelled && r < ds->n_rows; r++) {
    gint32 y = ds->labels[r];
    if (y < 0 || (guint)y >= ds->n_classes) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: %s row %u has no valid label (%d); drop unlabelled rows before the "
                  "model",
                  who, what, r, y);
      return FALSE;
    }
  }
  const gsize total = (gsize)ds->n_rows * ds->n_cols;
  for (gsize i = 0; i < total; i++) {
    if (!isfinite(ds->x[i])) {
      guint r = (guint)(i / ds->n_cols), c = (guint)(i % ds->n_cols);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: %s row %u, column '%s' is %g; impute or drop non-finite values before "
                  "the model",
                  who, what, r, ds->columns ? ds->columns[c] : "?", (double)ds->x[i]);
      return FALSE;
    }
  }
  for (guint r = 0; ds->seq_len > 0 && ds->lengths && r < ds->n_rows; r++) {
    if (ds->lengths[r] < 1 || ds->lengths[r] > ds->seq_len) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: %s row %u has length %u, outside 1..%u (the sequence length)", who,
                  what, r, ds->lengths[r], ds->seq_len);
      return FALSE;
    }
  }
  return TRUE;
}

/* The split's units: a group, or a row that has none. */
typedef struct {
  guint first; /* index of its first row in the by-unit row order */
  guint n;
} Unit;

void lathe_nn_data_split(const LatheDataset *ds, double fraction, LatheRng *rng,
                         GArray **train, GArray **valid) {
  const guint n = ds->n_rows, k = ds->n_classes;
  *train = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
  *valid = g_array_new(FALSE, FALSE, sizeof(guint32));
  /* Rows sorted by unit: groups first (in group order), then group-less rows. */
  const guint ng = ds->groups ? ds->n_groups : 0;
  guint *group_n = g_new0(guint, ng + 1);
  for (guint r = 0; r < n; r++) {
    gint32 g = ds->groups ? ds->groups[r] : -1;
    if (g >= 0 && (guint)g < ng)
      group_n[g]++;
  }
  GArray *units = g_array_new(FALSE, FALSE, sizeof(Unit));
  guint *group_unit = g_new(guint, ng + 1), *fill = g_new0(guint, ng + 1);
  guint pos = 0;
  for (guint g = 0; g < ng; g++) {
    if (group_n[g] == 0)
      continue;
    group_unit[g] = units->len;
    g_array_append_val(units, ((Unit){pos, group_n[g]}));
    pos += group_n[g];
  }
  guint32 *order = g_new(guint32, n + 1);
  for (guint r = 0; r < n; r++) {
    gint32 g = ds->groups ? ds->groups[r] : -1;
    if (g >= 0 && (guint)g < ng) {
      Unit *u = &g_array_index(units, Unit, group_unit[g]);
      order[u->first + fill[g]++] = r;
    } else {
      g_array_append_val(units, ((Unit){pos, 1}));
      order[pos++] = r;
    }
  }

  double *target = g_new0(double, k + 1);
  guint *count = g_new0(guint, k + 1), *held = g_new0(guint, k + 1), *ucount = g_new0(guint, k + 1);
  for (guint r = 0; r < n; r++)
    count[ds->labels[r]]++;
  for (guint c = 0; c < k; c++)
    target[c] = fraction * count[c];
  guint32 *visit = g_new(guint32, units->len + 1);
  for (guint i = 0; i < units->len; i++)
    visit[i] = i;
  lathe_rng_shuffle(rng, visit, units->len);
  gboolean *out = g_new0(gboolean, units->len + 1);
  for (guint i = 0; i < units->len && fraction > 0.0; i++) {
    const Unit *u = &g_array_index(units, Unit, visit[i]);
    memset(ucount, 0, k * sizeof(guint));
    for (guint j = 0; j < u->n; j++)
      ucount[ds->labels[order[u->first + j]]]++;
    double gain = 0.0;
    gboolean starves = FALSE;
    for (guint c = 0; c < k; c++) {
      if (ucount[c] == 0)
        continue;
      gain += fabs(held[c] - target[c]) - fabs(held[c] + ucount[c] - target[c]);
      if (held[c] + ucount[c] >= count[c])
        starves = TRUE;
    }
    if (gain > 1e-9 && !starves) {
      out[visit[i]] = TRUE;
      for (guint c = 0; c < k; c++)
        held[c] += ucount[c];
    }
  }
  gboolean *is_valid = g_new0(gboolean, n + 1);
  for (guint i = 0; i < units->len; i++) {
    const Unit *u = &g_array_index(units, Unit, i);
    for (guint j = 0; j < u->n && out[i]; j++)
      is_valid[order[u->first + j]] = TRUE;
  }
  for (guint32 r = 0; r < n; r++)
    g_array_append_val(is_valid[r] ? *valid : *train, r);

  g_free(is_valid);
  g_free(out);
  g_free(visit);
  g_free(target);
  g_free(count);
  g_free(held);
  g_free(ucount);
  g_free(order);
  g_free(group_unit);
  g_free(fill);
  g_free(group_n);
  g_array_free(units, TRUE);
}

double *lathe_nn_class_weights(const LatheDataset *ds, const guint32 *rows, guint n,
                               gboolean balanced) {
  const guint k = ds->n_classes;
  double *w = g_new(double, k + 1);
  for (guint c = 0; c < k; c++)
    w[c] = 1.0;
  if (!balanced)
    return w;
  guint *count = g_new0(guint, k + 1);
  for (guint i = 0; i < n; i++)
    count[ds->labels[rows[i]]]++;
  for (guint c = 0; c < k; c++)
    w[c] = count[c] > 0 ? (double)n / ((double)k * count[c]) : 0.0;
  g_free(count);
  return w;
}

void lathe_nn_gather(const LatheDataset *ds, const guint32 *rows, guint n, nn_real *x,
                     guint32 *len, gint32 *labels) {
  const gsize d = ds->n_cols;
  const guint steps = ds->seq_len > 0 ? ds->seq_len : 1;
  for (guint i = 0; i < n; i++) {
    const guint32 r = rows[i];
    const float *src = ds->x + (gsize)r * d;
    nn_real *dst = x + (gsize)i * d;
#ifdef LATHE_NN_DOUBLE
    for (gsize j = 0; j < d; j++)
      dst[j] = src[j];
#else
    memcpy(dst, src, d * sizeof(float));
#endif
    len[i] = ds->seq_len > 0 && ds->lengths ? ds->lengths[r] : steps;
    if (labels)
      labels[i] = ds->labels[r];
  }
}
