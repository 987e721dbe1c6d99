/* SQLite workload of the benchmark: runs the SQL script read from standard
 * input against an in-memory database and prints every result row. argv[1]
 * (default 1000) is available to the script as `SELECT n FROM params`. The
 * SQLite amalgamation is not in this repo: it comes from the pinned
 * `libsqlite3-sys` crate (see bench/sources/Cargo.toml). */
#include <stdio.h>
#include <stdlib.h>

#include "sqlite3.h"

static int row(void *unused, int n, char **values, char **names) {
  (void)unused; (void)names;
  for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", values[i] ? values[i] : "NULL");
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  size_t cap = 1 << 16, len = 0, r;
  char *sql = malloc(cap);
  while ((r = fread(sql + len, 1, cap - len - 1, stdin)) > 0) {
    len += r;
    if (cap - len < 2) sql = realloc(sql, cap *= 2);
  }
  sql[len] = 0;
  sqlite3 *db;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) { printf("cannot open database\n"); return 1; }
  char *err = NULL;
  char *params = sqlite3_mprintf("CREATE TEMP TABLE params AS SELECT %d AS n;", argc > 1 ? atoi(argv[1]) : 1000);
  if (sqlite3_exec(db, params, row, NULL, &err) != SQLITE_OK || sqlite3_exec(db, sql, row, NULL, &err) != SQLITE_OK) {
    printf("error: %s\n", err);
    return 1;
  }
  sqlite3_free(params);
  sqlite3_close(db);
  return 0;
}
