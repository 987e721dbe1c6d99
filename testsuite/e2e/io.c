// stdin to stdout and stderr, exit through exit().
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>

int main(void) {
    char line[256];
    int lines = 0;
    long chars = 0;
    while (fgets(line, sizeof line, stdin)) {
        lines++;
        for (char *p = line; *p; p++) { chars++; *p = (char)toupper((unsigned char)*p); }
        fputs(line, stdout);
    }
    fprintf(stderr, "read %d lines, %ld chars\n", lines, chars);
    exit(lines == 3 ? 0 : 1);
}
