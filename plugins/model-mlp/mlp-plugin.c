/* model/mlp: a multilayer perceptron classifier on the nn engine.
 *
 * Body: for each size in `units`, a dense layer with the activation, then
 * dropout. A sequence dataset is flattened (steps x channels features). */
#include "nn-model.h"

static const LatheParamSpec mlp_params[] = {
    {.name = "units",
     .type = LATHE_PARAM_LIST,
     .default_json = "[100,100,100]",
     .min = 1,
     .flags = LATHE_PARAM_HAS_MIN,
     .item_type = LATHE_PARAM_INT,
     .doc = "units of each hidden dense layer, in order (at least one layer)"},
    LATHE_PARAM_ENUM_("activation", "\"relu\"", lathe_nn_activation_choices,
                      "activation of the hidden layers: relu or tanh"),
    LATHE_NN_TRAIN_PARAMS,
    LATHE_PARAM_END,
};

static const char *const mlp_arch[] = {"units", "activation", "dropout", NULL};

static gboolean mlp_build(LatheNnNet *net, JsonObject *arch, GError **error) {
  g_autofree guint *units = NULL;
  guint n, act;
  double rate;
  if (!lathe_nn_arch_sizes(arch, "units", FALSE, &units, &n, error) ||
      !lathe_nn_arch_choice(arch, "activation", lathe_nn_activation_choices, &act, error) ||
      !lathe_nn_arch_rate(arch, "dropout", &rate, error))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    lathe_nn_net_add(net, lathe_nn_dense(units[i], act == 0 ? LATHE_NN_ACT_RELU
                                                            : LATHE_NN_ACT_TANH));
    lathe_nn_add_dropout(net, rate);
  }
  return TRUE;
}

LATHE_NN_MODEL_CLASS(mlp_class, "mlp",
                     "multilayer perceptron (dense relu/tanh layers, softmax), trained with "
                     "Adam",
                     mlp_params, mlp_arch, mlp_build);

LATHE_PLUGIN_DEFINE("model-mlp", "0.1.0", "MIT", "multilayer perceptron classifier",
                    LATHE_COMPONENT(mlp_class))
