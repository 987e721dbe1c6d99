// The same trap in a module built with -g: the backtrace names source lines.
#include <stdio.h>

__attribute__((noinline)) int divide(int a, int b) { return a / b; }

int main(int argc, char **argv) {
    (void)argv;
    printf("about to divide\n");
    fflush(stdout);
    return divide(10, argc - 1);
}
