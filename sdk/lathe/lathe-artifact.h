/* lathe-artifact.h: typed, content-addressed values on the edges. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lathe-dataset.h"
#include "lathe-plugin.h"

G_BEGIN_DECLS

/**
 * LatheArtifact:
 *
 * An immutable, reference-counted value on an edge of the graph: a dataset,
 * a model or metrics. It has a serialised form whose SHA-256 is its digest;
 * the host stores that form in the artifact store and passes the decoded
 * object by reference between nodes of one process. Thread-safe.
 */
typedef struct _LatheArtifact LatheArtifact;

/** lathe_artifact_new_dataset: (transfer full) wraps @ds (transfer full). */
LatheArtifact *lathe_artifact_new_dataset(LatheDataset *ds);
/** lathe_artifact_new_metrics: (transfer full) wraps @metrics (transfer full). */
LatheArtifact *lathe_artifact_new_metrics(JsonObject *metrics);

/**
 * lathe_artifact_new_model:
 * @header: (transfer full): what the host knows of the model: "component",
 *   "plugin", "plugin_version", "state_version", "classes", "columns".
 * @state: (transfer none): the bytes from LatheModelClass.save.
 *
 * Returns: (transfer full): a model artifact.
 */
LatheArtifact *lathe_artifact_new_model(JsonObject *header, GBytes *state);

/**
 * lathe_artifact_new_from_bytes:
 * @type: what @bytes hold.
 * @bytes: (transfer none): a serialised artifact.
 *
 * Decoding is lazy: a corrupt artifact fails in the getter, with an error.
 *
 * Returns: (transfer full): the artifact.
 */
LatheArtifact *lathe_artifact_new_from_bytes(LatheArtifactType type,
                                             GBytes *bytes);

LatheArtifact *lathe_artifact_ref(LatheArtifact *art);
void lathe_artifact_unref(LatheArtifact *art);

LatheArtifactType lathe_artifact_get_kind(const LatheArtifact *art);
/** lathe_artifact_type_name: "dataset", "model", "metrics" or "any". */
const char *lathe_artifact_type_name(LatheArtifactType type);

/** lathe_artifact_get_bytes: (transfer none) the serialised form. */
GBytes *lathe_artifact_get_bytes(LatheArtifact *art);
/** lathe_artifact_get_digest: (transfer none) hex SHA-256 of the bytes. */
const char *lathe_artifact_get_digest(LatheArtifact *art);

/** lathe_artifact_get_dataset: (transfer none) (nullable) decodes once. */
const LatheDataset *lathe_artifact_get_dataset(LatheArtifact *art,
                                               GError **error);
/** lathe_artifact_get_metrics: (transfer none) (nullable) decodes once. */
JsonObject *lathe_artifact_get_metrics(LatheArtifact *art, GError **error);
/** lathe_artifact_get_model_header: (transfer none) (nullable). */
JsonObject *lathe_artifact_get_model_header(LatheArtifact *art,
                                            GError **error);
/** lathe_artifact_get_model_state: (transfer none) (nullable). */
GBytes *lathe_artifact_get_model_state(LatheArtifact *art, GError **error);

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
gpointer lathe_artifact_set_cached_object(LatheArtifact *art, gpointer object,
                                          GDestroyNotify free_func);
/** lathe_artifact_get_cached_object: (transfer none) (nullable). */
gpointer lathe_artifact_get_cached_object(LatheArtifact *art);

/** lathe_sha256_hex: (transfer full) hex SHA-256 of @data. */
char *lathe_sha256_hex(gconstpointer data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheArtifact, lathe_artifact_unref)

G_END_DECLS
