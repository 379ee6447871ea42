/* The split plugin cache: a catalog loaded from it parses no plugin's
 * metadata until one of its components is looked up, and a damaged entry is
 * read again from its plugin file. */
#include <string.h>

#include <glib/gstdio.h>

#include "catalog/catalog.h"
#include "test-util.h"

static LathePlugin *plugin_of(LatheCatalog *cat, const char *name) {
  GPtrArray *ps = lathe_catalog_plugins(cat);
  for (guint i = 0; i < ps->len; i++)
    if (g_str_equal(((LathePlugin *)ps->pdata[i])->name, name))
      return ps->pdata[i];
  return NULL;
}

static guint parsed(LatheCatalog *cat) {
  GPtrArray *ps = lathe_catalog_plugins(cat);
  guint n = 0;
  for (guint i = 0; i < ps->len; i++)
    n += ((LathePlugin *)ps->pdata[i])->meta != NULL;
  return n;
}

static void assert_same(LatheComponentInfo *a, LatheComponentInfo *b) {
  g_assert_nonnull(a);
  g_assert_nonnull(b);
  g_assert_cmpstr(a->description, ==, b->description);
  g_assert_cmpuint(a->params->len, ==, b->params->len);
  for (guint i = 0; i < a->params->len; i++) {
    const LatheParamSpec *x = &g_array_index(a->params, LatheParamSpec, i);
    const LatheParamSpec *y = &g_array_index(b->params, LatheParamSpec, i);
    g_assert_cmpstr(x->name, ==, y->name);
    g_assert_cmpstr(x->default_json, ==, y->default_json);
    g_assert_cmpint(x->flags, ==, y->flags);
  }
  g_assert_cmpuint(a->n_inputs, ==, b->n_inputs);
  g_assert_cmpuint(a->n_outputs, ==, b->n_outputs);
}

static void test_lazy_metadata(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-plugin-cache-XXXXXX", NULL);
  g_setenv("LATHE_CACHE_DIR", dir, TRUE);
  LatheCatalog *fresh = lathe_catalog_load(); /* inspects every file, writes the cache */
  g_assert_cmpuint(lathe_catalog_plugins(fresh)->len, >, 2);
  LatheComponentInfo *want = lathe_catalog_lookup(fresh, "model/logreg");
  LatheComponentInfo *want_split = lathe_catalog_lookup(fresh, "transform/split");

  LatheCatalog *cached = lathe_catalog_load();
  g_assert_cmpuint(lathe_catalog_plugins(cached)->len, ==, lathe_catalog_plugins(fresh)->len);
  g_assert_cmpuint(parsed(cached), ==, 0);
  assert_same(lathe_catalog_lookup(cached, "model/logreg"), want);
  g_assert_cmpuint(parsed(cached), ==, 1);
  g_assert_nonnull(plugin_of(cached, "model-logreg")->meta);
  g_assert_null(plugin_of(cached, "model-logreg")->module); /* described, not opened */
  g_assert_null(lathe_catalog_lookup(cached, "model/nonesuch"));
  lathe_catalog_free(cached);

  /* Damage every metadata line but keep the index: components still come
   * back whole, from their files. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autofree char *file = NULL;
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_prefix(n, "plugins-index-"))
      file = g_build_filename(dir, n, NULL);
  g_assert_nonnull(file);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(file, &text, &len, NULL));
  char *body = strchr(text, '\n');
  g_assert_nonnull(body);
  for (char *c = body + 1; c < text + len; c++)
    if (*c != '\n')
      *c = '#';
  g_assert_true(g_file_set_contents(file, text, (gssize)len, NULL));
  LatheCatalog *damaged = lathe_catalog_load();
  assert_same(lathe_catalog_lookup(damaged, "transform/split"), want_split);
  lathe_catalog_free(damaged);

  lathe_catalog_free(fresh);
  lathe_test_remove_tree(dir);
}

static char *index_line(const char *dir) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autofree char *file = NULL;
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_prefix(n, "plugins-index-"))
      file = g_build_filename(dir, n, NULL);
  g_assert_nonnull(file);
  char *text = NULL;
  g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
  *strchr(text, '\n') = '\0';
  return text;
}

/* Entries of plugin files that are gone leave the index when it is next
 * written, so old build trees sharing the user's cache do not slow every
 * command down. */
static void test_prune(void) {
  g_autofree char *dir = g_dir_make_tmp("lathe-plugin-prune-XXXXXX", NULL);
  g_autofree char *cache = g_build_filename(dir, "cache", NULL);
  g_autofree char *pdir = g_build_filename(dir, "plugins", NULL);
  g_assert_cmpint(g_mkdir(pdir, 0755), ==, 0);
  g_setenv("LATHE_CACHE_DIR", cache, TRUE);
  g_setenv("LATHE_PLUGIN_PATH", pdir, TRUE);
  LatheCatalog *cat = lathe_catalog_load();
  g_autofree char *src = g_strdup(plugin_of(cat, "transform-split")->file);
  lathe_catalog_free(cat);
  g_autofree char *old = g_build_filename(pdir, "libold.so", NULL);
  g_autofree char *fresh = g_build_filename(pdir, "libnew.so", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
  g_assert_true(g_file_set_contents(old, bytes, (gssize)len, NULL));
  lathe_catalog_free(lathe_catalog_load()); /* a second "transform-split": refused, but cached */
  g_autofree char *before = index_line(cache);
  g_assert_nonnull(strstr(before, "libold.so"));
  g_assert_cmpint(g_unlink(old), ==, 0);
  g_assert_true(g_file_set_contents(fresh, bytes, (gssize)len, NULL)); /* the index is rewritten */
  lathe_catalog_free(lathe_catalog_load());
  g_autofree char *after = index_line(cache);
  g_assert_null(strstr(after, "libold.so"));
  g_assert_nonnull(strstr(after, "libnew.so"));
  g_assert_nonnull(strstr(after, src));
  g_unsetenv("LATHE_PLUGIN_PATH");
  lathe_test_remove_tree(dir);
}

/* Metadata that crossed the scanner's pipe (lathe --scan-plugins) describes
 * every component exactly as inspecting it in this process does. */
static void test_scanner_same(void) {
  const char *lathe = g_getenv("LATHE_BIN");
  if (!lathe) {
    g_test_skip("LATHE_BIN is not set");
    return;
  }
  g_autofree char *dir = g_dir_make_tmp("lathe-plugin-scanner-XXXXXX", NULL);
  g_autofree char *here = g_build_filename(dir, "here", NULL);
  g_autofree char *there = g_build_filename(dir, "there", NULL);
  g_setenv("LATHE_CACHE_DIR", here, TRUE);
  LatheCatalog *a = lathe_catalog_load();
  g_setenv("LATHE_CACHE_DIR", there, TRUE);
  lathe_catalog_set_scanner(lathe);
  LatheCatalog *b = lathe_catalog_load();
  lathe_catalog_set_scanner(NULL);
  g_assert_cmpuint(lathe_catalog_problems(b)->len, ==, lathe_catalog_problems(a)->len);
  g_assert_null(plugin_of(b, "model-logreg")->module); /* opened in the scanner, not here */
  g_autoptr(GPtrArray) ca = lathe_catalog_components(a);
  g_autoptr(GPtrArray) cb = lathe_catalog_components(b);
  g_assert_cmpuint(ca->len, ==, cb->len);
  g_assert_cmpuint(ca->len, >, 20);
  for (guint i = 0; i < ca->len; i++) {
    LatheComponentInfo *x = ca->pdata[i], *y = cb->pdata[i];
    g_assert_cmpstr(x->id, ==, y->id);
    g_assert_cmpstr(x->plugin->digest, ==, y->plugin->digest);
    assert_same(x, y);
  }
  lathe_catalog_free(a);
  lathe_catalog_free(b);
  lathe_test_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/catalog/plugin-cache/lazy-metadata", test_lazy_metadata);
  g_test_add_func("/catalog/plugin-cache/prune", test_prune);
  g_test_add_func("/catalog/plugin-cache/scanner-same", test_scanner_same);
  return g_test_run();
}
