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

/** lathe_artifact_new_dataset: (transfer full) wraps @ds (transfer full). */
LATHE_API LatheArtifact *lathe_artifact_new_dataset(LatheDataset *ds);
/** lathe_artifact_new_metrics: (transfer full) wraps @metrics (transfer full). */
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

LATHE_API LatheArtifact *lathe_artifact_ref(LatheArtifact *art);
LATHE_API void lathe_artifact_unref(LatheArtifact *art);

LATHE_API LatheArtifactType lathe_artifact_get_kind(const LatheArtifact *art);
/** lathe_artifact_type_name: "dataset", "model", "metrics" or "any". */
LATHE_API const char *lathe_artifact_type_name(LatheArtifactType type);

/** lathe_artifact_get_bytes: (transfer none) the serialised form. */
LATHE_API GBytes *lathe_artifact_get_bytes(LatheArtifact *art);
/** lathe_artifact_get_digest: (transfer none) hex SHA-256 of the bytes. */
LATHE_API const char *lathe_artifact_get_digest(LatheArtifact *art);

/** lathe_artifact_get_dataset: (transfer none) (nullable) decodes once. */
LATHE_API const LatheDataset *lathe_artifact_get_dataset(LatheArtifact *art,
                                                         GError **error);
/** lathe_artifact_get_metrics: (transfer none) (nullable) decodes once. */
LATHE_API JsonObject *lathe_artifact_get_metrics(LatheArtifact *art, GError **error);
/** lathe_artifact_get_model_header: (transfer none) (nullable). */
LATHE_API JsonObject *lathe_artifact_get_model_header(LatheArtifact *art,
                                                      GError **error);
/** lathe_artifact_get_model_state: (transfer none) (nullable). */
LATHE_API GBytes *lathe_artifact_get_model_state(LatheArtifact *art, GError **error);

/** lathe_sha256_hex: (transfer full) hex SHA-256 of @data. */
LATHE_API char *lathe_sha256_hex(gconstpointer data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheArtifact, lathe_artifact_unref)

G_END_DECLS
