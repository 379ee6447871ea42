/* lathe-registry.h: the host side of the model registry. The storage is a
 * plugin (registry/local by default); this is how the host opens one and
 * what it records with each version. */
#pragma once

#include <lathe/lathe-context-private.h>

#include "catalog/catalog.h"

G_BEGIN_DECLS

/** LatheRegistry: an open registry plugin instance. */
typedef struct _LatheRegistry LatheRegistry;

/**
 * lathe_registry_open:
 * @cat: the catalog.
 * @id: (nullable): a registry component id; %NULL for "registry/local".
 * @params: (nullable): the plugin's params (transfer none); defaults fill the rest.
 * @base_dir: resolves relative paths in @params.
 * @store_dir: the run store, under which the default registry lives.
 *
 * Returns: (transfer full) (nullable): the registry, or %NULL with @error set.
 */
LatheRegistry *lathe_registry_open(LatheCatalog *cat, const char *id, JsonObject *params,
                                   const char *base_dir, const char *store_dir, GError **error);

/**
 * lathe_registry_open_in:
 * @klass: the registry component.
 * @ctx: a context holding its params and directories (transfer none; must
 *   outlive the registry).
 *
 * Opens a registry from a node's context (a register node).
 */
LatheRegistry *lathe_registry_open_in(const LatheRegistryClass *klass, LatheContext *ctx,
                                      GError **error);
void lathe_registry_close(LatheRegistry *reg);

/**
 * lathe_registry_register:
 * @model: a model artifact.
 * @meta: (transfer none): what to record with it; the host adds the model
 *   header and digest.
 * @alias: (nullable): an alias to point at the new version.
 * @version: (out): the new version.
 */
gboolean lathe_registry_register(LatheRegistry *reg, const char *name, LatheArtifact *model,
                                 JsonObject *meta, const char *alias, guint *version,
                                 GError **error);
/** lathe_registry_list: (transfer full) versions of @name, or all when %NULL. */
JsonArray *lathe_registry_list(LatheRegistry *reg, const char *name, GError **error);
gboolean lathe_registry_set_alias(LatheRegistry *reg, const char *name, const char *alias,
                                  guint version, GError **error);

/**
 * lathe_registry_fetch:
 * @ref: a version number ("3") or an alias.
 * @version: (out): the version @ref resolves to, 0 when none.
 *
 * Returns: (transfer full) (nullable): the model artifact @name holds at
 * @ref; %NULL without an error when no version matches (yet).
 */
LatheArtifact *lathe_registry_fetch(LatheRegistry *reg, const char *name, const char *ref,
                                    guint *version, GError **error);

/**
 * lathe_registry_alias_history:
 * @name: (nullable): a model name, or %NULL for all.
 * @alias: (nullable): an alias, or %NULL for all.
 *
 * Every move of an alias, oldest first: objects {name, alias, version,
 * previous_version (null when first set), set_at}, through the registry's
 * alias_history callback (ABI 1.4). A registry without it gives
 * %LATHE_ERROR_INVALID, saying so.
 *
 * Returns: (transfer full) (nullable): the history, or %NULL with @error set.
 */
JsonArray *lathe_registry_alias_history(LatheRegistry *reg, const char *name, const char *alias,
                                        GError **error);

/**
 * lathe_registry_rollback:
 * @from: (out): the version @alias held.
 * @to: (out): the version it holds now.
 *
 * Points @alias of @name back at the version it held before its latest move.
 * The rollback is itself a move, so a second rollback undoes the first.
 *
 * Returns: %FALSE with %LATHE_ERROR_INVALID when the alias was never set or
 * has no earlier version (it was set only once), or another code when the
 * registry fails.
 */
gboolean lathe_registry_rollback(LatheRegistry *reg, const char *name, const char *alias,
                                 guint *from, guint *to, GError **error);

/**
 * lathe_registry_delete_alias:
 *
 * Removes @alias of @name (the registry's delete_alias, ABI 1.4). The alias
 * history keeps its moves.
 *
 * Returns: %FALSE with %LATHE_ERROR_INVALID when the alias is not set, the
 * names are invalid, or the registry predates 1.4.
 */
gboolean lathe_registry_delete_alias(LatheRegistry *reg, const char *name, const char *alias,
                                     GError **error);

/**
 * lathe_registry_get_version:
 * @ref: a version number ("3") or an alias.
 *
 * What the registry records of @name at @ref, shaped like an element of
 * lathe_registry_list(): the registry's get_version (ABI 1.4), or its list
 * for older registries.
 *
 * Returns: (transfer full) (nullable): the version, or %NULL with @error set
 * (%LATHE_ERROR_INVALID when there is no such version).
 */
JsonObject *lathe_registry_get_version(LatheRegistry *reg, const char *name, const char *ref,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheRegistry, lathe_registry_close)

G_END_DECLS
