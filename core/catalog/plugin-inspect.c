/* The per-file loading rules. They are GStreamer's and SQLite's: a plugin
 * loads only if its ABI major equals ours and its minor is not above ours;
 * every struct is copied, at most our size, into zeroed memory, so an older
 * plugin's missing trailing callbacks read as NULL. Anything else is refused
 * with one line that names the file and the reason. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/catalog-private.h"

/* What this host knows of each kind: its struct size and which callbacks it
 * cannot do without (by offset, so the check reads the copy). */
typedef struct {
  gsize size;
  const gsize *required;
  const char *const *required_names;
} KindLayout;

#define OFF(T, f) offsetof(T, f)
static const gsize run_req[] = {OFF(LatheSourceClass, run), 0};
static const char *const run_names[] = {"run"};
static const gsize sink_req[] = {OFF(LatheSinkClass, run), 0};
static const gsize model_req[] = {OFF(LatheModelClass, fit), OFF(LatheModelClass, predict),
                                  OFF(LatheModelClass, save), OFF(LatheModelClass, load),
                                  OFF(LatheModelClass, free), 0};
static const char *const model_names[] = {"fit", "predict", "save", "load", "free"};
static const gsize tuner_req[] = {OFF(LatheTunerClass, create), OFF(LatheTunerClass, ask),
                                  OFF(LatheTunerClass, tell), OFF(LatheTunerClass, free), 0};
static const char *const tuner_names[] = {"create", "ask", "tell", "free"};
static const gsize tracker_req[] = {
    OFF(LatheTrackerClass, open),       OFF(LatheTrackerClass, start_run),
    OFF(LatheTrackerClass, log_param),  OFF(LatheTrackerClass, log_metric),
    OFF(LatheTrackerClass, set_tag),    OFF(LatheTrackerClass, end_run),
    OFF(LatheTrackerClass, close),      0};
static const char *const tracker_names[] = {"open",    "start_run", "log_param", "log_metric",
                                            "set_tag", "end_run",   "close"};
static const gsize registry_req[] = {
    OFF(LatheRegistryClass, open), OFF(LatheRegistryClass, register_model),
    OFF(LatheRegistryClass, set_alias), OFF(LatheRegistryClass, list),
    OFF(LatheRegistryClass, get), OFF(LatheRegistryClass, close), 0};
static const char *const registry_names[] = {"open", "register_model", "set_alias",
                                             "list", "get",            "close"};
static const gsize executor_req[] = {
    OFF(LatheExecutorClass, open), OFF(LatheExecutorClass, submit),
    OFF(LatheExecutorClass, poll), OFF(LatheExecutorClass, cancel),
    OFF(LatheExecutorClass, release), OFF(LatheExecutorClass, close), 0};
static const char *const executor_names[] = {"open", "submit", "poll", "cancel", "release", "close"};

static const KindLayout layouts[] = {
    [LATHE_KIND_SOURCE] = {sizeof(LatheSourceClass), run_req, run_names},
    [LATHE_KIND_TRANSFORM] = {sizeof(LatheTransformClass), run_req, run_names},
    [LATHE_KIND_MODEL] = {sizeof(LatheModelClass), model_req, model_names},
    [LATHE_KIND_EVALUATOR] = {sizeof(LatheEvaluatorClass), run_req, run_names},
    [LATHE_KIND_TUNER] = {sizeof(LatheTunerClass), tuner_req, tuner_names},
    [LATHE_KIND_TRACKER] = {sizeof(LatheTrackerClass), tracker_req, tracker_names},
    [LATHE_KIND_REGISTRY] = {sizeof(LatheRegistryClass), registry_req, registry_names},
    [LATHE_KIND_EXECUTOR] = {sizeof(LatheExecutorClass), executor_req, executor_names},
    [LATHE_KIND_SINK] = {sizeof(LatheSinkClass), sink_req, run_names},
};

static gpointer refuse(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gpointer refuse(GError **error, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "plugin %s refused: %s", path, why);
  return NULL;
}

static gboolean is_elf(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return FALSE;
  char magic[4] = {0};
  gsize n = fread(magic, 1, 4, f);
  fclose(f);
  return n == 4 && memcmp(magic, "\x7f" "ELF", 4) == 0;
}

/* The struct rules; returns the host's copy of @c. */
static gpointer check_struct(const char *path, const LatheComponent *c, GError **error) {
  if (c->kind < LATHE_KIND_SOURCE || c->kind > LATHE_KIND_SINK)
    return refuse(error, path, "component '%s' has unknown kind %u; rebuild it against this SDK",
                  c->name ? c->name : "?", c->kind);
  const KindLayout *lay = &layouts[c->kind];
  const char *kname = lathe_kind_name(c->kind);
  if (!c->name || !*c->name)
    return refuse(error, path, "a %s component has an empty name; give it one in "
                  "LATHE_COMPONENT_INIT", kname);
  if (strpbrk(c->name, "/. "))
    return refuse(error, path, "component name '%s' may not contain '/', '.' or spaces", c->name);
  if (c->struct_size > lay->size)
    return refuse(error, path,
                  "%s/%s struct is %u bytes, larger than the %zu this host knows; "
                  "the plugin was built for a newer Lathe, rebuild it against this SDK",
                  kname, c->name, c->struct_size, lay->size);
  if (c->struct_size < sizeof(LatheComponent))
    return refuse(error, path, "%s/%s struct_size %u is too small to be a component", kname,
                  c->name, c->struct_size);
  gpointer klass = g_malloc0(lay->size);
  memcpy(klass, c, c->struct_size);
  for (guint i = 0; lay->required[i]; i++)
    if (!*(gpointer *)((char *)klass + lay->required[i])) {
      g_free(klass);
      return refuse(error, path, "%s/%s lacks the required callback '%s'", kname, c->name,
                    lay->required_names[i]);
    }
  return klass;
}

static JsonNode *ports_json(const LathePortSpec *p) {
  if (!p)
    return json_node_init_null(json_node_alloc()); /* the kind's default ports */
  JsonArray *arr = json_array_new();
  for (guint i = 0; p[i].name; i++) {
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", p[i].name);
    json_object_set_int_member(o, "type", p[i].type);
    json_object_set_int_member(o, "flags", p[i].flags);
    json_object_set_string_member(o, "doc", p[i].doc ? p[i].doc : "");
    json_array_add_object_element(arr, o);
  }
  return json_node_init_array(json_node_alloc(), arr);
}

static JsonObject *component_json(const char *path, const LatheComponent *c, guint abi_minor,
                                  GError **error) {
  JsonArray *params = json_array_new();
  for (guint i = 0; c->params && c->params[i].name; i++) {
    const LatheParamSpec *s = &c->params[i];
    if (s->default_json) {
      g_autoptr(JsonParser) jp = json_parser_new();
      if (!json_parser_load_from_data(jp, s->default_json, -1, NULL) || !json_parser_get_root(jp)) {
        json_array_unref(params);
        return refuse(error, path, "%s/%s param '%s' has a default that is not JSON: %s",
                      lathe_kind_name(c->kind), c->name, s->name, s->default_json);
      }
    }
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", s->name);
    json_object_set_int_member(o, "type", s->type);
    if (s->default_json)
      json_object_set_string_member(o, "default", s->default_json);
    json_object_set_double_member(o, "min", s->min);
    json_object_set_double_member(o, "max", s->max);
    json_object_set_int_member(o, "flags", s->flags);
    json_object_set_int_member(o, "item_type", s->item_type);
    json_object_set_string_member(o, "doc", s->doc ? s->doc : "");
    /* Before 1.3 the slot was reserved: whatever it holds means nothing. */
    if (abi_minor >= 3 && s->check)
      json_object_set_boolean_member(o, "check", TRUE);
    if (s->choices) {
      JsonArray *ch = json_array_new();
      for (guint k = 0; s->choices[k]; k++)
        json_array_add_string_element(ch, s->choices[k]);
      json_object_set_array_member(o, "choices", ch);
    }
    json_array_add_object_element(params, o);
  }
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "kind", c->kind);
  /* Read only when the plugin's struct reaches it: a 1.5 source ends at run. */
  if (c->kind == LATHE_KIND_SOURCE &&
      c->struct_size >= offsetof(LatheSourceClass, resolve) + sizeof(LatheRunFunc) &&
      ((const LatheSourceClass *)c)->resolve)
    json_object_set_boolean_member(o, "resolve", TRUE);
  json_object_set_string_member(o, "name", c->name);
  json_object_set_string_member(o, "description", c->description ? c->description : "");
  json_object_set_array_member(o, "params", params);
  json_object_set_member(o, "inputs", ports_json(c->inputs));
  json_object_set_member(o, "outputs", ports_json(c->outputs));
  return o;
}

static char *file_digest(const char *path) {
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
  return mf ? lathe_sha256_hex(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf))
            : g_strdup("unreadable");
}

JsonObject *lathe_plugin_inspect(const char *path, GModule **module, GError **error) {
  *module = NULL;
  if (!is_elf(path))
    return refuse(error, path, "not a shared object (no ELF header); remove it from the plugin path");
  GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (!mod)
    return refuse(error, path, "cannot be loaded: %s", g_module_error());
  LathePluginQueryFunc query = NULL;
  if (!g_module_symbol(mod, LATHE_PLUGIN_ENTRY, (gpointer *)&query) || !query) {
    g_module_close(mod);
    return refuse(error, path, "no entry symbol '%s'; define the plugin with LATHE_PLUGIN_DEFINE",
                  LATHE_PLUGIN_ENTRY);
  }
  const LathePluginDescriptor *d = query();
  JsonObject *meta = NULL;
  if (!d || d->struct_size < sizeof(LathePluginDescriptor))
    refuse(error, path, "descriptor is missing or too small; rebuild it against this SDK");
  else if (d->abi_major != LATHE_ABI_MAJOR)
    refuse(error, path, "built for plugin ABI %u.%u, this host speaks %d.%d; rebuild it against "
           "this SDK", d->abi_major, d->abi_minor, LATHE_ABI_MAJOR, LATHE_ABI_MINOR);
  else if (d->abi_minor > LATHE_ABI_MINOR)
    refuse(error, path, "built for plugin ABI %u.%u, newer than this host's %d.%d; upgrade Lathe",
           d->abi_major, d->abi_minor, LATHE_ABI_MAJOR, LATHE_ABI_MINOR);
  else if (!d->name || !*d->name)
    refuse(error, path, "the plugin has an empty name; set one in LATHE_PLUGIN_DEFINE");
  else if (!d->components || !d->components[0])
    refuse(error, path, "the plugin provides no components");
  else
    meta = json_object_new();
  JsonArray *comps = meta ? json_array_new() : NULL;
  for (guint i = 0; meta && d->components[i]; i++) {
    g_autofree gpointer klass = check_struct(path, d->components[i], error);
    JsonObject *c = klass ? component_json(path, d->components[i], d->abi_minor, error) : NULL;
    if (!c) {
      g_clear_pointer(&meta, json_object_unref);
      break;
    }
    json_array_add_object_element(comps, c);
  }
  if (!meta) {
    g_clear_pointer(&comps, json_array_unref);
    g_module_close(mod);
    return NULL;
  }
  json_object_set_string_member(meta, "name", d->name);
  json_object_set_string_member(meta, "version", d->version ? d->version : "0");
  json_object_set_string_member(meta, "license", d->license ? d->license : "unknown");
  json_object_set_string_member(meta, "description", d->description ? d->description : "");
  json_object_set_int_member(meta, "abi_major", d->abi_major);
  json_object_set_int_member(meta, "abi_minor", d->abi_minor);
  g_autofree char *digest = file_digest(path);
  json_object_set_string_member(meta, "digest", digest);
  json_object_set_array_member(meta, "components", comps);
  /* Plugins stay resident: components point into their static data. */
  g_module_make_resident(mod);
  *module = mod;
  return meta;
}

gpointer lathe_plugin_component_copy(GModule *module, const char *path, guint32 kind,
                                     const char *name, GError **error) {
  LathePluginQueryFunc query = NULL;
  if (!g_module_symbol(module, LATHE_PLUGIN_ENTRY, (gpointer *)&query) || !query)
    return refuse(error, path, "no entry symbol '%s' (the file changed since it was inspected?)",
                  LATHE_PLUGIN_ENTRY);
  const LathePluginDescriptor *d = query();
  for (guint i = 0; d && d->components && d->components[i]; i++) {
    const LatheComponent *c = d->components[i];
    if (c->kind == kind && c->name && g_str_equal(c->name, name))
      return check_struct(path, c, error);
  }
  return refuse(error, path, "no longer provides %s/%s; run `lathe plugins` to rescan",
                lathe_kind_name(kind), name);
}
