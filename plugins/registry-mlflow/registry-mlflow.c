/* registry-mlflow.c: the registry/mlflow component: Lathe's model registry
 * ABI over an MLflow Model Registry (REST API 2.0). The model bytes go
 * through the server's artifact proxy, by content; the metadata becomes
 * version tags; aliases are MLflow's own, and their moves a side record of
 * registered-model tags (registry-aliases.c). docs/mlflow-registry.md. */
#include <string.h>

#include "registry-mlflow-private.h"

#define ARTIFACT_SCHEME "mlflow-artifacts:/"

/* No params: the server and the credentials come from MLflow's own
 * variables (MLFLOW_TRACKING_URI, _TOKEN, _USERNAME, _PASSWORD), as for
 * every MLflow client, so no pipeline names a server or holds a secret. */
static const LatheParamSpec registry_params[] = {
    LATHE_PARAM_END,
};

static gpointer registry_open(LatheContext *ctx, GError **error) {
  return rm_connect(ctx, error);
}

static void registry_close(gpointer registry) {
  rm_disconnect(registry);
}

JsonObject *rm_get_model(RegMlflow *r, const char *name, GError **error) {
  const char *q[] = {"name", name, NULL};
  guint status = 0;
  GError *e = NULL;
  g_autoptr(JsonObject) ans = rm_call(r, "GET", "registered-models/get", NULL, q, &status, &e);
  if (!ans && status == 404) {
    g_error_free(e);
    return NULL;
  }
  if (!ans) {
    g_propagate_error(error, e);
    return NULL;
  }
  if (!json_object_has_member(ans, "registered_model") ||
      !JSON_NODE_HOLDS_OBJECT(json_object_get_member(ans, "registered_model"))) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                RM_COMPONENT ": GET %s/api/2.0/mlflow/registered-models/get answered no "
                "registered_model; is MLFLOW_TRACKING_URI an MLflow server?",
                r->uri);
    return NULL;
  }
  return json_object_ref(json_object_get_object_member(ans, "registered_model"));
}

/* registered-models/create, where "already exists" is success: another
 * process may create the same model at the same time. */
static gboolean ensure_model(RegMlflow *r, const char *name, GError **error) {
  GError *e = NULL;
  g_autoptr(JsonObject) m = rm_get_model(r, name, &e);
  if (m || e) {
    if (e)
      g_propagate_error(error, e);
    return m != NULL;
  }
  g_autoptr(JsonObject) body = json_object_new();
  json_object_set_string_member(body, "name", name);
  guint status = 0;
  g_autoptr(JsonObject) ans = rm_call(r, "POST", "registered-models/create", body, NULL, &status, &e);
  if (ans)
    return TRUE;
  if (status == 400) { /* RESOURCE_ALREADY_EXISTS: someone else made it first */
    g_autoptr(JsonObject) again = rm_get_model(r, name, NULL);
    if (again) {
      g_error_free(e);
      return TRUE;
    }
  }
  g_propagate_error(error, e);
  return FALSE;
}

static guint version_number(JsonObject *mv) {
  JsonNode *n = mv ? json_object_get_member(mv, "version") : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return 0;
  guint64 v = 0;
  if (json_node_get_value_type(n) == G_TYPE_STRING)
    return g_ascii_string_to_unsigned(json_node_get_string(n), 10, 1, G_MAXUINT, &v, NULL)
               ? (guint)v : 0;
  gint64 i = json_node_get_int(n);
  return i >= 1 && i <= G_MAXUINT ? (guint)i : 0;
}

/* After a create whose answer was lost: the version it made, found by the
 * request id it carries, or 0 when it made none. */
static guint find_by_request(RegMlflow *r, const char *name, const char *request_id,
                             GError **error) {
  g_autofree char *filter =
      g_strdup_printf("name = '%s' AND tags.`lathe.request_id` = '%s'", name, request_id);
  const char *q[] = {"filter", filter, NULL};
  g_autoptr(JsonObject) ans = rm_call(r, "GET", "model-versions/search", NULL, q, NULL, error);
  if (!ans)
    return G_MAXUINT;
  JsonArray *found = lathe_mlflow_member_array(ans, "model_versions");
  return found && json_array_get_length(found)
             ? version_number(json_array_get_object_element(found, 0))
             : 0;
}

/* The MLflow run of the Lathe run, from the ids the host's trackers gave
 * it (metadata "tracker_runs": {stream: id}): tracker/mlflow's, else a
 * second setting's (tracker/mlflow#N, the same server: MLflow's variables
 * name it). NULL when tracker/mlflow has not started the run. */
static const char *tracker_run(JsonObject *metadata) {
  JsonNode *n = metadata ? json_object_get_member(metadata, "tracker_runs") : NULL;
  JsonObject *runs = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
  if (!runs)
    return NULL;
  g_autoptr(GList) streams = json_object_get_members(runs);
  streams = g_list_sort(streams, (GCompareFunc)strcmp);
  const char *found = NULL;
  for (GList *l = streams; l; l = l->next) {
    const char *s = l->data;
    JsonNode *v = json_object_get_member(runs, s);
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING ||
        !*json_node_get_string(v))
      continue;
    if (g_str_equal(s, "tracker/mlflow"))
      return json_node_get_string(v);
    if (!found && g_str_has_prefix(s, "tracker/mlflow#"))
      found = json_node_get_string(v);
  }
  return found;
}

static gboolean registry_register(gpointer registry, const char *name, GBytes *model,
                                  JsonObject *metadata, guint *version, GError **error) {
  RegMlflow *r = registry;
  if (!rm_check_name(name, error))
    return FALSE;
  if (!model) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": register_model: no model bytes given for '%s'", name);
    return FALSE;
  }
  g_autofree char *sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, model);
  g_autofree char *source = g_strdup_printf(ARTIFACT_SCHEME RM_BLOB_ROOT "/%s", sha);
  /* The bytes first: a version never points at an artifact that is not
   * there. Content-addressed, so a retried or repeated upload is harmless. */
  if (!rm_put_blob(r, source, model, error) || !ensure_model(r, name, error))
    return FALSE;
  g_autofree char *request_id = g_uuid_string_random();
  g_autoptr(JsonObject) body = json_object_new();
  json_object_set_string_member(body, "name", name);
  json_object_set_string_member(body, "source", source);
  const char *mlflow_run = tracker_run(metadata);
  if (mlflow_run)
    json_object_set_string_member(body, "run_id", mlflow_run);
  json_object_set_array_member(
      body, "tags", rm_tags_from_metadata(metadata, sha, g_bytes_get_size(model), request_id));
  guint v = 0;
  for (int attempt = 0; attempt < 2 && !v; attempt++) {
    GError *e = NULL;
    g_autoptr(JsonObject) ans = rm_call(r, "POST", "model-versions/create", body, NULL, NULL, &e);
    if (ans) {
      v = version_number(json_object_has_member(ans, "model_version")
                             ? json_object_get_object_member(ans, "model_version")
                             : NULL);
      if (!v) {
        g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                    RM_COMPONENT ": POST %s/api/2.0/mlflow/model-versions/create answered no "
                    "version number for '%s'",
                    r->uri, name);
        return FALSE;
      }
      break;
    }
    /* Not idempotent: when the answer is lost the version may exist. Look
     * for it by its request id before creating it again. */
    if (e->code != LATHE_ERROR_UNAVAILABLE || attempt == 1) {
      g_propagate_error(error, e);
      return FALSE;
    }
    guint found = find_by_request(r, name, request_id, NULL);
    if (found == G_MAXUINT) { /* still out of reach: say what failed first */
      g_propagate_error(error, e);
      return FALSE;
    }
    g_error_free(e);
    v = found;
  }
  g_mutex_lock(&r->lock);
  g_free(r->last_name);
  g_free(r->last_run);
  r->last_name = g_strdup(name);
  r->last_version = v;
  r->last_run = metadata ? g_strdup(json_object_get_string_member_with_default(metadata, "run_id",
                                                                               NULL))
                         : NULL;
  g_mutex_unlock(&r->lock);
  *version = v;
  return TRUE;
}

/* The model-version object @ref (a number or an alias) names. */
static JsonObject *resolve(RegMlflow *r, const char *what, const char *name, const char *ref,
                           GError **error) {
  if (!rm_check_name(name, error))
    return NULL;
  if (!ref || !*ref) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": %s '%s': give a version number or an alias", what, name);
    return NULL;
  }
  gboolean number = rm_all_digits(ref);
  if (!number && !rm_check_alias(ref, error))
    return NULL;
  const char *qv[] = {"name", name, "version", ref, NULL};
  const char *qa[] = {"name", name, "alias", ref, NULL};
  guint status = 0;
  GError *e = NULL;
  g_autoptr(JsonObject) ans =
      number ? rm_call(r, "GET", "model-versions/get", NULL, qv, &status, &e)
             : rm_call(r, "GET", "registered-models/alias", NULL, qa, &status, &e);
  if (ans && json_object_has_member(ans, "model_version") &&
      JSON_NODE_HOLDS_OBJECT(json_object_get_member(ans, "model_version")))
    return json_object_ref(json_object_get_object_member(ans, "model_version"));
  if (ans) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_FAILED,
                RM_COMPONENT ": %s/api/2.0/mlflow answered no model_version for %s@%s", r->uri,
                name, ref);
    return NULL;
  }
  if (status != 404 && !(number && status == 400)) {
    g_propagate_error(error, e);
    return NULL;
  }
  g_error_free(e);
  GError *me = NULL;
  g_autoptr(JsonObject) model = rm_get_model(r, name, &me);
  if (me) {
    g_propagate_error(error, me);
  } else if (!model) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": no model named '%s' at %s; `lathe models list --registry "
                "registry/mlflow` shows the models",
                name, r->uri);
  } else {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": model '%s' has no %s %s at %s; `lathe models list --registry "
                "registry/mlflow` shows its versions and aliases",
                name, number ? "version" : "alias", ref, r->uri);
  }
  return NULL;
}

static GBytes *registry_get(gpointer registry, const char *name, const char *version_or_alias,
                            GError **error) {
  RegMlflow *r = registry;
  g_autoptr(JsonObject) mv = resolve(r, "get", name, version_or_alias, error);
  if (!mv)
    return NULL;
  guint v = version_number(mv);
  const char *source = json_object_get_string_member_with_default(mv, "source", "");
  g_autoptr(GHashTable) tags = rm_tags_table(mv);
  const char *want = g_hash_table_lookup(tags, "lathe.blob.sha256");
  if (!g_str_has_prefix(source, ARTIFACT_SCHEME) || !want) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                RM_COMPONENT ": model '%s' version %u at %s was not registered by Lathe "
                "(source '%s', no lathe.blob.sha256 tag); register it with a pipeline's "
                "registry node",
                name, v, r->uri, source);
    return NULL;
  }
  g_autofree char *got = NULL;
  GBytes *bytes = rm_get_blob(r, source, &got, error);
  if (bytes && g_strcmp0(got, want) != 0) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                RM_COMPONENT ": model '%s' version %u: the artifact %s/" RM_BLOB_FILE " has "
                "SHA-256 %s, the version was registered with %s; the artifact store is damaged",
                name, v, source, got ? got : "(none)", want);
    g_clear_pointer(&bytes, g_bytes_unref);
  }
  return bytes;
}

static JsonObject *registry_get_version(gpointer registry, const char *name,
                                        const char *version_or_alias, GError **error) {
  RegMlflow *r = registry;
  g_autoptr(JsonObject) mv = resolve(r, "version", name, version_or_alias, error);
  return mv ? rm_version_object(mv, error) : NULL;
}

static gint by_name_version(gconstpointer a, gconstpointer b) {
  JsonObject *x = *(JsonObject *const *)a, *y = *(JsonObject *const *)b;
  int c = g_strcmp0(json_object_get_string_member(x, "name"),
                    json_object_get_string_member(y, "name"));
  if (c)
    return c;
  gint64 vx = json_object_get_int_member(x, "version"), vy = json_object_get_int_member(y, "version");
  return vx < vy ? -1 : vx > vy;
}

static JsonArray *registry_list(gpointer registry, const char *name, GError **error) {
  RegMlflow *r = registry;
  if (name && !rm_check_name(name, error))
    return NULL;
  g_autofree char *filter = name ? g_strdup_printf("name = '%s'", name) : NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  g_autofree char *token = NULL;
  do {
    const char *q[7] = {"max_results", "1000", NULL};
    int n = 2;
    if (filter) {
      q[n++] = "filter";
      q[n++] = filter;
    }
    if (token) {
      q[n++] = "page_token";
      q[n++] = token;
    }
    g_autoptr(JsonObject) ans = rm_call(r, "GET", "model-versions/search", NULL, q, NULL, error);
    if (!ans)
      return NULL;
    JsonArray *mvs = lathe_mlflow_member_array(ans, "model_versions");
    for (guint i = 0; mvs && i < json_array_get_length(mvs); i++) {
      JsonObject *o = rm_version_object(json_array_get_object_element(mvs, i), error);
      if (!o)
        return NULL;
      g_ptr_array_add(all, o);
    }
    g_free(token);
    token = g_strdup(json_object_get_string_member_with_default(ans, "next_page_token", NULL));
  } while (token && *token);
  g_ptr_array_sort(all, by_name_version);
  JsonArray *out = json_array_new();
  for (guint i = 0; i < all->len; i++)
    json_array_add_object_element(out, json_object_ref(all->pdata[i]));
  return out;
}

static const LatheRegistryClass registry_mlflow = {
    LATHE_COMPONENT_INIT(LatheRegistryClass, LATHE_KIND_REGISTRY, "mlflow",
                         "Model versions and aliases in an MLflow Model Registry (REST API "
                         "2.0; MLFLOW_TRACKING_URI), alias moves kept as model tags",
                         registry_params, NULL, NULL),
    .open = registry_open,
    .register_model = registry_register,
    .set_alias = rm_set_alias,
    .list = registry_list,
    .get = registry_get,
    .close = registry_close,
    .alias_history = rm_alias_history,
    .delete_alias = rm_delete_alias,
    .get_version = registry_get_version,
    .set_alias_full = rm_set_alias_full,
};

LATHE_PLUGIN_DEFINE("registry-mlflow", "0.1.0", "MIT",
                    "Model registry backed by an MLflow tracking server's Model Registry",
                    LATHE_COMPONENT(registry_mlflow))
