#include <string.h>

#include "catalog/catalog.h"

static guint distance(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  g_autofree guint *row = g_new(guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint)j;
  for (gsize i = 1; i <= la; i++) {
    guint prev = row[0];
    row[0] = (guint)i;
    for (gsize j = 1; j <= lb; j++) {
      guint cur = row[j];
      guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
      prev = cur;
    }
  }
  return row[lb];
}

const char *lathe_suggest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  guint best_d = G_MAXUINT;
  guint limit = MAX(1, (guint)strlen(word) / 3);
  for (guint i = 0; candidates && candidates[i]; i++) {
    guint d = distance(word, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

char *lathe_did_you_mean(const char *near) {
  return near ? g_strdup_printf(" (did you mean '%s'?)", near) : g_strdup("");
}
