/* `lathe models list|show|alias|unalias|delete-alias|rollback|promote|history|export|import`,
 * through the registry plugin. */
#include <errno.h>
#include <string.h>

#include "cli-models.h"
#include "lathe-bundle.h"
#include "lathe-bundle.h"

#define T lathe_cli_text

/* {"name": NAME, "alias": ALIAS, KEY: VALUE}, escaped as JSON (argv may hold
 * quotes or control characters). */
static void print_alias_json(const char *name, const char *alias, JsonNode *value, const char *key) {
  g_autoptr(JsonObject) o = json_object_new();
  json_object_set_string_member(o, "name", name);
  json_object_set_string_member(o, "alias", alias);
  json_object_set_member(o, key, value);
  g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
  lathe_cli_print_json(root);
}

int lathe_cmd_models(int argc, char **argv) {
  gboolean json = FALSE;
  g_autofree char *store_opt = NULL;
  g_autofree char *registry_id = NULL;
  g_autofree char *alias_opt = NULL;
  gboolean allow_sig = FALSE;
  g_autofree char *out_opt = NULL;
  g_autofree char *name_opt = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_opt, "Run store (default: ./.lathe)", "DIR"},
      {"registry", 0, 0, G_OPTION_ARG_STRING, &registry_id, "Registry component (default: registry/local)", "ID"},
      {"alias", 0, 0, G_OPTION_ARG_STRING, &alias_opt, "rollback: the alias to move back (default: production); history: only this alias; import: set this alias", "ALIAS"},
      {"allow-signature-change", 0, 0, G_OPTION_ARG_NONE, &allow_sig,
       "alias, promote: move the alias even to a version that takes other inputs", NULL},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out_opt, "export: the bundle file to write", "FILE"},
      {"name", 0, 0, G_OPTION_ARG_STRING, &name_opt, "import: register under this name", "NAME"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx =
      g_option_context_new("list | show NAME VERSION|ALIAS | alias NAME ALIAS VERSION | unalias NAME ALIAS | rollback NAME [--alias ALIAS] | promote NAME FROM_ALIAS TO_ALIAS | delete-alias NAME ALIAS | history NAME [--alias ALIAS] | export NAME@VERSION|NAME@ALIAS -o FILE | import FILE [--name N] [--alias A]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  gboolean list = argc == 2 && g_str_equal(argv[1], "list");
  gboolean alias = argc == 5 && g_str_equal(argv[1], "alias");
  gboolean rollback = argc == 3 && g_str_equal(argv[1], "rollback");
  gboolean show = argc == 4 && g_str_equal(argv[1], "show");
  /* delete-alias is unalias under the name the issue gave it. */
  gboolean unalias = argc == 4 && (g_str_equal(argv[1], "unalias") ||
                                   g_str_equal(argv[1], "delete-alias"));
  gboolean history = argc == 3 && g_str_equal(argv[1], "history");
  gboolean promote = argc == 5 && g_str_equal(argv[1], "promote");
  gboolean export = argc == 3 && g_str_equal(argv[1], "export");
  gboolean import = argc == 3 && g_str_equal(argv[1], "import");
  if (!list && !alias && !rollback && !show && !unalias && !history && !promote && !export &&
      !import)
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "usage: lathe models list | lathe models show NAME VERSION|ALIAS | "
                           "lathe models alias NAME ALIAS VERSION | lathe models unalias NAME ALIAS | "
                           "lathe models rollback NAME [--alias ALIAS] | "
                           "lathe models promote NAME FROM_ALIAS TO_ALIAS | "
                           "lathe models delete-alias NAME ALIAS | "
                           "lathe models history NAME [--alias ALIAS] | "
                           "lathe models export NAME@VERSION|NAME@ALIAS -o FILE | "
                           "lathe models import FILE [--name NAME] [--alias ALIAS]");
  if (alias_opt && !rollback && !history && !import)
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "--alias goes with `lathe models rollback`, `history` and `import` only");
  if (allow_sig && !alias && !promote)
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "--allow-signature-change goes with `lathe models alias` and "
                           "`lathe models promote` only");
  if (out_opt && !export)
    return lathe_cli_error(LATHE_EXIT_USAGE, "-o goes with `lathe models export` only");
  if (name_opt && !import)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--name goes with `lathe models import` only");
  if (export && (!out_opt || !*out_opt))
    return lathe_cli_error(LATHE_EXIT_USAGE, "lathe models export needs -o FILE");
  const char *at = export ? strrchr(argv[2], '@') : NULL;
  if (export && (!at || at == argv[2] || !at[1]))
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "lathe models export: '%s' is not NAME@VERSION or NAME@ALIAS", argv[2]);
  if (import && !g_file_test(argv[2], G_FILE_TEST_IS_REGULAR))
    return lathe_cli_error(LATHE_EXIT_USAGE, "%s: not a bundle file (missing, or not a plain file); check the path", argv[2]);
  const char *rb_alias = alias_opt ? alias_opt : "production";
  if ((rollback || history) && !*rb_alias)
    return lathe_cli_error(LATHE_EXIT_USAGE, "--alias must not be empty");
  if (promote && g_str_equal(argv[3], argv[4]))
    return lathe_cli_error(LATHE_EXIT_USAGE,
                           "promote %s: FROM_ALIAS and TO_ALIAS are both '%s'; name two aliases",
                           T(argv[2]), T(argv[3]));
  guint64 version = 0;
  if (alias && (!g_ascii_string_to_unsigned(argv[4], 10, 1, G_MAXUINT, &version, NULL)))
    return lathe_cli_error(LATHE_EXIT_USAGE, "VERSION must be a version number, got '%s'", argv[4]);
  g_autoptr(LatheCatalog) cat = lathe_cli_load_catalog(TRUE);
  g_autofree char *dir = lathe_cli_default_store(store_opt, ".");
  /* The registry lives in a run store; models never creates one (a typo in
   * --store would otherwise start an empty registry there), except import:
   * a bundle is how a model reaches a serving machine that has no store. */
  if (import && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    /* Only for a bundle that reads whole: a mistyped path leaves no store behind. */
    g_autoptr(GError) berr = NULL;
    g_autoptr(LatheBundle) b = lathe_bundle_read_file(argv[2], &berr);
    if (!b)
      return lathe_cli_models_error(berr);
    if (g_mkdir_with_parents(dir, 0755) != 0)
      return lathe_cli_error(LATHE_EXIT_FAILED, "cannot create the run store %s: %s; pass --store",
                             dir, g_strerror(errno));
  }
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    return lathe_cli_error(LATHE_EXIT_USAGE, "no run store at %s; run a pipeline first or pass --store",
                           dir);
  g_autofree char *cwd = g_get_current_dir();
  g_autoptr(GError) error = NULL;
  g_autoptr(LatheRegistry) reg = lathe_registry_open(cat, registry_id, NULL, cwd, dir, &error);
  if (!reg)
    return lathe_cli_models_error(error);
  int code = LATHE_EXIT_OK;
  if (history)
    return lathe_cli_models_history(reg, argv[2], alias_opt, json);
  if (promote)
    return lathe_cli_models_promote(reg, argv[2], argv[3], argv[4], allow_sig, json);
  if (export || import)
    return lathe_cli_models_bundle(reg, export, argv[2], at, out_opt, name_opt, alias_opt, json);
  if (show) {
    g_autoptr(JsonObject) v = lathe_registry_get_version(reg, argv[2], argv[3], &error);
    if (!v)
      return lathe_cli_models_error(error);
    g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), v);
    if (json) {
      lathe_cli_print_json(root);
    } else {
      g_autofree char *text = lathe_json_write(root, TRUE);
      printf("%s\n", text);
    }
    return code;
  }
  if (unalias) {
    if (!lathe_registry_delete_alias(reg, argv[2], argv[3], &error))
      return lathe_cli_models_error(error);
    if (json)
      print_alias_json(argv[2], argv[3], json_node_init_boolean(json_node_alloc(), TRUE), "deleted");
    else
      printf("%s@%s deleted\n", T(argv[2]), T(argv[3]));
    return code;
  }
  if (rollback) {
    guint from = 0, to = 0;
    if (!lathe_registry_rollback(reg, argv[2], rb_alias, &from, &to, &error))
      code = lathe_cli_models_error(error);
    else if (json) {
      JsonObject *o = json_object_new();
      json_object_set_string_member(o, "name", argv[2]);
      json_object_set_string_member(o, "alias", rb_alias);
      json_object_set_int_member(o, "from", from);
      json_object_set_int_member(o, "version", to);
      g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), o);
      json_object_unref(o);
      lathe_cli_print_json(root);
    } else
      printf("%s@%s -> version %u (was %u)\n", T(argv[2]), T(rb_alias), to, from);
  } else if (alias) {
    if (!lathe_cli_models_check_alias(reg, argv[2], argv[3], (guint)version, allow_sig, &error) ||
        !lathe_registry_set_alias(reg, argv[2], argv[3], (guint)version, &error))
      code = lathe_cli_models_error(error);
    else if (json)
      print_alias_json(argv[2], argv[3], json_node_init_int(json_node_alloc(), version), "version");
    else
      printf("%s@%s -> version %u\n", T(argv[2]), T(argv[3]), (guint)version);
  } else {
    JsonArray *models = lathe_registry_list(reg, NULL, &error);
    if (!models) {
      code = lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
    } else {
      g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), models);
      json_array_unref(models);
      if (json) {
        lathe_cli_print_json(root);
      } else {
        printf("%-20s %-8s %-20s %-26s %s\n", "NAME", "VERSION", "ALIASES", "CREATED", "RUN");
        for (guint i = 0; i < json_array_get_length(models); i++) {
          JsonObject *m = json_array_get_object_element(models, i);
          JsonArray *al = json_object_get_array_member(m, "aliases");
          GString *as = g_string_new(NULL);
          for (guint k = 0; al && k < json_array_get_length(al); k++)
            g_string_append_printf(as, "%s%s", k ? "," : "", json_array_get_string_element(al, k));
          JsonObject *meta = json_object_get_object_member(m, "metadata");
          printf("%-20s %-8" G_GINT64_FORMAT " %-20s %-26s %s\n",
                 T(json_object_get_string_member(m, "name")), json_object_get_int_member(m, "version"),
                 T(as->len ? as->str : "-"), T(json_object_get_string_member_with_default(m, "created", "")),
                 T(meta ? json_object_get_string_member_with_default(meta, "run_id", "-") : "-"));
          g_string_free(as, TRUE);
        }
      }
    }
  }
  return code;
}
