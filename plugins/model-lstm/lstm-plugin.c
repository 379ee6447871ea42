/* model/lstm: a stacked LSTM classifier on the nn engine.
 *
 * Body: for each size in `units`, an LSTM layer returning every step,
 * then dropout; then the sequence becomes a vector by its last valid step,
 * the mean or the maximum of its valid steps (`pooling`, honouring each row's
 * length). */
#include "nn-model.h"

static const LatheParamSpec lstm_params[] = {
    {.name = "units",
     .type = LATHE_PARAM_LIST,
     .default_json = "[64,64]",
     .min = 1,
     .flags = LATHE_PARAM_HAS_MIN,
     .item_type = LATHE_PARAM_INT,
     .doc = "units of each stacked recurrent layer, in order (at least one layer)"},
    LATHE_PARAM_ENUM_("pooling", "\"last\"", lathe_nn_pooling_choices,
                      "how the sequence becomes a vector: the last valid step, the mean "
                      "of the valid steps, or each unit's maximum over them"),
    LATHE_NN_TRAIN_PARAMS,
    LATHE_PARAM_END,
};

static const char *const lstm_arch[] = {"units", "pooling", "dropout", NULL};

static gboolean lstm_build(LatheNnNet *net, JsonObject *arch, GError **error) {
  g_autofree guint *units = NULL;
  guint n, pooling;
  double rate;
  if (!lathe_nn_arch_sizes(arch, "units", FALSE, &units, &n, error) ||
      !lathe_nn_arch_choice(arch, "pooling", lathe_nn_pooling_choices, &pooling, error) ||
      !lathe_nn_arch_rate(arch, "dropout", &rate, error))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    lathe_nn_net_add(net, lathe_nn_lstm(units[i]));
    lathe_nn_add_dropout(net, rate);
  }
  lathe_nn_net_add(net, lathe_nn_pool((LatheNnPooling)pooling));
  return TRUE;
}

LATHE_NN_MODEL_CLASS(lstm_class, "lstm",
                     "stacked LSTM (last, mean or max pooling, softmax), trained with Adam",
                     lstm_params, lstm_arch, lstm_build);

LATHE_PLUGIN_DEFINE("model-lstm", "0.1.0", "MIT", "LSTM sequence classifier",
                    LATHE_COMPONENT(lstm_class))
