/* lathe-artifact.h: typed, content-addressed values on the edges. */
#pragma once

/**
 * SECTION:lathe-artifact
 * @title: Artifacts
 * @short_description: typed, content-addressed values on the edges
 *
 * An artifact is what flows along an edge of the graph: a dataset, a model or
 * metrics. Its serialised bytes are its identity: their SHA-256 is its digest,
 * which cache keys and the run store use.
 */

#include "lathe-api.h"

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

/**
 * lathe_artifact_new_dataset:
 * @ds: (transfer full): the dataset.
 *
 * Wraps a dataset as an artifact.
 *
 * Returns: (transfer full): a dataset artifact.
 */
LATHE_API LatheArtifact *lathe_artifact_new_dataset(LatheDataset *ds);

/**
 * lathe_artifact_new_metrics:
 * @metrics: (transfer full): name -> value.
 *
 * Wraps metrics as an artifact.
 *
 * Returns: (transfer full): a metrics artifact.
 */
LATHE_API LatheArtifact *lathe_artifact_new_metrics(JsonObject *metrics);

/**
 * lathe_artifact_new_model:
 * @header: (transfer full): what the host knows of the model: "component",
 *   "plugin", "plugin_version", "state_version", "classes", "columns".
 * @state: (transfer none): the bytes from LatheModelClass.save.
 *
 * Wraps a trained model: the header the host reads, and the state only the
 * model plugin understands.
 *
 * Returns: (transfer full): a model artifact.
 */
LATHE_API LatheArtifact *lathe_artifact_new_model(JsonObject *header, GBytes *state);

/**
 * lathe_artifact_ref:
 * @art: an artifact.
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @art.
 */
LATHE_API LatheArtifact *lathe_artifact_ref(LatheArtifact *art);

/**
 * lathe_artifact_unref:
 * @art: an artifact.
 *
 * Drops a reference; the last one frees @art.
 */
LATHE_API void lathe_artifact_unref(LatheArtifact *art);

/**
 * lathe_artifact_get_kind:
 * @art: an artifact.
 *
 * What @art holds.
 *
 * Returns: its #LatheArtifactType.
 */
LATHE_API LatheArtifactType lathe_artifact_get_kind(const LatheArtifact *art);

/**
 * lathe_artifact_type_name:
 * @type: an artifact type.
 *
 * Names an artifact type.
 *
 * Returns: (transfer none): "dataset", "model", "metrics" or "any".
 */
LATHE_API const char *lathe_artifact_type_name(LatheArtifactType type);

/**
 * lathe_artifact_get_bytes:
 * @art: an artifact.
 *
 * The serialised form of @art, what its digest is computed over.
 *
 * Returns: (transfer none): the bytes.
 */
LATHE_API GBytes *lathe_artifact_get_bytes(LatheArtifact *art);

/**
 * lathe_artifact_get_digest:
 * @art: an artifact.
 *
 * The digest of @art: cache keys and the store name it by this.
 *
 * Returns: (transfer none): the hex SHA-256 of its bytes.
 */
LATHE_API const char *lathe_artifact_get_digest(LatheArtifact *art);

/**
 * lathe_artifact_get_dataset:
 * @art: an artifact.
 * @error: return location for a #GError, or %NULL.
 *
 * The dataset in @art, decoded once and then shared.
 *
 * Returns: (transfer none) (nullable): the dataset, or %NULL with @error set when @art is not a dataset or is corrupt.
 */
LATHE_API const LatheDataset *lathe_artifact_get_dataset(LatheArtifact *art,
                                                         GError **error);

/**
 * lathe_artifact_get_metrics:
 * @art: an artifact.
 * @error: return location for a #GError, or %NULL.
 *
 * The metrics in @art, decoded once and then shared.
 *
 * Returns: (transfer none) (nullable): the metrics, or %NULL with @error set.
 */
LATHE_API JsonObject *lathe_artifact_get_metrics(LatheArtifact *art, GError **error);

/**
 * lathe_artifact_get_model_header:
 * @art: an artifact.
 * @error: return location for a #GError, or %NULL.
 *
 * The header of the model in @art (component, plugin, state version, classes, columns).
 *
 * Returns: (transfer none) (nullable): the header, or %NULL with @error set.
 */
LATHE_API JsonObject *lathe_artifact_get_model_header(LatheArtifact *art,
                                                      GError **error);

/**
 * lathe_artifact_get_model_state:
 * @art: an artifact.
 * @error: return location for a #GError, or %NULL.
 *
 * The state of the model in @art, as its plugin saved it.
 *
 * Returns: (transfer none) (nullable): the state, or %NULL with @error set.
 */
LATHE_API GBytes *lathe_artifact_get_model_state(LatheArtifact *art, GError **error);

/**
 * lathe_sha256_hex:
 * @data: (array length=len): the bytes.
 * @len: their length.
 *
 * Hashes bytes the way artifacts are named.
 *
 * Returns: (transfer full): the hex SHA-256 of @data.
 */
LATHE_API char *lathe_sha256_hex(gconstpointer data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheArtifact, lathe_artifact_unref)

G_END_DECLS
