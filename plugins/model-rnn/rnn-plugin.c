/* model/rnn: a stacked tanh RNN classifier on the nn engine.
 *
 * Body: for each size in `units`, an Elman RNN layer (tanh) returning every step,
 * then dropout; then the sequence becomes a vector by its last valid step,
 * the mean or the maximum of its valid steps (`pooling`, honouring each row's
 * length). The stacking is shared with the other recurrent family
 * (lathe_nn_build_recurrent). */
#include "nn-model.h"

static const LatheParamSpec rnn_params[] = {
    LATHE_NN_RECURRENT_PARAMS("[128,128]"),
    LATHE_PARAM_END,
};

static gboolean rnn_build(LatheNnNet *net, JsonObject *arch, GError **error) {
  return lathe_nn_build_recurrent(net, arch, lathe_nn_rnn, error);
}

LATHE_NN_MODEL_CLASS(rnn_class, "rnn",
                     "stacked tanh RNN (last, mean or max pooling, softmax), trained with Adam",
                     rnn_params, lathe_nn_recurrent_arch, rnn_build);

LATHE_PLUGIN_DEFINE("model-rnn", "0.1.0", "MIT", "recurrent (tanh RNN) sequence classifier",
                    LATHE_COMPONENT(rnn_class))
