/* problems.h: validation problems, each tied to a JSON pointer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LatheProblem:
 * @pointer: where, as a JSON pointer ("/nodes/2/in/train"), or "" for the file.
 * @message: what is wrong and what to do, one line.
 */
typedef struct {
  char *pointer;
  char *message;
} LatheProblem;

/** lathe_problems_new: (transfer full) an empty list of #LatheProblem. */
GPtrArray *lathe_problems_new(void);
void lathe_problems_add(GPtrArray *problems, const char *pointer, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

G_END_DECLS
