/* test-registry-host.c: the host side of the registry (registry/) over a
 * fake in-memory registry: why aliases move (ABI 1.8 set_alias_full, and a
 * 1.7 registry without it), promote, rollback, the signature rule, and the
 * signature and reference statistics a version records. */
#include <math.h>
#include <string.h>

#include "lathe-registry.h"

/* The fake: versions {version, metadata, aliases} of one model, aliases,
 * and a history recording @why when it is given. */
typedef struct {
  GPtrArray *versions; /* JsonObject* */
  GHashTable *aliases; /* alias -> version */
  JsonArray *history;
  guint registered;
} Fake;

static Fake *opened; /* the fake the current test opened */

static gpointer fake_open(LatheContext *ctx, GError **error) {
  Fake *f = opened = g_new0(Fake, 1);
  f->versions = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  f->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  f->history = json_array_new();
  return f;
}

static void fake_close(gpointer reg) {
  Fake *f = reg;
  g_ptr_array_unref(f->versions);
  g_hash_table_unref(f->aliases);
  json_array_unref(f->history);
  g_free(f);
}

static gboolean fake_register(gpointer reg, const char *name, GBytes *model, JsonObject *meta,
                              guint *version, GError **error) {
  Fake *f = reg;
  JsonObject *v = json_object_new();
  json_object_set_string_member(v, "name", name);
  json_object_set_int_member(v, "version", f->versions->len + 1);
  json_object_set_object_member(v, "metadata", json_object_ref(meta));
  g_ptr_array_add(f->versions, v);
  f->registered++;
  *version = f->versions->len;
  return TRUE;
}

static gboolean fake_set_alias_full(gpointer reg, const char *name, const char *alias,
                                    guint version, JsonObject *why, GError **error) {
  Fake *f = reg;
  if (version < 1 || version > f->versions->len) {
    g_set_error(error, LATHE_ERROR, LATHE_ERROR_INVALID, "no version %u", version);
    return FALSE;
  }
  guint prev = GPOINTER_TO_UINT(g_hash_table_lookup(f->aliases, alias));
  g_hash_table_replace(f->aliases, g_strdup(alias), GUINT_TO_POINTER(version));
  JsonObject *m = why ? json_object_ref(why) : json_object_new();
  json_object_set_string_member(m, "name", name);
  json_object_set_string_member(m, "alias", alias);
  json_object_set_int_member(m, "version", version);
  if (prev)
    json_object_set_int_member(m, "previous_version", prev);
  else
    json_object_set_null_member(m, "previous_version");
  json_array_add_object_element(f->history, m);
  return TRUE;
}

static gboolean fake_set_alias(gpointer reg, const char *name, const char *alias, guint version,
                               GError **error) {
  return fake_set_alias_full(reg, name, alias, version, NULL, error);
}

static JsonArray *fake_list(gpointer reg, const char *name, GError **error) {
  Fake *f = reg;
  JsonArray *out = json_array_new();
  for (guint i = 0; i < f->versions->len; i++) {
    JsonObject *v = json_object_ref(f->versions->pdata[i]);
    JsonArray *al = json_array_new();
    GHashTableIter it;
    gpointer k, val;
    g_hash_table_iter_init(&it, f->aliases);
    while (g_hash_table_iter_next(&it, &k, &val))
      if (GPOINTER_TO_UINT(val) == i + 1)
        json_array_add_string_element(al, k);
    json_object_set_array_member(v, "aliases", al);
    json_array_add_object_element(out, v);
  }
  return out;
}

static GBytes *fake_get(gpointer reg, const char *name, const char *ref, GError **error) {
  return g_bytes_new_static("x", 1);
}

static JsonArray *fake_history(gpointer reg, const char *name, const char *alias, GError **error) {
  Fake *f = reg;
  JsonArray *out = json_array_new();
  for (guint i = 0; i < json_array_get_length(f->history); i++) {
    JsonObject *m = json_array_get_object_element(f->history, i);
    if (!alias || g_str_equal(json_object_get_string_member(m, "alias"), alias))
      json_array_add_object_element(out, json_object_ref(m));
  }
  return out;
}

static LatheRegistryClass fake_18 = {
    .base = {.struct_size = sizeof(LatheRegistryClass), .kind = LATHE_KIND_REGISTRY,
             .name = "fake"},
    .open = fake_open,
    .register_model = fake_register,
    .set_alias = fake_set_alias,
    .list = fake_list,
    .get = fake_get,
    .close = fake_close,
    .alias_history = fake_history,
    .set_alias_full = fake_set_alias_full,
};

typedef struct {
  LatheContext *ctx;
  LatheRegistry *reg;
  LatheRegistryClass klass;
} Fx;

static void setup(Fx *fx, gconstpointer data) {
  fx->klass = fake_18;
  if (GPOINTER_TO_INT(data) == 17) /* as the host's zeroed copy of a 1.7 struct reads */
    fx->klass.set_alias_full = NULL;
  fx->ctx = lathe_context_new("registry", NULL, 0, NULL, NULL);
  g_autoptr(GError) error = NULL;
  fx->reg = lathe_registry_open_in(&fx->klass, fx->ctx, &error);
  g_assert_no_error(error);
}

static void teardown(Fx *fx, gconstpointer data) {
  lathe_registry_close(fx->reg);
  lathe_context_free(fx->ctx);
}

static LatheArtifact *model_with(const char *columns_json) {
  g_autofree char *text = g_strdup_printf(
      "{\"component\": \"model/fake\", \"plugin\": \"model-fake\", \"plugin_version\": \"1\","
      " \"state_version\": 1, \"classes\": [\"a\", \"b\"], \"columns\": %s}",
      columns_json);
  JsonNode *n = json_from_string(text, NULL);
  JsonObject *h = json_node_dup_object(n);
  json_node_unref(n);
  g_autoptr(GBytes) state = g_bytes_new_static("s", 1);
  return lathe_artifact_new_model(h, state);
}

static guint reg(Fx *fx, const char *columns_json, const char *alias, gboolean allow,
                 GError **error) {
  g_autoptr(LatheArtifact) m = model_with(columns_json);
  g_autoptr(JsonObject) meta = json_object_new();
  json_object_set_string_member(meta, "run_id", "run-1");
  guint v = 0;
  return lathe_registry_register_full(fx->reg, "m", m, meta, alias, NULL, allow, &v, error) ? v
                                                                                            : 0;
}

static JsonObject *last_move(Fx *fx) {
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) h = lathe_registry_alias_history(fx->reg, "m", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(h), >, 0);
  return json_object_ref(json_array_get_object_element(h, json_array_get_length(h) - 1));
}

/* Every move says why: register (with its run), manual, promotion,
 * rollback; each with this user. */
static void test_reasons(Fx *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_assert_cmpuint(reg(fx, "[\"x\", \"y\"]", "candidate", FALSE, &error), ==, 1);
  g_assert_no_error(error);
  g_autoptr(JsonObject) m1 = last_move(fx);
  g_assert_cmpstr(json_object_get_string_member(m1, "reason"), ==, "register");
  g_assert_cmpstr(json_object_get_string_member(m1, "run_id"), ==, "run-1");
  g_assert_cmpstr(json_object_get_string_member(m1, "user"), ==, g_get_user_name());
  g_assert_true(json_object_get_null_member(m1, "figures"));
  g_assert_true(lathe_registry_set_alias(fx->reg, "m", "production", 1, &error));
  g_autoptr(JsonObject) m2 = last_move(fx);
  g_assert_cmpstr(json_object_get_string_member(m2, "reason"), ==, "manual");
  g_assert_true(json_object_get_null_member(m2, "run_id"));
  g_assert_cmpuint(reg(fx, "[\"x\", \"y\"]", "candidate", FALSE, &error), ==, 2);
  guint v = 0;
  g_assert_true(lathe_registry_promote(fx->reg, "m", "candidate", "production", FALSE, &v, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(v, ==, 2);
  g_autoptr(JsonObject) m3 = last_move(fx);
  g_assert_cmpstr(json_object_get_string_member(m3, "reason"), ==, "promotion");
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(m3, "figures"),
                                                "from_alias"), ==, "candidate");
  guint from = 0, to = 0;
  g_assert_true(lathe_registry_rollback(fx->reg, "m", "production", &from, &to, &error));
  g_assert_cmpuint(from, ==, 2);
  g_assert_cmpuint(to, ==, 1);
  g_autoptr(JsonObject) m4 = last_move(fx);
  g_assert_cmpstr(json_object_get_string_member(m4, "reason"), ==, "rollback");
  g_assert_cmpint(json_object_get_int_member(m4, "previous_version"), ==, 2);
}

/* A 1.7 registry: the host falls back to set_alias; the history it keeps
 * reads with null reasons, and promote and rollback still work. */
static void test_registry_1_7(Fx *fx, gconstpointer data) {
  g_assert_null(fx->klass.set_alias_full);
  g_autoptr(GError) error = NULL;
  g_assert_cmpuint(reg(fx, "[\"x\"]", "candidate", FALSE, &error), ==, 1);
  g_assert_cmpuint(reg(fx, "[\"x\"]", "production", FALSE, &error), ==, 2);
  guint v = 0;
  g_assert_true(lathe_registry_promote(fx->reg, "m", "candidate", "production", FALSE, &v, &error));
  g_assert_no_error(error);
  g_autoptr(JsonObject) m = last_move(fx);
  g_assert_cmpint(json_object_get_int_member(m, "version"), ==, 1);
  static const char *const why[] = {"reason", "user", "run_id", "figures"};
  for (int i = 0; i < 4; i++)
    g_assert_true(json_object_get_null_member(m, why[i]));
}

/* A model taking other inputs may not take over an alias, and nothing is
 * registered; allowed, it is. A new alias or one at an unsigned version
 * takes anything. */
static void test_signature_rule(Fx *fx, gconstpointer data) {
  g_autoptr(GError) error = NULL;
  g_assert_cmpuint(reg(fx, "[\"x\", \"y\"]", "candidate", FALSE, &error), ==, 1);
  g_assert_cmpuint(reg(fx, "[\"y\", \"x\"]", "candidate", FALSE, &error), ==, 0);
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "m@candidate points at version 1, which takes 2 columns "
                                          "(x, y); the new model takes 2 columns (y, x)"));
  g_assert_nonnull(strstr(error->message, "allow_signature_change"));
  g_clear_error(&error);
  g_assert_cmpuint(opened->registered, ==, 1);
  g_assert_cmpuint(reg(fx, "[\"y\", \"x\"]", "other", FALSE, &error), ==, 2);
  g_assert_cmpuint(reg(fx, "[\"y\", \"x\"]", "candidate", TRUE, &error), ==, 3);
  g_assert_no_error(error);
  /* promote checks the same rule: candidate (y, x) onto production (x, y) */
  g_assert_true(lathe_registry_set_alias(fx->reg, "m", "production", 1, &error));
  guint v = 0;
  g_assert_false(lathe_registry_promote(fx->reg, "m", "candidate", "production", FALSE, &v, &error));
  g_assert_error(error, LATHE_ERROR, LATHE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "--allow-signature-change"));
  g_clear_error(&error);
  g_assert_true(lathe_registry_promote(fx->reg, "m", "candidate", "production", TRUE, &v, &error));
  g_assert_cmpuint(v, ==, 3);
}

static JsonObject *parse(const char *text) {
  JsonNode *n = json_from_string(text, NULL);
  JsonObject *o = json_node_dup_object(n);
  json_node_unref(n);
  return o;
}

/* Sequence columns fold into channels and a length; anything else stays a
 * list; classes are recorded but not compared. */
static void test_signature_shape(void) {
  g_autoptr(JsonObject) seq = parse("{\"columns\": [\"a@0\", \"b@0\", \"a@1\", \"b@1\", \"a@2\", "
                                    "\"b@2\"], \"classes\": [\"ok\", \"bad\"]}");
  g_autoptr(JsonObject) s = lathe_registry_signature_from_header(seq);
  g_assert_cmpint(json_object_get_int_member(s, "seq_len"), ==, 3);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(s, "channels")), ==, 2);
  g_assert_false(json_object_has_member(s, "columns"));
  g_assert_cmpstr(json_object_get_string_member(s, "dtype"), ==, "float32");
  g_autofree char *brief = lathe_registry_signature_brief(s);
  g_assert_cmpstr(brief, ==, "sequences of 3 steps x 2 channels (a, b)");
  g_autoptr(JsonObject) odd = parse("{\"columns\": [\"a@0\", \"a@2\"]}");
  g_autoptr(JsonObject) o = lathe_registry_signature_from_header(odd);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "columns")), ==, 2);
  g_autoptr(JsonObject) other = parse("{\"columns\": [\"a@0\", \"b@0\", \"a@1\", \"b@1\", "
                                      "\"a@2\", \"b@2\"], \"classes\": [\"x\"]}");
  g_autoptr(JsonObject) s2 = lathe_registry_signature_from_header(other);
  g_assert_true(lathe_registry_signature_equal(s, s2));
  g_assert_false(lathe_registry_signature_equal(s, o));
  g_autoptr(JsonObject) wide = parse("{\"columns\": [\"c1\", \"c2\", \"c3\", \"c4\", \"c5\", "
                                     "\"c6\", \"c7\"]}");
  g_autoptr(JsonObject) w = lathe_registry_signature_from_header(wide);
  g_autofree char *wb = lathe_registry_signature_brief(w);
  g_assert_cmpstr(wb, ==, "7 columns (c1, c2, c3, c4, ... (3 more))");
}

static gint64 count(JsonObject *feature, guint bin) {
  return json_array_get_int_element(json_object_get_array_member(feature, "counts"), bin);
}

/* Equal-width bins over min..max: 0..9 falls one per bin (the max in the
 * last); a constant column in bin 0; NaN counts as missing; classes. */
static void test_reference_table(void) {
  g_autoptr(LatheDataset) d = lathe_dataset_new(10, 3);
  const char *const classes[] = {"a", "b", NULL};
  lathe_dataset_set_classes(d, classes);
  for (guint r = 0; r < 10; r++) {
    d->x[r * 3] = (float)r;
    d->x[r * 3 + 1] = 5;
    d->x[r * 3 + 2] = r == 4 ? NAN : (float)r * r;
    d->labels[r] = r < 3 ? 0 : 1;
  }
  g_autoptr(JsonObject) ref = lathe_registry_reference_stats(d);
  g_assert_cmpint(json_object_get_int_member(ref, "bins"), ==, 10);
  JsonArray *fs = json_object_get_array_member(ref, "features");
  g_assert_cmpuint(json_array_get_length(fs), ==, 3);
  JsonObject *f0 = json_array_get_object_element(fs, 0);
  g_assert_cmpstr(json_object_get_string_member(f0, "name"), ==, d->columns[0]);
  for (guint b = 0; b < 10; b++)
    g_assert_cmpint(count(f0, b), ==, 1);
  g_assert_cmpfloat(json_object_get_double_member(f0, "max"), ==, 9);
  JsonObject *f1 = json_array_get_object_element(fs, 1);
  g_assert_cmpint(count(f1, 0), ==, 10);
  JsonObject *f2 = json_array_get_object_element(fs, 2);
  g_assert_cmpint(json_object_get_int_member(f2, "missing"), ==, 1);
  g_assert_cmpint(count(f2, 9), ==, 1); /* 81 */
  JsonObject *cl = json_object_get_object_member(ref, "classes");
  g_assert_cmpint(json_object_get_int_member(cl, "a"), ==, 3);
  g_assert_cmpint(json_object_get_int_member(cl, "b"), ==, 7);
}

/* Sequences: one histogram per channel over the valid steps only. */
static void test_reference_sequence(void) {
  g_autoptr(LatheDataset) d = lathe_dataset_new(2, 6); /* 3 steps x 2 channels */
  g_assert_true(lathe_dataset_set_sequence(d, 3, TRUE));
  for (guint i = 0; i < 6; i++) {
    g_free(d->columns[i]);
    d->columns[i] = g_strdup_printf("%s@%u", i % 2 ? "b" : "a", i / 2);
    d->x[i] = (float)i;
    d->x[6 + i] = 100; /* row 1: only its first step is valid */
  }
  d->lengths[1] = 1;
  g_autoptr(JsonObject) ref = lathe_registry_reference_stats(d);
  g_assert_cmpint(json_object_get_int_member(ref, "seq_len"), ==, 3);
  JsonArray *fs = json_object_get_array_member(ref, "features");
  g_assert_cmpuint(json_array_get_length(fs), ==, 2);
  JsonObject *a = json_array_get_object_element(fs, 0);
  g_assert_cmpstr(json_object_get_string_member(a, "name"), ==, "a");
  gint64 total = 0;
  for (guint b = 0; b < 10; b++)
    total += count(a, b);
  g_assert_cmpint(total, ==, 4); /* 3 steps of row 0, 1 of row 1 */
  g_assert_cmpfloat(json_object_get_double_member(a, "max"), ==, 100);
  g_assert_false(json_object_has_member(ref, "classes"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add("/registry-host/reasons", Fx, GINT_TO_POINTER(18), setup, test_reasons, teardown);
  g_test_add("/registry-host/registry-1-7", Fx, GINT_TO_POINTER(17), setup, test_registry_1_7,
             teardown);
  g_test_add("/registry-host/signature-rule", Fx, GINT_TO_POINTER(18), setup,
             test_signature_rule, teardown);
  g_test_add_func("/registry-host/signature-shape", test_signature_shape);
  g_test_add_func("/registry-host/reference-table", test_reference_table);
  g_test_add_func("/registry-host/reference-sequence", test_reference_sequence);
  return g_test_run();
}
