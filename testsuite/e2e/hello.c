// printf, argv, and the exit status of main.
#include <stdio.h>

int main(int argc, char **argv) {
    printf("hello from kiln\n");
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    return 7;
}
