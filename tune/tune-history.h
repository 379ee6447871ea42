/* tune-history.h: what the tuner plugins (random, tpe, bayes) remember between ask and
 * tell: the numeric search space, and every trial asked or told, pending
 * ones included. Part of tune/ so the three plugins share one copy. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "tune-space-json.h"
#include "tune-space.h"

G_BEGIN_DECLS

/**
 * LatheTunerHistory:
 * @ctx: the tuner's context (logging, node id); owned by the host.
 * @component: the component id for messages ("tuner/tpe").
 * @sj: the numeric search space and its JSON names.
 * @seed: the study seed, lathe_context_seed() at create.
 *
 * The trials of one study as the samplers want them. They are kept sorted by
 * trial number, whatever the order in which they were asked or told, so that
 * a proposal depends only on the seed, the trial number and the set of
 * trials: a study resumed in a later run (its trials re-told before any ask)
 * sees exactly the history a single longer run would have seen.
 */
typedef struct {
  LatheContext *ctx;
  const char *component;
  LatheTuneSpaceJson *sj;
  guint64 seed;
  /*< private >*/
  GArray *entries; /* Entry, sorted by number */
} LatheTunerHistory;

/**
 * lathe_tuner_history_new:
 * @ctx: the tuner's context.
 * @component: the component id, static.
 * @space: the host's search space.
 * @error: return location for a #GError.
 *
 * Returns: (transfer full) (nullable): a history, or %NULL with a one-line
 *   @error naming the node and the dimension when the space cannot be
 *   sampled.
 */
LatheTunerHistory *lathe_tuner_history_new(LatheContext *ctx, const char *component,
                                           const LatheSearchSpace *space, GError **error);
void lathe_tuner_history_free(LatheTunerHistory *h);

/**
 * lathe_tuner_history_begin_ask:
 * @h: the history.
 * @trial: the number of the trial being asked.
 * @view: (out) (transfer container): the trials to propose from, oldest
 *   first, as the samplers take them (points owned by @h); g_free it.
 * @n: (out): the length of @view.
 * @error: return location for a #GError.
 *
 * Drops a pending trial numbered @trial (asking again replaces it) and lists
 * the others.
 *
 * Returns: %FALSE with @error when @trial was already told.
 */
gboolean lathe_tuner_history_begin_ask(LatheTunerHistory *h, guint trial, LatheTuneTrial **view,
                                       guint *n, GError **error);

/**
 * lathe_tuner_history_add_pending:
 * @h: the history.
 * @trial: the trial number.
 * @x: (array): the proposed point (copied).
 *
 * Records a proposal that has not been told yet.
 *
 * Returns: (transfer full): its JSON point, for ask() to return.
 */
JsonObject *lathe_tuner_history_add_pending(LatheTunerHistory *h, guint trial, const double *x);

/**
 * lathe_tuner_history_tell:
 * @h: the history.
 * @trial: the trial number.
 * @point: (nullable): the trial's point, read only for a trial this tuner
 *   never asked (a resumed study's trial from an earlier run).
 * @values: (array length=n_values): the objectives, minimised.
 * @n_values: how many (>= 1).
 * @state: how the trial ended.
 *
 * Finishes a pending trial or adds a trial from elsewhere. A point outside
 * the space is ignored with a logged warning. A complete trial with a
 * non-finite objective counts as failed.
 */
void lathe_tuner_history_tell(LatheTunerHistory *h, guint trial, JsonObject *point,
                              const double *values, guint n_values, LatheTrialState state);

/**
 * lathe_tuner_history_len:
 *
 * Returns: the number of trials, pending ones included.
 */
guint lathe_tuner_history_len(const LatheTunerHistory *h);

/**
 * lathe_tuner_history_values:
 * @h: the history.
 * @i: an index below lathe_tuner_history_len(), in trial-number order.
 * @n_values: (out): how many objectives were told (0 while pending).
 *
 * Returns: (transfer none) (nullable): the objectives told for trial @i.
 */
const double *lathe_tuner_history_values(const LatheTunerHistory *h, guint i, guint *n_values);

/**
 * lathe_tuner_history_number:
 *
 * Returns: the trial number of entry @i.
 */
guint lathe_tuner_history_number(const LatheTunerHistory *h, guint i);

/**
 * lathe_tuner_history_same_point:
 * @h: the history.
 * @a: (array): a point.
 * @b: (array): another point.
 *
 * Returns: whether @a and @b are the same point: the same choices, the same
 *   grid values of integers and stepped floats (so rounding noise does not
 *   tell them apart), equal continuous values, and the same inactive
 *   dimensions.
 */
gboolean lathe_tuner_history_same_point(const LatheTunerHistory *h, const double *a,
                                        const double *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LatheTunerHistory, lathe_tuner_history_free)

/**
 * lathe_tuner_history_tell_cb:
 *
 * A ready-made #LatheTunerClass tell callback, for a tuner whose struct
 * starts with its `LatheTunerHistory *`: records the trial.
 */
void lathe_tuner_history_tell_cb(gpointer tuner, guint trial, JsonObject *point, double value,
                                 LatheTrialState state);

/** lathe_tuner_history_tell_multi_cb: the same for tell_multi. */
void lathe_tuner_history_tell_multi_cb(gpointer tuner, guint trial, JsonObject *point,
                                       const double *values, guint n_values, LatheTrialState state);

/**
 * lathe_tuner_history_fail:
 * @lerr: (transfer full): the sampler's error.
 *
 * Sets @error to @lerr's message prefixed with the node and component, the
 * form every tuner error takes. Returns %FALSE.
 */
gboolean lathe_tuner_history_fail(LatheTunerHistory *h, GError **error, GError *lerr);

G_END_DECLS
