/* The generic model: what the four neural model plugins share. Fit checks
 * the data and params, holds out the validation rows, builds the net from the
 * family's architecture params plus a dense head, trains it, and keeps the
 * weights as a decoded blob; predict rebuilds a private inference net per
 * call, so concurrent predicts on one model never share buffers. */
#include <math.h>
#include <string.h>

#include "nn-model.h"

const char *const lathe_nn_class_weight_choices[] = {"none", "balanced", NULL};
const char *const lathe_nn_activation_choices[] = {"relu", "tanh", NULL};
/* in LatheNnPooling order, so an index is the enum value */
const char *const lathe_nn_pooling_choices[] = {"last", "mean", "max", NULL};
const char *const lathe_nn_global_pool_choices[] = {"mean", "max", NULL};

/* Rows per inference pass: bounds predict's memory on large inputs. */
#define PREDICT_BATCH 256u

typedef struct {
  const LatheNnFamily *family;
  char *who; /* "model/mlp", for errors */
  JsonObject *arch;
  LatheNnBlob blob;
} LatheNnModel;

void lathe_nn_model_free(gpointer model) {
  LatheNnModel *m = model;
  if (!m)
    return;
  g_free(m->who);
  if (m->arch)
    json_object_unref(m->arch);
  lathe_nn_blob_clear(&m->blob);
  g_free(m);
}

/* ---- architecture -------------------------------------------------------- */

static JsonNode *arch_member(JsonObject *arch, const char *name, GError **error) {
  JsonNode *v = json_object_get_member(arch, name);
  if (!v)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "param '%s' is missing", name);
  return v;
}

/* An integer value, from an int node or an integral double ("3.0"). */
static gboolean node_int(JsonNode *v, gint64 *out) {
  if (!JSON_NODE_HOLDS_VALUE(v))
    return FALSE;
  GType t = json_node_get_value_type(v);
  if (t == G_TYPE_INT64) {
    *out = json_node_get_int(v);
    return TRUE;
  }
  if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double(v);
    if (d != floor(d) || fabs(d) > 9e15)
      return FALSE;
    *out = (gint64)d;
    return TRUE;
  }
  return FALSE;
}

gboolean lathe_nn_arch_sizes(JsonObject *arch, const char *name, gboolean allow_empty,
                             guint **sizes, guint *n, GError **error) {
  JsonNode *v = arch_member(arch, name, error);
  if (!v)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY(v)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "param '%s' must be a list of layer sizes", name);
    return FALSE;
  }
  JsonArray *a = json_node_get_array(v);
  const guint len = json_array_get_length(a);
  if (len == 0 && !allow_empty) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "param '%s' is empty; give at least one layer size, e.g. [64]", name);
    return FALSE;
  }
  *sizes = g_new(guint, len + 1);
  for (guint i = 0; i < len; i++) {
    gint64 s;
    if (!node_int(json_array_get_element(a, i), &s) || s < 1 || s > G_MAXINT) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "param '%s' item %u must be a positive integer size", name, i);
      g_clear_pointer(sizes, g_free);
      return FALSE;
    }
    (*sizes)[i] = (guint)s;
  }
  *n = len;
  return TRUE;
}

gboolean lathe_nn_arch_uint(JsonObject *arch, const char *name, guint min, guint max,
                            guint *out, GError **error) {
  JsonNode *v = arch_member(arch, name, error);
  gint64 s;
  if (!v)
    return FALSE;
  if (!node_int(v, &s) || s < min || s > max) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "param '%s' must be an integer in [%u, %u]", name, min, max);
    return FALSE;
  }
  *out = (guint)s;
  return TRUE;
}

gboolean lathe_nn_arch_choice(JsonObject *arch, const char *name, const char *const *choices,
                              guint *out, GError **error) {
  JsonNode *v = arch_member(arch, name, error);
  if (!v)
    return FALSE;
  const char *s = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                      ? json_node_get_string(v)
                      : NULL;
  for (guint i = 0; s && choices[i]; i++) {
    if (g_str_equal(s, choices[i])) {
      *out = i;
      return TRUE;
    }
  }
  g_autofree char *list = g_strjoinv(", ", (char **)choices);
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "param '%s' must be one of: %s", name,
              list);
  return FALSE;
}

gboolean lathe_nn_arch_rate(JsonObject *arch, const char *name, double *out, GError **error) {
  JsonNode *v = arch_member(arch, name, error);
  if (!v)
    return FALSE;
  GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
  double d = t == G_TYPE_INT64 || t == G_TYPE_DOUBLE ? json_node_get_double(v) : NAN;
  if (!(d >= 0.0 && d < 1.0)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "param '%s' must be in [0, 1)",
                name);
    return FALSE;
  }
  *out = d;
  return TRUE;
}

void lathe_nn_add_dropout(LatheNnNet *net, double rate) {
  if (rate > 0.0)
    lathe_nn_net_add(net, lathe_nn_dropout(rate));
}

const char *const lathe_nn_recurrent_arch[] = {"units", "pooling", "dropout", NULL};

gboolean lathe_nn_build_recurrent(LatheNnNet *net, JsonObject *arch,
                                  LatheNnLayer *(*layer)(guint units), GError **error) {
  g_autofree guint *units = NULL;
  guint n, pooling;
  double rate;
  if (!lathe_nn_arch_sizes(arch, "units", FALSE, &units, &n, error) ||
      !lathe_nn_arch_choice(arch, "pooling", lathe_nn_pooling_choices, &pooling, error) ||
      !lathe_nn_arch_rate(arch, "dropout", &rate, error))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    lathe_nn_net_add(net, layer(units[i]));
    lathe_nn_add_dropout(net, rate);
  }
  /* the choices are in LatheNnPooling order */
  lathe_nn_net_add(net, lathe_nn_pool((LatheNnPooling)pooling));
  return TRUE;
}

/* The family's body plus the head, set up (shapes and parameter count) but
 * not allocated. */
static LatheNnNet *new_net(const LatheNnFamily *f, JsonObject *arch, LatheNnShape in,
                           guint n_classes, GError **error) {
  LatheNnNet *net = lathe_nn_net_new(in, n_classes);
  if (!f->build(net, arch, error)) {
    lathe_nn_net_free(net);
    return NULL;
  }
  lathe_nn_net_add(net, lathe_nn_dense(n_classes, LATHE_NN_ACT_NONE));
  if (!lathe_nn_net_setup(net, error)) {
    lathe_nn_net_free(net);
    return NULL;
  }
  return net;
}

/* ---- fit ----------------------------------------------------------------- */

typedef struct {
  LatheNnTrainConfig train;
  double validation_fraction;
  gboolean balanced;
} FitParams;

static gboolean bad_param(const char *who, const char *name, double value, const char *want,
                          GError **error) {
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: param '%s' is %g; it must be %s",
              who, name, value, want);
  return FALSE;
}

/* The host has checked types and inclusive bounds; this refuses what a spec
 * cannot say (exclusive ends) and anything a caller that skipped the host's
 * checks could pass. */
static gboolean read_params(LatheContext *ctx, const char *who, FitParams *p, GError **error) {
  const gint64 epochs = lathe_context_param_int(ctx, "epochs");
  const gint64 batch = lathe_context_param_int(ctx, "batch_size");
  const gint64 patience = lathe_context_param_int(ctx, "patience");
  LatheNnTrainConfig *c = &p->train;
  c->lr = lathe_context_param_float(ctx, "lr");
  c->beta1 = lathe_context_param_float(ctx, "beta1");
  c->beta2 = lathe_context_param_float(ctx, "beta2");
  c->eps = lathe_context_param_float(ctx, "eps");
  c->weight_decay = lathe_context_param_float(ctx, "weight_decay");
  c->min_delta = lathe_context_param_float(ctx, "min_delta");
  p->validation_fraction = lathe_context_param_float(ctx, "validation_fraction");
  if (epochs < 1 || epochs > 100000)
    return bad_param(who, "epochs", (double)epochs, "in [1, 100000]", error);
  if (batch < 1 || batch > G_MAXINT)
    return bad_param(who, "batch_size", (double)batch, ">= 1", error);
  if (patience < 0 || patience > G_MAXINT)
    return bad_param(who, "patience", (double)patience, ">= 0", error);
  if (!(c->lr > 0.0 && c->lr <= 10.0))
    return bad_param(who, "lr", c->lr, "in (0, 10]", error);
  if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
    return bad_param(who, "beta1", c->beta1, "in [0, 1)", error);
  if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
    return bad_param(who, "beta2", c->beta2, "in [0, 1)", error);
  if (!(c->eps > 0.0 && isfinite(c->eps)))
    return bad_param(who, "eps", c->eps, "> 0", error);
  if (!(c->weight_decay >= 0.0 && isfinite(c->weight_decay)))
    return bad_param(who, "weight_decay", c->weight_decay, ">= 0", error);
  if (!(c->min_delta >= 0.0 && isfinite(c->min_delta)))
    return bad_param(who, "min_delta", c->min_delta, ">= 0", error);
  if (!(p->validation_fraction >= 0.0 && p->validation_fraction <= 0.9))
    return bad_param(who, "validation_fraction", p->validation_fraction, "in [0, 0.9]", error);
  const char *cw = lathe_context_param_string(ctx, "class_weight");
  if (g_strcmp0(cw, "none") != 0 && g_strcmp0(cw, "balanced") != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "%s: param 'class_weight' is '%s'; use \"none\" or \"balanced\"", who,
                cw ? cw : "(null)");
    return FALSE;
  }
  c->epochs = (guint)epochs;
  c->batch_size = (guint)batch;
  c->patience = (guint)patience;
  p->balanced = g_str_equal(cw, "balanced");
  return TRUE;
}

static JsonObject *arch_from_context(const LatheNnFamily *f, LatheContext *ctx, const char *who,
                                     GError **error) {
  JsonObject *params = lathe_context_get_params(ctx);
  JsonObject *arch = json_object_new();
  for (guint i = 0; f->arch_params[i]; i++) {
    JsonNode *v = params ? json_object_get_member(params, f->arch_params[i]) : NULL;
    if (!v) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: param '%s' is missing", who,
                  f->arch_params[i]);
      json_object_unref(arch);
      return NULL;
    }
    json_object_set_member(arch, f->arch_params[i], json_node_copy(v));
  }
  return arch;
}

static char *shape_text(LatheNnShape s) {
  return g_strdup_printf("%u step%s x %u channel%s", s.steps, s.steps == 1 ? "" : "s",
                         s.channels, s.channels == 1 ? "" : "s");
}

/* The valid input must be the same problem: same sample shape, same classes. */
static gboolean check_valid(const LatheDataset *train, const LatheDataset *valid,
                            LatheNnShape shape, const char *who, GError **error) {
  LatheNnShape vs;
  if (!lathe_nn_data_shape(valid, who, &vs, error))
    return FALSE;
  if (vs.steps != shape.steps || vs.channels != shape.channels) {
    g_autofree char *a = shape_text(vs), *b = shape_text(shape);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the valid input has samples of %s but the training data has %s; give both "
                "the same features",
                who, a, b);
    return FALSE;
  }
  if (!lathe_nn_data_check(valid, who, "validation", TRUE, error))
    return FALSE;
  gboolean same = valid->n_classes == train->n_classes;
  for (guint c = 0; same && c < train->n_classes; c++)
    same = g_strcmp0(valid->classes[c], train->classes[c]) == 0;
  if (!same) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the valid input's classes differ from the training data's; split both "
                "from one labelled dataset",
                who);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_classes(const LatheDataset *train, const char *who, GError **error) {
  if (train->n_classes < 2) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the training data has %u class; a classifier needs at least 2", who,
                train->n_classes);
    return FALSE;
  }
  guint *count = g_new0(guint, train->n_classes);
  for (guint r = 0; r < train->n_rows; r++)
    count[train->labels[r]]++;
  for (guint c = 0; c < train->n_classes; c++) {
    if (count[c] == 0) {
      g_autofree char *name = lathe_value_excerpt(train->classes[c], -1);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: class %s has no rows in the training data; add rows of it or drop "
                  "it from the classes",
                  who, name);
      g_free(count);
      return FALSE;
    }
  }
  g_free(count);
  return TRUE;
}

gpointer lathe_nn_model_fit(const LatheNnFamily *f, LatheContext *ctx,
                            const LatheDataset *train, const LatheDataset *valid,
                            GError **error) {
  g_autofree char *who =
      g_strdup_printf("model/%s node '%s'", f->name, lathe_context_node_id(ctx));
  LatheNnShape shape;
  FitParams prm;
  if (!lathe_nn_data_shape(train, who, &shape, error) ||
      !lathe_nn_data_check(train, who, "training", TRUE, error) ||
      !check_classes(train, who, error) || !read_params(ctx, who, &prm, error))
    return NULL;
  if (valid && !check_valid(train, valid, shape, who, error))
    return NULL;
  JsonObject *arch = arch_from_context(f, ctx, who, error);
  if (!arch)
    return NULL;
  g_autoptr(GError) local = NULL;
  LatheNnNet *net = new_net(f, arch, shape, train->n_classes, &local);
  if (!net) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s", who, local->message);
    json_object_unref(arch);
    return NULL;
  }

  /* The rows: all of train and valid, or a held-out share of train. */
  GArray *tr = NULL, *va = NULL;
  if (valid || prm.validation_fraction == 0.0) {
    tr = g_array_sized_new(FALSE, FALSE, sizeof(guint32), train->n_rows);
    for (guint32 r = 0; r < train->n_rows; r++)
      g_array_append_val(tr, r);
    va = g_array_new(FALSE, FALSE, sizeof(guint32));
    for (guint32 r = 0; valid && r < valid->n_rows; r++)
      g_array_append_val(va, r);
  } else {
    LatheRng split;
    lathe_rng_init(&split, lathe_seed_derive(lathe_context_seed(ctx), "nn-split"));
    lathe_nn_data_split(train, prm.validation_fraction, &split, &tr, &va);
    if (va->len == 0)
      lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                        "validation_fraction %g holds out no rows of %u; early stopping "
                        "watches the training loss",
                        prm.validation_fraction, train->n_rows);
  }
  const LatheNnSplit tsplit = {train, (const guint32 *)tr->data, tr->len};
  const LatheNnSplit vsplit = {valid ? valid : train, (const guint32 *)va->data, va->len};

  LatheNnModel *m = NULL;
  double *cw = NULL;
  LatheNnTrainResult res = {0};
  if (!lathe_nn_net_build(net, MIN(prm.train.batch_size, tr->len), TRUE, &local)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: %s", who, local->message);
    goto out;
  }
  LatheRng init;
  lathe_rng_init(&init, lathe_seed_derive(lathe_context_seed(ctx), "nn-init"));
  lathe_nn_net_init(net, &init);
  cw = lathe_nn_class_weights(train, tsplit.rows, tsplit.n, prm.balanced);
  if (!lathe_nn_train(net, ctx, who, &tsplit, &vsplit, cw, &prm.train, &res, error))
    goto out;

  m = g_new0(LatheNnModel, 1);
  m->family = f;
  m->who = g_strdup_printf("model/%s", f->name);
  JsonNode *node = json_node_init_object(json_node_alloc(), arch);
  m->blob.family = g_strdup(f->name);
  m->blob.arch_json = lathe_json_canonical(node);
  json_node_unref(node);
  /* The model's own copy, parsed back from the text: @arch shares its lists
   * with the node's params, which the host owns. */
  node = json_from_string(m->blob.arch_json, NULL);
  m->arch = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  m->blob.in = shape;
  m->blob.n_classes = train->n_classes;
  m->blob.epochs_run = res.epochs_run;
  m->blob.best_epoch = res.best_epoch;
  m->blob.best_loss = res.best_loss;
  m->blob.watched_valid = res.watched_valid;
  m->blob.stopped_early = res.stopped_early;
  m->blob.n_params = lathe_nn_net_n_params(net);
  m->blob.params =
      g_memdup2(lathe_nn_net_params(net), (m->blob.n_params + 1) * sizeof(nn_real));

  lathe_context_set_metric(ctx, "train_loss", res.last_loss);
  lathe_context_set_metric(ctx, "epochs_run", res.epochs_run);
  lathe_context_set_metric(ctx, "best_epoch", res.best_epoch);
  if (res.watched_valid) {
    lathe_context_set_metric(ctx, "val_loss", res.best_loss);
    lathe_context_set_metric(ctx, "val_accuracy", res.best_val_accuracy);
  }
  lathe_context_progress(ctx, 1.0, "done");
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%u training rows, %u validation rows; %u epochs%s, best epoch %u "
                    "(%s %.6g)",
                    tsplit.n, vsplit.n, res.epochs_run, res.stopped_early ? " (stopped early)" : "",
                    res.best_epoch, res.watched_valid ? "val_loss" : "loss", res.best_loss);
out:
  g_free(cw);
  g_array_free(tr, TRUE);
  g_array_free(va, TRUE);
  lathe_nn_net_free(net);
  if (arch)
    json_object_unref(arch);
  return m;
}

/* ---- predict, save, load, summary ----------------------------------------- */

float *lathe_nn_model_predict(gconstpointer model, const LatheDataset *data, guint *n_cols,
                              GError **error) {
  const LatheNnModel *m = model;
  LatheNnShape shape;
  if (!lathe_nn_data_shape(data, m->who, &shape, error))
    return NULL;
  if (shape.steps != m->blob.in.steps || shape.channels != m->blob.in.channels) {
    g_autofree char *a = shape_text(shape), *b = shape_text(m->blob.in);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: the data has samples of %s but the model was trained on %s; predict on "
                "data shaped like the training data",
                m->who, a, b);
    return NULL;
  }
  if (!lathe_nn_data_check(data, m->who, "input", FALSE, error))
    return NULL;
  const guint k = m->blob.n_classes, n = data->n_rows;
  float *out = g_try_malloc_n((gsize)n * k + 1, sizeof(float));
  if (!out) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: %u rows x %u classes of probabilities do not fit in memory", m->who, n, k);
    return NULL;
  }
  *n_cols = k;
  if (n == 0)
    return out;
  g_autoptr(GError) local = NULL;
  const guint mb = MIN(n, PREDICT_BATCH);
  LatheNnNet *net = new_net(m->family, m->arch, m->blob.in, k, &local);
  if (!net || !lathe_nn_net_build(net, mb, FALSE, &local)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s: %s", m->who, local->message);
    lathe_nn_net_free(net);
    g_free(out);
    return NULL;
  }
  memcpy(lathe_nn_net_params(net), m->blob.params, m->blob.n_params * sizeof(nn_real));
  const gsize sample = (gsize)shape.steps * shape.channels;
  nn_real *bx = g_try_malloc_n((gsize)mb * sample + 1, sizeof(nn_real));
  guint32 *rows = g_new(guint32, mb), *len = g_new(guint32, mb);
  if (!bx) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "%s: a batch of %u rows does not fit in "
                "memory", m->who, mb);
    g_clear_pointer(&out, g_free);
  }
  for (guint first = 0; bx && first < n; first += mb) {
    const guint nb = MIN(mb, n - first);
    for (guint i = 0; i < nb; i++)
      rows[i] = first + i;
    lathe_nn_gather(data, rows, nb, bx, len, NULL);
    lathe_nn_net_evaluate(net, nb, bx, len, NULL, NULL, out + (gsize)first * k, NULL);
  }
  g_free(bx);
  g_free(rows);
  g_free(len);
  lathe_nn_net_free(net);
  return out;
}

GBytes *lathe_nn_model_save(gconstpointer model, GError **error) {
  return lathe_nn_blob_write(&((const LatheNnModel *)model)->blob);
}

gpointer lathe_nn_model_load(const LatheNnFamily *f, GBytes *state, guint32 version,
                             GError **error) {
  g_autofree char *who = g_strdup_printf("model/%s", f->name);
  if (version != LATHE_NN_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: state version %u is not supported (this plugin reads version %u); "
                "retrain the model with this plugin",
                who, version, LATHE_NN_STATE_VERSION);
    return NULL;
  }
  LatheNnModel *m = g_new0(LatheNnModel, 1);
  m->family = f;
  m->who = g_steal_pointer(&who);
  if (!lathe_nn_blob_read(state, m->who, &m->blob, error)) {
    lathe_nn_model_free(m);
    return NULL;
  }
  const char *why = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!g_str_equal(m->blob.family, f->name)) {
    why = "it was saved by another model family";
  } else if (!json_parser_load_from_data(parser, m->blob.arch_json, -1, NULL) ||
             !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    why = "its architecture is not a JSON object";
  } else {
    m->arch = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
    LatheNnNet *net = new_net(f, m->arch, m->blob.in, m->blob.n_classes, &local);
    if (!net)
      why = local->message;
    else if (lathe_nn_net_n_params(net) != m->blob.n_params)
      why = "its parameter count does not match its architecture";
    lathe_nn_net_free(net);
  }
  if (why) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: saved model is corrupt or truncated (%s); retrain or restore the "
                "artifact",
                m->who, why);
    lathe_nn_model_free(m);
    return NULL;
  }
  return m;
}

JsonObject *lathe_nn_model_summary(gconstpointer model) {
  const LatheNnModel *m = model;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "family", m->family->name);
  json_object_set_int_member(o, "n_parameters", (gint64)m->blob.n_params);
  json_object_set_int_member(o, "epochs_run", m->blob.epochs_run);
  json_object_set_int_member(o, "best_epoch", m->blob.best_epoch);
  json_object_set_double_member(o, m->blob.watched_valid ? "best_val_loss" : "best_loss",
                                m->blob.best_loss);
  json_object_set_boolean_member(o, "stopped_early", m->blob.stopped_early);
  JsonArray *in = json_array_new();
  json_array_add_int_element(in, m->blob.in.steps);
  json_array_add_int_element(in, m->blob.in.channels);
  json_object_set_array_member(o, "input_shape", in);
  json_object_set_int_member(o, "n_classes", m->blob.n_classes);
  /* A deep copy, parsed from the blob's text (json_node_copy only adds a
   * reference): the host keeps the summary, and may free the model first. */
  JsonNode *arch = json_from_string(m->blob.arch_json, NULL);
  if (arch && JSON_NODE_HOLDS_OBJECT(arch))
    json_object_set_member(o, "architecture", arch);
  else if (arch)
    json_node_unref(arch);
  return o;
}
