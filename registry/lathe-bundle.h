/* lathe-bundle.h: model bundles, one registered version in a tar file that
 * another machine's registry can import (docs/bundles.md). */
#pragma once

#include "lathe-registry.h"

G_BEGIN_DECLS

/* The newest bundle format this build writes and reads. */
#define LATHE_BUNDLE_FORMAT 1
/* Bounds on what import reads: one member, and all members together. */
#define LATHE_BUNDLE_MAX_MEMBER ((gint64)4 << 30)
#define LATHE_BUNDLE_MAX_TOTAL ((gint64)6 << 30)

/** LatheBundle: a bundle read and verified, not yet imported. */
typedef struct {
  JsonObject *manifest;   /* the parsed manifest.json */
  char *manifest_sha256;  /* of manifest.json's bytes */
  GBytes *blob;           /* model.lathe */
} LatheBundle;

void lathe_bundle_free(LatheBundle *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheBundle, lathe_bundle_free)

/**
 * lathe_bundle_export:
 * @ref: a version number or an alias of @name.
 *
 * Writes @name at @ref to @path. The same version gives the same bytes.
 *
 * Returns: (transfer full) (nullable): a summary {name, version, file,
 * manifest_sha256, members}, or %NULL with @error set.
 */
JsonObject *lathe_bundle_export(LatheRegistry *reg, const char *name, const char *ref,
                                const char *path, GError **error);

/**
 * lathe_bundle_read_memory:
 * @label: the file name errors name.
 *
 * Reads and verifies a bundle (every member's digest and size, the manifest,
 * the format); refuses links, devices, paths, duplicates and unknown members
 * with %LATHE_ERROR_INVALID.
 */
LatheBundle *lathe_bundle_read_memory(const void *data, gsize len, const char *label,
                                      GError **error);
LatheBundle *lathe_bundle_read_file(const char *path, GError **error);

/**
 * lathe_bundle_import:
 * @name: (nullable): the name to register under; the bundle's when %NULL.
 * @alias: (nullable): an alias to point at the new version.
 *
 * Verifies the bundle whole before registering anything, then registers its
 * blob with the bundle's metadata plus an imported_from record.
 *
 * Returns: (transfer full) (nullable): {name, version, alias, imported_from}.
 */
JsonObject *lathe_bundle_import(LatheRegistry *reg, const char *path, const char *name,
                                const char *alias, GError **error);

G_END_DECLS
