/* tuner-history.c: the trials of a study, asked and told, for the samplers. */
#include "tune-history.h"

#include <math.h>
#include <string.h>

#include "tune-random.h"

typedef struct {
  guint number;
  double *x;
  LatheTuneState state;
  double *values; /* NULL while pending */
  guint n_values;
} Entry;

static void entry_clear(Entry *e) {
  g_free(e->x);
  g_free(e->values);
}

LatheTunerHistory *lathe_tuner_history_new(LatheContext *ctx, const char *component,
                                           const LatheSearchSpace *space, GError **error) {
  const char *node = lathe_context_node_id(ctx);
  GError *lerr = NULL;
  LatheTuneSpaceJson *sj = lathe_tune_space_json_new(space, &lerr);
  if (!sj) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "node '%s': %s: param 'space': %s", node,
                component, lerr->message);
    g_error_free(lerr);
    return NULL;
  }
  if (!lathe_tune_check_space(&sj->space, &lerr)) {
    /* The library numbers dimensions; name the one at fault when it is a
     * dimension on its own. */
    const char *dim = NULL;
    for (guint i = 0; i < sj->space.n_dims && !dim; i++) {
      LatheTuneDim one = sj->space.dims[i];
      one.parent = -1;
      LatheTuneSpace alone = {1, &one};
      if (!lathe_tune_check_space(&alone, NULL))
        dim = sj->names[i];
    }
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "node '%s': %s: param 'space'%s%s: %s",
                node, component, dim ? ": " : "", dim ? dim : "", lerr->message);
    g_error_free(lerr);
    lathe_tune_space_json_free(sj);
    return NULL;
  }
  LatheTunerHistory *h = g_new0(LatheTunerHistory, 1);
  h->ctx = ctx;
  h->component = component;
  h->sj = sj;
  h->seed = lathe_context_seed(ctx);
  h->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
  g_array_set_clear_func(h->entries, (GDestroyNotify)entry_clear);
  return h;
}

void lathe_tuner_history_free(LatheTunerHistory *h) {
  if (!h)
    return;
  g_array_unref(h->entries);
  lathe_tune_space_json_free(h->sj);
  g_free(h);
}

/* The index of trial @number, or where it would go (with *found FALSE). */
static guint find(const LatheTunerHistory *h, guint number, gboolean *found) {
  guint lo = 0, hi = h->entries->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    guint m = g_array_index(h->entries, Entry, mid).number;
    if (m == number) {
      *found = TRUE;
      return mid;
    }
    if (m < number)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = FALSE;
  return lo;
}

gboolean lathe_tuner_history_begin_ask(LatheTunerHistory *h, guint trial, LatheTuneTrial **view,
                                       guint *n, GError **error) {
  gboolean found;
  guint at = find(h, trial, &found);
  if (found) {
    if (g_array_index(h->entries, Entry, at).state != LATHE_TUNE_PENDING) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "node '%s': %s: trial %u was already told; the host asks each trial number once",
                  lathe_context_node_id(h->ctx), h->component, trial);
      return FALSE;
    }
    g_array_remove_index(h->entries, at);
  }
  *n = h->entries->len;
  *view = g_new0(LatheTuneTrial, MAX(*n, 1));
  for (guint i = 0; i < *n; i++) {
    const Entry *e = &g_array_index(h->entries, Entry, i);
    (*view)[i].x = e->x;
    (*view)[i].state = e->state;
    (*view)[i].value = e->values ? e->values[0] : NAN;
  }
  return TRUE;
}

/* Inserts or replaces trial @number; returns its entry. */
static Entry *put(LatheTunerHistory *h, guint number) {
  gboolean found;
  guint at = find(h, number, &found);
  if (found) {
    Entry *e = &g_array_index(h->entries, Entry, at);
    entry_clear(e);
    memset(e, 0, sizeof *e);
    e->number = number;
    return e;
  }
  Entry fresh = {.number = number};
  g_array_insert_val(h->entries, at, fresh);
  return &g_array_index(h->entries, Entry, at);
}

JsonObject *lathe_tuner_history_add_pending(LatheTunerHistory *h, guint trial, const double *x) {
  Entry *e = put(h, trial);
  e->x = g_memdup2(x, h->sj->space.n_dims * sizeof(double));
  e->state = LATHE_TUNE_PENDING;
  return lathe_tune_space_json_point(h->sj, x);
}

/* Reads a point from another run into @x, in the form the samplers
 * propose: inactive dimensions NAN, integers and steps on their grid.
 * Returns a reason when it does not belong to the space, else NULL. */
static const char *read_point(const LatheTunerHistory *h, JsonObject *point, double *x) {
  const LatheTuneSpace *sp = &h->sj->space;
  if (!point || !lathe_tune_space_json_parse(h->sj, point, x))
    return "a value is not in the space";
  for (guint i = 0; i < sp->n_dims; i++) {
    const LatheTuneDim *d = &sp->dims[i];
    if (!lathe_tune_space_active(sp, x, i)) {
      x[i] = NAN; /* the node kept its default: not part of the point */
      continue;
    }
    if (isnan(x[i]))
      return "an active dimension has no value";
    if (d->kind == LATHE_TUNE_CATEGORICAL)
      continue;
    double step = d->step > 0 ? d->step : d->kind == LATHE_TUNE_INT ? 1 : 0;
    if (step > 0) {
      double k = round((x[i] - d->lo) / step);
      if (fabs(x[i] - (d->lo + k * step)) > 1e-9 * MAX(1.0, fabs(x[i])))
        return "a value is off its grid";
      x[i] = MIN(d->lo + k * step, d->hi);
    }
  }
  return NULL;
}

void lathe_tuner_history_tell(LatheTunerHistory *h, guint trial, JsonObject *point,
                              const double *values, guint n_values, LatheTrialState state) {
  guint D = h->sj->space.n_dims;
  gboolean found;
  guint at = find(h, trial, &found);
  double *x;
  if (found) {
    /* Ours, or told before: keep the point as proposed (or as first read). */
    x = g_array_index(h->entries, Entry, at).x;
    g_array_index(h->entries, Entry, at).x = NULL;
  } else {
    x = g_new(double, MAX(D, 1));
    const char *why = read_point(h, point, x);
    if (why) {
      g_autoptr(JsonNode) node = point ? json_node_init_object(json_node_alloc(), point) : NULL;
      g_autofree char *text = node ? lathe_json_write(node, FALSE) : g_strdup("null");
      lathe_context_log(h->ctx, G_LOG_LEVEL_WARNING,
                        "%s: trial %u ignored: its point %s does not fit the search space (%s)",
                        h->component, trial, text, why);
      g_free(x);
      return;
    }
  }
  LatheTuneState st;
  switch (state) {
  case LATHE_TRIAL_COMPLETE: st = LATHE_TUNE_COMPLETE; break;
  case LATHE_TRIAL_PRUNED: st = LATHE_TUNE_PRUNED; break;
  case LATHE_TRIAL_FAILED: st = LATHE_TUNE_FAILED; break;
  default:
    lathe_context_log(h->ctx, G_LOG_LEVEL_WARNING, "%s: trial %u told with unknown state %d; "
                      "counted as failed", h->component, trial, (int)state);
    st = LATHE_TUNE_FAILED;
  }
  n_values = values ? MAX(n_values, 1) : 1;
  double *v = g_new(double, n_values);
  gboolean finite = TRUE;
  for (guint k = 0; k < n_values; k++) {
    v[k] = values ? values[k] : NAN;
    finite = finite && isfinite(v[k]);
  }
  /* A complete trial without a usable objective teaches what a failure does. */
  if (st == LATHE_TUNE_COMPLETE && !finite)
    st = LATHE_TUNE_FAILED;
  Entry *e = put(h, trial);
  e->x = x;
  e->state = st;
  e->values = v;
  e->n_values = n_values;
}

guint lathe_tuner_history_len(const LatheTunerHistory *h) {
  return h->entries->len;
}

const double *lathe_tuner_history_values(const LatheTunerHistory *h, guint i, guint *n_values) {
  const Entry *e = &g_array_index(h->entries, Entry, i);
  *n_values = e->n_values;
  return e->values;
}

guint lathe_tuner_history_number(const LatheTunerHistory *h, guint i) {
  return g_array_index(h->entries, Entry, i).number;
}

gboolean lathe_tuner_history_same_point(const LatheTunerHistory *h, const double *a,
                                        const double *b) {
  const LatheTuneSpace *sp = &h->sj->space;
  for (guint i = 0; i < sp->n_dims; i++) {
    if (isnan(a[i]) || isnan(b[i])) {
      if (isnan(a[i]) != isnan(b[i]))
        return FALSE;
      continue;
    }
    const LatheTuneDim *d = &sp->dims[i];
    double step = d->kind == LATHE_TUNE_CATEGORICAL ? 1
                  : d->step > 0                      ? d->step
                  : d->kind == LATHE_TUNE_INT        ? 1
                                                     : 0;
    if (step > 0 ? llround((a[i] - d->lo) / step) != llround((b[i] - d->lo) / step) : a[i] != b[i])
      return FALSE;
  }
  return TRUE;
}

void lathe_tuner_history_tell_cb(gpointer tuner, guint trial, JsonObject *point, double value,
                                 LatheTrialState state) {
  lathe_tuner_history_tell(*(LatheTunerHistory **)tuner, trial, point, &value, 1, state);
}

void lathe_tuner_history_tell_multi_cb(gpointer tuner, guint trial, JsonObject *point,
                                       const double *values, guint n_values, LatheTrialState state) {
  lathe_tuner_history_tell(*(LatheTunerHistory **)tuner, trial, point, values, n_values, state);
}

gboolean lathe_tuner_history_fail(LatheTunerHistory *h, GError **error, GError *lerr) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "node '%s': %s: %s",
              lathe_context_node_id(h->ctx), h->component, lerr->message);
  g_error_free(lerr);
  return FALSE;
}
