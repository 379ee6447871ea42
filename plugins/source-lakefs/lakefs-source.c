/* source/lakefs: reads CSV files or recordings from a lakeFS repository.
 *
 * resolve pins the ref to a commit id with one API call and takes the object
 * listing at that commit from the listing cache (a commit never changes),
 * so a rerun with the head unmoved costs one call. It records every object
 * as lakefs://REPO/COMMIT/PATH with its checksum, and states the content as
 * a digest over each object's path below the prefix and its checksum: a
 * branch that moved without touching these objects keeps its cached
 * results. run then reads exactly the recorded objects, at the commit id,
 * never at the branch name, so a commit landing mid-run cannot mix two
 * versions. Objects come from the object cache (by checksum) or are
 * downloaded into it, checked against their checksum, and read by the same
 * file readers as source/csv and source/recordings (plugins/lib-tabular).
 */
#include <string.h>

#include <glib/gstdio.h>

#include <lathe/lathe-sdk.h>

#include "lakefs-cache.h"
#include "lakefs-cancel.h"
#include "lakefs-params.h"
#include "tabular.h"

static const char *const format_choices[] = {"csv", "recordings", NULL};

static const LatheParamSpec lakefs_params[] = {
    {.name = "repository",
     .type = LATHE_PARAM_STRING,
     .flags = LATHE_PARAM_REQUIRED,
     .check = lathe_lakefs_check_repository,
     .doc = "the lakeFS repository"},
    LATHE_PARAM_STRING_("ref", "\"main\"", 0,
                        "a branch, a tag or a commit id; resolved to a commit once, at the "
                        "start of the node"),
    LATHE_PARAM_STRING_("path", NULL, LATHE_PARAM_REQUIRED,
                        "one object, or a prefix ending in '/' (every object below it, "
                        "recursively)"),
    LATHE_PARAM_ENUM_("format", "\"csv\"", format_choices,
                      "csv: as source/csv (a file, an archive, or a prefix as a folder); "
                      "recordings: as source/recordings (a prefix laid out as "
                      "<class>/.../<file>)"),
    /* Credentials never come from a pipeline: the two params exist only to
     * refuse them at validation with where they go (lakefs-params.h). */
    LATHE_LAKEFS_CONNECTION_PARAMS,
    LATHE_TABULAR_HEADER_PARAM,
    LATHE_TABULAR_DELIMITER_PARAM,
    LATHE_TABULAR_CSV_PARAMS,
    LATHE_TABULAR_RECORDINGS_PARAMS,
    LATHE_TABULAR_RECORDINGS_MORE_PARAMS,
    LATHE_CSV_LIMIT_PARAMS,
    LATHE_PARAM_END,
};

static const LathePortSpec lakefs_inputs[] = {{.name = NULL}};

static const LathePortSpec lakefs_outputs[] = {
    {.name = "data",
     .type = LATHE_TYPE_DATASET,
     .doc = "as source/csv or source/recordings would read the same files"},
    {.name = NULL},
};

/* What the node reads: the objects at one commit. */
typedef struct {
  const char *repo;
  const char *ref;
  const char *path;
  gboolean folder;     /* path is a prefix */
  gboolean recordings; /* format */
  char *commit;
  char *display;       /* lakefs://REPO/COMMIT/PATH, no trailing slash */
  GPtrArray *objects;  /* LatheLakefsObject, in reading order */
  GPtrArray *names;    /* each one's path below the prefix (its base name for one object) */
} Plan;

static void plan_clear(Plan *p) {
  g_free(p->commit);
  g_free(p->display);
  if (p->objects)
    g_ptr_array_unref(p->objects);
  if (p->names)
    g_ptr_array_unref(p->names);
}

static char *object_uri(const char *repo, const char *commit, const char *path) {
  return g_strdup_printf("lakefs://%s/%s/%s", repo, commit, path);
}

/* "lakefs://REPO/COMMIT/PATH" into its parts (copies). */
static gboolean parse_uri(const char *uri, char **repo, char **commit, char **path) {
  if (!g_str_has_prefix(uri, "lakefs://"))
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(uri + strlen("lakefs://"), "/", 3);
  if (g_strv_length(parts) != 3 || !*parts[0] || !*parts[1] || !*parts[2])
    return FALSE;
  *repo = g_strdup(parts[0]);
  *commit = g_strdup(parts[1]);
  *path = g_strdup(parts[2]);
  return TRUE;
}

/* The commit that recorded versions (pins, or this run's resolve) name;
 * NULL without lakefs:// versions. They must all agree, and be of @repo. */
static char *commit_of(JsonArray *versions, const char *repo, const char *what,
                       GError **error) {
  g_autofree char *commit = NULL;
  for (guint i = 0; versions && i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    const char *uri = v ? json_object_get_string_member_with_default(v, "uri", "") : "";
    g_autofree char *r = NULL, *c = NULL, *p = NULL;
    if (!parse_uri(uri, &r, &c, &p))
      continue;
    if (g_strcmp0(r, repo) != 0 || (commit && g_strcmp0(c, commit) != 0)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "the %s name %s, which is not one commit of repository '%s'; the "
                  "recorded run read something else",
                  what, uri, repo);
      return NULL;
    }
    if (!commit)
      commit = g_steal_pointer(&c);
  }
  if (!commit)
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "the %s hold no lakefs:// object of repository '%s'", what, repo);
  return g_steal_pointer(&commit);
}

/* The listing of what the node reads at p->commit: from the cache, else
 * paged from the API and cached. */
static GPtrArray *listing(LatheLakefs *lk, Plan *p, GError **error) {
  const char *ep = lathe_lakefs_get_endpoint(lk);
  GPtrArray *all = lathe_lakefs_listing_load(ep, p->repo, p->commit, p->path);
  if (all)
    return all;
  all = lathe_lakefs_list_objects(lk, p->repo, p->commit, p->path, NULL, error);
  if (all)
    lathe_lakefs_listing_save(ep, p->repo, p->commit, p->path, all);
  return all;
}

/* Chooses the objects from the listing, as the local sources choose files. */
static gboolean choose(LatheContext *ctx, LatheLakefs *lk, Plan *p, GPtrArray *all,
                       GError **error) {
  p->objects = g_ptr_array_new();
  p->names = g_ptr_array_new_with_free_func(g_free);
  if (!p->folder) {
    for (guint i = 0; i < all->len; i++) {
      LatheLakefsObject *o = all->pdata[i];
      if (g_strcmp0(o->path, p->path) == 0) {
        g_ptr_array_add(p->objects, o);
        g_ptr_array_add(p->names, g_path_get_basename(o->path));
        return TRUE;
      }
    }
    g_autofree char *msg =
        lathe_lakefs_explain_missing(lk, p->repo, p->ref, p->path, p->commit, NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s", msg);
    return FALSE;
  }
  gsize plen = strlen(p->path);
  g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) listed = g_ptr_array_new();
  for (guint i = 0; i < all->len; i++) {
    LatheLakefsObject *o = all->pdata[i];
    const char *rel = o->path + plen;
    if (lathe_csv_input_is_listed(rel)) {
      g_ptr_array_add(listed, (gpointer)rel);
      g_hash_table_insert(by_name, (gpointer)rel, o);
    }
  }
  if (all->len == 0) {
    g_autofree char *msg =
        lathe_lakefs_explain_missing(lk, p->repo, p->ref, p->path, p->commit, NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "%s", msg);
    return FALSE;
  }
  g_autoptr(GPtrArray) chosen = NULL;
  if (p->recordings) {
    chosen = lathe_tabular_recordings_choose(ctx, p->display, listed, error);
    if (!chosen)
      return FALSE;
  } else {
    if (listed->len == 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: prefix holds no .csv, .tsv, .zip, .tar, .tar.gz or .tgz object",
                  p->display);
      return FALSE;
    }
    chosen = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < listed->len; i++)
      g_ptr_array_add(chosen, g_strdup(listed->pdata[i]));
  }
  for (guint i = 0; i < chosen->len; i++) {
    g_ptr_array_add(p->objects, g_hash_table_lookup(by_name, chosen->pdata[i]));
    g_ptr_array_add(p->names, g_strdup(chosen->pdata[i]));
  }
  return TRUE;
}

/* Every object of the plan must be one of @versions with the same checksum,
 * and every lakefs:// version one of the plan's. */
static gboolean check_versions(Plan *p, JsonArray *versions, const char *what,
                               GError **error) {
  g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    const char *uri = v ? json_object_get_string_member_with_default(v, "uri", "") : "";
    if (g_str_has_prefix(uri, "lakefs://"))
      g_hash_table_insert(want, (gpointer)uri,
                          (gpointer)json_object_get_string_member_with_default(v, "digest", ""));
  }
  for (guint i = 0; i < p->objects->len; i++) {
    const LatheLakefsObject *o = p->objects->pdata[i];
    g_autofree char *uri = object_uri(p->repo, p->commit, o->path);
    const char *digest = g_hash_table_lookup(want, uri);
    if (!digest) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: not among the %s; the objects at the pinned commit differ from the "
                  "recorded run",
                  uri, what);
      return FALSE;
    }
    if (g_ascii_strcasecmp(digest, o->checksum) != 0) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                  "%s: checksum %s differs from the %s (%s); refusing to read other bytes "
                  "than the recorded run",
                  uri, o->checksum, what, digest);
      return FALSE;
    }
    g_hash_table_remove(want, uri);
  }
  if (g_hash_table_size(want) > 0) {
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, want);
    g_hash_table_iter_next(&it, &key, NULL);
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_DATA,
                "%s: recorded in the %s but not read with these params; the objects at the "
                "pinned commit differ from the recorded run",
                (const char *)key, what);
    return FALSE;
  }
  return TRUE;
}

/* Whether the node gives @name a value other than its default. */
static gboolean differs_from_default(LatheContext *ctx, const char *name) {
  JsonObject *params = lathe_context_get_params(ctx);
  JsonNode *v = params ? json_object_get_member(params, name) : NULL;
  if (!v || JSON_NODE_HOLDS_NULL(v))
    return FALSE;
  for (const LatheParamSpec *s = lakefs_params; s->name; s++) {
    if (strcmp(s->name, name) != 0)
      continue;
    if (!s->default_json)
      return TRUE;
    g_autoptr(JsonNode) def = json_from_string(s->default_json, NULL);
    return !def || !json_node_equal(v, def);
  }
  return FALSE;
}

/* Works out the plan. @versions (pins, or what this run's resolve recorded)
 * fix the commit and must match; without them the ref is resolved. */
static gboolean make_plan(LatheContext *ctx, LatheLakefs *lk, Plan *p, JsonArray *versions,
                          const char *what, GError **error) {
  p->repo = lathe_context_param_string(ctx, "repository");
  p->path = lathe_context_param_string(ctx, "path");
  p->ref = lathe_context_param_string(ctx, "ref");
  if (!p->ref || !*p->ref)
    p->ref = "main";
  p->recordings = g_strcmp0(lathe_context_param_string(ctx, "format"), "recordings") == 0;
  if (!p->repo || !*p->repo || !p->path || !*p->path) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "repository and path must be set: the lakeFS repository, and an object or "
                "a prefix ending in '/'");
    return FALSE;
  }
  p->folder = g_str_has_suffix(p->path, "/");
  if (p->recordings && !p->folder) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                "path '%s' is one object, but format recordings reads a prefix laid out as "
                "<class>/.../<file>; end path with '/'",
                p->path);
    return FALSE;
  }
  /* A param of the other format would be ignored: say so instead. */
  static const char *const csv_only[] = {"header", "label", "drop", "group", "group_column", NULL};
  static const char *const rec_only[] = {"columns", "time_column", "label_from", "decimal",
                                         "max_per_class", NULL};
  for (const char *const *n = p->recordings ? csv_only : rec_only; *n; n++)
    if (differs_from_default(ctx, *n)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID,
                  "param '%s' belongs to format %s, but format is %s; set format or remove "
                  "the param",
                  *n, p->recordings ? "csv" : "recordings", p->recordings ? "recordings" : "csv");
      return FALSE;
    }
  if (!(p->recordings ? lathe_tabular_check_recordings_params(ctx, error)
                      : lathe_tabular_check_csv_params(ctx, error)))
    return FALSE;
  if (versions) {
    p->commit = commit_of(versions, p->repo, what, error);
  } else {
    p->commit = lathe_lakefs_resolve_ref(lk, p->repo, p->ref, NULL, error);
  }
  if (!p->commit)
    return FALSE;
  g_autofree char *shown = object_uri(p->repo, p->commit, p->path);
  gsize n = strlen(shown);
  while (n && shown[n - 1] == '/')
    shown[--n] = '\0';
  p->display = g_steal_pointer(&shown);
  g_autoptr(GPtrArray) all = listing(lk, p, error);
  if (!all || !choose(ctx, lk, p, all, error))
    return FALSE;
  /* choose() keeps pointers into the listing: hand its ownership over. */
  g_ptr_array_set_free_func(p->objects, NULL);
  GPtrArray *owned = g_ptr_array_new_with_free_func((GDestroyNotify)lathe_lakefs_object_free);
  for (guint i = 0; i < p->objects->len; i++) {
    LatheLakefsObject *o = p->objects->pdata[i];
    LatheLakefsObject *c = g_new0(LatheLakefsObject, 1);
    c->path = g_strdup(o->path);
    c->checksum = g_strdup(o->checksum);
    c->size = o->size;
    g_ptr_array_add(owned, c);
  }
  g_ptr_array_unref(p->objects);
  p->objects = owned;
  return versions ? check_versions(p, versions, what, error) : TRUE;
}

static LatheLakefs *open_client(LatheContext *ctx, GError **error) {
  return lathe_lakefs_open(lathe_context_param_string(ctx, "endpoint"), NULL, error);
}

/* The content: each object's path below the prefix, checksum and size. */
static void set_content_key(LatheContext *ctx, Plan *p) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  for (guint i = 0; i < p->objects->len; i++) {
    const LatheLakefsObject *o = p->objects->pdata[i];
    g_autofree char *line = g_strdup_printf("%s\t%s\t%" G_GUINT64_FORMAT "\n",
                                            (const char *)p->names->pdata[i], o->checksum,
                                            o->size);
    g_checksum_update(sum, (const guchar *)line, (gssize)strlen(line));
  }
  g_autofree char *key = g_strdup_printf("lakefs-content:%s", g_checksum_get_string(sum));
  lathe_context_set_content_key(ctx, key);
}

static void record(LatheContext *ctx, Plan *p) {
  for (guint i = 0; i < p->objects->len; i++) {
    const LatheLakefsObject *o = p->objects->pdata[i];
    g_autofree char *uri = object_uri(p->repo, p->commit, o->path);
    lathe_context_add_data_version(ctx, uri, o->checksum);
  }
  set_content_key(ctx, p);
}

static gboolean has_lakefs_versions(JsonArray *versions) {
  for (guint i = 0; versions && i < json_array_get_length(versions); i++) {
    JsonObject *v = json_array_get_object_element(versions, i);
    if (v && g_str_has_prefix(json_object_get_string_member_with_default(v, "uri", ""),
                              "lakefs://"))
      return TRUE;
  }
  return FALSE;
}

static gboolean lakefs_resolve(LatheContext *ctx, GError **error) {
  g_autoptr(LatheLakefs) lk = open_client(ctx, error);
  if (!lk)
    return FALSE;
  JsonArray *pins = lathe_context_get_pins(ctx);
  Plan p = {0};
  gboolean ok = make_plan(ctx, lk, &p, has_lakefs_versions(pins) ? pins : NULL,
                          "pinned versions of the recorded run", error);
  if (ok) {
    record(ctx, &p);
    lathe_context_log(ctx, G_LOG_LEVEL_INFO, "%s: %u objects at commit %s%s", p.display,
                      p.objects->len, p.commit, pins ? " (pinned)" : "");
  }
  plan_clear(&p);
  return ok;
}

/* Puts every object of the plan in the object cache; fills @paths. */
static gboolean fetch(LatheContext *ctx, LatheLakefs *lk, Plan *p, GPtrArray *paths,
                      GError **error) {
  g_autofree char *dir = lathe_lakefs_cache_dir("lakefs-objects", error);
  if (!dir)
    return FALSE;
  g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(LatheLakefsCancel) cancel = NULL;
  guint downloaded = 0;
  guint64 bytes = 0;
  for (guint i = 0; i < p->objects->len; i++) {
    const LatheLakefsObject *o = p->objects->pdata[i];
    char *cached = lathe_lakefs_cache_object_path(dir, o->checksum);
    g_ptr_array_add(paths, cached);
    g_hash_table_add(keep, cached);
    if (lathe_lakefs_cache_hit(cached))
      continue;
    if (lathe_context_is_cancelled(ctx)) {
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_CANCELLED,
                  "cancelled while downloading %s", p->display);
      return FALSE;
    }
    g_autofree char *tmp = lathe_lakefs_cache_temp_path(cached);
    g_autoptr(GError) local = NULL;
    /* Started at the first download only: a run served from the cache
     * needs no thread. */
    if (!cancel)
      cancel = lathe_lakefs_cancel_watch(ctx);
    if (!lathe_lakefs_download(lk, p->repo, p->commit, o, tmp, lathe_lakefs_cancel_get(cancel),
                               &local)) {
      g_unlink(tmp);
      gboolean cancelled = g_error_matches(local, LATHE_HTTP_ERROR, LATHE_HTTP_ERROR_CANCELLED);
      g_set_error(error, LATHE_ERROR, cancelled ? LATHE_ERROR_CANCELLED : LATHE_ERROR_IO, "%s",
                  local->message);
      return FALSE;
    }
    /* Another process may have cached the same bytes meanwhile: the rename
     * replaces them with equal ones. */
    if (g_rename(tmp, cached) != 0) {
      g_unlink(tmp);
      g_set_error(error, LATHE_ERROR, LATHE_ERROR_IO, "cannot move %s into the cache at %s",
                  o->path, cached);
      return FALSE;
    }
    downloaded++;
    bytes += o->size;
    lathe_context_progress(ctx, 0.5 * (i + 1) / p->objects->len, o->path);
  }
  lathe_lakefs_cache_trim(dir, keep);
  lathe_context_log(ctx, G_LOG_LEVEL_INFO,
                    "%s: %u objects, %u downloaded (%" G_GUINT64_FORMAT
                    " bytes), %u from the cache",
                    p->display, p->objects->len, downloaded, bytes,
                    p->objects->len - downloaded);
  return TRUE;
}

static gboolean lakefs_run(LatheContext *ctx, GError **error) {
  g_autoptr(LatheLakefs) lk = open_client(ctx, error);
  if (!lk)
    return FALSE;
  /* After resolve, the recorded versions say what to read; a host that did
   * not call resolve gets it done here. */
  JsonArray *versions = lathe_context_get_data_versions(ctx);
  if (!has_lakefs_versions(versions)) {
    if (!lakefs_resolve(ctx, error))
      return FALSE;
    versions = lathe_context_get_data_versions(ctx);
  }
  Plan p = {0};
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = make_plan(ctx, lk, &p, versions, "versions resolve recorded", error) &&
                fetch(ctx, lk, &p, paths, error);
  if (ok) {
    g_autofree LatheTabularFile *files = g_new0(LatheTabularFile, p.objects->len);
    for (guint i = 0; i < p.objects->len; i++)
      files[i] = (LatheTabularFile){paths->pdata[i], p.names->pdata[i]};
    ok = p.recordings
             ? lathe_tabular_read_recordings(ctx, p.display, files, p.objects->len, FALSE,
                                             error)
             : lathe_tabular_read_csv(ctx, p.display, files, p.objects->len, p.folder, FALSE,
                                      error);
  }
  plan_clear(&p);
  return ok;
}

static const LatheSourceClass lakefs_source = {
    LATHE_COMPONENT_INIT(LatheSourceClass, LATHE_KIND_SOURCE, "lakefs",
                         "reads CSV files or recordings from a lakeFS repository, pinned to "
                         "a commit, through a local object cache",
                         lakefs_params, lakefs_inputs, lakefs_outputs),
    .run = lakefs_run,
    .resolve = lakefs_resolve,
};

LATHE_PLUGIN_DEFINE("source-lakefs", "0.1.0", "MIT",
                    "lakeFS source: CSV files or recordings at a pinned commit",
                    LATHE_COMPONENT(lakefs_source))
