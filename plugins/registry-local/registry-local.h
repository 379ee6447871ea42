/* registry-local.h: what the registry/local plugin offers beyond the ABI, for
 * Lathe's own tools (`lathe models`). Not part of the plugin ABI and not
 * installed: other registries do not have it, so a caller looks the symbol up
 * in this plugin's module and falls back gracefully when it is absent. */
#pragma once

#include <glib.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * LatheRegistryLocal:
 *
 * What LatheRegistryClass.open of registry/local returns (the `gpointer
 * registry` of the other calls).
 */
typedef struct _LatheRegistryLocal LatheRegistryLocal;

/**
 * LATHE_REGISTRY_LOCAL_ALIAS_HISTORY_SYMBOL:
 *
 * The name to pass to g_module_symbol() to find
 * lathe_registry_local_alias_history() in liblathe-registry-local.so.
 */
#define LATHE_REGISTRY_LOCAL_ALIAS_HISTORY_SYMBOL "lathe_registry_local_alias_history"

/**
 * LatheRegistryLocalAliasHistoryFunc:
 *
 * The type of lathe_registry_local_alias_history(), for g_module_symbol().
 */
typedef JsonArray *(*LatheRegistryLocalAliasHistoryFunc)(gpointer registry,
                                                         const char *name,
                                                         const char *alias,
                                                         GError **error);

/**
 * lathe_registry_local_alias_history:
 * @registry: a registry returned by the open call of registry/local.
 * @name: (nullable): a model name, or %NULL for every model.
 * @alias: (nullable): one alias of @name, or %NULL for all of them.
 * @error: return location for a #GError.
 *
 * Every time an alias was set to a new version, oldest first. Each entry is
 * an object {name, alias, version, previous_version, set_at} where
 * previous_version is null when the alias was first set and set_at is an ISO
 * 8601 UTC time. Setting an alias to the version it already has is not a move
 * and leaves no entry.
 *
 * Returns: (transfer full) (nullable): the history (empty when there is
 * none), or %NULL with @error set.
 */
G_MODULE_EXPORT JsonArray *lathe_registry_local_alias_history(gpointer registry,
                                                              const char *name,
                                                              const char *alias,
                                                              GError **error);

G_END_DECLS
