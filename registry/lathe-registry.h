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
 * lathe_registry_open_readonly:
 * @store_dir: the run store whose default registry (registry/local at
 *   <store>/registry) to read.
 *
 * Opens registry/local with its read_only param, for readers that must never
 * write (lathe ui): no folder made, no schema created or upgraded, every
 * write refused; a registry not made yet lists nothing. An older registry
 * schema is %LATHE_ERROR_INVALID, saying which command upgrades it.
 */
LatheRegistry *lathe_registry_open_readonly(LatheCatalog *cat, const char *base_dir,
                                           const char *store_dir, GError **error);

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
 * previous_version (null when first set), set_at, reason, user, run_id,
 * figures} (the last four null when the registry did not record them),
 * through the registry's alias_history callback (ABI 1.4). A registry
 * without it gives %LATHE_ERROR_INVALID, saying so.
 *
 * Returns: (transfer full) (nullable): the history, or %NULL with @error set.
 */
JsonArray *lathe_registry_alias_history(LatheRegistry *reg, const char *name, const char *alias,
                                        GError **error);

/**
 * lathe_registry_model_history:
 *
 * lathe_registry_alias_history() of one model (@name not %NULL), except that
 * a model that does not exist is an error (%LATHE_ERROR_INVALID from
 * lathe_registry_get_version(), naming it) rather than an empty history
 * (lathe models history, lathe ui).
 */
JsonArray *lathe_registry_model_history(LatheRegistry *reg, const char *name, const char *alias,
                                        GError **error);

/**
 * lathe_registry_models:
 *
 * One object per model, sorted by name: {name, versions (how many), latest
 * (the highest version), created (the latest version's), aliases: {alias:
 * version}}, built from lathe_registry_list().
 *
 * Returns: (transfer full) (nullable): the models, or %NULL with @error set.
 */
JsonArray *lathe_registry_models(LatheRegistry *reg, GError **error);

/**
 * lathe_registry_rollback:
 * @from: (out): the version @alias held.
 * @to: (out): the version it holds now.
 *
 * Points @alias of @name back at the version it held before its latest move,
 * recording reason "rollback". The rollback is itself a move, so a second
 * rollback undoes the first.
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

/* Why an alias moves: the reasons Lathe itself records (the reason is a
 * free string; docs/pipelines.md lists these). */
#define LATHE_REGISTRY_REASON_MANUAL "manual"
#define LATHE_REGISTRY_REASON_REGISTER "register"
#define LATHE_REGISTRY_REASON_PROMOTION "promotion"
#define LATHE_REGISTRY_REASON_ROLLBACK "rollback"
#define LATHE_REGISTRY_REASON_CANARY_WITHDRAWN "canary withdrawn"

/**
 * lathe_registry_why_new:
 * @reason: why the alias moves (LATHE_REGISTRY_REASON_* or another string).
 * @run_id: (nullable): the run that moves it.
 * @figures: (nullable) (transfer none): the numbers behind the move.
 *
 * Returns: (transfer full): {reason, user, run_id, figures}, the user being
 * this process's (g_get_user_name()), for lathe_registry_set_alias_why().
 */
JsonObject *lathe_registry_why_new(const char *reason, const char *run_id, JsonObject *figures);

/**
 * lathe_registry_set_alias_why:
 * @why: (nullable) (transfer none): from lathe_registry_why_new(); %NULL
 *   records a manual move by this user.
 *
 * Points @alias of @name at @version through the registry's set_alias_full
 * (ABI 1.8), which records @why in the alias history; a 1.7 registry gets
 * set_alias and keeps no reason.
 */
gboolean lathe_registry_set_alias_why(LatheRegistry *reg, const char *name, const char *alias,
                                      guint version, JsonObject *why, GError **error);

/**
 * lathe_registry_register_full:
 * @meta: (transfer none): as for lathe_registry_register(); the host adds
 *   the model header, its digest and its input signature ("signature").
 * @alias: (nullable): an alias to point at the new version.
 * @why: (nullable) (transfer none): why @alias moves; %NULL: "register".
 * @allow_signature_change: register even when the version @alias points at
 *   takes other inputs.
 *
 * Registers @model; with @alias, first checks that the version @alias points
 * at (when it records a signature) takes the same inputs, and refuses with
 * %LATHE_ERROR_INVALID, registering nothing, when it does not.
 */
gboolean lathe_registry_register_full(LatheRegistry *reg, const char *name, LatheArtifact *model,
                                      JsonObject *meta, const char *alias, JsonObject *why,
                                      gboolean allow_signature_change, guint *version,
                                      GError **error);

/**
 * lathe_registry_check_signature:
 * @signature: (transfer none): the inputs of what @alias is about to hold.
 * @allow: TRUE turns a refusal into success.
 * @what: how the refusal names the remedy ("the register node param
 *   allow_signature_change", "--allow-signature-change").
 *
 * Returns: %FALSE with %LATHE_ERROR_INVALID, naming the alias and both
 * signatures, when @name@@alias points at a version whose recorded
 * signature differs; %TRUE when it matches, records none, or the alias is
 * not set.
 */
gboolean lathe_registry_check_signature(LatheRegistry *reg, const char *name, const char *alias,
                                        JsonObject *signature, gboolean allow, const char *what,
                                        GError **error);

/**
 * lathe_registry_promote:
 * @version: (out): the version @to points at now.
 *
 * Points @to of @name at the version @from points at, recording reason
 * "promotion" (lathe models promote).
 */
gboolean lathe_registry_promote(LatheRegistry *reg, const char *name, const char *from,
                                const char *to, gboolean allow_signature_change, guint *version,
                                GError **error);

/* lathe_registry_version_signature: (transfer none) (nullable) the signature
 * in the metadata of @version, an element of lathe_registry_list(). */
JsonObject *lathe_registry_version_signature(JsonObject *version);

/* lathe-registry-meta.c */

/* The reference statistics' bins per feature. */
#define LATHE_REGISTRY_REF_BINS 10

/**
 * lathe_registry_signature_from_header:
 * @header: a model artifact's header.
 *
 * Returns: (transfer full): {columns, dtype, classes}, or for a model of
 * sequences {channels, seq_len, dtype, classes}.
 */
JsonObject *lathe_registry_signature_from_header(JsonObject *header);
/* Whether two signatures take the same inputs (classes are not compared). */
gboolean lathe_registry_signature_equal(JsonObject *a, JsonObject *b);
/* "4 columns (a, b, c, d)": a signature in a few words, for messages. */
char *lathe_registry_signature_brief(JsonObject *signature);

/**
 * lathe_registry_reference_stats:
 * @data: the training features.
 *
 * Returns: (transfer full): {bins, n_rows, seq_len?, features: [{name, min,
 * max, counts, missing}], classes?: {name: count}}: per feature (a column,
 * or a channel over the valid steps of sequences) LATHE_REGISTRY_REF_BINS
 * equal-width bins over its min..max, and the class distribution when
 * @data is labelled.
 */
JsonObject *lathe_registry_reference_stats(const LatheDataset *data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheRegistry, lathe_registry_close)

G_END_DECLS
