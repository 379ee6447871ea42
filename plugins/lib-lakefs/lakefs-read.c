/* The read side of the lakeFS API (lakefs-read.h). */
#include <string.h>

#include <glib/gstdio.h>
#include <lathe/lathe-helpers.h>

#include "lakefs-read.h"

/* lakeFS caps a page at 1000 (the spec's max_per_page). */
#define PAGE 1000

void lathe_lakefs_object_free(LatheLakefsObject *o) {
  if (!o)
    return;
  g_free(o->path);
  g_free(o->checksum);
  g_free(o);
}

static JsonObject *object_of(JsonNode *n) {
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *member_string(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

static gboolean bad_answer(LatheLakefs *lk, const char *what, GError **error) {
  g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
              "lakeFS at %s: %s answer lacks what the API promises; is the endpoint a "
              "lakeFS server?",
              lathe_lakefs_get_endpoint(lk), what);
  return FALSE;
}

static gboolean is_404(const GError *e) { return g_error_matches(e, LATHE_HTTP_ERROR, 404); }

char *lathe_lakefs_resolve_ref(LatheLakefs *lk, const char *repo, const char *ref,
                               GCancellable *cancellable, GError **error) {
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "refs", ref, "commits", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
  lathe_http_request_add_query(req, "amount", "1");
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) answer = lathe_lakefs_json(lk, req, cancellable, &local);
  if (!answer) {
    if (is_404(local)) {
      g_autofree char *msg = lathe_lakefs_explain_missing(lk, repo, ref, NULL, NULL,
                                                          cancellable);
      g_set_error_literal(error, LATHE_HTTP_ERROR, 404, msg);
    } else {
      g_propagate_error(error, g_steal_pointer(&local));
    }
    return NULL;
  }
  JsonObject *o = object_of(answer);
  JsonNode *results = o ? json_object_get_member(o, "results") : NULL;
  if (!results || !JSON_NODE_HOLDS_ARRAY(results) ||
      json_array_get_length(json_node_get_array(results)) < 1) {
    bad_answer(lk, "the commit log's", error);
    return NULL;
  }
  const char *id =
      member_string(json_array_get_object_element(json_node_get_array(results), 0), "id");
  if (!id || !*id) {
    bad_answer(lk, "the commit log's", error);
    return NULL;
  }
  return g_strdup(id);
}

/* One page of objects/ls; @delimiter NULL lists recursively. Appends objects
 * (and, with a delimiter, common prefixes as objects without a checksum). */
static gboolean list_page(LatheLakefs *lk, const char *repo, const char *ref,
                          const char *prefix, const char *delimiter, const char *after,
                          GPtrArray *out, char **next, GCancellable *cancellable,
                          GError **error) {
  g_autofree char *path =
      lathe_lakefs_path("repositories", repo, "refs", ref, "objects", "ls", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
  lathe_http_request_add_query(req, "prefix", prefix);
  lathe_http_request_add_query(req, "amount", G_STRINGIFY(PAGE));
  lathe_http_request_add_query(req, "user_metadata", "false");
  if (delimiter)
    lathe_http_request_add_query(req, "delimiter", delimiter);
  if (after && *after)
    lathe_http_request_add_query(req, "after", after);
  g_autoptr(JsonNode) answer = lathe_lakefs_json(lk, req, cancellable, error);
  if (!answer)
    return FALSE;
  JsonObject *o = object_of(answer);
  JsonNode *results = o ? json_object_get_member(o, "results") : NULL;
  JsonObject *pag = o && json_object_has_member(o, "pagination")
                        ? object_of(json_object_get_member(o, "pagination"))
                        : NULL;
  if (!results || !JSON_NODE_HOLDS_ARRAY(results) || !pag)
    return bad_answer(lk, "the object listing's", error);
  JsonArray *a = json_node_get_array(results);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *e = object_of(json_array_get_element(a, i));
    const char *p = member_string(e, "path");
    const char *type = member_string(e, "path_type");
    if (!p)
      return bad_answer(lk, "the object listing's", error);
    LatheLakefsObject *obj = g_new0(LatheLakefsObject, 1);
    obj->path = g_strdup(p);
    if (g_strcmp0(type, "common_prefix") != 0) {
      obj->checksum = g_strdup(member_string(e, "checksum"));
      obj->size = json_object_has_member(e, "size_bytes")
                      ? (guint64)json_object_get_int_member(e, "size_bytes")
                      : 0;
      if (!obj->checksum || !*obj->checksum) {
        lathe_lakefs_object_free(obj);
        return bad_answer(lk, "the object listing's", error);
      }
    }
    g_ptr_array_add(out, obj);
  }
  *next = json_object_get_boolean_member_with_default(pag, "has_more", FALSE)
              ? g_strdup(member_string(pag, "next_offset"))
              : NULL;
  return TRUE;
}

static GPtrArray *list_all(LatheLakefs *lk, const char *repo, const char *ref,
                           const char *prefix, const char *delimiter,
                           GCancellable *cancellable, GError **error) {
  g_autoptr(GPtrArray) out =
      g_ptr_array_new_with_free_func((GDestroyNotify)lathe_lakefs_object_free);
  g_autofree char *after = NULL;
  do {
    char *next = NULL;
    if (!list_page(lk, repo, ref, prefix, delimiter, after, out, &next, cancellable, error))
      return NULL;
    /* A server that repeats its offset would page forever. */
    if (next && after && strcmp(next, after) <= 0) {
      g_free(next);
      bad_answer(lk, "the object listing's (its next_offset does not advance)", error);
      return NULL;
    }
    g_free(after);
    after = next;
  } while (after && *after);
  return g_steal_pointer(&out);
}

GPtrArray *lathe_lakefs_list_objects(LatheLakefs *lk, const char *repo, const char *ref,
                                     const char *prefix, GCancellable *cancellable,
                                     GError **error) {
  /* An explicit empty delimiter: recursive, whatever the server's default. */
  return list_all(lk, repo, ref, prefix, "", cancellable, error);
}

static gboolean is_md5(const char *s) {
  if (strlen(s) != 32)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit(*p))
      return FALSE;
  return TRUE;
}

gboolean lathe_lakefs_download(LatheLakefs *lk, const char *repo, const char *ref,
                               const LatheLakefsObject *o, const char *dest,
                               GCancellable *cancellable, GError **error) {
  g_autofree char *path = lathe_lakefs_path("repositories", repo, "refs", ref, "objects", NULL);
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
  lathe_http_request_add_query(req, "path", o->path);
  g_autoptr(GError) local = NULL;
  g_autoptr(LatheHttpResponse) r = lathe_http_client_download(
      lathe_lakefs_get_http(lk), req, dest, LATHE_HTTP_DIGEST_MD5, cancellable, &local);
  if (!r) {
    if (is_404(local)) {
      g_autofree char *msg = lathe_lakefs_explain_missing(lk, repo, ref, o->path, ref,
                                                          cancellable);
      g_set_error_literal(error, LATHE_HTTP_ERROR, 404, msg);
    } else {
      g_propagate_error(error, g_steal_pointer(&local));
    }
    return FALSE;
  }
  guint64 got = lathe_http_response_get_length(r);
  const char *md5 = lathe_http_response_get_digest(r, LATHE_HTTP_DIGEST_MD5);
  g_autofree char *want = g_ascii_strdown(o->checksum, -1);
  gboolean size_ok = got == o->size;
  gboolean sum_ok = !is_md5(want) || g_strcmp0(md5, want) == 0;
  if (size_ok && sum_ok)
    return TRUE;
  g_unlink(dest);
  if (!sum_ok)
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "lakefs://%s/%s/%s: downloaded bytes have MD5 %s but lakeFS lists checksum "
                "%s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                " bytes); the object is damaged in storage or in transit, nothing was cached",
                repo, ref, o->path, md5 ? md5 : "(none)", o->checksum, got, o->size);
  else
    g_set_error(error, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_BAD_RESPONSE,
                "lakefs://%s/%s/%s: downloaded %" G_GUINT64_FORMAT
                " bytes but lakeFS lists %" G_GUINT64_FORMAT
                " (checksum %s); nothing was cached, try again",
                repo, ref, o->path, got, o->size, o->checksum);
  return FALSE;
}

/* ---- 404s, explained */

/* The nearest of @names within a third of @word's length, as
 * " (did you mean 'X'?)", else the first few names, else "". */
static char *near_or_list(const char *word, GPtrArray *names, const char *what) {
  g_ptr_array_add(names, NULL);
  const char *best = lathe_suggest(word, (const char *const *)names->pdata);
  g_ptr_array_remove_index(names, names->len - 1);
  if (best)
    return g_strdup_printf(" (did you mean '%s'?)", best);
  if (names->len == 0)
    return g_strdup("");
  GString *s = g_string_new("; ");
  g_string_append_printf(s, "%s: ", what);
  for (guint i = 0; i < MIN(names->len, 8u); i++)
    g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *)names->pdata[i]);
  if (names->len > 8)
    g_string_append_printf(s, " and %u more", names->len - 8);
  return g_string_free(s, FALSE);
}

/* The "id" of every result of a paged listing (repositories, branches, tags). */
static void ids_of(LatheLakefs *lk, const char *path, GPtrArray *out,
                   GCancellable *cancellable) {
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", path);
  lathe_http_request_add_query(req, "amount", G_STRINGIFY(PAGE));
  g_autoptr(JsonNode) answer = lathe_lakefs_json(lk, req, cancellable, NULL);
  JsonObject *o = object_of(answer);
  JsonNode *results = o ? json_object_get_member(o, "results") : NULL;
  if (!results || !JSON_NODE_HOLDS_ARRAY(results))
    return;
  JsonArray *a = json_node_get_array(results);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    const char *id = member_string(object_of(json_array_get_element(a, i)), "id");
    if (id)
      g_ptr_array_add(out, g_strdup(id));
  }
}

char *lathe_lakefs_explain_missing(LatheLakefs *lk, const char *repo, const char *ref,
                                   const char *path, const char *commit,
                                   GCancellable *cancellable) {
  const char *ep = lathe_lakefs_get_endpoint(lk);
  g_autofree char *rpath = lathe_lakefs_path("repositories", repo, NULL);
  g_autoptr(GError) local = NULL;
  g_autoptr(LatheHttpRequest) req = lathe_lakefs_request("GET", rpath);
  g_autoptr(JsonNode) r = lathe_lakefs_json(lk, req, cancellable, &local);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  if (!r && is_404(local)) {
    ids_of(lk, "/repositories", names, cancellable);
    g_autofree char *near = near_or_list(repo, names, "repositories");
    return g_strdup_printf("lakeFS repository '%s' not found at %s%s", repo, ep, near);
  }
  if (!path) {
    g_autofree char *b = lathe_lakefs_path("repositories", repo, "branches", NULL);
    g_autofree char *t = lathe_lakefs_path("repositories", repo, "tags", NULL);
    ids_of(lk, b, names, cancellable);
    ids_of(lk, t, names, cancellable);
    g_autofree char *near = near_or_list(ref, names, "branches and tags");
    return g_strdup_printf("ref '%s' not found in lakeFS repository '%s' at %s: not a "
                           "branch, a tag or a commit id%s",
                           ref, repo, ep, near);
  }
  /* The paths beside it: its parent folder, one level. */
  g_autofree char *trimmed = g_strdup(path);
  gsize n = strlen(trimmed);
  while (n && trimmed[n - 1] == '/')
    trimmed[--n] = '\0';
  const char *slash = strrchr(trimmed, '/');
  g_autofree char *parent = slash ? g_strndup(trimmed, (gsize)(slash - trimmed) + 1) : g_strdup("");
  g_autoptr(GPtrArray) beside =
      list_all(lk, repo, commit ? commit : ref, parent, "/", cancellable, NULL);
  for (guint i = 0; beside && i < beside->len; i++) {
    const LatheLakefsObject *o = beside->pdata[i];
    g_autofree char *p = g_strdup(o->path);
    gsize pn = strlen(p);
    while (pn && p[pn - 1] == '/')
      p[--pn] = '\0';
    g_ptr_array_add(names, g_steal_pointer(&p));
  }
  g_autofree char *near = near_or_list(trimmed, names, "paths there");
  g_autofree char *at = commit && g_strcmp0(commit, ref) != 0
                            ? g_strdup_printf(" (commit %s)", commit)
                            : g_strdup("");
  return g_strdup_printf("path '%s' not found in lakefs://%s/%s%s%s", path, repo, ref, at,
                         near);
}
