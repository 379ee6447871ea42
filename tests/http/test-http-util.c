/* test-http-util.c: the pure parts of http/ (http-util.h): URLs without
 * credentials, the server's message, Retry-After, backoff, scrubbing. */
#include <string.h>

#include "http-util.h"

static void test_redact_url(void) {
  static const char *const cases[][2] = {
      {"http://u:p@h:8000/a/b?x=1", "http://h:8000/a/b?x=1"},
      {"https://h/o?X-Amz-Signature=abc&X-Amz-Credential=k%2Fd&part=2",
       "https://h/o?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&part=2"},
      {"http://h/?access_token=t&api_key=k&path=a%2Fb", "http://h/?access_token=REDACTED&api_key=REDACTED&path=a%2Fb"},
      {"http://h/p#token=t", "http://h/p"},
      {"http://[::1]:80/p", "http://[::1]:80/p"},
      {"not a url", "(invalid URL)"},
      {"", "(invalid URL)"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = lathe_http_redact_url(cases[i][0]);
    g_assert_cmpstr(got, ==, cases[i][1]);
  }
}

static char *msg(const char *ct, const char *body, gsize max) {
  return lathe_http_server_message(ct, (const guint8 *)body, strlen(body), max);
}

static void test_server_message(void) {
  struct {
    const char *ct, *body, *want;
  } cases[] = {
      {"application/json", "{\"message\": \"repository not found\"}", "repository not found"},
      {NULL, "{\"error\": \"bad\\nthing\\t here \"}", "bad thing here"},
      {"application/json", "{\"error\": {\"message\": \"quota\", \"code\": 7}}", "quota"},
      {"application/json", "{\"detail\": \"nope\"}", "nope"},
      {"application/json", "{\"code\": 3}", NULL},
      {"application/json", "[1, 2]", NULL},
      {"application/json", "{\"message\": 12}", NULL},
      {"text/plain", "  plain text\r\n", "plain text"},
      {"text/html", "<html><body>error</body></html>", NULL},
      {NULL, "<?xml version='1.0'?><Error/>", NULL},
      {NULL, "   ", NULL},
      {"application/json", "{\"message\": \"\"}", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = msg(cases[i].ct, cases[i].body, 200);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
  g_autofree char *longer = msg(NULL, "{\"message\": \"abcdefghij\"}", 4);
  g_assert_cmpstr(longer, ==, "abcd...");
  /* Invalid UTF-8 comes out valid. */
  g_autofree char *bad = msg("text/plain", "caf\xc3 \xff ok", 200);
  g_assert_true(g_utf8_validate(bad, -1, NULL));
}

static void test_retry_after(void) {
  g_assert_cmpint(lathe_http_retry_after_ms("3", 0), ==, 3000);
  g_assert_cmpint(lathe_http_retry_after_ms(" 0 ", 0), ==, 0);
  g_assert_cmpint(lathe_http_retry_after_ms("3x", 0), ==, -1);
  g_assert_cmpint(lathe_http_retry_after_ms(NULL, 0), ==, -1);
  g_assert_cmpint(lathe_http_retry_after_ms("soon", 0), ==, -1);
  /* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example). */
  g_assert_cmpint(lathe_http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 5), ==,
                  5000);
  g_assert_cmpint(lathe_http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 5), ==,
                  0);
  g_assert_cmpint(lathe_http_retry_after_ms("99999999999999999999", 0), ==,
                  (gint64)G_MAXINT32 * 1000);
}

static void test_backoff(void) {
  g_autoptr(GRand) r = g_rand_new_with_seed(1);
  for (guint retry = 1; retry < 40; retry++)
    for (int k = 0; k < 50; k++) {
      guint base = retry >= 10 ? 10000 : MIN(10000u, 100u << (retry - 1));
      guint ms = lathe_http_backoff_ms(retry, 100, 10000, r);
      g_assert_cmpuint(ms, >=, base / 2);
      g_assert_cmpuint(ms, <=, base);
    }
}

static void test_scrub(void) {
  const char *secrets[] = {"s3cr3t", "", "tok", NULL};
  char *t = lathe_http_scrub(g_strdup("a s3cr3t b s3cr3ts tok"), secrets);
  g_assert_cmpstr(t, ==, "a REDACTED b REDACTEDs REDACTED");
  g_free(t);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-util/redact-url", test_redact_url);
  g_test_add_func("/http-util/server-message", test_server_message);
  g_test_add_func("/http-util/retry-after", test_retry_after);
  g_test_add_func("/http-util/backoff", test_backoff);
  g_test_add_func("/http-util/scrub", test_scrub);
  return g_test_run();
}
