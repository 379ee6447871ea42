/* serve-route.c: variants of one model behind `lathe serve --route`, the
 * shadow, and the rollback policy that withdraws a failing canary. All on
 * the main loop except the registry write of a withdrawal, which runs on a
 * thread so a slow registry never holds a request. */
#include <math.h>
#include <string.h>

#include "serve/serve.h"

#define SHADOW_QUEUE_MAX 10000

static void variant_free(gpointer p) {
  LatheServeVariant *v = p;
  g_free(v->alias);
  lathe_served_unref(v->served);
  g_free(v->withdrawn);
  g_free(v->withdraw_record);
  if (v->predicted)
    g_hash_table_unref(v->predicted);
  g_free(v);
}

void lathe_serve_group_free(gpointer p) {
  LatheServeGroup *g = p;
  g_free(g->name);
  g_ptr_array_unref(g->variants);
  g_free(g);
}

LatheServeGroup *lathe_serve_find_group(LatheServer *sv, const char *name) {
  if (!name)
    return sv->groups->len ? sv->groups->pdata[0] : NULL;
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    if (g_str_equal(g->name, name))
      return g;
  }
  return NULL;
}

static LatheServeGroup *group_new(LatheServer *sv, const char *name) {
  LatheServeGroup *g = g_new0(LatheServeGroup, 1);
  g->name = g_strdup(name);
  g->variants = g_ptr_array_new_with_free_func(variant_free);
  g_ptr_array_add(sv->groups, g);
  return g;
}

/* NAME@ALIAS into its two halves; FALSE when either is empty. */
static gboolean split_spec(const char *spec, char **name, char **alias) {
  const char *at = strrchr(spec, '@');
  if (!at || at == spec || !at[1])
    return FALSE;
  *name = g_strndup(spec, (gsize)(at - spec));
  *alias = g_strdup(at + 1);
  return TRUE;
}

static int add_variant(LatheServer *sv, LatheServeGroup *g, const char *alias, guint weight, gboolean shadow,
                       const char *what, GError **error) {
  for (guint i = 0; i < g->variants->len; i++)
    if (g_str_equal(((LatheServeVariant *)g->variants->pdata[i])->alias, alias)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "%s: %s@%s is named twice; give each alias once", what, g->name, alias);
      return 2;
    }
  LatheServed *s = lathe_served_load(sv->cat, sv->reg, g->name, alias, error);
  if (!s)
    return 1;
  LatheServeVariant *v = g_new0(LatheServeVariant, 1);
  v->alias = g_strdup(alias);
  v->weight = shadow ? 0 : weight;
  v->primary = g->variants->len == 0;
  v->shadow = shadow;
  v->served = s;
  v->psi = NAN;
  g_ptr_array_add(g->variants, v);
  return 0;
}

/* One NAME@ALIAS:WEIGHT of --route, split in place. */
static gboolean parse_item(char *item, char **name, char **alias, guint64 *w, GError **error) {
  char *colon = strrchr(item, ':');
  if (!colon || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 1000000, w, NULL)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "--route: '%s' is not NAME@ALIAS:WEIGHT with an integer weight, e.g. iris@production:90", item);
    return FALSE;
  }
  *colon = '\0';
  if (!split_spec(item, name, alias)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "--route: '%s' is not NAME@ALIAS, e.g. iris@candidate:10", item);
    return FALSE;
  }
  return TRUE;
}

gboolean lathe_serve_route_check(const char *route, GError **error) {
  g_auto(GStrv) items = g_strsplit(route, ",", -1);
  g_autofree char *first = NULL;
  guint64 total = 0;
  for (char **it = items; *it; it++) {
    g_autofree char *name = NULL, *alias = NULL;
    guint64 w = 0;
    if (!parse_item(*it, &name, &alias, &w, error))
      return FALSE;
    if (first && !g_str_equal(first, name)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "--route: every variant must be model '%s', got '%s'; serve other models as NAME@ALIAS arguments",
                  first, name);
      return FALSE;
    }
    if (!first)
      first = g_steal_pointer(&name);
    total += w;
  }
  if (!first || total == 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "--route '%s': the weights must sum to more than 0", route);
    return FALSE;
  }
  return TRUE;
}

static int setup_route(LatheServer *sv, const char *route, GError **error) {
  if (!lathe_serve_route_check(route, error))
    return 2;
  g_auto(GStrv) items = g_strsplit(route, ",", -1);
  LatheServeGroup *g = NULL;
  for (char **it = items; *it; it++) {
    g_autofree char *name = NULL, *alias = NULL;
    guint64 w = 0;
    parse_item(*it, &name, &alias, &w, NULL);
    if (!g)
      g = group_new(sv, name);
    int code = add_variant(sv, g, alias, (guint)w, FALSE, "--route", error);
    if (code)
      return code;
  }
  return 0;
}

int lathe_serve_setup_routes(LatheServer *sv, char **specs, GError **error) {
  int code = 0;
  sv->shadow_jobs = g_queue_new();
  if (sv->opt->route && (code = setup_route(sv, sv->opt->route, error)))
    return code;
  for (char **p = specs; *p; p++) {
    g_autofree char *name = NULL, *alias = NULL;
    if (!split_spec(*p, &name, &alias)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "'%s' is not NAME@ALIAS; name a registered model and an alias, e.g. iris@production", *p);
      return 1;
    }
    if (lathe_serve_find_group(sv, name)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: model '%s' is named twice; serve each once",
                  *p, name);
      return 2;
    }
    if ((code = add_variant(sv, group_new(sv, name), alias, 1, FALSE, *p, error)))
      return code;
  }
  if (sv->opt->shadow) {
    g_autofree char *name = NULL, *alias = NULL;
    LatheServeGroup *g = split_spec(sv->opt->shadow, &name, &alias) ? lathe_serve_find_group(sv, name) : NULL;
    if (!g) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "--shadow '%s': name a served model and another alias, e.g. iris@candidate", sv->opt->shadow);
      return 2;
    }
    if ((code = add_variant(sv, g, alias, 0, TRUE, "--shadow", error)))
      return code;
  }
  return 0;
}

/* FNV-1a: stable across runs and platforms, so a key keeps its variant. */
static guint64 key_hash(const char *s) {
  guint64 h = 14695981039346656037ULL;
  for (; *s; s++)
    h = (h ^ (guchar)*s) * 1099511628211ULL;
  return h;
}

LatheServeVariant *lathe_serve_pick(LatheServer *sv, LatheServeGroup *g, LatheHttpExchange *ex, JsonNode *root) {
  LatheServeVariant *primary = g->variants->pdata[0];
  guint64 total = 0;
  for (guint i = 0; i < g->variants->len; i++)
    total += ((LatheServeVariant *)g->variants->pdata[i])->weight;
  if (total == 0 || g->variants->len == 1)
    return primary;
  g_autofree char *key = NULL;
  if (sv->opt->sticky_field) {
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonNode *n = o ? json_object_get_member(o, sv->opt->sticky_field) : NULL;
    if (n && JSON_NODE_HOLDS_VALUE(n))
      key = json_node_get_value_type(n) == G_TYPE_STRING ? g_strdup(json_node_get_string(n))
                                                         : g_strdup_printf("%.17g", json_node_get_double(n));
  } else {
    key = g_strdup(lathe_http_exchange_get_header(ex, sv->opt->sticky_header ? sv->opt->sticky_header
                                                                              : "X-Request-Key"));
  }
  guint64 r = key ? key_hash(key) % total : (guint64)g_random_int_range(0, (gint32)MIN(total, G_MAXINT32));
  for (guint i = 0; i < g->variants->len; i++) {
    LatheServeVariant *v = g->variants->pdata[i];
    if (r < v->weight)
      return v;
    r -= v->weight;
  }
  return primary;
}

char **lathe_serve_answers(LatheServed *s, const float *y, guint n_rows, guint k) {
  guint nk = s->classes ? json_array_get_length(s->classes) : 0;
  char **out = g_new0(char *, n_rows + 1);
  for (guint i = 0; i < n_rows; i++) {
    const float *r = y + (gsize)i * k;
    if (nk > 0 && k == nk) {
      guint best = 0;
      for (guint j = 1; j < k; j++)
        if (r[j] > r[best])
          best = j;
      out[i] = g_strdup(json_array_get_string_element(s->classes, best));
    } else {
      out[i] = g_strdup_printf("%.9g", r[0]);
    }
  }
  return out;
}

typedef struct {
  LatheServeVariant *v;
  LatheServed *s;
  LatheDataset *ds;
  char **answers;
} ShadowJob;

static void shadow_job_free(gpointer p) {
  ShadowJob *j = p;
  lathe_served_unref(j->s);
  lathe_dataset_unref(j->ds);
  g_strfreev(j->answers);
  g_free(j);
}

/* One job per idle turn, so requests interleave with the shadow's work. */
static gboolean shadow_idle(gpointer data) {
  LatheServer *sv = data;
  ShadowJob *j = g_queue_pop_head(sv->shadow_jobs);
  if (j) {
    guint k = 0;
    /* The raw rows, through the shadow's own input pipeline: its fitted
     * state may differ from the primary's. */
    g_autoptr(LatheDataset) in = j->s->steps ? lathe_serve_apply_pipeline(j->s, j->ds, NULL)
                                             : lathe_dataset_ref(j->ds);
    g_autofree float *y = in ? lathe_catalog_predict(sv->cat, j->s->model, in, &k, NULL) : NULL;
    if (y) {
      g_auto(GStrv) mine = lathe_serve_answers(j->s, y, j->ds->n_rows, k);
      for (guint i = 0; i < j->ds->n_rows; i++) {
        if (g_str_equal(mine[i], j->answers[i]))
          j->v->agree++;
        else
          j->v->disagree++;
      }
    }
    shadow_job_free(j);
  }
  if (g_queue_is_empty(sv->shadow_jobs)) {
    sv->shadow_idle = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

void lathe_serve_shadow(LatheServer *sv, LatheServeGroup *g, LatheDataset *ds, char **answers) {
  for (guint i = 1; i < g->variants->len; i++) {
    LatheServeVariant *v = g->variants->pdata[i];
    if (!v->shadow)
      continue;
    /* The shadow must take the same inputs; a differing one is skipped, not failed. */
    if (!json_array_equal(v->served->columns, ((LatheServeVariant *)g->variants->pdata[0])->served->columns))
      continue;
    if (g_queue_get_length(sv->shadow_jobs) >= SHADOW_QUEUE_MAX) {
      sv->shadow_dropped++;
      continue;
    }
    ShadowJob *j = g_new0(ShadowJob, 1);
    j->v = v;
    j->s = lathe_served_ref(v->served);
    j->ds = lathe_dataset_ref(ds);
    j->answers = g_strdupv(answers);
    g_queue_push_tail(sv->shadow_jobs, j);
    if (!sv->shadow_idle)
      sv->shadow_idle = g_idle_add(shadow_idle, sv);
  }
}

void lathe_serve_shadow_clear(LatheServer *sv) {
  if (sv->shadow_idle)
    g_source_remove(sv->shadow_idle);
  sv->shadow_idle = 0;
  g_queue_free_full(sv->shadow_jobs, shadow_job_free);
  sv->shadow_jobs = NULL;
}
