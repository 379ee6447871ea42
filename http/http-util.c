/* http-util.c: the pure parts of the HTTP layer (http-util.h). */
#include "http-util.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* Query parameter names whose values are secrets: presigned URLs carry their
 * signature and credential in the query (S3's X-Amz-Signature and
 * X-Amz-Credential, Azure's sig), some APIs take tokens or keys there. Over-
 * redacting a harmless parameter costs a less precise error message only. */
static const char *const secret_words[] = {"token", "key", "secret", "password", "passwd",
                                           "signature", "sig", "credential", "auth",
                                           "session", NULL};

static gboolean secret_name(const char *raw, gsize len) {
  g_autofree char *name = g_strndup(raw, len);
  g_autofree char *plain = g_uri_unescape_string(name, NULL);
  g_autofree char *lower = g_ascii_strdown(plain ? plain : name, -1);
  for (int i = 0; secret_words[i]; i++)
    if (strstr(lower, secret_words[i]))
      return TRUE;
  return FALSE;
}

static char *redact_query(const char *query) {
  GString *out = g_string_new(NULL);
  const char *p = query;
  while (TRUE) {
    const char *end = strchr(p, '&');
    gsize len = end ? (gsize)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    gsize name_len = eq ? (gsize)(eq - p) : len;
    if (out->len)
      g_string_append_c(out, '&');
    if (eq && secret_name(p, name_len)) {
      g_string_append_len(out, p, (gssize)name_len);
      g_string_append(out, "=REDACTED");
    } else {
      g_string_append_len(out, p, (gssize)len);
    }
    if (!end)
      break;
    p = end + 1;
  }
  return g_string_free(out, FALSE);
}

char *lathe_http_redact_url(const char *url) {
  if (!url)
    return g_strdup("(no URL)");
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_PARSE_RELAXED, NULL);
  const char *path = uri ? g_uri_get_path(uri) : NULL;
  /* g_uri_join() refuses a host with a relative path (relaxed parsing of
   * junk can give one). */
  if (!uri || !g_uri_get_scheme(uri) || !g_uri_get_host(uri) || (path[0] && path[0] != '/'))
    return g_strdup("(invalid URL)");
  const char *query = g_uri_get_query(uri);
  g_autofree char *clean_query = query ? redact_query(query) : NULL;
  /* No userinfo, no fragment (it is never sent; it could hold a token). */
  return g_uri_join(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri), NULL, g_uri_get_host(uri),
                    g_uri_get_port(uri), path, clean_query, NULL);
}

/* One line: control characters become spaces, runs of spaces one, at most
 * @max_chars characters. NULL when nothing is left. */
static char *one_line(const char *text, gssize len, gsize max_chars) {
  g_autofree char *valid = g_utf8_make_valid(text, len);
  GString *out = g_string_new(NULL);
  gsize chars = 0;
  gboolean space = TRUE; /* drops leading spaces */
  for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (c < 0x20 || c == 0x7f || g_unichar_isspace(c) || (c >= 0x80 && c < 0xa0) ||
        c == 0x2028 || c == 0x2029) {
      if (!space) {
        g_string_append_c(out, ' ');
        chars++;
      }
      space = TRUE;
    } else {
      g_string_append_unichar(out, c);
      chars++;
      space = FALSE;
    }
    if (chars >= max_chars && *g_utf8_next_char(p)) {
      g_string_append(out, "...");
      break;
    }
  }
  while (out->len && out->str[out->len - 1] == ' ')
    g_string_truncate(out, out->len - 1);
  if (!out->len) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

static const char *member_string(JsonObject *obj, const char *name) {
  JsonNode *n = json_object_get_member(obj, name);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return json_node_get_string(n);
  return NULL;
}

static char *json_message(const guint8 *body, gsize len, gsize max_chars) {
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, (const char *)body, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonObject *obj = json_node_get_object(root);
  static const char *const fields[] = {"message", "error", "detail", "error_description",
                                       NULL};
  for (int i = 0; fields[i]; i++) {
    const char *s = member_string(obj, fields[i]);
    if (s)
      return one_line(s, -1, max_chars);
  }
  /* {"error": {"message": "..."}} (Google, many others). */
  JsonNode *err = json_object_get_member(obj, "error");
  if (err && JSON_NODE_HOLDS_OBJECT(err)) {
    const char *s = member_string(json_node_get_object(err), "message");
    if (s)
      return one_line(s, -1, max_chars);
  }
  return NULL;
}

char *lathe_http_server_message(const char *content_type, const guint8 *body, gsize len,
                                gsize max_chars) {
  if (!body || !len || !max_chars)
    return NULL;
  gsize i = 0;
  while (i < len && g_ascii_isspace(body[i]))
    i++;
  if (i == len)
    return NULL;
  /* A JSON body without a message field says nothing one line could. */
  if ((content_type && strstr(content_type, "json")) || body[i] == '{' || body[i] == '[')
    return json_message(body, len, max_chars);
  if (body[i] == '<' || (content_type && strstr(content_type, "html")))
    return NULL;
  if (memchr(body, '\0', len))
    return NULL;
  return one_line((const char *)body + i, (gssize)(len - i), max_chars);
}

char *lathe_http_scrub(char *text, const char *const *secrets) {
  if (!text || !secrets)
    return text;
  for (int i = 0; secrets[i]; i++) {
    const char *s = secrets[i];
    if (!*s || !strstr(text, s))
      continue;
    GString *out = g_string_new(NULL);
    const char *p = text, *hit;
    gsize n = strlen(s);
    while ((hit = strstr(p, s))) {
      g_string_append_len(out, p, hit - p);
      g_string_append(out, "REDACTED");
      p = hit + n;
    }
    g_string_append(out, p);
    g_free(text);
    text = g_string_free(out, FALSE);
  }
  return text;
}

gint64 lathe_http_retry_after_ms(const char *value, gint64 now_unix) {
  if (!value)
    return -1;
  while (g_ascii_isspace(*value))
    value++;
  if (g_ascii_isdigit(*value)) {
    guint64 secs = 0;
    const char *p = value;
    for (; g_ascii_isdigit(*p); p++)
      secs = MIN(secs * 10 + (guint64)(*p - '0'), (guint64)G_MAXINT32);
    while (g_ascii_isspace(*p))
      p++;
    return *p ? -1 : (gint64)secs * 1000;
  }
  g_autoptr(GDateTime) when = soup_date_time_new_from_http_string(value);
  if (!when)
    return -1;
  gint64 delta = g_date_time_to_unix(when) - now_unix;
  return delta <= 0 ? 0 : MIN(delta, (gint64)G_MAXINT32) * 1000;
}

guint lathe_http_backoff_ms(guint retry, guint initial_ms, guint max_ms, GRand *rand) {
  guint64 base = MAX(initial_ms, 1);
  for (guint i = 1; i < retry && base < max_ms; i++)
    base *= 2;
  base = MIN(base, (guint64)max_ms);
  guint half = (guint)(base / 2);
  guint spread = (guint)base - half;
  return half + (spread ? (guint)g_rand_int_range(rand, 0, (gint32)MIN(spread, G_MAXINT32 - 1) + 1) : 0);
}
