/* model/lstm: a stacked LSTM classifier on the nn engine.
 *
 * Body: for each size in `units`, an LSTM layer returning every step,
 * then dropout; then the sequence becomes a vector by its last valid step,
 * the mean or the maximum of its valid steps (`pooling`, honouring each row's
 * length). The stacking is shared with the other recurrent family
 * (lathe_nn_build_recurrent). */
#include "nn-model.h"

static const LatheParamSpec lstm_params[] = {
    LATHE_NN_RECURRENT_PARAMS("[64,64]"),
    LATHE_PARAM_END,
};

static gboolean lstm_build(LatheNnNet *net, JsonObject *arch, GError **error) {
  return lathe_nn_build_recurrent(net, arch, lathe_nn_lstm, error);
}

LATHE_NN_MODEL_CLASS(lstm_class, "lstm",
                     "stacked LSTM (last, mean or max pooling, softmax), trained with Adam",
                     lstm_params, lathe_nn_recurrent_arch, lstm_build);

LATHE_PLUGIN_DEFINE("model-lstm", "0.1.0", "MIT", "LSTM sequence classifier",
                    LATHE_COMPONENT(lstm_class))
