/* fuzz-http-body.c: fuzz harness for what the HTTP layer (http/) parses out
 * of bytes a server sends or a user writes: the message of an error body
 * (JSON or text), Retry-After, and URLs stripped of their credentials.
 *
 * The first byte picks the content type and the message length; the rest is
 * the body. Properties a bug would break: a message is NULL or one line of
 * valid UTF-8 with no control character, no longer than asked (plus "...");
 * a redacted URL holds no fragment and none of the input's userinfo;
 * Retry-After is -1 or a delay in range. A broken property aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-util.h"

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "fuzz-http-body: check failed: %s (%s:%d)\n", #cond,         \
              __FILE__, __LINE__);                                                 \
      abort();                                                                     \
    }                                                                              \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *ct, const uint8_t *body, size_t len, gsize max) {
  g_autofree char *m = lathe_http_server_message(ct, body, len, max);
  if (!m)
    return;
  CHECK(*m);
  CHECK(g_utf8_validate(m, -1, NULL));
  CHECK(m[strlen(m) - 1] != ' ');
  for (const char *p = m; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    CHECK(c >= 0x20 && c != 0x7f && c != 0x2028 && c != 0x2029);
  }
  CHECK(g_utf8_strlen(m, -1) <= (glong)max + 3);
}

static void check_url(const char *text) {
  g_autofree char *shown = lathe_http_redact_url(text);
  CHECK(shown != NULL);
  CHECK(!strchr(shown, '#'));
  g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_ENCODED | G_URI_FLAGS_PARSE_RELAXED, NULL);
  const char *userinfo = uri ? g_uri_get_userinfo(uri) : NULL;
  /* A userinfo long enough not to occur by chance elsewhere in the URL. */
  if (userinfo && strlen(userinfo) >= 6 && !strstr(g_uri_get_host(uri) ? g_uri_get_host(uri) : "", userinfo) &&
      !strstr(g_uri_get_path(uri), userinfo) &&
      !(g_uri_get_query(uri) && strstr(g_uri_get_query(uri), userinfo)))
    CHECK(!strstr(shown, userinfo));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  static const char *const types[] = {NULL, "application/json", "text/plain",
                                      "text/html; charset=utf-8"};
  const char *ct = types[data[0] & 3];
  gsize max = 1 + (data[0] >> 2);
  check_message(ct, data + 1, size - 1, max);
  check_message(ct, data + 1, size - 1, 200);
  /* The same bytes as text: a Retry-After value and a URL. */
  g_autofree char *text = g_strndup((const char *)data + 1, size - 1);
  gint64 ms = lathe_http_retry_after_ms(text, 784111777);
  CHECK(ms == -1 || (ms >= 0 && ms <= (gint64)G_MAXINT32 * 1000));
  check_url(text);
  return 0;
}
