/* The lakeFS calls that write: branches, uploads, commits, tags. */
#include <string.h>

#include "lakefs-write.h"

/* A member of an answer the spec requires, or a BAD_RESPONSE naming it. */
static char *required_string(JsonNode *node, const char *member, const char *what,
                             GError **error) {
  JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
  const char *v = o ? json_object_get_string_member_with_default(o, member, NULL) : NULL;
  if (!v || !*v) {
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "lakeFS answered %s without \"%s\"; is the endpoint a lakeFS server?", what,
                member);
    return NULL;
  }
  return g_strdup(v);
}

char *lathe_lakefs_branch_head(LatheLakefs *lk, const char *repo, const char *branch,
                               GCancellable *cancellable, GError **error) {
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "branches", branch, NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
  g_autoptr(JsonNode) ref = lathe_lakefs_json(lk, req, cancellable, error);
  return ref ? required_string(ref, "commit_id", "getBranch", error) : NULL;
}

char *lathe_lakefs_ensure_branch(LatheLakefs *lk, const char *repo, const char *branch,
                                 const char *source, gboolean *created,
                                 GCancellable *cancellable, GError **error) {
  if (created)
    *created = FALSE;
  g_autoptr(GError) local = NULL;
  char *head = lathe_lakefs_branch_head(lk, repo, branch, cancellable, &local);
  if (head || !g_error_matches(local, LATHE_HTTP_ERROR, 404)) {
    if (local)
      g_propagate_error(error, g_steal_pointer(&local));
    return head;
  }
  /* A 404 for the repository comes back from createBranch as well, with
   * lakeFS's own words; a 404 for the branch is what this call is for. */
  g_clear_error(&local);
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "branches", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("POST", path);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, branch);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, source);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  lathe_http_request_set_json(req, body);
  /* Safe to resend: a second createBranch answers 409, handled below. */
  lathe_http_request_set_idempotent(req, TRUE);
  g_autoptr(LatheHttpResponse) r =
      lathe_http_client_send(lathe_lakefs_get_http(lk), req, cancellable, &local);
  if (!r && !g_error_matches(local, LATHE_HTTP_ERROR, 409)) {
    g_propagate_prefixed_error(error, g_steal_pointer(&local),
                               "cannot create branch '%s' from '%s': ", branch, source);
    return NULL;
  }
  if (r && created)
    *created = TRUE;
  /* The 201 body is the new head as text/html (the spec's own choice); read
   * it back through getBranch, which every lakeFS answers the same way. */
  return lathe_lakefs_branch_head(lk, repo, branch, cancellable, error);
}

LatheHttpRequest *lathe_lakefs_upload_request(const char *repo, const char *branch,
                                              const char *path) {
  g_autofree char *p = lathe_lakefs_path("repositories", repo, "branches", branch, "objects", NULL);
  LatheHttpRequest *req = lathe_lakefs_request("POST", p);
  lathe_http_request_add_query(req, "path", path);
  return req;
}

JsonObject *lathe_lakefs_upload(LatheLakefs *lk, LatheHttpRequest *req,
                                GCancellable *cancellable, GError **error) {
  lathe_http_request_set_idempotent(req, TRUE);
  g_autoptr(JsonNode) stats = lathe_lakefs_json(lk, req, cancellable, error);
  if (!stats)
    return NULL;
  g_autofree char *checksum = required_string(stats, "checksum", "uploadObject", error);
  if (!checksum)
    return NULL;
  return json_object_ref(json_node_get_object(stats));
}

JsonObject *lathe_lakefs_commit(LatheLakefs *lk, const char *repo, const char *branch,
                                const char *message, JsonObject *metadata,
                                gboolean *no_changes, GCancellable *cancellable,
                                GError **error) {
  *no_changes = FALSE;
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "branches", branch, "commits",
                                            NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("POST", path);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "message", message);
  if (metadata)
    json_object_set_object_member(o, "metadata", json_object_ref(metadata));
  g_autoptr(JsonNode) body = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  lathe_http_request_set_json(req, body);
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) commit = lathe_lakefs_json(lk, req, cancellable, &local);
  if (!commit) {
    /* lakeFS: "commit: no changes" when the staged entries equal the
     * committed ones (same checksums): a rerun that wrote the same bytes. */
    if (g_error_matches(local, LATHE_HTTP_ERROR, 400) && strstr(local->message, "no changes")) {
      *no_changes = TRUE;
      return NULL;
    }
    /* The commit may have been made before the answer was lost: say so,
     * since the layer's hint suggests trying again. */
    if (local->domain == LATHE_HTTP_ERROR &&
        (local->code >= 500 || local->code == LATHE_HTTP_ERROR_NETWORK ||
         local->code == LATHE_HTTP_ERROR_TIMEOUT)) {
      g_set_error(error, local->domain, local->code,
                  "%s (a commit is never resent: look at the branch's log before running "
                  "again)", local->message);
      return NULL;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
  }
  g_autofree char *id = required_string(commit, "id", "commit", error);
  if (!id)
    return NULL;
  return json_object_ref(json_node_get_object(commit));
}

gboolean lathe_lakefs_create_tag(LatheLakefs *lk, const char *repo, const char *tag,
                                 const char *commit_id, GCancellable *cancellable,
                                 GError **error) {
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "tags", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("POST", path);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", tag);
  json_object_set_string_member(o, "ref", commit_id);
  g_autoptr(JsonNode) body = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  lathe_http_request_set_json(req, body);
  /* Safe to resend: a tag made by a lost first attempt answers 409 and is
   * then found at this commit. */
  lathe_http_request_set_idempotent(req, TRUE);
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) made = lathe_lakefs_json(lk, req, cancellable, &local);
  if (made)
    return TRUE;
  if (!g_error_matches(local, LATHE_HTTP_ERROR, 409)) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  g_autofree char *tpath = lathe_lakefs_path("repositories", repo, "tags", tag, NULL);
  g_autoptr(LatheHttpRequest) get = lathe_lakefs_request("GET", tpath);
  g_autoptr(JsonNode) ref = lathe_lakefs_json(lk, get, cancellable, error);
  g_autofree char *at = ref ? required_string(ref, "commit_id", "getTag", error) : NULL;
  if (!at)
    return FALSE;
  if (g_str_equal(at, commit_id))
    return TRUE;
  g_set_error(error, LATHE_HTTP_ERROR, 409,
              "tag '%s' already points at commit %s, not at the new commit %s; tags do not "
              "move: choose another tag, or delete it first (lakectl tag delete)",
              tag, at, commit_id);
  return FALSE;
}
