/* A small SQLite front end for the real-program tests: for each pair of
 * arguments DB SCRIPT it opens the database file DB (read-only if DB starts
 * with "ro:", else read-write, created if missing), runs the SQL read from
 * the file SCRIPT, prints every result row, and closes the database. Errors
 * are printed and the next statement or pair goes on. The SQLite
 * amalgamation comes from the pinned libsqlite3-sys crate (sources/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0, r;
    char *s = malloc(cap);
    while ((r = fread(s + len, 1, cap - len - 1, f)) > 0)
        if ((len += r) + 1 >= cap) s = realloc(s, cap *= 2);
    s[len] = 0;
    fclose(f);
    return s;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *path = argv[i];
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        if (strncmp(path, "ro:", 3) == 0) {
            path += 3;
            flags = SQLITE_OPEN_READONLY;
        }
        printf("-- %s (%s) with %s\n", path, flags == SQLITE_OPEN_READONLY ? "read-only" : "read-write", argv[i + 1]);
        char *sql = slurp(argv[i + 1]);
        if (!sql) {
            printf("cannot read %s\n", argv[i + 1]);
            continue;
        }
        sqlite3 *db;
        if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
            printf("cannot open: %s\n", sqlite3_errmsg(db));
            sqlite3_close(db);
            free(sql);
            continue;
        }
        const char *tail = sql;
        while (tail && *tail) {
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
                printf("error: %s\n", sqlite3_errmsg(db));
                break;
            }
            if (!st) continue;
            int rc;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int n = sqlite3_column_count(st);
                for (int c = 0; c < n; c++) {
                    const unsigned char *v = sqlite3_column_text(st, c);
                    printf("%s%s", c ? "|" : "", v ? (const char *)v : "NULL");
                }
                printf("\n");
            }
            if (rc != SQLITE_DONE) printf("error: %s\n", sqlite3_errmsg(db));
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        free(sql);
    }
    return 0;
}
