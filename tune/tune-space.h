/* tune-space.h: the numeric view of a search space that the tuner
 * algorithms (tune/) work on. The tuner plugins translate a
 * #LatheSearchSpace (JSON, names) into this once, when they are created, so
 * that the samplers never touch JSON in their inner loops. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheTuneKind:
 * @LATHE_TUNE_FLOAT: a real in [lo, hi], optionally on a grid of @step.
 * @LATHE_TUNE_INT: an integer in [lo, hi], optionally on a grid of @step.
 * @LATHE_TUNE_CATEGORICAL: one of @n_choices unordered values, held as the
 *   choice index 0..n_choices-1.
 */
typedef enum {
  LATHE_TUNE_FLOAT = 0,
  LATHE_TUNE_INT = 1,
  LATHE_TUNE_CATEGORICAL = 2,
} LatheTuneKind;

/**
 * LatheTuneDim:
 * @kind: a #LatheTuneKind.
 * @lo: the lower bound (inclusive); > 0 when @log.
 * @hi: the upper bound (inclusive); > @lo.
 * @step: the grid (values are lo + k * step), or 0 for none; never with @log.
 * @log: sample and model the value on a log scale.
 * @n_choices: for CATEGORICAL, the number of choices (>= 1).
 * @parent: the index of the dimension this one depends on, or -1 when it is
 *   always active. A parent always has a smaller index than its children.
 * @cond_lo: for a numeric parent: this dimension is active when the parent
 *   is active and its value is in [@cond_lo, @cond_hi].
 * @cond_hi: see @cond_lo.
 * @cond_choices: for a categorical parent: active when the parent is active
 *   and bit (1 << choice) is set (so at most 64 choices take part in
 *   conditions).
 *
 * A point is an array of doubles, one per dimension, in the native scale
 * (not log-transformed; categoricals as the choice index). Inactive
 * dimensions hold NAN.
 */
typedef struct {
  LatheTuneKind kind;
  double lo;
  double hi;
  double step;
  gboolean log;
  guint n_choices;
  int parent;
  double cond_lo;
  double cond_hi;
  guint64 cond_choices;
} LatheTuneDim;

/**
 * LatheTuneSpace:
 * @n_dims: the number of dimensions.
 * @dims: (array length=n_dims): the dimensions; owned by the caller.
 */
typedef struct {
  guint n_dims;
  const LatheTuneDim *dims;
} LatheTuneSpace;

/**
 * LatheTuneTrial:
 * @x: (array): a point of @n_dims values (see #LatheTuneDim).
 * @value: the objective (always minimised); meaningful when @state is
 *   %LATHE_TUNE_COMPLETE.
 * @state: a #LatheTuneState.
 *
 * One entry of the history a sampler proposes from. Running trials (asked,
 * not yet told) come as %LATHE_TUNE_PENDING: samplers must avoid proposing
 * them again (constant liar for TPE, fantasised observations for the GP).
 */
typedef enum {
  LATHE_TUNE_COMPLETE = 1,
  LATHE_TUNE_FAILED = 2,
  LATHE_TUNE_PRUNED = 3,
  LATHE_TUNE_PENDING = 4,
} LatheTuneState;

typedef struct {
  const double *x;
  double value;
  LatheTuneState state;
} LatheTuneTrial;

/**
 * lathe_tune_space_active:
 * @space: the space.
 * @x: a point whose dimensions before @i are already decided.
 * @i: a dimension index.
 *
 * Returns: whether dimension @i is active at @x, following its parents.
 */
gboolean lathe_tune_space_active(const LatheTuneSpace *space, const double *x, guint i);

/**
 * lathe_tune_space_from_unit:
 * @space: the space.
 * @u: a value in [0, 1] for dimension @i.
 * @i: a dimension index.
 *
 * Maps @u to the native value of dimension @i: linear or log between the
 * bounds; integers and stepped values widened by half a step on each side
 * and rounded, so that every grid value gets the same share of [0, 1];
 * categoricals as floor(u * n_choices) clamped.
 */
double lathe_tune_space_from_unit(const LatheTuneSpace *space, double u, guint i);

/**
 * lathe_tune_space_to_unit:
 *
 * The inverse of lathe_tune_space_from_unit() (for grid values, the centre
 * of their share). Returns NAN for NAN.
 */
double lathe_tune_space_to_unit(const LatheTuneSpace *space, double x, guint i);

G_END_DECLS
