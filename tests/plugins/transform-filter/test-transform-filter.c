/* transform/filter: its three modes, invert, and its refusals. Column "r"
 * holds the row index so every kept row can be traced back. */
#include <string.h>

#include "test-util.h"

/* 8 rows, groups round-robin over 4 names (two raw, two inter-k). */
static LatheDataset *make_data(void) {
  LatheDataset *ds = lathe_dataset_new(8, 2);
  const char *cols[] = {"r", "f3"};
  for (guint c = 0; c < 2; c++) {
    g_free(ds->columns[c]);
    ds->columns[c] = g_strdup(cols[c]);
  }
  const char *classes[] = {"a", "b", NULL};
  lathe_dataset_set_classes(ds, classes);
  const char *groups[] = {"mech/20230911/x.zip", "mech/1-2/1-2_inter-1.zip", "norm/20230912/y.zip",
                          "norm/3-4/3-4_inter-2.zip", NULL};
  lathe_dataset_set_groups(ds, groups);
  for (guint r = 0; r < 8; r++) {
    ds->x[r * 2] = (float)r;
    ds->x[r * 2 + 1] = (float)r - 3.5f; /* f3 > 0 for rows 4..7 */
    ds->groups[r] = (gint32)(r % 4);
    ds->labels[r] = (gint32)(r % 4 >= 2);
  }
  return ds;
}

/* Runs the filter; returns the kept rows' indices as a string ("1,3,5,7"),
 * or NULL with @error set. */
static char *run_filter(const char *params, GError **error) {
  const LatheComponent *c = lathe_test_component("transform-filter", "transform/filter");
  const LatheTransformClass *k = (const LatheTransformClass *)c;
  g_autoptr(LatheContext) ctx = lathe_test_context(c, "only", params, 1);
  g_autoptr(LatheArtifact) in = lathe_artifact_new_dataset(make_data());
  lathe_context_set_input(ctx, "data", in);
  if (!k->run(ctx, error))
    return NULL;
  const LatheDataset *out =
      lathe_artifact_get_dataset(lathe_context_get_output(ctx, "data"), NULL);
  g_assert_cmpuint(out->n_groups, ==, 4); /* names kept for matching by name */
  g_assert_cmpuint(out->n_classes, ==, 2);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < out->n_rows; i++)
    g_string_append_printf(s, "%s%u", i ? "," : "", (guint)out->x[i * 2]);
  return g_string_free(s, FALSE);
}

static void expect(const char *params, const char *rows) {
  g_autoptr(GError) error = NULL;
  g_autofree char *got = run_filter(params, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(got, ==, rows);
}

static void test_modes(void) {
  expect("{\"group\": \"*inter*\"}", "1,3,5,7");
  expect("{\"group\": \"*inter*\", \"invert\": true}", "0,2,4,6");
  expect("{\"group\": \"norm/*\"}", "2,3,6,7");
  /* file matches the name after the last '/' only: "mech*" matches none */
  expect("{\"file\": \"*_inter-1.zip\"}", "1,5");
  expect("{\"file\": \"?.zip\"}", "0,2,4,6");
  expect("{\"column\": \"f3\", \"op\": \">\", \"value\": 0}", "4,5,6,7");
  expect("{\"column\": \"f3\", \"op\": \"<=\", \"value\": -1.5}", "0,1,2");
  expect("{\"column\": \"r\", \"op\": \"==\", \"value\": 3}", "3");
  expect("{\"column\": \"r\", \"op\": \"!=\", \"value\": 3, \"invert\": true}", "3");
  expect("{\"column\": \"r\", \"op\": \">=\", \"value\": 6}", "6,7");
  expect("{\"column\": \"r\", \"op\": \"<\", \"value\": 1}", "0");
}

static void test_refusals(void) {
  const struct {
    const char *params, *says;
    gint code;
  } bad[] = {
      {"{}", "nothing to filter by", LATHE_ERROR_INVALID},
      {"{\"group\": \"*\", \"column\": \"r\"}", "several of group, file and column",
       LATHE_ERROR_INVALID},
      {"{\"column\": \"nope\"}", "no column 'nope'", LATHE_ERROR_INVALID},
      {"{\"file\": \"mech*\"}", "no row of 8 is kept", LATHE_ERROR_DATA},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *got = run_filter(bad[i].params, &error);
    g_assert_null(got);
    g_assert_error(error, LATHE_ERROR, bad[i].code);
    if (!strstr(error->message, bad[i].says) || !strstr(error->message, "(node only)"))
      g_error("case %u: '%s' does not say '%s' and name the node", i, error->message,
              bad[i].says);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/transform-filter/modes", test_modes);
  g_test_add_func("/transform-filter/refusals", test_refusals);
  return g_test_run();
}
