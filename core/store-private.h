/* store-private.h: shared by the store's files only. */
#pragma once

#include <sqlite3.h>

#include "store.h"

struct _LatheStore {
  char *dir;
  char *artifacts;
  sqlite3 *db;
  GMutex lock; /* held around every statement sequence */
  GHashTable *stmts; /* SQL text pointer -> sqlite3_stmt*, prepared once */
  char *proc_token;
};

/* A reset, persistent statement for @sql (a string literal); call with the lock held. */
sqlite3_stmt *lathe_store_stmt(LatheStore *s, const char *sql);
#define stmt lathe_store_stmt
/* (transfer full) (nullable) */
JsonNode *lathe_store_parse_json(const char *text);
