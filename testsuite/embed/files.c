/* A WASI reactor plugin (built with -mexec-model=reactor): reads files in
 * the directories its instance was granted, writes to the stdout it was
 * given, reads its environment and can proc_exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((export_name("alloc"))) void *alloc(int n) { return calloc(1, (size_t)n); }

/* Lines in the file, or -1 if it cannot be opened. */
__attribute__((export_name("count_lines"))) int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

__attribute__((export_name("say"))) void say(const char *s) {
    printf("plugin says: %s\n", s);
    fflush(stdout);
}

/* Length of an environment variable's value, or -1 if unset. */
__attribute__((export_name("env_len"))) int env_len(const char *name) {
    const char *v = getenv(name);
    return v ? (int)strlen(v) : -1;
}

__attribute__((export_name("quit"))) void quit(int code) { exit(code); }
