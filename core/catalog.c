/* The plugin catalog: the search path, the loading rules and the refusals.
 *
 * The rules are GStreamer's and SQLite's: a plugin loads only if its ABI major
 * equals ours and its minor is not above ours; every struct is copied, at most
 * our size, into zeroed memory, so an older plugin's missing trailing
 * callbacks read as NULL. Anything else is refused with one line that names
 * the file and the reason, and the scan goes on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "suggest.h"

struct _LatheCatalog {
  GPtrArray *plugins;     /* LathePlugin* */
  GHashTable *components; /* id -> LatheComponentInfo* */
  GHashTable *by_name;    /* plugin name -> LathePlugin* */
  GHashTable *seen_files; /* realpath -> TRUE */
  GPtrArray *problems;    /* char* */
  GPtrArray *search_path; /* char* */
};

static const char *const kind_names[] = {NULL,        "source",  "transform", "model",
                                         "evaluator", "tuner",   "tracker",   "registry",
                                         "executor"};

const char *lathe_kind_name(LatheComponentKind kind) {
  return kind >= 1 && kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "unknown";
}

const char *lathe_param_type_name(LatheParamType type) {
  static const char *const names[] = {"?", "int", "float", "bool", "string", "enum", "list", "object"};
  return type >= 1 && type < G_N_ELEMENTS(names) ? names[type] : "?";
}

/* What this host knows of each kind: its struct size and which callbacks it
 * cannot do without (by offset, so the check reads the plugin's copy). */
typedef struct {
  gsize size;
  const gsize *required;
  const char *const *required_names;
} KindLayout;

#define OFF(T, f) offsetof(T, f)
static const gsize run_req[] = {OFF(LatheSourceClass, run), 0};
static const char *const run_names[] = {"run"};
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
};

/* Ports a kind has when the component declares none. */
static const LathePortSpec data_in[] = {{"data", LATHE_TYPE_DATASET, 0, "rows to work on"}, {NULL}};
static const LathePortSpec data_out[] = {{"data", LATHE_TYPE_DATASET, 0, "the dataset"}, {NULL}};
static const LathePortSpec model_in[] = {
    {"train", LATHE_TYPE_DATASET, 0, "training rows"},
    {"valid", LATHE_TYPE_DATASET, LATHE_PORT_OPTIONAL, "validation rows (early stopping)"},
    {NULL}};
static const LathePortSpec model_out[] = {{"model", LATHE_TYPE_MODEL, 0, "the trained model"}, {NULL}};
static const LathePortSpec eval_in[] = {{"model", LATHE_TYPE_MODEL, 0, "the model to score"},
                                        {"data", LATHE_TYPE_DATASET, 0, "labelled rows"},
                                        {NULL}};
static const LathePortSpec metrics_out[] = {{"metrics", LATHE_TYPE_METRICS, 0, "the scores"}, {NULL}};
static const LathePortSpec tuner_out[] = {
    {"model", LATHE_TYPE_MODEL, LATHE_PORT_OPTIONAL, "the best trial's model (trial \"output\")"},
    {"metrics", LATHE_TYPE_METRICS, 0, "best params, best value and every trial"},
    {NULL}};
static const LathePortSpec registry_in[] = {
    {"model", LATHE_TYPE_MODEL, 0, "the model to register"},
    {"metrics", LATHE_TYPE_METRICS, LATHE_PORT_OPTIONAL, "metrics stored with the version"},
    {NULL}};
static const LathePortSpec no_ports[] = {{NULL}};

static const char *const directions[] = {"maximize", "minimize", NULL};
/* Params the host itself reads for tuner and registry nodes. */
static const LatheParamSpec tuner_params[] = {
    {.name = "objective", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_REQUIRED,
     .doc = "metric of the trial sub-graph to optimise, as NODE.METRIC"},
    {.name = "direction", .type = LATHE_PARAM_ENUM, .default_json = "\"maximize\"",
     .choices = directions, .doc = "maximize or minimize the objective"},
    {.name = "space", .type = LATHE_PARAM_OBJECT, .flags = LATHE_PARAM_REQUIRED,
     .doc = "search space: {\"NODE.PARAM\": spec} over the trial sub-graph"},
    {.name = "max_trials", .type = LATHE_PARAM_INT, .default_json = "0", .min = 0, .max = 1e9,
     .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "stop after this many trials (0: when the tuner has no more points)"},
    {.name = "parallel_trials", .type = LATHE_PARAM_INT, .default_json = "0", .min = 0,
     .max = 1024, .flags = LATHE_PARAM_HAS_MIN | LATHE_PARAM_HAS_MAX,
     .doc = "trials run at once (0: the run's --jobs)"},
    LATHE_PARAM_END};
static const LatheParamSpec registry_node_params[] = {
    {.name = "name", .type = LATHE_PARAM_STRING, .flags = LATHE_PARAM_REQUIRED,
     .doc = "registered model name"},
    {.name = "alias", .type = LATHE_PARAM_STRING,
     .doc = "alias to point at the new version (e.g. candidate)"},
    LATHE_PARAM_END};

static void plugin_free(LathePlugin *p) {
  g_free(p->file);
  g_free(p->name);
  g_free(p->version);
  g_free(p->license);
  g_free(p->description);
  g_free(p->digest);
  g_mutex_clear(&p->lock);
  g_free(p);
}

static void node_unref0(gpointer n) {
  if (n)
    json_node_unref(n);
}

static void info_free(LatheComponentInfo *i) {
  g_free(i->id);
  g_free(i->klass);
  g_array_unref(i->params);
  g_clear_pointer(&i->defaults, g_ptr_array_unref);
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

const char *lathe_plugin_digest(LathePlugin *p) {
  g_mutex_lock(&p->lock);
  if (!p->digest) {
    g_autoptr(GMappedFile) mf = p->file ? g_mapped_file_new(p->file, FALSE, NULL) : NULL;
    p->digest = mf ? lathe_sha256_hex(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf))
                   : g_strdup("builtin");
  }
  g_mutex_unlock(&p->lock);
  return p->digest;
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

static gboolean is_elf(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return FALSE;
  char magic[4] = {0};
  gsize n = fread(magic, 1, 4, f);
  fclose(f);
  return n == 4 && memcmp(magic, "\x7f" "ELF", 4) == 0;
}

/* Checks one component; on success returns a host-owned info. */
static LatheComponentInfo *check_component(const char *path, const LatheComponent *c,
                                           GError **error) {
  if (c->kind < LATHE_KIND_SOURCE || c->kind > LATHE_KIND_EXECUTOR) {
    refuse(error, path, "component '%s' has unknown kind %u; rebuild it against this SDK",
           c->name ? c->name : "?", c->kind);
    return NULL;
  }
  const KindLayout *lay = &layouts[c->kind];
  const char *kname = lathe_kind_name(c->kind);
  if (!c->name || !*c->name) {
    refuse(error, path, "a %s component has an empty name; give it one in LATHE_COMPONENT_INIT",
           kname);
    return NULL;
  }
  if (strchr(c->name, '/') || strchr(c->name, '.') || strchr(c->name, ' ')) {
    refuse(error, path, "component name '%s' may not contain '/', '.' or spaces", c->name);
    return NULL;
  }
  if (c->struct_size > lay->size) {
    refuse(error, path,
           "%s/%s struct is %u bytes, larger than the %zu this host knows; "
           "the plugin was built for a newer Lathe, rebuild it against this SDK",
           kname, c->name, c->struct_size, lay->size);
    return NULL;
  }
  if (c->struct_size < sizeof(LatheComponent)) {
    refuse(error, path, "%s/%s struct_size %u is too small to be a component", kname, c->name,
           c->struct_size);
    return NULL;
  }
  LatheComponentInfo *info = g_new0(LatheComponentInfo, 1);
  info->klass = g_malloc0(lay->size);
  memcpy(info->klass, c, c->struct_size);
  for (guint i = 0; lay->required[i]; i++) {
    gpointer fn = *(gpointer *)((char *)info->klass + lay->required[i]);
    if (!fn) {
      refuse(error, path, "%s/%s lacks the required callback '%s'", kname, c->name,
             lay->required_names[i]);
      g_free(info->klass);
      g_free(info);
      return NULL;
    }
  }
  info->id = g_strdup_printf("%s/%s", kname, c->name);
  info->kind = c->kind;
  info->params = g_array_new(FALSE, TRUE, sizeof(LatheParamSpec));
  add_params(info->params, c->kind == LATHE_KIND_TUNER      ? tuner_params
                           : c->kind == LATHE_KIND_REGISTRY ? registry_node_params
                                                            : NULL);
  info->n_host_params = info->params->len;
  add_params(info->params, c->params);
  info->defaults = g_ptr_array_new_with_free_func(node_unref0);
  for (guint i = 0; i < info->params->len; i++) {
    const LatheParamSpec *ps = &g_array_index(info->params, LatheParamSpec, i);
    JsonNode *def = NULL;
    if (ps->default_json) {
      g_autoptr(JsonParser) jp = json_parser_new();
      if (!json_parser_load_from_data(jp, ps->default_json, -1, NULL) || !json_parser_get_root(jp)) {
        refuse(error, path, "%s/%s param '%s' has a default that is not JSON: %s", kname, c->name,
               ps->name, ps->default_json);
        g_ptr_array_unref(info->defaults);
        g_array_unref(info->params);
        g_free(info->klass);
        g_free(info);
        return NULL;
      }
      def = json_node_copy(json_parser_get_root(jp));
    }
    g_ptr_array_add(info->defaults, def);
  }
  const LathePortSpec *in = c->inputs, *out = c->outputs;
  switch (c->kind) {
  case LATHE_KIND_SOURCE: in = in ? in : no_ports; out = out ? out : data_out; break;
  case LATHE_KIND_TRANSFORM: in = in ? in : data_in; out = out ? out : data_out; break;
  case LATHE_KIND_MODEL: in = in ? in : model_in; out = out ? out : model_out; break;
  case LATHE_KIND_EVALUATOR: in = in ? in : eval_in; out = out ? out : metrics_out; break;
  case LATHE_KIND_TUNER: in = no_ports; out = tuner_out; break;
  case LATHE_KIND_REGISTRY: in = registry_in; out = no_ports; break;
  default: in = no_ports; out = no_ports;
  }
  info->inputs = in;
  info->outputs = out;
  info->n_inputs = count_ports(in);
  info->n_outputs = count_ports(out);
  return info;
}

gboolean lathe_catalog_add_file(LatheCatalog *cat, const char *path, GError **error) {
  g_autofree char *real = realpath(path, NULL);
  if (!real)
    return refuse(error, path, "%s", g_strerror(errno));
  if (g_hash_table_contains(cat->seen_files, real))
    return TRUE; /* the same file reached twice through the path */
  g_hash_table_add(cat->seen_files, g_strdup(real));
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
  gboolean ok = FALSE;
  GPtrArray *infos = g_ptr_array_new_with_free_func((GDestroyNotify)info_free);
  if (!d || d->struct_size < sizeof(LathePluginDescriptor)) {
    refuse(error, path, "descriptor is missing or too small; rebuild it against this SDK");
  } else if (d->abi_major != LATHE_ABI_MAJOR) {
    refuse(error, path, "built for plugin ABI %u.%u, this host speaks %d.%d; rebuild it against this SDK",
           d->abi_major, d->abi_minor, LATHE_ABI_MAJOR, LATHE_ABI_MINOR);
  } else if (d->abi_minor > LATHE_ABI_MINOR) {
    refuse(error, path, "built for plugin ABI %u.%u, newer than this host's %d.%d; upgrade Lathe",
           d->abi_major, d->abi_minor, LATHE_ABI_MAJOR, LATHE_ABI_MINOR);
  } else if (!d->name || !*d->name) {
    refuse(error, path, "the plugin has an empty name; set one in LATHE_PLUGIN_DEFINE");
  } else if (g_hash_table_contains(cat->by_name, d->name)) {
    LathePlugin *other = g_hash_table_lookup(cat->by_name, d->name);
    refuse(error, path, "plugin name '%s' is already provided by %s; remove one of them", d->name,
           other->file);
  } else if (!d->components || !d->components[0]) {
    refuse(error, path, "the plugin provides no components");
  } else {
    ok = TRUE;
    for (guint i = 0; ok && d->components[i]; i++) {
      LatheComponentInfo *info = check_component(path, d->components[i], error);
      if (!info) {
        ok = FALSE;
        break;
      }
      LatheComponentInfo *other = g_hash_table_lookup(cat->components, info->id);
      for (guint j = 0; !other && j < infos->len; j++)
        if (g_str_equal(((LatheComponentInfo *)infos->pdata[j])->id, info->id))
          other = infos->pdata[j];
      if (other) {
        refuse(error, path, "component '%s' is already provided by %s; remove one of them",
               info->id, other->plugin ? other->plugin->file : path);
        info_free(info);
        ok = FALSE;
        break;
      }
      g_ptr_array_add(infos, info);
    }
  }
  if (!ok) {
    g_ptr_array_unref(infos);
    g_module_close(mod);
    return FALSE;
  }
  /* Plugins stay resident: components hold pointers into their static data. */
  g_module_make_resident(mod);
  LathePlugin *p = g_new0(LathePlugin, 1);
  g_mutex_init(&p->lock);
  p->file = g_strdup(path);
  p->name = g_strdup(d->name);
  p->version = g_strdup(d->version ? d->version : "0");
  p->license = g_strdup(d->license ? d->license : "unknown");
  p->description = g_strdup(d->description ? d->description : "");
  p->abi_major = d->abi_major;
  p->abi_minor = d->abi_minor;
  g_ptr_array_add(cat->plugins, p);
  g_hash_table_insert(cat->by_name, p->name, p);
  for (guint i = 0; i < infos->len; i++) {
    LatheComponentInfo *info = infos->pdata[i];
    info->plugin = p;
    g_hash_table_insert(cat->components, info->id, info);
  }
  g_ptr_array_set_free_func(infos, NULL);
  g_ptr_array_unref(infos);
  return TRUE;
}

static int cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_dir(LatheCatalog *cat, const char *dir, guint depth) {
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
        scan_dir(cat, path, depth + 1);
    } else if (g_str_has_suffix(n, ".so")) {
      g_autoptr(GError) error = NULL;
      if (!lathe_catalog_add_file(cat, path, &error))
        g_ptr_array_add(cat->problems, g_strdup(error->message));
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
  for (guint i = 0; i < cat->search_path->len; i++)
    scan_dir(cat, cat->search_path->pdata[i], 0);
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
  g_free(cat);
}

LatheComponentInfo *lathe_catalog_lookup(LatheCatalog *cat, const char *id) {
  return g_hash_table_lookup(cat->components, id);
}

static gint cmp_info(gconstpointer a, gconstpointer b) {
  return strcmp((*(LatheComponentInfo *const *)a)->id, (*(LatheComponentInfo *const *)b)->id);
}

GPtrArray *lathe_catalog_components(LatheCatalog *cat) {
  GPtrArray *arr = g_ptr_array_new();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, cat->components);
  while (g_hash_table_iter_next(&it, NULL, &v))
    g_ptr_array_add(arr, v);
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
