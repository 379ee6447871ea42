/* serve-input.c: request bodies of every accepted format into one dataset
 * whose columns are in the signature's order. Every cell must be a finite
 * number; a failure is a one-line message for a 400. */
#include <math.h>

#include "serve/serve.h"

static void vfail(GError **error, const char *fmt, va_list ap) {
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  g_set_error_literal(error, LATHE_ERROR, LATHE_ERROR_INVALID, msg);
}

static G_GNUC_PRINTF(2, 3) gboolean fail(GError **error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(error, fmt, ap);
  va_end(ap);
  return FALSE;
}

static G_GNUC_PRINTF(2, 3) LatheDataset *fail_null(GError **error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(error, fmt, ap);
  va_end(ap);
  return NULL;
}

#define FAIL(...) fail(error, __VA_ARGS__)
#define FAILN(...) fail_null(error, __VA_ARGS__)

static gboolean cell(JsonNode *n, const char *col, guint row, float *out, GError **error) {
  if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
      (json_node_get_value_type(n) != G_TYPE_INT64 && json_node_get_value_type(n) != G_TYPE_DOUBLE))
    return FAIL("row %u, column '%s': not a number; send numbers only", row, col);
  double v = json_node_get_double(n);
  if (!isfinite(v) || !isfinite((float)v))
    return FAIL("row %u, column '%s': not finite (NaN or Inf); send finite numbers", row, col);
  *out = (float)v;
  return TRUE;
}

static const char *col_name(JsonArray *cols, guint j) {
  return j < json_array_get_length(cols) ? json_array_get_string_element(cols, j) : "?";
}

/* The index in the signature of each of @names, refusing unknown, missing and repeated ones. */
static gboolean map_names(JsonArray *cols, GPtrArray *names, guint *map, GError **error) {
  guint n = json_array_get_length(cols);
  if (names->len != n)
    return FAIL("%u columns given, the model takes %u (%s...); send exactly its columns",
                names->len, n, col_name(cols, 0));
  for (guint i = 0; i < n; i++) {
    gboolean found = FALSE;
    for (guint j = 0; j < n && !found; j++)
      if (g_strcmp0(names->pdata[i], json_array_get_string_element(cols, j)) == 0) {
        for (guint k = 0; k < i; k++)
          if (map[k] == j)
            return FAIL("column '%s' is given twice", (char *)names->pdata[i]);
        map[i] = j;
        found = TRUE;
      }
    if (!found)
      return FAIL("unknown column '%s'; the model takes %s", (char *)names->pdata[i],
                  col_name(cols, 0));
  }
  return TRUE;
}

/* @nr rows named after @cols: the input pipeline's transforms check the
 * names their state was fitted on. */
static LatheDataset *new_rows(guint nr, JsonArray *cols) {
  LatheDataset *ds = lathe_dataset_new(nr, json_array_get_length(cols));
  for (guint j = 0; j < ds->n_cols; j++) {
    g_free(ds->columns[j]);
    ds->columns[j] = g_strdup(json_array_get_string_element(cols, j));
  }
  return ds;
}

static LatheDataset *from_matrix(JsonArray *rows, JsonArray *cols, GPtrArray *names, GError **error) {
  guint nr = json_array_get_length(rows), nc = json_array_get_length(cols);
  g_autofree guint *map = g_new0(guint, nc + 1);
  if (names && !map_names(cols, names, map, error))
    return NULL;
  if (nr == 0)
    return FAILN("no rows; send at least one");
  LatheDataset *ds = new_rows(nr, cols);
  for (guint i = 0; i < nr; i++) {
    JsonNode *rn = json_array_get_element(rows, i);
    if (!JSON_NODE_HOLDS_ARRAY(rn)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "row %u: not an array of %u numbers; the model takes %u columns", i, nc, nc);
      lathe_dataset_unref(ds);
      return NULL;
    }
    if (json_array_get_length(json_node_get_array(rn)) != nc) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "row %u has %u values; the model takes %u columns (%s...)", i,
                  json_array_get_length(json_node_get_array(rn)), nc, col_name(cols, 0));
      lathe_dataset_unref(ds);
      return NULL;
    }
    JsonArray *r = json_node_get_array(rn);
    for (guint j = 0; j < nc; j++) {
      guint dst = names ? map[j] : j;
      if (!cell(json_array_get_element(r, j), col_name(cols, dst), i, &ds->x[(gsize)i * nc + dst], error)) {
        lathe_dataset_unref(ds);
        return NULL;
      }
    }
  }
  return ds;
}

static LatheDataset *from_records(JsonArray *recs, JsonArray *cols, GError **error) {
  guint nr = json_array_get_length(recs), nc = json_array_get_length(cols);
  if (nr == 0)
    return FAILN("no rows; send at least one");
  LatheDataset *ds = new_rows(nr, cols);
  for (guint i = 0; i < nr; i++) {
    JsonNode *rn = json_array_get_element(recs, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(rn) ? json_node_get_object(rn) : NULL;
    if (!o || json_object_get_size(o) != nc) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "record %u: not an object of the model's %u columns (%s...)", i, nc, col_name(cols, 0));
      lathe_dataset_unref(ds);
      return NULL;
    }
    for (guint j = 0; j < nc; j++) {
      const char *c = col_name(cols, j);
      if (!json_object_has_member(o, c)) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "record %u: column '%s' is missing", i, c);
        lathe_dataset_unref(ds);
        return NULL;
      }
      if (!cell(json_object_get_member(o, c), c, i, &ds->x[(gsize)i * nc + j], error)) {
        lathe_dataset_unref(ds);
        return NULL;
      }
    }
  }
  return ds;
}

static LatheDataset *from_columns(JsonObject *o, JsonArray *cols, GError **error) {
  guint nc = json_array_get_length(cols);
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    g_ptr_array_add(names, l->data);
  g_autofree guint *map = g_new0(guint, nc + 1);
  if (!map_names(cols, names, map, error))
    return NULL;
  guint nr = 0;
  for (guint i = 0; i < names->len; i++) {
    JsonNode *n = json_object_get_member(o, names->pdata[i]);
    guint len = JSON_NODE_HOLDS_ARRAY(n) ? json_array_get_length(json_node_get_array(n)) : 0;
    if (!JSON_NODE_HOLDS_ARRAY(n) || (i > 0 && len != nr))
      return FAILN("column '%s': not an array as long as the others", (char *)names->pdata[i]);
    nr = len;
  }
  if (nr == 0)
    return FAILN("no rows; send at least one");
  LatheDataset *ds = new_rows(nr, cols);
  for (guint i = 0; i < names->len; i++) {
    JsonArray *a = json_object_get_array_member(o, names->pdata[i]);
    for (guint r = 0; r < nr; r++)
      if (!cell(json_array_get_element(a, r), names->pdata[i], r, &ds->x[(gsize)r * nc + map[i]], error)) {
        lathe_dataset_unref(ds);
        return NULL;
      }
  }
  return ds;
}

/* A list of rows: arrays in signature order, or records by name. */
static LatheDataset *from_list(JsonArray *a, JsonArray *cols, GError **error) {
  JsonNode *first = json_array_get_length(a) ? json_array_get_element(a, 0) : NULL;
  if (first && JSON_NODE_HOLDS_OBJECT(first))
    return from_records(a, cols, error);
  return from_matrix(a, cols, NULL, error);
}

LatheDataset *lathe_serve_parse(JsonNode *root, JsonArray *cols, GError **error) {
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  if (!o)
    return FAILN("the body is not a JSON object; send {\"rows\": [[...]]} or {\"columns\": {...}}");
  JsonNode *n;
  if ((n = json_object_get_member(o, "rows")) && JSON_NODE_HOLDS_ARRAY(n))
    return from_list(json_node_get_array(n), cols, error);
  if ((n = json_object_get_member(o, "instances")) && JSON_NODE_HOLDS_ARRAY(n))
    return from_list(json_node_get_array(n), cols, error);
  if ((n = json_object_get_member(o, "dataframe_records")) && JSON_NODE_HOLDS_ARRAY(n))
    return from_records(json_node_get_array(n), cols, error);
  if ((n = json_object_get_member(o, "columns")) && JSON_NODE_HOLDS_OBJECT(n))
    return from_columns(json_node_get_object(n), cols, error);
  if ((n = json_object_get_member(o, "inputs"))) {
    if (JSON_NODE_HOLDS_OBJECT(n))
      return from_columns(json_node_get_object(n), cols, error);
    if (JSON_NODE_HOLDS_ARRAY(n))
      return from_list(json_node_get_array(n), cols, error);
  }
  if ((n = json_object_get_member(o, "dataframe_split")) && JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *s = json_node_get_object(n);
    JsonArray *names = json_object_has_member(s, "columns") ? json_object_get_array_member(s, "columns") : NULL;
    JsonArray *data = json_object_has_member(s, "data") ? json_object_get_array_member(s, "data") : NULL;
    if (!data)
      return FAILN("dataframe_split has no \"data\" array");
    if (!names)
      return from_matrix(data, cols, NULL, error);
    g_autoptr(GPtrArray) nv = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(names); i++) {
      const char *s2 = json_node_get_string(json_array_get_element(names, i));
      if (!s2)
        return FAILN("dataframe_split columns must be strings");
      g_ptr_array_add(nv, (gpointer)s2);
    }
    return from_matrix(data, cols, nv, error);
  }
  return FAILN("no input found; send \"rows\", \"columns\", \"instances\", \"inputs\", "
              "\"dataframe_split\" or \"dataframe_records\"");
}

/* KServe v2: one FP32/FP64/INT tensor of shape [n, ncols], or one tensor per column of shape [n]. */
LatheDataset *lathe_serve_parse_v2(JsonNode *root, JsonArray *cols, GError **error) {
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonArray *inputs = o && json_object_has_member(o, "inputs") &&
                              JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "inputs"))
                          ? json_object_get_array_member(o, "inputs") : NULL;
  if (!inputs || json_array_get_length(inputs) == 0)
    return FAILN("no \"inputs\" tensors; send the v2 tensor JSON");
  guint nc = json_array_get_length(cols);
  if (json_array_get_length(inputs) == 1) {
    JsonObject *t = json_array_get_object_element(inputs, 0);
    JsonArray *shape = t && json_object_has_member(t, "shape") ? json_object_get_array_member(t, "shape") : NULL;
    JsonArray *data = t && json_object_has_member(t, "data") ? json_object_get_array_member(t, "data") : NULL;
    if (!shape || !data || json_array_get_length(shape) != 2)
      return FAILN("the input tensor needs \"shape\" [rows, %u] and \"data\"", nc);
    gint64 nr = json_array_get_int_element(shape, 0), c = json_array_get_int_element(shape, 1);
    if (c != nc)
      return FAILN("the tensor has %" G_GINT64_FORMAT " columns, the model takes %u", c, nc);
    JsonNode *d0 = json_array_get_length(data) ? json_array_get_element(data, 0) : NULL;
    if (d0 && JSON_NODE_HOLDS_ARRAY(d0))
      return from_matrix(data, cols, NULL, error);
    if (nr <= 0 || (gint64)json_array_get_length(data) != nr * c)
      return FAILN("the tensor's data has %u values, its shape says %" G_GINT64_FORMAT,
                  json_array_get_length(data), nr * c);
    LatheDataset *ds = new_rows((guint)nr, cols);
    for (guint i = 0; i < (guint)(nr * c); i++)
      if (!cell(json_array_get_element(data, i), col_name(cols, i % nc), i / nc, &ds->x[i], error)) {
        lathe_dataset_unref(ds);
        return NULL;
      }
    return ds;
  }
  JsonObject *by_col = json_object_new();
  for (guint i = 0; i < json_array_get_length(inputs); i++) {
    JsonObject *t = json_array_get_object_element(inputs, i);
    const char *name = t ? json_object_get_string_member_with_default(t, "name", NULL) : NULL;
    JsonNode *d = t ? json_object_get_member(t, "data") : NULL;
    if (!name || !d) {
      json_object_unref(by_col);
      return FAILN("input tensor %u needs \"name\" and \"data\"", i);
    }
    json_object_set_member(by_col, name, json_node_copy(d));
  }
  LatheDataset *ds = from_columns(by_col, cols, error);
  json_object_unref(by_col);
  return ds;
}

/* A version's input pipeline (core/engine/input-pipeline.c records it): the
 * source's columns are what a request carries, and each recorded transform,
 * with the state it fitted, runs on the request's rows before the model, as
 * `lathe predict` runs them on a file. Checked at load with one zero row, so
 * a missing transform plugin fails the load (and a reload keeps the old
 * version), never a request. */
gboolean lathe_serve_input_pipeline(LatheServed *s, LatheCatalog *cat, JsonObject *ip, GError **error) {
  JsonArray *steps = ip && json_object_has_member(ip, "steps") ? json_object_get_array_member(ip, "steps") : NULL;
  JsonObject *src = ip && json_object_has_member(ip, "source") ? json_object_get_object_member(ip, "source") : NULL;
  JsonArray *raw = src && json_object_has_member(src, "columns") ? json_object_get_array_member(src, "columns") : NULL;
  if (!steps || json_array_get_length(steps) == 0 || !raw) {
    s->columns = json_array_ref(s->model_columns); /* rows go to the model as they come */
    return TRUE;
  }
  for (guint i = 0; i < json_array_get_length(steps); i++) {
    JsonObject *st = json_array_get_object_element(steps, i);
    if (!st || !json_object_has_member(st, "use") || !json_object_has_member(st, "with") ||
        !JSON_NODE_HOLDS_OBJECT(json_object_get_member(st, "with"))) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "step %u of its input pipeline is damaged; re-register the model", i + 1);
      return FALSE;
    }
  }
  s->columns = json_array_ref(raw);
  s->steps = g_ptr_array_new_with_free_func((GDestroyNotify)lathe_catalog_transform_step_free);
  for (guint i = 0; i < json_array_get_length(steps); i++) {
    JsonObject *st = json_array_get_object_element(steps, i);
    LatheTransformStep *step = lathe_catalog_transform_step_new(
        cat, json_object_get_string_member(st, "use"), json_object_get_object_member(st, "with"),
        json_object_get_string_member_with_default(st, "input", "data"),
        json_object_get_string_member_with_default(st, "output", "data"), error);
    if (!step)
      return FALSE;
    g_ptr_array_add(s->steps, step);
  }
  g_autoptr(LatheDataset) probe = new_rows(1, raw);
  g_autoptr(LatheDataset) out = lathe_serve_apply_pipeline(s, probe, error);
  return out != NULL;
}

LatheDataset *lathe_serve_apply_pipeline(LatheServed *s, LatheDataset *raw,
                                         GError **error) {
  LatheDataset *ds = lathe_dataset_ref(raw);
  for (guint i = 0; ds && i < s->steps->len; i++) {
    LatheDataset *next = lathe_catalog_transform_step_apply(s->steps->pdata[i], ds, error);
    lathe_dataset_unref(ds);
    ds = next;
  }
  if (ds && ds->n_cols != json_array_get_length(s->model_columns)) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "its input pipeline gives %u columns, the model takes %u; re-register the model",
                ds->n_cols, json_array_get_length(s->model_columns));
    lathe_dataset_unref(ds);
    return NULL;
  }
  return ds;
}
