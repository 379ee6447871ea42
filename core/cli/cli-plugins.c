/* `lathe plugins` and `lathe plugins inspect`. */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "catalog/catalog.h"

#define T lathe_cli_text

static void add_ports(JsonBuilder *b, const LathePortSpec *p) {
  json_builder_begin_array(b);
  for (guint i = 0; p && p[i].name; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, p[i].name);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, lathe_artifact_type_name(p[i].type));
    json_builder_set_member_name(b, "optional");
    json_builder_add_boolean_value(b, (p[i].flags & LATHE_PORT_OPTIONAL) != 0);
    json_builder_set_member_name(b, "doc");
    json_builder_add_string_value(b, p[i].doc ? p[i].doc : "");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* What `plugins` lists of a component; `inspect` adds the rest. */
static void add_head(JsonBuilder *b, LatheComponentInfo *c) {
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, c->id);
  json_builder_set_member_name(b, "kind");
  json_builder_add_string_value(b, lathe_kind_name(c->kind));
  json_builder_set_member_name(b, "plugin");
  json_builder_add_string_value(b, c->plugin->name);
  json_builder_set_member_name(b, "version");
  json_builder_add_string_value(b, c->plugin->version);
  json_builder_set_member_name(b, "file");
  json_builder_add_string_value(b, c->plugin->file);
}

static JsonNode *component_json(LatheComponentInfo *c) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_head(b, c);
  json_builder_set_member_name(b, "description");
  json_builder_add_string_value(b, c->description ? c->description : "");
  json_builder_set_member_name(b, "inputs");
  add_ports(b, c->inputs);
  json_builder_set_member_name(b, "outputs");
  add_ports(b, c->outputs);
  json_builder_set_member_name(b, "params");
  json_builder_begin_array(b);
  for (guint i = 0; i < c->params->len; i++) {
    const LatheParamSpec *s = &g_array_index(c->params, LatheParamSpec, i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, s->name);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, lathe_param_type_name(s->type));
    if (s->type == LATHE_PARAM_LIST) {
      json_builder_set_member_name(b, "item_type");
      json_builder_add_string_value(b, lathe_param_type_name(s->item_type));
    }
    json_builder_set_member_name(b, "default");
    JsonNode *def = lathe_param_default(s);
    json_builder_add_value(b, def ? def : json_node_init_null(json_node_alloc()));
    json_builder_set_member_name(b, "required");
    json_builder_add_boolean_value(b, (s->flags & LATHE_PARAM_REQUIRED) != 0);
    if (s->flags & LATHE_PARAM_HAS_MIN) {
      json_builder_set_member_name(b, "min");
      json_builder_add_double_value(b, s->min);
    }
    if (s->flags & LATHE_PARAM_HAS_MAX) {
      json_builder_set_member_name(b, "max");
      json_builder_add_double_value(b, s->max);
    }
    json_builder_set_member_name(b, "log");
    json_builder_add_boolean_value(b, (s->flags & LATHE_PARAM_LOG) != 0);
    json_builder_set_member_name(b, "secret");
    json_builder_add_boolean_value(b, (s->flags & LATHE_PARAM_SECRET) != 0);
    if (s->choices) {
      json_builder_set_member_name(b, "choices");
      json_builder_begin_array(b);
      for (guint k = 0; s->choices[k]; k++)
        json_builder_add_string_value(b, s->choices[k]);
      json_builder_end_array(b);
    }
    json_builder_set_member_name(b, "doc");
    json_builder_add_string_value(b, s->doc ? s->doc : "");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void print_component(JsonObject *c) {
  printf("%s  (%s %s)\n  %s\n  file: %s\n", T(json_object_get_string_member(c, "id")),
         T(json_object_get_string_member(c, "plugin")), T(json_object_get_string_member(c, "version")),
         T(json_object_get_string_member(c, "description")), T(json_object_get_string_member(c, "file")));
  const char *sections[] = {"inputs", "outputs"};
  for (guint s = 0; s < 2; s++) {
    JsonArray *ports = json_object_get_array_member(c, sections[s]);
    printf("\n%s:%s\n", sections[s], json_array_get_length(ports) ? "" : " none");
    for (guint i = 0; i < json_array_get_length(ports); i++) {
      JsonObject *p = json_array_get_object_element(ports, i);
      printf("  %-12s %-8s%s %s\n", T(json_object_get_string_member(p, "name")),
             T(json_object_get_string_member(p, "type")),
             json_object_get_boolean_member(p, "optional") ? " (optional)" : "",
             T(json_object_get_string_member(p, "doc")));
    }
  }
  JsonArray *params = json_object_get_array_member(c, "params");
  printf("\nparams:%s\n", json_array_get_length(params) ? "" : " none");
  if (json_array_get_length(params))
    printf("  %-16s %-12s %-14s %-20s %s\n", "NAME", "TYPE", "DEFAULT", "BOUNDS", "DOC");
  for (guint i = 0; i < json_array_get_length(params); i++) {
    JsonObject *p = json_array_get_object_element(params, i);
    g_autofree char *type = json_object_has_member(p, "item_type")
        ? g_strdup_printf("list<%s>", json_object_get_string_member(p, "item_type"))
        : json_object_get_boolean_member_with_default(p, "secret", FALSE)
        ? g_strdup_printf("%s secret", json_object_get_string_member(p, "type"))
        : g_strdup(json_object_get_string_member(p, "type"));
    g_autofree char *def = json_object_get_boolean_member(p, "required")
                               ? g_strdup("(required)")
                               : lathe_json_canonical(json_object_get_member(p, "default"));
    g_autofree char *bounds = NULL;
    if (json_object_has_member(p, "choices")) {
      JsonArray *ch = json_object_get_array_member(p, "choices");
      GString *s = g_string_new(NULL);
      for (guint k = 0; k < json_array_get_length(ch); k++)
        g_string_append_printf(s, "%s%s", k ? "|" : "", json_array_get_string_element(ch, k));
      bounds = g_string_free(s, FALSE);
    } else if (json_object_has_member(p, "min") || json_object_has_member(p, "max")) {
      bounds = g_strdup_printf("[%g, %g]%s", json_object_get_double_member_with_default(p, "min", -INFINITY),
                               json_object_get_double_member_with_default(p, "max", INFINITY),
                               json_object_get_boolean_member(p, "log") ? " log" : "");
    } else {
      bounds = g_strdup("-");
    }
    printf("  %-16s %-12s %-14s %-20s %s\n", T(json_object_get_string_member(p, "name")), T(type), T(def),
           T(bounds), T(json_object_get_string_member(p, "doc")));
  }
}

int lathe_cmd_plugins(int argc, char **argv) {
  gboolean json = FALSE;
  GOptionEntry entries[] = {{"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON on stdout", NULL}, G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) octx = g_option_context_new("[inspect NAME]");
  g_option_context_add_main_entries(octx, entries, NULL);
  if (!lathe_cli_parse(octx, &argc, &argv))
    return LATHE_EXIT_USAGE;
  g_autoptr(LatheCatalog) cat = lathe_catalog_load();
  GPtrArray *problems = lathe_catalog_problems(cat);
  for (guint i = 0; i < problems->len; i++)
    fprintf(stderr, "lathe: %s\n", T(problems->pdata[i]));
  if (argc >= 2 && g_str_equal(argv[1], "inspect")) {
    if (argc != 3)
      return lathe_cli_error(LATHE_EXIT_USAGE, "plugins inspect takes one component, e.g. model/logreg");
    LatheComponentInfo *c = lathe_catalog_lookup(cat, argv[2]);
    g_autoptr(GPtrArray) all = lathe_catalog_components(cat);
    g_autoptr(GPtrArray) matches = g_ptr_array_new();
    for (guint i = 0; !c && i < all->len; i++) {
      LatheComponentInfo *x = all->pdata[i];
      const char *slash = strchr(x->id, '/');
      if (g_str_equal(x->plugin->name, argv[2]) || g_str_equal(slash + 1, argv[2]))
        g_ptr_array_add(matches, x);
    }
    if (!c && matches->len == 0) {
      g_autofree char *near = lathe_catalog_suggest(cat, argv[2]);
      g_autofree char *hint = lathe_did_you_mean(near);
      return lathe_cli_error(LATHE_EXIT_USAGE, "no component '%s'%s; `lathe plugins` lists them",
                             argv[2], hint);
    }
    if (c)
      g_ptr_array_add(matches, c);
    JsonArray *out = json_array_new();
    for (guint i = 0; i < matches->len; i++)
      json_array_add_element(out, component_json(matches->pdata[i]));
    g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), out);
    json_array_unref(out);
    if (json)
      lathe_cli_print_json(json_array_get_length(out) == 1 ? json_array_get_element(out, 0) : root);
    else
      for (guint i = 0; i < json_array_get_length(out); i++) {
        if (i)
          putchar('\n');
        print_component(json_array_get_object_element(out, i));
      }
    return LATHE_EXIT_OK;
  }
  if (argc != 1)
    return lathe_cli_error(LATHE_EXIT_USAGE, "unknown plugins subcommand '%s'; try `plugins inspect NAME`", argv[1]);
  g_autoptr(GPtrArray) comps = lathe_catalog_components(cat);
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "components");
    json_builder_begin_array(b);
    for (guint i = 0; i < comps->len; i++) {
      LatheComponentInfo *c = comps->pdata[i];
      json_builder_begin_object(b);
      add_head(b, c);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "refused");
    json_builder_begin_array(b);
    for (guint i = 0; i < problems->len; i++)
      json_builder_add_string_value(b, problems->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    lathe_cli_print_json(root);
  } else {
    printf("%-10s %-22s %-8s %s\n", "KIND", "NAME", "VERSION", "FILE");
    for (guint i = 0; i < comps->len; i++) {
      LatheComponentInfo *c = comps->pdata[i];
      printf("%-10s %-22s %-8s %s\n", lathe_kind_name(c->kind), T(strchr(c->id, '/') + 1),
             T(c->plugin->version), T(c->plugin->file));
    }
  }
  /* A refused plugin is bad input in the plugin path: say so in the exit code. */
  return problems->len ? LATHE_EXIT_USAGE : LATHE_EXIT_OK;
}
