/* ab-registry.h: reading the model that holds an alias in a registry/local
 * folder, read-only. Internal to the evaluator-ab plugin (its tests compile
 * ab-registry.c in).
 *
 * Why a reader of its own: the plugin SDK gives a running node no way to open
 * a registry component, so the A/B node reads registry/local's documented
 * on-disk layout (schema 1: registry.db + blobs/sha256/ab/cdef...) directly
 * and never writes to it. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * LatheAbRegistryModel:
 * @version: the version the alias points at.
 * @digest: hex SHA-256 of @bytes, as the registry index records it.
 * @bytes: the serialised model artifact (checked against @digest).
 */
typedef struct {
  gint64 version;
  char *digest;
  GBytes *bytes;
} LatheAbRegistryModel;

/**
 * lathe_ab_registry_fetch:
 * @root: a registry/local folder (holding registry.db).
 * @name: the model name.
 * @alias: the alias.
 * @out: (out) (transfer full) (nullable): the model, or %NULL when the
 *   registry, the model or the alias does not exist (yet).
 * @error: return location for a #GError.
 *
 * Returns: %FALSE with @error set when the registry cannot be read, has a
 * schema this plugin does not know, or the blob is missing or corrupt.
 */
gboolean lathe_ab_registry_fetch(const char *root, const char *name, const char *alias,
                                 LatheAbRegistryModel **out, GError **error);

/** lathe_ab_registry_model_free: frees @m (nullable). */
void lathe_ab_registry_model_free(LatheAbRegistryModel *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheAbRegistryModel, lathe_ab_registry_model_free)

G_END_DECLS
