/* catalog.h: the plugins found on the search path and their components. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * LathePlugin:
 *
 * One plugin file, known from its metadata (inspected now, or read from the
 * plugin cache). @module is %NULL until one of its components is realised.
 */
typedef struct {
  char *file; /* real path */
  char *name;
  char *version;
  char *license;
  char *description;
  guint abi_major;
  guint abi_minor;
  char *digest; /* SHA-256 of the file */
  JsonObject *meta; /* owns the strings the components' specs point to */
  GModule *module;
} LathePlugin;

/**
 * LatheComponentInfo:
 *
 * A component as the host sees it. @klass is %NULL until
 * lathe_catalog_realize() opens the plugin; then it is a zeroed copy of the
 * plugin's kind struct at the host's size, so callbacks beyond the plugin's
 * struct_size read as %NULL. @params is the params the host adds for the
 * kind (tuners, registry nodes) followed by the declared ones.
 */
typedef struct {
  char *id; /* "model/logreg" */
  const char *name; /* "logreg" */
  const char *description;
  LatheComponentKind kind;
  LathePlugin *plugin;
  gpointer klass;
  GPtrArray *owned; /* arrays the specs point to */
  GArray *params;          /* LatheParamSpec, without terminator */
  guint n_host_params;     /* the first ones are the host's (tuner, registry node) */
  GPtrArray *defaults;     /* JsonNode* (or NULL) per param: parsed once, copied per node */
  const LathePortSpec *inputs;
  const LathePortSpec *outputs;
  guint n_inputs;
  guint n_outputs;
} LatheComponentInfo;

/* In a host copy of a #LatheParamSpec: the plugin's spec has a check
 * (its function pointer lives in the plugin, which may not be open yet). */
#define LATHE_PARAM_HOST_CHECKED (1u << 31)

typedef struct _LatheCatalog LatheCatalog;

/**
 * lathe_catalog_load:
 * @extra_dirs: (nullable): directories searched before the default path.
 *
 * Scans $LATHE_PLUGIN_PATH, then the install dir — or, when this binary runs
 * from its build tree, the build tree's plugins instead — loading every `*.so`. Refused files do not
 * stop the scan: their one-line reasons are in lathe_catalog_problems().
 *
 * Returns: (transfer full): the catalog.
 */
LatheCatalog *lathe_catalog_load(void);
void lathe_catalog_free(LatheCatalog *cat);

/**
 * lathe_catalog_add_file:
 *
 * Adds one plugin file, from the plugin cache when its size, mtime and inode
 * match, else by opening and inspecting it. Returns %FALSE with a one-line
 * @error naming the file and the reason when it is refused.
 */
gboolean lathe_catalog_add_file(LatheCatalog *cat, const char *path, GError **error);

/**
 * lathe_catalog_realize:
 *
 * Opens the component's plugin if needed and fills @info->klass. Call before
 * using @info->klass; thread-safe and cheap once done.
 */
gboolean lathe_catalog_realize(LatheCatalog *cat, LatheComponentInfo *info, GError **error);

/** lathe_catalog_lookup: (transfer none) (nullable) the component @id. */
LatheComponentInfo *lathe_catalog_lookup(LatheCatalog *cat, const char *id);
/** lathe_catalog_components: (transfer container) sorted by id. */
GPtrArray *lathe_catalog_components(LatheCatalog *cat);
/** lathe_catalog_plugins: (transfer none) LathePlugin*, in load order. */
GPtrArray *lathe_catalog_plugins(LatheCatalog *cat);
/** lathe_catalog_problems: (transfer none) char* refusal lines. */
GPtrArray *lathe_catalog_problems(LatheCatalog *cat);
/** lathe_catalog_search_path: (transfer none) the directories scanned. */
GPtrArray *lathe_catalog_search_path(LatheCatalog *cat);
/** lathe_catalog_suggest: (transfer full) (nullable) the closest component id. */
char *lathe_catalog_suggest(LatheCatalog *cat, const char *id);

/** lathe_plugin_digest: (transfer none) SHA-256 of the plugin file. */
const char *lathe_plugin_digest(LathePlugin *plugin);

/** lathe_catalog_save_cache: writes the plugin cache if anything changed. */
void lathe_catalog_save_cache(LatheCatalog *cat);

const char *lathe_kind_name(LatheComponentKind kind);
/** lathe_param_type_name: "int", "float", ... */
const char *lathe_param_type_name(LatheParamType type);
/** lathe_component_param: (nullable) the declared param @name. */
const LatheParamSpec *lathe_component_param(LatheComponentInfo *info, const char *name);
/** lathe_component_port: (nullable) the input (@output FALSE) or output port. */
const LathePortSpec *lathe_component_port(LatheComponentInfo *info, const char *name,
                                          gboolean output);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheCatalog, lathe_catalog_free)

G_END_DECLS
