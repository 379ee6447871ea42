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

G_END_DECLS
