/* The portable blob of a forest.
 *
 * Layout (all little-endian):
 *   0  "LATHEFOR"             magic
 *   8  u32 format version     (LATHE_FOREST_STATE_VERSION)
 *  12  u32 kind, n_features, n_inputs, target_col, n_outputs,
 *      n_trees, n_nodes, n_values
 *  44  f64 oob_score          (NaN: not computed)
 *  52  u32 names_size
 *  56  u32 tree_start[n_trees + 1]
 *      {i32 feature, f32 threshold, u32 child}[n_nodes]
 *      f32 values[n_values * n_outputs]
 *      f32 importances[n_features]
 *      names: n_inputs NUL-terminated UTF-8 strings, names_size bytes
 * end  8 bytes: the start of the SHA-256 of everything before
 *
 * Load bounds every count by the payload before multiplying, checks the
 * checksum, then every node: children lie after their parent inside the same
 * tree, so a walk always ends on a leaf; features and leaf rows are in range.
 * A blob that passes cannot make predict read out of bounds or loop. */
#include <math.h>
#include <string.h>

#include "forest-internal.h"

#define MAGIC "LATHEFOR"
#define HEADER_SIZE 56
#define SUM_SIZE LATHE_BLOB_SUM_SIZE

GBytes *lathe_forest_save(const LatheForest *f) {
  GByteArray *b = g_byte_array_new();
  lathe_blob_put_header(b, MAGIC, LATHE_FOREST_STATE_VERSION);
  const guint32 head[] = {f->kind, f->n_features, f->n_inputs,
                          f->target_col, f->n_outputs, f->n_trees, f->n_nodes, f->n_values};
  for (guint i = 0; i < G_N_ELEMENTS(head); i++)
    lathe_blob_put_u32(b, head[i]);
  guint64 oob;
  double score = f->oob_score;
  memcpy(&oob, &score, 8);
  lathe_blob_put_u32(b, (guint32)oob);
  lathe_blob_put_u32(b, (guint32)(oob >> 32));
  guint32 names_size = 0;
  for (guint i = 0; i < f->n_inputs; i++)
    names_size += (guint32)strlen(f->columns[i]) + 1;
  lathe_blob_put_u32(b, names_size);
  for (guint t = 0; t <= f->n_trees; t++)
    lathe_blob_put_u32(b, f->tree_start[t]);
  for (guint i = 0; i < f->n_nodes; i++) {
    lathe_blob_put_u32(b, (guint32)f->nodes[i].feature);
    lathe_blob_put_f32(b, f->nodes[i].threshold);
    lathe_blob_put_u32(b, f->nodes[i].child);
  }
  for (gsize i = 0; i < (gsize)f->n_values * f->n_outputs; i++)
    lathe_blob_put_f32(b, f->values[i]);
  for (guint j = 0; j < f->n_features; j++)
    lathe_blob_put_f32(b, f->importances[j]);
  for (guint i = 0; i < f->n_inputs; i++)
    g_byte_array_append(b, (const guint8 *)f->columns[i], (guint)strlen(f->columns[i]) + 1);
  return lathe_blob_seal(b);
}

static gpointer corrupt(GError **error, const char *why) {
  return lathe_blob_corrupt(error, "model/forest", why);
}

/* The shape fields, checked against each other and the kind. */
static gboolean shape_ok(guint32 kind, guint32 d, guint32 n_in, guint32 target, guint32 k) {
  if (d == 0)
    return FALSE;
  if (kind == LATHE_FOREST_CLASSIFY)
    return k >= 2 && target == G_MAXUINT32 && n_in == d;
  if (kind == LATHE_FOREST_REGRESS)
    return k == 1 && ((target == G_MAXUINT32 && n_in == d) || (target < n_in && n_in == d + 1));
  return FALSE;
}

/* Every tree non-empty, every node's references inside its own tree. */
static const char *check_trees(const LatheForest *f) {
  if (f->tree_start[0] != 0 || f->tree_start[f->n_trees] != f->n_nodes)
    return "tree offsets do not cover the nodes";
  for (guint t = 0; t < f->n_trees; t++) {
    guint32 lo = f->tree_start[t], hi = f->tree_start[t + 1];
    if (hi <= lo)
      return "an empty tree";
    for (guint32 i = lo; i < hi; i++) {
      const LatheForestNode *nd = &f->nodes[i];
      if (nd->feature == -1) {
        if (nd->child >= f->n_values)
          return "a leaf outside the value table";
        continue;
      }
      if (nd->feature < 0 || (guint32)nd->feature >= f->n_features)
        return "a node tests a feature the model does not have";
      if (!isfinite(nd->threshold))
        return "a non-finite threshold";
      if (nd->child <= i - lo || (guint64)nd->child + 1 >= hi - lo)
        return "a child outside its tree";
    }
  }
  return NULL;
}

/* The column names: exactly n_inputs NUL-terminated UTF-8 strings. */
static char **read_names(const guint8 *p, guint32 size, guint32 count) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  guint32 at = 0;
  while (at < size && names->len < count) {
    const guint8 *end = memchr(p + at, 0, size - at);
    if (!end || !g_utf8_validate((const char *)p + at, end - (p + at), NULL))
      break;
    g_ptr_array_add(names, g_strndup((const char *)p + at, end - (p + at)));
    at = (guint32)(end - p) + 1;
  }
  if (at != size || names->len != count) {
    g_ptr_array_free(names, TRUE);
    return NULL;
  }
  g_ptr_array_add(names, NULL);
  g_ptr_array_set_free_func(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
}

LatheForest *lathe_forest_load(GBytes *state, guint32 version, GError **error) {
  if (version != LATHE_FOREST_STATE_VERSION) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "model/forest: state version %u is not supported (this plugin reads version "
                "%u); retrain the model with this plugin",
                version, LATHE_FOREST_STATE_VERSION);
    return NULL;
  }
  gsize size;
  const guint8 *data = lathe_blob_read_header(state, "model/forest", MAGIC,
                                              LATHE_FOREST_STATE_VERSION, HEADER_SIZE, &size, error);
  if (!data)
    return NULL;
  guint32 kind = lathe_blob_get_u32(data + 12), d = lathe_blob_get_u32(data + 16), n_in = lathe_blob_get_u32(data + 20);
  guint32 target = lathe_blob_get_u32(data + 24), k = lathe_blob_get_u32(data + 28), n_trees = lathe_blob_get_u32(data + 32);
  guint32 n_nodes = lathe_blob_get_u32(data + 36), n_values = lathe_blob_get_u32(data + 40);
  guint32 names_size = lathe_blob_get_u32(data + 52);
  if (!shape_ok(kind, d, n_in, target, k) || n_trees == 0)
    return corrupt(error, "inconsistent dimensions");

  /* Every count is below 2^32 and the sum is in 64 bits, so nothing wraps. */
  guint64 expect = (guint64)HEADER_SIZE + 4 * ((guint64)n_trees + 1) + 12 * (guint64)n_nodes +
                   4 * (guint64)n_values * k + 4 * (guint64)d + names_size + SUM_SIZE;
  if (expect != size)
    return corrupt(error, "size does not match the dimensions it records");
  if (!lathe_blob_sealed(data, size))
    return corrupt(error, "checksum mismatch");

  LatheForest *f = lathe_forest_new();
  f->kind = kind;
  f->n_features = d;
  f->n_inputs = n_in;
  f->target_col = target;
  f->n_outputs = k;
  f->n_trees = n_trees;
  f->n_nodes = n_nodes;
  f->n_values = n_values;
  guint64 oob = (guint64)lathe_blob_get_u32(data + 44) | (guint64)lathe_blob_get_u32(data + 48) << 32;
  memcpy(&f->oob_score, &oob, 8);
  f->threads = MIN(g_get_num_processors(), 8u);
  const guint8 *p = data + HEADER_SIZE;
  f->tree_start = g_new(guint32, (gsize)n_trees + 1);
  for (guint t = 0; t <= n_trees; t++, p += 4)
    f->tree_start[t] = lathe_blob_get_u32(p);
  f->nodes = g_new(LatheForestNode, (gsize)n_nodes + 1);
  for (guint i = 0; i < n_nodes; i++, p += 12)
    f->nodes[i] = (LatheForestNode){(gint32)lathe_blob_get_u32(p), lathe_blob_get_f32(p + 4), lathe_blob_get_u32(p + 8)};
  f->values = g_new(float, (gsize)n_values * k + 1);
  gboolean finite = TRUE;
  for (gsize i = 0; i < (gsize)n_values * k; i++, p += 4)
    finite &= isfinite(f->values[i] = lathe_blob_get_f32(p)) != 0;
  f->importances = g_new(float, (gsize)d + 1);
  for (guint j = 0; j < d; j++, p += 4)
    finite &= isfinite(f->importances[j] = lathe_blob_get_f32(p)) != 0;
  f->columns = read_names(p, names_size, n_in);
  const char *why = !finite      ? "a non-finite value"
                    : !f->columns ? "bad column names"
                                  : check_trees(f);
  if (why) {
    lathe_forest_free(f);
    return corrupt(error, why);
  }
  lathe_forest_prepare(f);
  return f;
}
