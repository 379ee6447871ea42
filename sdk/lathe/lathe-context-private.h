/* lathe-context-private.h: how the host builds contexts and artifacts. Not
 * installed: plugins never call these, so they are not part of the SDK's
 * public API, though the library exports them for the host and its tests. */
#pragma once

#include "lathe-context.h"

G_BEGIN_DECLS

/**
 * LatheArtifactLoader:
 * @data: the loader's data.
 * @digest: the artifact's digest.
 * @error: where to say why the bytes cannot be read.
 *
 * Reads the serialised bytes of a lazy artifact. Called at most once per
 * artifact, with the artifact's lock held.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set.
 *
 * Since: 1.4
 */
typedef GBytes *(*LatheArtifactLoader)(gpointer data, const char *digest, GError **error);

/**
 * lathe_artifact_new_lazy:
 * @type: what the bytes hold.
 * @digest: the SHA-256 (hex) of the bytes, as the store names them.
 * @size: the length of the bytes.
 * @loader: reads the bytes on first access.
 * @data: (transfer full): for @loader, freed with @destroy.
 * @destroy: (nullable): frees @data with the artifact.
 *
 * An artifact restored from the content-addressed store by digest: its
 * digest and size are known, and its bytes are read only when a node reads
 * them (lathe_artifact_get_bytes() or a decoder), so a cached node that no
 * running node reads costs no I/O. A failed read fails the reading node with
 * one line naming @digest and suggesting --no-cache. Host-only.
 *
 * Returns: (transfer full): the artifact.
 *
 * Since: 1.4
 */
LATHE_API LatheArtifact *lathe_artifact_new_lazy(LatheArtifactType type, const char *digest,
                                                 gsize size, LatheArtifactLoader loader,
                                                 gpointer data, GDestroyNotify destroy);

/**
 * lathe_artifact_get_size:
 * @art: an artifact.
 *
 * The length of the serialised form, without reading a lazy artifact's
 * bytes (an artifact built from an object is serialised). Host-only.
 *
 * Returns: the size in bytes.
 *
 * Since: 1.4
 */
LATHE_API gsize lathe_artifact_get_size(LatheArtifact *art);

/**
 * lathe_artifact_read_bytes:
 * @art: an artifact.
 * @error: where a lazy artifact's failed read is reported.
 *
 * lathe_artifact_get_bytes() for the host, which must not take "no bytes"
 * for an empty artifact (the store would write an empty file under the
 * digest). Host-only.
 *
 * Returns: (transfer none) (nullable): the serialised form, or %NULL with
 *   @error set when a lazy artifact's bytes cannot be read.
 *
 * Since: 1.4
 */
LATHE_API GBytes *lathe_artifact_read_bytes(LatheArtifact *art, GError **error);

/**
 * LatheHostServices:
 *
 * The callbacks behind a context, supplied by the host. @host_data is the
 * pointer given to lathe_context_new(). Any may be %NULL.
 */
typedef struct {
  guint32 struct_size;
  void (*log)(gpointer host_data, LatheContext *ctx, GLogLevelFlags level,
              const char *message);
  void (*report)(gpointer host_data, LatheContext *ctx, const char *name,
                 double value, gint64 step);
  void (*progress)(gpointer host_data, LatheContext *ctx, double fraction,
                   const char *message);
  float *(*predict)(gpointer host_data, LatheContext *ctx,
                    LatheArtifact *model, const LatheDataset *data,
                    guint *n_cols, GError **error);
  /* Since: 1.3 */
  LatheArtifact *(*registry_fetch)(gpointer host_data, LatheContext *ctx,
                                   const char *name, const char *ref,
                                   guint *version, GError **error);
} LatheHostServices;

LATHE_API LatheContext *lathe_context_new(const char *node_id, JsonObject *params,
                                          guint64 seed, const LatheHostServices *host,
                                          gpointer host_data);
LATHE_API void lathe_context_free(LatheContext *ctx);
LATHE_API void lathe_context_set_dirs(LatheContext *ctx, const char *base_dir,
                                      const char *store_dir, const char *scratch_root);
LATHE_API void lathe_context_set_threads(LatheContext *ctx, guint threads);
LATHE_API void lathe_context_set_input(LatheContext *ctx, const char *name,
                                       LatheArtifact *art);
LATHE_API void lathe_context_cancel(LatheContext *ctx);
/** lathe_context_get_output: (transfer none) (nullable). */
LATHE_API LatheArtifact *lathe_context_get_output(LatheContext *ctx, const char *name);
/** lathe_context_get_metrics: (transfer none) name -> double node metrics. */
LATHE_API JsonObject *lathe_context_get_metrics(LatheContext *ctx);
/** lathe_context_get_content_key: (nullable) what the source's resolve set. */
LATHE_API const char *lathe_context_get_content_key(LatheContext *ctx);
/** lathe_context_set_run: what lathe_context_run_id() and lathe_context_pipeline() return (copied). */
LATHE_API void lathe_context_set_run(LatheContext *ctx, const char *run_id, const char *pipeline);
/** lathe_context_set_pins: the recorded versions lathe_context_get_pins() returns (a ref is taken). */
LATHE_API void lathe_context_set_pins(LatheContext *ctx, JsonArray *pins);

/* Artifacts the host rebuilds and the decoded objects it keeps with them. */

/**
 * lathe_artifact_new_from_bytes:
 * @type: what @bytes hold.
 * @bytes: (transfer none): a serialised artifact.
 *
 * An artifact rebuilt from its serialised form (host-only). Decoding is
 * lazy: a corrupt artifact fails in the getter, with an error.
 *
 * Returns: (transfer full): the artifact.
 */
LATHE_API LatheArtifact *lathe_artifact_new_from_bytes(LatheArtifactType type,
                                                       GBytes *bytes);

/**
 * lathe_artifact_set_cached_object:
 * @art: an artifact.
 * @object: (transfer full): a decoded object for reuse (a loaded model).
 * @free_func: frees @object with the artifact.
 *
 * Lets the host keep a loaded model with its artifact, so several evaluators
 * do not load it again. The first object set wins; later ones are freed.
 *
 * Returns: (transfer none): the object now kept.
 */
LATHE_API gpointer lathe_artifact_set_cached_object(LatheArtifact *art, gpointer object,
                                                    GDestroyNotify free_func);
/** lathe_artifact_get_cached_object: (transfer none) (nullable). */
LATHE_API gpointer lathe_artifact_get_cached_object(LatheArtifact *art);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheContext, lathe_context_free)

G_END_DECLS
