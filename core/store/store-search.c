/* `lathe runs search`: MLflow's search_runs filter syntax over the run store.
 *
 * A small recursive-descent parser turns the filter (and the order-by keys)
 * into one SQL statement over the store's tables. Every value the user typed
 * (numbers, strings, LIKE patterns, metric and param names) is a bound
 * parameter: the SQL text holds only what this file writes, so no filter can
 * change the statement's shape. A run's metric NODE.METRIC is the final value
 * (step NULL) its node's latest execution recorded; a run without it never
 * matches a comparison on it, as in MLflow. */
#include <stdlib.h>
#include <string.h>

#include "store/store-private.h"

typedef enum { ENT_METRIC, ENT_PARAM, ENT_TAG, ENT_ATTR } Entity;

typedef struct {
  const char *name;
  const char *sql;
  gboolean numeric;
} Attr;

/* start_time and end_time are milliseconds since the epoch, as in MLflow;
 * the store keeps seconds. */
static const Attr attrs[] = {
    {"run_id", "r.id", FALSE},
    {"run_name", "r.name", FALSE},
    {"status", "r.status", FALSE},
    {"pipeline", "r.pipeline", FALSE},
    {"preset", "json_extract(r.pipeline_json, '$.preset')", FALSE},
    {"lathe_version", "r.lathe_version", FALSE},
    {"seed", "r.seed", TRUE},
    {"start_time", "(r.started * 1000)", TRUE},
    {"created", "(r.started * 1000)", TRUE},
    {"end_time", "(r.ended * 1000)", TRUE},
};

typedef enum { BIND_TEXT, BIND_REAL, BIND_INT } BindType;

typedef struct {
  BindType type;
  char *text;
  double real;
  gint64 integer;
} Bind;

static void bind_free(gpointer p) {
  Bind *b = p;
  g_free(b->text);
  g_free(b);
}

typedef struct {
  const char *src;   /* the whole text */
  const char *p;     /* the cursor */
  const char *what;  /* "filter" or "order-by 'TEXT'" */
  GPtrArray *binds;  /* Bind*, ?1 is binds[0] */
  GPtrArray *columns; /* "metrics.KEY" ... named so far, without duplicates */
  const char *op_at;  /* where the last comparator began */
  GError **error;
} Parser;

typedef struct {
  Entity ent;
  char *key;        /* metric/param/tag key; NULL for an attribute */
  const Attr *attr; /* for ENT_ATTR */
  char *text;       /* as written, for messages */
} Ident;

static void ident_clear(Ident *id) {
  g_free(id->key);
  g_free(id->text);
}

static void skip_space(Parser *ps) {
  while (g_ascii_isspace(*ps->p))
    ps->p++;
}

/* What is at @at, for "got ...": a word, a quoted string, or what runs
 * to the next space. */
static char *got_text(const char *at) {
  if (!*at)
    return g_strdup("the end");
  if (g_ascii_isspace(*at))
    return g_strdup("a space");
  const char *e = at;
  while (*e && (g_ascii_isalnum(*e) || *e == '_' || *e == '.'))
    e++;
  if (e == at && (*at == '\'' || *at == '"')) {
    for (e = at + 1; *e && *e != *at; e++)
      ;
    if (*e)
      e++;
  } else if (e == at) {
    while (*e && !g_ascii_isspace(*e))
      e = g_utf8_next_char(e);
  }
  glong n = g_utf8_validate(at, e - at, NULL) ? g_utf8_strlen(at, e - at) : e - at;
  if (n > 40)
    e = g_utf8_offset_to_pointer(at, 40);
  g_autofree char *t = g_strndup(at, e - at);
  /* A quoted string shows its own quotes. */
  return *at == '\'' || *at == '"' ? g_steal_pointer(&t) : g_strdup_printf("'%s'", t);
}

/* Sets the error "WHAT: column N: MESSAGE" (N counts characters from 1) and
 * returns FALSE. */
static gboolean fail_at(Parser *ps, const char *at, const char *format, ...) G_GNUC_PRINTF(3, 4);
static gboolean fail_at(Parser *ps, const char *at, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  g_autofree char *msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  glong col = g_utf8_validate(ps->src, at - ps->src, NULL) ? g_utf8_pointer_to_offset(ps->src, at)
                                                           : at - ps->src;
  g_set_error(ps->error, LATHE_ERROR, LATHE_ERROR_INVALID, "%s: column %ld: %s", ps->what, col + 1,
              msg);
  return FALSE;
}

static gboolean fail_expected(Parser *ps, const char *expected, const char *after) {
  g_autofree char *got = got_text(ps->p);
  if (after)
    return fail_at(ps, ps->p, "expected %s after '%s', got %s", expected, after, got);
  return fail_at(ps, ps->p, "expected %s, got %s", expected, got);
}

/* Whether the keyword @kw (upper case) is at the cursor, as a whole word. */
static gboolean at_keyword(Parser *ps, const char *kw) {
  size_t n = strlen(kw);
  return g_ascii_strncasecmp(ps->p, kw, n) == 0 && !g_ascii_isalnum(ps->p[n]) && ps->p[n] != '_';
}

static guint add_bind(Parser *ps, BindType type, const char *text, double real, gint64 integer) {
  Bind *b = g_new0(Bind, 1);
  b->type = type;
  b->text = g_strdup(text);
  b->real = real;
  b->integer = integer;
  g_ptr_array_add(ps->binds, b);
  return ps->binds->len;
}

/* A quoted string at the cursor ('...', "..." or `...`); a doubled quote
 * stands for itself. */
static char *parse_quoted(Parser *ps) {
  const char *open = ps->p;
  char q = *ps->p++;
  GString *s = g_string_new(NULL);
  for (;;) {
    if (!*ps->p) {
      g_string_free(s, TRUE);
      fail_at(ps, open, "this string has no closing %c", q);
      return NULL;
    }
    if (*ps->p == q) {
      if (ps->p[1] != q) {
        ps->p++;
        return g_string_free(s, FALSE);
      }
      ps->p++;
    }
    g_string_append_c(s, *ps->p++);
  }
}

static gboolean is_key_char(char c) {
  /* Node ids hold letters, digits, '_' and '-'; a trial's nodes add '/'. */
  return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/';
}

static const Attr *find_attr(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(attrs); i++)
    if (g_str_equal(attrs[i].name, name))
      return &attrs[i];
  return NULL;
}

static gboolean unknown_attr(Parser *ps, const char *at, const char *name) {
  GString *names = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(attrs); i++)
    g_string_append_printf(names, "%s%s", i ? ", " : "", attrs[i].name);
  fail_at(ps, at, "unknown attribute '%s' (attributes are %s; or write metrics.%s, params.%s)",
          name, names->str, name, name);
  g_string_free(names, TRUE);
  return FALSE;
}

/* IDENT: [`]TYPE[`] '.' KEY, KEY unquoted or in "..", `..` or '..'; or a bare attribute name. */
static gboolean parse_ident(Parser *ps, Ident *id, const char *expected) {
  skip_space(ps);
  const char *start = ps->p;
  g_autofree char *type = NULL;
  if (*ps->p == '`') {
    type = parse_quoted(ps);
    if (!type)
      return FALSE;
  } else {
    while (g_ascii_isalnum(*ps->p) || *ps->p == '_')
      ps->p++;
    if (ps->p == start)
      return fail_expected(ps, expected, NULL);
    type = g_strndup(start, ps->p - start);
  }
  if (*ps->p != '.') {
    id->ent = ENT_ATTR;
    id->attr = find_attr(type);
    id->text = g_strndup(start, ps->p - start);
    return id->attr ? TRUE : unknown_attr(ps, start, type);
  }
  ps->p++;
  static const struct {
    const char *name;
    Entity ent;
  } types[] = {{"metric", ENT_METRIC},     {"metrics", ENT_METRIC},    {"param", ENT_PARAM},
               {"params", ENT_PARAM},      {"parameter", ENT_PARAM},   {"parameters", ENT_PARAM},
               {"tag", ENT_TAG},           {"tags", ENT_TAG},          {"attribute", ENT_ATTR},
               {"attributes", ENT_ATTR},   {"attr", ENT_ATTR},         {"run", ENT_ATTR}};
  gboolean known = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(types) && !known; i++)
    if (g_str_equal(types[i].name, type)) {
      id->ent = types[i].ent;
      known = TRUE;
    }
  if (!known) {
    if (g_str_equal(type, "dataset") || g_str_equal(type, "datasets"))
      return fail_at(ps, start, "datasets.* is not supported: data versions are per node "
                                "(`lathe runs compare` shows them)");
    return fail_at(ps, start, "unknown kind '%s': write metrics.KEY, params.KEY, tags.KEY or "
                              "attributes.NAME", type);
  }
  const char *key_at = ps->p;
  if (*ps->p == '"' || *ps->p == '`' || *ps->p == '\'') {
    id->key = parse_quoted(ps);
    if (!id->key)
      return FALSE;
  } else {
    while (is_key_char(*ps->p))
      ps->p++;
    id->key = g_strndup(key_at, ps->p - key_at);
  }
  id->text = g_strndup(start, ps->p - start);
  if (!*id->key) {
    ps->p = key_at;
    return fail_expected(ps, "a name (quote it in \"...\" if it has other characters)", type);
  }
  if (id->ent == ENT_ATTR) {
    id->attr = find_attr(id->key);
    if (!id->attr)
      return unknown_attr(ps, key_at, id->key);
  }
  return TRUE;
}

/* How a param is read: as text (numbers as SQLite writes them: 0.1, 1.0,
 * 3), as a number (NULL unless it is one), or typed for ordering (numbers
 * in numeric order, before text). */
typedef enum { READ_TEXT, READ_NUMBER, READ_TYPED } ParamRead;

/* The SQL for @id's value in run r; its binds are added to @ps. */
static char *ident_sql(Parser *ps, const Ident *id, ParamRead how) {
  if (id->ent == ENT_ATTR)
    return g_strdup(id->attr->sql);
  if (id->ent == ENT_TAG)
    return g_strdup("NULL"); /* the store keeps no tags: nothing matches */
  /* "NODE.NAME": node ids hold no '.', so NODE ends at the first one. */
  const char *dot = strchr(id->key, '.');
  g_autofree char *node = dot ? g_strndup(id->key, dot - id->key) : g_strdup(id->key);
  guint n = add_bind(ps, BIND_TEXT, node, 0, 0);
  guint k = add_bind(ps, BIND_TEXT, dot ? dot + 1 : "", 0, 0);
  if (id->ent == ENT_METRIC)
    return g_strdup_printf("(SELECT m.value FROM metrics m JOIN executions e ON e.id = m.execution_id"
                           " WHERE e.run_id = r.id AND e.node = ?%u AND m.name = ?%u"
                           " AND m.step IS NULL ORDER BY e.id DESC, m.rowid DESC LIMIT 1)", n, k);
  static const char *const reads[] = {
      [READ_TEXT] = "CASE WHEN json_valid(p.value) THEN CASE json_type(p.value)"
                    " WHEN 'text' THEN json_extract(p.value, '$')"
                    " WHEN 'integer' THEN CAST(json_extract(p.value, '$') AS TEXT)"
                    " WHEN 'real' THEN CAST(json_extract(p.value, '$') AS TEXT)"
                    " ELSE p.value END ELSE p.value END",
      [READ_NUMBER] = "CASE WHEN json_valid(p.value) THEN CASE json_type(p.value) WHEN 'integer'"
                      " THEN json_extract(p.value, '$') WHEN 'real' THEN"
                      " json_extract(p.value, '$') END END",
      [READ_TYPED] = "CASE WHEN json_valid(p.value) THEN json_extract(p.value, '$') ELSE p.value END"};
  return g_strdup_printf("(SELECT %s FROM params p JOIN executions e ON e.id = p.execution_id"
                         " WHERE e.run_id = r.id AND e.node = ?%u AND p.name = ?%u"
                         " ORDER BY e.id DESC LIMIT 1)", reads[how], n, k);
}

static void note_column(Parser *ps, const Ident *id) {
  static const char *const prefix[] = {"metrics.", "params.", "tags.", "attributes."};
  g_autofree char *col = g_strconcat(prefix[id->ent], id->key ? id->key : id->attr->name, NULL);
  for (guint i = 0; i < ps->columns->len; i++)
    if (g_str_equal(ps->columns->pdata[i], col))
      return;
  g_ptr_array_add(ps->columns, g_steal_pointer(&col));
}

/* A number at the cursor: [+-]digits[.digits][e[+-]digits]. */
static gboolean parse_number(Parser *ps, double *out) {
  const char *s = ps->p, *q = s;
  if (*q == '+' || *q == '-')
    q++;
  const char *digits = q;
  while (g_ascii_isdigit(*q))
    q++;
  if (*q == '.')
    for (q++; g_ascii_isdigit(*q); q++)
      ;
  if (q == digits || (q == digits + 1 && *digits == '.'))
    return FALSE;
  if (*q == 'e' || *q == 'E') {
    const char *e = q + 1;
    if (*e == '+' || *e == '-')
      e++;
    if (!g_ascii_isdigit(*e))
      return FALSE;
    for (q = e; g_ascii_isdigit(*q); q++)
      ;
  }
  if (g_ascii_isalpha(*q) || *q == '_' || *q == '.')
    return FALSE;
  g_autofree char *text = g_strndup(s, q - s);
  *out = g_ascii_strtod(text, NULL);
  ps->p = q;
  return TRUE;
}

/* MLflow's LIKE is case-sensitive; SQLite's is not, but GLOB is: the same
 * pattern with % and _ as * and ?, and GLOB's own specials made literal. */
static char *like_to_glob(const char *like) {
  GString *g = g_string_new(NULL);
  for (const char *c = like; *c; c++) {
    switch (*c) {
    case '%': g_string_append_c(g, '*'); break;
    case '_': g_string_append_c(g, '?'); break;
    case '*': g_string_append(g, "[*]"); break;
    case '?': g_string_append(g, "[?]"); break;
    case '[': g_string_append(g, "[[]"); break;
    default: g_string_append_c(g, *c);
    }
  }
  return g_string_free(g, FALSE);
}

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_LIKE, OP_ILIKE, OP_IN, OP_NOT_IN } Op;
static const char *const op_sql[] = {"=", "!=", "<", "<=", ">", ">=", "GLOB", "LIKE", "IN", "NOT IN"};
static const char *const op_text[] = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

static gboolean parse_op(Parser *ps, const Ident *id, Op *op) {
  skip_space(ps);
  ps->op_at = ps->p;
  static const struct {
    const char *text;
    Op op;
  } symbols[] = {{"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"=", OP_EQ}, {"<", OP_LT}, {">", OP_GT}};
  if (g_str_has_prefix(ps->p, "<>") || g_str_has_prefix(ps->p, "=="))
    return fail_at(ps, ps->p, "'%.2s' is not a comparator here: write = or !=", ps->p);
  for (guint i = 0; i < G_N_ELEMENTS(symbols); i++)
    if (g_str_has_prefix(ps->p, symbols[i].text)) {
      ps->p += strlen(symbols[i].text);
      *op = symbols[i].op;
      return TRUE;
    }
  static const struct {
    const char *kw;
    Op op;
  } words[] = {{"LIKE", OP_LIKE}, {"ILIKE", OP_ILIKE}, {"IN", OP_IN}};
  for (guint i = 0; i < G_N_ELEMENTS(words); i++)
    if (at_keyword(ps, words[i].kw)) {
      ps->p += strlen(words[i].kw);
      *op = words[i].op;
      return TRUE;
    }
  if (at_keyword(ps, "NOT")) {
    const char *not_at = ps->p;
    ps->p += 3;
    skip_space(ps);
    if (at_keyword(ps, "IN")) {
      ps->p += 2;
      *op = OP_NOT_IN;
      return TRUE;
    }
    if (at_keyword(ps, "LIKE") || at_keyword(ps, "ILIKE"))
      return fail_at(ps, not_at, "NOT LIKE is not in the syntax: write != for exact values");
    return fail_expected(ps, "IN", "NOT");
  }
  return fail_expected(ps, "a comparator (= != < <= > >= LIKE ILIKE IN NOT IN)", id->text);
}

/* '(' STRING (',' STRING)* ')' for IN and NOT IN, as "(?1, ?2)". */
static char *parse_list(Parser *ps, const Ident *id) {
  skip_space(ps);
  if (*ps->p != '(') {
    fail_expected(ps, "a list of quoted strings in ( )", id->text);
    return NULL;
  }
  ps->p++;
  GString *sql = g_string_new("(");
  for (;;) {
    skip_space(ps);
    if (*ps->p != '\'' && *ps->p != '"') {
      fail_expected(ps, "a quoted string", NULL);
      return g_string_free(sql, TRUE), NULL;
    }
    g_autofree char *s = parse_quoted(ps);
    if (!s)
      return g_string_free(sql, TRUE), NULL;
    g_string_append_printf(sql, "%s?%u", sql->len > 1 ? ", " : "", add_bind(ps, BIND_TEXT, s, 0, 0));
    skip_space(ps);
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == ')') {
      ps->p++;
      g_string_append_c(sql, ')');
      return g_string_free(sql, FALSE);
    }
    fail_expected(ps, "',' or ')'", NULL);
    return g_string_free(sql, TRUE), NULL;
  }
}

/* COMPARISON: IDENT OP VALUE, appended to @where. */
static gboolean parse_comparison(Parser *ps, GString *where) {
  Ident id = {0};
  gboolean ok = FALSE;
  Op op = OP_EQ;
  g_autofree char *lhs = NULL, *rhs = NULL;
  if (!parse_ident(ps, &id, "metrics.KEY, params.KEY, tags.KEY or an attribute") ||
      !parse_op(ps, &id, &op))
    goto out;
  note_column(ps, &id);
  skip_space(ps);
  const char *value_at = ps->p;
  gboolean is_attr_text = id.ent == ENT_ATTR && !id.attr->numeric;
  if (op == OP_IN || op == OP_NOT_IN) {
    if (!is_attr_text) {
      fail_at(ps, value_at, "%s takes a list only for text attributes (run_id, run_name, status, "
                            "pipeline, preset, lathe_version), not '%s'", op_text[op], id.text);
      goto out;
    }
    rhs = parse_list(ps, &id);
    if (!rhs)
      goto out;
    lhs = ident_sql(ps, &id, READ_TEXT);
  } else if (*ps->p == '\'' || *ps->p == '"') {
    gboolean numeric_lhs = id.ent == ENT_METRIC || (id.ent == ENT_ATTR && id.attr->numeric);
    if (numeric_lhs) {
      fail_at(ps, value_at, "'%s' is a number: compare it with a number, not a string", id.text);
      goto out;
    }
    if (op != OP_EQ && op != OP_NE && op != OP_LIKE && op != OP_ILIKE) {
      fail_at(ps, ps->op_at, "'%s' compares with numbers; strings take = != LIKE ILIKE", op_text[op]);
      goto out;
    }
    g_autofree char *s = parse_quoted(ps);
    if (!s)
      goto out;
    g_autofree char *pattern = op == OP_LIKE ? like_to_glob(s) : NULL;
    lhs = ident_sql(ps, &id, READ_TEXT);
    rhs = g_strdup_printf("?%u", add_bind(ps, BIND_TEXT, pattern ? pattern : s, 0, 0));
  } else {
    double v;
    if (!parse_number(ps, &v)) {
      fail_expected(ps, id.ent == ENT_METRIC ? "a number" : "a number or a quoted string",
                    op_text[op]);
      goto out;
    }
    if (is_attr_text) {
      fail_at(ps, value_at, "'%s' is text: quote the value ('...')", id.text);
      goto out;
    }
    if (op == OP_LIKE || op == OP_ILIKE) {
      fail_at(ps, value_at, "%s takes a quoted pattern ('%%...%%')", op_text[op]);
      goto out;
    }
    /* Params compare as numbers with a number (Lathe's addition: MLflow's
     * params are strings); a param that is not a number never matches. */
    lhs = ident_sql(ps, &id, READ_NUMBER);
    rhs = g_strdup_printf("?%u", add_bind(ps, BIND_REAL, NULL, v, 0));
  }
  g_string_append_printf(where, "(%s %s %s)", lhs, op_sql[op], rhs);
  ok = TRUE;
out:
  ident_clear(&id);
  return ok;
}

/* FILTER: COMPARISON (AND COMPARISON)* | empty */
static gboolean parse_filter(Parser *ps, GString *where) {
  skip_space(ps);
  if (!*ps->p)
    return TRUE;
  for (;;) {
    if (!parse_comparison(ps, where))
      return FALSE;
    skip_space(ps);
    if (!*ps->p)
      return TRUE;
    if (at_keyword(ps, "AND")) {
      ps->p += 3;
      g_string_append(where, " AND ");
      continue;
    }
    if (at_keyword(ps, "OR"))
      return fail_at(ps, ps->p, "OR is not supported (MLflow's filter syntax has AND only): "
                                "run one search for each alternative");
    if (*ps->p == '(' || *ps->p == ')')
      return fail_at(ps, ps->p, "parentheses are not supported: the filter is comparisons joined by AND");
    return fail_expected(ps, "AND or the end of the filter", NULL);
  }
}

/* ORDER: IDENT [ASC|DESC] (',' IDENT [ASC|DESC])*: runs without the value last. */
static gboolean parse_order(Parser *ps, GString *order) {
  for (;;) {
    Ident id = {0};
    if (!parse_ident(ps, &id, "metrics.KEY, params.KEY, tags.KEY or an attribute")) {
      ident_clear(&id);
      return FALSE;
    }
    note_column(ps, &id);
    g_autofree char *value = ident_sql(ps, &id, READ_TYPED);
    ident_clear(&id);
    skip_space(ps);
    const char *dir = "ASC";
    if (at_keyword(ps, "ASC") || at_keyword(ps, "DESC")) {
      dir = at_keyword(ps, "ASC") ? "ASC" : "DESC";
      ps->p += strlen(dir);
      skip_space(ps);
    }
    g_string_append_printf(order, "%s IS NULL, %s %s, ", value, value, dir);
    if (!*ps->p)
      return TRUE;
    if (*ps->p != ',')
      return fail_expected(ps, "ASC, DESC, ',' or the end", NULL);
    ps->p++;
  }
}

/* With the lock held: @o's params, metrics and (with @data) data versions of
 * run @id, each node's latest execution winning. */
static void fill_values(LatheStore *s, const char *id, JsonObject *o, gboolean data) {
  JsonObject *params = json_object_new(), *metrics = json_object_new();
  sqlite3_stmt *st = stmt(s, "SELECT e.node, p.name, p.value FROM params p JOIN executions e"
                             " ON e.id = p.execution_id WHERE e.run_id = ?1 ORDER BY e.id, p.rowid");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    g_autofree char *key = g_strdup_printf("%s.%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    JsonNode *v = lathe_store_parse_json((const char *)sqlite3_column_text(st, 2));
    json_object_set_member(params, key, v ? v : json_node_init_null(json_node_alloc()));
  }
  st = stmt(s, "SELECT e.node, m.name, m.value FROM metrics m JOIN executions e"
               " ON e.id = m.execution_id WHERE e.run_id = ?1 AND m.step IS NULL"
               " ORDER BY e.id, m.rowid");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    g_autofree char *key = g_strdup_printf("%s.%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    /* A NaN metric is stored as NULL: null here, not a 0 nobody measured. */
    if (sqlite3_column_type(st, 2) == SQLITE_NULL)
      json_object_set_null_member(metrics, key);
    else
      json_object_set_double_member(metrics, key, sqlite3_column_double(st, 2));
  }
  json_object_set_object_member(o, "params", params);
  json_object_set_object_member(o, "metrics", metrics);
  if (!data)
    return;
  JsonObject *dvs = json_object_new();
  g_autoptr(GHashTable) from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  st = stmt(s, "SELECT e.node, e.id, d.uri, d.digest FROM data_versions d JOIN executions e"
               " ON e.id = d.execution_id WHERE e.run_id = ?1 ORDER BY e.id, d.rowid");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const char *node = (const char *)sqlite3_column_text(st, 0);
    gint64 exec = sqlite3_column_int64(st, 1);
    /* A node run again read its data again: its latest execution's list. */
    if (GPOINTER_TO_SIZE(g_hash_table_lookup(from, node)) != (gsize)exec) {
      json_object_set_array_member(dvs, node, json_array_new());
      g_hash_table_replace(from, g_strdup(node), GSIZE_TO_POINTER((gsize)exec));
    }
    JsonObject *d = json_object_new();
    lathe_store_set_text(d, "uri", st, 2);
    lathe_store_set_text(d, "digest", st, 3);
    json_array_add_object_element(json_object_get_array_member(dvs, node), d);
  }
  json_object_set_object_member(o, "data_versions", dvs);
}

/* With the lock held: run @id's row, or NULL. */
static JsonObject *run_row(LatheStore *s, const char *id) {
  sqlite3_stmt *st = stmt(s, "SELECT id, name, status, started, ended, pipeline, seed,"
                             " json_extract(pipeline_json, '$.preset') FROM runs WHERE id = ?1");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  if (!st || sqlite3_step(st) != SQLITE_ROW)
    return NULL;
  JsonObject *r = lathe_store_run_head(st);
  json_object_set_int_member(r, "seed", sqlite3_column_int64(st, 6));
  lathe_store_set_text(r, "preset", st, 7);
  sqlite3_reset(st);
  return r;
}

JsonObject *lathe_store_run_values(LatheStore *s, const char *ref, GError **error) {
  g_mutex_lock(&s->lock);
  g_autofree char *id = lathe_store_resolve_run(s, ref, error);
  JsonObject *r = id ? run_row(s, id) : NULL;
  if (r)
    fill_values(s, id, r, TRUE);
  g_mutex_unlock(&s->lock);
  return r;
}

static gboolean bind_all(sqlite3_stmt *st, GPtrArray *binds) {
  for (guint i = 0; i < binds->len; i++) {
    Bind *b = binds->pdata[i];
    int rc = b->type == BIND_TEXT ? sqlite3_bind_text(st, (int)i + 1, b->text, -1, SQLITE_STATIC)
           : b->type == BIND_REAL ? sqlite3_bind_double(st, (int)i + 1, b->real)
                                  : sqlite3_bind_int64(st, (int)i + 1, b->integer);
    if (rc != SQLITE_OK)
      return FALSE;
  }
  return TRUE;
}

JsonArray *lathe_store_search_runs(LatheStore *s, const char *filter, const char *const *order_by,
                                   guint max_results, GStrv *columns, GError **error) {
  return lathe_store_search_runs_page(s, filter, order_by, 0, max_results, columns, error);
}

JsonArray *lathe_store_search_runs_page(LatheStore *s, const char *filter,
                                        const char *const *order_by, guint offset,
                                        guint max_results, GStrv *columns, GError **error) {
  g_autoptr(GPtrArray) binds = g_ptr_array_new_with_free_func(bind_free);
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) where = g_string_new(NULL), order = g_string_new(NULL);
  Parser ps = {.src = filter ? filter : "", .what = "filter", .binds = binds, .columns = cols,
               .error = error};
  ps.p = ps.src;
  if (!parse_filter(&ps, where))
    return NULL;
  for (guint i = 0; order_by && order_by[i]; i++) {
    g_autofree char *what = g_strdup_printf("order-by '%s'", order_by[i]);
    Parser po = {.src = order_by[i], .p = order_by[i], .what = what, .binds = binds,
                 .columns = cols, .error = error};
    if (!parse_order(&po, order))
      return NULL;
  }
  if (!s) {
    if (columns) {
      g_ptr_array_add(cols, NULL);
      *columns = (GStrv)g_ptr_array_steal(cols, NULL);
    }
    return json_array_new();
  }
  guint limit = add_bind(&ps, BIND_INT, NULL, 0, max_results);
  guint skip = add_bind(&ps, BIND_INT, NULL, 0, offset);
  /* MLflow's default order, and the tie-breaker after the given keys (which
   * also makes the pages of one search disjoint). Only the ids of the page
   * are read back in full. */
  g_autofree char *sql = g_strdup_printf("SELECT r.id FROM runs r%s%s ORDER BY %sr.started DESC,"
                                         " r.id ASC LIMIT ?%u OFFSET ?%u", where->len ? " WHERE " : "",
                                         where->str, order->str, limit, skip);
  JsonArray *out = json_array_new();
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
  g_mutex_lock(&s->lock);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && bind_all(st, binds)) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      g_ptr_array_add(ids, g_strdup((const char *)sqlite3_column_text(st, 0)));
  }
  if (rc != SQLITE_DONE) {
    lathe_store_fail(s, error, "searching runs");
    g_clear_pointer(&out, json_array_unref);
  }
  sqlite3_finalize(st);
  for (guint i = 0; out && i < ids->len; i++) {
    JsonObject *r = run_row(s, ids->pdata[i]);
    if (!r)
      continue;
    fill_values(s, ids->pdata[i], r, FALSE);
    json_array_add_object_element(out, r);
  }
  g_mutex_unlock(&s->lock);
  if (out && columns) {
    g_ptr_array_add(cols, NULL);
    *columns = (GStrv)g_ptr_array_steal(cols, NULL);
  }
  return out;
}
