/* log_batch for MLflow: what MLflow would refuse or change is said once and
 * skipped or adjusted; the rest goes in requests within MLflow's limits. */
#include <math.h>
#include <string.h>

#include "tracker-mlflow.h"

typedef struct {
  char *key;
  char *value;
} Kv;

static void kv_free(gpointer p) {
  Kv *kv = p;
  g_free(kv->key);
  g_free(kv->value);
  g_free(kv);
}

/* MLflow's key rule (_validate_param_name and friends): at most 250
 * characters of Python's \w, '/', '.', '-' and ' ', and a name that
 * posixpath.normpath() leaves unchanged, so it can be a file name. */
static const char *key_problem(const char *key) {
  if (!key || !*key)
    return "it is empty";
  if (!g_utf8_validate(key, -1, NULL))
    return "it is not UTF-8";
  if (g_utf8_strlen(key, -1) > TM_MAX_KEY)
    return "it is longer than MLflow's 250 characters";
  for (const char *p = key; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (!(g_unichar_isalnum(c) || c == '_' || c == '/' || c == '.' || c == '-' || c == ' '))
      return "MLflow allows only alphanumerics, '_', '-', '.', ' ' and '/' in keys";
  }
  if (key[0] == '/' || g_str_has_suffix(key, "/") || strstr(key, "//"))
    return "MLflow refuses a leading, trailing or doubled '/' in keys";
  g_auto(GStrv) segs = g_strsplit(key, "/", -1);
  for (char **s = segs; *s; s++)
    if (g_str_equal(*s, ".") || g_str_equal(*s, ".."))
      return "MLflow refuses '.' and '..' segments in keys";
  return NULL;
}

/* @value cut to @max characters, valid UTF-8; says so once when it was cut. */
static char *fit_value(TmTracker *t, const char *kind, const char *key, const char *value,
                       glong max) {
  char *v = g_utf8_make_valid(value ? value : "", -1);
  glong n = g_utf8_strlen(v, -1);
  if (n <= max)
    return v;
  *g_utf8_offset_to_pointer(v, max) = '\0';
  g_autofree char *what = g_strdup_printf("long-%s:%s", kind, key);
  tm_say_once(t, what,
              "%s '%s' is %ld characters long; MLflow keeps at most %ld: it gets the first %ld, "
              "the Lathe store keeps the whole value",
              kind, key, n, max, max);
  return v;
}

static gboolean key_ok(TmTracker *t, const char *kind, const char *key) {
  const char *why = key_problem(key);
  if (!why)
    return TRUE;
  g_autofree char *what = g_strdup_printf("bad-key:%s:%s", kind, key ? key : "");
  tm_say_once(t, what, "%s '%s' is not sent to MLflow: %s; the Lathe store keeps it", kind,
              key ? key : "", why);
  return FALSE;
}

/* JSON length of @s as a string, counted high: json-glib may write a
 * non-ASCII character as \uXXXX, 3 bytes per byte at worst. */
static gsize json_len(const char *s) {
  gsize n = 2;
  for (const guchar *p = (const guchar *)s; *p; p++)
    n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : *p >= 0x80 ? 3 : 1;
  return n;
}

#define ITEM_OVERHEAD 24   /* {"key":,"value":}, */
#define METRIC_OVERHEAD 96 /* {"key":,"value":-1.2345678901234567e+308,"timestamp":..,"step":..}, */

typedef struct {
  GPtrArray *params; /* Kv */
  GPtrArray *tags;   /* Kv */
  GPtrArray *metrics; /* const LatheTrackerMetric* */
} Prepared;

/* The body is written straight into one buffer: a log-batch of 1000 points
 * through JsonBuilder and JsonGenerator cost more than the rest of shipping
 * it. Strings are valid UTF-8 here (key_ok, fit_value; run ids are ASCII). */
static void put_string(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    guchar c = (guchar)*p;
    if (c == '"' || c == '\\') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, (char)c);
    } else if (c < 0x20) {
      g_string_append_printf(out, "\\u%04x", c);
    } else {
      g_string_append_c(out, (char)c);
    }
  }
  g_string_append_c(out, '"');
}

static void put_items(GString *out, const char *name, GPtrArray *items, guint from, guint n) {
  if (!n)
    return;
  g_string_append_printf(out, ",\"%s\":[", name);
  for (guint i = from; i < from + n; i++) {
    Kv *kv = items->pdata[i];
    g_string_append(out, i > from ? ",{\"key\":" : "{\"key\":");
    put_string(out, kv->key);
    g_string_append(out, ",\"value\":");
    put_string(out, kv->value);
    g_string_append_c(out, '}');
  }
  g_string_append_c(out, ']');
}

static void put_metrics(GString *out, GPtrArray *metrics, guint from, guint n) {
  if (!n)
    return;
  g_string_append(out, ",\"metrics\":[");
  char num[G_ASCII_DTOSTR_BUF_SIZE];
  for (guint i = from; i < from + n; i++) {
    const LatheTrackerMetric *m = metrics->pdata[i];
    g_string_append(out, i > from ? ",{\"key\":" : "{\"key\":");
    put_string(out, m->key);
    g_string_append(out, ",\"value\":");
    /* protobuf's JSON mapping, as MLflow's own client sends them; finite
     * values as json-glib writes them (%.17g: exact). */
    if (isnan(m->value))
      g_string_append(out, "\"NaN\"");
    else if (isinf(m->value))
      g_string_append(out, m->value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
      g_string_append(out, g_ascii_dtostr(num, sizeof num, m->value));
    g_string_append_printf(out, ",\"timestamp\":%" G_GINT64_FORMAT ",\"step\":%" G_GINT64_FORMAT "}",
                           m->timestamp_ms, m->step);
  }
  g_string_append_c(out, ']');
}

/* One runs/log-batch: params [p, p+np), tags [g, g+ng), metrics [m, m+nm). */
static gboolean send_chunk(TmTracker *t, const char *run, Prepared *pr, guint p, guint np,
                           guint g, guint ng, guint m, guint nm, GError **error) {
  GString *out = g_string_sized_new(128 + (gsize)nm * 72 + (gsize)(np + ng) * 48);
  g_string_append(out, "{\"run_id\":");
  put_string(out, run);
  put_metrics(out, pr->metrics, m, nm);
  put_items(out, "params", pr->params, p, np);
  put_items(out, "tags", pr->tags, g, ng);
  g_string_append_c(out, '}');
  g_autoptr(GBytes) body = g_string_free_to_bytes(out);
  /* Idempotent: the same params, the same metric points (key, value, step,
   * timestamp) and tags leave what one batch leaves. */
  g_autoptr(LatheHttpRequest) req = lathe_mlflow_request("POST", "runs/log-batch");
  lathe_http_request_set_bytes(req, body, "application/json");
  lathe_http_request_set_idempotent(req, TRUE);
  g_autoptr(JsonNode) answer = lathe_mlflow_send(t->m, req, error);
  return answer != NULL;
}

/* A chunk MLflow refused for one of its params (a param logged before with
 * another value): the rest again, then each param alone. */
static gboolean send_apart(TmTracker *t, const char *run, Prepared *pr, guint p, guint np,
                           guint g, guint ng, guint m, guint nm, GError **error) {
  if ((ng || nm) && !send_chunk(t, run, pr, 0, 0, g, ng, m, nm, error))
    return FALSE;
  for (guint i = p; i < p + np; i++) {
    g_autoptr(GError) e = NULL;
    if (send_chunk(t, run, pr, i, 1, 0, 0, 0, 0, &e))
      continue;
    if (lathe_mlflow_error_code(e) != LATHE_MLFLOW_CODE_INVALID) {
      g_propagate_error(error, g_steal_pointer(&e));
      return FALSE;
    }
    Kv *kv = pr->params->pdata[i];
    g_autofree char *what = g_strdup_printf("refused-param:%s:%s", run, kv->key);
    tm_say_once(t, what, "MLflow refused param '%s' of run %s (the Lathe store keeps it): %s",
                kv->key, run, e->message);
  }
  return TRUE;
}

/* The params, deduplicated (MLflow refuses a key twice in one batch, even
 * with the same value); a second value for a key is said and dropped, as
 * MLflow would refuse it. */
static void prepare_params(TmTracker *t, const LatheTrackerBatch *batch, Prepared *pr) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < batch->n_params; i++) {
    const LatheTrackerItem *it = &batch->params[i];
    if (!key_ok(t, "param", it->key))
      continue;
    Kv *old = g_hash_table_lookup(seen, it->key);
    g_autofree char *v = fit_value(t, "param", it->key, it->value, TM_MAX_PARAM_VALUE);
    if (old) {
      if (!g_str_equal(old->value, v)) {
        g_autofree char *what = g_strdup_printf("param-twice:%s", it->key);
        tm_say_once(t, what,
                    "param '%s' has two values in one batch; MLflow params are immutable: "
                    "it keeps '%s'",
                    it->key, old->value);
      }
      continue;
    }
    Kv *kv = g_new0(Kv, 1);
    kv->key = g_strdup(it->key);
    kv->value = g_steal_pointer(&v);
    g_ptr_array_add(pr->params, kv);
    g_hash_table_insert(seen, kv->key, kv);
  }
}

/* The tags, the last value of a key winning, as set-tag would leave it. The
 * parent run arrives as Lathe's id from a host that predates start_run_full,
 * and the pipeline as lathe.pipeline: both also in MLflow's words. */
static void prepare_tags(TmTracker *t, const LatheTrackerBatch *batch, Prepared *pr) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < batch->n_tags; i++) {
    const LatheTrackerItem *it = &batch->tags[i];
    if (!key_ok(t, "tag", it->key))
      continue;
    const char *value = it->value;
    if (g_str_equal(it->key, "mlflow.parentRunId") && value)
      value = tm_run(t, value);
    for (int twice = 0; twice < 2; twice++) {
      const char *key = twice ? "mlflow.source.name" : it->key;
      if (twice && !g_str_equal(it->key, "lathe.pipeline"))
        break;
      g_autofree char *v = fit_value(t, "tag", key, value, TM_MAX_TAG_VALUE);
      Kv *old = g_hash_table_lookup(seen, key);
      if (old) {
        g_free(old->value);
        old->value = g_steal_pointer(&v);
        continue;
      }
      Kv *kv = g_new0(Kv, 1);
      kv->key = g_strdup(key);
      kv->value = g_steal_pointer(&v);
      g_ptr_array_add(pr->tags, kv);
      g_hash_table_insert(seen, kv->key, kv);
    }
  }
}

static void prepare_metrics(TmTracker *t, const LatheTrackerBatch *batch, Prepared *pr) {
  const char *good = NULL; /* the last key found good: a loop's points share a few */
  for (guint i = 0; i < batch->n_metrics; i++) {
    const LatheTrackerMetric *m = &batch->metrics[i];
    if (!(good && m->key && strcmp(good, m->key) == 0)) {
      if (!key_ok(t, "metric", m->key))
        continue;
      good = m->key;
    }
    if (!isfinite(m->value)) {
      g_autofree char *what = g_strdup_printf("nonfinite:%s", m->key);
      if (isnan(m->value))
        tm_say_once(t, what,
                    "metric '%s' is NaN: MLflow stores it as NaN and its charts leave it out",
                    m->key);
      else
        tm_say_once(t, what,
                    "metric '%s' is infinite: MLflow stores it as %s1.7976931348623157e308 "
                    "(the largest double); the Lathe store keeps the infinity",
                    m->key, m->value > 0 ? "" : "-");
    }
    g_ptr_array_add(pr->metrics, (gpointer)m);
  }
}

gboolean tm_log_batch(TmTracker *t, const char *run, const LatheTrackerBatch *batch,
                      GError **error) {
  Prepared pr = {g_ptr_array_new_with_free_func(kv_free), g_ptr_array_new_with_free_func(kv_free),
                 g_ptr_array_new()};
  prepare_params(t, batch, &pr);
  prepare_tags(t, batch, &pr);
  prepare_metrics(t, batch, &pr);
  gboolean ok = TRUE;
  guint p = 0, g = 0, m = 0;
  const gsize base = 64 + json_len(run);
  while (ok && (p < pr.params->len || g < pr.tags->len || m < pr.metrics->len)) {
    guint np = 0, ng = 0, nm = 0;
    gsize size = base;
    /* Params and tags first: they are few, and a run without its params
     * reads worse than one missing a few points. */
    while (p + np < pr.params->len && np < TM_MAX_PARAMS && np + ng + nm < TM_MAX_ITEMS) {
      Kv *kv = pr.params->pdata[p + np];
      gsize s = ITEM_OVERHEAD + json_len(kv->key) + json_len(kv->value);
      if (size + s > TM_MAX_BODY)
        break;
      size += s;
      np++;
    }
    while (g + ng < pr.tags->len && ng < TM_MAX_TAGS && np + ng + nm < TM_MAX_ITEMS) {
      Kv *kv = pr.tags->pdata[g + ng];
      gsize s = ITEM_OVERHEAD + json_len(kv->key) + json_len(kv->value);
      if (size + s > TM_MAX_BODY)
        break;
      size += s;
      ng++;
    }
    while (m + nm < pr.metrics->len && nm < TM_MAX_METRICS && np + ng + nm < TM_MAX_ITEMS) {
      const LatheTrackerMetric *x = pr.metrics->pdata[m + nm];
      gsize s = METRIC_OVERHEAD + json_len(x->key);
      if (size + s > TM_MAX_BODY)
        break;
      size += s;
      nm++;
    }
    if (!np && !ng && !nm) { /* cannot happen: every item is far below 1 MB */
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "tracker-mlflow: an item of run %s does not fit in one MLflow request", run);
      ok = FALSE;
      break;
    }
    g_autoptr(GError) e = NULL;
    ok = send_chunk(t, run, &pr, p, np, g, ng, m, nm, &e);
    if (!ok && np && lathe_mlflow_error_code(e) == LATHE_MLFLOW_CODE_INVALID &&
        strstr(e->message, "param")) {
      g_clear_error(&e);
      ok = send_apart(t, run, &pr, p, np, g, ng, m, nm, &e);
    }
    if (!ok)
      g_propagate_error(error, g_steal_pointer(&e));
    p += np;
    g += ng;
    m += nm;
  }
  g_ptr_array_unref(pr.params);
  g_ptr_array_unref(pr.tags);
  g_ptr_array_unref(pr.metrics);
  return ok;
}
