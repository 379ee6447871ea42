/* `lathe study list | show REF`: the trials of tuner nodes, across runs. */
#include <math.h>

#include "cli/cli.h"
#include "store/store.h"
#include "tune-pareto.h"

#define T lathe_cli_text

/* The trials (objects) on the Pareto front of the complete, feasible ones. */
static JsonArray *front_of(JsonObject *objectives, JsonArray *trials) {
  g_autoptr(GList) names = json_object_get_members(objectives);
  guint k = g_list_length(names);
  g_autoptr(GArray) y = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GPtrArray) who = g_ptr_array_new();
  for (guint i = 0; i < json_array_get_length(trials); i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    JsonNode *vn = json_object_get_member(t, "values");
    JsonObject *v = vn && JSON_NODE_HOLDS_OBJECT(vn) ? json_node_get_object(vn) : NULL;
    JsonArray *o = v && json_object_has_member(v, "objectives") ? json_object_get_array_member(v, "objectives") : NULL;
    if (!g_str_equal(json_object_get_string_member(t, "state"), "complete") || !o ||
        json_array_get_length(o) != k || !json_object_get_boolean_member_with_default(v, "feasible", TRUE))
      continue;
    guint j = 0;
    for (GList *l = names; l; l = l->next, j++) {
      double x = json_array_get_double_element(o, j);
      if (g_str_equal(json_object_get_string_member(objectives, l->data), "maximize"))
        x = -x;
      g_array_append_val(y, x);
    }
    g_ptr_array_add(who, t);
  }
  g_autofree guint *idx = g_new0(guint, MAX(who->len, 1));
  guint m = who->len ? lathe_tune_pareto_front((const double *)y->data, who->len, k, idx) : 0;
  JsonArray *front = json_array_new();
  /* in trial order: idx is in the order of @who, which is */
  g_autofree gboolean *on = g_new0(gboolean, MAX(who->len, 1));
  for (guint i = 0; i < m; i++)
    on[idx[i]] = TRUE;
  for (guint i = 0; i < who->len; i++)
    if (on[i])
      json_array_add_object_element(front, json_object_ref(who->pdata[i]));
  return front;
}

/* Adds "best", "best_so_far" (convergence, per trial in number order) and
 * the objective's name and direction to @study, from @trials. */
static void summarise(JsonObject *study, JsonArray *trials) {
  JsonObject *cfg = json_object_get_object_member(study, "config");
  JsonObject *params = cfg && json_object_has_member(cfg, "params") ? json_object_get_object_member(cfg, "params") : NULL;
  const char *direction = params ? json_object_get_string_member_with_default(params, "direction", "maximize") : "maximize";
  JsonObject *objs0 = params && json_object_has_member(params, "objectives")
                          ? json_object_get_object_member(params, "objectives") : NULL;
  g_autoptr(GString) otext = g_string_new(NULL);
  g_autoptr(GList) onames = objs0 ? json_object_get_members(objs0) : NULL;
  for (GList *l = onames; l; l = l->next)
    g_string_append_printf(otext, "%s%s %s", otext->len ? ", " : "",
                           json_object_get_string_member(objs0, l->data), (char *)l->data);
  json_object_set_string_member(study, "objectives_text", otext->str);
  json_object_set_string_member(study, "objective",
                                onames ? onames->data
                                : params ? json_object_get_string_member_with_default(params, "objective", "") : "");
  if (onames)
    direction = json_object_get_string_member(objs0, onames->data);
  json_object_set_string_member(study, "direction", direction);
  gboolean maximize = g_str_equal(direction, "maximize");
  JsonArray *conv = json_array_new();
  JsonObject *best = NULL;
  double best_v = NAN;
  for (guint i = 0; i < json_array_get_length(trials); i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    JsonNode *vn = json_object_get_member(t, "values");
    JsonObject *v = vn && JSON_NODE_HOLDS_OBJECT(vn) ? json_node_get_object(vn) : NULL;
    gboolean ok = g_str_equal(json_object_get_string_member(t, "state"), "complete") && v &&
                  json_object_get_boolean_member_with_default(v, "feasible", TRUE);
    double x = ok ? json_object_get_double_member_with_default(v, "objective", NAN) : NAN;
    if (isfinite(x) && (isnan(best_v) || (maximize ? x > best_v : x < best_v))) {
      best_v = x;
      best = t;
    }
    if (isnan(best_v))
      json_array_add_null_element(conv);
    else
      json_array_add_double_element(conv, best_v);
  }
  json_object_set_array_member(study, "best_so_far", conv);
  JsonObject *objs = params && json_object_has_member(params, "objectives")
                         ? json_object_get_object_member(params, "objectives") : NULL;
  if (objs)
    json_object_set_array_member(study, "pareto_front", front_of(objs, trials));
  if (best)
    json_object_set_object_member(study, "best", json_object_ref(best));
  else
    json_object_set_null_member(study, "best");
  json_object_set_array_member(study, "trials", json_array_ref(trials));
}

static void print_study(JsonObject *s) {
  JsonArray *trials = json_object_get_array_member(s, "trials");
  JsonArray *conv = json_object_get_array_member(s, "best_so_far");
  printf("study %s  %s/%s  %s  %s %s  %u trials\n\n", T(json_object_get_string_member(s, "id")),
         T(json_object_get_string_member(s, "name")), T(json_object_get_string_member(s, "node")),
         T(json_object_get_string_member(s, "tuner")), T(json_object_get_string_member(s, "direction")),
         T(json_object_get_string_member(s, "objective")), json_array_get_length(trials));
  printf("%-6s %-11s %-12s %-12s %-9s %s\n", "TRIAL", "STATE", "VALUE", "BEST SO FAR", "RUN", "PARAMS");
  for (guint i = 0; i < json_array_get_length(trials); i++) {
    JsonObject *t = json_array_get_object_element(trials, i);
    JsonNode *vn = json_object_get_member(t, "values");
    JsonObject *v = vn && JSON_NODE_HOLDS_OBJECT(vn) ? json_node_get_object(vn) : NULL;
    char value[32] = "-", bsf[32] = "-";
    if (v && json_object_has_member(v, "objective"))
      g_snprintf(value, sizeof value, "%.6g%s", json_object_get_double_member(v, "objective"),
                 json_object_get_boolean_member_with_default(v, "feasible", TRUE) ? "" : "*");
    JsonNode *c = json_array_get_element(conv, i);
    if (!JSON_NODE_HOLDS_NULL(c))
      g_snprintf(bsf, sizeof bsf, "%.6g", json_node_get_double(c));
    g_autofree char *params = json_to_string(json_object_get_member(t, "params"), FALSE);
    printf("%-6" G_GINT64_FORMAT " %-11s %-12s %-12s %-9s %s\n", json_object_get_int_member(t, "number"),
           T(json_object_get_string_member(t, "state")), value, bsf,
           T(json_object_get_string_member_with_default(t, "run_id", "-")), T(params));
    const char *err = json_object_get_string_member_with_default(t, "error", NULL);
    if (err)
      printf("       %s\n", T(err));
  }
  JsonArray *front = json_object_has_member(s, "pareto_front") ? json_object_get_array_member(s, "pareto_front") : NULL;
  if (front) {
    printf("\nPareto front (%s), %u trials:\n", T(json_object_get_string_member(s, "objectives_text")),
           json_array_get_length(front));
    for (guint i = 0; i < json_array_get_length(front); i++) {
      JsonObject *t = json_array_get_object_element(front, i);
      g_autofree char *vals = json_to_string(json_object_get_member(json_object_get_object_member(t, "values"), "objectives"), FALSE);
      g_autofree char *params = json_to_string(json_object_get_member(t, "params"), FALSE);
      printf("  trial %-4" G_GINT64_FORMAT " %s  %s\n", json_object_get_int_member(t, "number"), T(vals), T(params));
    }
    return;
  }
  JsonNode *best = json_object_get_member(s, "best");
  if (best && JSON_NODE_HOLDS_OBJECT(best)) {
    JsonObject *b = json_node_get_object(best);
    g_autofree char *params = json_to_string(json_object_get_member(b, "params"), FALSE);
    printf("\nbest: trial %" G_GINT64_FORMAT ", %s = %.6g, %s\n", json_object_get_int_member(b, "number"),
           T(json_object_get_string_member(s, "objective")),
           json_object_get_double_member(json_object_get_object_member(b, "values"), "objective"), T(params));
  } else {
    printf("\nno trial completed%s\n", json_array_get_length(trials) ? "" : " (none ran)");
  }
}

int lathe_cmd_study(int argc, char **argv) {
  gboolean json = FALSE, show = FALSE;
  int code;
  LatheStore *store = lathe_cli_open_list_show(&argc, &argv, "study", "RUN_ID/NODE", &json, &show, &code);
  if (!store)
    return code;
  g_autoptr(GError) error = NULL;
  gboolean list = !show;
  code = LATHE_EXIT_OK;
  if (list) {
    JsonArray *studies = lathe_store_list_studies(store, &error);
    if (!studies) {
      lathe_store_close(store);
      return lathe_cli_error(LATHE_EXIT_FAILED, "%s", error->message);
    }
    g_autoptr(JsonNode) root = json_node_init_array(json_node_alloc(), studies);
    json_array_unref(studies);
    if (json) {
      lathe_cli_print_json(root);
    } else {
      printf("%-9s %-28s %-14s %-7s %s\n", "STUDY", "PIPELINE/NODE", "TUNER", "TRIALS", "STATES");
      for (guint i = 0; i < json_array_get_length(studies); i++) {
        JsonObject *s = json_array_get_object_element(studies, i);
        g_autofree char *where = g_strdup_printf("%s/%s", json_object_get_string_member(s, "name"),
                                                 json_object_get_string_member(s, "node"));
        g_autofree char *states = json_to_string(json_object_get_member(s, "states"), FALSE);
        printf("%-9s %-28s %-14s %-7" G_GINT64_FORMAT " %s\n", T(json_object_get_string_member(s, "id")),
               T(where), T(json_object_get_string_member(s, "tuner")), json_object_get_int_member(s, "trials"),
               T(states));
      }
    }
  } else {
    JsonObject *study = lathe_store_find_study(store, argv[2], &error);
    g_autoptr(JsonArray) trials =
        study ? lathe_store_study_trials(store, json_object_get_string_member(study, "id"), &error) : NULL;
    if (!study || !trials) {
      code = lathe_cli_error(study ? LATHE_EXIT_FAILED : LATHE_EXIT_USAGE, "%s", error->message);
    } else {
      /* each trial's intermediate values (per-epoch reports), from its run */
      for (guint i = 0; i < json_array_get_length(trials); i++) {
        JsonObject *t = json_array_get_object_element(trials, i);
        const char *run = json_object_get_string_member_with_default(t, "run_id", NULL);
        g_autofree char *prefix = g_strdup_printf("%s/%" G_GINT64_FORMAT "/",
                                                  json_object_get_string_member(study, "node"),
                                                  json_object_get_int_member(t, "number"));
        if (run)
          json_object_set_object_member(t, "intermediate", lathe_store_trial_reports(store, run, prefix));
      }
      summarise(study, trials);
      g_autoptr(JsonNode) root = json_node_init_object(json_node_alloc(), study);
      if (json)
        lathe_cli_print_json(root);
      else
        print_study(study);
    }
    g_clear_pointer(&study, json_object_unref);
  }
  lathe_store_close(store);
  return code;
}
