/* The plugin catalog: the search path, the plugin cache, the rules between
 * plugins (unique names), and realising components on first use.
 *
 * Like GStreamer's registry, the catalog is built from each plugin file's
 * metadata, cached by path, size, mtime and inode: listing plugins or
 * validating a pipeline opens no plugin, and a run opens only the plugins of
 * the nodes it executes (a fully cached run opens none, nor OpenBLAS). The
 * per-file rules are in plugin-inspect.c; files the cache does not know are
 * inspected in a child process (plugin-scan.c), so that a plugin that crashes
 * or blocks while it loads is refused instead of taking the host down. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "config.h"
#include "catalog/catalog-private.h"

struct _LatheCatalog {
  GPtrArray *plugins;     /* LathePlugin* */
  GHashTable *components; /* id -> LatheComponentInfo* */
  GHashTable *by_name;    /* plugin name -> LathePlugin* */
  GHashTable *seen_files; /* realpath -> TRUE */
  GPtrArray *problems;    /* char* */
  GPtrArray *search_path; /* char* */
  JsonObject *cache;      /* realpath -> {size, mtime, ino, inspect, head, meta | off+len | refused} */
  GBytes *texts;          /* the cached plugins' metadata texts the index points into */
  gboolean cache_dirty;
  GMutex lock;            /* realising components */
};

const char *lathe_param_type_name(LatheParamType type) {
  static const char *const names[] = {"?", "int", "float", "bool", "string", "enum", "list", "object"};
  return type >= 1 && type < G_N_ELEMENTS(names) ? names[type] : "?";
}

/* Ports a kind has when the component declares none. */
static const LathePortSpec data_in[] = {{"data", LATHE_TYPE_DATASET, 0, "rows to work on"}, {.name = NULL}};
static const LathePortSpec data_out[] = {{"data", LATHE_TYPE_DATASET, 0, "the dataset"}, {.name = NULL}};
static const LathePortSpec model_in[] = {
    {"train", LATHE_TYPE_DATASET, 0, "training rows"},
    {"valid", LATHE_TYPE_DATASET, LATHE_PORT_OPTIONAL, "validation rows (early stopping)"},
    {.name = NULL}};
static const LathePortSpec model_out[] = {{"model", LATHE_TYPE_MODEL, 0, "the trained model"}, {.name = NULL}};
static const LathePortSpec eval_in[] = {{"model", LATHE_TYPE_MODEL, 0, "the model to score"},
                                        {"data", LATHE_TYPE_DATASET, 0, "labelled rows"},
                                        {.name = NULL}};
static const LathePortSpec metrics_out[] = {{"metrics", LATHE_TYPE_METRICS, 0, "the scores"}, {.name = NULL}};
static const LathePortSpec no_ports[] = {{.name = NULL}};
static const LathePortSpec any_in[] = {{"data", LATHE_TYPE_ANY, 0, "what to write out"}, {.name = NULL}};


/* What the catalog knows of each kind: its name, whether it can be a node,
 * whether its components may declare their ports, and the ports they have
 * when they declare none (the ABI's defaults). The kinds a higher layer owns (the engine's register node,
 * tuning/'s tuner) add their host params and ports at start-up through
 * lathe_catalog_kind_set(): the catalog names no layer above it. */
typedef struct {
  const char *name;
  gboolean node;
  gboolean declared_ports;
  const LatheParamSpec *params;
  const LathePortSpec *inputs, *outputs;
} KindInfo;

static KindInfo kinds[] = {
    [LATHE_KIND_SOURCE] = {.name = "source", .node = TRUE, .declared_ports = TRUE,
                           .inputs = no_ports, .outputs = data_out},
    [LATHE_KIND_TRANSFORM] = {.name = "transform", .node = TRUE, .declared_ports = TRUE,
                              .inputs = data_in, .outputs = data_out},
    [LATHE_KIND_MODEL] = {.name = "model", .node = TRUE, .declared_ports = TRUE,
                          .inputs = model_in, .outputs = model_out},
    [LATHE_KIND_EVALUATOR] = {.name = "evaluator", .node = TRUE, .declared_ports = TRUE,
                              .inputs = eval_in, .outputs = metrics_out},
    [LATHE_KIND_TUNER] = {.name = "tuner", .node = TRUE, .inputs = no_ports, .outputs = no_ports},
    [LATHE_KIND_TRACKER] = {.name = "tracker", .inputs = no_ports, .outputs = no_ports},
    [LATHE_KIND_REGISTRY] = {.name = "registry", .node = TRUE, .inputs = no_ports, .outputs = no_ports},
    [LATHE_KIND_EXECUTOR] = {.name = "executor", .inputs = no_ports, .outputs = no_ports},
    [LATHE_KIND_SINK] = {.name = "sink", .node = TRUE, .declared_ports = TRUE,
                         .inputs = any_in, .outputs = no_ports},
};

static const KindInfo *kind_info(LatheComponentKind kind) {
  return kind >= 1 && kind < G_N_ELEMENTS(kinds) ? &kinds[kind] : NULL;
}

const char *lathe_kind_name(LatheComponentKind kind) {
  const KindInfo *k = kind_info(kind);
  return k ? k->name : "unknown";
}

gboolean lathe_kind_is_node(LatheComponentKind kind) {
  const KindInfo *k = kind_info(kind);
  return k && k->node;
}

void lathe_catalog_kind_set(LatheComponentKind kind, const LatheParamSpec *params,
                            const LathePortSpec *inputs, const LathePortSpec *outputs) {
  g_return_if_fail(kind >= 1 && kind < G_N_ELEMENTS(kinds));
  kinds[kind].params = params;
  if (inputs)
    kinds[kind].inputs = inputs;
  if (outputs)
    kinds[kind].outputs = outputs;
}

static void plugin_free(LathePlugin *p) {
  g_free(p->file);
  g_free(p->name);
  g_free(p->version);
  g_free(p->license);
  g_free(p->description);
  g_free(p->digest);
  g_clear_pointer(&p->meta, json_object_unref);
  g_free(p);
}

static void node_unref0(gpointer n) {
  if (n)
    json_node_unref(n);
}

static void info_free(LatheComponentInfo *i) {
  g_free(i->id);
  g_free(i->klass);
  g_clear_pointer(&i->params, g_array_unref);
  g_clear_pointer(&i->defaults, g_ptr_array_unref);
  g_clear_pointer(&i->owned, g_ptr_array_unref);
  g_free(i);
}

static guint count_ports(const LathePortSpec *p) {
  guint n = 0;
  while (p && p[n].name)
    n++;
  return n;
}

static void add_params(GArray *arr, const LatheParamSpec *specs) {
  for (guint i = 0; specs && specs[i].name; i++) {
    gboolean dup = FALSE;
    for (guint j = 0; j < arr->len; j++)
      dup |= g_str_equal(g_array_index(arr, LatheParamSpec, j).name, specs[i].name);
    if (!dup)
      g_array_append_val(arr, specs[i]);
  }
}

const char *lathe_plugin_digest(LathePlugin *p) { return p->digest; }

/* Ports from metadata; JSON null means the kind's defaults (@def). */
static const LathePortSpec *ports_from(JsonNode *n, const LathePortSpec *def, GPtrArray *owned) {
  if (!n || !JSON_NODE_HOLDS_ARRAY(n))
    return def;
  JsonArray *a = json_node_get_array(n);
  LathePortSpec *ports = g_new0(LathePortSpec, json_array_get_length(a) + 1);
  g_ptr_array_add(owned, ports);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    ports[i].name = json_object_get_string_member(o, "name");
    ports[i].type = (LatheArtifactType)json_object_get_int_member(o, "type");
    ports[i].flags = (guint32)json_object_get_int_member(o, "flags");
    ports[i].doc = json_object_get_string_member(o, "doc");
  }
  return ports;
}

/* Completes a component from its metadata (whose strings outlive it, held
 * by the plugin), with the host's params and default ports for its kind. */
static void info_fill(LatheComponentInfo *info, JsonObject *cm) {
  info->description = json_object_get_string_member(cm, "description");
  info->resolves = json_object_get_boolean_member_with_default(cm, "resolve", FALSE);
  info->owned = g_ptr_array_new_with_free_func(g_free);
  info->params = g_array_new(FALSE, TRUE, sizeof(LatheParamSpec));
  const KindInfo *k = kind_info(info->kind);
  add_params(info->params, k ? k->params : NULL);
  info->n_host_params = info->params->len;
  JsonArray *params = json_object_get_array_member(cm, "params");
  for (guint i = 0; i < json_array_get_length(params); i++) {
    JsonObject *o = json_array_get_object_element(params, i);
    LatheParamSpec ps = {
        .name = json_object_get_string_member(o, "name"),
        .type = (LatheParamType)json_object_get_int_member(o, "type"),
        .default_json = json_object_get_string_member_with_default(o, "default", NULL),
        .min = json_object_get_double_member(o, "min"),
        .max = json_object_get_double_member(o, "max"),
        .flags = (guint32)json_object_get_int_member(o, "flags"),
        .item_type = (LatheParamType)json_object_get_int_member(o, "item_type"),
        .doc = json_object_get_string_member(o, "doc"),
    };
    if (json_object_get_boolean_member_with_default(o, "check", FALSE))
      ps.flags |= LATHE_PARAM_HOST_CHECKED;
    JsonArray *ch = json_object_has_member(o, "choices") ? json_object_get_array_member(o, "choices") : NULL;
    if (ch) {
      const char **choices = g_new0(const char *, json_array_get_length(ch) + 1);
      for (guint k = 0; k < json_array_get_length(ch); k++)
        choices[k] = json_array_get_string_element(ch, k);
      g_ptr_array_add(info->owned, choices);
      ps.choices = choices;
    }
    LatheParamSpec end[] = {ps, LATHE_PARAM_END};
    add_params(info->params, end);
  }
  info->defaults = g_ptr_array_new_with_free_func(node_unref0);
  for (guint i = 0; i < info->params->len; i++) {
    const LatheParamSpec *ps = &g_array_index(info->params, LatheParamSpec, i);
    JsonNode *def = NULL;
    g_autoptr(JsonParser) jp = ps->default_json ? json_parser_new() : NULL;
    if (jp && json_parser_load_from_data(jp, ps->default_json, -1, NULL) && json_parser_get_root(jp))
      def = json_node_copy(json_parser_get_root(jp)); /* checked when the plugin was inspected */
    g_ptr_array_add(info->defaults, def);
  }
  JsonNode *in = json_object_get_member(cm, "inputs"), *out = json_object_get_member(cm, "outputs");
  gboolean declared = k && k->declared_ports;
  info->inputs = !k ? no_ports : declared ? ports_from(in, k->inputs, info->owned) : k->inputs;
  info->outputs = !k ? no_ports : declared ? ports_from(out, k->outputs, info->owned) : k->outputs;
  info->n_inputs = count_ports(info->inputs);
  info->n_outputs = count_ports(info->outputs);
}

/* A component known by its id only, until it is looked up. */
static LatheComponentInfo *info_stub(LatheComponentKind kind, const char *name) {
  LatheComponentInfo *info = g_new0(LatheComponentInfo, 1);
  info->kind = kind;
  info->id = g_strdup_printf("%s/%s", lathe_kind_name(kind), name);
  info->name = strchr(info->id, '/') + 1;
  return info;
}

/* Parses the plugin's metadata on first need and completes @info from it;
 * FALSE if neither the cache nor the file describes it any more. Called with
 * cat->lock held. */
static gboolean info_complete(LatheComponentInfo *info) {
  if (info->params)
    return TRUE;
  LathePlugin *p = info->plugin;
  if (!p->meta && p->meta_text) {
    g_autoptr(JsonParser) jp = json_parser_new();
    if (json_parser_load_from_data(jp, p->meta_text, (gssize)p->meta_len, NULL) &&
        json_parser_get_root(jp) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp)))
      p->meta = json_object_ref(json_node_get_object(json_parser_get_root(jp)));
  }
  if (!p->meta) { /* the cached text is damaged: ask the file itself, through the scanner */
    LatheScanResult r = {.path = p->file};
    lathe_plugin_scan(&r, 1);
    p->meta = g_steal_pointer(&r.meta);
    lathe_scan_result_clear(&r);
  }
  JsonArray *comps = p->meta && json_object_has_member(p->meta, "components")
                         ? json_object_get_array_member(p->meta, "components") : NULL;
  for (guint i = 0; comps && i < json_array_get_length(comps); i++) {
    JsonObject *cm = json_array_get_object_element(comps, i);
    if (json_object_get_int_member(cm, "kind") == info->kind &&
        g_strcmp0(json_object_get_string_member(cm, "name"), info->name) == 0) {
      info_fill(info, cm);
      return TRUE;
    }
  }
  return FALSE;
}

/* What the scan needs of a plugin's metadata: everything but its
 * components' params, docs and ports. */
static JsonObject *head_of(JsonObject *meta) {
  JsonObject *head = json_object_new();
  static const char *const keep[] = {"name", "version", "license", "description",
                                     "abi_major", "abi_minor", "digest"};
  for (guint i = 0; i < G_N_ELEMENTS(keep); i++)
    json_object_set_member(head, keep[i], json_object_dup_member(meta, keep[i]));
  JsonArray *ids = json_array_new();
  JsonArray *comps = json_object_get_array_member(meta, "components");
  for (guint i = 0; i < json_array_get_length(comps); i++) {
    JsonObject *cm = json_array_get_object_element(comps, i);
    JsonArray *id = json_array_new();
    json_array_add_int_element(id, json_object_get_int_member(cm, "kind"));
    json_array_add_string_element(id, json_object_get_string_member(cm, "name"));
    json_array_add_array_element(ids, id);
  }
  json_object_set_array_member(head, "components", ids);
  return head;
}

static gboolean refuse(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean refuse(GError **error, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, "plugin %s refused: %s", path, why);
  return FALSE;
}

/* The rules between plugins: one plugin per name, one component per id. */
static gboolean add_meta(LatheCatalog *cat, const char *path, JsonObject *head, JsonObject *meta,
                         JsonObject *entry, GError **error) {
  const char *name = json_object_get_string_member(head, "name");
  LathePlugin *other = g_hash_table_lookup(cat->by_name, name);
  if (other)
    return refuse(error, path, "plugin name '%s' is already provided by %s; remove one of them",
                  name, other->file);
  JsonArray *comps = json_object_get_array_member(head, "components");
  g_autoptr(GPtrArray) infos = g_ptr_array_new_with_free_func((GDestroyNotify)info_free);
  for (guint i = 0; i < json_array_get_length(comps); i++) {
    JsonArray *id = json_array_get_array_element(comps, i);
    LatheComponentInfo *info = info_stub((LatheComponentKind)json_array_get_int_element(id, 0),
                                         json_array_get_string_element(id, 1));
    g_ptr_array_add(infos, info);
    LatheComponentInfo *dup = g_hash_table_lookup(cat->components, info->id);
    for (guint j = 0; !dup && j + 1 < infos->len; j++)
      if (g_str_equal(((LatheComponentInfo *)infos->pdata[j])->id, info->id))
        dup = infos->pdata[j];
    if (dup)
      return refuse(error, path, "component '%s' is already provided by %s; remove one of them",
                    info->id, dup->plugin ? dup->plugin->file : path);
  }
  LathePlugin *p = g_new0(LathePlugin, 1);
  p->file = g_strdup(path);
  p->name = g_strdup(name);
  p->version = g_strdup(json_object_get_string_member(head, "version"));
  p->license = g_strdup(json_object_get_string_member(head, "license"));
  p->description = g_strdup(json_object_get_string_member(head, "description"));
  p->abi_major = (guint)json_object_get_int_member(head, "abi_major");
  p->abi_minor = (guint)json_object_get_int_member(head, "abi_minor");
  p->digest = g_strdup(json_object_get_string_member(head, "digest"));
  p->meta = meta ? json_object_ref(meta) : NULL;
  if (!meta)
    p->meta_text = lathe_cache_text(cat->texts, entry, &p->meta_len);
  g_ptr_array_add(cat->plugins, p);
  g_hash_table_insert(cat->by_name, p->name, p);
  for (guint i = 0; i < infos->len; i++) {
    LatheComponentInfo *info = infos->pdata[i];
    info->plugin = p;
    g_hash_table_insert(cat->components, info->id, info);
  }
  g_ptr_array_set_free_func(infos, NULL);
  return TRUE;
}

/* A file of the search path on its way into the catalog. */
typedef struct {
  char *real;        /* NULL: skipped (reached twice) or unresolvable (@error) */
  char *error;
  JsonObject *entry; /* its cache entry; a new one is held here too */
  gboolean fresh;    /* @entry is new: inspected in this scan */
  JsonObject *meta;  /* the metadata of a file inspected in this scan */
} Candidate;

/* What the inspector records (plugin-inspect.c) changes with the host, not
 * only with the file: a cache entry written by a host that knew less (kind
 * 9 refused, no "resolve" flag) is inspected again. Bump when it changes. */
#define INSPECT_REVISION 2

static gboolean entry_matches(JsonObject *entry, const struct stat *st, gint64 mtime) {
  return entry && json_object_get_int_member_with_default(entry, "inspect", -1) == INSPECT_REVISION &&
         json_object_get_int_member_with_default(entry, "size", -1) == st->st_size &&
         json_object_get_int_member_with_default(entry, "mtime", -1) == mtime &&
         json_object_get_int_member_with_default(entry, "ino", -1) == (gint64)st->st_ino &&
         (json_object_has_member(entry, "head") || json_object_has_member(entry, "refused"));
}

/* Adds @paths in order. The files the cache does not know are inspected
 * together first, in one scanner child (lathe_plugin_scan()), so that a cold
 * scan starts one process rather than one per file; they are added after,
 * in path order, so the first provider of a name still wins. Refusals go to
 * @problems, in path order. */
static void add_files(LatheCatalog *cat, char *const *paths, guint n, GPtrArray *problems) {
  g_autofree Candidate *c = g_new0(Candidate, n);
  g_autoptr(GArray) scans = g_array_new(FALSE, TRUE, sizeof(LatheScanResult));
  g_autoptr(GArray) scanned = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < n; i++) {
    g_autofree char *real = realpath(paths[i], NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0) {
      c[i].error = g_strdup_printf("plugin %s refused: %s", paths[i], g_strerror(errno));
      continue;
    }
    if (g_hash_table_contains(cat->seen_files, real))
      continue; /* the same file reached twice through the path */
    g_hash_table_add(cat->seen_files, g_strdup(real));
    gint64 mtime = (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    JsonObject *entry = json_object_has_member(cat->cache, real)
                            ? json_object_get_object_member(cat->cache, real) : NULL;
    if (!entry_matches(entry, &st, mtime)) {
      entry = json_object_new();
      json_object_set_int_member(entry, "size", st.st_size);
      json_object_set_int_member(entry, "mtime", mtime);
      json_object_set_int_member(entry, "ino", (gint64)st.st_ino);
      json_object_set_int_member(entry, "inspect", INSPECT_REVISION);
      c[i].fresh = TRUE;
      LatheScanResult r = {.path = real};
      g_array_append_val(scans, r);
      g_array_append_val(scanned, i);
    }
    c[i].entry = entry;
    c[i].real = g_steal_pointer(&real);
  }
  lathe_plugin_scan((LatheScanResult *)(void *)scans->data, scans->len);
  for (guint k = 0; k < scans->len; k++) {
    LatheScanResult *r = &g_array_index(scans, LatheScanResult, k);
    Candidate *ci = &c[g_array_index(scanned, guint, k)];
    if (r->meta) {
      json_object_set_object_member(ci->entry, "head", head_of(r->meta));
      json_object_set_object_member(ci->entry, "meta", json_object_ref(r->meta));
      ci->meta = json_object_ref(r->meta);
    } else {
      json_object_set_string_member(ci->entry, "refused", r->refused);
    }
    /* A crash or a hang is kept like any refusal, so a broken plugin is not
     * scanned again until its file changes; an interrupted scan is not. */
    if (!r->transient) {
      json_object_set_object_member(cat->cache, ci->real, json_object_ref(ci->entry));
      cat->cache_dirty = TRUE;
    }
    lathe_scan_result_clear(r);
  }
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) error = NULL;
    if (c[i].error)
      g_ptr_array_add(problems, g_steal_pointer(&c[i].error));
    else if (c[i].real && json_object_has_member(c[i].entry, "refused"))
      g_ptr_array_add(problems, g_strdup(json_object_get_string_member(c[i].entry, "refused")));
    else if (c[i].real && !add_meta(cat, c[i].real, json_object_get_object_member(c[i].entry, "head"),
                                    c[i].meta, c[i].entry, &error))
      g_ptr_array_add(problems, g_strdup(error->message));
    g_free(c[i].real);
    g_clear_pointer(&c[i].meta, json_object_unref);
    if (c[i].fresh)
      json_object_unref(c[i].entry);
  }
}

gboolean lathe_catalog_add_file(LatheCatalog *cat, const char *path, GError **error) {
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  char *paths[] = {(char *)path};
  add_files(cat, paths, 1, problems);
  if (problems->len == 0)
    return TRUE;
  g_set_error_literal(error, LATHE_ERROR, LATHE_ERROR_PLUGIN, problems->pdata[0]);
  return FALSE;
}

gboolean lathe_catalog_realize(LatheCatalog *cat, LatheComponentInfo *info, GError **error) {
  g_mutex_lock(&cat->lock);
  LathePlugin *p = info->plugin;
  if (!info->klass && !p->module) {
    p->module = g_module_open(p->file, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
    if (p->module)
      g_module_make_resident(p->module);
    else
      refuse(error, p->file, "cannot be loaded: %s", g_module_error());
  }
  if (!info->klass && p->module)
    info->klass = lathe_plugin_component_copy(p->module, p->file, info->kind, info->name, error);
  gboolean ok = info->klass != NULL;
  g_mutex_unlock(&cat->lock);
  return ok;
}

void lathe_catalog_save_cache(LatheCatalog *cat) {
  if (cat->cache_dirty) {
    /* Every command reads the index: entries of files that are gone (old
     * build trees share the user's cache) would slow them all down. */
    g_autoptr(GList) paths = json_object_get_members(cat->cache);
    for (GList *l = paths; l; l = l->next) {
      g_autofree char *path = g_strdup(l->data); /* removing the member frees its name */
      if (!g_file_test(path, G_FILE_TEST_EXISTS))
        json_object_remove_member(cat->cache, path);
    }
    lathe_cache_write_split("plugins-index", cat->cache, cat->texts);
  }
  cat->cache_dirty = FALSE;
}

static int cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the plugin files under @dir into @files, in name order. */
static void scan_dir(GPtrArray *files, const char *dir, guint depth) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    return;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, cmp_strp); /* load order must not depend on readdir */
  for (guint i = 0; i < names->len; i++) {
    const char *n = names->pdata[i];
    g_autofree char *path = g_build_filename(dir, n, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
      if (depth < 3 && n[0] != '.' && !g_str_has_suffix(n, ".p"))
        scan_dir(files, path, depth + 1);
    } else if (g_str_has_suffix(n, ".so")) {
      g_ptr_array_add(files, g_steal_pointer(&path));
    }
  }
}

static gboolean running_from_build_tree(void) {
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  if (!exe)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname(exe);
  g_autofree char *root = realpath(LATHE_BUILD_ROOT, NULL);
  return root && (g_str_equal(dir, root) || g_str_has_prefix(dir, root));
}

LatheCatalog *lathe_catalog_load(void) {
  LatheCatalog *cat = g_new0(LatheCatalog, 1);
  cat->plugins = g_ptr_array_new_with_free_func((GDestroyNotify)plugin_free);
  cat->components = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)info_free);
  cat->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  cat->seen_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  cat->problems = g_ptr_array_new_with_free_func(g_free);
  cat->search_path = g_ptr_array_new_with_free_func(g_free);
  cat->cache = lathe_cache_read_split("plugins-index", &cat->texts);
  g_mutex_init(&cat->lock);
  const char *env = g_getenv("LATHE_PLUGIN_PATH");
  if (env && *env) {
    g_auto(GStrv) dirs = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; dirs[i]; i++)
      if (*dirs[i])
        g_ptr_array_add(cat->search_path, g_strdup(dirs[i]));
  }
  /* A build tree uses its own plugins, never an installed copy of them. */
  if (running_from_build_tree())
    g_ptr_array_add(cat->search_path, g_strdup(LATHE_BUILD_PLUGINDIR));
  else
    g_ptr_array_add(cat->search_path, g_strdup(LATHE_PLUGINDIR));
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < cat->search_path->len; i++)
    scan_dir(files, cat->search_path->pdata[i], 0);
  add_files(cat, (char *const *)files->pdata, files->len, cat->problems);
  lathe_catalog_save_cache(cat);
  return cat;
}

void lathe_catalog_free(LatheCatalog *cat) {
  if (!cat)
    return;
  g_hash_table_unref(cat->components);
  g_hash_table_unref(cat->by_name);
  g_hash_table_unref(cat->seen_files);
  g_ptr_array_unref(cat->plugins);
  g_ptr_array_unref(cat->problems);
  g_ptr_array_unref(cat->search_path);
  json_object_unref(cat->cache);
  g_clear_pointer(&cat->texts, g_bytes_unref);
  g_mutex_clear(&cat->lock);
  g_free(cat);
}

LatheComponentInfo *lathe_catalog_lookup(LatheCatalog *cat, const char *id) {
  LatheComponentInfo *info = g_hash_table_lookup(cat->components, id);
  g_mutex_lock(&cat->lock);
  gboolean ok = !info || info_complete(info);
  g_mutex_unlock(&cat->lock);
  return ok ? info : NULL;
}

static gint cmp_info(gconstpointer a, gconstpointer b) {
  return strcmp((*(LatheComponentInfo *const *)a)->id, (*(LatheComponentInfo *const *)b)->id);
}

GPtrArray *lathe_catalog_components(LatheCatalog *cat) {
  GPtrArray *arr = g_ptr_array_new();
  GHashTableIter it;
  gpointer v;
  g_mutex_lock(&cat->lock);
  g_hash_table_iter_init(&it, cat->components);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (info_complete(v)) /* else the cache is damaged: the next scan rebuilds it */
      g_ptr_array_add(arr, v);
  g_mutex_unlock(&cat->lock);
  g_ptr_array_sort(arr, cmp_info);
  return arr;
}

GPtrArray *lathe_catalog_plugins(LatheCatalog *cat) { return cat->plugins; }
GPtrArray *lathe_catalog_problems(LatheCatalog *cat) { return cat->problems; }
GPtrArray *lathe_catalog_search_path(LatheCatalog *cat) { return cat->search_path; }

char *lathe_catalog_suggest(LatheCatalog *cat, const char *id) {
  g_autoptr(GPtrArray) comps = lathe_catalog_components(cat);
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  for (guint i = 0; i < comps->len; i++)
    g_ptr_array_add(ids, ((LatheComponentInfo *)comps->pdata[i])->id);
  g_ptr_array_add(ids, NULL);
  const char *s = lathe_suggest(id, (const char *const *)ids->pdata);
  return g_strdup(s);
}

const LatheParamSpec *lathe_component_param(LatheComponentInfo *info, const char *name) {
  for (guint i = 0; i < info->params->len; i++) {
    const LatheParamSpec *s = &g_array_index(info->params, LatheParamSpec, i);
    if (g_str_equal(s->name, name))
      return s;
  }
  return NULL;
}

const LathePortSpec *lathe_component_port(LatheComponentInfo *info, const char *name,
                                          gboolean output) {
  const LathePortSpec *p = output ? info->outputs : info->inputs;
  for (guint i = 0; p && p[i].name; i++)
    if (g_str_equal(p[i].name, name))
      return &p[i];
  return NULL;
}
