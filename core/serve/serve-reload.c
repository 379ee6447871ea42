/* serve-reload.c: POST /reload and --poll-seconds. Every alias is resolved
 * again on a thread; a version that moved is fetched and loaded there too, so
 * requests go on meanwhile. The main loop then swaps all the new versions in
 * one step (all or none): a request is scored by one version from start to
 * end, and a failed look at the registry leaves the loaded versions serving. */
#include <string.h>

#include "serve/serve.h"

typedef struct {
  guint gi, vi;
  char *name, *ref;
  guint version;      /* what the variant held when the reload started */
  guint found;        /* what the alias resolves to now */
  LatheServed *loaded; /* the new version, when it moved */
} Slot;

typedef struct {
  LatheServer *sv;
  GArray *slots;
  GPtrArray *exchanges;
  char *error;
} Reload;

static const char *registry_id(LatheServer *sv) {
  return sv->opt->registry_id ? sv->opt->registry_id : "registry/local";
}

static void reload_free(gpointer p) {
  Reload *r = p;
  for (guint i = 0; i < r->slots->len; i++) {
    Slot *s = &g_array_index(r->slots, Slot, i);
    g_free(s->name);
    g_free(s->ref);
    lathe_served_unref(s->loaded);
  }
  g_array_unref(r->slots);
  g_free(r->error);
  g_free(r);
}

static void reload_thread(GTask *task, gpointer src, gpointer data, GCancellable *c) {
  Reload *r = data;
  LatheServer *sv = r->sv;
  g_mutex_lock(&sv->reg_lock);
  for (guint i = 0; i < r->slots->len && !r->error; i++) {
    Slot *s = &g_array_index(r->slots, Slot, i);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ver = lathe_registry_get_version(sv->reg, s->name, s->ref, &error);
    if (!ver) {
      r->error = g_strdup_printf("registry %s: cannot resolve %s@%s: %s", registry_id(sv), s->name, s->ref,
                                 error ? error->message : "no such version");
      break;
    }
    s->found = (guint)json_object_get_int_member_with_default(ver, "version", 0);
    if (s->found == s->version)
      continue;
    s->loaded = lathe_served_load(sv->cat, sv->reg, s->name, s->ref, &error);
    if (!s->loaded)
      r->error = g_strdup_printf("registry %s: cannot load %s@%s (version %u): %s", registry_id(sv), s->name,
                                 s->ref, s->found, error ? error->message : "unknown error");
    else if (s->loaded->version != s->found)
      s->found = s->loaded->version; /* the alias moved again between the two calls */
  }
  g_mutex_unlock(&sv->reg_lock);
  g_task_return_boolean(task, TRUE);
}

static void add_versions(JsonBuilder *b, LatheServer *sv) {
  json_builder_set_member_name(b, "models");
  lathe_serve_add_variants(b, sv, "name", NULL);
}

static void start_reload(LatheServer *sv, GPtrArray *exchanges);

static void reload_done(GObject *src, GAsyncResult *res, gpointer data) {
  Reload *r = g_task_get_task_data(G_TASK(res));
  LatheServer *sv = r->sv;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (r->error) {
    sv->registry_ok = FALSE;
    g_free(sv->registry_error);
    sv->registry_error = g_strdup(r->error);
    sv->reload_failures++;
    g_printerr("lathe serve: reload failed, still serving the loaded versions: %s\n", r->error);
    json_builder_set_member_name(b, "error");
    g_autofree char *msg = g_strdup_printf("%s; still serving the loaded versions", r->error);
    json_builder_add_string_value(b, msg);
    json_builder_set_member_name(b, "code");
    json_builder_add_int_value(b, 503);
    json_builder_set_member_name(b, "registry");
    json_builder_add_string_value(b, registry_id(sv));
  } else {
    sv->registry_ok = TRUE;
    g_clear_pointer(&sv->registry_error, g_free);
    sv->reloads++;
    json_builder_set_member_name(b, "changed");
    json_builder_begin_array(b);
    /* The swap: one main-loop step, so no request sees half of it. */
    for (guint i = 0; i < r->slots->len; i++) {
      Slot *s = &g_array_index(r->slots, Slot, i);
      LatheServeGroup *g = sv->groups->pdata[s->gi];
      LatheServeVariant *v = g->variants->pdata[s->vi];
      if (!s->loaded || v->served->version != s->version)
        continue;
      LatheServed *old = v->served;
      v->served = g_steal_pointer(&s->loaded);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, g->name);
      json_builder_set_member_name(b, "variant");
      json_builder_add_string_value(b, v->alias);
      json_builder_set_member_name(b, "from");
      json_builder_add_int_value(b, old->version);
      json_builder_set_member_name(b, "to");
      json_builder_add_int_value(b, v->served->version);
      json_builder_end_object(b);
      g_printerr("lathe serve: %s@%s now serves version %u (was %u)\n", g->name, v->alias, v->served->version,
                 old->version);
      lathe_served_unref(old);
    }
    json_builder_end_array(b);
  }
  add_versions(b, sv);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  for (guint i = 0; i < r->exchanges->len; i++) {
    LatheHttpExchange *ex = r->exchanges->pdata[i];
    ex->status = r->error ? 503 : 200;
    g_string_assign(ex->out, text);
    lathe_http_exchange_finish(ex);
  }
  g_ptr_array_unref(r->exchanges);
  sv->reload_waiting = NULL;
  GPtrArray *next = g_steal_pointer(&sv->reload_queued);
  if (next)
    start_reload(sv, next);
}

static void start_reload(LatheServer *sv, GPtrArray *exchanges) {
  Reload *r = g_new0(Reload, 1);
  r->sv = sv;
  r->exchanges = exchanges;
  r->slots = g_array_new(FALSE, TRUE, sizeof(Slot));
  for (guint i = 0; i < sv->groups->len; i++) {
    LatheServeGroup *g = sv->groups->pdata[i];
    for (guint j = 0; j < g->variants->len; j++) {
      LatheServeVariant *v = g->variants->pdata[j];
      /* A withdrawn canary's alias now names the primary's version: nothing to load. */
      if (v->withdrawn)
        continue;
      Slot s = {.gi = i, .vi = j, .name = g_strdup(g->name), .ref = g_strdup(v->alias),
                .version = v->served->version};
      g_array_append_val(r->slots, s);
    }
  }
  sv->reload_waiting = exchanges;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, reload_done, NULL);
  g_task_set_task_data(task, r, reload_free);
  g_task_run_in_thread(task, reload_thread);
}

void lathe_serve_h_reload(LatheHttpExchange *ex, gpointer data) {
  LatheServer *sv = data;
  lathe_http_exchange_defer(ex);
  /* One reload at a time; one that comes meanwhile waits for the next, which
   * sees any alias moved after the running one began. */
  if (sv->reload_waiting) {
    if (!sv->reload_queued)
      sv->reload_queued = g_ptr_array_new();
    g_ptr_array_add(sv->reload_queued, ex);
    return;
  }
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, ex);
  start_reload(sv, a);
}

gboolean lathe_serve_poll(gpointer data) {
  LatheServer *sv = data;
  if (!sv->reload_waiting && !sv->draining)
    start_reload(sv, g_ptr_array_new());
  return G_SOURCE_CONTINUE;
}

void lathe_serve_add_registry(JsonBuilder *b, LatheServer *sv) {
  json_builder_set_member_name(b, "registry");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, registry_id(sv));
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, sv->registry_ok);
  json_builder_set_member_name(b, "error");
  if (sv->registry_error)
    json_builder_add_string_value(b, sv->registry_error);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "reloads");
  json_builder_add_int_value(b, (gint64)sv->reloads);
  json_builder_set_member_name(b, "reload_failures");
  json_builder_add_int_value(b, (gint64)sv->reload_failures);
  json_builder_end_object(b);
}
