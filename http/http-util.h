/* http-util.h: the pure parts of the HTTP layer (no I/O), shared by the
 * client, its tests and the fuzz harness: URLs without credentials, the
 * server's message out of an error body, Retry-After, backoff.
 * Internal to http/: plugins include lathe-http.h only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns: (transfer full): @url without userinfo, with the values of query
 * parameters that look secret (token, key, secret, password, signature,
 * credential, auth...) replaced by "REDACTED". Never fails: text that is not
 * a URL comes back as "(invalid URL)" rather than echoed. */
char *lathe_http_redact_url(const char *url);

/* Returns: (transfer full) (nullable): the server's message in an error body,
 * one line of at most @max_chars characters (valid UTF-8, control characters
 * replaced): a JSON object's "message", "error" (a string, or an object with
 * a "message"), "detail" or "error_description"; else, for a short text body
 * that is not HTML, the text itself. NULL when there is nothing useful. */
char *lathe_http_server_message(const char *content_type, const guint8 *body, gsize len,
                                gsize max_chars);

/* Replaces every occurrence of each non-empty @secrets string (a
 * NULL-terminated array, NULL allowed) in @text by "REDACTED", in place.
 * Returns: (transfer full): the new text; @text is freed. */
char *lathe_http_scrub(char *text, const char *const *secrets);

/* The delay a Retry-After value asks for, in ms, relative to @now_unix (for
 * an HTTP date). Returns -1 for an absent or unparseable value; a date in the
 * past gives 0. */
gint64 lathe_http_retry_after_ms(const char *value, gint64 now_unix);

/* The wait before retry number @retry (1 = the first retry): exponential from
 * @initial_ms, capped at @max_ms, with "equal jitter" (half fixed, half
 * uniformly random from @rand) so parallel clients spread out. */
guint lathe_http_backoff_ms(guint retry, guint initial_ms, guint max_ms, GRand *rand);

G_END_DECLS
