/* catalog-private.h: the plugin cache and plugin inspection, inside catalog/. */
#pragma once

#include <gmodule.h>
#include <json-glib/json-glib.h>
#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/* Small JSON caches in the user's cache directory, so that
 * commands need not open every plugin (and OpenBLAS) to learn what is there.
 * A cache is an optimisation only: unreadable or stale, it is rebuilt. */

/**
 * lathe_cache_read:
 * @name: the cache ("plugins", "blas").
 *
 * Reads $LATHE_CACHE_DIR (default: the user cache dir + "/lathe") /
 * NAME-VERSION.json, written by this Lathe version only.
 *
 * Returns: (transfer full): its object, or an empty one.
 */
JsonObject *lathe_cache_read(const char *name);

/** lathe_cache_write: replaces the cache @name (temp file, then rename);
 * failures are ignored. */
void lathe_cache_write(const char *name, JsonObject *obj);

/**
 * lathe_cache_read_split:
 * @name: the cache ("plugins-index").
 * @texts: (out) (transfer full) (nullable): the texts the index points into,
 *   a mapping of the file (%NULL when there is none).
 *
 * Reads a split cache, NAME-VERSION.json: a one-line index whose entries point at
 * texts read only on demand (lathe_cache_text()).
 *
 * Returns: (transfer full): the index, or an empty one.
 */
JsonObject *lathe_cache_read_split(const char *name, GBytes **texts);

/** lathe_cache_text: the text @entry of a split index points at (its "off"
 * and "len" members), or %NULL when it has none or it lies outside @texts. */
const char *lathe_cache_text(GBytes *texts, JsonObject *entry, gsize *len);

/** lathe_cache_write_split: replaces the split cache @name: each entry of
 * @index is written without its "meta" object, which becomes its text; an
 * entry without one keeps its text from @texts. Failures are ignored. */
void lathe_cache_write_split(const char *name, JsonObject *index, GBytes *texts);

/* Opening a plugin file, checking it against the ABI rules,
 * and describing it as JSON metadata (what the catalog and its cache keep). */

/**
 * lathe_plugin_inspect:
 * @path: a plugin file.
 * @module: (out) (transfer full) (nullable): the opened module, resident.
 * @error: set to the one-line refusal ("plugin PATH refused: ...").
 *
 * Applies every per-file rule (ELF, entry symbol, ABI version, struct sizes,
 * required callbacks, names, param defaults) and describes what the plugin
 * provides: {name, version, license, description, abi_major, abi_minor,
 * digest, components: [{kind, name, description, params, inputs, outputs}]}.
 * Rules between files (duplicate names) are the catalog's.
 *
 * Returns: (transfer full) (nullable): the metadata, or %NULL with @error set.
 */
JsonObject *lathe_plugin_inspect(const char *path, GModule **module, GError **error);

/**
 * lathe_plugin_component_copy:
 * @module: an open plugin.
 * @path: its file, for messages.
 * @kind: the component's kind.
 * @name: the component's name.
 *
 * Returns: (transfer full) (nullable): a zeroed copy, at the host's size, of
 * the kind struct, checked again; g_free() it.
 */
gpointer lathe_plugin_component_copy(GModule *module, const char *path, guint32 kind,
                                     const char *name, GError **error);

/* Scanning plugin files, out of process when lathe_catalog_set_scanner()
 * named a scanner (plugin-scan.c). */

/**
 * LatheScanResult:
 * @path: the file (its real path).
 * @meta: what lathe_plugin_inspect() said of it, or %NULL when refused.
 * @refused: the one-line refusal ("plugin PATH refused: ...").
 * @transient: the refusal says nothing about the file (the scanner was killed
 *   from outside): not to be kept in the plugin cache.
 */
typedef struct {
  const char *path;
  JsonObject *meta;
  char *refused;
  gboolean transient;
} LatheScanResult;

/**
 * lathe_plugin_scan:
 * @files: (array length=n): the files to inspect, results filled in.
 *
 * Inspects every file, in child processes of the scanner (several files per
 * child, a new child after one crashes or hangs, each file given
 * $LATHE_SCAN_TIMEOUT seconds, 10 by default), or in this process when no
 * scanner is set. A file whose scanner crashed or hung is refused.
 */
void lathe_plugin_scan(LatheScanResult *files, guint n);
/** lathe_scan_result_clear: frees what lathe_plugin_scan() filled in. */
void lathe_scan_result_clear(LatheScanResult *r);

G_END_DECLS
