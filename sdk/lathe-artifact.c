/* Artifacts: a serialised form (the digest's source of truth) plus a lazily
 * decoded object. Either side may come first: nodes create artifacts from
 * objects, the cache restores them by digest alone and a loader reads their
 * bytes from the store on first access, so a cached node that no running node
 * reads costs no I/O. A mutex guards the lazy halves because parallel nodes
 * read the same artifact. */
#include <string.h>

#include "lathe/lathe-artifact.h"
#include "lathe/lathe-blob.h"
#include "lathe/lathe-context-private.h"
#include "lathe/lathe-error.h"
#include "lathe/lathe-json.h"

#define MODEL_MAGIC "LATHEMD1"

struct _LatheArtifact {
  gint ref_count;
  LatheArtifactType type;
  GMutex lock;
  GBytes *bytes;
  char *digest;
  LatheDataset *dataset;
  JsonObject *metrics;
  JsonObject *model_header;
  GBytes *model_state;
  gpointer cached;
  GDestroyNotify cached_free;
  gsize size;                   /* of the bytes a loader will read */
  LatheArtifactLoader loader;   /* NULL once there is nothing left to load */
  gpointer loader_data;
  GDestroyNotify loader_destroy;
  char *load_error;             /* why the loader failed: every reader reports it */
};

char *lathe_sha256_hex(gconstpointer data, gsize len) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

static LatheArtifact *artifact_new(LatheArtifactType type) {
  LatheArtifact *a = g_new0(LatheArtifact, 1);
  a->ref_count = 1;
  a->type = type;
  g_mutex_init(&a->lock);
  return a;
}

LatheArtifact *lathe_artifact_new_dataset(LatheDataset *ds) {
  LatheArtifact *a = artifact_new(LATHE_TYPE_DATASET);
  a->dataset = ds;
  return a;
}

LatheArtifact *lathe_artifact_new_metrics(JsonObject *metrics) {
  LatheArtifact *a = artifact_new(LATHE_TYPE_METRICS);
  a->metrics = metrics;
  return a;
}

LatheArtifact *lathe_artifact_new_model(JsonObject *header, GBytes *state) {
  LatheArtifact *a = artifact_new(LATHE_TYPE_MODEL);
  a->model_header = header;
  a->model_state = g_bytes_ref(state);
  return a;
}

LatheArtifact *lathe_artifact_new_from_bytes(LatheArtifactType type, GBytes *bytes) {
  LatheArtifact *a = artifact_new(type);
  a->bytes = g_bytes_ref(bytes);
  return a;
}

LatheArtifact *lathe_artifact_new_lazy(LatheArtifactType type, const char *digest, gsize size,
                                       LatheArtifactLoader loader, gpointer data,
                                       GDestroyNotify destroy) {
  LatheArtifact *a = artifact_new(type);
  a->digest = g_strdup(digest);
  a->size = size;
  a->loader = loader;
  a->loader_data = data;
  a->loader_destroy = destroy;
  return a;
}

/* Reads the bytes of a lazy artifact once; called with the lock held, so
 * parallel readers wait for one load. A failure is kept: the file will not
 * come back, and every reader must say so the same way. */
static gboolean load_locked(LatheArtifact *a, GError **error) {
  if (!a->bytes && a->loader && !a->load_error) {
    g_autoptr(GError) local = NULL;
    a->bytes = a->loader(a->loader_data, a->digest, &local);
    if (!a->bytes)
      a->load_error = g_strdup_printf("cannot read artifact %s from the store (%s); rerun with "
                                      "--no-cache", a->digest,
                                      local ? local->message : "no reason given");
  }
  if (a->load_error) {
    g_set_error_literal(error, LATHE_ERROR, LATHE_ERROR_DATA, a->load_error);
    return FALSE;
  }
  return TRUE;
}

LatheArtifact *lathe_artifact_ref(LatheArtifact *a) {
  g_return_val_if_fail(a != NULL, NULL);
  g_atomic_int_inc(&a->ref_count);
  return a;
}

void lathe_artifact_unref(LatheArtifact *a) {
  if (!a || !g_atomic_int_dec_and_test(&a->ref_count))
    return;
  if (a->cached && a->cached_free)
    a->cached_free(a->cached);
  g_clear_pointer(&a->bytes, g_bytes_unref);
  g_free(a->digest);
  g_clear_pointer(&a->dataset, lathe_dataset_unref);
  g_clear_pointer(&a->metrics, json_object_unref);
  g_clear_pointer(&a->model_header, json_object_unref);
  g_clear_pointer(&a->model_state, g_bytes_unref);
  if (a->loader_destroy)
    a->loader_destroy(a->loader_data);
  g_free(a->load_error);
  g_mutex_clear(&a->lock);
  g_free(a);
}

LatheArtifactType lathe_artifact_get_kind(const LatheArtifact *a) { return a->type; }

const char *lathe_artifact_type_name(LatheArtifactType type) {
  switch (type) {
  case LATHE_TYPE_DATASET: return "dataset";
  case LATHE_TYPE_MODEL: return "model";
  case LATHE_TYPE_METRICS: return "metrics";
  default: return "any";
  }
}

static GBytes *object_to_bytes(JsonObject *obj) {
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, obj);
  char *text = lathe_json_canonical(node);
  return g_bytes_new_take(text, strlen(text));
}

static GBytes *model_to_bytes(JsonObject *header, GBytes *state) {
  g_autoptr(GBytes) head = object_to_bytes(header);
  gsize hlen, slen;
  gconstpointer h = g_bytes_get_data(head, &hlen);
  gconstpointer s = g_bytes_get_data(state, &slen);
  GByteArray *b = g_byte_array_sized_new((guint)(12 + hlen + slen));
  g_byte_array_append(b, (const guint8 *)MODEL_MAGIC, 8);
  lathe_blob_put_u32(b, (guint32)hlen);
  g_byte_array_append(b, h, (guint)hlen);
  g_byte_array_append(b, s, (guint)slen);
  return g_byte_array_free_to_bytes(b);
}

GBytes *lathe_artifact_get_bytes(LatheArtifact *a) {
  g_autoptr(GError) error = NULL;
  GBytes *bytes = lathe_artifact_read_bytes(a, &error);
  if (bytes)
    return bytes;
  g_warning("%s", error->message); /* no error to return: readers get no bytes */
  g_mutex_lock(&a->lock);
  if (!a->bytes)
    a->bytes = g_bytes_new(NULL, 0);
  g_mutex_unlock(&a->lock);
  return a->bytes;
}

GBytes *lathe_artifact_read_bytes(LatheArtifact *a, GError **error) {
  g_mutex_lock(&a->lock);
  if (a->loader && !load_locked(a, error)) {
    g_mutex_unlock(&a->lock);
    return NULL;
  }
  if (!a->bytes) {
    if (a->dataset)
      a->bytes = lathe_dataset_serialize(a->dataset);
    else if (a->metrics)
      a->bytes = object_to_bytes(a->metrics);
    else if (a->model_header)
      a->bytes = model_to_bytes(a->model_header, a->model_state);
    else
      a->bytes = g_bytes_new(NULL, 0);
  }
  g_mutex_unlock(&a->lock);
  return a->bytes;
}

const char *lathe_artifact_get_digest(LatheArtifact *a) {
  g_mutex_lock(&a->lock);
  const char *known = a->digest; /* set once, never changed */
  g_mutex_unlock(&a->lock);
  if (known)
    return known;
  GBytes *bytes = lathe_artifact_get_bytes(a);
  g_mutex_lock(&a->lock);
  if (!a->digest) {
    gsize len;
    gconstpointer data = g_bytes_get_data(bytes, &len);
    a->digest = lathe_sha256_hex(data, len);
  }
  g_mutex_unlock(&a->lock);
  return a->digest;
}

gsize lathe_artifact_get_size(LatheArtifact *a) {
  g_mutex_lock(&a->lock);
  gboolean known = a->bytes || a->loader;
  gsize size = a->bytes ? g_bytes_get_size(a->bytes) : a->size;
  g_mutex_unlock(&a->lock);
  return known ? size : g_bytes_get_size(lathe_artifact_get_bytes(a));
}

static gboolean check_type(LatheArtifact *a, LatheArtifactType want, GError **error) {
  if (a->type == want)
    return TRUE;
  g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "expected a %s artifact, got a %s",
              lathe_artifact_type_name(want), lathe_artifact_type_name(a->type));
  return FALSE;
}

const LatheDataset *lathe_artifact_get_dataset(LatheArtifact *a, GError **error) {
  if (!check_type(a, LATHE_TYPE_DATASET, error))
    return NULL;
  g_mutex_lock(&a->lock);
  if (!a->dataset && load_locked(a, error))
    a->dataset = lathe_dataset_deserialize(a->bytes, error);
  LatheDataset *ds = a->dataset;
  g_mutex_unlock(&a->lock);
  return ds;
}

static JsonObject *parse_object(const char *data, gsize len, const char *what,
                                GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "corrupt %s artifact: %s", what,
                local ? local->message : "not a JSON object");
    return NULL;
  }
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

JsonObject *lathe_artifact_get_metrics(LatheArtifact *a, GError **error) {
  if (!check_type(a, LATHE_TYPE_METRICS, error))
    return NULL;
  g_mutex_lock(&a->lock);
  if (!a->metrics && load_locked(a, error)) {
    gsize len;
    const char *data = g_bytes_get_data(a->bytes, &len);
    a->metrics = parse_object(data, len, "metrics", error);
  }
  JsonObject *m = a->metrics;
  g_mutex_unlock(&a->lock);
  return m;
}

static gboolean decode_model_locked(LatheArtifact *a, GError **error) {
  if (a->model_header)
    return TRUE;
  if (!load_locked(a, error))
    return FALSE;
  gsize len;
  const guint8 *p = g_bytes_get_data(a->bytes, &len);
  if (len < 12 || memcmp(p, MODEL_MAGIC, 8) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "not a Lathe model artifact (bad magic)");
    return FALSE;
  }
  gsize hlen = lathe_blob_get_u32(p + 8);
  if (hlen > len - 12) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA, "model artifact is truncated");
    return FALSE;
  }
  JsonObject *header = parse_object((const char *)p + 12, hlen, "model", error);
  if (!header)
    return FALSE;
  a->model_header = header;
  a->model_state = g_bytes_new_from_bytes(a->bytes, 12 + hlen, len - 12 - hlen);
  return TRUE;
}

JsonObject *lathe_artifact_get_model_header(LatheArtifact *a, GError **error) {
  if (!check_type(a, LATHE_TYPE_MODEL, error))
    return NULL;
  g_mutex_lock(&a->lock);
  JsonObject *h = decode_model_locked(a, error) ? a->model_header : NULL;
  g_mutex_unlock(&a->lock);
  return h;
}

GBytes *lathe_artifact_get_model_state(LatheArtifact *a, GError **error) {
  if (!check_type(a, LATHE_TYPE_MODEL, error))
    return NULL;
  g_mutex_lock(&a->lock);
  GBytes *s = decode_model_locked(a, error) ? a->model_state : NULL;
  g_mutex_unlock(&a->lock);
  return s;
}

gpointer lathe_artifact_set_cached_object(LatheArtifact *a, gpointer object,
                                          GDestroyNotify free_func) {
  g_mutex_lock(&a->lock);
  if (a->cached) {
    g_mutex_unlock(&a->lock);
    if (free_func)
      free_func(object);
    return a->cached;
  }
  a->cached = object;
  a->cached_free = free_func;
  g_mutex_unlock(&a->lock);
  return object;
}

gpointer lathe_artifact_get_cached_object(LatheArtifact *a) {
  g_mutex_lock(&a->lock);
  gpointer o = a->cached;
  g_mutex_unlock(&a->lock);
  return o;
}
