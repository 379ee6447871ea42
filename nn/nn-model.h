/* nn-model.h: the glue between the engine and a model plugin. A plugin
 * declares its architecture params and a build function; everything else
 * (checks, split, training, predict, blob, summary) is generic. */
#pragma once

#include <lathe/lathe-sdk.h>

#include "nn-blob.h"
#include "nn-data.h"
#include "nn-net.h"
#include "nn-train.h"

G_BEGIN_DECLS

/**
 * LatheNnBuildFunc:
 * @net: a net with its input shape and class count, no layers yet.
 * @arch: the architecture params (from the node, or from a saved blob).
 *
 * Adds the body of the network; the generic code then adds the head (a dense
 * layer to n_classes logits, no activation). Validates @arch itself, since
 * it may come from a blob: a one-line error naming the param.
 */
typedef gboolean (*LatheNnBuildFunc)(LatheNnNet *net, JsonObject *arch, GError **error);

/**
 * LatheNnFamily:
 * @name: "mlp": the component is "model/@name" and blobs record it.
 * @arch_params: %NULL-terminated names of the params that shape the net;
 *   they are copied from the node into the blob.
 * @build: adds the body (see #LatheNnBuildFunc).
 */
typedef struct {
  const char *name;
  const char *const *arch_params;
  LatheNnBuildFunc build;
} LatheNnFamily;

/* Generic implementations of the LatheModelClass callbacks. */

/**
 * lathe_nn_model_fit:
 *
 * Checks @train (and @valid), reads the training params, holds out the
 * validation rows (the valid input, or validation_fraction of @train,
 * stratified and by group), builds the family's net plus the head, trains it
 * (lathe_nn_train()) and sets the node metrics train_loss, epochs,
 * best_epoch, and val_loss and val_accuracy of the best epoch when there was
 * a validation set. Every failure is a one-line error naming the component
 * and the node.
 *
 * Returns: (transfer full) (nullable): the model.
 */
gpointer lathe_nn_model_fit(const LatheNnFamily *family, LatheContext *ctx,
                            const LatheDataset *train, const LatheDataset *valid,
                            GError **error);
/**
 * lathe_nn_model_predict:
 *
 * Class probabilities, n_rows x n_classes. Refuses data whose samples are
 * not shaped as in training, and non-finite values. Builds a private
 * inference net per call, so concurrent calls on one model are safe.
 */
float *lathe_nn_model_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                              GError **error);
/** lathe_nn_model_save: the blob (see #LatheNnBlob); deterministic. */
GBytes *lathe_nn_model_save(gconstpointer model, GError **error);
/**
 * lathe_nn_model_load:
 *
 * Reads a blob (lathe_nn_blob_read()), refuses one of another family, and
 * rebuilds the net from its architecture to check that the weights fit it.
 */
gpointer lathe_nn_model_load(const LatheNnFamily *family, GBytes *state, guint32 version,
                             GError **error);
void lathe_nn_model_free(gpointer model);
/** lathe_nn_model_summary: parameter count, epochs run, best epoch, best
 * val_loss (or loss), stopped_early, input shape and architecture. */
JsonObject *lathe_nn_model_summary(gconstpointer model);

/* ---- helpers for build functions ---------------------------------------- */

/**
 * lathe_nn_arch_sizes:
 * @allow_empty: whether an empty list is valid (extra dense layers).
 * @sizes: (out) (transfer full): the items, each in 1..G_MAXINT.
 *
 * Reads a list of layer sizes.
 */
gboolean lathe_nn_arch_sizes(JsonObject *arch, const char *name, gboolean allow_empty,
                             guint **sizes, guint *n, GError **error);
/** lathe_nn_arch_uint: reads an integer param in [@min, @max]. */
gboolean lathe_nn_arch_uint(JsonObject *arch, const char *name, guint min, guint max,
                            guint *out, GError **error);
/** lathe_nn_arch_choice: reads an enum param; @out is its index in @choices. */
gboolean lathe_nn_arch_choice(JsonObject *arch, const char *name, const char *const *choices,
                              guint *out, GError **error);
/** lathe_nn_arch_rate: reads a probability in [0, 1) (the dropout). */
gboolean lathe_nn_arch_rate(JsonObject *arch, const char *name, double *out, GError **error);
/** lathe_nn_add_dropout: adds a dropout layer when @rate > 0. */
void lathe_nn_add_dropout(LatheNnNet *net, double rate);

/* The architecture params of a stacked recurrent family (model/rnn, model/lstm). */
extern const char *const lathe_nn_recurrent_arch[];

/**
 * lathe_nn_build_recurrent:
 * @layer: the recurrent layer constructor (lathe_nn_rnn, lathe_nn_lstm).
 *
 * Stacks one @layer per entry of `units`, each followed by dropout, then the
 * `pooling` that turns the sequence into a vector.
 */
gboolean lathe_nn_build_recurrent(LatheNnNet *net, JsonObject *arch,
                                  LatheNnLayer *(*layer)(guint units), GError **error);

/* ---- params -------------------------------------------------------------- */

extern const char *const lathe_nn_class_weight_choices[];
extern const char *const lathe_nn_activation_choices[];
extern const char *const lathe_nn_pooling_choices[];
extern const char *const lathe_nn_global_pool_choices[];

/**
 * LATHE_NN_TRAIN_PARAMS:
 *
 * The training params every neural model declares, as LatheParamSpec
 * initialisers. The spec bounds are inclusive; the exclusive ends (lr, eps
 * > 0; beta1, beta2, dropout < 1) are refused by fit with a one-line error.
 */
#define LATHE_NN_TRAIN_PARAMS                                                          \
  LATHE_PARAM_INT_("epochs", "50", 1, 100000, "the most passes over the training rows"), \
      {.name = "batch_size",                                                           \
       .type = LATHE_PARAM_INT,                                                        \
       .default_json = "64",                                                           \
       .min = 1,                                                                       \
       .flags = LATHE_PARAM_HAS_MIN,                                                   \
       .doc = "rows per Adam step (capped at the training rows)"},                     \
      LATHE_PARAM_FLOAT_("lr", "1e-3", 1e-8, 10.0, LATHE_PARAM_LOG,                    \
                         "Adam learning rate, in (0, 10]"),                            \
      LATHE_PARAM_FLOAT_("beta1", "0.9", 0.0, 1.0, 0,                                  \
                         "Adam decay of the gradient mean, in [0, 1)"),                \
      LATHE_PARAM_FLOAT_("beta2", "0.999", 0.0, 1.0, 0,                                \
                         "Adam decay of the squared-gradient mean, in [0, 1)"),        \
      {.name = "eps",                                                                  \
       .type = LATHE_PARAM_FLOAT,                                                      \
       .default_json = "1e-8",                                                         \
       .min = 0.0,                                                                     \
       .flags = LATHE_PARAM_HAS_MIN,                                                   \
       .doc = "Adam denominator term, > 0"},                                           \
      {.name = "weight_decay",                                                         \
       .type = LATHE_PARAM_FLOAT,                                                      \
       .default_json = "0.0",                                                          \
       .min = 0.0,                                                                     \
       .flags = LATHE_PARAM_HAS_MIN,                                                   \
       .doc = "L2 term added to the gradient, as PyTorch Adam (not AdamW's decay)"},   \
      {.name = "patience",                                                             \
       .type = LATHE_PARAM_INT,                                                        \
       .default_json = "10",                                                           \
       .min = 0,                                                                       \
       .flags = LATHE_PARAM_HAS_MIN,                                                   \
       .doc = "stop after this many epochs without improvement and restore the best "  \
              "weights; 0 = no early stopping"},                                       \
      {.name = "min_delta",                                                            \
       .type = LATHE_PARAM_FLOAT,                                                      \
       .default_json = "0.0",                                                          \
       .min = 0.0,                                                                     \
       .flags = LATHE_PARAM_HAS_MIN,                                                   \
       .doc = "the least fall of the watched loss that counts as an improvement"},     \
      LATHE_PARAM_FLOAT_("validation_fraction", "0.1", 0.0, 0.9, 0,                    \
                         "training rows held out (stratified, by group) for early "    \
                         "stopping when no valid input is connected; 0 = none"),       \
      LATHE_PARAM_ENUM_("class_weight", "\"none\"", lathe_nn_class_weight_choices,     \
                        "none, or balanced: n / (n_classes * rows of the class)"),     \
      LATHE_PARAM_FLOAT_("dropout", "0.0", 0.0, 1.0, 0,                                \
                         "dropout rate after each hidden layer or block, in [0, 1)")

/**
 * LATHE_NN_MODEL_CLASS:
 * @klass: the name of the LatheModelClass variable to define.
 * @name_: the component name, a string literal ("mlp").
 * @desc_: its one-line description.
 * @params_: its LatheParamSpec array.
 * @arch_: its %NULL-terminated architecture param names.
 * @build_: its #LatheNnBuildFunc.
 *
 * Defines the family and a complete model class whose callbacks are the
 * generic ones above.
 */
/**
 * LATHE_NN_RECURRENT_PARAMS:
 * @default_units: the JSON default of `units` ("[64,64]").
 *
 * The params of a stacked recurrent family: units, pooling, and training.
 */
#define LATHE_NN_RECURRENT_PARAMS(default_units)                                        \
  {.name = "units",                                                                     \
   .type = LATHE_PARAM_LIST,                                                            \
   .default_json = default_units,                                                       \
   .min = 1,                                                                            \
   .flags = LATHE_PARAM_HAS_MIN,                                                        \
   .item_type = LATHE_PARAM_INT,                                                        \
   .doc = "units of each stacked recurrent layer, in order (at least one layer)"},      \
      LATHE_PARAM_ENUM_("pooling", "\"last\"", lathe_nn_pooling_choices,               \
                        "how the sequence becomes a vector: the last valid step, the "  \
                        "mean of the valid steps, or each unit's maximum over them"),  \
      LATHE_NN_TRAIN_PARAMS

#define LATHE_NN_MODEL_CLASS(klass, name_, desc_, params_, arch_, build_)               \
  static const LatheNnFamily klass##_family = {name_, arch_, build_};                  \
  static gpointer klass##_fit(LatheContext *ctx, const LatheDataset *train,            \
                              const LatheDataset *valid, GError **error) {             \
    return lathe_nn_model_fit(&klass##_family, ctx, train, valid, error);              \
  }                                                                                    \
  static gpointer klass##_load(GBytes *state, guint32 version, GError **error) {       \
    return lathe_nn_model_load(&klass##_family, state, version, error);                \
  }                                                                                    \
  static const LatheModelClass klass = {                                               \
      LATHE_COMPONENT_INIT(LatheModelClass, LATHE_KIND_MODEL, name_, desc_, params_,   \
                           NULL, NULL),                                                \
      .state_version = LATHE_NN_STATE_VERSION,                                         \
      .fit = klass##_fit,                                                              \
      .predict = lathe_nn_model_predict,                                               \
      .save = lathe_nn_model_save,                                                     \
      .load = klass##_load,                                                            \
      .free = lathe_nn_model_free,                                                     \
      .summary = lathe_nn_model_summary,                                               \
  }

G_END_DECLS
