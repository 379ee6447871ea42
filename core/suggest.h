/* suggest.h: did-you-mean hints. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * lathe_suggest:
 * @word: what the user wrote.
 * @candidates: (array zero-terminated=1): the valid names.
 *
 * Returns: (transfer none) (nullable): the candidate within a small edit
 * distance of @word (about a third of its length), or %NULL.
 */
const char *lathe_suggest(const char *word, const char *const *candidates);

/**
 * lathe_did_you_mean:
 * @near: (nullable): a suggestion from lathe_suggest().
 *
 * Returns: (transfer full): " (did you mean 'NEAR'?)", or "" when @near is
 * %NULL: the one spelling of every hint.
 */
char *lathe_did_you_mean(const char *near);

G_END_DECLS
