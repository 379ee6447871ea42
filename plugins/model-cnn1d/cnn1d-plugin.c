/* model/cnn1d: a 1-D convolutional classifier on the nn engine.
 *
 * Body: for each size in `filters`, a convolution ("same" padding, stride 1)
 * with the activation, a max-pool of `pool` steps (none when pool is 1) and
 * dropout; then the mean (global average pooling) or the maximum (global max
 * pooling, `global_pool`) over the valid steps; then the optional `dense`
 * hidden layers, each followed by dropout. */
#include "nn-model.h"

#define MAX_WINDOW 4096

static const LatheParamSpec cnn1d_params[] = {
    {.name = "filters",
     .type = LATHE_PARAM_LIST,
     .default_json = "[128,128,128]",
     .min = 1,
     .flags = LATHE_PARAM_HAS_MIN,
     .item_type = LATHE_PARAM_INT,
     .doc = "filters of each convolution block, in order (at least one block)"},
    LATHE_PARAM_INT_("kernel_size", "3", 1, MAX_WINDOW, "steps each convolution looks at"),
    LATHE_PARAM_INT_("pool", "2", 1, MAX_WINDOW,
                     "max-pool window (= stride) after each convolution; 1 = no pooling"),
    LATHE_PARAM_ENUM_("activation", "\"relu\"", lathe_nn_activation_choices,
                      "activation of the convolutions and dense layers: relu or tanh"),
    LATHE_PARAM_ENUM_("global_pool", "\"mean\"", lathe_nn_global_pool_choices,
                      "how the last block's steps become one vector: their mean, or each "
                      "filter's maximum (keeps short peaks)"),
    {.name = "dense",
     .type = LATHE_PARAM_LIST,
     .default_json = "[]",
     .min = 1,
     .flags = LATHE_PARAM_HAS_MIN,
     .item_type = LATHE_PARAM_INT,
     .doc = "units of extra hidden dense layers after the global pooling"},
    LATHE_NN_TRAIN_PARAMS,
    LATHE_PARAM_END,
};

static const char *const cnn1d_arch[] = {"filters", "kernel_size", "pool", "activation",
                                         "dense",   "dropout",     "global_pool", NULL};

static gboolean cnn1d_build(LatheNnNet *net, JsonObject *arch, GError **error) {
  g_autofree guint *filters = NULL, *dense = NULL;
  guint nf, nd, kernel, pool, act, gpool;
  double rate;
  if (!lathe_nn_arch_sizes(arch, "filters", FALSE, &filters, &nf, error) ||
      !lathe_nn_arch_uint(arch, "kernel_size", 1, MAX_WINDOW, &kernel, error) ||
      !lathe_nn_arch_uint(arch, "pool", 1, MAX_WINDOW, &pool, error) ||
      !lathe_nn_arch_choice(arch, "activation", lathe_nn_activation_choices, &act, error) ||
      !lathe_nn_arch_sizes(arch, "dense", TRUE, &dense, &nd, error) ||
      !lathe_nn_arch_rate(arch, "dropout", &rate, error) ||
      !lathe_nn_arch_choice(arch, "global_pool", lathe_nn_global_pool_choices, &gpool, error))
    return FALSE;
  const LatheNnActivation a = act == 0 ? LATHE_NN_ACT_RELU : LATHE_NN_ACT_TANH;
  for (guint i = 0; i < nf; i++) {
    lathe_nn_net_add(net, lathe_nn_conv1d(filters[i], kernel, a));
    if (pool > 1)
      lathe_nn_net_add(net, lathe_nn_maxpool(pool));
    lathe_nn_add_dropout(net, rate);
  }
  lathe_nn_net_add(net, lathe_nn_pool(gpool == 0 ? LATHE_NN_POOL_MEAN : LATHE_NN_POOL_MAX));
  for (guint i = 0; i < nd; i++) {
    lathe_nn_net_add(net, lathe_nn_dense(dense[i], a));
    lathe_nn_add_dropout(net, rate);
  }
  return TRUE;
}

LATHE_NN_MODEL_CLASS(cnn1d_class, "cnn1d",
                     "1-D convolutional network (conv, max-pool, global mean or max pooling, "
                     "softmax), trained with Adam",
                     cnn1d_params, cnn1d_arch, cnn1d_build);

LATHE_PLUGIN_DEFINE("model-cnn1d", "0.1.0", "MIT", "1-D convolutional sequence classifier",
                    LATHE_COMPONENT(cnn1d_class))
